//! Push-based decompression of every gzip member (RFC 1952) into a text consumer.
//!
//! Sources arrive as plain gzip, as several gzip files concatenated (`cat a.gz b.gz`, which
//! `gzip -d` reads as one text) or as BGZF (`bgzip`: many small members plus an empty EOF
//! one, SAM v1 §4.1). All of them decompress to the concatenation of their members.

use std::fmt;
use std::io::{self, Write};

use bgzf::{BlockInflater, HEADER_LEN, TRAILER_LEN, block_size, is_block_header};
use members::Members;

mod bgzf;
mod header;
mod members;

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
///
/// Members laid out as `bgzip` writes them are inflated block by block with libdeflate;
/// from the first member that is not, the rest goes through a streaming inflater
/// ([`Members`]: ISA-L when the build has it).
#[derive(Debug)]
pub(crate) struct GzipText<S: TextSink> {
    inflater: Inflater<S>,
    /// Compressed bytes accepted: whole blocks, then what the streaming inflater took.
    consumed: u64,
    /// Whether the first member is a BGZF block, once its header is read.
    bgzf: Option<bool>,
    /// The start of the first member, while it is streamed and `bgzf` is not known yet.
    first_header: Vec<u8>,
    /// Makes the streaming inflater.
    members: fn(SinkWriter<S>) -> Members<S>,
}

/// How the members are being inflated.
#[derive(Debug)]
enum Inflater<S: TextSink> {
    /// Whole BGZF blocks so far; `pending` holds the start of the next member.
    Blocks {
        writer: Box<SinkWriter<S>>,
        pending: Vec<u8>,
        blocks: BlockInflater,
    },
    /// Streaming, from a member that is not a `bgzip` block on.
    Stream(Box<Members<S>>),
    /// Only while switching from blocks to streaming.
    Switching,
}

impl<S: TextSink> GzipText<S> {
    /// A decoder at the start of the first member.
    pub(crate) fn new(sink: S) -> Self {
        Self::with_members(sink, Members::new)
    }

    fn with_members(sink: S, members: fn(SinkWriter<S>) -> Members<S>) -> Self {
        Self {
            inflater: Inflater::Blocks {
                writer: Box::new(SinkWriter { sink, error: None }),
                pending: Vec::new(),
                blocks: BlockInflater::new(),
            },
            consumed: 0,
            bgzf: None,
            first_header: Vec::new(),
            members,
        }
    }

