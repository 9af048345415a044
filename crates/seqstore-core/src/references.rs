//! References (spec D.14): import jobs, metadata, listing, download and deletion.

use crate::catalog::{
    CatalogError, JobItemRecord, JobRecord, ReferenceFilter, ReferenceRecord, ReferenceStoreRecord,
};
use crate::error::Result;
use crate::files::{self, BlobRead};
use crate::ids::{AccountId, JobId, ReferenceId, StoreId};
use crate::paging;
use crate::submit::{self, Submission, job_filter};
use crate::tags::validate_tags;
use crate::vocabulary::{ItemStatus, JobKind};
use crate::{ArnResource, CoreError, Service};
use seqstore_blob::{BlobKey, BlobPrefix, KeyError};
use seqstore_model::{
    GetReferenceImportJobResponse, GetReferenceMetadataResponse, GetReferenceRequest,
    ImportReferenceJobItem, ImportReferenceSourceItem, ListReferenceImportJobsRequest,
    ListReferenceImportJobsResponse, ListReferencesRequest, ListReferencesResponse,
    ReferenceCreationType, ReferenceFile, ReferenceFiles, ReferenceImportJobStatus,
    ReferenceListItem, StartReferenceImportJobRequest, StartReferenceImportJobResponse,
    StartReferenceImportJobSourceItem,
};

