//! A test-only, in-memory `ObjectSource`: it stands in for the domain so that real clients
//! can be pointed at the endpoint. Owner-only policy, like a store's default access policy.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::RwLock;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use seqstore_core::StoreKind;
use seqstore_s3::{
    AccessPoint, ByteStream, ObjectSource, S3Action, S3Caller, S3Object, SigningKey, SourceError,
};

/// Bytes per chunk of a streamed object: small, so that bodies really are streamed in pieces.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Object {
    pub data: Bytes,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    pub archived: bool,
    pub tags: BTreeMap<String, String>,
    /// The stream fails with an I/O error after this many bytes (a disk dying mid-read).
    pub fail_after: Option<usize>,
}

#[derive(Default)]
pub struct MemorySource {
    /// Every name a client may use for an access point.
    names: RwLock<HashMap<String, AccessPoint>>,
    /// `(access point name, key)` → object.
    objects: RwLock<BTreeMap<(String, String), Object>>,
    keys: RwLock<HashMap<String, SigningKey>>,
}

impl MemorySource {
    /// An access point reachable by `alias`, by its ARN, and by `name-account`.
    pub fn add_access_point(&self, alias: &str, arn: &str, owner_account: &str) {
        let (head, name) = arn.rsplit_once('/').unwrap();
        let ap_account = head.split(':').nth(4).unwrap();
        let ap = AccessPoint {
            kind: StoreKind::Sequence,
            account_id: owner_account.to_owned().into(),
            store_id: name.to_owned().into(),
            arn: arn.to_owned(),
            revision: 0,
        };
        let mut names = self.names.write().unwrap();
        for n in [
            alias.to_owned(),
            arn.to_owned(),
            format!("{name}-{ap_account}"),
        ] {
            names.insert(n, ap.clone());
        }
    }

    pub fn add_key(&self, access_key_id: &str, secret: &str, account: &str) {
        self.keys.write().unwrap().insert(
            access_key_id.to_owned(),
            SigningKey {
                secret_access_key: secret.to_owned(),
                account_id: account.to_owned().into(),
                principal_arn: format!("arn:aws:iam::{account}:root"),
            },
        );
    }

    pub fn put(&self, access_point: &str, key: &str, object: Object) {
        self.objects
            .write()
            .unwrap()
            .insert((access_point.to_owned(), key.to_owned()), object);
    }

    fn object(&self, ap: &AccessPoint, key: &str) -> Option<Object> {
        self.objects
            .read()
            .unwrap()
            .get(&(ap.store_id.to_string(), key.to_owned()))
            .cloned()
    }
}

fn info(key: &str, o: &Object) -> S3Object {
    S3Object {
        key: key.to_owned(),
        size: o.data.len() as u64,
        etag: o.etag.clone(),
        last_modified: o.last_modified.into(),
        archived: o.archived,
    }
}

#[async_trait]
impl ObjectSource for MemorySource {
    async fn access_point(&self, bucket: &str) -> Result<Option<AccessPoint>, SourceError> {
        Ok(self.names.read().unwrap().get(bucket).cloned())
    }

    async fn head(&self, ap: &AccessPoint, key: &str) -> Result<Option<S3Object>, SourceError> {
        Ok(self.object(ap, key).map(|o| info(key, &o)))
    }

    async fn get(
        &self,
        ap: &AccessPoint,
        object: &S3Object,
        range: Option<Range<u64>>,
    ) -> Result<Option<ByteStream>, SourceError> {
        let Some(o) = self.object(ap, &object.key) else {
            return Ok(None);
        };
        assert!(!o.archived, "get called for an archived object");
        let range = range.unwrap_or(0..o.data.len() as u64);
        let data = o.data.slice(range.start as usize..range.end as usize);
        let mut chunks: Vec<std::io::Result<Bytes>> = (0..data.len())
            .step_by(CHUNK)
            .map(|at| Ok(data.slice(at..(at + CHUNK).min(data.len()))))
            .collect();
        if let Some(limit) = o.fail_after {
            chunks.truncate(limit.div_ceil(CHUNK));
            chunks.push(Err(std::io::Error::other("blob read failed")));
        }
        Ok(Some(futures::stream::iter(chunks).boxed()))
    }

    async fn list(
        &self,
        ap: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<S3Object>, SourceError> {
        let objects = self.objects.read().unwrap();
        Ok(objects
            .iter()
            .filter(|((name, key), _)| {
                *name == ap.store_id.as_str()
                    && key.starts_with(prefix)
                    && start_after.is_none_or(|after| key.as_str() > after)
            })
            .take(max)
            .map(|((_, key), o)| info(key, o))
            .collect())
    }

    async fn tags(
        &self,
        ap: &AccessPoint,
        key: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        Ok(self.object(ap, key).map(|o| o.tags))
    }

    async fn secret_for(&self, access_key_id: &str) -> Result<Option<SigningKey>, SourceError> {
        Ok(self.keys.read().unwrap().get(access_key_id).cloned())
    }

    async fn authorize(
        &self,
        ap: &AccessPoint,
        caller: &S3Caller,
        _action: S3Action,
        _resource: &str,
    ) -> Result<bool, SourceError> {
        Ok(caller.account_id == ap.account_id)
    }
}
