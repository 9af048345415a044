//! Command-line interface: `serve`, `etag`, `fsck`, `usage`, `archive`, `keys` and `tokens` on
//! the server's side; `upload`, `download` and `ls` on a user's.

use crate::client::api::Api;
use crate::client::profile::ConnectionArgs;
use crate::config::Config;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Self-hosted, wire-compatible AWS HealthOmics storage.
#[derive(Debug, Parser)]
#[command(name = "seqstore", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address of the omics API [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address of the S3-compatible endpoint [default: 127.0.0.1:9000].
        #[arg(long)]
        s3_listen: Option<SocketAddr>,
        /// Address of the GA4GH endpoint, htsget and refget [default: 127.0.0.1:8090].
        #[arg(long)]
        ga4gh_listen: Option<SocketAddr>,
        /// Address of /metrics, /healthz and /readyz [default: 127.0.0.1:8091].
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        /// Print the effective configuration (secrets redacted) and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Print the ETag and read counts the store would report for local files.
    Etag {
        /// The source (FASTQ: also a second file for paired reads).
        #[arg(required = true, num_args = 1..=2)]
        files: Vec<PathBuf>,
        /// The declared source type.
        #[arg(long = "type", value_enum)]
        kind: crate::etag::FileTypeArg,
        /// The reference FASTA (CRAM).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// ETag family: MD5up, SHA256up or SHA512up.
        #[arg(long, default_value = "MD5up")]
        family: String,
    },
    /// Check the catalog against the stored files: missing or damaged files, orphans.
    /// Exit status 0 when clean, 1 when it found problems.
    Fsck {
        #[command(flatten)]
        common: Common,
        /// Also recompute every read set's HealthOmics ETags (reads and parses every file).
        #[arg(long)]
        verify: bool,
        /// Remove orphans and staging left by interrupted work; mark read sets whose files
        /// are missing or damaged UPLOAD_FAILED so that they are not served (their files
        /// are then removed).
        #[arg(long)]
        repair: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Objects written less than this many seconds ago are not judged: on a running
        /// server they may belong to work in flight.
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        min_age: u64,
    },
    /// Read sets per account and store by status, bytes in the active and archive tiers,
    /// and what archiving saves.
    Usage {
        #[command(flatten)]
        common: Common,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pack a file as the archive tier stores it, or restore one from its archive copy.
    Archive {
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// Manage access keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage bearer tokens for the GA4GH endpoint (htsget, refget).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Upload a read set: parts in parallel, resumable, its ETag checked against the server's.
    Upload {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(flatten)]
        args: crate::client::upload::UploadArgs,
    },
    /// Download a read set's files in parallel parts and check their ETags.
    Download {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(flatten)]
        args: crate::client::download::DownloadArgs,
    },
    /// List sequence stores, a store's read sets or uploads, reference stores or references.
    Ls {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(flatten)]
        args: crate::client::ls::LsArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Create a token acting as an account (or one of its users) and print it once.
    Create {
        #[command(flatten)]
        common: Common,
        /// Act as `arn:<partition>:iam::<account>:user/<NAME>` instead of the account root.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Lifetime: a number and a unit, s, m, h or d (`30d`); without it the token lives
        /// until deleted.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List the tokens (ids, accounts, users, creation and expiry; never secrets).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Delete a token: it is refused from the next request on.
    Delete {
        #[command(flatten)]
        common: Common,
        /// The token's id (the part between `sqt_` and the second `_`).
        #[arg(value_name = "TOKEN_ID")]
        token_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ArchiveCommand {
    /// Pack FILE into OUT (gzip/BGZF members re-encoded, the rest zstd'd as it is).
    Pack {
        /// The file.
        file: PathBuf,
        /// Where the archive copy goes.
        out: PathBuf,
        /// zstd level, 1 to 22.
        #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(i32).range(1..=22))]
        level: i32,
    },
    /// Restore the original bytes of an archive copy (a file under the archive tier).
    Unpack {
        /// The archive copy.
        file: PathBuf,
        /// Where the original bytes go.
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an access key for an account and print it as a credentials-file profile.
    Create {
        #[command(flatten)]
        common: Common,
        /// Give the key its own principal, `arn:<partition>:iam::<account>:user/<NAME>`, that
        /// S3 access policies can name; without it the key acts as the account root.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// List the access keys (ids, accounts, users and creation times; never secrets).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Delete an access key: a running server refuses it within 2 seconds.
    Delete {
        #[command(flatten)]
        common: Common,
        /// The key's id (`aws_access_key_id`).
        #[arg(value_name = "ACCESS_KEY_ID")]
        access_key_id: String,
    },
}

/// Flags shared by every command that opens the catalog.
#[derive(Debug, Args)]
struct Common {
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory [default: ./seqstore-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Region [default: us-east-1].
    #[arg(long)]
    region: Option<String>,
    /// Account id (serve: the root key's account; keys create: the new key's account).
    #[arg(long)]
    account_id: Option<String>,
    /// Catalog URL: sqlite://FILE or postgres://... [default: <data-dir>/catalog.db].
    #[arg(long)]
    catalog: Option<String>,
}

/// The flags that override configuration keys; absent flags leave the keys alone.
#[derive(Debug, Default, Serialize)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3_listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ga4gh_listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_listen: Option<SocketAddr>,
}

/// The addresses `serve` may be told to listen on.
#[derive(Debug, Default)]
struct Listeners {
    listen: Option<SocketAddr>,
    s3_listen: Option<SocketAddr>,
    ga4gh_listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
}

impl Common {
    fn load(self, listeners: Listeners) -> anyhow::Result<Config> {
        let overrides = Overrides {
            data_dir: self.data_dir,
            region: self.region,
            account_id: self.account_id,
            catalog: self.catalog,
            listen: listeners.listen,
            s3_listen: listeners.s3_listen,
            ga4gh_listen: listeners.ga4gh_listen,
            admin_listen: listeners.admin_listen,
        };
        Ok(Config::load(self.config.as_deref(), &overrides)?)
    }
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Serve {
                common,
                listen,
                s3_listen,
                ga4gh_listen,
                admin_listen,
                print_config,
            } => {
                let config = common.load(Listeners {
                    listen,
                    s3_listen,
                    ga4gh_listen,
                    admin_listen,
                })?;
                if print_config {
                    print!("{}", config.to_redacted_toml());
                    return Ok(ExitCode::SUCCESS);
                }
                crate::serve::run(config).await.map(|()| ExitCode::SUCCESS)
            }
            Command::Fsck {
                common,
                verify,
                repair,
                json,
                min_age,
            } => {
                let options = crate::fsck::Options {
                    verify,
                    repair,
                    json,
                    min_age: std::time::Duration::from_secs(min_age),
                };
                crate::fsck::run(&common.load(Listeners::default())?, options).await
            }
            Command::Etag {
                files,
                kind,
                reference,
                family,
            } => crate::etag::run(&files, kind, reference.as_deref(), &family)
                .map(|()| ExitCode::SUCCESS),
            Command::Usage { common, json } => {
                crate::usage::run(&common.load(Listeners::default())?, json)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            Command::Archive { command } => match command {
                ArchiveCommand::Pack { file, out, level } => {
                    crate::archive::pack_file(&file, &out, level)
                }
                ArchiveCommand::Unpack { file, out } => crate::archive::unpack_file(&file, &out),
            }
            .map(|()| ExitCode::SUCCESS),
            Command::Keys { command } => match command {
                KeysCommand::Create { common, user } => {
                    crate::keys::create(&common.load(Listeners::default())?, user.as_deref()).await
                }
                KeysCommand::List { common } => {
                    crate::keys::list(&common.load(Listeners::default())?).await
                }
                KeysCommand::Delete {
                    common,
                    access_key_id,
                } => crate::keys::delete(&common.load(Listeners::default())?, &access_key_id).await,
            }
            .map(|()| ExitCode::SUCCESS),
            Command::Tokens { command } => match command {
                TokensCommand::Create {
                    common,
                    user,
                    expires,
                } => {
                    let config = common.load(Listeners::default())?;
                    crate::tokens::create(&config, user.as_deref(), expires.as_deref()).await
                }
                TokensCommand::List { common } => {
                    crate::tokens::list(&common.load(Listeners::default())?).await
                }
                TokensCommand::Delete { common, token_id } => {
                    crate::tokens::delete(&common.load(Listeners::default())?, &token_id).await
                }
            }
            .map(|()| ExitCode::SUCCESS),
            Command::Upload { connection, args } => {
                { crate::client::upload::run(&api(&connection)?, args).await }
                    .map(|()| ExitCode::SUCCESS)
            }
            Command::Download { connection, args } => {
                { crate::client::download::run(&api(&connection)?, args).await }
                    .map(|()| ExitCode::SUCCESS)
            }
            Command::Ls { connection, args } => {
                { crate::client::ls::run(&api(&connection)?, args).await }
                    .map(|()| ExitCode::SUCCESS)
            }
        }
    }
}

/// A client of the endpoint the flags, the environment and the shared files name.
fn api(connection: &ConnectionArgs) -> anyhow::Result<Api> {
    Api::new(connection.resolve(&|name| std::env::var(name).ok())?)
}
