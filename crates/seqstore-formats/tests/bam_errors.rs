//! Inputs that must be refused, each with a message naming the place and the problem.

#[path = "bam_support/fixtures.rs"]
mod fixtures;

use fixtures::{bgzf_block, have_samtools, make_bam, sample_sam};
use seqstore_formats::bam::{BamError, BamKind, BamOptions, ingest_bam};
use seqstore_formats::etag::EtagFamily;

fn options(kind: BamKind) -> BamOptions {
    BamOptions {
        family: EtagFamily::Md5up,
        kind,
        provenance: Some("@CO\tprovenance".to_owned()),
    }
}

/// The error message for `bytes` declared as `kind`, checked for length.
fn refuse(bytes: &[u8], kind: BamKind) -> String {
    let mut out = Vec::new();
    let err = ingest_bam(bytes, Some(&mut out), &options(kind)).unwrap_err();
    let message = err.to_string();
    assert!(message.chars().count() <= 120, "too long: {message}");
    // Without an output the same error.
    let again = ingest_bam(bytes, None, &options(kind)).unwrap_err();
    assert_eq!(again.to_string(), message);
    message
}

/// A BAM written by hand: header text, references, then records (without `block_size`).
fn hand_bam(text: &str, refs: &[(&str, u32)], records: &[Vec<u8>]) -> Vec<u8> {
    let mut raw = b"BAM\x01".to_vec();
    raw.extend((text.len() as u32).to_le_bytes());
    raw.extend(text.as_bytes());
    raw.extend((refs.len() as u32).to_le_bytes());
    for (name, len) in refs {
        raw.extend((name.len() as u32 + 1).to_le_bytes());
        raw.extend(name.as_bytes());
        raw.push(0);
        raw.extend(len.to_le_bytes());
    }
    for record in records {
        raw.extend((record.len() as u32).to_le_bytes());
        raw.extend(record);
    }
    let mut bam = bgzf_block(&raw);
    bam.extend(bgzf_block(b""));
    bam
}

/// A record on reference 0 at 0-based `pos` with `cigar` ops, bases `seq` (4-bit codes) and
/// `qual_len` quality bytes.
fn hand_record(pos: i32, cigar: &[u32], l_seq: u32, qual_len: usize, aux: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend(0i32.to_le_bytes());
    r.extend(pos.to_le_bytes());
    r.push(3); // l_read_name
    r.push(60);
    r.extend(0u16.to_le_bytes());
    r.extend((cigar.len() as u16).to_le_bytes());
    r.extend(0u16.to_le_bytes());
    r.extend(l_seq.to_le_bytes());
    r.extend((-1i32).to_le_bytes());
    r.extend((-1i32).to_le_bytes());
    r.extend(0i32.to_le_bytes());
    r.extend(b"r1\0");
    for op in cigar {
        r.extend(op.to_le_bytes());
    }
    r.extend(std::iter::repeat_n(0x12u8, l_seq.div_ceil(2) as usize));
    r.extend(std::iter::repeat_n(30u8, qual_len));
    r.extend(aux);
    r
}

const TEXT: &str = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:1000\n";

#[test]
fn a_valid_hand_built_bam_is_accepted() {
    let record = hand_record(10, &[4 << 4], 4, 4, b"XAAx");
    let bam = hand_bam(TEXT, &[("chr1", 1000)], &[record]);
    let summary = ingest_bam(&bam[..], None, &options(BamKind::Aligned)).unwrap();
    assert_eq!((summary.read_count, summary.base_count), (1, 4));
}

#[test]
fn fastq_text_and_empty_files() {
    assert_eq!(
        refuse(b"@SEQ_ID\nGATTTGGGG\n+\n!''*((((\n", BamKind::Aligned),
        "not BGZF: the file starts with '@SEQ_ID\\n…' — is this FASTQ?"
    );
    assert_eq!(
        refuse(b"@HD\tVN:1.6\n@SQ\tSN:c\tLN:5\n", BamKind::Aligned),
        "not BGZF: the file starts with '@HD\\tVN:1…' — is this SAM text?"
    );
    assert_eq!(
        refuse(b"hello", BamKind::Unaligned),
        "not BGZF: the file starts with 'hello'"
    );
    // gzip's header (no BGZF extra field) of a gzipped FASTQ declared as BAM.
    let gzipped = [
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x4b, 0x4c, 0x4a, 6, 0, 0xc2, 0x41, 0x24, 0x35, 3, 0,
        0, 0,
    ];
    let message = refuse(&gzipped, BamKind::Aligned);
    assert!(
        message.ends_with("plain gzip, not BGZF: is this FASTQ?"),
        "{message}"
    );
    assert_eq!(refuse(b"", BamKind::Aligned), "the file is empty");
    let mut gz = bgzf_block(b"@r1\nACGT\n+\nIIII\n");
    gz.extend(bgzf_block(b""));
    assert_eq!(
        refuse(&gz, BamKind::Unaligned),
        "BGZF data but not BAM: it starts with '@r1\\nACGT…' — is this FASTQ?"
    );
    assert_eq!(
        refuse(&bgzf_block(b""), BamKind::Unaligned),
        "BAM header: the BGZF blocks hold no data"
    );
}

