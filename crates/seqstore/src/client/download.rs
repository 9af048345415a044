//! `seqstore download`: a read set's files, parts fetched in parallel into a temporary file
//! that takes its name only when complete, then checked against the server's ETag.

use super::EtagOptions;
use super::api::Api;
use super::{FileInformation, Progress, TransferArgs, read_set_metadata};
use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use seqstore_core::vocabulary::ReadSetStatus;
use seqstore_formats::read_set::SourceKind;
use seqstore_formats::read_set::ingest;
use serde_json::json;
use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// A file of a read set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum FileArg {
    /// The first (or only) source.
    Source1,
    /// The second FASTQ of a pair.
    Source2,
    /// The BAM index (`.bai`) or CRAM index (`.crai`).
    Index,
}

impl FileArg {
    fn wire_name(self) -> &'static str {
        match self {
            Self::Source1 => "SOURCE1",
            Self::Source2 => "SOURCE2",
            Self::Index => "INDEX",
        }
    }

    /// The key in `files` and `etag`.
    fn key(self) -> &'static str {
        match self {
            Self::Source1 => "source1",
            Self::Source2 => "source2",
            Self::Index => "index",
        }
    }
}

/// `seqstore download` flags.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The sequence store.
    #[arg(long)]
    sequence_store_id: String,
    /// The read set.
    #[arg(long)]
    read_set_id: String,
    /// A file to fetch; repeat for more [default: the read set's sources].
    #[arg(long = "file", value_enum)]
    files: Vec<FileArg>,
    /// Where the files go; each keeps its stored name.
    #[arg(long, short = 'o', default_value = ".")]
    output_dir: PathBuf,
    /// Replace files that exist.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    transfer: TransferArgs,
}

