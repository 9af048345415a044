//! The worked examples of the S3 API reference ("Signature Calculations for the
//! Authorization Header" and "Authenticating Requests: Using Query Parameters"):
//! service `s3`, single URI encoding, `x-amz-content-sha256`, a presigned URL.

use super::support::{Req, read, time};
use crate::{AuthError, EMPTY_SHA256, Expected, PayloadHash, SignatureForm, parse, verify};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW: &str = "20130524T000000Z";
const EXAMPLES: [&str; 5] = [
    "get-object",
    "put-object",
    "get-bucket-lifecycle",
    "list-objects",
    "presigned-get-object",
];

fn load(name: &str) -> Req {
    Req::parse(&read(&format!("s3-docs/{name}.req")))
}

#[test]
fn s3_examples_verify_with_the_claimed_payload_hash() {
    for name in EXAMPLES {
        let req = load(name);
        let parsed = parse(&req.signing()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.access_key_id(), "AKIAIOSFODNN7EXAMPLE", "{name}");
        verify(
            &req.signing(),
            &parsed,
            SECRET,
            PayloadHash::FromHeader,
            &Expected::s3("us-east-1"),
            time(NOW),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn put_object_payload_hash_is_checked_against_the_body() {
    let req = load("put-object");
    let parsed = parse(&req.signing()).expect("parse");
    assert_eq!(
        parsed.claimed_payload_hash(),
        Some(req.body_sha256().as_str())
    );
    let expected = Expected::s3("us-east-1");
    verify(
        &req.signing(),
        &parsed,
        SECRET,
        PayloadHash::Computed(&req.body_sha256()),
        &expected,
        time(NOW),
    )
    .expect("body matches the claim");
    let err = verify(
        &req.signing(),
        &parsed,
        SECRET,
        PayloadHash::Computed(EMPTY_SHA256),
        &expected,
        time(NOW),
    )
    .expect_err("empty body does not");
    assert!(
        matches!(err, AuthError::PayloadHashMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(err.s3_code(), "XAmzContentSHA256Mismatch");
}

#[test]
fn s3_path_is_single_encoded() {
    // The PUT example signs `/test%24file.text`; encoding it once more breaks the signature.
    let req = load("put-object");
    let parsed = parse(&req.signing()).expect("parse");
    let double = Expected {
        uri_encoding: crate::UriEncoding::Double,
        ..Expected::s3("us-east-1")
    };
    let err = verify(
        &req.signing(),
        &parsed,
        SECRET,
        PayloadHash::FromHeader,
        &double,
        time(NOW),
    )
    .expect_err("double encoding");
    assert!(
        matches!(err, AuthError::SignatureMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn presigned_example_expires_after_its_day() {
    let req = load("presigned-get-object");
    let parsed = parse(&req.signing()).expect("parse");
    assert_eq!(parsed.form(), SignatureForm::Presigned);
    let expected = Expected::s3("us-east-1");
    let at = |s: &str| {
        verify(
            &req.signing(),
            &parsed,
            SECRET,
            PayloadHash::FromHeader,
            &expected,
            time(s),
        )
    };
    at("20130525T000000Z").expect("the last valid second");
    let err = at("20130525T000001Z").expect_err("one second later");
    assert!(
        matches!(err, AuthError::PresignedExpired { expires: 86400, .. }),
        "{err:?}"
    );
    assert_eq!(
        (err.s3_code(), err.s3_message().as_str()),
        ("AccessDenied", "Request has expired")
    );
}
