//! The name tokenizer (CRAM codecs §6, htscodecs `tokenise_name3`), the read-name codec of
//! CRAM 3.1 at the `small` and `archive` profiles.
//!
//! A block holds up to 128 token positions, each with up to 16 byte streams (one per token
//! type), compressed with rANS Nx16 or the arithmetic coder. Each name is either a copy of
//! an earlier one (DUP) or a list of tokens where MATCH and DELTA refer to the token at the
//! same position of an earlier name (DIFF). Decoding follows htscodecs where the format
//! leaves room (an exhausted or unknown token type ends the name; `DIGITS` 0 writes nothing;
//! fixed-width digits are written as htscodecs writes them).
//!
//! What a hostile block can make this do is bounded by its declared size `ulen`: the
//! decoded streams by [`STREAM_BYTES_PER_OUTPUT_BYTE`] × `ulen`, the token steps by twice
//! `ulen` (a name of `b` bytes takes at most `b + 1` steps and writes `b + 1` bytes), and
//! the memory beyond the output is reported to the caller's meter before it is taken.

use std::rc::Rc;

use super::error::CramError;

const TYPE: u8 = 0;
const ALPHA: u8 = 1;
const CHAR: u8 = 2;
const DIGITS0: u8 = 3;
const DZLEN: u8 = 4;
const DUP: u8 = 5;
const DIGITS: u8 = 7;
const DELTA: u8 = 8;
const DELTA0: u8 = 9;
const MATCH: u8 = 10;
const NOP: u8 = 11;
const END: u8 = 12;

/// Token positions per block, as in htscodecs (position 0 says DUP or DIFF).
const MAX_POSITIONS: usize = 128;

/// Decoded stream bytes allowed per byte of output. A valid block consumes at most a type
/// byte and five payload bytes per step plus its strings, about 13 per output byte.
const STREAM_BYTES_PER_OUTPUT_BYTE: usize = 16;

/// Decodes one sub-stream of `size` bytes with the arithmetic coder (method byte nonzero).
pub(super) type Arith<'a> = &'a dyn Fn(&[u8], usize) -> Result<Vec<u8>, CramError>;

/// Reports the bytes the decoder holds besides its output; an error stops decoding.
pub(super) type Extra<'a> = &'a mut dyn FnMut(usize) -> Result<(), CramError>;

/// One token of a decoded name, enough to MATCH or DELTA against it.
#[derive(Clone, Copy, Debug)]
enum Token {
    Char(u8),
    /// A string `len` bytes long, `at` bytes into its name.
    Alpha {
        at: u32,
        len: u32,
    },
    Digits(u32),
    Digits0 {
        value: u32,
        width: u8,
    },
    Nop,
}

/// A decoded name: where its bytes are and which tokens it ended with.
#[derive(Clone, Copy, Debug)]
struct Name {
    start: usize,
    len: usize,
    /// Index of its position-1 token in the token list.
    tokens: usize,
    /// The position of its END: positions `1..end` hold tokens.
    end: usize,
}

#[derive(Clone, Debug, Default)]
enum Data {
    #[default]
    Empty,
    Bytes(Rc<[u8]>),
    /// A type stream left out by the encoder: its first type, then MATCH, `len` in all.
    Implicit {
        first: u8,
        len: usize,
    },
}

#[derive(Clone, Debug, Default)]
struct Stream {
    data: Data,
    at: usize,
}

impl Stream {
    fn byte(&mut self) -> Option<u8> {
        let b = match &self.data {
            Data::Empty => None,
            Data::Bytes(bytes) => bytes.get(self.at).copied(),
            Data::Implicit { first, len } => {
                (self.at < *len).then_some(if self.at == 0 { *first } else { MATCH })
            }
        }?;
        self.at += 1;
        Some(b)
    }

    fn u32(&mut self) -> Option<u32> {
        let Data::Bytes(bytes) = &self.data else {
            return None;
        };
        let word = bytes.get(self.at..)?.first_chunk::<4>()?;
        self.at += 4;
        Some(u32::from_le_bytes(*word))
    }

