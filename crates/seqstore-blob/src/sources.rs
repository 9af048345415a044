//! Reading the user's S3 objects (import sources): `s3://bucket/key` URIs, read as streams
//! from AWS S3 or any S3-compatible service named in the configuration, the key exactly as
//! written.

mod addressing;
mod get;
mod local;

use addressing::{Service, encode_key, has_dot_segment};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use get::{Reader, Target};
pub use local::{LocalRoots, file_path};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{ClientOptions, HttpConnector, ReqwestConnector};
use object_store::path::Path;
use object_store::{ObjectStore, RetryConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where and how to reach the user's buckets; unset fields fall back to the standard AWS
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT`, ...).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3SourceConfig {
    /// Endpoint URL of an S3-compatible service.
    pub endpoint: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Path-style requests (`ENDPOINT/BUCKET/KEY`) when `Some(true)`, virtual-hosted
    /// (`BUCKET.ENDPOINT/KEY`) when `Some(false)`; `None` decides as botocore does: path
    /// style for an endpoint whose host is an IP address or `localhost`.
    pub path_style: Option<bool>,
}

impl std::fmt::Debug for S3SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3SourceConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Why a source cannot be read (or a fallback copy written). The message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Not an `s3://bucket/key` (or `file:///path`) URI.
    #[error("{0} is not an s3://bucket/key or file:///path URI")]
    BadUri(String),
    /// A local path outside every `[sources.local] roots` directory (or leaving it through
    /// a symbolic link).
    #[error("outside the [sources.local] roots: {0}")]
    NotUnderRoots(String),
    /// No such local file.
    #[error("file not found: {0}")]
    FileNotFound(String),
    /// The service has no such bucket.
    #[error("bucket '{bucket}' not found at {service}")]
    BucketNotFound {
        /// The bucket.
        bucket: String,
        /// The endpoint asked.
        service: String,
    },
    /// The bucket has no such key.
    #[error("key '{key}' not found in bucket '{bucket}'")]
    KeyNotFound {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The credentials may not read (or write) it.
    #[error("access denied {action} {uri}{}", code_note(code.as_deref()))]
    Denied {
        /// `reading` or `writing`.
        action: &'static str,
        /// The object.
        uri: String,
        /// S3's error code.
        code: Option<String>,
    },
    /// The bucket lives in another region than the one configured.
    #[error("bucket '{bucket}' is in region {actual}, not {configured} (sources.s3.region)")]
    WrongRegion {
        /// The bucket.
        bucket: String,
        /// Its region, as S3 reports it.
        actual: String,
        /// The configured region.
        configured: String,
    },
    /// No request can name this key exactly.
    #[error("key '{key}' in bucket '{bucket}' cannot be requested as is: {why}")]
    UnsendableKey {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Which part of it.
        why: &'static str,
    },
    /// The object was replaced while it was being read.
    #[error("{0} changed while it was being read")]
    Changed(String),
    /// The service refused the request for another reason.
    #[error("reading {uri} failed: {reason}")]
    Failed {
        /// The source.
        uri: String,
        /// What the service answered.
        reason: String,
    },
    /// The `[sources.s3]` configuration cannot be used.
    #[error("the S3 source configuration is unusable: {0}")]
    Setup(String),
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
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn code_note(code: Option<&str>) -> String {
    match code {
        Some(code) if code != "AccessDenied" => format!(" ({code})"),
        _ => String::new(),
    }
}

impl SourceError {
    /// Worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
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

/// The user's S3 as configured: exact-key reads, and writes through a client per bucket;
/// and the local directories sources may come from.
pub struct Sources {
    config: S3SourceConfig,
    local: LocalRoots,
    /// Built once; why not, when the configuration cannot be used.
    client: Result<Client, String>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("config", &self.config)
            .field("service", &self.client.as_ref().map(|c| &c.service))
            .finish_non_exhaustive()
    }
}

struct Client {
    service: Service,
    reader: Reader,
    /// Credentials and region, for the write clients.
    builder: AmazonS3Builder,
    writers: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Sources {
    /// Sources reached with `config`.
    pub fn new(config: S3SourceConfig) -> Self {
        let client = Client::new(&config);
        Self {
            config,
            local: LocalRoots::default(),
            client,
        }
    }

    /// Also reads `file:///path` sources under `roots`.
    #[must_use]
    pub fn with_local_roots(mut self, roots: LocalRoots) -> Self {
        self.local = roots;
        self
    }

    /// The directories local sources may come from.
    pub fn local_roots(&self) -> &LocalRoots {
        &self.local
    }

    /// Opens `s3://bucket/key` (the key requested exactly as written) or `file:///path` (under
    /// a local root) for streaming.
    pub async fn open(&self, uri: &str) -> Result<SourceObject, SourceError> {
        if uri.starts_with("file://") {
            return self.local.open(uri).await;
        }
        let (bucket, key) = parse_s3_uri(uri).ok_or_else(|| SourceError::BadUri(uri.to_owned()))?;
        let client = self.client()?;
        if has_dot_segment(key) {
            return Err(SourceError::UnsendableKey {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                why: "URL parsing would resolve its '.' or '..' segment away",
            });
        }
        let path_style = client.service.path_style(bucket, self.config.path_style);
        let target = Target {
            uri: uri.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            url: format!(
                "{}/{}",
                client.service.bucket_url(bucket, path_style),
                encode_key(key)
            ),
            service: client.service.describe(),
        };
        let (size, stream) = client.reader.open(target).await?;
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
        let client = self.client()?;
        // `object_store` writes the keys its `Path` can hold; refuse the others rather
        // than write somewhere else.
        let path = Path::parse(key)
            .ok()
            .filter(|p| p.as_ref() == key)
            .ok_or_else(|| SourceError::UnsendableKey {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                why: "empty, '.' or '..' segments cannot be written",
            })?;
        let failed = |e: object_store::Error| client.write_error(uri, bucket, e);
        let store = client
            .writer(bucket, self.config.path_style)
            .map_err(failed)?;
        let upload = store.put_multipart(&path).await.map_err(failed)?;
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
            writer.wait_for_capacity(4).await.map_err(failed)?;
            written += chunk.len() as u64;
            writer.put(chunk);
        }
        writer.finish().await.map_err(failed)?;
        Ok(written)
    }

    fn client(&self) -> Result<&Client, SourceError> {
        self.client
            .as_ref()
            .map_err(|why| SourceError::Setup(why.clone()))
    }
}

impl Client {
    fn new(config: &S3SourceConfig) -> Result<Self, String> {
        let mut builder = AmazonS3Builder::from_env();
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let region = [AmazonS3ConfigKey::Region, AmazonS3ConfigKey::DefaultRegion]
            .iter()
            .find_map(|k| builder.get_config_value(k))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        let service = Service::new(endpoint.as_deref(), &region).ok_or_else(|| {
            format!(
                "endpoint {:?} is not an http(s)://host[:port] URL",
                endpoint.unwrap_or_default()
            )
        })?;
        // The bucket only names this client; it is used for its credential chain.
        let credentials = builder
            .clone()
            .with_bucket_name("seqstore-sources")
            .build()
            .map_err(|e| e.to_string())?
            .credentials()
            .clone();
        // No overall timeout: a multi-gigabyte body may take long; reads time out per chunk.
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_timeout_disabled();
        let http = ReqwestConnector::default()
            .connect(&options)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            reader: Reader::new(http, credentials, &region),
            service,
            builder,
            writers: Mutex::new(HashMap::new()),
        })
    }

    /// The write client of `bucket`, addressed as reads are.
    fn writer(
        &self,
        bucket: &str,
        path_style: Option<bool>,
    ) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
        let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = writers.get(bucket) {
            return Ok(store.clone());
        }
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        };
        let url = self
            .service
            .bucket_url(bucket, self.service.path_style(bucket, path_style));
        // With virtual-hosted style on, `object_store` takes the endpoint as the bucket's
        // URL as is: this way it addresses the bucket exactly as reads do.
        let store: Arc<dyn ObjectStore> = Arc::new(
            self.builder
                .clone()
                .with_bucket_name(bucket)
                .with_retry(retry)
                .with_allow_http(url.starts_with("http://"))
                .with_endpoint(url)
                .with_virtual_hosted_style_request(true)
                .build()?,
        );
        writers.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    fn write_error(&self, uri: &str, bucket: &str, e: object_store::Error) -> SourceError {
        match e {
            object_store::Error::NotFound { .. } => SourceError::BucketNotFound {
                bucket: bucket.to_owned(),
                service: self.service.describe(),
            },
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => SourceError::Denied {
                action: "writing",
                uri: uri.to_owned(),
                code: None,
            },
            // S3 answers a missing bucket with 404 NoSuchBucket, which surfaces as a
            // generic error; it is as permanent as a missing key.
            other if other.to_string().contains("NoSuchBucket") => SourceError::BucketNotFound {
                bucket: bucket.to_owned(),
                service: self.service.describe(),
            },
            other => SourceError::Transient {
                uri: uri.to_owned(),
                source: Box::new(other),
            },
        }
    }
}

/// Splits `s3://bucket/key`: the key is everything after the `/` that ends the bucket,
/// byte for byte (`//`, `%`, a leading `/` included). A key ending in `/` names a folder,
/// not a file.
pub fn parse_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let bucket = bucket_of(uri)?;
    let key = uri.get("s3://".len() + bucket.len() + 1..)?;
    (!key.is_empty() && !key.ends_with('/')).then_some((bucket, key))
}

/// The bucket of `s3://bucket[/...]`, when it holds only the characters S3 bucket names
/// may (so it cannot change where a request goes).
pub fn bucket_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("s3://")?;
    let bucket = rest.split_once('/').map_or(rest, |(bucket, _)| bucket);
    let bucket_ok = !bucket.is_empty()
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    bucket_ok.then_some(bucket)
}

#[cfg(test)]
mod tests;
