//! Direct multipart uploads and their staged parts.

use super::Db;
use super::jobs::insert_job;
use super::read_sets::upsert_read_set;
use super::rows::{self, Arg, Column, Select, Table};
use super::tags::{target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_blob::BlobKey;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    CatalogError, IdempotencyRecord, JobItemRecord, JobRecord, ListCursor, PartRecord,
    ReadSetRecord, ResourceKind, Result, UploadRecord, Uploads,
};
use seqstore_core::ids::{AccountId, StoreId, UploadId};
use seqstore_core::vocabulary::PartSource;
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
        u.bind(sqlx::query(&UploadRecord::insert()))
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("upload id")))?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn upload(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &UploadId,
    ) -> Result<Option<UploadRecord>> {
        rows::one(
            self.pool(),
            "account_id = $1 AND sequence_store_id = $2 AND id = $3",
            &[account_id.as_str(), store_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn list_uploads(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<UploadRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp("sequence_store_id", "=", Arg::from(store_id.as_str()));
        q.raw("status = 'IN_PROGRESS'");
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn stale_uploads(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<UploadRecord>> {
        let condition = format!(
            "status = 'IN_PROGRESS' AND created_at < {} ORDER BY created_at, id LIMIT {limit}",
            created_before.millis()
        );
        rows::all(self.pool(), &condition, &[]).await
    }

    async fn put_part(&self, p: &PartRecord) -> Result<Option<BlobKey>> {
        let mut tx = self.write_tx().await?;
        // Locks the upload row (PostgreSQL) / the database (SQLite) against a concurrent
        // Complete or Abort while the part is recorded.
        let live = sqlx::query(
            "UPDATE uploads SET status = status WHERE id = $1 AND status = 'IN_PROGRESS'",
        )
        .bind(p.upload_id.as_str())
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
        .bind(p.upload_id.as_str())
        .bind(p.part_source.as_str())
        .bind(p.part_number)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let (replaced, created_at) = match &previous {
            Some(row) => (
                Some(Column::read(row, "blob_key")?),
                Column::read(row, "created_at")?,
            ),
            None => (None, p.created_at),
        };
        let sql = format!(
            "{} ON CONFLICT (upload_id, part_source, part_number) DO UPDATE SET \
             size = excluded.size, checksum = excluded.checksum, blob_key = excluded.blob_key, \
             updated_at = excluded.updated_at",
            PartRecord::insert()
        );
        let part = PartRecord {
            created_at,
            ..p.clone()
        };
        part.bind(sqlx::query(&sql)).execute(&mut *tx).await.db()?;
        tx.commit().await.db()?;
        Ok(replaced)
    }

    async fn list_parts(
        &self,
        upload_id: &UploadId,
        part_source: PartSource,
        created_after: Option<Timestamp>,
        created_before: Option<Timestamp>,
        after_number: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PartRecord>> {
        let mut q = Select::default();
        q.cmp("upload_id", "=", Arg::from(upload_id.as_str()));
        q.cmp("part_source", "=", Arg::from(part_source.as_str()));
        q.cmp_opt("created_at", ">=", &created_after);
        q.cmp_opt("created_at", "<=", &created_before);
        q.cmp_opt("part_number", ">", &after_number);
        q.fetch(self.pool(), "part_number", limit).await
    }

    async fn all_parts(&self, upload_id: &UploadId) -> Result<Vec<PartRecord>> {
        rows::all(
            self.pool(),
            "upload_id = $1 ORDER BY part_source, part_number",
            &[upload_id.as_str()],
        )
        .await
    }

    async fn abort_upload(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &UploadId,
    ) -> Result<Vec<PartRecord>> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE uploads SET status = 'ABORTED' \
             WHERE account_id = $1 AND sequence_store_id = $2 AND id = $3 AND status = 'IN_PROGRESS'",
        )
        .bind(account_id.as_str())
        .bind(store_id.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("upload in progress"));
        }
        let parts = rows::all(&mut *tx, "upload_id = $1", &[id.as_str()]).await?;
        sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(parts)
    }

    async fn complete_upload(
        &self,
        upload_id: &UploadId,
        verified: &[PartRecord],
        read_set: &ReadSetRecord,
        tags: &BTreeMap<String, String>,
        job: &JobRecord,
        items: &[JobItemRecord],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE uploads SET status = 'COMPLETED', read_set_id = $1 WHERE id = $2 AND status = 'IN_PROGRESS'",
        )
        .bind(read_set.id.as_str())
        .bind(upload_id.as_str())
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("upload in progress"));
        }
        // The upload row is locked now, so no part can change until the commit.
        let rows = sqlx::query(
            "SELECT part_source, part_number, blob_key FROM upload_parts WHERE upload_id = $1",
        )
        .bind(upload_id.as_str())
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let mut stored = BTreeMap::new();
        for row in &rows {
            let source: PartSource = Column::read(row, "part_source")?;
            let number: i64 = Column::read(row, "part_number")?;
            let key: BlobKey = Column::read(row, "blob_key")?;
            stored.insert((source, number), key);
        }
        if verified
            .iter()
            .any(|p| stored.get(&(p.part_source, p.part_number)) != Some(&p.blob_key))
        {
            return Err(CatalogError::Changed("part"));
        }
        let exists = sqlx::query("SELECT id FROM read_sets WHERE id = $1")
            .bind(read_set.id.as_str())
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
