//! Read set export jobs (spec D.8, E16): StartReadSetExportJob, GetReadSetExportJob,
//! ListReadSetExportJobs, and exporting one read set: each stored file (the index too) is
//! streamed to `<destination><readSetId>/<stored file name>` in the user's bucket. Exporting
//! counts as access; an archived read set must be activated first.

use crate::catalog::{JobItemRecord, JobRecord};
use crate::error::Result;
use crate::ids::{AccountId, JobId, ReadSetId, StoreId};
use crate::jobs::kind::{ItemError, Kind};
use crate::submit::{self, Submission, job_filter};
use crate::vocabulary::{ItemStatus, JobKind, ReadSetStatus};
use crate::{CoreError, Service, error_chain};
use async_trait::async_trait;
use futures::StreamExt;
use seqstore_blob::{BlobPrefix, KeyError};
use seqstore_model::{
    ExportReadSet, ExportReadSetDetail, ExportReadSetJobDetail, GetReadSetExportJobResponse,
    ListReadSetExportJobsRequest, ListReadSetExportJobsResponse, ReadSetExportJobStatus,
    StartReadSetExportJobRequest, StartReadSetExportJobResponse,
};

/// StartReadSetExportJob's job.
pub(crate) struct ExportReadSets;

#[async_trait]
impl Kind for ExportReadSets {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        service.export_read_set(job, item).await?;
        service
            .catalog
            .set_item_status(&job.id, item.index, owner, ItemStatus::Finished, None)
            .await
            .map_err(ItemError::Record)
    }

    /// Exports write only to the user's bucket.
    fn output(
        &self,
        _: &JobRecord,
        _: &JobItemRecord,
    ) -> std::result::Result<Option<BlobPrefix>, KeyError> {
        Ok(None)
    }
}

/// `destination` with exactly one `/` at its end.
fn folder(destination: &str) -> String {
    format!("{}/", destination.trim_end_matches('/'))
}

