//! Plain rows as the catalog stores them; the domain maps them to wire shapes.

use crate::ids::{AccountId, JobId, NodeId, ReadSetId, ReferenceId, StoreId, TokenId, UploadId};
use std::collections::BTreeMap;

use seqstore_blob::BlobKey;
use seqstore_formats::etag::EtagFamily;

use crate::time::Timestamp;
use crate::vocabulary::{
    CreationType, EtagAlgorithm, FileType, ItemStatus, JobKind, JobStatus, PartSource,
    ReadSetStatus, ReferenceStatus, SseType, StoreStatus, UploadStatus,
};

/// An access key that can sign requests for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Public id (`AKIA…`-like).
    pub access_key_id: String,
    /// The secret used for SigV4 HMACs.
    pub secret_access_key: String,
    /// The 12-digit account the key acts as.
    pub account_id: AccountId,
    /// The IAM-style user the key belongs to (`arn:…:iam::<account>:user/<name>`); `None`
    /// for the account's root principal.
    pub user_name: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A sequence store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceStoreRecord {
    /// 10-digit id, unique across accounts.
    pub id: StoreId,
    /// Owning account.
    pub account_id: AccountId,
    /// Store name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// SSE type (`KMS`) when the user supplied an `sseConfig`.
    pub sse_type: Option<SseType>,
    /// SSE key ARN when supplied.
    pub sse_key_arn: Option<String>,
    /// Fallback S3 location for failed uploads.
    pub fallback_location: Option<String>,
    /// The ETag family of its read sets.
    pub etag_algorithm_family: EtagFamily,
    /// Store status.
    pub status: StoreStatus,
    /// Status message.
    pub status_message: Option<String>,
    /// Tag keys propagated to S3 objects.
    pub propagated_set_level_tags: Vec<String>,
    /// S3 access log location.
    pub access_log_location: Option<String>,
    /// The stable S3 access point alias.
    pub s3_access_point_alias: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// A reference store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceStoreRecord {
    /// 10-digit id, unique across accounts.
    pub id: StoreId,
    /// Owning account.
    pub account_id: AccountId,
    /// Store name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// SSE type when supplied.
    pub sse_type: Option<SseType>,
    /// SSE key ARN when supplied.
    pub sse_key_arn: Option<String>,
    /// The stable S3 access point alias of the store's files.
    pub s3_access_point_alias: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// One sequence of a reference: where its bases are in the reference's text (its `.fai`
/// line) and the checksums refget serves it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRecord {
    /// The reference's account.
    pub account_id: AccountId,
    /// The reference's store.
    pub reference_store_id: StoreId,
    /// The reference.
    pub reference_id: ReferenceId,
    /// 0-based position of the sequence in the reference.
    pub ordinal: u32,
    /// Sequence name (FASTA header up to the first whitespace).
    pub name: String,
    /// Bases.
    pub length: u64,
    /// Offset of the first base in the (uncompressed) text.
    pub text_offset: u64,
    /// Bases per line.
    pub line_bases: u64,
    /// Bytes per line, terminator included.
    pub line_width: u64,
    /// Lowercase hex MD5 of the uppercased residues.
    pub md5: String,
    /// GA4GH `sha512t24u` of the uppercased residues.
    pub sha512t24u: String,
}

/// A bearer token for the GA4GH endpoint; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerTokenRecord {
    /// The token's public id.
    pub token_id: TokenId,
    /// Lowercase hex SHA-256 of the token's secret.
    pub secret_sha256: String,
    /// The account the token acts as.
    pub account_id: AccountId,
    /// The IAM-style user it acts as; `None` for the account's root principal.
    pub user_name: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// After this the token is refused; `None`: never.
    pub expires_at: Option<Timestamp>,
}

