//! The bytes allowed on each line of a FASTQ record, as lookup tables.

/// IUPAC nucleotide codes in both cases, `.` (no-call of Illumina pipelines before 1.8) and
/// `-` (gap). `*` is not a base: in SAM it stands for "no sequence", never inside one.
const SEQUENCE_ALPHABET: &[u8] = b"ACGTURYSWKMBDHVNacgturyswkmbdhvn.-";

/// `SEQUENCE_BYTES[b]` is true when byte `b` may appear on a sequence line.
static SEQUENCE_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SEQUENCE_ALPHABET.len() {
        table[SEQUENCE_ALPHABET[i] as usize] = true;
        i += 1;
    }
    table
};

/// Whether `b` may appear on a sequence line.
pub(super) fn is_base(b: u8) -> bool {
    SEQUENCE_BYTES[usize::from(b)]
}

/// Position of the first byte of `bases` that is not allowed on a sequence line.
pub(super) fn find_invalid_base(bases: &[u8]) -> Option<usize> {
    // Checking whole lines branch-free first keeps the common all-valid case fast.
    if bases.iter().fold(true, |ok, &b| ok & is_base(b)) {
        None
    } else {
        bases.iter().position(|&b| !is_base(b))
    }
}

/// Whether `b` is a quality character: Phred+33, `!` (0) to `~` (93).
fn is_quality(b: u8) -> bool {
    b.wrapping_sub(b'!') <= b'~' - b'!'
}

/// Position of the first byte of `quality` outside `!`..=`~`.
pub(super) fn find_invalid_quality(quality: &[u8]) -> Option<usize> {
    if quality.iter().fold(true, |ok, &b| ok & is_quality(b)) {
        None
    } else {
        quality.iter().position(|&b| !is_quality(b))
    }
}

/// Whether `b` is an ASCII control character other than tab: binary data, not text.
fn is_control(b: u8) -> bool {
    (b < b' ' && b != b'\t') || b == 0x7f
}

/// Position of the first control character (other than tab) in a header or `+` line.
pub(super) fn find_control(text: &[u8]) -> Option<usize> {
    if text.iter().fold(false, |any, &b| any | is_control(b)) {
        text.iter().position(|&b| is_control(b))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_iupac_codes_in_both_cases_dots_and_gaps() {
        let allowed: Vec<u8> = (0..=255u8).filter(|&b| is_base(b)).collect();
        assert_eq!(allowed, b"-.ABCDGHKMNRSTUVWYabcdghkmnrstuvwy");
        assert_eq!(find_invalid_base(b"ACGTNacgtn.-RYKM"), None);
        assert_eq!(find_invalid_base(b""), None);
    }

    #[test]
    fn finds_the_first_byte_that_is_not_a_base() {
        for (line, at) in [
            (&b"ACGX"[..], 3),
            (b"*", 0),
            (b"AC GT", 2),
            (b"AC\rGT", 2),
            (b"ACGT=", 4),
            (b"E", 0),
            (b"A\xc3\xa9", 1),
        ] {
            assert_eq!(find_invalid_base(line), Some(at), "{line:?}");
        }
    }

    #[test]
    fn quality_is_printable_ascii_without_space() {
        let allowed: Vec<u8> = (0..=255u8)
            .filter(|&b| find_invalid_quality(&[b]).is_none())
            .collect();
        assert_eq!(allowed, (b'!'..=b'~').collect::<Vec<u8>>());
        assert_eq!(find_invalid_quality(b"II I"), Some(2));
        assert_eq!(find_invalid_quality(b"#~!\x7f"), Some(3));
    }

    #[test]
    fn control_characters_other_than_tab_are_found() {
        assert_eq!(find_control(b"r1 1:N:0:ACGT\tBC:Z:x"), None);
        assert_eq!(find_control("r1 é".as_bytes()), None);
        assert_eq!(find_control(b"r1\0"), Some(2));
        assert_eq!(find_control(b"r\r1"), Some(1));
        assert_eq!(find_control(b"r1\x7f"), Some(2));
        assert_eq!(find_control(b"\x1b[0m"), Some(0));
    }
}
