//! One slice: its header (CRAM 3.1 §8.5) and the decoding of its records (§10), in
//! htslib 1.16's `cram_decode_slice` order, into flat per-slice buffers.

use super::budget::Meter;
use super::codec::{DecodeError, SliceData};
use super::compression_header::CompressionHeader;
use super::error::CramError;
use super::header::SamHeader;
use super::num::{read_itf8, read_ltf8};
use super::reference::{References, Sequence};
use super::seq::{self, Bases, CF_NO_SEQ, CF_QUAL_ARRAY, RefView};
use crate::limits::MAX_CRAM_READ_LEN as MAX_READ_LEN;

/// CRAM flags (CRAM 3.1 §10.2).
const CF_DETACHED: i32 = 0x2;
const CF_MATE_DOWNSTREAM: i32 = 0x4;
const CF_EXPLICIT_TLEN: i32 = 0x10;
/// BAM flags.
pub(super) const FLAG_PAIRED: u32 = 0x1;
pub(super) const FLAG_UNMAPPED: u32 = 0x4;
pub(super) const FLAG_MATE_UNMAPPED: u32 = 0x8;
pub(super) const FLAG_REVERSE: u32 = 0x10;
pub(super) const FLAG_MATE_REVERSE: u32 = 0x20;
pub(super) const FLAG_READ1: u32 = 0x40;

/// A failure while decoding a slice.
#[derive(Debug)]
pub(super) enum SliceError {
    Decode(DecodeError),
    Message(String),
    Cram(CramError),
}

/// Fields of a slice header.
#[derive(Debug, Clone)]
pub(super) struct SliceHeader {
    pub(super) ref_id: i32,
    pub(super) start: i64,
    pub(super) span: i64,
    pub(super) record_count: usize,
    pub(super) record_counter: i64,
    pub(super) block_count: usize,
    pub(super) embedded_ref_id: i32,
    pub(super) md5: [u8; 16],
}

/// Parses the content of a slice header block.
pub(super) fn parse_slice_header(mut src: &[u8]) -> Option<SliceHeader> {
    let src = &mut src;
    let ref_id = read_itf8(src)?;
    let start = i64::from(read_itf8(src)?);
    let span = i64::from(read_itf8(src)?);
    let record_count = usize::try_from(read_itf8(src)?).ok()?;
    let record_counter = read_ltf8(src)?;
    let block_count = usize::try_from(read_itf8(src)?).ok()?;
    let ids = read_itf8(src)?;
    for _ in 0..ids {
        read_itf8(src)?;
    }
    let embedded_ref_id = read_itf8(src)?;
    let md5 = src.get(..16)?.try_into().ok()?;
    Some(SliceHeader {
        ref_id,
        start,
        span,
        record_count,
        record_counter,
        block_count,
        embedded_ref_id,
        md5,
    })
}

/// One decoded record; variable-length parts live in [`DecodedSlice`] buffers.
#[derive(Debug, Clone, Default)]
pub(super) struct Record {
    pub(super) flags: u32,
    pub(super) cram_flags: i32,
    pub(super) ref_id: i32,
    pub(super) len: usize,
    /// 1-based alignment start.
    pub(super) apos: i64,
    /// 0-based position after the alignment as htslib computes it with the reference.
    pub(super) aend: i64,
    /// The same without the reference (what `samtools index` computes).
    pub(super) aend_noref: i64,
    pub(super) rg: i32,
    pub(super) name: (usize, usize),
    pub(super) mate_flags: i32,
    pub(super) mate_ref_id: i32,
    pub(super) mate_pos: i64,
    pub(super) mate_line: i64,
    pub(super) tlen: Option<i64>,
    pub(super) explicit_tlen: Option<i64>,
    pub(super) mqual: u8,
    pub(super) seq: usize,
    pub(super) qual: usize,
    pub(super) cigar: (usize, usize),
    pub(super) aux: (usize, usize),
}

/// The records of a slice and the buffers they point into.
#[derive(Debug, Default)]
pub(super) struct DecodedSlice {
    pub(super) records: Vec<Record>,
    pub(super) names: Vec<u8>,
    pub(super) seqs: Vec<u8>,
    pub(super) quals: Vec<u8>,
    pub(super) cigars: Vec<u32>,
    pub(super) aux: Vec<u8>,
    pub(super) record_counter: i64,
}

