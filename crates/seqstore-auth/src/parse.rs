//! Step one: find the signature form and pull out access key, scope, signed headers, date.

mod header;
mod query;

use chrono::{DateTime, Utc};

use crate::date::parse_amz_date;
use crate::encode::query_pairs;
use crate::{AuthError, SignatureForm, SigningRequest, UNSIGNED_PAYLOAD};

/// A syntactically valid SigV4 signature, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    pub(crate) form: SignatureForm,
    pub(crate) access_key_id: String,
    pub(crate) scope_date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) signed_headers: Vec<String>,
    pub(crate) signature: Vec<u8>,
    /// The request time as it enters the string to sign (`X-Amz-Date` form).
    pub(crate) amz_date: String,
    pub(crate) request_time: DateTime<Utc>,
    pub(crate) expires: Option<u32>,
    /// `x-amz-content-sha256` as received: `UNSIGNED-PAYLOAD` or 64 hex digits.
    pub(crate) content_sha256: Option<String>,
    pub(crate) security_token: Option<String>,
}

impl ParsedSignature {
    /// Where the signature travelled.
    pub fn form(&self) -> SignatureForm {
        self.form
    }

    /// The access key id from the credential, for the caller's secret lookup.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region in the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service in the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The lowercase signed header names, in the order the client listed them.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// When the client signed the request (`X-Amz-Date`, else the `Date` header).
    pub fn request_time(&self) -> DateTime<Utc> {
        self.request_time
    }

    /// `X-Amz-Expires` of a presigned URL, in seconds.
    pub fn expires(&self) -> Option<u32> {
        self.expires
    }

    /// `X-Amz-Security-Token` (header or query), if the client sent one.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// Whether the client declared `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    pub fn unsigned_payload(&self) -> bool {
        self.content_sha256.as_deref() == Some(UNSIGNED_PAYLOAD)
    }

    /// The hex SHA-256 the client claims in `x-amz-content-sha256`, if it claims one
    /// (`None` for `UNSIGNED-PAYLOAD` or no header). A caller that streams the body
    /// verified with [`crate::PayloadHash::FromHeader`] must compare it with the digest of
    /// what it actually received and reject a difference with
    /// [`AuthError::PayloadHashMismatch`].
    pub fn claimed_payload_hash(&self) -> Option<&str> {
        self.content_sha256
            .as_deref()
            .filter(|value| *value != UNSIGNED_PAYLOAD)
    }
}

/// Finds the signature form of a request and parses it; no secret is needed yet.
///
/// Checks done here: exactly one form present, algorithm, credential and `SignedHeaders`
/// syntax, `host` signed, signature is 64 hex digits, date present and well-formed, scope
/// date equal to the date of `X-Amz-Date`, `X-Amz-Expires` in range, and a well-formed
/// `x-amz-content-sha256`. Service, region and time are checked by [`crate::verify`].
pub fn parse(req: &SigningRequest<'_>) -> Result<ParsedSignature, AuthError> {
    let authorization: Vec<_> = req
        .headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .collect();
    let presigned = query_pairs(req.raw_query).any(|(name, _)| {
        matches!(
            name.as_str(),
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    });
    let parts = match (authorization.as_slice(), presigned) {
        ([], false) => return Err(AuthError::Missing),
        ([], true) => query::parse(req)?,
        ([value], false) => header::parse(req, value)?,
        (_, false) => {
            return Err(malformed(
                SignatureForm::Header,
                "more than one Authorization header",
            ));
        }
        (_, true) => {
            return Err(malformed(
                SignatureForm::Header,
                "only one auth mechanism allowed: Authorization header and X-Amz-* query parameters both present",
            ));
        }
    };
    finish(parts, req)
}

/// The raw strings both forms deliver, before the common checks.
struct RawParts {
    form: SignatureForm,
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    request_time: DateTime<Utc>,
    expires: Option<u32>,
    security_token: Option<String>,
}

fn finish(raw: RawParts, req: &SigningRequest<'_>) -> Result<ParsedSignature, AuthError> {
    let form = raw.form;
    let parts: Vec<&str> = raw.credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts.as_slice() else {
        return Err(malformed(
            form,
            "Credential must be <access key>/<date>/<region>/<service>/aws4_request",
        ));
    };
    let (access_key_id, scope_date, region, service) =
        (*access_key_id, *scope_date, *region, *service);
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(malformed(
            form,
            "Credential has an empty access key, region or service",
        ));
    }
    if *terminator != "aws4_request" {
        return Err(malformed(
            form,
            "Credential should be scoped with a valid terminator: 'aws4_request'",
        ));
    }
    if scope_date.len() != 8 || !scope_date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(form, "Credential date must be YYYYMMDD"));
    }
    if raw.amz_date.get(..8) != Some(scope_date) {
        return Err(AuthError::ScopeDateMismatch {
            form,
            scope_date: scope_date.to_owned(),
            amz_date: raw.amz_date,
        });
    }
    let signed_headers = parse_signed_headers(form, &raw.signed_headers)?;
    if raw.signature.len() != 64 {
        return Err(malformed(form, "Signature must be 64 hex digits"));
    }
    let signature = hex::decode(&raw.signature)
        .map_err(|_| malformed(form, "Signature must be 64 hex digits"))?;
    Ok(ParsedSignature {
        form,
        access_key_id: access_key_id.to_owned(),
        scope_date: scope_date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature,
        amz_date: raw.amz_date,
        request_time: raw.request_time,
        expires: raw.expires,
        content_sha256: content_sha256(form, req.headers)?,
        security_token: raw.security_token,
    })
}

fn parse_signed_headers(form: SignatureForm, list: &str) -> Result<Vec<String>, AuthError> {
    let names: Vec<String> = list.split(';').map(str::to_owned).collect();
    if names
        .iter()
        .any(|n| n.is_empty() || n.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(malformed(
            form,
            "SignedHeaders must be a ;-separated list of lowercase names",
        ));
    }
    if !names.iter().any(|n| n == "host") {
        return Err(AuthError::HostNotSigned { form });
    }
    Ok(names)
}

/// `x-amz-content-sha256`, if present: `UNSIGNED-PAYLOAD` or a hex SHA-256.
fn content_sha256(
    form: SignatureForm,
    headers: &http::HeaderMap,
) -> Result<Option<String>, AuthError> {
    let mut values = headers.get_all("x-amz-content-sha256").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed(form, "more than one x-amz-content-sha256 header"));
    }
    let value = value.to_str().unwrap_or_default().trim();
    if value == UNSIGNED_PAYLOAD
        || (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Ok(Some(value.to_owned()));
    }
    if value.starts_with("STREAMING-") {
        return Err(malformed(
            form,
            "aws-chunked (STREAMING-*) payloads are not supported",
        ));
    }
    Err(malformed(
        form,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a hex sha-256",
    ))
}

fn malformed(form: SignatureForm, what: &'static str) -> AuthError {
    AuthError::Malformed { form, what }
}

/// Parses `X-Amz-Date`, reporting a bad one as malformed.
fn amz_date(form: SignatureForm, value: &str) -> Result<DateTime<Utc>, AuthError> {
    parse_amz_date(value).ok_or_else(|| malformed(form, "X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z'"))
}

#[cfg(test)]
mod tests;
