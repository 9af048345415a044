//! Project tasks: `codegen [--check]` regenerates the wire layer from the pinned botocore
//! model; `update-model` refreshes the pinned model from the installed botocore.

use std::path::PathBuf;
use std::process::ExitCode;

/// `writeln!` into a `String`, which cannot fail.
macro_rules! emit {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        writeln!($out, $($arg)*).expect("writing to a String cannot fail");
    }};
}

mod codegen;
mod docs;
mod emit_dispatch;
mod emit_schema;
mod emit_shapes;
mod model;
mod naming;
mod overrides;
mod update_model;

const USAGE: &str = "usage: cargo run -p xtask -- <codegen [--check] | update-model>";

/// The workspace root (the parent of this crate's directory).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["update-model"] => update_model::run(&workspace_root()).map(|()| ExitCode::SUCCESS),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}

fn codegen(check: bool) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let files = codegen::generate(&root)?;
    if check {
        let stale = codegen::stale(&root, &files);
        if stale.is_empty() {
            println!("generated files are up to date");
            return Ok(ExitCode::SUCCESS);
        }
        for path in &stale {
            eprintln!("out of date: {path}");
        }
        eprintln!("run `cargo run -p xtask -- codegen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    let written = codegen::write(&root, &files)?;
    for path in &written {
        println!("wrote {path}");
    }
    if written.is_empty() {
        println!("generated files are up to date");
    }
    Ok(ExitCode::SUCCESS)
}
