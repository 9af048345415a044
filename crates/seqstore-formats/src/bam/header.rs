//! The BAM header (SAM v1 §4.2): magic, SAM header text and binary reference dictionary,
//! parsed as its bytes arrive, checked, and rewritten with the provenance `@CO` line.

use super::error::{BamError, HeaderProblem, Sniff};
use crate::limits::{MAX_HEADER_BYTES, MAX_REFERENCES};

const MAGIC: &[u8; 4] = b"BAM\x01";

/// One entry of the binary reference dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reference {
    pub(super) name: Vec<u8>,
    pub(super) length: u32,
}

/// A complete BAM header.
#[derive(Debug)]
pub(super) struct Header {
    /// `text` as stored (`l_text` bytes, NUL padding included).
    text: Vec<u8>,
    /// `n_ref` and the entries, as stored.
    dictionary: Vec<u8>,
    pub(super) references: Vec<Reference>,
}

/// Collects header bytes across BGZF blocks until the header is complete.
#[derive(Debug, Default)]
pub(super) struct HeaderReader {
    buf: Vec<u8>,
    /// Where the next unparsed item starts in `buf`.
    cursor: usize,
    /// Where the text ends (and `n_ref` starts), once known.
    text_end: Option<usize>,
    /// References still to read, once `n_ref` is known.
    remaining: Option<usize>,
    references: Vec<Reference>,
}

impl HeaderReader {
    /// Takes the next decompressed bytes; once the header is complete returns it with how
    /// many bytes of `data` it used (the rest are records).
    pub(super) fn push(&mut self, data: &[u8]) -> Result<Option<(Header, usize)>, BamError> {
        let before = self.buf.len();
        self.buf.extend_from_slice(data);
        let Some(end) = self.advance()? else {
            return Ok(None);
        };
        let used = end - before;
        let text_end = self.text_end.expect("complete");
        self.buf.truncate(end);
        let header = Header {
            text: self.buf[8..text_end].to_vec(),
            dictionary: self.buf[text_end..].to_vec(),
            references: std::mem::take(&mut self.references),
        };
        Ok(Some((header, used)))
    }

    /// The bytes so far, for a message when the data ends inside the header.
    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Parses as far as the bytes go; `Some(end)` once the header is complete.
    fn advance(&mut self) -> Result<Option<usize>, BamError> {
        let buf = &self.buf;
        if self.text_end.is_none() {
            if buf.len() < 8 {
                if !MAGIC.starts_with(&buf[..buf.len().min(4)]) {
                    return Err(BamError::NotBam(Sniff::new(buf)));
                }
                return Ok(None);
            }
            if &buf[..4] != MAGIC {
                return Err(BamError::NotBam(Sniff::new(buf)));
            }
            let l_text = non_negative(i32_at(buf, 4), "l_text")?;
            over_limit("l_text", l_text, MAX_HEADER_BYTES)?;
            self.text_end = Some(8 + l_text);
            self.cursor = 8 + l_text;
        }
        if self.remaining.is_none() {
            if buf.len() < self.cursor + 4 {
                return Ok(None);
            }
            let n_ref = non_negative(i32_at(buf, self.cursor), "n_ref")?;
            over_limit("n_ref", n_ref, MAX_REFERENCES)?;
            self.remaining = Some(n_ref);
            self.cursor += 4;
        }
        while self.remaining != Some(0) {
            let at = self.cursor;
            if buf.len() < at + 4 {
                return Ok(None);
            }
            let l_name = non_negative(i32_at(buf, at), "l_name")?;
            over_limit("header size", at + 4 + l_name + 4 - 8, MAX_HEADER_BYTES)?;
            if buf.len() < at + 4 + l_name + 4 {
                return Ok(None);
            }
            let index = self.references.len() + 1;
            let name = &buf[at + 4..at + 4 + l_name];
            let Some((0, name)) = name.split_last() else {
                return Err(BamError::Header(HeaderProblem::InvalidReferenceName {
                    index,
                }));
            };
            if name.is_empty() || memchr::memchr(0, name).is_some() {
                return Err(BamError::Header(HeaderProblem::InvalidReferenceName {
                    index,
                }));
            }
            let l_ref = i32_at(buf, at + 4 + l_name);
            let length = non_negative(l_ref, "l_ref")? as u32;
            self.references.push(Reference {
                name: name.to_vec(),
                length,
            });
            self.cursor = at + 4 + l_name + 4;
            self.remaining = self.remaining.map(|n| n - 1);
        }
        Ok(Some(self.cursor))
    }
}

