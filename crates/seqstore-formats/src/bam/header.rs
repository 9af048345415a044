//! The BAM header (SAM v1 §4.2): magic, SAM header text and binary reference dictionary,
//! parsed as its bytes arrive, checked, and rewritten with the provenance `@CO` line.

use noodles_sam::header::Parser;

use super::error::{BamError, HeaderProblem, Sniff};

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
            self.text_end = Some(8 + l_text);
            self.cursor = 8 + l_text;
        }
        if self.remaining.is_none() {
            if buf.len() < self.cursor + 4 {
                return Ok(None);
            }
            self.remaining = Some(non_negative(i32_at(buf, self.cursor), "n_ref")?);
            self.cursor += 4;
        }
        while self.remaining != Some(0) {
            let at = self.cursor;
            if buf.len() < at + 4 {
                return Ok(None);
            }
            let l_name = non_negative(i32_at(buf, at), "l_name")?;
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

    /// Checks the SAM text (each line parses) and that its `@SQ` lines, when there are any,
    /// are the binary reference dictionary.
    pub(super) fn validate(&self, needs_references: bool) -> Result<(), HeaderProblem> {
        let mut parser = Parser::default();
        let mut lines: Vec<&[u8]> = self.trimmed_text().split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        for (i, line) in lines.into_iter().enumerate() {
            parser
                .parse_partial(line)
                .map_err(|e| HeaderProblem::InvalidText {
                    line: i + 1,
                    message: error_chain(&e),
                })?;
        }
        let parsed = parser.finish();
        let text_refs = parsed.reference_sequences();
        let same = text_refs.len() == self.references.len()
            && text_refs
                .iter()
                .zip(&self.references)
                .all(|((name, map), r)| {
                    name.as_slice() == r.name.as_slice() && map.length().get() == r.length as usize
                });
        if !text_refs.is_empty() && !same {
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

/// An error and its sources, `: `-joined, cut to fit a status message.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if message.chars().count() > 80 {
        message = message.chars().take(77).collect::<String>() + "...";
    }
    message
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
        let bytes = header_bytes(b"@SQ\tSN:chr1\n", &[(b"chr1", 100)]);
        let (header, _) = HeaderReader::default().push(&bytes).unwrap().unwrap();
        let err = header.validate(true).unwrap_err();
        assert!(
            matches!(err, HeaderProblem::InvalidText { line: 1, .. }),
            "{err}"
        );
    }
}
