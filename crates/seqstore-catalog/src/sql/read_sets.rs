//! Read sets: rows, listing, tombstones.

use super::Db;
use super::SqlCatalog;
use super::rows::{self, Arg, READ_SET_COLUMNS, Select};
use super::tags::{delete_all_tags, target};
use async_trait::async_trait;
use seqstore_core::catalog::{
    CatalogError, ListCursor, ReadSetFilter, ReadSetRecord, ReadSets, ResourceKind, Result,
};
use sqlx::{Any, Transaction};

#[async_trait]
impl ReadSets for SqlCatalog {
    async fn read_set(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
    ) -> Result<Option<ReadSetRecord>> {
        sqlx::query(&format!(
            "SELECT {READ_SET_COLUMNS} FROM read_sets \
             WHERE account_id = $1 AND sequence_store_id = $2 AND id = $3"
        ))
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .db()?
        .as_ref()
        .map(rows::read_set)
        .transpose()
    }

    async fn list_read_sets(
        &self,
        account_id: &str,
        store_id: &str,
        f: &ReadSetFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::Text(account_id.to_owned()));
        q.cmp("sequence_store_id", "=", Arg::Text(store_id.to_owned()));
        match &f.status {
            Some(status) => q.cmp("status", "=", Arg::from(status.as_str())),
            None => q.raw("status NOT IN ('DELETING', 'DELETED')"),
        }
        match f.reference_arn.as_deref() {
            Some("") => q.raw("reference_arn IS NULL"),
            Some(arn) => q.cmp("reference_arn", "=", Arg::Text(arn.to_owned())),
            None => {}
        }
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("sample_id", "=", &f.sample_id);
        q.cmp_opt("subject_id", "=", &f.subject_id);
        q.cmp_opt("generated_from", "=", &f.generated_from);
        q.cmp_opt("creation_type", "=", &f.creation_type.map(|c| c.as_str()));
        q.cmp_opt("created_at", ">=", &f.created_after_ms);
        q.cmp_opt("created_at", "<=", &f.created_before_ms);
        q.after(after);
        let (sql, args) = q.page(READ_SET_COLUMNS, "read_sets", limit);
        rows::bind_all(sqlx::query(&sql), args)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(rows::read_set)
            .collect()
    }

    async fn delete_read_set(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
    ) -> Result<ReadSetRecord> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!(
            "SELECT {READ_SET_COLUMNS} FROM read_sets \
             WHERE account_id = $1 AND sequence_store_id = $2 AND id = $3 AND status <> 'DELETED'"
        ))
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(row) = row else {
            return Err(CatalogError::NotFound("read set"));
        };
        let record = rows::read_set(&row)?;
        sqlx::query("UPDATE read_sets SET status = 'DELETED', updated_at = $1 WHERE id = $2")
            .bind(record.updated_at_ms.max(now_ms()))
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        delete_all_tags(&mut tx, &target(account_id, ResourceKind::ReadSet, id)).await?;
        tx.commit().await.db()?;
        Ok(record)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Inserts a read set, or replaces every column of the row with the same id.
pub(crate) async fn upsert_read_set(
    tx: &mut Transaction<'_, Any>,
    r: &ReadSetRecord,
) -> Result<()> {
    let placeholders: Vec<String> = (1..=30).map(|i| format!("${i}")).collect();
    let updates: Vec<String> = READ_SET_COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| *c != "id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO read_sets ({READ_SET_COLUMNS}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        placeholders.join(", "),
        updates.join(", ")
    ))
    .bind(&r.id)
    .bind(&r.account_id)
    .bind(&r.sequence_store_id)
    .bind(&r.name)
    .bind(&r.description)
    .bind(&r.subject_id)
    .bind(&r.sample_id)
    .bind(&r.generated_from)
    .bind(&r.reference_arn)
    .bind(r.file_type.as_str())
    .bind(r.status.as_str())
    .bind(&r.status_message)
    .bind(r.creation_type.as_str())
    .bind(&r.creation_job_id)
    .bind(&r.etag_algorithm)
    .bind(&r.etag_source1)
    .bind(&r.etag_source2)
    .bind(r.total_read_count)
    .bind(r.total_base_count)
    .bind(&r.source1_name)
    .bind(r.source1_size)
    .bind(&r.source2_name)
    .bind(r.source2_size)
    .bind(&r.index_name)
    .bind(r.index_size)
    .bind(r.created_at_ms)
    .bind(r.updated_at_ms)
    .bind(&r.s3_etags.source1)
    .bind(&r.s3_etags.source2)
    .bind(&r.s3_etags.index)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}
