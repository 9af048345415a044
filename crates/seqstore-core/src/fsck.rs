//! The catalog checked against the blob store (`seqstore fsck`), and the cleanup of what
//! interrupted work leaves behind (run by the server at start and hourly).
//!
//! Two passes. From the catalog: every file of a stored read set or reference exists with
//! its recorded size and, when read, its recorded S3 MD5 (and recomputed HealthOmics ETag).
//! From the blob store: every object belongs to a row that keeps it, to work in flight, or
//! is an orphan. Work in flight is told apart without guessing at ages: the pending job
//! items are read first, so an object written before that snapshot either belongs to one of
//! them or to a row that exists by then; objects written after it are not judged.

use crate::bridge::ChannelReader;
use crate::catalog::{ReadSetRecord, ReferenceRecord};
use crate::ids::{AccountId, ReadSetId, ReferenceId, StoreId, UploadId};
use crate::ingest::{INPUT_CHUNK, IngestPlan, coalesce};
use crate::jobs::kind::ItemError;
use crate::lifecycle::tier_files;
use crate::references::index_name;
use crate::vocabulary::{FileType, ReadSetStatus, ReferenceStatus, UploadStatus};
use crate::{CoreError, Service};
use futures::StreamExt;
use md5::{Digest, Md5};
use seqstore_blob::{BlobError, BlobKey, BlobPrefix, BlobStore, StoredObject};
use seqstore_formats::read_set::{IngestOptions, ingest};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::SystemTime;
use tokio::sync::mpsc;

/// Rows fetched per catalog round.
const BATCH: u32 = 100;

/// How much of each stored file the catalog pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reading {
    /// Nothing: the catalog pass is skipped (the server's cleanup).
    Skip,
    /// Sizes only.
    Sizes,
    /// Every byte, for its S3 MD5.
    Md5,
    /// Every byte, for its S3 MD5 and its HealthOmics ETag.
    Etags,
}

/// What a check does.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// How much of the stored files the catalog pass reads.
    pub reading: Reading,
    /// Remove orphans and mark read sets whose files are gone or damaged UPLOAD_FAILED.
    pub repair: bool,
    /// Objects written at or after this are not judged: they may belong to work that
    /// started after the check did. At most the time the check starts.
    pub cutoff: SystemTime,
}

/// What a check found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Whether it found no problem.
    pub clean: bool,
    /// What it looked at.
    pub checked: Checked,
    /// What is wrong, and what `--repair` did about it.
    pub problems: Vec<Problem>,
    /// Objects written after the check began, left unjudged.
    pub skipped_recent: u64,
}

/// Counts of what a check looked at.
#[derive(Debug, Default, Serialize)]
pub struct Checked {
    /// Stored read sets.
    pub read_sets: u64,
    /// Active references.
    pub references: u64,
    /// Their files.
    pub files: u64,
    /// Bytes of those files read.
    pub bytes_read: u64,
    /// Objects in the blob store.
    pub objects: u64,
}

/// One thing wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Its kind.
    pub kind: ProblemKind,
    /// The blob key (or path under the blob root) concerned.
    pub key: String,
    /// What is wrong, in words.
    pub detail: String,
    /// What `--repair` did; absent when nothing was (or could be) done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repaired: Option<String>,
}

/// Kinds of problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A file the catalog records is not in the blob store.
    MissingFile,
    /// A recorded file has another size.
    WrongSize,
    /// A recorded file's bytes do not have its recorded S3 MD5.
    WrongMd5,
    /// A read set file's HealthOmics ETag recomputed differs (or it no longer parses).
    WrongEtag,
    /// A file could not be read (an I/O error, perhaps passing).
    Unreadable,
    /// An object no row keeps and no work in flight writes.
    Orphan,
    /// The staging file of a local write that never finished.
    OrphanStaging,
    /// An object outside the layout this server writes: reported, never removed.
    UnknownObject,
}

/// Reports bytes read so far out of the total the catalog records.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// One recorded file to look at.
struct File {
    key: BlobKey,
    size: i64,
    md5: Option<String>,
    /// The recorded HealthOmics ETag, for a read set source.
    etag: Option<String>,
}

/// Why a file is not what the catalog says.
pub(crate) struct Fault {
    kind: ProblemKind,
    pub(crate) detail: String,
}

