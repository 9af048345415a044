//! Oracle tests: a FASTQ source's ETag must equal `gzip -dc F | md5sum` (resp. `sha256sum`,
//! `sha512sum`) whatever the compression (`gzip`, `bgzip`, concatenated gzip files), and its
//! counts must equal what was generated.
//!
//! Skipped with a note when `gzip` or `bgzip` is missing, but failing when `CI` is set
//! (`bgzip` comes with Debian's `tabix` package).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/rng.rs"]
mod rng;
#[path = "support/tools.rs"]
mod tools;

use rng::Rng;

use seqstore_formats::etag::EtagFamily;
use seqstore_formats::fastq::{Compression, FastqIngest, FastqSummary};
use tools::have;

/// A generated FASTQ text and what it holds.
struct Generated {
    text: Vec<u8>,
    reads: u64,
    bases: u64,
}

/// How a generated file is laid out.
#[derive(Clone, Copy)]
struct Layout {
    mate: u8,
    crlf: bool,
    final_newline: bool,
}

/// Illumina-style paired reads of varying length (0 to 300 bases, mostly 100 to 151),
/// mostly `ACGT` with `N`s, some lowercase and other IUPAC codes, the full quality range,
/// and now and then the name repeated on the `+` line.
fn generate(seed: u64, reads: u64, layout: Layout) -> Generated {
    let mut rng = Rng(seed);
    let eol: &[u8] = if layout.crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    let mut bases = 0;
    for i in 0..reads {
        let len = match rng.below(20) {
            0 => rng.below(301),
            1 if i % 7 == 0 => 0,
            _ => 100 + rng.below(52),
        };
        let name = format!(
            "SIM:7:H5KXXDSXX:1:{}:{}:{}",
            1101 + i % 300,
            rng.below(32_000),
            i
        );
        text.push(b'@');
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(format!(" {}:N:0:ACGTAC+GTTACA", layout.mate).as_bytes());
        text.extend_from_slice(eol);
        let alphabet: &[u8] = match rng.below(50) {
            0 => b"acgtn",
            1 => b"ACGTRYKMSWBDHVN",
            _ => b"AAAACCCCGGGGTTTTN",
        };
        for _ in 0..len {
            text.push(*rng.pick(alphabet));
        }
        text.extend_from_slice(eol);
        text.push(b'+');
        if rng.below(10) == 0 {
            text.extend_from_slice(name.as_bytes());
        }
        text.extend_from_slice(eol);
        for _ in 0..len {
            let quality = if rng.below(8) == 0 {
                b'!' + rng.below(94) as u8
            } else {
                *rng.pick(b"FFFFFF:,#")
            };
            text.push(quality);
        }
        text.extend_from_slice(eol);
        bases += len;
    }
    if !layout.final_newline {
        text.truncate(text.len() - eol.len());
    }
    Generated { text, reads, bases }
}

