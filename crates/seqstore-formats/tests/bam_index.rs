//! The `.bai` of the copy against `samtools index` of the input: the same records for region
//! queries, the same `idxstats`.

#[path = "bam_support/fixtures.rs"]
mod fixtures;

use std::path::Path;

use fixtures::{REFERENCES, Rng, have_samtools, make_bam, rechunk, sample_sam, samtools};
use seqstore_formats::bam::{BamKind, BamOptions, ingest_bam};
use seqstore_formats::etag::EtagFamily;

/// Ingests `input`, writes the copy and our `.bai` next to it in a fresh directory.
fn copy_with_our_index(input: &Path, dir: &Path) -> std::path::PathBuf {
    let options = BamOptions {
        family: EtagFamily::Md5up,
        kind: BamKind::Aligned,
        provenance: Some("@CO\tcopy".to_owned()),
    };
    let mut out = Vec::new();
    let summary = ingest_bam(
        std::fs::File::open(input).unwrap(),
        Some(&mut out),
        &options,
    );
    let index = summary.unwrap().index.unwrap();
    let copy = dir.join("copy.bam");
    std::fs::write(&copy, out).unwrap();
    std::fs::write(dir.join("copy.bam.bai"), index).unwrap();
    copy
}

/// Regions: whole references, random windows, tiny ones, past the end, the long read's.
fn regions() -> Vec<String> {
    let mut rng = Rng(99);
    let mut regions: Vec<String> = REFERENCES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    regions.push("chr2:5000-5001".to_owned());
    regions.push("chr2:20000-40000".to_owned());
    regions.push("chr1:199000-300000".to_owned());
    for _ in 0..60 {
        let (name, len) = *rng.pick(&REFERENCES[..2]);
        let start = 1 + rng.below(len);
        let width = *rng.pick(&[1, 100, 5000, 40_000]);
        regions.push(format!("{name}:{start}-{}", start + width));
    }
    regions
}

fn check_queries(input: &Path, work: &Path) {
    // The input, with an index made by samtools.
    samtools(&["index", input.to_str().unwrap()], None);
    let ours = tempfile::tempdir_in(work).unwrap();
    let copy = copy_with_our_index(input, ours.path());
    let (theirs, copy) = (input.to_str().unwrap(), copy.to_str().unwrap());
    let mut total = 0;
    for region in regions() {
        let expected = samtools(&["view", theirs, &region], None);
        let actual = samtools(&["view", copy, &region], None);
        assert!(actual == expected, "region {region} differs");
        total += expected.len();
    }
    assert!(total > 100_000, "the regions hold records");
    assert_eq!(
        samtools(&["idxstats", copy], None),
        samtools(&["idxstats", theirs], None)
    );
    assert_eq!(
        samtools(&["view", "-c", copy, "*"], None),
        samtools(&["view", "-c", theirs, "*"], None)
    );
}

#[test]
fn region_queries_match_samtools_index() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = make_bam(dir.path(), "sorted", &sample_sam(21, 30_000, true), true);
    check_queries(&input, dir.path());
}

#[test]
fn region_queries_when_header_and_records_share_and_straddle_blocks() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = make_bam(dir.path(), "sorted", &sample_sam(22, 8_000, true), true);
    let bytes = std::fs::read(&input).unwrap();
    for chunk in [1000, 0xff00, 65536] {
        let sub = tempfile::tempdir_in(dir.path()).unwrap();
        let rechunked = sub.path().join("rechunked.bam");
        std::fs::write(&rechunked, rechunk(&bytes, chunk)).unwrap();
        check_queries(&rechunked, sub.path());
    }
}
