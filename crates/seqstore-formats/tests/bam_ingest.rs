//! BAM/uBAM ingestion against samtools: ETags of every family equal `samtools view F |
//! md5sum` (sha256sum, sha512sum), counts equal `samtools view -c -F 0x900`, and the copy is
//! the input plus exactly one `@CO` line.

#[path = "bam_support/fixtures.rs"]
mod fixtures;

use std::path::Path;

use fixtures::{digest, have_samtools, make_bam, sample_sam, samtools, view};
use seqstore_formats::bam::{BamError, BamKind, BamOptions, BamSummary, ingest_bam};
use seqstore_formats::etag::EtagFamily;

const PROVENANCE: &str = "@CO\tHealthOmics sequence store 1234567890 ingested 2026-11-29T01:02:03Z";

fn options(family: EtagFamily, kind: BamKind) -> BamOptions {
    BamOptions {
        family,
        kind,
        provenance: Some(PROVENANCE.to_owned()),
    }
}

fn ingest(path: &Path, options: &BamOptions) -> (Result<BamSummary, BamError>, Vec<u8>) {
    let input = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    let result = ingest_bam(input, Some(&mut out), options);
    (result, out)
}

/// `samtools view -c -F 0x900` and the sum of SEQ lengths of `samtools view -F 0x900`.
fn samtools_counts(path: &Path) -> (u64, u64) {
    let p = path.to_str().unwrap();
    let count = String::from_utf8(samtools(&["view", "-c", "-F", "0x900", p], None)).unwrap();
    let text = String::from_utf8(samtools(&["view", "-F", "0x900", p], None)).unwrap();
    let bases = text
        .lines()
        .map(|l| l.split('\t').nth(9).unwrap())
        .filter(|seq| *seq != "*")
        .map(|seq| seq.len() as u64)
        .sum();
    (count.trim().parse().unwrap(), bases)
}

/// Checks ETags of all families, counts and the copy of one file.
fn check_file(path: &Path, kind: BamKind) -> Vec<u8> {
    let text = view(path);
    let (reads, bases) = samtools_counts(path);
    let mut copy = Vec::new();
    for (family, tool) in [
        (EtagFamily::Md5up, "md5sum"),
        (EtagFamily::Sha256up, "sha256sum"),
        (EtagFamily::Sha512up, "sha512sum"),
    ] {
        let (result, out) = ingest(path, &options(family, kind));
        let summary = result.unwrap();
        assert_eq!(summary.etag, digest(tool, &text), "{family:?}");
        assert_eq!((summary.read_count, summary.base_count), (reads, bases));
        assert_eq!(summary.index.is_some(), kind == BamKind::Aligned);
        copy = out;
    }

    // Without an output: same ETag and counts, no index.
    let input = std::fs::File::open(path).unwrap();
    let summary = ingest_bam(input, None, &options(EtagFamily::Md5up, kind)).unwrap();
    assert_eq!(summary.etag, digest("md5sum", &text));
    assert_eq!((summary.read_count, summary.base_count), (reads, bases));
    assert!(summary.index.is_none());
    copy
}

/// The copy's header is the input's plus the provenance line at the end, its records the
/// input's, and samtools finds it complete.
fn check_copy(dir: &Path, input: &Path, copy: &[u8]) {
    let out = dir.join("copy.bam");
    std::fs::write(&out, copy).unwrap();
    // `-u`: a uBAM has no targets.
    samtools(&["quickcheck", "-u", out.to_str().unwrap()], None);
    let header_of = |p: &Path| samtools(&["view", "-H", "--no-PG", p.to_str().unwrap()], None);
    let mut expected = header_of(input);
    expected.extend_from_slice(PROVENANCE.as_bytes());
    expected.push(b'\n');
    assert_eq!(
        String::from_utf8(header_of(&out)).unwrap(),
        String::from_utf8(expected).unwrap()
    );
    assert!(view(&out) == view(input), "records of the copy differ");
}