impl Service {
    /// Checks the catalog against the blob store; see the module documentation.
    pub async fn check(
        &self,
        options: CheckOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<Report, CoreError> {
        let mut report = Report::default();
        if options.reading != Reading::Skip {
            self.check_rows(options, progress, &mut report).await?;
        }
        self.check_objects(options, &mut report).await?;
        report.clean = report.problems.is_empty();
        Ok(report)
    }

    /// Removes what interrupted work left behind: orphans and staging files written before
    /// `cutoff`. Returns how many it removed.
    pub async fn clean_up(&self, cutoff: SystemTime) -> Result<usize, CoreError> {
        let options = CheckOptions {
            reading: Reading::Skip,
            repair: true,
            cutoff,
        };
        let report = self.check(options, None).await?;
        Ok(report
            .problems
            .iter()
            .filter(|p| p.repaired.is_some())
            .count())
    }

    /// The catalog pass.
    async fn check_rows(
        &self,
        options: CheckOptions,
        progress: Option<Progress<'_>>,
        report: &mut Report,
    ) -> Result<(), CoreError> {
        let total = self.catalog.stored_bytes().await?;
        // One plan per store, format and linked reference: a CRAM's reference is materialized
        // once, not once per read set.
        type PlanKey = (StoreId, FileType, Option<String>);
        let mut plans: HashMap<PlanKey, Result<IngestPlan, String>> = HashMap::new();
        let mut after = String::new();
        loop {
            let page = self.catalog.stored_read_sets(&after, BATCH).await?;
            let Some(last) = page.last() else { break };
            after = last.id.to_string();
            for r in page {
                report.checked.read_sets += 1;
                let plan = match options.reading {
                    Reading::Etags => {
                        let key = (
                            r.sequence_store_id.clone(),
                            r.file_type,
                            r.reference_arn.clone(),
                        );
                        if !plans.contains_key(&key) {
                            let plan = self.ingest_plan(&r).await.map_err(|e| e.to_string());
                            plans.insert(key.clone(), plan);
                        }
                        plans.get(&key)
                    }
                    _ => None,
                };
                if matches!(
                    r.status,
                    ReadSetStatus::Archived | ReadSetStatus::Activating
                ) {
                    let faults = self.check_archived(&r, options.reading, report).await?;
                    self.record_read_set_faults(&r, faults, options.repair, report)
                        .await?;
                    continue;
                }
                let mut faults = Vec::new();
                for file in read_set_files(&r) {
                    let file = file?;
                    let plan = match (plan, &file.etag) {
                        (Some(Ok(plan)), Some(_)) => Some(plan),
                        (Some(Err(e)), Some(_)) => {
                            faults.push((
                                file.key.to_string(),
                                Fault {
                                    kind: ProblemKind::WrongEtag,
                                    detail: format!("cannot recompute its ETag: {e}"),
                                },
                            ));
                            None
                        }
                        _ => None,
                    };
                    if let Some(fault) = self
                        .check_file(&file, options.reading, plan, total, progress, report)
                        .await
                    {
                        faults.push((file.key.to_string(), fault));
                    }
                }
                self.record_read_set_faults(&r, faults, options.repair, report)
                    .await?;
            }
        }
        let mut after = String::new();
        loop {
            let page = self.catalog.stored_references(&after, BATCH).await?;
            let Some(last) = page.last() else { break };
            after = last.id.to_string();
            for r in page {
                report.checked.references += 1;
                for file in reference_files(&r) {
                    let file = file?;
                    if let Some(fault) = self
                        .check_file(&file, options.reading, None, total, progress, report)
                        .await
                    {
                        report.problems.push(Problem {
                            kind: fault.kind,
                            key: file.key.to_string(),
                            detail: format!("reference {}: {}", r.id, fault.detail),
                            repaired: None,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Records the faults of a read set's files; with `repair`, a read set with a definite
    /// fault (not a passing read error) is marked UPLOAD_FAILED, which stops it being
    /// served and makes its files orphans.
    async fn record_read_set_faults(
        &self,
        r: &ReadSetRecord,
        faults: Vec<(String, Fault)>,
        repair: bool,
        report: &mut Report,
    ) -> Result<(), CoreError> {
        let definite = faults
            .iter()
            .find(|(_, f)| f.kind != ProblemKind::Unreadable);
        let mut repaired = None;
        if let (true, Some((key, fault))) = (repair, definite) {
            let file = key.rsplit('/').next().unwrap_or(key);
            let message: String = format!("fsck: stored file {file}: {}", fault.detail)
                .chars()
                .take(255)
                .collect();
            let marked = self.catalog.mark_unreadable(&r.id, &message).await?;
            self.s3_changed().await;
            if marked {
                repaired = Some("read set marked UPLOAD_FAILED; its files are removed".to_owned());
            }
        }
        for (key, fault) in faults {
            report.problems.push(Problem {
                kind: fault.kind,
                key,
                detail: format!("read set {}: {}", r.id, fault.detail),
                repaired: repaired.clone(),
            });
        }
        Ok(())
    }

    /// Looks at the archive copies of an archived read set: present, as many bytes as
    /// recorded, and (when reading) restoring to the recorded MD5s.
    async fn check_archived(
        &self,
        r: &ReadSetRecord,
        reading: Reading,
        report: &mut Report,
    ) -> Result<Vec<(String, Fault)>, CoreError> {
        let prefix = BlobPrefix::read_set(&r.account_id, &r.sequence_store_id, &r.id)?;
        let fault = |kind, detail: String| Fault { kind, detail };
        let Some(archive) = &self.archive else {
            return Ok(vec![(
                archived_key(prefix.as_str()),
                fault(
                    ProblemKind::MissingFile,
                    format!("it is {}, but this server has no archive tier", r.status),
                ),
            )]);
        };
        let Some(files) = tier_files(r)? else {
            return Ok(Vec::new());
        };
        let mut faults = Vec::new();
        let mut stored = 0u64;
        for file in &files {
            report.checked.files += 1;
            let key = archived_key(file.key.as_str());
            match archive.size(&file.key).await {
                Ok(size) => stored += size,
                Err(BlobError::NotFound(_)) => {
                    faults.push((
                        key,
                        fault(
                            ProblemKind::MissingFile,
                            "its archive copy is missing".into(),
                        ),
                    ));
                    continue;
                }
                Err(e) => {
                    faults.push((key, unreadable(&e)));
                    continue;
                }
            }
            if reading >= Reading::Md5 {
                report.checked.bytes_read += file.size;
                match self.verify_archived(archive, file).await {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) => faults.push((
                        key,
                        fault(
                            ProblemKind::WrongMd5,
                            format!("its archive copy does not restore: {why}"),
                        ),
                    )),
                    Err(e) => faults.push((key, fault(ProblemKind::Unreadable, e.to_string()))),
                }
            }
        }
        if faults.is_empty() && r.archive_size != Some(stored as i64) {
            faults.push((
                archived_key(prefix.as_str()),
                fault(
                    ProblemKind::WrongSize,
                    format!(
                        "its archive copies hold {stored} bytes, {} recorded",
                        r.archive_size.unwrap_or(0)
                    ),
                ),
            ));
        }
        Ok(faults)
    }

    /// Looks at one recorded file as far as `reading` says.
    async fn check_file(
        &self,
        file: &File,
        reading: Reading,
        plan: Option<&IngestPlan>,
        total: u64,
        progress: Option<Progress<'_>>,
        report: &mut Report,
    ) -> Option<Fault> {
        report.checked.files += 1;
        let size = match self.blobs.size(&file.key).await {
            Ok(size) => size,
            Err(BlobError::NotFound(_)) => {
                return Some(Fault {
                    kind: ProblemKind::MissingFile,
                    detail: "the file is missing".into(),
                });
            }
            Err(e) => return Some(unreadable(&e)),
        };
        if size != file.size as u64 {
            return Some(Fault {
                kind: ProblemKind::WrongSize,
                detail: format!("{size} bytes stored, {} recorded", file.size),
            });
        }
        if reading < Reading::Md5 {
            return None;
        }
        let digest = self
            .digest(&file.key, size, plan, |n| {
                report.checked.bytes_read += n;
                if let Some(progress) = progress {
                    progress(report.checked.bytes_read, total);
                }
            })
            .await;
        let (md5, etag) = match digest {
            Ok(found) => found,
            Err(fault) => return Some(fault),
        };
        if let Some(recorded) = &file.md5
            && *recorded != md5
        {
            return Some(Fault {
                kind: ProblemKind::WrongMd5,
                detail: format!("the bytes' MD5 is {md5}, {recorded} recorded"),
            });
        }
        match (etag, &file.etag) {
            (Some(Err(e)), _) => Some(Fault {
                kind: ProblemKind::WrongEtag,
                detail: format!("the file no longer reads as its format: {e}"),
            }),
            (Some(Ok(found)), Some(recorded)) if found != *recorded => Some(Fault {
                kind: ProblemKind::WrongEtag,
                detail: format!("its ETag is {found}, {recorded} recorded"),
            }),
            _ => None,
        }
    }

    /// The MD5 of a stored file and, with a plan, its HealthOmics ETag (or why it cannot be
    /// computed), reading it once; `read` is told of every chunk's length.
    pub(crate) async fn digest(
        &self,
        key: &BlobKey,
        size: u64,
        plan: Option<&IngestPlan>,
        mut read: impl FnMut(u64),
    ) -> Result<(String, Option<Result<String, String>>), Fault> {
        let stream = self
            .blobs
            .read_range(key, 0..size)
            .await
            .map_err(|e| unreadable(&e))?;
        let mut stream = coalesce(
            stream
                .map(|chunk| chunk.map_err(|e| ItemError::Internal(e.to_string())))
                .boxed(),
            INPUT_CHUNK,
        );
        let (tx, rx) = mpsc::channel(8);
        let parser = plan.map(|plan| {
            let (kind, family, reference) = (plan.kind, plan.family, plan.reference.clone());
            tokio::task::spawn_blocking(move || {
                let options = IngestOptions {
                    family,
                    provenance: None,
                    reference: reference.as_deref(),
                };
                ingest(kind, ChannelReader::new(rx), None, &options)
                    .map(|summary| summary.etag)
                    .map_err(|e| e.to_string())
            })
        });
        let mut md5 = Md5::new();
        let mut seen = 0u64;
        let mut tx = parser.is_some().then_some(tx);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Fault {
                kind: ProblemKind::Unreadable,
                detail: e.to_string(),
            })?;
            seen += chunk.len() as u64;
            read(chunk.len() as u64);
            md5.update(&chunk);
            if let Some(sender) = &tx
                && sender.send(chunk).await.is_err()
            {
                tx = None; // the parser stopped early: it says why
            }
        }
        drop(tx);
        if seen != size {
            return Err(Fault {
                kind: ProblemKind::WrongSize,
                detail: format!("{seen} bytes read, {size} recorded"),
            });
        }
        let etag = match parser {
            Some(parser) => Some(
                parser
                    .await
                    .unwrap_or_else(|e| Err(format!("the parser panicked: {e}"))),
            ),
            None => None,
        };
        Ok((hex::encode(md5.finalize()), etag))
    }

    /// The blob pass: every object of either tier is kept by a row, written by work in
    /// flight, or an orphan.
    async fn check_objects(
        &self,
        options: CheckOptions,
        report: &mut Report,
    ) -> Result<(), CoreError> {
        let pending: HashSet<String> = self.catalog.pending_results().await?.into_iter().collect();
        let cutoff = options.cutoff.min(SystemTime::now());
        for (tier, store) in self.tiers() {
            let mut owner = Owner::default();
            let mut listing = store.list();
            let mut orphans = Vec::new();
            while let Some(object) = listing.next().await {
                let object = object.map_err(CoreError::storage("listing the blob store"))?;
                report.checked.objects += 1;
                if object.modified >= cutoff {
                    report.skipped_recent += 1;
                    continue;
                }
                let shown = tier.show(&object.key);
                match self.judge(tier, &object, &pending, &mut owner).await? {
                    Verdict::Kept => {}
                    Verdict::Orphan(why) => orphans.push((object.key, shown, why)),
                    Verdict::Unknown => report.problems.push(Problem {
                        kind: ProblemKind::UnknownObject,
                        key: shown,
                        detail: "not a key this server writes; left alone".into(),
                        repaired: None,
                    }),
                }
            }
            drop(listing);
            for (key, shown, why) in orphans {
                let repaired = match BlobKey::recorded(&key) {
                    Ok(blob) if options.repair => match store.delete(&blob).await {
                        Ok(()) => Some("removed".to_owned()),
                        Err(e) => {
                            tracing::warn!(%key, error = %e, "fsck: cannot remove an orphan");
                            None
                        }
                    },
                    _ => None,
                };
                report.problems.push(Problem {
                    kind: ProblemKind::Orphan,
                    key: shown,
                    detail: why,
                    repaired,
                });
            }
        }
        for (tier, store) in self.tiers() {
            let store = store.clone();
            let staging =
                tokio::task::spawn_blocking(move || store.sweep_staging(cutoff, !options.repair))
                    .await
                    .unwrap_or_else(|e| Err(BlobError::Sweep(std::io::Error::other(e))))
                    .map_err(CoreError::storage("sweeping staging files"))?;
            for path in staging {
                report.problems.push(Problem {
                    kind: ProblemKind::OrphanStaging,
                    key: tier.show(&path),
                    detail: "the staging file of a write that never finished".into(),
                    repaired: options.repair.then(|| "removed".to_owned()),
                });
            }
        }
        Ok(())
    }

    /// The blob stores of both tiers.
    fn tiers(&self) -> impl Iterator<Item = (Tier, &BlobStore)> {
        std::iter::once((Tier::Active, &self.blobs))
            .chain(self.archive.iter().map(|a| (Tier::Archive, a)))
    }

    /// Whether `object` is kept; `owner` remembers the last folder looked up (a listing
    /// yields a folder's objects together).
    async fn judge(
        &self,
        tier: Tier,
        object: &StoredObject,
        pending: &HashSet<String>,
        owner: &mut Owner,
    ) -> Result<Verdict, CoreError> {
        let parts: Vec<&str> = object.key.split('/').collect();
        let (folder, file) = match (tier, parts.as_slice()) {
            (_, [account, "sequenceStore", store, "readSet", id, file]) => {
                (Folder::ReadSet(account, store, id), *file)
            }
            (Tier::Active, [account, "referenceStore", store, "reference", id, file]) => {
                (Folder::Reference(account, store, id), *file)
            }
            (Tier::Active, ["staging", "uploads", id, _source, _part]) => {
                (Folder::Upload(id), object.key.as_str())
            }
            _ => return Ok(Verdict::Unknown),
        };
        let name = folder.name();
        if owner.folder != name {
            owner.state = self.folder_state(tier, &folder, pending).await?;
            owner.folder = name;
        }
        Ok(match &owner.state {
            State::InFlight => Verdict::Kept,
            State::Keeps(files) if files.contains(file) => Verdict::Kept,
            State::Keeps(_) => Verdict::Orphan(format!("not a file of {}", owner.folder)),
            State::Gone(why) => Verdict::Orphan(why.clone()),
        })
    }

    /// What the catalog says of a folder.
    async fn folder_state(
        &self,
        tier: Tier,
        folder: &Folder<'_>,
        pending: &HashSet<String>,
    ) -> Result<State, CoreError> {
        let name = folder.name();
        Ok(match *folder {
            Folder::ReadSet(account, store, id) => {
                let row = self
                    .catalog
                    .read_set(
                        &AccountId::from(account),
                        &StoreId::from(store),
                        &ReadSetId::from(id),
                    )
                    .await?;
                let files = |r: &ReadSetRecord| {
                    State::Keeps(r.stored_files().map(|f| f.name.to_owned()).collect())
                };
                use ReadSetStatus::{Activating, Active, Archived, ProcessingUpload};
                match (tier, row) {
                    (Tier::Active, Some(r)) if r.status == Active => files(&r),
                    // an activation restores them (a job that gives up removes its own)
                    (Tier::Active, Some(r)) if r.status == Activating && pending.contains(id) => {
                        State::InFlight
                    }
                    (Tier::Active, Some(r)) if r.status == ProcessingUpload => State::InFlight,
                    (Tier::Archive, Some(r)) if matches!(r.status, Archived | Activating) => {
                        files(&r)
                    }
                    // an archive job writes them, or an activation has yet to remove them
                    (Tier::Archive, Some(r))
                        if r.status == Active
                            && r.lifecycle_job_id.is_some()
                            && pending.contains(id) =>
                    {
                        State::InFlight
                    }
                    (tier, Some(r)) => {
                        State::Gone(format!("{name} is {} ({} tier)", r.status, tier.name()))
                    }
                    (Tier::Active, None) if pending.contains(id) => State::InFlight,
                    (_, None) => State::Gone(format!("{name} does not exist")),
                }
            }
            Folder::Reference(account, store, id) => {
                let row = self
                    .catalog
                    .reference(
                        &AccountId::from(account),
                        &StoreId::from(store),
                        &ReferenceId::from(id),
                    )
                    .await?;
                match row {
                    Some(r) if r.status == ReferenceStatus::Active => {
                        State::Keeps(BTreeSet::from([index_name(&r), r.source_file_name]))
                    }
                    Some(r) => State::Gone(format!("{name} is {}", r.status)),
                    None if pending.contains(id) => State::InFlight,
                    None => State::Gone(format!("{name} does not exist")),
                }
            }
            Folder::Upload(id) => {
                self.upload_state(&UploadId::from(id), &name, pending)
                    .await?
            }
        })
    }

    /// Staged parts are kept while their upload is in progress (those it records) or its
    /// read set is being ingested (its ingest item pending, even when the read set was deleted
    /// meanwhile: the item still reads them).
    async fn upload_state(
        &self,
        id: &UploadId,
        name: &str,
        pending: &HashSet<String>,
    ) -> Result<State, CoreError> {
        let Some(upload) = self.catalog.upload_by_id(id).await? else {
            return Ok(State::Gone(format!("{name} does not exist")));
        };
        Ok(match (upload.status, &upload.read_set_id) {
            (UploadStatus::InProgress, _) => State::Keeps(
                self.catalog
                    .all_parts(id)
                    .await?
                    .into_iter()
                    .map(|p| p.blob_key.as_str().to_owned())
                    .collect(),
            ),
            (UploadStatus::Completed, Some(read_set_id))
                if pending.contains(read_set_id.as_str()) =>
            {
                State::InFlight
            }
            (UploadStatus::Completed, Some(read_set_id)) => {
                let read_set = self
                    .catalog
                    .read_set(&upload.account_id, &upload.sequence_store_id, read_set_id)
                    .await?;
                match read_set {
                    Some(r) if r.status == ReadSetStatus::ProcessingUpload => State::InFlight,
                    _ => State::Gone(format!("{name} is completed and its read set settled")),
                }
            }
            (status, _) => State::Gone(format!("{name} is {status}")),
        })
    }
}

/// The files of a read set the catalog records.
fn read_set_files(r: &ReadSetRecord) -> impl Iterator<Item = Result<File, CoreError>> + '_ {
    r.stored_files().map(move |f| {
        Ok(File {
            key: BlobPrefix::read_set(&r.account_id, &r.sequence_store_id, &r.id)?.file(f.name)?,
            size: f.size,
            md5: f.s3_etag.map(str::to_owned),
            etag: f.etag.map(str::to_owned),
        })
    })
}

/// The source and `.fai` of a reference.
fn reference_files(r: &ReferenceRecord) -> impl Iterator<Item = Result<File, CoreError>> + '_ {
    [
        (r.source_file_name.clone(), r.source_size, &r.source_s3_etag),
        (index_name(r), r.index_size, &r.index_s3_etag),
    ]
    .into_iter()
    .map(move |(name, size, md5)| {
        Ok(File {
            key: BlobPrefix::reference(&r.account_id, &r.reference_store_id, &r.id)?.file(&name)?,
            size,
            md5: md5.clone(),
            etag: None,
        })
    })
}

fn unreadable(e: &BlobError) -> Fault {
    Fault {
        kind: ProblemKind::Unreadable,
        detail: crate::error_chain(e),
    }
}

/// Where an object is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Active,
    Archive,
}

impl Tier {
    fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archive => "archive",
        }
    }

