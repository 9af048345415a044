//! The push-based FASTA reader that validates and indexes in one pass.
//!
//! Mirrors htslib 1.16 `fai_build_core`: a sequence's first line fixes its line width (bytes
//! including the terminator, `\r\n` counting 2, a missing final newline counting as one)
//! and its bases per line; a wider line is an error, a narrower one (or one of the same width
//! whose other terminator gives it other bases) must be the sequence's last; a blank line
//! ends the sequence. Offsets count bytes of the text as pushed.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::alphabet::{find_invalid, is_name_terminator};
use super::digest::SequenceDigester;
use super::{FaiRecord, FastaError, FastaIndex};
use crate::limits::MAX_FASTA_SEQUENCES;

/// Longest accepted sequence name, bytes.
pub const MAX_NAME_LEN: usize = 4096;

/// Validates FASTA text pushed in chunks of any size and builds its `.fai`.
///
/// Memory is bounded by the sequence names, whatever the size of the text. After an error
/// every further call returns the same error.
#[derive(Debug)]
pub struct FastaIndexer {
    /// Offset in the text of the next byte.
    position: u64,
    /// 1-based number of the line the next byte belongs to.
    line_number: u64,
    /// What the current line is, as far as it has been seen.
    line: Line,
    /// Header line: the name ended at whitespace; the rest is description.
    name_done: bool,
    /// Header line: the name so far.
    name: Vec<u8>,
    /// Other lines: bytes so far, a final `\r` included.
    line_bytes: u64,
    /// Other lines: the last byte so far is `\r` (a CRLF terminator unless more follows).
    line_cr: bool,
    /// The sequence being read; `None` before the first header.
    record: Option<Record>,
    /// Header line of every name seen, to report duplicates.
    first_lines: HashMap<String, u64>,
    /// Finished sequences.
    records: Vec<FaiRecord>,
    /// The first error, returned again by every later call.
    failed: Option<FastaError>,
    /// Whether each sequence's digests are computed.
    digests: bool,
}

/// The kind of the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// No byte of it seen yet.
    Start,
    /// A `>` header line.
    Header,
    /// A sequence line, or a blank line ending in `\r\n`.
    Body,
}

/// A sequence whose lines are being read.
#[derive(Debug)]
struct Record {
    name: String,
    header_line: u64,
    offset: u64,
    length: u64,
    line_bases: u64,
    /// 0 until the first sequence line.
    line_width: u64,
    /// Why no further sequence line may follow.
    end: Option<End>,
    /// The residues' digests so far, when they are wanted.
    digester: Option<SequenceDigester>,
}

/// What ended a sequence before its next header.
#[derive(Debug, Clone, Copy)]
enum End {
    /// A blank line.
    Blank { line: u64 },
    /// A line narrower than the first, which must be the last.
    Short { line: u64, bases: u64 },
}

impl Default for FastaIndexer {
    fn default() -> Self {
        Self::new()
    }
}

impl FastaIndexer {
    /// An indexer at the start of the text.
    pub fn new() -> Self {
        Self {
            position: 0,
            line_number: 1,
            line: Line::Start,
            name_done: false,
            name: Vec::new(),
            line_bytes: 0,
            line_cr: false,
            record: None,
            first_lines: HashMap::new(),
            records: Vec::new(),
            failed: None,
            digests: false,
        }
    }

    /// An indexer that also computes every sequence's digests ([`FaiRecord::digests`]).
    pub fn with_digests() -> Self {
        Self {
            digests: true,
            ..Self::new()
        }
    }

