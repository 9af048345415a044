//! Data series encodings and their decoders (CRAM 3.1 §13, §14).
//!
//! Bit-level codecs read the core block MSB first; EXTERNAL reads one external block.

use std::collections::HashMap;

use super::num::read_itf8;
use crate::limits::MAX_CRAM_READ_LEN;

/// A codec that yields integers.
#[derive(Debug, Clone)]
pub(super) enum IntCodec {
    External(i32),
    Huffman(Huffman),
    Beta { offset: i32, bits: u32 },
    Gamma { offset: i32 },
    Subexp { offset: i32, k: u32 },
    Golomb { offset: i32, m: i32 },
    GolombRice { offset: i32, log2m: u32 },
}

/// A codec that yields single bytes.
#[derive(Debug, Clone)]
pub(super) enum ByteCodec {
    External(i32),
    Huffman(Huffman),
}

/// A codec that yields byte strings.
#[derive(Debug, Clone)]
pub(super) enum ByteArrayCodec {
    Len(Box<IntCodec>, Box<ByteCodec>),
    Stop { stop: u8, id: i32 },
}

/// A canonical Huffman code (CRAM 3.1 §13.3): codes sorted by length, then symbol.
#[derive(Debug, Clone)]
pub(super) struct Huffman {
    /// (length, code, symbol), in canonical order.
    codes: Vec<(u32, u32, i32)>,
}

impl Huffman {
    pub(super) fn new(symbols: &[i32], lengths: &[i32]) -> Option<Self> {
        if symbols.len() != lengths.len() || symbols.is_empty() {
            return None;
        }
        let mut entries: Vec<(u32, i32)> = symbols
            .iter()
            .zip(lengths)
            .map(|(&s, &l)| u32::try_from(l).ok().filter(|&l| l <= 31).map(|l| (l, s)))
            .collect::<Option<_>>()?;
        entries.sort_unstable();
        let mut codes = Vec::with_capacity(entries.len());
        let mut code: u32 = 0;
        let mut last_len = entries[0].0;
        for (i, &(len, symbol)) in entries.iter().enumerate() {
            if i > 0 {
                code = code.checked_add(1)?;
                code <<= len - last_len;
            }
            last_len = len;
            codes.push((len, code, symbol));
        }
        Some(Self { codes })
    }

    fn decode(&self, core: &mut BitReader<'_>) -> Result<i32, DecodeError> {
        if let [(0, _, symbol)] = self.codes[..] {
            return Ok(symbol);
        }
        let mut len = 0;
        let mut code = 0u32;
        for &(l, c, symbol) in &self.codes {
            while len < l {
                code = (code << 1) | core.bit()?;
                len += 1;
            }
            if c == code {
                return Ok(symbol);
            }
        }
        Err(DecodeError::Invalid(
            "no Huffman code matches the core data",
        ))
    }
}

/// A decoding failure inside a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DecodeError {
    /// A block ran out of data.
    Exhausted(&'static str),
    /// Data that no valid encoder writes.
    Invalid(&'static str),
}

/// MSB-first reader of the core data block.
#[derive(Debug)]
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    bit: u32,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            bit: 0,
        }
    }

    fn bit(&mut self) -> Result<u32, DecodeError> {
        let byte = *self
            .data
            .get(self.pos)
            .ok_or(DecodeError::Exhausted("core data"))?;
        let b = u32::from(byte >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.pos += 1;
        }
        Ok(b)
    }

    fn bits(&mut self, n: u32) -> Result<u32, DecodeError> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }
}

/// An external block being consumed.
#[derive(Debug)]
pub(super) struct External<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> External<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or(DecodeError::Exhausted("an external block"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(DecodeError::Exhausted("an external block"))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn itf8(&mut self) -> Result<i32, DecodeError> {
        let mut src = &self.data[self.pos.min(self.data.len())..];
        let before = src.len();
        let n = read_itf8(&mut src).ok_or(DecodeError::Exhausted("an external block"))?;
        self.pos += before - src.len();
        Ok(n)
    }

    fn until(&mut self, stop: u8) -> Result<&'a [u8], DecodeError> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let n = memchr::memchr(stop, rest).ok_or(DecodeError::Exhausted("an external block"))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }
}

/// The decoded blocks of one slice: the core block and the external blocks by content ID.
#[derive(Debug)]
pub(super) struct SliceData<'a> {
    core: BitReader<'a>,
    small: Vec<Option<usize>>,
    large: HashMap<i32, usize>,
    externals: Vec<External<'a>>,
}

