//! The one typed configuration: defaults, then a TOML file, then `SEQSTORE_*` environment
//! variables, then command-line flags. Unknown keys in the file are errors.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Effective configuration of a seqstore process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite catalog, local blobs and the generated credentials.
    pub data_dir: PathBuf,
    /// Address of the omics (rest-json) API.
    pub listen: SocketAddr,
    /// Address of the S3-compatible read endpoint.
    pub s3_listen: SocketAddr,
    /// Base domain of virtual-hosted-style S3 requests (`Host: ALIAS.<domain>`); path-style
    /// requests work whatever it is.
    pub s3_base_domain: String,
    /// Address of the GA4GH endpoint (htsget reads and refget sequences).
    pub ga4gh_listen: SocketAddr,
    /// Address of `/metrics`, `/healthz` and `/readyz` (no authentication).
    pub admin_listen: SocketAddr,
    /// `[ga4gh]`: the GA4GH endpoint.
    pub ga4gh: Ga4ghSection,
    /// Region this server answers for (SigV4 scope and ARNs).
    pub region: String,
    /// Partition in ARNs.
    pub partition: String,
    /// The 12-digit account of the root access key.
    #[serde(deserialize_with = "account_id")]
    pub account_id: String,
    /// The account shown as owner of the S3 access points.
    #[serde(deserialize_with = "account_id")]
    pub s3_access_point_account: String,
    /// Catalog URL (`sqlite://…` or `postgres://…`); default: `<data-dir>/catalog.db`.
    pub catalog: Option<String>,
    /// Root access key id; with the secret, replaces the generated credentials file.
    pub root_access_key_id: Option<String>,
    /// Root secret access key.
    pub root_secret_access_key: Option<String>,
    /// Log format: `text` or `json`.
    pub log_format: LogFormat,
    /// Where blobs are stored.
    pub blob: BlobSection,
    /// The user's buckets that import jobs read.
    pub sources: SourcesSection,
    /// The job engine.
    pub jobs: JobsSection,
    /// `[http]`: what a client connection may take of the server.
    pub http: HttpSection,
    /// `[uploads]`: multipart uploads.
    pub uploads: UploadsSection,
    /// `[lifecycle]`: archiving read sets nobody reads.
    pub lifecycle: LifecycleSection,
    /// This node's identity for job leases; default: generated once into
    /// `<data-dir>/node-id`. Must differ between nodes sharing a catalog.
    pub node_id: Option<String>,
}

/// `[sources]`: how import jobs reach the user's objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesSection {
    /// `[sources.s3]`.
    pub s3: S3SourcesSection,
    /// `[sources.local]`: directories `file:///…` sources may come from.
    #[serde(default)]
    pub local: LocalSourcesSection,
    /// `[[sources.grants]]`: the buckets each account may import from or fall back to.
    /// Without any, the server's own account may use every bucket and others none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantSection>,
}

/// `[sources.local]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSourcesSection {
    /// Absolute paths of directories; import jobs may read `file:///…` sources under them.
    #[serde(default)]
    pub roots: Vec<PathBuf>,
}

/// One `[[sources.grants]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSection {
    /// A 12-digit account id, or `*` for every account.
    pub account: String,
    /// Bucket names; `*` is any bucket.
    #[serde(default)]
    pub buckets: Vec<String>,
    /// Directories of `[sources.local] roots`; `*` is any of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<PathBuf>,
}

/// `[sources.s3]`: unset fields use the standard AWS environment variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3SourcesSection {
    /// Endpoint URL of an S3-compatible service (omit for AWS).
    pub endpoint: Option<String>,
    /// Region of the buckets.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Path-style requests (`true`), virtual-hosted (`false`); unset: path style when the
    /// endpoint's host is an IP address or `localhost`, as botocore decides.
    pub path_style: Option<bool>,
}

/// `[ga4gh]`: the htsget and refget endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ga4ghSection {
    /// Base of the URLs htsget tickets list (`https://reads.example.org`); unset: `http://`
    /// and the `Host` the client used.
    pub public_url: Option<String>,
    /// Seconds a ticket's URLs stay valid.
    pub ticket_seconds: u64,
}

impl Default for Ga4ghSection {
    fn default() -> Self {
        Self {
            public_url: None,
            ticket_seconds: 900,
        }
    }
}

/// `[jobs]`: the background job engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsSection {
    /// Jobs this node runs at the same time.
    pub workers: usize,
    /// Seconds a job claim lasts without renewal (a crashed node's jobs move after this).
    pub lease_seconds: u64,
}

