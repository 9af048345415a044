//! One CRAM block through each codec: byte 0 picks the method (raw, gzip, bzip2, lzma,
//! rANS 4x8, rANS Nx16, arithmetic, fqzcomp, name tokenizer), bytes 1..4 the declared size
//! (up to 16 MiB), the rest is the compressed data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqstore_formats::cram::fuzzing::decode_block;

fuzz_target!(
    // noodles' decoders panic on some corrupt blocks, which seqstore catches and reports;
    // only a panic that escapes ingestion is a crash
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
    let [method, a, b, c, compressed @ ..] = data else {
        return;
    };
    let raw_size = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
    let _ = decode_block(method % 9, compressed, raw_size);
    }
);
