use std::io::Write as _;
use std::process::{Command, Stdio};

use super::*;

fn g(v: f32) -> String {
    let mut dst = Vec::new();
    push_g(&mut dst, f64::from(v));
    String::from_utf8(dst).unwrap()
}

#[test]
fn documented_examples() {
    assert_eq!(g("3.14159265".parse().unwrap()), "3.14159");
    assert_eq!(g(123_456_789.0), "1.23457e+08");
    assert_eq!(g(-0.0), "-0");
    assert_eq!(g(0.0), "0");
    assert_eq!(g(1e-45), "1.4013e-45");
    assert_eq!(g(f32::INFINITY), "inf");
    assert_eq!(g(f32::NEG_INFINITY), "-inf");
    assert_eq!(g(f32::NAN), "nan");
    assert_eq!(g(-f32::NAN), "-nan");
}

#[test]
fn layout_switches_at_exponents_minus_5_and_6() {
    assert_eq!(g(0.0001), "0.0001");
    assert_eq!(g(0.000_012_5), "1.25e-05");
    assert_eq!(g(999_999.0), "999999");
    assert_eq!(g(999_999.5), "1e+06");
    assert_eq!(g(1_000_000.0), "1e+06");
    assert_eq!(g(100.0), "100");
    assert_eq!(g(1.5), "1.5");
    assert_eq!(g(-2.25), "-2.25");
    assert_eq!(g(f32::MAX), "3.40282e+38");
    assert_eq!(g(f32::MIN_POSITIVE), "1.17549e-38");
}

#[test]
fn exact_ties_round_to_even_like_glibc() {
    assert_eq!(g(1_234_565.0), "1.23456e+06");
    assert_eq!(g(1_234_575.0), "1.23458e+06");
    assert_eq!(g(123_456.5), "123456");
    assert_eq!(g(123_457.5), "123458");
    assert_eq!(g(12.343_75), "12.3438");
}

/// Whether gcc is there; panics under CI when it is not.
fn have_gcc() -> bool {
    let found = Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "`gcc` is required under CI"
        );
        eprintln!("skipped: `gcc` is not on PATH");
    }
    found
}

/// f32 bit patterns: random ones (all classes: subnormal, NaN payloads, infinities) and
/// values that are exact decimal ties at 6 significant digits.
fn bit_patterns() -> Vec<u32> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut bits: Vec<u32> = (0..100_000).map(|_| (next() >> 32) as u32).collect();
    bits.extend([
        0,
        0x8000_0000,
        1,
        0x8000_0001,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
    ]);
    bits.extend([0xffc0_0000, 0x7f7f_ffff, 0x0080_0000, 0x007f_ffff]);
    for _ in 0..50_000 {
        // n / 2^k with n of 7 digits ending in 5: ties whenever the value is exact in f32.
        let n = 1_000_005 + 10 * (next() % 899_999);
        let k = next() % 12;
        let v = n as f32 / (1u32 << k) as f32;
        bits.push(v.to_bits());
        bits.push((-v).to_bits());
    }
    bits
}

#[test]
fn matches_c_printf_on_random_and_tie_values() {
    if !have_gcc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("g.c");
    let program = dir.path().join("g");
    std::fs::write(
        &source,
        "#include <stdio.h>\n#include <string.h>\n#include <stdint.h>\n\
         int main(void) { unsigned x; while (scanf(\"%x\", &x) == 1) { float f; \
         memcpy(&f, &x, 4); printf(\"%g\\n\", f); } return 0; }\n",
    )
    .unwrap();
    let status = Command::new("gcc")
        .arg("-O1")
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .status()
        .unwrap();
    assert!(status.success());

    let bits = bit_patterns();
    let mut input = String::new();
    for b in &bits {
        input.push_str(&format!("{b:x}\n"));
    }
    let mut child = Command::new(&program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let expected = String::from_utf8(out.stdout).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), bits.len());

    let mut mismatches = Vec::new();
    for (b, want) in bits.iter().zip(expected) {
        let got = g(f32::from_bits(*b));
        if got != want {
            mismatches.push(format!("{b:#010x}: C {want}, ours {got}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ, e.g. {:?}",
        mismatches.len(),
        bits.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}
