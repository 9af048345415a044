//! Read sets (spec D.3–D.5, D.12, E8–E10, E25–E27): metadata, listing, part downloads,
//! batch deletion.

use crate::catalog::{CatalogError, ReadSetFilter, ReadSetRecord, ReferenceRecord};
use crate::error::Result;
use crate::files::{self, BlobRead};
use crate::ids::{AccountId, ReadSetId, StoreId};
use crate::paging;
use crate::vocabulary::{ReadSetStatus, ReferenceStatus};
use crate::{Arn, ArnResource, CoreError, Service};
use seqstore_blob::{BlobKey, BlobPrefix, KeyError};
use seqstore_model::{
    BatchDeleteReadSetResponse, ETag, GetReadSetMetadataResponse, GetReadSetRequest,
    ListReadSetsRequest, ListReadSetsResponse, ReadSetBatchError, ReadSetFile, ReadSetFiles,
    ReadSetListItem, SequenceInformation,
};

impl Service {
    /// GetReadSetMetadata. A deleted read set is gone (spec E25).
    pub async fn get_read_set_metadata(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<GetReadSetMetadataResponse> {
        let store = self.sequence_store_record(account_id, store_id).await?;
        let r = self.live_read_set(account_id, store_id, id).await?;
        let item = self.read_set_item(&r)?;
        // Files appear once ingestion stored them (not while PROCESSING_UPLOAD).
        let alias = &store.s3_access_point_alias;
        let file = |name: &Option<String>, size: Option<i64>| -> Result<_> {
            let Some((name, size)) = name.as_ref().zip(size) else {
                return Ok(None);
            };
            let key = self.read_set_blob_key(&r, name)?;
            Ok(Some(files::file_information(alias, &key, size)))
        };
        let files = match r.source1_name {
            Some(_) => Some(ReadSetFiles {
                source1: file(&r.source1_name, r.source1_size)?,
                source2: file(&r.source2_name, r.source2_size)?,
                index: file(&r.index_name, r.index_size)?,
            }),
            None => None,
        };
        Ok(GetReadSetMetadataResponse {
            id: item.id,
            arn: item.arn,
            sequence_store_id: item.sequence_store_id,
            subject_id: item.subject_id,
            sample_id: item.sample_id,
            status: item.status,
            name: item.name,
            description: item.description,
            file_type: item.file_type,
            creation_time: item.creation_time,
            sequence_information: item.sequence_information,
            reference_arn: item.reference_arn,
            files,
            status_message: item.status_message,
            creation_type: item.creation_type,
            etag: item.etag,
            creation_job_id: r.creation_job_id.clone(),
        })
    }

    /// ListReadSets (spec E25, E27).
    pub async fn list_read_sets(
        &self,
        account_id: &AccountId,
        input: ListReadSetsRequest,
    ) -> Result<ListReadSetsResponse> {
        let store_id = &StoreId::from(input.sequence_store_id.as_str());
        self.sequence_store_record(account_id, store_id).await?;
        let f = input.filter.unwrap_or_default();
        let filter = ReadSetFilter {
            name: f.name,
            status: f.status.map(Into::into),
            reference_arn: f.reference_arn,
            created_after: f.created_after.map(Into::into),
            created_before: f.created_before.map(Into::into),
            sample_id: f.sample_id,
            subject_id: f.subject_id,
            generated_from: f.generated_from,
            creation_type: f.creation_type.map(Into::into),
        };
        let (rows, next_token) = paging::page(
            "ListReadSets",
            input.next_token.as_deref(),
            input.max_results,
            |after, limit| async move {
                self.catalog
                    .list_read_sets(account_id, store_id, &filter, after.as_ref(), limit)
                    .await
            },
        )
        .await?;
        let read_sets = rows
            .iter()
            .map(|r| self.read_set_item(r))
            .collect::<Result<_>>()?;
        Ok(ListReadSetsResponse {
            next_token,
            read_sets,
        })
    }

    /// GetReadSet: one part of a stored file of an ACTIVE read set (spec E9, E10).
    pub async fn get_read_set(
        &self,
        account_id: &AccountId,
        input: &GetReadSetRequest,
    ) -> Result<BlobRead> {
        let r = self
            .live_read_set(
                account_id,
                &StoreId::from(input.sequence_store_id.as_str()),
                &ReadSetId::from(input.id.as_str()),
            )
            .await?;
        if r.status != ReadSetStatus::Active {
            return Err(CoreError::Conflict(format!(
                "read set {} is {}; only ACTIVE read sets can be downloaded",
                r.id, r.status
            )));
        }
        let file = input.file.unwrap_or(ReadSetFile::Source1);
        let (name, size) = match file {
            ReadSetFile::Source1 => (&r.source1_name, r.source1_size),
            ReadSetFile::Source2 => (&r.source2_name, r.source2_size),
            ReadSetFile::Index => (&r.index_name, r.index_size),
        };
        let Some((name, size)) = name.as_ref().zip(size) else {
            return Err(CoreError::NotFound(format!(
                "read set {} has no {} file",
                r.id,
                file.as_str()
            )));
        };
        let range = files::part_range(size as u64, input.part_number, None)?;
        self.note_access(&r.id).await;
        let stream = self
            .blobs
            .read_range(&self.read_set_blob_key(&r, name)?, range.clone())
            .await
            .map_err(CoreError::storage(format!("reading read set {}", r.id)))?;
        Ok(BlobRead {
            length: range.end - range.start,
            stream,
        })
    }

    /// BatchDeleteReadSet: each id is deleted or reported (spec E26); files are removed.
    pub async fn batch_delete_read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        ids: &[String],
    ) -> Result<BatchDeleteReadSetResponse> {
        self.sequence_store_record(account_id, store_id).await?;
        let mut errors = Vec::new();
        for id in ids {
            match self
                .catalog
                .delete_read_set(account_id, store_id, &ReadSetId::from(id.as_str()))
                .await
            {
                Ok(was) => {
                    self.s3_changed().await;
                    let Ok(prefix) =
                        BlobPrefix::read_set(&was.account_id, &was.sequence_store_id, &was.id)
                    else {
                        continue;
                    };
                    // Both tiers: a copy in either is left by archiving or activation.
                    for tier in std::iter::once(&self.blobs).chain(&self.archive) {
                        if let Err(e) = tier.delete_prefix(&prefix).await {
                            tracing::warn!(read_set_id = %id, error = %e, "could not remove a deleted read set's files; the cleanup will");
                        }
                    }
                }
                Err(CatalogError::NotFound(_)) => errors.push(ReadSetBatchError {
                    id: id.clone(),
                    code: "ResourceNotFoundException".into(),
                    message: format!("read set {id} not found"),
                }),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(BatchDeleteReadSetResponse {
            errors: (!errors.is_empty()).then_some(errors),
        })
    }

    /// A read set that is not deleted.
    pub(crate) async fn live_read_set(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReadSetId,
    ) -> Result<ReadSetRecord> {
        match self.catalog.read_set(account_id, store_id, id).await? {
            Some(r) if r.status != ReadSetStatus::Deleted => Ok(r),
            _ => Err(CoreError::NotFound(format!(
                "read set {id} not found in sequence store {store_id}"
            ))),
        }
    }

    /// The reference an ARN names, if it is an ACTIVE reference of `account_id`.
    pub(crate) async fn reference_by_arn(
        &self,
        account_id: &AccountId,
        arn: &str,
    ) -> Result<ReferenceRecord> {
        let parsed = Arn::parse(arn)
            .map_err(|e| CoreError::invalid("referenceArn", format!("referenceArn: {e}")))?;
        let not_found = || CoreError::NotFound(format!("reference {arn} not found"));
        let ArnResource::Reference(store_id, id) = &parsed.resource else {
            return Err(CoreError::invalid(
                "referenceArn",
                format!("referenceArn {arn} does not name a reference"),
            ));
        };
        if &parsed.account_id != account_id || parsed.region != self.settings.region {
            return Err(not_found());
        }
        match self.catalog.reference(account_id, store_id, id).await? {
            Some(r) if r.status == ReferenceStatus::Active => Ok(r),
            _ => Err(not_found()),
        }
    }

    pub(crate) fn read_set_blob_key(
        &self,
        r: &ReadSetRecord,
        file_name: &str,
    ) -> Result<BlobKey, KeyError> {
        BlobPrefix::read_set(&r.account_id, &r.sequence_store_id, &r.id)?.file(file_name)
    }

    pub(crate) fn read_set_arn(&self, r: &ReadSetRecord) -> String {
        self.arn(
            &r.account_id,
            ArnResource::ReadSet(r.sequence_store_id.clone(), r.id.clone()),
        )
    }

    fn read_set_item(&self, r: &ReadSetRecord) -> Result<ReadSetListItem> {
        let sequence_information = r.total_read_count.map(|reads| SequenceInformation {
            total_read_count: Some(reads),
            total_base_count: r.total_base_count,
            generated_from: r.generated_from.clone(),
            alignment: Some(
                if r.file_type.is_aligned() {
                    "ALIGNED"
                } else {
                    "UNALIGNED"
                }
                .into(),
            ),
        });
        Ok(ReadSetListItem {
            id: r.id.to_string(),
            arn: self.read_set_arn(r),
            sequence_store_id: r.sequence_store_id.to_string(),
            subject_id: Some(r.subject_id.clone()),
            sample_id: Some(r.sample_id.clone()),
            status: r.status.into(),
            name: Some(r.name.clone()),
            description: r.description.clone(),
            reference_arn: r.reference_arn.clone(),
            file_type: r.file_type.into(),
            sequence_information,
            creation_time: r.created_at.into(),
            status_message: r.status_message.clone(),
            creation_type: Some(r.creation_type.into()),
            etag: r
                .etag_algorithm
                .as_ref()
                .map(|a| -> Result<ETag> {
                    Ok(ETag {
                        algorithm: Some((*a).into()),
                        source1: r.etag_source1.clone(),
                        source2: r.etag_source2.clone(),
                    })
                })
                .transpose()?,
        })
    }
}