/// Content IDs below this are looked up in a table rather than a map.
const SMALL_IDS: usize = 256;

impl<'a> SliceData<'a> {
    pub(super) fn new(
        core: &'a [u8],
        externals: impl IntoIterator<Item = (i32, &'a [u8])>,
    ) -> Self {
        let mut data = Self {
            core: BitReader::new(core),
            small: vec![None; SMALL_IDS],
            large: HashMap::new(),
            externals: Vec::new(),
        };
        for (id, bytes) in externals {
            let slot = data.externals.len();
            data.externals.push(External {
                data: bytes,
                pos: 0,
            });
            match usize::try_from(id) {
                Ok(i) if i < SMALL_IDS => data.small[i] = Some(slot),
                _ => {
                    data.large.insert(id, slot);
                }
            }
        }
        data
    }

    fn external(&mut self, id: i32) -> Result<&mut External<'a>, DecodeError> {
        let slot = match usize::try_from(id) {
            Ok(i) if i < SMALL_IDS => self.small[i],
            _ => self.large.get(&id).copied(),
        };
        match slot {
            Some(slot) => Ok(&mut self.externals[slot]),
            None => Err(DecodeError::Invalid(
                "a data series refers to a missing block",
            )),
        }
    }

    pub(super) fn int(&mut self, codec: &IntCodec) -> Result<i32, DecodeError> {
        match *codec {
            IntCodec::External(id) => self.external(id)?.itf8(),
            IntCodec::Huffman(ref h) => h.decode(&mut self.core),
            IntCodec::Beta { offset, bits } => {
                Ok((self.core.bits(bits)? as i32).wrapping_sub(offset))
            }
            IntCodec::Gamma { offset } => {
                let mut n = 0;
                while self.core.bit()? == 0 {
                    n += 1;
                    if n > 31 {
                        return Err(DecodeError::Invalid("a gamma code is too long"));
                    }
                }
                let v = (1u32 << n) | self.core.bits(n)?;
                Ok((v as i32).wrapping_sub(offset))
            }
            IntCodec::Subexp { offset, k } => {
                let mut i = 0u32;
                while self.core.bit()? == 1 {
                    i += 1;
                    if i + k > 32 {
                        return Err(DecodeError::Invalid("a subexponential code is too long"));
                    }
                }
                let v = if i == 0 {
                    self.core.bits(k)?
                } else {
                    let b = i + k - 1;
                    (1u32 << b) | self.core.bits(b)?
                };
                Ok((v as i32).wrapping_sub(offset))
            }
            IntCodec::Golomb { offset, m } => {
                let mut q = 0i32;
                while self.core.bit()? == 1 {
                    q += 1;
                }
                let b = 32 - ((m - 1).max(0) as u32).leading_zeros();
                let threshold = (1i64 << b) - i64::from(m);
                let mut r = i64::from(self.core.bits(b.saturating_sub(1))?);
                if r >= threshold {
                    r = ((r << 1) | i64::from(self.core.bit()?)) - threshold;
                }
                Ok(q.wrapping_mul(m)
                    .wrapping_add(r as i32)
                    .wrapping_sub(offset))
            }
            IntCodec::GolombRice { offset, log2m } => {
                let mut q = 0u32;
                while self.core.bit()? == 1 {
                    q += 1;
                }
                let r = self.core.bits(log2m)?;
                Ok(((q << log2m) | r) as i32 - offset)
            }
        }
    }

    pub(super) fn byte(&mut self, codec: &ByteCodec) -> Result<u8, DecodeError> {
        match *codec {
            ByteCodec::External(id) => self.external(id)?.byte(),
            ByteCodec::Huffman(ref h) => Ok(h.decode(&mut self.core)? as u8),
        }
    }

