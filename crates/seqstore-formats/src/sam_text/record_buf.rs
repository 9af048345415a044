//! SAM text of noodles alignment records (the CRAM path): [`RecordBuf`] without allocation,
//! and any [`Record`] through its trait (which boxes its parts).

use std::io;

use noodles_sam::Header;
use noodles_sam::alignment::Record;
use noodles_sam::alignment::RecordBuf;
use noodles_sam::alignment::record::cigar::op::Kind;
use noodles_sam::alignment::record::data::field::value::Array as ArrayRef;
use noodles_sam::alignment::record::data::field::{Tag, Value as ValueRef};
use noodles_sam::alignment::record_buf::data::field::Value;
use noodles_sam::alignment::record_buf::data::field::value::Array;

use super::float::push_g;
use super::int::{push_i64, push_u64};
use super::{CANONICAL_BASES, MISSING_MAPPING_QUALITY};

/// Appends the SAM line of `record` (with its `\n`) as htslib 1.16 prints the same record.
///
/// Bases go through htslib's 4-bit code (`a` → `A`, `U` → `T`, anything unknown → `N`); an
/// empty sequence prints `*\t*`, empty quality scores `*`, a missing mapping quality 255.
pub fn write_record_buf(dst: &mut Vec<u8>, header: &Header, record: &RecordBuf) -> io::Result<()> {
    push_name(dst, record.name().map(|n| -> &[u8] { n.as_ref() }));
    push_u64(dst, u64::from(u16::from(record.flags())));
    dst.push(b'\t');
    let tid = record.reference_sequence_id();
    push_reference(dst, header, tid, "RNAME")?;
    push_position(dst, record.alignment_start().map(usize::from));
    push_u64(
        dst,
        u64::from(
            record
                .mapping_quality()
                .map_or(MISSING_MAPPING_QUALITY, u8::from),
        ),
    );
    dst.push(b'\t');
    let ops = record.cigar().as_ref();
    if ops.is_empty() {
        dst.push(b'*');
    }
    for op in ops {
        push_u64(dst, op.len() as u64);
        dst.push(op_char(op.kind()));
    }
    dst.push(b'\t');
    push_mate_reference(dst, header, tid, record.mate_reference_sequence_id())?;
    push_position(dst, record.mate_alignment_start().map(usize::from));
    push_i64(dst, i64::from(record.template_length()));
    dst.push(b'\t');

    let seq = record.sequence().as_ref();
    if seq.is_empty() {
        dst.extend_from_slice(b"*\t*");
    } else {
        dst.extend(seq.iter().map(|&b| CANONICAL_BASES[usize::from(b)]));
        dst.push(b'\t');
        let qual = record.quality_scores().as_ref();
        if qual.is_empty() {
            dst.push(b'*');
        } else {
            dst.extend(qual.iter().map(|q| q.wrapping_add(33)));
        }
    }

    for (tag, value) in record.data().iter() {
        push_tag(dst, tag);
        match value {
            Value::Character(c) => push_character(dst, *c),
            Value::Int8(n) => push_int(dst, i64::from(*n)),
            Value::UInt8(n) => push_int(dst, i64::from(*n)),
            Value::Int16(n) => push_int(dst, i64::from(*n)),
            Value::UInt16(n) => push_int(dst, i64::from(*n)),
            Value::Int32(n) => push_int(dst, i64::from(*n)),
            Value::UInt32(n) => push_int(dst, i64::from(*n)),
            Value::Float(f) => push_float(dst, *f),
            Value::String(s) => push_text(dst, b'Z', s),
            Value::Hex(s) => push_text(dst, b'H', s),
            Value::Array(array) => match array {
                Array::Int8(v) => push_array(dst, b'c', v, |d, n| push_i64(d, i64::from(*n))),
                Array::UInt8(v) => push_array(dst, b'C', v, |d, n| push_u64(d, u64::from(*n))),
                Array::Int16(v) => push_array(dst, b's', v, |d, n| push_i64(d, i64::from(*n))),
                Array::UInt16(v) => push_array(dst, b'S', v, |d, n| push_u64(d, u64::from(*n))),
                Array::Int32(v) => push_array(dst, b'i', v, |d, n| push_i64(d, i64::from(*n))),
                Array::UInt32(v) => push_array(dst, b'I', v, |d, n| push_u64(d, u64::from(*n))),
                Array::Float(v) => push_array(dst, b'f', v, |d, f| push_g(d, f64::from(*f))),
            },
        }
    }
    dst.push(b'\n');
    Ok(())
}

