//! The compression header of a data container (CRAM 3.1 §8.4): preservation map, data
//! series encodings and tag encodings.

use std::collections::HashMap;

use super::codec::{ByteArrayCodec, ByteCodec, Huffman, IntCodec};
use super::num::{read_itf8, read_u8};

/// Encodings of the data series (CRAM 3.1 §10, table 13); `None` when absent.
#[derive(Debug, Default, Clone)]
pub(super) struct DataSeries {
    pub(super) bf: Option<IntCodec>,
    pub(super) cf: Option<IntCodec>,
    pub(super) ri: Option<IntCodec>,
    pub(super) rl: Option<IntCodec>,
    pub(super) ap: Option<IntCodec>,
    pub(super) rg: Option<IntCodec>,
    pub(super) rn: Option<ByteArrayCodec>,
    pub(super) mf: Option<IntCodec>,
    pub(super) ns: Option<IntCodec>,
    pub(super) np: Option<IntCodec>,
    pub(super) ts: Option<IntCodec>,
    pub(super) nf: Option<IntCodec>,
    pub(super) tl: Option<IntCodec>,
    pub(super) fn_: Option<IntCodec>,
    pub(super) fc: Option<ByteCodec>,
    pub(super) fp: Option<IntCodec>,
    pub(super) dl: Option<IntCodec>,
    pub(super) bb: Option<ByteArrayCodec>,
    pub(super) qq: Option<ByteArrayCodec>,
    pub(super) bs: Option<ByteCodec>,
    pub(super) in_: Option<ByteArrayCodec>,
    pub(super) rs: Option<IntCodec>,
    pub(super) pd: Option<IntCodec>,
    pub(super) hc: Option<IntCodec>,
    pub(super) sc: Option<ByteArrayCodec>,
    pub(super) mq: Option<IntCodec>,
    pub(super) ba: Option<ByteCodec>,
    pub(super) qs: Option<ByteCodec>,
}

/// A parsed compression header.
#[derive(Debug, Clone)]
pub(super) struct CompressionHeader {
    pub(super) read_names_included: bool,
    pub(super) ap_delta: bool,
    pub(super) reference_required: bool,
    pub(super) qs_seq_orient: bool,
    /// `matrix[reference base][code]` = read base; rows A, C, G, T, N.
    pub(super) substitution_matrix: [[u8; 4]; 5],
    /// Tag lines: each a list of (tag, type) as 3 bytes.
    pub(super) tag_lines: Vec<Vec<[u8; 3]>>,
    pub(super) ds: DataSeries,
    /// Tag value encodings by tag ID (`tag[0] << 16 | tag[1] << 8 | type`).
    pub(super) tags: TagCodecs,
}

/// Tag value encodings sorted by tag ID: looked up for every tag of every record, so by binary
/// search rather than through a hasher.
#[derive(Debug, Clone, Default)]
pub(super) struct TagCodecs(Vec<(i32, ByteArrayCodec)>);

impl TagCodecs {
    pub(super) fn get(&self, id: i32) -> Option<&ByteArrayCodec> {
        let at = self.0.binary_search_by_key(&id, |(key, _)| *key).ok()?;
        Some(&self.0[at].1)
    }
}

type Parse<T> = Result<T, String>;

fn itf8(src: &mut &[u8]) -> Parse<i32> {
    read_itf8(src).ok_or_else(|| "cut short".to_owned())
}

fn byte(src: &mut &[u8]) -> Parse<u8> {
    read_u8(src).ok_or_else(|| "cut short".to_owned())
}

fn take<'a>(src: &mut &'a [u8], n: i32) -> Parse<&'a [u8]> {
    let n = usize::try_from(n).map_err(|_| "negative length".to_owned())?;
    let bytes = src.get(..n).ok_or_else(|| "cut short".to_owned())?;
    *src = &src[n..];
    Ok(bytes)
}

/// Parses the uncompressed content of a compression header block.
pub(super) fn parse(mut src: &[u8]) -> Parse<CompressionHeader> {
    let mut header = CompressionHeader {
        read_names_included: true,
        ap_delta: true,
        reference_required: true,
        qs_seq_orient: true,
        substitution_matrix: decode_substitution_matrix(&[0x1b; 5]),
        tag_lines: Vec::new(),
        ds: DataSeries::default(),
        tags: TagCodecs::default(),
    };
    parse_preservation_map(&mut src, &mut header)?;
    parse_data_series(&mut src, &mut header.ds)?;
    let size = itf8(&mut src)?;
    let mut map = take(&mut src, size)?;
    let count = itf8(&mut map)?;
    // A key given twice keeps its last encoding.
    let mut tags = HashMap::new();
    for _ in 0..count {
        let key = itf8(&mut map)?;
        let codec = byte_array_codec(&mut map)?;
        tags.insert(key, codec);
    }
    let mut tags: Vec<_> = tags.into_iter().collect();
    tags.sort_unstable_by_key(|(key, _)| *key);
    header.tags = TagCodecs(tags);
    Ok(header)
}

