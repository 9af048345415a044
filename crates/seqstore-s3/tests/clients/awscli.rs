//! The AWS CLI (`aws s3 ls`, `aws s3 cp`) with `--endpoint-url`.

use std::process::Output;

use seqstore_s3::ServiceOptions;

use crate::fixture::{ALIAS, Fixture, KEY_ID, PREFIX, REGION, SECRET, pattern};
use crate::server::TestServer;
use crate::tools::{check, clean, have};

fn aws(server: &TestServer, args: &[&str], cwd: &std::path::Path) -> Output {
    clean("aws")
        .args(args)
        .arg("--endpoint-url")
        .arg(server.endpoint())
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_DEFAULT_REGION", REGION)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn aws_s3_ls() {
    if !have("the AWS CLI", "aws", &["--version"]) {
        return;
    }
    let fixture = Fixture::new();
    let server = TestServer::start(fixture.source.clone(), ServiceOptions::new(REGION));
    let dir = fixture.dir();

    let out = aws(
        &server,
        &["s3", "ls", &format!("s3://{ALIAS}/{PREFIX}")],
        dir,
    );
    check("aws s3 ls PREFIX", &out);
    assert_eq!(stdout(&out).trim(), "PRE readSet/", "{}", stdout(&out));

    let out = aws(
        &server,
        &[
            "s3",
            "ls",
            &format!("s3://{ALIAS}/{PREFIX}readSet/1000000003/"),
        ],
        dir,
    );
    check("aws s3 ls read set", &out);
    let line = stdout(&out);
    assert!(
        line.starts_with("2024-05-06 ") && line.trim_end().ends_with(" 15 small.txt"),
        "{line}"
    );

    let out = aws(
        &server,
        &["s3", "ls", "--recursive", &format!("s3://{ALIAS}/{PREFIX}")],
        dir,
    );
    check("aws s3 ls --recursive", &out);
    let listed = stdout(&out);
    assert_eq!(listed.lines().count(), 29, "{listed}");
    assert!(
        listed.contains("readSet/1000000004/a b+c \u{fc}.txt"),
        "{listed}"
    );

    let out = aws(&server, &["s3", "ls", "s3://nothere-s3alias/"], dir);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AccessDenied"),
        "{out:?}"
    );
}

#[test]
fn aws_s3_cp() {
    if !have("the AWS CLI", "aws", &["--version"]) {
        return;
    }
    let fixture = Fixture::new();
    let server = TestServer::start(fixture.source.clone(), ServiceOptions::new(REGION));
    let dir = fixture.dir();

    // Above the CLI's 8 MiB threshold: a HEAD, then concurrent ranged GETs.
    let big = format!("s3://{ALIAS}/{PREFIX}readSet/1000000002/big.bin");
    let out = aws(&server, &["s3", "cp", &big, "big.bin"], dir);
    check("aws s3 cp big", &out);
    assert!(
        std::fs::read(dir.join("big.bin")).unwrap() == pattern(9 * 1024 * 1024 + 123),
        "downloaded bytes differ"
    );

    let odd = format!("s3://{ALIAS}/{PREFIX}readSet/1000000004/a b+c \u{fc}.txt");
    let out = aws(&server, &["s3", "cp", &odd, "odd.txt"], dir);
    check("aws s3 cp odd key", &out);
    assert_eq!(std::fs::read(dir.join("odd.txt")).unwrap(), b"odd");

    let out = aws(
        &server,
        &[
            "s3",
            "cp",
            "--recursive",
            &format!("s3://{ALIAS}/{PREFIX}readSet/2000000003/"),
            "rs",
        ],
        dir,
    );
    check("aws s3 cp --recursive", &out);
    assert_eq!(
        std::fs::read(dir.join("rs/r3_source2.fastq.gz")).unwrap(),
        pattern(203)
    );

    std::fs::write(dir.join("up.txt"), b"upload").unwrap();
    let out = aws(
        &server,
        &[
            "s3",
            "cp",
            "up.txt",
            &format!("s3://{ALIAS}/{PREFIX}up.txt"),
        ],
        dir,
    );
    assert!(!out.status.success(), "upload succeeded");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AccessDenied"),
        "{out:?}"
    );
}
