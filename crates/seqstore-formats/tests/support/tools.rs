//! Whether an external tool the oracle tests compare against is installed.

use std::process::{Command, Stdio};

/// Whether `tool` runs; skipped tests say so, but under `CI` a missing tool is a failure
/// naming the Debian `package` that `scripts/test-all` must install.
pub fn have(tool: &str, package: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{tool}` is required under CI: install the Debian package `{package}` in scripts/test-all"
        );
        eprintln!("skipped: `{tool}` (Debian package `{package}`) is not on PATH");
    }
    found
}
