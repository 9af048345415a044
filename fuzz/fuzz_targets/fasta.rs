//! Reference import (plain, gzip or BGZF FASTA: validation and `.fai`), pushed in chunks
//! whose size the first byte sets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqstore_formats::reference::ReferenceImport;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, text)) = data.split_first() else {
        return;
    };
    let mut import = ReferenceImport::new(1 << 30);
    for part in text.chunks(usize::from(chunk).max(1)) {
        if import.push(part).is_err() {
            return;
        }
    }
    if let Ok(imported) = import.finish() {
        let _ = imported.index.to_fai();
    }
});
