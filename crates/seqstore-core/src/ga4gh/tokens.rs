//! Bearer tokens: `sqt_<id>_<secret>`. The catalog keeps the id, the account and user it acts
//! as, its expiry and a SHA-256 of the secret; the secret is shown once, when it is made.

use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

use super::{Ga4ghCaller, Ga4ghError};
use crate::catalog::{BearerTokenRecord, Catalog};
use crate::error::Result;
use crate::ids::{AccountId, TokenId};
use crate::s3_objects::S3Caller;
use crate::s3_policy::principal_arn;
use crate::{CoreError, Service, Timestamp};

const PREFIX: &str = "sqt_";
const ID_LEN: usize = 16;
const SECRET_LEN: usize = 40;

/// The longest lifetime a token may be given: ten years.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

/// A token just made: its record and the token text, which is not kept anywhere.
#[derive(Clone)]
pub struct IssuedToken {
    /// What the catalog keeps.
    pub record: BearerTokenRecord,
    /// `sqt_<id>_<secret>`, for `Authorization: Bearer`.
    pub token: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Makes a token acting as `account_id` (and `user_name`), valid for `lifetime` (`None`:
/// until deleted), and records it in `catalog`.
pub async fn create_token(
    catalog: &dyn Catalog,
    account_id: &AccountId,
    user_name: Option<&str>,
    lifetime: Option<Duration>,
) -> Result<IssuedToken> {
    if lifetime.is_some_and(|l| l.is_zero() || l > MAX_TOKEN_LIFETIME) {
        return Err(CoreError::invalid(
            "expires",
            "a token lives for at least a second and at most ten years",
        ));
    }
    let mut rng = rand::rng();
    let mut text =
        |n: usize| -> String { (0..n).map(|_| rng.sample(Alphanumeric) as char).collect() };
    let (id, secret) = (text(ID_LEN), text(SECRET_LEN));
    let now = Timestamp::now();
    let record = BearerTokenRecord {
        token_id: TokenId::from(id.as_str()),
        secret_sha256: sha256_hex(&secret),
        account_id: account_id.clone(),
        user_name: user_name.map(str::to_owned),
        created_at: now,
        expires_at: lifetime.map(|l| now.plus(l)),
    };
    catalog.insert_bearer_token(&record).await?;
    Ok(IssuedToken {
        record,
        token: format!("{PREFIX}{id}_{secret}"),
    })
}

impl Service {
    /// The caller an `Authorization` header names: a bearer token's principal, or anyone
    /// when there is no header.
    pub async fn ga4gh_caller(
        &self,
        authorization: Option<&str>,
    ) -> Result<Ga4ghCaller, Ga4ghError> {
        let Some(authorization) = authorization else {
            return Ok(Ga4ghCaller::Anyone);
        };
        let invalid = |why: &str| Ga4ghError::InvalidAuthentication(why.to_owned());
        let token = authorization
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| invalid("the Authorization header must be \"Bearer TOKEN\""))?;
        let (id, secret) = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .filter(|(id, secret)| id.len() == ID_LEN && secret.len() == SECRET_LEN)
            .ok_or_else(|| invalid("the bearer token is not a seqstore token"))?;
        let record = self
            .catalog
            .bearer_token(&TokenId::from(id))
            .await?
            .ok_or_else(|| invalid("the bearer token is unknown or was deleted"))?;
        if !same(&record.secret_sha256, &sha256_hex(secret)) {
            return Err(invalid("the bearer token is unknown or was deleted"));
        }
        if record.expires_at.is_some_and(|at| at <= Timestamp::now()) {
            return Err(invalid("the bearer token has expired"));
        }
        let principal_arn = principal_arn(
            &self.settings.partition,
            record.account_id.as_str(),
            record.user_name.as_deref(),
        );
        Ok(Ga4ghCaller::Token(S3Caller {
            account_id: record.account_id,
            principal_arn,
            signature_version: "Bearer",
        }))
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Compares two digests in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn digests_compare_whole() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("abc", "ab"));
    }
}
