//! The archive tier's packing of a stored file: smaller, and restorable byte for byte.
//!
//! A gzip or BGZF file is split into its members. Each member's header and trailer are kept
//! as they are; its deflate stream is inflated, and `preflate` records the few corrections
//! needed to deflate the text again into exactly the original bits. The text and the
//! corrections then go through zstd, which compresses far better than deflate. Anything
//! that is not a gzip member (a CRAM, a `.bai`, bytes after the last member) is kept as raw
//! records, zstd-compressed as well.
//!
//! Packing fails with [`PackError::NotReproducible`] when a deflate stream cannot be
//! recorded (a block that inflates past the memory cap, a stream the predictor refuses);
//! the caller then packs the file with [`Packing::Raw`], which always works. Unpacking is
//! checked by the caller against the file's recorded MD5 before a copy is trusted.
//!
//! Memory is bounded whatever the file claims: compressed bytes of one deflate block up to
//! [`MAX_PENDING`], inflated text up to [`PLAIN_LIMIT`] per record, zstd's window
//! [`WINDOW_LOG`]; in practice a member's compressed bytes up to [`DEFLATE_WINDOW`] and their
//! text.

use preflate_rs::{
    ExitCode, PreflateConfig, PreflateError, PreflateStreamProcessor, RecreateStreamProcessor,
};
use std::io::{self, Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The first bytes of every packed file (outside the zstd stream).
const MAGIC: &[u8; 8] = b"SQSARC1\n";

/// Bytes read at a time, and the size of raw records.
const IN_CHUNK: usize = 1 << 20;
/// Compressed bytes handed to the predictor at once. A member this short (every BGZF block,
/// most gzip files) is recorded in one piece; a longer one in pieces, which `preflate-rs`
/// 0.7 does not always manage (the file is then archived raw).
const DEFLATE_WINDOW: usize = 16 << 20;
/// Compressed bytes buffered while waiting for one deflate block to end.
const MAX_PENDING: usize = 64 << 20;
/// Longest gzip member header kept (FEXTRA, FNAME and FCOMMENT included).
const MAX_HEADER: usize = 1 << 20;
/// Inflated text held per record.
const PLAIN_LIMIT: usize = 128 << 20;
/// The zstd window: 16 MiB, for packing and unpacking alike.
const WINDOW_LOG: u32 = 24;

const HEADER: u8 = b'H';
const DEFLATE: u8 = b'D';
const TRAILER: u8 = b'T';
const RAW: u8 = b'R';
const END: u8 = b'E';

/// How to pack a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Re-encode gzip members (and keep anything else raw).
    Deflate,
    /// Keep every byte raw (only zstd on top).
    Raw,
}

/// Why a file could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A deflate stream cannot be recorded exactly: pack the file [`Packing::Raw`].
    #[error("not reproducible: {0}")]
    NotReproducible(String),
}

/// What packing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackSummary {
    /// Bytes read.
    pub original: u64,
    /// gzip members re-encoded.
    pub members: u64,
}

/// Packs `input` into `output` at zstd `level` (1..=22).
pub fn pack(
    input: impl Read,
    output: impl Write,
    packing: Packing,
    level: i32,
) -> Result<PackSummary, PackError> {
    let mut output = output;
    output.write_all(MAGIC)?;
    let mut z = zstd::stream::write::Encoder::new(output, level)?;
    z.long_distance_matching(true)?;
    z.window_log(WINDOW_LOG)?;
    z.include_checksum(true)?;
    let mut input = Input::new(input);
    let mut summary = PackSummary::default();
    if packing == Packing::Deflate {
        while input.fill(18)? {
            let Some(header) = member_header(&mut input)? else {
                break;
            };
            record(&mut z, HEADER, &[&input.available()[..header]])?;
            input.consume(header);
            deflate_stream(&mut input, &mut z)?;
            if !input.fill(8)? || input.available().len() < 8 {
                return Err(PackError::NotReproducible(
                    "a gzip member ends without its trailer".into(),
                ));
            }
            z.write_all(&[TRAILER])?;
            z.write_all(&input.available()[..8])?;
            input.consume(8);
            summary.members += 1;
        }
    }
    while input.fill(IN_CHUNK)? {
        let n = input.available().len().min(IN_CHUNK);
        record(&mut z, RAW, &[&input.available()[..n]])?;
        input.consume(n);
    }
    summary.original = input.consumed;
    z.write_all(&[END])?;
    z.write_all(&summary.original.to_le_bytes())?;
    z.finish()?.flush()?;
    Ok(summary)
}

