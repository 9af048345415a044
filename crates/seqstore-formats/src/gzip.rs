//! Push-based decompression of every gzip member (RFC 1952) into a text consumer.
//!
//! Sources arrive as plain gzip, as several gzip files concatenated (`cat a.gz b.gz`, which
//! `gzip -d` reads as one text) or as BGZF (`bgzip`: many small members plus an empty EOF
//! one, SAM v1 §4.1). All of them decompress to the concatenation of their members.

use std::fmt;
use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

/// The first two bytes of every gzip member (RFC 1952 §2.3.1).
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How the source bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip whose first member is not a BGZF block; all members are decompressed.
    Gzip,
    /// BGZF (`bgzip`): gzip members carrying the `BC` extra subfield (SAM v1 §4.1).
    Bgzf,
}

/// Where decompressed text goes, chunk by chunk, in order.
pub(crate) trait TextSink: fmt::Debug {
    /// Why the consumer refused the text.
    type Error: fmt::Debug;

    /// Takes the next chunk of text.
    fn text(&mut self, text: &[u8]) -> Result<(), Self::Error>;
}

/// Why decompression stopped.
#[derive(Debug)]
pub(crate) enum GzipError<E> {
    /// The consumer refused the text.
    Text(E),
    /// The compressed stream is truncated or corrupt.
    Gzip {
        /// Compressed bytes the decoder had accepted before the failure.
        offset: u64,
        /// The decoder's error.
        source: io::Error,
    },
}

/// Decompresses pushed gzip bytes straight into a [`TextSink`].
#[derive(Debug)]
pub(crate) struct GzipText<S: TextSink> {
    decoder: MultiGzDecoder<SinkWriter<S>>,
    /// Compressed bytes the decoder accepted.
    consumed: u64,
    /// Whether the first member is a BGZF block, once its header is read.
    bgzf: Option<bool>,
}

impl<S: TextSink> GzipText<S> {
    /// A decoder at the start of the first member.
    pub(crate) fn new(sink: S) -> Self {
        Self {
            decoder: MultiGzDecoder::new(SinkWriter { sink, error: None }),
            consumed: 0,
            bgzf: None,
        }
    }

    /// Decompresses the next compressed chunk.
    pub(crate) fn push(&mut self, mut chunk: &[u8]) -> Result<(), GzipError<S::Error>> {
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

    /// Checks that the last member is complete and hands the consumer back.
    pub(crate) fn finish(mut self) -> Result<(Compression, S), GzipError<S::Error>> {
        if let Err(e) = self.decoder.try_finish() {
            return Err(self.error(e));
        }
        let compression = match self.bgzf {
            Some(true) => Compression::Bgzf,
            _ => Compression::Gzip,
        };
        match self.decoder.finish() {
            Ok(writer) => Ok((compression, writer.sink)),
            Err(source) => Err(GzipError::Gzip {
                offset: self.consumed,
                source,
            }),
        }
    }

    /// The consumer's error when the decoder failed because of it, the decoder's otherwise.
    fn error(&mut self, e: io::Error) -> GzipError<S::Error> {
        match self.decoder.get_mut().error.take() {
            Some(text) => GzipError::Text(text),
            None => GzipError::Gzip {
                offset: self.consumed,
                source: e,
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

/// The decoder's output side: feeds the consumer and keeps its error for the caller.
#[derive(Debug)]
struct SinkWriter<S: TextSink> {
    sink: S,
    error: Option<S::Error>,
}

impl<S: TextSink> Write for SinkWriter<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            match self.sink.text(buf) {
                Ok(()) => return Ok(buf.len()),
                Err(e) => self.error = Some(e),
            }
        }
        Err(io::Error::other("the decompressed text was refused"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use flate2::write::GzEncoder;

    use super::*;

    /// Collects the text; refuses any chunk holding `!`.
    #[derive(Debug, Default)]
    struct Collect(Vec<u8>);

    impl TextSink for Collect {
        type Error = usize;

        fn text(&mut self, text: &[u8]) -> Result<(), usize> {
            if let Some(at) = text.iter().position(|&b| b == b'!') {
                return Err(self.0.len() + at);
            }
            self.0.extend_from_slice(text);
            Ok(())
        }
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn decompress(source: &[u8], chunk: usize) -> Result<(Compression, Vec<u8>), String> {
        let mut gzip = GzipText::new(Collect::default());
        for piece in source.chunks(chunk) {
            gzip.push(piece).map_err(|e| format!("{e:?}"))?;
        }
        let (compression, sink) = gzip.finish().map_err(|e| format!("{e:?}"))?;
        Ok((compression, sink.0))
    }

    #[test]
    fn bgzf_extra_subfield_is_recognised() {
        assert!(is_bgzf(Some(b"BC\x02\x00\x1b\x00")));
        assert!(is_bgzf(Some(b"XY\x01\x00zBC\x02\x00\x1b\x00")));
        assert!(!is_bgzf(Some(b"BC\x03\x00\x1b\x00\x00")));
        assert!(!is_bgzf(Some(b"XY\x02\x00")));
        assert!(!is_bgzf(Some(b"XY\x09\x00BC\x02\x00")));
        assert!(!is_bgzf(None));
    }

    #[test]
    fn every_member_is_decompressed_whatever_the_chunks() {
        let mut source = gzip(b"first\n");
        source.extend_from_slice(&gzip(b""));
        source.extend_from_slice(&gzip(b"second\n"));
        for chunk in [1, 2, 7, source.len()] {
            let (compression, text) = decompress(&source, chunk).unwrap();
            assert_eq!(compression, Compression::Gzip);
            assert_eq!(text, b"first\nsecond\n", "chunks of {chunk}");
        }
    }

    #[test]
    fn the_consumers_error_wins_over_the_decoders() {
        let error = decompress(&gzip(b"abc!def"), 1000).unwrap_err();
        assert_eq!(error, "Text(3)");
    }

    #[test]
    fn a_truncated_member_is_an_error() {
        let source = gzip(b"some text that is long enough\n");
        let error = decompress(&source[..source.len() - 3], 1000).unwrap_err();
        assert!(error.starts_with("Gzip {"), "{error}");
    }
}
