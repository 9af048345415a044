//! Reading the user's S3 objects (import sources): `s3://bucket/key` URIs, read as streams
//! from AWS S3 or any S3-compatible service named in the configuration.

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, RetryConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where and how to reach the user's buckets; unset fields fall back to the standard AWS
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3SourceConfig {
    /// Endpoint URL of an S3-compatible service.
    pub endpoint: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Path-style requests (`ENDPOINT/BUCKET/KEY`).
    pub path_style: bool,
}

/// Why a source cannot be read. The message names the URI.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Not an `s3://bucket/key` URI.
    #[error("{0} is not an s3://bucket/key URI")]
    BadUri(String),
    /// The bucket or key does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The credentials may not read it.
    #[error("access to {0} was denied")]
    Denied(String),
    /// The bytes to write could not be read.
    #[error("copying to {uri} failed: {message}")]
    Read {
        /// The destination.
        uri: String,
        /// What failed.
        message: String,
    },
    /// Reading failed in a way a retry may fix (network, throttling, 5xx).
    #[error("reading {uri} failed: {source}")]
    Transient {
        /// The source.
        uri: String,
        /// What failed.
        #[source]
        source: object_store::Error,
    },
}

impl SourceError {
    /// Worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    fn from_store(uri: &str, e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound(uri.to_owned()),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => Self::Denied(uri.to_owned()),
            // S3 answers a missing bucket with 404 NoSuchBucket, which surfaces as a
            // generic error; it is as permanent as a missing key.
            other if other.to_string().contains("NoSuchBucket") => Self::NotFound(uri.to_owned()),
            other => Self::Transient {
                uri: uri.to_owned(),
                source: other,
            },
        }
    }
}

/// An opened source: its size and its bytes.
pub struct SourceObject {
    /// Object size in bytes.
    pub size: u64,
    /// The object's last key segment (its file name).
    pub file_name: String,
    /// The bytes, in order.
    pub stream: BoxStream<'static, Result<Bytes, SourceError>>,
}

impl std::fmt::Debug for SourceObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceObject")
            .field("size", &self.size)
            .field("file_name", &self.file_name)
            .finish()
    }
}

/// A client per bucket, built on first use.
#[derive(Debug)]
pub struct Sources {
    config: S3SourceConfig,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Sources {
    /// Sources reached with `config`.
    pub fn new(config: S3SourceConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Opens `s3://bucket/key` for streaming.
    pub async fn open(&self, uri: &str) -> Result<SourceObject, SourceError> {
        let (bucket, key) = parse_s3_uri(uri).ok_or_else(|| SourceError::BadUri(uri.to_owned()))?;
        let store = self
            .bucket(bucket)
            .map_err(|e| SourceError::from_store(uri, e))?;
        let result = store
            .get(&Path::from(key))
            .await
            .map_err(|e| SourceError::from_store(uri, e))?;
        let size = result.meta.size;
        let owned = uri.to_owned();
        let stream = result
            .into_stream()
            .map(move |c| c.map_err(|e| SourceError::from_store(&owned, e)))
            .boxed();
        let file_name = key.rsplit('/').next().unwrap_or(key).to_owned();
        Ok(SourceObject {
            size,
            file_name,
            stream,
        })
    }

    /// Writes a stream to `s3://bucket/key` (the user's fallback location), as one object.
    pub async fn put<E: std::fmt::Display>(
        &self,
        uri: &str,
        mut stream: BoxStream<'static, Result<Bytes, E>>,
    ) -> Result<u64, SourceError> {
        let (bucket, key) = parse_s3_uri(uri).ok_or_else(|| SourceError::BadUri(uri.to_owned()))?;
        let store = self
            .bucket(bucket)
            .map_err(|e| SourceError::from_store(uri, e))?;
        let upload = store
            .put_multipart(&Path::from(key))
            .await
            .map_err(|e| SourceError::from_store(uri, e))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, 8 * 1024 * 1024);
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(SourceError::Read {
                        uri: uri.to_owned(),
                        message: e.to_string(),
                    });
                }
            };
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(SourceError::from_store(uri, e));
            }
            written += chunk.len() as u64;
            writer.put(chunk);
        }
        writer
            .finish()
            .await
            .map_err(|e| SourceError::from_store(uri, e))?;
        Ok(written)
    }

    fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = buckets.get(bucket) {
            return Ok(store.clone());
        }
        let c = &self.config;
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        };
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .with_virtual_hosted_style_request(!c.path_style);
        if let Some(endpoint) = &c.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &c.region {
            b = b.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&c.access_key_id, &c.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store: Arc<dyn ObjectStore> = Arc::new(b.build()?);
        buckets.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }
}

/// Splits `s3://bucket/key` (key non-empty).
pub fn parse_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty() && !key.ends_with('/')).then_some((bucket, key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_uris() {
        assert_eq!(super::parse_s3_uri("s3://b/k/x.fa"), Some(("b", "k/x.fa")));
        for bad in ["s3://b", "s3://b/", "s3:///k", "http://b/k", "s3://b/dir/"] {
            assert_eq!(super::parse_s3_uri(bad), None, "{bad}");
        }
    }
}
