//! The bytes allowed on a sequence line.

/// IUPAC nucleotide codes in both cases, the gap `-` and the stop/unknown `*`.
const SEQUENCE_ALPHABET: &[u8] = b"ACGTURYSWKMBDHVNacgturyswkmbdhvn-*";

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

/// Position of the first byte of `bases` that is not allowed on a sequence line.
pub(super) fn find_invalid(bases: &[u8]) -> Option<usize> {
    // Checking whole lines branch-free first keeps the common all-valid case fast.
    if bases
        .iter()
        .fold(true, |ok, &b| ok & SEQUENCE_BYTES[usize::from(b)])
    {
        None
    } else {
        bases.iter().position(|&b| !SEQUENCE_BYTES[usize::from(b)])
    }
}

/// Whether `b` ends a sequence name: htslib's `isspace` in the C locale.
pub(super) fn is_name_terminator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iupac_codes_in_both_cases_gaps_and_stops() {
        assert_eq!(find_invalid(b"ACGTURYSWKMBDHVNacgturyswkmbdhvn-*"), None);
    }

    #[test]
    fn finds_the_first_byte_outside_the_alphabet() {
        for (line, at) in [
            (&b"ACGX"[..], 3),
            (b"E", 0),
            (b"AC GT", 2),
            (b"AC\rGT", 2),
            (b"AC.", 2),
            (b"A\xc3\xa9", 1),
        ] {
            assert_eq!(find_invalid(line), Some(at), "{line:?}");
        }
    }

    #[test]
    fn name_terminators_match_c_isspace() {
        let expected: Vec<u8> = (0..=255u8)
            .filter(|b| b.is_ascii_whitespace() || *b == 0x0b)
            .collect();
        let actual: Vec<u8> = (0..=255u8).filter(|&b| is_name_terminator(b)).collect();
        assert_eq!(actual, expected);
    }
}
