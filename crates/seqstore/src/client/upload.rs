//! `seqstore upload`: a direct multipart upload whose parts go up in parallel while the same
//! single read of the file computes the HealthOmics ETag, checked against the server's.

use super::api::{Api, encode};
use super::{Progress, ReadSetMetadata, SourceFile, TransferArgs, wait_until_settled};
use crate::etag::FileTypeArg;
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::Method;
use seqstore_core::MAX_PART_BYTES;
use seqstore_core::vocabulary::{FileType, PartSource, ReadSetStatus};
use seqstore_formats::read_set::{SourceKind, ingest};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;

/// Smallest part size chosen by default; larger when a file needs more than `MAX_PARTS`.
const DEFAULT_PART_BYTES: u64 = 16 * 1024 * 1024;
/// Parts per file the service takes.
const MAX_PARTS: u64 = 10_000;

/// `seqstore upload` flags.
#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The sequence store.
    #[arg(long)]
    sequence_store_id: String,
    /// The source file type.
    #[arg(long = "type", value_enum, required_unless_present = "upload_id")]
    kind: Option<FileTypeArg>,
    /// The read set's name.
    #[arg(long, required_unless_present = "upload_id")]
    name: Option<String>,
    /// Subject id.
    #[arg(long, required_unless_present = "upload_id")]
    subject_id: Option<String>,
    /// Sample id.
    #[arg(long, required_unless_present = "upload_id")]
    sample_id: Option<String>,
    /// The linked reference (BAM, CRAM).
    #[arg(long)]
    reference_arn: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Where the data came from.
    #[arg(long)]
    generated_from: Option<String>,
    /// A tag, KEY=VALUE; repeat for more.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// Resume this upload (see `seqstore ls STORE --uploads`): parts the server already
    /// holds with the same checksum are not sent again.
    #[arg(long, conflicts_with_all = ["kind", "name", "subject_id", "sample_id", "reference_arn", "description", "generated_from", "tags"])]
    upload_id: Option<String>,
    /// Part size in MiB, 1 to 100 [default: 16, more when a file needs over 10 000 parts;
    /// a resumed upload keeps its own].
    #[arg(long, value_name = "MiB", value_parser = clap::value_parser!(u64).range(1..=100))]
    part_size: Option<u64>,
    #[command(flatten)]
    transfer: TransferArgs,
    /// The source: one file, or two for paired FASTQ.
    #[arg(required = true, num_args = 1..=2)]
    files: Vec<PathBuf>,
}

/// One cut part.
#[derive(Debug)]
struct Part {
    number: u64,
    bytes: Bytes,
}

