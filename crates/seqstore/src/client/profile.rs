//! Where the client sends requests and with which keys, found as the AWS CLI finds them:
//! flags, then `AWS_*` variables, then the profile in the shared config and credentials files.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the command line says about the connection; `None` defers to the environment.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// The omics endpoint [default: AWS_ENDPOINT_URL_OMICS, AWS_ENDPOINT_URL, the profile's
    /// `services` omics `endpoint_url`, the profile's `endpoint_url`].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The profile in the shared config and credentials files [default: AWS_PROFILE, `default`].
    #[arg(long)]
    pub profile: Option<String>,
    /// The signing region [default: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`,
    /// us-east-1].
    #[arg(long)]
    pub region: Option<String>,
}

/// Access key, secret and optional session token.
#[derive(Clone)]
pub struct Credentials {
    /// `aws_access_key_id`.
    pub access_key_id: String,
    /// `aws_secret_access_key`.
    pub secret_access_key: String,
    /// `aws_session_token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The resolved connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Base URL of the omics endpoint, without a trailing slash.
    pub endpoint: String,
    /// Signing region.
    pub region: String,
    /// Signing keys.
    pub credentials: Credentials,
}

/// The process environment, as a lookup (tests pass their own).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl ConnectionArgs {
    /// Resolves the connection from these flags, `env` and the shared files.
    pub fn resolve(&self, env: Env<'_>) -> anyhow::Result<Connection> {
        let env_profile = env("AWS_PROFILE").filter(|p| !p.is_empty());
        let profile_name = self
            .profile
            .clone()
            .or(env_profile.clone())
            .unwrap_or_else(|| "default".to_owned());
        let home = env("HOME").map(PathBuf::from);
        let file = |var: &str, name: &str| {
            env(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
        };
        let config = match file("AWS_CONFIG_FILE", "config") {
            Some(path) => read_ini(&path)?,
            None => Ini::default(),
        };
        let credentials_file = match file("AWS_SHARED_CREDENTIALS_FILE", "credentials") {
            Some(path) => read_ini(&path)?,
            None => Ini::default(),
        };
        let config_section = if profile_name == "default" {
            "default".to_owned()
        } else {
            format!("profile {profile_name}")
        };
        let profile = config.sections.get(&config_section);
        let from_profile = |key: &str| profile.and_then(|p| p.get(key)).cloned();
        let named_profile = self.profile.is_some() || env_profile.is_some();

        let endpoint = self
            .endpoint_url
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_OMICS"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| {
                let services = from_profile("services")?;
                let omics = config
                    .sections
                    .get(&format!("services {services}"))?
                    .get("omics.endpoint_url")?;
                Some(omics.clone())
            })
            .or_else(|| from_profile("endpoint_url"))
            .filter(|e| !e.is_empty())
            .context(
                "no endpoint: set AWS_ENDPOINT_URL_OMICS (as `seqstore serve` prints it), \
                 --endpoint-url, or endpoint_url in the profile",
            )?;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            bail!("endpoint {endpoint:?} is not an http:// or https:// URL");
        }
        let region = self
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| from_profile("region"))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".to_owned());

        // As the AWS CLI: keys in the environment win unless a profile is named on the
        // command line.
        let from_env = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) if self.profile.is_none() => Some(Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
            }),
            _ => None,
        };
        let credentials = match from_env {
            Some(credentials) => credentials,
            None => {
                let section = credentials_file
                    .sections
                    .get(&profile_name)
                    .or(profile)
                    .filter(|s| s.contains_key("aws_access_key_id"));
                match section {
                    Some(s) => Credentials {
                        access_key_id: s["aws_access_key_id"].clone(),
                        secret_access_key: s.get("aws_secret_access_key").cloned().with_context(
                            || format!("profile {profile_name} has no aws_secret_access_key"),
                        )?,
                        session_token: s.get("aws_session_token").cloned(),
                    },
                    None if named_profile => {
                        bail!("profile {profile_name} has no aws_access_key_id")
                    }
                    None => bail!(
                        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                         or a profile in the shared credentials file (`seqstore keys create` \
                         prints one)"
                    ),
                }
            }
        };
        Ok(Connection {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region,
            credentials,
        })
    }
}

/// An INI file as the AWS CLI reads it: `[section]` headers, `key = value` lines, and
/// indented `key = value` lines under a key with an empty value (`services`' nested form,
/// stored as `parent.key`).
#[derive(Debug, Default)]
struct Ini {
    sections: HashMap<String, HashMap<String, String>>,
}

