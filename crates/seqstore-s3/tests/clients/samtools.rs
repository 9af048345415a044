//! samtools/htslib reading a BAM and its `.bai` over `s3+http://`, as the docs tell users to.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use seqstore_s3::ServiceOptions;

use crate::fixture::{ALIAS, Fixture, KEY_ID, REGION, SECRET};
use crate::server::TestServer;
use crate::tools::{check, clean, have};

const BAM: &str = "readSet/1000000001/sample.bam";

/// A coordinate-sorted SAM with reads on two references.
fn sam_text() -> String {
    let mut sam =
        String::from("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:5000\n@SQ\tSN:chr2\tLN:3000\n");
    let bases = b"ACGT";
    for (chrom, count) in [("chr1", 300), ("chr2", 150)] {
        for i in 0..count {
            let seq: String = (0..50)
                .map(|j| bases[(i * 7 + j * 3) % 4] as char)
                .collect();
            let qual = "I".repeat(50);
            let flag = if i % 5 == 0 { 16 } else { 0 };
            writeln!(
                sam,
                "{chrom}_r{i}\t{flag}\t{chrom}\t{}\t60\t50M\t*\t0\t0\t{seq}\t{qual}\tNM:i:0",
                1 + i * 15
            )
            .unwrap();
        }
    }
    sam
}

/// `samtools ARGS` in `dir`; panics with its output on failure.
fn samtools(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("samtools")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    check(&format!("samtools {args:?}"), &out);
    out.stdout
}

#[test]
fn samtools_view_region_over_s3_equals_local_view() {
    if !have("samtools", "samtools", &["--version"]) {
        return;
    }
    let mut fixture = Fixture::new();
    let work = fixture.dir().to_owned();
    std::fs::write(work.join("sample.sam"), sam_text()).unwrap();
    samtools(&work, &["view", "-b", "-o", "sample.bam", "sample.sam"]);
    samtools(&work, &["index", "sample.bam"]);
    let bam = std::fs::read(work.join("sample.bam")).unwrap();
    let bai = std::fs::read(work.join("sample.bam.bai")).unwrap();
    fixture.add(BAM, bam, false, BTreeMap::new());
    fixture.add(&format!("{BAM}.bai"), bai, false, BTreeMap::new());
    let server = TestServer::start(fixture.source.clone(), ServiceOptions::new(REGION));
    let url = format!("s3+http://{ALIAS}/{}", Fixture::key(BAM));

    for region in ["chr1:100-200", "chr2:1000-1100", "chr1"] {
        // A fresh directory: htslib downloads the index into the current one and reuses it.
        let cwd = tempfile::tempdir().unwrap();
        let out = clean("samtools")
            .args(["view", &url, region])
            .env("HTS_S3_HOST", format!("127.0.0.1:{}", server.port))
            .env("HTS_S3_ADDRESS_STYLE", "path")
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", REGION)
            .current_dir(cwd.path())
            .output()
            .unwrap();
        check(&format!("samtools view {url} {region}"), &out);
        let local = samtools(&work, &["view", "sample.bam", region]);
        assert!(!local.is_empty(), "no reads in {region}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&local),
            "region {region}"
        );
        assert!(
            out.stderr.is_empty(),
            "samtools complained: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            cwd.path().join("sample.bam.bai").exists(),
            "htslib did not fetch the index"
        );
    }

    // The whole file, streamed: the same record count.
    let out = clean("samtools")
        .args(["view", "-c", &url])
        .env("HTS_S3_HOST", format!("127.0.0.1:{}", server.port))
        .env("HTS_S3_ADDRESS_STYLE", "path")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    check("samtools view -c", &out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "450");
}
