//! One SigV4-signed GET of a source object at a URL built from its exact key, streamed and
//! resumed with a ranged GET (`If-Match` its ETag) where the body breaks off.
//!
//! `object_store` cannot do this GET: its `Path` drops empty segments (`a//b`) and a
//! leading `/`, so the request is signed and sent here, with its signer and HTTP client.

use super::SourceError;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use http::header::{CONTENT_LENGTH, ETAG, IF_MATCH, RANGE};
use http::{Method, StatusCode};
use object_store::aws::{AwsAuthorizer, AwsCredentialProvider};
use object_store::client::{HttpClient, HttpError, HttpRequestBody, HttpResponse};
use std::sync::Arc;
use std::time::Duration;

/// Longest wait for an answer's headers, and then for each chunk of its body.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Times one read picks a broken body up again before giving up.
const RESUMES: u32 = 3;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request did not produce bytes, when no S3 error code says it.
#[derive(Debug, thiserror::Error)]
enum GetError {
    #[error("HTTP {status}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Status {
        status: StatusCode,
        code: Option<String>,
    },
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("the body ended after {got} of {size} bytes")]
    Short { got: u64, size: u64 },
}

/// The object a GET is for, and the names its errors use.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `s3://bucket/key` as the user wrote it.
    pub uri: String,
    /// The bucket.
    pub bucket: String,
    /// The key, exactly.
    pub key: String,
    /// The request URL (bucket URL + encoded key).
    pub url: String,
    /// The service, as error messages name it.
    pub service: String,
}

impl Target {
    fn transient(&self, source: impl Into<BoxError>) -> SourceError {
        SourceError::Transient {
            uri: self.uri.clone(),
            source: source.into(),
        }
    }

    fn failed(&self, reason: impl Into<String>) -> SourceError {
        SourceError::Failed {
            uri: self.uri.clone(),
            reason: reason.into(),
        }
    }
}

/// Signs and sends GETs with the credentials of `[sources.s3]`.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    http: HttpClient,
    credentials: AwsCredentialProvider,
    region: Arc<str>,
}

impl Reader {
    /// A reader signing for `region`.
    pub(crate) fn new(http: HttpClient, credentials: AwsCredentialProvider, region: &str) -> Self {
        Self {
            http,
            credentials,
            region: region.into(),
        }
    }

    /// GETs the whole object: its size and its bytes.
    pub(crate) async fn open(
        &self,
        target: Target,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, SourceError>>), SourceError> {
        let answer = self.get(&target, None).await?;
        let size = header(&answer, CONTENT_LENGTH.as_str())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| target.failed("the answer has no Content-Length"))?;
        let etag = header(&answer, ETAG.as_str()).map(str::to_owned);
        let body = Body {
            reader: self.clone(),
            target,
            size,
            etag,
            offset: 0,
            resumes: 0,
            stream: Some(answer.into_body().bytes_stream()),
        };
        Ok((size, futures::stream::unfold(body, Body::next).boxed()))
    }

    /// One signed GET; `resume` asks for the rest from an offset of the same version.
    async fn get(
        &self,
        target: &Target,
        resume: Option<(u64, &str)>,
    ) -> Result<HttpResponse, SourceError> {
        let mut request = http::Request::builder()
            .method(Method::GET)
            .uri(target.url.as_str());
        if let Some((offset, etag)) = resume {
            request = request
                .header(RANGE, format!("bytes={offset}-"))
                .header(IF_MATCH, etag);
        }
        let mut request = request
            .body(HttpRequestBody::empty())
            .map_err(|e| target.failed(format!("cannot build the request: {e}")))?;
        let credential = self
            .credentials
            .get_credential()
            .await
            .map_err(|e| target.transient(e))?;
        AwsAuthorizer::new(&credential, "s3", &self.region).authorize(&mut request, None);
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, self.http.execute(request))
            .await
            .map_err(|_| target.transient(GetError::TimedOut(ANSWER_TIMEOUT)))?
            .map_err(|e| target.transient(e))?;
        if answer.status().is_success() {
            return Ok(answer);
        }
        let status = answer.status();
        let bucket_region = header(&answer, "x-amz-bucket-region").map(str::to_owned);
        let body = tokio::time::timeout(ANSWER_TIMEOUT, answer.into_body().bytes())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let code = xml_code(&body);
        Err(refusal(
            target,
            status,
            code.as_deref(),
            bucket_region.as_deref(),
            &self.region,
        ))
    }
}

/// What an S3 error answer means for the user.
fn refusal(
    target: &Target,
    status: StatusCode,
    code: Option<&str>,
    bucket_region: Option<&str>,
    region: &str,
) -> SourceError {
    if let Some(actual) = bucket_region
        && actual != region
        && (status.is_redirection() || status == StatusCode::BAD_REQUEST)
    {
        return SourceError::WrongRegion {
            bucket: target.bucket.clone(),
            actual: actual.to_owned(),
            configured: region.to_owned(),
        };
    }
    let retry = matches!(status.as_u16(), 408 | 429 | 500..=599)
        || matches!(
            code,
            Some("SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable")
        );
    let unexpected = || GetError::Status {
        status,
        code: code.map(str::to_owned),
    };
    match status.as_u16() {
        404 if code == Some("NoSuchBucket") => SourceError::BucketNotFound {
            bucket: target.bucket.clone(),
            service: target.service.clone(),
        },
        404 => SourceError::KeyNotFound {
            bucket: target.bucket.clone(),
            key: target.key.clone(),
        },
        403 => SourceError::Denied {
            action: "reading",
            uri: target.uri.clone(),
            code: code.map(str::to_owned),
        },
        412 => SourceError::Changed(target.uri.clone()),
        _ if retry => target.transient(unexpected()),
        _ => target.failed(unexpected().to_string()),
    }
}