/// Runs the download; prints what was written as JSON on stdout.
pub async fn run(api: &Api, args: DownloadArgs) -> anyhow::Result<()> {
    let (store, id) = (&args.sequence_store_id, &args.read_set_id);
    let metadata = read_set_metadata(api, store, id).await?;
    if metadata.status != ReadSetStatus::Active {
        bail!(
            "read set {id} is {}{}",
            metadata.status.as_str(),
            if metadata.status == ReadSetStatus::Archived {
                ": start an activation job (StartReadSetActivationJob) first"
            } else {
                ""
            }
        );
    }
    let mut wanted: Vec<FileArg> = Vec::new();
    for file in &args.files {
        if !wanted.contains(file) {
            wanted.push(*file);
        }
    }
    if wanted.is_empty() {
        wanted.push(FileArg::Source1);
        if metadata.files.contains_key("source2") {
            wanted.push(FileArg::Source2);
        }
    }
    let mut plan = Vec::new();
    for file in wanted {
        let info = metadata
            .files
            .get(file.key())
            .with_context(|| format!("read set {id} has no {} file", file.wire_name()))?;
        check_layout(info)?;
        let destination = args.output_dir.join(stored_name(info, id, file));
        if destination.exists() && !args.overwrite {
            bail!("{} exists (--overwrite replaces it)", destination.display());
        }
        plan.push((file, info, destination));
    }

    let progress = Progress::new(
        Some(plan.iter().map(|(_, info, _)| info.content_length).sum()),
        args.transfer.quiet,
        "downloading",
    );
    let kind = metadata.file_type.source_kind();
    let (etag_options, _keep) = args.transfer.etag_options(api, store, kind).await?;
    let mut report = Vec::new();
    for (file, info, destination) in plan {
        let expected = metadata
            .etag
            .as_ref()
            .and_then(|e| e.get(file.key()))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let verify = match (&etag_options, &expected, file) {
            (Some(options), Some(_), FileArg::Source1 | FileArg::Source2) => {
                Some((kind, options.clone()))
            }
            _ => None,
        };
        let verified = verify.is_some();
        let local = fetch(api, &args, file, info, &destination, verify, &progress).await?;
        if let (Some(local), Some(expected)) = (local, &expected)
            && &local != expected
        {
            bail!(
                "ETag mismatch for {}: {local} computed here, {expected} on the server",
                destination.display()
            );
        }
        report.push(json!({
            "file": file.wire_name(),
            "path": destination,
            "bytes": info.content_length,
            "etag": expected,
            "verified": verified,
        }));
    }
    progress.finish();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The parts must tile the file: refuse a layout that does not (or claims absurd sizes).
fn check_layout(info: &FileInformation) -> anyhow::Result<()> {
    const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
    if info.part_size == 0
        || info.part_size > MAX_PART_SIZE
        || info.total_parts > 10_000
        || info.total_parts != info.content_length.div_ceil(info.part_size)
    {
        bail!(
            "the server describes the file as {} parts of {} bytes for {} bytes",
            info.total_parts,
            info.part_size,
            info.content_length
        );
    }
    Ok(())
}

/// The stored object's name (the last segment of its S3 URI), else `<id>_<file>`.
fn stored_name(info: &FileInformation, id: &str, file: FileArg) -> String {
    info.s3_access
        .as_ref()
        .and_then(|a| a.s3_uri.as_deref())
        .and_then(|uri| uri.rsplit('/').next())
        .filter(|name| !name.is_empty() && *name != "." && *name != ".." && !name.contains('\\'))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{id}_{}", file.key()))
}

/// Fetches the parts into a temporary file beside `destination`, renamed only when every part
/// is in and synced. With `verify`, a blocking thread computes the ETag meanwhile, reading the
/// file as far as the parts are contiguous; returns it.
async fn fetch(
    api: &Api,
    args: &DownloadArgs,
    file: FileArg,
    info: &FileInformation,
    destination: &Path,
    verify: Option<(SourceKind, EtagOptions)>,
    progress: &Progress,
) -> anyhow::Result<Option<String>> {
    let dir = destination.parent().unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".seqstore-download-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    temp.as_file().set_len(info.content_length)?;
    let written = Arc::new(Written::new(info));
    let verifier = match verify {
        Some((kind, options)) => {
            let reader = Trailing {
                file: temp.as_file().try_clone()?,
                written: Arc::clone(&written),
                position: 0,
            };
            let name = destination.display().to_string();
            Some(tokio::task::spawn_blocking(move || {
                ingest(
                    kind,
                    BufReader::with_capacity(1 << 20, reader),
                    None,
                    &options.ingest(),
                )
                .map(|s| s.etag)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))
            }))
        }
        None => None,
    };
    let out = temp.as_file();
    let fetched = futures::stream::iter(1..=info.total_parts)
        .map(|number| {
            let written = &written;
            async move {
                let offset = (number - 1) * info.part_size;
                let expected = info.part_size.min(info.content_length - offset);
                let mut response = api
                    .read_set_part(
                        &args.sequence_store_id,
                        &args.read_set_id,
                        file.wire_name(),
                        number,
                    )
                    .await
                    .with_context(|| format!("{} part {number}", file.wire_name()))?;
                let mut received = 0u64;
                while let Some(chunk) = response.chunk().await? {
                    let len = chunk.len() as u64;
                    if received + len > expected {
                        bail!(
                            "{} part {number} is longer than {expected} bytes",
                            file.wire_name()
                        );
                    }
                    tokio::task::block_in_place(|| out.write_all_at(&chunk, offset + received))?;
                    received += len;
                    progress.advance(len);
                }
                if received != expected {
                    bail!(
                        "{} part {number} ended after {received} of {expected} bytes",
                        file.wire_name()
                    );
                }
                written.part_done(number);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(usize::from(args.transfer.concurrency))
        .try_collect::<Vec<()>>()
        .await;
    if let Err(e) = fetched {
        written.fail();
        if let Some(verifier) = verifier {
            let _ = verifier.await;
        }
        return Err(e);
    }
    temp.as_file().sync_all()?;
    temp.persist(destination)
        .with_context(|| format!("writing {}", destination.display()))?;
    match verifier {
        Some(verifier) => {
            progress.set_message("verifying");
            Ok(Some(verifier.await??))
        }
        None => Ok(None),
    }
}

/// How far the parts written so far reach without a gap, for [`Trailing`] to wait on.
#[derive(Debug)]
struct Written {
    state: Mutex<WrittenState>,
    changed: Condvar,
    part_size: u64,
    content_length: u64,
}

#[derive(Debug, Default)]
struct WrittenState {
    /// Parts done beyond the contiguous prefix.
    done: BTreeSet<u64>,
    /// Parts 1..next are all written.
    next: u64,
    failed: bool,
}

impl Written {
    fn new(info: &FileInformation) -> Self {
        Self {
            state: Mutex::new(WrittenState {
                next: 1,
                ..Default::default()
            }),
            changed: Condvar::new(),
            part_size: info.part_size,
            content_length: info.content_length,
        }
    }

    fn part_done(&self, number: u64) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        state.done.insert(number);
        while state.done.remove(&state.next) {
            state.next += 1;
        }
        self.changed.notify_all();
    }

    fn fail(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).failed = true;
        self.changed.notify_all();
    }

    /// Blocks until more than `position` bytes are contiguous (or the file ends); returns how
    /// far they reach.
    fn wait_beyond(&self, position: u64) -> std::io::Result<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let reach = ((state.next - 1) * self.part_size).min(self.content_length);
            if reach > position || position >= self.content_length {
                return Ok(reach);
            }
            if state.failed {
                return Err(std::io::Error::other("the download stopped"));
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Reads the file being downloaded, never past the parts written without a gap.
struct Trailing {
    file: std::fs::File,
    written: Arc<Written>,
    position: u64,
}

impl Read for Trailing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let reach = self.written.wait_beyond(self.position)?;
        let available = usize::try_from(reach.saturating_sub(self.position)).unwrap_or(usize::MAX);
        let want = buf.len().min(available);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailing_reader_waits_for_the_gap_to_close() {
        let info = FileInformation {
            total_parts: 3,
            part_size: 4,
            content_length: 10,
            s3_access: None,
        };
        let written = Arc::new(Written::new(&info));
        let mut temp = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut temp, b"abcdefghij").unwrap();
        let mut reader = Trailing {
            file: temp,
            written: Arc::clone(&written),
            position: 0,
        };
        written.part_done(2);
        written.part_done(3);
        let read = std::thread::spawn(move || {
            let mut all = Vec::new();
            reader.read_to_end(&mut all).map(|_| all)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !read.is_finished(),
            "part 1 is missing: nothing may be read yet"
        );
        written.part_done(1);
        assert_eq!(read.join().unwrap().unwrap(), b"abcdefghij");
    }

    #[test]
    fn the_trailing_reader_stops_when_the_download_fails() {
        let info = FileInformation {
            total_parts: 2,
            part_size: 4,
            content_length: 8,
            s3_access: None,
        };
        let written = Arc::new(Written::new(&info));
        let mut reader = Trailing {
            file: tempfile::tempfile().unwrap(),
            written: Arc::clone(&written),
            position: 0,
        };
        written.fail();
        assert!(reader.read(&mut [0; 8]).is_err());
    }
}