impl Default for JobsSection {
    fn default() -> Self {
        Self {
            workers: 2,
            lease_seconds: 30,
        }
    }
}

/// `[http]`: limits on client connections, on both endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Seconds a request's headers, or the next request on an idle connection, may take.
    pub header_timeout_seconds: u64,
    /// Seconds an upload body may go without sending a byte before it is dropped.
    pub body_stall_seconds: u64,
    /// Connections open at once, per endpoint; more are closed as soon as they connect.
    pub max_connections: usize,
    /// Part uploads one account may run at once; more answer `ThrottlingException`.
    pub max_part_uploads_per_account: usize,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            header_timeout_seconds: 30,
            body_stall_seconds: 60,
            max_connections: 1024,
            max_part_uploads_per_account: 32,
        }
    }
}

/// `[uploads]`: multipart uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsSection {
    /// Seconds after its creation an upload not completed is aborted, its parts removed.
    pub expire_after_seconds: u64,
    /// Uploads this node ingests while their parts arrive, so that a read set is ACTIVE
    /// moments after Complete (`0`: every upload is ingested after Complete).
    pub early_ingests: usize,
}

impl Default for UploadsSection {
    fn default() -> Self {
        Self {
            expire_after_seconds: 7 * 24 * 60 * 60,
            early_ingests: 2,
        }
    }
}

/// `[lifecycle]`: read sets whose files nobody read for a while move to the archive tier,
/// packed smaller, until an activation job brings them back (spec D.4, E12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSection {
    /// How long a read set's files go unread (GetReadSet, S3 GetObject, export) before it
    /// is archived: `30d`, `12h`, `2s`; `0` never archives.
    pub archive_after: Period,
    /// How often the server looks for read sets to archive.
    pub scan_interval: Period,
    /// The archive directory of a local blob store; default `<data-dir>/archive`.
    pub archive_root: Option<PathBuf>,
    /// The archive bucket of an S3 blob store (same endpoint and credentials as `[blob]`);
    /// without it nothing is archived.
    pub archive_bucket: Option<String>,
    /// zstd level of archive copies, 1 (fast) to 22 (smallest).
    pub level: i32,
    /// Archive jobs this node runs at once, besides `jobs.workers` (`0`: this node does not
    /// archive).
    pub workers: usize,
}

impl Default for LifecycleSection {
    fn default() -> Self {
        Self {
            archive_after: Period(Duration::from_secs(30 * 24 * 60 * 60)),
            scan_interval: Period(Duration::from_secs(60 * 60)),
            archive_root: None,
            archive_bucket: None,
            level: 19,
            workers: 1,
        }
    }
}

/// A length of time written as a number and a unit: `90s`, `15m`, `12h`, `30d` (a bare
/// number is seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub Duration);

impl std::str::FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration like 30d, 12h, 15m or 90s"))?;
        let unit_seconds = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 60 * 60,
            "d" => 24 * 60 * 60,
            _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
        };
        n.checked_mul(unit_seconds)
            .map(|s| Self(Duration::from_secs(s)))
            .ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.as_secs();
        match s {
            0 => write!(f, "0"),
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            String(String),
            Number(u64),
        }
        match Text::deserialize(d)? {
            Text::String(s) => s.parse().map_err(serde::de::Error::custom),
            Text::Number(n) => Ok(Self(Duration::from_secs(n))),
        }
    }
}

/// `[blob]`: the local directory (default) or an S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobSection {
    /// `local` or `s3`.
    pub backend: BlobBackend,
    /// Local root; default `<data-dir>/blobs`.
    pub root: Option<PathBuf>,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// S3 endpoint URL (omit for AWS).
    pub endpoint: Option<String>,
    /// S3 region; default: the server's region.
    pub region: Option<String>,
    /// Path-style addressing.
    pub path_style: bool,
    /// S3 access key id; default: the standard AWS environment variables.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// A local store refuses new parts while its volume has fewer bytes free than this.
    pub min_free_bytes: u64,
}

impl Default for BlobSection {
    fn default() -> Self {
        Self {
            backend: BlobBackend::Local,
            root: None,
            bucket: None,
            endpoint: None,
            region: None,
            path_style: false,
            access_key_id: None,
            secret_access_key: None,
            min_free_bytes: 1 << 30,
        }
    }
}

