//! What can go wrong in the catalog.

/// A catalog failure. Domain conditions are variants of their own; everything the
/// database reports otherwise keeps its source.
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
    /// The job's lease is held by another node now: stop working on it.
    #[error("lease on job {0} lost")]
    LeaseLost(String),
    /// A fixed quota would be exceeded.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// The catalog URL names no supported backend.
    #[error("unsupported catalog url {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// A stored value cannot be read back (corrupt or from a newer version).
    #[error("corrupt catalog value in {column}: {reason}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// Why it could not be read.
        reason: String,
    },
    /// Applying migrations failed.
    #[error("catalog migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("catalog database error")]
    Database(#[from] sqlx::Error),
}

impl CatalogError {
    /// True for a unique-constraint violation reported by the database.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}
