//! CRAM 3.0/3.1 ingestion with the linked reference: validation, counts, ETag, provenance
//! header and `.crai`, in one pass over the file.
//!
//! The ETag (spec E1) hashes every record as `samtools view --reference REF` (htslib 1.16)
//! prints it: records are decoded here the way htslib's CRAM decoder does, including the
//! `MD`/`NM` tags it regenerates from the reference and the `RG` tag it appends. Block
//! decompression (all CRAM 3.1 codecs) is noodles-cram's; framing, data series decoding
//! and record reconstruction are this module's. Containers are decoded on worker threads
//! and hashed in file order.

mod bam_record;
mod blocks;
mod codec;
mod compression_header;
mod container;
mod crai;
mod error;
mod framing;
mod header;
mod num;
mod rans;
mod rans_nx16;
mod reference;
mod seq;
mod slice;

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::sync::{Mutex, mpsc};

use self::container::{ContainerOutput, Context};
pub use self::error::CramError;
use self::framing::{FILE_DEFINITION_LEN, RawContainer};
/// Re-exported so callers can name the family next to [`CramOptions`].
pub use crate::etag::EtagFamily;
use crate::etag::EtagHasher;

/// How to ingest a CRAM source.
#[derive(Debug, Clone)]
pub struct CramOptions {
    /// ETag algorithm family of the sequence store.
    pub family: EtagFamily,
    /// Full `@CO` line appended at the end of the header of the written file.
    pub provenance: Option<String>,
}

/// The result of a successful ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CramSummary {
    /// ETag of the SAM text of all records (lowercase hex).
    pub etag: String,
    /// Primary records (`flag & 0x900 == 0`).
    pub read_count: u64,
    /// Total SEQ length of the primary records.
    pub base_count: u64,
    /// `.crai` of the written file (gzip text).
    pub index: Vec<u8>,
}

/// Reads a whole CRAM from `input`, decoding every record against `reference` (a FASTA
/// with its `.fai` beside it), and writes it to `output` with the provenance line added.
pub fn ingest_cram(
    input: impl Read,
    output: Option<&mut dyn Write>,
    reference: &Path,
    options: &CramOptions,
) -> Result<CramSummary, CramError> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let (definition, _version) = framing::read_file_definition(&mut reader)?;
    let mut offset = FILE_DEFINITION_LEN as u64;
    let header_container =
        framing::read_container(&mut reader, offset, "the file header container")?.ok_or_else(
            || CramError::Truncated("the file ends after the file definition".into()),
        )?;
    if header_container.is_eof() {
        return Err(CramError::Corrupt(
            "the file has no SAM header container".into(),
        ));
    }
    offset += header_container.bytes.len() as u64;
    let text = header::header_text(&header_container)?;
    let sam_header = header::parse_sam_header(&text)?;
    let refs = reference::References::open(reference, &sam_header)?;

    let new_header = match &options.provenance {
        Some(line) => header::build_header_container(&header::append_line(&text, line)),
        None => header_container.bytes.clone(),
    };
    let shift = new_header.len() as i64 - header_container.bytes.len() as i64;
    let mut output = output;
    if let Some(out) = output.as_deref_mut() {
        out.write_all(&definition)?;
        out.write_all(&new_header)?;
    }
    let names = sam_header
        .references
        .iter()
        .map(|sq| sq.name.clone())
        .collect();
    let ctx = Context {
        header: sam_header,
        refs,
        names,
    };
    let mut hasher = EtagHasher::new(options.family);
    let mut sink = Sink {
        hasher: &mut hasher,
        reads: 0,
        bases: 0,
        crai: Vec::new(),
    };
    run(&ctx, &mut reader, offset, output, &mut sink)?;
    let (reads, bases) = (sink.reads, sink.bases);
    let index = crai::encode(&sink.crai, shift);
    Ok(CramSummary {
        etag: hasher.finish(),
        read_count: reads,
        base_count: bases,
        index,
    })
}