impl Header {
    /// The header text without its NUL padding.
    fn trimmed_text(&self) -> &[u8] {
        let end = self.text.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        &self.text[..end]
    }

    /// Checks the SAM text as htslib's header parser does (`sam_hrecs_parse_lines`: an `@`
    /// and a two-letter type, `TG:value` fields, `@SQ` with `SN` and `LN`) and that its `@SQ`
    /// lines, when there are any, are the binary reference dictionary. Like htslib, duplicate
    /// `@RG`/`@PG` IDs and an `@HD` that is not first are accepted.
    pub(super) fn validate(&self, needs_references: bool) -> Result<(), HeaderProblem> {
        let mut text_refs = Vec::new();
        for (i, line) in self.trimmed_text().split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let invalid = |message| HeaderProblem::InvalidText {
                line: i + 1,
                message,
            };
            if let Some(reference) = check_line(line).map_err(invalid)? {
                text_refs.push(reference);
            }
        }
        if !text_refs.is_empty() && text_refs != self.references {
            return Err(HeaderProblem::ReferencesDiffer {
                text: text_refs.len(),
                binary: self.references.len(),
            });
        }
        if needs_references && self.references.is_empty() {
            return Err(HeaderProblem::NoReferences);
        }
        Ok(())
    }

    /// The header bytes with `provenance` as a last `@CO` line (text NUL padding dropped).
    pub(super) fn rewritten(&self, provenance: Option<&str>) -> Vec<u8> {
        let mut text = self.trimmed_text().to_vec();
        if let Some(line) = provenance {
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        } else {
            text = self.text.clone();
        }
        let mut out = Vec::with_capacity(8 + text.len() + self.dictionary.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(&text);
        out.extend_from_slice(&self.dictionary);
        out
    }
}

/// One header line: its `@SQ` reference when it is one.
fn check_line(line: &[u8]) -> Result<Option<Reference>, &'static str> {
    let [b'@', a, b, rest @ ..] = line else {
        return Err("not a header line ('@' and a two-letter type)");
    };
    if !a.is_ascii_alphabetic() || !b.is_ascii_alphabetic() {
        return Err("not a header line ('@' and a two-letter type)");
    }
    if [*a, *b] == *b"CO" {
        return match rest.first() {
            Some(b'\t') => Ok(None),
            _ => Err("@CO without a tab after it"),
        };
    }
    let Some(fields) = rest.strip_prefix(b"\t") else {
        return Err("no tab-separated fields");
    };
    let (mut name, mut length) = (None, None);
    for field in fields.split(|&b| b == b'\t') {
        let [k1, k2, b':', value @ ..] = field else {
            return Err("a field is not TG:value");
        };
        if !k1.is_ascii_alphabetic() || !k2.is_ascii_alphanumeric() {
            return Err("a field is not TG:value");
        }
        match [*k1, *k2] {
            [b'S', b'N'] => name = name.or(Some(value)),
            [b'L', b'N'] => length = length.or(Some(value)),
            _ => {}
        }
    }
    if [*a, *b] != *b"SQ" {
        return Ok(None);
    }
    let name = name.ok_or("@SQ line without SN")?;
    let length = length
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|l| l.parse::<u32>().ok())
        .filter(|&l| l > 0 && l <= i32::MAX as u32)
        .ok_or("@SQ line without a valid LN")?;
    Ok(Some(Reference {
        name: name.to_vec(),
        length,
    }))
}

fn over_limit(field: &'static str, value: usize, limit: usize) -> Result<(), BamError> {
    if value > limit {
        return Err(BamError::Header(HeaderProblem::OverLimit {
            field,
            value,
            limit,
        }));
    }
    Ok(())
}

fn non_negative(value: i32, field: &'static str) -> Result<usize, BamError> {
    usize::try_from(value)
        .map_err(|_| BamError::Header(HeaderProblem::NegativeLength { field, value }))
}