    /// Appends `n` bytes decoded with `codec` to `dst`.
    pub(super) fn bytes_into(
        &mut self,
        codec: &ByteCodec,
        n: usize,
        dst: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        match *codec {
            ByteCodec::External(id) => {
                dst.extend_from_slice(self.external(id)?.take(n)?);
                Ok(())
            }
            ByteCodec::Huffman(ref h) => {
                for _ in 0..n {
                    dst.push(h.decode(&mut self.core)? as u8);
                }
                Ok(())
            }
        }
    }

    /// Fills `dst` with bytes decoded with `codec`.
    pub(super) fn bytes_to(
        &mut self,
        codec: &ByteCodec,
        dst: &mut [u8],
    ) -> Result<(), DecodeError> {
        match *codec {
            ByteCodec::External(id) => {
                dst.copy_from_slice(self.external(id)?.take(dst.len())?);
                Ok(())
            }
            ByteCodec::Huffman(ref h) => {
                for b in dst {
                    *b = h.decode(&mut self.core)? as u8;
                }
                Ok(())
            }
        }
    }

    /// Appends one byte array decoded with `codec` to `dst`; returns its length.
    pub(super) fn byte_array_into(
        &mut self,
        codec: &ByteArrayCodec,
        dst: &mut Vec<u8>,
    ) -> Result<usize, DecodeError> {
        match codec {
            ByteArrayCodec::Len(len, value) => {
                let n = usize::try_from(self.int(len)?)
                    .map_err(|_| DecodeError::Invalid("a negative byte array length"))?;
                // a Huffman code of one symbol takes no bits: the length alone would fill memory
                if n > MAX_CRAM_READ_LEN {
                    return Err(DecodeError::Invalid(
                        "a byte array is longer than the 16 MiB limit of this service",
                    ));
                }
                self.bytes_into(value, n, dst)?;
                Ok(n)
            }
            ByteArrayCodec::Stop { stop, id } => {
                let bytes = self.external(*id)?.until(*stop)?;
                dst.extend_from_slice(bytes);
                Ok(bytes.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_huffman_codes() {
        // symbols 1..=4 with lengths 1, 2, 3, 3: codes 0, 10, 110, 111
        let h = Huffman::new(&[4, 1, 3, 2], &[3, 1, 3, 2]).unwrap();
        let core = [0b0101_1011, 0b1000_0000];
        let mut data = SliceData::new(&core, []);
        let codec = IntCodec::Huffman(h);
        let got: Vec<i32> = (0..5).map(|_| data.int(&codec).unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4, 1]);
    }

    #[test]
    fn single_symbol_huffman_reads_no_bits() {
        let codec = IntCodec::Huffman(Huffman::new(&[7], &[0]).unwrap());
        let mut data = SliceData::new(&[], []);
        assert_eq!(data.int(&codec), Ok(7));
        assert_eq!(data.int(&codec), Ok(7));
    }

    #[test]
    fn beta_gamma_subexp() {
        // beta(offset 1, 3 bits): 101 -> 4; gamma(offset 0): 001 01 -> 5; subexp(k=1): 0 1 -> 1
        let core = [0b1010_0101, 0b0100_0000];
        let mut data = SliceData::new(&core, []);
        assert_eq!(data.int(&IntCodec::Beta { offset: 1, bits: 3 }), Ok(4));
        assert_eq!(data.int(&IntCodec::Gamma { offset: 0 }), Ok(5));
        assert_eq!(data.int(&IntCodec::Subexp { offset: 0, k: 1 }), Ok(1));
    }

    #[test]
    fn external_values_and_stop_arrays() {
        let ext: &[u8] = b"\x05\x81\x00abc\tXY";
        let mut data = SliceData::new(&[], [(300, ext)]);
        assert_eq!(data.int(&IntCodec::External(300)), Ok(5));
        assert_eq!(data.int(&IntCodec::External(300)), Ok(256));
        let mut out = Vec::new();
        let stop = ByteArrayCodec::Stop {
            stop: b'\t',
            id: 300,
        };
        assert_eq!(data.byte_array_into(&stop, &mut out), Ok(3));
        assert_eq!(out, b"abc");
        assert_eq!(data.byte(&ByteCodec::External(300)), Ok(b'X'));
        assert!(data.int(&IntCodec::External(7)).is_err());
    }
}
