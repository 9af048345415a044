//! Plain (non-BGZF) gzip inflates with ISA-L's igzip when its headers and library are on the
//! machine (Debian: `libisal-dev`), and with zlib-rs otherwise, so that a machine without it
//! still builds. `SEQSTORE_NO_ISAL=1` builds without it (CI tests both).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(isal)");
    println!("cargo::rerun-if-changed=csrc/isal_inflate.c");
    println!("cargo::rerun-if-env-changed=SEQSTORE_NO_ISAL");
    if std::env::var_os("SEQSTORE_NO_ISAL").is_some_and(|v| !v.is_empty() && v != "0") {
        return;
    }
    let built = cc::Build::new()
        .file("csrc/isal_inflate.c")
        .warnings(true)
        .cargo_warnings(false)
        .try_compile("seqstore_isal_inflate");
    match built {
        Ok(()) => {
            println!("cargo::rustc-link-lib=dylib=isal");
            println!("cargo::rustc-cfg=isal");
        }
        Err(_) => println!(
            "cargo::warning=ISA-L (libisal-dev) not found: plain gzip inflates with zlib-rs, \
             about half as fast"
        ),
    }
}
