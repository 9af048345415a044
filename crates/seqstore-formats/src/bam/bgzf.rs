//! BGZF blocks (SAM v1 §4.1): reading whole frames, inflating them with their CRC32 and
//! ISIZE checked, and writing new blocks.

use std::io::{self, Read};

use libdeflater::{CompressionLvl, Compressor, Crc, DecompressionError, Decompressor};

use super::error::BgzfProblem;

/// Bytes of a BGZF block header up to and including BSIZE.
pub(crate) const HEADER_LEN: usize = 18;

/// CRC32 and ISIZE.
const TRAILER_LEN: usize = 8;

/// Largest ISIZE of a block.
pub(crate) const MAX_ISIZE: usize = 1 << 16;

/// Largest input htslib puts in one block, so the compressed block always fits in 64 KiB.
pub(super) const MAX_BLOCK_DATA: usize = 0xff00;

/// The end-of-file marker block: an empty block, byte for byte as htslib writes it.
pub(crate) const EOF_BLOCK: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// What [`read_frame`] found.
pub(super) enum Frame {
    /// A whole block is in the buffer.
    Block,
    /// The input ended exactly at a block boundary.
    End,
    /// The header bytes in the buffer are not a BGZF block header.
    NotBgzf,
    /// The frame is cut short or has an impossible size.
    Broken(BgzfProblem),
}

/// Reads one BGZF block, header to trailer, into `buf` (replacing its contents).
pub(super) fn read_frame<R: Read + ?Sized>(input: &mut R, buf: &mut Vec<u8>) -> io::Result<Frame> {
    buf.clear();
    buf.resize(HEADER_LEN, 0);
    let n = read_full(input, &mut buf[..])?;
    if n == 0 {
        buf.clear();
        return Ok(Frame::End);
    }
    if n < HEADER_LEN {
        buf.truncate(n);
        let head_ok = is_header_prefix(buf);
        return Ok(if head_ok {
            Frame::Broken(BgzfProblem::Truncated)
        } else {
            Frame::NotBgzf
        });
    }
    if !is_header_prefix(buf) {
        return Ok(Frame::NotBgzf);
    }
    let size = match block_size(buf) {
        Ok(size) => size,
        Err(problem) => return Ok(Frame::Broken(problem)),
    };
    buf.resize(size, 0);
    let n = read_full(input, &mut buf[HEADER_LEN..])?;
    if n < size - HEADER_LEN {
        return Ok(Frame::Broken(BgzfProblem::Truncated));
    }
    Ok(Frame::Block)
}

/// The size of the block whose header (at least [`HEADER_LEN`] bytes) is `head`.
pub(crate) fn block_size(head: &[u8]) -> Result<usize, BgzfProblem> {
    if head.len() < HEADER_LEN || !is_header_prefix(head) {
        return Err(BgzfProblem::InvalidHeader);
    }
    let size = usize::from(u16::from_le_bytes([head[16], head[17]])) + 1;
    if size < HEADER_LEN + TRAILER_LEN {
        return Err(BgzfProblem::InvalidSize(size));
    }
    Ok(size)
}

