//! Decoded CRAM records to SAM text as `samtools view` prints what htslib's `cram_to_bam` +
//! `bam_set1` build: generated names for nameless reads, the `RG` tag appended after all
//! other tags. Most records are written straight from the decoded slice
//! ([`write_sam_line`]); the few whose BAM form `bam_read1` would rewrite (a CIGAR too long
//! for BAM, or a placeholder CIGAR that a `CG` tag may replace) go through BAM bytes
//! ([`append_bam`]) and `write_bam_record`, so both give the same text.

use std::borrow::Cow;

use super::header::SamHeader;
use super::slice::{DecodedSlice, Record};
use crate::sam_text::{CIGAR_OP_CHARS, RecordError, push_i64, push_u64, reference_name, write_aux};

/// Prefix of generated read names (htslib uses the CRAM file name, unknown here).
const NAME_PREFIX: &str = "cram";

/// `seq_nt16_table`: IUPAC letters (either case) and `=` to 4-bit codes, others to N.
const fn nt16_table() -> [u8; 256] {
    let mut t = [15u8; 256];
    let codes = b"=ACMGRSVTWYHKDBN";
    let mut i = 0;
    while i < 16 {
        t[codes[i] as usize] = i as u8;
        t[codes[i].to_ascii_lowercase() as usize] = i as u8;
        i += 1;
    }
    t
}

static NT16: [u8; 256] = nt16_table();

/// Each base as it prints after the round trip through its 4-bit code.
static SAM_BASES: [u8; 256] = {
    let codes = nt16_table();
    let chars = b"=ACMGRSVTWYHKDBN";
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = chars[codes[i] as usize];
        i += 1;
    }
    t
};

/// BAM's soft-clip operation code.
const SOFT_CLIP: u32 = 4;

/// `hts_reg2bin(beg, end, 14, 5)`.
fn reg2bin(beg: i64, end: i64) -> u16 {
    let end = end - 1;
    let mut l = 5;
    let mut s = 14;
    let mut t = ((1i64 << 15) - 1) / 7;
    while l > 0 {
        if beg >> s == end >> s {
            return (t + (beg >> s)) as u16;
        }
        l -= 1;
        s += 3;
        t -= 1 << (3 * l);
    }
    0
}

/// The name of record `i`: its own, its mate's, or htslib's generated one.
fn read_name(slice: &DecodedSlice, i: usize) -> Result<Cow<'_, [u8]>, String> {
    let r: &Record = &slice.records[i];
    let name: Cow<'_, [u8]> = if r.name.1 > 0 {
        Cow::Borrowed(&slice.names[r.name.0..r.name.0 + r.name.1])
    } else {
        let mate = usize::try_from(r.mate_line)
            .ok()
            .filter(|&m| m < slice.records.len());
        match mate.map(|m| slice.records[m].name) {
            Some((start, len)) if len > 0 => Cow::Borrowed(&slice.names[start..start + len]),
            _ => {
                let n = match mate {
                    Some(m) if m < i => m,
                    _ => i,
                };
                let counter = slice.record_counter + n as i64 + 1;
                Cow::Owned(format!("{NAME_PREFIX}:{counter}").into_bytes())
            }
        }
    };
    if name.len() > 254 {
        return Err("a read name is longer than 254 characters".into());
    }
    Ok(name)
}

/// The `RG` of record `r` from the header's read groups.
fn read_group<'h>(r: &Record, header: &'h SamHeader) -> Result<Option<&'h str>, String> {
    let Ok(g) = usize::try_from(r.rg) else {
        return Ok(None);
    };
    match header.read_groups.get(g) {
        Some(rg) => Ok(Some(rg.as_str())),
        None => Err(format!("read group {g} is not in the header")),
    }
}

