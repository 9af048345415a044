//! Authentication (s3s verifies SigV4 with secrets from the source) and the coarse access
//! check: signed requests only, read operations only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// The account and principal ARN of every access key whose secret was looked up, so that the
/// access check after the signature check needs no second lookup. Only keys the source knows
/// get in, and who a key acts as never changes, so the map stays small and never goes stale.
#[derive(Default)]
pub(crate) struct KeyAccounts(Mutex<HashMap<String, (String, String)>>);

impl KeyAccounts {
    fn remember(&self, access_key_id: &str, account: &str, arn: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map
            .get(access_key_id)
            .is_none_or(|(a, p)| a != account || p != arn)
        {
            map.insert(
                access_key_id.to_owned(),
                (account.to_owned(), arn.to_owned()),
            );
        }
    }

    fn account(&self, access_key_id: &str) -> Option<(String, String)> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(access_key_id).cloned()
    }
}

/// Looks secrets up for s3s' signature checks (SigV4 header, `UNSIGNED-PAYLOAD`, presigned).
pub(crate) struct SourceAuth {
    pub(crate) source: Arc<dyn ObjectSource>,
    pub(crate) accounts: Arc<KeyAccounts>,
}

#[async_trait]
impl S3Auth for SourceAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.source.secret_for(access_key).await {
            Ok(Some(key)) => {
                self.accounts
                    .remember(access_key, &key.account, &key.principal_arn);
                Ok(SecretKey::from(key.secret_access_key))
            }
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
pub(crate) struct ReadOnlyAccess {
    pub(crate) source: Arc<dyn ObjectSource>,
    pub(crate) accounts: Arc<KeyAccounts>,
}

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
        let (account, arn) = match self.accounts.account(&access_key_id) {
            Some(known) => known,
            None => {
                let key = self
                    .source
                    .secret_for(&access_key_id)
                    .await
                    .map_err(error::from_source)?
                    .ok_or_else(error::access_denied)?;
                (key.account, key.principal_arn)
            }
        };
        let signature_version = signature_version(cx.headers(), cx.uri());
        cx.extensions_mut().insert(Principal {
            access_key_id,
            account,
            arn,
            signature_version,
        });
        Ok(())
    }
}

/// `AWS` for a SigV2 request (`Authorization: AWS …` or a `Signature` query without
/// `X-Amz-Algorithm`), else `AWS4-HMAC-SHA256`: the values of `s3:signatureversion`.
fn signature_version(headers: &hyper::HeaderMap, uri: &hyper::Uri) -> &'static str {
    let v2_header = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    let v2_query = uri.query().is_some_and(|q| {
        let has = |name: &str| {
            q.split('&')
                .any(|pair| pair.split('=').next() == Some(name))
        };
        has("AWSAccessKeyId") && !has("X-Amz-Algorithm")
    });
    if v2_header || v2_query {
        "AWS"
    } else {
        "AWS4-HMAC-SHA256"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_versions() {
        let uri = |u: &str| u.parse::<hyper::Uri>().unwrap();
        let auth = |v: &'static str| {
            let mut h = hyper::HeaderMap::new();
            h.insert(hyper::header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        let none = hyper::HeaderMap::new();
        let v4 = "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/s3/aws4_request, …";
        assert_eq!(
            signature_version(&auth(v4), &uri("/b/k")),
            "AWS4-HMAC-SHA256"
        );
        assert_eq!(
            signature_version(&auth("AWS AKID:c2ln"), &uri("/b/k")),
            "AWS"
        );
        assert_eq!(
            signature_version(
                &none,
                &uri("/b/k?AWSAccessKeyId=AKID&Expires=1&Signature=x")
            ),
            "AWS"
        );
        assert_eq!(
            signature_version(
                &none,
                &uri("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x")
            ),
            "AWS4-HMAC-SHA256"
        );
    }

    #[test]
    fn key_accounts_remember_the_latest_account() {
        let accounts = KeyAccounts::default();
        let known = |a: &str, p: &str| Some((a.to_owned(), p.to_owned()));
        assert_eq!(accounts.account("AKID"), None);
        accounts.remember("AKID", "111122223333", "arn:aws:iam::111122223333:root");
        assert_eq!(
            accounts.account("AKID"),
            known("111122223333", "arn:aws:iam::111122223333:root")
        );
        accounts.remember("AKID", "444455556666", "arn:aws:iam::444455556666:user/a");
        assert_eq!(
            accounts.account("AKID"),
            known("444455556666", "arn:aws:iam::444455556666:user/a")
        );
    }
}
