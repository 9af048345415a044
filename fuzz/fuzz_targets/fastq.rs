//! FASTQ ingestion (plain, gzip, BGZF: the reader sniffs which) of any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::{IngestOptions, SourceKind, ingest};

fuzz_target!(|data: &[u8]| {
    let options = IngestOptions {
        family: EtagFamily::Md5up,
        provenance: None,
        reference: None,
    };
    let _ = ingest(
        SourceKind::Fastq,
        data,
        Some(&mut std::io::sink()),
        &options,
    );
});