/// Blob backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobBackend {
    /// Local file system.
    #[default]
    Local,
    /// S3-compatible object store.
    S3,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./seqstore-data"),
            listen: ([127, 0, 0, 1], 8080).into(),
            s3_listen: ([127, 0, 0, 1], 9000).into(),
            s3_base_domain: "localhost".into(),
            ga4gh_listen: ([127, 0, 0, 1], 8090).into(),
            admin_listen: ([127, 0, 0, 1], 8091).into(),
            ga4gh: Ga4ghSection::default(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            account_id: "123456789012".into(),
            s3_access_point_account: "999999999999".into(),
            catalog: None,
            root_access_key_id: None,
            root_secret_access_key: None,
            log_format: LogFormat::Text,
            blob: BlobSection::default(),
            sources: SourcesSection::default(),
            jobs: JobsSection::default(),
            http: HttpSection::default(),
            uploads: UploadsSection::default(),
            lifecycle: LifecycleSection::default(),
            node_id: None,
        }
    }
}

/// Top-level keys, as `SEQSTORE_<KEY>` variables (nested: `SEQSTORE_BLOB__BUCKET`).
pub(crate) const ENV_KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "s3_listen",
    "s3_base_domain",
    "ga4gh_listen",
    "admin_listen",
    "ga4gh",
    "region",
    "partition",
    "account_id",
    "s3_access_point_account",
    "catalog",
    "root_access_key_id",
    "root_secret_access_key",
    "log_format",
    "blob",
    "sources",
    "jobs",
    "http",
    "uploads",
    "lifecycle",
    "node_id",
];

impl Config {
    /// Layers defaults, `file`, the environment and `flags` (a partial config).
    pub fn load(file: Option<&Path>, flags: &impl Serialize) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Other SEQSTORE_* variables (test harness settings, typos) are not config keys:
        // they are reported at start-up rather than refused.
        let env = Env::prefixed("SEQSTORE_").split("__").filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            ENV_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
        });
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let twelve_digits = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
        if !twelve_digits(&self.account_id) {
            return Err(ConfigError(format!(
                "account_id {:?} is not a 12-digit account id",
                self.account_id
            )));
        }
        if !twelve_digits(&self.s3_access_point_account) {
            return Err(ConfigError(format!(
                "s3_access_point_account {:?} is not a 12-digit account id",
                self.s3_access_point_account
            )));
        }
        if self.root_access_key_id.is_some() != self.root_secret_access_key.is_some() {
            return Err(ConfigError(
                "set both root_access_key_id and root_secret_access_key, or neither".into(),
            ));
        }
        if let Some(url) = &self.ga4gh.public_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.contains(['?', '#', ' ']) {
                return Err(ConfigError(format!(
                    "ga4gh.public_url {url:?} must be an http:// or https:// URL without query"
                )));
            }
        }
        if !(1..=7 * 24 * 3600).contains(&self.ga4gh.ticket_seconds) {
            return Err(ConfigError(
                "ga4gh.ticket_seconds must be from 1 to 604800 (a week)".into(),
            ));
        }
        if self.jobs.lease_seconds < 3 {
            return Err(ConfigError("jobs.lease_seconds must be at least 3".into()));
        }
        let http = &self.http;
        if http.header_timeout_seconds == 0
            || http.body_stall_seconds == 0
            || http.max_connections == 0
            || http.max_part_uploads_per_account == 0
        {
            return Err(ConfigError(
                "http.header_timeout_seconds, http.body_stall_seconds, http.max_connections and \
                 http.max_part_uploads_per_account must be at least 1"
                    .into(),
            ));
        }
        if self.uploads.expire_after_seconds == 0 {
            return Err(ConfigError(
                "uploads.expire_after_seconds must be at least 1".into(),
            ));
        }
        if let Some(endpoint) = &self.sources.s3.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError(format!(
                "sources.s3.endpoint {endpoint:?} is not an http:// or https:// URL"
            )));
        }
        for grant in &self.sources.grants {
            if grant.account != "*" && !twelve_digits(&grant.account) {
                return Err(ConfigError(format!(
                    "sources.grants account {:?} is neither a 12-digit account id nor \"*\"",
                    grant.account
                )));
            }
            let bucket_name = |b: &str| {
                b == "*" || seqstore_blob::bucket_of(&format!("s3://{b}")).is_some_and(|n| n == b)
            };
            let none = grant.buckets.is_empty() && grant.roots.is_empty();
            if none || !grant.buckets.iter().all(|b| bucket_name(b)) {
                return Err(ConfigError(format!(
                    "sources.grants of account {:?}: buckets must be bucket names or \"*\", \
                     and a grant names at least one bucket or root",
                    grant.account
                )));
            }
            let local = &self.sources.local.roots;
            if let Some(root) = grant
                .roots
                .iter()
                .find(|r| r.as_os_str() != "*" && !local.contains(r))
            {
                return Err(ConfigError(format!(
                    "sources.grants of account {:?}: root {} is not in sources.local.roots",
                    grant.account,
                    root.display()
                )));
            }
        }
        if self.blob.backend == BlobBackend::S3
            && self.lifecycle.archive_bucket.is_some()
            && self.lifecycle.archive_bucket == self.blob.bucket
        {
            // Both tiers lay files out under the same keys: an archive copy would replace the
            // file it copies.
            return Err(ConfigError(
                "lifecycle.archive_bucket must be another bucket than blob.bucket".into(),
            ));
        }
        if !(1..=22).contains(&self.lifecycle.level) {
            return Err(ConfigError("lifecycle.level must be 1 to 22".into()));
        }
        if self.lifecycle.scan_interval.0.is_zero() {
            return Err(ConfigError(
                "lifecycle.scan_interval must be at least 1s".into(),
            ));
        }
        if self.blob.backend == BlobBackend::S3 && self.blob.bucket.is_none() {
            return Err(ConfigError(
                "blob.backend = \"s3\" needs blob.bucket".into(),
            ));
        }
        Ok(())
    }

    /// The `[[sources.grants]]` in the domain's terms.
    pub fn bucket_grants(&self) -> seqstore_core::BucketGrants {
        let grants = self
            .sources
            .grants
            .iter()
            .map(|g| seqstore_core::BucketGrant {
                account: (g.account != "*").then(|| g.account.as_str().into()),
                buckets: g.buckets.clone(),
                roots: g.roots.clone(),
            });
        seqstore_core::BucketGrants {
            owner: self.account_id.as_str().into(),
            grants: grants.collect(),
        }
    }

    /// The catalog URL in force.
    pub fn catalog_url(&self) -> String {
        self.catalog.clone().unwrap_or_else(|| {
            seqstore_catalog::SqlCatalog::sqlite_url(&self.data_dir.join("catalog.db"))
        })
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        let redact = |s: &mut Option<String>| {
            if s.is_some() {
                *s = Some("<redacted>".into());
            }
        };
        redact(&mut shown.root_secret_access_key);
        redact(&mut shown.blob.secret_access_key);
        redact(&mut shown.sources.s3.secret_access_key);
        for url in [
            &mut shown.catalog,
            &mut shown.blob.endpoint,
            &mut shown.sources.s3.endpoint,
        ] {
            *url = url.as_deref().map(redact_url_password);
        }
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot render config: {e}"))
    }
}

