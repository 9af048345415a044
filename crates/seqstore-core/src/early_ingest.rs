//! Ingesting an upload while its parts arrive. The node that stages part 1 of a source
//! starts that source's ingestion and feeds it each next part, in number order, from
//! staging as soon as it is staged; Complete then only feeds what is left and waits. The
//! ingest job uses that result only when the parts fed are exactly the first parts the
//! Complete listed (same part numbers, same uploads of them); otherwise it ingests from
//! staging as before. Either way the read set is the same: the same bytes go through the
//! same ingestion.
//!
//! In memory of one node, and at most `Settings::early_ingests` uploads at once: anything
//! that goes wrong drops the early ingestion and leaves the upload to the ingest job.

use crate::catalog::{PartRecord, ReadSetRecord, UploadRecord};
use crate::ids::UploadId;
use crate::ingest::{IngestPlan, SourceStream, StoredSource, stored_name};
use crate::jobs::kind::ItemError;
use crate::vocabulary::{PartSource, UploadStatus};
use crate::{Service, Timestamp};
use bytes::Bytes;
use futures::StreamExt;
use seqstore_blob::BlobKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

/// An early ingestion not fed for this long is dropped (the upload may go on; its ingest
/// job then reads the staged parts).
const IDLE_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Staged-part chunks (up to 1 MiB each) queued for one early ingestion: the ingestion
/// regroups and queues its input itself, so this only keeps it fed.
const FEED_DEPTH: usize = 2;

/// The early ingestions of this node, by upload.
#[derive(Debug, Default, Clone)]
pub(crate) struct EarlyIngests {
    uploads: Arc<Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<Early>>>>>,
}

/// The ingestions of one upload's sources.
struct Early {
    /// Ended: taken by the ingest job, or dropped; nothing more is fed.
    closed: bool,
    /// `[SOURCE1, SOURCE2]`.
    sources: [Option<Feed>; 2],
    /// Per source, when an ingestion could not go on: the staged parts it had read, the one
    /// it stopped in last (none: it could not start). It starts again only once one of them
    /// is uploaded again, so bad bytes cost one ingestion, not one per part staged after.
    gave_up: [Option<Vec<PartRecord>>; 2],
    /// Last fed.
    touched: Instant,
}

impl std::fmt::Debug for Early {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Early")
            .field("closed", &self.closed)
            .finish()
    }
}

/// One source's running ingestion and the parts it was fed.
pub(crate) struct Feed {
    /// The staged parts fed so far: parts 1, 2, … in order.
    fed: Vec<PartRecord>,
    /// Bytes to the ingestion; the source ends when it is dropped.
    input: mpsc::Sender<Result<Bytes, ItemError>>,
    /// The ingestion, writing `key` (aborted, its file unwritten, if dropped unfinished).
    task: AbortOnDropHandle<Result<StoredSource, ItemError>>,
    /// Where the stored file is written until Complete moves it.
    key: BlobKey,
}

fn slot(source: PartSource) -> usize {
    match source {
        PartSource::Source1 => 0,
        PartSource::Source2 => 1,
    }
}

impl EarlyIngests {
    fn get(&self, id: &UploadId) -> Option<Arc<tokio::sync::Mutex<Early>>> {
        self.uploads.lock().expect("early ingests").get(id).cloned()
    }

    /// A new entry for `id`, unless `limit` uploads already have one.
    fn insert(&self, id: &UploadId, limit: usize) -> Option<Arc<tokio::sync::Mutex<Early>>> {
        let mut uploads = self.uploads.lock().expect("early ingests");
        if let Some(entry) = uploads.get(id) {
            return Some(entry.clone());
        }
        if uploads.len() >= limit {
            return None;
        }
        let entry = Arc::new(tokio::sync::Mutex::new(Early {
            closed: false,
            sources: [None, None],
            gave_up: [None, None],
            touched: Instant::now(),
        }));
        uploads.insert(id.clone(), entry.clone());
        Some(entry)
    }

    /// Ends the upload's early ingestions and hands over what they fed (waiting for a part
    /// being fed to be done).
    pub(crate) async fn take(&self, id: &UploadId) -> [Option<Feed>; 2] {
        let entry = self.uploads.lock().expect("early ingests").remove(id);
        let Some(entry) = entry else {
            return [None, None];
        };
        let mut early = entry.lock().await;
        early.closed = true;
        std::mem::take(&mut early.sources)
    }

    /// Drops the upload's early ingestions, if any.
    pub(crate) async fn forget(&self, id: &UploadId) {
        drop(self.take(id).await);
    }