fn parse_preservation_map(src: &mut &[u8], header: &mut CompressionHeader) -> Parse<()> {
    let size = itf8(src)?;
    let mut map = take(src, size)?;
    let count = itf8(&mut map)?;
    for _ in 0..count {
        let key = take(&mut map, 2)?;
        match key {
            b"RN" => header.read_names_included = byte(&mut map)? != 0,
            b"AP" => header.ap_delta = byte(&mut map)? != 0,
            b"RR" => header.reference_required = byte(&mut map)? != 0,
            b"QO" => header.qs_seq_orient = byte(&mut map)? != 0,
            b"SM" => {
                let sm: [u8; 5] = take(&mut map, 5)?.try_into().map_err(|_| "bad SM")?;
                header.substitution_matrix = decode_substitution_matrix(&sm);
            }
            b"TD" => {
                let len = itf8(&mut map)?;
                let td = take(&mut map, len)?;
                header.tag_lines = td
                    .split(|&b| b == 0)
                    .map(|line| line.chunks_exact(3).map(|k| [k[0], k[1], k[2]]).collect())
                    .collect();
                // a trailing NUL ends the last line; it does not start another
                if td.last() == Some(&0) {
                    header.tag_lines.pop();
                }
            }
            other => {
                return Err(format!(
                    "unknown preservation map key {:?}",
                    String::from_utf8_lossy(other)
                ));
            }
        }
    }
    Ok(())
}

/// Substitution matrix bytes (CRAM 3.1 §8.4.2): each row lists 2-bit codes for the other
/// bases in the order A, C, G, T, N minus the reference base.
fn decode_substitution_matrix(sm: &[u8; 5]) -> [[u8; 4]; 5] {
    const BASES: [u8; 5] = *b"ACGTN";
    let mut matrix = [[b'N'; 4]; 5];
    for (row, &codes) in sm.iter().enumerate() {
        let others = BASES
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != row)
            .map(|(_, &b)| b);
        for (k, base) in others.enumerate() {
            let code = (codes >> (6 - 2 * k)) & 3;
            matrix[row][usize::from(code)] = base;
        }
    }
    matrix
}

fn parse_data_series(src: &mut &[u8], ds: &mut DataSeries) -> Parse<()> {
    let size = itf8(src)?;
    let mut map = take(src, size)?;
    let count = itf8(&mut map)?;
    for _ in 0..count {
        let key: [u8; 2] = take(&mut map, 2)?.try_into().map_err(|_| "bad key")?;
        let key = &key;
        macro_rules! int {
            ($f:ident) => {
                ds.$f = Some(int_codec(&mut map)?)
            };
        }
        match key {
            b"BF" => int!(bf),
            b"CF" => int!(cf),
            b"RI" => int!(ri),
            b"RL" => int!(rl),
            b"AP" => int!(ap),
            b"RG" => int!(rg),
            b"MF" => int!(mf),
            b"NS" => int!(ns),
            b"NP" => int!(np),
            b"TS" => int!(ts),
            b"NF" => int!(nf),
            b"TL" => int!(tl),
            b"FN" => int!(fn_),
            b"FP" => int!(fp),
            b"DL" => int!(dl),
            b"RS" => int!(rs),
            b"PD" => int!(pd),
            b"HC" => int!(hc),
            b"MQ" => int!(mq),
            b"FC" => ds.fc = Some(byte_codec(&mut map)?),
            b"BS" => ds.bs = Some(byte_codec(&mut map)?),
            b"BA" => ds.ba = Some(byte_codec(&mut map)?),
            b"QS" => ds.qs = Some(byte_codec(&mut map)?),
            b"RN" => ds.rn = Some(byte_array_codec(&mut map)?),
            b"BB" => ds.bb = Some(byte_array_codec(&mut map)?),
            b"QQ" => ds.qq = Some(byte_array_codec(&mut map)?),
            b"IN" => ds.in_ = Some(byte_array_codec(&mut map)?),
            b"SC" => ds.sc = Some(byte_array_codec(&mut map)?),
            // TC, TN (CRAM 1.0) and unknown keys: skip the encoding
            _ => {
                itf8(&mut map)?;
                let len = itf8(&mut map)?;
                take(&mut map, len)?;
            }
        }
    }
    Ok(())
}

