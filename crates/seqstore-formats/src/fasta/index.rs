//! The FASTA index (`.fai`) and its text form.

use std::fmt::Write;

use super::SequenceDigests;

/// One line of a `.fai`: where a sequence's bases are in the uncompressed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaiRecord {
    /// Sequence name: the header text after `>` up to the first whitespace.
    pub name: String,
    /// Number of bases.
    pub length: u64,
    /// Byte offset of the first base in the uncompressed text.
    pub offset: u64,
    /// Bases per line (those of the first line).
    pub line_bases: u64,
    /// Bytes per line including the terminator (`\r\n` counts 2).
    pub line_width: u64,
    /// The sequence's digests, when the indexer was asked for them.
    pub digests: Option<SequenceDigests>,
}

/// The `.fai` of a whole FASTA file plus totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FastaIndex {
    /// One record per sequence, in file order.
    pub records: Vec<FaiRecord>,
    /// Size of the uncompressed FASTA text, bytes.
    pub text_size: u64,
}

impl FastaIndex {
    /// Sum of the sequence lengths, bases.
    pub fn total_length(&self) -> u64 {
        self.records.iter().map(|r| r.length).sum()
    }

    /// The index as `samtools faidx` writes it: `NAME\tLENGTH\tOFFSET\tLINEBASES\tLINEWIDTH\n`.
    pub fn to_fai(&self) -> String {
        let mut fai = String::with_capacity(self.records.len() * 48);
        for r in &self.records {
            // Writing to a String cannot fail.
            let _ = writeln!(
                fai,
                "{}\t{}\t{}\t{}\t{}",
                r.name, r.length, r.offset, r.line_bases, r.line_width
            );
        }
        fai
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fai_text_has_one_tab_separated_line_per_record() {
        let index = FastaIndex {
            records: vec![
                FaiRecord {
                    name: "chr1".into(),
                    length: 130,
                    offset: 6,
                    line_bases: 60,
                    line_width: 61,
                    digests: None,
                },
                FaiRecord {
                    name: "chrM".into(),
                    length: 4,
                    offset: 144,
                    line_bases: 4,
                    line_width: 6,
                    digests: None,
                },
            ],
            text_size: 150,
        };
        assert_eq!(index.to_fai(), "chr1\t130\t6\t60\t61\nchrM\t4\t144\t4\t6\n");
        assert_eq!(index.total_length(), 134);
        assert_eq!(FastaIndex::default().to_fai(), "");
    }
}
