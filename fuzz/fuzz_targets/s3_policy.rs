//! S3 access point policy documents: parsing, validation and one evaluation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        seqstore_core::fuzzing::s3_policy(text);
    }
});
