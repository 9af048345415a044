//! The one entry point: every request goes through [`handle`], whatever its Host.

use crate::auth::{authenticate, identify};
use crate::console;
use crate::generated::service::dispatch;
use crate::handlers::Handlers;
use crate::stall;
use crate::wire::{ApiError, WireResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use percent_encoding::percent_decode_str;
use seqstore_core::Service;
use seqstore_core::telemetry::Operation;
use seqstore_model::{ErrorShape, bind_input, path_matches_any, route};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Largest JSON request body accepted (S3 access policies are the biggest: 100 000 chars).
const MAX_JSON_BODY: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The domain service.
    pub service: Arc<Service>,
    /// How long a streamed request body may send nothing before it is dropped.
    pub body_stall: std::time::Duration,
}

/// The omics API as an axum router: a single fallback that routes on method + raw path,
/// so absolute-form targets and any Host (`control-storage-…`, `storage-…`) work. The web
/// console's static files sit under `/console`, where no operation lives.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/console", get(console::redirect))
        .route("/console/", get(console::index))
        .route("/console/config.json", get(console::config))
        .route("/console/{*file}", get(console::asset))
        .fallback(handle)
        .with_state(state)
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    async move {
        let route = route(method.as_str(), &path);
        let operation = route.as_ref().map(|r| r.operation.name()).unwrap_or("-");
        let (parts, body) = request.into_parts();
        let (body, body_read) = stall::track(body);
        let request = Request::from_parts(parts, body);
        let mut response = match serve(&state, request, &request_id, route).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        };
        if !body_read.load(std::sync::atomic::Ordering::Relaxed) {
            // hyper drops a connection whose request body was left unread; say so, or the
            // client sends its next request on it and sees the connection closed.
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        let status = response.status().as_u16();
        tracing::info!(
            operation,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-RequestId", value);
        }
        let named = if operation == "-" {
            "Unrouted"
        } else {
            operation
        };
        response.extensions_mut().insert(Operation(named));
        response
    }
    .instrument(span)
    .await
}

async fn serve(
    state: &AppState,
    request: Request,
    request_id: &str,
    route: Option<seqstore_model::Route>,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let streaming = route
        .as_ref()
        .is_some_and(|r| r.operation.def().streaming_input);
    let claimed = identify(state, &parts, request_id).await?;
    if claimed.unsigned_payload() && !streaming {
        // On plain HTTP an unsigned JSON body could be swapped under a valid signature; only
        // the part upload streams bodies too large to sign first.
        return Err(ApiError::new(
            "InvalidSignatureException",
            StatusCode::FORBIDDEN,
            "x-amz-content-sha256: UNSIGNED-PAYLOAD is accepted only for UploadReadSetPart; \
             sign the body's SHA-256",
        ));
    }
    let (body_bytes, body_stream, body_sha256) = if streaming {
        (Bytes::new(), stall::guard(body, state.body_stall), None)
    } else {
        let bytes = read_json_body(body).await?;
        let digest = hex::encode(Sha256::digest(&bytes));
        (bytes, Body::empty(), Some(digest))
    };
    let ctx = authenticate(state, &parts, request_id, claimed, body_sha256.as_deref())?;
    let Some(route) = route else {
        return Err(unknown_operation(parts.method.as_str(), parts.uri.path()));
    };
    let query = decode_query(parts.uri.query());
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let labels: Vec<(&str, String)> = route.labels.iter().map(|(k, v)| (*k, v.clone())).collect();
    let input = bind_input(route.operation, &labels, &query, &header, &body_bytes)
        .map_err(ApiError::from_validation)?;
    let handlers = Handlers::new(state.service.clone());
    let wire = dispatch(&handlers, &ctx, route.operation, input, body_stream).await?;
    Ok(encode(wire))
}

async fn read_json_body(body: Body) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_JSON_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::shape(
            ErrorShape::ValidationException,
            format!("request body is larger than {MAX_JSON_BODY} bytes"),
        )),
        Err(e) => Err(ApiError::shape(
            ErrorShape::ValidationException,
            format!("cannot read request body: {e}"),
        )),
    }
}

fn unknown_operation(method: &str, path: &str) -> ApiError {
    let message = if path_matches_any(path) {
        format!("{method} is not supported on {path}")
    } else {
        format!("no operation matches {method} {path}")
    };
    ApiError::new("UnknownOperationException", StatusCode::NOT_FOUND, message)
}

/// Splits the raw query into decoded pairs, keeping repeated keys (`tagKeys=a&tagKeys=b`).
fn decode_query(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn encode(wire: WireResponse) -> Response {
    match wire {
        WireResponse::Json(status, value) => {
            let mut response = (status, value.to_string()).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        WireResponse::Empty(status) => status.into_response(),
        WireResponse::Blob(blob) => {
            let mut response = (StatusCode::OK, blob.body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(CONTENT_LENGTH, HeaderValue::from(blob.content_length));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_pairs_are_decoded_and_repeated_keys_kept() {
        assert_eq!(
            super::decode_query(Some("tagKeys=a&tagKeys=b%20c&maxResults=5&flag")),
            vec![
                ("tagKeys".into(), "a".into()),
                ("tagKeys".into(), "b c".into()),
                ("maxResults".into(), "5".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert!(super::decode_query(None).is_empty());
    }
}
