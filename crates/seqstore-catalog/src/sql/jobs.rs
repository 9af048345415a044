//! The durable job queue: jobs, their items, leases.

use super::Db;
use super::read_sets::upsert_read_set;
use super::rows::{self, Arg, Select, Table};
use super::tags::{target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    CatalogError, Finished, IdempotencyRecord, JobFilter, JobItemRecord, JobRecord, Jobs, Lease,
    ListCursor, ReadSetRecord, ReferenceRecord, ResourceKind, Result,
};
use seqstore_core::ids::{AccountId, JobId, StoreId};
use seqstore_core::vocabulary::{ItemStatus, JobKind, JobStatus};
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;

#[async_trait]
impl Jobs for SqlCatalog {
    async fn create_job(
        &self,
        job: &JobRecord,
        items: &[JobItemRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(record) = idempotency {
            record_idempotency(&mut tx, record).await?;
        }
        insert_job(&mut tx, job, items).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn job(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<Option<(JobRecord, Vec<JobItemRecord>)>> {
        let condition = "account_id = $1 AND kind = $2 AND store_id = $3 AND id = $4";
        let args = [
            account_id.as_str(),
            kind.as_str(),
            store_id.as_str(),
            id.as_str(),
        ];
        let Some(job) = rows::one::<JobRecord>(self.pool(), condition, &args).await? else {
            return Ok(None);
        };
        let items = self.job_items(&job.id).await?;
        Ok(Some((job, items)))
    }

    async fn job_counts(&self) -> Result<Vec<(JobKind, JobStatus, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status ORDER BY kind, status",
        )
        .fetch_all(self.pool())
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok((
                    rows::Column::read(row, "kind")?,
                    rows::Column::read(row, "status")?,
                    sqlx::Row::try_get(row, "n").db()?,
                ))
            })
            .collect()
    }

