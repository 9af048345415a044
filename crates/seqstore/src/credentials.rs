//! The root credentials: from the configuration, or generated once into
//! `<data-dir>/credentials` (AWS shared-credentials INI, mode 0600).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The profile name written into the credentials file.
pub const PROFILE: &str = "seqstore";

/// Where the root key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `SEQSTORE_ROOT_ACCESS_KEY_ID` / `_SECRET_ACCESS_KEY` (or the config file).
    Configured,
    /// The credentials file in the data dir.
    File(PathBuf),
}

/// An access key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// Access key id.
    pub id: String,
    /// Secret access key.
    pub secret: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Reads the root key from `data_dir/credentials`, creating it with a new key if missing.
pub fn load_or_create(data_dir: &Path) -> Result<(KeyPair, Source)> {
    let path = data_dir.join("credentials");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let key = parse_profile(&text, PROFILE)
            .with_context(|| format!("{} has no complete [{PROFILE}] profile", path.display()))?;
        return Ok((key, Source::File(path)));
    }
    let (id, secret) = seqstore_core::new_access_key();
    let key = KeyPair { id, secret };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(render_profile(PROFILE, &key).as_bytes())?;
    file.sync_all()?;
    Ok((key, Source::File(path)))
}

/// `[profile]` with `aws_access_key_id` and `aws_secret_access_key`.
pub fn render_profile(profile: &str, key: &KeyPair) -> String {
    format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.id, key.secret
    )
}

/// Finds one profile's key pair in shared-credentials INI text.
fn parse_profile(text: &str, profile: &str) -> Result<KeyPair> {
    let (mut id, mut secret, mut inside) = (None, None, false);
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
            continue;
        }
        if !inside {
            continue;
        }
        match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("aws_access_key_id", v)) => id = Some(v.to_owned()),
            Some(("aws_secret_access_key", v)) => secret = Some(v.to_owned()),
            _ => {}
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(KeyPair { id, secret })
        }
        _ => bail!("missing aws_access_key_id or aws_secret_access_key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_once_with_mode_0600_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = load_or_create(dir.path()).unwrap();
        let path = dir.path().join("credentials");
        assert_eq!(source, Source::File(path.clone()));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (again, _) = load_or_create(dir.path()).unwrap();
        assert_eq!(first, again);
    }

    #[test]
    fn parses_the_right_profile() {
        let text = "[default]\naws_access_key_id=A\naws_secret_access_key=B\n\n# c\n[seqstore]\naws_access_key_id = C\naws_secret_access_key = D\n";
        assert_eq!(
            parse_profile(text, "seqstore").unwrap(),
            KeyPair {
                id: "C".into(),
                secret: "D".into()
            }
        );
        assert!(parse_profile("[seqstore]\naws_access_key_id = C\n", "seqstore").is_err());
    }
}
