//! Direct multipart uploads and their staged parts.

use super::Db;
use super::jobs::insert_job;
use super::read_sets::upsert_read_set;
use super::rows::{self, Arg, PART_COLUMNS, Select, UPLOAD_COLUMNS};
use super::tags::{target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_blob::BlobKey;
use seqstore_core::catalog::{
    CatalogError, IdempotencyRecord, JobItemRecord, JobRecord, ListCursor, PartRecord,
    ReadSetRecord, ResourceKind, Result, UploadRecord, Uploads,
};
use seqstore_core::vocabulary::PartSource;
use sqlx::Row;
use std::collections::BTreeMap;

#[async_trait]
impl Uploads for SqlCatalog {
    async fn create_upload(
        &self,
        u: &UploadRecord,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(record) = idempotency {
            record_idempotency(&mut tx, record).await?;
        }
        let tags = serde_json::to_string(&u.tags).unwrap_or_else(|_| "{}".into());
        sqlx::query(&format!(
            "INSERT INTO uploads ({UPLOAD_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&u.id)
        .bind(&u.account_id)
        .bind(&u.sequence_store_id)
        .bind(u.source_file_type.as_str())
        .bind(&u.subject_id)
        .bind(&u.sample_id)
        .bind(&u.generated_from)
        .bind(&u.reference_arn)
        .bind(&u.name)
        .bind(&u.description)
        .bind(tags)
        .bind(u.status.as_str())
        .bind(&u.read_set_id)
        .bind(u.created_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_as(e, CatalogError::AlreadyExists("upload id")))?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn upload(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
    ) -> Result<Option<UploadRecord>> {
        sqlx::query(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE account_id = $1 AND sequence_store_id = $2 AND id = $3"
        ))
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await.db()?
        .as_ref()
        .map(rows::upload)
        .transpose()
    }

    async fn list_uploads(
        &self,
        account_id: &str,
        store_id: &str,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<UploadRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::Text(account_id.to_owned()));
        q.cmp("sequence_store_id", "=", Arg::Text(store_id.to_owned()));
        q.raw("status = 'IN_PROGRESS'");
        q.after(after);
        let (sql, args) = q.page(UPLOAD_COLUMNS, "uploads", limit);
        rows::bind_all(sqlx::query(&sql), args)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(rows::upload)
            .collect()
    }

    async fn put_part(&self, p: &PartRecord) -> Result<Option<BlobKey>> {
        let mut tx = self.write_tx().await?;
        // Locks the upload row (PostgreSQL) / the database (SQLite) against a concurrent
        // Complete or Abort while the part is recorded.
        let live = sqlx::query(
            "UPDATE uploads SET status = status WHERE id = $1 AND status = 'IN_PROGRESS'",
        )
        .bind(&p.upload_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if live.rows_affected() == 0 {
            return Err(CatalogError::NotFound("upload in progress"));
        }
        let previous = sqlx::query(
            "SELECT blob_key, created_at FROM upload_parts \
             WHERE upload_id = $1 AND part_source = $2 AND part_number = $3",
        )
        .bind(&p.upload_id)
        .bind(p.part_source.as_str())
        .bind(p.part_number)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let (replaced, created_at) = match &previous {
            Some(row) => (
                Some(rows::blob_key(row)?),
                row.try_get::<i64, _>("created_at").db()?,
            ),
            None => (None, p.created_at_ms),
        };
        sqlx::query(&format!(
            "INSERT INTO upload_parts ({PART_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (upload_id, part_source, part_number) DO UPDATE SET size = excluded.size, \
             checksum = excluded.checksum, blob_key = excluded.blob_key, updated_at = excluded.updated_at"
        ))
        .bind(&p.upload_id)
        .bind(p.part_source.as_str())
        .bind(p.part_number)
        .bind(p.size)
        .bind(&p.checksum)
        .bind(p.blob_key.as_str())
        .bind(created_at)
        .bind(p.updated_at_ms)
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        Ok(replaced)
    }

    async fn list_parts(
        &self,
        upload_id: &str,
        part_source: PartSource,
        created_after_ms: Option<i64>,
        created_before_ms: Option<i64>,
        after_number: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PartRecord>> {
        let mut q = Select::default();
        q.cmp("upload_id", "=", Arg::Text(upload_id.to_owned()));
        q.cmp("part_source", "=", Arg::from(part_source.as_str()));
        q.cmp_opt("created_at", ">=", &created_after_ms);
        q.cmp_opt("created_at", "<=", &created_before_ms);
        q.cmp_opt("part_number", ">", &after_number);
        let (sql, args) = q.ordered(PART_COLUMNS, "upload_parts", "part_number", limit);
        rows::bind_all(sqlx::query(&sql), args)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(rows::part)
            .collect()
    }

    async fn all_parts(&self, upload_id: &str) -> Result<Vec<PartRecord>> {
        sqlx::query(&format!(
            "SELECT {PART_COLUMNS} FROM upload_parts WHERE upload_id = $1 ORDER BY part_source, part_number"
        ))
        .bind(upload_id)
        .fetch_all(self.pool())
        .await.db()?
        .iter()
        .map(rows::part)
        .collect()
    }

    async fn abort_upload(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
    ) -> Result<Vec<PartRecord>> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE uploads SET status = 'ABORTED' \
             WHERE account_id = $1 AND sequence_store_id = $2 AND id = $3 AND status = 'IN_PROGRESS'",
        )
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("upload in progress"));
        }
        let parts = sqlx::query(&format!(
            "SELECT {PART_COLUMNS} FROM upload_parts WHERE upload_id = $1"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .db()?
        .iter()
        .map(rows::part)
        .collect::<Result<Vec<_>>>()?;
        sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(parts)
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        read_set: &ReadSetRecord,
        tags: &BTreeMap<String, String>,
        job: &JobRecord,
        items: &[JobItemRecord],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE uploads SET status = 'COMPLETED', read_set_id = $1 WHERE id = $2 AND status = 'IN_PROGRESS'",
        )
        .bind(&read_set.id)
        .bind(upload_id)
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("upload in progress"));
        }
        let exists = sqlx::query("SELECT id FROM read_sets WHERE id = $1")
            .bind(&read_set.id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_some() {
            return Err(CatalogError::AlreadyExists("read set id"));
        }
        upsert_read_set(&mut tx, read_set).await?;
        upsert_tags(
            &mut tx,
            &target(&read_set.account_id, ResourceKind::ReadSet, &read_set.id),
            tags,
        )
        .await?;
        insert_job(&mut tx, job, items).await?;
        tx.commit().await.db()?;
        Ok(())
    }
}
