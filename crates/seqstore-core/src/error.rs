//! Domain errors: what went wrong, in words a user can act on.

use crate::catalog::CatalogError;

/// A failed domain operation. The API layer maps each variant to one wire error.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input breaks a rule beyond the model's constraints.
    #[error("{0}")]
    Validation(String),
    /// The resource does not exist (or belongs to another account).
    #[error("{0}")]
    NotFound(String),
    /// The resource's state forbids the operation.
    #[error("{0}")]
    Conflict(String),
    /// A quota would be exceeded.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The requested part or byte range lies outside the file.
    #[error("{0}")]
    RangeNotSatisfiable(String),
    /// The operation exists in the model but not in this version.
    #[error("{0}")]
    NotSupported(String),
    /// Not ready yet (e.g. a file's S3 ETag is still being backfilled): retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// A blob key could not be formed (a stored name that would escape the layout).
    #[error("internal error")]
    Key(#[from] seqstore_blob::KeyError),
    /// The catalog failed unexpectedly.
    #[error("internal error")]
    Catalog(#[from] CatalogError),
    /// Something else failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of domain calls.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
