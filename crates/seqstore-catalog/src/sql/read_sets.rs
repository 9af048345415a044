//! Read sets: rows, listing, tombstones.

use super::Db;
use super::SqlCatalog;
use super::rows::{self, Arg, Select, Table};
use super::tags::{delete_all_tags, target};
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    CatalogError, ListCursor, ReadSetFilter, ReadSetRecord, ReadSets, ResourceKind, Result,
};
use seqstore_core::ids::{AccountId, ReadSetId, StoreId};
use sqlx::{Any, Transaction};

#[async_trait]
impl ReadSets for SqlCatalog {
    async fn read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<Option<ReadSetRecord>> {
        rows::one(
            self.pool(),
            "account_id = $1 AND sequence_store_id = $2 AND id = $3",
            &[account_id.as_str(), store_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn list_read_sets(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        f: &ReadSetFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp("sequence_store_id", "=", Arg::from(store_id.as_str()));
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
        q.cmp_opt("created_at", ">=", &f.created_after);
        q.cmp_opt("created_at", "<=", &f.created_before);
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn delete_read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<ReadSetRecord> {
        let mut tx = self.write_tx().await?;
        let condition =
            "account_id = $1 AND sequence_store_id = $2 AND id = $3 AND status <> 'DELETED'";
        let args = [account_id.as_str(), store_id.as_str(), id.as_str()];
        let record = rows::one::<ReadSetRecord>(&mut *tx, condition, &args)
            .await?
            .ok_or(CatalogError::NotFound("read set"))?;
        sqlx::query("UPDATE read_sets SET status = 'DELETED', updated_at = $1 WHERE id = $2")
            .bind(record.updated_at.max(Timestamp::now()).millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        delete_all_tags(&mut tx, &target(account_id, ResourceKind::ReadSet, id)).await?;
        tx.commit().await.db()?;
        Ok(record)
    }
}

/// Inserts a read set, or replaces every column of the row with the same id unless that
/// row is a tombstone: `false` when a deleted read set stopped the write.
pub(crate) async fn upsert_read_set(
    tx: &mut Transaction<'_, Any>,
    r: &ReadSetRecord,
) -> Result<bool> {
    let updates: Vec<String> = ReadSetRecord::COLUMNS
        .split(", ")
        .filter(|c| *c != "id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // The condition is evaluated on the row as it is when the write locks it, so a delete
    // that commits first always wins.
    let sql = format!(
        "{} ON CONFLICT (id) DO UPDATE SET {} WHERE read_sets.status <> 'DELETED'",
        ReadSetRecord::insert(),
        updates.join(", ")
    );
    let done = r.bind(sqlx::query(&sql)).execute(&mut **tx).await.db()?;
    Ok(done.rows_affected() > 0)
}
