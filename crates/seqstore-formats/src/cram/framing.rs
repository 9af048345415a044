//! File definition, containers and blocks as bytes on the wire (CRAM 3.1 §6, §7, §8).
//!
//! Containers are read whole and kept as the exact bytes of the file, so they can be copied
//! to the output unchanged; every container header and block CRC32 is checked.

use std::io::{self, BufRead, Read};

use flate2::Crc;

use super::error::CramError;
use super::num::{itf8_len, ltf8_len, read_itf8, read_ltf8, read_u8, read_u32_le};
use crate::limits::MAX_CRAM_CONTAINER_BYTES as MAX_CONTAINER_BYTES;

/// Size of the file definition: magic, version, file ID.
pub(super) const FILE_DEFINITION_LEN: usize = 26;

/// Block content types (CRAM 3.1 §8.1).
pub(super) mod content_type {
    pub(in super::super) const FILE_HEADER: u8 = 0;
    pub(in super::super) const COMPRESSION_HEADER: u8 = 1;
    pub(in super::super) const SLICE_HEADER: u8 = 2;
    pub(in super::super) const EXTERNAL: u8 = 4;
    pub(in super::super) const CORE: u8 = 5;
}

/// Parsed fields of a container header (CRAM 3.1 §7.1).
#[derive(Debug, Clone, Default)]
pub(super) struct ContainerHeader {
    pub(super) length: usize,
    pub(super) reference_id: i32,
    pub(super) start: i32,
    pub(super) record_count: i32,
    pub(super) block_count: i32,
    pub(super) landmarks: Vec<usize>,
}

/// One container: its header fields and all of its bytes (header and body).
#[derive(Debug)]
pub(super) struct RawContainer {
    pub(super) header: ContainerHeader,
    pub(super) bytes: Vec<u8>,
    /// Length of the container header within `bytes`; the body follows.
    pub(super) header_len: usize,
    /// Byte offset of the container in the file.
    pub(super) offset: u64,
}

impl RawContainer {
    pub(super) fn body(&self) -> &[u8] {
        &self.bytes[self.header_len..]
    }

    /// The EOF container (CRAM 3.1 §9).
    pub(super) fn is_eof(&self) -> bool {
        let h = &self.header;
        h.length == 15
            && h.reference_id == -1
            && h.start == 4_542_278
            && h.record_count == 0
            && h.block_count == 1
    }
}

/// Reads the 26-byte file definition; returns the bytes and the version.
pub(super) fn read_file_definition<R: Read>(
    reader: &mut R,
) -> Result<([u8; FILE_DEFINITION_LEN], (u8, u8)), CramError> {
    let mut buf = [0; FILE_DEFINITION_LEN];
    let n = read_up_to(reader, &mut buf)?;
    if n == 0 {
        return Err(CramError::Empty);
    }
    if n < 4 || &buf[..4] != b"CRAM" {
        let shown: String = buf[..n.min(4)]
            .iter()
            .map(|&b| crate::message::QuotedByte(b).to_string())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(CramError::NotCram(shown));
    }
    if n < FILE_DEFINITION_LEN {
        return Err(CramError::Truncated(format!(
            "the file definition has {n} of {FILE_DEFINITION_LEN} bytes"
        )));
    }
    let version = (buf[4], buf[5]);
    if version.0 != 3 || version.1 > 1 {
        return Err(CramError::UnsupportedVersion {
            major: version.0,
            minor: version.1,
        });
    }
    Ok((buf, version))
}

/// Reads the next container, or `None` at a clean end of the input.
///
/// `what` names the container in messages ("container 3", "the file header container").
pub(super) fn read_container<R: BufRead>(
    reader: &mut R,
    offset: u64,
    what: &str,
) -> Result<Option<RawContainer>, CramError> {
    match read_container_header(reader, offset, what)? {
        Some(head) => read_container_body(reader, head, what).map(Some),
        None => Ok(None),
    }
}

/// A container whose header has been read and checked, its blocks not yet.
#[derive(Debug)]
pub(super) struct ContainerHead {
    pub(super) header: ContainerHeader,
    bytes: Vec<u8>,
    offset: u64,
}

