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
mod budget;
mod codec;
mod compression_header;
mod container;
mod crai;
mod error;
mod framing;
mod header;
mod name_tokenizer;
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

use self::budget::{Budget, Meter};
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

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Decompresses one block of compression `method` (CRAM 3.1 §8: raw, gzip, bzip2,
    /// lzma, rANS 4x8, rANS Nx16, arithmetic, fqzcomp, name tokenizer) that declares
    /// `raw_size` bytes, refusing what one container may not take.
    pub fn decode_block(
        method: u8,
        data: &[u8],
        raw_size: usize,
    ) -> Result<usize, super::CramError> {
        super::blocks::decode_one_block(method, data, raw_size)
    }
}

/// Where decoded containers go, in file order.
struct Sink<'a> {
    hasher: &'a mut EtagHasher,
    reads: u64,
    bases: u64,
    crai: Vec<crai::CraiEntry>,
}

impl Sink<'_> {
    fn take(&mut self, out: ContainerOutput<'_>) {
        self.hasher.update(&out.text);
        self.reads += out.reads;
        self.bases += out.bases;
        self.crai.extend(out.crai);
    }
}

/// A decoded container, or why it could not be.
type Decoded<'b> = Result<ContainerOutput<'b>, CramError>;

/// Containers handed to the workers and their results, taken back in file order.
struct InOrder<'b> {
    budget: &'b Budget,
    results: mpsc::Receiver<(u64, Decoded<'b>)>,
    /// Results that arrived before the ones ahead of them.
    early: BTreeMap<u64, Decoded<'b>>,
    /// Containers handed out so far.
    sent: u64,
    /// The next container to hash.
    next: u64,
    /// A container failed: nothing after it is taken.
    failed: bool,
}

impl<'b> InOrder<'b> {
    /// Hashes the next container, waiting for it; `false` when none is in flight.
    fn take_one(&mut self, sink: &mut Sink<'_>) -> Result<bool, CramError> {
        if self.next > self.sent || self.failed {
            return Ok(false);
        }
        let result = loop {
            if let Some(result) = self.early.remove(&self.next) {
                break result;
            }
            match self.results.recv() {
                Ok((n, result)) => {
                    self.early.insert(n, result);
                }
                Err(_) => return Err(workers_gone()),
            }
        };
        if result.is_err() {
            self.failed = true;
            self.budget.cancel();
        }
        sink.take(result?);
        self.next += 1;
        self.budget.set_oldest(self.next);
        Ok(true)
    }

    /// Hashes whatever is ready in order, without waiting.
    fn take_ready(&mut self, sink: &mut Sink<'_>) -> Result<(), CramError> {
        while let Ok((n, result)) = self.results.try_recv() {
            self.early.insert(n, result);
        }
        while self.early.contains_key(&self.next) {
            self.take_one(sink)?;
        }
        Ok(())
    }
}

/// Stack of a decoding thread (address space; only what is used is resident).
const WORKER_STACK_BYTES: usize = 16 << 20;

/// The decoding threads are gone: only a panic does that.
fn workers_gone() -> CramError {
    CramError::Io(std::io::Error::other("the CRAM decoding threads stopped"))
}

/// Reads the data containers, decodes them on worker threads and feeds `sink` in order.
///
/// Memory is bounded by the [`Budget`]: a container is read only when the ones in flight
/// leave room for its bytes (or none is in flight), and workers charge what they decode.
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
    let budget = Budget::new();
    let budget = &budget;
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, RawContainer, Meter<'_>)>(workers);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        let (res_tx, res_rx) = mpsc::channel::<(u64, Decoded<'_>)>();
        for _ in 0..workers {
            let job_rx = &job_rx;
            let res_tx = res_tx.clone();
            // noodles' CRAM 3.1 decoders keep large tables on the stack (a name tokenizer
            // stream of order-1 rANS Nx16 overflowed 2 MiB in the fuzz build)
            let spawned = std::thread::Builder::new()
                .name("cram-decode".into())
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    loop {
                        let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((n, raw, meter)) = job else { break };
                        if budget.is_cancelled() {
                            continue;
                        }
                        if res_tx
                            .send((n, container::process(ctx, &raw, n, meter)))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            // without a worker the results channel closes, and the file fails with an error
            if spawned.is_err() {
                break;
            }
        }
        drop(res_tx);
        let mut flight = InOrder {
            budget,
            results: res_rx,
            early: BTreeMap::new(),
            sent: 0,
            next: 1,
            failed: false,
        };

        let mut last = (i32::MIN, i32::MIN);
        let mut ended = false; // the last container read is an EOF container
        let outcome = (|| -> Result<(), CramError> {
            loop {
                let what = format!("container {}", flight.sent + 1);
                let Some(head) = framing::read_container_header(reader, offset, &what)? else {
                    if ended {
                        return Ok(());
                    }
                    return Err(CramError::Truncated(format!(
                        "it ends at byte {offset} without the EOF container"
                    )));
                };
                // room for the bytes: hash what is in flight until there is (with nothing
                // in flight this container is the oldest, which never waits)
                let len = head.header.length;
                let mut meter = budget.meter(flight.sent + 1, format!("{what} (byte {offset})"));
                while !meter.try_hold(len)? {
                    if !flight.take_one(sink)? {
                        meter.hold(len)?;
                        break;
                    }
                }
                let raw = framing::read_container_body(reader, head, &what)?;
                offset += raw.bytes.len() as u64;
                if let Some(out) = output.as_deref_mut() {
                    out.write_all(&raw.bytes)?;
                }
                // htslib reads on past an EOF container (`samtools reheader` leaves two)
                ended = raw.is_eof();
                let h = &raw.header;
                if ended || h.landmarks.is_empty() && h.record_count == 0 {
                    continue; // an empty container carries nothing to index or hash
                }
                if h.reference_id == last.0 && h.start < last.1 {
                    return Err(CramError::NotSorted(format!(
                        "the CRAM is not sorted by coordinate (container {} at byte {}), so it cannot be indexed",
                        flight.sent + 1,
                        raw.offset
                    )));
                }
                last = (h.reference_id, h.start);
                flight.sent += 1;
                // never wait on a full queue without hashing: the workers may be waiting
                // for the memory that the next container to hash holds
                let mut job = (flight.sent, raw, meter);
                loop {
                    match job_tx.try_send(job) {
                        Ok(()) => break,
                        Err(mpsc::TrySendError::Full(back)) => {
                            job = back;
                            if !flight.take_one(sink)? {
                                job_tx.send(job).map_err(|_| workers_gone())?;
                                break;
                            }
                        }
                        Err(mpsc::TrySendError::Disconnected(_)) => return Err(workers_gone()),
                    }
                }
                flight.take_ready(sink)?;
            }
        })();
        drop(job_tx);
        // everything sent before a read error comes first in the file
        let finished = loop {
            match flight.take_one(sink) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        finished.and(outcome)
    })
}
