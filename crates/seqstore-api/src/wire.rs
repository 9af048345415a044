//! Wire-level types shared by the router, the generated dispatch and the handlers.

use axum::body::Body;
use http::StatusCode;
use seqstore_core::AccountId;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Who is calling and which request this is; built by the router after authentication.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The `x-amzn-RequestId` of this request.
    pub request_id: String,
    /// The 12-digit account the access key belongs to.
    pub account_id: AccountId,
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// A hex SHA-256 the client signed for a streamed body (`x-amz-content-sha256`), to be
    /// checked once the body has been read.
    pub claimed_payload_sha256: Option<String>,
}

/// An error as it goes on the wire: `x-amzn-ErrorType: <code>`, `{"message": ...}`, `status`.
#[derive(Debug)]
pub struct ApiError {
    /// The error shape name, e.g. `ValidationException`.
    pub code: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// The human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit code and status.
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
        }
    }

    /// `ValidationException` (400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", StatusCode::BAD_REQUEST, message)
    }

    /// The answer for a storage operation this version does not implement yet.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            "NotSupportedOperationException",
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{operation} is not implemented by this version of seqstore yet"),
        )
    }
}

/// The streaming body of a request (only `UploadReadSetPart` reads it).
pub type BodyStream = Body;

/// A streaming blob answer (`GetReadSet`, `GetReference`): exact length, then the bytes.
#[derive(Debug)]
pub struct BlobResponse {
    /// Exact number of bytes `body` yields; sent as `Content-Length`.
    pub content_length: u64,
    /// The bytes.
    pub body: Body,
}

/// What a handler produced, before the router adds the common headers.
#[derive(Debug)]
pub enum WireResponse {
    /// A JSON document with the given status.
    Json(StatusCode, serde_json::Value),
    /// No body (204 answers).
    Empty(StatusCode),
    /// A streaming blob.
    Blob(BlobResponse),
}

impl WireResponse {
    /// Serializes a generated output shape as the JSON body.
    pub fn json<T: Serialize>(status: u16, output: &T) -> Result<Self, ApiError> {
        let value = serde_json::to_value(output).map_err(|e| {
            ApiError::new(
                "InternalServerException",
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot encode response: {e}"),
            )
        })?;
        Ok(Self::Json(status_code(status), value))
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Self {
        Self::Empty(status_code(status))
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// Turns the validated JSON input document into the generated input shape.
///
/// The document has already passed the model's constraint checks, so a failure here means
/// a type the validator let through; it is still reported as a `ValidationException`.
pub fn from_input<T: DeserializeOwned>(input: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| ApiError::validation(format!("invalid request: {e}")))
}
