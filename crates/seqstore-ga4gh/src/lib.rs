//! The GA4GH endpoint: htsget 1.3 (reads) and refget v2.0.0 (sequences) over the stored read
//! sets and references, on a listener of its own.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /reads/service-info`, `GET /reads/{store}/service-info` | htsget service-info |
//! | `GET`, `POST /reads/{store}/{id}` | an htsget ticket |
//! | `GET /blocks/{store}/{readSet}/{file}?expires=&signature=` | the bytes a ticket URL names |
//! | `GET /sequence/service-info` | refget service-info |
//! | `GET /sequence/{id}`, `GET /sequence/{id}/metadata` | a sequence, its metadata |
//!
//! Callers authenticate with `Authorization: Bearer TOKEN` or not at all; the store's S3
//! access policy decides (see [`seqstore_core::ga4gh`]). Ticket URLs carry their own signature.

mod htsget;
mod query;
mod refget;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, HOST,
};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};
use seqstore_core::Service;
use seqstore_core::telemetry::Operation;
use tracing::Instrument;

/// How the endpoint names itself and its tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ga4ghOptions {
    /// Base of the URLs in tickets (`http://host:port`, no trailing slash); `None`: the
    /// request's `Host`, over http.
    pub public_url: Option<String>,
    /// How long a ticket's URLs stay valid.
    pub ticket_lifetime: Duration,
    /// The listener's own address, for requests without a usable `Host`.
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Clone)]
struct Ga4gh {
    service: Arc<Service>,
    options: Arc<Ga4ghOptions>,
}

/// The endpoint as an axum router.
pub fn router(service: Arc<Service>, options: Ga4ghOptions) -> Router {
    let state = Ga4gh {
        service,
        options: Arc::new(options),
    };
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<Ga4gh>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = uuid::Uuid::new_v4().to_string();
    let span =
        tracing::info_span!("ga4gh", request_id = %request_id, method = %method, path = %path);
    async move {
        let started = std::time::Instant::now();
        let operation = operation(&method, &path);
        let mut response = route(&state, request).await;
        cors(response.headers_mut());
        response.extensions_mut().insert(Operation(operation));
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        response
    }
    .instrument(span)
    .await
}

async fn route(state: &Ga4gh, request: Request) -> Response {
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(ACCESS_CONTROL_MAX_AGE, "2592000")
            .body(Body::empty())
            .unwrap_or_default();
    }
    let path = request.uri().path().to_owned();
    let (request, body) = request.into_parts();
    let segments: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["reads", "service-info"]) | ("GET", ["reads", _, "service-info"]) => {
            htsget::service_info(state, &request)
        }
        ("GET" | "POST", ["reads", store, id]) => {
            let (store, id) = (store.to_string(), id.to_string());
            htsget::ticket(state, &request, body, &store, &id).await
        }
        ("GET" | "HEAD", ["blocks", store, read_set, file]) => {
            let (store, read_set, file) =
                (store.to_string(), read_set.to_string(), file.to_string());
            htsget::block(state, &request, &store, &read_set, &file).await
        }
        ("GET", ["sequence", "service-info"]) => refget::service_info(state, &request),
        ("GET", ["sequence", id]) => refget::sequence(state, &request, id).await,
        ("GET", ["sequence", id, "metadata"]) => refget::metadata(state, &request, id).await,
        (_, ["variants", ..]) => htsget::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "this server serves htsget reads (BAM, CRAM) only, no variants",
        ),
        (_, ["reads", ..] | ["blocks", ..]) => htsget::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "InvalidInput",
            &format!("{method} is not supported here"),
        ),
        _ => refget::error(
            StatusCode::NOT_FOUND,
            "no such route: the GA4GH endpoint serves /reads/… (htsget) and /sequence/… (refget)",
        ),
    }
}

/// The operation a request is, for the metrics (routing decides what it does).
fn operation(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match (method.as_str(), segments.as_slice()) {
        ("OPTIONS", _) => "Preflight",
        (_, ["reads", "service-info"] | ["reads", _, "service-info"]) => "HtsgetServiceInfo",
        ("POST", ["reads", _, _]) => "HtsgetTicketPost",
        (_, ["reads", _, _]) => "HtsgetTicket",
        (_, ["blocks", ..]) => "HtsgetBlock",
        (_, ["sequence", "service-info"]) => "RefgetServiceInfo",
        (_, ["sequence", _, "metadata"]) => "RefgetMetadata",
        (_, ["sequence", _]) => "RefgetSequence",
        _ => "Unrouted",
    }
}

/// Browsers may read every answer: the access rules are the policy's, not the origin's.
fn cors(headers: &mut http::HeaderMap) {
    let set = |headers: &mut http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(
        headers,
        ACCESS_CONTROL_ALLOW_METHODS,
        "GET, POST, HEAD, OPTIONS",
    );
    set(
        headers,
        ACCESS_CONTROL_ALLOW_HEADERS,
        "Authorization, Range, Content-Type, Accept",
    );
    set(
        headers,
        ACCESS_CONTROL_EXPOSE_HEADERS,
        "Content-Length, Content-Range",
    );
}

impl Ga4gh {
    /// The base of ticket URLs for this request.
    fn base_url(&self, request: &Parts) -> String {
        if let Some(url) = &self.options.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = request
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            });
        match host {
            Some(host) => format!("http://{host}"),
            None => format!("http://{}", self.options.listen),
        }
    }

    /// The caller an `Authorization` header names.
    async fn caller(
        &self,
        request: &Parts,
    ) -> Result<seqstore_core::ga4gh::Ga4ghCaller, seqstore_core::ga4gh::Ga4ghError> {
        let authorization = request
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        self.service.ga4gh_caller(authorization).await
    }
}

/// A JSON answer with its content type.
fn json_response(status: StatusCode, content_type: &str, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(value.to_string()))
        .unwrap_or_default()
}

/// The GA4GH service-info fields both protocols share.
fn service_info(
    base_url: &str,
    artifact: &str,
    version: &str,
    extra_name: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut info = serde_json::json!({
        "id": format!("org.seqstore.{artifact}"),
        "name": format!("seqstore {artifact}"),
        "type": {"group": "org.ga4gh", "artifact": artifact, "version": version},
        "description": format!("GA4GH {artifact} over the read sets and references of this seqstore"),
        "organization": {"name": "seqstore", "url": base_url},
        "version": env!("CARGO_PKG_VERSION"),
    });
    info[extra_name] = extra;
    info
}
