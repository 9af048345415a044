//! One data container: compression header, slices, records to SAM text, `.crai` entries.
//!
//! Runs on worker threads; everything it needs is in [`Context`].

use std::borrow::Cow;

use crate::sam_text::{BamRecord, write_bam_record};

use super::bam_record::{append_bam, write_sam_line};
use super::blocks;
use super::budget::Meter;
use super::codec::{DecodeError, SliceData};
use super::compression_header;
use super::crai::{self, CraiEntry};
use super::error::CramError;
use super::framing::{self, Block, RawContainer, content_type};
use super::header::SamHeader;
use super::reference::References;
use super::slice::{self, Charge, DecodedSlice, SliceError, SliceHeader, SliceInput};

/// Shared, read-only state of an ingestion.
#[derive(Debug)]
pub(super) struct Context {
    pub(super) header: SamHeader,
    pub(super) refs: References,
    /// `@SQ` names in order, for the SAM text.
    pub(super) names: Vec<String>,
}

/// What one container contributes; its memory stays counted until it is dropped.
#[derive(Debug)]
pub(super) struct ContainerOutput<'b> {
    pub(super) text: Vec<u8>,
    pub(super) reads: u64,
    pub(super) bases: u64,
    pub(super) crai: Vec<CraiEntry>,
    pub(super) meter: Meter<'b>,
}

/// Buffers a worker keeps between containers, up to this many bytes each.
const KEPT_BUFFER_BYTES: usize = 1 << 20;

/// Decodes container number `n` (1-based among data containers), whose raw bytes `meter`
/// already holds.
pub(super) fn process<'b>(
    ctx: &Context,
    raw: &RawContainer,
    n: u64,
    mut meter: Meter<'b>,
) -> Result<ContainerOutput<'b>, CramError> {
    let what = format!("container {n} (byte {})", raw.offset);
    let body = raw.body();
    let mut src = body;
    let block = framing::parse_block(&mut src)
        .map_err(|e| e.into_error(&format!("{what}, compression header")))?;
    if block.content_type != content_type::COMPRESSION_HEADER {
        return Err(CramError::Corrupt(format!(
            "{what} does not start with a compression header"
        )));
    }
    let mut held = raw.bytes.len();
    meter.hold_more(held, block.raw_size)?;
    let ch_bytes = framing::inflate_simple(&block, &format!("{what}, compression header"))?;
    let ch = compression_header::parse(&ch_bytes)
        .map_err(|e| CramError::Corrupt(format!("{what}: bad compression header ({e})")))?;
    held += ch_bytes.len();
    drop(ch_bytes);

    let mut headers = Vec::new();
    for (i, &landmark) in raw.header.landmarks.iter().enumerate() {
        let swhat = format!("{what}, slice {}", i + 1);
        headers.push(slice_layout(body, landmark, &swhat, &mut meter, held)?);
    }
    // the container's count is its slices' (CRAM 3.1 §7.1): a file whose header claims
    // otherwise is corrupt, however large the claim
    let records: usize = headers.iter().map(|(h, ..)| h.record_count).sum();
    if usize::try_from(raw.header.record_count) != Ok(records) {
        return Err(CramError::Corrupt(format!(
            "{what} claims {} records, its slices hold {records}",
            raw.header.record_count
        )));
    }

    let mut out = ContainerOutput {
        text: Vec::new(),
        reads: 0,
        bases: 0,
        crai: Vec::new(),
        meter,
    };
    DECODED.with_borrow_mut(|(decoded, bam)| {
        let result = decode_slices(ctx, raw, &what, &ch, &headers, decoded, bam, &mut out, held);
        decoded.reset(KEPT_BUFFER_BYTES);
        bam.clear();
        bam.shrink_to(KEPT_BUFFER_BYTES);
        result
    })?;
    Ok(out)
}

thread_local! {
    /// Per-worker buffers, reused from container to container.
    static DECODED: std::cell::RefCell<(DecodedSlice, Vec<u8>)> = Default::default();
}

