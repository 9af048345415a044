//! Each check of `verify`, driven through the signer so every case can fail both ways.

use chrono::{DateTime, TimeDelta, Utc};
use http::{HeaderMap, HeaderValue};

use super::*;
use crate::date::parse_amz_date;
use crate::{EMPTY_SHA256, Signer, UriEncoding, parse};

const SECRET: &str = "seqstore/Test+Secret/0123456789abcdefghij";
const ARN_PATH: &str =
    "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890";

fn t0() -> DateTime<Utc> {
    parse_amz_date("20240101T120000Z").expect("t0")
}

fn signer(service: &'static str, uri_encoding: UriEncoding) -> Signer<'static> {
    Signer {
        access_key_id: "AKIDTEST",
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service,
        uri_encoding,
    }
}

/// A header-signed omics GET with a signed Range header.
fn omics_get() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    headers.insert("range", HeaderValue::from_static("bytes=0-99"));
    signer("omics", UriEncoding::Double)
        .sign_headers(
            "GET",
            ARN_PATH,
            Some("partNumber=1"),
            &mut headers,
            EMPTY_SHA256,
            t0(),
        )
        .expect("sign");
    headers
}

fn check(
    headers: &HeaderMap,
    query: Option<&str>,
    payload: PayloadHash<'_>,
    expected: Expected<'_>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let req = SigningRequest {
        method: "GET",
        raw_path: ARN_PATH,
        raw_query: query,
        headers,
    };
    let parsed = parse(&req)?;
    verify(&req, &parsed, SECRET, payload, &expected, now)
}

fn omics_check(headers: &HeaderMap, now: DateTime<Utc>) -> Result<(), AuthError> {
    check(
        headers,
        Some("partNumber=1"),
        PayloadHash::Computed(EMPTY_SHA256),
        Expected::omics("us-east-1"),
        now,
    )
}

#[test]
fn a_signed_request_verifies() {
    omics_check(&omics_get(), t0()).expect("valid");
}

#[test]
fn wrong_service_and_region_are_distinct_errors() {
    let headers = omics_get();
    let as_s3 = Expected {
        uri_encoding: UriEncoding::Double,
        ..Expected::s3("us-east-1")
    };
    let err = check(
        &headers,
        Some("partNumber=1"),
        PayloadHash::Computed(EMPTY_SHA256),
        as_s3,
        t0(),
    )
    .expect_err("service");
    assert!(
        matches!(err, AuthError::WrongService { ref expected, ref got, .. } if expected == "s3" && got == "omics"),
        "{err:?}"
    );
    let err = check(
        &headers,
        Some("partNumber=1"),
        PayloadHash::Computed(EMPTY_SHA256),
        Expected::omics("eu-west-1"),
        t0(),
    )
    .expect_err("region");
    assert!(
        matches!(err, AuthError::WrongRegion { ref got, .. } if got == "us-east-1"),
        "{err:?}"
    );
}

#[test]
fn clock_skew_is_fifteen_minutes_either_way() {
    let headers = omics_get();
    let skew = TimeDelta::minutes(15);
    let second = TimeDelta::seconds(1);
    omics_check(&headers, t0() + skew).expect("15 min later");
    omics_check(&headers, t0() - skew).expect("15 min earlier");
    let late = omics_check(&headers, t0() + skew + second).expect_err("too late");
    assert_eq!(
        late,
        AuthError::Expired {
            request_time: t0(),
            now: t0() + skew + second
        }
    );
    let early = omics_check(&headers, t0() - skew - second).expect_err("too early");
    assert!(
        matches!(
            early,
            AuthError::NotYetCurrent {
                form: SignatureForm::Header,
                ..
            }
        ),
        "{early:?}"
    );
}

