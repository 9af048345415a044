//! The startup sweep of a local blob directory: staging files of writes that never
//! finished (a crash between the first byte and the rename) and the empty directories
//! that aborted writes leave.

use std::path::Path;
use std::time::SystemTime;

/// Sweeps `root`: staging files last modified before `cutoff` are removed (listed only
/// with `dry_run`), then directories left empty, so a write in progress (which keeps
/// touching its file) is left alone. Returns the staging files, relative to `root`.
pub(crate) fn sweep(
    root: &Path,
    cutoff: SystemTime,
    dry_run: bool,
) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    sweep_dir(root, root, cutoff, dry_run, &mut found)?;
    Ok(found)
}

/// Returns whether `dir` is empty afterwards.
fn sweep_dir(
    root: &Path,
    dir: &Path,
    cutoff: SystemTime,
    dry_run: bool,
    found: &mut Vec<String>,
) -> std::io::Result<bool> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        let old = meta.modified().map(|t| t < cutoff).unwrap_or(false);
        if meta.is_dir() {
            if sweep_dir(root, &path, cutoff, dry_run, found)? && old && !dry_run {
                std::fs::remove_dir(&path)?;
            } else {
                empty = false;
            }
        } else if old && is_staging(&entry.file_name().to_string_lossy()) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            found.push(relative.to_string_lossy().into_owned());
            if dry_run {
                empty = false;
            } else {
                std::fs::remove_file(&path)?;
            }
        } else {
            empty = false;
        }
    }
    Ok(empty && dir != root)
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
    use std::time::Duration;

    #[test]
    fn removes_old_staging_and_empty_dirs_only() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("a/ref1")).unwrap();
        std::fs::create_dir_all(r.join("a/empty")).unwrap();
        std::fs::write(r.join("a/ref1/x.fa"), b"kept").unwrap();
        std::fs::write(r.join("a/ref1/x.fa#1"), b"staged").unwrap();
        std::fs::write(r.join("a/ref1/odd#name"), b"kept").unwrap();
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        assert!(
            sweep(r, an_hour_ago, false).unwrap().is_empty(),
            "nothing is old yet"
        );
        let later = SystemTime::now() + Duration::from_secs(1);
        assert_eq!(sweep(r, later, true).unwrap(), ["a/ref1/x.fa#1"]);
        assert!(r.join("a/ref1/x.fa#1").exists() && r.join("a/empty").exists());
        assert_eq!(sweep(r, later, false).unwrap(), ["a/ref1/x.fa#1"]);
        assert!(r.join("a/ref1/x.fa").exists() && r.join("a/ref1/odd#name").exists());
        assert!(!r.join("a/ref1/x.fa#1").exists() && !r.join("a/empty").exists());
        assert!(r.exists());
    }
}
