//! Read set import jobs (spec D.7): StartReadSetImportJob, GetReadSetImportJob,
//! ListReadSetImportJobs, and running one source: the user's objects go through the same
//! ingestion as uploads, so an imported and an uploaded copy get the same ETags.

use crate::catalog::{JobItemRecord, JobRecord, ReadSetRecord};
use crate::error::Result;
use crate::ids::{AccountId, JobId, StoreId};
use crate::ingest::{SourceStream, StoredSource};
use crate::jobs::kind::ItemError;
use crate::jobs::kind::{Kind, record_read_set};
use crate::submit::{self, Submission, job_filter};
use crate::tags::validate_tags;
use crate::vocabulary::{CreationType, ItemStatus, JobKind, ReadSetStatus};
use crate::{CoreError, Service, Timestamp};
use async_trait::async_trait;
use futures::StreamExt;
use seqstore_blob::{BlobPrefix, KeyError};
use seqstore_model::{
    FileType, GetReadSetImportJobResponse, ImportReadSetJobItem, ImportReadSetSourceItem,
    ListReadSetImportJobsRequest, ListReadSetImportJobsResponse, ReadSetImportJobStatus,
    StartReadSetImportJobRequest, StartReadSetImportJobResponse, StartReadSetImportJobSourceItem,
};
use std::collections::BTreeMap;

/// The read set import job: one read set per source.
pub(crate) struct ImportReadSets;

#[async_trait]
impl Kind for ImportReadSets {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<(), ItemError> {
        let (read_set, tags) = service.import_read_set_source(job, item).await?;
        record_read_set(service, owner, job, item, &read_set, &tags)
            .await
            .map_err(ItemError::Record)
    }

    fn output(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<Option<BlobPrefix>, KeyError> {
        BlobPrefix::read_set(&job.account_id, &job.store_id, &item.result_id).map(Some)
    }
}

impl Service {
    /// StartReadSetImportJob.
    pub async fn start_read_set_import_job(
        &self,
        account_id: &AccountId,
        input: StartReadSetImportJobRequest,
    ) -> Result<StartReadSetImportJobResponse> {
        self.sequence_store_record(account_id, &StoreId::from(input.sequence_store_id.as_str()))
            .await?;
        for (i, source) in input.sources.iter().enumerate() {
            validate_tags(
                &source.tags.clone().unwrap_or_default(),
                &format!("sources.{i}.tags"),
            )?;
            let files = &source.source_files;
            self.check_bucket(
                account_id,
                &format!("sources.{i}.sourceFiles.source1"),
                &files.source1,
            )?;
            if let Some(uri) = &files.source2 {
                self.check_bucket(account_id, &format!("sources.{i}.sourceFiles.source2"), uri)?;
            }
            if source.source_files.source2.is_some() && source.source_file_type != FileType::Fastq {
                return Err(CoreError::invalid(
                    format!("sources.{i}.sourceFiles.source2"),
                    format!("sources.{i}.sourceFiles.source2 is only for paired FASTQ"),
                ));
            }
            self.check_reference_link(
                account_id,
                source.source_file_type,
                source.reference_arn.as_deref(),
            )
            .await
            .map_err(|e| match e {
                CoreError::Validation { field, message } => CoreError::Validation {
                    field: format!("sources.{i}.{field}"),
                    message: format!("sources.{i}: {message}"),
                },
                other => other,
            })?;
        }
        let submission = Submission {
            operation: "StartReadSetImportJob",
            kind: JobKind::ReadSetImport,
            store_id: &input.sequence_store_id,
            role_arn: Some(&input.role_arn),
            destination: None,
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
            StartReadSetImportJobResponse {
                id: job.id.to_string(),
                sequence_store_id: job.store_id.to_string(),
                role_arn: input.role_arn.clone(),
                status: ReadSetImportJobStatus::Submitted,
                creation_time: job.created_at.into(),
            }
        })
        .await
    }

    /// GetReadSetImportJob.
    pub async fn get_read_set_import_job(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<GetReadSetImportJobResponse> {
        let (job, items) = self
            .job_with_items(
                account_id,
                JobKind::ReadSetImport,
                store_id,
                id,
                "read set import job",
            )
            .await?;
        Ok(GetReadSetImportJobResponse {
            id: job.id.to_string(),
            sequence_store_id: job.store_id.to_string(),
            role_arn: job.role_arn.clone().unwrap_or_default(),
            status: job.status.into(),
            status_message: job.status_message.clone(),
            creation_time: job.created_at.into(),
            completion_time: job.completed_at.map(Into::into),
            sources: items.iter().map(source_item).collect::<Result<_>>()?,
        })
    }

    /// ListReadSetImportJobs.
    pub async fn list_read_set_import_jobs(
        &self,
        account_id: &AccountId,
        input: ListReadSetImportJobsRequest,
    ) -> Result<ListReadSetImportJobsResponse> {
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
                JobKind::ReadSetImport,
                store_id,
                filter,
                input.next_token.as_deref(),
                input.max_results,
            )
            .await?;
        let import_jobs = rows
            .iter()
            .map(|job: &JobRecord| {
                Ok(ImportReadSetJobItem {
                    id: job.id.to_string(),
                    sequence_store_id: job.store_id.to_string(),
                    role_arn: job.role_arn.clone().unwrap_or_default(),
                    status: job.status.into(),
                    creation_time: job.created_at.into(),
                    completion_time: job.completed_at.map(Into::into),
                })
            })
            .collect::<Result<_>>()?;
        Ok(ListReadSetImportJobsResponse {
            next_token,
            import_jobs: Some(import_jobs),
        })
    }

