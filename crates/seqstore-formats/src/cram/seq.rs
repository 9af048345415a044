//! Read features to SEQ, QUAL, CIGAR, `MD` and `NM` (CRAM 3.1 §10.6), step for step as
//! htslib 1.16 `cram_decode_seq` does it, including its handling of `N` in the reference,
//! reads hanging off the reference end, and the default quality 30 in lossy modes.

use std::borrow::Cow;

use super::codec::{DecodeError, SliceData};
use super::compression_header::CompressionHeader;
use super::reference::Sequence;
use super::slice::{Charge, Record, SliceError};

/// CRAM flag: quality scores stored as an array (CRAM 3.1 §10.2).
pub(super) const CF_QUAL_ARRAY: i32 = 0x1;
/// CRAM flag: the sequence is not stored (`*`).
pub(super) const CF_NO_SEQ: i32 = 0x8;

const CIGAR_M: u32 = 0;
const CIGAR_I: u32 = 1;
const CIGAR_D: u32 = 2;
const CIGAR_N: u32 = 3;
const CIGAR_S: u32 = 4;
const CIGAR_H: u32 = 5;
const CIGAR_P: u32 = 6;

/// The reference as a slice sees it: bases by 0-based position, and htslib's bounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct RefView<'a> {
    /// The first base is the base at 0-based position `origin`.
    pub(super) bases: Bases<'a>,
    pub(super) origin: i64,
    /// 1-based inclusive end of the usable reference (`s->ref_end`).
    pub(super) end: i64,
}

/// Where a slice's reference bases are.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bases<'a> {
    /// In the slice (an embedded reference).
    Held(&'a [u8]),
    /// In the linked reference, read through its page cache.
    Paged(Sequence<'a>),
}

impl<'a> RefView<'a> {
    fn at(&self, pos0: i64) -> Result<u8, SliceError> {
        let at = usize::try_from(pos0 - self.origin).map_err(|_| outside())?;
        let base = match self.bases {
            Bases::Held(bases) => bases.get(at).copied(),
            Bases::Paged(seq) => seq.base(at).map_err(SliceError::Cram)?,
        };
        base.ok_or_else(outside)
    }

    fn range(&self, pos0: i64, len: i64) -> Result<Cow<'a, [u8]>, SliceError> {
        let start = usize::try_from(pos0 - self.origin).map_err(|_| outside())?;
        let len = usize::try_from(len).map_err(|_| outside())?;
        let bases = match self.bases {
            Bases::Held(bases) => start
                .checked_add(len)
                .and_then(|end| bases.get(start..end))
                .map(Cow::Borrowed),
            Bases::Paged(seq) => seq
                .bases(start, len)
                .map_err(SliceError::Cram)?
                .map(Cow::Owned),
        };
        bases.ok_or_else(outside)
    }
}

fn outside() -> SliceError {
    SliceError::Message("a read feature lies outside the reference".into())
}

/// htslib's `L1` table: A, C, G, T to 0..3, anything else to 4 (N).
fn base_index(base: u8) -> usize {
    match base {
        b'A' | b'a' => 0,
        b'C' | b'c' => 1,
        b'G' | b'g' => 2,
        b'T' | b't' => 3,
        _ => 4,
    }
}

fn beyond_slice() -> SliceError {
    SliceError::Message("CIGAR extends beyond slice reference extents".into())
}

fn missing(series: &'static str) -> SliceError {
    SliceError::Message(format!("data series {series} has no encoding"))
}

fn push_uint(aux: &mut Vec<u8>, n: i32) {
    // htslib appends `md_dist` as unsigned, so -1 would print as 4294967295
    let mut n = n as u32;
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    aux.extend_from_slice(&digits[i..]);
}

/// Copies `src` into `dst` at `at`, refusing to write past the read.
fn put(dst: &mut [u8], at: i64, src: &[u8]) -> Result<(), SliceError> {
    let at = usize::try_from(at).map_err(|_| SliceError::Message("bad feature position".into()))?;
    dst.get_mut(at..at + src.len())
        .ok_or_else(|| SliceError::Message("a read feature runs past the end of the read".into()))?
        .copy_from_slice(src);
    Ok(())
}