/// Pushes the file in chunks of `chunk` bytes.
fn ingest(path: &Path, family: EtagFamily, chunk: usize) -> FastqSummary {
    let mut file = File::open(path).unwrap();
    let mut buffer = vec![0; chunk];
    let mut ingest = FastqIngest::new(family);
    loop {
        let n = file.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        ingest
            .push(&buffer[..n])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    ingest
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `sh -c "gzip -dc F | sha256sum"` (or `sha256sum F` for plain text): the hex digest.
fn oracle(path: &Path, family: EtagFamily, compressed: bool) -> String {
    let tool = match family {
        EtagFamily::Md5up => "md5sum",
        EtagFamily::Sha256up => "sha256sum",
        EtagFamily::Sha512up => "sha512sum",
    };
    let script = if compressed {
        format!("set -o pipefail; gzip -dc '{}' | {tool}", path.display())
    } else {
        format!("{tool} < '{}'", path.display())
    };
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.split_whitespace().next().unwrap().to_owned()
}

/// Runs `tool args... < input > output`.
fn compress(tool: &str, args: &[&str], input: &Path, output: &Path) {
    let status = Command::new(tool)
        .args(args)
        .stdin(File::open(input).unwrap())
        .stdout(File::create(output).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "{tool} {args:?} failed");
}

/// The plain file and its `gzip`, `bgzip` and two-member (`cat a.gz b.gz`) versions.
fn variants(dir: &Path, name: &str, generated: &Generated) -> Vec<(PathBuf, Compression)> {
    let plain = dir.join(name);
    std::fs::write(&plain, &generated.text).unwrap();
    let gz = dir.join(format!("{name}.gz"));
    compress("gzip", &["-c", "-6"], &plain, &gz);
    let bgz = dir.join(format!("{name}.bgz.gz"));
    compress("bgzip", &["-c"], &plain, &bgz);
    // Split inside a record: members need not end at a line.
    let (head, tail) = generated.text.split_at(generated.text.len() / 3 + 17);
    let (head_path, tail_path) = (dir.join(format!("{name}.a")), dir.join(format!("{name}.b")));
    std::fs::write(&head_path, head).unwrap();
    std::fs::write(&tail_path, tail).unwrap();
    let (head_gz, tail_gz) = (
        dir.join(format!("{name}.a.gz")),
        dir.join(format!("{name}.b.gz")),
    );
    compress("gzip", &["-c", "-1"], &head_path, &head_gz);
    compress("gzip", &["-c", "-9"], &tail_path, &tail_gz);
    let multi = dir.join(format!("{name}.multi.gz"));
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat '{}' '{}' > '{}'",
            head_gz.display(),
            tail_gz.display(),
            multi.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    vec![
        (plain, Compression::None),
        (gz, Compression::Gzip),
        (bgz, Compression::Bgzf),
        (multi, Compression::Gzip),
    ]
}

fn check(dir: &Path, name: &str, generated: &Generated) {
    for (path, compression) in variants(dir, name, generated) {
        let compressed = compression != Compression::None;
        for (family, chunk) in [
            (EtagFamily::Md5up, 65_536),
            (EtagFamily::Sha256up, 4_099),
            (EtagFamily::Sha512up, 1 << 20),
        ] {
            let summary = ingest(&path, family, chunk);
            let label = format!("{} {family}", path.display());
            assert_eq!(summary.etag, oracle(&path, family, compressed), "{label}");
            assert_eq!(summary.etag.len(), family.hex_len(), "{label}");
            assert_eq!(summary.read_count, generated.reads, "{label}");
            assert_eq!(summary.base_count, generated.bases, "{label}");
            assert_eq!(summary.compression, compression, "{label}");
            assert_eq!(summary.text_size, generated.text.len() as u64, "{label}");
            let raw_size = std::fs::metadata(&path).unwrap().len();
            assert_eq!(summary.raw_size, raw_size, "{label}");
        }
    }
}

#[test]
fn paired_reads_match_gzip_and_the_coreutils_digests() {
    if !have("gzip", "gzip") || !have("bgzip", "tabix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = |mate| Layout {
        mate,
        crlf: false,
        final_newline: true,
    };
    let r1 = generate(0x5eed_0001, 4_000, layout(1));
    let r2 = generate(0x5eed_0002, 4_000, layout(2));
    // Over 1 MB of text each: about 16 BGZF blocks, members larger than most chunks.
    assert!(r1.text.len() > 1_000_000 && r2.text.len() > 1_000_000);
    check(dir.path(), "sample_R1.fastq", &r1);
    check(dir.path(), "sample_R2.fastq", &r2);
}

#[test]
fn crlf_text_without_final_newline_matches_too() {
    if !have("gzip", "gzip") || !have("bgzip", "tabix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        mate: 1,
        crlf: true,
        final_newline: false,
    };
    let reads = generate(0x5eed_0003, 2_000, layout);
    check(dir.path(), "windows.fq", &reads);
}