impl DecodedSlice {
    /// Bytes its buffers hold.
    pub(super) fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>()
            + self.names.capacity()
            + self.seqs.capacity()
            + self.quals.capacity()
            + self.cigars.capacity() * 4
            + self.aux.capacity()
    }

    /// Empties the buffers for the next slice, keeping at most `keep` bytes of each.
    pub(super) fn reset(&mut self, keep: usize) {
        fn clear<T>(v: &mut Vec<T>, keep: usize) {
            v.clear();
            v.shrink_to(keep / std::mem::size_of::<T>().max(1));
        }
        clear(&mut self.records, keep);
        clear(&mut self.names, keep);
        clear(&mut self.seqs, keep);
        clear(&mut self.quals, keep);
        clear(&mut self.cigars, keep);
        clear(&mut self.aux, keep);
    }
}

/// The memory a slice's decoding may take: `base` bytes are held already (the container,
/// its decoded blocks and text); its buffers are checked as they grow.
pub(super) struct Charge<'m, 'b> {
    pub(super) meter: &'m mut Meter<'b>,
    pub(super) base: usize,
}

impl Charge<'_, '_> {
    /// The slice's buffers hold (or are about to hold) `bytes`.
    pub(super) fn check(&mut self, bytes: usize) -> Result<(), SliceError> {
        self.meter
            .hold(self.base.saturating_add(bytes))
            .map_err(SliceError::Cram)
    }
}

/// The capacity `v` has after `add` more elements are pushed.
fn grown<T>(v: &Vec<T>, add: usize) -> usize {
    let need = v.len().saturating_add(add);
    if need <= v.capacity() {
        v.capacity()
    } else {
        need.max(v.capacity().saturating_mul(2))
    }
}

/// What record decoding needs besides the blocks.
pub(super) struct SliceInput<'a> {
    pub(super) header: &'a SamHeader,
    pub(super) refs: &'a References,
    pub(super) ch: &'a CompressionHeader,
    pub(super) slice: &'a SliceHeader,
    /// Start position from the container header (used when AP is absent).
    pub(super) container_start: i64,
    pub(super) embedded: Option<&'a [u8]>,
}

fn missing(series: &str) -> SliceError {
    SliceError::Message(format!("data series {series} has no encoding"))
}

/// The reference sequence of the slice (or of its current record), with htslib's bounds.
enum Held<'a> {
    None,
    /// A linked reference sequence; bases from 1-based `start` to `end` are usable.
    External(Sequence<'a>, i64, i64),
    /// An embedded reference starting at 1-based `start`, usable to `end`.
    Embedded(&'a [u8], i64, i64),
}

impl Held<'_> {
    fn view(&self) -> Option<RefView<'_>> {
        match *self {
            Held::None => None,
            Held::External(seq, _, end) => Some(RefView {
                bases: Bases::Paged(seq),
                origin: 0,
                end,
            }),
            Held::Embedded(bases, start, end) => Some(RefView {
                bases: Bases::Held(bases),
                origin: start - 1,
                end,
            }),
        }
    }
}