/// Reads and checks the next container header (CRC32 and the size limit), or `None` at a
/// clean end of the input.
pub(super) fn read_container_header<R: BufRead>(
    reader: &mut R,
    offset: u64,
    what: &str,
) -> Result<Option<ContainerHead>, CramError> {
    let mut bytes = Vec::with_capacity(64);
    let mut len = [0; 4];
    match read_up_to(reader, &mut len)? {
        0 => return Ok(None),
        4 => bytes.extend_from_slice(&len),
        _ => return Err(truncated_in(what, offset)),
    }
    let length = i32::from_le_bytes(len);
    if usize::try_from(length).is_ok_and(|n| n > MAX_CONTAINER_BYTES) {
        return Err(CramError::Limit(format!(
            "{what} at byte {offset} claims {length} bytes; at most {} MiB are accepted",
            MAX_CONTAINER_BYTES >> 20
        )));
    }
    // reference ID, start, span, record count: ITF8; counter, bases: LTF8; block count: ITF8
    for kind in [0u8, 0, 0, 0, 1, 1, 0] {
        read_varint(reader, &mut bytes, kind, what, offset)?;
    }
    // the landmark count, then that many ITF8 landmarks (each at least one byte of the
    // container, which is checked below)
    let at = read_varint(reader, &mut bytes, 0, what, offset)?;
    let count = read_itf8(&mut &bytes[at..]).unwrap_or(-1);
    if count < 0 || i64::from(count) > i64::from(length).max(0) {
        return Err(CramError::Corrupt(format!(
            "{what} at byte {offset} has {count} slices in {length} bytes"
        )));
    }
    for _ in 0..count {
        read_varint(reader, &mut bytes, 0, what, offset)?;
    }
    let mut crc = [0; 4];
    if read_up_to(reader, &mut crc)? != 4 {
        return Err(truncated_in(what, offset));
    }
    let actual = crc32(&bytes);
    if actual != u32::from_le_bytes(crc) {
        return Err(CramError::Checksum(format!(
            "the header of {what} at byte {offset}"
        )));
    }
    bytes.extend_from_slice(&crc);
    let header = parse_container_header(&bytes, what, offset)?;
    Ok(Some(ContainerHead {
        header,
        bytes,
        offset,
    }))
}

/// Reads the blocks of the container whose header is `head`.
pub(super) fn read_container_body<R: BufRead>(
    reader: &mut R,
    head: ContainerHead,
    what: &str,
) -> Result<RawContainer, CramError> {
    let ContainerHead {
        header,
        mut bytes,
        offset,
    } = head;
    let header_len = bytes.len();
    // grow with the data actually read: a corrupt length must not allocate gigabytes
    let read = reader.take(header.length as u64).read_to_end(&mut bytes)?;
    if read != header.length {
        return Err(truncated_in(what, offset));
    }
    Ok(RawContainer {
        header,
        bytes,
        header_len,
        offset,
    })
}

fn parse_container_header(
    bytes: &[u8],
    what: &str,
    offset: u64,
) -> Result<ContainerHeader, CramError> {
    let corrupt = || CramError::Corrupt(format!("bad header of {what} at byte {offset}"));
    let mut src = bytes;
    let length = read_u32_le(&mut src).ok_or_else(corrupt)? as i32;
    let length = usize::try_from(length).map_err(|_| corrupt())?;
    let reference_id = read_itf8(&mut src).ok_or_else(corrupt)?;
    let start = read_itf8(&mut src).ok_or_else(corrupt)?;
    read_itf8(&mut src).ok_or_else(corrupt)?; // span
    let record_count = read_itf8(&mut src).ok_or_else(corrupt)?;
    read_ltf8(&mut src).ok_or_else(corrupt)?;
    read_ltf8(&mut src).ok_or_else(corrupt)?;
    let block_count = read_itf8(&mut src).ok_or_else(corrupt)?;
    let n = read_itf8(&mut src).ok_or_else(corrupt)?;
    let mut landmarks = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n {
        let landmark = read_itf8(&mut src).ok_or_else(corrupt)?;
        landmarks.push(usize::try_from(landmark).map_err(|_| corrupt())?);
    }
    Ok(ContainerHeader {
        length,
        reference_id,
        start,
        record_count,
        block_count,
        landmarks,
    })
}