    /// Appends a NUL-terminated string to `out` if `out` stays shorter than `max`; its
    /// length.
    fn string(&mut self, out: &mut Vec<u8>, max: usize) -> Option<usize> {
        let Data::Bytes(bytes) = &self.data else {
            return None;
        };
        let rest = bytes.get(self.at..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        if out.len() + len >= max {
            return None;
        }
        out.extend_from_slice(&rest[..len]);
        self.at += len + 1;
        Some(len)
    }
}

/// Decodes a name tokenizer block whose header says `ulen` bytes and `names` names; the
/// caller has checked `ulen` against the block and holds that much memory for the output.
pub(super) fn decode(
    src: &[u8],
    what: &str,
    arith: Arith<'_>,
    extra: Extra<'_>,
) -> Result<Vec<u8>, CramError> {
    let corrupt = corrupt(what);
    let [u0, u1, u2, u3, n0, n1, n2, n3, method, rest @ ..] = src else {
        return Err(corrupt("the header is cut short"));
    };
    let ulen = u32::from_le_bytes([*u0, *u1, *u2, *u3]) as usize;
    let names = u32::from_le_bytes([*n0, *n1, *n2, *n3]) as usize;
    let mut held = Held {
        extra,
        streams: 0,
        lists: 0,
    };
    let mut rest: &[u8] = rest;
    let positions = read_streams(
        &mut rest,
        what,
        *method != 0,
        (ulen, names),
        arith,
        &mut held,
    )?;
    decode_names(positions, what, ulen, names, &mut held)
}

fn corrupt(what: &str) -> impl Fn(&str) -> CramError + '_ {
    move |e| CramError::Corrupt(format!("{what}: name tokenizer data: {e}"))
}

/// What the decoder holds besides its output, as last reported.
struct Held<'a> {
    extra: Extra<'a>,
    streams: usize,
    lists: usize,
}

impl Held<'_> {
    fn report(&mut self) -> Result<(), CramError> {
        (self.extra)(self.streams + self.lists)
    }
}

fn read_streams(
    src: &mut &[u8],
    what: &str,
    arith: bool,
    (ulen, names): (usize, usize),
    decode_arith: Arith<'_>,
    held: &mut Held<'_>,
) -> Result<Vec<[Stream; 16]>, CramError> {
    let corrupt = corrupt(what);
    let short = || corrupt("a token stream is cut short");
    let budget = ulen
        .saturating_mul(STREAM_BYTES_PER_OUTPUT_BYTE)
        .saturating_add(4096);
    let mut positions: Vec<[Stream; 16]> = Vec::new();
    while let Some((&ttype, rest)) = src.split_first() {
        *src = rest;
        let ty = usize::from(ttype & 15);
        if ttype & 0x80 != 0 {
            if positions.len() == MAX_POSITIONS {
                return Err(corrupt("more than 128 token positions"));
            }
            positions.push(Default::default());
        }
        let t = positions
            .len()
            .checked_sub(1)
            .ok_or_else(|| corrupt("a token stream comes before its position"))?;
        if ttype & 0x80 != 0 && ty != usize::from(TYPE) {
            positions[t][usize::from(TYPE)].data = Data::Implicit {
                first: ty as u8,
                len: names,
            };
        }
        let data = if ttype & 0x40 != 0 {
            // a copy of an earlier stream, named by (position << 4) + type
            let &[p, k, ref rest @ ..] = *src else {
                return Err(short());
            };
            *src = rest;
            let from = usize::from(p) * 16 + usize::from(k);
            if from >= t * 16 + ty {
                return Err(corrupt("a token stream copies one that follows it"));
            }
            positions[from / 16][from % 16].data.clone()
        } else {
            let (clen, rest) = uint7(src).ok_or_else(short)?;
            let data = rest.get(..clen).ok_or_else(short)?;
            *src = &rest[clen..];
            let size = stream_size(data).ok_or_else(|| corrupt("a token stream has no size"))?;
            if held.streams.saturating_add(size) > budget {
                return Err(corrupt("its token streams are larger than its names"));
            }
            held.streams += size;
            held.report()?;
            let bytes = if arith {
                decode_arith(data, size)?
            } else {
                super::rans_nx16::decode(data, size).map_err(&corrupt)?
            };
            if bytes.len() != size {
                return Err(corrupt("a token stream decodes to the wrong size"));
            }
            Data::Bytes(bytes.into())
        };
        positions[t][ty] = Stream { data, at: 0 };
    }
    Ok(positions)
}