#[test]
fn aligned_bam_with_every_record_and_tag_kind() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "aligned", &sample_sam(11, 20_000, true), true);
    let text = view(&path);
    // The fixture holds what the test is about.
    let text_str = String::from_utf8_lossy(&text);
    for needle in [
        "\tEf:B:f",
        "\tXz:f:-0",
        "\tXt:f:1.4013e-45",
        "\tXb:f:1.23457e+08",
        "\tXf:f:3.14159",
    ] {
        assert!(text_str.contains(needle), "fixture lacks {needle}");
    }
    assert!(
        text_str
            .lines()
            .any(|l| l.starts_with("longread\t") && !l.contains("CG:B"))
    );
    let copy = check_file(&path, BamKind::Aligned);
    check_copy(dir.path(), &path, &copy);
}

#[test]
fn header_only_bam() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "empty", fixtures::SAM_HEADER, true);
    let copy = check_file(&path, BamKind::Aligned);
    check_copy(dir.path(), &path, &copy);
    let input = std::fs::File::open(&path).unwrap();
    let summary = ingest_bam(input, None, &options(EtagFamily::Md5up, BamKind::Aligned));
    assert_eq!(summary.unwrap().etag, "d41d8cd98f00b204e9800998ecf8427e");
}

#[test]
fn ubam_from_samtools_import() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fixtures::Rng(5);
    let (mut r1, mut r2) = (String::new(), String::new());
    for i in 0..3000 {
        for (fq, mate) in [(&mut r1, 1), (&mut r2, 2)] {
            let len = 50 + rng.below(101) as usize;
            let seq: String = (0..len)
                .map(|_| *rng.pick(&['A', 'C', 'G', 'T', 'N']))
                .collect();
            let qual: String = (0..len)
                .map(|_| char::from(b'!' + rng.below(41) as u8))
                .collect();
            fq.push_str(&format!("@read{i}/{mate} BC:Z:ACGT\n{seq}\n+\n{qual}\n"));
        }
    }
    let (p1, p2) = (dir.path().join("r1.fq"), dir.path().join("r2.fq"));
    std::fs::write(&p1, r1).unwrap();
    std::fs::write(&p2, r2).unwrap();
    let ubam = dir.path().join("u.bam");
    samtools(
        &[
            "import",
            "-T",
            "*",
            "-1",
            p1.to_str().unwrap(),
            "-2",
            p2.to_str().unwrap(),
            "-o",
            ubam.to_str().unwrap(),
        ],
        None,
    );
    let copy = check_file(&ubam, BamKind::Unaligned);
    check_copy(dir.path(), &ubam, &copy);
    assert_eq!(samtools_counts(&ubam).0, 6000);

    // A uBAM declared as an aligned BAM has no references.
    let (result, _) = ingest(&ubam, &options(EtagFamily::Md5up, BamKind::Aligned));
    let message = result.unwrap_err().to_string();
    assert!(message.contains("is this a uBAM?"), "{message}");
}

#[test]
fn unmapped_sam_as_ubam_and_aligned_bam_as_ubam() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sam = String::from("@HD\tVN:1.6\tSO:queryname\n@RG\tID:x\tSM:y\n");
    for i in 0..500 {
        sam.push_str(&format!(
            "q{i}\t77\t*\t0\t0\t*\t*\t0\t0\tACGTN\tIIII#\tRG:Z:x\n"
        ));
        sam.push_str(&format!("q{i}\t141\t*\t0\t0\t*\t*\t0\t0\t*\t*\tRG:Z:x\n"));
    }
    let path = make_bam(dir.path(), "unmapped", &sam, false);
    check_file(&path, BamKind::Unaligned);

    let aligned = make_bam(dir.path(), "aligned", &sample_sam(3, 200, false), true);
    let (result, _) = ingest(&aligned, &options(EtagFamily::Md5up, BamKind::Unaligned));
    let message = result.unwrap_err().to_string();
    assert!(message.contains("in a file declared uBAM"), "{message}");
    assert!(message.starts_with("record "), "{message}");
    assert!(message.len() <= 120, "{message}");
}
