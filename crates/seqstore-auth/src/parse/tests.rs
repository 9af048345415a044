//! One test per rejected shape of the header and presigned forms.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    map
}

fn run(query: Option<&str>, pairs: &[(&str, &str)]) -> Result<ParsedSignature, AuthError> {
    let map = headers(pairs);
    parse(&SigningRequest {
        method: "GET",
        raw_path: "/",
        raw_query: query,
        headers: &map,
    })
}

fn header_form(authorization: &str) -> Result<ParsedSignature, AuthError> {
    run(
        None,
        &[
            ("host", "h"),
            ("x-amz-date", "20240101T000000Z"),
            ("authorization", authorization),
        ],
    )
}

fn presigned(extra: &str) -> Result<ParsedSignature, AuthError> {
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}{extra}"
    );
    run(Some(&query), &[("host", "h")])
}

fn is_malformed(result: &Result<ParsedSignature, AuthError>, form: SignatureForm) -> bool {
    matches!(result, Err(AuthError::Malformed { form: f, .. }) if *f == form)
}

#[test]
fn header_form_is_parsed() {
    let parsed = header_form(AUTH).expect("valid");
    assert_eq!(parsed.form(), SignatureForm::Header);
    assert_eq!(parsed.access_key_id(), "AK");
    assert_eq!((parsed.region(), parsed.service()), ("us-east-1", "omics"));
    assert_eq!(parsed.signed_headers(), ["host", "x-amz-date"]);
    assert_eq!(parsed.expires(), None);
    assert_eq!(parsed.signature, hex::decode(SIG).expect("hex"));
}

#[test]
fn no_authentication_is_missing() {
    assert_eq!(run(None, &[("host", "h")]), Err(AuthError::Missing));
    assert_eq!(run(Some("a=1"), &[("host", "h")]), Err(AuthError::Missing));
}

#[test]
fn both_forms_or_two_headers_are_malformed() {
    let both = run(
        Some("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        &[
            ("host", "h"),
            ("x-amz-date", "20240101T000000Z"),
            ("authorization", AUTH),
        ],
    );
    assert!(is_malformed(&both, SignatureForm::Header), "{both:?}");
    let two = run(
        None,
        &[
            ("host", "h"),
            ("x-amz-date", "20240101T000000Z"),
            ("authorization", AUTH),
            ("authorization", AUTH),
        ],
    );
    assert!(is_malformed(&two, SignatureForm::Header), "{two:?}");
}

#[test]
fn other_algorithms_are_unknown() {
    let v2 = header_form("AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    assert_eq!(
        v2,
        Err(AuthError::UnknownAlgorithm {
            form: SignatureForm::Header,
            algorithm: "AWS".into()
        })
    );
    let v4a = run(
        Some("X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Signature=x"),
        &[("host", "h")],
    );
    assert_eq!(
        v4a,
        Err(AuthError::UnknownAlgorithm {
            form: SignatureForm::Presigned,
            algorithm: "AWS4-ECDSA-P256-SHA256".into()
        })
    );
}

#[test]
fn missing_or_repeated_authorization_parameters_are_malformed() {
    for bad in [
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential",
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, Credential=AK/20240101/us-east-1/omics/aws4_request, SignedHeaders=host, Signature=00",
    ] {
        let result = header_form(bad);
        assert!(
            is_malformed(&result, SignatureForm::Header),
            "{bad}: {result:?}"
        );
    }
}

#[test]
fn bad_credentials_are_malformed() {
    for credential in [
        "AK/20240101/us-east-1/omics",
        "AK/20240101/us-east-1/omics/aws4_request/x",
        "AK/20240101/us-east-1/omics/aws5_request",
        "/20240101/us-east-1/omics/aws4_request",
        "AK/2024011/us-east-1/omics/aws4_request",
        "AK/20240101//omics/aws4_request",
    ] {
        let auth = AUTH.replace("AK/20240101/us-east-1/omics/aws4_request", credential);
        let result = header_form(&auth);
        assert!(
            is_malformed(&result, SignatureForm::Header),
            "{credential}: {result:?}"
        );
    }
}

#[test]
fn scope_date_must_be_the_date_of_x_amz_date() {
    let auth = AUTH.replace("20240101", "20240102");
    assert_eq!(
        header_form(&auth),
        Err(AuthError::ScopeDateMismatch {
            form: SignatureForm::Header,
            scope_date: "20240102".into(),
            amz_date: "20240101T000000Z".into()
        })
    );
}

#[test]
fn host_must_be_signed() {
    let auth = AUTH.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    assert_eq!(
        header_form(&auth),
        Err(AuthError::HostNotSigned {
            form: SignatureForm::Header
        })
    );
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=range&X-Amz-Signature={SIG}"
    );
    assert_eq!(
        run(Some(&query), &[("host", "h")]),
        Err(AuthError::HostNotSigned {
            form: SignatureForm::Presigned
        })
    );
}