/// The size a rANS Nx16 or arithmetic-coded stream declares after its flags byte.
fn stream_size(data: &[u8]) -> Option<usize> {
    const NO_SIZE: u8 = 0x10;
    let (&flags, mut rest) = data.split_first()?;
    if flags & NO_SIZE != 0 {
        return None;
    }
    uint7(&mut rest).map(|(n, _)| n)
}

/// A `uint7` (7 bits per byte, most significant first) and what follows it.
fn uint7<'a>(src: &mut &'a [u8]) -> Option<(usize, &'a [u8])> {
    let mut n: u32 = 0;
    for (i, &b) in src.iter().enumerate().take(5) {
        n = (n << 7) | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some((n as usize, &src[i + 1..]));
        }
    }
    None
}

fn decode_names(
    mut positions: Vec<[Stream; 16]>,
    what: &str,
    ulen: usize,
    declared: usize,
    held: &mut Held<'_>,
) -> Result<Vec<u8>, CramError> {
    let corrupt = corrupt(what);
    let too_long = || corrupt("the names are longer than its header declares");
    let max_steps = ulen.saturating_mul(2).saturating_add(16);
    let mut steps = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(ulen);
    let mut names: Vec<Name> = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    let Some(first) = positions.first_mut() else {
        return Err(corrupt("no token streams"));
    };
    let mut kinds = std::mem::take(&mut first[usize::from(TYPE)]);
    // a name whose position-0 type is exhausted or names no stream ends the block
    while let Some(t0) = kinds
        .byte()
        .filter(|&t| usize::from(t) < positions.len() * 16)
    {
        let cnum = names.len();
        if cnum == declared {
            return Err(corrupt("more names than its header declares"));
        }
        steps += 1;
        let first_token = tokens.len();
        if tokens.capacity() - first_token < MAX_POSITIONS || cnum == names.capacity() {
            let want_tokens = (tokens.capacity() * 2).max(first_token + MAX_POSITIONS);
            let want_names = (names.capacity() * 2).max(64);
            held.lists = want_tokens * std::mem::size_of::<Token>()
                + want_names * std::mem::size_of::<Name>();
            held.report()?;
            tokens.reserve_exact(want_tokens - first_token);
            names.reserve_exact(want_names - cnum);
        }
        let t0 = usize::from(t0);
        let dist = positions[t0 / 16][t0 % 16]
            .u32()
            .ok_or_else(|| corrupt("a name's distance is missing"))? as usize;
        let pnum = cnum
            .checked_sub(dist)
            .ok_or_else(|| corrupt("a name refers to one before the first"))?;
        let start = out.len();
        if t0 == usize::from(DUP) {
            let prev = *names
                .get(pnum)
                .ok_or_else(|| corrupt("a name is a copy of itself"))?;
            // htscodecs copies the earlier name as a C string
            let bytes = &out[prev.start..prev.start + prev.len];
            let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            if start + len >= ulen {
                return Err(too_long());
            }
            out.extend_from_within(prev.start..prev.start + len);
            out.push(0);
            names.push(Name { start, len, ..prev });
            continue;
        }
        // a name that differs from itself has nothing to match
        let prev = names.get(pnum).copied();
        let mut end = None;
        for ntok in 1..positions.len().min(MAX_POSITIONS) {
            steps += 1;
            if steps > max_steps {
                return Err(corrupt("more tokens than its names have bytes"));
            }
            let earlier = prev
                .filter(|p| ntok < p.end)
                .map(|p| (p, tokens[p.tokens + ntok - 1]));
            let stream = &mut positions[ntok];
            let ty = stream[usize::from(TYPE)].byte().unwrap_or(END);
            let token = match ty {
                CHAR => Token::Char(
                    stream[usize::from(CHAR)]
                        .byte()
                        .ok_or_else(|| corrupt("a CHAR token is missing"))?,
                ),
                ALPHA => {
                    let at = out.len() - start;
                    let len = stream[usize::from(ALPHA)]
                        .string(&mut out, ulen)
                        .ok_or_else(|| corrupt("a string token is missing or too long"))?;
                    Token::Alpha {
                        at: at as u32,
                        len: len as u32,
                    }
                }
                DIGITS0 => {
                    let width = stream[usize::from(DZLEN)].byte();
                    let value = stream[usize::from(DIGITS0)].u32();
                    let (Some(width), Some(value)) = (width, value) else {
                        return Err(corrupt("a DIGITS0 token is missing"));
                    };
                    Token::Digits0 { value, width }
                }
                DIGITS => Token::Digits(
                    stream[usize::from(DIGITS)]
                        .u32()
                        .ok_or_else(|| corrupt("a DIGITS token is missing"))?,
                ),
                DELTA | DELTA0 => {
                    let delta = stream[usize::from(ty)]
                        .byte()
                        .ok_or_else(|| corrupt("a DELTA token is missing"))?;
                    let delta = u32::from(delta);
                    match (ty, earlier.map(|(_, t)| t)) {
                        (DELTA, Some(Token::Digits(v) | Token::Digits0 { value: v, .. })) => {
                            Token::Digits(v.wrapping_add(delta))
                        }
                        (DELTA0, Some(Token::Digits0 { value, width })) => Token::Digits0 {
                            value: value.wrapping_add(delta),
                            width,
                        },
                        _ => return Err(corrupt("a DELTA token has no number to add to")),
                    }
                }
                NOP => Token::Nop,
                MATCH => match earlier {
                    Some((_, Token::Nop)) | None => {
                        return Err(corrupt("a MATCH token has nothing to match"));
                    }
                    Some((p, Token::Alpha { at, len })) => {
                        let from = p.start + at as usize;
                        let to = from + len as usize;
                        if to > out.len() {
                            return Err(corrupt("a MATCH token has nothing to match"));
                        }
                        if out.len() + len as usize >= ulen {
                            return Err(too_long());
                        }
                        let here = out.len() - start;
                        out.extend_from_within(from..to);
                        Token::Alpha {
                            at: here as u32,
                            len,
                        }
                    }
                    Some((_, token)) => token,
                },
                // an exhausted or unknown type is an END, as htscodecs reads it
                _ => {
                    end = Some(ntok);
                    break;
                }
            };
            match token {
                Token::Char(c) => out.push(c),
                Token::Digits(v) => write_digits(&mut out, v),
                Token::Digits0 { value, width } => write_digits0(&mut out, value, width),
                Token::Alpha { .. } | Token::Nop => {}
            }
            if out.len() >= ulen {
                return Err(too_long());
            }
            tokens.push(token);
        }
        let end = end.ok_or_else(|| corrupt("a name has more than 127 tokens"))?;
        names.push(Name {
            start,
            len: out.len() - start,
            tokens: first_token,
            end,
        });
        out.push(0);
    }
    Ok(out)
}

