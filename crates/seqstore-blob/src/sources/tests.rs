use super::{bucket_of, parse_s3_uri};

#[test]
fn s3_uris() {
    assert_eq!(parse_s3_uri("s3://b/k/x.fa"), Some(("b", "k/x.fa")));
    for bad in ["s3://b", "s3://b/", "s3:///k", "http://b/k", "s3://b/dir/"] {
        assert_eq!(parse_s3_uri(bad), None, "{bad}");
    }
}

#[test]
fn keys_are_kept_byte_for_byte() {
    for key in [
        "a//b.fa",
        "/leading.fa",
        "back\\slash/x.fa",
        "100%25/%41.fa",
        "h#sh?x=1.fa",
        "~tilde/sp ace.fa",
        "uni/é-ü-😀.fa",
        "a/./b/../c.fa",
        "new\nline.fa",
    ] {
        let uri = format!("s3://my-bucket.v2/{key}");
        assert_eq!(parse_s3_uri(&uri), Some(("my-bucket.v2", key)), "{key:?}");
    }
}

#[test]
fn buckets_cannot_steer_the_request() {
    for bad in [
        "s3://evil.com#/k",
        "s3://b?x/k",
        "s3://user@host/k",
        "s3://host:80/k",
        "s3://b\\c/k",
        "s3://b c/k",
    ] {
        assert_eq!(parse_s3_uri(bad), None, "{bad}");
        assert_eq!(bucket_of(bad), None, "{bad}");
    }
}

#[test]
fn buckets_of_locations() {
    assert_eq!(bucket_of("s3://b"), Some("b"));
    assert_eq!(bucket_of("s3://b/"), Some("b"));
    assert_eq!(bucket_of("s3://b/prefix/"), Some("b"));
    assert_eq!(bucket_of("s3:///k"), None);
}

// ---- on the wire: a scripted HTTP server answers the reads ----

use super::{S3SourceConfig, SourceError, Sources};
use futures::StreamExt;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

const SECRET: &str = "wire-test-secret";

/// One request as it arrived.
struct Seen {
    target: String,
    headers: http::HeaderMap,
}

/// Answers one connection per entry of `answers`, in order, then hands back what it saw.
fn serve(answers: Vec<Vec<u8>>) -> (Sources, String, JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (mut conn, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the client hung up mid-request");
                head.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8(head).unwrap();
            let mut lines = head.split("\r\n");
            let target = lines.next().unwrap().split(' ').nth(1).unwrap().to_owned();
            let mut headers = http::HeaderMap::new();
            for line in lines.take_while(|l| !l.is_empty()) {
                let (name, value) = line.split_once(':').unwrap();
                headers.append(
                    http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                    http::HeaderValue::from_str(value.trim()).unwrap(),
                );
            }
            conn.write_all(&answer).unwrap();
            seen.push(Seen { target, headers });
        }
        seen
    });
    let sources = Sources::new(S3SourceConfig {
        endpoint: Some(endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDWIRETEST".into()),
        secret_access_key: Some(SECRET.into()),
        path_style: None,
    });
    (sources, endpoint, handle)
}

fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n{headers}Connection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

fn ok(body: &[u8]) -> Vec<u8> {
    let headers = format!("Content-Length: {}\r\nETag: \"e1\"\r\n", body.len());
    answer("200 OK", &headers, body)
}

fn s3_error(status: &str, code: &str) -> Vec<u8> {
    let body = format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code></Error>");
    let headers = format!("Content-Length: {}\r\n", body.len());
    answer(status, &headers, body.as_bytes())
}

async fn read_all(sources: &Sources, uri: &str) -> Result<Vec<u8>, SourceError> {
    let mut object = sources.open(uri).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = object.stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    assert_eq!(bytes.len() as u64, object.size);
    Ok(bytes)
}

