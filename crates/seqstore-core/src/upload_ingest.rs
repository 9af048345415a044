//! The ingest job of a completed upload: its parts are joined per source and ingested;
//! the read set becomes ACTIVE, or UPLOAD_FAILED with a message saying what is wrong.

use crate::catalog::{CatalogError, JobItemRecord, JobRecord, PartRecord, ReadSetRecord};
use crate::ids::{ReadSetId, UploadId};
use crate::ingest::{SourceStream, StoredSource, stored_name};
use crate::jobs::kind::{ItemError, Kind, mark_failed, record_read_set};
use crate::uploads::UploadIngest;
use crate::vocabulary::{EtagAlgorithm, PartSource, ReadSetStatus};
use crate::{Service, Timestamp};
use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use seqstore_blob::{BlobPrefix, KeyError};
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::SourceKind;
use std::collections::BTreeMap;

/// The ingest job of a completed upload: one item, the upload's read set.
pub(crate) struct IngestUpload;

#[async_trait]
impl Kind for IngestUpload {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<(), ItemError> {
        let read_set = service.ingest_upload(job, item).await?;
        // the upload's tags were recorded at completion
        record_read_set(service, owner, job, item, &read_set, &BTreeMap::new())
            .await
            .map_err(ItemError::Record)?;
        service.discard_staging(item).await;
        Ok(())
    }

