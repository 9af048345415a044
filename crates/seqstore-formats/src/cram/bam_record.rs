//! Decoded CRAM records to BAM record bytes, as htslib's `cram_to_bam` + `bam_set1` build
//! them: generated names for nameless reads, the `RG` tag appended after all other tags.

use super::header::SamHeader;
use super::slice::{DecodedSlice, Record};

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

/// Appends record `i` of `slice` to `out` as BAM bytes (without the block size).
pub(super) fn append_bam(
    out: &mut Vec<u8>,
    slice: &DecodedSlice,
    i: usize,
    header: &SamHeader,
) -> Result<(), String> {
    let r: &Record = &slice.records[i];
    let name_buf;
    let name: &[u8] = if r.name.1 > 0 {
        &slice.names[r.name.0..r.name.0 + r.name.1]
    } else {
        let mate = usize::try_from(r.mate_line)
            .ok()
            .filter(|&m| m < slice.records.len());
        match mate.map(|m| slice.records[m].name) {
            Some((start, len)) if len > 0 => &slice.names[start..start + len],
            _ => {
                let n = match mate {
                    Some(m) if m < i => m,
                    _ => i,
                };
                name_buf =
                    format!("{NAME_PREFIX}:{}", slice.record_counter + n as i64 + 1).into_bytes();
                name_buf.as_slice()
            }
        }
    };
    if name.len() > 254 {
        return Err("a read name is longer than 254 characters".into());
    }
    let cigar = &slice.cigars[r.cigar.0..r.cigar.0 + r.cigar.1];
    let rg = usize::try_from(r.rg).ok().map(|g| {
        header
            .read_groups
            .get(g)
            .ok_or_else(|| format!("read group {g} is not in the header"))
    });
    let rg = rg.transpose()?;
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
    out.extend_from_slice(name);
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