/// Appends the SAM line of record `i` of `slice` to `dst`, unless its BAM form is one that
/// `bam_read1` rewrites (see the module): then writes nothing and returns `false`.
pub(super) fn write_sam_line<N: AsRef<[u8]>>(
    dst: &mut Vec<u8>,
    slice: &DecodedSlice,
    i: usize,
    header: &SamHeader,
    reference_names: &[N],
) -> Result<bool, String> {
    let r: &Record = &slice.records[i];
    let cigar = &slice.cigars[r.cigar.0..r.cigar.0 + r.cigar.1];
    let pos = (r.apos - 1) as i32;
    let rewritten = cigar.len() > usize::from(u16::MAX)
        || (r.ref_id >= 0
            && pos >= 0
            && cigar
                .first()
                .is_some_and(|&op| op & 0xf == SOFT_CLIP && (op >> 4) as usize == r.len));
    if rewritten {
        return Ok(false);
    }
    // The checks of `append_bam` and then `BamRecord::parse`, in their order.
    let name = read_name(slice, i)?;
    let rg = read_group(r, header)?;
    if r.len > i32::MAX as usize {
        return Err(RecordError::SequenceTooLong { len: r.len as u32 }.to_string());
    }
    if memchr::memchr(0, &name).is_some() {
        return Err(RecordError::NameHasNul.to_string());
    }
    let text = |e: RecordError| e.to_string();

    dst.extend_from_slice(&name);
    dst.push(b'\t');
    push_u64(dst, u64::from(r.flags as u16));
    dst.push(b'\t');
    if r.ref_id < 0 {
        dst.push(b'*');
    } else {
        dst.extend_from_slice(reference_name(reference_names, r.ref_id, "RNAME").map_err(text)?);
    }
    dst.push(b'\t');
    push_i64(dst, i64::from(pos) + 1);
    dst.push(b'\t');
    push_u64(dst, u64::from(r.mqual));
    dst.push(b'\t');
    if cigar.is_empty() {
        dst.push(b'*');
    }
    for &op in cigar {
        push_u64(dst, u64::from(op >> 4));
        dst.push(CIGAR_OP_CHARS[(op & 0xf) as usize]);
    }
    dst.push(b'\t');
    if r.mate_ref_id < 0 {
        dst.push(b'*');
    } else if r.mate_ref_id == r.ref_id {
        dst.push(b'=');
    } else {
        let name = reference_name(reference_names, r.mate_ref_id, "RNEXT").map_err(text)?;
        dst.extend_from_slice(name);
    }
    dst.push(b'\t');
    push_i64(dst, i64::from((r.mate_pos - 1) as i32) + 1);
    dst.push(b'\t');
    push_i64(dst, i64::from(r.tlen.unwrap_or(0) as i32));
    dst.push(b'\t');
    if r.len == 0 {
        dst.extend_from_slice(b"*\t*");
    } else {
        let seq = &slice.seqs[r.seq..r.seq + r.len];
        dst.extend(seq.iter().map(|&b| SAM_BASES[usize::from(b)]));
        dst.push(b'\t');
        let qual = &slice.quals[r.qual..r.qual + r.len];
        if qual[0] == 0xff {
            dst.push(b'*');
        } else {
            dst.extend(qual.iter().map(|q| q.wrapping_add(33)));
        }
    }
    write_aux(dst, &slice.aux[r.aux.0..r.aux.0 + r.aux.1], None).map_err(text)?;
    if let Some(rg) = rg {
        dst.extend_from_slice(b"\tRG:Z:");
        dst.extend_from_slice(rg.as_bytes());
    }
    dst.push(b'\n');
    Ok(true)
}

