//! What the job engine needs of each kind of job, and how an item's work fails. Each kind
//! implements [`Kind`] in its own module; the engine picks the implementation by
//! [`crate::vocabulary::JobKind`].

use async_trait::async_trait;
use seqstore_blob::{BlobPrefix, KeyError, SourceError};

use crate::Service;
use std::collections::BTreeMap;

use crate::catalog::{CatalogError, Finished, JobItemRecord, JobRecord, ReadSetRecord};
use crate::vocabulary::{ItemStatus, ReadSetStatus};

/// One kind of job: how an item runs and how it fails.
#[async_trait]
pub(crate) trait Kind: Sync {
    /// Processes one item and records its resource with the item FINISHED, in one
    /// transaction.
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<(), ItemError>;

    /// Where an item writes its resource's files; `None` when it writes none of ours.
    fn output(&self, job: &JobRecord, item: &JobItemRecord)
    -> Result<Option<BlobPrefix>, KeyError>;

    /// Records that an item failed with `message`: what an earlier, interrupted attempt
    /// stored under its [`Kind::output`] goes, and the item is FAILED.
    async fn fail(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
        message: &str,
    ) -> Result<(), CatalogError> {
        let deleted = match self.output(job, item) {
            Ok(Some(prefix)) => service.blobs.delete_prefix(&prefix).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = deleted {
            tracing::warn!(job_id = %job.id, error = %e, "cannot remove a failed item's files");
        }
        mark_failed(service, owner, job, item, message).await
    }
}

/// Why one item did not produce its resource.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ItemError {
    /// The input is bad: the item fails with this message.
    #[error("{0}")]
    Failed(String),
    /// Worth another try (network, throttling).
    #[error("{0}")]
    Transient(String),
    /// Our side failed; the item fails with a generic message, the details are logged.
    #[error("internal error: {0}")]
    Internal(String),
    /// Recording the outcome failed: the job stops here and is resumed later.
    #[error("recording the item failed")]
    Record(#[source] CatalogError),
}

impl From<seqstore_blob::KeyError> for ItemError {
    fn from(e: seqstore_blob::KeyError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl ItemError {
    /// A failed write of `file`: a full volume fails the item with a message that says so,
    /// anything else is ours.
    pub(crate) fn from_write(file: &str) -> impl FnOnce(seqstore_blob::BlobError) -> Self {
        move |e| {
            if e.is_storage_full() {
                Self::Failed(format!(
                    "no space left on the server's storage while writing {file}"
                ))
            } else {
                Self::Internal(crate::error_chain(&e))
            }
        }
    }

    pub(crate) fn from_source(e: SourceError) -> Self {
        if e.is_transient() {
            Self::Transient(e.to_string())
        } else {
            Self::Failed(e.to_string())
        }
    }
}

/// Marks an item FAILED with `message` (what most kinds do when an item fails).
pub(crate) async fn mark_failed(
    service: &Service,
    owner: &str,
    job: &JobRecord,
    item: &JobItemRecord,
    message: &str,
) -> Result<(), CatalogError> {
    service
        .catalog
        .set_item_status(
            &job.id,
            item.index,
            owner,
            ItemStatus::Failed,
            Some(message),
        )
        .await
}

/// What a job item says of a read set the user deleted while it was being made.
pub(crate) const DELETED_WHILE_INGESTING: &str =
    "the read set was deleted before its ingestion finished";

/// Records the read set an item produced, with `tags`: the item is FINISHED when the read
/// set ended ACTIVE, FAILED with the read set's status message otherwise. A read set the
/// user deleted meanwhile stays deleted: its files go and the item fails saying so.
pub(crate) async fn record_read_set(
    service: &Service,
    owner: &str,
    job: &JobRecord,
    item: &JobItemRecord,
    read_set: &ReadSetRecord,
    tags: &BTreeMap<String, String>,
) -> Result<(), CatalogError> {
    let outcome = if read_set.status == ReadSetStatus::Active {
        (ItemStatus::Finished, None)
    } else {
        (ItemStatus::Failed, read_set.status_message.as_deref())
    };
    let finished = service
        .catalog
        .finish_read_set_item(&job.id, item.index, owner, read_set, tags, outcome)
        .await?;
    if finished == Finished::Deleted {
        let prefix = BlobPrefix::read_set(
            &read_set.account_id,
            &read_set.sequence_store_id,
            &read_set.id,
        );
        if let Err(e) = match prefix {
            Ok(prefix) => service.blobs.delete_prefix(&prefix).await,
            Err(e) => Err(e.into()),
        } {
            tracing::warn!(read_set_id = %read_set.id, error = %e, "cannot remove a deleted read set's files");
        }
        mark_failed(service, owner, job, item, DELETED_WHILE_INGESTING).await?;
    }
    Ok(())
}
