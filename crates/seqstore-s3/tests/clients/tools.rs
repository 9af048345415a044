//! Finding and running the external clients.

use std::path::Path;
use std::process::{Command, Output};

/// Whether `program args…` runs; panics under CI when it does not.
pub fn have(what: &str, program: &str, args: &[&str]) -> bool {
    let found = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is required under CI"
        );
        eprintln!("skipped: {what} is not installed");
    }
    found
}

/// A command with no AWS settings from the environment or the user's files.
pub fn clean(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/seqstore-s3-test")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/seqstore-s3-test",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    cmd
}

/// Panics with everything the program said unless it succeeded.
pub fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}
