//! Where the records of a genomic region lie in a stored BAM or CRAM file: what an htsget
//! ticket lists.
//!
//! - BAM: the header's length and reference names ([`scan_bam_header`]), the `.bai` chunks
//!   of a region as BGZF virtual positions ([`BaiRegions`]), and single BGZF blocks inflated
//!   and re-encoded so that a slice can start or end inside a block ([`inflate_bgzf_block`],
//!   [`bgzf_blocks`]).
//! - CRAM: the `.crai` lines ([`read_crai`]), the header's reference names
//!   ([`cram_reference_names`]) and the end-of-file container ([`CRAM_EOF`]).
//!
//! Every length and count comes from a file and is checked against the bytes at hand.

use std::io::Read;

use noodles_core::Position;
use noodles_core::region::Interval;
use noodles_csi::BinningIndex;

pub use crate::bam::BgzfProblem;
use crate::bam::bgzf;

/// The BGZF end-of-file block.
pub const BGZF_EOF: [u8; 28] = bgzf::EOF_BLOCK;

/// Bytes of a BGZF block header, enough to know the block's size.
pub const BGZF_HEADER_LEN: usize = bgzf::HEADER_LEN;

/// The largest BGZF block.
pub const BGZF_MAX_BLOCK: usize = bgzf::MAX_ISIZE;

/// The CRAM 3.x end-of-file container.
pub const CRAM_EOF: [u8; 38] = [
    0x0f, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xe0, 0x45, 0x4f, 0x46, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x05, 0xbd, 0xd9, 0x4f, 0x00, 0x01, 0x00, 0x06, 0x06, 0x01, 0x00, 0x01, 0x00,
    0x01, 0x00, 0xee, 0x63, 0x01, 0x4b,
];

/// A BGZF virtual position: a block's offset in the file and an offset in its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualPosition {
    /// Offset of the block in the file.
    pub block: u64,
    /// Offset in the block's uncompressed data.
    pub within: u16,
}

impl From<noodles_bgzf::VirtualPosition> for VirtualPosition {
    fn from(v: noodles_bgzf::VirtualPosition) -> Self {
        Self {
            block: v.compressed(),
            within: v.uncompressed(),
        }
    }
}

/// The size of the BGZF block whose first [`BGZF_HEADER_LEN`] (or more) bytes are `head`.
pub fn bgzf_block_size(head: &[u8]) -> Result<usize, BgzfProblem> {
    bgzf::block_size(head)
}

/// The data of one whole BGZF block, CRC32 and size checked.
pub fn inflate_bgzf_block(frame: &[u8]) -> Result<Vec<u8>, BgzfProblem> {
    let mut out = Vec::new();
    bgzf::inflate(&mut libdeflater::Decompressor::new(), frame, &mut out)?;
    Ok(out)
}

/// `data` as BGZF blocks (no end-of-file block).
pub fn bgzf_blocks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let level = libdeflater::CompressionLvl::default();
    bgzf::deflate_blocks(&mut libdeflater::Compressor::new(level), data, &mut out);
    out
}

/// What [`scan_bam_header`] found in the first bytes of a BAM's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BamHeaderScan {
    /// The header goes on past the bytes given: at least this many are needed.
    NeedMore(u64),
    /// The header is this many bytes of data, naming these references in order.
    Done {
        /// Bytes of the header: magic, text, and the reference list.
        len: u64,
        /// Reference names, by reference id.
        references: Vec<String>,
    },
}

