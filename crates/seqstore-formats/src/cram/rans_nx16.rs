//! rANS Nx16 decoding (CRAM codecs §3), the main block codec of CRAM 3.1: 4 or 32
//! interleaved states with 16-bit renormalization, order 0 or 1, and the STRIPE, PACK, RLE
//! and CAT transforms.
//!
//! Mirrors the structure of noodles-cram's decoder (which is the fallback and, in debug
//! builds, the cross-check) with table lookups instead of a symbol search per byte.

/// Why a stream could not be decoded.
pub(super) type NxError = &'static str;

const ORDER: u8 = 0x01;
const N32: u8 = 0x04;
const STRIPE: u8 = 0x08;
const NO_SIZE: u8 = 0x10;
const CAT: u8 = 0x20;
const RLE: u8 = 0x40;
const PACK: u8 = 0x80;

const SHORT: NxError = "rANS Nx16 data ends early";

struct Input<'a> {
    src: &'a [u8],
}

impl<'a> Input<'a> {
    fn u8(&mut self) -> Result<u8, NxError> {
        let (&b, rest) = self.src.split_first().ok_or(SHORT)?;
        self.src = rest;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, NxError> {
        let (head, rest) = self.src.split_first_chunk::<4>().ok_or(SHORT)?;
        self.src = rest;
        Ok(u32::from_le_bytes(*head))
    }

    /// `uint7`: 7 bits per byte, most significant group first, high bit = more.
    fn uint7(&mut self) -> Result<u32, NxError> {
        let mut n: u32 = 0;
        for _ in 0..5 {
            let b = self.u8()?;
            n = (n << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("bad uint7 in rANS Nx16 data")
    }

    fn usize7(&mut self) -> Result<usize, NxError> {
        Ok(self.uint7()? as usize)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], NxError> {
        if n > self.src.len() {
            return Err(SHORT);
        }
        let (head, rest) = self.src.split_at(n);
        self.src = rest;
        Ok(head)
    }

    #[inline(always)]
    fn renormalize(&mut self, x: u32) -> Result<u32, NxError> {
        if x < (1 << 15) {
            let (head, rest) = self.src.split_first_chunk::<2>().ok_or(SHORT)?;
            self.src = rest;
            Ok((x << 16) | u32::from(u16::from_le_bytes(*head)))
        } else {
            Ok(x)
        }
    }
}

/// Decodes a rANS Nx16 block; `size` is the block's raw size (used when the stream
/// does not carry its own).
pub(super) fn decode(src: &[u8], size: usize) -> Result<Vec<u8>, NxError> {
    let mut input = Input { src };
    let out = decode_inner(&mut input, size, size)?;
    if out.len() != size {
        return Err("rANS Nx16 output size differs from the block's");
    }
    Ok(out)
}

/// `limit` caps every size read from the stream, so corrupt data cannot allocate more
/// than the block's raw size (twice that for RLE metadata).
fn decode_inner(input: &mut Input<'_>, mut size: usize, limit: usize) -> Result<Vec<u8>, NxError> {
    let too_big = "a rANS Nx16 size exceeds the block's";
    let flags = input.u8()?;
    if flags & NO_SIZE == 0 {
        size = input.usize7()?;
    }
    if size > limit {
        return Err(too_big);
    }
    if flags & STRIPE != 0 {
        return stripe(input, size, limit);
    }
    let states = if flags & N32 != 0 { 32 } else { 4 };
    let pack = if flags & PACK != 0 {
        let n = usize::from(input.u8()?);
        if n == 0 {
            return Err("rANS Nx16 PACK with no symbols");
        }
        let map = input.take(n)?;
        let packed = input.usize7()?;
        if packed > limit {
            return Err(too_big);
        }
        let pack = (map, size);
        size = packed;
        Some(pack)
    } else {
        None
    };
    let rle = if flags & RLE != 0 {
        let n = input.uint7()?;
        let meta_len = (n >> 1) as usize;
        let literal_len = input.usize7()?;
        if literal_len > limit || meta_len > 2 * limit + 1024 {
            return Err(too_big);
        }
        let meta = if n & 1 == 0 {
            let compressed = input.usize7()?;
            let mut sub = Input {
                src: input.take(compressed)?,
            };
            let mut meta = vec![0; meta_len];
            order0(&mut sub, &mut meta, states)?;
            meta
        } else {
            input.take(meta_len)?.to_vec()
        };
        let rle = (meta, size);
        size = literal_len;
        Some(rle)
    } else {
        None
    };
    let mut out = vec![0u8; size];
    if flags & CAT != 0 {
        out.copy_from_slice(input.take(size)?);
    } else if flags & ORDER != 0 {
        order1(input, &mut out, states)?;
    } else {
        order0(input, &mut out, states)?;
    }
    if let Some((meta, len)) = rle {
        out = unrle(&out, &meta, len)?;
    }
    if let Some((map, len)) = pack {
        out = unpack(&out, map, len)?;
    }
    Ok(out)
}

fn stripe(input: &mut Input<'_>, size: usize, limit: usize) -> Result<Vec<u8>, NxError> {
    let n = usize::from(input.u8()?);
    if n == 0 {
        return Err("rANS Nx16 STRIPE with no streams");
    }
    let sizes = (0..n)
        .map(|_| input.usize7())
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = vec![0u8; size];
    for (i, compressed) in sizes.into_iter().enumerate() {
        let part_len = size / n + usize::from(size % n > i);
        let mut sub = Input {
            src: input.take(compressed)?,
        };
        let part = decode_inner(&mut sub, part_len, limit)?;
        for (j, &b) in part.iter().enumerate().take(part_len) {
            *out.get_mut(j * n + i).ok_or("bad rANS Nx16 stripe")? = b;
        }
    }
    Ok(out)
}

/// The run-length symbols of the RLE metadata, then their run lengths.
fn unrle(literals: &[u8], meta: &[u8], len: usize) -> Result<Vec<u8>, NxError> {
    let mut meta = Input { src: meta };
    let count = match meta.u8()? {
        0 => 256,
        n => usize::from(n),
    };
    let mut runs = [false; 256];
    for _ in 0..count {
        runs[usize::from(meta.u8()?)] = true;
    }
    let mut out = Vec::with_capacity(len);
    let mut literals = literals.iter();
    while out.len() < len {
        let &sym = literals.next().ok_or("rANS Nx16 RLE literals end early")?;
        out.push(sym);
        if runs[usize::from(sym)] {
            let run = meta.usize7()?.min(len - out.len());
            out.resize(out.len() + run, sym);
        }
    }
    Ok(out)
}

/// PACK: 1, 2, 4 or 8 symbols per byte, low bits first.
fn unpack(src: &[u8], map: &[u8], len: usize) -> Result<Vec<u8>, NxError> {
    let per_byte = match map.len() {
        1 => return Ok(vec![map[0]; len]),
        2 => 8,
        3..=4 => 4,
        5..=16 => 2,
        _ => return Err("rANS Nx16 PACK with more than 16 symbols"),
    };
    let shift = 8 / per_byte;
    let mask = (1u8 << shift) - 1;
    let mut out = vec![0u8; len];
    for (chunk, &byte) in out.chunks_mut(per_byte).zip(src) {
        let mut s = byte;
        for d in chunk {
            *d = *map
                .get(usize::from(s & mask))
                .ok_or("bad rANS Nx16 packed symbol")?;
            s >>= shift;
        }
    }
    Ok(out)
}

/// Symbols present, in htscodecs' run-length form (as the 4x8 tables).
fn alphabet(input: &mut Input<'_>) -> Result<[bool; 256], NxError> {
    let mut present = [false; 256];
    let mut sym = input.u8()?;
    let mut prev = sym;
    loop {
        present[usize::from(sym)] = true;
        sym = input.u8()?;
        if sym == 0 {
            return Ok(present);
        }
        if u16::from(sym) == u16::from(prev) + 1 {
            let run = input.u8()?;
            for _ in 0..run {
                present[usize::from(sym)] = true;
                sym = sym.checked_add(1).ok_or("bad rANS Nx16 alphabet")?;
            }
        }
        prev = sym;
    }
}

/// One order-0 frequency table with its symbol lookup.
struct Table {
    freq: [u32; 256],
    start: [u32; 256],
    lookup: Vec<u8>,
}

impl Table {
    /// Scales `freq` to sum to `1 << bits` (doubling, as the encoder's normalization
    /// expects) and builds the lookup.
    fn new(mut freq: [u32; 256], bits: u32) -> Result<Self, NxError> {
        let total = 1u32 << bits;
        // frequencies are read as 32-bit values: sum them without overflow
        let sum: u64 = freq.iter().map(|&f| u64::from(f)).sum();
        if sum > u64::from(total) {
            return Err("rANS Nx16 frequencies are too large");
        }
        let mut sum = sum as u32;
        if sum != 0 && sum != total {
            let mut shift = 0;
            while sum < total {
                sum *= 2;
                shift += 1;
            }
            for f in &mut freq {
                *f <<= shift;
            }
        }
        if sum > total {
            return Err("rANS Nx16 frequencies are too large");
        }
        let mut start = [0u32; 256];
        let mut lookup = vec![0u8; total as usize];
        let mut at = 0u32;
        for (sym, &f) in freq.iter().enumerate() {
            start[sym] = at;
            lookup[at as usize..(at + f) as usize].fill(sym as u8);
            at += f;
        }
        Ok(Self {
            freq,
            start,
            lookup,
        })
    }

    #[inline(always)]
    fn step(&self, x: u32, bits: u32) -> (u8, u32) {
        let m = x & ((1 << bits) - 1);
        let sym = self.lookup[m as usize];
        let i = usize::from(sym);
        // 32-bit wrapping arithmetic, as htscodecs: corrupt tables give wrong bytes, not panics
        let next = self.freq[i]
            .wrapping_mul(x >> bits)
            .wrapping_add(m)
            .wrapping_sub(self.start[i]);
        (sym, next)
    }
}

fn read_states(input: &mut Input<'_>, n: usize) -> Result<Vec<u32>, NxError> {
    (0..n).map(|_| input.u32()).collect()
}

fn order0(input: &mut Input<'_>, out: &mut [u8], states: usize) -> Result<(), NxError> {
    let present = alphabet(input)?;
    let mut freq = [0u32; 256];
    for (f, _) in freq.iter_mut().zip(present).filter(|(_, p)| *p) {
        *f = input.uint7()?;
    }
    let table = Table::new(freq, 12)?;
    let mut r = read_states(input, states)?;
    for chunk in out.chunks_mut(states) {
        for (d, x) in chunk.iter_mut().zip(r.iter_mut()) {
            let (sym, next) = table.step(*x, 12);
            *d = sym;
            *x = input.renormalize(next)?;
        }
    }
    Ok(())
}

fn order1(input: &mut Input<'_>, out: &mut [u8], states: usize) -> Result<(), NxError> {
    let header = input.u8()?;
    let bits = u32::from(header >> 4);
    if !(1..=15).contains(&bits) {
        return Err("bad rANS Nx16 order-1 frequency precision");
    }
    let mut tables: Vec<Option<Table>> = (0..256).map(|_| None).collect();
    if header & 1 != 0 {
        let raw_len = input.usize7()?;
        if raw_len > 1 << 20 {
            return Err("rANS Nx16 order-1 table is too large");
        }
        let compressed = input.usize7()?;
        let mut sub = Input {
            src: input.take(compressed)?,
        };
        let mut raw = vec![0u8; raw_len];
        order0(&mut sub, &mut raw, 4)?;
        read_order1_tables(&mut Input { src: &raw }, bits, &mut tables)?;
    } else {
        read_order1_tables(input, bits, &mut tables)?;
    }
    let mut r = read_states(input, states)?;
    let mut ctx = vec![0u8; states];
    let chunk = out.len() / states;
    let table = |c: u8| {
        tables[usize::from(c)]
            .as_ref()
            .ok_or("rANS Nx16 context without a table")
    };
    if states == 4 {
        // the common case, with the four output quarters split up front
        let (a, rest) = out.split_at_mut(chunk);
        let (b, rest) = rest.split_at_mut(chunk);
        let (c, rest) = rest.split_at_mut(chunk);
        let d = &mut rest[..chunk];
        for i in 0..chunk {
            for (j, o) in [&mut a[i], &mut b[i], &mut c[i], &mut d[i]]
                .into_iter()
                .enumerate()
            {
                let (sym, next) = table(ctx[j])?.step(r[j], bits);
                *o = sym;
                ctx[j] = sym;
                r[j] = input.renormalize(next)?;
            }
        }
    } else {
        for i in 0..chunk {
            for j in 0..states {
                let (sym, next) = table(ctx[j])?.step(r[j], bits);
                out[j * chunk + i] = sym;
                ctx[j] = sym;
                r[j] = input.renormalize(next)?;
            }
        }
    }
    let last = states - 1;
    for d in &mut out[chunk * states..] {
        let table = tables[usize::from(ctx[last])]
            .as_ref()
            .ok_or("rANS Nx16 context without a table")?;
        let (sym, next) = table.step(r[last], bits);
        *d = sym;
        ctx[last] = sym;
        r[last] = input.renormalize(next)?;
    }
    Ok(())
}

fn read_order1_tables(
    input: &mut Input<'_>,
    bits: u32,
    tables: &mut [Option<Table>],
) -> Result<(), NxError> {
    let present = alphabet(input)?;
    let symbols: Vec<usize> = (0..256).filter(|&s| present[s]).collect();
    for &ctx in &symbols {
        let mut freq = [0u32; 256];
        let mut i = 0;
        while i < symbols.len() {
            let f = input.uint7()?;
            freq[symbols[i]] = f;
            i += 1;
            if f == 0 {
                i += usize::from(input.u8()?);
            }
        }
        tables[ctx] = Some(Table::new(freq, bits)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // test vectors from noodles-cram: "noodles" in order 0, order 1 and striped
    #[test]
    fn order_0() {
        let src = [
            0x00, 0x07, 0x64, 0x65, 0x00, 0x6c, 0x6e, 0x6f, 0x00, 0x73, 0x00, 0x01, 0x01, 0x01,
            0x01, 0x03, 0x01, 0x00, 0x26, 0x20, 0x00, 0x00, 0xb8, 0x0a, 0x00, 0x00, 0xd8, 0x0a,
            0x00, 0x00, 0x00, 0x04, 0x00,
        ];
        assert_eq!(decode(&src, 7).unwrap(), b"noodles");
    }

    #[test]
    fn order_1() {
        let src = [
            0x01, 0x4d, 0xa0, 0x00, 0x64, 0x65, 0x00, 0x6c, 0x6e, 0x6f, 0x00, 0x73, 0x00, 0x00,
            0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00,
            0x01, 0x00, 0x02, 0x00, 0x01, 0x0f, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x0f, 0x00,
            0x02, 0x00, 0x03, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x0f, 0x00,
            0x00, 0x00, 0x05, 0x10, 0x80, 0x72, 0x60, 0x00, 0x80, 0x8b, 0x5f, 0x00, 0xc0, 0xb0,
            0x60, 0x00, 0x40, 0x49, 0x39, 0x00,
        ];
        assert_eq!(
            decode(&src, 77).unwrap(),
            b"nnnnnnnnnnnnooooooooooooooooddddddddddddddllllllllllllllleeeeeeeeeessssssssss"
        );
    }

    #[test]
    fn stripe() {
        let src = [
            0x08, 0x07, 0x04, 0x17, 0x17, 0x17, 0x15, 0x00, 0x02, 0x6c, 0x6e, 0x00, 0x01, 0x01,
            0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80,
            0x00, 0x00, 0x00, 0x02, 0x65, 0x6f, 0x00, 0x01, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00,
            0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x02, 0x6f,
            0x73, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x80,
            0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x01, 0x00, 0x80, 0x00,
            0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0x81, 0x11, 0x01, 0x7f,
            0x00,
        ];
        assert_eq!(decode(&src, 7).unwrap(), b"noodles");
    }

    #[test]
    fn rle_and_pack_helpers() {
        // meta: 1 run symbol 'a', its run length 3; literals "ab"
        assert_eq!(unrle(b"ab", &[1, b'a', 3], 5).unwrap(), b"aaaab");
        // two symbols, one bit each, low bits first
        assert_eq!(unpack(&[0b0000_0101], b"xy", 4).unwrap(), b"yxyx");
    }
}
