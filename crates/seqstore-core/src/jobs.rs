//! The job engine: workers claim jobs from the catalog under a lease, renew it while they
//! work, and resume whatever a crashed node left behind (spec D.7, E23, E24).

pub(crate) mod kind;

use crate::catalog::{CatalogError, JobItemRecord, JobRecord, Lease};
use crate::export::ExportReadSets;
use crate::ids::NodeId;
use crate::lifecycle::{ActivateReadSets, ArchiveReadSets};
use crate::read_set_import::ImportReadSets;
use crate::reference_import::ImportReferences;
use crate::upload_ingest::IngestUpload;
use crate::vocabulary::{ItemStatus, JobKind, JobStatus};
use crate::{Service, Timestamp};
use futures::FutureExt;
use kind::{ItemError, Kind};
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The implementation of each kind of job.
fn kind(kind: JobKind) -> &'static dyn Kind {
    match kind {
        JobKind::ReferenceImport => &ImportReferences,
        JobKind::ReadSetIngest => &IngestUpload,
        JobKind::ReadSetImport => &ImportReadSets,
        JobKind::ReadSetArchive => &ArchiveReadSets,
        JobKind::ReadSetActivation => &ActivateReadSets,
        JobKind::ReadSetExport => &ExportReadSets,
    }
}

/// Job kinds users wait for, run by [`JobSettings::workers`].
const USER_KINDS: &[JobKind] = &[
    JobKind::ReferenceImport,
    JobKind::ReadSetIngest,
    JobKind::ReadSetImport,
    JobKind::ReadSetActivation,
    JobKind::ReadSetExport,
];

/// Archiving, run by its own [`JobSettings::archive_workers`]: an archive job may keep a worker
/// busy for hours, and must not hold up uploads and imports meanwhile.
const ARCHIVE_KINDS: &[JobKind] = &[JobKind::ReadSetArchive];

/// Kinds whose jobs run one at a time per store, in order (spec E23: reference imports).
const SERIAL_KINDS: &[JobKind] = &[JobKind::ReferenceImport];

/// Starts of one item before it is given up (a source that crashes the process each time).
const MAX_ITEM_ATTEMPTS: i64 = 3;

/// Retries of a transient failure (network, throttling) within one attempt.
const TRANSIENT_RETRIES: u32 = 3;

/// Longest `statusMessage` the model allows.
const MAX_STATUS_MESSAGE: usize = 127;

/// How the engine runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// This node's stable identity: leases it held before a restart are dropped at start.
    pub node_id: NodeId,
    /// Jobs users wait for (imports, ingestion, activation, export) run at the same time by
    /// this node.
    pub workers: usize,
    /// Archive jobs run at the same time by this node, besides those.
    pub archive_workers: usize,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// How often idle workers look for work (they are also woken on submission).
    pub poll: Duration,
}

/// The running engine of one node.
#[derive(Debug)]
pub struct JobRunner {
    service: Service,
    settings: JobSettings,
}

impl JobRunner {
    /// An engine over `service`.
    pub fn new(service: Service, settings: JobSettings) -> Self {
        Self { service, settings }
    }

    /// Runs the workers until `shutdown` is cancelled, then gives up the leases so that
    /// another node (or this one, restarted) resumes the interrupted jobs at once.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), CatalogError> {
        let released = self
            .service
            .catalog
            .release_leases(&self.settings.node_id)
            .await?;
        if released > 0 {
            tracing::info!(
                jobs = released,
                "resuming jobs this node held before it stopped"
            );
        }
        let mut workers = JoinSet::new();
        let pools = [
            (USER_KINDS, self.settings.workers.max(1)),
            (ARCHIVE_KINDS, self.settings.archive_workers),
        ];
        let mut worker = 0;
        for (kinds, count) in pools {
            for _ in 0..count {
                let (service, settings, stop) = (
                    self.service.clone(),
                    self.settings.clone(),
                    shutdown.clone(),
                );
                workers.spawn(async move { work(service, settings, stop, kinds, worker).await });
                worker += 1;
            }
        }
        while workers.join_next().await.is_some() {}
        self.service
            .catalog
            .release_leases(&self.settings.node_id)
            .await?;
        Ok(())
    }
}

