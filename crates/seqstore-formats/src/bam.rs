//! BAM and uBAM ingestion: validation, ETag, read and base counts, the copy with its
//! provenance `@CO` line, and the `.bai` of that copy.
//!
//! One pass over the input ([`ingest_bam`]): the caller's thread reads BGZF blocks, hashes
//! the SAM text of the records (spec D.9/E1) and writes the copy; two threads inflate the
//! blocks (libdeflate, as `samtools view -@2`) and a record thread checks header and records
//! and renders them with [`sam_text`](crate::sam_text). Memory stays bounded: a few blocks in
//! flight, one record carried across blocks, the index.
//!
//! The copy is the input with a rewritten header: the header gets new BGZF blocks, the
//! records sharing the header's last block get a block of their own, every other block is
//! copied byte for byte (no recompression), and a BGZF end-of-file block closes it.
//!
//! Declared kind against content (spec E14): an aligned BAM must list its references and be
//! coordinate-sorted by record order, whatever `@HD SO` says, so it can be indexed; a uBAM may
//! hold unmapped reads only (FLAG 0x4 on every record), in any order, and gets no index.

pub(crate) mod bgzf;
mod error;
mod header;
mod records;
mod worker;

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use self::bgzf::Frame;
pub use self::error::{BamError, BgzfProblem, HeaderProblem, Locus, RecordProblem, Sniff};
use self::worker::{Done, Job, Output};
use crate::etag::{EtagFamily, EtagHasher};

/// Blocks between reading and hashing: enough to keep every thread busy.
const IN_FLIGHT: usize = 16;

/// Threads that inflate BGZF blocks (like `samtools view -@2`).
const INFLATERS: usize = 2;

/// What the uploader says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BamKind {
    /// `BAM`: aligned, coordinate-sorted, indexed.
    Aligned,
    /// `UBAM`: unaligned reads only, no index.
    Unaligned,
}

/// How to ingest one BAM or uBAM source.
#[derive(Debug, Clone)]
pub struct BamOptions {
    /// ETag family of the sequence store.
    pub family: EtagFamily,
    /// The declared file type.
    pub kind: BamKind,
    /// A full `@CO` line (without newline) appended at the end of the copy's header.
    pub provenance: Option<String>,
}

/// What ingestion found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BamSummary {
    /// Lowercase hex ETag of the records' SAM text (all records, file order).
    pub etag: String,
    /// Primary records (FLAG & 0x900 == 0).
    pub read_count: u64,
    /// Sum of the SEQ lengths of the primary records.
    pub base_count: u64,
    /// `.bai` of the written copy: aligned BAM with an output only.
    pub index: Option<Vec<u8>>,
}

/// Validates `input` as `options.kind`, hashes it and, when `output` is given, writes the copy
/// with the provenance line (and returns the copy's `.bai` for an aligned BAM).
///
/// On error the output holds a partial copy the caller must discard.
pub fn ingest_bam(
    mut input: impl Read,
    output: Option<&mut dyn Write>,
    options: &BamOptions,
) -> Result<BamSummary, BamError> {
    if let Some(line) = &options.provenance
        && (!line.starts_with("@CO\t") || line.contains(['\n', '\r', '\0']))
    {
        return Err(BamError::InvalidProvenance);
    }
    let with_output = output.is_some();
    std::thread::scope(|scope| {
        let (done_tx, done) = sync_channel(IN_FLIGHT);
        let mut jobs = Vec::new();
        let mut inflated = Vec::new();
        for _ in 0..INFLATERS {
            let (job_tx, job_rx) = sync_channel(IN_FLIGHT);
            let (inflated_tx, inflated_rx) = sync_channel(IN_FLIGHT);
            scope.spawn(move || worker::inflate(job_rx, inflated_tx));
            jobs.push(job_tx);
            inflated.push(inflated_rx);
        }
        let worker = scope.spawn(move || worker::run(inflated, done_tx, options, with_output));
        let mut hasher = EtagHasher::new(options.family);
        let driven = drive(&mut input, output, &mut hasher, jobs, &done);
        let totals = worker.join().expect("the BAM record thread does not panic");
        driven?;
        let Some(totals) = totals else {
            return Err(done
                .recv()
                .expect("a record thread without totals sent its error")
                .err()
                .expect("only errors follow the last block"));
        };
        Ok(BamSummary {
            etag: hasher.finish(),
            read_count: totals.read_count,
            base_count: totals.base_count,
            index: totals.index,
        })
    })
}

/// The caller's side: read blocks, hand them out, write and hash what comes back in order.
fn drive(
    input: &mut dyn Read,
    mut output: Option<&mut dyn Write>,
    hasher: &mut EtagHasher,
    jobs: Vec<SyncSender<Job>>,
    done: &Receiver<Result<Done, BamError>>,
) -> Result<(), BamError> {
    let mut spare: Vec<Job> = Vec::new();
    let mut in_flight = 0;
    let mut number = 0u64;
    let mut offset = 0u64;
    let mut last_isize = None;
    let mut stop = None;
    let mut end = false;
    loop {
        while stop.is_none() && !end && in_flight < IN_FLIGHT {
            let mut job = spare.pop().unwrap_or_default();
            let block = |problem| BamError::Bgzf {
                block: number + 1,
                offset,
                problem,
            };
            match bgzf::read_frame(input, &mut job.frame).map_err(BamError::Read) {
                Err(e) => stop = Some(e),
                Ok(Frame::End) => {
                    end = true;
                    if number == 0 {
                        stop = Some(BamError::Empty);
                    } else if last_isize != Some(0) {
                        stop = Some(BamError::MissingEof { size: offset });
                    }
                }
                Ok(Frame::NotBgzf) if number == 0 => {
                    stop = Some(BamError::NotBgzf(Sniff::new(&job.frame)));
                }
                Ok(Frame::NotBgzf) => stop = Some(block(BgzfProblem::InvalidHeader)),
                Ok(Frame::Broken(problem)) => stop = Some(block(problem)),
                Ok(Frame::Block) => {
                    last_isize = Some(bgzf::isize_of(&job.frame));
                    job.text.clear();
                    job.number = number + 1;
                    job.offset = offset;
                    offset += job.frame.len() as u64;
                    // Turn by turn, so the record thread can take them back in order.
                    let inflater = &jobs[number as usize % jobs.len()];
                    number += 1;
                    in_flight += 1;
                    if inflater.send(job).is_err() {
                        // The worker stopped on an error: it is waiting in `done`.
                        break;
                    }
                }
            }
        }
        if in_flight == 0 {
            break;
        }
        let reply = done
            .recv()
            .expect("the record thread answers every block")?;
        in_flight -= 1;
        if let Some(out) = output.as_deref_mut() {
            match &reply.write {
                Output::Nothing => {}
                Output::Frame => out.write_all(&reply.job.frame).map_err(BamError::Write)?,
                Output::Blocks(blocks) => out.write_all(blocks).map_err(BamError::Write)?,
            }
        }
        hasher.update(&reply.job.text);
        spare.push(reply.job);
    }
    if let Some(e) = stop {
        return Err(e);
    }
    drop(jobs);
    if let Some(out) = output {
        out.write_all(&bgzf::EOF_BLOCK).map_err(BamError::Write)?;
        out.flush().map_err(BamError::Write)?;
    }
    Ok(())
}
