//! Access keys: generation of ids and secrets, and the key behind a signature.

use crate::ids::AccountId;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::Service;
use crate::error::Result;
use crate::s3_policy::principal_arn;

/// The secret of an access key and who it acts as.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The secret that signs requests.
    pub secret_access_key: String,
    /// The key's account.
    pub account_id: AccountId,
    /// `arn:<partition>:iam::<account>:root` or `…:user/<name>`.
    pub principal_arn: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("account_id", &self.account_id)
            .field("principal_arn", &self.principal_arn)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// The secret and account behind an access key id, to check a signature with (omics
    /// API and S3 endpoint alike).
    pub async fn signing_key(&self, access_key_id: &str) -> Result<Option<SigningKey>> {
        Ok(self
            .catalog
            .access_key(access_key_id)
            .await?
            .map(|k| SigningKey {
                secret_access_key: k.secret_access_key,
                principal_arn: principal_arn(
                    &self.settings.partition,
                    &k.account_id,
                    k.user_name.as_deref(),
                ),
                account_id: k.account_id,
            }))
    }
}

/// Prefix of every access key id seqstore generates (AWS uses `AKIA`).
pub const ROOT_KEY_PREFIX: &str = "SSK";

/// A new `(access key id, secret access key)` pair: 20 uppercase alphanumerics for the
/// id (as AWS), 40 characters for the secret.
pub fn new_access_key() -> (String, String) {
    let mut rng = rand::rng();
    let id: String = (0..20 - ROOT_KEY_PREFIX.len())
        .map(|_| {
            let c = rng.sample(Alphanumeric) as char;
            c.to_ascii_uppercase()
        })
        .collect();
    let secret: String = (0..40).map(|_| rng.sample(Alphanumeric) as char).collect();
    (format!("{ROOT_KEY_PREFIX}{id}"), secret)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_have_aws_shapes_and_differ() {
        let (id, secret) = super::new_access_key();
        assert_eq!(id.len(), 20);
        assert!(
            id.starts_with("SSK")
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(secret.len(), 40);
        assert_ne!(super::new_access_key().0, id);
    }
}