#[test]
fn tampering_with_a_signed_part_is_a_mismatch_and_unsigned_headers_are_free() {
    let mut headers = omics_get();
    headers.insert("user-agent", HeaderValue::from_static("anything"));
    omics_check(&headers, t0()).expect("unsigned header added");
    headers.insert("range", HeaderValue::from_static("bytes=0-100"));
    let err = omics_check(&headers, t0()).expect_err("range changed");
    let AuthError::SignatureMismatch {
        canonical_request,
        string_to_sign,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(
        canonical_request.contains("range:bytes=0-100\n"),
        "{canonical_request}"
    );
    assert!(
        string_to_sign.starts_with("AWS4-HMAC-SHA256\n20240101T120000Z\n"),
        "{string_to_sign}"
    );
    let err = check(
        &omics_get(),
        Some("partNumber=2"),
        PayloadHash::Computed(EMPTY_SHA256),
        Expected::omics("us-east-1"),
        t0(),
    )
    .expect_err("query changed");
    assert!(
        matches!(err, AuthError::SignatureMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn a_signed_header_removed_is_reported_by_name() {
    let mut headers = omics_get();
    headers.remove("range");
    assert_eq!(
        omics_check(&headers, t0()),
        Err(AuthError::SignedHeaderMissing {
            name: "range".into()
        })
    );
}

#[test]
fn payload_hash_rules() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("h"));
    headers.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(UNSIGNED_PAYLOAD),
    );
    signer("omics", UriEncoding::Double)
        .sign_headers("GET", ARN_PATH, None, &mut headers, UNSIGNED_PAYLOAD, t0())
        .expect("sign");
    let omics = Expected::omics("us-east-1");
    check(&headers, None, PayloadHash::FromHeader, omics, t0()).expect("streamed, unsigned");
    check(
        &headers,
        None,
        PayloadHash::Computed("ab".repeat(32).as_str()),
        omics,
        t0(),
    )
    .expect("buffered, unsigned");

    let mut plain = HeaderMap::new();
    plain.insert("host", HeaderValue::from_static("h"));
    signer("omics", UriEncoding::Double)
        .sign_headers("GET", ARN_PATH, None, &mut plain, EMPTY_SHA256, t0())
        .expect("sign");
    assert_eq!(
        check(&plain, None, PayloadHash::FromHeader, omics, t0()),
        Err(AuthError::MissingContentSha256)
    );
    let err = check(
        &plain,
        None,
        PayloadHash::Computed(&"ab".repeat(32)),
        omics,
        t0(),
    )
    .expect_err("other body");
    assert!(
        matches!(err, AuthError::SignatureMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn presigned_urls_honour_x_amz_expires() {
    let s3 = signer("s3", UriEncoding::Single);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9000"));
    let path = "/ap/key%20with%20space";
    let query = s3
        .presign(
            &SigningRequest {
                method: "GET",
                raw_path: path,
                raw_query: Some("versionId=1"),
                headers: &headers,
            },
            UNSIGNED_PAYLOAD,
            600,
            t0(),
        )
        .expect("presign");
    let run = |query: &str, now| {
        let req = SigningRequest {
            method: "GET",
            raw_path: path,
            raw_query: Some(query),
            headers: &headers,
        };
        let parsed = parse(&req)?;
        verify(
            &req,
            &parsed,
            SECRET,
            PayloadHash::FromHeader,
            &Expected::s3("us-east-1"),
            now,
        )
    };
    run(&query, t0()).expect("fresh");
    run(&query, t0() + TimeDelta::seconds(600)).expect("last second");
    let err = run(&query, t0() + TimeDelta::seconds(601)).expect_err("expired");
    assert!(
        matches!(err, AuthError::PresignedExpired { expires: 600, .. }),
        "{err:?}"
    );
    let err = run(&query, t0() - TimeDelta::minutes(16)).expect_err("from the future");
    assert!(
        matches!(
            err,
            AuthError::NotYetCurrent {
                form: SignatureForm::Presigned,
                ..
            }
        ),
        "{err:?}"
    );
    // X-Amz-Signature is left out of the canonical query wherever it stands.
    let (rest, signature) = query.rsplit_once("&X-Amz-Signature=").expect("signature");
    run(&format!("X-Amz-Signature={signature}&{rest}"), t0()).expect("signature first");
    let err = run(&query.replace("versionId=1", "versionId=2"), t0()).expect_err("tampered");
    assert!(
        matches!(err, AuthError::SignatureMismatch { .. }),
        "{err:?}"
    );
    let err = run(
        &query.replace("X-Amz-Expires=600", "X-Amz-Expires=6000"),
        t0() + TimeDelta::seconds(700),
    )
    .expect_err("longer expiry");
    assert!(
        matches!(err, AuthError::SignatureMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn session_tokens_are_signed_in_both_forms() {
    let with_token = Signer {
        session_token: Some("FQoG/token+=="),
        ..signer("omics", UriEncoding::Double)
    };
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("h"));
    with_token
        .sign_headers("GET", ARN_PATH, None, &mut headers, EMPTY_SHA256, t0())
        .expect("sign");
    let req = SigningRequest {
        method: "GET",
        raw_path: ARN_PATH,
        raw_query: None,
        headers: &headers,
    };
    let parsed = parse(&req).expect("parse");
    assert_eq!(parsed.security_token(), Some("FQoG/token+=="));
    assert!(
        parsed
            .signed_headers()
            .iter()
            .any(|h| h == "x-amz-security-token")
    );
    verify(
        &req,
        &parsed,
        SECRET,
        PayloadHash::Computed(EMPTY_SHA256),
        &Expected::omics("us-east-1"),
        t0(),
    )
    .expect("header");

    let mut host = HeaderMap::new();
    host.insert("host", HeaderValue::from_static("h"));
    let query = with_token
        .presign(
            &SigningRequest {
                method: "GET",
                raw_path: ARN_PATH,
                raw_query: None,
                headers: &host,
            },
            EMPTY_SHA256,
            60,
            t0(),
        )
        .expect("presign");
    let req = SigningRequest {
        method: "GET",
        raw_path: ARN_PATH,
        raw_query: Some(&query),
        headers: &host,
    };
    let parsed = parse(&req).expect("parse");
    assert_eq!(parsed.security_token(), Some("FQoG/token+=="));
    verify(
        &req,
        &parsed,
        SECRET,
        PayloadHash::Computed(EMPTY_SHA256),
        &Expected::omics("us-east-1"),
        t0(),
    )
    .expect("query");
}

#[test]
fn the_date_header_form_of_the_2011_suite_verifies() {
    // aws4_testsuite (2011) get-vanilla: `Date` instead of `X-Amz-Date`, service `host`.
    let mut headers = HeaderMap::new();
    headers.insert(
        "date",
        HeaderValue::from_static("Mon, 09 Sep 2011 23:36:00 GMT"),
    );
    headers.insert("host", HeaderValue::from_static("host.foo.com"));
    headers.insert("authorization", HeaderValue::from_static(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
    ));
    let req = SigningRequest {
        method: "GET",
        raw_path: "/",
        raw_query: None,
        headers: &headers,
    };
    let parsed = parse(&req).expect("parse");
    let expected = Expected {
        service: "host",
        region: "us-east-1",
        uri_encoding: UriEncoding::Double,
    };
    let now = parse_amz_date("20110909T233600Z").expect("now");
    verify(
        &req,
        &parsed,
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        PayloadHash::Computed(EMPTY_SHA256),
        &expected,
        now,
    )
    .expect("2011 get-vanilla");
}
