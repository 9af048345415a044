//! Requests refused from their request line and headers alone, before s3s reads anything
//! else: what S3 access points do not accept. They take SigV4 only (no SigV2, whose
//! requests can be replayed and whose check is not constant-time), presigned URLs that live
//! at most a week, credential scopes for the `s3` service, and no browser POST forms (their
//! signature is inside the body).

use std::borrow::Cow;

use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{HeaderMap, Method, StatusCode, Uri};
use percent_encoding::percent_decode_str;

/// The longest presigned URL lifetime S3 accepts: one week, in seconds.
pub(crate) const MAX_PRESIGNED_SECONDS: u64 = 604_800;

/// Why a request is refused, as S3 words it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: &'static str,
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

/// The refusal of a request this endpoint must not pass on, if any.
pub(crate) fn refusal(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Refusal> {
    let query: Vec<(Cow<'_, str>, Cow<'_, str>)> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s| percent_decode_str(s).decode_utf8_lossy();
            (decode(k), decode(v))
        })
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let sig_v2 = authorization.is_some_and(|a| a.starts_with("AWS "))
        || (param("Signature").is_some() && param("X-Amz-Algorithm").is_none());
    if sig_v2 {
        return Some(Refusal {
            code: "InvalidRequest",
            status: StatusCode::BAD_REQUEST,
            message: "The authorization mechanism you have provided is not supported. \
                      Please use AWS4-HMAC-SHA256."
                .into(),
        });
    }
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    if method == Method::POST && form {
        return Some(Refusal {
            code: "AccessDenied",
            status: StatusCode::FORBIDDEN,
            message: "Access Denied: this endpoint is read-only".into(),
        });
    }
    if let Some(expires) = param("X-Amz-Expires")
        && !expires
            .parse::<u64>()
            .is_ok_and(|s| s <= MAX_PRESIGNED_SECONDS)
    {
        return Some(Refusal {
            code: "AuthorizationQueryParametersError",
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "X-Amz-Expires must be less than a week (in seconds) that is; {MAX_PRESIGNED_SECONDS}"
            ),
        });
    }
    let (credential, code) = match param("X-Amz-Credential") {
        Some(c) => (Some(c), "AuthorizationQueryParametersError"),
        None => (
            authorization
                .and_then(|a| a.strip_prefix("AWS4-HMAC-SHA256"))
                .and_then(|a| {
                    a.split(',')
                        .find_map(|f| f.trim().strip_prefix("Credential="))
                }),
            "AuthorizationHeaderMalformed",
        ),
    };
    // `<key>/<date>/<region>/<service>/aws4_request`
    let service = credential.and_then(|c| c.split('/').nth(3));
    match (credential, service) {
        (Some(_), Some("s3")) | (None, _) => None,
        (Some(_), service) => Some(Refusal {
            code,
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "The credential scope names the service \"{}\"; this endpoint belongs to \"s3\"",
                service.unwrap_or_default()
            ),
        }),
    }
}

/// A refusal as S3's XML error document.
pub(crate) fn xml(refusal: &Refusal, request_id: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
         <RequestId>{request_id}</RequestId></Error>",
        refusal.code,
        escape(&refusal.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: Method, uri: &str, auth: Option<&str>) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert(AUTHORIZATION, a.parse().unwrap());
        }
        refusal(&method, &uri.parse().unwrap(), &headers).map(|r| r.code)
    }

    #[test]
    fn only_sigv4_for_s3_within_a_week_passes() {
        let v4 = "AWS4-HMAC-SHA256 Credential=AKID/20261205/us-east-1/s3/aws4_request, \
                  SignedHeaders=host, Signature=abc";
        assert_eq!(check(Method::GET, "/b/k", Some(v4)), None);
        assert_eq!(
            check(Method::GET, "/b/k", None),
            None,
            "anonymous: s3s refuses it"
        );
        let sts = v4.replace("/s3/", "/sts/");
        assert_eq!(
            check(Method::GET, "/b/k", Some(&sts)),
            Some("AuthorizationHeaderMalformed")
        );
        assert_eq!(
            check(Method::GET, "/b/k", Some("AWS AKID:c2ln")),
            Some("InvalidRequest")
        );
        assert_eq!(
            check(
                Method::GET,
                "/b/k?AWSAccessKeyId=A&Expires=1&Signature=x",
                None
            ),
            Some("InvalidRequest")
        );
        let presigned = |expires: &str, service: &str| {
            format!(
                "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261205%2F\
                 us-east-1%2F{service}%2Faws4_request&X-Amz-Expires={expires}&X-Amz-Signature=x"
            )
        };
        assert_eq!(check(Method::GET, &presigned("604800", "s3"), None), None);
        for bad in ["604801", "4000000000", "-1", "soon"] {
            assert_eq!(
                check(Method::GET, &presigned(bad, "s3"), None),
                Some("AuthorizationQueryParametersError"),
                "{bad}"
            );
        }
        assert_eq!(
            check(Method::GET, &presigned("60", "sts"), None),
            Some("AuthorizationQueryParametersError")
        );
        let mut form = HeaderMap::new();
        form.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=x".parse().unwrap(),
        );
        assert_eq!(
            refusal(&Method::POST, &"/b".parse().unwrap(), &form).map(|r| r.code),
            Some("AccessDenied")
        );
    }

    #[test]
    fn refusals_are_s3_error_documents() {
        let r = Refusal {
            code: "InvalidRequest",
            status: StatusCode::BAD_REQUEST,
            message: "a <b> & \"c\"".into(),
        };
        assert!(xml(&r, "ID").contains(
            "<Code>InvalidRequest</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;</Message>"
        ));
    }
}
