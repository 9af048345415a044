//! Why a FASTQ source was refused, with the record and line to fix.

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::message::QuotedByte;

/// A FASTQ source that cannot be stored as a read set source.
///
/// Records and lines are 1-based; lines count lines of the (decompressed) text, positions
/// count characters of the line. Every message stays under 120 characters.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FastqError {
    /// No bytes at all.
    #[error("the FASTQ source is empty")]
    Empty,
    /// A gzip source whose members decompress to no text.
    #[error("the gzip source decompresses to no FASTQ text")]
    EmptyText,
    /// The text holds only blank lines.
    #[error("no FASTQ records found: the text has only blank lines")]
    NoRecords,
    /// The first bytes are those of another format.
    #[error("{0}")]
    NotFastq(Foreign),
    /// The text does not start with `@`.
    #[error(
        "record 1 (line 1): expected '@', found {} — is this really FASTQ?",
        QuotedByte(*found)
    )]
    NotFastqStart {
        /// The first byte of the text.
        found: u8,
    },
    /// A record does not start with `@`.
    #[error(
        "record {record} (line {line}): expected '@' starting a record, found {}",
        QuotedByte(*found)
    )]
    ExpectedAt {
        /// The record.
        record: u64,
        /// Its first line.
        line: u64,
        /// The first byte of that line.
        found: u8,
    },
    /// A blank line where a record's header line should be (blank lines may only end the text).
    #[error("record {record} (line {line}): blank line before the record's '@' line")]
    BlankLine {
        /// The record that follows.
        record: u64,
        /// The blank line.
        line: u64,
    },
    /// Nothing follows `@` before the first whitespace.
    #[error("record {record} (line {line}): the read name is empty (it must follow '@' directly)")]
    EmptyName {
        /// The record.
        record: u64,
        /// Its header line.
        line: u64,
    },
    /// A control character (binary data) on a header or `+` line.
    #[error(
        "record {record} (line {line}): control character {} in the {kind} line",
        QuotedByte(*found)
    )]
    ControlCharacter {
        /// The record.
        record: u64,
        /// The line.
        line: u64,
        /// The control character.
        found: u8,
        /// Which of the two lines.
        kind: LineKind,
    },
    /// A byte outside the IUPAC codes, `.` and `-` on the sequence line.
    #[error(
        "record {record} (line {line}): invalid base {} at position {position} of the sequence",
        QuotedByte(*found)
    )]
    InvalidBase {
        /// The record.
        record: u64,
        /// The sequence line.
        line: u64,
        /// The byte.
        found: u8,
        /// 1-based position of the byte in the sequence.
        position: u64,
    },
    /// More sequence where the `+` line should be: the record wraps its sequence.
    #[error(
        "record {record} (line {line}): expected '+', found {} — multi-line FASTQ is not supported",
        QuotedByte(*found)
    )]
    MultiLine {
        /// The record.
        record: u64,
        /// The line after the sequence line.
        line: u64,
        /// Its first byte, a base.
        found: u8,
    },
    /// The line after the sequence does not start with `+`.
    #[error("record {record} (line {line}): expected a '+' line, found {}", Found(*found))]
    ExpectedPlus {
        /// The record.
        record: u64,
        /// The line after the sequence line.
        line: u64,
        /// Its first byte; `\n` for an empty line.
        found: u8,
    },
    /// A quality character outside Phred+33 `!`..`~`.
    #[error(
        "record {record} (line {line}): invalid quality character {} at position {position}",
        QuotedByte(*found)
    )]
    InvalidQuality {
        /// The record.
        record: u64,
        /// The quality line.
        line: u64,
        /// The byte.
        found: u8,
        /// 1-based position of the byte in the quality line.
        position: u64,
    },
    /// The quality line is not as long as the sequence.
    #[error(
        "record {record} (line {line}): quality has {quality} characters, sequence has {sequence}"
    )]
    QualityLength {
        /// The record.
        record: u64,
        /// The quality line.
        line: u64,
        /// Characters on the quality line.
        quality: u64,
        /// Bases on the sequence line.
        sequence: u64,
    },
    /// The text ends inside a record.
    #[error("record {record} (line {line}): the text ends before the record's {missing} line")]
    Truncated {
        /// The incomplete record.
        record: u64,
        /// The number the missing line would have.
        line: u64,
        /// The first line that is missing.
        missing: LineKind,
    },
    /// The source starts like gzip but does not decompress to its end.
    #[error("gzip stream is truncated or corrupt after {offset} compressed bytes: {source}")]
    Gzip {
        /// Compressed bytes the decoder had accepted before the failure.
        offset: u64,
        /// The decoder's error.
        source: Arc<io::Error>,
    },
}

/// The four lines of a FASTQ record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `@name description`.
    Header,
    /// The bases.
    Sequence,
    /// `+`, optionally followed by anything (often the name again).
    Plus,
    /// One Phred+33 character per base.
    Quality,
}

impl fmt::Display for LineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "'@' header",
            Self::Sequence => "sequence",
            Self::Plus => "'+'",
            Self::Quality => "quality",
        })
    }
}

/// Another format recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// `BAM\1`: BAM or uBAM, once its BGZF is decompressed.
    Bam,
    /// `CRAM`.
    Cram,
    /// `>`: FASTA.
    Fasta,
    /// A SAM header line (`@HD`, `@SQ`, `@RG`, `@PG` or `@CO` and a tab).
    Sam,
    /// gzip magic inside the decompressed text.
    GzipTwice,
    /// `BZh`.
    Bzip2,
    /// `\xfd7zXZ\0`.
    Xz,
    /// Zstandard frame magic.
    Zstd,
    /// A ZIP local file header.
    Zip,
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compressed = match self {
            Self::Bzip2 => "bzip2-compressed",
            Self::Xz => "xz-compressed",
            Self::Zstd => "zstd-compressed",
            Self::Zip => "a ZIP archive",
            Self::Bam => {
                return f.write_str("this looks like BAM (the text starts with BAM\\1), not FASTQ");
            }
            Self::Cram => {
                return f.write_str("this looks like CRAM (it starts with 'CRAM'), not FASTQ");
            }
            Self::Fasta => {
                return f.write_str(
                    "record 1 (line 1): expected '@', found '>' — this looks like FASTA, not FASTQ",
                );
            }
            Self::Sam => {
                return f.write_str(
                    "record 1 (line 1): this looks like a SAM header line, not a FASTQ read name",
                );
            }
            Self::GzipTwice => {
                return f.write_str(
                    "the decompressed text is gzip again: the file was compressed twice",
                );
            }
        };
        write!(
            f,
            "the source is {compressed}; FASTQ must be plain text, gzip or BGZF"
        )
    }
}

/// The first byte of a line, or "an empty line" for `\n`.
struct Found(u8);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\n' => f.write_str("an empty line"),
            b => QuotedByte(b).fmt(f),
        }
    }
}
