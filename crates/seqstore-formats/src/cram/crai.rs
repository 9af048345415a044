//! `.crai` entries (one per slice and reference, as `samtools index` writes them) and the
//! gzip text they are stored as.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// One line of a `.crai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CraiEntry {
    pub(super) ref_id: i32,
    pub(super) start: i64,
    pub(super) span: i64,
    /// Offset of the container in the input file.
    pub(super) container_offset: u64,
    /// Offset of the slice from the end of the container header (the landmark).
    pub(super) landmark: usize,
    pub(super) size: usize,
}

/// Gzip-compressed `.crai` text with container offsets moved by `shift` bytes.
pub(super) fn encode(entries: &[CraiEntry], shift: i64) -> Vec<u8> {
    let mut text = String::new();
    for e in entries {
        let offset = e.container_offset as i64 + shift;
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            e.ref_id, e.start, e.span, offset, e.landmark, e.size
        ));
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // writing to a Vec cannot fail
    let _ = gz.write_all(text.as_bytes());
    gz.finish().unwrap_or_default()
}

/// Entries for a multi-reference slice: one per run of records on the same reference
/// (htslib `cram_index_build_multiref`), from each run's first start to its furthest end.
pub(super) fn multiref_entries(
    records: impl Iterator<Item = (i32, i64, i64)>,
    base: CraiEntry,
) -> Result<Vec<CraiEntry>, String> {
    let mut out = Vec::new();
    let mut current: Option<(i32, i64, i64)> = None;
    let (mut last_ref, mut last_pos) = (-9, -9);
    for (ref_id, apos, aend) in records {
        if ref_id == last_ref && apos < last_pos {
            return Err("the CRAM is not sorted by coordinate, so it cannot be indexed".into());
        }
        (last_ref, last_pos) = (ref_id, apos);
        match &mut current {
            Some((r, _, end)) if *r == ref_id => *end = (*end).max(aend),
            _ => {
                if let Some((r, start, end)) = current.take() {
                    out.push(CraiEntry {
                        ref_id: r,
                        start,
                        span: end - start + 1,
                        ..base
                    });
                }
                current = Some((ref_id, apos, aend));
            }
        }
    }
    if let Some((r, start, end)) = current {
        out.push(CraiEntry {
            ref_id: r,
            start,
            span: end - start + 1,
            ..base
        });
    }
    Ok(out)
}