#[test]
fn signed_headers_must_be_lowercase_names() {
    for list in ["Host;x-amz-date", "host;;x-amz-date", ""] {
        let auth = AUTH.replace("host;x-amz-date", list);
        let result = header_form(&auth);
        assert!(
            is_malformed(&result, SignatureForm::Header),
            "{list}: {result:?}"
        );
    }
}

#[test]
fn signature_must_be_64_hex_digits() {
    for sig in ["abc", &"g".repeat(64), &"0".repeat(65)] {
        let auth = AUTH.replace(SIG, sig);
        let result = header_form(&auth);
        assert!(
            is_malformed(&result, SignatureForm::Header),
            "{sig}: {result:?}"
        );
    }
}

#[test]
fn the_date_header_stands_in_for_x_amz_date() {
    let auth = AUTH.replace("20240101", "20110909");
    let parsed = run(
        None,
        &[
            ("host", "h"),
            ("date", "Fri, 09 Sep 2011 23:36:00 GMT"),
            ("authorization", &auth),
        ],
    )
    .expect("date header");
    assert_eq!(parsed.amz_date, "20110909T233600Z");
    let none = run(None, &[("host", "h"), ("authorization", AUTH)]);
    assert!(is_malformed(&none, SignatureForm::Header), "{none:?}");
    let bad = run(
        None,
        &[
            ("host", "h"),
            ("x-amz-date", "2024-01-01T00:00:00Z"),
            ("authorization", AUTH),
        ],
    );
    assert!(is_malformed(&bad, SignatureForm::Header), "{bad:?}");
}

#[test]
fn presigned_form_is_parsed_with_its_token() {
    let parsed = presigned("&X-Amz-Expires=3600&X-Amz-Security-Token=tok%2Fen").expect("valid");
    assert_eq!(parsed.form(), SignatureForm::Presigned);
    assert_eq!(parsed.expires(), Some(3600));
    assert_eq!(parsed.security_token(), Some("tok/en"));
    assert_eq!(parsed.service(), "s3");
}

#[test]
fn presigned_needs_every_parameter() {
    let missing_expires = presigned("");
    assert!(
        is_malformed(&missing_expires, SignatureForm::Presigned),
        "{missing_expires:?}"
    );
    let no_algorithm = run(Some(&format!("X-Amz-Signature={SIG}")), &[("host", "h")]);
    assert!(
        is_malformed(&no_algorithm, SignatureForm::Presigned),
        "{no_algorithm:?}"
    );
    let repeated = presigned(&format!("&X-Amz-Expires=60&X-Amz-Signature={SIG}"));
    assert!(
        is_malformed(&repeated, SignatureForm::Presigned),
        "{repeated:?}"
    );
}

#[test]
fn x_amz_expires_must_be_within_a_week() {
    for value in ["0", "604801", "-1", "abc", ""] {
        let result = presigned(&format!("&X-Amz-Expires={value}"));
        assert_eq!(
            result,
            Err(AuthError::InvalidExpires {
                value: value.into()
            }),
            "{value}"
        );
    }
    assert_eq!(
        presigned("&X-Amz-Expires=604800")
            .expect("a week")
            .expires(),
        Some(604_800)
    );
    assert_eq!(
        presigned("&X-Amz-Expires=1").expect("a second").expires(),
        Some(1)
    );
}

#[test]
fn content_sha256_must_be_unsigned_or_a_digest() {
    let with = |value: &str| {
        run(
            None,
            &[
                ("host", "h"),
                ("x-amz-date", "20240101T000000Z"),
                ("x-amz-content-sha256", value),
                ("authorization", AUTH),
            ],
        )
    };
    assert_eq!(
        with(UNSIGNED_PAYLOAD)
            .expect("unsigned")
            .claimed_payload_hash(),
        None
    );
    let digest = crate::EMPTY_SHA256;
    assert_eq!(
        with(digest).expect("digest").claimed_payload_hash(),
        Some(digest)
    );
    for bad in [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "abc",
        "unsigned-payload",
    ] {
        let result = with(bad);
        assert!(
            is_malformed(&result, SignatureForm::Header),
            "{bad}: {result:?}"
        );
    }
}

#[test]
fn header_security_token_is_exposed() {
    let parsed = run(
        None,
        &[
            ("host", "h"),
            ("x-amz-date", "20240101T000000Z"),
            ("x-amz-security-token", "t0k"),
            ("authorization", AUTH),
        ],
    )
    .expect("valid");
    assert_eq!(parsed.security_token(), Some("t0k"));
}
