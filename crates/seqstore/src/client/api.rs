//! SigV4-signed calls to the omics endpoint: JSON operations, part uploads and part downloads.

use super::profile::Connection;
use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use seqstore_auth::{Signer, UriEncoding};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest answer body read into memory (a list page of 100 items is far smaller).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Attempts per request when the server is unreachable, throttles or fails (5xx).
const ATTEMPTS: u32 = 4;

/// An error the service answered with: its `x-amzn-ErrorType` and message.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// `ValidationException`, `ResourceNotFoundException`, ...
    pub kind: String,
    /// The body's `message`.
    pub message: String,
}

/// A client of one omics endpoint.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    connection: Connection,
    /// `host[:port]` of the endpoint, signed as the `host` header.
    host: String,
    /// `scheme://host[:port]`, what every request's URL starts with.
    origin: String,
    /// The endpoint's own path (usually empty), put before every operation's path.
    base_path: String,
}

/// Encodes one path segment or query value (SigV4 `UriEncode`, as the signer does).
pub fn encode(value: &str) -> String {
    seqstore_auth::uri_encode(value.as_bytes())
}

impl Api {
    /// A client for `connection`.
    pub fn new(connection: Connection) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(&connection.endpoint)
            .with_context(|| format!("endpoint {:?}", connection.endpoint))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => anyhow::bail!("endpoint {:?} has no host", connection.endpoint),
        };
        let origin = format!("{}://{host}", url.scheme());
        let base_path = url.path().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(300))
            .user_agent(concat!("seqstore-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            connection,
            host,
            origin,
            base_path,
        })
    }

    /// Calls a JSON operation: `body` is sent as JSON (none: an empty body).
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        let body = match body {
            Some(value) => Bytes::from(serde_json::to_vec(&value)?),
            None => Bytes::new(),
        };
        let response = self.send(method, path, query, body, false).await?;
        let bytes = read_answer(response).await?;
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(bytes).context("the server's answer is not the expected JSON")
    }

    /// Every item of a paged list operation (`field` of each page), following `nextToken`.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
        field: &str,
    ) -> anyhow::Result<Vec<T>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut previous: Option<String> = None;
        loop {
            let mut query = vec![("maxResults", "100".to_owned())];
            if let Some(t) = token.take() {
                query.push(("nextToken", t));
            }
            let mut page: serde_json::Value = self
                .json(Method::POST, path, &query, Some(body.clone()))
                .await?;
            if let Some(list) = page.get_mut(field).map(serde_json::Value::take) {
                items.extend(
                    serde_json::from_value::<Vec<T>>(list)
                        .with_context(|| format!("the server's {field}"))?,
                );
            }
            match page.get("nextToken").and_then(|t| t.as_str()) {
                Some(t) if previous.as_deref() == Some(t) => {
                    anyhow::bail!("the server answered {path} with the same nextToken twice")
                }
                Some(t) => {
                    previous = Some(t.to_owned());
                    token = Some(t.to_owned());
                }
                None => return Ok(items),
            }
        }
    }

    /// UploadReadSetPart: sends the part unsigned (as botocore does) and returns its checksum.
    pub async fn upload_part(
        &self,
        store: &str,
        upload_id: &str,
        source: &str,
        number: u64,
        bytes: Bytes,
    ) -> anyhow::Result<String> {
        #[derive(serde::Deserialize)]
        struct Answer {
            checksum: String,
        }
        let path = format!(
            "/sequencestore/{}/upload/{}/part",
            encode(store),
            encode(upload_id)
        );
        let query = [
            ("partSource", source.to_owned()),
            ("partNumber", number.to_string()),
        ];
        let response = self.send(Method::PUT, &path, &query, bytes, true).await?;
        let answer: Answer = serde_json::from_slice(&read_answer(response).await?)
            .context("UploadReadSetPart answered without a checksum")?;
        Ok(answer.checksum)
    }

    /// GetReadSet: the response of one part, to be read as a stream.
    pub async fn read_set_part(
        &self,
        store: &str,
        read_set: &str,
        file: &str,
        number: u64,
    ) -> anyhow::Result<reqwest::Response> {
        let path = format!(
            "/sequencestore/{}/readset/{}",
            encode(store),
            encode(read_set)
        );
        let query = [
            ("file", file.to_owned()),
            ("partNumber", number.to_string()),
        ];
        self.send(Method::GET, &path, &query, Bytes::new(), false)
            .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Bytes,
        unsigned_body: bool,
    ) -> anyhow::Result<reqwest::Response> {
        let path = format!("{}{path}", self.base_path);
        let raw_query = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = if raw_query.is_empty() {
            format!("{}{path}", self.origin)
        } else {
            format!("{}{path}?{raw_query}", self.origin)
        };
        let payload_hash = if unsigned_body {
            seqstore_auth::UNSIGNED_PAYLOAD.to_owned()
        } else {
            hex::encode(Sha256::digest(&body))
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let headers = self.signed_headers(&method, &path, &raw_query, &payload_hash)?;
            let result = self
                .http
                .request(method.clone(), &url)
                .headers(headers)
                .body(body.clone())
                .send()
                .await;
            let retry = match result {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let error = service_error(response).await;
                    if attempt >= ATTEMPTS || !(error.status >= 500 || error.status == 429) {
                        return Err(error.into());
                    }
                    anyhow::Error::from(error)
                }
                Err(e) if attempt >= ATTEMPTS || !(e.is_connect() || e.is_timeout()) => {
                    return Err(anyhow::Error::from(e)
                        .context(format!("{method} {}", self.connection.endpoint)));
                }
                Err(e) => e.into(),
            };
            tracing::debug!("attempt {attempt} failed, retrying: {retry:#}");
            tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
        }
    }

    fn signed_headers(
        &self,
        method: &Method,
        path: &str,
        raw_query: &str,
        payload_hash: &str,
    ) -> anyhow::Result<HeaderMap> {
        let credentials = &self.connection.credentials;
        let signer = Signer {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
            region: &self.connection.region,
            service: "omics",
            uri_encoding: UriEncoding::Double,
        };
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, HeaderValue::from_str(&self.host)?);
        headers.insert("x-amz-content-sha256", HeaderValue::from_str(payload_hash)?);
        signer.sign_headers(
            method.as_str(),
            path,
            Some(raw_query),
            &mut headers,
            payload_hash,
            chrono::Utc::now(),
        )?;
        // reqwest derives Host from the URL; the signed value is the same.
        headers.remove(http::header::HOST);
        Ok(headers)
    }
}

/// An answer's body, refused past [`MAX_ANSWER_BYTES`].
async fn read_answer(mut response: reqwest::Response) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            anyhow::bail!("the server's answer is larger than {MAX_ANSWER_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn service_error(response: reqwest::Response) -> ServiceError {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_owned())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let body = read_answer(response).await.unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("Message"))
                .and_then(|m| m.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
    ServiceError {
        status,
        kind,
        message,
    }
}
