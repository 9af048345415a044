//! The read-only S3-compatible endpoint: stored read set and reference files for S3 clients.
//!
//! Built on [`s3s`], which parses S3 REST requests, verifies SigV4 (header, `UNSIGNED-PAYLOAD`,
//! presigned URLs) and writes S3 XML. This crate adds the read operations (GetObject,
//! HeadObject, ListObjectsV2, ListObjects, GetObjectTagging, HeadBucket) over an
//! [`ObjectSource`] the domain implements, refuses every other operation with `AccessDenied`,
//! and serves it on a TCP listener.
//!
//! ```no_run
//! # async fn run(source: std::sync::Arc<dyn seqstore_s3::ObjectSource>) -> std::io::Result<()> {
//! let options = seqstore_s3::ServiceOptions::new("us-east-1");
//! let service = seqstore_s3::s3_service(source, &options).expect("valid options");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
//! let limits = seqstore_s3::ConnectionLimits::default();
//! seqstore_s3::serve(listener, service, limits, async { /* shutdown signal */ }).await
//! # }
//! ```

mod auth;
mod body;
mod conditions;
mod domain;
mod endpoint;
mod error;
mod gate;
mod handlers;
mod host;
mod listing;
mod server;
mod source;

use std::sync::Arc;

pub use crate::domain::ServiceSource;
pub use crate::endpoint::S3Endpoint;
pub use crate::server::{ConnectionLimits, Metered, MeteredBody, serve};
pub use crate::source::{
    AccessPoint, BoxError, ByteStream, ObjectSource, S3Action, S3Caller, S3Object, SigningKey,
    SourceError,
};

/// How the endpoint is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceOptions {
    /// The region in SigV4 credential scopes; requests signed for another are refused.
    pub region: String,
    /// Base domain of virtual-hosted-style requests (`Host: BUCKET.<base_domain>`); path-style
    /// requests (`/BUCKET/KEY`) work with or without it.
    pub base_domain: Option<String>,
}

impl ServiceOptions {
    /// Path-style addressing only, for `region`.
    pub fn new(region: &str) -> Self {
        Self {
            region: region.to_owned(),
            base_domain: None,
        }
    }

    /// Also accept virtual-hosted-style requests under `base_domain`.
    #[must_use]
    pub fn with_base_domain(mut self, base_domain: &str) -> Self {
        self.base_domain = Some(base_domain.to_owned());
        self
    }
}

/// A [`ServiceOptions`] value that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// The base domain is not a host name (labels of letters, digits and `-`).
    #[error("invalid S3 base domain {0:?}")]
    BaseDomain(String),
    /// The region is empty or not a region name.
    #[error("invalid S3 region {0:?}")]
    Region(String),
}

/// The S3 endpoint as a hyper service: authentication against [`ObjectSource::secret_for`],
/// then the read operations over `source`.
pub fn s3_service(
    source: Arc<dyn ObjectSource>,
    options: &ServiceOptions,
) -> Result<S3Endpoint, OptionsError> {
    let region_ok = !options.region.is_empty()
        && options
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(OptionsError::Region(options.region.clone()));
    }
    let handlers = handlers::ReadOnly {
        source: Arc::clone(&source),
        region: options.region.clone(),
    };
    let keys = Arc::new(auth::KeyCache::default());
    let mut builder = s3s::service::S3ServiceBuilder::new(handlers);
    builder.set_auth(auth::SourceAuth {
        source: Arc::clone(&source),
        keys: Arc::clone(&keys),
    });
    builder.set_access(auth::ReadOnlyAccess { source, keys });
    builder.set_validation(BucketNames);
    if let Some(domain) = &options.base_domain {
        let host = host::BaseDomain::new(domain)
            .ok_or_else(|| OptionsError::BaseDomain(domain.clone()))?;
        builder.set_host(host);
    }
    Ok(S3Endpoint::new(builder.build()))
}

/// S3 bucket names, plus the `arn:…:accesspoint` head of a path-style access point ARN.
struct BucketNames;

impl s3s::validation::NameValidation for BucketNames {
    fn validate_bucket_name(&self, name: &str) -> bool {
        s3s::path::check_bucket_name(name)
            || (name.starts_with("arn:") && name.ends_with(":accesspoint"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::validation::NameValidation;

    #[test]
    fn bucket_names() {
        let v = BucketNames;
        assert!(v.validate_bucket_name(
            "111122223333-1234567-abcdefghijklmnopqrstuvwxyz0123use1-s3alias"
        ));
        assert!(v.validate_bucket_name("arn:aws:s3:us-east-1:999999999999:accesspoint"));
        assert!(!v.validate_bucket_name("Bad_Bucket"));
        assert!(!v.validate_bucket_name("arn:aws:s3:us-east-1:999999999999:bucket"));
    }
}
