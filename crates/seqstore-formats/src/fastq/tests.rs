//! FASTQ ingest, one byte literal per edge case; each source is also pushed a byte at a time.

use super::*;
use crate::etag::EtagHasher;
use crate::gzip::tests::{bgzf, gzip};

/// Two records: `printf '@r1\nACGT\n+\nIIII\n@r2 2:N:0:1\nacgtn\n+r2\n#####\n'`.
const TWO: &[u8] = b"@r1\nACGT\n+\nIIII\n@r2 2:N:0:1\nacgtn\n+r2\n#####\n";
/// `md5sum`, `sha256sum` and `sha512sum` of [`TWO`].
const TWO_ETAGS: [(EtagFamily, &str); 3] = [
    (EtagFamily::Md5up, "60161f75fddb18a28cb74067811a4bfd"),
    (
        EtagFamily::Sha256up,
        "c477f02004db9977e1cd0fb74e27c525f9d0807ceb2327054d732b980979d83c",
    ),
    (
        EtagFamily::Sha512up,
        "93e52e238047abb25b6897677fcfb35264ed12c7679380d82d0c474d2becb2a2\
         e76a81e7beadc0d15cb52c593a601661407c01cab91a6432e3956eba266148e9",
    ),
];

/// Ingests `source` whole, a byte at a time and in 3-byte chunks with MD5up, asserting all
/// three give the same result and that any message fits in 120 characters.
fn ingest(source: &[u8]) -> Result<FastqSummary, FastqError> {
    ingest_as(source, EtagFamily::Md5up)
}

fn ingest_as(source: &[u8], family: EtagFamily) -> Result<FastqSummary, FastqError> {
    let whole = ingest_in_chunks(source, family, source.len().max(1));
    for size in [1, 3] {
        let chunked = ingest_in_chunks(source, family, size);
        match (&whole, &chunked) {
            // How far the decoder got before it failed depends on the chunks.
            (Err(FastqError::Gzip { .. }), Err(FastqError::Gzip { .. })) => {}
            _ => assert_eq!(
                format!("{chunked:?}"),
                format!("{whole:?}"),
                "chunks of {size}"
            ),
        }
    }
    if let Err(error) = &whole {
        let message = error.to_string();
        assert!(message.chars().count() <= 120, "too long: {message}");
    }
    whole
}

fn ingest_in_chunks(
    source: &[u8],
    family: EtagFamily,
    size: usize,
) -> Result<FastqSummary, FastqError> {
    let mut ingest = FastqIngest::new(family);
    for chunk in source.chunks(size) {
        ingest.push(chunk)?;
    }
    assert_eq!(ingest.raw_size(), source.len() as u64);
    ingest.finish()
}

/// The message of the error `source` is refused with.
fn refusal(source: &[u8]) -> String {
    ingest(source).unwrap_err().to_string()
}

fn md5_hex(bytes: &[u8]) -> String {
    let mut hasher = EtagHasher::new(EtagFamily::Md5up);
    hasher.update(bytes);
    hasher.finish()
}

#[test]
fn plain_fastq_is_counted_and_hashed_as_is() {
    let summary = ingest(b"@r1\nACGT\n+\nIIII\n").unwrap();
    assert_eq!(
        summary,
        FastqSummary {
            // `printf '@r1\nACGT\n+\nIIII\n' | md5sum`
            etag: "54fbecfaa43146c14500b3fac0e8146e".into(),
            read_count: 1,
            base_count: 4,
            compression: Compression::None,
            raw_size: 16,
            text_size: 16,
        }
    );
}

#[test]
fn every_family_hashes_the_text() {
    for (family, expected) in TWO_ETAGS {
        let summary = ingest_as(TWO, family).unwrap();
        assert_eq!(summary.etag, expected, "{family}");
        assert_eq!((summary.read_count, summary.base_count), (2, 9));
    }
}

#[test]
fn crlf_lines_are_accepted_and_hashed_with_their_cr() {
    let summary = ingest(b"@r1\r\nACGT\r\n+\r\nIIII\r\n").unwrap();
    // `printf '@r1\r\nACGT\r\n+\r\nIIII\r\n' | md5sum`
    assert_eq!(summary.etag, "64ab0f406b2f8c1ed86a2b9c2ddba514");
    assert_eq!((summary.read_count, summary.base_count), (1, 4));
}

