//! Authentication (s3s verifies SigV4 with secrets from the source) and the coarse access
//! check: signed requests only, read operations only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::error;
use crate::source::{ObjectSource, S3Caller, SigningKey};

/// The operations this endpoint serves; every other one (all writes) is refused.
const READ_OPERATIONS: &[&str] = &[
    "GetObject",
    "HeadObject",
    "GetObjectTagging",
    "ListObjects",
    "ListObjectsV2",
    "HeadBucket",
];

/// How long a looked-up key is reused before the source is asked again. Every signed request
/// needs its key twice (the signature, then the access check); keys never change, they can
/// only be deleted (`seqstore keys delete`), and then they stop working within this time.
const KEY_TTL: Duration = Duration::from_secs(1);

/// The keys the source knew lately: one lookup serves a key's requests for [`KEY_TTL`].
#[derive(Default)]
pub(crate) struct KeyCache(Mutex<HashMap<String, (Instant, SigningKey)>>);

impl KeyCache {
    /// The key, from the cache while fresh, else from the source (`None`: unknown key).
    async fn get(
        &self,
        source: &dyn ObjectSource,
        access_key_id: &str,
    ) -> S3Result<Option<SigningKey>> {
        if let Some(key) = self.fresh(access_key_id) {
            return Ok(Some(key));
        }
        let found = source
            .secret_for(access_key_id)
            .await
            .map_err(error::from_source)?;
        if let Some(key) = &found {
            self.remember(access_key_id, key.clone(), Instant::now());
        }
        Ok(found)
    }

    fn remember(&self, access_key_id: &str, key: SigningKey, at: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(access_key_id.to_owned(), (at, key));
    }

    fn fresh(&self, access_key_id: &str) -> Option<SigningKey> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(access_key_id)
            .filter(|(at, _)| at.elapsed() < KEY_TTL)
            .map(|(_, key)| key.clone())
    }
}

/// Looks secrets up for s3s' signature checks (SigV4 header, `UNSIGNED-PAYLOAD`, presigned).
pub(crate) struct SourceAuth {
    pub(crate) source: Arc<dyn ObjectSource>,
    pub(crate) keys: Arc<KeyCache>,
}

#[async_trait]
impl S3Auth for SourceAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.keys.get(self.source.as_ref(), access_key).await? {
            Some(key) => Ok(SecretKey::from(key.secret_access_key)),
            None => Err(S3Error::with_message(
                S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )),
        }
    }
}

/// Runs after the signature is verified and the operation is known, before any body is read:
/// refuses anonymous requests and writes, and records the signer's [`S3Caller`] in the
/// request extensions for the handlers' policy decision.
pub(crate) struct ReadOnlyAccess {
    pub(crate) source: Arc<dyn ObjectSource>,
    pub(crate) keys: Arc<KeyCache>,
}

#[async_trait]
impl S3Access for ReadOnlyAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = READ_OPERATIONS
            .iter()
            .copied()
            .find(|name| *name == cx.s3_op().name());
        crate::endpoint::note_operation(operation.unwrap_or("NotReadOnly"));
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
            .keys
            .get(self.source.as_ref(), &access_key_id)
            .await?
            .ok_or_else(error::access_denied)?;
        cx.extensions_mut().insert(S3Caller {
            account_id: key.account_id,
            principal_arn: key.principal_arn,
            // `gate` refuses SigV2 before s3s runs: every request here is SigV4.
            signature_version: "AWS4-HMAC-SHA256",
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_reused_while_fresh() {
        let keys = KeyCache::default();
        let key = |account: &str| SigningKey {
            secret_access_key: "secret".into(),
            account_id: account.into(),
            principal_arn: format!("arn:aws:iam::{account}:root"),
        };
        assert_eq!(keys.fresh("AKID"), None);
        keys.remember("AKID", key("111122223333"), Instant::now());
        assert_eq!(keys.fresh("AKID"), Some(key("111122223333")));
        let stale = Instant::now() - KEY_TTL - Duration::from_secs(1);
        keys.remember("OLD", key("444455556666"), stale);
        assert_eq!(
            keys.fresh("OLD"),
            None,
            "a key older than the TTL is looked up again"
        );
    }
}
