//! Archiving and activation (spec D.4, D.8, E12). A read set whose files were not read for
//! `archive_after` is archived by a job the server submits: each file is packed into the
//! archive tier under the same key, read back to its recorded MD5, and only then does the
//! read set become ARCHIVED and its active files go. StartReadSetActivationJob brings it
//! back: the files are restored to the same keys, checked against the same MD5, and only
//! then is it ACTIVE again and the archive copies go. At every instant one tier holds a
//! complete, verified copy.
//!
//! A job claims the read set it moves (`lifecycle_job_id`) before it writes anything, so two
//! jobs never write the same keys, and a read, a deletion or a crash in between is noticed
//! when the move is recorded.

use crate::catalog::{Claim, JobItemRecord, JobRecord, Move, ReadSetRecord};
use crate::error::Result;
use crate::ids::{AccountId, JobId, ReadSetId, StoreId, new_id};
use crate::jobs::kind::{ItemError, Kind, mark_failed};
use crate::submit::{self, Submission, job_filter};
use crate::tiers::TierFile;
use crate::vocabulary::{ItemStatus, JobKind, JobStatus, ReadSetStatus};
use crate::{CoreError, Service, Timestamp};
use async_trait::async_trait;
use seqstore_blob::{BlobPrefix, BlobStore, KeyError};
use seqstore_model::{
    ActivateReadSetJobItem, ActivateReadSetSourceItem, GetReadSetActivationJobResponse,
    ListReadSetActivationJobsRequest, ListReadSetActivationJobsResponse,
    ReadSetActivationJobStatus, StartReadSetActivationJobRequest,
    StartReadSetActivationJobResponse, StartReadSetActivationJobSourceItem,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// AWS's message for an activation item whose read set needs none (spec D.4).
pub(crate) const NO_ACTIVATION_NEEDED: &str =
    "No activation needed as read set is already in ACTIVATING or ACTIVE state.";

/// Read sets an archive job moves at most.
const ARCHIVE_BATCH: usize = 100;

/// Idle read sets looked up per round of a scan.
const SCAN_BATCH: u32 = 1000;

/// Access times remembered before the oldest are forgotten.
const MAX_REMEMBERED: usize = 100_000;

/// How read sets are archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Read sets whose files were not read for this long are archived; `None`: never.
    pub archive_after: Option<Duration>,
    /// zstd level of archive copies (1..=22).
    pub level: i32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            archive_after: Some(Duration::from_secs(30 * 24 * 60 * 60)),
            level: 19,
        }
    }
}

/// Access times noted recently, so that a read set read many times in a row costs one
/// catalog write per [`Service::access_granularity`].
#[derive(Debug, Default, Clone)]
pub(crate) struct AccessLog(Arc<Mutex<HashMap<ReadSetId, Instant>>>);

impl AccessLog {
    /// Whether an access now should be written (none was within `granularity`).
    fn due(&self, id: &ReadSetId, granularity: Duration) -> bool {
        let now = Instant::now();
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen
            .get(id)
            .is_some_and(|at| now.duration_since(*at) < granularity)
        {
            return false;
        }
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, at| now.duration_since(*at) < granularity);
            if seen.len() >= MAX_REMEMBERED {
                seen.clear();
            }
        }
        seen.insert(id.clone(), now);
        true
    }
}

impl Service {
    /// How stale a recorded access time may be: a quarter of `archive_after`, at most ten
    /// minutes.
    fn access_granularity(&self) -> Duration {
        let ten_minutes = Duration::from_secs(600);
        match self.lifecycle.archive_after {
            Some(after) => (after / 4).min(ten_minutes),
            None => ten_minutes,
        }
    }

    /// Notes that a read set's files are being read (GetReadSet, S3 GetObject, export).
    /// A failure is logged: reading does not depend on it.
    pub(crate) async fn note_access(&self, id: &ReadSetId) {
        if !self.accesses.due(id, self.access_granularity()) {
            return;
        }
        if let Err(e) = self.catalog.touch_read_set(id, Timestamp::now()).await {
            tracing::warn!(read_set_id = %id, error = %e, "cannot record a read set's access");
        }
    }