/// Where decoded containers go, in file order.
struct Sink<'a> {
    hasher: &'a mut EtagHasher,
    reads: u64,
    bases: u64,
    crai: Vec<crai::CraiEntry>,
}

impl Sink<'_> {
    fn take(&mut self, out: ContainerOutput) -> Result<(), CramError> {
        self.hasher.update(&out.text);
        self.reads += out.reads;
        self.bases += out.bases;
        self.crai.extend(out.crai);
        Ok(())
    }
}

/// Reads the data containers, decodes them on worker threads and feeds `sink` in order.
fn run(
    ctx: &Context,
    reader: &mut impl std::io::BufRead,
    mut offset: u64,
    mut output: Option<&mut dyn Write>,
    sink: &mut Sink<'_>,
) -> Result<(), CramError> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    // enough queued work that workers never wait while this thread hashes
    let max_pending = workers * 8;
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, RawContainer)>(workers * 4);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        let (res_tx, res_rx) = mpsc::channel::<(u64, Result<ContainerOutput, CramError>)>();
        for _ in 0..workers {
            let job_rx = &job_rx;
            let res_tx = res_tx.clone();
            scope.spawn(move || {
                loop {
                    let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((n, raw)) = job else { break };
                    if res_tx.send((n, container::process(ctx, &raw, n))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(res_tx);

        let mut done: BTreeMap<u64, Result<ContainerOutput, CramError>> = BTreeMap::new();
        let mut next = 1u64; // next container to hand to the sink
        let mut sent = 0u64;
        let mut drain = |block_until: u64,
                         done: &mut BTreeMap<u64, _>,
                         next: &mut u64|
         -> Result<(), CramError> {
            while *next <= block_until {
                if let Some(result) = done.remove(next) {
                    sink.take(result?)?;
                    *next += 1;
                    continue;
                }
                match res_rx.recv() {
                    Ok((n, result)) => {
                        done.insert(n, result);
                    }
                    Err(_) => break,
                }
            }
            // also take whatever is already finished
            while let Ok((n, result)) = res_rx.try_recv() {
                done.insert(n, result);
            }
            while let Some(result) = done.remove(next) {
                sink.take(result?)?;
                *next += 1;
            }
            Ok(())
        };

        let mut last = (i32::MIN, i32::MIN);
        let outcome = (|| -> Result<(), CramError> {
            loop {
                let what = format!("container {}", sent + 1);
                let read = framing::read_container(reader, offset, &what);
                let raw = match read {
                    Ok(Some(raw)) => raw,
                    Ok(None) => {
                        return Err(CramError::Truncated(format!(
                            "it ends at byte {offset} without the EOF container"
                        )));
                    }
                    Err(e) => return Err(e),
                };
                offset += raw.bytes.len() as u64;
                if let Some(out) = output.as_deref_mut() {
                    out.write_all(&raw.bytes)?;
                }
                if raw.is_eof() {
                    let mut extra = [0u8; 1];
                    if framing::read_up_to(reader, &mut extra)? != 0 {
                        return Err(CramError::Corrupt(format!(
                            "data follows the EOF container at byte {offset}"
                        )));
                    }
                    return Ok(());
                }
                let h = &raw.header;
                if h.reference_id == last.0 && h.start < last.1 {
                    return Err(CramError::NotSorted(format!(
                        "the CRAM is not sorted by coordinate (container {} at byte {}), so it cannot be indexed",
                        sent + 1,
                        raw.offset
                    )));
                }
                last = (h.reference_id, h.start);
                if h.landmarks.is_empty() && h.record_count == 0 {
                    continue; // an empty container carries nothing to index or hash
                }
                sent += 1;
                if job_tx.send((sent, raw)).is_err() {
                    return Ok(());
                }
                if sent + 1 > next + max_pending as u64 {
                    drain(sent - max_pending as u64, &mut done, &mut next)?;
                } else {
                    drain(0, &mut done, &mut next)?;
                }
            }
        })();
        drop(job_tx);
        // everything sent before a read error comes first in the file
        let finished = drain(sent, &mut done, &mut next);
        finished.and(outcome)
    })
}
