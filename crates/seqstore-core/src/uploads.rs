//! Direct multipart uploads (spec D.6, E5–E7): create, stream parts to staging, list,
//! abort, and complete into a read set that an ingest job validates.

use crate::catalog::{
    CatalogError, IdempotencyRecord, JobItemRecord, JobRecord, ListCursor, PartRecord,
    ReadSetRecord, UploadRecord,
};
use crate::early_ingest::pending_read_set;
use crate::error::Result;
use crate::idempotency::Create;
use crate::ids::{AccountId, ID_ATTEMPTS, StoreId, UploadId, new_id};
use crate::paging;
use crate::tags::validate_tags;
use crate::vocabulary::{self, ItemStatus, JobKind, JobStatus, PartSource, UploadStatus};
use crate::{CoreError, Service, Timestamp};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use seqstore_blob::BlobKey;
use seqstore_model::{
    CompleteMultipartReadSetUploadRequest, CompleteMultipartReadSetUploadResponse,
    CreateMultipartReadSetUploadRequest, CreateMultipartReadSetUploadResponse, FileType,
    ListMultipartReadSetUploadsRequest, ListMultipartReadSetUploadsResponse,
    ListReadSetUploadPartsRequest, ListReadSetUploadPartsResponse, MultipartReadSetUploadListItem,
    ReadSetUploadPartListItem, UploadReadSetPartRequest, UploadReadSetPartResponse,
};
use sha2::{Digest, Sha256};

/// Largest part body accepted (spec E7: 100 MiB, what the Transfer Manager sends).
pub const MAX_PART_BYTES: u64 = 104_857_600;

/// What an ingest job item needs to know about an upload (its spec, as JSON).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct UploadIngest {
    /// The upload whose parts are ingested.
    pub(crate) upload_id: String,
    /// `(source, part number)` in the order the parts are concatenated.
    pub(crate) parts: Vec<(PartSource, i64)>,
}

impl Service {
    /// CreateMultipartReadSetUpload.
    pub async fn create_multipart_read_set_upload(
        &self,
        account_id: &AccountId,
        input: CreateMultipartReadSetUploadRequest,
    ) -> Result<CreateMultipartReadSetUploadResponse> {
        let store_id = StoreId::from(input.sequence_store_id.as_str());
        let tags = input.tags.clone().unwrap_or_default();
        let now = Timestamp::now();
        let make = || async {
            self.sequence_store_record(account_id, &store_id).await?;
            let link = input.reference_arn.as_deref();
            self.check_reference_link(account_id, input.source_file_type, link)
                .await?;
            validate_tags(&tags, "tags")?;
            let upload = UploadRecord {
                id: new_id(),
                account_id: account_id.to_owned(),
                sequence_store_id: store_id.clone(),
                source_file_type: input.source_file_type.into(),
                subject_id: input.subject_id.clone(),
                sample_id: input.sample_id.clone(),
                generated_from: input.generated_from.clone(),
                reference_arn: input.reference_arn.clone(),
                name: input.name.clone(),
                description: input.description.clone(),
                tags: tags.clone(),
                status: UploadStatus::InProgress,
                read_set_id: None,
                created_at: now,
            };
            let item = upload_item(&upload)?;
            let answer = CreateMultipartReadSetUploadResponse {
                sequence_store_id: item.sequence_store_id,
                upload_id: item.upload_id,
                source_file_type: item.source_file_type,
                subject_id: item.subject_id,
                sample_id: item.sample_id,
                generated_from: item.generated_from,
                reference_arn: item.reference_arn,
                name: item.name,
                description: item.description,
                tags: item.tags,
                creation_time: item.creation_time,
            };
            Ok((upload, answer))
        };
        let create = Create {
            operation: "CreateMultipartReadSetUpload",
            request: &input,
            client_token: input.client_token.as_deref(),
            what: "upload",
        };
        let insert = |upload, idem: Option<IdempotencyRecord>| async move {
            self.catalog.create_upload(&upload, idem.as_ref()).await
        };
        self.create(account_id, create, make, insert).await
    }

