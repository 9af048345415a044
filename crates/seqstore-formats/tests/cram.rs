//! Oracle tests for CRAM ingestion: the ETag must be the hash of what `samtools view
//! --reference` prints, the counts what `samtools view -c -F 0x900` counts, and the
//! written file and `.crai` must read back in samtools exactly like the input.
//!
//! Skipped with a note when `samtools` is missing, but failing when `CI` is set.

mod cram_support;

use std::path::Path;

use cram_support::{Fixture, have_samtools, samtools, samtools_ok};
use md5::{Digest, Md5};
use seqstore_formats::cram::{CramError, CramOptions, CramSummary, EtagFamily, ingest_cram};
use sha2::{Sha256, Sha512};

const PROVENANCE: &str = "@CO\tHealthOmics sequence store 1234567890 ingested 2024-05-01T12:00:00Z";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ingest(
    file: &Path,
    reference: &Path,
    family: EtagFamily,
    out: Option<&mut Vec<u8>>,
) -> Result<CramSummary, CramError> {
    let input = std::fs::File::open(file).unwrap();
    let options = CramOptions {
        family,
        provenance: Some(PROVENANCE.to_owned()),
    };
    match out {
        Some(out) => ingest_cram(input, Some(out), reference, &options),
        None => ingest_cram(input, None, reference, &options),
    }
}

/// Primary records and their SEQ lengths, from `samtools view` text.
fn primary_counts(sam: &[u8]) -> (u64, u64) {
    let mut reads = 0;
    let mut bases = 0;
    for line in sam.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        let flag: u32 = std::str::from_utf8(fields[1]).unwrap().parse().unwrap();
        if flag & 0x900 == 0 {
            reads += 1;
            if fields[9] != b"*" {
                bases += fields[9].len() as u64;
            }
        }
    }
    (reads, bases)
}

/// ETags of all three families, counts, and the expected values from samtools.
fn check_against_samtools(fx: &Fixture, cram: &Path) {
    let text = fx.view(cram, &[]);
    assert!(text.len() > 10_000, "the fixture is too small");
    let reference = fx.path("ref.fa");
    let md5 = ingest(cram, &reference, EtagFamily::Md5up, None).unwrap();
    assert_eq!(md5.etag, hex(&Md5::digest(&text)), "{}", cram.display());
    let sha256 = ingest(cram, &reference, EtagFamily::Sha256up, None).unwrap();
    assert_eq!(sha256.etag, hex(&Sha256::digest(&text)));
    let sha512 = ingest(cram, &reference, EtagFamily::Sha512up, None).unwrap();
    assert_eq!(sha512.etag, hex(&Sha512::digest(&text)));

    let counted = samtools_ok(
        fx.dir.path(),
        &[
            "view",
            "-c",
            "-F",
            "0x900",
            "--reference",
            "ref.fa",
            cram.to_str().unwrap(),
        ],
    );
    let counted: u64 = String::from_utf8(counted).unwrap().trim().parse().unwrap();
    let (reads, bases) = primary_counts(&text);
    assert_eq!(reads, counted);
    assert_eq!((md5.read_count, md5.base_count), (reads, bases));
}

#[test]
fn etags_and_counts_match_samtools_for_cram_3_0_and_3_1() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0xc0ffee, 3000);
    let variants: [(&str, &[&str]); 5] = [
        ("v30.cram", &["version=3.0", "seqs_per_slice=400"]),
        (
            "v31.cram",
            &[
                "version=3.1",
                "seqs_per_slice=300",
                "slices_per_container=2",
            ],
        ),
        (
            "v31codecs.cram",
            &["version=3.1", "use_fqz", "use_tok", "use_arith"],
        ),
        ("v31archive.cram", &["version=3.1", "archive"]),
        ("v30bz.cram", &["version=3.0", "use_bzip2", "use_lzma"]),
    ];
    for (name, options) in variants {
        let cram = fx.cram(name, options);
        check_against_samtools(&fx, &cram);
    }
}