/// A part as CompleteMultipartReadSetUpload lists it.
#[derive(Debug, Clone)]
struct Sent {
    number: u64,
    checksum: String,
    skipped: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Upload {
    upload_id: String,
    source_file_type: FileType,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedPart {
    part_number: u64,
    part_size: u64,
    checksum: String,
}

/// Runs the upload; prints the read set as JSON on stdout.
pub async fn run(api: &Api, args: UploadArgs) -> anyhow::Result<()> {
    let store = &args.sequence_store_id;
    let sources: Vec<SourceFile> = args
        .files
        .iter()
        .map(|path| SourceFile::open(path))
        .collect::<anyhow::Result<_>>()?;

    let (upload, created) = match &args.upload_id {
        Some(id) => (find_upload(api, store, id).await?, false),
        None => (create_upload(api, &args).await?, true),
    };
    let kind = upload.source_file_type.source_kind();
    if sources.len() == 2 && kind != SourceKind::Fastq {
        bail!("a second file is only for paired FASTQ");
    }
    let resume_hint = format!(
        "resume with: seqstore upload --sequence-store-id {store} --upload-id {} {}",
        upload.upload_id,
        args.files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let progress = Progress::new(
        sources.iter().map(|s| s.len).sum(),
        args.transfer.quiet,
        "uploading",
    );
    if created {
        progress.note(&format!("upload {} created", upload.upload_id));
    }

    let work = async {
        let mut listed = Vec::new();
        for source in &SOURCES[..sources.len()] {
            listed.push(if created {
                HashMap::new()
            } else {
                list_parts(api, store, &upload.upload_id, *source).await?
            });
        }
        let resumed_size = listed
            .iter()
            .flat_map(|parts| parts.values().map(|(_, size)| *size))
            .max();
        if let Some(size) = resumed_size
            && !(1..=MAX_PART_BYTES).contains(&size)
        {
            bail!("the server lists a part of {size} bytes; parts are 1 to {MAX_PART_BYTES} bytes");
        }
        let (etag_options, _keep) = args.transfer.etag_options(api, store, kind).await?;
        let mut completed = Vec::new();
        let mut etags = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let part_size = resumed_size
                .or(args.part_size.map(|mib| mib * 1024 * 1024))
                .unwrap_or_else(|| default_part_size(source.len.unwrap_or(0)));
            if source.len.unwrap_or(0).div_ceil(part_size) > MAX_PARTS {
                bail!(
                    "{} needs more than {MAX_PARTS} parts of {part_size} bytes",
                    source.path.display()
                );
            }
            let (sent, etag) = send_file(
                api,
                &SendPlan {
                    store,
                    upload_id: &upload.upload_id,
                    source: SOURCES[i],
                    path: source.path.clone(),
                    part_size,
                    concurrency: usize::from(args.transfer.concurrency),
                    kind,
                    etag_options: etag_options.clone(),
                    listed: Arc::new(std::mem::take(&mut listed[i])),
                },
                &progress,
            )
            .await?;
            completed.push(sent);
            etags.push(etag);
        }
        anyhow::Ok((completed, etags))
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        _ = tokio::signal::ctrl_c() => {
            progress.finish();
            // The reader thread may be blocked on a pipe: leave without waiting for it.
            eprintln!("seqstore: interrupted; {resume_hint}");
            std::process::exit(130);
        }
    };
    let (completed, etags) = match outcome {
        Ok(done) => done,
        Err(e) if e.downcast_ref::<LocalRefusal>().is_some() => {
            progress.finish();
            if created {
                // The server would refuse these bytes as well; leave nothing behind.
                let path = format!(
                    "/sequencestore/{}/upload/{}/abort",
                    encode(store),
                    encode(&upload.upload_id)
                );
                let _: serde_json::Value = api.json(Method::DELETE, &path, &[], None).await?;
            }
            return Err(e);
        }
        Err(e) => {
            progress.finish();
            return Err(e.context(resume_hint));
        }
    };
    progress.finish();

    let parts: Vec<serde_json::Value> = completed
        .iter()
        .enumerate()
        .flat_map(|(i, sent)| {
            sent.iter().map(move |p| {
                json!({"partNumber": p.number, "partSource": SOURCES[i], "checksum": p.checksum})
            })
        })
        .collect();
    let path = format!(
        "/sequencestore/{}/upload/{}/complete",
        encode(store),
        encode(&upload.upload_id)
    );
    let answer: serde_json::Value = api
        .json(Method::POST, &path, &[], Some(json!({ "parts": parts })))
        .await?;
    let read_set_id = answer["readSetId"]
        .as_str()
        .context("CompleteMultipartReadSetUpload answered without a readSetId")?
        .to_owned();
    progress.note(&format!(
        "read set {read_set_id}: the server is checking it"
    ));
    let metadata = wait_until_settled(api, store, &read_set_id).await?;
    if metadata.status != ReadSetStatus::Active {
        bail!(
            "read set {read_set_id} is {}: {}",
            metadata.status.as_str(),
            metadata
                .status_message
                .as_deref()
                .unwrap_or("no reason given")
        );
    }
    let verified = verify(&metadata, &etags)?;
    if !verified && !args.transfer.no_verify {
        progress.note("ETag not checked: a CRAM's ETag needs --reference-fasta here");
    }
    let skipped = completed.iter().flatten().filter(|p| p.skipped).count();
    let report = json!({
        "readSetId": read_set_id,
        "uploadId": upload.upload_id,
        "status": metadata.status,
        "etag": metadata.etag,
        "verified": verified,
        "partsUploaded": completed.iter().flatten().count() - skipped,
        "partsSkipped": skipped,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Compares the local ETags with the server's; false when none was computed here.
fn verify(metadata: &ReadSetMetadata, etags: &[Option<String>]) -> anyhow::Result<bool> {
    let mut checked = false;
    for (i, local) in etags.iter().enumerate() {
        let Some(local) = local else { continue };
        let key = format!("source{}", i + 1);
        let remote = metadata
            .etag
            .as_ref()
            .and_then(|e| e.get(&key))
            .and_then(|v| v.as_str());
        if remote != Some(local.as_str()) {
            bail!(
                "ETag mismatch for {}: {local} computed here, {} on the server",
                SOURCES[i].as_str(),
                remote.unwrap_or("none")
            );
        }
        checked = true;
    }
    Ok(checked)
}

/// The part source of the `i`th file.
const SOURCES: [PartSource; 2] = [PartSource::Source1, PartSource::Source2];

/// 16 MiB, or the smallest whole MiB that keeps a file within 10 000 parts.
fn default_part_size(len: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    DEFAULT_PART_BYTES
        .max(len.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB)
        .min(MAX_PART_BYTES)
}

async fn create_upload(api: &Api, args: &UploadArgs) -> anyhow::Result<Upload> {
    let kind = args.kind.context("--type is required")?;
    let tags = args
        .tags
        .iter()
        .map(|tag| {
            tag.split_once('=')
                .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
                .with_context(|| format!("--tag {tag:?} is not KEY=VALUE"))
        })
        .collect::<anyhow::Result<serde_json::Map<_, _>>>()?;
    let mut body = json!({
        "sourceFileType": FileType::from(kind).as_str(),
        "name": args.name,
        "subjectId": args.subject_id,
        "sampleId": args.sample_id,
        "clientToken": uuid::Uuid::new_v4().to_string(),
    });
    for (key, value) in [
        ("referenceArn", &args.reference_arn),
        ("description", &args.description),
        ("generatedFrom", &args.generated_from),
    ] {
        if let Some(value) = value {
            body[key] = value.clone().into();
        }
    }
    if !tags.is_empty() {
        body["tags"] = tags.into();
    }
    let path = format!("/sequencestore/{}/upload", encode(&args.sequence_store_id));
    api.json(Method::POST, &path, &[], Some(body)).await
}

async fn find_upload(api: &Api, store: &str, upload_id: &str) -> anyhow::Result<Upload> {
    let path = format!("/sequencestore/{}/uploads", encode(store));
    let uploads: Vec<Upload> = api.list_all(&path, json!({}), "uploads").await?;
    uploads
        .into_iter()
        .find(|u| u.upload_id == upload_id)
        .with_context(|| {
            format!(
                "upload {upload_id} is not in progress in sequence store {store} \
                 (completed, aborted or expired uploads cannot be resumed)"
            )
        })
}

/// The parts the server holds for one source: number → (checksum, size).
async fn list_parts(
    api: &Api,
    store: &str,
    upload_id: &str,
    source: PartSource,
) -> anyhow::Result<HashMap<u64, (String, u64)>> {
    let path = format!(
        "/sequencestore/{}/upload/{}/parts",
        encode(store),
        encode(upload_id)
    );
    let parts: Vec<ListedPart> = api
        .list_all(&path, json!({ "partSource": source }), "parts")
        .await?;
    Ok(parts
        .into_iter()
        .map(|p| (p.part_number, (p.checksum, p.part_size)))
        .collect())
}

/// The file could not be read or is not a valid source: nothing to resume.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LocalRefusal(String);

struct SendPlan<'a> {
    store: &'a str,
    upload_id: &'a str,
    source: PartSource,
    path: PathBuf,
    part_size: u64,
    concurrency: usize,
    kind: SourceKind,
    etag_options: Option<super::EtagOptions>,
    listed: Arc<HashMap<u64, (String, u64)>>,
}

/// Reads `plan.path` once: a blocking thread cuts it into parts (and computes the ETag when
/// it can) while up to `concurrency` parts are in flight. Memory stays within
/// `(concurrency + 2)` parts.
async fn send_file(
    api: &Api,
    plan: &SendPlan<'_>,
    progress: &Progress,
) -> anyhow::Result<(Vec<Sent>, Option<String>)> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Part>(1);
    let path = plan.path.clone();
    let (part_size, kind, options) = (plan.part_size, plan.kind, plan.etag_options.clone());
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<String>> {
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut cutter = PartCutter::new(BufReader::with_capacity(1 << 20, file), part_size, tx);
        let etag = match &options {
            Some(options) => Some(
                ingest(kind, &mut cutter, None, &options.ingest())
                    .map_err(|e| LocalRefusal(format!("{}: {e}", path.display())))?
                    .etag,
            ),
            None => None,
        };
        std::io::copy(&mut cutter, &mut std::io::sink())
            .with_context(|| format!("reading {}", path.display()))?;
        cutter.finish()?;
        Ok(etag)
    });
    let parts = futures::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|p| (p, rx)) })
        .map(|part| send_part(api, plan, part, progress))
        .buffer_unordered(plan.concurrency)
        .try_collect::<Vec<Sent>>()
        .await;
    let etag = reader.await?;
    // A failed send stops the reader (its channel closes): the send's error says why.
    let mut parts = parts?;
    let etag = etag?;
    parts.sort_by_key(|p| p.number);
    Ok((parts, etag))
}

