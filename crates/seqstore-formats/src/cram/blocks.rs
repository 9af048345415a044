//! Decompression of a slice's blocks: raw, gzip, rANS 4x8, rANS Nx16 and the name tokenizer
//! here; bzip2, lzma, arithmetic coding and fqzcomp through noodles-cram.
//!
//! noodles only decodes whole slices, so a block it must decode is wrapped alone in a
//! minimal container (one slice, that block as its core block). The rANS decoders here
//! follow htscodecs where noodles differs (the `cram_block` fuzz target found frequency
//! tables summing to 4095 that noodles decodes otherwise).

use std::borrow::Cow;

use noodles_cram as cram;

use super::error::CramError;
use super::framing::{self, Block, content_type, crc32};
use super::name_tokenizer::Extra;
use super::num::{write_itf8, write_ltf8};
use super::{name_tokenizer, rans, rans_nx16};

/// The method number of the adaptive arithmetic coder (CRAM 3.1 §8).
const ADAPTIVE_ARITHMETIC: u8 = 6;

/// The method numbers of fqzcomp and the name tokenizer (CRAM 3.1 §8).
const FQZCOMP: u8 = 7;
const NAME_TOKENIZER: u8 = 8;

/// What noodles' fqzcomp decoder holds besides its output, whatever the block's size: a
/// model for each of 65 536 quality contexts, up to 256 symbols each (about 1.4 KB).
const FQZCOMP_MODEL_BYTES: usize = (1 << 16) * 1400;
/// The same for noodles' arithmetic decoder: its order-1 models (about 0.4 MB).
const ARITHMETIC_MODEL_BYTES: usize = 1 << 20;

/// A block's content ID and uncompressed bytes.
pub(super) type DecodedBlock<'a> = (i32, Cow<'a, [u8]>);

/// Decompresses every block of a slice (core block first); `extra` hears of memory a
/// decoder holds beyond the blocks' raw sizes.
pub(super) fn decode_all<'a>(
    blocks: &[Block<'a>],
    what: &str,
    extra: Extra<'_>,
) -> Result<Vec<DecodedBlock<'a>>, CramError> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let bwhat = format!("{what}, block {}", i + 1);
            let bytes = decode_one(b, &bwhat, extra)?;
            if bytes.len() != b.raw_size {
                return Err(CramError::Corrupt(format!(
                    "{bwhat} decompresses to the wrong size"
                )));
            }
            Ok((b.content_id, bytes))
        })
        .collect()
}

/// One external block of `method` holding `data`, decoded within the memory one container
/// may take; the length of what it holds.
#[cfg(any(test, feature = "fuzzing"))]
pub(super) fn decode_one_block(
    method: u8,
    data: &[u8],
    raw_size: usize,
) -> Result<usize, CramError> {
    let block = Block {
        method,
        content_type: content_type::EXTERNAL,
        content_id: 1,
        raw_size,
        data,
    };
    let limit = crate::limits::MAX_CRAM_CONTAINER_MEMORY;
    let too_much = || CramError::Limit("the block needs too much memory".into());
    if raw_size > limit {
        return Err(too_much());
    }
    let mut extra = |more: usize| {
        if raw_size + more > limit {
            return Err(too_much());
        }
        Ok(())
    };
    Ok(decode_all(&[block], "block", &mut extra)?[0].1.len())
}

/// The uncompressed size and name count a name tokenizer stream starts with.
fn tokenizer_header(data: &[u8]) -> Option<(usize, usize)> {
    let size = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    let names = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?);
    Some((size as usize, names as usize))
}

fn decode_one<'a>(b: &Block<'a>, what: &str, extra: Extra<'_>) -> Result<Cow<'a, [u8]>, CramError> {
    let corrupt = |e: &str| CramError::Corrupt(format!("{what}: {e}"));
    Ok(match b.method {
        // "blocks with a raw size of zero are empty, whatever their method" (CRAM 3.1 §8)
        _ if b.raw_size == 0 => Cow::Borrowed(&[][..]),
        0 => Cow::Borrowed(b.data),
        1 => Cow::Owned(framing::inflate_simple(b, what)?),
        4 => Cow::Owned(rans::decode(b.data, b.raw_size).map_err(corrupt)?),
        5 => Cow::Owned(rans_nx16::decode(b.data, b.raw_size).map_err(corrupt)?),
        ADAPTIVE_ARITHMETIC => {
            extra(ARITHMETIC_MODEL_BYTES)?;
            Cow::Owned(with_noodles(b, what)?)
        }
        FQZCOMP => {
            extra(FQZCOMP_MODEL_BYTES)?;
            Cow::Owned(with_noodles(b, what)?)
        }
        NAME_TOKENIZER => match tokenizer_header(b.data) {
            Some((size, names)) if size == b.raw_size && names <= size => {
                // its streams are arithmetic-coded when the byte after the header is not 0
                let models = match b.data.get(8) {
                    Some(0) | None => 0,
                    Some(_) => ARITHMETIC_MODEL_BYTES,
                };
                let extra = &mut |more: usize| extra(more + models);
                let arith = |data: &[u8], size: usize| {
                    let stream = Block {
                        method: ADAPTIVE_ARITHMETIC,
                        raw_size: size,
                        data,
                        ..*b
                    };
                    with_noodles(&stream, what)
                };
                Cow::Owned(name_tokenizer::decode(b.data, what, &arith, extra)?)
            }
            _ => {
                return Err(corrupt(
                    "the name tokenizer header does not match the block",
                ));
            }
        },
        _ => Cow::Owned(with_noodles(b, what)?),
    })
}

/// `b` decoded by noodles-cram. Its decoders panic on some corrupt data (found by the
/// `cram_block` fuzz target: rANS Nx16 copies a stored run into a buffer of another size):
/// a panic there is a corrupt block, like any error.
fn with_noodles(b: &Block<'_>, what: &str) -> Result<Vec<u8>, CramError> {
    std::panic::catch_unwind(|| noodles_decode(b, what)).unwrap_or_else(|_| {
        Err(CramError::Corrupt(format!(
            "{what}: the {} data is corrupt",
            framing::method_name(b.method)
        )))
    })
}

/// `b` decoded by noodles-cram, wrapped as the core block of a one-slice container.
fn noodles_decode(b: &Block<'_>, what: &str) -> Result<Vec<u8>, CramError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs of the `cram_block` fuzz target that crashed it once: each must decode or be
    /// refused, never panic.
    #[test]
    fn fuzz_findings_are_errors_not_panics() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/cram_block");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            let [method, a, b, c, compressed @ ..] = &data[..] else {
                panic!("a finding shorter than its 4-byte prefix");
            };
            let raw_size = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
            let _ = decode_one_block(method % 9, compressed, raw_size);
            seen += 1;
        }
        assert!(seen > 0);
    }
}
