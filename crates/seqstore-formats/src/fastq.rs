//! FASTQ read set sources in one pass: decompression, validation, counts and the ETag
//! (HealthOmics spec §D.3, §D.9, §E3).
//!
//! The source arrives as uploaded: plain FASTQ, gzip, concatenated gzip files or BGZF. Its
//! ETag is the hash of the complete decompressed text, bytes as-is (what
//! `gzip -dc F | md5sum` prints). The caller stores the source bytes unchanged and pushes the
//! same chunks here; nothing is read twice and memory does not grow with the file.
//!
//! What is accepted, record by record (4 lines; `\n` or `\r\n`; the last newline optional):
//! - `@` and a non-empty name, then anything but control characters;
//! - the bases: IUPAC codes in either case, `.` and `-`; zero-length reads are legal (htslib
//!   1.16 `samtools import` reads them too); `*` is refused;
//! - `+`, then anything but control characters (the repeated name is not compared);
//! - one Phred+33 quality character (`!`..`~`) per base.
//!
//! Blank lines may only end the text. Multi-line (wrapped) FASTQ is refused with a message
//! saying so. htslib 1.16 is stricter on bases (it refuses `U`, `.` and `-`) and laxer on
//! names (it accepts an empty one) and quality (it accepts a space).

mod alphabet;
mod error;
mod sniff;
mod validator;

pub use crate::gzip::Compression;
pub use error::{FastqError, Foreign, LineKind};

use std::sync::Arc;

use crate::background::Background;
use crate::etag::{BackgroundHasher, EtagFamily};
use crate::gzip::{GZIP_MAGIC, GzipError, GzipText, TextSink};
use sniff::{SNIFF_LEN, sniff};
use validator::FastqValidator;

/// What a successful ingest found out about a FASTQ source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastqSummary {
    /// Hash of the decompressed text in the family asked for: lowercase hex.
    pub etag: String,
    /// Records.
    pub read_count: u64,
    /// Sum of the sequence lengths.
    pub base_count: u64,
    /// Compression detected from the first bytes.
    pub compression: Compression,
    /// Bytes received.
    pub raw_size: u64,
    /// Bytes of decompressed text.
    pub text_size: u64,
}

/// Checks, counts and hashes a FASTQ source pushed in chunks of any size.
///
/// After an error every further call returns the same error.
#[derive(Debug)]
pub struct FastqIngest {
    family: EtagFamily,
    raw_size: u64,
    source: Source,
    failed: Option<FastqError>,
}

/// Where the received bytes go.
#[derive(Debug)]
enum Source {
    /// Fewer than two bytes seen: whether the source is gzip is not known yet.
    Sniffing { first: Option<u8> },
    /// Plain text.
    Plain(Box<Text>),
    /// gzip or BGZF.
    Gzip(Box<GzipText<Text>>),
}

impl FastqIngest {
    /// An ingest whose ETag is of `family`.
    pub fn new(family: EtagFamily) -> Self {
        Self {
            family,
            raw_size: 0,
            source: Source::Sniffing { first: None },
            failed: None,
        }
    }

    /// Bytes received so far.
    pub fn raw_size(&self) -> u64 {
        self.raw_size
    }

