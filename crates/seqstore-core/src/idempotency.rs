//! Client tokens (spec E20): a retry with the same token and parameters gets the first
//! answer again; the same token with other parameters is refused.

use crate::catalog::{CatalogError, IdempotencyRecord};
use crate::error::Result;
use crate::ids::{AccountId, ID_ATTEMPTS};
use crate::{CoreError, Service, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::time::Duration;

const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// What to do with a request that may carry a client token.
pub(crate) enum Replay<T> {
    /// The token answered this exact request before: send the same answer.
    Done(T),
    /// Go ahead; record the answer with this token (when there is one).
    Proceed(Option<Pending>),
}

/// A token to record together with the answer, in the same catalog transaction.
pub(crate) struct Pending {
    account_id: AccountId,
    operation: &'static str,
    client_token: String,
    request_hash: String,
}

impl Pending {
    /// The catalog record for `response`.
    pub(crate) fn record(&self, response: &impl Serialize) -> Result<IdempotencyRecord> {
        Ok(IdempotencyRecord {
            account_id: self.account_id.clone(),
            operation: self.operation.to_owned(),
            client_token: self.client_token.clone(),
            request_hash: self.request_hash.clone(),
            response: serde_json::to_string(response)
                .map_err(CoreError::json("a remembered answer"))?,
            created_at: Timestamp::now(),
        })
    }
}

/// How a reused token with different parameters is answered.
#[derive(Clone, Copy)]
pub(crate) enum OnMismatch {
    Validation,
    Conflict,
}

impl Service {
    /// Looks the token up: replay, refuse, or proceed.
    pub(crate) async fn replay<T: DeserializeOwned>(
        &self,
        account_id: &AccountId,
        operation: &'static str,
        client_token: Option<&str>,
        request: &impl Serialize,
        on_mismatch: OnMismatch,
    ) -> Result<Replay<T>> {
        let Some(token) = client_token else {
            return Ok(Replay::Proceed(None));
        };
        let request_hash = request_hash(request)?;
        let not_before = Timestamp::now().minus(WINDOW);
        match self
            .catalog
            .idempotency_record(account_id, operation, token, not_before)
            .await?
        {
            Some(record) if record.request_hash == request_hash => {
                let answer = serde_json::from_str(&record.response)
                    .map_err(CoreError::json("a remembered answer"))?;
                Ok(Replay::Done(answer))
            }
            Some(_) => {
                let message = format!(
                    "clientToken '{token}' was already used for a {operation} request with different parameters"
                );
                Err(match on_mismatch {
                    OnMismatch::Validation => CoreError::invalid("clientToken", message),
                    OnMismatch::Conflict => CoreError::Conflict(message),
                })
            }
            None => Ok(Replay::Proceed(Some(Pending {
                account_id: account_id.clone(),
                operation,
                client_token: token.to_owned(),
                request_hash,
            }))),
        }
    }

    /// The answer for a request whose token a concurrent retry recorded first.
    pub(crate) async fn replay_recorded<T: DeserializeOwned>(
        &self,
        account_id: &AccountId,
        operation: &'static str,
        client_token: Option<&str>,
        request: &impl Serialize,
    ) -> Result<T> {
        match self
            .replay(
                account_id,
                operation,
                client_token,
                request,
                OnMismatch::Validation,
            )
            .await?
        {
            Replay::Done(answer) => Ok(answer),
            Replay::Proceed(_) => Err(CoreError::ReplayLost(operation)),
        }
    }
}

/// A create request as its client token sees it.
pub(crate) struct Create<'a, Req> {
    /// Operation name, e.g. `CreateSequenceStore`.
    pub(crate) operation: &'static str,
    /// The request (a replay must match it).
    pub(crate) request: &'a Req,
    /// Its client token.
    pub(crate) client_token: Option<&'a str>,
    /// What is created, for the error when no id is free.
    pub(crate) what: &'static str,
}

impl Service {
    /// Runs a create: a token that answered this request before gets that answer again;
    /// otherwise `make` checks the request and makes the record and its answer under fresh
    /// ids, and `insert` stores both with the token in one transaction; an id that is taken
    /// makes them again.
    pub(crate) async fn create<Req, Rec, Ans, Made, Inserted>(
        &self,
        account_id: &AccountId,
        c: Create<'_, Req>,
        make: impl Fn() -> Made,
        insert: impl Fn(Rec, Option<IdempotencyRecord>) -> Inserted,
    ) -> Result<Ans>
    where
        Req: Serialize,
        Ans: Serialize + DeserializeOwned,
        Made: Future<Output = Result<(Rec, Ans)>>,
        Inserted: Future<Output = Result<(), CatalogError>>,
    {
        let (op, token) = (c.operation, c.client_token);
        let pending = match self
            .replay(account_id, op, token, c.request, OnMismatch::Validation)
            .await?
        {
            Replay::Done(answer) => return Ok(answer),
            Replay::Proceed(pending) => pending,
        };
        for _ in 0..ID_ATTEMPTS {
            let (record, answer) = make().await?;
            let idem = pending.as_ref().map(|p| p.record(&answer)).transpose()?;
            match insert(record, idem).await {
                Ok(()) => return Ok(answer),
                Err(CatalogError::AlreadyExists(_)) => continue,
                // A concurrent retry with the same token won the race: answer as it did.
                Err(CatalogError::TokenInUse) => {
                    return self.replay_recorded(account_id, op, token, c.request).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::NoFreeId(c.what))
    }
}

/// SHA-256 of the request's JSON form without its `clientToken` (keys are sorted).
fn request_hash(request: &impl Serialize) -> Result<String> {
    let mut value = serde_json::to_value(request).map_err(CoreError::json("a request"))?;
    if let Some(map) = value.as_object_mut() {
        map.remove("clientToken");
    }
    Ok(hex::encode(Sha256::digest(value.to_string())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_ignores_the_token_but_not_the_parameters() {
        let a = serde_json::json!({"name": "x", "clientToken": "1"});
        let b = serde_json::json!({"clientToken": "2", "name": "x"});
        let c = serde_json::json!({"name": "y", "clientToken": "1"});
        assert_eq!(
            super::request_hash(&a).unwrap(),
            super::request_hash(&b).unwrap()
        );
        assert_ne!(
            super::request_hash(&a).unwrap(),
            super::request_hash(&c).unwrap()
        );
    }
}