async fn work(
    service: Service,
    settings: JobSettings,
    stop: CancellationToken,
    kinds: &'static [JobKind],
    worker: usize,
) {
    while !stop.is_cancelled() {
        let now = Timestamp::now();
        let lease = Lease {
            owner: settings.node_id.to_string(),
            until: now.plus(settings.lease),
        };
        match service
            .catalog
            .claim_job(kinds, SERIAL_KINDS, &lease, now)
            .await
        {
            Ok(Some(job)) => {
                let span = tracing::info_span!("job", job_id = %job.id, kind = %job.kind, worker);
                run_claimed(&service, &settings, &stop, job)
                    .instrument(span)
                    .await;
            }
            Ok(None) => {
                tokio::select! {
                    _ = service.job_submitted.notified() => {}
                    _ = sleep(settings.poll) => {}
                    _ = stop.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim jobs");
                tokio::select! { _ = sleep(settings.poll * 5) => {} _ = stop.cancelled() => {} }
            }
        }
    }
}

/// Runs a claimed job while a companion task renews its lease; losing the lease or
/// shutting down abandons the work (the next holder redoes the unfinished item).
async fn run_claimed(
    service: &Service,
    settings: &JobSettings,
    stop: &CancellationToken,
    job: JobRecord,
) {
    let lost = CancellationToken::new();
    let renewer = {
        let (service, settings, lost, job_id) = (
            service.clone(),
            settings.clone(),
            lost.clone(),
            job.id.clone(),
        );
        tokio::spawn(async move {
            loop {
                sleep(settings.lease / 3).await;
                let until = Timestamp::now().plus(settings.lease);
                let lease = Lease {
                    owner: settings.node_id.to_string(),
                    until,
                };
                match service.catalog.renew_lease(&job_id, &lease).await {
                    Ok(()) => {}
                    Err(CatalogError::LeaseLost(_)) => {
                        tracing::warn!(%job_id, "lease lost; another node took the job over");
                        lost.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(%job_id, error = %e, "cannot renew lease"),
                }
            }
        })
    };
    let outcome = tokio::select! {
        r = run_job(service, settings, &job) => Some(r),
        _ = lost.cancelled() => None,
        _ = stop.cancelled() => None,
    };
    renewer.abort();
    match outcome {
        Some(Ok(status)) => tracing::info!(job_id = %job.id, %status, "job finished"),
        Some(Err(CatalogError::LeaseLost(_))) | None => {
            tracing::info!(job_id = %job.id, "job left for the next lease holder")
        }
        Some(Err(e)) => {
            tracing::error!(job_id = %job.id, error = %e, "job interrupted by a catalog error; it will be resumed")
        }
    }
}

/// Runs every unfinished item in order, then settles the job's status (spec E24).
async fn run_job(
    service: &Service,
    settings: &JobSettings,
    job: &JobRecord,
) -> Result<JobStatus, CatalogError> {
    let owner = settings.node_id.as_str();
    for item in service.catalog.job_items(&job.id).await? {
        if item.status.is_done() {
            continue;
        }
        if item.attempts >= MAX_ITEM_ATTEMPTS {
            // the source stopped the server every time: fail it as any bad source, so a
            // read set ends UPLOAD_FAILED and its staged parts go
            let message = format!(
                "gave up after {} attempts that did not complete",
                item.attempts
            );
            kind(job.kind)
                .fail(service, owner, job, &item, &message)
                .await?;
            continue;
        }
        service
            .catalog
            .set_item_status(&job.id, item.index, owner, ItemStatus::InProgress, None)
            .await?;
        run_item(service, owner, job, &item).await?;
    }
    let items = service.catalog.job_items(&job.id).await?;
    let failed = items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed)
        .count();
    let (status, message) = match failed {
        0 => (JobStatus::Completed, None),
        n if n == items.len() => (
            JobStatus::Failed,
            Some(format!(
                "all {n} sources failed; see each source's statusMessage"
            )),
        ),
        _ => (JobStatus::CompletedWithFailures, None),
    };
    service
        .catalog
        .finish_job(&job.id, owner, status, message.as_deref(), Timestamp::now())
        .await?;
    Ok(status)
}

async fn run_item(
    service: &Service,
    owner: &str,
    job: &JobRecord,
    item: &JobItemRecord,
) -> Result<(), CatalogError> {
    let kind = kind(job.kind);
    let mut delay = Duration::from_secs(1);
    let mut tries = 0;
    let failure = loop {
        // a bug met by one source ends that source, not the server or the other jobs
        let attempt = AssertUnwindSafe(kind.run(service, owner, job, item)).catch_unwind();
        let result = attempt.await.unwrap_or_else(|panic| {
            Err(ItemError::Internal(format!(
                "panicked: {}",
                panic_message(panic.as_ref())
            )))
        });
        match result {
            Ok(()) => return Ok(()),
            Err(ItemError::Record(e)) => return Err(e),
            Err(ItemError::Transient(message)) if tries < TRANSIENT_RETRIES => {
                tries += 1;
                tracing::warn!(job_id = %job.id, item = item.index, message, "transient failure; retrying");
                sleep(delay).await;
                delay *= 2;
            }
            Err(ItemError::Failed(message) | ItemError::Transient(message)) => break message,
            Err(ItemError::Internal(detail)) => {
                tracing::error!(job_id = %job.id, item = item.index, detail, "item failed on our side");
                break "internal error while processing this source".to_owned();
            }
        }
    };
    let message = truncate(&failure, MAX_STATUS_MESSAGE);
    kind.fail(service, owner, job, item, &message).await
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// Cuts a message to `max` characters, marking the cut.
fn truncate(message: &str, max: usize) -> String {
    if message.chars().count() <= max {
        return message.to_owned();
    }
    let mut cut: String = message.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_messages_fit_the_model() {
        let long = "x".repeat(300);
        assert_eq!(super::truncate(&long, 127).chars().count(), 127);
        assert_eq!(super::truncate("short", 127), "short");
    }
}
