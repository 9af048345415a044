//! Recognises other formats by the first bytes of the text, to say what was sent instead.

use super::Foreign;

/// Bytes of text needed to recognise every format below.
pub(super) const SNIFF_LEN: usize = 6;

/// Magic numbers, longest first where one could be a prefix of another.
const MAGIC: [(&[u8], Foreign); 8] = [
    // SAM v1 §4.2: magic of the decompressed BAM stream.
    (b"BAM\x01", Foreign::Bam),
    // CRAM v3 §6: file definition.
    (b"CRAM", Foreign::Cram),
    (b"\xfd7zXZ\x00", Foreign::Xz),
    (b"\x28\xb5\x2f\xfd", Foreign::Zstd),
    (b"PK\x03\x04", Foreign::Zip),
    (b"BZh", Foreign::Bzip2),
    (b"\x1f\x8b", Foreign::GzipTwice),
    (b">", Foreign::Fasta),
];

/// SAM v1 §1.3 header record types; a FASTQ name never has a tab right after two letters.
const SAM_HEADERS: [&[u8]; 5] = [b"@HD\t", b"@SQ\t", b"@RG\t", b"@PG\t", b"@CO\t"];

/// The format `head` (the first up to [`SNIFF_LEN`] bytes of the text) belongs to, if it is
/// one that is certainly not FASTQ.
pub(super) fn sniff(head: &[u8]) -> Option<Foreign> {
    if SAM_HEADERS.iter().any(|sam| head.starts_with(sam)) {
        return Some(Foreign::Sam);
    }
    MAGIC
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, foreign)| foreign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_that_are_not_fastq() {
        for (head, foreign) in [
            (&b"BAM\x01\x8c\x00"[..], Foreign::Bam),
            (b"CRAM\x03\x01", Foreign::Cram),
            (b">chr1\n", Foreign::Fasta),
            (b"@HD\tVN", Foreign::Sam),
            (b"@SQ\tSN", Foreign::Sam),
            (b"\x1f\x8b\x08\x04\x00\x00", Foreign::GzipTwice),
            (b"BZh91A", Foreign::Bzip2),
            (b"\xfd7zXZ\x00", Foreign::Xz),
            (b"\x28\xb5\x2f\xfd\x04\x00", Foreign::Zstd),
            (b"PK\x03\x04\x14\x00", Foreign::Zip),
        ] {
            assert_eq!(sniff(head), Some(foreign), "{head:?}");
        }
    }

    #[test]
    fn fastq_and_unknown_bytes_are_left_to_the_parser() {
        for head in [
            &b"@r1\nAC"[..],
            b"@HDx\tA",
            b"@HD",
            b"BAM",
            b"BAM\x02",
            b"\xfd7zX",
            b"",
            b"\x00\x00",
        ] {
            assert_eq!(sniff(head), None, "{head:?}");
        }
    }
}
