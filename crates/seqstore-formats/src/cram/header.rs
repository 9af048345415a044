//! The file header container: the SAM header text it carries, the `@SQ`/`@RG` lines that
//! decoding needs, and the rewritten container with the provenance `@CO` line.

use super::error::CramError;
use super::framing::{self, RawContainer, content_type, crc32};
use super::num::{write_itf8, write_ltf8};
use crate::limits::{MAX_HEADER_BYTES, MAX_REFERENCES};

/// One `@SQ` line.
#[derive(Debug, Clone)]
pub(super) struct SqLine {
    pub(super) name: String,
    pub(super) length: i64,
    pub(super) m5: Option<[u8; 16]>,
}

/// What decoding needs from the SAM header.
#[derive(Debug, Clone, Default)]
pub(super) struct SamHeader {
    pub(super) references: Vec<SqLine>,
    /// `@RG ID`s in header order (CRAM's RG data series indexes this list).
    pub(super) read_groups: Vec<String>,
}

/// The SAM header text stored in the file header container (CRAM 3.1 §7.2).
pub(super) fn header_text(container: &RawContainer) -> Result<Vec<u8>, CramError> {
    const WHAT: &str = "the file header container";
    let mut src = container.body();
    let block = framing::parse_block(&mut src).map_err(|e| e.into_error(WHAT))?;
    if block.content_type != content_type::FILE_HEADER {
        return Err(CramError::Corrupt(format!(
            "{WHAT} holds a block of content type {}",
            block.content_type
        )));
    }
    if block.raw_size > MAX_HEADER_BYTES + 4 {
        return Err(CramError::Limit(format!(
            "{WHAT} declares a SAM header of {} bytes; at most {} MiB are accepted",
            block.raw_size,
            MAX_HEADER_BYTES >> 20
        )));
    }
    let content = framing::inflate_simple(&block, WHAT)?;
    let (len, text) = content
        .split_first_chunk::<4>()
        .ok_or_else(|| CramError::Corrupt(format!("{WHAT} is cut short")))?;
    let len = usize::try_from(i32::from_le_bytes(*len))
        .ok()
        .filter(|&n| n <= text.len())
        .ok_or_else(|| CramError::Corrupt(format!("{WHAT} has a bad SAM header length")))?;
    Ok(text[..len].to_vec())
}

/// Parses the `@SQ` and `@RG` lines of a SAM header.
pub(super) fn parse_sam_header(text: &[u8]) -> Result<SamHeader, CramError> {
    let mut header = SamHeader::default();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut fields = line.split(|&b| b == b'\t');
        match fields.next() {
            Some(b"@SQ") => {
                let (mut name, mut length, mut m5) = (None, None, None);
                for field in fields {
                    match field.get(..3) {
                        Some(b"SN:") => {
                            name = Some(String::from_utf8_lossy(&field[3..]).into_owned())
                        }
                        Some(b"LN:") => {
                            length = std::str::from_utf8(&field[3..])
                                .ok()
                                .and_then(|s| s.parse().ok())
                        }
                        Some(b"M5:") => m5 = parse_md5(&field[3..]),
                        _ => {}
                    }
                }
                let name = name.ok_or_else(|| bad_header("an @SQ line has no SN"))?;
                let length = length.ok_or_else(|| bad_header("an @SQ line has no valid LN"))?;
                if header.references.len() == MAX_REFERENCES {
                    return Err(CramError::Limit(format!(
                        "the SAM header has more than {MAX_REFERENCES} @SQ lines"
                    )));
                }
                header.references.push(SqLine { name, length, m5 });
            }
            Some(b"@RG") => {
                let id = fields
                    .find_map(|f| f.strip_prefix(b"ID:"))
                    .ok_or_else(|| bad_header("an @RG line has no ID"))?;
                header
                    .read_groups
                    .push(String::from_utf8_lossy(id).into_owned());
            }
            _ => {}
        }
    }
    Ok(header)
}

fn bad_header(what: &str) -> CramError {
    CramError::Corrupt(format!("bad SAM header: {what}"))
}

fn parse_md5(hex: &[u8]) -> Option<[u8; 16]> {
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0; 16];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// `text` with `line` appended as the last header line.
pub(super) fn append_line(text: &[u8], line: &str) -> Vec<u8> {
    let mut out = text.to_vec();
    while out.last() == Some(&0) {
        out.pop();
    }
    if !out.is_empty() && out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    out.extend_from_slice(line.trim_end_matches(['\n', '\r']).as_bytes());
    out.push(b'\n');
    out
}

/// A file header container holding `text` in one raw block.
pub(super) fn build_header_container(text: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(text.len() + 4);
    content.extend_from_slice(&(text.len() as i32).to_le_bytes());
    content.extend_from_slice(text);
    let mut block = vec![0, content_type::FILE_HEADER];
    write_itf8(&mut block, 0);
    write_itf8(&mut block, content.len() as i32);
    write_itf8(&mut block, content.len() as i32);
    block.extend_from_slice(&content);
    let crc = crc32(&block);
    block.extend_from_slice(&crc.to_le_bytes());

    let mut out = (block.len() as i32).to_le_bytes().to_vec();
    for n in [0, 0, 0, 0] {
        write_itf8(&mut out, n); // reference ID, start, span, record count
    }
    write_ltf8(&mut out, 0); // record counter
    write_ltf8(&mut out, 0); // bases
    write_itf8(&mut out, 1); // blocks
    write_itf8(&mut out, 1); // landmarks
    write_itf8(&mut out, 0);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sq_and_rg_lines() {
        let text = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:10\tM5:0123456789abcdef0123456789abcdef\n\
                     @SQ\tSN:chr2\tLN:5\n@RG\tSM:x\tID:g1\n@RG\tID:g2\n";
        let h = parse_sam_header(text).unwrap();
        assert_eq!(h.references.len(), 2);
        assert_eq!(h.references[0].m5.unwrap()[0], 0x01);
        assert_eq!(h.references[1].m5, None);
        assert_eq!(h.read_groups, ["g1", "g2"]);
    }

    #[test]
    fn appended_line_ends_the_header() {
        assert_eq!(
            append_line(b"@HD\tVN:1.6", "@CO\tx"),
            b"@HD\tVN:1.6\n@CO\tx\n"
        );
        assert_eq!(
            append_line(b"@HD\tVN:1.6\n\0\0", "@CO\tx\n"),
            b"@HD\tVN:1.6\n@CO\tx\n"
        );
        assert_eq!(append_line(b"", "@CO\tx"), b"@CO\tx\n");
    }

    #[test]
    fn built_header_container_reads_back() {
        let bytes = build_header_container(b"@CO\thi\n");
        let mut reader = &bytes[..];
        let c = framing::read_container(&mut reader, 26, "x")
            .unwrap()
            .unwrap();
        assert!(reader.is_empty());
        assert_eq!(header_text(&c).unwrap(), b"@CO\thi\n");
    }
}
