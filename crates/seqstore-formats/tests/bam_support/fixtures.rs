//! Fixtures for the BAM and SAM-text tests: SAM text written here, turned into BAM by
//! samtools, and samtools' own outputs to compare against.
//!
//! Skipped with a note when `samtools` is missing, but failing when `CI` is set.

#![allow(dead_code)]

#[path = "../support/rng.rs"]
mod rng;
#[path = "../support/tools.rs"]
mod tools;

pub use rng::Rng;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether samtools is there; panics under CI when it is not.
pub fn have_samtools() -> bool {
    tools::have("samtools", "samtools")
}

/// Runs samtools with `args` (and `stdin` when given); panics with its stderr on failure.
pub fn samtools(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let out = run("samtools", args, stdin);
    assert!(
        out.status.success(),
        "samtools {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `program` with `args`, feeding `stdin` from a thread.
pub fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = stdin.map(<[u8]>::to_vec);
    let pipe = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let (Some(mut pipe), Some(input)) = (pipe, input) {
            let _ = pipe.write_all(&input);
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// `md5sum`/`sha256sum`/`sha512sum` of `data`: the lowercase hex digest.
pub fn digest(tool: &str, data: &[u8]) -> String {
    let out = run(tool, &[], Some(data));
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Reference sequences of the fixtures: chr3 gets no reads.
pub const REFERENCES: &[(&str, u64)] = &[("chr1", 200_000), ("chr2", 100_000), ("chr3", 20_000)];

pub const SAM_HEADER: &str = "@HD\tVN:1.6\tSO:unsorted\n\
    @SQ\tSN:chr1\tLN:200000\n@SQ\tSN:chr2\tLN:100000\n@SQ\tSN:chr3\tLN:20000\n\
    @RG\tID:rg1\tSM:sample1\tPL:ILLUMINA\n\
    @PG\tID:gen\tPN:seqstore-tests\tVN:1\n\
    @CO\tfixture for seqstore BAM tests\n";

/// Aux fields with every BAM type; htslib picks the integer width from the value.
const TAG_SETS: &[&str] = &[
    "NM:i:1\tAS:i:-100\tXC:i:200\tXs:i:-1000\tXS:i:60000\tXi:i:-100000\tXI:i:3000000000",
    "XA:A:x\tXf:f:3.14159265\tXz:f:-0\tXt:f:1e-45\tXb:f:123456789\tRG:Z:rg1",
    "XH:H:1AE301\tXZ:Z:some text with spaces\tBc:B:c,-1,2,-128\tBC:B:C,0,255",
    "Bs:B:s,-300,300\tBS:B:S,65535,1\tBi:B:i,-100000,5\tBI:B:I,4000000000\tBf:B:f,0.5,-0,1e-45,123456789,3.14159265",
    "Ec:B:c\tEC:B:C\tEs:B:s\tES:B:S\tEi:B:i\tEI:B:I\tEf:B:f",
    "",
];

fn bases(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| *rng.pick(&['A', 'C', 'G', 'T', 'A', 'C', 'G', 'T', 'N']))
        .collect()
}

fn quals(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'!' + rng.below(42) as u8))
        .collect()
}

/// A CIGAR consuming `len` query bases, with every operation kind now and then.
fn cigar(rng: &mut Rng, len: usize) -> String {
    match rng.below(6) {
        0 => format!("{len}M"),
        1 => format!("3S{}M2I{}M", len - 13, 8),
        2 => format!(
            "5H{}=1X{}M4D{}M",
            len / 2,
            len / 4,
            len - len / 2 - len / 4 - 1
        ),
        3 => format!("{}M100N{}M2S", len / 2, len - len / 2 - 2),
        4 => format!("{}M1P1I{}M", len / 3, len - len / 3 - 1),
        _ => format!("2S{}M", len - 2),
    }
}

/// Unsorted SAM text (header included) with `n` records of every kind: paired reads with
/// mates on other chromosomes, secondary/supplementary alignments (some with SEQ `*`),
/// placed and unplaced unmapped reads, QUAL `*`, every aux type. `long_cigar` adds one read
/// with 70000 CIGAR operations (stored in a `CG` tag by htslib).
pub fn sample_sam(seed: u64, n: usize, long_cigar: bool) -> String {
    let mut rng = Rng(seed);
    let mut sam = SAM_HEADER.to_owned();
    for i in 0..n {
        let len = 20 + rng.below(131) as usize;
        let seq = bases(&mut rng, len);
        let qual = if rng.below(20) == 0 {
            "*".to_owned()
        } else {
            quals(&mut rng, len)
        };
        let tags = *rng.pick(TAG_SETS);
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!("\t{tags}")
        };
        let (rname, rlen) = *rng.pick(&REFERENCES[..2]);
        let pos = 1 + rng.below(rlen - 1000);
        let mapq = rng.below(61);
        let kind = rng.below(20);
        let line = match kind {
            // Unplaced unmapped.
            0 => format!("u{i}\t4\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{qual}{tags}"),
            // Unmapped, placed at its mate.
            1 => format!(
                "p{i}\t{}\t{rname}\t{pos}\t0\t*\t=\t{pos}\t0\t{seq}\t{qual}{tags}",
                0x1 | 0x4 | 0x80
            ),
            // Secondary with SEQ/QUAL `*`.
            2 => format!(
                "s{i}\t256\t{rname}\t{pos}\t{mapq}\t{}\t*\t0\t0\t*\t*{tags}",
                cigar(&mut rng, len)
            ),
            // Supplementary.
            3 => format!(
                "x{i}\t2048\t{rname}\t{pos}\t{mapq}\t{}\t*\t0\t0\t{seq}\t{qual}{tags}",
                cigar(&mut rng, len)
            ),
            // Paired, mate on the other chromosome, reverse strand.
            4..=7 => {
                let (mname, mlen) = if rname == "chr1" {
                    REFERENCES[1]
                } else {
                    REFERENCES[0]
                };
                let mpos = 1 + rng.below(mlen - 1000);
                format!(
                    "m{i}\t{}\t{rname}\t{pos}\t{mapq}\t{}\t{mname}\t{mpos}\t0\t{seq}\t{qual}{tags}",
                    0x1 | 0x10 | 0x40,
                    cigar(&mut rng, len)
                )
            }
            // Proper pair on the same chromosome.
            _ => {
                let mpos = pos + rng.below(500);
                let tlen = (mpos + len as u64 - pos) as i64;
                let tlen = if rng.below(2) == 0 { tlen } else { -tlen };
                format!(
                    "r{i}\t{}\t{rname}\t{pos}\t{mapq}\t{}\t=\t{mpos}\t{tlen}\t{seq}\t{qual}{tags}",
                    0x1 | 0x2 | 0x20 | 0x80,
                    cigar(&mut rng, len)
                )
            }
        };
        sam.push_str(&line);
        sam.push('\n');
    }
    if long_cigar {
        let ops = 70_000;
        let mut cig = String::new();
        for _ in 0..ops / 2 {
            cig.push_str("1M1I");
        }
        let seq = bases(&mut rng, ops);
        let qual = quals(&mut rng, ops);
        writeln!(
            sam,
            "longread\t0\tchr2\t5000\t60\t{cig}\t*\t0\t0\t{seq}\t{qual}\tNM:i:35000"
        )
        .unwrap();
    }
    sam
}

