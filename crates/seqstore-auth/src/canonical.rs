//! Canonical request, string to sign and signature: the part shared by verifier and signer.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::encode::{canonical_query, canonical_uri};
use crate::{ALGORITHM, AuthError, SignatureForm, SigningRequest, UriEncoding};

type HmacSha256 = Hmac<Sha256>;

/// The credential scope `<date>/<region>/<service>/aws4_request`, split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Scope<'_> {
    /// The scope line of the string to sign (and the tail of `Credential=`).
    pub fn render(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// What a signature is computed over, besides the request itself.
#[derive(Debug)]
pub(crate) struct SigningInputs<'a> {
    pub uri_encoding: UriEncoding,
    /// Lowercase names, in the order the `SignedHeaders` list gives them.
    pub signed_headers: &'a [String],
    pub payload_hash: &'a str,
    /// `X-Amz-Date` form of the request time.
    pub amz_date: &'a str,
    pub scope: Scope<'a>,
    /// Query parameters left out of the canonical query (by decoded name).
    pub skip_query: fn(&str) -> bool,
}

/// Which query parameters a form leaves out of the canonical query: the presigned form
/// drops `X-Amz-Signature`, the header form nothing.
pub(crate) fn skip_for(form: SignatureForm) -> fn(&str) -> bool {
    match form {
        SignatureForm::Header => |_| false,
        SignatureForm::Presigned => |name| name == "X-Amz-Signature",
    }
}

/// A canonical request and the string to sign derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Canonical {
    pub request: String,
    pub string_to_sign: String,
}

/// Builds the canonical request (SigV4 task 1) and the string to sign (task 2).
pub(crate) fn canonicalize(
    req: &SigningRequest<'_>,
    inputs: &SigningInputs<'_>,
) -> Result<Canonical, AuthError> {
    let mut request = String::with_capacity(256);
    request.push_str(req.method);
    request.push('\n');
    request.push_str(&canonical_uri(req.raw_path, inputs.uri_encoding));
    request.push('\n');
    request.push_str(&canonical_query(req.raw_query, inputs.skip_query));
    request.push('\n');
    for name in inputs.signed_headers {
        request.push_str(name);
        request.push(':');
        request.push_str(&canonical_header_value(req.headers, name)?);
        request.push('\n');
    }
    request.push('\n');
    request.push_str(&inputs.signed_headers.join(";"));
    request.push('\n');
    request.push_str(inputs.payload_hash);

    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        inputs.amz_date,
        inputs.scope.render(),
        hex::encode(Sha256::digest(request.as_bytes()))
    );
    Ok(Canonical {
        request,
        string_to_sign,
    })
}

/// All values of one header, each trimmed with inner whitespace runs collapsed to one
/// space, joined with `,` in the order received.
fn canonical_header_value(headers: &HeaderMap, name: &str) -> Result<String, AuthError> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Err(AuthError::SignedHeaderMissing {
            name: name.to_owned(),
        });
    }
    let joined = values
        .map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split_ascii_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(",");
    Ok(joined)
}

/// The derived signing key (SigV4 task 3): an HMAC chain over date, region, service.
fn signing_key(secret_access_key: &str, scope: &Scope<'_>) -> Vec<u8> {
    let mut key = hmac(
        format!("AWS4{secret_access_key}").as_bytes(),
        scope.date.as_bytes(),
    );
    for part in [scope.region, scope.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    key
}

/// The HMAC keyed with the derived signing key, ready to take the string to sign.
fn signing_mac(secret_access_key: &str, scope: &Scope<'_>) -> HmacSha256 {
    HmacSha256::new_from_slice(&signing_key(secret_access_key, scope))
        .expect("HMAC takes keys of any length")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The lowercase hex signature of a string to sign.
pub(crate) fn signature_hex(
    secret_access_key: &str,
    scope: &Scope<'_>,
    string_to_sign: &str,
) -> String {
    let mut mac = signing_mac(secret_access_key, scope);
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a provided (hex-decoded) signature.
pub(crate) fn signature_matches(
    secret_access_key: &str,
    scope: &Scope<'_>,
    string_to_sign: &str,
    provided: &[u8],
) -> bool {
    let mut mac = signing_mac(secret_access_key, scope);
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(provided).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let mut headers = HeaderMap::new();
        headers.append("my-header", HeaderValue::from_static("  a   b \t c  "));
        headers.append("my-header", HeaderValue::from_static("d"));
        assert_eq!(
            canonical_header_value(&headers, "my-header").expect("present"),
            "a b c,d"
        );
    }

    #[test]
    fn a_signed_header_absent_from_the_request_is_an_error() {
        let err = canonical_header_value(&HeaderMap::new(), "range").expect_err("absent");
        assert!(matches!(err, AuthError::SignedHeaderMissing { ref name } if name == "range"));
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // "Examples of how to derive a signing key for Signature Version 4" (AWS General
        // Reference): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let scope = Scope {
            date: "20120215",
            region: "us-east-1",
            service: "iam",
        };
        let key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &scope);
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn verification_rejects_a_flipped_bit() {
        let scope = Scope {
            date: "20240101",
            region: "us-east-1",
            service: "omics",
        };
        let sig = signature_hex("secret", &scope, "sts");
        let mut bytes = hex::decode(&sig).expect("hex");
        assert!(signature_matches("secret", &scope, "sts", &bytes));
        bytes[31] ^= 1;
        assert!(!signature_matches("secret", &scope, "sts", &bytes));
    }
}
