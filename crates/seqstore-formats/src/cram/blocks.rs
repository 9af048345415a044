//! Decompression of a slice's blocks: raw, gzip, rANS 4x8 and rANS Nx16 here; bzip2, lzma,
//! arithmetic coding, fqzcomp and the name tokenizer through noodles-cram.
//!
//! noodles only decodes whole slices, so a block it must decode is wrapped alone in a
//! minimal container (one slice, that block as its core block). In debug builds every block
//! decoded here is also decoded by noodles and compared.

use std::borrow::Cow;

use noodles_cram as cram;

use super::error::CramError;
use super::framing::{self, Block, content_type, crc32};
use super::num::{write_itf8, write_ltf8};
use super::{rans, rans_nx16};

/// A block's content ID and uncompressed bytes.
pub(super) type DecodedBlock<'a> = (i32, Cow<'a, [u8]>);

/// Decompresses every block of a slice (core block first).
pub(super) fn decode_all<'a>(
    blocks: &[Block<'a>],
    what: &str,
) -> Result<Vec<DecodedBlock<'a>>, CramError> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let bwhat = format!("{what}, block {}", i + 1);
            let bytes = decode_one(b, &bwhat)?;
            if bytes.len() != b.raw_size {
                return Err(CramError::Corrupt(format!(
                    "{bwhat} decompresses to the wrong size"
                )));
            }
            #[cfg(debug_assertions)]
            if matches!(b.method, 4 | 5) && b.raw_size > 0 {
                let theirs = with_noodles(b, &bwhat)?;
                assert!(
                    theirs == *bytes,
                    "{bwhat}: our decoder disagrees with noodles"
                );
            }
            Ok((b.content_id, bytes))
        })
        .collect()
}

fn decode_one<'a>(b: &Block<'a>, what: &str) -> Result<Cow<'a, [u8]>, CramError> {
    let corrupt = |e: &str| CramError::Corrupt(format!("{what}: {e}"));
    Ok(match b.method {
        // "blocks with a raw size of zero are empty, whatever their method" (CRAM 3.1 §8)
        _ if b.raw_size == 0 => Cow::Borrowed(&[][..]),
        0 => Cow::Borrowed(b.data),
        1 => Cow::Owned(framing::inflate_simple(b, what)?),
        4 => Cow::Owned(rans::decode(b.data, b.raw_size).map_err(corrupt)?),
        5 => Cow::Owned(rans_nx16::decode(b.data, b.raw_size).map_err(corrupt)?),
        _ => Cow::Owned(with_noodles(b, what)?),
    })
}

/// `b` decoded by noodles-cram, wrapped as the core block of a one-slice container.
fn with_noodles(b: &Block<'_>, what: &str) -> Result<Vec<u8>, CramError> {
    let core = block_bytes(b.method, content_type::CORE, b.data, b.raw_size);
    let mut header = Vec::new();
    header.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // reference ID -1
    write_itf8(&mut header, 0); // start
    write_itf8(&mut header, 0); // span
    write_itf8(&mut header, 0); // records
    write_ltf8(&mut header, 0); // record counter
    write_itf8(&mut header, 1); // blocks
    write_itf8(&mut header, 0); // content IDs
    header.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // no embedded reference
    header.extend_from_slice(&[0; 16]);
    let slice_header = block_bytes(0, content_type::SLICE_HEADER, &header, header.len());

    let mut container = ((slice_header.len() + core.len()) as i32)
        .to_le_bytes()
        .to_vec();
    container.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    for n in [0, 0, 0] {
        write_itf8(&mut container, n); // start, span, records
    }
    write_ltf8(&mut container, 0);
    write_ltf8(&mut container, 0);
    write_itf8(&mut container, 2); // blocks
    write_itf8(&mut container, 1); // landmarks
    write_itf8(&mut container, 0);
    let crc = crc32(&container);
    container.extend_from_slice(&crc.to_le_bytes());
    container.extend_from_slice(&slice_header);
    container.extend_from_slice(&core);

    let failed = |e: std::io::Error| CramError::Corrupt(format!("{what}: {e}"));
    let mut c = cram::io::reader::Container::default();
    cram::io::Reader::new(&container[..])
        .read_container(&mut c)
        .map_err(failed)?;
    let slice = c
        .slices()
        .next()
        .ok_or_else(|| CramError::Corrupt(format!("{what}: cannot be decoded")))?
        .map_err(failed)?;
    let (bytes, _) = slice.decode_blocks().map_err(failed)?;
    Ok(bytes.into_owned())
}

fn block_bytes(method: u8, content_type: u8, data: &[u8], raw_size: usize) -> Vec<u8> {
    let mut out = vec![method, content_type];
    write_itf8(&mut out, 0);
    write_itf8(&mut out, data.len() as i32);
    write_itf8(&mut out, raw_size as i32);
    out.extend_from_slice(data);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