#[allow(clippy::too_many_arguments)]
fn decode_slices(
    ctx: &Context,
    raw: &RawContainer,
    what: &str,
    ch: &compression_header::CompressionHeader,
    headers: &[(SliceHeader, usize, Vec<Block<'_>>)],
    decoded: &mut DecodedSlice,
    bam: &mut Vec<u8>,
    out: &mut ContainerOutput<'_>,
    held: usize,
) -> Result<(), CramError> {
    for (i, (sh, size, blocks)) in headers.iter().enumerate() {
        let swhat = format!("{what}, slice {}", i + 1);
        // what decompressing the blocks takes, before any is decompressed
        let declared = blocks
            .iter()
            .fold(0usize, |sum, b| sum.saturating_add(b.raw_size));
        let base = held + out.text.capacity() + bam.capacity();
        out.meter.hold_more(base, declared)?;
        let meter = &mut out.meter;
        let mut extra = |more: usize| meter.hold_more(base + declared, more);
        let mut all = blocks::decode_all(blocks, &swhat, &mut extra)?;
        let externals = all.split_off(1);
        let core = all.pop().map(|(_, b)| b).unwrap_or_default();
        let embedded = externals
            .iter()
            .find(|(id, _)| *id == sh.embedded_ref_id && sh.embedded_ref_id >= 0)
            .map(|(_, b)| b.as_ref());
        let mut data = SliceData::new(
            &core,
            externals
                .iter()
                .map(|(id, b): &(i32, Cow<'_, [u8]>)| (*id, b.as_ref())),
        );
        let input = SliceInput {
            header: &ctx.header,
            refs: &ctx.refs,
            ch,
            slice: sh,
            container_start: i64::from(raw.header.start),
            embedded,
        };
        decoded.reset(usize::MAX);
        let mut charge = Charge {
            meter: &mut out.meter,
            base: base + declared,
        };
        slice::decode_slice(&input, &mut data, decoded, &mut charge)
            .map_err(|e| slice_error(e, &swhat, decoded))?;
        // the text may take what the decoded blocks and records hold
        let decoded_bytes = base + declared + decoded.heap_bytes();
        let other = decoded_bytes - out.text.capacity() - bam.capacity();
        emit(ctx, decoded, out, bam, other, &swhat)?;
        let base = CraiEntry {
            ref_id: sh.ref_id,
            start: sh.start,
            span: sh.span,
            container_offset: raw.offset,
            landmark: raw.header.landmarks[i],
            size: *size,
        };
        if sh.ref_id == -2 {
            let runs = decoded
                .records
                .iter()
                .map(|r| (r.ref_id, r.apos, r.aend_noref));
            out.crai
                .extend(crai::multiref_entries(runs, base).map_err(CramError::NotSorted)?);
        } else {
            out.crai.push(base);
        }
    }
    Ok(())
}

/// SAM text and counts for the records of a decoded slice (`what`); `other` bytes are held
/// besides the text and the record buffer.
fn emit(
    ctx: &Context,
    decoded: &DecodedSlice,
    out: &mut ContainerOutput<'_>,
    bam: &mut Vec<u8>,
    other: usize,
    what: &str,
) -> Result<(), CramError> {
    let corrupt = |e: &dyn std::fmt::Display| CramError::Corrupt(format!("{what}: {e}"));
    for (i, r) in decoded.records.iter().enumerate() {
        let written = write_sam_line(&mut out.text, decoded, i, &ctx.header, &ctx.names)
            .map_err(|e| corrupt(&e))?;
        if !written {
            bam.clear();
            append_bam(bam, decoded, i, &ctx.header).map_err(|e| corrupt(&e))?;
            let record = BamRecord::parse(bam).map_err(|e| corrupt(&e))?;
            write_bam_record(&mut out.text, &record, &ctx.names).map_err(|e| corrupt(&e))?;
        }
        out.meter
            .hold(other + out.text.capacity() + bam.capacity())?;
        if r.flags & 0x900 == 0 {
            out.reads += 1;
            out.bases += r.len as u64;
        }
    }
    Ok(())
}

/// The slice header at `landmark`, the slice's size in bytes (header and data blocks), and
/// its data blocks (core first).
fn slice_layout<'a>(
    body: &'a [u8],
    landmark: usize,
    what: &str,
    meter: &mut Meter<'_>,
    held: usize,
) -> Result<(SliceHeader, usize, Vec<Block<'a>>), CramError> {
    let mut src = body.get(landmark..).ok_or_else(|| {
        CramError::Corrupt(format!("{what} starts past the end of the container"))
    })?;
    let start_len = src.len();
    let block: Block<'_> =
        framing::parse_block(&mut src).map_err(|e| e.into_error(&format!("{what} header")))?;
    if block.content_type != content_type::SLICE_HEADER {
        return Err(CramError::Corrupt(format!(
            "{what} does not start with a slice header"
        )));
    }
    meter.hold_more(held, block.raw_size)?;
    let content = framing::inflate_simple(&block, &format!("{what} header"))?;
    let header = slice::parse_slice_header(&content)
        .ok_or_else(|| CramError::Corrupt(format!("{what} has a malformed header")))?;
    // every block takes at least 7 bytes of the container
    if header.block_count > src.len() / 7 {
        return Err(CramError::Corrupt(format!(
            "{what} claims {} blocks in {} bytes",
            header.block_count,
            src.len()
        )));
    }
    let mut blocks = Vec::with_capacity(header.block_count);
    for b in 0..header.block_count {
        let block = framing::parse_block(&mut src)
            .map_err(|e| e.into_error(&format!("{what}, block {}", b + 1)))?;
        if b == 0 && block.content_type != content_type::CORE {
            return Err(CramError::Corrupt(format!("{what} has no core data block")));
        }
        if b > 0 && block.content_type != content_type::EXTERNAL {
            return Err(CramError::Corrupt(format!(
                "{what}, block {} is not an external block",
                b + 1
            )));
        }
        blocks.push(block);
    }
    Ok((header, start_len - src.len(), blocks))
}

fn slice_error(e: SliceError, what: &str, decoded: &DecodedSlice) -> CramError {
    let record = decoded.records.len() + 1;
    match e {
        SliceError::Cram(e) => e,
        SliceError::Decode(DecodeError::Exhausted(block)) => {
            CramError::Corrupt(format!("{what}, record {record}: {block} ends early"))
        }
        SliceError::Decode(DecodeError::Invalid(why)) => {
            CramError::Corrupt(format!("{what}, record {record}: {why}"))
        }
        SliceError::Message(why) => CramError::Corrupt(format!("{what}, record {record}: {why}")),
    }
}
