//! Throughput of FASTQ ingest against `gzip -dc F | md5sum`, side by side on one file.
//!
//! Ignored by default; run in release on a large gzip FASTQ (≥ 1 GB of text):
//!
//! ```text
//! SEQSTORE_FASTQ_BENCH=/path/reads.fastq.gz cargo test --release -p seqstore-formats \
//!     --test fastq_throughput -- --ignored --nocapture
//! ```
//!
//! Besides the whole ingest it times its big parts alone (gzip decompression with flate2, the
//! hash, the ingest of the decompressed text), so a regression can be placed. CPU times are
//! printed too: on a busy machine they tell the cost of the work from the wait for a core.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use flate2::write::MultiGzDecoder;
use seqstore_formats::etag::{EtagFamily, EtagHasher};
use seqstore_formats::fastq::FastqIngest;

/// Chunks as the blob store hands them over.
const CHUNK: usize = 1 << 20;

/// Reads `path` in [`CHUNK`]s and hands each to `push`.
fn each_chunk(path: &Path, mut push: impl FnMut(&[u8])) {
    let mut file = File::open(path).unwrap();
    let mut buffer = vec![0; CHUNK];
    loop {
        let n = file.read(&mut buffer).unwrap();
        if n == 0 {
            return;
        }
        push(&buffer[..n]);
    }
}

/// The value of `f`, the wall time and the CPU time of this thread it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (start, cpu) = (Instant::now(), thread_cpu());
    let value = f();
    (value, start.elapsed(), thread_cpu() - cpu)
}

/// CPU time of the calling thread so far (Linux `/proc/thread-self/stat`), to tell the cost of
/// the work from the wait for a busy machine's cores.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the parenthesised command: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 1000 / clock_ticks())
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `script` under `/usr/bin/time`: wall time and the CPU time of all its processes.
fn timed_script(script: &str) -> (String, Duration, Duration) {
    let (out, wall, _) = timed(|| {
        Command::new("/usr/bin/time")
            .args(["-f", "%U %S", "bash", "-c", script])
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{script}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let cpu: f64 = stderr
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .map(|t| t.parse::<f64>().unwrap())
        .sum();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (stdout, wall, Duration::from_secs_f64(cpu))
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

/// Counts decompressed bytes and drops them.
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

#[test]
#[ignore = "benchmark: needs SEQSTORE_FASTQ_BENCH=<large .fastq.gz> and --release"]
fn ingest_is_faster_than_gzip_and_md5sum() {
    let path = std::env::var_os("SEQSTORE_FASTQ_BENCH").expect("set SEQSTORE_FASTQ_BENCH");
    let path = Path::new(&path);
    let family: EtagFamily = std::env::var("SEQSTORE_FASTQ_BENCH_FAMILY")
        .map_or(EtagFamily::Md5up, |f| f.parse().unwrap());
    let tool = match family {
        EtagFamily::Md5up => "md5sum",
        EtagFamily::Sha256up => "sha256sum",
        EtagFamily::Sha512up => "sha512sum",
    };

    let script = format!("set -o pipefail; gzip -dc '{}' | {tool}", path.display());
    let (out, pipe_time, pipe_cpu) = timed_script(&script);
    let expected = out[..family.hex_len()].to_owned();

    let (summary, ingest_time, ingest_cpu) = timed(|| {
        let mut ingest = FastqIngest::new(family);
        each_chunk(path, |chunk| ingest.push(chunk).unwrap());
        ingest.finish().unwrap()
    });
    assert_eq!(summary.etag, expected);
    let text = summary.text_size;

    let (inflated, _, inflate_cpu) = timed(|| {
        let mut decoder = MultiGzDecoder::new(Count(0));
        each_chunk(path, |chunk| decoder.write_all(chunk).unwrap());
        decoder.finish().unwrap().0
    });
    assert_eq!(inflated, text);
    let plain = std::env::temp_dir().join("seqstore-fastq-bench-plain.fastq");
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "gzip -dc '{}' > '{}'",
            path.display(),
            plain.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let (_, _, hash_cpu) = timed(|| {
        let mut hasher = EtagHasher::new(family);
        each_chunk(&plain, |chunk| hasher.update(chunk));
        hasher.finish()
    });
    let (_, _, plain_cpu) = timed(|| {
        let mut ingest = FastqIngest::new(family);
        each_chunk(&plain, |chunk| ingest.push(chunk).unwrap());
        ingest.finish().unwrap()
    });
    std::fs::remove_file(&plain).unwrap();

    let ratio = pipe_time.as_secs_f64() / ingest_time.as_secs_f64();
    println!(
        "{}: {} reads, {text} bytes of text ({:?}, {family})",
        path.display(),
        summary.read_count,
        summary.compression
    );
    println!(
        "gzip -dc | {tool}:  {:>7.1} MB/s  {:.2} s  (CPU {:.2} s, two processes)",
        mb_per_s(text, pipe_time),
        pipe_time.as_secs_f64(),
        pipe_cpu.as_secs_f64()
    );
    println!(
        "FastqIngest:        {:>7.1} MB/s  {:.2} s  (CPU {:.2} s of the calling thread, {:.1} MB/s; \
         the hash has its own)  {ratio:.2}x",
        mb_per_s(text, ingest_time),
        ingest_time.as_secs_f64(),
        ingest_cpu.as_secs_f64(),
        mb_per_s(text, ingest_cpu)
    );
    println!(
        "  parts alone, CPU: flate2 inflate {:.1} MB/s, {family} {:.1} MB/s, \
         plain-text ingest (calling thread) {:.1} MB/s",
        mb_per_s(text, inflate_cpu),
        mb_per_s(text, hash_cpu),
        mb_per_s(text, plain_cpu)
    );
    assert!(
        ratio >= 1.2,
        "ingest is only {ratio:.2}x `gzip -dc | {tool}`"
    );
}
