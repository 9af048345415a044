//! The hyper service the listener runs: s3s' service plus a request id on every answer and a
//! span that ties the request's log lines together.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};

use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use s3s::service::S3Service;
use s3s::{HttpError, HttpResponse};
use seqstore_core::telemetry::Operation;
use tracing::Instrument as _;

use crate::gate;

tokio::task_local! {
    /// The S3 operation s3s routed the request being served to, once the access check saw it.
    static OPERATION: std::sync::Arc<std::sync::Mutex<Option<&'static str>>>;
}

/// Records the operation of the request being served (for its metrics).
pub(crate) fn note_operation(name: &'static str) {
    let _ = OPERATION.try_with(|op| *op.lock().unwrap_or_else(|e| e.into_inner()) = Some(name));
}

/// The S3 endpoint, ready for [`crate::serve`] (or any hyper 1 connection).
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    inner: S3Service,
}

impl S3Endpoint {
    pub(crate) fn new(inner: S3Service) -> Self {
        Self { inner }
    }

    /// The underlying s3s service, for embedding in another tower/hyper stack.
    pub fn s3s_service(&self) -> &S3Service {
        &self.inner
    }
}

/// A request refused before s3s saw it.
fn refused_response(refusal: &gate::Refusal, request_id: &str) -> HttpResponse {
    let mut response = hyper::Response::new(s3s::Body::from(gate::xml(refusal, request_id)));
    *response.status_mut() = refusal.status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// Body bytes of a refused request read before it is answered.
const DRAIN_LIMIT: usize = 1 << 20;

/// How long reading a refused request's body may take.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Whether the method only reads (the requests this read-only endpoint may serve).
fn is_read(method: &hyper::Method) -> bool {
    matches!(*method, hyper::Method::GET | hyper::Method::HEAD)
}

/// The request with its body read into memory, up to [`DRAIN_LIMIT`] bytes and
/// [`DRAIN_TIME`]; what is beyond is left unread (the connection then closes).
async fn drained(req: hyper::Request<Incoming>) -> hyper::Request<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
    let mut bytes = BytesMut::new();
    let read = async {
        while bytes.len() <= DRAIN_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read).await;
    hyper::Request::from_parts(parts, Full::new(bytes.freeze()))
}

/// 16 uppercase hex digits, like S3's `x-amz-request-id`.
fn request_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id[..16].to_ascii_uppercase()
}

impl hyper::service::Service<hyper::Request<Incoming>> for S3Endpoint {
    type Response = HttpResponse;
    type Error = HttpError;
    type Future = BoxFuture<'static, Result<HttpResponse, HttpError>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let inner = self.inner.clone();
        let request_id = request_id();
        let span = tracing::info_span!("s3", request_id = %request_id);
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let refused = gate::refusal(req.method(), req.uri(), req.headers());
        let operation = std::sync::Arc::new(std::sync::Mutex::new(None));
        let noted = std::sync::Arc::clone(&operation);
        Box::pin(OPERATION.scope(
            operation,
            async move {
                let refused_early = refused.is_some();
                let started = Instant::now();
                let mut result = match (refused, is_read(&method)) {
                    (None, true) => hyper::service::Service::call(&inner, req).await,
                    (refused, false) => {
                        // Every write is refused: read its body first (up to a limit), or
                        // closing the connection with it unread resets it under the answer.
                        let req = drained(req).await;
                        match refused {
                            Some(refusal) => Ok(refused_response(&refusal, &request_id)),
                            None => tower::Service::call(&mut inner.clone(), req).await,
                        }
                    }
                    (Some(refusal), true) => Ok(refused_response(&refusal, &request_id)),
                };
                let elapsed_ms = started.elapsed().as_millis();
                match &mut result {
                    Ok(response) => {
                        if let Ok(value) = HeaderValue::try_from(request_id) {
                            response.headers_mut().insert("x-amz-request-id", value);
                        }
                        let seen = *noted.lock().unwrap_or_else(|e| e.into_inner());
                        let name = seen.unwrap_or(if refused_early { "Refused" } else { "Unrouted" });
                        response.extensions_mut().insert(Operation(name));
                        let status = response.status().as_u16();
                        tracing::debug!(%method, path, status, elapsed_ms, "s3 request");
                    }
                    Err(err) => {
                        tracing::error!(%method, path, error = ?err, elapsed_ms, "s3 request failed");
                    }
                }
                result
            }
            .instrument(span),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_s3_ones() {
        let a = request_id();
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert_ne!(a, request_id());
    }
}