/// Appends one ITF8 (`kind` 0) or LTF8 (`kind` 1) value read from `reader` to `bytes`.
fn read_varint<R: BufRead>(
    reader: &mut R,
    bytes: &mut Vec<u8>,
    kind: u8,
    what: &str,
    offset: u64,
) -> Result<usize, CramError> {
    let at = bytes.len();
    let mut first = [0; 1];
    if read_up_to(reader, &mut first)? != 1 {
        return Err(truncated_in(what, offset));
    }
    let len = if kind == 0 {
        itf8_len(first[0])
    } else {
        ltf8_len(first[0])
    };
    bytes.push(first[0]);
    let start = bytes.len();
    bytes.resize(start + len - 1, 0);
    if read_up_to(reader, &mut bytes[start..])? != len - 1 {
        return Err(truncated_in(what, offset));
    }
    Ok(at)
}

fn truncated_in(what: &str, offset: u64) -> CramError {
    CramError::Truncated(format!("{what} at byte {offset} is cut short"))
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
pub(super) fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// One block (CRAM 3.1 §8): its header fields and still-compressed data.
#[derive(Debug)]
pub(super) struct Block<'a> {
    pub(super) method: u8,
    pub(super) content_type: u8,
    pub(super) content_id: i32,
    pub(super) raw_size: usize,
    pub(super) data: &'a [u8],
}

/// Parses the block at the start of `src`, checking its CRC32; advances `src` past it.
///
/// `Err` carries a short reason ("truncated", "CRC32 mismatch").
pub(super) fn parse_block<'a>(src: &mut &'a [u8]) -> Result<Block<'a>, BlockError> {
    let start = *src;
    let method = read_u8(src).ok_or(BlockError::Truncated)?;
    let content_type = read_u8(src).ok_or(BlockError::Truncated)?;
    let content_id = read_itf8(src).ok_or(BlockError::Truncated)?;
    let size = read_itf8(src).ok_or(BlockError::Truncated)?;
    let raw_size = read_itf8(src).ok_or(BlockError::Truncated)?;
    let size = usize::try_from(size).map_err(|_| BlockError::Invalid)?;
    let raw_size = usize::try_from(raw_size).map_err(|_| BlockError::Invalid)?;
    let data = src.get(..size).ok_or(BlockError::Truncated)?;
    *src = &src[size..];
    let covered = &start[..start.len() - src.len()];
    let expected = read_u32_le(src).ok_or(BlockError::Truncated)?;
    if crc32(covered) != expected {
        return Err(BlockError::Checksum);
    }
    Ok(Block {
        method,
        content_type,
        content_id,
        raw_size,
        data,
    })
}

/// Why a block could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockError {
    Truncated,
    Invalid,
    Checksum,
}

impl BlockError {
    /// The matching [`CramError`], `what` naming the block.
    pub(super) fn into_error(self, what: &str) -> CramError {
        match self {
            Self::Truncated => CramError::Corrupt(format!("{what} is cut short")),
            Self::Invalid => CramError::Corrupt(format!("{what} has a negative size")),
            Self::Checksum => CramError::Checksum(what.to_owned()),
        }
    }
}

/// Name of a block compression method (CRAM 3.1 §8, table 4).
pub(super) fn method_name(method: u8) -> String {
    match method {
        0 => "raw".into(),
        1 => "gzip".into(),
        2 => "bzip2".into(),
        3 => "lzma".into(),
        4 => "rANS 4x8".into(),
        5 => "rANS Nx16".into(),
        6 => "adaptive arithmetic".into(),
        7 => "fqzcomp".into(),
        8 => "name tokenizer".into(),
        m => format!("unknown method {m}"),
    }
}

/// The uncompressed bytes of a raw or gzip block (file and compression headers).
pub(super) fn inflate_simple(block: &Block<'_>, what: &str) -> Result<Vec<u8>, CramError> {
    match block.method {
        0 => Ok(block.data.to_vec()),
        1 => {
            // never more than the block declares (its size is checked by the caller)
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(block.data)
                .take(block.raw_size as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| CramError::Corrupt(format!("{what}: bad gzip data ({e})")))?;
            if out.len() != block.raw_size {
                return Err(CramError::Corrupt(format!(
                    "{what} decompresses to {}{} bytes, not the {} it declares",
                    out.len().min(block.raw_size),
                    if out.len() > block.raw_size {
                        " or more"
                    } else {
                        ""
                    },
                    block.raw_size
                )));
            }
            Ok(out)
        }
        m => Err(CramError::Unsupported(format!(
            "{what} is compressed with {}, which is not supported there",
            method_name(m)
        ))),
    }
}
