//! SigV4 parsing of the `Authorization` header and of presigned query strings.
//!
//! The input is text: line 1 the raw path, line 2 the raw query, line 3 the
//! `Authorization` value, then `name: value` header lines.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use seqstore_auth::{SigningRequest, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let raw_path = lines.next().unwrap_or("/");
    let raw_query = lines.next().filter(|q| !q.is_empty());
    let mut headers = HeaderMap::new();
    if let Some(Ok(value)) = lines.next().map(HeaderValue::from_str) {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let request = SigningRequest {
        method: "GET",
        raw_path,
        raw_query,
        headers: &headers,
    };
    let _ = parse(&request);
});
