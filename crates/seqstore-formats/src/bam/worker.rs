//! The threads behind the caller's: inflaters (any number, each block on one of them) and
//! the record thread, which walks header and records in file order and says what the caller
//! must write and hash for each block.

use std::sync::mpsc::{Receiver, SyncSender};

use libdeflater::{CompressionLvl, Compressor, Decompressor};

use super::bgzf;
use super::error::{BamError, HeaderProblem};
use super::header::HeaderReader;
use super::records::{BlockPlace, Records};
use super::{BamKind, BamOptions};

/// One BGZF block on its way through the threads, with the buffers it fills.
#[derive(Debug, Default)]
pub(super) struct Job {
    /// The whole block as read.
    pub(super) frame: Vec<u8>,
    /// Its decompressed data (filled by an inflater).
    pub(super) data: Vec<u8>,
    /// The SAM text of the records the block completes (filled by the record thread).
    pub(super) text: Vec<u8>,
    /// 1-based block number, for messages.
    pub(super) number: u64,
    /// Byte offset of the block in the input, for messages.
    pub(super) offset: u64,
}

/// What to do with one block: write something, hash `job.text`, then reuse the buffers.
pub(super) struct Done {
    pub(super) job: Job,
    pub(super) write: Output,
}

/// What goes to the output for one input block.
pub(super) enum Output {
    /// Nothing: an empty block, or a block of the header still being read.
    Nothing,
    /// The input block, byte for byte.
    Frame,
    /// New blocks: the rewritten header, and the records that shared its last block.
    Blocks(Vec<u8>),
}

/// Counts and index when the input is done.
pub(super) struct Totals {
    pub(super) read_count: u64,
    pub(super) base_count: u64,
    pub(super) index: Option<Vec<u8>>,
}

enum Stage {
    Header(HeaderReader),
    Records(Records),
}

struct Worker<'o> {
    options: &'o BamOptions,
    /// Whether the caller writes an output (and so wants blocks and an index).
    output: bool,
    stage: Stage,
    /// Bytes the output holds once the blocks handed out so far are written.
    output_len: u64,
}

/// An inflater: decompresses each job's frame into its `data`, in the order received.
pub(super) fn inflate(jobs: Receiver<Job>, inflated: SyncSender<Result<Job, BamError>>) {
    let mut decompressor = Decompressor::new();
    for mut job in jobs {
        let result = match bgzf::inflate(&mut decompressor, &job.frame, &mut job.data) {
            Ok(()) => Ok(job),
            Err(problem) => Err(BamError::Bgzf {
                block: job.number,
                offset: job.offset,
                problem,
            }),
        };
        if inflated.send(result).is_err() {
            return;
        }
    }
}

/// The record thread: takes inflated blocks from the inflaters in turn (the caller hands
/// blocks out in turn, so this is file order) until they hang up; the first error ends it.
pub(super) fn run(
    inflated: Vec<Receiver<Result<Job, BamError>>>,
    done: SyncSender<Result<Done, BamError>>,
    options: &BamOptions,
    output: bool,
) -> Option<Totals> {
    let mut worker = Worker {
        options,
        output,
        stage: Stage::Header(HeaderReader::default()),
        output_len: 0,
    };
    for source in inflated.iter().cycle() {
        let Ok(result) = source.recv() else {
            break;
        };
        let reply = result.and_then(|mut job| {
            let write = worker.block(&mut job)?;
            Ok(Done { job, write })
        });
        let failed = reply.is_err();
        if done.send(reply).is_err() || failed {
            return None;
        }
    }
    match worker.finish() {
        Ok(totals) => Some(totals),
        Err(e) => {
            let _ = done.send(Err(e));
            None
        }
    }
}

impl Worker<'_> {
    fn block(&mut self, job: &mut Job) -> Result<Output, BamError> {
        if job.data.is_empty() {
            return Ok(Output::Nothing);
        }
        match &mut self.stage {
            Stage::Records(records) => {
                let place = BlockPlace {
                    start: self.output_len,
                    len: job.frame.len() as u64,
                };
                records.push(&job.data, place, &mut job.text)?;
                if self.output {
                    self.output_len += place.len;
                }
                Ok(Output::Frame)
            }
            Stage::Header(reader) => {
                let Some((header, used)) = reader.push(&job.data)? else {
                    return Ok(Output::Nothing);
                };
                let aligned = self.options.kind == BamKind::Aligned;
                header.validate(aligned).map_err(BamError::Header)?;
                let mut records = Records::new(
                    self.options.kind,
                    &header.references,
                    aligned && self.output,
                );
                let rest = &job.data[used..];
                let mut blocks = Vec::new();
                if self.output {
                    let mut compressor = Compressor::new(CompressionLvl::default());
                    let provenance = self.options.provenance.as_deref();
                    let header = header.rewritten(provenance);
                    bgzf::deflate_blocks(&mut compressor, &header, &mut blocks);
                    // One new block per chunk, so offsets in a chunk are offsets in its block.
                    for chunk in rest.chunks(bgzf::MAX_BLOCK_DATA) {
                        let start = blocks.len();
                        bgzf::deflate_blocks(&mut compressor, chunk, &mut blocks);
                        let place = BlockPlace {
                            start: start as u64,
                            len: (blocks.len() - start) as u64,
                        };
                        records.push(chunk, place, &mut job.text)?;
                    }
                    self.output_len = blocks.len() as u64;
                } else {
                    let place = BlockPlace { start: 0, len: 0 };
                    records.push(rest, place, &mut job.text)?;
                }
                self.stage = Stage::Records(records);
                Ok(Output::Blocks(blocks))
            }
        }
    }

    fn finish(self) -> Result<Totals, BamError> {
        match self.stage {
            Stage::Header(reader) if reader.is_empty() => {
                Err(BamError::Header(HeaderProblem::NoData))
            }
            Stage::Header(_) => Err(BamError::Header(HeaderProblem::Truncated)),
            Stage::Records(records) => {
                let (read_count, base_count, index) = records.finish()?;
                Ok(Totals {
                    read_count,
                    base_count,
                    index,
                })
            }
        }
    }
}
