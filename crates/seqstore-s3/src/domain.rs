//! The [`ObjectSource`] of a running server: seqstore's domain service.

use std::collections::BTreeMap;
use std::ops::Range;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use seqstore_core::{CoreError, S3Action, S3Caller, S3Object, Service, StoreKind};

use crate::source::{
    AccessPoint, Action, ByteStream, KeySecret, ObjectInfo, ObjectSource, Principal, SourceError,
};

/// Serves the stores of a [`Service`]: their access points, stored files and policies.
#[derive(Debug, Clone)]
pub struct ServiceSource {
    service: Service,
}

impl ServiceSource {
    /// The objects of `service`'s stores.
    pub fn new(service: Service) -> Self {
        Self { service }
    }
}

#[async_trait]
impl ObjectSource for ServiceSource {
    async fn access_point(&self, bucket: &str) -> Result<Option<AccessPoint>, SourceError> {
        Ok(self
            .service
            .s3_access_point(bucket)
            .await
            .map_err(source_error)?
            .map(|ap| AccessPoint {
                bucket: bucket.to_owned(),
                handle: handle(&ap),
                owner_account: ap.account_id,
                arn: ap.arn,
            }))
    }

    async fn head(&self, ap: &AccessPoint, key: &str) -> Result<Option<ObjectInfo>, SourceError> {
        let ap = core_access_point(ap)?;
        Ok(self
            .service
            .s3_object(&ap, key)
            .await
            .map_err(source_error)?
            .map(info))
    }

    async fn get(
        &self,
        ap: &AccessPoint,
        object: &ObjectInfo,
        range: Option<Range<u64>>,
    ) -> Result<Option<ByteStream>, SourceError> {
        let ap = core_access_point(ap)?;
        self.service
            .s3_read(&ap, &object.key, range.unwrap_or(0..object.size))
            .await
            .map_err(source_error)
    }

    async fn list(
        &self,
        ap: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<ObjectInfo>, SourceError> {
        let ap = core_access_point(ap)?;
        Ok(self
            .service
            .s3_list(&ap, prefix, start_after, max)
            .await
            .map_err(source_error)?
            .into_iter()
            .map(info)
            .collect())
    }

    async fn tags(
        &self,
        ap: &AccessPoint,
        key: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        let ap = core_access_point(ap)?;
        self.service
            .s3_object_tags(&ap, key)
            .await
            .map_err(source_error)
    }

    async fn secret_for(&self, access_key_id: &str) -> Result<Option<KeySecret>, SourceError> {
        Ok(self
            .service
            .signing_key(access_key_id)
            .await
            .map_err(source_error)?
            .map(|key| KeySecret {
                secret_access_key: key.secret_access_key,
                account: key.account_id,
                principal_arn: key.principal_arn,
            }))
    }

    async fn authorize(
        &self,
        ap: &AccessPoint,
        principal: &Principal,
        action: Action,
        resource: &str,
    ) -> Result<bool, SourceError> {
        let ap = core_access_point(ap)?;
        let caller = S3Caller {
            account_id: principal.account.clone(),
            principal_arn: principal.arn.clone(),
            signature_version: principal.signature_version,
        };
        let (action, subject) = match action {
            Action::GetObject => (S3Action::GetObject, Some(resource)),
            Action::GetObjectTagging => (S3Action::GetObjectTagging, Some(resource)),
            // No `prefix` parameter (or an empty one) is no `s3:prefix` condition key.
            Action::ListBucket => (
                S3Action::ListBucket,
                Some(resource).filter(|p| !p.is_empty()),
            ),
        };
        self.service
            .s3_authorize(&ap, &caller, action, subject)
            .await
            .map_err(source_error)
    }
}

/// `S:<account>:<store id>` (sequence store) or `R:<account>:<store id>` (reference store).
fn handle(ap: &seqstore_core::AccessPoint) -> String {
    let kind = match ap.kind {
        StoreKind::Sequence => 'S',
        StoreKind::Reference => 'R',
    };
    format!("{kind}:{}:{}", ap.account_id, ap.store_id)
}

fn core_access_point(ap: &AccessPoint) -> Result<seqstore_core::AccessPoint, SourceError> {
    let mut parts = ap.handle.splitn(3, ':');
    let (kind, account_id, store_id) = match (parts.next(), parts.next(), parts.next()) {
        (Some("S"), Some(a), Some(s)) => (StoreKind::Sequence, a, s),
        (Some("R"), Some(a), Some(s)) => (StoreKind::Reference, a, s),
        _ => {
            return Err(SourceError::internal(format!(
                "malformed access point handle {:?}",
                ap.handle
            )));
        }
    };
    Ok(seqstore_core::AccessPoint {
        kind,
        account_id: account_id.to_owned(),
        store_id: store_id.to_owned(),
        arn: ap.arn.clone(),
    })
}

fn info(object: S3Object) -> ObjectInfo {
    ObjectInfo {
        key: object.key,
        size: object.size,
        etag: object.etag,
        last_modified: DateTime::<Utc>::from_timestamp_millis(object.last_modified_ms)
            .unwrap_or_default(),
        archived: object.archived,
    }
}

fn source_error(e: CoreError) -> SourceError {
    match e {
        CoreError::Unavailable(_) => SourceError::unavailable(e),
        other => SourceError::internal(other),
    }
}
