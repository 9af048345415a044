//! htsget 1.3 reads: tickets, the service-info and the bytes ticket URLs name.

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use http::StatusCode;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use http::request::Parts;
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use seqstore_core::ga4gh::{
    BlockRef, Class, Ga4ghError, MAX_REGIONS, Part, ReadsFormat, ReadsRequest, Region, Ticket,
};
use seqstore_core::{CoreError, ReadSetId, StoreId};
use serde::Deserialize;

use crate::Ga4gh;
use crate::query::{byte_range, coordinate, pairs};

const TICKET: &str = "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8";

/// The largest POST body read.
const MAX_BODY: usize = 1 << 20;

/// What a path segment keeps unencoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The htsget error document.
pub(crate) fn error(status: StatusCode, name: &str, message: &str) -> Response {
    let body = serde_json::json!({"htsget": {"error": name, "message": message}});
    crate::json_response(status, "application/json", &body)
}

fn failure(e: &Ga4ghError) -> Response {
    let (status, name) = match e {
        Ga4ghError::InvalidAuthentication(_) => (StatusCode::UNAUTHORIZED, "InvalidAuthentication"),
        Ga4ghError::PermissionDenied(_) => (StatusCode::FORBIDDEN, "PermissionDenied"),
        Ga4ghError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
        Ga4ghError::InvalidInput(_) => (StatusCode::BAD_REQUEST, "InvalidInput"),
        Ga4ghError::InvalidRange(_) => (StatusCode::BAD_REQUEST, "InvalidRange"),
        Ga4ghError::UnsupportedFormat(_) => (StatusCode::BAD_REQUEST, "UnsupportedFormat"),
        Ga4ghError::Core(CoreError::RangeNotSatisfiable(_)) => {
            (StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange")
        }
        Ga4ghError::Core(CoreError::Unavailable(_) | CoreError::NotSupported(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "InternalServerError")
        }
        Ga4ghError::Core(e) => {
            tracing::error!(error = %seqstore_core::error_chain(e), "htsget request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")
        }
    };
    error(status, name, &e.to_string())
}

fn invalid(message: impl Into<String>) -> Ga4ghError {
    Ga4ghError::InvalidInput(message.into())
}

pub(crate) fn service_info(state: &Ga4gh, request: &Parts) -> Response {
    let htsget = serde_json::json!({
        "datatype": "reads",
        "formats": ["BAM", "CRAM"],
        "fieldsParameterEffective": false,
        "tagsParametersEffective": false,
    });
    let info = crate::service_info(
        &state.base_url(request),
        "htsget",
        "1.3.0",
        "htsget",
        htsget,
    );
    crate::json_response(StatusCode::OK, "application/json", &info)
}

pub(crate) async fn ticket(
    state: &Ga4gh,
    request: &Parts,
    body: Body,
    store: &str,
    id: &str,
) -> Response {
    let base_url = state.base_url(request);
    let caller = match state.caller(request).await {
        Ok(caller) => caller,
        Err(e) => return failure(&e),
    };
    let reads = if request.method == http::Method::POST {
        post_request(request, body).await
    } else {
        get_request(request.uri.query())
    };
    let reads = match reads {
        Ok(reads) => reads,
        Err(e) => return failure(&e),
    };
    let lifetime = state.options.ticket_lifetime.as_secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ticket = state
        .service
        .htsget_ticket(&caller, &StoreId::from(store), id, &reads, now + lifetime)
        .await;
    match ticket {
        Ok(ticket) => match ticket_json(&state.service, &base_url, &ticket).await {
            Ok(body) => crate::json_response(StatusCode::OK, TICKET, &body),
            Err(e) => failure(&e),
        },
        Err(e) => failure(&e),
    }
}

fn format_of(text: &str) -> Result<ReadsFormat, Ga4ghError> {
    match text {
        "BAM" => Ok(ReadsFormat::Bam),
        "CRAM" => Ok(ReadsFormat::Cram),
        other => Err(Ga4ghError::UnsupportedFormat(format!(
            "format {other:?}: reads are served as BAM or CRAM"
        ))),
    }
}

fn class_of(text: &str) -> Result<Class, Ga4ghError> {
    match text {
        "header" => Ok(Class::Header),
        other => Err(invalid(format!(
            "class {other:?}: the only class is \"header\""
        ))),
    }
}

/// A GET request's parameters. `fields`, `tags` and `notags` are accepted and not applied
/// (service-info says so); parameters htsget does not define are ignored.
fn get_request(query: Option<&str>) -> Result<ReadsRequest, Ga4ghError> {
    let (mut format, mut class, mut name, mut start, mut end) = (None, None, None, None, None);
    let (mut tags, mut notags) = (None, None);
    for (key, value) in pairs(query) {
        match key.as_str() {
            "format" => format = Some(format_of(&value)?),
            "class" => class = Some(class_of(&value)?),
            "referenceName" => name = Some(value),
            "start" | "end" => {
                let n = coordinate(&value).ok_or_else(|| {
                    invalid(format!("{key} must be a whole number from 0 to 4294967295"))
                })?;
                if key == "start" {
                    start = Some(n);
                } else {
                    end = Some(n);
                }
            }
            "tags" => tags = Some(value),
            "notags" => notags = Some(value),
            _ => {}
        }
    }
    if let (Some(tags), Some(notags)) = (&tags, &notags) {
        let listed: Vec<&str> = tags.split(',').filter(|t| !t.is_empty()).collect();
        if notags.split(',').any(|t| listed.contains(&t)) {
            return Err(invalid("a tag is both in tags and in notags"));
        }
    }
    if class.is_some() && (name.is_some() || start.is_some() || end.is_some()) {
        return Err(invalid("class=header takes no referenceName, start or end"));
    }
    let regions = match name {
        None if start.is_some() || end.is_some() => {
            return Err(invalid("start and end need a referenceName"));
        }
        None => Vec::new(),
        Some(name) => vec![region(name, start, end, false)?],
    };
    Ok(ReadsRequest {
        format: format.unwrap_or(ReadsFormat::Bam),
        class,
        regions,
    })
}

fn region(
    reference_name: String,
    start: Option<u64>,
    end: Option<u64>,
    post: bool,
) -> Result<Region, Ga4ghError> {
    if reference_name.is_empty() {
        return Err(invalid("referenceName is empty"));
    }
    if reference_name == "*" && (start.is_some() || end.is_some()) {
        return Err(invalid(
            "referenceName=* (unplaced reads) takes no start or end",
        ));
    }
    if let (Some(s), Some(e)) = (start, end)
        && (s > e || (post && s == e))
    {
        return Err(Ga4ghError::InvalidRange(format!(
            "start {s} is after end {e}"
        )));
    }
    Ok(Region {
        reference_name,
        start,
        end,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PostBody {
    format: Option<String>,
    class: Option<String>,
    #[allow(dead_code)] // accepted, not applied
    fields: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    notags: Option<Vec<String>>,
    regions: Option<Vec<PostRegion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PostRegion {
    reference_name: Option<String>,
    start: Option<u64>,
    end: Option<u64>,
}

async fn post_request(request: &Parts, body: Body) -> Result<ReadsRequest, Ga4ghError> {
    if request.uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(invalid(
            "a POST request takes its parameters in the body, not the URL",
        ));
    }
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| invalid(format!("the body must be JSON of at most {MAX_BODY} bytes")))?
        .to_bytes();
    let body: PostBody = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_str("{}").map_err(|e| invalid(e.to_string()))?
    } else {
        serde_json::from_slice(&body).map_err(|e| invalid(format!("the body: {e}")))?
    };
    if let (Some(tags), Some(notags)) = (&body.tags, &body.notags)
        && tags.iter().any(|t| notags.contains(t))
    {
        return Err(invalid("a tag is both in tags and in notags"));
    }
    let class = body.class.as_deref().map(class_of).transpose()?;
    let regions = match body.regions {
        None => Vec::new(),
        Some(regions) if regions.is_empty() => {
            return Err(invalid("regions is empty: leave it out to get every read"));
        }
        Some(regions) if regions.len() > MAX_REGIONS => {
            return Err(invalid(format!("over {MAX_REGIONS} regions")));
        }
        Some(_) if class.is_some() => {
            return Err(invalid("class=header takes no regions"));
        }
        Some(regions) => regions
            .into_iter()
            .map(|r| {
                let name = r
                    .reference_name
                    .ok_or_else(|| invalid("every region needs a referenceName"))?;
                let bound = |n: Option<u64>, what: &str| match n {
                    Some(n) if n > u64::from(u32::MAX) => {
                        Err(invalid(format!("{what} must be at most 4294967295")))
                    }
                    n => Ok(n),
                };
                region(name, bound(r.start, "start")?, bound(r.end, "end")?, true)
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(ReadsRequest {
        format: body
            .format
            .as_deref()
            .map(format_of)
            .transpose()?
            .unwrap_or(ReadsFormat::Bam),
        class,
        regions,
    })
}

async fn ticket_json(
    service: &seqstore_core::Service,
    base_url: &str,
    ticket: &Ticket,
) -> Result<serde_json::Value, Ga4ghError> {
    let block = &ticket.block;
    let signature = service.sign_block(block).await?;
    let url = format!(
        "{base_url}/blocks/{}/{}/{}?expires={}&signature={signature}",
        block.store_id,
        block.read_set_id,
        utf8_percent_encode(&block.file, SEGMENT),
        block.expires
    );
    let classed = ticket.parts.iter().all(|p| match p {
        Part::Data { class, .. } | Part::Range { class, .. } => class.is_some(),
    });
    let class_name = |class: &Option<Class>| match class {
        Some(Class::Header) => "header",
        _ => "body",
    };
    let urls: Vec<serde_json::Value> = ticket
        .parts
        .iter()
        .map(|part| {
            let (mut entry, class) = match part {
                Part::Data { bytes, class } => {
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    (
                        serde_json::json!({"url": format!("data:;base64,{data}")}),
                        class,
                    )
                }
                Part::Range { range, class } => (
                    serde_json::json!({
                        "url": url,
                        "headers": {"Range": format!("bytes={}-{}", range.start, range.end - 1)},
                    }),
                    class,
                ),
            };
            if classed {
                entry["class"] = class_name(class).into();
            }
            entry
        })
        .collect();
    Ok(serde_json::json!({
        "htsget": {"format": ticket.format.as_str(), "urls": urls}
    }))
}

pub(crate) async fn block(
    state: &Ga4gh,
    request: &Parts,
    store: &str,
    read_set: &str,
    file: &str,
) -> Response {
    let (mut expires, mut signature) = (None, None);
    for (key, value) in pairs(request.uri.query()) {
        match key.as_str() {
            "expires" => expires = value.parse::<u64>().ok(),
            "signature" => signature = Some(value),
            _ => {}
        }
    }
    let (Some(expires), Some(signature)) = (expires, signature) else {
        return failure(&Ga4ghError::InvalidAuthentication(
            "a ticket URL needs its expires and signature: ask the htsget endpoint for a ticket"
                .into(),
        ));
    };
    let range = match request.headers.get(RANGE) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(byte_range) {
            Some(range) => Some(range),
            None => {
                return failure(&invalid(
                    "the Range header must be bytes=FIRST-LAST or bytes=FIRST-",
                ));
            }
        },
    };
    let block = BlockRef {
        store_id: StoreId::from(store),
        read_set_id: ReadSetId::from(read_set),
        file: file.to_owned(),
        expires,
    };
    // The file's size is known only after the read set is found; an open or too long range
    // is cut to it there.
    let wanted = range.map(|(first, last)| first..last.map_or(u64::MAX, |l| l.saturating_add(1)));
    let (size, served, stream) = match state.service.read_block(&block, &signature, wanted).await {
        Ok(read) => read,
        Err(e) => return failure(&e),
    };
    let mut response = Response::builder()
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, served.end - served.start);
    if range.is_some() {
        response = response.status(StatusCode::PARTIAL_CONTENT).header(
            CONTENT_RANGE,
            format!("bytes {}-{}/{size}", served.start, served.end - 1),
        );
    }
    let body = if request.method == http::Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(stream)
    };
    response.body(body).unwrap_or_default()
}