    /// The archive tier, when archiving is configured.
    fn archive_tier(&self) -> std::result::Result<&BlobStore, ItemError> {
        self.archive
            .as_ref()
            .ok_or_else(|| ItemError::Failed("this server has no archive tier configured".into()))
    }

    /// Submits archive jobs for the read sets not read for `archive_after`; returns how
    /// many read sets they move. Read sets already named by a pending archive job are not
    /// submitted again.
    pub async fn archive_idle(&self) -> Result<usize> {
        let (Some(after), Some(_)) = (self.lifecycle.archive_after, &self.archive) else {
            return Ok(0);
        };
        let now = Timestamp::now();
        // A recorded access may be up to one granularity older than the last read.
        let idle_since = now.minus(after + self.access_granularity());
        let mut submitted = 0;
        loop {
            let idle = self.catalog.idle_read_sets(idle_since, SCAN_BATCH).await?;
            let mut stores: BTreeMap<(AccountId, StoreId), Vec<ReadSetId>> = BTreeMap::new();
            for r in &idle {
                stores
                    .entry((r.account_id.clone(), r.sequence_store_id.clone()))
                    .or_default()
                    .push(r.id.clone());
            }
            for ((account_id, store_id), ids) in stores {
                for batch in ids.chunks(ARCHIVE_BATCH) {
                    self.submit_archive_job(&account_id, &store_id, batch, now)
                        .await?;
                    submitted += batch.len();
                }
            }
            if idle.len() < SCAN_BATCH as usize {
                break;
            }
        }
        if submitted > 0 {
            self.job_submitted.notify_waiters();
        }
        Ok(submitted)
    }