/// A reference genome row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRecord {
    /// 10-digit id, unique across accounts.
    pub id: ReferenceId,
    /// Owning account.
    pub account_id: AccountId,
    /// The reference store.
    pub reference_store_id: StoreId,
    /// Reference name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// MD5 of the source bytes as imported.
    pub md5: String,
    /// Its status.
    pub status: ReferenceStatus,
    /// File name of the stored source (the imported object's name).
    pub source_file_name: String,
    /// Size of the stored source, bytes.
    pub source_size: i64,
    /// Size of the stored `.fai`, bytes.
    pub index_size: i64,
    /// S3 ETag (MD5 hex) of the stored source, written with it.
    pub source_s3_etag: Option<String>,
    /// S3 ETag (MD5 hex) of the stored `.fai`.
    pub index_s3_etag: Option<String>,
    /// The import job that created it.
    pub creation_job_id: Option<JobId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// Filter of ListReferences; time bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Exact md5.
    pub md5: Option<String>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created at or before.
    pub created_before: Option<Timestamp>,
}

/// A background job (import, export, activation, ingestion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// 10-digit id.
    pub id: JobId,
    /// Owning account.
    pub account_id: AccountId,
    /// What the job does.
    pub kind: JobKind,
    /// The store it works on.
    pub store_id: StoreId,
    /// The IAM role the caller named (recorded, not assumed).
    pub role_arn: Option<String>,
    /// Where an export job writes (`s3://bucket/prefix/`).
    pub destination: Option<String>,
    /// Its status.
    pub status: JobStatus,
    /// Why the job failed as a whole.
    pub status_message: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// When it reached a terminal status.
    pub completed_at: Option<Timestamp>,
    /// How many times a worker claimed it.
    pub attempts: i64,
}

/// One source of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobItemRecord {
    /// The job.
    pub job_id: JobId,
    /// Position in the request, from 0.
    pub index: i64,
    /// Its status.
    pub status: ItemStatus,
    /// Why it failed.
    pub status_message: Option<String>,
    /// The source as requested (JSON).
    pub spec: String,
    /// Id of the resource this item creates, allocated when the job is created.
    pub result_id: String,
    /// How many times processing started.
    pub attempts: i64,
}

/// Filter of the List*Jobs operations; time bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Exact status.
    pub status: Option<JobStatus>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created at or before.
    pub created_before: Option<Timestamp>,
}

/// The claim a worker holds on a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The node holding it.
    pub owner: String,
    /// When it lapses unless renewed.
    pub until: Timestamp,
}

/// A read set row. File names and sizes are set once ingestion stored the files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSetRecord {
    /// 10-digit id, unique across accounts.
    pub id: ReadSetId,
    /// Owning account.
    pub account_id: AccountId,
    /// The sequence store.
    pub sequence_store_id: StoreId,
    /// Read set name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Subject id.
    pub subject_id: String,
    /// Sample id.
    pub sample_id: String,
    /// Where the reads came from.
    pub generated_from: Option<String>,
    /// The linked reference (BAM, CRAM).
    pub reference_arn: Option<String>,
    /// Its format.
    pub file_type: FileType,
    /// Its status.
    pub status: ReadSetStatus,
    /// Why ingestion failed.
    pub status_message: Option<String>,
    /// How it was created.
    pub creation_type: CreationType,
    /// The import job or upload that created it.
    pub creation_job_id: Option<String>,
    /// ETag algorithm, e.g. `FASTQ_MD5up`.
    pub etag_algorithm: Option<EtagAlgorithm>,
    /// ETag of source 1.
    pub etag_source1: Option<String>,
    /// ETag of source 2 (paired FASTQ).
    pub etag_source2: Option<String>,
    /// Primary reads.
    pub total_read_count: Option<i64>,
    /// Bases of the primary reads.
    pub total_base_count: Option<i64>,
    /// Stored file name of source 1.
    pub source1_name: Option<String>,
    /// Its size.
    pub source1_size: Option<i64>,
    /// Stored file name of source 2.
    pub source2_name: Option<String>,
    /// Its size.
    pub source2_size: Option<i64>,
    /// Stored index file name (`.bai`, `.crai`).
    pub index_name: Option<String>,
    /// Its size.
    pub index_size: Option<i64>,
    /// S3 ETags (MD5 hex) of the stored files, written with them.
    pub s3_etags: FileEtags,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// When its files were last read (GetReadSet, S3, export, activation); `None`: never
    /// since it was created.
    pub accessed_at: Option<Timestamp>,
    /// Bytes of its archive copy, while it has one (ARCHIVED, ACTIVATING).
    pub archive_size: Option<i64>,
    /// The archive or activation job moving it between tiers.
    pub lifecycle_job_id: Option<JobId>,
}