#[test]
fn missing_final_newline_is_accepted() {
    let summary = ingest(b"@r1\nACGT\n+\nIIII").unwrap();
    assert_eq!((summary.read_count, summary.base_count), (1, 4));
    assert_eq!(summary.etag, md5_hex(b"@r1\nACGT\n+\nIIII"));
    let crlf = ingest(b"@r1\r\nACGT\r\n+\r\nIIII\r").unwrap();
    assert_eq!((crlf.read_count, crlf.base_count), (1, 4));
}

#[test]
fn lowercase_iupac_dots_and_gaps_are_bases() {
    let summary = ingest(b"@r1\nacgtnRYKMswbdhvU.-\n+\n!!!!!!!!!!!!!!!!!!\n").unwrap();
    assert_eq!((summary.read_count, summary.base_count), (1, 18));
}

#[test]
fn zero_length_reads_are_legal() {
    let summary = ingest(b"@r1\n\n+\n\n@r2\nA\n+\nI\n").unwrap();
    assert_eq!((summary.read_count, summary.base_count), (2, 1));
}

#[test]
fn plus_line_may_repeat_the_name_or_anything() {
    let summary = ingest(b"@r1 x\nAC\n+r1 x\nII\n@r2\nAC\n+other\nII\n").unwrap();
    assert_eq!(summary.read_count, 2);
}

#[test]
fn trailing_blank_lines_are_accepted() {
    let summary = ingest(b"@r1\nAC\n+\nII\n\n\r\n\n").unwrap();
    assert_eq!(summary.read_count, 1);
    assert_eq!(summary.text_size, 16);
}

#[test]
fn blank_line_between_records_is_refused() {
    assert_eq!(
        refusal(b"@r1\nAC\n+\nII\n\n@r2\nAC\n+\nII\n"),
        "record 2 (line 5): blank line before the record's '@' line"
    );
    assert_eq!(
        refusal(b"\n@r1\nAC\n+\nII\n"),
        "record 1 (line 1): blank line before the record's '@' line"
    );
}

#[test]
fn empty_source_is_refused() {
    assert_eq!(refusal(b""), "the FASTQ source is empty");
    assert_eq!(
        refusal(&gzip(b"")),
        "the gzip source decompresses to no FASTQ text"
    );
    assert_eq!(
        refusal(b"\n\r\n"),
        "no FASTQ records found: the text has only blank lines"
    );
}

#[test]
fn text_ending_inside_a_record_is_refused() {
    for (source, message) in [
        (
            &b"@r1"[..],
            "record 1 (line 2): the text ends before the record's sequence line",
        ),
        (
            b"@r1\nAC\n+\nII\n@r2\nACGT\n",
            "record 2 (line 7): the text ends before the record's '+' line",
        ),
        (
            b"@r1\nACGT\n+",
            "record 1 (line 4): the text ends before the record's quality line",
        ),
        (
            b"@r1\n\n+\n",
            "record 1 (line 4): the text ends before the record's quality line",
        ),
    ] {
        assert_eq!(refusal(source), message, "{source:?}");
    }
}

#[test]
fn quality_and_sequence_lengths_must_match() {
    assert_eq!(
        refusal(b"@r1\nAC\n+\nII\n@r2\nACGT\n+\nIII\n"),
        "record 2 (line 8): quality has 3 characters, sequence has 4"
    );
    assert_eq!(
        refusal(b"@r1\nACGT\n+\nIIIII"),
        "record 1 (line 4): quality has 5 characters, sequence has 4"
    );
    assert_eq!(
        refusal(b"@r1\nACGT\r\n+\r\nIII\r\n"),
        "record 1 (line 4): quality has 3 characters, sequence has 4"
    );
}

#[test]
fn quality_characters_are_phred_33() {
    assert_eq!(
        refusal(b"@r1\nACGT\n+\nII I\n"),
        "record 1 (line 4): invalid quality character ' ' at position 3"
    );
    assert_eq!(
        refusal(b"@r1\nACGT\n+\nIII\x7f\n"),
        "record 1 (line 4): invalid quality character '\\x7f' at position 4"
    );
}