    async fn submit_archive_job(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        ids: &[ReadSetId],
        now: Timestamp,
    ) -> Result<()> {
        let job = JobRecord {
            id: new_id(),
            account_id: account_id.clone(),
            kind: JobKind::ReadSetArchive,
            store_id: store_id.clone(),
            role_arn: None,
            destination: None,
            status: JobStatus::Submitted,
            status_message: None,
            created_at: now,
            completed_at: None,
            attempts: 0,
        };
        let items: Vec<JobItemRecord> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| JobItemRecord {
                job_id: job.id.clone(),
                index: i as i64,
                status: ItemStatus::NotStarted,
                status_message: None,
                spec: "{}".into(),
                result_id: id.to_string(),
                attempts: 0,
            })
            .collect();
        self.catalog.create_job(&job, &items, None).await?;
        Ok(())
    }

    /// Archives the read set an archive item names.
    async fn archive_read_set(
        &self,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        let id = ReadSetId::from(item.result_id.as_str());
        let claim = self
            .catalog
            .claim_read_set(&id, &job.id, ReadSetStatus::Active, ReadSetStatus::Active)
            .await
            .map_err(ItemError::Record)?;
        let r = match claim {
            Claim::Claimed(r) => r,
            Claim::Refused(r) => {
                let why = r.map_or("gone".to_owned(), |r| r.status.to_string());
                return self
                    .settle_item(
                        job,
                        item,
                        owner,
                        ItemStatus::Finished,
                        &format!("not archived: the read set is {why}"),
                    )
                    .await;
            }
        };
        let archive = self.archive_tier()?;
        let Some(files) = tier_files(&r)? else {
            return self
                .catalog
                .give_up_move(
                    &job.id,
                    item.index,
                    owner,
                    &id,
                    ReadSetStatus::Active,
                    (
                        ItemStatus::Finished,
                        Some("not archived yet: its S3 ETags are still being computed"),
                    ),
                )
                .await
                .map_err(ItemError::Record);
        };
        let mut archive_size = 0u64;
        for file in &files {
            archive_size += self
                .archive_file(archive, file, self.lifecycle.level)
                .await?;
        }
        let archived = Move {
            read_set_id: id.clone(),
            to: ReadSetStatus::Archived,
            archive_size: Some(archive_size as i64),
            accessed_at: None,
            idle_since: Some(job.created_at),
        };
        let moved = self
            .catalog
            .finish_move(
                &job.id,
                item.index,
                owner,
                &archived,
                (ItemStatus::Finished, None),
            )
            .await
            .map_err(ItemError::Record)?;
        self.s3_changed().await;
        if moved {
            tracing::info!(read_set_id = %id, bytes = r.stored_size(), archive_size, "read set archived");
            self.drop_superseded(&self.blobs, &files, job, &id).await;
            return Ok(());
        }
        // Read or deleted meanwhile: the claim is still ours, so the copies are ours to drop.
        delete_files(archive, &files, "archive").await;
        self.catalog
            .give_up_move(
                &job.id,
                item.index,
                owner,
                &id,
                ReadSetStatus::Active,
                (
                    ItemStatus::Finished,
                    Some("not archived: the read set was read or deleted meanwhile"),
                ),
            )
            .await
            .map_err(ItemError::Record)
    }

    /// Activates the read set an activation item names.
    async fn activate_read_set(
        &self,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        let id = activation_target(item)?;
        let not_found = || {
            ItemError::Failed(format!(
                "read set {id} not found in sequence store {}",
                job.store_id
            ))
        };
        match self
            .catalog
            .read_set(&job.account_id, &job.store_id, &id)
            .await
        {
            Ok(Some(r)) if r.status != ReadSetStatus::Deleted => {}
            Ok(_) => return Err(not_found()),
            Err(e) => return Err(ItemError::Record(e)),
        }
        let claim = self
            .catalog
            .claim_read_set(
                &id,
                &job.id,
                ReadSetStatus::Archived,
                ReadSetStatus::Activating,
            )
            .await
            .map_err(ItemError::Record)?;
        self.s3_changed().await;
        let r = match claim {
            Claim::Claimed(r) => r,
            Claim::Refused(Some(r))
                if matches!(r.status, ReadSetStatus::Active | ReadSetStatus::Activating) =>
            {
                return self
                    .settle_item(job, item, owner, ItemStatus::Finished, NO_ACTIVATION_NEEDED)
                    .await;
            }
            Claim::Refused(Some(r)) if r.status == ReadSetStatus::Archived => {
                // the archive job that moved it has not let go yet (it removes what it
                // replaced first)
                return Err(ItemError::Transient(format!(
                    "read set {id} is still being archived; try again"
                )));
            }
            Claim::Refused(Some(r)) if r.status != ReadSetStatus::Deleted => {
                return Err(ItemError::Failed(format!(
                    "read set {id} is {}; only ARCHIVED read sets can be activated",
                    r.status
                )));
            }
            Claim::Refused(_) => return Err(not_found()),
        };
        let archive = self.archive_tier()?;
        let files = tier_files(&r)?.ok_or_else(|| {
            ItemError::Internal(format!("archived read set {id} has a file without an MD5"))
        })?;
        for file in &files {
            self.restore_file(archive, file).await?;
        }
        let activated = Move {
            read_set_id: id.clone(),
            to: ReadSetStatus::Active,
            archive_size: None,
            accessed_at: Some(Timestamp::now()),
            idle_since: None,
        };
        let moved = self
            .catalog
            .finish_move(
                &job.id,
                item.index,
                owner,
                &activated,
                (ItemStatus::Finished, None),
            )
            .await
            .map_err(ItemError::Record)?;
        self.s3_changed().await;
        if moved {
            tracing::info!(read_set_id = %id, "read set activated");
            self.drop_superseded(archive, &files, job, &id).await;
            return Ok(());
        }
        // Deleted meanwhile: nobody serves the restored files.
        delete_files(&self.blobs, &files, "active").await;
        self.catalog
            .give_up_move(
                &job.id,
                item.index,
                owner,
                &id,
                ReadSetStatus::Archived,
                (
                    ItemStatus::Failed,
                    Some("the read set was deleted while it was being activated"),
                ),
            )
            .await
            .map_err(ItemError::Record)
    }

    /// Removes the copy a recorded move superseded, then releases the claim: until then no
    /// other job may write those keys (an activation right after archiving would restore
    /// files this removal would take). A crash in between leaves the claim to be taken over
    /// once the job has ended, and the copy to the cleanup.
    async fn drop_superseded(
        &self,
        tier: &BlobStore,
        files: &[TierFile],
        job: &JobRecord,
        id: &ReadSetId,
    ) {
        delete_files(tier, files, "superseded").await;
        if let Err(e) = self.catalog.release_read_set(id, &job.id).await {
            tracing::warn!(read_set_id = %id, error = %e, "cannot release a read set; it is free once the job ends");
        }
    }

    /// Records an item's end with a message.
    async fn settle_item(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
        owner: &str,
        status: ItemStatus,
        message: &str,
    ) -> std::result::Result<(), ItemError> {
        self.catalog
            .set_item_status(&job.id, item.index, owner, status, Some(message))
            .await
            .map_err(ItemError::Record)
    }

    /// Fails a lifecycle item: while the job still holds its read set, what it wrote to the
    /// tier it was filling goes first, then the claim is given up.
    async fn fail_move(
        &self,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
        (id, direction): (&ReadSetId, Direction),
        message: &str,
    ) -> std::result::Result<(), crate::catalog::CatalogError> {
        let (written, back_to) = match direction {
            Direction::Archiving => (self.archive.as_ref(), ReadSetStatus::Active),
            Direction::Activating => (Some(&self.blobs), ReadSetStatus::Archived),
        };
        let row = self
            .catalog
            .read_set(&job.account_id, &job.store_id, id)
            .await?;
        let Some(r) = row.filter(|r| r.lifecycle_job_id.as_ref() == Some(&job.id)) else {
            return mark_failed(self, owner, job, item, message).await;
        };
        if let (Some(store), Ok(Some(files))) = (written, tier_files(&r)) {
            delete_files(store, &files, "partly written").await;
        }
        self.catalog
            .give_up_move(
                &job.id,
                item.index,
                owner,
                id,
                back_to,
                (ItemStatus::Failed, Some(message)),
            )
            .await
    }
}