/// [`write_record_buf`] for any noodles alignment record (e.g. `noodles_cram::Record`).
///
/// The trait hands out boxed CIGAR, sequence and data views, so this allocates per record;
/// prefer [`write_record_buf`] in loops over many records.
pub fn write_record<R: Record + ?Sized>(
    dst: &mut Vec<u8>,
    header: &Header,
    record: &R,
) -> io::Result<()> {
    push_name(dst, record.name().map(|n| -> &[u8] { n.as_ref() }));
    push_u64(dst, u64::from(u16::from(record.flags()?)));
    dst.push(b'\t');
    let tid = record.reference_sequence_id(header).transpose()?;
    push_reference(dst, header, tid, "RNAME")?;
    push_position(dst, record.alignment_start().transpose()?.map(usize::from));
    let mapq = record.mapping_quality().transpose()?;
    push_u64(
        dst,
        u64::from(mapq.map_or(MISSING_MAPPING_QUALITY, u8::from)),
    );
    dst.push(b'\t');
    let cigar = record.cigar();
    if cigar.is_empty() {
        dst.push(b'*');
    }
    for op in cigar.iter() {
        let op = op?;
        push_u64(dst, op.len() as u64);
        dst.push(op_char(op.kind()));
    }
    dst.push(b'\t');
    let mtid = record.mate_reference_sequence_id(header).transpose()?;
    push_mate_reference(dst, header, tid, mtid)?;
    push_position(
        dst,
        record.mate_alignment_start().transpose()?.map(usize::from),
    );
    push_i64(dst, i64::from(record.template_length()?));
    dst.push(b'\t');

    let seq = record.sequence();
    if seq.is_empty() {
        dst.extend_from_slice(b"*\t*");
    } else {
        dst.extend(seq.iter().map(|b| CANONICAL_BASES[usize::from(b)]));
        dst.push(b'\t');
        let qual = record.quality_scores();
        if qual.is_empty() {
            dst.push(b'*');
        } else {
            for q in qual.iter() {
                dst.push(q?.wrapping_add(33));
            }
        }
    }

    for field in record.data().iter() {
        let (tag, value) = field?;
        push_tag(dst, tag);
        match value {
            ValueRef::Character(c) => push_character(dst, c),
            ValueRef::Int8(n) => push_int(dst, i64::from(n)),
            ValueRef::UInt8(n) => push_int(dst, i64::from(n)),
            ValueRef::Int16(n) => push_int(dst, i64::from(n)),
            ValueRef::UInt16(n) => push_int(dst, i64::from(n)),
            ValueRef::Int32(n) => push_int(dst, i64::from(n)),
            ValueRef::UInt32(n) => push_int(dst, i64::from(n)),
            ValueRef::Float(f) => push_float(dst, f),
            ValueRef::String(s) => push_text(dst, b'Z', s),
            ValueRef::Hex(s) => push_text(dst, b'H', s),
            ValueRef::Array(array) => {
                dst.extend_from_slice(b"B:");
                match array {
                    ArrayRef::Int8(v) => push_values(dst, b'c', v.iter(), |d, n| {
                        push_i64(d, i64::from(n));
                    })?,
                    ArrayRef::UInt8(v) => push_values(dst, b'C', v.iter(), |d, n| {
                        push_u64(d, u64::from(n));
                    })?,
                    ArrayRef::Int16(v) => push_values(dst, b's', v.iter(), |d, n| {
                        push_i64(d, i64::from(n));
                    })?,
                    ArrayRef::UInt16(v) => push_values(dst, b'S', v.iter(), |d, n| {
                        push_u64(d, u64::from(n));
                    })?,
                    ArrayRef::Int32(v) => push_values(dst, b'i', v.iter(), |d, n| {
                        push_i64(d, i64::from(n));
                    })?,
                    ArrayRef::UInt32(v) => push_values(dst, b'I', v.iter(), |d, n| {
                        push_u64(d, u64::from(n));
                    })?,
                    ArrayRef::Float(v) => push_values(dst, b'f', v.iter(), |d, f| {
                        push_g(d, f64::from(f));
                    })?,
                }
            }
        }
    }
    dst.push(b'\n');
    Ok(())
}

