//! rANS 4x8 decoding (CRAM 3.1 codecs §2), the block codec of CRAM 3.0 files: four
//! interleaved 32-bit states, 12-bit frequencies, order 0 or order 1.
//!
//! noodles-cram decodes it too, but only for whole slices and more slowly; this is the hot
//! path of CRAM 3.0 quality scores.

/// Frequencies sum to 1 << 12; states renormalize below 1 << 23.
const TF_SHIFT: u32 = 12;
const TOTFREQ: u32 = 1 << TF_SHIFT;
const MASK: u32 = TOTFREQ - 1;
const LOWER_BOUND: u32 = 1 << 23;

/// Why a rANS stream could not be decoded.
pub(super) type RansError = &'static str;

struct Input<'a> {
    src: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn u8(&mut self) -> Result<u8, RansError> {
        let b = *self.src.get(self.pos).ok_or("rANS data ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, RansError> {
        let bytes = self
            .src
            .get(self.pos..self.pos + 4)
            .ok_or("rANS data ends early")?;
        self.pos += 4;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    #[inline(always)]
    fn renormalize(&mut self, mut x: u32) -> Result<u32, RansError> {
        while x < LOWER_BOUND {
            x = (x << 8) | u32::from(self.u8()?);
        }
        Ok(x)
    }
}

/// One frequency table: symbol by slot, frequency and start per symbol.
struct Table {
    symbols: Box<[u8; TOTFREQ as usize]>,
    freq: [u16; 256],
    start: [u16; 256],
}

impl Table {
    /// Reads a frequency table (run-length coded symbols, 1- or 2-byte frequencies).
    ///
    /// As htscodecs: the frequencies sum to 4096, or to 4095 (what old encoders wrote; the
    /// last slot then belongs to the last symbol); in an order-1 table a frequency of 0
    /// stands for 4096.
    fn read(input: &mut Input<'_>, order1: bool) -> Result<Self, RansError> {
        let mut table = Self {
            symbols: Box::new([0; TOTFREQ as usize]),
            freq: [0; 256],
            start: [0; 256],
        };
        let mut total = 0u32;
        read_symbol_runs(input, |input, sym| {
            let mut f = u32::from(input.u8()?);
            if f >= 128 {
                f = ((f & 0x7f) << 8) | u32::from(input.u8()?);
            }
            if f == 0 && order1 {
                f = TOTFREQ;
            }
            if total + f > TOTFREQ {
                return Err("rANS frequencies exceed 4096");
            }
            table.freq[usize::from(sym)] = f as u16;
            table.start[usize::from(sym)] = total as u16;
            table.symbols[total as usize..(total + f) as usize].fill(sym);
            total += f;
            Ok(())
        })?;
        match total {
            TOTFREQ => {}
            4095 => table.symbols[4095] = table.symbols[4094],
            _ => return Err("rANS frequencies do not sum to 4096"),
        }
        Ok(table)
    }

    #[inline(always)]
    fn step(&self, x: u32) -> (u8, u32) {
        let m = x & MASK;
        let sym = self.symbols[m as usize];
        let i = usize::from(sym);
        // 32-bit wrapping arithmetic, as htscodecs: a corrupt table (a symbol listed twice)
        // yields wrong bytes, never a panic
        let x = u32::from(self.freq[i])
            .wrapping_mul(x >> TF_SHIFT)
            .wrapping_add(m)
            .wrapping_sub(u32::from(self.start[i]));
        (sym, x)
    }
}

/// htscodecs' symbol list: a symbol, then either the next symbol or, when that is the
/// successor, a count of further consecutive symbols; a 0 symbol ends the list.
fn read_symbol_runs(
    input: &mut Input<'_>,
    mut each: impl FnMut(&mut Input<'_>, u8) -> Result<(), RansError>,
) -> Result<(), RansError> {
    let mut sym = input.u8()?;
    let mut run = 0u8;
    loop {
        each(input, sym)?;
        if run > 0 {
            run -= 1;
            sym = sym.checked_add(1).ok_or("bad rANS symbol run")?;
        } else {
            let next = input.u8()?;
            if u16::from(next) == u16::from(sym) + 1 {
                sym = next;
                run = input.u8()?;
                // the successor's own entry comes first; `run` more follow it
                continue;
            }
            sym = next;
        }
        if sym == 0 {
            return Ok(());
        }
    }
}

/// Decodes a rANS 4x8 stream (order byte, sizes, tables, states, data) that must expand
/// to `expected` bytes.
pub(super) fn decode(src: &[u8], expected: usize) -> Result<Vec<u8>, RansError> {
    let mut input = Input { src, pos: 0 };
    let order = input.u8()?;
    let _compressed = input.u32()?;
    let size = input.u32()? as usize;
    if size != expected {
        return Err("rANS output size differs from the block's");
    }
    let mut out = vec![0u8; size];
    match order {
        0 => order0(&mut input, &mut out)?,
        1 => order1(&mut input, &mut out)?,
        _ => return Err("unknown rANS order"),
    }
    Ok(out)
}

fn states(input: &mut Input<'_>) -> Result<[u32; 4], RansError> {
    Ok([input.u32()?, input.u32()?, input.u32()?, input.u32()?])
}

fn order0(input: &mut Input<'_>, out: &mut [u8]) -> Result<(), RansError> {
    let table = Table::read(input, false)?;
    let mut r = states(input)?;
    let (chunks, rest) = out.as_chunks_mut::<4>();
    for chunk in chunks {
        for (d, x) in chunk.iter_mut().zip(&mut r) {
            let (sym, next) = table.step(*x);
            *d = sym;
            *x = input.renormalize(next)?;
        }
    }
    for (d, x) in rest.iter_mut().zip(&mut r) {
        let (sym, next) = table.step(*x);
        *d = sym;
        *x = input.renormalize(next)?;
    }
    Ok(())
}

fn order1(input: &mut Input<'_>, out: &mut [u8]) -> Result<(), RansError> {
    // tables only for the contexts that occur
    let mut slot = [u16::MAX; 256];
    let mut tables: Vec<Table> = Vec::new();
    read_symbol_runs(input, |input, ctx| {
        slot[usize::from(ctx)] = tables.len() as u16;
        tables.push(Table::read(input, true)?);
        Ok(())
    })?;
    let mut r = states(input)?;
    let quarter = out.len() / 4;
    let (a, rest) = out.split_at_mut(quarter);
    let (b, rest) = rest.split_at_mut(quarter);
    let (c, rest) = rest.split_at_mut(quarter);
    let (d, tail) = rest.split_at_mut(quarter);
    let table = |ctx: u8| -> Result<&Table, RansError> {
        tables
            .get(usize::from(slot[usize::from(ctx)]))
            .ok_or("rANS context without a table")
    };
    let mut ctx = [0u8; 4];
    for i in 0..quarter {
        let outs = [&mut a[i], &mut b[i], &mut c[i], &mut d[i]];
        for (k, o) in outs.into_iter().enumerate() {
            let (sym, next) = table(ctx[k])?.step(r[k]);
            *o = sym;
            ctx[k] = sym;
            r[k] = input.renormalize(next)?;
        }
    }
    for o in tail {
        let (sym, next) = table(ctx[3])?.step(r[3]);
        *o = sym;
        ctx[3] = sym;
        r[3] = input.renormalize(next)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // test vectors from noodles-cram (CRAM codecs spec examples): "noodles"
    #[test]
    fn order_0() {
        let src = [
            0x00, 0x25, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x64, 0x82, 0x49, 0x65, 0x00,
            0x82, 0x49, 0x6c, 0x82, 0x49, 0x6e, 0x82, 0x49, 0x6f, 0x00, 0x84, 0x92, 0x73, 0x82,
            0x49, 0x00, 0xe2, 0x06, 0x83, 0x18, 0x74, 0x7b, 0x41, 0x0c, 0x2b, 0xa9, 0x41, 0x0c,
            0x25, 0x31, 0x80, 0x03,
        ];
        assert_eq!(decode(&src, 7).unwrap(), b"noodles");
        assert!(decode(&src[..src.len() - 3], 7).is_err());
        assert!(decode(&src, 8).is_err());
    }

    #[test]
    fn order_1() {
        let src = [
            0x01, 0x3b, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x64, 0x84, 0x00, 0x6e,
            0x84, 0x00, 0x6f, 0x00, 0x87, 0xff, 0x00, 0x64, 0x6c, 0x8f, 0xff, 0x00, 0x65, 0x00,
            0x73, 0x8f, 0xff, 0x00, 0x6c, 0x65, 0x8f, 0xff, 0x00, 0x6e, 0x6f, 0x8f, 0xff, 0x00,
            0x6f, 0x00, 0x64, 0x87, 0xff, 0x6f, 0x88, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02,
            0x02, 0x28, 0x00, 0x01, 0x02, 0x28, 0x00, 0x01, 0x02, 0x60, 0x00, 0x02,
        ];
        assert_eq!(decode(&src, 7).unwrap(), b"noodles");
    }
}