    async fn list_jobs(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        f: &JobFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<JobRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp("kind", "=", Arg::from(kind.as_str()));
        q.cmp("store_id", "=", Arg::from(store_id.as_str()));
        q.cmp_opt("status", "=", &f.status.map(|s| s.as_str()));
        q.cmp_opt("created_at", ">=", &f.created_after);
        q.cmp_opt("created_at", "<=", &f.created_before);
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn claim_job(
        &self,
        kinds: &[JobKind],
        serial: &[JobKind],
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<JobRecord>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // $1 owner, $2 lease end, $3 now, then the kinds and the serial kinds. The lease
        // condition is repeated on the outer UPDATE so that PostgreSQL re-checks it on the
        // row it finally locks.
        let params = |from: usize, n: usize| {
            (from..from + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let kind_params = params(4, kinds.len());
        let serial_rule = if serial.is_empty() {
            String::new()
        } else {
            format!(
                "AND (j.kind NOT IN ({}) OR NOT EXISTS (SELECT 1 FROM jobs p \
                   WHERE p.account_id = j.account_id AND p.kind = j.kind AND p.store_id = j.store_id \
                   AND p.status IN ('SUBMITTED', 'IN_PROGRESS') \
                   AND (p.created_at < j.created_at OR (p.created_at = j.created_at AND p.id < j.id))))",
                params(4 + kinds.len(), serial.len())
            )
        };
        let lock = if self.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, \
             status = CASE WHEN status = 'SUBMITTED' THEN 'IN_PROGRESS' ELSE status END \
             WHERE (lease_owner IS NULL OR lease_expires_at < $3) AND id = ( \
               SELECT j.id FROM jobs j \
               WHERE j.status IN ('SUBMITTED', 'IN_PROGRESS') AND j.kind IN ({kind_params}) \
                 AND (j.lease_owner IS NULL OR j.lease_expires_at < $3) {serial_rule} \
               ORDER BY j.created_at, j.id LIMIT 1{lock}) \
             RETURNING {columns}",
            columns = JobRecord::COLUMNS
        );
        let mut query = sqlx::query(&sql)
            .bind(&lease.owner)
            .bind(lease.until.millis())
            .bind(now.millis());
        for kind in kinds.iter().chain(serial) {
            query = query.bind(kind.as_str());
        }
        query
            .fetch_optional(self.pool())
            .await
            .db()?
            .as_ref()
            .map(JobRecord::decode)
            .transpose()
    }

    async fn renew_lease(&self, job_id: &JobId, lease: &Lease) -> Result<()> {
        let done =
            sqlx::query("UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(lease.until.millis())
                .bind(job_id.as_str())
                .bind(&lease.owner)
                .execute(self.pool())
                .await
                .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::LeaseLost(job_id.to_string()));
        }
        Ok(())
    }

    async fn release_leases(&self, owner: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(self.pool())
        .await
        .db()?;
        Ok(done.rows_affected())
    }

    async fn job_items(&self, job_id: &JobId) -> Result<Vec<JobItemRecord>> {
        rows::all(
            self.pool(),
            "job_id = $1 ORDER BY item_index",
            &[job_id.as_str()],
        )
        .await
    }

    async fn set_item_status(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        status: ItemStatus,
        message: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        hold_lease(&mut tx, job_id, owner).await?;
        let started = i64::from(status == ItemStatus::InProgress);
        sqlx::query(
            "UPDATE job_items SET status = $1, status_message = $2, attempts = attempts + $3 \
             WHERE job_id = $4 AND item_index = $5",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(started)
        .bind(job_id.as_str())
        .bind(index)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn finish_reference_item(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        r: &ReferenceRecord,
        tags: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        hold_lease(&mut tx, job_id, owner).await?;
        r.bind(sqlx::query(&ReferenceRecord::insert()))
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("reference id")))?;
        upsert_tags(
            &mut tx,
            &target(&r.account_id, ResourceKind::Reference, &r.id),
            tags,
        )
        .await?;
        sqlx::query(
            "UPDATE job_items SET status = 'FINISHED', status_message = NULL WHERE job_id = $1 AND item_index = $2",
        )
        .bind(job_id.as_str())
        .bind(index)
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn finish_read_set_item(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        read_set: &ReadSetRecord,
        tags: &BTreeMap<String, String>,
        (status, message): (ItemStatus, Option<&str>),
    ) -> Result<Finished> {
        let mut tx = self.write_tx().await?;
        hold_lease(&mut tx, job_id, owner).await?;
        if !upsert_read_set(&mut tx, read_set).await? {
            return Ok(Finished::Deleted);
        }
        upsert_tags(
            &mut tx,
            &target(&read_set.account_id, ResourceKind::ReadSet, &read_set.id),
            tags,
        )
        .await?;
        sqlx::query("UPDATE job_items SET status = $1, status_message = $2 WHERE job_id = $3 AND item_index = $4")
            .bind(status.as_str())
            .bind(message)
            .bind(job_id.as_str())
            .bind(index)
            .execute(&mut *tx)
            .await.db()?;
        tx.commit().await.db()?;
        Ok(Finished::Recorded)
    }

    async fn finish_job(
        &self,
        job_id: &JobId,
        owner: &str,
        status: JobStatus,
        message: Option<&str>,
        completed_at: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, status_message = $2, completed_at = $3, \
             lease_owner = NULL, lease_expires_at = NULL WHERE id = $4 AND lease_owner = $5",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(completed_at.millis())
        .bind(job_id.as_str())
        .bind(owner)
        .execute(self.pool())
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::LeaseLost(job_id.to_string()));
        }
        Ok(())
    }
}

/// First statement of a worker's transaction: a no-op write on its job row that fails when
/// the lease is gone, and that keeps the row locked (PostgreSQL) or the database write-locked
/// (SQLite) until commit, so no other node can take the lease in between.
pub(crate) async fn hold_lease(
    tx: &mut Transaction<'_, Any>,
    job_id: &JobId,
    owner: &str,
) -> Result<()> {
    let done =
        sqlx::query("UPDATE jobs SET lease_owner = lease_owner WHERE id = $1 AND lease_owner = $2")
            .bind(job_id.as_str())
            .bind(owner)
            .execute(&mut **tx)
            .await
            .db()?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::LeaseLost(job_id.to_string()));
    }
    Ok(())
}

/// Inserts a job and its items inside a transaction.
pub(crate) async fn insert_job(
    tx: &mut Transaction<'_, Any>,
    job: &JobRecord,
    items: &[JobItemRecord],
) -> Result<()> {
    job.bind(sqlx::query(&JobRecord::insert()))
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_as(e, CatalogError::AlreadyExists("job id")))?;
    for item in items {
        item.bind(sqlx::query(&JobItemRecord::insert()))
            .execute(&mut **tx)
            .await
            .db()?;
    }
    Ok(())
}
