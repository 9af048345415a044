//! The data dir and a SQLite catalog hold secrets (the root key, every access key's secret):
//! only their owner may read them. New ones are created so; wider existing ones are narrowed.

use crate::config::Config;
use anyhow::Context;
use seqstore_catalog::SqlCatalog;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What was narrowed: the path, and its mode before and after.
pub struct Narrowed {
    pub path: PathBuf,
    pub from: u32,
    pub to: u32,
}

/// Creates the data dir with mode 0700, or narrows an existing one to it.
pub fn prepare(dir: &Path) -> anyhow::Result<Vec<Narrowed>> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating data dir {}", dir.display()))?;
    Ok(narrow(dir, 0o700)?.into_iter().collect())
}

/// Narrows a SQLite catalog file and its `-wal`, `-shm` and `-journal` files to 0600
/// (SQLite creates them from the umask, usually 0644).
pub fn secure_catalog(url: &str) -> anyhow::Result<Vec<Narrowed>> {
    let Some(file) = sqlite_file(url) else {
        return Ok(Vec::new());
    };
    let mut narrowed = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = file.clone().into_os_string();
        path.push(suffix);
        let path = PathBuf::from(path);
        if path.exists() {
            narrowed.extend(narrow(&path, 0o600)?);
        }
    }
    Ok(narrowed)
}

/// The catalog of `config` (for the admin commands), its data dir and files owner-only.
pub async fn open_catalog(config: &Config) -> anyhow::Result<SqlCatalog> {
    prepare(&config.data_dir)?;
    let catalog = SqlCatalog::connect(&config.catalog_url())
        .await
        .context("opening the catalog")?;
    secure_catalog(&config.catalog_url())?;
    Ok(catalog)
}

/// The file of a `sqlite:` URL (`sqlite://FILE?mode=rwc`).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
}

/// Takes every permission outside `allowed` away from `path`.
fn narrow(path: &Path, allowed: u32) -> anyhow::Result<Option<Narrowed>> {
    let from = std::fs::metadata(path)
        .with_context(|| format!("reading the mode of {}", path.display()))?
        .permissions()
        .mode()
        & 0o7777;
    let to = from & allowed;
    if to == from {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(to))
        .with_context(|| format!("narrowing the mode of {}", path.display()))?;
    Ok(Some(Narrowed {
        path: path.to_owned(),
        from,
        to,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn data_dir_and_catalog_files_end_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        assert!(
            prepare(&dir).unwrap().is_empty(),
            "a new dir is created narrow"
        );
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let narrowed = prepare(&dir).unwrap();
        assert_eq!((narrowed[0].from, narrowed[0].to), (0o755, 0o700));
        assert_eq!(mode(&dir), 0o700);

        let db = dir.join("catalog.db");
        for f in [&db, &dir.join("catalog.db-wal")] {
            std::fs::write(f, b"x").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let url = format!("sqlite://{}?mode=rwc", db.display());
        assert_eq!(secure_catalog(&url).unwrap().len(), 2);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("catalog.db-wal")), 0o600);
        assert!(secure_catalog(&url).unwrap().is_empty());
        assert!(secure_catalog("postgres://u:p@h/db").unwrap().is_empty());
    }
}