/// Decodes every record of a slice into `out`.
pub(super) fn decode_slice(
    input: &SliceInput<'_>,
    data: &mut SliceData<'_>,
    out: &mut DecodedSlice,
    charge: &mut Charge<'_, '_>,
) -> Result<(), SliceError> {
    let ch = input.ch;
    let ds = &ch.ds;
    let s = input.slice;
    let header = input.header;
    out.record_counter = s.record_counter;
    let unknown_rg = match header.read_groups.last() {
        Some(id) if id == "UNKNOWN" => header.read_groups.len() as i32 - 1,
        _ => -1,
    };
    let hdr_len = |id: i32| {
        usize::try_from(id)
            .ok()
            .and_then(|i| header.references.get(i))
            .map_or(0, |sq| sq.length)
    };

    let mut held = Held::None;
    if s.ref_id >= 0 {
        if s.embedded_ref_id >= 0 {
            let bases = input.embedded.ok_or_else(|| {
                SliceError::Message("the embedded reference block is missing".into())
            })?;
            let end = s.start + s.span - 1;
            if s.span > bases.len() as i64 {
                return Err(SliceError::Message(
                    "the embedded reference is too small".into(),
                ));
            }
            held = Held::Embedded(bases, s.start, end);
        } else if ch.reference_required {
            let id = s.ref_id as usize;
            let seq = input.refs.get(id).map_err(SliceError::Cram)?;
            let end = (s.start + s.span - 1).min(seq.len() as i64);
            held = Held::External(seq, s.start.max(0), end);
        }
        check_slice_md5(input, &held)?;
    }

    let mut last_ref_id = -9;
    let mut last_apos = s.start;
    let mut scratch = Vec::new();
    out.records.reserve(s.record_count.min(1 << 16));
    for _ in 0..s.record_count {
        charge.check(out.heap_bytes())?;
        let mut r = Record {
            mate_line: -1,
            mate_ref_id: -1,
            ..Record::default()
        };
        r.flags = match &ds.bf {
            Some(c) => u32::try_from(data.int(c)?)
                .map_err(|_| SliceError::Message("negative BAM flags".into()))?,
            None => FLAG_UNMAPPED,
        };
        let cf = match &ds.cf {
            Some(c) => data.int(c)?,
            None => 0,
        };
        r.cram_flags = cf;
        if s.ref_id == -2 {
            r.ref_id = match &ds.ri {
                Some(c) => data.int(c)?,
                None => -1,
            };
            if r.ref_id >= 0 && r.ref_id != last_ref_id {
                if ch.reference_required {
                    let seq = input
                        .refs
                        .get(r.ref_id as usize)
                        .map_err(SliceError::Cram)?;
                    let end = seq.len() as i64;
                    held = Held::External(seq, 1, end);
                }
                last_ref_id = r.ref_id;
            }
        } else {
            r.ref_id = s.ref_id;
        }
        if r.ref_id < -1 || r.ref_id >= header.references.len() as i32 {
            return Err(SliceError::Message(format!(
                "unknown reference ID {}",
                r.ref_id
            )));
        }
        let len = match &ds.rl {
            Some(c) => data.int(c)?,
            None => 0,
        };
        r.len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= MAX_READ_LEN)
            .ok_or_else(|| SliceError::Message(format!("read length {len} is out of range")))?;
        r.apos = match &ds.ap {
            Some(c) => {
                let mut apos = i64::from(data.int(c)?);
                if ch.ap_delta {
                    apos += last_apos;
                }
                last_apos = apos;
                apos
            }
            None => input.container_start,
        };
        r.rg = match &ds.rg {
            Some(c) => {
                let rg = data.int(c)?;
                if rg == unknown_rg { -1 } else { rg }
            }
            None => -1,
        };
        let name_start = out.names.len();
        if ch.read_names_included {
            let rn = ds.rn.as_ref().ok_or_else(|| missing("RN"))?;
            data.byte_array_into(rn, &mut out.names)?;
        }
        r.explicit_tlen = None;
        if cf & CF_DETACHED != 0 {
            r.mate_flags = match &ds.mf {
                Some(c) => data.int(c)?,
                None => 0,
            };
            if !ch.read_names_included {
                let rn = ds.rn.as_ref().ok_or_else(|| missing("RN"))?;
                data.byte_array_into(rn, &mut out.names)?;
            }
            if let Some(c) = &ds.ns {
                r.mate_ref_id = data.int(c)?;
            }
            if let Some(c) = &ds.np {
                r.mate_pos = i64::from(data.int(c)?);
            }
            r.tlen = match &ds.ts {
                Some(c) => Some(i64::from(data.int(c)?)),
                None => None,
            };
        } else if cf & CF_MATE_DOWNSTREAM != 0 {
            if let Some(c) = &ds.nf {
                r.mate_line = i64::from(data.int(c)?) + out.records.len() as i64 + 1;
            }
            if let (true, Some(c)) = (cf & CF_EXPLICIT_TLEN != 0, &ds.ts) {
                r.explicit_tlen = Some(i64::from(data.int(c)?));
            }
        } else if let (true, Some(c)) = (cf & CF_EXPLICIT_TLEN != 0, &ds.ts) {
            r.explicit_tlen = Some(i64::from(data.int(c)?));
        }
        r.name = (name_start, out.names.len() - name_start);

        // tags, in tag line order (MD/NM stored verbatim suppress their generation)
        let aux_start = out.aux.len();
        let (mut has_md, mut has_nm) = (false, false);
        if let Some(tl) = &ds.tl {
            let line = data.int(tl)?;
            let keys = usize::try_from(line)
                .ok()
                .and_then(|i| ch.tag_lines.get(i))
                .ok_or_else(|| {
                    SliceError::Message(format!("tag line {line} is not in the dictionary"))
                })?;
            for key in keys {
                has_md |= &key[..2] == b"MD";
                has_nm |= &key[..2] == b"NM";
                let id = (i32::from(key[0]) << 16) | (i32::from(key[1]) << 8) | i32::from(key[2]);
                let codec = ch.tags.get(id).ok_or_else(|| {
                    SliceError::Message(format!(
                        "tag {} has no encoding",
                        String::from_utf8_lossy(key)
                    ))
                })?;
                out.aux.extend_from_slice(key);
                data.byte_array_into(codec, &mut out.aux)?;
                charge.check(out.heap_bytes())?;
            }
        }

        r.seq = out.seqs.len();
        r.qual = out.quals.len();
        let fill = if held.view().is_some() { b'N' } else { b'=' };
        let seq_bytes = grown(&out.seqs, r.len) + grown(&out.quals, r.len);
        charge.check(out.heap_bytes() - out.seqs.capacity() - out.quals.capacity() + seq_bytes)?;
        out.seqs.resize(r.seq + r.len, fill);
        out.quals.resize(r.qual + r.len, 0);
        let elsewhere = out.heap_bytes() - out.cigars.capacity() * 4 - out.aux.capacity();
        let (seq, qual) = (&mut out.seqs[r.seq..], &mut out.quals[r.qual..]);

        if r.flags & FLAG_UNMAPPED == 0 {
            if ds.ap.is_some() && r.apos <= 0 {
                return Err(SliceError::Message(format!(
                    "a mapped read has alignment position {}",
                    r.apos
                )));
            }
            let view = held.view();
            let ref_len = hdr_len(r.ref_id);
            seq::decode_seq(
                data,
                ch,
                &mut r,
                seq,
                qual,
                &mut out.cigars,
                &mut out.aux,
                (has_md, has_nm),
                view,
                ref_len,
                &mut scratch,
                (&mut *charge, elsewhere),
            )?;
            r.aend_noref =
                aend_without_reference(&out.cigars[r.cigar.0..r.cigar.0 + r.cigar.1], r.apos);
        } else {
            r.cigar = (out.cigars.len(), 0);
            r.aend = r.apos;
            r.aend_noref = r.apos;
            r.mqual = 0;
            if let (Some(ba), true) = (&ds.ba, r.len > 0) {
                data.bytes_to(ba, seq)?;
            }
            if cf & CF_QUAL_ARRAY != 0 {
                if let Some(qs) = &ds.qs {
                    data.bytes_to(qs, qual)?;
                }
            } else {
                qual.fill(255);
            }
        }
        if !ch.qs_seq_orient && ds.qs.is_some() && r.flags & FLAG_REVERSE != 0 {
            qual.reverse();
        }
        if cf & CF_NO_SEQ != 0 {
            r.len = 0;
        }
        r.aux = (aux_start, out.aux.len() - aux_start);
        out.records.push(r);
    }
    resolve_mates(&mut out.records)?;
    Ok(())
}

