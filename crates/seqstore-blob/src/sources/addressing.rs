//! Where a request for `s3://bucket/key` goes: path-style or virtual-hosted addressing, and
//! the key percent-encoded once, byte for byte, as S3's canonical URI wants it.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::net::IpAddr;

/// Everything but the unreserved characters (RFC 3986 §2.3) and `/`: S3's `UriEncode` of an
/// object key, which is both what is sent and what is signed.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The service requests go to: a configured S3-compatible endpoint, or AWS S3 in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Service {
    /// A configured endpoint, split into its parts.
    Custom {
        /// `http` or `https`.
        scheme: String,
        /// `host[:port]` as configured (IPv6 hosts in brackets).
        authority: String,
        /// The host alone, brackets removed.
        host: String,
        /// A base path, without a trailing `/` (usually empty).
        path: String,
    },
    /// AWS S3 itself.
    Aws {
        /// The region of the buckets.
        region: String,
    },
}

impl Service {
    /// The configured endpoint (`None`: AWS S3 in `region`); `None` back when the endpoint
    /// is not an `http(s)://host[:port][/path]` URL.
    pub(crate) fn new(endpoint: Option<&str>, region: &str) -> Option<Self> {
        let Some(endpoint) = endpoint else {
            return Some(Self::Aws {
                region: region.to_owned(),
            });
        };
        let uri: http::Uri = endpoint.parse().ok()?;
        let scheme = uri
            .scheme_str()
            .filter(|s| matches!(*s, "http" | "https"))?;
        let authority = uri.authority()?;
        if authority.as_str().contains('@') || uri.query().is_some() {
            return None;
        }
        let host = authority.host();
        Some(Self::Custom {
            scheme: scheme.to_owned(),
            authority: authority.as_str().to_owned(),
            host: host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host)
                .to_owned(),
            path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// Whether requests for `bucket` are path-style (`ENDPOINT/BUCKET/KEY`). `configured`
    /// decides when set; otherwise, as botocore does, an IP address or `localhost` host
    /// gets path style (no DNS name can carry the bucket) and so does a bucket that is not
    /// a valid host label; everything else is virtual-hosted (`BUCKET.ENDPOINT/KEY`).
    pub(crate) fn path_style(&self, bucket: &str, configured: Option<bool>) -> bool {
        if let Some(forced) = configured {
            return forced;
        }
        let literal_host = match self {
            Self::Custom { host, .. } => {
                host.parse::<IpAddr>().is_ok()
                    || host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
            }
            Self::Aws { .. } => false,
        };
        literal_host || !host_label(bucket)
    }

    /// The URL of `bucket` (no trailing `/`).
    pub(crate) fn bucket_url(&self, bucket: &str, path_style: bool) -> String {
        let (scheme, host, path) = match self {
            Self::Custom {
                scheme,
                authority,
                path,
                ..
            } => (scheme.as_str(), authority.clone(), path.as_str()),
            Self::Aws { region } => ("https", format!("s3.{region}.amazonaws.com"), ""),
        };
        if path_style {
            format!("{scheme}://{host}{path}/{bucket}")
        } else {
            format!("{scheme}://{bucket}.{host}{path}")
        }
    }

    /// What error messages call this service: the endpoint, or AWS's regional endpoint.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Custom {
                scheme,
                authority,
                path,
                ..
            } => format!("{scheme}://{authority}{path}"),
            Self::Aws { region } => format!("AWS S3 (https://s3.{region}.amazonaws.com)"),
        }
    }
}

/// `key` as the path of a request URL: every byte but the unreserved ones and `/`
/// percent-encoded, so `//`, `%`, `#`, `\`, spaces and UTF-8 reach S3 unchanged.
pub(crate) fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_ENCODE).to_string()
}

/// A key whose `.` or `..` segments an HTTP client would resolve away (`a/../b` is `b` to
/// every URL parser, `%2E` included), so it cannot be requested as is.
pub(crate) fn has_dot_segment(key: &str) -> bool {
    key.split('/').any(|s| s == "." || s == "..")
}