    fn output(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<Option<BlobPrefix>, KeyError> {
        BlobPrefix::read_set(&job.account_id, &job.store_id, &item.result_id).map(Some)
    }

    /// The read set ends UPLOAD_FAILED and the staged parts go.
    async fn fail(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
        message: &str,
    ) -> Result<(), CatalogError> {
        match service.failed_upload(job, item, message).await {
            Ok(read_set) => {
                record_read_set(service, owner, job, item, &read_set, &BTreeMap::new()).await?;
                service.discard_staging(item).await;
                Ok(())
            }
            Err(e) => {
                tracing::error!(job_id = %job.id, error = ?e, "cannot mark the upload failed");
                mark_failed(service, owner, job, item, message).await
            }
        }
    }
}

impl Service {
    /// Ingests an upload's parts into its read set; the record returned is ACTIVE. A source
    /// this node ingested while its parts arrived is finished, not read again, when its
    /// parts are the ones Complete listed.
    pub(crate) async fn ingest_upload(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<ReadSetRecord, ItemError> {
        let spec = upload_spec(item)?;
        let upload_id = UploadId::from(spec.upload_id.as_str());
        let mut read_set = self.ingested_read_set(job, item).await?;
        let mut early = self.early.take(&upload_id).await;
        let family = self.etag_family(&read_set).await?;
        let kind = read_set.file_type.source_kind();
        let parts = self
            .catalog
            .all_parts(&upload_id)
            .await
            .map_err(|e| ItemError::Transient(e.to_string()))?;
        let mut plan = None;
        let mut stored: Vec<StoredSource> = Vec::new();
        for (n, source) in [(1u8, PartSource::Source1), (2, PartSource::Source2)] {
            let listed: Vec<PartRecord> = spec
                .parts
                .iter()
                .filter(|(s, _)| *s == source)
                .map(|(s, number)| {
                    parts
                        .iter()
                        .find(|p| p.part_source == *s && p.part_number == *number)
                        .cloned()
                        .ok_or_else(|| {
                            ItemError::Internal(format!("staged part {number} of {s} is missing"))
                        })
                })
                .collect::<Result<_, _>>()?;
            if listed.is_empty() {
                continue;
            }
            let name = stored_name(&read_set.name, kind, n);
            let key = self.read_set_blob_key(&read_set, &name)?;
            let feed = early[usize::from(n - 1)].take();
            if let Some(done) = self.finish_early(feed, &listed, &key, &read_set).await? {
                stored.push(done);
                continue;
            }
            if plan.is_none() {
                plan = Some(self.ingest_plan(&read_set).await?);
            }
            let plan = plan.as_ref().expect("made above");
            let done = self
                .ingest_source(plan, &key, &name, self.staged_stream(listed))
                .await
                .map_err(|e| match e {
                    ItemError::Failed(m) => ItemError::Failed(format!("{source}: {m}")),
                    other => other,
                })?;
            stored.push(done);
        }
        self.fill_read_set(&mut read_set, &stored, kind, family)
            .await?;
        Ok(read_set)
    }

    /// The read set of an ingest item marked UPLOAD_FAILED with `message`; files already
    /// written for it are removed.
    pub(crate) async fn failed_upload(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
        message: &str,
    ) -> Result<ReadSetRecord, ItemError> {
        let mut read_set = self.ingested_read_set(job, item).await?;
        if let Ok(prefix) = BlobPrefix::read_set(
            &read_set.account_id,
            &read_set.sequence_store_id,
            &read_set.id,
        ) {
            let _ = self.blobs.delete_prefix(&prefix).await;
        }
        let copied = self.copy_to_fallback(job, item, &read_set).await;
        read_set.status = ReadSetStatus::UploadFailed;
        read_set.status_message = Some(match copied {
            Some(note) if message.chars().count() + note.chars().count() + 2 <= 255 => {
                format!("{message}; {note}")
            }
            _ => message.to_owned(),
        });
        read_set.updated_at = Timestamp::now();
        Ok(read_set)
    }

    /// Copies a failed upload's bytes to the store's `fallbackLocation`, one object per
    /// source (`<location><readSetId>/source1`, `.../source2`); says where, or why not.
    async fn copy_to_fallback(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
        read_set: &ReadSetRecord,
    ) -> Option<String> {
        let store = self
            .catalog
            .sequence_store(&job.account_id, &job.store_id)
            .await
            .ok()??;
        let location = store.fallback_location?;
        if let Err(e) = self.check_bucket(&job.account_id, "fallbackLocation", &location) {
            return Some(format!("uploaded bytes not copied: {e}"));
        }
        let spec = upload_spec(item).ok()?;
        let parts = self
            .catalog
            .all_parts(&UploadId::from(spec.upload_id.as_str()))
            .await
            .ok()?;
        let prefix = if location.ends_with('/') {
            location
        } else {
            format!("{location}/")
        };
        for (n, source) in [(1, PartSource::Source1), (2, PartSource::Source2)] {
            let listed: Vec<PartRecord> = spec
                .parts
                .iter()
                .filter(|(s, _)| *s == source)
                .filter_map(|(s, number)| {
                    parts
                        .iter()
                        .find(|p| p.part_source == *s && p.part_number == *number)
                        .cloned()
                })
                .collect();
            if listed.is_empty() {
                continue;
            }
            let uri = format!("{prefix}{}/source{n}", read_set.id);
            if let Err(e) = self.sources.put(&uri, self.staged_stream(listed)).await {
                tracing::warn!(read_set_id = %read_set.id, uri, error = %e, "cannot copy a failed upload to its fallback location");
                return Some(format!("copying the upload to {prefix} failed"));
            }
        }
        Some(format!("uploaded bytes copied to {prefix}{}/", read_set.id))
    }

    /// Removes the staged parts of an upload whose read set is settled.
    pub(crate) async fn discard_staging(&self, item: &JobItemRecord) {
        let Ok(spec) = upload_spec(item) else { return };
        let deleted = match BlobPrefix::upload(&spec.upload_id) {
            Ok(prefix) => self.blobs.delete_prefix(&prefix).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = deleted {
            tracing::warn!(upload_id = spec.upload_id, error = %e, "could not remove staged parts");
        }
    }

    async fn ingested_read_set(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<ReadSetRecord, ItemError> {
        self.catalog
            .read_set(
                &job.account_id,
                &job.store_id,
                &ReadSetId::from(item.result_id.as_str()),
            )
            .await
            .map_err(|e| ItemError::Transient(e.to_string()))?
            .ok_or_else(|| {
                ItemError::Internal(format!(
                    "read set {} of the upload is missing",
                    item.result_id
                ))
            })
    }

    /// The staged parts of one source, in order, as one stream.
    fn staged_stream(&self, parts: Vec<PartRecord>) -> SourceStream {
        let blobs = self.blobs.clone();
        stream::iter(parts)
            .then(move |p| {
                let blobs = blobs.clone();
                async move { blobs.read_range(&p.blob_key, 0..p.size as u64).await }
            })
            .map_ok(|s| s.map_err(|e| ItemError::Internal(format!("reading a staged part: {e}"))))
            .map_err(|e| ItemError::Internal(format!("opening a staged part: {e}")))
            .try_flatten()
            .boxed()
    }

    /// Checks that paired sources agree, writes the index and fills in the ingestion
    /// results of an ACTIVE read set.
    pub(crate) async fn fill_read_set(
        &self,
        read_set: &mut ReadSetRecord,
        stored: &[StoredSource],
        kind: SourceKind,
        family: EtagFamily,
    ) -> Result<(), ItemError> {
        if let [one, two] = stored
            && one.summary.read_count != two.summary.read_count
        {
            return Err(ItemError::Failed(format!(
                "paired FASTQ: source 1 has {} reads, source 2 has {}",
                one.summary.read_count, two.summary.read_count
            )));
        }
        let index_extension = kind.index_extension();
        let first = stored
            .first()
            .ok_or_else(|| ItemError::Internal("no source was ingested".into()))?;
        if let (Some(ext), Some(index)) = (index_extension, &first.summary.index) {
            let name = format!("{}.{ext}", first.file_name);
            self.blobs
                .put(
                    &self.read_set_blob_key(read_set, &name)?,
                    bytes::Bytes::from(index.clone()),
                )
                .await
                .map_err(|e| ItemError::Internal(e.to_string()))?;
            read_set.index_name = Some(name);
            read_set.index_size = Some(index.len() as i64);
            read_set.s3_etags.index = Some(crate::files::md5_hex(index));
        }
        read_set.status = ReadSetStatus::Active;
        read_set.status_message = None;
        read_set.etag_algorithm = Some(EtagAlgorithm::of(read_set.file_type, family));
        read_set.etag_source1 = Some(first.summary.etag.clone());
        read_set.etag_source2 = stored.get(1).map(|s| s.summary.etag.clone());
        read_set.total_read_count = Some(stored.iter().map(|s| s.summary.read_count as i64).sum());
        read_set.total_base_count = Some(stored.iter().map(|s| s.summary.base_count as i64).sum());
        read_set.source1_name = Some(first.file_name.clone());
        read_set.source1_size = Some(first.size as i64);
        read_set.source2_name = stored.get(1).map(|s| s.file_name.clone());
        read_set.source2_size = stored.get(1).map(|s| s.size as i64);
        read_set.s3_etags.source1 = Some(first.md5.clone());
        read_set.s3_etags.source2 = stored.get(1).map(|s| s.md5.clone());
        read_set.updated_at = Timestamp::now();
        Ok(())
    }
}

fn upload_spec(item: &JobItemRecord) -> Result<UploadIngest, ItemError> {
    serde_json::from_str(&item.spec)
        .map_err(|e| ItemError::Internal(format!("ingest item spec: {e}")))
}