    /// UploadReadSetPart: streams the body to staging while hashing it. `claimed_sha256`
    /// is a hex digest the client signed in `x-amz-content-sha256`, checked at the end.
    pub async fn upload_read_set_part(
        &self,
        account_id: &AccountId,
        input: &UploadReadSetPartRequest,
        mut body: BoxStream<'static, std::io::Result<Bytes>>,
        claimed_sha256: Option<&str>,
    ) -> Result<UploadReadSetPartResponse> {
        let max = self.settings.max_part_uploads_per_account;
        let _slot = self.upload_slots.take(account_id, max)?;
        let upload = self
            .upload_in_progress(
                account_id,
                &StoreId::from(input.sequence_store_id.as_str()),
                &UploadId::from(input.upload_id.as_str()),
            )
            .await?;
        let source: PartSource = input.part_source.into();
        if source == PartSource::Source2 && upload.source_file_type != vocabulary::FileType::Fastq {
            return Err(CoreError::invalid(
                "partSource",
                format!(
                    "SOURCE2 parts are only for paired FASTQ; this upload is {}",
                    upload.source_file_type
                ),
            ));
        }
        let min_free = self.settings.min_free_bytes;
        if let Some(free) = self.blobs.free_bytes().filter(|&free| free < min_free) {
            return Err(CoreError::QuotaExceeded(format!(
                "the server's storage is nearly full ({free} bytes free, fewer than its \
                 blob.min_free_bytes of {min_free}); no part is accepted until space is freed"
            )));
        }
        let number = i64::from(input.part_number);
        let key = BlobKey::upload_part(&upload.id, source.as_str(), number, &new_id::<String>())?;
        let mut writer = self.blobs.writer(&key).await.map_err(internal)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let streamed: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    CoreError::invalid("body", format!("reading the part body failed: {e}"))
                })?;
                size += chunk.len() as u64;
                if size > MAX_PART_BYTES {
                    return Err(CoreError::invalid(
                        "body",
                        format!("part {number} of {source} is larger than {MAX_PART_BYTES} bytes"),
                    ));
                }
                hasher.update(&chunk);
                writer.write(&chunk).await.map_err(internal)?;
            }
            if size == 0 {
                return Err(CoreError::invalid(
                    "body",
                    format!("part {number} of {source} is empty"),
                ));
            }
            Ok(())
        }
        .await;
        let digest = hasher.finalize();
        let mismatch = claimed_sha256
            .is_some_and(|claimed| !claimed.eq_ignore_ascii_case(&hex::encode(digest)));
        if let Err(e) = streamed {
            let _ = writer.abort().await;
            return Err(e);
        }
        if mismatch {
            let _ = writer.abort().await;
            return Err(CoreError::invalid(
                "body",
                "the part body does not match its x-amz-content-sha256",
            ));
        }
        writer.finish().await.map_err(internal)?;
        let checksum = BASE64.encode(digest);
        let now = Timestamp::now();
        let part = PartRecord {
            upload_id: upload.id.clone(),
            part_source: source,
            part_number: number,
            size: size as i64,
            checksum: checksum.clone(),
            blob_key: key.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.catalog.put_part(&part).await {
            Ok(replaced) => {
                self.part_staged(&upload, &part);
                if let Some(replaced) = replaced {
                    self.delete_blob(&replaced).await;
                }
            }
            Err(CatalogError::NotFound(_)) => {
                self.delete_blob(&key).await;
                return Err(upload_not_found(&UploadId::from(input.upload_id.as_str())));
            }
            Err(e) => {
                self.delete_blob(&key).await;
                return Err(e.into());
            }
        }
        Ok(UploadReadSetPartResponse { checksum })
    }

    /// ListReadSetUploadParts.
    pub async fn list_read_set_upload_parts(
        &self,
        account_id: &AccountId,
        input: ListReadSetUploadPartsRequest,
    ) -> Result<ListReadSetUploadPartsResponse> {
        let upload = self
            .upload_in_progress(
                account_id,
                &StoreId::from(input.sequence_store_id.as_str()),
                &UploadId::from(input.upload_id.as_str()),
            )
            .await?;
        let f = input.filter.unwrap_or_default();
        let (after, limit) = (
            decode_part_token(input.next_token.as_deref())?,
            paging::limit(input.max_results),
        );
        let mut rows = self
            .catalog
            .list_parts(
                &upload.id,
                input.part_source.into(),
                f.created_after.map(Into::into),
                f.created_before.map(Into::into),
                after,
                limit + 1,
            )
            .await?;
        let next_token = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|p| encode_part_token(p.part_number))
        });
        let parts = rows
            .iter()
            .map(|p| {
                Ok(ReadSetUploadPartListItem {
                    part_number: p.part_number as i32,
                    part_size: p.size,
                    part_source: p.part_source.into(),
                    checksum: p.checksum.clone(),
                    creation_time: Some(p.created_at.into()),
                    last_updated_time: Some(p.updated_at.into()),
                })
            })
            .collect::<Result<_>>()?;
        Ok(ListReadSetUploadPartsResponse {
            next_token: next_token.flatten(),
            parts: Some(parts),
        })
    }

    /// ListMultipartReadSetUploads: uploads in progress.
    pub async fn list_multipart_read_set_uploads(
        &self,
        account_id: &AccountId,
        input: ListMultipartReadSetUploadsRequest,
    ) -> Result<ListMultipartReadSetUploadsResponse> {
        let store_id = &StoreId::from(input.sequence_store_id.as_str());
        self.sequence_store_record(account_id, store_id).await?;
        let (rows, next_token) = paging::page(
            "ListMultipartReadSetUploads",
            input.next_token.as_deref(),
            input.max_results,
            |after, limit| async move {
                self.catalog
                    .list_uploads(account_id, store_id, after.as_ref(), limit)
                    .await
            },
        )
        .await?;
        let uploads = rows.iter().map(upload_item).collect::<Result<_>>()?;
        Ok(ListMultipartReadSetUploadsResponse {
            next_token,
            uploads: Some(uploads),
        })
    }

    /// AbortMultipartReadSetUpload: the upload ends and its staged parts are removed.
    pub async fn abort_multipart_read_set_upload(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        upload_id: &UploadId,
    ) -> Result<()> {
        self.sequence_store_record(account_id, store_id).await?;
        let parts = match self
            .catalog
            .abort_upload(account_id, store_id, upload_id)
            .await
        {
            Err(CatalogError::NotFound(_)) => return Err(upload_not_found(upload_id)),
            other => other?,
        };
        self.early.forget(upload_id).await;
        for part in parts {
            self.delete_blob(&part.blob_key).await;
        }
        Ok(())
    }

    /// Aborts every upload still in progress `older_than` after its creation, removing its
    /// staged parts; how many went.
    pub async fn expire_uploads(&self, older_than: std::time::Duration) -> Result<usize> {
        let before = Timestamp::now().minus(older_than);
        let mut expired = 0;
        loop {
            let stale = self.catalog.stale_uploads(before, 100).await?;
            if stale.is_empty() {
                return Ok(expired);
            }
            for u in stale {
                let store = &u.sequence_store_id;
                match self.catalog.abort_upload(&u.account_id, store, &u.id).await {
                    Ok(parts) => {
                        self.early.forget(&u.id).await;
                        for part in parts {
                            self.delete_blob(&part.blob_key).await;
                        }
                        tracing::info!(upload_id = %u.id, account = %u.account_id, "expired an upload");
                        expired += 1;
                    }
                    // Completed or aborted meanwhile.
                    Err(CatalogError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    /// CompleteMultipartReadSetUpload (spec E5, E6): every listed part must exist with its
    /// checksum (hex or base64 accepted); parts are joined by ascending number per source;
    /// unlisted parts are dropped. The read set is PROCESSING_UPLOAD until its ingest job
    /// ends.
    pub async fn complete_multipart_read_set_upload(
        &self,
        account_id: &AccountId,
        input: CompleteMultipartReadSetUploadRequest,
    ) -> Result<CompleteMultipartReadSetUploadResponse> {
        let store = self
            .sequence_store_record(account_id, &StoreId::from(input.sequence_store_id.as_str()))
            .await?;
        let upload = self
            .upload_in_progress(
                account_id,
                &StoreId::from(input.sequence_store_id.as_str()),
                &UploadId::from(input.upload_id.as_str()),
            )
            .await?;
        let stored = self.catalog.all_parts(&upload.id).await?;
        let mut listed: Vec<(PartSource, i64)> = Vec::new();
        let mut verified: Vec<PartRecord> = Vec::new();
        for (i, item) in input.parts.iter().enumerate() {
            let (source, number) = (item.part_source.into(), i64::from(item.part_number));
            if source == PartSource::Source2
                && upload.source_file_type != vocabulary::FileType::Fastq
            {
                return Err(CoreError::invalid(
                    format!("parts.{i}"),
                    format!("parts.{i}: SOURCE2 is only for paired FASTQ uploads"),
                ));
            }
            let Some(part) = stored
                .iter()
                .find(|p| p.part_source == source && p.part_number == number)
            else {
                return Err(CoreError::invalid(
                    format!("parts.{i}"),
                    format!("parts.{i}: part {number} of {source} was not uploaded"),
                ));
            };
            if !checksum_matches(&item.checksum, &part.checksum) {
                return Err(CoreError::invalid(
                    format!("parts.{i}"),
                    format!(
                        "parts.{i}: checksum of part {number} of {source} does not match the uploaded part"
                    ),
                ));
            }
            if listed.iter().any(|&(s, n)| s == source && n == number) {
                return Err(CoreError::invalid(
                    format!("parts.{i}"),
                    format!("parts.{i}: part {number} of {source} is listed twice"),
                ));
            }
            listed.push((source, number));
            verified.push(part.clone());
        }
        if !listed.iter().any(|&(s, _)| s == PartSource::Source1) {
            return Err(CoreError::invalid("parts", "parts lists no SOURCE1 part"));
        }
        listed.sort();
        let now = Timestamp::now();
        for _ in 0..ID_ATTEMPTS {
            let read_set = ReadSetRecord {
                id: new_id(),
                ..pending_read_set(&upload, now)
            };
            let job = JobRecord {
                id: new_id(),
                account_id: account_id.to_owned(),
                kind: JobKind::ReadSetIngest,
                store_id: store.id.clone(),
                role_arn: None,
                destination: None,
                status: JobStatus::Submitted,
                status_message: None,
                created_at: now,
                completed_at: None,
                attempts: 0,
            };
            let spec = UploadIngest {
                upload_id: upload.id.to_string(),
                parts: listed.clone(),
            };
            let item = JobItemRecord {
                job_id: job.id.clone(),
                index: 0,
                status: ItemStatus::NotStarted,
                status_message: None,
                spec: serde_json::to_string(&spec).map_err(CoreError::json("a job item spec"))?,
                result_id: read_set.id.to_string(),
                attempts: 0,
            };
            match self
                .catalog
                .complete_upload(
                    &upload.id,
                    &verified,
                    &read_set,
                    &upload.tags,
                    &job,
                    &[item],
                )
                .await
            {
                Ok(()) => {
                    self.job_submitted.notify_waiters();
                    return Ok(CompleteMultipartReadSetUploadResponse {
                        read_set_id: read_set.id.into(),
                    });
                }
                Err(CatalogError::AlreadyExists(_)) => continue,
                Err(CatalogError::NotFound(_)) => return Err(upload_not_found(&upload.id)),
                Err(CatalogError::Changed(_)) => {
                    return Err(CoreError::Conflict(format!(
                        "a part of upload {} was uploaded again while it was being completed; \
                         list its parts and complete it with their checksums",
                        upload.id
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::NoFreeId("read set"))
    }

    async fn upload_in_progress(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        upload_id: &UploadId,
    ) -> Result<UploadRecord> {
        self.sequence_store_record(account_id, store_id).await?;
        match self.catalog.upload(account_id, store_id, upload_id).await? {
            Some(u) if u.status == UploadStatus::InProgress => Ok(u),
            _ => Err(upload_not_found(upload_id)),
        }
    }

    /// BAM and CRAM need an ACTIVE reference of the caller's account; a given reference
    /// must exist whatever the type.
    pub(crate) async fn check_reference_link(
        &self,
        account_id: &AccountId,
        file_type: FileType,
        arn: Option<&str>,
    ) -> Result<()> {
        match (file_type, arn) {
            (FileType::Bam | FileType::Cram, None) => Err(CoreError::invalid(
                "referenceArn",
                format!(
                    "referenceArn is required for {} read sets",
                    file_type.as_str()
                ),
            )),
            (_, None) => Ok(()),
            (_, Some(arn)) => self.reference_by_arn(account_id, arn).await.map(|_| ()),
        }
    }

    pub(crate) async fn delete_blob(&self, key: &BlobKey) {
        if let Err(e) = self.blobs.delete(key).await {
            tracing::warn!(%key, error = %e, "could not delete a blob");
        }
    }
}

fn upload_item(u: &UploadRecord) -> Result<MultipartReadSetUploadListItem> {
    Ok(MultipartReadSetUploadListItem {
        sequence_store_id: u.sequence_store_id.to_string(),
        upload_id: u.id.to_string(),
        source_file_type: u.source_file_type.into(),
        subject_id: u.subject_id.clone(),
        sample_id: u.sample_id.clone(),
        generated_from: u.generated_from.clone(),
        reference_arn: u.reference_arn.clone(),
        name: Some(u.name.clone()),
        description: u.description.clone(),
        tags: Some(u.tags.clone()),
        creation_time: u.created_at.into(),
    })
}

/// Spec E5: the client may echo the checksum as we sent it (base64) or as hex.
fn checksum_matches(given: &str, stored_base64: &str) -> bool {
    let Ok(stored) = BASE64.decode(stored_base64) else {
        return false;
    };
    let given = given.trim();
    BASE64.decode(given).is_ok_and(|g| g == stored) || hex::decode(given).is_ok_and(|g| g == stored)
}

/// Parts page by part number: the cursor's position field carries the last number.
fn encode_part_token(part_number: i64) -> String {
    let cursor = ListCursor {
        created_at: Timestamp::from_millis(part_number),
        id: String::new(),
    };
    paging::encode("ListReadSetUploadParts", &cursor)
}

/// The part number a token from [`encode_part_token`] resumes after.
fn decode_part_token(token: Option<&str>) -> Result<Option<i64>> {
    Ok(paging::decode("ListReadSetUploadParts", token)?.map(|c| c.created_at.millis()))
}

fn upload_not_found(id: &UploadId) -> CoreError {
    CoreError::NotFound(format!("upload {id} not found or no longer in progress"))
}

fn internal(e: seqstore_blob::BlobError) -> CoreError {
    if e.is_storage_full() {
        return CoreError::QuotaExceeded(
            "no space left on the server's storage: the part was not stored".into(),
        );
    }
    CoreError::storage("staging an upload part")(e)
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksums_compare_as_bytes_in_either_encoding() {
        let b64 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(super::checksum_matches(b64, b64));
        assert!(super::checksum_matches(hex, b64));
        assert!(super::checksum_matches(&hex.to_uppercase(), b64));
        assert!(!super::checksum_matches("AAAA", b64));
        assert!(!super::checksum_matches("not a checksum", b64));
    }
}