#[test]
fn embedded_and_reference_free_crams_match_samtools() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0xbead, 1500);
    for (name, options) in [
        ("embed.cram", ["version=3.0", "embed_ref"]),
        ("noref.cram", ["version=3.1", "no_ref"]),
    ] {
        let cram = fx.cram(name, &options);
        check_against_samtools(&fx, &cram);
    }
}

/// The text samtools prints for `region` of `file` with `index` beside it, in a fresh dir.
fn query(fx: &Fixture, file: &[u8], index: &[u8], region: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q.cram"), file).unwrap();
    std::fs::write(dir.path().join("q.cram.crai"), index).unwrap();
    let reference = fx.path("ref.fa");
    samtools_ok(
        dir.path(),
        &[
            "view",
            "--reference",
            reference.to_str().unwrap(),
            "q.cram",
            region,
        ],
    )
}

#[test]
fn written_file_has_the_provenance_line_and_a_working_index() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0x1dea, 2500);
    let cram = fx.cram(
        "in.cram",
        &[
            "version=3.0",
            "seqs_per_slice=250",
            "slices_per_container=2",
        ],
    );
    let mut out = Vec::new();
    let summary = ingest(&cram, &fx.path("ref.fa"), EtagFamily::Md5up, Some(&mut out)).unwrap();
    std::fs::write(fx.path("out.cram"), &out).unwrap();
    let out_path = fx.path("out.cram");

    // header: the input's plus exactly one @CO line at the end
    let header_in = samtools_ok(fx.dir.path(), &["view", "-H", "--no-PG", "in.cram"]);
    let header_out = samtools_ok(fx.dir.path(), &["view", "-H", "--no-PG", "out.cram"]);
    let mut expected = header_in.clone();
    expected.extend_from_slice(PROVENANCE.as_bytes());
    expected.push(b'\n');
    assert_eq!(
        String::from_utf8_lossy(&header_out),
        String::from_utf8_lossy(&expected)
    );
    // records: unchanged, and so is the ETag of the written file
    assert_eq!(fx.view(&out_path, &[]), fx.view(&cram, &[]));
    let again = ingest(&out_path, &fx.path("ref.fa"), EtagFamily::Md5up, None).unwrap();
    assert_eq!(again.etag, summary.etag);

    // our .crai is the one samtools index writes for the written file
    samtools_ok(fx.dir.path(), &["index", "-o", "samtools.crai", "out.cram"]);
    let gunzip = |b: &[u8]| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(b), &mut text)
            .unwrap();
        text
    };
    assert_eq!(
        gunzip(&summary.index),
        gunzip(&std::fs::read(fx.path("samtools.crai")).unwrap())
    );

    // and region queries through it return what the input returns with its own index
    samtools_ok(fx.dir.path(), &["index", "in.cram"]);
    let input = std::fs::read(&cram).unwrap();
    let input_index = std::fs::read(fx.path("in.cram.crai")).unwrap();
    let regions = [
        "chr1:1000-5000",
        "chr1:19900-20000",
        "chr2:100-200",
        "chr2",
        "chr3:2000-2500",
        "chrX",
        "*",
    ];
    for region in regions {
        let expected = query(&fx, &input, &input_index, region);
        assert!(
            !expected.is_empty() || region == "chr2:100-200",
            "{region} selects nothing"
        );
        assert_eq!(
            query(&fx, &out, &summary.index, region),
            expected,
            "{region}"
        );
    }
}

#[test]
fn no_provenance_copies_the_header_container() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0x5a5a, 400);
    let cram = fx.cram("in.cram", &["version=3.1"]);
    let mut out = Vec::new();
    let options = CramOptions {
        family: EtagFamily::Md5up,
        provenance: None,
    };
    ingest_cram(
        std::fs::File::open(&cram).unwrap(),
        Some(&mut out),
        &fx.path("ref.fa"),
        &options,
    )
    .unwrap();
    assert_eq!(out, std::fs::read(&cram).unwrap());
}

fn error_of(file: &Path, reference: &Path) -> CramError {
    let err = ingest(file, reference, EtagFamily::Md5up, None).unwrap_err();
    assert!(err.to_string().len() <= 120, "too long: {err}");
    err
}