/// Restores the original bytes of a packed file; returns how many were written.
pub fn unpack(input: impl Read, output: impl Write) -> io::Result<u64> {
    let mut input = input;
    let mut output = output;
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(corrupt("not a seqstore archive"));
    }
    let mut z = zstd::stream::read::Decoder::new(input)?;
    z.window_log_max(WINDOW_LOG)?;
    let mut written = 0u64;
    let mut member: Option<RecreateStreamProcessor> = None;
    loop {
        let mut tag = [0u8; 1];
        z.read_exact(&mut tag)?;
        let bytes = match tag[0] {
            HEADER => {
                member = Some(RecreateStreamProcessor::new());
                read_field(&mut z, MAX_HEADER)?
            }
            DEFLATE => {
                let corrections = read_field(&mut z, MAX_PENDING)?;
                let plain = read_field(&mut z, PLAIN_LIMIT * 2)?;
                let processor = member
                    .as_mut()
                    .ok_or_else(|| corrupt("deflate record outside a gzip member"))?;
                let again = catch_unwind(AssertUnwindSafe(|| {
                    processor.recompress(&mut Cursor::new(plain), &corrections)
                }))
                .map_err(|_| corrupt("the deflate predictor panicked"))?;
                let (deflated, _) =
                    again.map_err(|e| corrupt(&format!("cannot deflate again: {e}")))?;
                deflated
            }
            TRAILER => {
                member = None;
                let mut trailer = [0u8; 8];
                z.read_exact(&mut trailer)?;
                trailer.to_vec()
            }
            RAW => read_field(&mut z, IN_CHUNK)?,
            END => {
                let mut total = [0u8; 8];
                z.read_exact(&mut total)?;
                if u64::from_le_bytes(total) != written {
                    return Err(corrupt("restored length differs from the packed length"));
                }
                if z.read(&mut tag)? != 0 {
                    return Err(corrupt("bytes after the end record"));
                }
                output.flush()?;
                return Ok(written);
            }
            other => return Err(corrupt(&format!("unknown record {other:#04x}"))),
        };
        output.write_all(&bytes)?;
        written += bytes.len() as u64;
    }
}

/// Records the deflate stream of one member, chunk by chunk.
fn deflate_stream(input: &mut Input<impl Read>, z: &mut impl Write) -> Result<(), PackError> {
    let config = PreflateConfig {
        plain_text_limit: PLAIN_LIMIT,
        verify_compression: false,
        ..PreflateConfig::default()
    };
    let mut processor = PreflateStreamProcessor::new(&config);
    let mut want = DEFLATE_WINDOW;
    loop {
        input.fill(want)?;
        // A bug met in the predictor must not end more than this packing attempt.
        let outcome = catch_unwind(AssertUnwindSafe(|| processor.decompress(input.available())))
            .map_err(|_| PackError::NotReproducible("the deflate predictor panicked".into()))?;
        match outcome {
            Ok(chunk) if chunk.compressed_size > 0 => {
                record(
                    z,
                    DEFLATE,
                    &[&chunk.corrections, processor.plain_text().text()],
                )?;
                processor.shrink_to_dictionary();
                input.consume(chunk.compressed_size);
                want = DEFLATE_WINDOW;
                if processor.is_done() {
                    return Ok(());
                }
            }
            Ok(_) => want = more(input, want)?,
            Err(e) if e.exit_code() == ExitCode::ShortRead => want = more(input, want)?,
            Err(e) => return Err(not_reproducible(&e)),
        }
    }
}

/// The next amount of compressed input to hold when a deflate block did not end in what is
/// held now.
fn more(input: &Input<impl Read>, want: usize) -> Result<usize, PackError> {
    if input.eof {
        return Err(PackError::NotReproducible(
            "the deflate stream is truncated".into(),
        ));
    }
    let next = input.available().len().max(want) + DEFLATE_WINDOW;
    if next > MAX_PENDING {
        return Err(PackError::NotReproducible(format!(
            "a deflate block longer than {MAX_PENDING} bytes"
        )));
    }
    Ok(next)
}

fn not_reproducible(e: &PreflateError) -> PackError {
    PackError::NotReproducible(format!("{:?}: {}", e.exit_code(), e.message()))
}

/// The length of the gzip member header at the start of the input, `None` when the input
/// is not a gzip member (the rest is then kept raw).
fn member_header(input: &mut Input<impl Read>) -> Result<Option<usize>, PackError> {
    loop {
        match header_length(input.available()) {
            Header::Complete(n) => return Ok(Some(n)),
            Header::NotGzip => return Ok(None),
            Header::Incomplete => {
                let held = input.available().len();
                if held >= MAX_HEADER || input.eof {
                    return Ok(None);
                }
                input.fill((held * 2).min(MAX_HEADER))?;
            }
        }
    }
}

enum Header {
    Complete(usize),
    Incomplete,
    NotGzip,
}

