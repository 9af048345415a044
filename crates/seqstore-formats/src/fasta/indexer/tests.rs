//! One byte-literal test per edge case; every input is also pushed in small chunks.

use super::*;

/// Indexes `input` whole, one byte at a time and in a few odd chunk sizes, asserting that
/// every way gives the same result.
fn index(input: &[u8]) -> Result<FastaIndex, FastaError> {
    let whole = index_in_chunks(input, input.len().max(1));
    for size in [1, 2, 3, 7] {
        assert_eq!(
            index_in_chunks(input, size),
            whole,
            "chunks of {size} bytes"
        );
    }
    whole
}

fn index_in_chunks(input: &[u8], size: usize) -> Result<FastaIndex, FastaError> {
    let mut indexer = FastaIndexer::new();
    for chunk in input.chunks(size) {
        indexer.push(chunk)?;
    }
    indexer.finish()
}

/// The `.fai` text of a valid input.
fn fai(input: &[u8]) -> String {
    match index(input) {
        Ok(index) => {
            assert_eq!(index.text_size, input.len() as u64);
            index.to_fai()
        }
        Err(e) => panic!("{:?} refused: {e}", String::from_utf8_lossy(input)),
    }
}

/// The error of an invalid input.
fn error(input: &[u8]) -> FastaError {
    match index(input) {
        Ok(index) => panic!("{:?} accepted: {index:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn name(s: &str) -> String {
    s.to_owned()
}

// Every expected `.fai` below is what `samtools faidx` 1.16 writes for the same bytes.

#[test]
fn lf_line_endings() {
    assert_eq!(
        fai(b">x\nACGT\nACGT\nAC\n>y\nA\n"),
        "x\t10\t3\t4\t5\ny\t1\t19\t1\t2\n"
    );
}

#[test]
fn crlf_line_endings_count_two_bytes() {
    assert_eq!(
        fai(b">x\r\nACGT\r\nAC\r\n>y\r\nA\r\n"),
        "x\t6\t4\t4\t6\ny\t1\t18\t1\t3\n"
    );
}

#[test]
fn missing_final_newline() {
    assert_eq!(fai(b">x\nACGT\nAC"), "x\t6\t3\t4\t5\n");
    assert_eq!(fai(b">x\nACGT\nACGT"), "x\t8\t3\t4\t5\n");
    // A lone line without newline still counts one terminator byte, as in htslib.
    assert_eq!(fai(b">x\nACGT"), "x\t4\t3\t4\t5\n");
    assert_eq!(fai(b">x\r\nACGT\r\nAC"), "x\t6\t4\t4\t6\n");
}

#[test]
fn final_carriage_return_without_newline() {
    assert_eq!(fai(b">x\nACGT\nAC\r"), "x\t6\t3\t4\t5\n");
    assert_eq!(fai(b">x\r\nACGT\r\nACGT\r"), "x\t8\t4\t4\t6\n");
}

#[test]
fn lowercase_iupac_gaps_and_stops() {
    assert_eq!(fai(b">x\nacgtn\nRYKM-\nuswbd\nHV*\n"), "x\t18\t3\t5\t6\n");
    let all = b">x\nACGTURYSWKMBDHVNacgturyswkmbdhvn-*\n";
    assert_eq!(fai(all), "x\t34\t3\t34\t35\n");
}

#[test]
fn n_runs() {
    assert_eq!(
        fai(b">chrUn\nNNNNNNNN\nNNNNACGT\nNN\n"),
        "chrUn\t18\t7\t8\t9\n"
    );
}

#[test]
fn name_stops_at_first_whitespace() {
    assert_eq!(fai(b">x desc ription\nACGT\n"), "x\t4\t16\t4\t5\n");
    assert_eq!(fai(b">x\tdesc\nACGT\n"), "x\t4\t8\t4\t5\n");
    assert_eq!(fai(b">x\x0bdesc\nACGT\n"), "x\t4\t8\t4\t5\n");
    assert_eq!(fai(b">x desc\r\nACGT\r\n"), "x\t4\t9\t4\t6\n");
    assert_eq!(fai(b">chr1|A:1-2,B\nA\n"), "chr1|A:1-2,B\t1\t14\t1\t2\n");
}

#[test]
fn description_may_hold_any_byte() {
    assert_eq!(fai(b">x >y \xff\x00\r\nACGT\n"), "x\t4\t10\t4\t5\n");
}

#[test]
fn utf8_names_are_kept() {
    assert_eq!(fai(">séq\nA\n".as_bytes()), "séq\t1\t6\t1\t2\n");
}

#[test]
fn single_line_sequences_each_set_their_own_width() {
    assert_eq!(
        fai(b">a\nACGTACGT\n>b\nAC\n>c\nACGTAC\n"),
        "a\t8\t3\t8\t9\nb\t2\t15\t2\t3\nc\t6\t21\t6\t7\n"
    );
}

#[test]
fn all_lines_of_the_same_length() {
    assert_eq!(
        fai(b">x\nACGT\nACGT\n>y\nAC\n"),
        "x\t8\t3\t4\t5\ny\t2\t16\t2\t3\n"
    );
}

#[test]
fn blank_lines_between_sequences_and_at_the_end() {
    assert_eq!(
        fai(b">x\nACGT\n\n>y\nAC\n\n\n"),
        "x\t4\t3\t4\t5\ny\t2\t12\t2\t3\n"
    );
    assert_eq!(
        fai(b">x\r\nACGT\r\n\r\n>y\r\nA\r\n\r\n"),
        "x\t4\t4\t4\t6\ny\t1\t16\t1\t3\n"
    );
    assert_eq!(
        fai(b">x\nACGT\nAC\n\n>y\nA\n"),
        "x\t6\t3\t4\t5\ny\t1\t15\t1\t2\n"
    );
}

#[test]
fn blank_lines_before_the_first_header() {
    assert_eq!(fai(b"\n\n>x\nACGT\n"), "x\t4\t5\t4\t5\n");
    assert_eq!(fai(b"\r\n>x\nACGT\n"), "x\t4\t5\t4\t5\n");
}

#[test]
fn lf_last_line_after_crlf_lines() {
    // htslib takes the narrower line as the last one of the sequence.
    assert_eq!(
        fai(b">x\nACGT\r\nACGT\n>y\nAC\n"),
        "x\t8\t3\t4\t6\ny\t2\t17\t2\t3\n"
    );
}

#[test]
fn fai_offsets_follow_long_headers() {
    let mut input = b">chr1 ".to_vec();
    input.extend(std::iter::repeat_n(b'd', 10_000));
    input.extend_from_slice(b"\nACGT\n");
    assert_eq!(fai(&input), "chr1\t4\t10007\t4\t5\n");
}

#[test]
fn chunk_boundaries_do_not_change_the_result() {
    let input = b"\r\n>chr1 first\r\nACGTN\r\nacgtn\r\nAC\r\n\r\n>chr2\r\nNNNN\r\nN";
    let whole = index_in_chunks(input, input.len()).unwrap();
    let bytewise = index_in_chunks(input, 1).unwrap();
    assert_eq!(bytewise, whole);
    assert_eq!(whole.to_fai(), "chr1\t12\t15\t5\t7\nchr2\t5\t42\t4\t6\n");
    assert_eq!(whole.total_length(), 17);
    assert_eq!(whole.text_size, input.len() as u64);
    for split in 0..=input.len() {
        let mut indexer = FastaIndexer::new();
        indexer.push(&input[..split]).unwrap();
        indexer.push(&[]).unwrap();
        indexer.push(&input[split..]).unwrap();
        assert_eq!(indexer.finish().unwrap(), whole, "split at {split}");
    }
}

#[test]
fn empty_input() {
    assert_eq!(error(b""), FastaError::Empty);
    assert_eq!(FastaError::Empty.to_string(), "the FASTA text is empty");
}

#[test]
fn only_blank_lines() {
    assert_eq!(error(b"\n\n"), FastaError::NoSequences);
    assert_eq!(error(b"\r\n"), FastaError::NoSequences);
    assert_eq!(FastaError::NoSequences.to_string(), "no sequences found");
}

#[test]
fn data_before_the_first_header() {
    assert_eq!(
        error(b"ACGT\n>x\nACGT\n"),
        FastaError::MissingHeader {
            line: 1,
            found: b'A'
        }
    );
    let e = error(b"\n\n;comment\n>x\nA\n");
    assert_eq!(
        e,
        FastaError::MissingHeader {
            line: 3,
            found: b';'
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3: expected a '>' header line, found ';'"
    );
}

#[test]
fn fastq_is_not_fasta() {
    assert_eq!(
        error(b"@r1\nACGT\n+\nIIII\n"),
        FastaError::MissingHeader {
            line: 1,
            found: b'@'
        }
    );
}

#[test]
fn byte_order_mark_is_refused() {
    let e = error(b"\xef\xbb\xbf>x\nA\n");
    assert_eq!(
        e.to_string(),
        "line 1: expected a '>' header line, found '\\xef'"
    );
}

#[test]
fn carriage_return_not_followed_by_newline_before_the_first_header() {
    assert_eq!(
        error(b"\r>x\nA\n"),
        FastaError::MissingHeader {
            line: 1,
            found: b'\r'
        }
    );
}

#[test]
fn empty_name() {
    let e = error(b">\nACGT\n");
    assert_eq!(e, FastaError::EmptyName { line: 1 });
    assert_eq!(
        e.to_string(),
        "line 1: sequence name is empty (it must follow '>' directly)"
    );
    // htslib would skip the space and call this one `x`; a name must follow `>` directly.
    assert_eq!(error(b">x\nA\n> x\nA\n"), FastaError::EmptyName { line: 3 });
    assert_eq!(error(b">x\nA\n>\r\nA\n"), FastaError::EmptyName { line: 3 });
    assert_eq!(error(b">x\nA\n>"), FastaError::EmptyName { line: 3 });
}

#[test]
fn name_with_control_character() {
    let e = error(b">a\x01b\nA\n");
    assert_eq!(e, FastaError::InvalidNameCharacter { line: 1, found: 1 });
    assert_eq!(
        e.to_string(),
        "line 1: invalid character '\\x01' in sequence name"
    );
}

#[test]
fn name_not_utf8() {
    assert_eq!(error(b">a\xffb\nA\n"), FastaError::NameNotUtf8 { line: 1 });
}

#[test]
fn name_too_long() {
    let mut input = b">".to_vec();
    input.extend(std::iter::repeat_n(b'n', MAX_NAME_LEN));
    input.extend_from_slice(b"\nA\n");
    assert_eq!(index(&input).unwrap().records[0].name.len(), MAX_NAME_LEN);

    let mut input = b">a\nA\n>".to_vec();
    input.extend(std::iter::repeat_n(b'n', MAX_NAME_LEN + 1));
    input.extend_from_slice(b" desc\nA\n");
    assert_eq!(
        error(&input),
        FastaError::NameTooLong {
            line: 3,
            max: MAX_NAME_LEN
        }
    );
}

#[test]
fn duplicate_name() {
    let e = error(b">chr2\nACGT\n>chr1\nA\n>chr2 again\nAC\n");
    assert_eq!(
        e,
        FastaError::DuplicateName {
            line: 5,
            name: name("chr2"),
            first_line: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "line 5: duplicate sequence name 'chr2' (first at line 1)"
    );
}

#[test]
fn invalid_character() {
    let e = error(b">chr1\nACGT\nACXT\n");
    assert_eq!(
        e,
        FastaError::InvalidCharacter {
            line: 3,
            found: b'X',
            name: name("chr1")
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3: invalid character 'X' in sequence 'chr1'"
    );
}

#[test]
fn invalid_characters_are_escaped() {
    for (input, found) in [
        (&b">x\nAC GT\n"[..], b' '),
        (b">x\nAC\tGT\n", b'\t'),
        (b">x\nAC.\n", b'.'),
        (b">x\nA>C\n", b'>'),
        (b">x\nAC\x00\n", 0),
        (b">x\nAC\xc3\xa9\n", 0xc3),
        (b">x\nAC\rGT\n", b'\r'),
        (b">x\nACGT\r\r\n", b'\r'),
        (b">x\nACGT\n \n", b' '),
    ] {
        let e = error(input);
        assert_eq!(
            e,
            FastaError::InvalidCharacter {
                line: 2 + u64::from(input.ends_with(b"\n \n")),
                found,
                name: name("x")
            },
            "{input:?}"
        );
    }
    assert_eq!(
        error(b">x\nAC\rGT\n").to_string(),
        "line 2: invalid character '\\r' in sequence 'x'"
    );
}

#[test]
fn header_only_sequence_in_the_middle() {
    // htslib silently leaves `x` out of the index; an empty sequence is refused here.
    let e = error(b">x\n>y\nACGT\n");
    assert_eq!(
        e,
        FastaError::EmptySequence {
            line: 1,
            name: name("x")
        }
    );
    assert_eq!(e.to_string(), "line 1: sequence 'x' has no bases");
    assert_eq!(
        error(b">x\n\n>y\nAC\n"),
        FastaError::EmptySequence {
            line: 1,
            name: name("x")
        }
    );
    assert_eq!(
        error(b">x\r\n\r\n>y\r\nAC\r\n"),
        FastaError::EmptySequence {
            line: 1,
            name: name("x")
        }
    );
}

#[test]
fn header_only_sequence_at_the_end() {
    for input in [
        &b">x\nACGT\n>y\n"[..],
        b">x\nACGT\n>y",
        b">x\nACGT\n>y desc\r\n\n",
    ] {
        assert_eq!(
            error(input),
            FastaError::EmptySequence {
                line: 3,
                name: name("y")
            },
            "{input:?}"
        );
    }
}

#[test]
fn blank_line_inside_a_sequence() {
    let e = error(b">x\nACGT\n\nACGT\n");
    assert_eq!(
        e,
        FastaError::BlankLineInSequence {
            line: 3,
            name: name("x")
        }
    );
    assert_eq!(e.to_string(), "line 3: blank line inside sequence 'x'");
    assert_eq!(
        error(b">x\r\nACGT\r\n\r\nACGT\r\n"),
        FastaError::BlankLineInSequence {
            line: 3,
            name: name("x")
        }
    );
    assert_eq!(
        error(b">x\n\nACGT\n"),
        FastaError::BlankLineInSequence {
            line: 2,
            name: name("x")
        }
    );
}

#[test]
fn longer_line_than_the_first() {
    let e = error(b">chr1\nACGT\nACGTA\nA\n");
    assert_eq!(
        e,
        FastaError::DifferentLineLength {
            line: 3,
            name: name("chr1"),
            expected: 4
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3: different line length in sequence 'chr1' (expected 4 bases)"
    );
}

#[test]
fn shorter_line_that_is_not_the_last() {
    assert_eq!(
        error(b">x\nACGT\nAC\nACGT\n"),
        FastaError::DifferentLineLength {
            line: 3,
            name: name("x"),
            expected: 4
        }
    );
    // A blank line after the short one does not hide it.
    assert_eq!(
        error(b">x\nACGT\nAC\n\nACGT\n"),
        FastaError::DifferentLineLength {
            line: 3,
            name: name("x"),
            expected: 4
        }
    );
}

#[test]
fn different_line_length_in_a_later_sequence() {
    assert_eq!(
        error(b">a\nACGT\nAC\n>b\nACG\nACG\nACGT\n"),
        FastaError::DifferentLineLength {
            line: 7,
            name: name("b"),
            expected: 3
        }
    );
}

#[test]
fn mixed_line_endings_inside_a_sequence() {
    let e = error(b">x\nACGT\nACGT\r\nAC\n");
    assert_eq!(
        e,
        FastaError::MixedLineEndings {
            line: 3,
            name: name("x")
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3: mixed CRLF and LF line endings in sequence 'x'"
    );
    assert_eq!(
        error(b">x\r\nACGT\r\nACGT\nACGT\r\n"),
        FastaError::MixedLineEndings {
            line: 3,
            name: name("x")
        }
    );
}

#[test]
fn same_width_but_other_terminator_only_on_the_last_line() {
    // As samtools: the CRLF line with one base less is the last one.
    assert_eq!(fai(b">x\nACGT\nACG\r\n"), "x\t7\t3\t4\t5\n");
    // samtools accepts these and then fetches wrong bases after the odd line.
    assert_eq!(
        error(b">x\nACGT\nACG\r\nACGT\n"),
        FastaError::DifferentLineLength {
            line: 3,
            name: name("x"),
            expected: 4
        }
    );
    assert_eq!(
        error(b">x\r\nACG\r\nACGT\nACG\r\n"),
        FastaError::DifferentLineLength {
            line: 3,
            name: name("x"),
            expected: 3
        }
    );
}

#[test]
fn errors_stick() {
    let mut indexer = FastaIndexer::new();
    let e = indexer.push(b">x\nAXC\n").unwrap_err();
    assert_eq!(indexer.push(b">y\nACGT\n"), Err(e.clone()));
    assert_eq!(indexer.finish(), Err(e));
}

#[test]
fn messages_stay_short_with_long_names_and_large_numbers() {
    let long = "n".repeat(MAX_NAME_LEN);
    let line = 10_000_000_000;
    let errors = [
        FastaError::DifferentLineLength {
            line,
            name: long.clone(),
            expected: 1_000_000,
        },
        FastaError::DuplicateName {
            line,
            name: long.clone(),
            first_line: line,
        },
        FastaError::InvalidCharacter {
            line,
            found: 0xff,
            name: long.clone(),
        },
        FastaError::MixedLineEndings {
            line,
            name: long.clone(),
        },
        FastaError::BlankLineInSequence {
            line,
            name: long.clone(),
        },
        FastaError::EmptySequence { line, name: long },
    ];
    for e in errors {
        let message = e.to_string();
        assert!(message.len() <= 120, "{} chars: {message}", message.len());
    }
}

#[test]
fn digests_cover_each_sequences_residues_uppercased_across_chunks_and_line_ends() {
    let input = b">a desc\nacgT\nAC\n>b\r\nNN\r\nn\r\n";
    let expected = |residues: &[u8]| {
        let mut d = SequenceDigester::default();
        d.update(residues);
        Some(d.finish())
    };
    for size in [1, 2, 3, 5, input.len()] {
        let mut indexer = FastaIndexer::with_digests();
        for chunk in input.chunks(size) {
            indexer.push(chunk).unwrap();
        }
        let index = indexer.finish().unwrap();
        let digests: Vec<_> = index.records.iter().map(|r| r.digests.clone()).collect();
        assert_eq!(
            digests,
            [expected(b"ACGTAC"), expected(b"NNN")],
            "chunks of {size}"
        );
    }
    assert!(
        index(input)
            .unwrap()
            .records
            .iter()
            .all(|r| r.digests.is_none())
    );
}
