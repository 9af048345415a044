//! Virtual-hosted-style addressing: `BUCKET.<base domain>` names the bucket in the Host header.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// Reads the bucket from `Host: BUCKET.<base domain>[:port]`; any other host (the base domain
/// itself, `localhost`, a name behind a proxy) is path-style. IP literals never reach this:
/// s3s treats them as path-style before asking.
#[derive(Debug, Clone)]
pub(crate) struct BaseDomain {
    /// Lowercase, without port or trailing dot.
    domain: String,
}

impl BaseDomain {
    /// `domain` as configured, e.g. `s3.example.org`; a port or trailing dot is ignored.
    pub(crate) fn new(domain: &str) -> Option<Self> {
        let domain = strip_port(domain)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        valid.then_some(Self { domain })
    }

    /// The bucket a Host header names, if it is `BUCKET.<base domain>`.
    fn bucket_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let host = strip_port(host).trim_end_matches('.');
        let cut = host.len().checked_sub(self.domain.len() + 1)?;
        let (bucket, rest) = host.split_at_checked(cut)?;
        let matches = rest.as_bytes()[0] == b'.' && rest[1..].eq_ignore_ascii_case(&self.domain);
        (matches && !bucket.is_empty()).then_some(bucket)
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

impl S3Host for BaseDomain {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let vh = VirtualHost::new(self.domain.as_str());
        Ok(match self.bucket_of(host) {
            Some(bucket) => vh.with_bucket(bucket),
            None => vh,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(domain: &str, host: &str) -> Option<String> {
        let d = BaseDomain::new(domain).unwrap();
        d.parse_host_header(host)
            .unwrap()
            .bucket()
            .map(str::to_owned)
    }

    #[test]
    fn bucket_subdomain_is_virtual_hosted() {
        assert_eq!(
            bucket("s3.example.org", "ap-abc-s3alias.s3.example.org:9000").as_deref(),
            Some("ap-abc-s3alias")
        );
        assert_eq!(
            bucket("s3.example.org:9000", "b.S3.Example.Org.").as_deref(),
            Some("b")
        );
        assert_eq!(
            bucket("localhost", "my.dotted.bucket.localhost").as_deref(),
            Some("my.dotted.bucket")
        );
    }

    #[test]
    fn other_hosts_are_path_style() {
        assert_eq!(bucket("s3.example.org", "s3.example.org:9000"), None);
        assert_eq!(bucket("s3.example.org", "localhost:9000"), None);
        assert_eq!(bucket("s3.example.org", "xs3.example.org"), None);
        assert_eq!(bucket("s3.example.org", ".s3.example.org"), None);
        assert_eq!(bucket("s3.example.org", "example.org"), None);
    }

    #[test]
    fn invalid_base_domains_are_refused() {
        assert!(BaseDomain::new("").is_none());
        assert!(BaseDomain::new("a..b").is_none());
        assert!(BaseDomain::new("http://x").is_none());
        assert!(BaseDomain::new("a_b.org").is_none());
    }
}
