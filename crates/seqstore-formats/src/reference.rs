//! Reference import in one pass: MD5 and size of the bytes as received, gzip/bgzip
//! decompression, FASTA validation and the `.fai` (HealthOmics spec §D.14, §E15).
//!
//! The caller stores the source bytes unchanged and pushes the same chunks here; nothing is
//! read twice and memory does not grow with the size of the file.

mod error;

pub use crate::gzip::Compression;

/// Whether a stored reference whose first bytes are `head` is gzip (or BGZF) compressed: the
/// import decides by these bytes, not by the file's name.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
}
pub use error::ReferenceError;

use std::sync::Arc;

use crate::etag::{BackgroundHasher, EtagFamily};
use crate::fasta::{FastaError, FastaIndex, FastaIndexer};
use crate::gzip::{GZIP_MAGIC, GzipError, GzipText, TextSink};

/// Largest reference HealthOmics accepts (fixed quota, spec §D.17): 15 GB.
pub const HEALTHOMICS_MAX_REFERENCE_BYTES: u64 = 15_000_000_000;

/// What a successful import found out about the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedReference {
    /// Lowercase hex MD5 of the bytes as received (the compressed bytes for gzip).
    pub md5: String,
    /// Number of bytes received.
    pub size: u64,
    /// Compression detected from the first bytes.
    pub compression: Compression,
    /// The `.fai`; offsets are into the decompressed text.
    pub index: FastaIndex,
}

/// Checks and indexes a reference source pushed in chunks of any size.
///
/// After an error every further call returns the same error.
#[derive(Debug)]
pub struct ReferenceImport {
    max_bytes: u64,
    size: u64,
    /// On its own thread: the caller's goes to decompression and indexing.
    md5: BackgroundHasher,
    text: Text,
    failed: Option<ReferenceError>,
}

/// Where the received bytes go.
#[derive(Debug)]
enum Text {
    /// Fewer than two bytes seen: whether the source is gzip is not known yet.
    Sniffing { first: Option<u8> },
    /// Plain FASTA.
    Plain(Box<FastaIndexer>),
    /// gzip or BGZF.
    Gzip(Box<GzipText<FastaIndexer>>),
}

impl ReferenceImport {
    /// An import that refuses sources larger than `max_bytes` (as received).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            size: 0,
            md5: BackgroundHasher::new(EtagFamily::Md5up),
            text: Text::Sniffing { first: None },
            failed: None,
        }
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes the next chunk of the source; fails as soon as the source is over the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ReferenceError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.push_chunk(chunk);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// Ends the source: checks that the gzip stream and the FASTA text are complete.
    pub fn finish(self) -> Result<ImportedReference, ReferenceError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let (compression, index) = match self.text {
            Text::Sniffing { first } => {
                let mut indexer = FastaIndexer::with_digests();
                indexer.push(first.as_slice())?;
                (Compression::None, indexer.finish()?)
            }
            Text::Plain(indexer) => (Compression::None, indexer.finish()?),
            Text::Gzip(gzip) => {
                let (compression, indexer) = gzip.finish()?;
                (compression, indexer.finish()?)
            }
        };
        Ok(ImportedReference {
            md5: self.md5.finish(),
            size: self.size,
            compression,
            index,
        })
    }

    fn push_chunk(&mut self, chunk: &[u8]) -> Result<(), ReferenceError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.max_bytes {
            return Err(ReferenceError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.md5.update(chunk);
        if let Text::Sniffing { first } = &mut self.text {
            let magic = match *first {
                Some(first) => [first, chunk[0]],
                None if chunk.len() >= 2 => [chunk[0], chunk[1]],
                None => {
                    *first = Some(chunk[0]);
                    return Ok(());
                }
            };
            let held = first.take();
            self.text = if magic == GZIP_MAGIC {
                Text::Gzip(Box::new(GzipText::new(FastaIndexer::with_digests())))
            } else {
                Text::Plain(Box::new(FastaIndexer::with_digests()))
            };
            if let Some(held) = held {
                self.push_text(&[held])?;
            }
        }
        self.push_text(chunk)
    }

    fn push_text(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        match &mut self.text {
            Text::Sniffing { .. } => Ok(()),
            Text::Plain(indexer) => Ok(indexer.push(bytes)?),
            Text::Gzip(gzip) => Ok(gzip.push(bytes)?),
        }
    }
}

impl TextSink for FastaIndexer {
    type Error = FastaError;

    fn text(&mut self, text: &[u8]) -> Result<(), FastaError> {
        self.push(text)
    }
}

impl From<GzipError<FastaError>> for ReferenceError {
    fn from(error: GzipError<FastaError>) -> Self {
        match error {
            GzipError::Text(fasta) => Self::Fasta(fasta),
            GzipError::Gzip { offset, source } => Self::Gzip {
                offset,
                source: Arc::new(source),
            },
        }
    }
}

#[cfg(test)]
mod tests;