#[test]
fn truncated_files() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "t", &sample_sam(1, 5000, false), true);
    let bam = std::fs::read(&path).unwrap();
    // Without the EOF block and 1000 more bytes: the cut falls inside a block.
    let cut = &bam[..bam.len() - 28 - 1000];
    let message = refuse(cut, BamKind::Aligned);
    assert!(message.starts_with("BGZF block "), "{message}");
    assert!(
        message.ends_with("the file ends inside the block: it is truncated"),
        "{message}"
    );
    // Without the EOF block only.
    let message = refuse(&bam[..bam.len() - 28], BamKind::Aligned);
    assert_eq!(
        message,
        format!(
            "the file ends at byte {} without the BGZF end-of-file block: it is truncated",
            bam.len() - 28
        )
    );
    // Cut inside a record but at a block boundary, with an EOF block after.
    let record = hand_record(10, &[4 << 4], 4, 4, b"");
    let whole = hand_bam(TEXT, &[("chr1", 1000)], &[record]);
    let mut raw = Vec::new();
    use std::io::Read as _;
    flate2::read::MultiGzDecoder::new(&whole[..])
        .read_to_end(&mut raw)
        .unwrap();
    let mut short = bgzf_block(&raw[..raw.len() - 3]);
    short.extend(bgzf_block(b""));
    assert_eq!(
        refuse(&short, BamKind::Aligned),
        "record 1: the file ends inside the record: it is truncated"
    );
    let mut header_only = bgzf_block(&raw[..20]);
    header_only.extend(bgzf_block(b""));
    assert_eq!(
        refuse(&header_only, BamKind::Aligned),
        "BAM header: the file ends inside the header: it is truncated"
    );
}

#[test]
fn flipped_byte_inside_a_compressed_block() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "c", &sample_sam(2, 5000, false), true);
    let mut bam = std::fs::read(&path).unwrap();
    // The second block: skip the first (the header).
    let first = usize::from(u16::from_le_bytes([bam[16], bam[17]])) + 1;
    let second = usize::from(u16::from_le_bytes([bam[first + 16], bam[first + 17]])) + 1;
    bam[first + second / 2] ^= 0x10;
    let message = refuse(&bam, BamKind::Aligned);
    let prefix = format!("BGZF block 2 at byte {first}: ");
    assert!(message.starts_with(&prefix), "{message}");
    assert!(
        message.ends_with("CRC32 mismatch: the block is corrupt")
            || message.ends_with("corrupt compressed data")
            || message.contains("ISIZE says"),
        "{message}"
    );
}

#[test]
fn malformed_records() {
    let refs = &[("chr1", 1000)];
    let check = |record: Vec<u8>, expected: &str| {
        let ok = hand_record(5, &[4 << 4], 4, 4, b"");
        let bam = hand_bam(TEXT, refs, &[ok, record]);
        assert_eq!(refuse(&bam, BamKind::Aligned), expected);
    };
    // QUAL shorter than SEQ: the record ends before its QUAL does.
    check(
        hand_record(10, &[4 << 4], 4, 2, b""),
        "record 2: QUAL runs past the end of the record (block_size too small)",
    );
    check(
        hand_record(10, &[4 << 4], 5, 5, b""),
        "record 2: CIGAR covers 4 read bases but SEQ has 5",
    );
    check(
        hand_record(10, &[4 << 4], 4, 4, b"XDd\0\0\0\0\0\0\0\0"),
        "record 2: tag XD has the invalid type 'd'",
    );
    check(
        hand_record(10, &[4 << 4], 4, 4, b"XZZabc"),
        "record 2: tag XZ is not NUL-terminated",
    );
    check(
        hand_record(10, &[4 << 4 | 9], 4, 4, b""),
        "record 2: invalid CIGAR operation code 9",
    );
    let mut other_ref = hand_record(10, &[4 << 4], 4, 4, b"");
    other_ref[..4].copy_from_slice(&1i32.to_le_bytes());
    check(
        other_ref,
        "record 2: RNAME reference id 1 is not in the header (1 references)",
    );
    let mut tiny = hand_record(10, &[], 0, 0, b"");
    tiny.truncate(20);
    check(
        tiny,
        "record 2: invalid block_size 20 (under 32, or over the 16 MiB limit of this service)",
    );
    check(
        hand_record(2, &[4 << 4], 4, 4, b""),
        "record 2: 'chr1':3 comes after 'chr1':6; a BAM must be coordinate-sorted (samtools sort)",
    );
}

#[test]
fn unsorted_bam_declared_aligned() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_bam(dir.path(), "u", &sample_sam(4, 2000, false), false);
    let message = refuse(&std::fs::read(&path).unwrap(), BamKind::Aligned);
    assert!(message.starts_with("record "), "{message}");
    assert!(
        message.ends_with("a BAM must be coordinate-sorted (samtools sort)"),
        "{message}"
    );
    // The same file is a fine uBAM? No: it holds mapped reads.
    let message = refuse(&std::fs::read(&path).unwrap(), BamKind::Unaligned);
    assert!(message.contains("in a file declared uBAM"), "{message}");
}

#[test]
fn bad_headers_and_provenance() {
    let record = hand_record(10, &[4 << 4], 4, 4, b"");
    let bam = hand_bam(
        "@SQ\tSN:chr9\tLN:1000\n",
        &[("chr1", 1000)],
        std::slice::from_ref(&record),
    );
    assert_eq!(
        refuse(&bam, BamKind::Aligned),
        "BAM header: the @SQ lines (1 references) differ from the binary reference list (1)"
    );
    let bam = hand_bam("@SQ\tSN:chr1\n", &[("chr1", 1000)], &[]);
    let message = refuse(&bam, BamKind::Aligned);
    assert!(message.starts_with("BAM header: line 1: "), "{message}");

    let bam = hand_bam(TEXT, &[("chr1", 1000)], &[record]);
    for bad in ["no comment", "@CO\ttwo\nlines"] {
        let options = BamOptions {
            provenance: Some(bad.to_owned()),
            ..options(BamKind::Aligned)
        };
        let err = ingest_bam(&bam[..], None, &options).unwrap_err();
        assert!(matches!(err, BamError::InvalidProvenance));
    }
}
