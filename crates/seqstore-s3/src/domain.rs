//! The [`ObjectSource`] of a running server: seqstore's domain service.

use std::collections::BTreeMap;
use std::ops::Range;

use async_trait::async_trait;
use seqstore_core::{CoreError, Service};

use crate::source::{
    AccessPoint, ByteStream, ObjectSource, S3Action, S3Caller, S3Object, SigningKey, SourceError,
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
        self.service
            .s3_access_point(bucket)
            .await
            .map_err(source_error)
    }

    async fn head(&self, ap: &AccessPoint, key: &str) -> Result<Option<S3Object>, SourceError> {
        self.service.s3_object(ap, key).await.map_err(source_error)
    }

    async fn get(
        &self,
        ap: &AccessPoint,
        object: &S3Object,
        range: Option<Range<u64>>,
    ) -> Result<Option<ByteStream>, SourceError> {
        self.service
            .s3_read(ap, &object.key, range.unwrap_or(0..object.size))
            .await
            .map_err(source_error)
    }

    async fn list(
        &self,
        ap: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<S3Object>, SourceError> {
        self.service
            .s3_list(ap, prefix, start_after, max)
            .await
            .map_err(source_error)
    }

    async fn tags(
        &self,
        ap: &AccessPoint,
        key: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        self.service
            .s3_object_tags(ap, key)
            .await
            .map_err(source_error)
    }

    async fn secret_for(&self, access_key_id: &str) -> Result<Option<SigningKey>, SourceError> {
        self.service
            .signing_key(access_key_id)
            .await
            .map_err(source_error)
    }

    async fn authorize(
        &self,
        ap: &AccessPoint,
        caller: &S3Caller,
        action: S3Action,
        resource: &str,
    ) -> Result<bool, SourceError> {
        // No `prefix` parameter (or an empty one) is no `s3:prefix` condition key.
        let subject = match action {
            S3Action::GetObject | S3Action::GetObjectTagging => Some(resource),
            S3Action::ListBucket => Some(resource).filter(|p| !p.is_empty()),
        };
        self.service
            .s3_authorize(ap, caller, action, subject)
            .await
            .map_err(source_error)
    }
}

fn source_error(e: CoreError) -> SourceError {
    match e {
        CoreError::Unavailable(_) => SourceError::unavailable(e),
        other => SourceError::internal(other),
    }
}
