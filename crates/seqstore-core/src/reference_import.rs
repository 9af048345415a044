//! Running one source of a reference import job: stream the user's object once, storing it
//! byte for byte while a blocking thread validates the FASTA, hashes it and builds the
//! `.fai`; the reference becomes visible only when all of that succeeded.

use crate::catalog::{CatalogError, JobItemRecord, JobRecord, ReferenceRecord};
use crate::ingest::{INPUT_CHUNK, SourceStream, coalesce, settle};
use crate::jobs::kind::{ItemError, Kind, mark_failed};
use crate::references::index_name;
use crate::vocabulary::ReferenceStatus;
use crate::{Service, Timestamp};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use seqstore_blob::{BlobPrefix, KeyError};
use seqstore_formats::reference::{ImportedReference, ReferenceImport};
use seqstore_model::StartReferenceImportJobSourceItem;
use tokio::sync::mpsc;

/// Largest reference accepted (HealthOmics fixed quota: 15 GB).
const MAX_REFERENCE_BYTES: u64 = 15_000_000_000;

/// Chunks in flight between the reader and the validating thread.
const CHANNEL_DEPTH: usize = 16;

/// A validated, stored reference waiting for its catalog row.
pub(crate) struct StoredReference {
    pub(crate) record: ReferenceRecord,
    /// Its sequences with their refget checksums.
    pub(crate) sequences: Vec<crate::catalog::SequenceRecord>,
    pub(crate) tags: std::collections::BTreeMap<String, String>,
}

impl Service {
    /// Imports one source. Blobs are written under the item's pre-allocated reference id,
    /// so a resumed attempt overwrites its own earlier, unfinished attempt.
    pub(crate) async fn import_reference_source(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<StoredReference, ItemError> {
        let spec: StartReferenceImportJobSourceItem = serde_json::from_str(&item.spec)
            .map_err(|e| ItemError::Internal(format!("job item spec: {e}")))?;
        let uri = spec.source_file.as_str();
        self.check_item_bucket(job, uri)?;
        let source = self
            .sources
            .open(uri)
            .await
            .map_err(ItemError::from_source)?;
        let key = BlobPrefix::reference(&job.account_id, &job.store_id, &item.result_id)
            .and_then(|prefix| prefix.file(&source.file_name))
            .map_err(|e| ItemError::Failed(format!("{uri}: unusable file name ({e})")))?;

        let mut writer = self
            .blobs
            .writer(&key)
            .await
            .map_err(ItemError::from_write("the reference"))?;
        let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let check = tokio::task::spawn_blocking(move || validate(rx));
        let stream = source
            .stream
            .map(|c| c.map_err(ItemError::from_source))
            .boxed();
        let copied = copy(coalesce(stream, INPUT_CHUNK), &mut writer, tx).await;
        let checked = check
            .await
            .map_err(|e| ItemError::Internal(format!("validator panicked: {e}")))?;
        let imported = settle(writer, copied.and(checked)).await?;

        let now = Timestamp::now();
        let record = ReferenceRecord {
            id: item.result_id.clone().into(),
            account_id: job.account_id.clone(),
            reference_store_id: job.store_id.clone(),
            name: spec.name,
            description: spec.description,
            md5: imported.md5.clone(),
            status: ReferenceStatus::Active,
            source_file_name: source.file_name,
            source_size: imported.size as i64,
            index_size: 0,
            // Stored as imported, so the imported bytes' MD5 is the stored file's S3 ETag.
            source_s3_etag: Some(imported.md5.clone()),
            index_s3_etag: None,
            creation_job_id: Some(job.id.clone()),
            created_at: now,
            updated_at: now,
        };
        let fai = imported.index.to_fai();
        let record = ReferenceRecord {
            index_size: fai.len() as i64,
            index_s3_etag: Some(crate::files::md5_hex(fai.as_bytes())),
            ..record
        };
        self.blobs
            .put(
                &self.reference_blob_key(&record, &index_name(&record))?,
                Bytes::from(fai),
            )
            .await
            .map_err(|e| ItemError::Internal(e.to_string()))?;
        Ok(StoredReference {
            sequences: crate::ga4gh::sequence_records(&record, &imported.index),
            record,
            tags: spec.tags.unwrap_or_default(),
        })
    }
}

/// The reference import job (spec D.7): one reference per source.
pub(crate) struct ImportReferences;

#[async_trait]
impl Kind for ImportReferences {
    async fn run(
        &self,
        service: &Service,
        owner: &str,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<(), ItemError> {
        let stored = service.import_reference_source(job, item).await?;
        // Served only once the reference is ACTIVE: written first, so that it never is
        // without them.
        service
            .catalog
            .put_reference_sequences(&stored.record.id, &stored.sequences)
            .await
            .map_err(ItemError::Record)?;
        let recorded = service
            .catalog
            .finish_reference_item(&job.id, item.index, owner, &stored.record, &stored.tags)
            .await;
        match recorded {
            Err(CatalogError::AlreadyExists(_)) => {
                let message = "internal id collision; import this source again";
                mark_failed(service, owner, job, item, message).await
            }
            other => other,
        }
        .map_err(ItemError::Record)
    }

    fn output(
        &self,
        job: &JobRecord,
        item: &JobItemRecord,
    ) -> Result<Option<BlobPrefix>, KeyError> {
        BlobPrefix::reference(&job.account_id, &job.store_id, &item.result_id).map(Some)
    }
}

/// Copies the source to the blob writer and hands every chunk to the validator. A closed
/// channel means the validator already refused the file: stop reading.
async fn copy(
    mut stream: SourceStream,
    writer: &mut seqstore_blob::BlobWriter,
    tx: mpsc::Sender<Bytes>,
) -> Result<(), ItemError> {
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        writer
            .write(&chunk)
            .await
            .map_err(ItemError::from_write("the reference"))?;
        if tx.send(chunk).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The blocking half: hash, decompress, validate and index.
fn validate(mut rx: mpsc::Receiver<Bytes>) -> Result<ImportedReference, ItemError> {
    let mut import = ReferenceImport::new(MAX_REFERENCE_BYTES);
    while let Some(chunk) = rx.blocking_recv() {
        import
            .push(&chunk)
            .map_err(|e| ItemError::Failed(e.to_string()))?;
    }
    import
        .finish()
        .map_err(|e| ItemError::Failed(e.to_string()))
}