/// Writes `n` bases `N` at `at`, within the read.
fn put_n(dst: &mut [u8], at: i64, n: i64) -> Result<(), SliceError> {
    let at = usize::try_from(at).map_err(|_| SliceError::Message("bad feature position".into()))?;
    let n = usize::try_from(n).map_err(|_| SliceError::Message("bad feature length".into()))?;
    dst.get_mut(at..at.saturating_add(n))
        .ok_or_else(|| SliceError::Message("a read feature runs past the end of the read".into()))?
        .fill(b'N');
    Ok(())
}

struct State<'a> {
    cigar: &'a mut Vec<u32>,
    cig_len: u32,
    cig_op: u32,
}

impl State<'_> {
    /// Starts a CIGAR run of `op`, flushing a different pending one.
    fn switch(&mut self, op: u32) {
        if self.cig_len > 0 && self.cig_op != op {
            self.cigar.push((self.cig_len << 4) | self.cig_op);
            self.cig_len = 0;
        }
        self.cig_op = op;
    }
}

/// Decodes the features, mapping quality and quality scores of a mapped record.
///
/// `seq`/`qual` are the record's buffers (`len` bytes each); `hdr_len` is the `@SQ LN` of
/// the record's reference. `MD` then `NM` are appended to `aux` when generated.
#[allow(clippy::too_many_arguments)]
pub(super) fn decode_seq(
    data: &mut SliceData<'_>,
    ch: &CompressionHeader,
    rec: &mut Record,
    seq: &mut [u8],
    qual: &mut [u8],
    cigar: &mut Vec<u32>,
    aux: &mut Vec<u8>,
    (has_md, has_nm): (bool, bool),
    reference: Option<RefView<'_>>,
    hdr_len: i64,
    scratch: &mut Vec<u8>,
    (charge, elsewhere): (&mut Charge<'_, '_>, usize),
) -> Result<(), SliceError> {
    let ds = &ch.ds;
    let len = seq.len() as i64;
    let cf = rec.cram_flags;
    let mut decode_md = reference.is_some() && rec.ref_id >= 0 && !has_md;
    let mut decode_nm = reference.is_some() && rec.ref_id >= 0 && !has_nm;
    if cf & CF_NO_SEQ != 0 {
        decode_md = false;
        decode_nm = false;
    }
    let preserve_qual = cf & CF_QUAL_ARRAY != 0;
    if ds.qs.is_some() && !preserve_qual {
        qual.fill(255);
    }
    if decode_md {
        aux.extend_from_slice(b"MDZ");
    }
    let feature_count = match &ds.fn_ {
        Some(c) => data.int(c)?,
        None => 0,
    };
    let mut st = State {
        cigar,
        cig_len: 0,
        cig_op: CIGAR_M,
    };
    let cigar_start = st.cigar.len();
    let mut nm: i64 = 0;
    let mut md_dist: i32 = 0;
    let mut seq_pos: i64 = 1;
    let mut prev_pos: i64 = 0;
    let mut ref_pos: i64 = rec.apos - 1;

    let fill = Fill {
        reference,
        ref_id: rec.ref_id,
        hdr_len,
        len,
        decode_md,
        decode_nm,
    };
    let ref_base = |pos0: i64| reference.map(|r| r.at(pos0)).transpose();
    let fill_30 = |qual: &mut [u8]| {
        if !preserve_qual && qual.first() == Some(&255) {
            qual.fill(30);
        }
    };

    for i in 0..feature_count {
        // features add to the CIGAR, MD and scratch: check their growth now and then
        if i % 1024 == 1023 {
            let growing = st.cigar.capacity() * 4 + aux.capacity() + scratch.capacity();
            charge.check(elsewhere + growing)?;
        }
        let op = data.byte(ds.fc.as_ref().ok_or_else(|| missing("FC"))?)?;
        let pos = prev_pos + i64::from(data.int(ds.fp.as_ref().ok_or_else(|| missing("FP"))?)?);
        if pos <= 0 {
            return Err(SliceError::Message(format!(
                "feature position {pos} before start of read"
            )));
        }
        if pos > seq_pos {
            if pos > len + 1 {
                return Err(SliceError::Message(
                    "a feature lies past the end of the read".into(),
                ));
            }
            fill.run(
                seq,
                aux,
                (ref_pos, seq_pos, pos - seq_pos),
                &mut md_dist,
                &mut nm,
                false,
            )?;
            st.switch(CIGAR_M);
            st.cig_len += (pos - seq_pos) as u32;
            ref_pos += pos - seq_pos;
            seq_pos = pos;
        }
        prev_pos = pos;
        match op {
            b'S' => {
                if st.cig_len > 0 {
                    st.cigar.push((st.cig_len << 4) | st.cig_op);
                    st.cig_len = 0;
                }
                scratch.clear();
                let n =
                    data.byte_array_into(ds.sc.as_ref().ok_or_else(|| missing("SC"))?, scratch)?;
                if len > 0 {
                    put(seq, pos - 1, scratch)?;
                }
                st.cigar.push(((n as u32) << 4) | CIGAR_S);
                st.cig_op = CIGAR_S;
                seq_pos += n as i64;
            }
            b'X' => {
                st.switch(CIGAR_M);
                let code = data.byte(ds.bs.as_ref().ok_or_else(|| missing("BS"))?)?;
                let code = usize::from(code);
                if code > 3 {
                    return Err(SliceError::Message(format!("bad substitution code {code}")));
                }
                if rec.ref_id < 0 || ref_pos >= hdr_len || reference.is_none() {
                    if pos - 1 < len {
                        seq[(pos - 1) as usize] = ch.substitution_matrix[4][code];
                    }
                    if decode_md || decode_nm {
                        if md_dist >= 0 && decode_md {
                            push_uint(aux, md_dist);
                        }
                        md_dist = -1;
                        nm -= 1;
                    }
                } else {
                    let r = reference.as_ref().map_or(0, |r| r.end);
                    let call = if ref_pos < r {
                        ref_base(ref_pos)?.unwrap_or(b'N')
                    } else {
                        b'N'
                    };
                    if pos - 1 < len {
                        seq[(pos - 1) as usize] = ch.substitution_matrix[base_index(call)][code];
                    }
                    if decode_md {
                        push_uint(aux, md_dist);
                        aux.push(call);
                        md_dist = 0;
                    }
                }
                nm += 1;
                st.cig_len += 1;
                seq_pos += 1;
                ref_pos += 1;
            }
            b'D' => {
                st.switch(CIGAR_D);
                let n = i64::from(data.int(ds.dl.as_ref().ok_or_else(|| missing("DL"))?)?);
                if decode_md || decode_nm {
                    let r = reference.ok_or_else(beyond_slice)?;
                    if ref_pos + n > r.end {
                        return Err(beyond_slice());
                    }
                    if decode_md {
                        // the deleted bases go into MD: charge them before reading them
                        let growing = st.cigar.capacity() * 4 + aux.capacity() + scratch.capacity();
                        charge.check(elsewhere + growing + n.max(0) as usize)?;
                    }
                    if md_dist >= 0 && decode_md {
                        push_uint(aux, md_dist);
                    }
                    if ref_pos + n <= hdr_len {
                        if decode_md {
                            aux.push(b'^');
                            aux.extend_from_slice(&r.range(ref_pos, n)?);
                            md_dist = 0;
                        }
                        nm += n;
                    } else {
                        if hdr_len >= ref_pos {
                            if decode_md {
                                aux.push(b'^');
                                aux.extend_from_slice(&r.range(ref_pos, hdr_len - ref_pos)?);
                                aux.push(b'0');
                            }
                            nm += hdr_len - ref_pos;
                        }
                        md_dist = -1;
                    }
                }
                st.cig_len += n as u32;
                ref_pos += n;
            }
            b'I' => {
                st.switch(CIGAR_I);
                scratch.clear();
                let n =
                    data.byte_array_into(ds.in_.as_ref().ok_or_else(|| missing("IN"))?, scratch)?;
                if len > 0 {
                    put(seq, pos - 1, scratch)?;
                }
                st.cig_len += n as u32;
                seq_pos += n as i64;
                nm += n as i64;
            }
            b'i' => {
                st.switch(CIGAR_I);
                let base = data.byte(ds.ba.as_ref().ok_or_else(|| missing("BA"))?)?;
                if len > 0 {
                    put(seq, pos - 1, &[base])?;
                }
                st.cig_len += 1;
                seq_pos += 1;
                nm += 1;
            }
            b'b' => {
                st.switch(CIGAR_M);
                scratch.clear();
                let n = data
                    .byte_array_into(ds.bb.as_ref().ok_or_else(|| missing("BB"))?, scratch)?
                    as i64;
                if len > 0 {
                    put(seq, pos - 1, scratch)?;
                }
                if decode_md || decode_nm {
                    if md_dist >= 0 && decode_md {
                        push_uint(aux, md_dist);
                    }
                    let mut x = 0;
                    while x < n {
                        if x > 0 && decode_md {
                            aux.push(b'0');
                        }
                        if ref_pos + x >= hdr_len || reference.is_none() {
                            break;
                        }
                        if decode_md {
                            let r = reference.ok_or_else(beyond_slice)?;
                            if ref_pos + x > r.end {
                                return Err(beyond_slice());
                            }
                            aux.push(r.at(ref_pos + x)?);
                        }
                        x += 1;
                    }
                    nm += x;
                    md_dist = 0;
                }
                st.cig_len += n as u32;
                seq_pos += n;
                ref_pos += n;
            }
            b'q' => {
                st.switch(CIGAR_M);
                fill_30(qual);
                scratch.clear();
                data.byte_array_into(ds.qq.as_ref().ok_or_else(|| missing("QQ"))?, scratch)?;
                put(qual, pos - 1, scratch)?;
            }
            b'B' => {
                st.switch(CIGAR_M);
                let base = data.byte(ds.ba.as_ref().ok_or_else(|| missing("BA"))?)?;
                if len > 0 {
                    put(seq, pos - 1, &[base])?;
                }
                if decode_md || decode_nm {
                    if md_dist >= 0 && decode_md {
                        push_uint(aux, md_dist);
                    }
                    if ref_pos >= hdr_len || reference.is_none() {
                        md_dist = -1;
                    } else {
                        if decode_md {
                            let r = reference.ok_or_else(beyond_slice)?;
                            if ref_pos > r.end {
                                return Err(beyond_slice());
                            }
                            aux.push(r.at(ref_pos)?);
                        }
                        nm += 1;
                        md_dist = 0;
                    }
                }
                if let Some(qs) = &ds.qs {
                    fill_30(qual);
                    let q = data.byte(qs)?;
                    put(qual, pos - 1, &[q])?;
                }
                st.cig_len += 1;
                seq_pos += 1;
                ref_pos += 1;
            }
            b'Q' => {
                if let Some(qs) = &ds.qs {
                    fill_30(qual);
                    let q = data.byte(qs)?;
                    put(qual, pos - 1, &[q])?;
                }
            }
            b'H' | b'P' | b'N' => {
                let (cig, codec, name) = match op {
                    b'H' => (CIGAR_H, &ds.hc, "HC"),
                    b'P' => (CIGAR_P, &ds.pd, "PD"),
                    _ => (CIGAR_N, &ds.rs, "RS"),
                };
                st.switch(cig);
                let n = data.int(codec.as_ref().ok_or_else(|| missing(name))?)?;
                st.cig_len = st.cig_len.wrapping_add(n as u32);
                if op == b'N' {
                    ref_pos += i64::from(n);
                }
            }
            other => {
                return Err(SliceError::Message(format!(
                    "unknown read feature code {}",
                    crate::message::QuotedByte(other)
                )));
            }
        }
    }

    // an implicit match for the bases no feature accounted for
    if len >= seq_pos {
        let n = len - seq_pos + 1;
        if reference.is_some() && rec.ref_id >= 0 {
            if fill.run(seq, aux, (ref_pos, seq_pos, n), &mut md_dist, &mut nm, true)? {
                ref_pos += n;
            }
        } else if rec.ref_id >= 0 {
            ref_pos += n;
        }
        st.switch(CIGAR_M);
        st.cig_len += n as u32;
    }
    if decode_md && md_dist >= 0 {
        push_uint(aux, md_dist);
    }
    if st.cig_len > 0 {
        st.cigar.push((st.cig_len << 4) | st.cig_op);
    }
    rec.cigar = (cigar_start, st.cigar.len() - cigar_start);
    rec.aend = ref_pos;
    rec.mqual = match &ds.mq {
        Some(c) => data.int(c)? as u8,
        None => 40,
    };
    if let (Some(qs), true) = (&ds.qs, preserve_qual) {
        data.bytes_to(qs, qual)?;
    }
    if cf & CF_NO_SEQ != 0 {
        rec.len = 0;
    }
    if decode_md {
        aux.push(0);
    }
    if decode_nm {
        let nm = nm as u32;
        if nm <= 0xff {
            aux.extend_from_slice(&[b'N', b'M', b'C', nm as u8]);
        } else if nm <= 0xffff {
            aux.extend_from_slice(b"NMS");
            aux.extend_from_slice(&(nm as u16).to_le_bytes());
        } else {
            aux.extend_from_slice(b"NMI");
            aux.extend_from_slice(&nm.to_le_bytes());
        }
    }
    Ok(())
}