impl Service {
    /// StartReferenceImportJob: records the job; a worker runs it.
    pub async fn start_reference_import_job(
        &self,
        account_id: &AccountId,
        input: StartReferenceImportJobRequest,
    ) -> Result<StartReferenceImportJobResponse> {
        self.reference_store_record(
            account_id,
            &StoreId::from(input.reference_store_id.as_str()),
        )
        .await?;
        for (i, source) in input.sources.iter().enumerate() {
            validate_tags(
                &source.tags.clone().unwrap_or_default(),
                &format!("sources.{i}.tags"),
            )?;
            let field = format!("sources.{i}.sourceFile");
            self.check_bucket(account_id, &field, &source.source_file)?;
        }
        let submission = Submission {
            operation: "StartReferenceImportJob",
            kind: JobKind::ReferenceImport,
            store_id: &input.reference_store_id,
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
            StartReferenceImportJobResponse {
                id: job.id.to_string(),
                reference_store_id: job.store_id.to_string(),
                role_arn: input.role_arn.clone(),
                status: ReferenceImportJobStatus::Submitted,
                creation_time: job.created_at.into(),
            }
        })
        .await
    }

    /// GetReferenceImportJob.
    pub async fn get_reference_import_job(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &JobId,
    ) -> Result<GetReferenceImportJobResponse> {
        let (job, items) = self
            .job_with_items(
                account_id,
                JobKind::ReferenceImport,
                store_id,
                id,
                "reference import job",
            )
            .await?;
        Ok(GetReferenceImportJobResponse {
            id: job.id.to_string(),
            reference_store_id: job.store_id.to_string(),
            role_arn: job.role_arn.clone().unwrap_or_default(),
            status: job.status.into(),
            status_message: job.status_message.clone(),
            creation_time: job.created_at.into(),
            completion_time: job.completed_at.map(Into::into),
            sources: items.iter().map(source_item).collect::<Result<_>>()?,
        })
    }

    /// ListReferenceImportJobs.
    pub async fn list_reference_import_jobs(
        &self,
        account_id: &AccountId,
        input: ListReferenceImportJobsRequest,
    ) -> Result<ListReferenceImportJobsResponse> {
        let store_id = &StoreId::from(input.reference_store_id.as_str());
        self.reference_store_record(account_id, store_id).await?;
        let f = input.filter.unwrap_or_default();
        let filter = job_filter(
            f.status.map(Into::into),
            f.created_after.as_ref(),
            f.created_before.as_ref(),
        );
        let (rows, next_token) = self
            .job_page(
                account_id,
                JobKind::ReferenceImport,
                store_id,
                filter,
                input.next_token.as_deref(),
                input.max_results,
            )
            .await?;
        let import_jobs = rows.iter().map(job_item).collect::<Result<_>>()?;
        Ok(ListReferenceImportJobsResponse {
            next_token,
            import_jobs: Some(import_jobs),
        })
    }

    /// GetReferenceMetadata.
    pub async fn get_reference_metadata(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
    ) -> Result<GetReferenceMetadataResponse> {
        let store = self.reference_store_record(account_id, store_id).await?;
        let r = self.reference_record(account_id, store_id, id).await?;
        let alias = &store.s3_access_point_alias;
        let file = |name: &str, size: i64| -> Result<_> {
            let key = self.reference_blob_key(&r, name)?;
            Ok(Some(files::file_information(alias, &key, size)))
        };
        let item = self.reference_item(&r)?;
        Ok(GetReferenceMetadataResponse {
            files: Some(ReferenceFiles {
                source: file(&r.source_file_name, r.source_size)?,
                index: file(&index_name(&r), r.index_size)?,
            }),
            creation_type: Some(ReferenceCreationType::Import),
            creation_job_id: r.creation_job_id.clone().map(Into::into),
            id: item.id,
            arn: item.arn,
            reference_store_id: item.reference_store_id,
            md5: item.md5,
            status: item.status,
            name: item.name,
            description: item.description,
            creation_time: item.creation_time,
            update_time: item.update_time,
        })
    }

    /// ListReferences.
    pub async fn list_references(
        &self,
        account_id: &AccountId,
        input: ListReferencesRequest,
    ) -> Result<ListReferencesResponse> {
        let store_id = &StoreId::from(input.reference_store_id.as_str());
        self.reference_store_record(account_id, store_id).await?;
        let f = input.filter.unwrap_or_default();
        let filter = ReferenceFilter {
            name: f.name,
            md5: f.md5,
            created_after: f.created_after.map(Into::into),
            created_before: f.created_before.map(Into::into),
        };
        let (rows, next_token) = paging::page(
            "ListReferences",
            input.next_token.as_deref(),
            input.max_results,
            |after, limit| async move {
                self.catalog
                    .list_references(account_id, store_id, &filter, after.as_ref(), limit)
                    .await
            },
        )
        .await?;
        let references = rows
            .iter()
            .map(|r| self.reference_item(r))
            .collect::<Result<_>>()?;
        Ok(ListReferencesResponse {
            next_token,
            references,
        })
    }

    /// DeleteReference: the catalog row first (the reference disappears at once), then its
    /// files.
    pub async fn delete_reference(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
    ) -> Result<()> {
        let r = self.reference_record(account_id, store_id, id).await?;
        let arn = self.reference_arn(&r);
        let deleted = self
            .catalog
            .delete_reference(account_id, store_id, id, &arn)
            .await;
        self.s3_changed().await;
        match deleted {
            Err(CatalogError::NotFound(_)) => return Err(reference_not_found(id)),
            Err(CatalogError::NotEmpty(_)) => {
                return Err(CoreError::Conflict(format!(
                    "reference {id} is linked by read sets or uploads in progress; delete them first"
                )));
            }
            other => other?,
        }
        for name in [r.source_file_name.clone(), index_name(&r)] {
            let deleted = match self.reference_blob_key(&r, &name) {
                Ok(key) => self.blobs.delete(&key).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = deleted {
                tracing::warn!(reference_id = %id, name, error = %e, "could not delete a deleted reference's file");
            }
        }
        Ok(())
    }

    /// GetReference: one part of the FASTA or its index, optionally narrowed by a range.
    pub async fn get_reference(
        &self,
        account_id: &AccountId,
        input: &GetReferenceRequest,
    ) -> Result<BlobRead> {
        let r = self
            .reference_record(
                account_id,
                &StoreId::from(input.reference_store_id.as_str()),
                &ReferenceId::from(input.id.as_str()),
            )
            .await?;
        let (name, size) = match input.file.unwrap_or(ReferenceFile::Source) {
            ReferenceFile::Source => (r.source_file_name.clone(), r.source_size),
            ReferenceFile::Index => (index_name(&r), r.index_size),
        };
        let range = files::part_range(size as u64, input.part_number, input.range.as_deref())?;
        let stream = self
            .blobs
            .read_range(&self.reference_blob_key(&r, &name)?, range.clone())
            .await
            .map_err(CoreError::storage(format!("reading reference {}", r.id)))?;
        Ok(BlobRead {
            length: range.end - range.start,
            stream,
        })
    }

    pub(crate) async fn reference_store_record(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<ReferenceStoreRecord> {
        self.catalog
            .reference_store(account_id, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("reference store {id} not found")))
    }

    async fn reference_record(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
    ) -> Result<ReferenceRecord> {
        self.catalog
            .reference(account_id, store_id, id)
            .await?
            .ok_or_else(|| reference_not_found(id))
    }

    /// The blob key of one of a reference's files.
    /// Whether the reference's stored FASTA is compressed, from its first bytes (as the import
    /// decided), whatever its name says.
    pub(crate) async fn reference_is_gzip(
        &self,
        r: &ReferenceRecord,
    ) -> Result<bool, crate::CoreError> {
        let key = self.reference_blob_key(r, &r.source_file_name)?;
        let head = self
            .blobs
            .get_range(&key, 0..2.min(r.source_size.max(0) as u64))
            .await
            .map_err(crate::CoreError::storage(format!(
                "reading reference {}",
                r.id
            )))?;
        Ok(seqstore_formats::reference::is_gzip(&head))
    }

    pub(crate) fn reference_blob_key(
        &self,
        r: &ReferenceRecord,
        file_name: &str,
    ) -> Result<BlobKey, KeyError> {
        BlobPrefix::reference(&r.account_id, &r.reference_store_id, &r.id)?.file(file_name)
    }

    fn reference_arn(&self, r: &ReferenceRecord) -> String {
        self.arn(
            &r.account_id,
            ArnResource::Reference(r.reference_store_id.clone(), r.id.clone()),
        )
    }

    fn reference_item(&self, r: &ReferenceRecord) -> Result<ReferenceListItem> {
        Ok(ReferenceListItem {
            id: r.id.to_string(),
            arn: self.reference_arn(r),
            reference_store_id: r.reference_store_id.to_string(),
            md5: r.md5.clone(),
            status: Some(r.status.into()),
            name: Some(r.name.clone()),
            description: r.description.clone(),
            creation_time: r.created_at.into(),
            update_time: r.updated_at.into(),
        })
    }
}

