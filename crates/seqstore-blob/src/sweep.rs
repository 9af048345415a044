//! The startup sweep of a local blob directory: staging files of writes that never
//! finished (a crash between the first byte and the rename) and the empty directories
//! that aborted writes leave.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Sweeps `root`; only entries unmodified for `min_age` are removed, so a write in
/// progress (which keeps touching its file) is left alone.
pub(crate) fn sweep(root: &Path, min_age: Duration) -> std::io::Result<usize> {
    let cutoff = SystemTime::now() - min_age;
    let mut removed = 0;
    sweep_dir(root, cutoff, &mut removed, true)?;
    Ok(removed)
}

/// Returns whether `dir` is empty afterwards.
fn sweep_dir(
    dir: &Path,
    cutoff: SystemTime,
    removed: &mut usize,
    is_root: bool,
) -> std::io::Result<bool> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        let old = meta.modified().map(|t| t < cutoff).unwrap_or(false);
        if meta.is_dir() {
            if sweep_dir(&path, cutoff, removed, false)? && old {
                std::fs::remove_dir(&path)?;
                *removed += 1;
            } else {
                empty = false;
            }
        } else if old && is_staging(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(&path)?;
            *removed += 1;
        } else {
            empty = false;
        }
    }
    Ok(empty && !is_root)
}

/// `object_store`'s local multipart staging files are named `<file>#<number>`.
fn is_staging(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(file, n)| {
        !file.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_old_staging_and_empty_dirs_only() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("a/ref1")).unwrap();
        std::fs::create_dir_all(r.join("a/empty")).unwrap();
        std::fs::write(r.join("a/ref1/x.fa"), b"kept").unwrap();
        std::fs::write(r.join("a/ref1/x.fa#1"), b"staged").unwrap();
        std::fs::write(r.join("a/ref1/odd#name"), b"kept").unwrap();
        assert_eq!(
            sweep(r, Duration::from_secs(3600)).unwrap(),
            0,
            "nothing is old yet"
        );
        assert_eq!(sweep(r, Duration::ZERO).unwrap(), 2);
        assert!(r.join("a/ref1/x.fa").exists() && r.join("a/ref1/odd#name").exists());
        assert!(!r.join("a/ref1/x.fa#1").exists() && !r.join("a/empty").exists());
        assert!(r.exists());
    }
}
