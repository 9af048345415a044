//! Reference import: hashing, size limit, compression detection and gzip failures.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use md5::{Digest, Md5};

use super::*;
use crate::fasta::FastaError;

const FASTA: &[u8] = b">chr1 first\nACGTN\nacgtn\nAC\n>chr2\nNNNN\nN\n";
const FASTA_FAI: &str = "chr1\t12\t12\t5\t6\nchr2\t5\t33\t4\t5\n";

/// Imports `source` whole and one byte at a time, asserting both give the same result.
fn import(source: &[u8]) -> Result<ImportedReference, ReferenceError> {
    let whole = import_in_chunks(source, source.len().max(1));
    let bytewise = import_in_chunks(source, 1);
    match (&whole, &bytewise) {
        // How far the decoder got before it failed depends on the chunks.
        (Err(ReferenceError::Gzip { .. }), Err(ReferenceError::Gzip { .. })) => {}
        _ => assert_eq!(format!("{bytewise:?}"), format!("{whole:?}")),
    }
    whole
}

fn import_in_chunks(source: &[u8], size: usize) -> Result<ImportedReference, ReferenceError> {
    let mut import = ReferenceImport::new(HEALTHOMICS_MAX_REFERENCE_BYTES);
    for chunk in source.chunks(size) {
        import.push(chunk)?;
    }
    import.finish()
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// BGZF as `bgzip` writes it: blocks of at most `block` input bytes, then the EOF block.
fn bgzf(text: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for data in text.chunks(block) {
        let mut deflate = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflate.write_all(data).unwrap();
        let cdata = deflate.finish().unwrap();
        let bsize = u16::try_from(cdata.len() + 25).unwrap();
        out.extend_from_slice(b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0");
        out.extend_from_slice(&bsize.to_le_bytes());
        out.extend_from_slice(&cdata);
        let mut crc = flate2::Crc::new();
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    }
    out.extend_from_slice(BGZF_EOF);
    out
}

const BGZF_EOF: &[u8] = b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0\x1b\0\x03\0\0\0\0\0\0\0\0\0";

#[test]
fn plain_fasta_md5_is_of_the_bytes_as_received() {
    let imported = import(b">x\nACGT\n").unwrap();
    // `printf '>x\nACGT\n' | md5sum`
    assert_eq!(imported.md5, "9a5359767874a9770ac435769ff00d93");
    assert_eq!(imported.size, 8);
    assert_eq!(imported.compression, Compression::None);
    assert_eq!(imported.index.to_fai(), "x\t4\t3\t4\t5\n");
}

#[test]
fn plain_fasta_index() {
    let imported = import(FASTA).unwrap();
    assert_eq!(imported.index.to_fai(), FASTA_FAI);
    assert_eq!(imported.index.total_length(), 17);
    assert_eq!(imported.index.text_size, FASTA.len() as u64);
    assert_eq!(imported.md5, md5_hex(FASTA));
}

#[test]
fn gzip_md5_is_of_the_compressed_bytes_and_offsets_of_the_text() {
    let gz = gzip(FASTA);
    let imported = import(&gz).unwrap();
    assert_eq!(imported.compression, Compression::Gzip);
    assert_eq!(imported.md5, md5_hex(&gz));
    assert_ne!(imported.md5, md5_hex(FASTA));
    assert_eq!(imported.size, gz.len() as u64);
    assert_eq!(imported.index.to_fai(), FASTA_FAI);
    assert_eq!(imported.index.text_size, FASTA.len() as u64);
}

#[test]
fn every_gzip_member_is_decompressed() {
    let (head, tail) = FASTA.split_at(15);
    let mut gz = gzip(head);
    gz.extend(gzip(b""));
    gz.extend(gzip(tail));
    let imported = import(&gz).unwrap();
    assert_eq!(imported.compression, Compression::Gzip);
    assert_eq!(imported.index.to_fai(), FASTA_FAI);
}

#[test]
fn bgzf_blocks_and_eof_marker() {
    let bgz = bgzf(FASTA, 7);
    let imported = import(&bgz).unwrap();
    assert_eq!(imported.compression, Compression::Bgzf);
    assert_eq!(imported.md5, md5_hex(&bgz));
    assert_eq!(imported.index.to_fai(), FASTA_FAI);
}

#[test]
fn bgzf_without_eof_marker_is_still_complete_gzip() {
    let bgz = bgzf(FASTA, 10);
    let imported = import(&bgz[..bgz.len() - BGZF_EOF.len()]).unwrap();
    assert_eq!(imported.index.to_fai(), FASTA_FAI);
}

#[test]
fn truncated_gzip() {
    let gz = gzip(FASTA);
    for cut in [2, 5, 12, gz.len() / 2, gz.len() - 8, gz.len() - 1] {
        let e = import(&gz[..cut]).unwrap_err();
        assert!(
            matches!(e, ReferenceError::Gzip { offset, .. } if offset == cut as u64),
            "cut at {cut}: {e:?}"
        );
        assert!(
            e.to_string().starts_with(&format!(
                "gzip stream is truncated or corrupt after {cut} compressed bytes: "
            )),
            "{e}"
        );
    }
}

#[test]
fn truncated_bgzf_member() {
    let bgz = bgzf(FASTA, 7);
    let e = import(&bgz[..40]).unwrap_err();
    assert!(matches!(e, ReferenceError::Gzip { .. }), "{e:?}");
}

#[test]
fn corrupt_gzip() {
    let mut gz = gzip(FASTA);
    // The CRC-32 of the text no longer matches.
    let crc = gz.len() - 8;
    gz[crc] ^= 0xff;
    let e = import(&gz).unwrap_err();
    assert!(matches!(e, ReferenceError::Gzip { .. }), "{e:?}");

    let mut gz = gzip(FASTA);
    gz[3] = 0xe0; // reserved header flags
    let e = import(&gz).unwrap_err();
    assert!(matches!(e, ReferenceError::Gzip { offset: 0, .. }), "{e:?}");
}

#[test]
fn bytes_after_the_last_gzip_member() {
    for garbage in [&b"\0\0\0\0"[..], &[0; 64], b"\n"] {
        let mut gz = gzip(FASTA);
        let end = gz.len() as u64;
        gz.extend_from_slice(garbage);
        let e = import(&gz).unwrap_err();
        assert!(
            matches!(e, ReferenceError::Gzip { offset, .. } if offset >= end),
            "{e:?}"
        );
    }
}

#[test]
fn fasta_errors_inside_gzip_keep_their_line() {
    let e = import(&gzip(b">x\nACGT\nAXGT\n")).unwrap_err();
    assert!(
        matches!(
            &e,
            ReferenceError::Fasta(FastaError::InvalidCharacter {
                line: 3,
                found: b'X',
                ..
            })
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "line 3: invalid character 'X' in sequence 'x'"
    );
}

#[test]
fn empty_source() {
    let e = import(b"").unwrap_err();
    assert!(
        matches!(e, ReferenceError::Fasta(FastaError::Empty)),
        "{e:?}"
    );
    let e = import(&gzip(b"")).unwrap_err();
    assert!(
        matches!(e, ReferenceError::Fasta(FastaError::Empty)),
        "{e:?}"
    );
    let e = import(BGZF_EOF).unwrap_err();
    assert!(
        matches!(e, ReferenceError::Fasta(FastaError::Empty)),
        "{e:?}"
    );
}

#[test]
fn one_byte_sources_are_plain_text() {
    let e = import(b"\x1f").unwrap_err();
    assert!(
        matches!(
            e,
            ReferenceError::Fasta(FastaError::MissingHeader {
                line: 1,
                found: 0x1f
            })
        ),
        "{e:?}"
    );
    let e = import(b">").unwrap_err();
    assert!(
        matches!(e, ReferenceError::Fasta(FastaError::EmptyName { line: 1 })),
        "{e:?}"
    );
}

#[test]
fn gzip_magic_needs_both_bytes() {
    let e = import(b"\x1f>x\nA\n").unwrap_err();
    assert!(
        matches!(e, ReferenceError::Fasta(FastaError::MissingHeader { .. })),
        "{e:?}"
    );
}

#[test]
fn size_limit_is_enforced_as_soon_as_it_is_exceeded() {
    let mut import = ReferenceImport::new(10);
    import.push(b">x\nAC").unwrap();
    import.push(b"GT\nAC").unwrap();
    assert_eq!(import.size(), 10);
    let e = import.push(b"\n").unwrap_err();
    assert!(matches!(e, ReferenceError::TooLarge { limit: 10 }), "{e:?}");
    assert_eq!(e.to_string(), "reference is larger than the 10 bytes limit");
    // The failure sticks.
    assert!(matches!(
        import.push(b""),
        Err(ReferenceError::TooLarge { .. })
    ));
    assert!(matches!(
        import.finish(),
        Err(ReferenceError::TooLarge { .. })
    ));

    let mut import = ReferenceImport::new(10);
    import.push(b">x\nACGT\nAC").unwrap();
    assert_eq!(import.finish().unwrap().size, 10);
}

#[test]
fn size_limit_counts_compressed_bytes() {
    let gz = gzip(&[b">x\n".as_slice(), &[b'N'; 100_000], b"\n"].concat());
    let mut import = ReferenceImport::new(gz.len() as u64);
    import.push(&gz).unwrap();
    assert_eq!(import.finish().unwrap().index.total_length(), 100_000);
}

#[test]
fn healthomics_limit_message() {
    let e = ReferenceError::TooLarge {
        limit: HEALTHOMICS_MAX_REFERENCE_BYTES,
    };
    assert_eq!(e.to_string(), "reference is larger than the 15 GB limit");
}

#[test]
fn errors_stick_after_a_fasta_error() {
    let mut import = ReferenceImport::new(1000);
    import.push(b">x\nA").unwrap();
    assert!(import.push(b"Z\n").is_err());
    assert!(matches!(
        import.push(b">y\nA\n"),
        Err(ReferenceError::Fasta(FastaError::InvalidCharacter {
            found: b'Z',
            ..
        }))
    ));
}

#[test]
fn import_moves_to_a_blocking_thread_and_errors_cross_threads() {
    fn assert_send<T: Send>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_send::<ReferenceImport>();
    assert_error::<ReferenceError>();
    assert_error::<FastaError>();
}
