//! Oracle tests: the `.fai` must equal what `samtools faidx` writes, byte for byte, and the
//! md5 must equal `md5sum` of the file as stored.
//!
//! Skipped with a note when `samtools` is missing, but failing when `CI` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/rng.rs"]
mod rng;
#[path = "support/tools.rs"]
mod tools;

use rng::Rng;

use flate2::write::{DeflateEncoder, GzEncoder};
use seqstore_formats::fasta::FastaIndexer;
use seqstore_formats::reference::{Compression, HEALTHOMICS_MAX_REFERENCE_BYTES, ReferenceImport};
use tools::have;

/// `samtools faidx FILE`: the `.fai` it writes, or its complaint.
fn samtools_faidx(path: &Path) -> Result<String, String> {
    let fai = PathBuf::from(format!("{}.fai", path.display()));
    let _ = std::fs::remove_file(&fai);
    let out = Command::new("samtools")
        .arg("faidx")
        .arg(path)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(std::fs::read_to_string(&fai).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn md5sum(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..32].to_owned()
}

/// How a generated FASTA file is laid out.
#[derive(Clone, Copy, Debug)]
struct Layout {
    crlf: bool,
    final_newline: bool,
    blank_between: bool,
    descriptions: bool,
}

/// Several sequences with line widths 60/70/80 (and single-line ones), short last lines,
/// lowercase stretches, N runs and other IUPAC codes.
fn generate(seed: u64, layout: Layout) -> Vec<u8> {
    let mut rng = Rng(seed);
    let eol: &[u8] = if layout.crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    let count = 3 + rng.below(6);
    for i in 0..count {
        if i > 0 && layout.blank_between {
            text.extend_from_slice(eol);
        }
        text.extend_from_slice(format!(">seq{i}_{seed}").as_bytes());
        if layout.descriptions {
            text.extend_from_slice(format!(" description {i}\tdna:chromosome").as_bytes());
        }
        text.extend_from_slice(eol);
        let width = [60, 70, 80, 60, 1000][usize::try_from(rng.below(5)).unwrap()];
        let length = match rng.below(4) {
            0 => width * (1 + rng.below(20)), // last line full
            1 => 1 + rng.below(width),        // a single line
            _ => 1 + rng.below(width * 40),   // last line short, mostly
        };
        let mut bases = Vec::with_capacity(usize::try_from(length).unwrap());
        while (bases.len() as u64) < length {
            let run = 1 + rng.below(200);
            let kind = rng.below(10);
            for _ in 0..run {
                let base = match kind {
                    0 => b'N',
                    1 => b"RYSWKMBDHV"[usize::try_from(rng.below(10)).unwrap()],
                    2 | 3 => b"acgt"[usize::try_from(rng.below(4)).unwrap()],
                    _ => b"ACGT"[usize::try_from(rng.below(4)).unwrap()],
                };
                bases.push(base);
            }
        }
        bases.truncate(usize::try_from(length).unwrap());
        for line in bases.chunks(usize::try_from(width).unwrap()) {
            text.extend_from_slice(line);
            text.extend_from_slice(eol);
        }
    }
    if !layout.final_newline {
        text.truncate(text.len() - eol.len());
    }
    text
}

/// Pushes `bytes` in chunks of pseudo-random sizes between 1 byte and 64 KiB.
fn import(bytes: &[u8], seed: u64) -> seqstore_formats::reference::ImportedReference {
    let mut rng = Rng(seed | 1);
    let mut import = ReferenceImport::new(HEALTHOMICS_MAX_REFERENCE_BYTES);
    let mut rest = bytes;
    while !rest.is_empty() {
        let size = if rng.below(4) == 0 {
            1 + rng.below(8)
        } else {
            1 + rng.below(65_536)
        };
        let (chunk, tail) = rest.split_at(usize::try_from(size).unwrap().min(rest.len()));
        import.push(chunk).unwrap();
        rest = tail;
    }
    import.finish().unwrap()
}

fn layouts() -> Vec<Layout> {
    let mut all = Vec::new();
    for crlf in [false, true] {
        for final_newline in [true, false] {
            for blank_between in [false, true] {
                all.push(Layout {
                    crlf,
                    final_newline,
                    blank_between,
                    descriptions: blank_between != crlf,
                });
            }
        }
    }
    all
}

/// gzip with the `gzip` tool when present, as a user would, else with flate2.
fn gzip_file(plain: &Path) -> PathBuf {
    let gz = PathBuf::from(format!("{}.gz", plain.display()));
    let tool = Command::new("gzip").arg("-c").arg(plain).output();
    match tool {
        Ok(out) if out.status.success() => std::fs::write(&gz, out.stdout).unwrap(),
        _ => {
            let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&std::fs::read(plain).unwrap()).unwrap();
            std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        }
    }
    gz
}

