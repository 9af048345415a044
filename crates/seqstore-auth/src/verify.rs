//! Step two: with the secret in hand, check scope, time, payload hash and signature.

use chrono::{DateTime, TimeDelta, Utc};

use crate::canonical::{Scope, SigningInputs, canonicalize, signature_matches, skip_for};
use crate::{
    AuthError, Expected, MAX_CLOCK_SKEW, ParsedSignature, PayloadHash, SignatureForm,
    SigningRequest, UNSIGNED_PAYLOAD,
};

/// Verifies a parsed signature against the request, the secret of its access key, what the
/// caller expects and the current time. The checks run in this order, each with its own
/// error: scope service, scope region, clock skew / presigned expiry, payload hash, and
/// last the signature itself (compared in constant time).
pub fn verify(
    req: &SigningRequest<'_>,
    parsed: &ParsedSignature,
    secret_access_key: &str,
    payload: PayloadHash<'_>,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    check_scope(parsed, expected)?;
    check_time(parsed, now)?;
    let payload_hash = canonical_payload_hash(parsed, payload)?;
    let scope = Scope {
        date: &parsed.scope_date,
        region: &parsed.region,
        service: &parsed.service,
    };
    let canonical = canonicalize(
        req,
        &SigningInputs {
            uri_encoding: expected.uri_encoding,
            signed_headers: &parsed.signed_headers,
            payload_hash: &payload_hash,
            amz_date: &parsed.amz_date,
            scope,
            skip_query: skip_for(parsed.form),
        },
    )?;
    if signature_matches(
        secret_access_key,
        &scope,
        &canonical.string_to_sign,
        &parsed.signature,
    ) {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch {
            canonical_request: canonical.request,
            string_to_sign: canonical.string_to_sign,
        })
    }
}

fn check_scope(parsed: &ParsedSignature, expected: &Expected<'_>) -> Result<(), AuthError> {
    if parsed.service != expected.service {
        return Err(AuthError::WrongService {
            form: parsed.form,
            expected: expected.service.to_owned(),
            got: parsed.service.clone(),
        });
    }
    if parsed.region != expected.region {
        return Err(AuthError::WrongRegion {
            form: parsed.form,
            expected: expected.region.to_owned(),
            got: parsed.region.clone(),
        });
    }
    Ok(())
}

/// Header form: at most 15 minutes either side of `now`. Presigned: not more than
/// 15 minutes in the future, and `now` not past `X-Amz-Date + X-Amz-Expires`.
fn check_time(parsed: &ParsedSignature, now: DateTime<Utc>) -> Result<(), AuthError> {
    let request_time = parsed.request_time;
    if request_time > now + MAX_CLOCK_SKEW {
        return Err(AuthError::NotYetCurrent {
            form: parsed.form,
            request_time,
            now,
        });
    }
    match parsed.expires {
        None if request_time < now - MAX_CLOCK_SKEW => {
            Err(AuthError::Expired { request_time, now })
        }
        Some(expires) if now > request_time + TimeDelta::seconds(i64::from(expires)) => {
            Err(AuthError::PresignedExpired {
                request_time,
                expires,
                now,
            })
        }
        _ => Ok(()),
    }
}

/// The payload hash that goes into the canonical request; see [`PayloadHash`].
fn canonical_payload_hash(
    parsed: &ParsedSignature,
    payload: PayloadHash<'_>,
) -> Result<String, AuthError> {
    match (parsed.content_sha256.as_deref(), payload) {
        (Some(claimed), PayloadHash::Computed(computed)) => {
            if claimed != UNSIGNED_PAYLOAD && !claimed.eq_ignore_ascii_case(computed) {
                return Err(AuthError::PayloadHashMismatch {
                    claimed: claimed.to_owned(),
                    computed: computed.to_owned(),
                });
            }
            Ok(claimed.to_owned())
        }
        (Some(claimed), PayloadHash::FromHeader) => Ok(claimed.to_owned()),
        (None, PayloadHash::Computed(computed)) => Ok(computed.to_owned()),
        (None, PayloadHash::FromHeader) => match parsed.form {
            SignatureForm::Header => Err(AuthError::MissingContentSha256),
            SignatureForm::Presigned => Ok(UNSIGNED_PAYLOAD.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests;
