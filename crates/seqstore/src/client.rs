//! The client commands, `upload`, `download` and `ls`: a user's side of the omics API,
//! configured like the AWS CLI.

pub mod api;
pub mod download;
pub mod ls;
pub mod profile;
pub mod upload;

use anyhow::{Context, bail};
use api::{Api, encode};
use http::Method;
use indicatif::{ProgressBar, ProgressStyle};
use seqstore_core::vocabulary::{FileType, ReadSetStatus};
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::{IngestOptions, SourceKind};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes moved, on a bar drawn on stderr when it is a terminal (and not `--quiet`).
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
}

impl Progress {
    /// A bar for `total` bytes; a counter when the total is unknown (a pipe).
    fn new(total: Option<u64>, quiet: bool, message: &'static str) -> Self {
        // indicatif draws nothing when stderr is not a terminal.
        let (bar, template) = match (quiet, total) {
            (true, _) => (ProgressBar::hidden(), ""),
            (false, Some(total)) => (
                ProgressBar::new(total),
                "{msg} [{bar:30}] {percent:>3}% {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            ),
            (false, None) => (
                ProgressBar::no_length(),
                "{msg} {bytes} {binary_bytes_per_sec}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        Self { bar, quiet }
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn set_message(&self, message: &'static str) {
        self.bar.set_message(message);
    }

    /// A line on stderr, above the bar (nothing when quiet).
    fn note(&self, line: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A source to upload: a file, whose size is known up front, or a pipe.
#[derive(Debug)]
struct SourceFile {
    path: PathBuf,
    len: Option<u64>,
}

impl SourceFile {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if meta.is_dir() {
            bail!("{} is a directory", path.display());
        }
        Ok(Self {
            path: path.to_owned(),
            len: meta.is_file().then_some(meta.len()),
        })
    }
}

/// What computing an ETag here needs: the store's family and, for CRAM, an indexed reference.
#[derive(Debug, Clone)]
pub struct EtagOptions {
    family: EtagFamily,
    reference: Option<PathBuf>,
}

impl EtagOptions {
    fn ingest(&self) -> IngestOptions<'_> {
        IngestOptions {
            family: self.family,
            provenance: None,
            reference: self.reference.as_deref(),
        }
    }
}

/// What `upload` and `download` share: the local checks, parts in flight, what is shown.
#[derive(Debug, clap::Args)]
pub struct TransferArgs {
    /// The reference FASTA on this machine, to compute a CRAM's ETag here.
    #[arg(long, value_name = "FASTA")]
    reference_fasta: Option<PathBuf>,
    /// Do not compute ETags here (an upload's is still computed and checked by the server).
    #[arg(long)]
    no_verify: bool,
    /// Parts in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    /// No progress bar and no notes on stderr.
    #[arg(long, short)]
    quiet: bool,
}

impl TransferArgs {
    /// The ETag options for `kind` of `store`, or none with `--no-verify` or when a CRAM has
    /// no local reference (the store's family is asked only when an ETag is computed). The
    /// temporary directory (a `.fai` built here) must outlive the options.
    async fn etag_options(
        &self,
        api: &Api,
        store: &str,
        kind: SourceKind,
    ) -> anyhow::Result<(Option<EtagOptions>, Option<tempfile::TempDir>)> {
        let (dir, reference) = match (kind, &self.reference_fasta) {
            _ if self.no_verify => return Ok((None, None)),
            (SourceKind::Cram, None) => return Ok((None, None)),
            (SourceKind::Cram, Some(path)) => crate::etag::indexed_reference(path)?,
            _ => (None, None),
        };
        let family = store_family(api, store).await?;
        Ok((Some(EtagOptions { family, reference }), dir))
    }
}

/// The sequence store's ETag family.
async fn store_family(api: &Api, store: &str) -> anyhow::Result<EtagFamily> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Store {
        e_tag_algorithm_family: Option<String>,
    }
    let store: Store = api
        .json(
            Method::GET,
            &format!("/sequencestore/{}", encode(store)),
            &[],
            None,
        )
        .await?;
    let family = store.e_tag_algorithm_family.unwrap_or_default();
    if family.is_empty() {
        return Ok(EtagFamily::default());
    }
    family
        .parse()
        .map_err(|_| anyhow::anyhow!("the store's ETag family {family:?} is unknown here"))
}

/// GetReadSetMetadata, the fields the client uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadSetMetadata {
    status: ReadSetStatus,
    #[serde(default)]
    status_message: Option<String>,
    file_type: FileType,
    #[serde(default)]
    etag: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    files: std::collections::BTreeMap<String, FileInformation>,
}

/// `files.<file>` of GetReadSetMetadata: how a stored file is cut into parts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileInformation {
    total_parts: u64,
    part_size: u64,
    content_length: u64,
    #[serde(default)]
    s3_access: Option<S3Access>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Access {
    s3_uri: Option<String>,
}

async fn read_set_metadata(api: &Api, store: &str, id: &str) -> anyhow::Result<ReadSetMetadata> {
    let path = format!(
        "/sequencestore/{}/readset/{}/metadata",
        encode(store),
        encode(id)
    );
    api.json(Method::GET, &path, &[], None).await
}

/// Polls the read set until it leaves PROCESSING_UPLOAD.
async fn wait_until_settled(api: &Api, store: &str, id: &str) -> anyhow::Result<ReadSetMetadata> {
    // Ingestion usually ends moments after Complete: poll often at first, then every second.
    let mut delay = Duration::from_millis(50);
    loop {
        let metadata = read_set_metadata(api, store, id).await?;
        if metadata.status != ReadSetStatus::ProcessingUpload {
            return Ok(metadata);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(1));
    }
}