/// One stored file of a read set, as its row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFile<'a> {
    /// Its stored file name (the last part of its key).
    pub name: &'a str,
    /// Its size.
    pub size: i64,
    /// Its S3 ETag (MD5 hex), once recorded.
    pub s3_etag: Option<&'a str>,
    /// Its HealthOmics ETag (sources only).
    pub etag: Option<&'a str>,
}

impl ReadSetRecord {
    /// Its stored files: source 1, source 2 and the index, those it has.
    pub fn stored_files(&self) -> impl Iterator<Item = StoredFile<'_>> {
        [
            (
                &self.source1_name,
                self.source1_size,
                &self.s3_etags.source1,
                &self.etag_source1,
            ),
            (
                &self.source2_name,
                self.source2_size,
                &self.s3_etags.source2,
                &self.etag_source2,
            ),
            (
                &self.index_name,
                self.index_size,
                &self.s3_etags.index,
                &None,
            ),
        ]
        .into_iter()
        .filter_map(|(name, size, s3_etag, etag)| {
            Some(StoredFile {
                name: name.as_deref()?,
                size: size.unwrap_or(0),
                s3_etag: s3_etag.as_deref(),
                etag: etag.as_deref(),
            })
        })
    }

    /// Bytes of its files as stored in the active tier.
    pub fn stored_size(&self) -> i64 {
        self.stored_files().map(|f| f.size).sum()
    }
}

/// A lifecycle job's claim on a read set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The job moves it (claimed now or by an earlier attempt of the same job).
    Claimed(ReadSetRecord),
    /// It is not in the expected status, or another job moves it: the row as it is.
    Refused(Option<ReadSetRecord>),
}

/// The end of a lifecycle job's move of a read set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The read set.
    pub read_set_id: ReadSetId,
    /// Its status when the move succeeds.
    pub to: ReadSetStatus,
    /// Bytes of the archive copy after the move (`None` when it has none).
    pub archive_size: Option<i64>,
    /// Its new access time, if the move counts as access.
    pub accessed_at: Option<Timestamp>,
    /// The move is given up if its files were read at or after this (archiving).
    pub idle_since: Option<Timestamp>,
}

/// Read sets of one store in one status, and their bytes in each tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// Owning account.
    pub account_id: AccountId,
    /// The store.
    pub store_id: StoreId,
    /// The status.
    pub status: ReadSetStatus,
    /// How many read sets.
    pub read_sets: i64,
    /// Bytes of their files as stored in the active tier (their size, wherever they are).
    pub bytes: i64,
    /// Bytes of their archive copies.
    pub archive_bytes: i64,
}

/// What became of a read set that a job finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Its row and the item's outcome are written.
    Recorded,
    /// It was deleted meanwhile: the tombstone stays and nothing was written.
    Deleted,
}

/// S3 ETags (MD5 hex of the stored bytes) of a read set's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileEtags {
    /// Of `source1_name`.
    pub source1: Option<String>,
    /// Of `source2_name`.
    pub source2: Option<String>,
    /// Of `index_name`.
    pub index: Option<String>,
}

/// The S3 access point policy of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessPolicy {
    /// Never set: the default policy (the owner account reads).
    Default,
    /// Removed by DeleteS3AccessPolicy: no S3 access.
    Removed {
        /// When it was removed.
        updated_at: Timestamp,
    },
    /// Put by the user.
    Document {
        /// The policy JSON as submitted.
        text: String,
        /// When it was put.
        updated_at: Timestamp,
    },
}

