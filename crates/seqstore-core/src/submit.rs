//! Submitting jobs: one catalog transaction records the job, its items (each with
//! the id of the resource it will create) and the client token's answer.

use crate::catalog::{IdempotencyRecord, JobFilter, JobItemRecord, JobRecord};
use crate::error::Result;
use crate::idempotency::Create;
use crate::ids::{AccountId, JobId, StoreId, new_id};
use crate::paging;
use crate::vocabulary::{ItemStatus, JobKind, JobStatus};
use crate::{CoreError, Service, Timestamp};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A job to submit.
pub(crate) struct Submission<'a, Req> {
    /// Operation name, for the client token.
    pub(crate) operation: &'static str,
    /// Job kind.
    pub(crate) kind: JobKind,
    /// Store the job works on.
    pub(crate) store_id: &'a str,
    /// The caller's role ARN, for jobs that name one.
    pub(crate) role_arn: Option<&'a str>,
    /// Where an export job writes.
    pub(crate) destination: Option<&'a str>,
    /// The request (replayed answers are keyed on it).
    pub(crate) request: &'a Req,
    /// The request's client token.
    pub(crate) client_token: Option<&'a str>,
    /// One JSON spec per source.
    pub(crate) specs: Vec<String>,
    /// The existing resource each item works on (activation: its read set), in order;
    /// empty when each item creates one, with a new id.
    pub(crate) results: Vec<String>,
}

impl Service {
    /// Records the job and returns `answer(job)`; a replayed token returns the first answer.
    pub(crate) async fn submit_job<Req, Ans>(
        &self,
        account_id: &AccountId,
        s: Submission<'_, Req>,
        answer: impl Fn(&JobRecord) -> Ans,
    ) -> Result<Ans>
    where
        Req: Serialize,
        Ans: Serialize + DeserializeOwned,
    {
        let now = Timestamp::now();
        let make = || async {
            let job = JobRecord {
                id: new_id(),
                account_id: account_id.to_owned(),
                kind: s.kind,
                store_id: StoreId::from(s.store_id),
                role_arn: s.role_arn.map(str::to_owned),
                destination: s.destination.map(str::to_owned),
                status: JobStatus::Submitted,
                status_message: None,
                created_at: now,
                completed_at: None,
                attempts: 0,
            };
            let items: Vec<JobItemRecord> = s
                .specs
                .iter()
                .enumerate()
                .map(|(i, spec)| JobItemRecord {
                    job_id: job.id.clone(),
                    index: i as i64,
                    status: ItemStatus::NotStarted,
                    status_message: None,
                    spec: spec.clone(),
                    result_id: s.results.get(i).cloned().unwrap_or_else(new_id),
                    attempts: 0,
                })
                .collect();
            let reply = answer(&job);
            Ok(((job, items), reply))
        };
        let insert = |(job, items): (JobRecord, Vec<_>), idem: Option<IdempotencyRecord>| async move {
            self.catalog.create_job(&job, &items, idem.as_ref()).await
        };
        let create = Create {
            operation: s.operation,
            request: s.request,
            client_token: s.client_token,
            what: "job",
        };
        let reply = self.create(account_id, create, make, insert).await?;
        self.job_submitted.notify_waiters();
        Ok(reply)
    }
}

impl Service {
    /// One job of `kind` with its items, for a Get*Job operation; `what` names the kind in
    /// the not-found message (`read set import job`).
    pub(crate) async fn job_with_items(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        id: &JobId,
        what: &str,
    ) -> Result<(JobRecord, Vec<JobItemRecord>)> {
        self.catalog
            .job(account_id, kind, store_id, id)
            .await?
            .ok_or_else(|| {
                CoreError::NotFound(format!("{what} {id} not found in store {store_id}"))
            })
    }

    /// One page of a store's jobs of `kind` for a List*Jobs operation.
    pub(crate) async fn job_page(
        &self,
        account_id: &AccountId,
        kind: JobKind,
        store_id: &StoreId,
        filter: JobFilter,
        next_token: Option<&str>,
        max_results: Option<i32>,
    ) -> Result<(Vec<JobRecord>, Option<String>)> {
        // The kind names the list: a token from one job list is refused by the others.
        paging::page(
            kind.as_str(),
            next_token,
            max_results,
            |after, limit| async move {
                self.catalog
                    .list_jobs(account_id, kind, store_id, &filter, after.as_ref(), limit)
                    .await
            },
        )
        .await
    }
}

/// The JSON spec of one source.
pub(crate) fn spec(source: &impl Serialize) -> Result<String> {
    serde_json::to_string(source).map_err(CoreError::json("a job item spec"))
}

/// The catalog filter of a List*Jobs request's `filter` (status and inclusive creation bounds).
pub(crate) fn job_filter(
    status: Option<JobStatus>,
    created_after: Option<&DateTime<Utc>>,
    created_before: Option<&DateTime<Utc>>,
) -> JobFilter {
    JobFilter {
        status,
        created_after: created_after.map(Into::into),
        created_before: created_before.map(Into::into),
    }
}