#[test]
fn bad_inputs_are_refused_with_clear_messages() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0xbad, 2000);
    let cram = fx.cram("in.cram", &["version=3.0", "seqs_per_slice=500"]);
    let bytes = std::fs::read(&cram).unwrap();
    let reference = fx.path("ref.fa");

    // a reference that differs in one base of chr2
    let mut other = fx.refs.clone();
    let base = &mut other[1].1[4000];
    *base = if base.eq_ignore_ascii_case(&b'A') {
        b'C'
    } else {
        b'A'
    };
    cram_support::write_fasta(&fx.path("other.fa"), &other);
    samtools_ok(fx.dir.path(), &["faidx", "other.fa"]);
    let err = error_of(&cram, &fx.path("other.fa"));
    assert!(matches!(err, CramError::Reference(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("'chr2'") && msg.contains("MD5") && msg.contains("M5"),
        "{msg}"
    );
    // samtools agrees that this reference is wrong
    let check = samtools(
        fx.dir.path(),
        &["view", "--reference", "other.fa", "in.cram"],
    );
    assert!(!check.status.success() || !check.stderr.is_empty());

    let write = |name: &str, content: &[u8]| {
        let path = fx.path(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    // no EOF container, and a container cut in the middle
    let err = error_of(&write("noeof.cram", &bytes[..bytes.len() - 38]), &reference);
    assert!(matches!(err, CramError::Truncated(_)), "{err:?}");
    assert!(err.to_string().contains("EOF container"), "{err}");
    let err = error_of(&write("cut.cram", &bytes[..bytes.len() / 2]), &reference);
    assert!(matches!(err, CramError::Truncated(_)), "{err:?}");

    // one flipped byte inside a data block
    let mut flipped = bytes.clone();
    let at = bytes.len() / 2;
    flipped[at] ^= 0x40;
    let err = error_of(&write("flipped.cram", &flipped), &reference);
    assert!(matches!(err, CramError::Checksum(_)), "{err:?}");
    assert!(err.to_string().contains("container"), "{err}");

    // a BAM with a .cram name, and an empty file
    samtools_ok(fx.dir.path(), &["view", "-b", "-o", "in.bam", "in.sam"]);
    let err = error_of(
        &write("bam.cram", &std::fs::read(fx.path("in.bam")).unwrap()),
        &reference,
    );
    assert!(matches!(err, CramError::NotCram(_)), "{err:?}");
    let err = error_of(&write("empty.cram", b""), &reference);
    assert!(matches!(err, CramError::Empty), "{err:?}");
    // a reference without the sequences of the CRAM
    cram_support::write_fasta(&fx.path("tiny.fa"), &fx.refs[2..3]);
    samtools_ok(fx.dir.path(), &["faidx", "tiny.fa"]);
    let err = error_of(&cram, &fx.path("tiny.fa"));
    assert!(err.to_string().contains("'chr1'"), "{err}");
}

#[test]
fn unsorted_crams_are_refused() {
    if !have_samtools() {
        return;
    }
    let fx = Fixture::new(0x50f7, 1500);
    // reverse the records of in.sam: still valid SAM, no longer sorted
    let sam = std::fs::read(fx.path("in.sam")).unwrap();
    let (header, body): (Vec<&[u8]>, Vec<&[u8]>) = sam
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .partition(|l| l.starts_with(b"@"));
    let mut text: Vec<u8> = header
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    text.extend(
        body.iter()
            .rev()
            .flat_map(|l| l.iter().copied().chain([b'\n'])),
    );
    std::fs::write(fx.path("in.sam"), text).unwrap();
    let cram = fx.cram("rev.cram", &["version=3.0", "seqs_per_slice=100"]);
    let err = error_of(&cram, &fx.path("ref.fa"));
    assert!(matches!(err, CramError::NotSorted(_)), "{err:?}");
    assert!(
        samtools(fx.dir.path(), &["index", "rev.cram"])
            .status
            .code()
            != Some(0)
    );
}