/// A URL with the password of its user info (`scheme://user:password@host`) and of a
/// `password=` query parameter redacted.
fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:<redacted>@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                        format!("{k}=<redacted>")
                    }
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Account ids are text, but environment variables and unquoted TOML give numbers:
/// accept both. A number with fewer than 12 digits is refused: an id with leading zeros
/// must be quoted (`SEQSTORE_ACCOUNT_ID='"012345678901"'`).
fn account_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        String(String),
        Number(u64),
    }
    Ok(match Text::deserialize(d)? {
        Text::String(s) => s,
        Text::Number(n) if (100_000_000_000..1_000_000_000_000).contains(&n) => n.to_string(),
        Text::Number(n) => {
            return Err(serde::de::Error::custom(format!(
                "account id {n} is not 12 digits (quote ids with leading zeros)"
            )));
        }
    })
}

/// An unusable configuration, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_redacted() {
        for (url, shown) in [
            (
                "postgres://seq:s3cret@db:5432/seqstore",
                "postgres://seq:<redacted>@db:5432/seqstore",
            ),
            (
                "postgresql://seq:p%40ss@db/x?sslmode=require&password=two",
                "postgresql://seq:<redacted>@db/x?sslmode=require&password=<redacted>",
            ),
            ("postgres://seq@db/x", "postgres://seq@db/x"),
            (
                "sqlite:///var/lib/seqstore/catalog.db?mode=rwc",
                "sqlite:///var/lib/seqstore/catalog.db?mode=rwc",
            ),
            (
                "http://user:pw@127.0.0.1:9000",
                "http://user:<redacted>@127.0.0.1:9000",
            ),
        ] {
            assert_eq!(redact_url_password(url), shown);
        }
    }

    #[derive(Serialize)]
    struct Flags {
        #[serde(skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn layers_apply_in_order_and_unknown_file_keys_fail() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a.toml",
                "region = \"eu-west-1\"\naccount_id = \"111122223333\"\n[blob]\nroot = \"/b\"\n",
            )?;
            jail.set_env("SEQSTORE_ACCOUNT_ID", "444455556666");
            jail.set_env("SEQSTORE_BIN", "ignored");
            let c = Config::load(Some(Path::new("a.toml")), &Flags { region: None }).unwrap();
            assert_eq!(
                (c.region.as_str(), c.account_id.as_str()),
                ("eu-west-1", "444455556666")
            );
            assert_eq!(c.blob.root.as_deref(), Some(Path::new("/b")));
            let c = Config::load(
                Some(Path::new("a.toml")),
                &Flags {
                    region: Some("ap-south-1".into()),
                },
            )
            .unwrap();
            assert_eq!(c.region, "ap-south-1", "flags win");

            jail.create_file("bad.toml", "regoin = \"x\"\n")?;
            let err =
                Config::load(Some(Path::new("bad.toml")), &Flags { region: None }).unwrap_err();
            assert!(err.to_string().contains("regoin"), "{err}");
            jail.set_env("SEQSTORE_ACCOUNT_ID", "12");
            assert!(Config::load(None, &Flags { region: None }).is_err());
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn grants_name_accounts_and_bucket_names() {
        figment::Jail::expect_with(|jail| {
            let load = |text: &str| {
                std::fs::write("g.toml", text).unwrap();
                Config::load(Some(Path::new("g.toml")), &Flags { region: None })
            };
            let c = load(
                "[[sources.grants]]\naccount = \"111122223333\"\nbuckets = [\"lab\", \"*\"]\n\
                 [[sources.grants]]\naccount = \"*\"\nbuckets = [\"shared.v2\"]\n",
            )
            .unwrap();
            let grants = c.bucket_grants();
            assert_eq!(grants.grants.len(), 2);
            assert!(grants.allows(&"999988887777".into(), "shared.v2"));
            assert!(!grants.allows(&"999988887777".into(), "lab"));
            for bad in [
                "[[sources.grants]]\naccount = \"12\"\nbuckets = [\"lab\"]\n",
                "[[sources.grants]]\naccount = \"*\"\nbuckets = []\n",
                "[[sources.grants]]\naccount = \"*\"\nbuckets = [\"a/b\"]\n",
            ] {
                let err = load(bad).unwrap_err().to_string();
                assert!(err.contains("sources.grants"), "{bad}: {err}");
            }
            let _ = jail;
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn source_path_style_is_auto_unless_set() {
        figment::Jail::expect_with(|jail| {
            let load = || Config::load(None, &Flags { region: None });
            jail.set_env("SEQSTORE_SOURCES__S3__ENDPOINT", "http://127.0.0.1:9000");
            assert_eq!(load().unwrap().sources.s3.path_style, None);
            jail.set_env("SEQSTORE_SOURCES__S3__PATH_STYLE", "true");
            assert_eq!(load().unwrap().sources.s3.path_style, Some(true));
            jail.set_env("SEQSTORE_SOURCES__S3__PATH_STYLE", "false");
            assert_eq!(load().unwrap().sources.s3.path_style, Some(false));
            jail.set_env("SEQSTORE_SOURCES__S3__ENDPOINT", "127.0.0.1:9000");
            let err = load().unwrap_err().to_string();
            assert!(err.contains("sources.s3.endpoint"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn the_archive_bucket_is_not_the_blob_bucket() {
        figment::Jail::expect_with(|jail| {
            let load = || Config::load(None, &Flags { region: None });
            jail.set_env("SEQSTORE_BLOB__BACKEND", "s3");
            jail.set_env("SEQSTORE_BLOB__BUCKET", "blobs");
            jail.set_env("SEQSTORE_LIFECYCLE__ARCHIVE_BUCKET", "archive");
            assert!(load().is_ok());
            jail.set_env("SEQSTORE_LIFECYCLE__ARCHIVE_BUCKET", "blobs");
            let err = load().unwrap_err().to_string();
            assert!(err.contains("lifecycle.archive_bucket"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn redacts_secrets() {
        let c = Config {
            root_access_key_id: Some("AK".into()),
            root_secret_access_key: Some("s3cret".into()),
            ..Config::default()
        };
        let text = c.to_redacted_toml();
        assert!(
            !text.contains("s3cret") && text.contains("<redacted>"),
            "{text}"
        );
    }
}
