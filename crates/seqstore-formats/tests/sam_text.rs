//! The generic formatter (the CRAM path) against `samtools view` of the same records.

#[path = "bam_support/fixtures.rs"]
mod fixtures;

use fixtures::{have_samtools, make_bam, sample_sam, view};
use noodles_bam as bam;
use seqstore_formats::sam_text::{write_record, write_record_buf};

#[test]
fn record_buf_text_equals_samtools_view() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "generic", &sample_sam(7, 3000, false), true);
    let expected = view(&path);

    let mut reader = bam::io::reader::Builder.build_from_path(&path).unwrap();
    let header = reader.read_header().unwrap();
    let mut by_buf = Vec::new();
    let mut by_trait = Vec::new();
    for record in reader.record_bufs(&header) {
        let record = record.unwrap();
        write_record_buf(&mut by_buf, &header, &record).unwrap();
        write_record(&mut by_trait, &header, &record).unwrap();
    }
    assert!(
        expected.len() > 100_000
            && expected
                .windows(7)
                .any(|w| w == b"Ef:B:f\t" || w == b"Ef:B:f\n")
    );
    assert!(
        by_buf == expected,
        "{}",
        first_difference(&by_buf, &expected)
    );
    assert!(
        by_trait == expected,
        "{}",
        first_difference(&by_trait, &expected)
    );
}

/// The first differing line of two texts, for a readable failure.
fn first_difference(ours: &[u8], theirs: &[u8]) -> String {
    let ours = String::from_utf8_lossy(ours);
    let theirs = String::from_utf8_lossy(theirs);
    for (i, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        if a != b {
            return format!("line {}:\nours:     {a}\nsamtools: {b}", i + 1);
        }
    }
    format!(
        "{} lines vs {} lines",
        ours.lines().count(),
        theirs.lines().count()
    )
}
