//! SAM text of a [`BamRecord`]: the fast path, straight from the record's bytes.

use super::bam_record::{BamRecord, RecordError, array_element_size, field_end};
use super::float::push_g;
use super::int::{push_i64, push_u64};
use super::{CIGAR_OP_CHARS, NT16_PAIRS};

/// Appends the SAM line of `record` (with its `\n`) as htslib 1.16 `sam_format1` prints it.
///
/// `reference_names` is the BAM reference dictionary, in order. Aux values are checked here;
/// on an error part of the line may already be in `dst`.
pub fn write_bam_record<N: AsRef<[u8]>>(
    dst: &mut Vec<u8>,
    record: &BamRecord<'_>,
    reference_names: &[N],
) -> Result<(), RecordError> {
    let l_seq = record.sequence_len();
    dst.reserve(record.as_bytes().len() + l_seq + 64);

    dst.extend_from_slice(record.name());
    dst.push(b'\t');
    push_u64(dst, u64::from(record.flags()));
    dst.push(b'\t');

    let tid = record.reference_sequence_id();
    if tid < 0 {
        dst.push(b'*');
    } else {
        dst.extend_from_slice(reference_name(reference_names, tid, "RNAME")?);
    }
    dst.push(b'\t');
    push_i64(dst, i64::from(record.position()) + 1);
    dst.push(b'\t');
    push_u64(dst, u64::from(record.mapping_quality()));
    dst.push(b'\t');

    let cigar = record.raw_cigar();
    if cigar.is_empty() {
        dst.push(b'*');
    } else {
        for op in cigar.chunks_exact(4) {
            let op = u32::from_le_bytes(op.try_into().expect("chunks of 4"));
            push_u64(dst, u64::from(op >> 4));
            dst.push(CIGAR_OP_CHARS[(op & 0xf) as usize]);
        }
    }
    dst.push(b'\t');

    let mtid = record.mate_reference_sequence_id();
    if mtid < 0 {
        dst.push(b'*');
    } else if mtid == tid {
        dst.push(b'=');
    } else {
        dst.extend_from_slice(reference_name(reference_names, mtid, "RNEXT")?);
    }
    dst.push(b'\t');
    push_i64(dst, i64::from(record.mate_position()) + 1);
    dst.push(b'\t');
    push_i64(dst, i64::from(record.template_length()));
    dst.push(b'\t');

    if l_seq == 0 {
        dst.extend_from_slice(b"*\t*");
    } else {
        push_packed_sequence(dst, record.packed_sequence(), l_seq);
        dst.push(b'\t');
        let qual = record.quality_scores();
        if qual[0] == 0xff {
            dst.push(b'*');
        } else {
            dst.extend(qual.iter().map(|q| q.wrapping_add(33)));
        }
    }

    write_aux(dst, record.aux(), record.hidden_tag())?;
    dst.push(b'\n');
    Ok(())
}

pub(crate) fn reference_name<'n, N: AsRef<[u8]>>(
    names: &'n [N],
    id: i32,
    field: &'static str,
) -> Result<&'n [u8], RecordError> {
    usize::try_from(id)
        .ok()
        .and_then(|i| names.get(i))
        .map(AsRef::as_ref)
        .ok_or(RecordError::ReferenceOutOfRange {
            field,
            id,
            count: names.len(),
        })
}

/// Two bases per packed byte, through a 256-entry table (htslib `nibble2base`).
fn push_packed_sequence(dst: &mut Vec<u8>, packed: &[u8], l_seq: usize) {
    let start = dst.len();
    dst.resize(start + 2 * packed.len(), 0);
    for (out, &b) in dst[start..].chunks_exact_mut(2).zip(packed) {
        out.copy_from_slice(&NT16_PAIRS[usize::from(b)]);
    }
    dst.truncate(start + l_seq);
}

/// The aux fields in stored order, each as `\tTG:T:value` (htslib `sam_format_aux1`).
pub(crate) fn write_aux(
    dst: &mut Vec<u8>,
    aux: &[u8],
    hidden: Option<(usize, usize)>,
) -> Result<(), RecordError> {
    let mut start = 0;
    while start < aux.len() {
        let end = field_end(aux, start)?;
        if hidden.is_some_and(|(h, _)| h == start) {
            start = end;
            continue;
        }
        let field = &aux[start..end];
        dst.push(b'\t');
        dst.extend_from_slice(&field[..2]);
        dst.push(b':');
        let value = &field[3..];
        match field[2] {
            b'A' => {
                dst.extend_from_slice(b"A:");
                dst.push(value[0]);
            }
            b'c' => int_field(dst, i64::from(value[0] as i8)),
            b'C' => int_field(dst, i64::from(value[0])),
            b's' => int_field(dst, i64::from(i16::from_le_bytes([value[0], value[1]]))),
            b'S' => int_field(dst, i64::from(u16::from_le_bytes([value[0], value[1]]))),
            b'i' => int_field(dst, i64::from(i32::from_le_bytes(le4(value)))),
            b'I' => int_field(dst, i64::from(u32::from_le_bytes(le4(value)))),
            b'f' => {
                dst.extend_from_slice(b"f:");
                push_g(dst, f64::from(f32::from_le_bytes(le4(value))));
            }
            ty @ (b'Z' | b'H') => {
                dst.push(ty);
                dst.push(b':');
                dst.extend_from_slice(&value[..value.len() - 1]);
            }
            _ => write_array(dst, value),
        }
        start = end;
    }
    Ok(())
}

fn int_field(dst: &mut Vec<u8>, v: i64) {
    dst.extend_from_slice(b"i:");
    push_i64(dst, v);
}

/// `B:<subtype>` then `,value` per element; the value's length was checked by `field_end`.
fn write_array(dst: &mut Vec<u8>, value: &[u8]) {
    let subtype = value[0];
    let size = array_element_size(subtype).expect("checked by field_end");
    dst.extend_from_slice(b"B:");
    dst.push(subtype);
    for e in value[5..].chunks_exact(size) {
        dst.push(b',');
        match subtype {
            b'c' => push_i64(dst, i64::from(e[0] as i8)),
            b'C' => push_u64(dst, u64::from(e[0])),
            b's' => push_i64(dst, i64::from(i16::from_le_bytes([e[0], e[1]]))),
            b'S' => push_u64(dst, u64::from(u16::from_le_bytes([e[0], e[1]]))),
            b'i' => push_i64(dst, i64::from(i32::from_le_bytes(le4(e)))),
            b'I' => push_u64(dst, u64::from(u32::from_le_bytes(le4(e)))),
            _ => push_g(dst, f64::from(f32::from_le_bytes(le4(e)))),
        }
    }
}

fn le4(b: &[u8]) -> [u8; 4] {
    b[..4].try_into().expect("4 bytes")
}
