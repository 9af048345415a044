//! A gzip member's header (RFC 1952 §2.3), read as its bytes arrive, in pieces of any size.

use std::io;

use flate2::Crc;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// ID1 ID2 CM FLG MTIME(4) XFL OS.
const FIXED_LEN: usize = 10;

/// The parts of a header, in the order they come; the optional ones only when FLG says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Fixed,
    ExtraLen,
    /// The extra field, with this many bytes left.
    Extra(usize),
    Name,
    Comment,
    /// The CRC16 of the bytes before it.
    HeaderCrc,
    Done,
}

/// Reads one member's header and checks its magic, method, flags and header CRC; keeps at
/// most 10 bytes, whatever the length of its name, comment or extra field.
#[derive(Debug)]
pub(super) struct HeaderReader {
    part: Part,
    /// The bytes read of the fixed part, XLEN or the header CRC.
    held: Vec<u8>,
    flags: u8,
    /// Of every header byte before the header CRC.
    crc: Crc,
}

impl HeaderReader {
    pub(super) fn new() -> Self {
        Self {
            part: Part::Fixed,
            held: Vec::with_capacity(FIXED_LEN),
            flags: 0,
            crc: Crc::new(),
        }
    }

    /// Reads header bytes from the start of `input`; returns how many it took and whether the
    /// header is complete (the deflate data starts right after).
    pub(super) fn read(&mut self, input: &[u8]) -> io::Result<(usize, bool)> {
        let mut taken = 0;
        while taken < input.len() && self.part != Part::Done {
            let rest = &input[taken..];
            let n = match self.part {
                Part::Fixed => self.hold(rest, FIXED_LEN),
                Part::ExtraLen | Part::HeaderCrc => self.hold(rest, 2),
                Part::Extra(left) => left.min(rest.len()),
                Part::Name | Part::Comment => memchr::memchr(0, rest).map_or(rest.len(), |i| i + 1),
                Part::Done => unreachable!("the loop stops at Done"),
            };
            if self.part != Part::HeaderCrc {
                self.crc.update(&rest[..n]);
            }
            taken += n;
            self.advance(&rest[..n])?;
        }
        Ok((taken, self.part == Part::Done))
    }

    /// Takes what `part` still needs of its `len` bytes into `held`.
    fn hold(&mut self, rest: &[u8], len: usize) -> usize {
        let n = (len - self.held.len()).min(rest.len());
        self.held.extend_from_slice(&rest[..n]);
        n
    }

    /// Moves on once the current part has all its bytes (`read` the ones just taken).
    fn advance(&mut self, read: &[u8]) -> io::Result<()> {
        let next = match self.part {
            Part::Fixed if self.held.len() == FIXED_LEN => {
                self.check_fixed()?;
                self.after(Part::Fixed)
            }
            Part::ExtraLen if self.held.len() == 2 => {
                let xlen = usize::from(u16::from_le_bytes([self.held[0], self.held[1]]));
                match xlen {
                    0 => self.after(Part::Extra(0)),
                    _ => Part::Extra(xlen),
                }
            }
            Part::Extra(left) => match left - read.len() {
                0 => self.after(Part::Extra(0)),
                left => Part::Extra(left),
            },
            Part::Name | Part::Comment if read.last() == Some(&0) => self.after(self.part),
            Part::HeaderCrc if self.held.len() == 2 => {
                let stored = u16::from_le_bytes([self.held[0], self.held[1]]);
                // RFC 1952 §2.3.1: the two least significant bytes of the CRC32.
                if stored != (self.crc.sum() & 0xffff) as u16 {
                    return Err(invalid("the gzip header's CRC16 does not match it"));
                }
                Part::Done
            }
            same => same,
        };
        if next != self.part {
            self.held.clear();
            self.part = next;
        }
        Ok(())
    }

    fn check_fixed(&mut self) -> io::Result<()> {
        let fixed = &self.held;
        if fixed[..2] != super::GZIP_MAGIC {
            return Err(invalid(format!(
                "not a gzip member: it starts with {:02x} {:02x}",
                fixed[0], fixed[1]
            )));
        }
        if fixed[2] != 8 {
            return Err(invalid(format!(
                "gzip compression method {} is not deflate (8)",
                fixed[2]
            )));
        }
        self.flags = fixed[3];
        if self.flags & RESERVED != 0 {
            return Err(invalid(format!(
                "reserved gzip header flags are set ({:#04x})",
                self.flags
            )));
        }
        Ok(())
    }

    /// The first part after `part` that this header has.
    fn after(&self, part: Part) -> Part {
        [
            (Part::ExtraLen, FEXTRA),
            (Part::Name, FNAME),
            (Part::Comment, FCOMMENT),
            (Part::HeaderCrc, FHCRC),
        ]
        .into_iter()
        .find(|&(next, flag)| next > part && self.flags & flag != 0)
        .map_or(Part::Done, |(next, _)| next)
    }
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with every optional part, its CRC16 right or not.
    fn full_header(crc_right: bool) -> Vec<u8> {
        let mut header = b"\x1f\x8b\x08\x1e\0\0\0\0\0\xff\x04\0XY\0\0name.fq\0a comment\0".to_vec();
        let mut crc = Crc::new();
        crc.update(&header);
        let crc16 = (crc.sum() & 0xffff) as u16 ^ u16::from(!crc_right);
        header.extend_from_slice(&crc16.to_le_bytes());
        header
    }

    /// Reads `input` in pieces of `chunk` bytes: the bytes taken, or the error.
    fn read(input: &[u8], chunk: usize) -> io::Result<usize> {
        let mut reader = HeaderReader::new();
        let mut taken = 0;
        for piece in input.chunks(chunk) {
            let (n, done) = reader.read(piece)?;
            taken += n;
            if done {
                return Ok(taken);
            }
            assert_eq!(n, piece.len());
        }
        Err(io::ErrorKind::UnexpectedEof.into())
    }

    #[test]
    fn every_optional_part_is_read_whatever_the_pieces() {
        let header = full_header(true);
        let input = [header.as_slice(), b"deflate data"].concat();
        for chunk in [1, 2, 3, 11, input.len()] {
            assert_eq!(
                read(&input, chunk).unwrap(),
                header.len(),
                "pieces of {chunk}"
            );
        }
        assert_eq!(read(b"\x1f\x8b\x08\0\0\0\0\0\0\x03rest", 4).unwrap(), 10);
        assert_eq!(
            read(b"\x1f\x8b\x08\x04\0\0\0\0\0\x03\0\0rest", 5).unwrap(),
            12
        );
    }

    #[test]
    fn a_wrong_header_is_refused_with_its_reason() {
        let cases: [(&[u8], &str); 4] = [
            (b"\x1f\x8c\x08\0\0\0\0\0\0\x03", "not a gzip member"),
            (b"\x1f\x8b\x07\0\0\0\0\0\0\x03", "method 7"),
            (b"\x1f\x8b\x08\x20\0\0\0\0\0\x03", "reserved"),
            (&full_header(false), "CRC16"),
        ];
        for (input, why) in cases {
            for chunk in [1, input.len()] {
                let error = read(input, chunk).unwrap_err();
                assert!(error.to_string().contains(why), "{error}");
            }
        }
        assert_eq!(
            read(&full_header(true)[..20], 3).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
