//! Domain errors: what went wrong, in words a user can act on.

use crate::catalog::{Busy, CatalogError};

/// A failed domain operation. The API layer maps each variant to one wire error.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input breaks a rule beyond the model's constraints.
    #[error("{message}")]
    Validation {
        /// The input member at fault (`parts.3`, `sources.0.tags`, `nextToken`).
        field: String,
        /// What is wrong, in full.
        message: String,
    },
    /// The resource does not exist (or belongs to another account).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not use what it named (a bucket no grant gives its account).
    #[error("{0}")]
    AccessDenied(String),
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
    /// Reading or writing stored bytes failed.
    #[error("internal error {doing}")]
    Storage {
        /// What was being done (`reading read set 1234`).
        doing: String,
        /// The blob layer's error.
        #[source]
        source: seqstore_blob::BlobError,
    },
    /// A value the domain keeps as JSON (a job item spec, a remembered answer) could not be
    /// written or read back.
    #[error("internal error with the JSON of {what}")]
    Json {
        /// Which value.
        what: &'static str,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A domain name has no counterpart on the wire (the vocabulary and the model
    /// disagree).
    #[error("internal error: {0:?} has no wire name")]
    Unmapped(String),
    /// Every fresh random id collided with a taken one.
    #[error("internal error: could not allocate a unique {0} id")]
    NoFreeId(&'static str),
    /// A client token's recorded answer vanished between recording and replay.
    #[error("internal error: the recorded answer of {0} vanished")]
    ReplayLost(&'static str),
}

impl CoreError {
    /// A [`CoreError::Validation`] of `field`.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`CoreError::Conflict`]: a `store` cannot go while `busy` works on it.
    pub(crate) fn busy(store: &str, id: &str, busy: &Busy) -> Self {
        let advice = match busy {
            Busy::Upload(_) => "complete or abort it first",
            Busy::Job(_) => "delete the store once it has finished",
        };
        Self::Conflict(format!("{store} {id} has {busy} in progress; {advice}"))
    }

    /// A [`CoreError::Storage`] failure while `doing` something.
    pub(crate) fn storage(
        doing: impl Into<String>,
    ) -> impl FnOnce(seqstore_blob::BlobError) -> Self {
        let doing = doing.into();
        move |source| Self::Storage { doing, source }
    }

    /// A [`CoreError::Json`] failure of `what`.
    pub(crate) fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Json { what, source }
    }
}

/// An error with its sources, `outer: inner: innermost`, for logs.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// Result of domain calls.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