/// `<Code>…</Code>` of an S3 XML error body.
fn xml_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    Some(text[start..start + len].trim().to_owned()).filter(|c| !c.is_empty())
}

fn header<'a>(answer: &'a HttpResponse, name: &str) -> Option<&'a str> {
    answer.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The body of one read, across resumed GETs.
struct Body {
    reader: Reader,
    target: Target,
    size: u64,
    etag: Option<String>,
    offset: u64,
    resumes: u32,
    /// `None` once finished or failed.
    stream: Option<BoxStream<'static, Result<Bytes, HttpError>>>,
}

impl Body {
    async fn next(mut self) -> Option<(Result<Bytes, SourceError>, Self)> {
        loop {
            let stream = self.stream.as_mut()?;
            let broken: BoxError = match tokio::time::timeout(ANSWER_TIMEOUT, stream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    self.offset += chunk.len() as u64;
                    return Some((Ok(chunk), self));
                }
                Ok(None) if self.offset >= self.size => {
                    self.stream = None;
                    return None;
                }
                Ok(None) => Box::new(GetError::Short {
                    got: self.offset,
                    size: self.size,
                }),
                Ok(Some(Err(e))) => Box::new(e),
                Err(_) => Box::new(GetError::TimedOut(ANSWER_TIMEOUT)),
            };
            match self.resume(broken).await {
                Ok(stream) => self.stream = Some(stream),
                Err(e) => {
                    self.stream = None;
                    return Some((Err(e), self));
                }
            }
        }
    }

    /// Asks for the rest of the same version of the object, after a pause.
    async fn resume(
        &mut self,
        broken: BoxError,
    ) -> Result<BoxStream<'static, Result<Bytes, HttpError>>, SourceError> {
        let Some(etag) = self.etag.clone().filter(|_| self.resumes < RESUMES) else {
            return Err(self.target.transient(broken));
        };
        self.resumes += 1;
        tracing::debug!(uri = %self.target.uri, offset = self.offset, error = %broken, "resuming a broken source read");
        tokio::time::sleep(Duration::from_millis(250 << self.resumes)).await;
        let answer = self
            .reader
            .get(&self.target, Some((self.offset, &etag)))
            .await?;
        if answer.status() != StatusCode::PARTIAL_CONTENT {
            return Err(self
                .target
                .failed("the server ignored the range of a resumed read"));
        }
        Ok(answer.into_body().bytes_stream())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            uri: "s3://b/k//x.fa".into(),
            bucket: "b".into(),
            key: "k//x.fa".into(),
            url: "http://127.0.0.1:9000/b/k//x.fa".into(),
            service: "http://127.0.0.1:9000".into(),
        }
    }

    fn message(status: u16, code: Option<&str>, bucket_region: Option<&str>) -> String {
        let status = StatusCode::from_u16(status).unwrap();
        refusal(&target(), status, code, bucket_region, "us-east-1").to_string()
    }

    #[test]
    fn s3_errors_say_what_happened() {
        assert_eq!(
            message(404, Some("NoSuchBucket"), None),
            "bucket 'b' not found at http://127.0.0.1:9000"
        );
        assert_eq!(
            message(404, Some("NoSuchKey"), None),
            "key 'k//x.fa' not found in bucket 'b'"
        );
        assert_eq!(
            message(404, None, None),
            "key 'k//x.fa' not found in bucket 'b'"
        );
        assert_eq!(
            message(403, Some("AccessDenied"), None),
            "access denied reading s3://b/k//x.fa"
        );
        assert_eq!(
            message(403, Some("InvalidAccessKeyId"), None),
            "access denied reading s3://b/k//x.fa (InvalidAccessKeyId)"
        );
        assert_eq!(
            message(301, Some("PermanentRedirect"), Some("eu-west-1")),
            "bucket 'b' is in region eu-west-1, not us-east-1 (sources.s3.region)"
        );
        assert_eq!(
            message(400, Some("InvalidRequest"), None),
            "reading s3://b/k//x.fa failed: HTTP 400 Bad Request InvalidRequest"
        );
    }

    #[test]
    fn only_server_side_trouble_is_retried() {
        let transient = |status: u16, code: Option<&str>| {
            refusal(
                &target(),
                StatusCode::from_u16(status).unwrap(),
                code,
                None,
                "us-east-1",
            )
            .is_transient()
        };
        assert!(transient(500, Some("InternalError")));
        assert!(transient(503, Some("SlowDown")));
        assert!(transient(429, None));
        assert!(transient(400, Some("RequestTimeout")));
        assert!(!transient(404, Some("NoSuchKey")));
        assert!(!transient(403, Some("AccessDenied")));
        assert!(!transient(400, Some("InvalidRequest")));
        assert!(!transient(412, Some("PreconditionFailed")));
    }

    #[test]
    fn error_codes_come_from_the_xml_body() {
        let body =
            b"<?xml version=\"1.0\"?>\n<Error><Code>NoSuchKey</Code><Message>m</Message></Error>";
        assert_eq!(xml_code(body).as_deref(), Some("NoSuchKey"));
        assert_eq!(xml_code(b""), None);
        assert_eq!(xml_code(b"<Error><Code></Code></Error>"), None);
    }
}