    /// Reads the next chunk of text; chunk boundaries may fall anywhere.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), FastaError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.push_lines(chunk);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// Ends the text and returns the index of every sequence.
    pub fn finish(mut self) -> Result<FastaIndex, FastaError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        match self.line {
            Line::Start => {}
            Line::Header => {
                let line = self.line_number;
                let name = self.take_name(line)?;
                return Err(FastaError::EmptySequence { line, name });
            }
            Line::Body => self.end_line()?,
        }
        self.close_record()?;
        if self.records.is_empty() {
            return Err(if self.position == 0 {
                FastaError::Empty
            } else {
                FastaError::NoSequences
            });
        }
        Ok(FastaIndex {
            records: self.records,
            text_size: self.position,
        })
    }

    fn push_lines(&mut self, mut chunk: &[u8]) -> Result<(), FastaError> {
        while let Some(newline) = memchr::memchr(b'\n', chunk) {
            self.fragment(&chunk[..newline])?;
            self.position += 1;
            self.end_line()?;
            chunk = &chunk[newline + 1..];
        }
        self.fragment(chunk)
    }

    /// Part of one line, without its `\n`.
    fn fragment(&mut self, fragment: &[u8]) -> Result<(), FastaError> {
        let Some(&first) = fragment.first() else {
            return Ok(());
        };
        match self.line {
            Line::Start if first == b'>' => {
                self.close_record()?;
                self.line = Line::Header;
                self.header_fragment(&fragment[1..])?;
            }
            Line::Start => {
                // Before the first header only blank lines may come (a CRLF one starts with `\r`).
                if self.record.is_none() && first != b'\r' {
                    return Err(FastaError::MissingHeader {
                        line: self.line_number,
                        found: first,
                    });
                }
                self.line = Line::Body;
                self.body_fragment(fragment)?;
            }
            Line::Header => self.header_fragment(fragment)?,
            Line::Body => self.body_fragment(fragment)?,
        }
        self.position += fragment.len() as u64;
        Ok(())
    }

    /// The name is the header text after `>` up to the first whitespace.
    fn header_fragment(&mut self, fragment: &[u8]) -> Result<(), FastaError> {
        if self.name_done {
            return Ok(());
        }
        let end = fragment.iter().position(|&b| is_name_terminator(b));
        let part = &fragment[..end.unwrap_or(fragment.len())];
        if self.name.len() + part.len() > MAX_NAME_LEN {
            return Err(FastaError::NameTooLong {
                line: self.line_number,
                max: MAX_NAME_LEN,
            });
        }
        self.name.extend_from_slice(part);
        self.name_done = end.is_some();
        Ok(())
    }

    fn body_fragment(&mut self, fragment: &[u8]) -> Result<(), FastaError> {
        if self.line_cr {
            // The `\r` seen last was not followed by `\n`.
            return Err(self.invalid_byte(b'\r'));
        }
        let (bases, cr) = match fragment.split_last() {
            Some((b'\r', bases)) => (bases, true),
            _ => (fragment, false),
        };
        if let Some(i) = find_invalid(bases) {
            return Err(self.invalid_byte(bases[i]));
        }
        if let Some(digester) = self.record.as_mut().and_then(|r| r.digester.as_mut()) {
            digester.update(bases);
        }
        self.line_bytes += fragment.len() as u64;
        self.line_cr = cr;
        Ok(())
    }

    fn invalid_byte(&self, found: u8) -> FastaError {
        let line = self.line_number;
        match &self.record {
            Some(record) => FastaError::InvalidCharacter {
                line,
                found,
                name: record.name.clone(),
            },
            None => FastaError::MissingHeader { line, found },
        }
    }

    /// The current line ended, at `\n` or at the end of the text.
    fn end_line(&mut self) -> Result<(), FastaError> {
        match self.line {
            Line::Start => self.blank_line(),
            Line::Header => self.start_record()?,
            Line::Body => {
                let bases = self.line_bytes - u64::from(self.line_cr);
                if bases == 0 {
                    self.blank_line();
                } else {
                    // htslib counts one terminator byte even when the final newline is missing.
                    self.sequence_line(bases, self.line_bytes + 1)?;
                }
            }
        }
        self.line = Line::Start;
        self.line_bytes = 0;
        self.line_cr = false;
        self.line_number += 1;
        Ok(())
    }

    fn blank_line(&mut self) {
        if let Some(record) = &mut self.record {
            record.end.get_or_insert(End::Blank {
                line: self.line_number,
            });
        }
    }

    fn sequence_line(&mut self, bases: u64, width: u64) -> Result<(), FastaError> {
        let line = self.line_number;
        let Some(record) = &mut self.record else {
            // Unreachable: `fragment` refuses sequence lines before the first header.
            return Ok(());
        };
        match record.end {
            Some(End::Blank { line }) => {
                let name = record.name.clone();
                return Err(FastaError::BlankLineInSequence { line, name });
            }
            Some(End::Short { line, bases }) => {
                return Err(line_length_error(line, bases, record));
            }
            None => {}
        }
        if record.line_width == 0 {
            record.line_bases = bases;
            record.line_width = width;
        } else if width > record.line_width {
            return Err(line_length_error(line, bases, record));
        } else if width < record.line_width || bases != record.line_bases {
            // The same width with other bases (one line CRLF, the other LF) is fine for the
            // last line only: htslib accepts it anywhere and then fetches the wrong bases.
            record.end = Some(End::Short { line, bases });
        }
        record.length += bases;
        Ok(())
    }

    /// A header line ended: check its name and start its sequence.
    fn start_record(&mut self) -> Result<(), FastaError> {
        let line = self.line_number;
        let name = self.take_name(line)?;
        if self.first_lines.len() >= MAX_FASTA_SEQUENCES {
            return Err(FastaError::TooManySequences {
                line,
                max: MAX_FASTA_SEQUENCES,
            });
        }
        match self.first_lines.entry(name.clone()) {
            Entry::Occupied(first) => {
                return Err(FastaError::DuplicateName {
                    line,
                    name,
                    first_line: *first.get(),
                });
            }
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
        self.record = Some(Record {
            name,
            header_line: line,
            offset: self.position,
            length: 0,
            line_bases: 0,
            line_width: 0,
            end: None,
            digester: self.digests.then(SequenceDigester::default),
        });
        Ok(())
    }

    fn take_name(&mut self, line: u64) -> Result<String, FastaError> {
        self.name_done = false;
        let name = std::mem::take(&mut self.name);
        if name.is_empty() {
            return Err(FastaError::EmptyName { line });
        }
        if let Some(&found) = name.iter().find(|b| b.is_ascii_control()) {
            return Err(FastaError::InvalidNameCharacter { line, found });
        }
        String::from_utf8(name).map_err(|_| FastaError::NameNotUtf8 { line })
    }

    /// A header or the end of the text closes the current sequence.
    fn close_record(&mut self) -> Result<(), FastaError> {
        let Some(record) = self.record.take() else {
            return Ok(());
        };
        if record.line_width == 0 {
            return Err(FastaError::EmptySequence {
                line: record.header_line,
                name: record.name,
            });
        }
        self.records.push(FaiRecord {
            name: record.name,
            length: record.length,
            offset: record.offset,
            line_bases: record.line_bases,
            line_width: record.line_width,
            digests: record.digester.map(SequenceDigester::finish),
        });
        Ok(())
    }
}

/// `line` (with `bases` bases) breaks the width that the first line of `record` set.
fn line_length_error(line: u64, bases: u64, record: &Record) -> FastaError {
    let name = record.name.clone();
    if bases == record.line_bases {
        // Same bases, different width: only the terminator differs.
        FastaError::MixedLineEndings { line, name }
    } else {
        FastaError::DifferentLineLength {
            line,
            name,
            expected: record.line_bases,
        }
    }
}

#[cfg(test)]
mod tests;
