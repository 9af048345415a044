//! refget v2.0.0: sequences, their metadata and the service-info.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use http::request::Parts;
use seqstore_core::CoreError;
use seqstore_core::ga4gh::{Ga4ghError, ServedSequence};

use crate::Ga4gh;
use crate::query::{byte_range, coordinate, pairs};

const TEXT: &str = "text/vnd.ga4gh.refget.v2.0.0+plain; charset=us-ascii";
const JSON: &str = "application/vnd.ga4gh.refget.v2.0.0+json; charset=us-ascii";

/// Types a sequence may be asked for as (refget v1 clients ask for v1's).
const TEXT_TYPES: &[&str] = &[
    "text/vnd.ga4gh.refget.v2.0.0+plain",
    "text/vnd.ga4gh.refget.v1.0.0+plain",
    "text/plain",
    "text/*",
    "*/*",
];
const JSON_TYPES: &[&str] = &[
    "application/vnd.ga4gh.refget.v2.0.0+json",
    "application/vnd.ga4gh.refget.v1.0.0+json",
    "application/json",
    "application/*",
    "*/*",
];

/// Whether the request's `Accept` (absent: anything) allows one of `types`.
fn acceptable(request: &Parts, types: &[&str]) -> bool {
    let Some(accept) = request.headers.get(ACCEPT) else {
        return true;
    };
    let Ok(accept) = accept.to_str() else {
        return false;
    };
    accept.split(',').any(|item| {
        let media = item.split(';').next().unwrap_or("").trim();
        types.iter().any(|t| t.eq_ignore_ascii_case(media))
    })
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"status_code": status.as_u16(), "message": message});
    crate::json_response(status, "application/json", &body)
}

fn failure(e: &Ga4ghError) -> Response {
    let status = match e {
        Ga4ghError::InvalidAuthentication(_) => StatusCode::UNAUTHORIZED,
        Ga4ghError::PermissionDenied(_) => StatusCode::FORBIDDEN,
        Ga4ghError::NotFound(_) => StatusCode::NOT_FOUND,
        Ga4ghError::InvalidInput(_) | Ga4ghError::UnsupportedFormat(_) => StatusCode::BAD_REQUEST,
        Ga4ghError::InvalidRange(_) => StatusCode::RANGE_NOT_SATISFIABLE,
        Ga4ghError::Core(CoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        Ga4ghError::Core(e) => {
            tracing::error!(error = %seqstore_core::error_chain(e), "refget request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, &e.to_string())
}

fn json(value: &serde_json::Value) -> Response {
    crate::json_response(StatusCode::OK, JSON, value)
}

pub(crate) fn service_info(state: &Ga4gh, request: &Parts) -> Response {
    if !acceptable(request, JSON_TYPES) {
        return not_acceptable();
    }
    let refget = serde_json::json!({
        "circular_supported": false,
        "subsequence_limit": null,
        "algorithms": ["md5", "ga4gh"],
        "identifier_types": [],
    });
    json(&crate::service_info(
        &state.base_url(request),
        "refget",
        "2.0.0",
        "refget",
        refget,
    ))
}

fn not_acceptable() -> Response {
    error(
        StatusCode::NOT_ACCEPTABLE,
        "sequences are served as text/vnd.ga4gh.refget.v2.0.0+plain, metadata as application/vnd.ga4gh.refget.v2.0.0+json",
    )
}

async fn find(state: &Ga4gh, request: &Parts, id: &str) -> Result<ServedSequence, Response> {
    let caller = state.caller(request).await.map_err(|e| failure(&e))?;
    state
        .service
        .refget_sequence(&caller, id)
        .await
        .map_err(|e| failure(&e))
}

pub(crate) async fn metadata(state: &Ga4gh, request: &Parts, id: &str) -> Response {
    if !acceptable(request, JSON_TYPES) {
        return not_acceptable();
    }
    let served = match find(state, request, id).await {
        Ok(served) => served,
        Err(response) => return response,
    };
    let s = &served.sequence;
    let aliases: Vec<_> = served
        .aliases
        .iter()
        .map(|name| serde_json::json!({"alias": name, "naming_authority": "unknown"}))
        .collect();
    json(&serde_json::json!({
        "metadata": {
            "id": id,
            "md5": s.md5,
            "ga4gh": format!("SQ.{}", s.sha512t24u),
            "length": s.length,
            "aliases": aliases,
        }
    }))
}

pub(crate) async fn sequence(state: &Ga4gh, request: &Parts, id: &str) -> Response {
    if !acceptable(request, TEXT_TYPES) {
        return not_acceptable();
    }
    let (mut start, mut end) = (None, None);
    for (name, value) in pairs(request.uri.query()) {
        let slot = match name.as_str() {
            "start" => &mut start,
            "end" => &mut end,
            _ => continue,
        };
        match coordinate(&value) {
            Some(n) => *slot = Some(n),
            None => {
                let message = format!("{name} must be a whole number from 0 to 4294967295");
                return error(StatusCode::BAD_REQUEST, &message);
            }
        }
    }
    let range = match request.headers.get(RANGE) {
        None => None,
        Some(_) if start.is_some() || end.is_some() => {
            let message = "give start and end or a Range header, not both";
            return error(StatusCode::BAD_REQUEST, message);
        }
        Some(value) => match value.to_str().ok().and_then(byte_range) {
            Some(range) => Some(range),
            None => {
                let message = "the Range header must be bytes=FIRST-LAST";
                return error(StatusCode::BAD_REQUEST, message);
            }
        },
    };
    let served = match find(state, request, id).await {
        Ok(served) => served,
        Err(response) => return response,
    };
    let length = served.sequence.length;
    let unsatisfiable = |message: String| error(StatusCode::RANGE_NOT_SATISFIABLE, &message);
    let (bases, partial) = if let Some((first, last)) = range {
        if first >= length || last.is_some_and(|last| last < first) {
            return unsatisfiable(format!("the sequence has {length} bases"));
        }
        let last = last.map_or(length - 1, |last| last.min(length - 1));
        (first..last + 1, true)
    } else {
        if start.is_some_and(|s| s >= length) || end.is_some_and(|e| e > length) {
            return unsatisfiable(format!("the sequence has {length} bases"));
        }
        let (s, e) = (start.unwrap_or(0), end.unwrap_or(length));
        if s > e {
            let message =
                "start after end asks for a circular sequence, which this server does not support";
            return error(StatusCode::NOT_IMPLEMENTED, message);
        }
        (s..e, false)
    };
    let stream = match state.service.refget_bases(&served, bases.clone()).await {
        Ok(stream) => stream,
        Err(e) => return failure(&e),
    };
    let mut response = Response::builder()
        .header(CONTENT_TYPE, TEXT)
        .header(CONTENT_LENGTH, bases.end - bases.start);
    if partial {
        response = response.status(StatusCode::PARTIAL_CONTENT).header(
            CONTENT_RANGE,
            format!("bytes {}-{}/{length}", bases.start, bases.end - 1),
        );
    }
    response.body(Body::from_stream(stream)).unwrap_or_default()
}
