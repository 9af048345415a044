//! The domain of seqstore: stores, tags, access keys, idempotency and paging rules,
//! expressed over the generated wire shapes and free of HTTP and SQL types.

mod arn;
mod bridge;
pub mod catalog;
mod cluster;
mod early_ingest;
mod error;
mod etag_backfill;
mod export;
mod files;
pub mod fsck;
pub mod ga4gh;
mod grants;
mod idempotency;
pub mod ids;
mod ingest;
mod jobs;
mod keys;
mod lifecycle;
mod paging;
mod read_set_import;
mod read_sets;
mod reference_import;
mod reference_stores;
mod references;
mod s3_access;
mod s3_lookups;
mod s3_objects;
mod s3_policy;
mod sequence_stores;
mod slots;
mod submit;
mod tags;
pub mod telemetry;
mod tiers;
pub mod time;
mod upload_ingest;
mod uploads;
pub mod vocabulary;
mod wire;

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use std::collections::BTreeMap;

    use crate::s3_policy::{AccessRequest, Policy, PolicyScope};

    /// Parses `text` as the access point policy of store 1234567890 of account
    /// 111122223333 and, when it is valid, evaluates one object read against it.
    pub fn s3_policy(text: &str) -> bool {
        const AP: &str = "arn:aws:s3:us-east-1:999999999999:accesspoint/111122223333-1234567890";
        let scope = PolicyScope {
            access_point_arn: AP,
            store_prefix: "111122223333/sequenceStore/1234567890/".into(),
            partition: "aws",
            owner_account: "111122223333",
        };
        let Ok(policy) = Policy::parse(text, &scope) else {
            return false;
        };
        let tags = BTreeMap::from([("omics:subjectId".to_owned(), "s1".to_owned())]);
        let resource = format!("{AP}/object/111122223333/sequenceStore/1234567890/readSet/1/a.bam");
        policy.uses_object_tags();
        policy.allows(&AccessRequest {
            principal_account: "444455556666",
            principal_arn: "arn:aws:iam::444455556666:user/alice",
            action: "s3:GetObject",
            resource: &resource,
            prefix: None,
            object_tags: Some(&tags),
            signature_version: "AWS4-HMAC-SHA256",
            tls_version: None,
        })
    }
}

pub use arn::{Arn, ArnResource};
pub use catalog::StoreKind;
pub use cluster::Node;
pub use error::{CoreError, error_chain};
pub use files::{BlobRead, PART_SIZE};
pub use grants::{BucketGrant, BucketGrants};
pub use ids::{AccountId, JobId, NodeId, ReadSetId, ReferenceId, StoreId, UploadId};
pub use jobs::{JobRunner, JobSettings};
pub use keys::{ROOT_KEY_PREFIX, SigningKey, new_access_key};
pub use lifecycle::LifecycleSettings;
pub use s3_access::AccessPoint;
pub use s3_objects::{S3Action, S3Caller, S3Object};
pub use time::Timestamp;
pub use uploads::MAX_PART_BYTES;

use catalog::Catalog;
use seqstore_blob::{BlobStore, Sources};
use std::sync::Arc;
use tokio::sync::Notify;

/// Deployment facts the domain needs to name things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// AWS partition used in ARNs (`aws`).
    pub partition: String,
    /// The region this server answers for.
    pub region: String,
    /// The account that owns the S3 access points (spec E17: a service account).
    pub s3_access_point_account: String,
    /// Part uploads one account may run at once.
    pub max_part_uploads_per_account: usize,
    /// Which buckets each account may import from or fall back to.
    pub bucket_grants: BucketGrants,
    /// New parts are refused while the local blob volume has fewer bytes free.
    pub min_free_bytes: u64,
    /// Uploads this node ingests while their parts arrive (`0`: only after Complete).
    pub early_ingests: usize,
}

/// The domain service: one per process, shared by every request.
#[derive(Debug, Clone)]
pub struct Service {
    catalog: Arc<dyn Catalog>,
    blobs: BlobStore,
    sources: Arc<Sources>,
    settings: Settings,
    /// Wakes idle job workers when a job is submitted.
    job_submitted: Arc<Notify>,
    /// Part uploads running per account.
    upload_slots: slots::UploadSlots,
    /// The archive tier, when archiving is configured.
    archive: Option<BlobStore>,
    /// How read sets are archived.
    lifecycle: LifecycleSettings,
    /// Read set accesses noted recently.
    accesses: lifecycle::AccessLog,
    /// Uploads being ingested while their parts arrive.
    early: early_ingest::EarlyIngests,
    /// What S3 reads looked up lately.
    s3_lookups: Arc<s3_lookups::S3Lookups>,
    /// The key that signs htsget ticket URLs, once read from the catalog.
    ticket_key: Arc<tokio::sync::OnceCell<String>>,
    /// What the server counts.
    metrics: Arc<telemetry::Metrics>,
}

impl Service {
    /// Builds the service over a catalog, a blob store and the user's import sources.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        blobs: BlobStore,
        sources: Sources,
        settings: Settings,
    ) -> Self {
        Self {
            catalog,
            blobs,
            sources: Arc::new(sources),
            settings,
            job_submitted: Arc::new(Notify::new()),
            upload_slots: slots::UploadSlots::default(),
            archive: None,
            lifecycle: LifecycleSettings {
                archive_after: None,
                ..LifecycleSettings::default()
            },
            accesses: lifecycle::AccessLog::default(),
            early: early_ingest::EarlyIngests::default(),
            s3_lookups: Arc::default(),
            ticket_key: Arc::default(),
            metrics: Arc::default(),
        }
    }

    /// Archives idle read sets into `archive` as `lifecycle` says.
    pub fn with_archive(mut self, archive: BlobStore, lifecycle: LifecycleSettings) -> Self {
        self.archive = Some(archive);
        self.lifecycle = lifecycle;
        self
    }

    /// The ARN of a resource of `account_id` in this deployment's partition and region.
    pub(crate) fn arn(&self, account_id: &AccountId, resource: ArnResource) -> String {
        Arn {
            partition: self.settings.partition.clone(),
            region: self.settings.region.clone(),
            account_id: account_id.clone(),
            resource,
        }
        .to_string()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}
