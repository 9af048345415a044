//! BAM and uBAM ingestion (BGZF, header, records, `.bai`): the first byte picks the kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::{IngestOptions, SourceKind, ingest};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let kind = if pick & 1 == 0 {
        SourceKind::Bam
    } else {
        SourceKind::Ubam
    };
    let options = IngestOptions {
        family: EtagFamily::Md5up,
        provenance: Some("@CO\tfuzz".into()),
        reference: None,
    };
    let _ = ingest(kind, file, Some(&mut std::io::sink()), &options);
});
