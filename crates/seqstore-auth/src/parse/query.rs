//! The presigned form: `X-Amz-Algorithm`, `X-Amz-Credential`, ... in the query string.

use super::{RawParts, amz_date, malformed};
use crate::encode::query_pairs;
use crate::{AuthError, MAX_PRESIGNED_EXPIRES, SignatureForm, SigningRequest};

const FORM: SignatureForm = SignatureForm::Presigned;

/// The query parameters that carry the signature, in a fixed order.
const PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

pub(super) fn parse(req: &SigningRequest<'_>) -> Result<RawParts, AuthError> {
    let mut found: [Option<String>; 7] = Default::default();
    for (name, value) in query_pairs(req.raw_query) {
        let Some(i) = PARAMS.iter().position(|p| *p == name) else {
            continue;
        };
        if found[i].replace(value).is_some() {
            return Err(malformed(
                FORM,
                "an X-Amz-* authentication parameter is repeated",
            ));
        }
    }
    let [
        algorithm,
        credential,
        date,
        expires,
        signed_headers,
        signature,
        security_token,
    ] = found;
    let missing = || {
        malformed(
            FORM,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters",
        )
    };
    let algorithm = algorithm.ok_or_else(missing)?;
    if algorithm != crate::ALGORITHM {
        return Err(AuthError::UnknownAlgorithm {
            form: FORM,
            algorithm,
        });
    }
    let (credential, date, expires, signed_headers, signature) =
        match (credential, date, expires, signed_headers, signature) {
            (Some(c), Some(d), Some(e), Some(h), Some(s)) => (c, d, e, h, s),
            _ => return Err(missing()),
        };
    let request_time = amz_date(FORM, &date)?;
    Ok(RawParts {
        form: FORM,
        credential,
        signed_headers,
        signature,
        amz_date: date,
        request_time,
        expires: Some(parse_expires(&expires)?),
        security_token,
    })
}

fn parse_expires(value: &str) -> Result<u32, AuthError> {
    match value.parse::<u32>() {
        Ok(seconds) if (1..=MAX_PRESIGNED_EXPIRES).contains(&seconds) => Ok(seconds),
        _ => Err(AuthError::InvalidExpires {
            value: value.to_owned(),
        }),
    }
}
