//! Floats as C's `printf("%g")` prints them (glibc): what htslib writes for `f` and `B:f` tags.
//!
//! `%g` with the default precision P = 6: round to 6 significant digits (correctly, ties to
//! even, as glibc does), take the decimal exponent X of the rounded value, print `%e` style
//! when X < -4 or X >= P and `%f` style otherwise, then drop trailing zeros and a trailing
//! `.` (C11 7.21.6.1). Rust's `{:.5e}` gives the same correctly rounded digits, so only the
//! layout is done here.

use std::io::Write as _;

/// Significant digits of `%g` without an explicit precision.
const PRECISION: usize = 6;

/// Appends `v` as `%g` prints it.
pub(crate) fn push_g(dst: &mut Vec<u8>, v: f64) {
    if v.is_sign_negative() {
        dst.push(b'-');
    }
    if v.is_nan() {
        dst.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        dst.extend_from_slice(b"inf");
        return;
    }
    if v == 0.0 {
        dst.push(b'0');
        return;
    }

    // `d.ddddde<exp>`: at most 1 + 1 + 5 + 1 + 4 bytes for an f64.
    let mut text = [0u8; 32];
    let len = {
        let mut cursor = &mut text[..];
        write!(cursor, "{:.5e}", v.abs()).expect("an f64 in %e form fits 32 bytes");
        32 - cursor.len()
    };
    let text = &text[..len];

    let mut digits = [0u8; PRECISION];
    digits[0] = text[0];
    digits[1..].copy_from_slice(&text[2..2 + PRECISION - 1]);
    let exp_text = &text[1 + PRECISION..];
    debug_assert_eq!(text[1], b'.');
    debug_assert_eq!(exp_text[0], b'e');
    let (exp_negative, exp_digits) = match exp_text[1] {
        b'-' => (true, &exp_text[2..]),
        _ => (false, &exp_text[1..]),
    };
    let exp_abs = exp_digits
        .iter()
        .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    let exp = if exp_negative { -exp_abs } else { exp_abs };

    // Significant digits without trailing zeros (the first digit is never 0).
    let kept = PRECISION - digits.iter().rev().take_while(|&&d| d == b'0').count();

    if !(-4..PRECISION as i32).contains(&exp) {
        dst.push(digits[0]);
        if kept > 1 {
            dst.push(b'.');
            dst.extend_from_slice(&digits[1..kept]);
        }
        dst.push(b'e');
        dst.push(if exp_negative { b'-' } else { b'+' });
        if exp_abs < 10 {
            dst.push(b'0');
        }
        dst.extend_from_slice(exp_digits);
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        dst.extend_from_slice(&digits[..int_len]);
        if kept > int_len {
            dst.push(b'.');
            dst.extend_from_slice(&digits[int_len..kept]);
        }
    } else {
        dst.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            dst.push(b'0');
        }
        dst.extend_from_slice(&digits[..kept]);
    }
}

#[cfg(test)]
mod tests;
