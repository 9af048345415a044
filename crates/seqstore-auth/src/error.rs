//! Why a request failed authentication, and how each endpoint names that on the wire.

use chrono::{DateTime, Utc};

use crate::SignatureForm;
use crate::date::format_amz_date;

/// A SigV4 verification failure. Callers answer every variant with HTTP 403, using
/// [`code`](Self::code)/[`message`](Self::message) on the rest-json endpoint and
/// [`s3_code`](Self::s3_code)/[`s3_message`](Self::s3_message) on the S3 endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm` in the query.
    #[error("request carries no sigv4 authentication")]
    Missing,
    /// The signature form was found but a part of it is missing or unparsable.
    #[error("malformed {form:?} signature: {what}")]
    Malformed {
        form: SignatureForm,
        what: &'static str,
    },
    /// Algorithm other than `AWS4-HMAC-SHA256` (SigV2, SigV4a...).
    #[error("unsupported signing algorithm {algorithm:?}")]
    UnknownAlgorithm {
        form: SignatureForm,
        algorithm: String,
    },
    /// Credential scope names another service.
    #[error("credential scoped to service {got:?}, expected {expected:?}")]
    WrongService {
        form: SignatureForm,
        expected: String,
        got: String,
    },
    /// Credential scope names another region.
    #[error("credential scoped to region {got:?}, expected {expected:?}")]
    WrongRegion {
        form: SignatureForm,
        expected: String,
        got: String,
    },
    /// Credential scope date is not the date part of `X-Amz-Date`.
    #[error("credential scope date {scope_date} is not the date of {amz_date}")]
    ScopeDateMismatch {
        form: SignatureForm,
        scope_date: String,
        amz_date: String,
    },
    /// `host` is not among the signed headers.
    #[error("the host header is not signed")]
    HostNotSigned { form: SignatureForm },
    /// `X-Amz-Expires` is not an integer in `1..=604800`.
    #[error("X-Amz-Expires {value:?} is not an integer in 1..=604800")]
    InvalidExpires { value: String },
    /// Header-signed request dated more than 15 minutes before `now`.
    #[error("signature expired: request time {} is more than 15 min before {}", fmt(.request_time), fmt(.now))]
    Expired {
        request_time: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Request dated more than 15 minutes after `now`.
    #[error("signature not yet current: request time {} is more than 15 min after {}", fmt(.request_time), fmt(.now))]
    NotYetCurrent {
        form: SignatureForm,
        request_time: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    #[error("presigned url expired: signed {} for {expires} s, now {}", fmt(.request_time), fmt(.now))]
    PresignedExpired {
        request_time: DateTime<Utc>,
        expires: u32,
        now: DateTime<Utc>,
    },
    /// A header listed in `SignedHeaders` is not in the request.
    #[error("signed header {name:?} is not present in the request")]
    SignedHeaderMissing { name: String },
    /// Streaming body, header-signed, without `x-amz-content-sha256`.
    #[error("x-amz-content-sha256 is required for a streamed body")]
    MissingContentSha256,
    /// `x-amz-content-sha256` claims a digest the body does not have.
    #[error("x-amz-content-sha256 {claimed} does not match the body's sha256 {computed}")]
    PayloadHashMismatch { claimed: String, computed: String },
    /// The signature is not the one the secret key gives; carries what the server signed.
    #[error(
        "signature mismatch; canonical request:\n{canonical_request}\nstring to sign:\n{string_to_sign}"
    )]
    SignatureMismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// No secret is known for the access key id (raised by the caller's key lookup).
    #[error("unknown access key id {access_key_id:?}")]
    UnknownAccessKey { access_key_id: String },
}

