//! The catalog traits: what the domain needs to keep durably, one trait per concern.

use super::{
    AccessKeyRecord, AccessPolicy, BearerTokenRecord, Claim, FileEtags, Finished,
    IdempotencyRecord, JobFilter, JobItemRecord, JobRecord, Lease, ListCursor, Move, NodeRecord,
    PartRecord, ReadSetFilter, ReadSetRecord, ReferenceFilter, ReferenceRecord,
    ReferenceStoreFilter, ReferenceStoreRecord, Result, SequenceRecord, SequenceStoreFilter,
    SequenceStoreRecord, StoreKind, StoreRef, TagTarget, UploadRecord, UsageRow,
};
use crate::ids::{AccountId, JobId, NodeId, ReadSetId, ReferenceId, StoreId, TokenId, UploadId};
use async_trait::async_trait;
use std::collections::BTreeMap;

use crate::time::Timestamp;
use crate::vocabulary::{ItemStatus, JobKind, JobStatus, PartSource, ReadSetStatus};
use seqstore_blob::BlobKey;

/// Everything the domain keeps. Implementations are safe to share across tasks and across
/// server processes that use the same database.
pub trait Catalog:
    AccessKeys
    + Idempotency
    + SequenceStores
    + ReferenceStores
    + References
    + ReadSets
    + Uploads
    + Tags
    + Jobs
    + S3Access
    + Inventory
    + Lifecycle
    + Nodes
    + Ga4gh
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Which backend this is (`sqlite` or `postgres`), for logs.
    fn backend(&self) -> &'static str;
}

/// Access keys that sign requests.
#[async_trait]
pub trait AccessKeys {
    /// Stores a new access key; an existing id is a [`super::CatalogError::AlreadyExists`].
    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<()>;
    /// Looks up an access key by id.
    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>>;
    /// Every access key, oldest first.
    async fn access_keys(&self) -> Result<Vec<AccessKeyRecord>>;
    /// Deletes an access key: [`super::CatalogError::NotFound`] when absent.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<()>;
}

/// Remembered answers to requests with a `clientToken`. Recording happens inside the
/// create/update transactions of the other traits.
#[async_trait]
pub trait Idempotency {
    /// The record for `(account, operation, token)` younger than `not_before`, if any.
    async fn idempotency_record(
        &self,
        account_id: &AccountId,
        operation: &str,
        client_token: &str,
        not_before: Timestamp,
    ) -> Result<Option<IdempotencyRecord>>;
}

