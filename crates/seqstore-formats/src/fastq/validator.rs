//! The push-based FASTQ record checker: four lines per record, counted as they stream by.
//!
//! A record is `@name[ description]`, the bases, `+[anything]` and one quality character per
//! base (the Sanger format of Cock et al. 2010, NAR 38:1767, without line wrapping). Lines
//! end in `\n` or `\r\n`; the last one may lack its terminator. Nothing is buffered: each
//! line is checked and counted in the chunk it arrives in, so memory does not depend on the
//! length of reads or names.

use super::alphabet::{find_control, find_invalid_base, find_invalid_quality, is_base};
use super::{FastqError, LineKind};
use crate::background::Work;

/// Checks FASTQ text pushed in chunks of any size and counts its reads and bases.
#[derive(Debug)]
pub(super) struct FastqValidator {
    /// 1-based number of the current line.
    line: u64,
    /// Which line of its record the current line is.
    part: LineKind,
    /// Bytes of the current line so far, without its terminator.
    line_len: u64,
    /// The current line's last byte so far is `\r`: its terminator, unless more follows.
    cr: bool,
    /// Bases of the current record.
    sequence_len: u64,
    /// The first blank line since the last record, when blank lines may be ending the text.
    blank_line: Option<u64>,
    /// Complete records.
    reads: u64,
    /// Bases of the complete records.
    bases: u64,
}

/// What the text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    /// Records.
    pub(super) reads: u64,
    /// Sum of the sequence lengths.
    pub(super) bases: u64,
}

/// On a thread of its own beside inflation and hashing (see `fastq::Text`).
impl Work for FastqValidator {
    type Output = Counts;
    type Error = FastqError;

    fn push(&mut self, bytes: &[u8]) -> Result<(), FastqError> {
        FastqValidator::push(self, bytes)
    }

    fn finish(self) -> Result<Counts, FastqError> {
        FastqValidator::finish(self)
    }
}

impl FastqValidator {
    /// A validator at the start of the text.
    pub(super) fn new() -> Self {
        Self {
            line: 1,
            part: LineKind::Header,
            line_len: 0,
            cr: false,
            sequence_len: 0,
            blank_line: None,
            reads: 0,
            bases: 0,
        }
    }

    /// Reads the next chunk of text; chunk boundaries may fall anywhere.
    pub(super) fn push(&mut self, mut chunk: &[u8]) -> Result<(), FastqError> {
        while let Some(newline) = memchr::memchr(b'\n', chunk) {
            self.fragment(&chunk[..newline])?;
            self.end_line()?;
            chunk = &chunk[newline + 1..];
        }
        self.fragment(chunk)
    }

    /// Ends the text: the last record must be complete.
    pub(super) fn finish(mut self) -> Result<Counts, FastqError> {
        if self.line_len > 0 || self.cr {
            // The last line has no `\n`; a lone `\r` at the very end counts as its terminator.
            self.end_line()?;
        }
        if self.part != LineKind::Header {
            return Err(FastqError::Truncated {
                record: self.record(),
                line: self.line,
                missing: self.part,
            });
        }
        if self.reads == 0 {
            return Err(FastqError::NoRecords);
        }
        Ok(Counts {
            reads: self.reads,
            bases: self.bases,
        })
    }

    /// The number of the record being read.
    fn record(&self) -> u64 {
        self.reads + 1
    }

    /// Part of one line, without its `\n`.
    fn fragment(&mut self, mut fragment: &[u8]) -> Result<(), FastqError> {
        if fragment.is_empty() {
            return Ok(());
        }
        if self.cr {
            // The `\r` that ended the previous fragment is inside the line.
            self.cr = false;
            self.bytes(b"\r")?;
        }
        if let Some((b'\r', rest)) = fragment.split_last() {
            self.cr = true;
            fragment = rest;
        }
        self.bytes(fragment)
    }