/// BGZF with `bgzip` when present, else written here: blocks of 65280 bytes and the EOF block.
fn bgzip_file(plain: &Path) -> PathBuf {
    let bgz = PathBuf::from(format!("{}.bgz", plain.display()));
    let tool = Command::new("bgzip").arg("-c").arg(plain).output();
    match tool {
        Ok(out) if out.status.success() => std::fs::write(&bgz, out.stdout).unwrap(),
        _ => std::fs::write(&bgz, bgzf(&std::fs::read(plain).unwrap())).unwrap(),
    }
    bgz
}

fn bgzf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for data in text.chunks(65_280) {
        let mut deflate = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflate.write_all(data).unwrap();
        let cdata = deflate.finish().unwrap();
        out.extend_from_slice(b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0");
        out.extend_from_slice(&u16::try_from(cdata.len() + 25).unwrap().to_le_bytes());
        out.extend_from_slice(&cdata);
        let mut crc = flate2::Crc::new();
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    }
    out.extend_from_slice(
        b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0\x1b\0\x03\0\0\0\0\0\0\0\0\0",
    );
    out
}

#[test]
fn plain_fasta_index_matches_samtools() {
    if !have("samtools", "samtools") || !have("md5sum", "coreutils") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, layout) in layouts().into_iter().enumerate() {
        let seed = 0x5eed_0000 + i as u64;
        let path = dir.path().join(format!("ref{i}.fa"));
        let text = generate(seed, layout);
        std::fs::write(&path, &text).unwrap();
        let expected = samtools_faidx(&path).unwrap();
        let imported = import(&text, seed);
        assert_eq!(imported.index.to_fai(), expected, "{layout:?}");
        assert_eq!(imported.md5, md5sum(&path), "{layout:?}");
        assert_eq!(imported.size, text.len() as u64);
        assert_eq!(imported.compression, Compression::None);
    }
}

#[test]
fn gzip_index_matches_samtools_on_the_decompressed_file() {
    if !have("samtools", "samtools") || !have("md5sum", "coreutils") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, layout) in layouts().into_iter().enumerate() {
        let seed = 0x6a1b_0000 + i as u64;
        let path = dir.path().join(format!("ref{i}.fa"));
        std::fs::write(&path, generate(seed, layout)).unwrap();
        let expected = samtools_faidx(&path).unwrap();
        let gz = gzip_file(&path);
        let imported = import(&std::fs::read(&gz).unwrap(), seed);
        assert_eq!(imported.compression, Compression::Gzip);
        assert_eq!(imported.index.to_fai(), expected, "{layout:?}");
        assert_eq!(imported.md5, md5sum(&gz), "{layout:?}");
    }
}

#[test]
fn bgzf_index_matches_samtools_on_the_compressed_file() {
    if !have("samtools", "samtools") || !have("md5sum", "coreutils") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A large sequence so that the text spans several BGZF blocks.
    let mut text = generate(7, layouts()[0]);
    text.extend_from_slice(b">big\n");
    let mut rng = Rng(99);
    for _ in 0..4000 {
        let line: Vec<u8> = (0..60)
            .map(|_| b"ACGTN"[usize::try_from(rng.below(5)).unwrap()])
            .collect();
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    let path = dir.path().join("big.fa");
    std::fs::write(&path, &text).unwrap();
    let plain_fai = samtools_faidx(&path).unwrap();
    let bgz = bgzip_file(&path);
    // samtools indexes BGZF directly, with offsets into the decompressed text.
    assert_eq!(samtools_faidx(&bgz).unwrap(), plain_fai);
    let imported = import(&std::fs::read(&bgz).unwrap(), 3);
    assert_eq!(imported.compression, Compression::Bgzf);
    assert_eq!(imported.index.to_fai(), plain_fai);
    assert_eq!(imported.md5, md5sum(&bgz));
}

#[test]
fn files_samtools_refuses_are_refused() {
    if !have("samtools", "samtools") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let refused: [&[u8]; 10] = [
        b"",
        b"\n\n",
        b"ACGT\n>x\nACGT\n",
        b">x\nACGT\nACGTA\n",
        b">x\nACGT\nAC\nACGT\n",
        b">x\nACGT\n\nACGT\n",
        b">x\nACGT\nACGT\r\n",
        b">x\nACGT\n>y\n",
        b">x\nACGT\n>y",
        b">x\r\n\r\nACGT\r\n",
    ];
    for (i, text) in refused.into_iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.fa"));
        std::fs::write(&path, text).unwrap();
        assert!(samtools_faidx(&path).is_err(), "samtools accepts {text:?}");
        let mut indexer = FastaIndexer::new();
        let result = indexer.push(text).and_then(|()| indexer.finish());
        assert!(result.is_err(), "accepted {text:?}");
    }
}
