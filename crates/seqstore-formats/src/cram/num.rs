//! CRAM integer encodings: ITF8, LTF8 and little-endian fixed widths (CRAM 3.1 §2.3).

/// Reads an ITF8 integer (1 to 5 bytes); `None` when `src` ends first.
pub(super) fn read_itf8(src: &mut &[u8]) -> Option<i32> {
    let (&b0, rest) = src.split_first()?;
    let extra = match b0 {
        0x00..=0x7f => 0,
        0x80..=0xbf => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    let tail = rest.get(..extra)?;
    *src = &rest[extra..];
    let mut n = u32::from(b0);
    let value = match extra {
        0 => n,
        4 => {
            n &= 0x0f;
            for &b in &tail[..3] {
                n = (n << 8) | u32::from(b);
            }
            (n << 4) | u32::from(tail[3] & 0x0f)
        }
        _ => {
            n &= 0xff >> (extra + 1);
            for &b in tail {
                n = (n << 8) | u32::from(b);
            }
            n
        }
    };
    Some(value as i32)
}

/// Reads an LTF8 integer (1 to 9 bytes); `None` when `src` ends first.
pub(super) fn read_ltf8(src: &mut &[u8]) -> Option<i64> {
    let (&b0, rest) = src.split_first()?;
    let extra = b0.leading_ones() as usize;
    let tail = rest.get(..extra)?;
    *src = &rest[extra..];
    let mut n: u64 = if extra >= 7 {
        0
    } else {
        u64::from(b0 & (0x7f >> extra))
    };
    for &b in tail {
        n = (n << 8) | u64::from(b);
    }
    Some(n as i64)
}

pub(super) fn read_u8(src: &mut &[u8]) -> Option<u8> {
    let (&b, rest) = src.split_first()?;
    *src = rest;
    Some(b)
}

pub(super) fn read_u32_le(src: &mut &[u8]) -> Option<u32> {
    let (head, rest) = src.split_first_chunk::<4>()?;
    *src = rest;
    Some(u32::from_le_bytes(*head))
}

/// Bytes an ITF8 value whose first byte is `b0` takes in total.
pub(super) fn itf8_len(b0: u8) -> usize {
    match b0 {
        0x00..=0x7f => 1,
        0x80..=0xbf => 2,
        0xc0..=0xdf => 3,
        0xe0..=0xef => 4,
        _ => 5,
    }
}

/// Bytes an LTF8 value whose first byte is `b0` takes in total.
pub(super) fn ltf8_len(b0: u8) -> usize {
    b0.leading_ones() as usize + 1
}

pub(super) fn write_itf8(dst: &mut Vec<u8>, n: i32) {
    let n = n as u32;
    if n < 0x80 {
        dst.push(n as u8);
    } else if n < 0x4000 {
        dst.extend_from_slice(&[0x80 | (n >> 8) as u8, n as u8]);
    } else if n < 0x20_0000 {
        dst.extend_from_slice(&[0xc0 | (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    } else if n < 0x1000_0000 {
        dst.extend_from_slice(&[
            0xe0 | (n >> 24) as u8,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ]);
    } else {
        dst.extend_from_slice(&[
            0xf0 | (n >> 28) as u8,
            (n >> 20) as u8,
            (n >> 12) as u8,
            (n >> 4) as u8,
            (n & 0x0f) as u8,
        ]);
    }
}

/// Writes a non-negative LTF8 value below 2^56 (the only ones a file header needs).
pub(super) fn write_ltf8(dst: &mut Vec<u8>, n: i64) {
    let n = n as u64;
    let mut extra = 0;
    while extra < 8 && n >= 1 << (7 * (extra + 1)) {
        extra += 1;
    }
    let first_bits = if extra >= 7 { 0 } else { 7 - extra };
    let mask = if extra == 0 { 0 } else { 0xffu8 << (8 - extra) };
    let high = if extra >= 7 {
        0
    } else {
        (n >> (8 * extra)) as u8 & ((1u16 << first_bits) - 1) as u8
    };
    dst.push(mask | high);
    for i in (0..extra).rev() {
        dst.push((n >> (8 * i)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itf8_round_trips() {
        for n in [
            0,
            1,
            127,
            128,
            16383,
            16384,
            2_097_151,
            2_097_152,
            0x0fff_ffff,
            0x1000_0000,
            -1,
            i32::MIN,
        ] {
            let mut buf = Vec::new();
            write_itf8(&mut buf, n);
            assert_eq!(buf.len(), itf8_len(buf[0]));
            let mut src = &buf[..];
            assert_eq!(read_itf8(&mut src), Some(n), "{n}");
            assert!(src.is_empty());
        }
        assert_eq!(read_itf8(&mut &[0x80][..]), None);
        // The EOF container's reference sequence ID: -1 as five bytes.
        assert_eq!(
            read_itf8(&mut &[0xff, 0xff, 0xff, 0xff, 0x0f][..]),
            Some(-1)
        );
    }

    #[test]
    fn ltf8_round_trips() {
        for n in [0i64, 1, 127, 128, 16383, 16384, 1 << 40, (1 << 56) - 1] {
            let mut buf = Vec::new();
            write_ltf8(&mut buf, n);
            assert_eq!(buf.len(), ltf8_len(buf[0]), "{n}");
            let mut src = &buf[..];
            assert_eq!(read_ltf8(&mut src), Some(n), "{n}");
            assert!(src.is_empty());
        }
        assert_eq!(read_ltf8(&mut &[0xff; 9][..]), Some(-1));
    }
}
