//! Why a BAM or uBAM was refused: one variant per concern, each naming the place (BGZF block,
//! record number) and what to fix, in at most ~120 characters.

use std::fmt;
use std::io;

use thiserror::Error;

use crate::message::QuotedName;
use crate::sam_text::RecordError;

/// Why [`ingest_bam`](super::ingest_bam) refused its input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BamError {
    /// Reading the input failed.
    #[error("reading the BAM failed: {0}")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("writing the BAM copy failed: {0}")]
    Write(#[source] io::Error),
    /// The provenance text is not one `@CO` line.
    #[error("the provenance must be one line starting with \"@CO\\t\"")]
    InvalidProvenance,
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// The first bytes are not a BGZF block header.
    #[error("not BGZF: the file starts with {0}")]
    NotBgzf(Sniff),
    /// A later block is damaged or cut short.
    #[error("BGZF block {block} at byte {offset}: {problem}")]
    Bgzf {
        /// 1-based block number.
        block: u64,
        /// Byte offset of the block in the file.
        offset: u64,
        /// What is wrong with it.
        problem: BgzfProblem,
    },
    /// The file ends without the BGZF end-of-file block.
    #[error("the file ends at byte {size} without the BGZF end-of-file block: it is truncated")]
    MissingEof {
        /// Bytes read.
        size: u64,
    },
    /// The decompressed data does not start with `BAM\1`.
    #[error("BGZF data but not BAM: it starts with {0}")]
    NotBam(Sniff),
    /// The header or reference dictionary is malformed.
    #[error("BAM header: {0}")]
    Header(HeaderProblem),
    /// A record is malformed, out of order or of the wrong kind.
    #[error("record {number}: {problem}")]
    Record {
        /// 1-based number of the record in the file.
        number: u64,
        /// What is wrong with it.
        problem: RecordProblem,
    },
}

/// What is wrong with a BGZF block.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BgzfProblem {
    /// Not a BGZF block header (gzip magic, FEXTRA, `BC` subfield).
    #[error("invalid BGZF block header")]
    InvalidHeader,
    /// BSIZE smaller than a header and trailer.
    #[error("invalid block size {0}")]
    InvalidSize(usize),
    /// The file ends inside the block.
    #[error("the file ends inside the block: it is truncated")]
    Truncated,
    /// ISIZE above 64 KiB.
    #[error("uncompressed size {0} is over 65536")]
    InvalidIsize(u32),
    /// The DEFLATE data does not decode.
    #[error("corrupt compressed data")]
    BadDeflate,
    /// The DEFLATE data decodes to another size than ISIZE.
    #[error("decompressed to {actual} bytes, ISIZE says {expected}")]
    IsizeMismatch {
        /// ISIZE.
        expected: u32,
        /// Bytes decoded.
        actual: usize,
    },
    /// The data decodes but its CRC32 differs from the stored one.
    #[error("CRC32 mismatch: the block is corrupt")]
    CrcMismatch,
}

/// What is wrong with the BAM header (magic, text, reference dictionary).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// Valid BGZF that decompresses to nothing.
    #[error("the BGZF blocks hold no data")]
    NoData,
    /// The file ends inside the header.
    #[error("the file ends inside the header: it is truncated")]
    Truncated,
    /// A negative `l_text` or `n_ref`.
    #[error("negative {field} ({value})")]
    NegativeLength {
        /// `l_text`, `n_ref`, `l_name` or `l_ref`.
        field: &'static str,
        /// The stored value.
        value: i32,
    },
    /// A length or count over a limit of this service.
    #[error("{field} {value} is over the limit of this service ({limit})")]
    OverLimit {
        /// `l_text`, `n_ref` or `header size`.
        field: &'static str,
        /// The stored value.
        value: usize,
        /// The limit.
        limit: usize,
    },
    /// A reference name that is empty or not NUL-terminated.
    #[error("reference {index}: name is empty or not NUL-terminated")]
    InvalidReferenceName {
        /// 1-based reference number.
        index: usize,
    },
    /// A SAM header line that does not parse.
    #[error("line {line}: {message}")]
    InvalidText {
        /// 1-based line number in the header text.
        line: usize,
        /// The parser's complaint.
        message: &'static str,
    },
    /// The text's `@SQ` lines and the binary reference dictionary differ.
    #[error("the @SQ lines ({text} references) differ from the binary reference list ({binary})")]
    ReferencesDiffer {
        /// `@SQ` lines.
        text: usize,
        /// Binary entries.
        binary: usize,
    },
    /// An aligned BAM without references.
    #[error("no reference sequences (@SQ): an aligned BAM needs them (is this a uBAM?)")]
    NoReferences,
}