fn read_ini(path: &Path) -> anyhow::Result<Ini> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_ini(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ini::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn parse_ini(text: &str) -> Ini {
    let mut ini = Ini::default();
    let mut section: Option<String> = None;
    let mut parent: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            ini.sections.entry(name.clone()).or_default();
            section = Some(name);
            parent = None;
            continue;
        }
        let (Some(name), Some((key, value))) = (&section, trimmed.split_once('=')) else {
            continue;
        };
        let (key, value) = (key.trim().to_owned(), value.trim().to_owned());
        let entries = ini.sections.entry(name.clone()).or_default();
        let nested = line.starts_with(char::is_whitespace);
        match (&parent, nested) {
            (Some(p), true) => {
                entries.insert(format!("{p}.{key}"), value);
            }
            _ => {
                parent = value.is_empty().then(|| key.clone());
                entries.insert(key, value);
            }
        }
    }
    ini
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &ConnectionArgs, vars: &[(&str, &str)]) -> anyhow::Result<Connection> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        args.resolve(&|name| vars.get(name).cloned())
    }

    fn files(config: &str, credentials: &str) -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("config");
        let k = dir.path().join("credentials");
        std::fs::write(&c, config).unwrap();
        std::fs::write(&k, credentials).unwrap();
        let c = c.to_str().unwrap().to_owned();
        let k = k.to_str().unwrap().to_owned();
        (dir, c, k)
    }

    #[test]
    fn the_environment_gives_endpoint_keys_and_region() {
        let c = resolve(
            &ConnectionArgs::default(),
            &[
                ("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:8080/"),
                ("AWS_ENDPOINT_URL", "http://elsewhere"),
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
            ],
        )
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:8080");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.credentials.access_key_id, "AKID");
        assert!(c.credentials.session_token.is_none());
    }

    #[test]
    fn a_profile_reads_both_files_with_the_services_section() {
        let (_dir, config, credentials) = files(
            "[profile lab]\nregion = us-west-2\nservices = local\n\n[services local]\nomics =\n  endpoint_url = http://127.0.0.1:9999\n",
            "[default]\naws_access_key_id = D\naws_secret_access_key = d\n[lab]\naws_access_key_id = L\naws_secret_access_key = l\naws_session_token = t\n",
        );
        let args = ConnectionArgs {
            profile: Some("lab".into()),
            ..Default::default()
        };
        let c = resolve(
            &args,
            &[
                ("AWS_CONFIG_FILE", &config),
                ("AWS_SHARED_CREDENTIALS_FILE", &credentials),
                ("AWS_ACCESS_KEY_ID", "ENV"),
                ("AWS_SECRET_ACCESS_KEY", "env"),
            ],
        )
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:9999");
        assert_eq!(c.region, "us-west-2");
        assert_eq!(
            c.credentials.access_key_id, "L",
            "--profile beats the environment"
        );
        assert_eq!(c.credentials.session_token.as_deref(), Some("t"));
    }

    #[test]
    fn flags_beat_the_environment_and_missing_parts_are_named() {
        let (_dir, config, credentials) =
            files("[default]\nendpoint_url = http://from-profile\n", "");
        let vars = [
            ("AWS_CONFIG_FILE", config.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ];
        let err = resolve(&ConnectionArgs::default(), &vars).unwrap_err();
        assert!(err.to_string().starts_with("no credentials"), "{err}");
        let args = ConnectionArgs {
            endpoint_url: Some("https://flag".into()),
            region: Some("ap-south-1".into()),
            ..Default::default()
        };
        let mut with_keys = vars.to_vec();
        with_keys.extend([
            ("AWS_ACCESS_KEY_ID", "A"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-north-1"),
        ]);
        let c = resolve(&args, &with_keys).unwrap();
        assert_eq!(
            (c.endpoint.as_str(), c.region.as_str()),
            ("https://flag", "ap-south-1")
        );
        let c = resolve(&ConnectionArgs::default(), &with_keys).unwrap();
        assert_eq!(c.endpoint, "http://from-profile");
        let err = resolve(
            &ConnectionArgs {
                profile: Some("nope".into()),
                ..Default::default()
            },
            &with_keys,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no endpoint: set AWS_ENDPOINT_URL_OMICS (as `seqstore serve` prints it), --endpoint-url, or endpoint_url in the profile"
        );
        let err = resolve(
            &ConnectionArgs::default(),
            &[("AWS_ENDPOINT_URL", "ftp://x")],
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an http"), "{err}");
    }
}
