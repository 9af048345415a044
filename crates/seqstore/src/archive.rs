//! `seqstore archive pack|unpack`: the archive tier's packing of one file, by hand — to restore
//! a file from an archive copy without the server, or to see what archiving would save.

use anyhow::Context;
use seqstore_formats::archive::{PackError, Packing, pack, unpack};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// Packs `input` into `output` as the server would (raw when gzip members cannot be
/// reproduced); prints the sizes.
pub fn pack_file(input: &Path, output: &Path, level: i32) -> anyhow::Result<()> {
    let attempt = |packing| -> anyhow::Result<Result<u64, PackError>> {
        let reader = BufReader::new(open(input)?);
        let writer = BufWriter::new(create(output)?);
        Ok(pack(reader, writer, packing, level).map(|s| s.original))
    };
    let original = match attempt(Packing::Deflate)? {
        Ok(n) => n,
        Err(PackError::NotReproducible(why)) => {
            eprintln!("gzip members not reproducible ({why}); packing the bytes as they are");
            attempt(Packing::Raw)??
        }
        Err(e) => return Err(e).with_context(|| format!("packing {}", input.display())),
    };
    let packed = std::fs::metadata(output)?.len();
    println!(
        "{original} bytes -> {packed} bytes ({:.1}%)",
        100.0 * packed as f64 / original.max(1) as f64
    );
    Ok(())
}

/// Restores the original bytes of an archive copy.
pub fn unpack_file(input: &Path, output: &Path) -> anyhow::Result<()> {
    let reader = BufReader::new(open(input)?);
    let writer = BufWriter::new(create(output)?);
    let n = unpack(reader, writer).with_context(|| format!("unpacking {}", input.display()))?;
    println!("{n} bytes restored");
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

fn create(path: &Path) -> anyhow::Result<File> {
    File::create(path).with_context(|| format!("creating {}", path.display()))
}
