//! Plain rows as the catalog stores them; the domain maps them to wire shapes.

/// An access key that can sign requests for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Public id (`AKIA…`-like).
    pub access_key_id: String,
    /// The secret used for SigV4 HMACs.
    pub secret_access_key: String,
    /// The 12-digit account the key acts as.
    pub account_id: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// A sequence store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceStoreRecord {
    /// 10-digit id, unique across accounts.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Store name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// SSE type (`KMS`) when the user supplied an `sseConfig`.
    pub sse_type: Option<String>,
    /// SSE key ARN when supplied.
    pub sse_key_arn: Option<String>,
    /// Fallback S3 location for failed uploads.
    pub fallback_location: Option<String>,
    /// `MD5up`, `SHA256up` or `SHA512up`.
    pub etag_algorithm_family: String,
    /// Store status (`ACTIVE`, ...).
    pub status: String,
    /// Status message.
    pub status_message: Option<String>,
    /// Tag keys propagated to S3 objects.
    pub propagated_set_level_tags: Vec<String>,
    /// S3 access log location.
    pub access_log_location: Option<String>,
    /// The stable S3 access point alias.
    pub s3_access_point_alias: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last update time, ms since the epoch.
    pub updated_at_ms: i64,
}

/// A reference store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceStoreRecord {
    /// 10-digit id, unique across accounts.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Store name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// SSE type when supplied.
    pub sse_type: Option<String>,
    /// SSE key ARN when supplied.
    pub sse_key_arn: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// A remembered answer to a request that carried a `clientToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Account that sent the request.
    pub account_id: String,
    /// Operation name, e.g. `CreateSequenceStore`.
    pub operation: String,
    /// The client's token.
    pub client_token: String,
    /// Digest of the request parameters, to tell a retry from a conflicting reuse.
    pub request_hash: String,
    /// The JSON answer given the first time.
    pub response: String,
    /// When it was recorded, ms since the epoch.
    pub created_at_ms: i64,
}

/// Keyset position for list paging: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// Creation time of the last item, ms.
    pub created_at_ms: i64,
    /// Id of the last item.
    pub id: String,
}

/// Filter of ListSequenceStores; time bounds are inclusive, ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceStoreFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Exact status.
    pub status: Option<String>,
    /// Created at or after.
    pub created_after_ms: Option<i64>,
    /// Created at or before.
    pub created_before_ms: Option<i64>,
    /// Updated at or after.
    pub updated_after_ms: Option<i64>,
    /// Updated at or before.
    pub updated_before_ms: Option<i64>,
}

/// Filter of ListReferenceStores; time bounds are inclusive, ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceStoreFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Created at or after.
    pub created_after_ms: Option<i64>,
    /// Created at or before.
    pub created_before_ms: Option<i64>,
}

/// Kinds of taggable resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A sequence store.
    SequenceStore,
    /// A reference store.
    ReferenceStore,
}

impl ResourceKind {
    /// The stored text, which is also the ARN resource-type word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SequenceStore => "sequenceStore",
            Self::ReferenceStore => "referenceStore",
        }
    }
}

/// The resource whose tags are read or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// Owning account.
    pub account_id: String,
    /// Resource kind.
    pub kind: ResourceKind,
    /// Resource id.
    pub id: String,
}