/// Writes `sam` to `dir/name.sam` and converts it: coordinate-sorted BAM when `sort`,
/// otherwise BAM in the order given.
pub fn make_bam(dir: &Path, name: &str, sam: &str, sort: bool) -> PathBuf {
    let sam_path = dir.join(format!("{name}.sam"));
    std::fs::write(&sam_path, sam).unwrap();
    let bam = dir.join(format!("{name}.bam"));
    let (sam_path, bam_path) = (sam_path.to_str().unwrap(), bam.to_str().unwrap());
    if sort {
        samtools(&["sort", "-o", bam_path, sam_path], None);
    } else {
        samtools(&["view", "-b", "-o", bam_path, sam_path], None);
    }
    bam
}

/// `samtools view FILE` (records only).
pub fn view(path: &Path) -> Vec<u8> {
    samtools(&["view", path.to_str().unwrap()], None)
}

/// The same BAM with its BGZF blocks cut every `chunk` uncompressed bytes, ignoring record
/// boundaries (as `bgzip` would): headers and records then share and straddle blocks.
pub fn rechunk(bam: &[u8], chunk: usize) -> Vec<u8> {
    use std::io::Read as _;
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(bam)
        .read_to_end(&mut raw)
        .unwrap();
    let mut out = Vec::new();
    for piece in raw.chunks(chunk) {
        out.extend(bgzf_block(piece));
    }
    out.extend(bgzf_block(b""));
    out
}

/// One BGZF block holding `data`.
pub fn bgzf_block(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    let cdata = encoder.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let mut block = vec![
        0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
    ];
    block.extend(((cdata.len() + 25) as u16).to_le_bytes());
    block.extend(cdata);
    block.extend(crc.sum().to_le_bytes());
    block.extend((data.len() as u32).to_le_bytes());
    block
}