/// The `.fai` stored beside a reference.
pub(crate) fn index_name(r: &ReferenceRecord) -> String {
    format!("{}.fai", r.source_file_name)
}

fn reference_not_found(id: &ReferenceId) -> CoreError {
    CoreError::NotFound(format!("reference {id} not found"))
}

fn job_item(job: &JobRecord) -> Result<ImportReferenceJobItem> {
    Ok(ImportReferenceJobItem {
        id: job.id.to_string(),
        reference_store_id: job.store_id.to_string(),
        role_arn: job.role_arn.clone().unwrap_or_default(),
        status: job.status.into(),
        creation_time: job.created_at.into(),
        completion_time: job.completed_at.map(Into::into),
    })
}

fn source_item(item: &JobItemRecord) -> Result<ImportReferenceSourceItem> {
    let spec: StartReferenceImportJobSourceItem =
        serde_json::from_str(&item.spec).map_err(CoreError::json("a job item spec"))?;
    let finished = item.status == ItemStatus::Finished;
    Ok(ImportReferenceSourceItem {
        source_file: Some(spec.source_file),
        status: item.status.into(),
        status_message: item.status_message.clone(),
        name: Some(spec.name),
        description: spec.description,
        tags: spec.tags,
        reference_id: finished.then(|| item.result_id.clone()),
    })
}