    /// Decompresses the next compressed chunk.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), GzipError<S::Error>> {
        match self.push_blocks(chunk)? {
            None => Ok(()),
            Some(rest) => {
                self.switch_to_stream()?;
                self.push_stream(rest)
            }
        }
    }

    /// Checks that the last member is complete and hands the consumer back.
    pub(crate) fn finish(mut self) -> Result<(Compression, S), GzipError<S::Error>> {
        if matches!(&self.inflater, Inflater::Blocks { pending, .. } if !pending.is_empty()) {
            // An incomplete last member: the streaming inflater says what is wrong with it.
            self.switch_to_stream()?;
        }
        if let Inflater::Stream(members) = &mut self.inflater
            && let Err(e) = members.try_finish()
        {
            return Err(self.error(e));
        }
        let compression = match self.bgzf {
            Some(true) => Compression::Bgzf,
            _ => Compression::Gzip,
        };
        let writer = match self.inflater {
            Inflater::Blocks { writer, .. } => *writer,
            Inflater::Stream(members) => members.finish().map_err(|source| GzipError::Gzip {
                offset: self.consumed,
                source,
            })?,
            Inflater::Switching => unreachable!("switching is done within one call"),
        };
        Ok((compression, writer.sink))
    }

    /// Inflates the `bgzip` blocks at the start of `chunk`, holding back an incomplete last
    /// one; at a member that is not such a block, returns the rest for the streaming inflater.
    fn push_blocks<'a>(
        &mut self,
        mut chunk: &'a [u8],
    ) -> Result<Option<&'a [u8]>, GzipError<S::Error>> {
        let Inflater::Blocks {
            writer,
            pending,
            blocks,
        } = &mut self.inflater
        else {
            return Ok(Some(chunk));
        };
        while !chunk.is_empty() {
            // Blocks wholly inside the chunk are inflated where they are, without a copy.
            if pending.is_empty()
                && is_block_header(chunk)
                && (HEADER_LEN + TRAILER_LEN..=chunk.len()).contains(&block_size(chunk))
            {
                let (block, rest) = chunk.split_at(block_size(chunk));
                let Some(text) = blocks.inflate(block) else {
                    return Ok(Some(chunk));
                };
                self.bgzf.get_or_insert(true);
                writer.sink.text(text).map_err(GzipError::Text)?;
                self.consumed += block.len() as u64;
                chunk = rest;
                continue;
            }
            if pending.len() < HEADER_LEN {
                let take = (HEADER_LEN - pending.len()).min(chunk.len());
                pending.extend_from_slice(&chunk[..take]);
                chunk = &chunk[take..];
                if pending.len() < HEADER_LEN {
                    break;
                }
                if !is_block_header(pending) || block_size(pending) < HEADER_LEN + TRAILER_LEN {
                    return Ok(Some(chunk));
                }
            }
            let take = (block_size(pending) - pending.len()).min(chunk.len());
            pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if pending.len() == block_size(pending) {
                let Some(text) = blocks.inflate(pending) else {
                    return Ok(Some(chunk));
                };
                self.bgzf.get_or_insert(true);
                writer.sink.text(text).map_err(GzipError::Text)?;
                self.consumed += pending.len() as u64;
                pending.clear();
            }
        }
        Ok(None)
    }

    /// From now on every member goes through the streaming inflater, starting with the
    /// bytes held back.
    fn switch_to_stream(&mut self) -> Result<(), GzipError<S::Error>> {
        let held = match std::mem::replace(&mut self.inflater, Inflater::Switching) {
            Inflater::Blocks {
                writer, pending, ..
            } => {
                self.inflater = Inflater::Stream(Box::new((self.members)(*writer)));
                pending
            }
            other => {
                self.inflater = other;
                return Ok(());
            }
        };
        self.push_stream(&held)
    }

    fn push_stream(&mut self, mut chunk: &[u8]) -> Result<(), GzipError<S::Error>> {
        if self.bgzf.is_none() {
            self.sniff_first_header(chunk);
        }
        let Inflater::Stream(members) = &mut self.inflater else {
            unreachable!("push_stream after switch_to_stream");
        };
        while !chunk.is_empty() {
            match members.write(chunk) {
                Ok(n) => {
                    self.consumed += n as u64;
                    chunk = &chunk[n..];
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok(())
    }

    /// Learns from the first member's header, as the streaming inflater is given it, whether
    /// it carries the BGZF subfield.
    fn sniff_first_header(&mut self, mut chunk: &[u8]) {
        while self.bgzf.is_none() {
            match first_member_is_bgzf(&self.first_header) {
                Ok(bgzf) => {
                    self.bgzf = Some(bgzf);
                    self.first_header = Vec::new();
                }
                Err(_) if chunk.is_empty() => return,
                Err(want) => {
                    let take = (want - self.first_header.len()).min(chunk.len());
                    self.first_header.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                }
            }
        }
    }

    /// The consumer's error when the decoder failed because of it, the decoder's otherwise.
    fn error(&mut self, e: io::Error) -> GzipError<S::Error> {
        let consumer = match &mut self.inflater {
            Inflater::Stream(members) => members.sink_error(),
            Inflater::Blocks { writer, .. } => writer.error.take(),
            Inflater::Switching => None,
        };
        match consumer {
            Some(text) => GzipError::Text(text),
            None => GzipError::Gzip {
                offset: self.consumed,
                source: e,
            },
        }
    }
}

/// Whether the gzip header at the start of `header` has the BGZF subfield, or how many bytes of
/// it that takes to tell: RFC 1952 §2.3 puts FLG at byte 3 and, when FLG.FEXTRA is set, XLEN
/// at bytes 10–11 and the extra field after it, so at most 12 + 65535 bytes.
fn first_member_is_bgzf(header: &[u8]) -> Result<bool, usize> {
    const FEXTRA: u8 = 0x04;
    match header.get(3) {
        None => Err(4),
        Some(flags) if flags & FEXTRA == 0 => Ok(false),
        Some(_) => match header.get(10..12) {
            None => Err(12),
            Some(xlen) => {
                let end = 12 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
                header.get(12..end).map(is_bgzf).ok_or(end)
            }
        },
    }
}

/// Whether a gzip header's extra field holds the BGZF `BC` subfield (SAM v1 §4.1).
fn is_bgzf(extra: &[u8]) -> bool {
    let mut rest = extra;
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
pub(crate) mod tests {
    use flate2::write::{DeflateEncoder, GzEncoder};

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

    /// `text` as one gzip member.
    pub(crate) fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    /// The BGZF end-of-file marker block (SAM v1 §4.1.2).
    pub(crate) const BGZF_EOF: &[u8] =
        b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0\x1b\0\x03\0\0\0\0\0\0\0\0\0";

    /// BGZF as `bgzip` writes it: blocks of at most `block` input bytes, then the EOF block.
    pub(crate) fn bgzf(text: &[u8], block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for data in text.chunks(block) {
            let mut deflate = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            deflate.write_all(data).unwrap();
            let cdata = deflate.finish().unwrap();
            let bsize = u16::try_from(cdata.len() + 25).unwrap();
            out.extend_from_slice(b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0");
            out.extend_from_slice(&bsize.to_le_bytes());
            out.extend_from_slice(&cdata);
            let mut crc = flate2::Crc::new();
            crc.update(data);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        }
        out.extend_from_slice(BGZF_EOF);
        out
    }

    /// Decompresses `source` in chunks of 1, 2, 7, 100 and all bytes; all must agree.
    fn decompress_any(source: &[u8]) -> Result<(Compression, Vec<u8>), String> {
        let whole = decompress(source, source.len().max(1));
        for chunk in [1, 2, 7, 100] {
            let chunked = decompress(source, chunk);
            match (&whole, &chunked) {
                // How far the decoder got depends on the chunks.
                (Err(a), Err(b)) if a.starts_with("Gzip") && b.starts_with("Gzip") => {}
                _ => assert_eq!(chunked, whole, "chunks of {chunk}"),
            }
        }
        whole
    }

    /// Decompresses `source` in chunks of `chunk` bytes with zlib-rs and with this build's
    /// streaming inflater (ISA-L when it has it); both must agree up to where they fail.
    fn decompress(source: &[u8], chunk: usize) -> Result<(Compression, Vec<u8>), String> {
        let zlib = decompress_with(source, chunk, Members::zlib);
        let default = decompress_with(source, chunk, Members::new);
        match (&zlib, &default) {
            (Err(a), Err(b)) if a.starts_with("Gzip") && b.starts_with("Gzip") => {}
            _ => assert_eq!(default, zlib, "chunks of {chunk}"),
        }
        default
    }

    fn decompress_with(
        source: &[u8],
        chunk: usize,
        members: fn(SinkWriter<Collect>) -> Members<Collect>,
    ) -> Result<(Compression, Vec<u8>), String> {
        let mut gzip = GzipText::with_members(Collect::default(), members);
        // Each piece in a buffer of its own, as chunks arrive from the network.
        for piece in source.chunks(chunk).map(<[u8]>::to_vec) {
            gzip.push(&piece).map_err(|e| format!("{e:?}"))?;
        }
        let (compression, sink) = gzip.finish().map_err(|e| format!("{e:?}"))?;
        Ok((compression, sink.0))
    }

    #[test]
    fn members_with_names_comments_extra_fields_and_header_crcs_split_anywhere() {
        let mut source = Vec::new();
        let mut text = Vec::new();
        for i in 0..12u32 {
            let line = format!("member {i}\n").repeat(i as usize * 300);
            let mut builder = flate2::GzBuilder::new();
            if i % 2 == 0 {
                builder = builder.filename(format!("reads-{i}.fastq").repeat(i as usize + 1));
            }
            if i % 3 == 0 {
                builder = builder.comment("a comment that is long enough to be split".repeat(3));
            }
            if i % 4 == 1 {
                builder = builder.extra(vec![b'X'; 40 * i as usize]);
            }
            if i % 5 == 2 {
                builder = builder.operating_system(3);
            }
            let mut encoder = builder.write(Vec::new(), flate2::Compression::new(i % 10));
            encoder.write_all(line.as_bytes()).unwrap();
            source.extend(encoder.finish().unwrap());
            text.extend(line.into_bytes());
        }
        // Piece sizes from a fixed pseudo-random sequence, 1 to 97 bytes, besides the usual.
        let mut seed = 7u32;
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < source.len() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let n = (seed >> 16) as usize % 97 + 1;
            pieces.push(source[at..(at + n).min(source.len())].to_vec());
            at += n;
        }
        for members in [Members::zlib, Members::new] {
            let mut gzip = GzipText::with_members(Collect::default(), members);
            for piece in &pieces {
                gzip.push(piece).unwrap();
            }
            assert_eq!(gzip.finish().unwrap().1.0, text);
        }
        assert_eq!(decompress_any(&source).unwrap(), (Compression::Gzip, text));
    }

    #[test]
    fn bgzf_extra_subfield_is_recognised() {
        assert!(is_bgzf(b"BC\x02\x00\x1b\x00"));
        assert!(is_bgzf(b"XY\x01\x00zBC\x02\x00\x1b\x00"));
        assert!(!is_bgzf(b"BC\x03\x00\x1b\x00\x00"));
        assert!(!is_bgzf(b"XY\x02\x00"));
        assert!(!is_bgzf(b"XY\x09\x00BC\x02\x00"));
        assert!(!is_bgzf(b""));
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
    fn long_plain_gzip_and_its_corruptions() {
        let text: Vec<u8> = (0..60_000u32)
            .flat_map(|i| format!("read {i}\n").into_bytes())
            .collect();
        let source = gzip(&text);
        assert_eq!(decompress_any(&source).unwrap(), (Compression::Gzip, text));
        let changed = |at: usize, byte: u8| {
            let mut bad = source.clone();
            bad[at] = byte;
            bad
        };
        let followed_by = |tail: &[u8]| [source.as_slice(), tail].concat();
        let n = source.len();
        for (what, bad) in [
            ("CRC32", changed(n - 8, !source[n - 8])),
            ("ISIZE", changed(n - 1, !source[n - 1])),
            ("deflate data", changed(n / 2, !source[n / 2])),
            ("method", changed(2, 7)),
            ("magic", changed(1, 0)),
            ("trailing bytes", followed_by(b"not gzip")),
            ("trailing zeros", followed_by(&[0; 16])),
            ("a second member's header only", followed_by(&source[..10])),
        ] {
            let error = decompress_any(&bad).unwrap_err();
            assert!(error.starts_with("Gzip {"), "{what}: {error}");
        }
    }

    #[test]
    fn a_streamed_first_member_with_the_bgzf_subfield_among_others_is_bgzf() {
        let mut encoder = flate2::GzBuilder::new()
            .extra(b"XY\x02\x00abBC\x02\x00\x00\x00".to_vec())
            .write(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"not block-shaped\n").unwrap();
        let source = encoder.finish().unwrap();
        assert!(!is_block_header(&source));
        assert_eq!(
            decompress_any(&source).unwrap(),
            (Compression::Bgzf, b"not block-shaped\n".to_vec())
        );
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

    #[test]
    fn bgzf_blocks_are_inflated_whatever_the_chunks() {
        let text: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let (compression, out) = decompress_any(&bgzf(&text, 1000)).unwrap();
        assert_eq!(compression, Compression::Bgzf);
        assert_eq!(out, text);
    }

    #[test]
    fn members_of_both_kinds_mix_in_any_order() {
        let mut bgzf_first = bgzf(b"one\n", 2);
        bgzf_first.extend(gzip(b"two\n"));
        bgzf_first.extend(bgzf(b"three\n", 4));
        assert_eq!(
            decompress_any(&bgzf_first).unwrap(),
            (Compression::Bgzf, b"one\ntwo\nthree\n".to_vec())
        );
        let mut gzip_first = gzip(b"one\n");
        gzip_first.extend(bgzf(b"two\n", 3));
        assert_eq!(
            decompress_any(&gzip_first).unwrap(),
            (Compression::Gzip, b"one\ntwo\n".to_vec())
        );
    }

    #[test]
    fn broken_bgzf_blocks_are_gzip_errors() {
        let source = bgzf(b"some text in blocks\n", 5);
        let first_block = block_size(&source);
        for cut in [
            2,
            HEADER_LEN - 1,
            HEADER_LEN + 3,
            first_block + 1,
            source.len() - 1,
        ] {
            let error = decompress_any(&source[..cut]);
            assert!(
                error.as_ref().is_err_and(|e| e.starts_with("Gzip {")),
                "cut at {cut}: {error:?}"
            );
        }
        let mut bad_crc = source.clone();
        bad_crc[first_block - 8] ^= 0xff;
        let error = decompress_any(&bad_crc).unwrap_err();
        assert!(error.starts_with("Gzip {"), "{error}");
        let mut bad_data = source;
        bad_data[HEADER_LEN] = 0xff;
        let error = decompress_any(&bad_data).unwrap_err();
        assert!(error.starts_with("Gzip {"), "{error}");
    }

    #[test]
    fn a_wrong_bsize_is_ignored_like_gzip_does() {
        let text = b"BSIZE is only an index hint\n";
        let source = bgzf(text, 10);
        let first_block = block_size(&source);
        for bsize in [3, first_block + 4, first_block - 3] {
            let mut wrong = source.clone();
            wrong[16..18].copy_from_slice(&u16::try_from(bsize - 1).unwrap().to_le_bytes());
            let (_, out) = decompress_any(&wrong).unwrap();
            assert_eq!(out, text, "BSIZE {bsize}");
        }
    }

    #[test]
    fn the_consumers_error_stops_bgzf_too() {
        let error = decompress_any(&bgzf(b"abc!def", 2)).unwrap_err();
        assert_eq!(error, "Text(3)");
    }
}
