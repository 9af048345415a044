//! SigV4 authentication of omics requests against the access keys in the catalog.

use crate::router::AppState;
use crate::wire::{ApiError, RequestContext};
use http::request::Parts;
use seqstore_auth::{AuthError, Expected, ParsedSignature, PayloadHash, SigningRequest};
use seqstore_core::SigningKey;

/// Who a request says it comes from: its parsed signature and the key it names, known
/// from the headers alone, before any body is read.
pub(crate) struct Claimed {
    parsed: ParsedSignature,
    key: SigningKey,
}

impl Claimed {
    /// Whether the payload is declared `UNSIGNED-PAYLOAD`.
    pub(crate) fn unsigned_payload(&self) -> bool {
        self.parsed.unsigned_payload()
    }
}

/// Parses the signature and finds its key: a request without a well-formed signature by a
/// known key is refused before its body is read.
pub(crate) async fn identify(
    state: &AppState,
    parts: &Parts,
    request_id: &str,
) -> Result<Claimed, ApiError> {
    let parsed =
        seqstore_auth::parse(&signing_request(parts)).map_err(|e| ApiError::from_auth(&e))?;
    let key = state
        .service
        .signing_key(parsed.access_key_id())
        .await
        .map_err(|e| ApiError::internal(request_id, &e))?
        .ok_or_else(|| {
            ApiError::from_auth(&AuthError::UnknownAccessKey {
                access_key_id: parsed.access_key_id().to_owned(),
            })
        })?;
    Ok(Claimed { parsed, key })
}

/// Checks the signature and returns who is calling.
///
/// `body_sha256` is the hex digest of the buffered body, or `None` for a streamed body
/// whose `x-amz-content-sha256` header is trusted here and checked while streaming.
pub(crate) fn authenticate(
    state: &AppState,
    parts: &Parts,
    request_id: &str,
    claimed: Claimed,
    body_sha256: Option<&str>,
) -> Result<RequestContext, ApiError> {
    let Claimed { parsed, key } = claimed;
    let payload = body_sha256.map_or(PayloadHash::FromHeader, PayloadHash::Computed);
    let expected = Expected::omics(&state.service.settings().region);
    seqstore_auth::verify(
        &signing_request(parts),
        &parsed,
        &key.secret_access_key,
        payload,
        &expected,
        chrono::Utc::now(),
    )
    .map_err(|e| ApiError::from_auth(&e))?;
    Ok(RequestContext {
        request_id: request_id.to_owned(),
        account_id: key.account_id,
        access_key_id: parsed.access_key_id().to_owned(),
        claimed_payload_sha256: parsed.claimed_payload_hash().map(str::to_owned),
    })
}

fn signing_request(parts: &Parts) -> SigningRequest<'_> {
    SigningRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
    }
}
