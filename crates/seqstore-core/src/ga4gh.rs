//! GA4GH htsget (reads by region) and refget (reference sequences by checksum) over the
//! stored read sets and references, under the same access rules as the S3 endpoint: a
//! caller reads through them exactly what the store's access policy lets it `s3:GetObject`.
//!
//! Callers present a bearer token ([`create_token`]) or nothing; nothing is
//! the principal `*`, which only policies granting `"Principal": "*"` let in.

mod htsget;
mod refget;
mod tickets;
mod tokens;

pub use htsget::{Class, MAX_REGIONS, Part, ReadsFormat, ReadsRequest, Region, Ticket};
pub(crate) use refget::sequence_records;
pub use refget::{SequenceId, ServedSequence};
pub use tickets::BlockRef;
pub use tokens::{IssuedToken, MAX_TOKEN_LIFETIME, create_token};

use crate::catalog::StoreKind;
use crate::error::Result;
use crate::ids::{AccountId, StoreId};
use crate::s3_objects::{S3Action, S3Caller};
use crate::{CoreError, Service};

/// Who asks the GA4GH endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ga4ghCaller {
    /// No credentials: the principal `*`.
    Anyone,
    /// A bearer token's account and user.
    Token(S3Caller),
}

impl Ga4ghCaller {
    /// The caller as the access policy sees it: anyone matches only `"Principal": "*"`.
    fn as_s3_caller(&self) -> S3Caller {
        match self {
            Ga4ghCaller::Anyone => S3Caller {
                account_id: AccountId::from(""),
                principal_arn: String::new(),
                signature_version: "Anonymous",
            },
            Ga4ghCaller::Token(caller) => caller.clone(),
        }
    }
}

/// Why a GA4GH request failed; each protocol names these in its own error vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum Ga4ghError {
    /// A bearer token that is malformed, unknown or expired.
    #[error("{0}")]
    InvalidAuthentication(String),
    /// The policy does not let the caller read it.
    #[error("{0}")]
    PermissionDenied(String),
    /// No such read set, store, reference name or sequence.
    #[error("{0}")]
    NotFound(String),
    /// A parameter is malformed or contradicts another.
    #[error("{0}")]
    InvalidInput(String),
    /// Coordinates out of order or beyond the sequence.
    #[error("{0}")]
    InvalidRange(String),
    /// The read set is not in the requested format.
    #[error("{0}")]
    UnsupportedFormat(String),
    /// Anything else: the domain's error.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<crate::catalog::CatalogError> for Ga4ghError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        Self::Core(e.into())
    }
}

impl From<seqstore_blob::KeyError> for Ga4ghError {
    fn from(e: seqstore_blob::KeyError) -> Self {
        Self::Core(e.into())
    }
}

impl Service {
    /// Whether `caller` may `s3:GetObject` the object `key` of the store.
    async fn ga4gh_may_read(
        &self,
        caller: &Ga4ghCaller,
        kind: StoreKind,
        account_id: &AccountId,
        store_id: &StoreId,
        key: &str,
    ) -> Result<bool> {
        let Some(ap) = self.store_of_access_point(account_id, store_id).await? else {
            return Ok(false);
        };
        if ap.kind != kind {
            return Ok(false);
        }
        let ap = crate::AccessPoint {
            revision: self.catalog.s3_revision().await?,
            ..ap
        };
        self.s3_authorize(&ap, &caller.as_s3_caller(), S3Action::GetObject, Some(key))
            .await
    }
}

/// The refusal for a caller the policy does not let read `what`.
fn denied(caller: &Ga4ghCaller, what: &str) -> Ga4ghError {
    match caller {
        Ga4ghCaller::Anyone => Ga4ghError::PermissionDenied(format!(
            "{what} is not public: present a bearer token whose principal the store's access policy allows"
        )),
        Ga4ghCaller::Token(c) => Ga4ghError::PermissionDenied(format!(
            "the store's access policy does not allow {} to read {what}",
            c.principal_arn
        )),
    }
}
