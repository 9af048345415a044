//! Authentication (s3s verifies SigV4 with secrets from the source) and the coarse access
//! check: signed requests only, read operations only.

use std::sync::Arc;

use async_trait::async_trait;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::error;
use crate::source::{ObjectSource, Principal};

/// The operations this endpoint serves; every other one (all writes) is refused.
const READ_OPERATIONS: &[&str] = &[
    "GetObject",
    "HeadObject",
    "GetObjectTagging",
    "ListObjects",
    "ListObjectsV2",
    "HeadBucket",
];

/// Looks secrets up for s3s' signature checks (SigV4 header, `UNSIGNED-PAYLOAD`, presigned).
pub(crate) struct SourceAuth(pub(crate) Arc<dyn ObjectSource>);

#[async_trait]
impl S3Auth for SourceAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.secret_for(access_key).await {
            Ok(Some(key)) => Ok(SecretKey::from(key.secret_access_key)),
            Ok(None) => Err(S3Error::with_message(
                S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )),
            Err(e) => Err(error::from_source(e)),
        }
    }
}

/// Runs after the signature is verified and the operation is known, before any body is read:
/// refuses anonymous requests and writes, and records the signer's [`Principal`] in the
/// request extensions for the handlers' policy decision.
pub(crate) struct ReadOnlyAccess(pub(crate) Arc<dyn ObjectSource>);

#[async_trait]
impl S3Access for ReadOnlyAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Access Denied: requests must be signed",
            ));
        };
        if !READ_OPERATIONS.contains(&cx.s3_op().name()) {
            return Err(error::read_only());
        }
        let access_key_id = credentials.access_key.clone();
        let key = self
            .0
            .secret_for(&access_key_id)
            .await
            .map_err(error::from_source)?
            .ok_or_else(error::access_denied)?;
        cx.extensions_mut().insert(Principal {
            access_key_id,
            account: key.account,
        });
        Ok(())
    }
}