/// Reads the BAM header at the start of `data` (the file's uncompressed data), refusing one
/// longer than `max` bytes.
pub fn scan_bam_header(data: &[u8], max: u64) -> Result<BamHeaderScan, String> {
    let need = |n: u64| -> Result<BamHeaderScan, String> {
        if n > max {
            Err(format!("the BAM header is over {max} bytes"))
        } else {
            Ok(BamHeaderScan::NeedMore(n))
        }
    };
    let int = |at: u64| -> Option<u32> {
        let at = usize::try_from(at).ok()?;
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if data.len() >= 4 && &data[..4] != b"BAM\x01" {
        return Err("not a BAM file".into());
    }
    let Some(l_text) = int(4) else { return need(8) };
    let mut at = 8 + u64::from(l_text);
    let Some(n_ref) = int(at) else {
        return need(at + 4);
    };
    at += 4;
    let mut references = Vec::new();
    for _ in 0..n_ref {
        let Some(l_name) = int(at) else {
            return need(at + 4);
        };
        let name_at = at + 4;
        at = name_at + u64::from(l_name) + 4;
        if (data.len() as u64) < at {
            return need(at);
        }
        let name = &data[name_at as usize..(name_at + u64::from(l_name)) as usize];
        let name = name.strip_suffix(b"\0").unwrap_or(name);
        references.push(String::from_utf8_lossy(name).into_owned());
    }
    Ok(BamHeaderScan::Done {
        len: at,
        references,
    })
}

/// The `.bai` of a stored BAM, queried by region.
#[derive(Debug)]
pub struct BaiRegions {
    index: noodles_bam::bai::Index,
}

impl BaiRegions {
    /// Reads a `.bai`.
    pub fn read(bai: &[u8]) -> Result<Self, String> {
        let index = noodles_bam::bai::io::Reader::new(bai)
            .read_index()
            .map_err(|e| format!("the .bai does not parse: {e}"))?;
        Ok(Self { index })
    }

    /// The chunks holding the records of reference `id` overlapping bases `start..end`
    /// (0-based, end exclusive; `None`: from the start, to the end), merged, in file order.
    pub fn chunks(
        &self,
        id: usize,
        start: Option<u64>,
        end: Option<u64>,
    ) -> Result<Vec<(VirtualPosition, VirtualPosition)>, String> {
        if id >= self.index.reference_sequences().len() {
            return Ok(Vec::new());
        }
        let position = |p: u64| {
            usize::try_from(p)
                .ok()
                .and_then(Position::new)
                .ok_or_else(|| format!("position {p} is out of range"))
        };
        let interval: Interval = match (start, end) {
            (_, Some(0)) => return Ok(Vec::new()),
            (Some(s), Some(e)) => (position(s + 1)?..=position(e)?).into(),
            (Some(s), None) => (position(s + 1)?..).into(),
            (None, Some(e)) => (..=position(e)?).into(),
            (None, None) => (..).into(),
        };
        let chunks = self
            .index
            .query(id, interval)
            .map_err(|e| format!("querying the .bai: {e}"))?;
        Ok(chunks
            .into_iter()
            .map(|c| (c.start().into(), c.end().into()))
            .collect())
    }

    /// Where the records placed on a reference end: the unplaced reads follow. `None` when
    /// no record is placed.
    pub fn placed_end(&self) -> Option<VirtualPosition> {
        BinningIndex::reference_sequences(&self.index)
            .filter_map(|r| r.metadata().map(|m| m.end_position().into()))
            .max()
    }
}

/// One line of a `.crai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CraiLine {
    /// Reference id (`-1`: unplaced reads).
    pub ref_id: i32,
    /// 1-based first aligned base.
    pub start: i64,
    /// Aligned bases.
    pub span: i64,
    /// Offset of the slice's container in the file.
    pub container_offset: u64,
}

/// Reads a `.crai` (gzip text), refusing more than `max_lines` lines.
pub fn read_crai(crai: &[u8], max_lines: usize) -> Result<Vec<CraiLine>, String> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(crai)
        .read_to_string(&mut text)
        .map_err(|e| format!("the .crai does not decompress: {e}"))?;
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if lines.len() == max_lines {
            return Err(format!("the .crai has over {max_lines} lines"));
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let parsed = match fields.as_slice() {
            [r, s, l, o, _, _] => (|| {
                Some(CraiLine {
                    ref_id: r.parse().ok()?,
                    start: s.parse().ok()?,
                    span: l.parse().ok()?,
                    container_offset: o.parse().ok()?,
                })
            })(),
            _ => None,
        };
        lines.push(parsed.ok_or_else(|| format!("line {} of the .crai does not parse", n + 1))?);
    }
    Ok(lines)
}