/// Sequence stores.
#[async_trait]
pub trait SequenceStores {
    /// Creates a store with its tags and records `idempotency` in the same transaction.
    /// [`super::CatalogError::AlreadyExists`] when the id or alias is taken,
    /// [`super::CatalogError::TokenInUse`] when the token was recorded concurrently; nothing
    /// is written then.
    async fn create_sequence_store(
        &self,
        store: &SequenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One sequence store of an account.
    async fn sequence_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<Option<SequenceStoreRecord>>;
    /// A page of an account's sequence stores, ordered by creation time then id.
    async fn list_sequence_stores(
        &self,
        account_id: &AccountId,
        filter: &SequenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<SequenceStoreRecord>>;
    /// Replaces the mutable fields (matched by account and id) and records `idempotency`
    /// in the same transaction. [`super::CatalogError::NotFound`] when gone.
    async fn update_sequence_store(
        &self,
        store: &SequenceStoreRecord,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// Deletes a store and its tags: [`super::CatalogError::NotFound`] when absent,
    /// [`super::CatalogError::NotEmpty`] while it holds read sets that are not deleted,
    /// [`super::CatalogError::InFlight`] while a job or an upload works on it.
    async fn delete_sequence_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()>;
}

/// Reference stores (one per account).
#[async_trait]
pub trait ReferenceStores {
    /// Creates the account's reference store with its tags; the account already having one
    /// is [`super::CatalogError::QuotaExceeded`]; a taken id is
    /// [`super::CatalogError::AlreadyExists`].
    async fn create_reference_store(
        &self,
        store: &ReferenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One reference store of an account.
    async fn reference_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<Option<ReferenceStoreRecord>>;
    /// A page of an account's reference stores, ordered by creation time then id.
    async fn list_reference_stores(
        &self,
        account_id: &AccountId,
        filter: &ReferenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceStoreRecord>>;
    /// Deletes a reference store and its tags: [`super::CatalogError::NotFound`] when
    /// absent, [`super::CatalogError::NotEmpty`] while it holds references,
    /// [`super::CatalogError::InFlight`] while an import job works on it.
    async fn delete_reference_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()>;
}

/// References (genomes) in reference stores. They are created by import jobs
/// ([`Jobs::finish_reference_item`]).
#[async_trait]
pub trait References {
    /// One reference of a store.
    async fn reference(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
    ) -> Result<Option<ReferenceRecord>>;
    /// A page of a store's references, ordered by creation time then id.
    async fn list_references(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        filter: &ReferenceFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceRecord>>;
    /// Deletes a reference (whose ARN is `arn`) and its tags: [`super::CatalogError::NotFound`]
    /// when absent, [`super::CatalogError::NotEmpty`] while read sets that are not deleted
    /// (or uploads in progress) link it.
    async fn delete_reference(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
        arn: &str,
    ) -> Result<()>;
}

/// Read sets of sequence stores. They are created by upload completion
/// ([`Uploads::complete_upload`]) and import jobs ([`Jobs::finish_read_set_item`]).
#[async_trait]
pub trait ReadSets {
    /// One read set of a store (deleted ones included: the caller decides).
    async fn read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<Option<ReadSetRecord>>;
    /// A page of a store's read sets, ordered by creation time then id.
    async fn list_read_sets(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        filter: &ReadSetFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>>;
    /// Marks a read set DELETED (a tombstone) and drops its tags; returns the record as it
    /// was. [`super::CatalogError::NotFound`] when absent or already deleted.
    async fn delete_read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<ReadSetRecord>;
}

/// Direct multipart uploads and their staged parts.
#[async_trait]
pub trait Uploads {
    /// Records a new upload (and `idempotency`) in one transaction.
    async fn create_upload(
        &self,
        upload: &UploadRecord,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One upload of a store, whatever its status.
    async fn upload(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &UploadId,
    ) -> Result<Option<UploadRecord>>;
    /// A page of a store's uploads in progress, ordered by creation time then id.
    async fn list_uploads(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<UploadRecord>>;
    /// Records a part of an upload in progress, replacing an earlier part of the same source
    /// and number; returns the blob key of the replaced part, to delete.
    /// [`super::CatalogError::NotFound`] when the upload is not in progress.
    async fn put_part(&self, part: &PartRecord) -> Result<Option<BlobKey>>;
    /// A page of an upload's parts of one source, by part number, after `after_number`.
    async fn list_parts(
        &self,
        upload_id: &UploadId,
        part_source: PartSource,
        created_after: Option<Timestamp>,
        created_before: Option<Timestamp>,
        after_number: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PartRecord>>;
    /// Every part of an upload, by source then part number.
    async fn all_parts(&self, upload_id: &UploadId) -> Result<Vec<PartRecord>>;
    /// Uploads still in progress that were created before `created_before`, oldest first.
    async fn stale_uploads(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<UploadRecord>>;
    /// Ends an upload in progress: ABORTED, part rows removed (returned, to delete their
    /// blobs). [`super::CatalogError::NotFound`] when it is not in progress.
    async fn abort_upload(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &UploadId,
    ) -> Result<Vec<PartRecord>>;
    /// Completes an upload in progress in one transaction: the upload COMPLETED, the read
    /// set (PROCESSING_UPLOAD) and its tags recorded, the ingest job created.
    /// [`super::CatalogError::NotFound`] when it is not in progress;
    /// [`super::CatalogError::Changed`] when one of the `verified` parts is no longer the
    /// one stored (uploaded again since): the bytes ingested are exactly those verified.
    async fn complete_upload(
        &self,
        upload_id: &UploadId,
        verified: &[PartRecord],
        read_set: &ReadSetRecord,
        tags: &BTreeMap<String, String>,
        job: &JobRecord,
        items: &[JobItemRecord],
    ) -> Result<()>;
}

/// Tags of any taggable resource.
#[async_trait]
pub trait Tags {
    /// The tags of a resource (empty when it has none).
    async fn tags(&self, target: &TagTarget) -> Result<BTreeMap<String, String>>;
    /// Adds or replaces tags; more than `max_tags` in total afterwards is
    /// [`super::CatalogError::QuotaExceeded`] and changes nothing.
    async fn put_tags(
        &self,
        target: &TagTarget,
        tags: &BTreeMap<String, String>,
        max_tags: usize,
    ) -> Result<()>;
    /// Removes the given keys; absent keys are ignored.
    async fn delete_tags(&self, target: &TagTarget, keys: &[String]) -> Result<()>;
}

/// The durable job queue. Workers claim jobs with a lease that they renew; a lapsed lease
/// (crashed node) lets another worker take the job over. Every change a worker makes is
/// guarded by its lease: [`super::CatalogError::LeaseLost`] tells it to stop.
#[async_trait]
pub trait Jobs {
    /// Creates a job with its items (and records `idempotency`) in one transaction.
    async fn create_job(
        &self,
        job: &JobRecord,
        items: &[JobItemRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One job of an account with its items in request order.
    async fn job(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<Option<(JobRecord, Vec<JobItemRecord>)>>;
    /// How many jobs there are of each kind and status, every account.
    async fn job_counts(&self) -> Result<Vec<(JobKind, JobStatus, i64)>>;
    /// A page of a store's jobs of one kind, ordered by creation time then id.
    async fn list_jobs(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        filter: &JobFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<JobRecord>>;
    /// Claims the oldest runnable job of `kinds`: SUBMITTED or IN_PROGRESS with no live
    /// lease and, for `serial` kinds, no older unfinished job of that kind on the same store
    /// (such jobs run one at a time per store, in order). Sets the lease, moves SUBMITTED to
    /// IN_PROGRESS, counts the attempt.
    async fn claim_job(
        &self,
        kinds: &[JobKind],
        serial: &[JobKind],
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<JobRecord>>;
    /// Extends a held lease; [`super::CatalogError::LeaseLost`] when another node holds it.
    async fn renew_lease(&self, job_id: &JobId, lease: &Lease) -> Result<()>;
    /// Drops every lease of `owner` (a node that restarted holds none).
    async fn release_leases(&self, owner: &str) -> Result<u64>;
    /// The items of a job, in request order.
    async fn job_items(&self, job_id: &JobId) -> Result<Vec<JobItemRecord>>;
    /// Sets an item's status (counting an attempt when it becomes IN_PROGRESS).
    async fn set_item_status(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        status: ItemStatus,
        message: Option<&str>,
    ) -> Result<()>;
    /// Creates the reference of a finished reference-import item and marks the item
    /// FINISHED, in one transaction.
    async fn finish_reference_item(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        reference: &ReferenceRecord,
        tags: &BTreeMap<String, String>,
    ) -> Result<()>;
    /// Writes the outcome of a read-set item in one transaction: the read set row (inserted
    /// for imports, replaced for uploads) with `tags`, and the item's status and message.
    /// A read set deleted meanwhile keeps its tombstone: nothing is written, and the answer
    /// is [`Finished::Deleted`].
    async fn finish_read_set_item(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        read_set: &ReadSetRecord,
        tags: &BTreeMap<String, String>,
        item: (ItemStatus, Option<&str>),
    ) -> Result<Finished>;
    /// Moves a job to a terminal status and drops its lease.
    async fn finish_job(
        &self,
        job_id: &JobId,
        owner: &str,
        status: JobStatus,
        message: Option<&str>,
        completed_at: Timestamp,
    ) -> Result<()>;
}

/// What the S3 endpoint reads: stores by access point alias, their access point policies,
/// and the objects of a store in key order.
#[async_trait]
pub trait S3Access {
    /// The count of writes that changed what S3 reads (see [`S3Access::s3_changed`]).
    async fn s3_revision(&self) -> Result<u64>;
    /// Counts a write that changed what S3 reads, for every node's S3 lookups.
    async fn s3_changed(&self) -> Result<()>;
    /// The sequence or reference store whose access point has this alias.
    async fn store_by_alias(&self, alias: &str) -> Result<Option<StoreRef>>;
    /// The access point policy of a store; `None` when the store does not exist.
    async fn access_policy(
        &self,
        kind: StoreKind,
        account_id: &AccountId,
        store_id: &StoreId,
    ) -> Result<Option<AccessPolicy>>;
    /// Replaces the access point policy of a store ([`AccessPolicy::Default`] is not
    /// storable: it is the state of a store nobody set a policy on).
    /// [`super::CatalogError::NotFound`] when the store does not exist.
    async fn set_access_policy(
        &self,
        kind: StoreKind,
        account_id: &AccountId,
        store_id: &StoreId,
        policy: &AccessPolicy,
    ) -> Result<()>;
    /// Up to `limit` read sets of a store in ACTIVE, ARCHIVED or ACTIVATING status with ids
    /// greater than or equal to `from_id`, in ascending id order.
    async fn readable_read_sets(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        from_id: &str,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>>;
    /// Up to `limit` ACTIVE references of a store with ids greater than or equal to
    /// `from_id`, in ascending id order.
    async fn readable_references(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        from_id: &str,
        limit: u32,
    ) -> Result<Vec<ReferenceRecord>>;
    /// Records the S3 ETags of files stored before they were written with them.
    async fn set_read_set_etags(&self, read_set_id: &ReadSetId, etags: &FileEtags) -> Result<()>;
    /// Records the S3 ETags of a reference's source and index.
    async fn set_reference_etags(
        &self,
        reference_id: &ReferenceId,
        source: &str,
        index: &str,
    ) -> Result<()>;
    /// Read sets and references (ACTIVE or archived) with a file that has no S3 ETag yet.
    async fn files_missing_etags(
        &self,
        limit: u32,
    ) -> Result<(Vec<ReadSetRecord>, Vec<ReferenceRecord>)>;
}

/// What `seqstore fsck` and the cleanup of interrupted work walk: rows of every account.
#[async_trait]
pub trait Inventory {
    /// Up to `limit` read sets whose files are kept (ACTIVE, ARCHIVED, ACTIVATING), of every
    /// account, with ids greater than `after`, in ascending id order.
    async fn stored_read_sets(&self, after: &str, limit: u32) -> Result<Vec<ReadSetRecord>>;
    /// Up to `limit` ACTIVE references of every account with ids greater than `after`, in
    /// ascending id order.
    async fn stored_references(&self, after: &str, limit: u32) -> Result<Vec<ReferenceRecord>>;
    /// The bytes of every file those read sets and references keep.
    async fn stored_bytes(&self) -> Result<u64>;
    /// One upload, whatever its account, store and status.
    async fn upload_by_id(&self, id: &UploadId) -> Result<Option<UploadRecord>>;
    /// The result ids of job items not done, of jobs not ended: the read sets and
    /// references being written now, which may have files but no row yet.
    async fn pending_results(&self) -> Result<Vec<String>>;
    /// Marks a read set whose files cannot be served UPLOAD_FAILED with `message`, when it
    /// is still ACTIVE, ARCHIVED or ACTIVATING; returns whether it did.
    async fn mark_unreadable(&self, id: &ReadSetId, message: &str) -> Result<bool>;
}

/// Read sets moving between the active and archive tiers (spec D.4, E12).
#[async_trait]
pub trait Lifecycle {
    /// Notes that an ACTIVE read set's files were read at `at`.
    async fn touch_read_set(&self, id: &ReadSetId, at: Timestamp) -> Result<()>;
    /// Up to `limit` ACTIVE read sets of every account whose files were not read since
    /// `idle_since` (nor created since, when never read), that no job moves and no pending
    /// archive item names, oldest access first.
    async fn idle_read_sets(&self, idle_since: Timestamp, limit: u32)
    -> Result<Vec<ReadSetRecord>>;
    /// Claims a read set for the lifecycle job `job_id`: when it is `from` and no job moves
    /// it (or the job that held it has ended), it becomes `to` and the job moves it. A read
    /// set `job_id` already moves (an earlier attempt) is claimed again as it is.
    async fn claim_read_set(
        &self,
        id: &ReadSetId,
        job_id: &JobId,
        from: ReadSetStatus,
        to: ReadSetStatus,
    ) -> Result<Claim>;
    /// Ends `job_id`'s move of a read set and records its item with `outcome`, in one
    /// transaction under the job's lease: the read set becomes `m.to`, still claimed by the
    /// job until [`Lifecycle::release_read_set`] (the job removes the superseded copy first,
    /// so no other job writes those keys meanwhile). Nothing is written, and the answer is
    /// `false`, when the job no longer moves it, it was deleted, or (with `m.idle_since`) its
    /// files were read meanwhile.
    async fn finish_move(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        m: &Move,
        outcome: (ItemStatus, Option<&str>),
    ) -> Result<bool>;
    /// Gives up `job_id`'s claim on a read set and records its item with `outcome`, in one
    /// transaction under the job's lease: the read set goes back to `back_to` unless it was
    /// deleted.
    async fn give_up_move(
        &self,
        job_id: &JobId,
        index: i64,
        owner: &str,
        id: &ReadSetId,
        back_to: ReadSetStatus,
        outcome: (ItemStatus, Option<&str>),
    ) -> Result<()>;
    /// Drops `job_id`'s claim on a read set whose move it recorded.
    async fn release_read_set(&self, id: &ReadSetId, job_id: &JobId) -> Result<()>;
    /// Read sets per account, store and status, with their bytes in each tier.
    async fn usage(&self) -> Result<Vec<UsageRow>>;
}

/// The server processes sharing this catalog (spec E: several nodes, one truth).
#[async_trait]
pub trait Nodes {
    /// Records that `node`, started at `started`, is alive at `now`.
    async fn node_alive(&self, node: &NodeId, started: Timestamp, now: Timestamp) -> Result<()>;
    /// The nodes seen alive since `since`, in id order.
    async fn live_nodes(&self, since: Timestamp) -> Result<Vec<NodeRecord>>;
    /// Forgets `node`: it stopped.
    async fn node_stopped(&self, node: &NodeId) -> Result<()>;
}

/// What the GA4GH endpoint keeps: reference sequences by checksum, bearer tokens and the key
/// that signs ticket URLs.
#[async_trait]
pub trait Ga4gh {
    /// Records the sequences of a reference, replacing any recorded before.
    async fn put_reference_sequences(
        &self,
        reference_id: &ReferenceId,
        sequences: &[SequenceRecord],
    ) -> Result<()>;
    /// The sequences of ACTIVE references whose MD5 or `sha512t24u` is `digest`.
    async fn sequences_by_digest(&self, digest: &str) -> Result<Vec<SequenceRecord>>;
    /// Up to `limit` ACTIVE references with no recorded sequences, oldest first.
    async fn references_without_sequences(&self, limit: u32) -> Result<Vec<ReferenceRecord>>;
    /// The owner of sequence store `store_id`, when there is such a store.
    async fn sequence_store_owner(&self, store_id: &StoreId) -> Result<Option<AccountId>>;
    /// Stores a new token; an existing id is a [`super::CatalogError::AlreadyExists`].
    async fn insert_bearer_token(&self, token: &BearerTokenRecord) -> Result<()>;
    /// Looks a token up by id.
    async fn bearer_token(&self, token_id: &TokenId) -> Result<Option<BearerTokenRecord>>;
    /// Every token, oldest first.
    async fn bearer_tokens(&self) -> Result<Vec<BearerTokenRecord>>;
    /// Deletes a token: [`super::CatalogError::NotFound`] when absent.
    async fn delete_bearer_token(&self, token_id: &TokenId) -> Result<()>;
    /// The ticket signing key: the stored one, or `candidate` when none was stored yet.
    async fn ticket_key(&self, candidate: &str) -> Result<String>;
}
