//! SigV4 percent-encoding: canonical URI (both modes) and canonical query string.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

use crate::UriEncoding;

/// Everything but the unreserved set `A-Za-z0-9-._~` (SigV4 "UriEncode", RFC 3986 §2.3).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`ENCODE`], but `/` stays: botocore's `quote(path, safe='/~')`.
const ENCODE_PATH: &AsciiSet = &ENCODE.remove(b'/');

/// AWS `UriEncode` of raw bytes: uppercase `%XX` for every byte outside the unreserved set.
pub fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, ENCODE).to_string()
}

/// The canonical URI of a received (raw, still percent-encoded) path. No dot-segment or
/// slash normalization happens in either mode.
pub(crate) fn canonical_uri(raw_path: &str, mode: UriEncoding) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    match mode {
        UriEncoding::Double => percent_encode(raw_path.as_bytes(), ENCODE_PATH).to_string(),
        UriEncoding::Single => raw_path
            .split('/')
            .map(|segment| uri_encode(&decode(segment)))
            .collect::<Vec<_>>()
            .join("/"),
    }
}

/// The canonical query string: each name and value decoded, re-encoded with [`uri_encode`]
/// (so a space is `%20` and a literal `+` is `%2B`), sorted by name then value, `name=`
/// for empty values. Pairs for which `skip` (given the decoded name) is true are left out;
/// that is how the presigned form drops `X-Amz-Signature`.
pub(crate) fn canonical_query(raw_query: Option<&str>, skip: impl Fn(&str) -> bool) -> String {
    let mut pairs: Vec<(String, String)> = raw_pairs(raw_query)
        .filter(|(name, _)| !skip(&decode_lossy(name)))
        .map(|(name, value)| (uri_encode(&decode(name)), uri_encode(&decode(value))))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Decoded `(name, value)` pairs of a raw query string, in order; empty pieces are skipped.
/// `+` is not a space here: SigV4 signers encode a space as `%20`.
pub(crate) fn query_pairs(raw_query: Option<&str>) -> impl Iterator<Item = (String, String)> {
    raw_pairs(raw_query).map(|(name, value)| (decode_lossy(name), decode_lossy(value)))
}

fn raw_pairs(raw_query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    raw_query
        .unwrap_or("")
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

fn decode(s: &str) -> Vec<u8> {
    percent_decode_str(s).collect()
}

fn decode_lossy(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_encodes_an_arn_in_the_path() {
        let raw = "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890";
        assert_eq!(
            canonical_uri(raw, UriEncoding::Double),
            "/tags/arn%253Aaws%253Aomics%253Aus-east-1%253A123456789012%253AsequenceStore%252F1234567890"
        );
    }

    #[test]
    fn single_keeps_an_encoded_path_as_sent() {
        let raw = "/bucket/dir/a%20b%2Bc~%2F.bam";
        assert_eq!(canonical_uri(raw, UriEncoding::Single), raw);
    }

    #[test]
    fn single_normalizes_to_aws_encoding() {
        // Lowercase escapes, an escaped unreserved byte and a raw `+` all come out in AWS form.
        assert_eq!(
            canonical_uri("/b/%7e%2fx+y%41", UriEncoding::Single),
            "/b/~%2Fx%2ByA"
        );
    }

    #[test]
    fn no_dot_segment_or_slash_normalization() {
        for mode in [UriEncoding::Double, UriEncoding::Single] {
            assert_eq!(canonical_uri("//a/./b/../c//", mode), "//a/./b/../c//");
        }
    }

    #[test]
    fn empty_path_is_slash() {
        assert_eq!(canonical_uri("", UriEncoding::Double), "/");
        assert_eq!(canonical_uri("", UriEncoding::Single), "/");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        let q = canonical_query(Some("tagKeys=b%20c&tagKeys=a&Z=&a=%7e+&flag"), |_| false);
        assert_eq!(q, "Z=&a=~%2B&flag=&tagKeys=a&tagKeys=b%20c");
    }

    #[test]
    fn query_skip_drops_pairs_by_decoded_name() {
        let q = canonical_query(Some("X-Amz-Signature=abc&b=1&X%2DAmz-Signature=d"), |n| {
            n == "X-Amz-Signature"
        });
        assert_eq!(q, "b=1");
    }

    #[test]
    fn missing_and_empty_query_are_empty() {
        assert_eq!(canonical_query(None, |_| false), "");
        assert_eq!(canonical_query(Some(""), |_| false), "");
        assert_eq!(canonical_query(Some("&&"), |_| false), "");
    }
}