/// End of the alignment from the CIGAR alone (reference-consuming operations).
fn aend_without_reference(cigar: &[u32], apos: i64) -> i64 {
    let span: i64 = cigar
        .iter()
        .filter(|&&op| matches!(op & 0xf, 0 | 2 | 3 | 7 | 8))
        .map(|&op| i64::from(op >> 4))
        .sum();
    apos - 1 + span
}

/// The slice header MD5 against the reference (htslib checks it when it is not all zero).
fn check_slice_md5(input: &SliceInput<'_>, held: &Held<'_>) -> Result<(), SliceError> {
    use md5::{Digest, Md5};
    let s = input.slice;
    if s.md5 == [0; 16] {
        return Ok(());
    }
    let digest: [u8; 16] = match held {
        &Held::External(seq, ref_start, end) => {
            let from = (s.start - ref_start).max(0);
            let mut len = s.span.min(end - ref_start + 1);
            if from + len > end - ref_start + 1 {
                len = end - ref_start + 1 - from;
            }
            let lo = (ref_start - 1 + from).max(0) as usize;
            // a span outside the sequence digests as nothing
            let mut md5 = Md5::new();
            seq.for_each_chunk(lo, len.max(0) as usize, |bases| md5.update(bases))
                .map_err(SliceError::Cram)?;
            md5.finalize().into()
        }
        &Held::Embedded(bases, _, _) => Md5::digest(bases).into(),
        Held::None => return Ok(()),
    };
    if digest != s.md5 {
        let name = input.refs.name(s.ref_id as usize);
        return Err(SliceError::Cram(CramError::Reference(format!(
            "reference sequence {}:{}-{} MD5 {} does not match the slice's {}",
            crate::message::QuotedName(name),
            s.start,
            s.start + s.span - 1,
            super::reference::short_hex(&digest),
            super::reference::short_hex(&s.md5)
        ))));
    }
    Ok(())
}

