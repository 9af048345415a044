//! Domain failures and refusals as S3 errors, in one place.

use s3s::{S3Error, S3ErrorCode};

use crate::source::SourceError;

/// Maps a domain failure to the wire, logging it with its cause chain.
pub(crate) fn from_source(err: SourceError) -> S3Error {
    let chain = seqstore_core::error_chain(&err);
    match err {
        SourceError::Unavailable(cause) => {
            tracing::warn!(error = %chain, "object source unavailable");
            let mut e = S3Error::with_message(
                S3ErrorCode::ServiceUnavailable,
                "The service is unavailable. Please retry.",
            );
            e.set_source(cause);
            e
        }
        SourceError::Internal(cause) => {
            tracing::error!(error = %chain, "object source failed");
            let mut e = S3Error::with_message(
                S3ErrorCode::InternalError,
                "We encountered an internal error. Please try again.",
            );
            e.set_source(cause);
            e
        }
    }
}

pub(crate) fn no_such_key() -> S3Error {
    S3Error::with_message(S3ErrorCode::NoSuchKey, "The specified key does not exist.")
}

pub(crate) fn access_denied() -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied")
}

pub(crate) fn read_only() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "Access Denied: this endpoint is read-only",
    )
}

pub(crate) fn archived() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidObjectState,
        "The operation is not valid for the object's storage class",
    )
}

pub(crate) fn wrong_region(got: &str, expected: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationHeaderMalformed,
        format!(
            "The authorization header is malformed; the region '{got}' is wrong; expecting '{expected}'"
        ),
    )
}

pub(crate) fn invalid_argument(message: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk full")]
    struct Disk;

    #[test]
    fn status_codes() {
        assert_eq!(no_such_key().status_code().unwrap(), 404);
        assert_eq!(access_denied().status_code().unwrap(), 403);
        assert_eq!(read_only().status_code().unwrap(), 403);
        assert_eq!(archived().status_code().unwrap(), 403);
        assert_eq!(*archived().code(), S3ErrorCode::InvalidObjectState);
        assert_eq!(wrong_region("a", "b").status_code().unwrap(), 400);
    }

    #[test]
    fn source_errors_keep_their_cause() {
        let e = from_source(SourceError::internal(Disk));
        assert_eq!(*e.code(), S3ErrorCode::InternalError);
        assert_eq!(e.status_code().unwrap(), 500);
        assert_eq!(e.source().unwrap().to_string(), "disk full");
        let e = from_source(SourceError::unavailable(Disk));
        assert_eq!(e.status_code().unwrap(), 503);
    }

    #[test]
    fn chain_joins_causes() {
        let e = SourceError::internal(Disk);
        assert_eq!(
            seqstore_core::error_chain(&e),
            "object source failed: disk full"
        );
    }
}