/// Codec IDs (CRAM 3.1 §13, table 16).
const EXTERNAL: i32 = 1;
const GOLOMB: i32 = 2;
const HUFFMAN: i32 = 3;
const BYTE_ARRAY_LEN: i32 = 4;
const BYTE_ARRAY_STOP: i32 = 5;
const BETA: i32 = 6;
const SUBEXP: i32 = 7;
const GOLOMB_RICE: i32 = 8;
const GAMMA: i32 = 9;

/// Reads `codec id, parameter length, parameters`; returns the ID and the parameters.
fn encoding<'a>(src: &mut &'a [u8]) -> Parse<(i32, &'a [u8])> {
    let id = itf8(src)?;
    let len = itf8(src)?;
    Ok((id, take(src, len)?))
}

fn huffman(params: &mut &[u8]) -> Parse<Huffman> {
    let n = itf8(params)?;
    let symbols = (0..n).map(|_| itf8(params)).collect::<Parse<Vec<_>>>()?;
    let m = itf8(params)?;
    let lengths = (0..m).map(|_| itf8(params)).collect::<Parse<Vec<_>>>()?;
    Huffman::new(&symbols, &lengths).ok_or_else(|| "invalid Huffman table".to_owned())
}

fn int_codec(src: &mut &[u8]) -> Parse<IntCodec> {
    let (id, mut p) = encoding(src)?;
    let p = &mut p;
    let nonneg = |n: i32| u32::try_from(n).map_err(|_| "negative codec parameter".to_owned());
    Ok(match id {
        EXTERNAL => IntCodec::External(itf8(p)?),
        HUFFMAN => IntCodec::Huffman(huffman(p)?),
        BETA => IntCodec::Beta {
            offset: itf8(p)?,
            bits: nonneg(itf8(p)?)?.min(32),
        },
        GAMMA => IntCodec::Gamma { offset: itf8(p)? },
        SUBEXP => IntCodec::Subexp {
            offset: itf8(p)?,
            k: nonneg(itf8(p)?)?.min(31),
        },
        GOLOMB => IntCodec::Golomb {
            offset: itf8(p)?,
            m: itf8(p)?.max(1),
        },
        GOLOMB_RICE => IntCodec::GolombRice {
            offset: itf8(p)?,
            log2m: nonneg(itf8(p)?)?.min(31),
        },
        other => return Err(format!("codec {other} cannot encode integers")),
    })
}

fn byte_codec(src: &mut &[u8]) -> Parse<ByteCodec> {
    let (id, mut p) = encoding(src)?;
    Ok(match id {
        EXTERNAL => ByteCodec::External(itf8(&mut p)?),
        HUFFMAN => ByteCodec::Huffman(huffman(&mut p)?),
        other => return Err(format!("codec {other} cannot encode bytes")),
    })
}

fn byte_array_codec(src: &mut &[u8]) -> Parse<ByteArrayCodec> {
    let (id, mut p) = encoding(src)?;
    Ok(match id {
        BYTE_ARRAY_LEN => {
            let len = int_codec(&mut p)?;
            let value = byte_codec(&mut p)?;
            ByteArrayCodec::Len(Box::new(len), Box::new(value))
        }
        BYTE_ARRAY_STOP => ByteArrayCodec::Stop {
            stop: byte(&mut p)?,
            id: itf8(&mut p)?,
        },
        other => return Err(format!("codec {other} cannot encode byte arrays")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_substitution_matrix_is_the_spec_one() {
        // 0x1b = 00 01 10 11: the first alternative gets code 0, and so on.
        let m = decode_substitution_matrix(&[0x1b; 5]);
        assert_eq!(&m[0], b"CGTN");
        assert_eq!(&m[1], b"AGTN");
        assert_eq!(&m[4], b"ACGT");
    }

    #[test]
    fn tag_dictionary_lines() {
        // preservation map with TD = "MDZNMc\0\0" (second line empty), then two empty maps
        let td = b"MDZNMc\0\0";
        let mut pm = vec![1u8, b'T', b'D', td.len() as u8];
        pm.extend_from_slice(td);
        let mut src = vec![pm.len() as u8];
        src.extend_from_slice(&pm);
        src.extend_from_slice(&[1, 0, 1, 0]);
        let h = parse(&src).unwrap();
        assert_eq!(h.tag_lines, vec![vec![*b"MDZ", *b"NMc"], vec![]]);
        assert!(h.read_names_included && h.ap_delta && h.reference_required);
    }
}