fn fmt(t: &DateTime<Utc>) -> String {
    format_amz_date(*t)
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

const S3_SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

impl AuthError {
    /// The error code on the rest-json (omics) endpoint, for `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Malformed { .. }
            | Self::UnknownAlgorithm { .. }
            | Self::HostNotSigned { .. }
            | Self::InvalidExpires { .. }
            | Self::MissingContentSha256 => "IncompleteSignatureException",
            Self::WrongService { .. }
            | Self::WrongRegion { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::Expired { .. }
            | Self::NotYetCurrent { .. }
            | Self::PresignedExpired { .. }
            | Self::SignedHeaderMissing { .. }
            | Self::PayloadHashMismatch { .. }
            | Self::SignatureMismatch { .. } => "InvalidSignatureException",
            Self::UnknownAccessKey { .. } => "UnrecognizedClientException",
        }
    }

    /// The message on the rest-json endpoint, worded as AWS words it where known.
    pub fn message(&self) -> String {
        match self {
            Self::Missing => "Missing Authentication Token".to_owned(),
            Self::UnknownAlgorithm { algorithm, .. } => {
                format!("Unsupported AWS 'algorithm': '{algorithm}'.")
            }
            Self::WrongService { expected, .. } => {
                format!("Credential should be scoped to correct service: '{expected}'.")
            }
            Self::WrongRegion { .. } => "Credential should be scoped to a valid region.".to_owned(),
            Self::ScopeDateMismatch {
                scope_date,
                amz_date,
                ..
            } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
                amz_date.get(..8).unwrap_or(amz_date)
            ),
            Self::Expired { request_time, now } => format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                fmt(request_time),
                fmt(&(*now - crate::MAX_CLOCK_SKEW)),
                fmt(now)
            ),
            Self::NotYetCurrent {
                request_time, now, ..
            } => format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                fmt(request_time),
                fmt(&(*now + crate::MAX_CLOCK_SKEW)),
                fmt(now)
            ),
            Self::PresignedExpired {
                request_time,
                expires,
                now,
            } => format!(
                "Signature expired: {} is now earlier than {} ({} + {expires} s)",
                fmt(&(*request_time + chrono::TimeDelta::seconds(i64::from(*expires)))),
                fmt(now),
                fmt(request_time)
            ),
            Self::SignatureMismatch { .. } | Self::SignedHeaderMissing { .. } => {
                SIGNATURE_MISMATCH.to_owned()
            }
            Self::UnknownAccessKey { .. } => {
                "The security token included in the request is invalid.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The error code on the S3 endpoint.
    pub fn s3_code(&self) -> &'static str {
        let malformed = |form: &SignatureForm| match form {
            SignatureForm::Header => "AuthorizationHeaderMalformed",
            SignatureForm::Presigned => "AuthorizationQueryParametersError",
        };
        match self {
            Self::Missing | Self::PresignedExpired { .. } => "AccessDenied",
            Self::Malformed { form, .. }
            | Self::WrongService { form, .. }
            | Self::WrongRegion { form, .. }
            | Self::ScopeDateMismatch { form, .. }
            | Self::HostNotSigned { form } => malformed(form),
            Self::UnknownAlgorithm {
                form: SignatureForm::Header,
                ..
            } => "InvalidArgument",
            Self::UnknownAlgorithm {
                form: SignatureForm::Presigned,
                ..
            }
            | Self::InvalidExpires { .. } => "AuthorizationQueryParametersError",
            Self::Expired { .. }
            | Self::NotYetCurrent {
                form: SignatureForm::Header,
                ..
            } => "RequestTimeTooSkewed",
            Self::NotYetCurrent {
                form: SignatureForm::Presigned,
                ..
            } => "AccessDenied",
            Self::SignedHeaderMissing { .. } | Self::SignatureMismatch { .. } => {
                "SignatureDoesNotMatch"
            }
            Self::MissingContentSha256 => "InvalidRequest",
            Self::PayloadHashMismatch { .. } => "XAmzContentSHA256Mismatch",
            Self::UnknownAccessKey { .. } => "InvalidAccessKeyId",
        }
    }

    /// The message on the S3 endpoint, worded as S3 words it where known.
    pub fn s3_message(&self) -> String {
        let prefix = |form: &SignatureForm| match form {
            SignatureForm::Header => "The authorization header is malformed",
            SignatureForm::Presigned => "Error parsing the X-Amz-Credential parameter",
        };
        match self {
            Self::Missing => "Access Denied".to_owned(),
            Self::Malformed { form, what } => format!("{}; {what}", prefix(form)),
            Self::UnknownAlgorithm {
                form: SignatureForm::Header,
                ..
            } => "Unsupported Authorization Type".to_owned(),
            Self::UnknownAlgorithm {
                form: SignatureForm::Presigned,
                ..
            } => "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".to_owned(),
            Self::WrongService {
                form,
                expected,
                got,
            } => format!(
                "{}; incorrect service \"{got}\". This endpoint belongs to \"{expected}\".",
                prefix(form)
            ),
            Self::WrongRegion {
                form,
                expected,
                got,
            } => {
                format!(
                    "{}; the region '{got}' is wrong; expecting '{expected}'",
                    prefix(form)
                )
            }
            Self::ScopeDateMismatch { form, .. } => {
                format!(
                    "{}; Invalid credential date. Date is not the same as X-Amz-Date.",
                    prefix(form)
                )
            }
            Self::HostNotSigned { form } => {
                format!("{}; the host header must be signed", prefix(form))
            }
            Self::InvalidExpires { .. } => {
                "X-Amz-Expires must be an integer between 1 and 604800 (a week, in seconds)"
                    .to_owned()
            }
            Self::Expired { .. }
            | Self::NotYetCurrent {
                form: SignatureForm::Header,
                ..
            } => "The difference between the request time and the current time is too large."
                .to_owned(),
            Self::NotYetCurrent {
                form: SignatureForm::Presigned,
                ..
            } => "Request is not valid yet".to_owned(),
            Self::PresignedExpired { .. } => "Request has expired".to_owned(),
            Self::SignedHeaderMissing { name } => {
                format!("{S3_SIGNATURE_MISMATCH} The signed header '{name}' is not in the request.")
            }
            Self::SignatureMismatch { .. } => S3_SIGNATURE_MISMATCH.to_owned(),
            Self::MissingContentSha256 => {
                "Missing required header for this request: x-amz-content-sha256".to_owned()
            }
            Self::PayloadHashMismatch { .. } => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .to_owned()
            }
            Self::UnknownAccessKey { .. } => {
                "The AWS Access Key Id you provided does not exist in our records.".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::parse_amz_date;

    #[test]
    fn expired_message_has_the_aws_form() {
        let err = AuthError::Expired {
            request_time: parse_amz_date("20240101T000000Z").expect("date"),
            now: parse_amz_date("20240101T002500Z").expect("date"),
        };
        assert_eq!(err.code(), "InvalidSignatureException");
        assert_eq!(
            err.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T002500Z - 15 min.)"
        );
        assert_eq!(err.s3_code(), "RequestTimeTooSkewed");
    }

    #[test]
    fn codes_follow_the_form_where_s3_distinguishes_it() {
        let header = AuthError::WrongRegion {
            form: SignatureForm::Header,
            expected: "us-east-1".into(),
            got: "eu-west-1".into(),
        };
        let query = AuthError::WrongRegion {
            form: SignatureForm::Presigned,
            expected: "us-east-1".into(),
            got: "eu-west-1".into(),
        };
        assert_eq!(header.s3_code(), "AuthorizationHeaderMalformed");
        assert_eq!(query.s3_code(), "AuthorizationQueryParametersError");
        assert_eq!(header.code(), query.code());
    }

    #[test]
    fn missing_and_unknown_key_use_the_aws_wording() {
        assert_eq!(
            AuthError::Missing.code(),
            "MissingAuthenticationTokenException"
        );
        assert_eq!(AuthError::Missing.message(), "Missing Authentication Token");
        let unknown = AuthError::UnknownAccessKey {
            access_key_id: "AK".into(),
        };
        assert_eq!(unknown.code(), "UnrecognizedClientException");
        assert_eq!(
            unknown.message(),
            "The security token included in the request is invalid."
        );
        assert_eq!(unknown.s3_code(), "InvalidAccessKeyId");
    }
}