    fn uploads(&self) -> Vec<UploadId> {
        self.uploads
            .lock()
            .expect("early ingests")
            .keys()
            .cloned()
            .collect()
    }
}

impl Service {
    /// `staged` was staged: feeds the upload's early ingestion of its source what now follows
    /// in order, in the background. A node starts one when it stages a part 1.
    pub(crate) fn part_staged(&self, upload: &UploadRecord, staged: &PartRecord) {
        if self.settings.early_ingests == 0 {
            return;
        }
        let service = self.clone();
        let upload = upload.clone();
        let (source, number, key) = (
            staged.part_source,
            staged.part_number,
            staged.blob_key.clone(),
        );
        tokio::spawn(async move { service.feed_early(&upload, source, number, &key).await });
    }

    /// `key` is where part `number` was staged. Its feeder may come after the loop below
    /// already read it (following an earlier part's feeder): only another key at that
    /// number is a part uploaded again.
    async fn feed_early(
        &self,
        upload: &UploadRecord,
        source: PartSource,
        number: i64,
        key: &BlobKey,
    ) {
        let entry = match self.early.get(&upload.id) {
            Some(entry) => entry,
            None if number == 1 => {
                match self.early.insert(&upload.id, self.settings.early_ingests) {
                    Some(entry) => entry,
                    None => return,
                }
            }
            None => return,
        };
        let mut early = entry.lock().await;
        if early.closed {
            return;
        }
        early.touched = Instant::now();
        let Early {
            sources, gave_up, ..
        } = &mut *early;
        let (feed, gave_up) = (&mut sources[slot(source)], &mut gave_up[slot(source)]);
        if feed.as_ref().and_then(|f| read_other(&f.fed, number, key)) == Some(true) {
            tracing::info!(upload_id = %upload.id, %source, part = number,
                "early ingestion starts over: a part it read was uploaded again");
            *feed = None;
        }
        if let Some(read) = gave_up.as_ref() {
            if read_other(read, number, key) != Some(true) {
                return;
            }
            *gave_up = None;
        }
        loop {
            let next = feed.as_ref().map_or(1, |f| f.fed.len() as i64 + 1);
            let staged = self
                .catalog
                .list_parts(&upload.id, source, None, None, Some(next - 1), 1)
                .await;
            let part = match staged {
                Ok(parts) => match parts.into_iter().next() {
                    Some(part) if part.part_number == next => part,
                    _ => return,
                },
                Err(e) => {
                    tracing::debug!(upload_id = %upload.id, error = %e, "early ingestion paused");
                    return;
                }
            };
            if feed.is_none() {
                match self.start_early(upload, source).await {
                    Ok(started) => *feed = Some(started),
                    Err(e) => {
                        tracing::info!(upload_id = %upload.id, %source, error = %e,
                            "no early ingestion");
                        *gave_up = Some(Vec::new());
                        return;
                    }
                }
            }
            let Some(f) = feed.as_mut() else { return };
            if let Err(why) = self.feed_part(f, &part).await {
                tracing::info!(upload_id = %upload.id, %source, part = next, why,
                    "early ingestion stopped");
                let mut read = std::mem::take(&mut f.fed);
                read.push(part);
                *gave_up = Some(read);
                *feed = None;
                return;
            }
        }
    }