/// A bucket name usable as a DNS label under TLS: 3 to 63 lowercase letters, digits and
/// hyphens, starting and ending with a letter or digit (dotted names break certificates).
fn host_label(bucket: &str) -> bool {
    let b = bucket.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(endpoint: &str) -> Service {
        Service::new(Some(endpoint), "us-east-1").unwrap()
    }

    #[test]
    fn ip_and_localhost_endpoints_are_path_style_by_default() {
        for endpoint in [
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/",
            "http://10.1.2.3",
            "https://192.168.0.10:443",
            "http://[::1]:9000",
            "http://[fd00::12]",
            "http://localhost:9000",
            "http://LOCALHOST",
        ] {
            assert!(custom(endpoint).path_style("bucket", None), "{endpoint}");
        }
    }

    #[test]
    fn named_endpoints_and_aws_are_virtual_hosted_by_default() {
        for endpoint in [
            "https://minio.example.com",
            "http://ceph.internal:7480",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io:9000",
        ] {
            assert!(!custom(endpoint).path_style("bucket", None), "{endpoint}");
        }
        let aws = Service::new(None, "eu-west-1").unwrap();
        assert!(!aws.path_style("bucket", None));
    }

    #[test]
    fn buckets_that_are_no_host_label_are_path_style() {
        let aws = Service::new(None, "eu-west-1").unwrap();
        for bucket in ["my.bucket", "My_Bucket", "-b-", "ab"] {
            assert!(aws.path_style(bucket, None), "{bucket}");
            assert!(custom("https://s3.example.com").path_style(bucket, None));
        }
    }

    #[test]
    fn path_style_setting_overrides_the_endpoint() {
        assert!(!custom("http://127.0.0.1:9000").path_style("b-1", Some(false)));
        assert!(custom("https://minio.example.com").path_style("b-1", Some(true)));
        assert!(
            Service::new(None, "us-east-1")
                .unwrap()
                .path_style("b-1", Some(true))
        );
    }

    #[test]
    fn bucket_urls() {
        let c = custom("http://127.0.0.1:9000/");
        assert_eq!(c.bucket_url("b", true), "http://127.0.0.1:9000/b");
        assert_eq!(
            custom("https://s3.example.com:8443/base/").bucket_url("b", false),
            "https://b.s3.example.com:8443/base"
        );
        assert_eq!(
            custom("http://[::1]:9000").bucket_url("b", true),
            "http://[::1]:9000/b"
        );
        let aws = Service::new(None, "eu-west-1").unwrap();
        assert_eq!(
            aws.bucket_url("b", false),
            "https://b.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            aws.bucket_url("b.c", true),
            "https://s3.eu-west-1.amazonaws.com/b.c"
        );
    }

    #[test]
    fn services_are_described_by_their_endpoint() {
        assert_eq!(
            custom("http://127.0.0.1:9000/").describe(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            Service::new(None, "eu-west-1").unwrap().describe(),
            "AWS S3 (https://s3.eu-west-1.amazonaws.com)"
        );
    }

    #[test]
    fn unusable_endpoints_are_refused() {
        for bad in [
            "127.0.0.1:9000",
            "ftp://h",
            "http://",
            "not a url",
            "http://u:p@h",
            "http://h/?x=1",
        ] {
            assert_eq!(Service::new(Some(bad), "us-east-1"), None, "{bad}");
        }
    }

    #[test]
    fn keys_are_encoded_once_and_exactly() {
        assert_eq!(encode_key("dir/ref.fa"), "dir/ref.fa");
        assert_eq!(encode_key("a//b"), "a//b");
        assert_eq!(encode_key("/lead"), "/lead");
        assert_eq!(encode_key("back\\slash"), "back%5Cslash");
        assert_eq!(encode_key("100%/x%41"), "100%25/x%2541");
        assert_eq!(encode_key("h#sh?q=1&r"), "h%23sh%3Fq%3D1%26r");
        assert_eq!(encode_key("~t ilde+plus"), "~t%20ilde%2Bplus");
        assert_eq!(encode_key("é/ü"), "%C3%A9/%C3%BC");
        assert_eq!(encode_key("new\nline"), "new%0Aline");
    }

    #[test]
    fn dot_segments_are_found() {
        for key in [".", "..", "a/./b", "a/../b", "a/..", "./a"] {
            assert!(has_dot_segment(key), "{key}");
        }
        for key in ["a.b", "...", "a/.b", "a/..b/c", ".hidden", "a//b"] {
            assert!(!has_dot_segment(key), "{key}");
        }
    }
}
