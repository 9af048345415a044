//! The rest-json input binder and the model's constraint validation: byte 0 picks the
//! operation, the rest is the request body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqstore_model::{Operation, bind_input};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let operation = Operation::ALL[usize::from(pick) % Operation::ALL.len()];
    let labels = [
        ("id", "1234567890".to_owned()),
        ("sequenceStoreId", "1234567890".to_owned()),
        ("referenceStoreId", "1234567890".to_owned()),
        ("uploadId", "1234567890".to_owned()),
        (
            "resourceArn",
            "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890".to_owned(),
        ),
    ];
    let _ = bind_input(operation, &labels, &[], &|_| None, body);
});
