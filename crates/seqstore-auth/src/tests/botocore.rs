//! Requests signed by botocore 1.43.11 (boto3 `omics` and `s3` clients, captured before
//! sending) must verify. Produced by `tests/data/botocore/gen_fixtures.py`; regenerate with
//! `python3 crates/seqstore-auth/tests/data/botocore/gen_fixtures.py > crates/seqstore-auth/tests/data/botocore/fixtures.json`.

use chrono::TimeDelta;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::support::{read, time};
use crate::{
    AuthError, Expected, PayloadHash, SignatureForm, SigningRequest, UriEncoding, parse, verify,
};

#[derive(Debug, Deserialize)]
struct Fixtures {
    botocore_version: String,
    access_key_id: String,
    secret_access_key: String,
    region: String,
    now: String,
    presigned_expires: u32,
    requests: Vec<Fixture>,
}

#[derive(Debug, Deserialize)]
struct Fixture {
    name: String,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body_sha256: String,
}

impl Fixture {
    fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn expected<'a>(&self, region: &'a str) -> Expected<'a> {
        if self.name.starts_with("s3-") {
            Expected::s3(region)
        } else {
            Expected::omics(region)
        }
    }

    /// What the server would pass: S3 and UploadReadSetPart stream their bodies, the other
    /// omics operations buffer theirs.
    fn payload(&self) -> PayloadHash<'_> {
        if self.name.starts_with("s3-") || self.name == "omics-put-unsigned-payload" {
            PayloadHash::FromHeader
        } else {
            PayloadHash::Computed(&self.body_sha256)
        }
    }
}

fn fixtures() -> Fixtures {
    let fixtures: Fixtures =
        serde_json::from_str(&read("botocore/fixtures.json")).expect("fixtures json");
    assert_eq!(fixtures.botocore_version, "1.43.11");
    assert_eq!(fixtures.requests.len(), 8, "fixture count");
    fixtures
}

/// Verifies every fixture with `secret` at `now`, optionally in the other URI mode.
fn verify_all(
    f: &Fixtures,
    secret: &str,
    now: chrono::DateTime<chrono::Utc>,
    flip_encoding: bool,
) -> Vec<(String, Result<(), AuthError>)> {
    f.requests
        .iter()
        .map(|fx| {
            let headers = fx.header_map();
            let req = SigningRequest {
                method: &fx.method,
                raw_path: &fx.path,
                raw_query: fx.query.as_deref(),
                headers: &headers,
            };
            let parsed = parse(&req).unwrap_or_else(|e| panic!("{}: {e}", fx.name));
            assert_eq!(parsed.access_key_id(), f.access_key_id, "{}", fx.name);
            let mut expected = fx.expected(&f.region);
            if flip_encoding {
                expected.uri_encoding = match expected.uri_encoding {
                    UriEncoding::Double => UriEncoding::Single,
                    UriEncoding::Single => UriEncoding::Double,
                };
            }
            let result = verify(&req, &parsed, secret, fx.payload(), &expected, now);
            (fx.name.clone(), result)
        })
        .collect()
}

#[test]
fn botocore_signed_requests_verify() {
    let f = fixtures();
    for (name, result) in verify_all(&f, &f.secret_access_key, time(&f.now), false) {
        result.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn one_changed_character_of_the_secret_is_a_signature_mismatch() {
    let f = fixtures();
    let mut secret = f.secret_access_key.clone().into_bytes();
    secret[10] ^= 0x01;
    let secret = String::from_utf8(secret).expect("ascii");
    for (name, result) in verify_all(&f, &secret, time(&f.now), false) {
        assert!(
            matches!(result, Err(AuthError::SignatureMismatch { .. })),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn sixteen_minutes_later_header_signatures_have_expired() {
    let f = fixtures();
    let later = time(&f.now) + TimeDelta::minutes(16);
    for (name, result) in verify_all(&f, &f.secret_access_key, later, false) {
        if name == "s3-presigned-get-object" {
            // Presigned URLs are governed by X-Amz-Expires (3600 s), not by the skew.
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            assert!(
                matches!(result, Err(AuthError::Expired { .. })),
                "{name}: {result:?}"
            );
        }
    }
}

#[test]
fn the_presigned_url_expires_after_x_amz_expires() {
    let f = fixtures();
    let after = time(&f.now) + TimeDelta::seconds(i64::from(f.presigned_expires) + 1);
    let results = verify_all(&f, &f.secret_access_key, after, false);
    let (_, result) = results
        .iter()
        .find(|(n, _)| n == "s3-presigned-get-object")
        .expect("presigned");
    assert!(
        matches!(
            result,
            Err(AuthError::PresignedExpired { expires: 3600, .. })
        ),
        "{result:?}"
    );
}

#[test]
fn the_uri_encoding_mode_matters() {
    // Every fixture path either holds a percent-escape (`%3A`, `%20`) or not; for those that
    // do, the other mode must fail.
    let f = fixtures();
    for ((name, result), fx) in verify_all(&f, &f.secret_access_key, time(&f.now), true)
        .into_iter()
        .zip(&f.requests)
    {
        if fx.path.contains('%') {
            assert!(
                matches!(result, Err(AuthError::SignatureMismatch { .. })),
                "{name}: {result:?}"
            );
        } else {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn unsigned_payload_and_claimed_digests_are_exposed() {
    let f = fixtures();
    for fx in &f.requests {
        let headers = fx.header_map();
        let req = SigningRequest {
            method: &fx.method,
            raw_path: &fx.path,
            raw_query: fx.query.as_deref(),
            headers: &headers,
        };
        let parsed = parse(&req).expect("parse");
        let claimed = parsed.claimed_payload_hash();
        match fx.name.as_str() {
            "s3-get-object-range" => assert_eq!(claimed, Some(fx.body_sha256.as_str())),
            _ => assert_eq!(claimed, None, "{}", fx.name),
        }
        let form = if fx.name == "s3-presigned-get-object" {
            SignatureForm::Presigned
        } else {
            SignatureForm::Header
        };
        assert_eq!(parsed.form(), form, "{}", fx.name);
    }
    // UploadReadSetPart's UNSIGNED-PAYLOAD also verifies when the server did hash the body.
    let part = f
        .requests
        .iter()
        .find(|r| r.name == "omics-put-unsigned-payload")
        .expect("part");
    let headers = part.header_map();
    let req = SigningRequest {
        method: &part.method,
        raw_path: &part.path,
        raw_query: part.query.as_deref(),
        headers: &headers,
    };
    let parsed = parse(&req).expect("parse");
    verify(
        &req,
        &parsed,
        &f.secret_access_key,
        PayloadHash::Computed(&part.body_sha256),
        &Expected::omics(&f.region),
        time(&f.now),
    )
    .expect("unsigned payload with a computed hash");
}
