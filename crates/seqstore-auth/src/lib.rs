//! AWS Signature Version 4 verification for the omics (rest-json) and S3 endpoints.
//!
//! The flow has two steps because the secret-key lookup is async and lives elsewhere:
//! [`parse`] finds the signature form (the `Authorization` header or a presigned query),
//! and extracts the access key id; the caller looks the secret up and calls [`verify`].
//!
//! This crate knows HTTP only through the `http` crate's [`http::HeaderMap`] and holds no
//! domain rules: which service and region are expected and which canonical-URI encoding
//! applies is the caller's choice ([`Expected`]). Every error is answered with HTTP 403;
//! [`AuthError::code`] and [`AuthError::s3_code`] give the wire codes.

mod canonical;
mod date;
mod encode;
mod error;
mod parse;
mod sign;
mod verify;

#[cfg(test)]
mod tests;

pub use encode::uri_encode;
pub use error::AuthError;
pub use parse::{ParsedSignature, parse};
pub use sign::Signer;
pub use verify::verify;

/// The only algorithm accepted, as it appears in `Authorization` and `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The literal payload hash of requests whose body is not signed (and of S3 presigned URLs).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// SHA-256 hex of the empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Largest `X-Amz-Expires` AWS accepts: seven days, in seconds.
pub const MAX_PRESIGNED_EXPIRES: u32 = 604_800;

/// How far `X-Amz-Date` may be from the server clock for header-signed requests.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// The parts of a received request that SigV4 covers, as they came off the wire.
///
/// `raw_path` and `raw_query` are the still percent-encoded request-target parts (for an
/// absolute-form target, only its path and query); `headers` must hold `Host` as received.
#[derive(Debug, Clone, Copy)]
pub struct SigningRequest<'a> {
    /// HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// Path as received, e.g. `/tags/arn%3Aaws%3Aomics...`.
    pub raw_path: &'a str,
    /// Query string as received, without the `?`.
    pub raw_query: Option<&'a str>,
    /// All request headers.
    pub headers: &'a http::HeaderMap,
}

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    Header,
    /// `X-Amz-Algorithm`, `X-Amz-Credential`, ... `X-Amz-Signature` in the query string.
    Presigned,
}

/// How the received path becomes the canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriEncoding {
    /// Non-S3 services (`omics`): the received, already percent-encoded path is encoded
    /// once more (`%3A` is signed as `%253A`), as botocore's `quote(path, safe='/~')` does.
    Double,
    /// S3: the received path is signed as sent, i.e. its decoded segments re-encoded once.
    Single,
}

/// What the caller expects of the credential scope, and the URI encoding to verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    /// Signing name in the scope: `omics` or `s3`.
    pub service: &'a str,
    /// The configured region, e.g. `us-east-1`.
    pub region: &'a str,
    /// Canonical-URI mode.
    pub uri_encoding: UriEncoding,
}

impl<'a> Expected<'a> {
    /// The rest-json omics endpoint: service `omics`, double URI encoding.
    pub fn omics(region: &'a str) -> Self {
        Self {
            service: "omics",
            region,
            uri_encoding: UriEncoding::Double,
        }
    }

    /// The S3 read endpoint: service `s3`, single URI encoding.
    pub fn s3(region: &'a str) -> Self {
        Self {
            service: "s3",
            region,
            uri_encoding: UriEncoding::Single,
        }
    }
}

/// The payload hash the caller can vouch for.
///
/// Whatever is passed, a present `x-amz-content-sha256` header is what the client signed,
/// so its value is the one that goes into the canonical request; a hex value there that
/// differs from a [`PayloadHash::Computed`] digest is [`AuthError::PayloadHashMismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadHash<'a> {
    /// Lowercase hex SHA-256 of the body the caller buffered (the empty body included).
    Computed(&'a str),
    /// The body is streamed and not hashed yet: header-signed requests must carry
    /// `x-amz-content-sha256` (`UNSIGNED-PAYLOAD`, or a digest the caller checks while
    /// streaming, see [`ParsedSignature::claimed_payload_hash`]); presigned URLs carry no
    /// such header and are verified with `UNSIGNED-PAYLOAD`, as S3 presigners sign them.
    FromHeader,
}