#[test]
fn bases_outside_the_alphabet_are_refused() {
    assert_eq!(
        refusal(b"@r1\nACGX\n+\nIIII\n"),
        "record 1 (line 2): invalid base 'X' at position 4 of the sequence"
    );
    assert_eq!(
        refusal(b"@r1\nAC*T\n+\nIIII\n"),
        "record 1 (line 2): invalid base '*' at position 3 of the sequence"
    );
    assert_eq!(
        refusal(b"@r1\nAC\rGT\n+\nIIII\n"),
        "record 1 (line 2): invalid base '\\r' at position 3 of the sequence"
    );
}

#[test]
fn binary_input_fails_at_the_first_byte() {
    assert_eq!(
        refusal(b"\x00\x01\x02\x03\x04\x05\x06\x07"),
        "record 1 (line 1): expected '@', found '\\x00' — is this really FASTQ?"
    );
    assert_eq!(
        refusal(b"BAM"),
        "record 1 (line 1): expected '@', found 'B' — is this really FASTQ?"
    );
}

#[test]
fn bam_in_gzip_or_bgzf_says_it_looks_like_bam() {
    let bam = b"BAM\x01\x1c\x00\x00\x00@HD\tVN:1.6\tSO:unsorted\n\x00\x00\x00\x00";
    let expected = "this looks like BAM (the text starts with BAM\\1), not FASTQ";
    assert_eq!(refusal(&gzip(bam)), expected);
    let mut ingest = FastqIngest::new(EtagFamily::Md5up);
    let error = ingest.push(&bgzf(bam, 8)).unwrap_err();
    assert_eq!(error.to_string(), expected);
    assert_eq!(refusal(bam), expected);
}

#[test]
fn other_formats_are_named() {
    for (source, message) in [
        (
            &b">chr1\nACGT\n"[..],
            "record 1 (line 1): expected '@', found '>' — this looks like FASTA, not FASTQ",
        ),
        (
            b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:4\n",
            "record 1 (line 1): this looks like a SAM header line, not a FASTQ read name",
        ),
        (
            b"CRAM\x03\x00",
            "this looks like CRAM (it starts with 'CRAM'), not FASTQ",
        ),
        (
            b"BZh91AY&SY",
            "the source is bzip2-compressed; FASTQ must be plain text, gzip or BGZF",
        ),
        (
            b"\x28\xb5\x2f\xfd\x04\x00\x00",
            "the source is zstd-compressed; FASTQ must be plain text, gzip or BGZF",
        ),
    ] {
        assert_eq!(refusal(source), message, "{source:?}");
    }
    assert_eq!(
        refusal(&gzip(&gzip(TWO))),
        "the decompressed text is gzip again: the file was compressed twice"
    );
}

#[test]
fn wrapped_sequences_are_refused_as_multi_line_fastq() {
    assert_eq!(
        refusal(b"@r1\nACGT\nAC\n+\nIIIIII\n"),
        "record 1 (line 3): expected '+', found 'A' — multi-line FASTQ is not supported"
    );
}

#[test]
fn the_plus_line_must_follow_the_sequence() {
    assert_eq!(
        refusal(b"@r1\nACGT\n@r2\n"),
        "record 1 (line 3): expected a '+' line, found '@'"
    );
    assert_eq!(
        refusal(b"@r1\nACGT\n\nIIII\n"),
        "record 1 (line 3): expected a '+' line, found an empty line"
    );
}

#[test]
fn records_start_with_at() {
    assert_eq!(
        refusal(b"@r1\nAC\n+\nII\nr2\nAC\n+\nII\n"),
        "record 2 (line 5): expected '@' starting a record, found 'r'"
    );
}

#[test]
fn read_names_must_not_be_empty() {
    for source in [
        &b"@\nAC\n+\nII\n"[..],
        b"@ desc\nAC\n+\nII\n",
        b"@\r\nAC\r\n+\r\nII\r\n",
    ] {
        assert_eq!(
            refusal(source),
            "record 1 (line 1): the read name is empty (it must follow '@' directly)",
            "{source:?}"
        );
    }
}

