//! The seam to the domain: what the S3 endpoint asks of whoever stores the objects.

use std::collections::BTreeMap;
use std::ops::Range;

use async_trait::async_trait;
pub use seqstore_core::{AccessPoint, S3Action, S3Caller, S3Object, SigningKey};

/// An object's bytes, in order, as the domain streams them from its blob store.
pub type ByteStream = futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// Boxed cause of a [`SourceError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything the read-only S3 endpoint needs from the domain.
///
/// Keys are the object keys exactly as clients send them after URL decoding
/// (`<account>/sequenceStore/<storeId>/readSet/<readSetId>/<file name>`, ...); the endpoint
/// never interprets them. Absence is `Ok(None)`, never an error: the endpoint turns it into
/// `NoSuchBucket` / `NoSuchKey`.
#[async_trait]
pub trait ObjectSource: Send + Sync + 'static {
    /// Resolves the bucket part of a request to an access point; `None` answers `NoSuchBucket`.
    ///
    /// `bucket` is what the client addressed: an access point alias (`…-s3alias`), a full
    /// access point ARN (path-style requests that put the ARN in the path), or
    /// `<access point name>-<access point account>` (virtual-hosted requests as botocore builds
    /// them for an ARN bucket and a custom endpoint).
    async fn access_point(&self, bucket: &str) -> Result<Option<AccessPoint>, SourceError>;

    /// Metadata of one object; `None` answers `NoSuchKey`.
    async fn head(&self, ap: &AccessPoint, key: &str) -> Result<Option<S3Object>, SourceError>;

    /// The bytes of an object `head` just described, or of `range` of it (already checked:
    /// non-empty and within its size). The stream must yield exactly that many bytes; it is
    /// dropped unfinished when the client goes away. `None` (the object went away since
    /// `head`) answers `NoSuchKey`.
    ///
    /// Never called for an object whose `head` says `archived`.
    async fn get(
        &self,
        ap: &AccessPoint,
        object: &S3Object,
        range: Option<Range<u64>>,
    ) -> Result<Option<ByteStream>, SourceError>;

    /// Up to `max` objects whose keys start with `prefix` and sort strictly after
    /// `start_after` (when given), in ascending byte order of their keys (UTF-8 bytes, as S3
    /// sorts: in SQL compare with a binary collation, e.g. `COLLATE "C"` on PostgreSQL).
    /// `start_after` may be any string, including ones ending in `char::MAX` that skip past
    /// everything under a prefix.
    ///
    /// Returning fewer than `max` means there are no more.
    async fn list(
        &self,
        ap: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<S3Object>, SourceError>;

    /// The S3 object tags of one object; `None` answers `NoSuchKey`.
    async fn tags(
        &self,
        ap: &AccessPoint,
        key: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError>;

    /// The secret and account of an access key id; `None` answers `InvalidAccessKeyId`.
    async fn secret_for(&self, access_key_id: &str) -> Result<Option<SigningKey>, SourceError>;

    /// The access point's policy decision for an authenticated caller.
    ///
    /// `resource` is the object key for object actions and the requested `s3:prefix`
    /// (`""` when none) for [`S3Action::ListBucket`]. `false` answers `AccessDenied`.
    async fn authorize(
        &self,
        ap: &AccessPoint,
        principal: &S3Caller,
        action: S3Action,
        resource: &str,
    ) -> Result<bool, SourceError>;
}

/// A failure of the domain behind the endpoint (never "not found": that is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Something the client may retry shortly (blob store or catalog unreachable): `503 SlowDown`.
    #[error("object source unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: `500 InternalError`, logged with its chain.
    #[error("object source failed")]
    Internal(#[source] BoxError),
}

impl SourceError {
    /// Wraps a transient failure.
    pub fn unavailable(err: impl Into<BoxError>) -> Self {
        SourceError::Unavailable(err.into())
    }

    /// Wraps any other failure.
    pub fn internal(err: impl Into<BoxError>) -> Self {
        SourceError::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_debug_hides_the_secret() {
        let k = SigningKey {
            secret_access_key: "wJalrXUtnFEMI".into(),
            account_id: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:root".into(),
        };
        let text = format!("{k:?}");
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
        assert!(text.contains("111122223333"), "{text}");
    }

    #[test]
    fn actions_are_iam_names() {
        assert_eq!(S3Action::GetObject.to_string(), "s3:GetObject");
        assert_eq!(S3Action::GetObjectTagging.iam_name(), "s3:GetObjectTagging");
        assert_eq!(S3Action::ListBucket.iam_name(), "s3:ListBucket");
    }
}