impl From<DecodeError> for SliceError {
    fn from(e: DecodeError) -> Self {
        SliceError::Decode(e)
    }
}

/// What filling read bases from the reference needs to know about the record.
struct Fill<'a> {
    reference: Option<RefView<'a>>,
    ref_id: i32,
    hdr_len: i64,
    len: i64,
    decode_md: bool,
    decode_nm: bool,
}

impl Fill<'_> {
    /// Copies `n` reference bases from `ref_pos` into the read at `seq_pos`, counting `N`
    /// reference bases as mismatches for `MD`/`NM`. Returns `false` when the read runs off
    /// the reference end (then htslib does not advance the reference position at the end).
    fn run(
        &self,
        seq: &mut [u8],
        aux: &mut Vec<u8>,
        (ref_pos, seq_pos, n): (i64, i64, i64),
        md_dist: &mut i32,
        nm: &mut i64,
        to_end: bool,
    ) -> Result<bool, SliceError> {
        let len = self.len;
        let Some(r) = self.reference.filter(|_| self.ref_id >= 0) else {
            return Ok(true);
        };
        if ref_pos + n > self.hdr_len {
            let rlen = self.hdr_len - ref_pos;
            let at = seq_pos - 1;
            if rlen > 0 {
                if !to_end {
                    if ref_pos + rlen > r.end {
                        return Err(beyond_slice());
                    }
                    put(seq, at, &r.range(ref_pos, rlen)?)?;
                } else if at + rlen < len {
                    put(seq, at, &r.range(ref_pos, rlen)?)?;
                }
                if n - rlen > 0 {
                    put_n(seq, at + rlen, n - rlen)?;
                }
            } else {
                let fill = len - seq_pos + 1;
                if fill > 0 {
                    put_n(seq, at, fill)?;
                }
            }
            if *md_dist >= 0 {
                *md_dist += n as i32;
            }
            return Ok(false);
        }
        if n <= 0 {
            return Ok(true);
        }
        if ref_pos + n > r.end {
            return Err(beyond_slice());
        }
        let bases = r.range(ref_pos, n)?;
        if (self.decode_md || self.decode_nm) && memchr::memchr(b'N', &bases).is_some() {
            let at = (seq_pos - 1) as usize;
            for (i, &base) in bases.iter().enumerate() {
                if base == b'N' {
                    if self.decode_md {
                        push_uint(aux, *md_dist);
                        aux.push(b'N');
                        *md_dist = 0;
                    }
                    *nm += 1;
                } else {
                    *md_dist += 1;
                }
                seq[at + i] = base;
            }
        } else {
            put(seq, seq_pos - 1, &bases)?;
            if self.decode_md || self.decode_nm {
                *md_dist += n as i32;
            }
        }
        Ok(true)
    }
}