/// `v` in decimal; htscodecs writes nothing for 0 (its encoder never emits it).
fn write_digits(out: &mut Vec<u8>, v: u32) {
    if v != 0 {
        out.extend_from_slice(v.to_string().as_bytes());
    }
}

/// `v` in `width` decimal digits as htscodecs writes them: the leading digit is not
/// reduced, so a value wider than `width` gives a byte past `'9'`, and a width over 9
/// writes nothing.
fn write_digits0(out: &mut Vec<u8>, mut v: u32, width: u8) {
    if width > 9 {
        return;
    }
    for k in (0..u32::from(width)).rev() {
        let p = 10u32.pow(k);
        out.push((v / p + u32::from(b'0')) as u8);
        v %= p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_arith(_: &[u8], _: usize) -> Result<Vec<u8>, CramError> {
        Err(CramError::Corrupt("no arithmetic coder here".into()))
    }

    #[test]
    fn fixed_width_digits_are_written_as_htscodecs_writes_them() {
        let mut out = Vec::new();
        write_digits0(&mut out, 42, 4);
        write_digits(&mut out, 0);
        write_digits(&mut out, 907);
        write_digits0(&mut out, 123, 2);
        write_digits0(&mut out, 5, 10);
        assert_eq!(out, b"0042907<3");
    }

    #[test]
    fn a_block_that_ends_at_its_header_is_corrupt() {
        let mut extra = |_| Ok(());
        let err = decode(&[3, 0, 0, 0, 1, 0, 0, 0, 0], "block", &no_arith, &mut extra);
        let err = err.unwrap_err().to_string();
        assert!(err.contains("no token streams"), "{err}");
    }
}
