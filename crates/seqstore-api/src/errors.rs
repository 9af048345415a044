//! Every error reaches the wire here: domain, validation and authentication errors each
//! map to one modeled (or AWS-common) error code in a single exhaustive `match`.

use crate::wire::ApiError;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use seqstore_core::CoreError;
use seqstore_model::{ErrorShape, ValidationErrors};

impl ApiError {
    /// An error of a modeled shape, with the model's HTTP status.
    pub fn shape(shape: ErrorShape, message: impl Into<String>) -> Self {
        let status =
            StatusCode::from_u16(shape.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(shape.name(), status, message)
    }

    /// The answer for an unexpected failure; the details go to the log, not the client.
    pub fn internal(request_id: &str, err: &(dyn std::error::Error + 'static)) -> Self {
        let chain = seqstore_core::error_chain(err);
        tracing::error!(request_id, error = %chain, "internal error");
        Self::shape(
            ErrorShape::InternalServerException,
            format!("internal error (request {request_id})"),
        )
    }

    /// Maps a domain error.
    pub fn from_core(request_id: &str, err: CoreError) -> Self {
        match err {
            CoreError::Validation { message, .. } => {
                Self::shape(ErrorShape::ValidationException, message)
            }
            CoreError::NotFound(m) => Self::shape(ErrorShape::ResourceNotFoundException, m),
            CoreError::AccessDenied(m) => Self::shape(ErrorShape::AccessDeniedException, m),
            CoreError::Conflict(m) => Self::shape(ErrorShape::ConflictException, m),
            CoreError::QuotaExceeded(m) => {
                Self::shape(ErrorShape::ServiceQuotaExceededException, m)
            }
            CoreError::NotSupported(m) => {
                Self::shape(ErrorShape::NotSupportedOperationException, m)
            }
            CoreError::RangeNotSatisfiable(m) => {
                Self::shape(ErrorShape::RangeNotSatisfiableException, m)
            }
            // Modeled as retryable (botocore retries ThrottlingException).
            CoreError::Unavailable(m) => Self::shape(ErrorShape::ThrottlingException, m),
            e @ (CoreError::Catalog(_)
            | CoreError::Key(_)
            | CoreError::Storage { .. }
            | CoreError::Json { .. }
            | CoreError::Unmapped(_)
            | CoreError::NoFreeId(_)
            | CoreError::ReplayLost(_)) => Self::internal(request_id, &e),
        }
    }

    /// Maps a model constraint violation.
    pub fn from_validation(err: ValidationErrors) -> Self {
        Self::shape(ErrorShape::ValidationException, err.to_string())
    }

    /// Maps an authentication failure: always 403, with the code AWS uses for rest-json.
    pub fn from_auth(err: &seqstore_auth::AuthError) -> Self {
        Self::new(err.code(), StatusCode::FORBIDDEN, err.message())
    }

    /// The wire form: status, `x-amzn-ErrorType`, JSON `{"message": ...}`.
    pub fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        response
    }
}