/// What is wrong with one record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordProblem {
    /// Not a well-formed BAM record.
    #[error(transparent)]
    Malformed(#[from] RecordError),
    /// `block_size` below the fixed part or above the limit.
    #[error("invalid block_size {0} (under 32, or over the 16 MiB limit of this service)")]
    InvalidBlockSize(u32),
    /// The file ends inside the record.
    #[error("the file ends inside the record: it is truncated")]
    Truncated,
    /// POS or PNEXT below -1 (0 in SAM).
    #[error("invalid {field} {value}")]
    InvalidPosition {
        /// `POS` or `PNEXT`.
        field: &'static str,
        /// The 0-based stored value.
        value: i32,
    },
    /// A CIGAR operation code above 8.
    #[error("invalid CIGAR operation code {0}")]
    InvalidCigarOp(u8),
    /// A mapped record whose CIGAR and SEQ lengths differ.
    #[error("CIGAR covers {cigar} read bases but SEQ has {seq}")]
    CigarSequenceMismatch {
        /// Query bases of the CIGAR.
        cigar: u64,
        /// `l_seq`.
        seq: usize,
    },
    /// A mapped record in a file declared uBAM.
    #[error("mapped read (flag {flag}) in a file declared uBAM; upload aligned reads as BAM")]
    MappedInUnaligned {
        /// FLAG.
        flag: u16,
    },
    /// Out of coordinate order.
    #[error("{current} comes after {previous}; a BAM must be coordinate-sorted (samtools sort)")]
    Unsorted {
        /// Where this record is.
        current: Locus,
        /// Where the previous one was.
        previous: Locus,
    },
    /// Ends beyond what a `.bai` can index.
    #[error("ends at {0}, beyond the 2^29 positions a .bai can index")]
    BeyondIndexLimit(Locus),
}

/// A record's place for messages: `chr1:1234` (1-based) or `an unplaced read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locus(Option<(String, i64)>);

impl Locus {
    /// Reference `name` (cut when long) at 1-based `position`.
    pub(crate) fn placed(name: &[u8], position: i64) -> Self {
        let name = String::from_utf8_lossy(name);
        Self(Some((QuotedName(&name).to_string(), position)))
    }

    /// No reference.
    pub(crate) fn unplaced() -> Self {
        Self(None)
    }
}

impl fmt::Display for Locus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some((name, pos)) => write!(f, "{name}:{pos}"),
            None => f.write_str("an unplaced read"),
        }
    }
}

/// The first bytes of a file, quoted, with a guess at what the file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniff {
    shown: String,
    guess: Option<&'static str>,
}

impl Sniff {
    /// Quotes up to 8 leading bytes of `head` and guesses the format from them.
    pub(crate) fn new(head: &[u8]) -> Self {
        const SHOWN: usize = 8;
        let mut shown = String::from("'");
        for &b in head.iter().take(SHOWN) {
            match b {
                0x20..=0x7e if b != b'\'' && b != b'\\' => shown.push(char::from(b)),
                b'\t' => shown.push_str("\\t"),
                b'\n' => shown.push_str("\\n"),
                b'\r' => shown.push_str("\\r"),
                _ => shown.push_str(&format!("\\x{b:02x}")),
            }
        }
        if head.len() > SHOWN {
            shown.push('…');
        }
        shown.push('\'');
        Self {
            shown,
            guess: guess(head),
        }
    }
}

fn guess(head: &[u8]) -> Option<&'static str> {
    const SAM_HEADER_LINES: [&[u8]; 5] = [b"@HD\t", b"@SQ\t", b"@RG\t", b"@PG\t", b"@CO\t"];
    if SAM_HEADER_LINES.iter().any(|l| head.starts_with(l)) {
        Some("is this SAM text?")
    } else if head.starts_with(b"@") {
        Some("is this FASTQ?")
    } else if head.starts_with(b">") {
        Some("is this FASTA?")
    } else if head.starts_with(b"CRAM") {
        Some("is this CRAM?")
    } else if head.starts_with(b"BAM\x01") {
        Some("an uncompressed BAM? compress it with samtools view -b")
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Some("plain gzip, not BGZF: is this FASTQ?")
    } else if head.starts_with(b"BZh") || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("bzip2/zstd are not BGZF")
    } else {
        None
    }
}

impl fmt::Display for Sniff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)?;
        if let Some(guess) = self.guess {
            write!(f, " — {guess}")?;
        }
        Ok(())
    }
}