/// Which way a lifecycle job moves a read set.
#[derive(Debug, Clone, Copy)]
enum Direction {
    /// ACTIVE to ARCHIVED: it writes the archive tier.
    Archiving,
    /// ARCHIVED to ACTIVE: it writes the active tier.
    Activating,
}

/// The read set an activation item names.
fn activation_target(item: &JobItemRecord) -> std::result::Result<ReadSetId, ItemError> {
    let spec: StartReadSetActivationJobSourceItem = serde_json::from_str(&item.spec)
        .map_err(|e| ItemError::Internal(format!("job item spec: {e}")))?;
    Ok(ReadSetId::from(spec.read_set_id.as_str()))
}

/// The files of a read set with their recorded sizes and MD5s; `None` when one has no MD5
/// yet (recorded by the S3 ETag backfill of files stored before ETags were).
pub(crate) fn tier_files(
    r: &ReadSetRecord,
) -> std::result::Result<Option<Vec<TierFile>>, KeyError> {
    let prefix = BlobPrefix::read_set(&r.account_id, &r.sequence_store_id, &r.id)?;
    let mut files = Vec::new();
    for f in r.stored_files() {
        let Some(md5) = f.s3_etag else {
            return Ok(None);
        };
        files.push(TierFile {
            key: prefix.file(f.name)?,
            size: f.size.max(0) as u64,
            md5: md5.to_owned(),
        });
    }
    Ok(Some(files))
}

/// Deletes files of one tier; what cannot be deleted is left to the cleanup.
async fn delete_files(store: &BlobStore, files: &[TierFile], tier: &str) {
    for file in files {
        if let Err(e) = store.delete(&file.key).await {
            tracing::warn!(key = %file.key, tier, error = %e, "cannot remove a file; the cleanup will");
        }
    }
}

/// The archive job the server submits for idle read sets.
pub(crate) struct ArchiveReadSets;

#[async_trait]
impl Kind for ArchiveReadSets {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        service.archive_read_set(owner, job, item).await
    }

    fn output(
        &self,
        _: &JobRecord,
        _: &JobItemRecord,
    ) -> std::result::Result<Option<BlobPrefix>, KeyError> {
        Ok(None)
    }

    async fn fail(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
        message: &str,
    ) -> std::result::Result<(), crate::catalog::CatalogError> {
        let id = ReadSetId::from(item.result_id.as_str());
        service
            .fail_move(owner, job, item, (&id, Direction::Archiving), message)
            .await
    }
}

/// StartReadSetActivationJob's job.
pub(crate) struct ActivateReadSets;