    /// Bytes of the current line that are not its terminator.
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), FastqError> {
        let Some(&first) = bytes.first() else {
            return Ok(());
        };
        let start = self.line_len;
        self.line_len += bytes.len() as u64;
        match self.part {
            LineKind::Header if start == 0 => {
                self.header_start(first)?;
                self.header_bytes(&bytes[1..], 1)
            }
            LineKind::Header => self.header_bytes(bytes, start),
            LineKind::Sequence => match find_invalid_base(bytes) {
                None => Ok(()),
                Some(i) => Err(FastqError::InvalidBase {
                    record: self.record(),
                    line: self.line,
                    found: bytes[i],
                    position: start + i as u64 + 1,
                }),
            },
            LineKind::Plus if start == 0 => {
                self.plus_start(first)?;
                self.control_check(&bytes[1..], LineKind::Plus)
            }
            LineKind::Plus => self.control_check(bytes, LineKind::Plus),
            LineKind::Quality => match find_invalid_quality(bytes) {
                None => Ok(()),
                Some(i) => Err(FastqError::InvalidQuality {
                    record: self.record(),
                    line: self.line,
                    found: bytes[i],
                    position: start + i as u64 + 1,
                }),
            },
        }
    }

    /// The first byte of a record.
    fn header_start(&self, first: u8) -> Result<(), FastqError> {
        let (record, line) = (self.record(), self.line);
        if let Some(line) = self.blank_line {
            return Err(FastqError::BlankLine { record, line });
        }
        match first {
            b'@' => Ok(()),
            found if line == 1 => Err(FastqError::NotFastqStart { found }),
            found => Err(FastqError::ExpectedAt {
                record,
                line,
                found,
            }),
        }
    }

    /// Header bytes after the first `start` bytes of the line (`@` included).
    fn header_bytes(&self, bytes: &[u8], start: u64) -> Result<(), FastqError> {
        if start == 1 && matches!(bytes.first(), Some(b' ' | b'\t')) {
            return Err(FastqError::EmptyName {
                record: self.record(),
                line: self.line,
            });
        }
        self.control_check(bytes, LineKind::Header)
    }

    /// The first byte after the sequence line.
    fn plus_start(&self, first: u8) -> Result<(), FastqError> {
        let (record, line) = (self.record(), self.line);
        match first {
            b'+' => Ok(()),
            found if is_base(found) => Err(FastqError::MultiLine {
                record,
                line,
                found,
            }),
            found => Err(FastqError::ExpectedPlus {
                record,
                line,
                found,
            }),
        }
    }

    fn control_check(&self, bytes: &[u8], kind: LineKind) -> Result<(), FastqError> {
        match find_control(bytes) {
            None => Ok(()),
            Some(i) => Err(FastqError::ControlCharacter {
                record: self.record(),
                line: self.line,
                found: bytes[i],
                kind,
            }),
        }
    }

    /// The current line ended, at `\n` or at the end of the text.
    fn end_line(&mut self) -> Result<(), FastqError> {
        let (record, line) = (self.record(), self.line);
        self.part = match self.part {
            LineKind::Header => match self.line_len {
                0 => {
                    // Blank lines may end the text; `header_start` refuses a record after one.
                    self.blank_line.get_or_insert(line);
                    LineKind::Header
                }
                1 => return Err(FastqError::EmptyName { record, line }),
                _ => LineKind::Sequence,
            },
            LineKind::Sequence => {
                self.sequence_len = self.line_len;
                LineKind::Plus
            }
            LineKind::Plus if self.line_len == 0 => {
                return Err(FastqError::ExpectedPlus {
                    record,
                    line,
                    found: b'\n',
                });
            }
            LineKind::Plus => LineKind::Quality,
            LineKind::Quality => {
                if self.line_len != self.sequence_len {
                    return Err(FastqError::QualityLength {
                        record,
                        line,
                        quality: self.line_len,
                        sequence: self.sequence_len,
                    });
                }
                self.reads += 1;
                self.bases += self.sequence_len;
                LineKind::Header
            }
        };
        self.line += 1;
        self.line_len = 0;
        self.cr = false;
        Ok(())
    }
}