#[test]
fn control_characters_in_header_and_plus_lines_are_refused() {
    assert_eq!(
        refusal(b"@r1\x00x\nAC\n+\nII\n"),
        "record 1 (line 1): control character '\\x00' in the '@' header line"
    );
    assert_eq!(
        refusal(b"@r1\nAC\n+\x1b\nII\n"),
        "record 1 (line 3): control character '\\x1b' in the '+' line"
    );
    assert!(ingest(b"@r1\tBC:Z:ACGT\nAC\n+\nII\n").is_ok());
}

#[test]
fn a_cr_split_from_its_lf_is_still_a_line_ending() {
    let mut ingest = FastqIngest::new(EtagFamily::Md5up);
    for chunk in [&b"@r1\r"[..], b"\nACGT\r", b"\n+\r", b"\nIIII\r", b"\n"] {
        ingest.push(chunk).unwrap();
    }
    let summary = ingest.finish().unwrap();
    assert_eq!((summary.read_count, summary.base_count), (1, 4));
}

#[test]
fn gzip_members_are_all_decompressed_and_hashed_as_text() {
    let (head, tail) = TWO.split_at(16);
    let mut source = gzip(head);
    source.extend(gzip(b""));
    source.extend(gzip(tail));
    let summary = ingest(&source).unwrap();
    assert_eq!(summary.etag, TWO_ETAGS[0].1);
    assert_eq!(summary.compression, Compression::Gzip);
    assert_eq!((summary.read_count, summary.base_count), (2, 9));
    assert_eq!(summary.raw_size, source.len() as u64);
    assert_eq!(summary.text_size, TWO.len() as u64);
}

#[test]
fn bgzf_is_recognised_and_decompressed() {
    let source = bgzf(TWO, 7);
    let summary = ingest(&source).unwrap();
    assert_eq!(summary.compression, Compression::Bgzf);
    assert_eq!(summary.etag, TWO_ETAGS[0].1);
    assert_eq!(summary.read_count, 2);
}

#[test]
fn truncated_or_corrupt_gzip_is_refused() {
    let source = gzip(TWO);
    let truncated = refusal(&source[..source.len() - 4]);
    assert!(
        truncated.starts_with("gzip stream is truncated or corrupt after"),
        "{truncated}"
    );
    let mut bad_crc = source.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    assert!(matches!(ingest(&bad_crc), Err(FastqError::Gzip { .. })));
    let mut garbage = source;
    garbage.extend_from_slice(b"\x00\x00\x00\x00");
    assert!(matches!(ingest(&garbage), Err(FastqError::Gzip { .. })));
    let bgzf_missing_last_block = &bgzf(TWO, 7)[..40];
    assert!(matches!(
        ingest(bgzf_missing_last_block),
        Err(FastqError::Gzip { .. })
    ));
}

#[test]
fn a_bad_record_inside_gzip_is_reported_as_fastq() {
    assert_eq!(
        refusal(&gzip(b"@r1\nACGT\n+\nII\n")),
        "record 1 (line 4): quality has 2 characters, sequence has 4"
    );
}

#[test]
fn the_first_error_shows_on_a_later_push_and_sticks() {
    // Validation runs on a thread of its own: the error shows once it got there.
    let mut ingest = FastqIngest::new(EtagFamily::Md5up);
    let good = b"@r\nACGT\n+\nIIII\n".repeat(20_000);
    let mut first = ingest.push(b"@r1\nAXGT\n+\nIIII\n").err();
    for _ in 0..1000 {
        if first.is_some() {
            break;
        }
        first = ingest.push(&good).err();
    }
    let first = first.expect("the bad base is reported").to_string();
    assert_eq!(
        first,
        "record 1 (line 2): invalid base 'X' at position 2 of the sequence"
    );
    let again = ingest.push(b"+\nIIII\n").unwrap_err().to_string();
    assert_eq!(again, first);
    assert_eq!(ingest.finish().unwrap_err().to_string(), first);
}
