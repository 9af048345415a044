//! Why a FASTA file was refused, with the line to fix.

use crate::message::{QuotedByte, QuotedName};

/// A FASTA file that cannot be stored as a reference.
///
/// Line numbers are 1-based and count lines of the (decompressed) text. Each message stays
/// well under 120 characters: long sequence names are cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FastaError {
    /// The text has no bytes at all.
    #[error("the FASTA text is empty")]
    Empty,
    /// The text has only blank lines.
    #[error("no sequences found")]
    NoSequences,
    /// A line other than a blank one comes before the first `>` header.
    #[error("line {line}: expected a '>' header line, found {}", QuotedByte(*found))]
    MissingHeader {
        /// The offending line.
        line: u64,
        /// Its first unexpected byte.
        found: u8,
    },
    /// Nothing follows `>` before the first whitespace.
    #[error("line {line}: sequence name is empty (it must follow '>' directly)")]
    EmptyName {
        /// The header line.
        line: u64,
    },
    /// The sequence name is longer than [`MAX_NAME_LEN`](super::MAX_NAME_LEN).
    #[error("line {line}: sequence name is longer than {max} bytes")]
    NameTooLong {
        /// The header line.
        line: u64,
        /// The limit.
        max: usize,
    },
    /// More sequences than this service indexes.
    #[error("line {line}: more than {max} sequences, the limit of this service")]
    TooManySequences {
        /// The header line of the first sequence over the limit.
        line: u64,
        /// The limit.
        max: usize,
    },
    /// The sequence name is not UTF-8.
    #[error("line {line}: sequence name is not valid UTF-8")]
    NameNotUtf8 {
        /// The header line.
        line: u64,
    },
    /// The sequence name holds a control character.
    #[error("line {line}: invalid character {} in sequence name", QuotedByte(*found))]
    InvalidNameCharacter {
        /// The header line.
        line: u64,
        /// The control character.
        found: u8,
    },
    /// Two sequences have the same name.
    #[error(
        "line {line}: duplicate sequence name {} (first at line {first_line})",
        QuotedName(name)
    )]
    DuplicateName {
        /// The second header line.
        line: u64,
        /// The name.
        name: String,
        /// The first header line with that name.
        first_line: u64,
    },
    /// A byte outside the IUPAC nucleotide codes, `-` and `*` on a sequence line.
    #[error("line {line}: invalid character {} in sequence {}", QuotedByte(*found), QuotedName(name))]
    InvalidCharacter {
        /// The sequence line.
        line: u64,
        /// The byte.
        found: u8,
        /// The sequence it belongs to.
        name: String,
    },
    /// A header with no sequence line after it.
    #[error("line {line}: sequence {} has no bases", QuotedName(name))]
    EmptySequence {
        /// The header line.
        line: u64,
        /// The sequence name.
        name: String,
    },
    /// Sequence lines continue after a blank line.
    #[error("line {line}: blank line inside sequence {}", QuotedName(name))]
    BlankLineInSequence {
        /// The blank line.
        line: u64,
        /// The sequence name.
        name: String,
    },
    /// A line other than the last of its sequence has a different number of bases.
    #[error(
        "line {line}: different line length in sequence {} (expected {expected} bases)",
        QuotedName(name)
    )]
    DifferentLineLength {
        /// The line whose length differs.
        line: u64,
        /// The sequence name.
        name: String,
        /// Bases on the first line of the sequence.
        expected: u64,
    },
    /// A sequence mixes CRLF and LF line endings on lines other than its last.
    #[error(
        "line {line}: mixed CRLF and LF line endings in sequence {}",
        QuotedName(name)
    )]
    MixedLineEndings {
        /// The line whose terminator differs from the first line's.
        line: u64,
        /// The sequence name.
        name: String,
    },
}