#[async_trait]
impl Kind for ActivateReadSets {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        service.activate_read_set(owner, job, item).await
    }

    fn output(
        &self,
        _: &JobRecord,
        _: &JobItemRecord,
    ) -> std::result::Result<Option<BlobPrefix>, KeyError> {
        Ok(None)
    }

    async fn fail(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
        message: &str,
    ) -> std::result::Result<(), crate::catalog::CatalogError> {
        match activation_target(item) {
            Ok(id) => {
                service
                    .fail_move(owner, job, item, (&id, Direction::Activating), message)
                    .await
            }
            Err(_) => mark_failed(service, owner, job, item, message).await,
        }
    }
}

impl Service {
    /// StartReadSetActivationJob.
    pub async fn start_read_set_activation_job(
        &self,
        account_id: &AccountId,
        input: StartReadSetActivationJobRequest,
    ) -> Result<StartReadSetActivationJobResponse> {
        self.sequence_store_record(account_id, &StoreId::from(input.sequence_store_id.as_str()))
            .await?;
        let submission = Submission {
            operation: "StartReadSetActivationJob",
            kind: JobKind::ReadSetActivation,
            store_id: &input.sequence_store_id,
            role_arn: None,
            destination: None,
            request: &input,
            client_token: input.client_token.as_deref(),
            specs: input
                .sources
                .iter()
                .map(submit::spec)
                .collect::<Result<_>>()?,
            // the read set: the cleanup keeps its copies while the item is pending
            results: input
                .sources
                .iter()
                .map(|s| s.read_set_id.clone())
                .collect(),
        };
        self.submit_job(account_id, submission, |job| {
            StartReadSetActivationJobResponse {
                id: job.id.to_string(),
                sequence_store_id: job.store_id.to_string(),
                status: ReadSetActivationJobStatus::Submitted,
                creation_time: job.created_at.into(),
            }
        })
        .await
    }

    /// GetReadSetActivationJob.
    pub async fn get_read_set_activation_job(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<GetReadSetActivationJobResponse> {
        let (job, items) = self
            .job_with_items(
                account_id,
                JobKind::ReadSetActivation,
                store_id,
                id,
                "read set activation job",
            )
            .await?;
        let sources = items
            .iter()
            .map(|item| {
                let spec: StartReadSetActivationJobSourceItem =
                    serde_json::from_str(&item.spec).map_err(CoreError::json("a job item spec"))?;
                Ok(ActivateReadSetSourceItem {
                    read_set_id: spec.read_set_id,
                    status: item.status.into(),
                    status_message: item.status_message.clone(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(GetReadSetActivationJobResponse {
            id: job.id.to_string(),
            sequence_store_id: job.store_id.to_string(),
            status: job.status.into(),
            status_message: job.status_message.clone(),
            creation_time: job.created_at.into(),
            completion_time: job.completed_at.map(Into::into),
            sources: Some(sources),
        })
    }

    /// ListReadSetActivationJobs.
    pub async fn list_read_set_activation_jobs(
        &self,
        account_id: &AccountId,
        input: ListReadSetActivationJobsRequest,
    ) -> Result<ListReadSetActivationJobsResponse> {
        let store_id = &StoreId::from(input.sequence_store_id.as_str());
        self.sequence_store_record(account_id, store_id).await?;
        let f = input.filter.unwrap_or_default();
        let filter = job_filter(
            f.status.map(Into::into),
            f.created_after.as_ref(),
            f.created_before.as_ref(),
        );
        let (rows, next_token) = self
            .job_page(
                account_id,
                JobKind::ReadSetActivation,
                store_id,
                filter,
                input.next_token.as_deref(),
                input.max_results,
            )
            .await?;
        Ok(ListReadSetActivationJobsResponse {
            next_token,
            activation_jobs: Some(
                rows.iter()
                    .map(|job| ActivateReadSetJobItem {
                        id: job.id.to_string(),
                        sequence_store_id: job.store_id.to_string(),
                        status: job.status.into(),
                        creation_time: job.created_at.into(),
                        completion_time: job.completed_at.map(Into::into),
                    })
                    .collect(),
            ),
        })
    }
}