/// Which kind of store an access point belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// A sequence store.
    Sequence,
    /// A reference store.
    Reference,
}

/// A store found by its access point alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRef {
    /// Its kind.
    pub kind: StoreKind,
    /// Owning account.
    pub account_id: AccountId,
    /// Store id.
    pub id: StoreId,
}

/// Filter of ListReadSets; time bounds inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSetFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Exact status; without it DELETING and DELETED read sets are hidden.
    pub status: Option<ReadSetStatus>,
    /// Exact reference ARN; `""` matches read sets without a reference.
    pub reference_arn: Option<String>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created at or before.
    pub created_before: Option<Timestamp>,
    /// Exact sample id.
    pub sample_id: Option<String>,
    /// Exact subject id.
    pub subject_id: Option<String>,
    /// Exact generatedFrom.
    pub generated_from: Option<String>,
    /// How they were created.
    pub creation_type: Option<CreationType>,
}

/// A direct multipart upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadRecord {
    /// 10-digit upload id.
    pub id: UploadId,
    /// Owning account.
    pub account_id: AccountId,
    /// The sequence store.
    pub sequence_store_id: StoreId,
    /// The format of its files.
    pub source_file_type: FileType,
    /// Subject id.
    pub subject_id: String,
    /// Sample id.
    pub sample_id: String,
    /// Where the reads came from.
    pub generated_from: Option<String>,
    /// Linked reference.
    pub reference_arn: Option<String>,
    /// Read set name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tags for the read set.
    pub tags: BTreeMap<String, String>,
    /// Its status.
    pub status: UploadStatus,
    /// The read set made by CompleteMultipartReadSetUpload.
    pub read_set_id: Option<ReadSetId>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// One uploaded part, staged in blob storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// The upload.
    pub upload_id: UploadId,
    /// Which file it belongs to.
    pub part_source: PartSource,
    /// 1..10000.
    pub part_number: i64,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the part, base64.
    pub checksum: String,
    /// Where the bytes are staged.
    pub blob_key: BlobKey,
    /// First upload of this part number.
    pub created_at: Timestamp,
    /// Last (re-)upload.
    pub updated_at: Timestamp,
}

/// A remembered answer to a request that carried a `clientToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Account that sent the request.
    pub account_id: AccountId,
    /// Operation name, e.g. `CreateSequenceStore`.
    pub operation: String,
    /// The client's token.
    pub client_token: String,
    /// Digest of the request parameters, to tell a retry from a conflicting reuse.
    pub request_hash: String,
    /// The JSON answer given the first time.
    pub response: String,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// Keyset position for list paging: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// Creation time of the last item.
    pub created_at: Timestamp,
    /// Id of the last item.
    pub id: String,
}

/// Filter of ListSequenceStores; time bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceStoreFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Exact status.
    pub status: Option<StoreStatus>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created at or before.
    pub created_before: Option<Timestamp>,
    /// Updated at or after.
    pub updated_after: Option<Timestamp>,
    /// Updated at or before.
    pub updated_before: Option<Timestamp>,
}

/// Filter of ListReferenceStores; time bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceStoreFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created at or before.
    pub created_before: Option<Timestamp>,
}

/// Kinds of taggable resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A sequence store.
    SequenceStore,
    /// A reference store.
    ReferenceStore,
    /// A reference.
    Reference,
    /// A read set.
    ReadSet,
}

impl ResourceKind {
    /// The stored text, which is also the ARN resource-type word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SequenceStore => "sequenceStore",
            Self::ReferenceStore => "referenceStore",
            Self::Reference => "reference",
            Self::ReadSet => "readSet",
        }
    }
}

/// The resource whose tags are read or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// Owning account.
    pub account_id: AccountId,
    /// Resource kind.
    pub kind: ResourceKind,
    /// Resource id.
    pub id: String,
}

/// A server process sharing the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Its identity (stable across restarts of one data dir).
    pub id: NodeId,
    /// When it last started.
    pub started_at: Timestamp,
    /// When it last said it was alive.
    pub seen_at: Timestamp,
}
