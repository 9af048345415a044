//! Throughput of CRAM ingest against `samtools view -@2 --reference R F | md5sum`, side by
//! side on the same files, for CRAM 3.0 and 3.1.
//!
//! Ignored by default; run in release (about 1.6 GB of SAM text is generated unless
//! `SEQSTORE_CRAM_BENCH` and `SEQSTORE_CRAM_BENCH_REF` name a CRAM and its reference):
//!
//! ```text
//! cargo test --release -p seqstore-formats --test cram_throughput -- --ignored --nocapture
//! ```
//!
//! CPU times (user + system, all threads and children) are printed beside wall times: on a
//! busy machine they tell the cost of the work from the wait for a core.

mod cram_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cram_support::{Rng, have_samtools, samtools_ok};
use seqstore_formats::cram::{CramOptions, EtagFamily, ingest_cram};

/// CPU time of this process so far (Linux `/proc/self/stat` utime + stime).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let hz: u64 = String::from_utf8(hz.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Duration::from_millis(ticks * 1000 / hz)
}

/// 50 Mb of reference and ~3.8 M reads of 150 bases (1.6 GB of `samtools view` text).
fn generate(dir: &Path) -> PathBuf {
    let mut rng = Rng(42);
    let mut refs = Vec::new();
    for (name, len) in [("chrA", 30_000_000usize), ("chrB", 20_000_000)] {
        let mut seq = Vec::with_capacity(len);
        while seq.len() < len {
            let kind = rng.below(40);
            for _ in 0..1 + rng.below(2000) {
                let r = (rng.next() & 3) as usize;
                seq.push(match kind {
                    0 => b'N',
                    1..=4 => b"acgt"[r],
                    _ => b"ACGT"[r],
                });
            }
        }
        seq.truncate(len);
        refs.push((name.to_owned(), seq));
    }
    cram_support::write_fasta(&dir.join("ref.fa"), &refs);
    let file = std::fs::File::create(dir.join("in.sam")).unwrap();
    let mut sam = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(sam, "@HD\tVN:1.6\tSO:coordinate").unwrap();
    for (name, seq) in &refs {
        writeln!(sam, "@SQ\tSN:{name}\tLN:{}", seq.len()).unwrap();
    }
    writeln!(sam, "@RG\tID:lane1\tSM:sample").unwrap();
    let levels = b"#,:FFFFFFFFF";
    let mut i = 0u64;
    for (name, chrom) in &refs {
        let mut pos = 1usize;
        loop {
            pos += rng.below(27) as usize;
            if pos + 200 > chrom.len() {
                break;
            }
            i += 1;
            let mut seq: Vec<u8> = chrom[pos - 1..pos + 149].to_ascii_uppercase();
            for _ in 0..rng.below(4) {
                seq[rng.below(150) as usize] = *rng.pick(b"ACGT");
            }
            let mut qual = Vec::with_capacity(156);
            while qual.len() < 150 {
                let q = *rng.pick(levels);
                qual.extend(std::iter::repeat_n(q, 1 + rng.below(6) as usize));
            }
            qual.truncate(150);
            let cigar = *rng.pick(&[
                "70M2D80M", "60M1I89M", "5S145M", "150M", "150M", "150M", "150M",
            ]);
            let flag = if rng.chance(50) { 0 } else { 16 };
            writeln!(
                sam,
                "HWI-ST1234:8:1101:{}:{i}#0\t{flag}\t{name}\t{pos}\t60\t{cigar}\t*\t0\t0\t{}\t{}\tRG:Z:lane1\tAS:i:{}",
                1000 + i % 20000,
                String::from_utf8_lossy(&seq),
                String::from_utf8_lossy(&qual),
                140 + rng.below(10)
            )
            .unwrap();
        }
    }
    drop(sam);
    samtools_ok(dir, &["faidx", "ref.fa"]);
    dir.join("ref.fa")
}

/// `samtools view -@2 | md5sum`: (digest, wall, CPU of both).
fn samtools_md5(cram: &Path, reference: &Path) -> (String, Duration, Duration) {
    let script = format!(
        "samtools view -@2 --reference '{}' '{}' | md5sum; times",
        reference.display(),
        cram.display()
    );
    let start = Instant::now();
    let out = Command::new("bash")
        .args(["-c", &script])
        .env("REF_PATH", ":")
        .env("REF_CACHE", "/nonexistent/%s")
        .output()
        .unwrap();
    let wall = start.elapsed();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let digest = lines.next().unwrap()[..32].to_owned();
    // `times`: the shell's user/system, then its children's
    let children = lines.nth(1).unwrap();
    let cpu = children
        .split_whitespace()
        .map(|t| {
            let (m, s) = t.trim_end_matches('s').split_once('m').unwrap();
            m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
        })
        .sum::<f64>();
    (digest, wall, Duration::from_secs_f64(cpu))
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn throughput_against_samtools() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(PathBuf, PathBuf)> = match (
        std::env::var_os("SEQSTORE_CRAM_BENCH"),
        std::env::var_os("SEQSTORE_CRAM_BENCH_REF"),
    ) {
        (Some(cram), Some(reference)) => vec![(cram.into(), reference.into())],
        _ => {
            let reference = generate(dir.path());
            ["3.0", "3.1"]
                .iter()
                .map(|v| {
                    let name = format!("v{v}.cram");
                    let option = format!("version={v}");
                    let args = [
                        "view",
                        "-@2",
                        "-C",
                        "--reference",
                        "ref.fa",
                        "--output-fmt-option",
                        &option,
                        "-o",
                        &name,
                        "in.sam",
                    ];
                    samtools_ok(dir.path(), &args);
                    (dir.path().join(name), reference.clone())
                })
                .collect()
        }
    };
    let _ = std::fs::remove_file(dir.path().join("in.sam"));
    for (cram, reference) in files {
        for round in 1..=2 {
            let (expected, s_wall, s_cpu) = samtools_md5(&cram, &reference);
            let options = CramOptions {
                family: EtagFamily::Md5up,
                provenance: None,
            };
            let (start, cpu) = (Instant::now(), process_cpu());
            let input = std::fs::File::open(&cram).unwrap();
            let summary = ingest_cram(input, None, &reference, &options).unwrap();
            let (wall, cpu) = (start.elapsed(), process_cpu() - cpu);
            assert_eq!(summary.etag, expected);
            println!(
                "{} round {round}: samtools {:.2}s wall {:.2}s CPU | ours {:.2}s wall {:.2}s CPU | \
                 ratio {:.2} (wall), {:.2} (CPU) | {} reads",
                cram.file_name().unwrap().to_string_lossy(),
                s_wall.as_secs_f64(),
                s_cpu.as_secs_f64(),
                wall.as_secs_f64(),
                cpu.as_secs_f64(),
                s_wall.as_secs_f64() / wall.as_secs_f64(),
                s_cpu.as_secs_f64() / cpu.as_secs_f64(),
                summary.read_count
            );
        }
    }
}