    /// Starts ingesting `source` of `upload` into a file under the upload's staging prefix.
    async fn start_early(
        &self,
        upload: &UploadRecord,
        source: PartSource,
    ) -> Result<Feed, ItemError> {
        let read_set = pending_read_set(upload, Timestamp::now());
        let plan: IngestPlan = self.ingest_plan(&read_set).await?;
        let n = slot(source) as u8 + 1;
        let name = stored_name(&upload.name, plan.kind, n);
        let key = BlobKey::early_ingest(upload.id.as_str(), &name)?;
        let (input, rx) = mpsc::channel(FEED_DEPTH);
        let stream: SourceStream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        })
        .boxed();
        let service = self.clone();
        let target = key.clone();
        let task =
            tokio::spawn(async move { service.ingest_source(&plan, &target, &name, stream).await });
        Ok(Feed {
            fed: Vec::new(),
            input,
            task: AbortOnDropHandle::new(task),
            key,
        })
    }

    /// Feeds one staged part; why not, when the ingestion cannot go on with it.
    async fn feed_part(&self, feed: &mut Feed, part: &PartRecord) -> Result<(), String> {
        let mut bytes = self
            .blobs
            .read_range(&part.blob_key, 0..part.size as u64)
            .await
            .map_err(|e| format!("reading the staged part: {e}"))?;
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(|e| format!("reading the staged part: {e}"))?;
            if feed.input.send(Ok(chunk)).await.is_err() {
                return Err("the ingestion ended before the upload did".into());
            }
        }
        feed.fed.push(part.clone());
        tracing::debug!(upload_id = %part.upload_id, source = %part.part_source,
            part = part.part_number, "fed a staged part to an early ingestion");
        Ok(())
    }

    /// The stored file of `listed` (one source's parts as Complete listed them, in order),
    /// moved to `key`, when the early ingestion `feed` of that source read the first of
    /// them: the rest are fed now. `None` (the reason logged) when it cannot be used.
    pub(crate) async fn finish_early(
        &self,
        feed: Option<Feed>,
        listed: &[PartRecord],
        key: &BlobKey,
        read_set: &ReadSetRecord,
    ) -> Result<Option<StoredSource>, ItemError> {
        let Some(mut feed) = feed else {
            return Ok(None);
        };
        let (upload_id, source) = match listed.first() {
            Some(p) => (p.upload_id.clone(), p.part_source),
            None => return Ok(None),
        };
        let unused = |why: &str| {
            tracing::info!(%upload_id, %source, why, "ingesting an upload's source from staging");
            Ok(None)
        };
        // Its reference was looked up when it started; what the job says must not depend
        // on that.
        if let Some(arn) = read_set.reference_arn.as_deref()
            && let Err(e) = self.reference_by_arn(&read_set.account_id, arn).await
        {
            return unused(&format!("its linked reference: {e}"));
        }
        let same = |(a, b): (&PartRecord, &PartRecord)| {
            a.part_number == b.part_number && a.blob_key == b.blob_key
        };
        let fed_before = feed.fed.len();
        if fed_before > listed.len() || !feed.fed.iter().zip(listed).all(same) {
            return unused("Complete listed other parts than the early ingestion read");
        }
        for part in &listed[fed_before..] {
            if let Err(why) = self.feed_part(&mut feed, part).await {
                return unused(&why);
            }
        }
        let Feed {
            input,
            task,
            key: early,
            ..
        } = feed;
        drop(input);
        let stored = match task.await {
            Ok(Ok(stored)) => stored,
            Ok(Err(e)) => return unused(&format!("the early ingestion failed: {e}")),
            Err(e) => return unused(&format!("the early ingestion panicked: {e}")),
        };
        if let Err(e) = self.blobs.rename(&early, key).await {
            self.delete_blob(&early).await;
            return unused(&format!("moving its file: {e}"));
        }
        tracing::info!(%upload_id, %source, parts = listed.len(), fed_at_complete = listed.len() - fed_before,
            "ingested an upload's source as its parts arrived");
        Ok(Some(stored))
    }

    /// Drops early ingestions of uploads no longer in progress (completed on another node,
    /// aborted, expired) or not fed for a long time.
    pub async fn drop_stale_early_ingests(&self) {
        for id in self.early.uploads() {
            let idle = match self.early.get(&id) {
                Some(entry) => match entry.try_lock() {
                    Ok(early) => early.touched.elapsed() > IDLE_LIMIT,
                    Err(_) => false, // being fed
                },
                None => continue,
            };
            let live = matches!(
                self.catalog.upload_by_id(&id).await,
                Ok(Some(u)) if u.status == UploadStatus::InProgress
            );
            if idle || !live {
                tracing::info!(upload_id = %id, idle, "dropped an early ingestion");
                self.early.forget(&id).await;
            }
        }
    }
}

/// Whether part `number` of those `read` was staged elsewhere than `key` (so uploaded again
/// since); `None` when it was not read.
fn read_other(read: &[PartRecord], number: i64, key: &BlobKey) -> Option<bool> {
    let read = read.get(usize::try_from(number - 1).ok()?)?;
    Some(&read.blob_key != key)
}

/// The read set Complete makes of `upload` (its id is given at Complete).
pub(crate) fn pending_read_set(upload: &UploadRecord, now: Timestamp) -> ReadSetRecord {
    ReadSetRecord {
        account_id: upload.account_id.clone(),
        sequence_store_id: upload.sequence_store_id.clone(),
        name: upload.name.clone(),
        description: upload.description.clone(),
        subject_id: upload.subject_id.clone(),
        sample_id: upload.sample_id.clone(),
        generated_from: upload.generated_from.clone(),
        reference_arn: upload.reference_arn.clone(),
        file_type: upload.source_file_type,
        status: crate::vocabulary::ReadSetStatus::ProcessingUpload,
        creation_type: crate::vocabulary::CreationType::Upload,
        creation_job_id: Some(upload.id.to_string()),
        created_at: now,
        updated_at: now,
        ..ReadSetRecord::default()
    }
}
