//! Push-based decompression of every gzip member (bgzip writes many plus an empty EOF one).

use std::io::{self, Write};
use std::sync::Arc;

use flate2::write::MultiGzDecoder;

use super::{Compression, ReferenceError};
use crate::fasta::{FastaError, FastaIndex, FastaIndexer};

/// Decompresses pushed gzip bytes straight into a [`FastaIndexer`].
#[derive(Debug)]
pub(super) struct GzipText {
    decoder: MultiGzDecoder<IndexerSink>,
    /// Compressed bytes the decoder accepted.
    consumed: u64,
    /// Whether the first member is a BGZF block, once its header is read.
    bgzf: Option<bool>,
}

impl Default for GzipText {
    fn default() -> Self {
        Self {
            decoder: MultiGzDecoder::new(IndexerSink::default()),
            consumed: 0,
            bgzf: None,
        }
    }
}

impl GzipText {
    /// Decompresses the next compressed chunk.
    pub(super) fn push(&mut self, mut chunk: &[u8]) -> Result<(), ReferenceError> {
        while !chunk.is_empty() {
            match self.decoder.write(chunk) {
                Ok(0) => {
                    let stalled = io::Error::new(io::ErrorKind::WriteZero, "decoder stalled");
                    return Err(self.error(stalled));
                }
                Ok(n) => {
                    self.consumed += n as u64;
                    chunk = &chunk[n..];
                }
                Err(e) => return Err(self.error(e)),
            }
            if self.bgzf.is_none() {
                self.bgzf = self.decoder.header().map(|h| is_bgzf(h.extra()));
            }
        }
        Ok(())
    }

    /// Checks that the last member is complete and returns the index of the text.
    pub(super) fn finish(mut self) -> Result<(Compression, FastaIndex), ReferenceError> {
        if let Err(e) = self.decoder.try_finish() {
            return Err(self.error(e));
        }
        let sink = match self.decoder.finish() {
            Ok(sink) => sink,
            Err(e) => {
                return Err(ReferenceError::Gzip {
                    offset: self.consumed,
                    source: Arc::new(e),
                });
            }
        };
        let compression = match self.bgzf {
            Some(true) => Compression::Bgzf,
            _ => Compression::Gzip,
        };
        Ok((compression, sink.indexer.finish()?))
    }

    /// The indexer's error when the decoder failed because of it, the decoder's otherwise.
    fn error(&mut self, e: io::Error) -> ReferenceError {
        match self.decoder.get_mut().error.take() {
            Some(fasta) => ReferenceError::Fasta(fasta),
            None => ReferenceError::Gzip {
                offset: self.consumed,
                source: Arc::new(e),
            },
        }
    }
}

/// Whether a gzip header's extra field holds the BGZF `BC` subfield (SAM v1 §4.1).
fn is_bgzf(extra: Option<&[u8]>) -> bool {
    let mut rest = extra.unwrap_or_default();
    // RFC 1952 §2.3.1.1: subfields of SI1, SI2, a little-endian LEN and LEN bytes.
    while let [si1, si2, len_lo, len_hi, data @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi]));
        if (*si1, *si2, len) == (b'B', b'C', 2) {
            return true;
        }
        rest = data.get(len..).unwrap_or_default();
    }
    false
}

/// The decoder's output side: feeds the indexer and keeps its error for the caller.
#[derive(Debug, Default)]
struct IndexerSink {
    indexer: FastaIndexer,
    error: Option<FastaError>,
}

impl Write for IndexerSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            match self.indexer.push(buf) {
                Ok(()) => return Ok(buf.len()),
                Err(e) => self.error = Some(e),
            }
        }
        Err(io::Error::other("invalid FASTA text"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgzf_extra_subfield_is_recognised() {
        assert!(is_bgzf(Some(b"BC\x02\x00\x1b\x00")));
        assert!(is_bgzf(Some(b"XY\x01\x00zBC\x02\x00\x1b\x00")));
        assert!(!is_bgzf(Some(b"BC\x03\x00\x1b\x00\x00")));
        assert!(!is_bgzf(Some(b"XY\x02\x00")));
        assert!(!is_bgzf(Some(b"XY\x09\x00BC\x02\x00")));
        assert!(!is_bgzf(None));
    }
}