async fn send_part(
    api: &Api,
    plan: &SendPlan<'_>,
    part: Part,
    progress: &Progress,
) -> anyhow::Result<Sent> {
    let len = part.bytes.len() as u64;
    // Hashed off the reading thread, which also computes the ETag.
    let bytes = part.bytes.clone();
    let ours = tokio::task::spawn_blocking(move || BASE64.encode(Sha256::digest(&bytes))).await?;
    if plan
        .listed
        .get(&part.number)
        .is_some_and(|(checksum, size)| same_checksum(checksum, &ours) && *size == len)
    {
        progress.advance(len);
        return Ok(Sent {
            number: part.number,
            checksum: plan.listed[&part.number].0.clone(),
            skipped: true,
        });
    }
    let checksum = api
        .upload_part(
            plan.store,
            plan.upload_id,
            plan.source.as_str(),
            part.number,
            part.bytes,
        )
        .await
        .with_context(|| format!("part {} of {}", part.number, plan.source.as_str()))?;
    if !same_checksum(&checksum, &ours) {
        bail!(
            "part {} of {} arrived damaged: the server read checksum {checksum}, {ours} was sent",
            part.number,
            plan.source.as_str(),
        );
    }
    progress.advance(len);
    Ok(Sent {
        number: part.number,
        checksum,
        skipped: false,
    })
}

