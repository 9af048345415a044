//! What can go wrong in the catalog.

use crate::ids::{JobId, UploadId};

/// Work that keeps a store from being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busy {
    /// A job that has not ended.
    Job(JobId),
    /// A multipart upload in progress.
    Upload(UploadId),
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Job(id) => write!(f, "job {id}"),
            Self::Upload(id) => write!(f, "upload {id}"),
        }
    }
}

/// A catalog failure. Domain conditions are variants of their own; whatever else the
/// backend reports keeps its source.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The row to change does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique key (id, alias, access key) is already taken.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The idempotency token was recorded by a concurrent request.
    #[error("client token already used")]
    TokenInUse,
    /// The row still has children (a store with references, ...).
    #[error("{0} is not empty")]
    NotEmpty(&'static str),
    /// Work is still running on the row.
    #[error("{0} is in progress")]
    InFlight(Busy),
    /// A row changed since the caller read it (a part uploaded again during Complete).
    #[error("{0} changed meanwhile")]
    Changed(&'static str),
    /// The job's lease is held by another node now: stop working on it.
    #[error("lease on job {0} lost")]
    LeaseLost(String),
    /// A fixed quota would be exceeded.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// A stored value cannot be read back (corrupt or from a newer version).
    #[error("corrupt catalog value in {column}: {reason}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// Why it could not be read.
        reason: String,
    },
    /// The backend failed (the database, its connection, a migration).
    #[error("catalog backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}