    /// Takes the next chunk of the source; fails at the first bad record.
    pub fn push(&mut self, raw: &[u8]) -> Result<(), FastqError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.push_chunk(raw);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// Ends the source: checks that the gzip stream and the last record are complete.
    pub fn finish(self) -> Result<FastqSummary, FastqError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let (compression, text) = match self.source {
            Source::Sniffing { first: None } => return Err(FastqError::Empty),
            Source::Sniffing { first: Some(first) } => {
                let mut text = Text::new(self.family);
                text.push(&[first])?;
                (Compression::None, text)
            }
            Source::Plain(text) => (Compression::None, *text),
            Source::Gzip(gzip) => {
                let (compression, text) = gzip.finish()?;
                if text.size == 0 {
                    return Err(FastqError::EmptyText);
                }
                (compression, text)
            }
        };
        let (etag, counts, text_size) = text.finish()?;
        Ok(FastqSummary {
            etag,
            read_count: counts.reads,
            base_count: counts.bases,
            compression,
            raw_size: self.raw_size,
            text_size,
        })
    }

    fn push_chunk(&mut self, chunk: &[u8]) -> Result<(), FastqError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.raw_size += chunk.len() as u64;
        if let Source::Sniffing { first } = &mut self.source {
            let magic = match *first {
                Some(first) => [first, chunk[0]],
                None if chunk.len() >= 2 => [chunk[0], chunk[1]],
                None => {
                    *first = Some(chunk[0]);
                    return Ok(());
                }
            };
            let held = first.take();
            let text = Text::new(self.family);
            self.source = if magic == GZIP_MAGIC {
                Source::Gzip(Box::new(GzipText::new(text)))
            } else {
                Source::Plain(Box::new(text))
            };
            if let Some(held) = held {
                self.push_source(&[held])?;
            }
        }
        self.push_source(chunk)
    }

    fn push_source(&mut self, bytes: &[u8]) -> Result<(), FastqError> {
        match &mut self.source {
            Source::Sniffing { .. } => Ok(()),
            Source::Plain(text) => text.push(bytes),
            Source::Gzip(gzip) => Ok(gzip.push(bytes)?),
        }
    }
}

/// The (decompressed) text: hashed, sniffed and validated as it streams by.
///
/// Hashing and validation each run on a thread of their own, so that with inflation on the
/// caller's they share the cores whatever the ETag family (MD5 or SHA-512 takes about as long
/// as ISA-L's inflate, the validator a quarter of it). A bad record shows at a later `push`
/// or at `finish`, with the same error.
#[derive(Debug)]
struct Text {
    hasher: BackgroundHasher,
    size: u64,
    /// The first bytes, held until there are enough to recognise another format.
    head: [u8; SNIFF_LEN],
    /// Bytes in `head`, or `None` once they went to the validator.
    head_len: Option<usize>,
    validator: Background<FastqValidator>,
}

impl Text {
    fn new(family: EtagFamily) -> Self {
        Self {
            hasher: BackgroundHasher::new(family),
            size: 0,
            head: [0; SNIFF_LEN],
            head_len: Some(0),
            validator: Background::of(FastqValidator::new()),
        }
    }

    fn push(&mut self, mut text: &[u8]) -> Result<(), FastqError> {
        self.hasher.update(text);
        self.size += text.len() as u64;
        if let Some(len) = &mut self.head_len {
            let take = (SNIFF_LEN - *len).min(text.len());
            self.head[*len..*len + take].copy_from_slice(&text[..take]);
            *len += take;
            text = &text[take..];
            if *len < SNIFF_LEN {
                return Ok(());
            }
            self.release_head()?;
        }
        self.validator.push(text);
        match self.validator.error() {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Refuses another format, or passes the first bytes on to the validator.
    fn release_head(&mut self) -> Result<(), FastqError> {
        let len = self.head_len.take().unwrap_or_default();
        let head = &self.head[..len];
        if let Some(foreign) = sniff(head) {
            return Err(FastqError::NotFastq(foreign));
        }
        self.validator.push(head);
        Ok(())
    }

    /// The ETag, the counts and the size of the text.
    fn finish(mut self) -> Result<(String, validator::Counts, u64), FastqError> {
        if self.head_len.is_some() {
            self.release_head()?;
        }
        let counts = self.validator.end()?;
        Ok((self.hasher.finish(), counts, self.size))
    }
}

impl TextSink for Text {
    type Error = FastqError;

    fn text(&mut self, text: &[u8]) -> Result<(), FastqError> {
        self.push(text)
    }
}

impl From<GzipError<FastqError>> for FastqError {
    fn from(error: GzipError<FastqError>) -> Self {
        match error {
            GzipError::Text(fastq) => fastq,
            GzipError::Gzip { offset, source } => Self::Gzip {
                offset,
                source: Arc::new(source),
            },
        }
    }
}

#[cfg(test)]
mod tests;
