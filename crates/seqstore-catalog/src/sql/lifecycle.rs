//! Read sets moving between tiers: access times, idle read sets, lifecycle claims, usage.

use super::Db;
use super::SqlCatalog;
use super::jobs::hold_lease;
use super::rows;
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{Claim, Lifecycle, Move, ReadSetRecord, Result, UsageRow};
use seqstore_core::ids::{JobId, ReadSetId};
use seqstore_core::vocabulary::{ItemStatus, ReadSetStatus};
use sqlx::{Any, Row, Transaction};

/// The jobs whose items name the read sets they archive.
const ARCHIVING: &str = "SELECT i.result_id FROM job_items i JOIN jobs j ON j.id = i.job_id \
     WHERE j.kind = 'READ_SET_ARCHIVE' AND i.status IN ('NOT_STARTED', 'IN_PROGRESS')";

#[async_trait]
impl Lifecycle for SqlCatalog {
    async fn touch_read_set(&self, id: &ReadSetId, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE read_sets SET accessed_at = $1 WHERE id = $2 AND status = 'ACTIVE' \
             AND (accessed_at IS NULL OR accessed_at < $1)",
        )
        .bind(at.millis())
        .bind(id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn idle_read_sets(
        &self,
        idle_since: Timestamp,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>> {
        let condition = format!(
            "status = 'ACTIVE' AND lifecycle_job_id IS NULL \
             AND COALESCE(accessed_at, created_at) < {} AND id NOT IN ({ARCHIVING}) \
             ORDER BY COALESCE(accessed_at, created_at), id LIMIT {limit}",
            idle_since.millis()
        );
        rows::all(self.pool(), &condition, &[]).await
    }

    async fn claim_read_set(
        &self,
        id: &ReadSetId,
        job_id: &JobId,
        from: ReadSetStatus,
        to: ReadSetStatus,
    ) -> Result<Claim> {
        // A claim whose job has ended is stale (its holder died between recording a move and
        // releasing it): it may be taken over.
        let done = sqlx::query(
            "UPDATE read_sets SET status = $1, lifecycle_job_id = $2 WHERE id = $3 \
             AND ((status = $4 AND (lifecycle_job_id IS NULL OR lifecycle_job_id IN \
               (SELECT id FROM jobs WHERE status IN ('COMPLETED', 'COMPLETED_WITH_FAILURES', \
                'FAILED', 'CANCELLED')))) \
             OR (lifecycle_job_id = $2 AND status IN ($4, $1)))",
        )
        .bind(to.as_str())
        .bind(job_id.as_str())
        .bind(id.as_str())
        .bind(from.as_str())
        .execute(self.pool())
        .await
        .db()?;
        let row: Option<ReadSetRecord> = rows::one(self.pool(), "id = $1", &[id.as_str()]).await?;
        Ok(match row {
            Some(r) if done.rows_affected() == 1 => Claim::Claimed(r),
            other => Claim::Refused(other),
        })
    }

    async fn finish_move(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        m: &Move,
        outcome: (ItemStatus, Option<&str>),
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        hold_lease(&mut tx, job_id, owner).await?;
        let done = sqlx::query(
            "UPDATE read_sets SET status = $1, archive_size = $2, \
             accessed_at = COALESCE($3, accessed_at) \
             WHERE id = $4 AND lifecycle_job_id = $5 AND status <> 'DELETED' \
             AND ($6 IS NULL OR COALESCE(accessed_at, created_at) < $6)",
        )
        .bind(m.to.as_str())
        .bind(m.archive_size)
        .bind(m.accessed_at.map(Timestamp::millis))
        .bind(m.read_set_id.as_str())
        .bind(job_id.as_str())
        .bind(m.idle_since.map(Timestamp::millis))
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        set_item(&mut tx, job_id, index, outcome).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn give_up_move(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        id: &ReadSetId,
        back_to: ReadSetStatus,
        outcome: (ItemStatus, Option<&str>),
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        hold_lease(&mut tx, job_id, owner).await?;
        sqlx::query(
            "UPDATE read_sets SET lifecycle_job_id = NULL, \
             status = CASE WHEN status = 'DELETED' THEN status ELSE $1 END \
             WHERE id = $2 AND lifecycle_job_id = $3",
        )
        .bind(back_to.as_str())
        .bind(id.as_str())
        .bind(job_id.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        set_item(&mut tx, job_id, index, outcome).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn release_read_set(&self, id: &ReadSetId, job_id: &JobId) -> Result<()> {
        sqlx::query(
            "UPDATE read_sets SET lifecycle_job_id = NULL WHERE id = $1 AND lifecycle_job_id = $2",
        )
        .bind(id.as_str())
        .bind(job_id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn usage(&self) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT account_id, sequence_store_id, status, COUNT(*) AS n, \
             CAST(COALESCE(SUM(COALESCE(source1_size, 0) + COALESCE(source2_size, 0) \
              + COALESCE(index_size, 0)), 0) AS BIGINT) AS bytes, \
             CAST(COALESCE(SUM(archive_size), 0) AS BIGINT) AS archive_bytes \
             FROM read_sets GROUP BY account_id, sequence_store_id, status \
             ORDER BY account_id, sequence_store_id, status",
        )
        .fetch_all(self.pool())
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(UsageRow {
                    account_id: rows::Column::read(row, "account_id")?,
                    store_id: rows::Column::read(row, "sequence_store_id")?,
                    status: rows::Column::read(row, "status")?,
                    read_sets: row.try_get("n").db()?,
                    bytes: row.try_get("bytes").db()?,
                    archive_bytes: row.try_get("archive_bytes").db()?,
                })
            })
            .collect()
    }
}

/// Records an item's outcome.
async fn set_item(
    tx: &mut Transaction<'_, Any>,
    job_id: &JobId,
    index: i64,
    (status, message): (ItemStatus, Option<&str>),
) -> Result<()> {
    sqlx::query(
        "UPDATE job_items SET status = $1, status_message = $2 \
         WHERE job_id = $3 AND item_index = $4",
    )
    .bind(status.as_str())
    .bind(message)
    .bind(job_id.as_str())
    .bind(index)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}