impl Service {
    /// Copies the files of the read set an export item names to the job's destination.
    async fn export_read_set(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(), ItemError> {
        let spec: ExportReadSet = serde_json::from_str(&item.spec)
            .map_err(|e| ItemError::Internal(format!("job item spec: {e}")))?;
        let destination = job
            .destination
            .as_deref()
            .ok_or_else(|| ItemError::Internal("export job without a destination".into()))?;
        let id = ReadSetId::from(spec.read_set_id.as_str());
        let r = match self
            .catalog
            .read_set(&job.account_id, &job.store_id, &id)
            .await
            .map_err(ItemError::Record)?
        {
            Some(r) if r.status != ReadSetStatus::Deleted => r,
            _ => {
                return Err(ItemError::Failed(format!(
                    "read set {id} not found in sequence store {}",
                    job.store_id
                )));
            }
        };
        match r.status {
            ReadSetStatus::Active => {}
            ReadSetStatus::Archived | ReadSetStatus::Activating => {
                return Err(ItemError::Failed(format!(
                    "read set {id} is {}; activate it with StartReadSetActivationJob, then export it",
                    r.status
                )));
            }
            other => {
                return Err(ItemError::Failed(format!(
                    "read set {id} is {other}; only ACTIVE read sets can be exported"
                )));
            }
        }
        self.note_access(&id).await;
        let folder = format!("{}{id}/", folder(destination));
        for file in r.stored_files() {
            let (name, size) = (file.name, file.size);
            let uri = format!("{folder}{name}");
            self.check_item_bucket(job, &uri)?;
            let key = self.read_set_blob_key(&r, name)?;
            let stream = if size > 0 {
                self.blobs
                    .read_range(&key, 0..size as u64)
                    .await
                    .map_err(|e| ItemError::Internal(error_chain(&e)))?
            } else {
                futures::stream::empty().boxed()
            };
            let written = self
                .sources
                .put(&uri, stream)
                .await
                .map_err(ItemError::from_source)?;
            if written != size as u64 {
                return Err(ItemError::Internal(format!(
                    "{uri}: {written} bytes written, {size} stored"
                )));
            }
        }
        Ok(())
    }

    /// StartReadSetExportJob.
    pub async fn start_read_set_export_job(
        &self,
        account_id: &AccountId,
        input: StartReadSetExportJobRequest,
    ) -> Result<StartReadSetExportJobResponse> {
        self.sequence_store_record(account_id, &StoreId::from(input.sequence_store_id.as_str()))
            .await?;
        self.check_bucket(account_id, "destination", &input.destination)?;
        let submission = Submission {
            operation: "StartReadSetExportJob",
            kind: JobKind::ReadSetExport,
            store_id: &input.sequence_store_id,
            role_arn: Some(&input.role_arn),
            destination: Some(&input.destination),
            request: &input,
            client_token: input.client_token.as_deref(),
            specs: input
                .sources
                .iter()
                .map(submit::spec)
                .collect::<Result<_>>()?,
            results: Vec::new(),
        };
        self.submit_job(account_id, submission, |job| {
            StartReadSetExportJobResponse {
                id: job.id.to_string(),
                sequence_store_id: job.store_id.to_string(),
                destination: input.destination.clone(),
                status: ReadSetExportJobStatus::Submitted,
                creation_time: job.created_at.into(),
            }
        })
        .await
    }

    /// GetReadSetExportJob.
    pub async fn get_read_set_export_job(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<GetReadSetExportJobResponse> {
        let (job, items) = self
            .job_with_items(
                account_id,
                JobKind::ReadSetExport,
                store_id,
                id,
                "read set export job",
            )
            .await?;
        let read_sets = items
            .iter()
            .map(|item| {
                let spec: ExportReadSet =
                    serde_json::from_str(&item.spec).map_err(CoreError::json("a job item spec"))?;
                Ok(ExportReadSetDetail {
                    id: spec.read_set_id,
                    status: item.status.into(),
                    status_message: item.status_message.clone(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(GetReadSetExportJobResponse {
            id: job.id.to_string(),
            sequence_store_id: job.store_id.to_string(),
            destination: job.destination.clone().unwrap_or_default(),
            status: job.status.into(),
            status_message: job.status_message.clone(),
            creation_time: job.created_at.into(),
            completion_time: job.completed_at.map(Into::into),
            read_sets: Some(read_sets),
        })
    }

    /// ListReadSetExportJobs.
    pub async fn list_read_set_export_jobs(
        &self,
        account_id: &AccountId,
        input: ListReadSetExportJobsRequest,
    ) -> Result<ListReadSetExportJobsResponse> {
        let store_id = &StoreId::from(input.sequence_store_id.as_str());
        self.sequence_store_record(account_id, store_id).await?;
        let f = input.filter.unwrap_or_default();
        let filter = job_filter(
            f.status.map(Into::into),
            f.created_after.as_ref(),
            f.created_before.as_ref(),
        );
        let (rows, next_token) = self
            .job_page(
                account_id,
                JobKind::ReadSetExport,
                store_id,
                filter,
                input.next_token.as_deref(),
                input.max_results,
            )
            .await?;
        Ok(ListReadSetExportJobsResponse {
            next_token,
            export_jobs: Some(
                rows.iter()
                    .map(|job| ExportReadSetJobDetail {
                        id: job.id.to_string(),
                        sequence_store_id: job.store_id.to_string(),
                        destination: job.destination.clone().unwrap_or_default(),
                        status: job.status.into(),
                        creation_time: job.created_at.into(),
                        completion_time: job.completed_at.map(Into::into),
                    })
                    .collect(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn destinations_become_one_folder() {
        assert_eq!(super::folder("s3://b"), "s3://b/");
        assert_eq!(super::folder("s3://b/"), "s3://b/");
        assert_eq!(super::folder("s3://b/p/q/"), "s3://b/p/q/");
    }
}