/// Whether `head` starts like a BGZF block: gzip, DEFLATE, FLG.FEXTRA only, XLEN 6, `BC`, 2.
fn is_header_prefix(head: &[u8]) -> bool {
    const EXPECTED: [(usize, u8); 9] = [
        (0, 0x1f),
        (1, 0x8b),
        (2, 0x08),
        (3, 0x04),
        (10, 0x06),
        (11, 0x00),
        (12, b'B'),
        (13, b'C'),
        (14, 0x02),
    ];
    EXPECTED
        .iter()
        .all(|&(i, b)| head.get(i).is_none_or(|&h| h == b))
        && head.get(15).is_none_or(|&b| b == 0)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full<R: Read + ?Sized>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// ISIZE of a whole frame read by [`read_frame`].
pub(super) fn isize_of(frame: &[u8]) -> u32 {
    let t = &frame[frame.len() - 4..];
    u32::from_le_bytes([t[0], t[1], t[2], t[3]])
}

/// Inflates a whole frame into `dst` (replacing its contents), checking ISIZE and CRC32.
pub(crate) fn inflate(
    decompressor: &mut Decompressor,
    frame: &[u8],
    dst: &mut Vec<u8>,
) -> Result<(), BgzfProblem> {
    let trailer = &frame[frame.len() - TRAILER_LEN..];
    let crc = u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"));
    let isize = isize_of(frame);
    if isize as usize > MAX_ISIZE {
        return Err(BgzfProblem::InvalidIsize(isize));
    }
    let cdata = &frame[HEADER_LEN..frame.len() - TRAILER_LEN];
    dst.resize(isize as usize, 0);
    let actual = match decompressor.deflate_decompress(cdata, dst) {
        Ok(n) => n,
        Err(DecompressionError::InsufficientSpace) => {
            return Err(BgzfProblem::IsizeMismatch {
                expected: isize,
                actual: isize as usize + 1,
            });
        }
        Err(DecompressionError::BadData) => return Err(BgzfProblem::BadDeflate),
    };
    if actual != isize as usize {
        return Err(BgzfProblem::IsizeMismatch {
            expected: isize,
            actual,
        });
    }
    let mut check = Crc::new();
    check.update(dst);
    if check.sum() != crc {
        return Err(BgzfProblem::CrcMismatch);
    }
    Ok(())
}

/// Compresses `data` into BGZF blocks of at most [`MAX_BLOCK_DATA`] bytes, appended to `out`.
pub(crate) fn deflate_blocks(compressor: &mut Compressor, data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(MAX_BLOCK_DATA) {
        let start = out.len();
        out.extend_from_slice(&EOF_BLOCK[..HEADER_LEN]);
        let bound = compressor.deflate_compress_bound(chunk.len());
        out.resize(start + HEADER_LEN + bound, 0);
        let n = match compressor.deflate_compress(chunk, &mut out[start + HEADER_LEN..]) {
            Ok(n) if n <= MAX_ISIZE - HEADER_LEN - TRAILER_LEN => n,
            // Incompressible: store it (level 0 adds 5 bytes per 64 KiB).
            _ => Compressor::new(CompressionLvl::new(0).expect("level 0"))
                .deflate_compress(chunk, &mut out[start + HEADER_LEN..])
                .expect("the bound covers stored blocks"),
        };
        out.truncate(start + HEADER_LEN + n);
        let mut crc = Crc::new();
        crc.update(chunk);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        let bsize = (out.len() - start - 1) as u16;
        out[start + 16..start + 18].copy_from_slice(&bsize.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_through_inflate() {
        let mut compressor = Compressor::new(CompressionLvl::default());
        let mut decompressor = Decompressor::new();
        let mut noise = 1u64;
        let random: Vec<u8> = (0..100_000)
            .map(|_| {
                noise = noise
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (noise >> 56) as u8
            })
            .collect();
        for data in [&b"BAM\x01"[..], &[b'A'; 70_000][..], &random[..]] {
            let mut out = Vec::new();
            deflate_blocks(&mut compressor, data, &mut out);
            let mut input = &out[..];
            let mut frame = Vec::new();
            let mut back = Vec::new();
            let mut block = Vec::new();
            while let Frame::Block = read_frame(&mut input, &mut frame).unwrap() {
                assert!(frame.len() <= MAX_ISIZE);
                inflate(&mut decompressor, &frame, &mut block).unwrap();
                back.extend_from_slice(&block);
            }
            assert_eq!(back, data);
        }
    }

    #[test]
    fn eof_block_is_an_empty_block() {
        let mut input = &EOF_BLOCK[..];
        let mut frame = Vec::new();
        assert!(matches!(
            read_frame(&mut input, &mut frame).unwrap(),
            Frame::Block
        ));
        assert_eq!(isize_of(&frame), 0);
        let mut block = vec![1];
        inflate(&mut Decompressor::new(), &frame, &mut block).unwrap();
        assert!(block.is_empty());
    }

    #[test]
    fn flipped_byte_is_a_crc_or_deflate_error() {
        let mut out = Vec::new();
        let text = b"some text that compresses some text that compresses".repeat(50);
        deflate_blocks(
            &mut Compressor::new(CompressionLvl::default()),
            &text,
            &mut out,
        );
        let mut damaged = out.clone();
        let mid = HEADER_LEN + (out.len() - HEADER_LEN - TRAILER_LEN) / 2;
        damaged[mid] ^= 0x01;
        let mut block = Vec::new();
        let err = inflate(&mut Decompressor::new(), &damaged, &mut block).unwrap_err();
        assert!(matches!(
            err,
            BgzfProblem::CrcMismatch | BgzfProblem::BadDeflate | BgzfProblem::IsizeMismatch { .. }
        ));
        let mut crc_only = out.clone();
        let at = crc_only.len() - TRAILER_LEN;
        crc_only[at] ^= 0x01;
        let err = inflate(&mut Decompressor::new(), &crc_only, &mut block).unwrap_err();
        assert_eq!(err, BgzfProblem::CrcMismatch);
    }

    #[test]
    fn truncated_and_foreign_frames() {
        let mut frame = Vec::new();
        let mut input = &EOF_BLOCK[..20];
        assert!(matches!(
            read_frame(&mut input, &mut frame).unwrap(),
            Frame::Broken(BgzfProblem::Truncated)
        ));
        let mut input = &EOF_BLOCK[..5];
        assert!(matches!(
            read_frame(&mut input, &mut frame).unwrap(),
            Frame::Broken(BgzfProblem::Truncated)
        ));
        let mut input = &b"@SEQ_ID\nACGT\n+\nIIII\n"[..];
        assert!(matches!(
            read_frame(&mut input, &mut frame).unwrap(),
            Frame::NotBgzf
        ));
        let mut input = &b""[..];
        assert!(matches!(
            read_frame(&mut input, &mut frame).unwrap(),
            Frame::End
        ));
    }
}
