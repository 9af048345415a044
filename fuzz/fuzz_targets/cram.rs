//! CRAM ingestion (containers, slices, every codec, records, `.crai`) against the reference
//! the seed files were written with (`fuzz/reference.fa`).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::{IngestOptions, SourceKind, ingest};

const REFERENCE: &[u8] = include_bytes!("../reference.fa");
const INDEX: &[u8] = include_bytes!("../reference.fa.fai");

/// The reference and its `.fai`, written once per process.
fn reference() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("seqstore-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let fasta = dir.join("reference.fa");
        std::fs::write(&fasta, REFERENCE).expect("the reference");
        std::fs::write(dir.join("reference.fa.fai"), INDEX).expect("its index");
        fasta
    })
}

fuzz_target!(
    // noodles' decoders panic on some corrupt blocks, which seqstore catches and reports;
    // only a panic that escapes ingestion is a crash
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
    let options = IngestOptions {
        family: EtagFamily::Md5up,
        provenance: Some("@CO\tfuzz".into()),
        reference: Some(reference()),
    };
    let _ = ingest(SourceKind::Cram, data, Some(&mut std::io::sink()), &options);
    }
);