/// The signature verifies against the path exactly as it was received.
fn assert_signed_as_sent(seen: &Seen) {
    let (raw_path, raw_query) = match seen.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (seen.target.as_str(), None),
    };
    let req = seqstore_auth::SigningRequest {
        method: "GET",
        raw_path,
        raw_query,
        headers: &seen.headers,
    };
    let parsed = seqstore_auth::parse(&req).unwrap();
    seqstore_auth::verify(
        &req,
        &parsed,
        SECRET,
        seqstore_auth::PayloadHash::FromHeader,
        &seqstore_auth::Expected::s3("us-east-1"),
        chrono::Utc::now(),
    )
    .unwrap_or_else(|e| panic!("{} is not signed as sent: {e:?}", seen.target));
}

#[tokio::test]
async fn keys_reach_the_wire_exactly_path_style_and_signed_as_sent() {
    let keys = [
        ("dir//a.fa", "/bkt/dir//a.fa"),
        ("/lead.fa", "/bkt//lead.fa"),
        ("back\\slash/b.fa", "/bkt/back%5Cslash/b.fa"),
        ("100%/x%41.fa", "/bkt/100%25/x%2541.fa"),
        ("h#sh?q=1/c.fa", "/bkt/h%23sh%3Fq%3D1/c.fa"),
        ("~t/sp ace+p.fa", "/bkt/~t/sp%20ace%2Bp.fa"),
        ("uni/é.fa", "/bkt/uni/%C3%A9.fa"),
    ];
    let (sources, endpoint, server) = serve(keys.iter().map(|(k, _)| ok(k.as_bytes())).collect());
    for (key, _) in keys {
        let got = read_all(&sources, &format!("s3://bkt/{key}"))
            .await
            .unwrap();
        assert_eq!(got, key.as_bytes());
    }
    let seen = server.join().unwrap();
    for (s, (_, target)) in seen.iter().zip(keys) {
        assert_eq!(s.target, target);
        assert_eq!(s.headers["host"], endpoint.trim_start_matches("http://"));
        assert_signed_as_sent(s);
    }
}

#[tokio::test]
async fn a_broken_body_is_resumed_from_where_it_stopped() {
    // 10 bytes announced, 4 sent, then the connection drops.
    let first = answer("200 OK", "Content-Length: 10\r\nETag: \"e1\"\r\n", b"0123");
    let rest = answer(
        "206 Partial Content",
        "Content-Length: 6\r\nContent-Range: bytes 4-9/10\r\n",
        b"456789",
    );
    let (sources, _, server) = serve(vec![first, rest]);
    let got = read_all(&sources, "s3://bkt/k.fa").await.unwrap();
    assert_eq!(got, b"0123456789");
    let seen = server.join().unwrap();
    assert_eq!(seen[1].headers["range"], "bytes=4-");
    assert_eq!(seen[1].headers["if-match"], "\"e1\"");
    assert_signed_as_sent(&seen[1]);
}

#[tokio::test]
async fn missing_buckets_and_keys_and_denials_say_so() {
    let (sources, endpoint, server) = serve(vec![
        s3_error("404 Not Found", "NoSuchBucket"),
        s3_error("404 Not Found", "NoSuchKey"),
        s3_error("403 Forbidden", "AccessDenied"),
    ]);
    let message = |r: Result<Vec<u8>, SourceError>| r.unwrap_err().to_string();
    assert_eq!(
        message(read_all(&sources, "s3://nob/k.fa").await),
        format!("bucket 'nob' not found at {endpoint}")
    );
    assert_eq!(
        message(read_all(&sources, "s3://bkt/a//k.fa").await),
        "key 'a//k.fa' not found in bucket 'bkt'"
    );
    assert_eq!(
        message(read_all(&sources, "s3://bkt/k.fa").await),
        "access denied reading s3://bkt/k.fa"
    );
    server.join().unwrap();
}

#[tokio::test]
async fn keys_no_request_can_carry_are_refused_before_any_request() {
    let (sources, _, _server) = serve(vec![]);
    let err = sources.open("s3://bkt/a/../k.fa").await.unwrap_err();
    assert!(matches!(err, SourceError::UnsendableKey { .. }), "{err}");
    assert!(!err.is_transient());
}
