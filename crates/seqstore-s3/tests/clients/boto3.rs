//! boto3's s3 client: objects, ranges, conditions, listings, presigned URLs, refusals.

use seqstore_s3::ServiceOptions;

use crate::fixture::{BASE_DOMAIN, Fixture, REGION};
use crate::server::TestServer;
use crate::tools::{check, clean, have, script};

fn have_boto3() -> bool {
    have(
        "boto3 (python3 -m pip install boto3)",
        "python3",
        &["-c", "import boto3"],
    )
}

/// Runs the named cases of `s3_clients.py` against a fresh server; returns the server so that
/// a test can look at its logs.
fn cases(names: &[&str]) -> Option<TestServer> {
    cases_with(names, |_| {})
}

/// [`cases`] with extra objects.
fn cases_with(names: &[&str], extra: impl FnOnce(&mut Fixture)) -> Option<TestServer> {
    if !have_boto3() {
        return None;
    }
    let mut fixture = Fixture::new();
    extra(&mut fixture);
    let options = ServiceOptions::new(REGION).with_base_domain(BASE_DOMAIN);
    let server = TestServer::start(fixture.source.clone(), options);
    let manifest = fixture.manifest(&server.endpoint(), server.port);
    let out = clean("python3")
        .arg(script("s3_clients.py"))
        .arg(&manifest)
        .args(names)
        .output()
        .unwrap();
    check(&format!("boto3 cases {names:?}"), &out);
    Some(server)
}

#[test]
fn head_object() {
    cases(&["head_object", "head_bucket"]);
}

#[test]
fn get_object_whole_and_ranges() {
    cases(&["get_object", "get_ranges", "download_file"]);
}

#[test]
fn conditional_requests() {
    cases(&["conditional"]);
}

#[test]
fn missing_keys_and_buckets_are_clean_404s() {
    cases(&["missing"]);
}

#[test]
fn object_tagging() {
    cases(&["tagging"]);
}

#[test]
fn list_objects_v2_with_delimiter_and_pagination() {
    cases(&["list_v2"]);
}

#[test]
fn list_objects_v1() {
    cases(&["list_v1"]);
}

#[test]
fn presigned_urls() {
    cases(&["presigned"]);
}

#[test]
fn expired_tampered_and_wrongly_signed_presigned_urls_are_refused() {
    cases(&["presigned_refused"]);
}

#[test]
fn bad_credentials_anonymous_other_accounts_and_wrong_region_are_refused() {
    cases(&["auth_refused"]);
}

#[test]
fn every_write_is_access_denied() {
    cases(&["writes_refused"]);
}

#[test]
fn archived_objects_are_described_but_not_served() {
    cases(&["archived"]);
}

#[test]
fn virtual_hosted_style_and_access_point_arns() {
    cases(&["virtual_host"]);
}

#[test]
fn clients_hanging_up_mid_body_are_not_errors() {
    let Some(server) = cases(&["disconnect"]) else {
        return;
    };
    let logs = server.stop();
    assert!(
        !logs.contains("WARN") && !logs.contains("ERROR"),
        "warnings or errors logged:\n{logs}"
    );
}

#[test]
fn raw_http_details() {
    cases(&["raw_http"]);
}

#[test]
fn a_source_failing_mid_body_aborts_the_response() {
    let Some(server) = cases_with(&["broken_stream"], |f| {
        f.add_broken("readSet/1000000007/broken.bin", 300_000, 100_000);
    }) else {
        return;
    };
    let logs = server.stop();
    assert!(
        logs.contains("WARN") && logs.contains("object stream failed mid-body"),
        "no warning logged:\n{logs}"
    );
    assert!(
        logs.contains("request_id="),
        "warning without request id:\n{logs}"
    );
}
