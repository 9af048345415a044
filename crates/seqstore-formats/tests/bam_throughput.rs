//! Throughput of BAM ingest against `samtools view -@2 F | md5sum`, side by side on one file.
//!
//! Ignored by default; run in release on a large coordinate-sorted BAM (≥ 1 GB of SAM text):
//!
//! ```text
//! SEQSTORE_BAM_BENCH=/path/big.bam cargo test --release -p seqstore-formats \
//!     --test bam_throughput -- --ignored --nocapture
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use seqstore_formats::bam::{BamKind, BamOptions, ingest_bam};
use seqstore_formats::etag::EtagFamily;

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Counts the copy's bytes and drops them.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CPU seconds (user + system, all threads) this process has used so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 Hz).
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// `samtools view -@2 F | md5sum`: the digest, wall time and CPU seconds of the pipeline.
fn samtools_md5(path: &Path) -> (String, Duration, f64) {
    let script = format!(
        "TIMEFORMAT='%U %S'; time (samtools view -@2 '{}' | md5sum)",
        path.display()
    );
    let (out, time) = timed(|| {
        Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap()
    });
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let cpu: f64 = stderr
        .split_whitespace()
        .map(|t| t.parse::<f64>().unwrap())
        .sum();
    (
        String::from_utf8(out.stdout).unwrap()[..32].to_owned(),
        time,
        cpu,
    )
}

fn ours(path: &Path, output: bool) -> (String, Duration, f64) {
    let options = BamOptions {
        family: EtagFamily::Md5up,
        kind: BamKind::Aligned,
        provenance: Some("@CO\tbench".to_owned()),
    };
    let cpu_before = cpu_seconds();
    let (summary, time) = timed(|| {
        let input = File::open(path).unwrap();
        let mut sink = Count(0);
        let out: Option<&mut dyn Write> = if output { Some(&mut sink) } else { None };
        ingest_bam(input, out, &options).unwrap()
    });
    (summary.etag, time, cpu_seconds() - cpu_before)
}

#[test]
#[ignore = "benchmark: set SEQSTORE_BAM_BENCH to a large BAM and run in release"]
fn ingest_against_samtools_view_md5sum() {
    let Some(path) = std::env::var_os("SEQSTORE_BAM_BENCH") else {
        eprintln!("skipped: SEQSTORE_BAM_BENCH is not set");
        return;
    };
    let path = Path::new(&path);
    let script = format!("samtools view '{}' | wc -c", path.display());
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let text_bytes: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mb = |t: Duration| text_bytes as f64 / 1e6 / t.as_secs_f64();

    for round in 1..=3 {
        let (theirs, t_samtools, cpu_samtools) = samtools_md5(path);
        let (etag, t_validate, cpu_validate) = ours(path, false);
        let (etag_copy, t_copy, cpu_copy) = ours(path, true);
        assert_eq!(etag, theirs);
        assert_eq!(etag_copy, theirs);
        let ratio = |t: Duration| t_samtools.as_secs_f64() / t.as_secs_f64();
        eprintln!(
            "round {round}: {:.2} GB of SAM text\n  samtools view -@2 | md5sum: {:.2}s wall \
             ({:.0} MB/s), {:.2} CPU-s\n  ingest:                     {:.2}s wall \
             ({:.0} MB/s, {:.2}x), {:.2} CPU-s\n  ingest + copy + .bai:       {:.2}s wall \
             ({:.0} MB/s, {:.2}x), {:.2} CPU-s",
            text_bytes as f64 / 1e9,
            t_samtools.as_secs_f64(),
            mb(t_samtools),
            cpu_samtools,
            t_validate.as_secs_f64(),
            mb(t_validate),
            ratio(t_validate),
            cpu_validate,
            t_copy.as_secs_f64(),
            mb(t_copy),
            ratio(t_copy),
            cpu_copy,
        );
    }
}
