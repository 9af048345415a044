//! Rows of every account, for `seqstore fsck` and the cleanup of interrupted work.

use super::Db;
use super::SqlCatalog;
use super::rows;
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{Inventory, ReadSetRecord, ReferenceRecord, Result, UploadRecord};
use seqstore_core::ids::{ReadSetId, UploadId};
use sqlx::Row;

/// The statuses of read sets whose files are kept, as an SQL list.
macro_rules! stored_statuses {
    () => {
        "('ACTIVE', 'ARCHIVED', 'ACTIVATING')"
    };
}

/// Read sets whose files are kept.
pub(super) const STORED: &str = concat!("status IN ", stored_statuses!());

/// The same, in a form no index on `status` answers: a walk in id order then reads the primary
/// key, where SQLite would otherwise sort every stored read set by id for each batch.
pub(super) const STORED_IN_ID_ORDER: &str = concat!("status || '' IN ", stored_statuses!());

#[async_trait]
impl Inventory for SqlCatalog {
    async fn stored_read_sets(&self, after: &str, limit: u32) -> Result<Vec<ReadSetRecord>> {
        let condition = format!("{STORED_IN_ID_ORDER} AND id > $1 ORDER BY id LIMIT {limit}");
        rows::all(self.pool(), &condition, &[after]).await
    }

    async fn stored_references(&self, after: &str, limit: u32) -> Result<Vec<ReferenceRecord>> {
        let condition = format!("status = 'ACTIVE' AND id > $1 ORDER BY id LIMIT {limit}");
        rows::all(self.pool(), &condition, &[after]).await
    }

    async fn stored_bytes(&self) -> Result<u64> {
        let row = sqlx::query(&format!(
            "SELECT \
             CAST((SELECT COALESCE(SUM(COALESCE(source1_size, 0) + COALESCE(source2_size, 0) \
              + COALESCE(index_size, 0)), 0) FROM read_sets WHERE {STORED}) AS BIGINT) \
              AS read_sets, \
             CAST((SELECT COALESCE(SUM(source_size + index_size), 0) FROM genome_references \
              WHERE status = 'ACTIVE') AS BIGINT) AS refs"
        ))
        .fetch_one(self.pool())
        .await
        .db()?;
        let read_sets: i64 = row.try_get("read_sets").db()?;
        let references: i64 = row.try_get("refs").db()?;
        Ok(read_sets.max(0) as u64 + references.max(0) as u64)
    }

    async fn upload_by_id(&self, id: &UploadId) -> Result<Option<UploadRecord>> {
        rows::one(self.pool(), "id = $1", &[id.as_str()]).await
    }

    async fn pending_results(&self) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT i.result_id FROM job_items i JOIN jobs j ON j.id = i.job_id \
             WHERE i.status IN ('NOT_STARTED', 'IN_PROGRESS') \
             AND j.status IN ('SUBMITTED', 'IN_PROGRESS', 'CANCELLING')",
        )
        .fetch_all(self.pool())
        .await
        .db()?
        .iter()
        .map(|row| row.try_get("result_id").db())
        .collect()
    }

    async fn mark_unreadable(&self, id: &ReadSetId, message: &str) -> Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE read_sets SET status = 'UPLOAD_FAILED', status_message = $1, \
             updated_at = $2 WHERE id = $3 AND {STORED}"
        ))
        .bind(message)
        .bind(Timestamp::now().millis())
        .bind(id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }
}
