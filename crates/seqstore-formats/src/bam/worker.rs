//! The second thread: inflates the BGZF blocks the caller reads, walks header and records,
//! and says what the caller must write and hash for each block.

use std::sync::mpsc::{Receiver, SyncSender};

use libdeflater::{CompressionLvl, Compressor, Decompressor};

use super::bgzf;
use super::error::{BamError, HeaderProblem};
use super::header::HeaderReader;
use super::records::{BlockPlace, Records};
use super::{BamKind, BamOptions};

/// One BGZF block going to the worker, with buffers to fill.
pub(super) struct Job {
    /// The whole block as read.
    pub(super) frame: Vec<u8>,
    /// An empty buffer for the SAM text of the records the block completes.
    pub(super) text: Vec<u8>,
    /// 1-based block number, for messages.
    pub(super) number: u64,
    /// Byte offset of the block in the input, for messages.
    pub(super) offset: u64,
}

/// What to do with one block: write something, hash `text`, then reuse the buffers.
pub(super) struct Done {
    pub(super) frame: Vec<u8>,
    pub(super) text: Vec<u8>,
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
    decompressor: Decompressor,
    block: Vec<u8>,
    stage: Stage,
    /// Bytes the output holds once the blocks handed out so far are written.
    output_len: u64,
}

/// Runs until the caller hangs up; the first error ends the run.
pub(super) fn run(
    jobs: Receiver<Job>,
    done: SyncSender<Result<Done, BamError>>,
    options: &BamOptions,
    output: bool,
) -> Option<Totals> {
    let mut worker = Worker {
        options,
        output,
        decompressor: Decompressor::new(),
        block: Vec::with_capacity(bgzf::MAX_ISIZE),
        stage: Stage::Header(HeaderReader::default()),
        output_len: 0,
    };
    for mut job in jobs {
        match worker.block(&mut job) {
            Ok(write) => {
                let reply = Done {
                    frame: job.frame,
                    text: job.text,
                    write,
                };
                if done.send(Ok(reply)).is_err() {
                    return None;
                }
            }
            Err(e) => {
                let _ = done.send(Err(e));
                return None;
            }
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
        bgzf::inflate(&mut self.decompressor, &job.frame, &mut self.block).map_err(|problem| {
            BamError::Bgzf {
                block: job.number,
                offset: job.offset,
                problem,
            }
        })?;
        if self.block.is_empty() {
            return Ok(Output::Nothing);
        }
        match &mut self.stage {
            Stage::Records(records) => {
                let place = BlockPlace {
                    start: self.output_len,
                    len: job.frame.len() as u64,
                };
                records.push(&self.block, place, &mut job.text)?;
                if self.output {
                    self.output_len += place.len;
                }
                Ok(Output::Frame)
            }
            Stage::Header(reader) => {
                let Some((header, used)) = reader.push(&self.block)? else {
                    return Ok(Output::Nothing);
                };
                let aligned = self.options.kind == BamKind::Aligned;
                header.validate(aligned).map_err(BamError::Header)?;
                let mut records = Records::new(
                    self.options.kind,
                    &header.references,
                    aligned && self.output,
                );
                let rest = &self.block[used..];
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