    /// How a key of this tier is shown in a report.
    fn show(self, key: &str) -> String {
        match self {
            Self::Active => key.to_owned(),
            Self::Archive => archived_key(key),
        }
    }
}

/// How a key of the archive tier is shown in a report.
fn archived_key(key: &str) -> String {
    format!("archive:{key}")
}

/// A folder of the layout: the objects of one read set, reference or upload.
enum Folder<'a> {
    ReadSet(&'a str, &'a str, &'a str),
    Reference(&'a str, &'a str, &'a str),
    Upload(&'a str),
}

impl Folder<'_> {
    fn name(&self) -> String {
        match self {
            Self::ReadSet(_, _, id) => format!("read set {id}"),
            Self::Reference(_, _, id) => format!("reference {id}"),
            Self::Upload(id) => format!("upload {id}"),
        }
    }
}

/// The last folder looked up.
#[derive(Default)]
struct Owner {
    folder: String,
    state: State,
}

/// What the catalog says of a folder's objects.
#[derive(Default)]
enum State {
    /// Work in flight writes it: everything is kept.
    #[default]
    InFlight,
    /// These files (names, or staged part keys) are kept; others are orphans.
    Keeps(BTreeSet<String>),
    /// Nothing is kept, for this reason.
    Gone(String),
}

enum Verdict {
    Kept,
    Orphan(String),
    Unknown,
}
