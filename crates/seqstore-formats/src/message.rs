//! Helpers that keep user-facing error messages short and printable.

use std::fmt;

/// Longest sequence name quoted in full in a message; longer names are cut with `...`.
const MAX_QUOTED_NAME_CHARS: usize = 32;

/// A byte shown as a quoted character: `'X'`, or an escape such as `'\r'` or `'\x00'`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuotedByte(pub(crate) u8);

impl fmt::Display for QuotedByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\r' => f.write_str("'\\r'"),
            b'\t' => f.write_str("'\\t'"),
            b'\'' => f.write_str("'\\''"),
            b'\\' => f.write_str("'\\\\'"),
            b @ 0x20..=0x7e => write!(f, "'{}'", char::from(b)),
            b => write!(f, "'\\x{b:02x}'"),
        }
    }
}

/// A sequence name, cut to [`MAX_QUOTED_NAME_CHARS`] characters and single-quoted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuotedName<'a>(pub(crate) &'a str);

impl fmt::Display for QuotedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(MAX_QUOTED_NAME_CHARS) {
            None => write!(f, "'{}'", self.0),
            Some(_) => {
                let keep = MAX_QUOTED_NAME_CHARS - 3;
                let end = self
                    .0
                    .char_indices()
                    .nth(keep)
                    .map_or(self.0.len(), |(i, _)| i);
                write!(f, "'{}...'", &self.0[..end])
            }
        }
    }
}

/// A byte count shown the way a quota is written: `15 GB`, `2 GiB` or `1000 bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteSize(pub(crate) u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 6] = [
            (1 << 30, "GiB"),
            (1_000_000_000, "GB"),
            (1 << 20, "MiB"),
            (1_000_000, "MB"),
            (1 << 10, "KiB"),
            (1_000, "kB"),
        ];
        let n = self.0;
        match UNITS
            .iter()
            .find(|(unit, _)| n >= *unit && n.is_multiple_of(*unit))
        {
            Some((unit, name)) => write!(f, "{} {name}", n / unit),
            None => write!(f, "{n} bytes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_byte_escapes_non_printable_bytes() {
        assert_eq!(QuotedByte(b'X').to_string(), "'X'");
        assert_eq!(QuotedByte(b' ').to_string(), "' '");
        assert_eq!(QuotedByte(b'\r').to_string(), "'\\r'");
        assert_eq!(QuotedByte(b'\t').to_string(), "'\\t'");
        assert_eq!(QuotedByte(0).to_string(), "'\\x00'");
        assert_eq!(QuotedByte(0xef).to_string(), "'\\xef'");
        assert_eq!(QuotedByte(b'\'').to_string(), "'\\''");
    }

    #[test]
    fn quoted_name_cuts_long_names() {
        assert_eq!(QuotedName("chr1").to_string(), "'chr1'");
        let exact = "a".repeat(MAX_QUOTED_NAME_CHARS);
        assert_eq!(QuotedName(&exact).to_string(), format!("'{exact}'"));
        let long = "é".repeat(100);
        let shown = QuotedName(&long).to_string();
        assert_eq!(
            shown,
            format!("'{}...'", "é".repeat(MAX_QUOTED_NAME_CHARS - 3))
        );
    }

    #[test]
    fn byte_size_uses_the_unit_the_limit_was_given_in() {
        assert_eq!(ByteSize(15_000_000_000).to_string(), "15 GB");
        assert_eq!(ByteSize(2 << 30).to_string(), "2 GiB");
        assert_eq!(ByteSize(1000).to_string(), "1 kB");
        assert_eq!(ByteSize(1001).to_string(), "1001 bytes");
        assert_eq!(ByteSize(0).to_string(), "0 bytes");
    }
}