/// Checksums are base64 SHA-256, but hex is accepted too (the docs show both).
fn same_checksum(theirs: &str, ours_base64: &str) -> bool {
    if theirs == ours_base64 {
        return true;
    }
    BASE64
        .decode(ours_base64)
        .is_ok_and(|digest| theirs.eq_ignore_ascii_case(&hex::encode(digest)))
}

/// A reader that passes bytes through and cuts them into parts of `part_size`, sending each
/// full part (with its SHA-256) down `tx`.
struct PartCutter<R> {
    inner: R,
    part_size: usize,
    buffer: Vec<u8>,
    next: u64,
    tx: tokio::sync::mpsc::Sender<Part>,
}

impl<R: Read> PartCutter<R> {
    fn new(inner: R, part_size: u64, tx: tokio::sync::mpsc::Sender<Part>) -> Self {
        let part_size = usize::try_from(part_size).expect("parts are at most 100 MiB");
        Self {
            inner,
            part_size,
            buffer: Vec::with_capacity(part_size),
            next: 1,
            tx,
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.next > MAX_PARTS {
            return Err(std::io::Error::other(format!(
                "more than {MAX_PARTS} parts of {} bytes: a larger --part-size is needed",
                self.part_size
            )));
        }
        let bytes = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.part_size));
        let part = Part {
            number: self.next,
            bytes: Bytes::from(bytes),
        };
        self.next += 1;
        self.tx
            .blocking_send(part)
            .map_err(|_| std::io::Error::other("the upload stopped"))
    }

    /// Sends the last, short part.
    fn finish(mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

impl<R: Read> Read for PartCutter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let room = self.part_size - self.buffer.len();
        let want = out.len().min(room);
        let n = self.inner.read(&mut out[..want])?;
        self.buffer.extend_from_slice(&out[..n]);
        if self.buffer.len() == self.part_size {
            self.send()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cut_at_the_size_and_the_last_is_short() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let data: Vec<u8> = (0..=255u8).cycle().take(2500).collect();
        let mut cutter = PartCutter::new(&data[..], 1000, tx);
        let mut seen = Vec::new();
        cutter.read_to_end(&mut seen).unwrap();
        cutter.finish().unwrap();
        assert_eq!(seen, data, "bytes pass through unchanged");
        let mut parts = Vec::new();
        while let Ok(p) = rx.try_recv() {
            parts.push(p);
        }
        let sizes: Vec<(u64, usize)> = parts.iter().map(|p| (p.number, p.bytes.len())).collect();
        assert_eq!(sizes, [(1, 1000), (2, 1000), (3, 500)]);
        assert_eq!(parts[2].bytes, data[2000..]);
    }

    #[test]
    fn checksums_compare_in_base64_or_hex() {
        let b64 = BASE64.encode(Sha256::digest(b"x"));
        assert!(same_checksum(&b64, &b64));
        assert!(same_checksum(
            &hex::encode(Sha256::digest(b"x")).to_uppercase(),
            &b64
        ));
        assert!(!same_checksum(&BASE64.encode(Sha256::digest(b"y")), &b64));
    }

    #[test]
    fn the_default_part_size_keeps_files_within_ten_thousand_parts() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(default_part_size(0), 16 * MIB);
        assert_eq!(default_part_size(160_000 * MIB), 16 * MIB);
        assert_eq!(default_part_size(160_001 * MIB), 17 * MIB);
        assert_eq!(default_part_size(u64::MAX / 2), MAX_PART_BYTES);
    }
}
