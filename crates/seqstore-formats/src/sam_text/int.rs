//! Decimal integers as htslib's `kputw`/`kputuw`/`kputll` print them.

/// Two ASCII digits for every value 0..100, so a division yields two digits at a time.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_u64(dst: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    dst.extend_from_slice(&buf[i..]);
}

/// Appends `v` in decimal, with a leading `-` when negative.
#[inline]
pub(crate) fn push_i64(dst: &mut Vec<u8>, v: i64) {
    if v < 0 {
        dst.push(b'-');
    }
    push_u64(dst, v.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_std_formatting() {
        let values = [
            0i64,
            1,
            9,
            10,
            99,
            100,
            101,
            12345,
            -1,
            -10,
            -128,
            i64::from(i32::MIN),
            i64::from(u32::MAX),
            i64::MIN,
            i64::MAX,
        ];
        for v in values {
            let mut dst = Vec::new();
            push_i64(&mut dst, v);
            assert_eq!(dst, v.to_string().into_bytes(), "{v}");
        }
        let mut dst = Vec::new();
        push_u64(&mut dst, u64::MAX);
        assert_eq!(dst, u64::MAX.to_string().into_bytes());
    }
}
