//! Fixtures for the CRAM oracle tests: a reference and a coordinate-sorted SAM made here,
//! converted to CRAM with samtools; helpers to run samtools the way the tests need.

#![allow(dead_code)]

#[path = "../support/rng.rs"]
mod rng;
#[path = "../support/tools.rs"]
mod tools;

pub use rng::Rng;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether samtools is there; panics under CI when it is not.
pub fn have_samtools() -> bool {
    tools::have("samtools", "samtools")
}

/// Runs samtools in `dir` without any network reference lookups.
pub fn samtools(dir: &Path, args: &[&str]) -> Output {
    Command::new("samtools")
        .args(args)
        .current_dir(dir)
        .env("REF_PATH", ":")
        .env("REF_CACHE", "/nonexistent/%s")
        .output()
        .unwrap()
}

/// Runs samtools and returns stdout, panicking with stderr on failure.
pub fn samtools_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = samtools(dir, args);
    assert!(
        out.status.success(),
        "samtools {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub const CHROMS: [(&str, usize); 4] = [
    ("chr1", 20_000),
    ("chr2", 8_000),
    ("chr3", 2_500),
    ("chrX", 700),
];

/// Reference sequences: uppercase with lowercase stretches, N runs and a few IUPAC codes.
pub fn reference(seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(seed);
    CHROMS
        .iter()
        .map(|&(name, len)| {
            let mut seq = Vec::with_capacity(len);
            while seq.len() < len {
                let run = 1 + rng.below(300) as usize;
                let kind = rng.below(20);
                for _ in 0..run {
                    seq.push(match kind {
                        0 => b'N',
                        1 if rng.chance(20) => *rng.pick(b"RYKM"),
                        2..=4 => *rng.pick(b"acgt"),
                        _ => *rng.pick(b"ACGT"),
                    });
                }
            }
            seq.truncate(len);
            (name.to_owned(), seq)
        })
        .collect()
}

