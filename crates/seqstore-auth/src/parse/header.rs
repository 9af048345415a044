//! The `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` form.

use http::HeaderValue;

use super::{RawParts, amz_date, malformed};
use crate::date::{format_amz_date, parse_http_date};
use crate::{AuthError, SignatureForm, SigningRequest};

const FORM: SignatureForm = SignatureForm::Header;

pub(super) fn parse(
    req: &SigningRequest<'_>,
    authorization: &HeaderValue,
) -> Result<RawParts, AuthError> {
    let value = authorization
        .to_str()
        .map_err(|_| malformed(FORM, "Authorization header is not ASCII"))?
        .trim();
    let (algorithm, params) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != crate::ALGORITHM {
        return Err(AuthError::UnknownAlgorithm {
            form: FORM,
            algorithm: algorithm.to_owned(),
        });
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = param
            .split_once('=')
            .ok_or_else(|| malformed(FORM, "Authorization parameters must be key=value"))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(malformed(FORM, "Authorization header repeats a parameter"));
        }
    }
    let credential = credential
        .ok_or_else(|| malformed(FORM, "Authorization header requires 'Credential' parameter"))?;
    let signed_headers = signed_headers.ok_or_else(|| {
        malformed(
            FORM,
            "Authorization header requires 'SignedHeaders' parameter",
        )
    })?;
    let signature = signature
        .ok_or_else(|| malformed(FORM, "Authorization header requires 'Signature' parameter"))?;
    let (amz_date, request_time) = request_date(req.headers)?;
    Ok(RawParts {
        form: FORM,
        credential,
        signed_headers,
        signature,
        amz_date,
        request_time,
        expires: None,
        security_token: single(req.headers, "x-amz-security-token")?,
    })
}

/// `X-Amz-Date`, else the HTTP `Date` header converted to the `X-Amz-Date` form.
fn request_date(
    headers: &http::HeaderMap,
) -> Result<(String, chrono::DateTime<chrono::Utc>), AuthError> {
    if let Some(value) = single(headers, "x-amz-date")? {
        let time = amz_date(FORM, &value)?;
        return Ok((value, time));
    }
    if let Some(value) = single(headers, "date")? {
        let time = parse_http_date(&value)
            .ok_or_else(|| malformed(FORM, "Date header is not an HTTP date"))?;
        return Ok((format_amz_date(time), time));
    }
    Err(malformed(
        FORM,
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header",
    ))
}

/// A header that may appear at most once, as trimmed text.
fn single(headers: &http::HeaderMap, name: &'static str) -> Result<Option<String>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed(
            FORM,
            "a date or security-token header is repeated",
        ));
    }
    let text = value
        .to_str()
        .map_err(|_| malformed(FORM, "a date or security-token header is not ASCII"))?;
    Ok(Some(text.trim().to_owned()))
}