/// Mate links within the slice and template lengths (htslib `cram_decode_slice_xref`).
fn resolve_mates(recs: &mut [Record]) -> Result<(), SliceError> {
    let n = recs.len() as i64;
    for rec in 0..recs.len() {
        if recs[rec].mate_line >= 0 {
            if recs[rec].mate_line < n {
                if recs[rec].tlen.is_none() {
                    let (mut aleft, mut aright) = (recs[rec].apos, recs[rec].aend);
                    let mut ref_id = recs[rec].ref_id;
                    let mut left_cnt = 0;
                    let mut id2 = rec;
                    loop {
                        let r2 = &recs[id2];
                        if aleft > r2.apos {
                            aleft = r2.apos;
                            left_cnt = 1;
                        } else if aleft == r2.apos {
                            left_cnt += 1;
                        }
                        aright = aright.max(r2.aend);
                        if r2.mate_line == -1 {
                            recs[id2].mate_line = rec as i64;
                            break;
                        }
                        if r2.mate_line <= id2 as i64 || r2.mate_line >= n {
                            return Err(SliceError::Message("bad mate link".into()));
                        }
                        id2 = r2.mate_line as usize;
                        if recs[id2].ref_id != ref_id {
                            ref_id = -1;
                        }
                        if id2 == rec {
                            break;
                        }
                    }
                    let tlen = aright - aleft + 1;
                    let mut id2 = rec;
                    loop {
                        let r2 = &mut recs[id2];
                        r2.tlen = Some(if ref_id == -1 {
                            0
                        } else if r2.apos == aleft && (left_cnt == 1 || r2.flags & FLAG_READ1 != 0)
                        {
                            tlen
                        } else {
                            -tlen
                        });
                        id2 = r2.mate_line as usize;
                        if id2 == rec {
                            break;
                        }
                    }
                }
                let mate = recs[rec].mate_line as usize;
                let (m_apos, m_ref, m_flags) =
                    (recs[mate].apos, recs[mate].ref_id, recs[mate].flags);
                let r = &mut recs[rec];
                r.mate_pos = m_apos;
                r.mate_ref_id = m_ref;
                r.flags |= FLAG_PAIRED;
                if m_flags & FLAG_UNMAPPED != 0 {
                    r.flags |= FLAG_MATE_UNMAPPED;
                    r.tlen = Some(0);
                }
                if r.flags & FLAG_UNMAPPED != 0 {
                    r.tlen = Some(0);
                }
                if m_flags & FLAG_REVERSE != 0 {
                    r.flags |= FLAG_MATE_REVERSE;
                }
            }
        } else {
            let r = &mut recs[rec];
            if r.mate_flags & 1 != 0 {
                r.flags |= FLAG_PAIRED | FLAG_MATE_REVERSE;
            }
            if r.mate_flags & 2 != 0 {
                r.flags |= FLAG_MATE_UNMAPPED;
            }
            if r.flags & FLAG_PAIRED == 0 {
                r.mate_ref_id = -1;
            }
        }
        if recs[rec].tlen.is_none() {
            recs[rec].tlen = Some(0);
        }
    }
    for r in recs.iter_mut() {
        if let Some(t) = r.explicit_tlen {
            r.tlen = Some(t);
        }
    }
    Ok(())
}
