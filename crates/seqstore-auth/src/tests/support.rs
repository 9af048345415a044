//! Reads the `.req` files of the test data: a raw HTTP/1.1 request as the AWS suite writes it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use crate::SigningRequest;
use crate::date::parse_amz_date;

/// `crates/seqstore-auth/tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    let path = data(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn time(amz_date: &str) -> DateTime<Utc> {
    parse_amz_date(amz_date).expect("test time")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One request: method, raw target parts, headers (repeats kept, in order) and body.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    /// Parses `METHOD target HTTP/1.1`, `Name:value` lines, a blank line, then the body.
    /// The target may hold a raw space (`GET /example space/ HTTP/1.1`), so the method ends
    /// at the first space and the version starts at the last ` HTTP/`.
    pub fn parse(text: &str) -> Self {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let target = &rest[..rest.rfind(" HTTP/").expect("version")];
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("header line");
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn signing(&self) -> SigningRequest<'_> {
        SigningRequest {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: &self.headers,
        }
    }

    pub fn body_sha256(&self) -> String {
        sha256_hex(&self.body)
    }
}