/// RFC 1952 member header: ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional fields.
fn header_length(b: &[u8]) -> Header {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 {
        return if b.is_empty() || b[0] != 0x1f || (b.len() > 1 && b[1] != 0x8b) {
            Header::NotGzip
        } else {
            Header::Incomplete
        };
    }
    if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 || b[3] & 0xe0 != 0 {
        return Header::NotGzip;
    }
    let flags = b[3];
    let mut at = 10usize;
    if flags & FEXTRA != 0 {
        let Some(len) = b.get(at..at + 2) else {
            return Header::Incomplete;
        };
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match b.get(at..).and_then(|rest| memchr::memchr(0, rest)) {
                Some(end) => at += end + 1,
                None => return Header::Incomplete,
            }
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > b.len() {
        Header::Incomplete
    } else {
        Header::Complete(at)
    }
}

/// Writes a record: its tag, then each field as a little-endian `u32` length and bytes.
fn record(z: &mut impl Write, tag: u8, fields: &[&[u8]]) -> io::Result<()> {
    z.write_all(&[tag])?;
    for field in fields {
        let len = u32::try_from(field.len()).map_err(|_| io::Error::other("record too long"))?;
        z.write_all(&len.to_le_bytes())?;
        z.write_all(field)?;
    }
    Ok(())
}

/// Reads one field of at most `max` bytes.
fn read_field(z: &mut impl Read, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    z.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(corrupt(&format!("a record of {len} bytes (at most {max})")));
    }
    // Grown as the bytes arrive: a damaged length costs no more than the input backs.
    let mut field = Vec::new();
    z.by_ref().take(len as u64).read_to_end(&mut field)?;
    if field.len() != len {
        return Err(corrupt("a record cut short"));
    }
    Ok(field)
}

fn corrupt(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("damaged archive copy: {why}"),
    )
}

/// Buffered input with look-ahead.
struct Input<R> {
    reader: R,
    buffer: Vec<u8>,
    start: usize,
    eof: bool,
    /// Bytes consumed so far.
    consumed: u64,
}

impl<R: Read> Input<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            buffer: Vec::new(),
            start: 0,
            eof: false,
            consumed: 0,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.consumed += n as u64;
    }

    /// Holds at least `want` bytes unless the input ends first; `false` when nothing is
    /// left.
    fn fill(&mut self, want: usize) -> io::Result<bool> {
        if self.start > 0 && self.start >= self.buffer.len() / 2 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        while !self.eof && self.available().len() < want {
            let held = self.buffer.len();
            self.buffer
                .resize(held + IN_CHUNK.max(want - (held - self.start)), 0);
            let n = loop {
                match self.reader.read(&mut self.buffer[held..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buffer.truncate(held);
                        return Err(e);
                    }
                }
            };
            self.buffer.truncate(held + n);
            self.eof = n == 0;
        }
        Ok(!self.available().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn fastq(records: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let bases = b"ACGT";
        let mut x: u32 = 12345;
        for i in 0..records {
            let seq: Vec<u8> = (0..100)
                .map(|_| {
                    x = x.wrapping_mul(1103515245).wrapping_add(12345);
                    bases[(x >> 16) as usize % 4]
                })
                .collect();
            out.extend_from_slice(format!("@read{i}/1\n").as_bytes());
            out.extend_from_slice(&seq);
            out.extend_from_slice(b"\n+\n");
            out.extend(seq.iter().map(|b| b'!' + (b % 40)));
            out.push(b'\n');
        }
        out
    }

    fn round_trip(original: &[u8], packing: Packing) -> (usize, PackSummary) {
        let mut packed = Vec::new();
        let summary = pack(original, &mut packed, packing, 3).unwrap();
        assert_eq!(summary.original, original.len() as u64);
        let mut restored = Vec::new();
        let n = unpack(packed.as_slice(), &mut restored).unwrap();
        assert_eq!(n, original.len() as u64);
        assert!(restored == original, "restored bytes differ");
        (packed.len(), summary)
    }

    #[test]
    fn gzip_members_restore_exactly_and_pack_smaller() {
        let text = fastq(20_000);
        for level in [1, 6, 9] {
            let one = gzip(&text, level);
            let (packed, summary) = round_trip(&one, Packing::Deflate);
            assert_eq!(summary.members, 1);
            assert!(
                packed < one.len(),
                "level {level}: {packed} >= {}",
                one.len()
            );
        }
        // Several members, as BGZF writes them, with bytes after the last.
        let mut many = Vec::new();
        for piece in text.chunks(60_000) {
            many.extend(gzip(piece, 6));
        }
        many.extend_from_slice(b"trailing garbage");
        let (_, summary) = round_trip(&many, Packing::Deflate);
        assert_eq!(summary.members, text.chunks(60_000).count() as u64);
    }

    #[test]
    fn anything_else_is_kept_raw() {
        round_trip(b"", Packing::Deflate);
        round_trip(b"CRAM\x03\x01 not gzip at all", Packing::Deflate);
        round_trip(&[0x1f], Packing::Deflate);
        round_trip(&gzip(b"x", 6), Packing::Raw);
    }

    #[test]
    fn a_truncated_member_is_not_reproducible() {
        let whole = gzip(&fastq(2_000), 6);
        let cut = &whole[..whole.len() / 2];
        let err = pack(cut, Vec::new(), Packing::Deflate, 3).unwrap_err();
        assert!(matches!(err, PackError::NotReproducible(_)), "{err}");
        round_trip(cut, Packing::Raw);
    }

    #[test]
    fn damaged_archives_are_refused() {
        let mut packed = Vec::new();
        pack(&gzip(&fastq(100), 6)[..], &mut packed, Packing::Deflate, 3).unwrap();
        assert!(unpack(&packed[..packed.len() - 3], Vec::new()).is_err());
        assert!(unpack(&b"SQSARC0\n"[..], Vec::new()).is_err());
        let mut bad = packed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(unpack(bad.as_slice(), Vec::new()).is_err());
    }
}