/// Appends record `i` of `slice` to `out` as BAM bytes (without the block size).
pub(super) fn append_bam(
    out: &mut Vec<u8>,
    slice: &DecodedSlice,
    i: usize,
    header: &SamHeader,
) -> Result<(), String> {
    let r: &Record = &slice.records[i];
    let name = read_name(slice, i)?;
    let cigar = &slice.cigars[r.cigar.0..r.cigar.0 + r.cigar.1];
    let rg = read_group(r, header)?;
    let pos = r.apos - 1;
    let rlen: i64 = cigar
        .iter()
        .filter(|&&op| matches!(op & 0xf, 0 | 2 | 3 | 7 | 8))
        .map(|&op| i64::from(op >> 4))
        .sum();
    let bin = reg2bin(pos.max(0), pos.max(0) + rlen.max(1));
    // more operations than BAM's 16-bit count holds: htslib's layout, `<l_seq>S<rlen>N` with
    // the real CIGAR in a `CG:B:I` tag (which the SAM text prints as the CIGAR)
    let long_cigar = cigar.len() > usize::from(u16::MAX);
    let placeholder = [((r.len as u32) << 4) | 4, ((rlen.max(0) as u32) << 4) | 3];
    let stored: &[u32] = if long_cigar { &placeholder } else { cigar };

    out.extend_from_slice(&r.ref_id.to_le_bytes());
    out.extend_from_slice(&(pos as i32).to_le_bytes());
    out.push(name.len() as u8 + 1);
    out.push(r.mqual);
    out.extend_from_slice(&bin.to_le_bytes());
    out.extend_from_slice(&(stored.len() as u16).to_le_bytes());
    out.extend_from_slice(&(r.flags as u16).to_le_bytes());
    out.extend_from_slice(&(r.len as i32).to_le_bytes());
    out.extend_from_slice(&r.mate_ref_id.to_le_bytes());
    out.extend_from_slice(&((r.mate_pos - 1) as i32).to_le_bytes());
    out.extend_from_slice(&(r.tlen.unwrap_or(0) as i32).to_le_bytes());
    out.extend_from_slice(&name);
    out.push(0);
    for op in stored {
        out.extend_from_slice(&op.to_le_bytes());
    }
    let seq = &slice.seqs[r.seq..r.seq + r.len];
    for pair in seq.chunks(2) {
        let hi = NT16[usize::from(pair[0])] << 4;
        let lo = pair.get(1).map_or(0, |&b| NT16[usize::from(b)]);
        out.push(hi | lo);
    }
    out.extend_from_slice(&slice.quals[r.qual..r.qual + r.len]);
    out.extend_from_slice(&slice.aux[r.aux.0..r.aux.0 + r.aux.1]);
    if let Some(rg) = rg {
        out.extend_from_slice(b"RGZ");
        out.extend_from_slice(rg.as_bytes());
        out.push(0);
    }
    if long_cigar {
        out.extend_from_slice(b"CGBI");
        out.extend_from_slice(&(cigar.len() as u32).to_le_bytes());
        for op in cigar {
            out.extend_from_slice(&op.to_le_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sam_text::{BamRecord, write_bam_record};

    /// The text of record `i` through BAM bytes, as before the direct path.
    fn through_bam(slice: &DecodedSlice, i: usize, header: &SamHeader) -> Result<Vec<u8>, String> {
        let names = ["chr1", "chr2"];
        let mut bam = Vec::new();
        append_bam(&mut bam, slice, i, header)?;
        let record = BamRecord::parse(&bam).map_err(|e| e.to_string())?;
        let mut text = Vec::new();
        write_bam_record(&mut text, &record, &names).map_err(|e| e.to_string())?;
        Ok(text)
    }

    #[test]
    fn the_direct_line_is_the_line_through_bam_bytes() {
        let mut slice = DecodedSlice {
            record_counter: 41,
            ..DecodedSlice::default()
        };
        let aux: &[u8] = b"NMC\x02XAZhello\0XfBc\x02\0\0\0\x01\xffZFf\0\0\xc0\x3f";
        let mut add =
            |name: &[u8], seq: &[u8], qual: &[u8], cigar: &[u32], aux: &[u8], r: Record| {
                let record = Record {
                    name: (slice.names.len(), name.len()),
                    seq: slice.seqs.len(),
                    qual: slice.quals.len(),
                    len: seq.len(),
                    cigar: (slice.cigars.len(), cigar.len()),
                    aux: (slice.aux.len(), aux.len()),
                    ..r
                };
                slice.names.extend_from_slice(name);
                slice.seqs.extend_from_slice(seq);
                slice.quals.extend_from_slice(qual);
                slice.cigars.extend_from_slice(cigar);
                slice.aux.extend_from_slice(aux);
                slice.records.push(record);
            };
        let placed = Record {
            ref_id: 0,
            apos: 100,
            mate_ref_id: 0,
            mate_pos: 300,
            tlen: Some(250),
            mqual: 60,
            flags: 0x63,
            rg: -1,
            mate_line: -1,
            ..Record::default()
        };
        add(b"r1", b"ACGTN", &[30; 5], &[5 << 4], aux, placed.clone());
        add(
            b"r2",
            b"acgtu=*.Xr",
            &[0xff; 10],
            &[3 << 4 | 4, 7 << 4],
            b"",
            Record {
                rg: 1,
                mate_ref_id: 1,
                ..placed.clone()
            },
        );
        add(
            b"",
            b"",
            b"",
            &[],
            b"",
            Record {
                ref_id: -1,
                apos: 0,
                mate_ref_id: -1,
                mate_pos: 0,
                tlen: None,
                flags: 0x4,
                ..placed.clone()
            },
        );
        add(
            b"",
            b"GG",
            &[1, 2],
            &[2 << 4],
            b"",
            Record {
                mate_line: 1,
                ..placed.clone()
            },
        );
        add(
            b"r5",
            b"AC",
            &[1, 2],
            &[2 << 4],
            b"",
            Record {
                rg: 7,
                ..placed.clone()
            },
        );
        add(b"r\x006", b"AC", &[1, 2], &[2 << 4], b"", placed.clone());
        add(
            b"r7",
            b"AC",
            &[1, 2],
            &[2 << 4],
            b"",
            Record {
                ref_id: 5,
                ..placed.clone()
            },
        );
        add(b"r8", b"AC", &[1, 2], &[2 << 4], b"XXZ", placed.clone());
        add(&[b'n'; 255], b"AC", &[1, 2], &[2 << 4], b"", placed.clone());
        let header = SamHeader {
            read_groups: vec!["g1".into(), "g2".into()],
            ..SamHeader::default()
        };
        for i in 0..slice.records.len() {
            let mut direct = Vec::new();
            let result = write_sam_line(&mut direct, &slice, i, &header, &["chr1", "chr2"]);
            let expected = through_bam(&slice, i, &header);
            match (result, expected) {
                (Ok(true), Ok(text)) => assert_eq!(
                    String::from_utf8_lossy(&direct),
                    String::from_utf8_lossy(&text),
                    "record {i}"
                ),
                (Err(a), Err(b)) => assert_eq!(a, b, "record {i}"),
                (a, b) => panic!("record {i}: direct {a:?}, through BAM {b:?}"),
            }
        }
    }

    #[test]
    fn records_that_bam_reading_rewrites_take_the_bam_path() {
        let mut slice = DecodedSlice::default();
        slice.names.extend_from_slice(b"r");
        slice.seqs.extend_from_slice(b"ACGT");
        slice.quals.extend_from_slice(&[1; 4]);
        slice.cigars.push(4 << 4 | SOFT_CLIP);
        slice.records.push(Record {
            name: (0, 1),
            len: 4,
            cigar: (0, 1),
            apos: 10,
            rg: -1,
            ..Record::default()
        });
        let mut text = Vec::new();
        let header = SamHeader::default();
        assert_eq!(
            write_sam_line(&mut text, &slice, 0, &header, &["chr1"]),
            Ok(false)
        );
        assert!(text.is_empty());
        slice.records[0].ref_id = -1;
        assert_eq!(
            write_sam_line(&mut text, &slice, 0, &header, &["chr1"]),
            Ok(true)
        );
    }

    #[test]
    fn bins_match_htslib() {
        assert_eq!(reg2bin(0, 1), 4681);
        assert_eq!(reg2bin(16383, 16385), 585);
        assert_eq!(reg2bin(0, 1 << 29), 0);
    }

    #[test]
    fn nt16_codes() {
        assert_eq!(NT16[usize::from(b'=')], 0);
        assert_eq!(NT16[usize::from(b'a')], 1);
        assert_eq!(NT16[usize::from(b'R')], 5);
        assert_eq!(NT16[usize::from(b'*')], 15);
    }
}