pub fn write_fasta(path: &Path, seqs: &[(String, Vec<u8>)]) {
    let mut text = Vec::new();
    for (name, seq) in seqs {
        text.extend_from_slice(format!(">{name}\n").as_bytes());
        for line in seq.chunks(60) {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
    }
    std::fs::write(path, text).unwrap();
}

struct Read {
    chrom: Option<usize>,
    pos: usize,
    flag: u32,
    mapq: u8,
    cigar: String,
    rnext: String,
    pnext: usize,
    tlen: i64,
    seq: Vec<u8>,
    qual: Vec<u8>,
    tags: String,
    name: String,
}

/// A random alignment at `pos` on `chrom`: (CIGAR, read bases, reference span).
fn alignment(rng: &mut Rng, chrom: &[u8], pos: usize, len: usize) -> (String, Vec<u8>, usize) {
    let (cigar, seq, span) = complex_alignment(rng, chrom, pos, len);
    if pos - 1 + span <= chrom.len() {
        return (cigar, seq, span);
    }
    // htslib 1.16 writes CRAMs it cannot read back when a deletion or skip runs off the
    // reference end; keep reads that hang off the end to plain matches
    let seq = (0..len)
        .map(|i| {
            chrom
                .get(pos - 1 + i)
                .map_or(b'A', |b| b.to_ascii_uppercase())
        })
        .collect();
    (format!("{len}M"), seq, len)
}

fn complex_alignment(
    rng: &mut Rng,
    chrom: &[u8],
    pos: usize,
    len: usize,
) -> (String, Vec<u8>, usize) {
    let mut cigar = String::new();
    let mut seq = Vec::new();
    let mut r = pos - 1;
    if rng.chance(10) {
        cigar.push_str(&format!("{}H", 1 + rng.below(20)));
    }
    if rng.chance(20) {
        let n = 1 + rng.below(10) as usize;
        cigar.push_str(&format!("{n}S"));
        seq.extend((0..n).map(|_| *rng.pick(b"ACGT")));
    }
    while seq.len() < len {
        let left = len - seq.len();
        let kind = rng.below(12);
        let n = (1 + rng.below(40) as usize).min(left);
        match kind {
            0 if !seq.is_empty() => {
                let n = n.min(4);
                cigar.push_str(&format!("{n}I"));
                seq.extend((0..n).map(|_| *rng.pick(b"ACGTN")));
            }
            1 if !seq.is_empty() && left > 1 => {
                let d = 1 + rng.below(5) as usize;
                cigar.push_str(&format!("{d}D"));
                r += d;
            }
            2 if !seq.is_empty() && left > 1 && rng.chance(30) => {
                let d = 50 + rng.below(500) as usize;
                cigar.push_str(&format!("{d}N"));
                r += d;
            }
            _ => {
                let op = match rng.below(10) {
                    0 => '=',
                    1 => 'X',
                    _ => 'M',
                };
                cigar.push_str(&format!("{n}{op}"));
                for _ in 0..n {
                    let base = chrom.get(r).copied().unwrap_or(b'A').to_ascii_uppercase();
                    let base = if rng.chance(3) {
                        *rng.pick(b"ACGTN")
                    } else {
                        base
                    };
                    seq.push(base);
                    r += 1;
                }
            }
        }
    }
    if rng.chance(15) {
        let n = 1 + rng.below(8) as usize;
        cigar.push_str(&format!("{n}S"));
        seq.extend((0..n).map(|_| *rng.pick(b"ACGT")));
    }
    if rng.chance(5) {
        cigar.push_str(&format!("{}H", 1 + rng.below(20)));
    }
    (cigar, seq, r - (pos - 1))
}

fn tags(rng: &mut Rng) -> String {
    let mut t = String::new();
    if rng.chance(60) {
        t.push_str(&format!("\tRG:Z:{}", rng.pick(&["grp1", "grp2", "grp3"])));
    }
    if rng.chance(30) {
        let f = rng.pick(&[
            "3.14159265",
            "-0",
            "0.0000125",
            "123456789",
            "1e-30",
            "2.5",
            "-17.75",
        ]);
        t.push_str(&format!("\tXF:f:{f}"));
    }
    if rng.chance(25) {
        t.push_str("\tXB:B:s,1,-2,300,-32768");
    }
    if rng.chance(15) {
        t.push_str("\tXG:B:f,0.5,-1.25e-7,3.14159265,1000000");
    }
    if rng.chance(10) {
        t.push_str("\tXE:B:C,255,0,7");
    }
    if rng.chance(20) {
        t.push_str(&format!(
            "\tXI:i:{}",
            rng.pick(&["-5", "0", "70000", "-2147483648", "4294967295"])
        ));
    }
    if rng.chance(10) {
        t.push_str("\tXA:A:q\tXH:H:1AE301");
    }
    if rng.chance(15) {
        t.push_str("\tXS:Z:hello world");
    }
    if rng.chance(5) {
        // deliberately wrong: htslib must keep these verbatim
        t.push_str("\tNM:i:99\tMD:Z:0A0");
    }
    t
}

/// A coordinate-sorted SAM with varied alignments, pairs, unmapped and odd records.
pub fn sam(seed: u64, refs: &[(String, Vec<u8>)], count: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut reads = Vec::new();
    let mut i = 0;
    while reads.len() < count {
        i += 1;
        let c = *rng.pick(&[0usize, 0, 0, 1, 1, 2, 3]);
        let chrom = &refs[c].1;
        let len = 30 + rng.below(90) as usize;
        let near_end = rng.chance(3);
        let pos = if near_end {
            chrom.len() - rng.below(40) as usize
        } else {
            1 + rng.below((chrom.len() - 300) as u64) as usize
        };
        let (cigar, seq, span) = alignment(&mut rng, chrom, pos, len);
        let qual = |rng: &mut Rng, n: usize| -> Vec<u8> {
            if rng.chance(4) {
                b"*".to_vec()
            } else {
                (0..n).map(|_| b'!' + rng.below(42) as u8).collect()
            }
        };
        let name = format!("read{seed}_{i}");
        let mapq = rng.below(61) as u8;
        let kind = rng.below(20);
        if kind < 8 && !near_end {
            // a pair on the same chromosome, sometimes starting at the same position
            let pos2 = if rng.chance(15) {
                pos
            } else {
                pos + rng.below(400) as usize
            };
            let (cigar2, seq2, span2) = alignment(&mut rng, chrom, pos2, len);
            let mate_unmapped = rng.chance(10);
            let (f1, f2) = if rng.chance(50) {
                (0x10, 0x20)
            } else {
                (0x20, 0x10)
            };
            let start = pos.min(pos2) as i64;
            let end = ((pos + span).max(pos2 + span2) - 1) as i64;
            let tlen = if mate_unmapped { 0 } else { end - start + 1 };
            let q1 = qual(&mut rng, seq.len());
            let q2 = qual(&mut rng, seq2.len());
            let t1 = tags(&mut rng);
            let t2 = tags(&mut rng);
            if mate_unmapped {
                reads.push(Read {
                    chrom: Some(c),
                    pos,
                    flag: 0x1 | 0x8 | 0x40 | f1,
                    mapq,
                    cigar,
                    rnext: "=".into(),
                    pnext: pos,
                    tlen: 0,
                    seq,
                    qual: q1,
                    tags: t1,
                    name: name.clone(),
                });
                reads.push(Read {
                    chrom: Some(c),
                    pos,
                    flag: 0x1 | 0x4 | 0x80,
                    mapq: 0,
                    cigar: "*".into(),
                    rnext: "=".into(),
                    pnext: pos,
                    tlen: 0,
                    seq: seq2,
                    qual: q2,
                    tags: t2,
                    name,
                });
            } else {
                // read 1 is leftmost or starts with its mate: it gets the positive TLEN
                let s1 = tlen;
                reads.push(Read {
                    chrom: Some(c),
                    pos,
                    flag: 0x1 | 0x2 | 0x40 | f1,
                    mapq,
                    cigar,
                    rnext: "=".into(),
                    pnext: pos2,
                    tlen: s1,
                    seq,
                    qual: q1,
                    tags: t1,
                    name: name.clone(),
                });
                reads.push(Read {
                    chrom: Some(c),
                    pos: pos2,
                    flag: 0x1 | 0x2 | 0x80 | f2,
                    mapq,
                    cigar: cigar2,
                    rnext: "=".into(),
                    pnext: pos,
                    tlen: -s1,
                    seq: seq2,
                    qual: q2,
                    tags: t2,
                    name,
                });
            }
            continue;
        }
        let (flag, rnext, pnext) = match kind {
            8 => (0x100, "*".to_owned(), 0),
            9 => (0x800, "*".to_owned(), 0),
            10 => (
                0x1 | 0x40,
                refs[(c + 1) % refs.len()].0.clone(),
                1 + rng.below(500) as usize,
            ),
            11 => (0x10, "*".to_owned(), 0),
            _ => (0, "*".to_owned(), 0),
        };
        let (seq, q) = if flag == 0x100 && rng.chance(50) {
            (b"*".to_vec(), b"*".to_vec())
        } else {
            let q = qual(&mut rng, seq.len());
            (seq, q)
        };
        let t = tags(&mut rng);
        reads.push(Read {
            chrom: Some(c),
            pos,
            flag,
            mapq,
            cigar,
            rnext,
            pnext,
            tlen: 0,
            seq,
            qual: q,
            tags: t,
            name,
        });
    }
    for k in 0..count / 20 {
        let n = 20 + rng.below(60) as usize;
        let seq: Vec<u8> = (0..n).map(|_| *rng.pick(b"ACGTN")).collect();
        let qual = if k % 3 == 0 {
            b"*".to_vec()
        } else {
            (0..n).map(|_| b'#' + rng.below(30) as u8).collect()
        };
        reads.push(Read {
            chrom: None,
            pos: 0,
            flag: 4,
            mapq: 0,
            cigar: "*".into(),
            rnext: "*".into(),
            pnext: 0,
            tlen: 0,
            seq,
            qual,
            tags: tags(&mut rng),
            name: format!("unmapped{seed}_{k}"),
        });
    }
    let mut text = b"@HD\tVN:1.6\tSO:coordinate\n".to_vec();
    for (name, seq) in refs {
        text.extend_from_slice(format!("@SQ\tSN:{name}\tLN:{}\n", seq.len()).as_bytes());
    }
    for g in ["grp1", "grp2", "grp3"] {
        text.extend_from_slice(format!("@RG\tID:{g}\tSM:sample_{g}\tPL:ILLUMINA\n").as_bytes());
    }
    text.extend_from_slice(b"@CO\tgenerated for the CRAM tests\n");
    for r in reads {
        let rname = r.chrom.map_or("*".to_owned(), |c| refs[c].0.clone());
        text.extend_from_slice(
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
                r.name, r.flag, rname, r.pos, r.mapq, r.cigar, r.rnext, r.pnext, r.tlen
            )
            .as_bytes(),
        );
        text.extend_from_slice(&r.seq);
        text.push(b'\t');
        text.extend_from_slice(&r.qual);
        text.extend_from_slice(r.tags.as_bytes());
        text.push(b'\n');
    }
    text
}

