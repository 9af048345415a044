//! Alignment records as `samtools view` prints them: htslib 1.16 `sam_format1`, no header.
//!
//! This text is what BAM and CRAM ETags hash (spec E1): one line per record, eleven
//! tab-separated fields, then the aux fields in stored order, each line ending in `\n`.
//! htslib's choices that differ from a plain SAM writer (SAM v1 §1.5):
//! - every integer tag width (`cCsSiI`) prints as `i`; `f` and `B:f` values as C `%g`;
//! - `B` arrays print `B:<subtype>` then `,value` per element, so an empty one is `B:c`;
//! - RNEXT is `=` when equal to RNAME, POS/PNEXT 0 and RNAME/RNEXT `*` when unset;
//! - SEQ `*` prints QUAL `*` too; QUAL is `*` when its first byte is 0xFF;
//! - a `CG:B:I` tag holding the CIGAR of a >65535-operation record replaces the placeholder
//!   CIGAR and is not printed (`bam_tag2cigar` in `bam_read1`).
//!
//! Two entry points: [`write_bam_record`] over the bytes of a BAM record (the hot loop of
//! BAM ETags) and [`write_record_buf`]/[`write_record`] over noodles records (CRAM). Both
//! append to the caller's buffer and allocate nothing per record (but [`write_record`], whose
//! trait boxes its parts).

mod bam_record;
mod bam_text;
mod float;
mod int;
mod record_buf;

pub use self::bam_record::{BamRecord, FIXED_LEN, RecordError};
pub use self::bam_text::write_bam_record;
pub(crate) use self::bam_text::{reference_name, write_aux};
pub(crate) use self::int::{push_i64, push_u64};
pub use self::record_buf::{write_record, write_record_buf};

/// Mapping quality printed when a noodles record has none (BAM stores 255).
const MISSING_MAPPING_QUALITY: u8 = 255;

/// CIGAR operation characters by BAM op code (htslib `bam_cigar_opchr`).
pub(crate) const CIGAR_OP_CHARS: &[u8; 16] = b"MIDNSHP=XB??????";

/// 4-bit base codes (SAM v1 §4.2.3).
const NT16: &[u8; 16] = b"=ACMGRSVTWYHKDBN";

/// The two bases of every packed SEQ byte, high nibble first.
const NT16_PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [NT16[i >> 4], NT16[i & 0xf]];
        i += 1;
    }
    pairs
};

/// Each ASCII base as it comes back from htslib's 4-bit code (`seq_nt16_table`).
const CANONICAL_BASES: [u8; 256] = {
    let mut table = [b'N'; 256];
    let mut code = 0;
    while code < 16 {
        let base = NT16[code];
        table[base as usize] = base;
        table[base.to_ascii_lowercase() as usize] = base;
        code += 1;
    }
    table[b'U' as usize] = b'T';
    table[b'u' as usize] = b'T';
    table
};

#[cfg(test)]
mod tests;