    /// Imports one source into the read set the item names; returns it ACTIVE, with tags.
    pub(crate) async fn import_read_set_source(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> std::result::Result<(ReadSetRecord, BTreeMap<String, String>), ItemError> {
        let spec: StartReadSetImportJobSourceItem = serde_json::from_str(&item.spec)
            .map_err(|e| ItemError::Internal(format!("job item spec: {e}")))?;
        let now = Timestamp::now();
        let mut read_set = ReadSetRecord {
            id: item.result_id.clone().into(),
            account_id: job.account_id.clone(),
            sequence_store_id: job.store_id.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.sample_id.clone()),
            description: spec.description.clone(),
            subject_id: spec.subject_id.clone(),
            sample_id: spec.sample_id.clone(),
            generated_from: spec.generated_from.clone(),
            reference_arn: spec.reference_arn.clone(),
            file_type: spec.source_file_type.into(),
            status: ReadSetStatus::Active,
            creation_type: CreationType::Import,
            creation_job_id: Some(job.id.to_string()),
            created_at: now,
            updated_at: now,
            ..ReadSetRecord::default()
        };
        let plan = self.ingest_plan(&read_set).await?;
        let uris: Vec<&str> = [
            Some(spec.source_files.source1.as_str()),
            spec.source_files.source2.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut stored: Vec<StoredSource> = Vec::new();
        for (n, uri) in uris.iter().enumerate() {
            self.check_item_bucket(job, uri)?;
            let source = self
                .sources
                .open(uri)
                .await
                .map_err(ItemError::from_source)?;
            let name = imported_name(&source.file_name, plan.kind, n + 1, uris.len());
            let stream: SourceStream = source
                .stream
                .map(|c| c.map_err(ItemError::from_source))
                .boxed();
            let key = self.read_set_blob_key(&read_set, &name)?;
            let done = self
                .ingest_source(&plan, &key, &name, stream)
                .await
                .map_err(|e| match e {
                    ItemError::Failed(m) => ItemError::Failed(format!("{uri}: {m}")),
                    other => other,
                })?;
            stored.push(done);
        }
        self.fill_read_set(&mut read_set, &stored, plan.kind, plan.family)
            .await?;
        Ok((read_set, spec.tags.unwrap_or_default()))
    }
}

/// Imports keep the object's name (spec D.10); FASTQ is stored gzip, so a plain name gets
/// `.gz`, and paired sources with the same name get `source1_`/`source2_` in front.
fn imported_name(
    object: &str,
    kind: seqstore_formats::read_set::SourceKind,
    n: usize,
    count: usize,
) -> String {
    let clean: String = object
        .chars()
        .map(|c| if c.is_control() || c == '/' { '_' } else { c })
        .collect();
    let clean = if clean.trim_matches('.').is_empty() {
        format!("source{n}")
    } else {
        clean
    };
    let gz = kind == seqstore_formats::read_set::SourceKind::Fastq && !clean.ends_with(".gz");
    let name = if gz { format!("{clean}.gz") } else { clean };
    if count == 2 {
        format!("source{n}_{name}")
    } else {
        name
    }
}

fn source_item(item: &JobItemRecord) -> Result<ImportReadSetSourceItem> {
    let spec: StartReadSetImportJobSourceItem =
        serde_json::from_str(&item.spec).map_err(CoreError::json("a job item spec"))?;
    Ok(ImportReadSetSourceItem {
        source_files: spec.source_files,
        source_file_type: spec.source_file_type,
        status: item.status.into(),
        status_message: item.status_message.clone(),
        subject_id: spec.subject_id,
        sample_id: spec.sample_id,
        generated_from: spec.generated_from,
        reference_arn: spec.reference_arn,
        name: spec.name,
        description: spec.description,
        tags: spec.tags,
        read_set_id: (item.status == ItemStatus::Finished).then(|| item.result_id.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::imported_name;
    use seqstore_formats::read_set::SourceKind;

    #[test]
    fn imported_names() {
        assert_eq!(
            imported_name("r.fastq", SourceKind::Fastq, 1, 1),
            "r.fastq.gz"
        );
        assert_eq!(
            imported_name("r.fq.gz", SourceKind::Fastq, 2, 2),
            "source2_r.fq.gz"
        );
        assert_eq!(imported_name("x.bam", SourceKind::Bam, 1, 1), "x.bam");
        assert_eq!(imported_name("..", SourceKind::Cram, 1, 1), "source1");
    }
}