/// A fixture directory: `ref.fa` (+ `.fai`) and `in.sam` sorted by coordinate.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub refs: Vec<(String, Vec<u8>)>,
}

impl Fixture {
    pub fn new(seed: u64, reads: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let refs = reference(seed);
        write_fasta(&dir.path().join("ref.fa"), &refs);
        samtools_ok(dir.path(), &["faidx", "ref.fa"]);
        std::fs::write(dir.path().join("unsorted.sam"), sam(seed, &refs, reads)).unwrap();
        samtools_ok(
            dir.path(),
            &["sort", "-O", "sam", "-o", "in.sam", "unsorted.sam"],
        );
        Self { dir, refs }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Converts `in.sam` to `name` with the given `--output-fmt-option`s.
    pub fn cram(&self, name: &str, options: &[&str]) -> PathBuf {
        let mut args = vec!["view", "-C", "--reference", "ref.fa", "-o", name];
        for o in options {
            args.push("--output-fmt-option");
            args.push(o);
        }
        args.push("in.sam");
        samtools_ok(self.dir.path(), &args);
        self.path(name)
    }

    /// `samtools view --reference ref.fa FILE [region]`.
    pub fn view(&self, file: &Path, extra: &[&str]) -> Vec<u8> {
        let file = file.to_str().unwrap();
        let mut args = vec!["view", "--reference", "ref.fa"];
        args.extend_from_slice(extra);
        args.push(file);
        samtools_ok(self.dir.path(), &args)
    }
}