fn i32_at(buf: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(text: &[u8], refs: &[(&[u8], u32)]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend((text.len() as u32).to_le_bytes());
        v.extend(text);
        v.extend((refs.len() as u32).to_le_bytes());
        for (name, len) in refs {
            v.extend((name.len() as u32 + 1).to_le_bytes());
            v.extend(*name);
            v.push(0);
            v.extend(len.to_le_bytes());
        }
        v
    }

    #[test]
    fn parses_across_any_split_and_reports_the_bytes_used() {
        let text = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n\0\0";
        let mut bytes = header_bytes(text, &[(b"chr1", 100)]);
        let len = bytes.len();
        bytes.extend_from_slice(b"RECORDS");
        for split in 1..len {
            let mut reader = HeaderReader::default();
            assert!(reader.push(&bytes[..split]).unwrap().is_none());
            let (header, used) = reader.push(&bytes[split..]).unwrap().unwrap();
            assert_eq!(split + used, len);
            assert_eq!(
                header.references,
                [Reference {
                    name: b"chr1".to_vec(),
                    length: 100
                }]
            );
            header.validate(true).unwrap();
        }
    }

    #[test]
    fn rewrite_appends_one_comment_line_and_drops_nul_padding() {
        let bytes = header_bytes(b"@HD\tVN:1.6\n@CO\tno newline\0\0", &[(b"c", 5)]);
        let (header, _) = HeaderReader::default().push(&bytes).unwrap().unwrap();
        let out = header.rewritten(Some("@CO\tprovenance"));
        let expected = header_bytes(
            b"@HD\tVN:1.6\n@CO\tno newline\n@CO\tprovenance\n",
            &[(b"c", 5)],
        );
        assert_eq!(out, expected);
        assert_eq!(header.rewritten(None), bytes);
    }

    #[test]
    fn not_bam_and_bad_dictionaries() {
        let err = HeaderReader::default()
            .push(b"@SEQ_ID\nACGT\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "BGZF data but not BAM: it starts with '@SEQ_ID\\n…' — is this FASTQ?"
        );
        let mut bytes = header_bytes(b"", &[(b"chr1", 100)]);
        bytes[4..8].copy_from_slice(&(-1i32).to_le_bytes());
        let err = HeaderReader::default().push(&bytes).unwrap_err();
        assert_eq!(err.to_string(), "BAM header: negative l_text (-1)");

        let text = b"@SQ\tSN:chr1\tLN:100\n";
        let bytes = header_bytes(text, &[(b"chr2", 100)]);
        let (header, _) = HeaderReader::default().push(&bytes).unwrap().unwrap();
        assert_eq!(
            header.validate(true).unwrap_err(),
            HeaderProblem::ReferencesDiffer { text: 1, binary: 1 }
        );
        let bytes = header_bytes(b"@HD\tVN:1.6\n", &[]);
        let (header, _) = HeaderReader::default().push(&bytes).unwrap().unwrap();
        assert_eq!(
            header.validate(true).unwrap_err(),
            HeaderProblem::NoReferences
        );
        header.validate(false).unwrap();
    }

    fn text_problem(text: &str) -> Option<String> {
        let bytes = header_bytes(text.as_bytes(), &[(b"chr1", 100)]);
        let (header, _) = HeaderReader::default().push(&bytes).unwrap().unwrap();
        header.validate(true).err().map(|e| e.to_string())
    }

    #[test]
    fn text_is_checked_as_htslib_does() {
        // Accepted by htslib 1.16 (some with a warning), so accepted here.
        for text in [
            "@PG\tID:a\n@PG\tID:a\n",
            "@RG\tID:x\n@RG\tID:x\n",
            "@SQ\tSN:chr1\tLN:100\n@HD\tVN:1.6\n",
            "@HD\tVN:1.6\r\n@SQ\tSN:chr1\tLN:100\r\n",
            "@CO\t\n@CO\tanything: at all\n\n",
            "@XY\tab:c\n",
            "",
        ] {
            assert_eq!(text_problem(text), None, "{text:?}");
        }
        for (text, problem) in [
            ("@CO\n", "line 1: @CO without a tab after it"),
            (
                "@HD\tVN:1.6\ngarbage\n",
                "line 2: not a header line ('@' and a two-letter type)",
            ),
            ("@XX\tfoo:bar\n", "line 1: a field is not TG:value"),
            ("@HD\n", "line 1: no tab-separated fields"),
            ("@SQ\tLN:100\n", "line 1: @SQ line without SN"),
            ("@SQ\tSN:chr1\n", "line 1: @SQ line without a valid LN"),
            (
                "@SQ\tSN:chr1\tLN:0\n",
                "line 1: @SQ line without a valid LN",
            ),
        ] {
            assert_eq!(text_problem(text).as_deref(), Some(problem), "{text:?}");
        }
    }
}
