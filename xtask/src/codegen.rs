//! Runs the emitters, formats their output with rustfmt and writes or checks the files.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::model::{self, Scope};
use crate::{emit_dispatch, emit_schema, emit_shapes};

/// One generated file: path relative to the workspace root and its formatted text.
#[derive(Debug)]
pub struct GeneratedFile {
    pub path: &'static str,
    pub contents: String,
}

/// Generates every file in memory, formatted exactly as `cargo fmt` would leave it.
pub fn generate(root: &Path) -> Result<Vec<GeneratedFile>> {
    let scope = model::load(root)?;
    let raw = [
        ("crates/seqstore-model/src/generated.rs", model_root(&scope)),
        (
            "crates/seqstore-model/src/generated/schema.rs",
            emit_schema::emit(&scope)?,
        ),
        (
            "crates/seqstore-model/src/generated/shapes.rs",
            emit_shapes::emit(&scope)?,
        ),
        ("crates/seqstore-api/src/generated.rs", api_root(&scope)),
        (
            "crates/seqstore-api/src/generated/service.rs",
            emit_dispatch::emit(&scope)?,
        ),
    ];
    raw.into_iter()
        .map(|(path, text)| {
            let contents = rustfmt(root, &text).with_context(|| format!("formatting {path}"))?;
            Ok(GeneratedFile { path, contents })
        })
        .collect()
}

fn model_root(scope: &Scope) -> String {
    let mut out = scope.header();
    emit!(
        out,
        "//! Code generated from the pinned botocore model (`model/botocore`)."
    );
    emit!(out, "//!");
    emit!(
        out,
        "//! Regenerate with `cargo run -p xtask -- codegen`; CI fails when these files drift."
    );
    emit!(out);
    emit!(out, "pub mod schema;");
    emit!(out, "pub mod shapes;");
    out
}

fn api_root(scope: &Scope) -> String {
    let mut out = scope.header();
    emit!(
        out,
        "//! Code generated from the pinned botocore model (`model/botocore`)."
    );
    emit!(out, "//!");
    emit!(
        out,
        "//! Regenerate with `cargo run -p xtask -- codegen`; CI fails when these files drift."
    );
    emit!(out);
    emit!(out, "pub mod service;");
    out
}

/// Pipes `text` through `rustfmt --edition 2024`, run from the workspace root so a
/// `rustfmt.toml` there applies exactly as it does for `cargo fmt`.
fn rustfmt(root: &Path, text: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (is it installed? `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = text.to_owned();
    // Write from another thread so a large output cannot deadlock against a full stdin pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().context("waiting for rustfmt")?;
    writer
        .join()
        .expect("writer thread does not panic")
        .context("writing to rustfmt")?;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt printed invalid UTF-8")
}

/// Writes the files that differ from what is on disk; returns their paths.
pub fn write(root: &Path, files: &[GeneratedFile]) -> Result<Vec<&'static str>> {
    let mut written = Vec::new();
    for f in files {
        let path = root.join(f.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(f.contents.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(f.path);
    }
    Ok(written)
}

/// The paths whose committed text differs from the generated text (or that are missing).
pub fn stale(root: &Path, files: &[GeneratedFile]) -> Vec<&'static str> {
    files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(root.join(f.path)).ok().as_deref() != Some(f.contents.as_str())
        })
        .map(|f| f.path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drift check: the committed generated files must be exactly what the generator
    /// produces from the pinned model. Fix with `cargo run -p xtask -- codegen`.
    #[test]
    fn committed_generated_files_match_the_generator() {
        let root = crate::workspace_root();
        let files = generate(&root).expect("generation succeeds");
        let stale = stale(&root, &files);
        assert!(
            stale.is_empty(),
            "generated files are out of date, run `cargo run -p xtask -- codegen`: {stale:?}"
        );
    }

    #[test]
    fn generated_files_carry_the_header_and_are_deterministic() {
        let root = crate::workspace_root();
        let a = generate(&root).expect("generation succeeds");
        let b = generate(&root).expect("generation succeeds");
        for (x, y) in a.iter().zip(&b) {
            assert!(
                x.contents
                    .starts_with("// @generated by `cargo xtask codegen` from botocore "),
                "{}",
                x.path
            );
            assert!(
                x.contents
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .ends_with("DO NOT EDIT."),
                "{}",
                x.path
            );
            assert_eq!(
                x.contents, y.contents,
                "{} differs between two runs",
                x.path
            );
        }
    }
}
