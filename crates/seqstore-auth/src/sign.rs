//! A small SigV4 signer (header form and presigned URLs) for tests and client helpers.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue};

use crate::canonical::{Scope, SigningInputs, canonicalize, signature_hex, skip_for};
use crate::date::format_amz_date;
use crate::encode::uri_encode;
use crate::{ALGORITHM, AuthError, SignatureForm, SigningRequest, UriEncoding};

/// Headers botocore never signs (`SIGNED_HEADERS_BLACKLIST`), plus `authorization`.
const UNSIGNED_HEADERS: [&str; 5] = [
    "authorization",
    "expect",
    "transfer-encoding",
    "user-agent",
    "x-amzn-trace-id",
];

/// Credentials and scope to sign with; shares the canonical-request code with the verifier.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    /// Access key id placed in the credential.
    pub access_key_id: &'a str,
    /// Secret the signing key is derived from.
    pub secret_access_key: &'a str,
    /// Optional session token, sent as `X-Amz-Security-Token` and signed.
    pub session_token: Option<&'a str>,
    /// Scope region.
    pub region: &'a str,
    /// Scope service (`omics`, `s3`).
    pub service: &'a str,
    /// Canonical-URI mode of the service.
    pub uri_encoding: UriEncoding,
}

impl std::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .field("service", &self.service)
            .field("uri_encoding", &self.uri_encoding)
            .finish_non_exhaustive()
    }
}

impl Signer<'_> {
    /// Signs in the header form: adds `x-amz-date` (and `x-amz-security-token`), then
    /// `authorization`, signing every header present except the ones botocore skips.
    /// `headers` must hold `host`. `payload_hash` goes into the canonical request as is;
    /// add a matching `x-amz-content-sha256` header yourself if the request should carry
    /// one. Returns the signature.
    pub fn sign_headers(
        &self,
        method: &str,
        raw_path: &str,
        raw_query: Option<&str>,
        headers: &mut HeaderMap,
        payload_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let amz_date = format_amz_date(now);
        headers.insert("x-amz-date", header_value(&amz_date));
        if let Some(token) = self.session_token {
            headers.insert("x-amz-security-token", header_value(token));
        }
        headers.remove(http::header::AUTHORIZATION);
        let signed_headers = signed_header_names(headers, SignatureForm::Header)?;
        let req = SigningRequest {
            method,
            raw_path,
            raw_query,
            headers,
        };
        let (signature, scope) = self.signature(
            &req,
            &signed_headers,
            payload_hash,
            &amz_date,
            SignatureForm::Header,
        )?;
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            self.access_key_id,
            signed_headers.join(";")
        );
        headers.insert(http::header::AUTHORIZATION, header_value(&authorization));
        Ok(signature)
    }

    /// Presigns: returns the raw query string of the URL, i.e. `req.raw_query` followed by
    /// the `X-Amz-*` parameters and `X-Amz-Signature`. Signs every header in `req.headers`
    /// (which must hold `host`). S3 presigners use [`crate::UNSIGNED_PAYLOAD`] as
    /// `payload_hash`, other services the body's hash.
    pub fn presign(
        &self,
        req: &SigningRequest<'_>,
        payload_hash: &str,
        expires: u32,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let amz_date = format_amz_date(now);
        let signed_headers = signed_header_names(req.headers, SignatureForm::Presigned)?;
        let scope = Scope {
            date: &amz_date[..8],
            region: self.region,
            service: self.service,
        };
        let mut query = req
            .raw_query
            .filter(|q| !q.is_empty())
            .map(|q| format!("{q}&"))
            .unwrap_or_default();
        query.push_str(&format!(
            "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={}&X-Amz-Date={amz_date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders={}",
            uri_encode(format!("{}/{}", self.access_key_id, scope.render()).as_bytes()),
            uri_encode(signed_headers.join(";").as_bytes()),
        ));
        if let Some(token) = self.session_token {
            query.push_str(&format!(
                "&X-Amz-Security-Token={}",
                uri_encode(token.as_bytes())
            ));
        }
        let with_params = SigningRequest {
            raw_query: Some(&query),
            ..*req
        };
        let (signature, _) = self.signature(
            &with_params,
            &signed_headers,
            payload_hash,
            &amz_date,
            SignatureForm::Presigned,
        )?;
        query.push_str(&format!("&X-Amz-Signature={signature}"));
        Ok(query)
    }

    fn signature(
        &self,
        req: &SigningRequest<'_>,
        signed_headers: &[String],
        payload_hash: &str,
        amz_date: &str,
        form: SignatureForm,
    ) -> Result<(String, String), AuthError> {
        let scope = Scope {
            date: &amz_date[..8],
            region: self.region,
            service: self.service,
        };
        let canonical = canonicalize(
            req,
            &SigningInputs {
                uri_encoding: self.uri_encoding,
                signed_headers,
                payload_hash,
                amz_date,
                scope,
                skip_query: skip_for(form),
            },
        )?;
        Ok((
            signature_hex(self.secret_access_key, &scope, &canonical.string_to_sign),
            scope.render(),
        ))
    }
}

/// Sorted, deduplicated names of the headers to sign; `host` must be among them.
fn signed_header_names(headers: &HeaderMap, form: SignatureForm) -> Result<Vec<String>, AuthError> {
    if !headers.contains_key(http::header::HOST) {
        return Err(AuthError::HostNotSigned { form });
    }
    let mut names: Vec<String> = headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| !UNSIGNED_HEADERS.contains(&name.as_str()))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).expect("signer header values are visible ASCII")
}