/// The reference names of a CRAM's header, by reference id; `head` holds the file
/// definition and the header container.
pub fn cram_reference_names(head: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = noodles_cram::io::Reader::new(head);
    let header = reader
        .read_header()
        .map_err(|e| format!("the CRAM header does not parse: {e}"))?;
    Ok(header
        .reference_sequences()
        .keys()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bam_header(text: &str, refs: &[(&str, u32)]) -> Vec<u8> {
        let mut h = b"BAM\x01".to_vec();
        h.extend((text.len() as u32).to_le_bytes());
        h.extend(text.as_bytes());
        h.extend((refs.len() as u32).to_le_bytes());
        for (name, len) in refs {
            h.extend((name.len() as u32 + 1).to_le_bytes());
            h.extend(name.as_bytes());
            h.push(0);
            h.extend(len.to_le_bytes());
        }
        h
    }

    #[test]
    fn a_bam_header_is_scanned_however_little_is_given() {
        let h = bam_header("@HD\tVN:1.6\n", &[("chr1", 100), ("chrM", 16)]);
        let mut data = h.clone();
        data.extend(b"records");
        for cut in 0..h.len() {
            match scan_bam_header(&data[..cut], 1 << 20).unwrap() {
                BamHeaderScan::NeedMore(n) => assert!(n as usize > cut, "cut {cut}: {n}"),
                done => panic!("cut {cut}: {done:?}"),
            }
        }
        assert_eq!(
            scan_bam_header(&data, 1 << 20).unwrap(),
            BamHeaderScan::Done {
                len: h.len() as u64,
                references: vec!["chr1".into(), "chrM".into()]
            }
        );
        assert!(scan_bam_header(b"BAM\x02", 100).is_err());
        let huge = [b"BAM\x01".as_slice(), &u32::MAX.to_le_bytes()].concat();
        assert!(scan_bam_header(&huge, 1 << 20).is_err());
    }

    #[test]
    fn bgzf_blocks_round_trip_and_report_their_size() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let blocks = bgzf_blocks(&data);
        let mut at = 0;
        let mut back = Vec::new();
        while at < blocks.len() {
            let size = bgzf_block_size(&blocks[at..at + BGZF_HEADER_LEN]).unwrap();
            back.extend(inflate_bgzf_block(&blocks[at..at + size]).unwrap());
            at += size;
        }
        assert_eq!(back, data);
        assert_eq!(bgzf_block_size(&BGZF_EOF).unwrap(), 28);
        assert!(bgzf_block_size(b"not a block header").is_err());
        let mut broken = blocks.clone();
        broken[30] ^= 1;
        let size = bgzf_block_size(&broken).unwrap();
        assert!(inflate_bgzf_block(&broken[..size]).is_err());
    }

    #[test]
    fn crai_lines_parse_or_fail_with_their_number() {
        let gz = |text: &str| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let lines = read_crai(&gz("0\t1\t100\t500\t10\t90\n-1\t0\t0\t900\t10\t40\n"), 10).unwrap();
        assert_eq!(
            lines,
            [
                CraiLine {
                    ref_id: 0,
                    start: 1,
                    span: 100,
                    container_offset: 500
                },
                CraiLine {
                    ref_id: -1,
                    start: 0,
                    span: 0,
                    container_offset: 900
                },
            ]
        );
        assert!(
            read_crai(&gz("0\t1\t100\n"), 10)
                .unwrap_err()
                .contains("line 1")
        );
        assert!(read_crai(&gz("0\t1\t1\t1\t1\t1\n0\t1\t1\t1\t1\t1\n"), 1).is_err());
        assert!(read_crai(b"not gzip", 10).is_err());
    }
}