fn push_name(dst: &mut Vec<u8>, name: Option<&[u8]>) {
    dst.extend_from_slice(name.unwrap_or(b"*"));
    dst.push(b'\t');
}

fn push_position(dst: &mut Vec<u8>, position: Option<usize>) {
    push_u64(dst, position.unwrap_or(0) as u64);
    dst.push(b'\t');
}

fn reference_name<'h>(header: &'h Header, id: usize, field: &str) -> io::Result<&'h [u8]> {
    header
        .reference_sequences()
        .get_index(id)
        .map(|(name, _)| &name[..])
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{field} reference id {id} is not in the header"),
            )
        })
}

fn push_reference(
    dst: &mut Vec<u8>,
    header: &Header,
    id: Option<usize>,
    field: &str,
) -> io::Result<()> {
    match id {
        Some(id) => dst.extend_from_slice(reference_name(header, id, field)?),
        None => dst.push(b'*'),
    }
    dst.push(b'\t');
    Ok(())
}

/// RNEXT: `=` when both are set and equal (htslib compares the ids).
fn push_mate_reference(
    dst: &mut Vec<u8>,
    header: &Header,
    tid: Option<usize>,
    mtid: Option<usize>,
) -> io::Result<()> {
    match mtid {
        Some(m) if Some(m) == tid => {
            dst.extend_from_slice(b"=\t");
            Ok(())
        }
        _ => push_reference(dst, header, mtid, "RNEXT"),
    }
}

fn op_char(kind: Kind) -> u8 {
    match kind {
        Kind::Match => b'M',
        Kind::Insertion => b'I',
        Kind::Deletion => b'D',
        Kind::Skip => b'N',
        Kind::SoftClip => b'S',
        Kind::HardClip => b'H',
        Kind::Pad => b'P',
        Kind::SequenceMatch => b'=',
        Kind::SequenceMismatch => b'X',
    }
}

fn push_tag(dst: &mut Vec<u8>, tag: Tag) {
    dst.push(b'\t');
    dst.extend_from_slice(tag.as_ref());
    dst.push(b':');
}

fn push_character(dst: &mut Vec<u8>, c: u8) {
    dst.extend_from_slice(b"A:");
    dst.push(c);
}

/// Every integer width prints as `i` (htslib).
fn push_int(dst: &mut Vec<u8>, n: i64) {
    dst.extend_from_slice(b"i:");
    push_i64(dst, n);
}

fn push_float(dst: &mut Vec<u8>, f: f32) {
    dst.extend_from_slice(b"f:");
    push_g(dst, f64::from(f));
}

fn push_text(dst: &mut Vec<u8>, ty: u8, s: &[u8]) {
    dst.push(ty);
    dst.push(b':');
    dst.extend_from_slice(s);
}

fn push_array<T>(dst: &mut Vec<u8>, subtype: u8, values: &[T], push: impl Fn(&mut Vec<u8>, &T)) {
    dst.extend_from_slice(b"B:");
    dst.push(subtype);
    for v in values {
        dst.push(b',');
        push(dst, v);
    }
}

fn push_values<T>(
    dst: &mut Vec<u8>,
    subtype: u8,
    values: impl Iterator<Item = io::Result<T>>,
    push: impl Fn(&mut Vec<u8>, T),
) -> io::Result<()> {
    dst.push(subtype);
    for v in values {
        dst.push(b',');
        push(dst, v?);
    }
    Ok(())
}
