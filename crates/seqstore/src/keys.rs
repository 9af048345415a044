//! `seqstore keys create|list|delete`: the access keys that sign requests.

use crate::config::Config;
use crate::credentials::{KeyPair, render_profile};
use anyhow::Context;
use seqstore_core::catalog::prelude::*;
use seqstore_core::catalog::{AccessKeyRecord, CatalogError};

/// Creates a key for `config.account_id` (and `user`) and prints it as
/// `[seqstore-<account>]` (`[seqstore-<account>-<user>]`).
pub async fn create(config: &Config, user: Option<&str>) -> anyhow::Result<()> {
    check_user(user)?;
    let catalog = crate::data_dir::open_catalog(config).await?;
    let (id, secret) = seqstore_core::new_access_key();
    catalog
        .insert_access_key(&AccessKeyRecord {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            account_id: config.account_id.clone().into(),
            user_name: user.map(str::to_owned),
            created_at: seqstore_core::Timestamp::now(),
        })
        .await
        .context("storing the access key")?;
    print!(
        "{}",
        render_profile(
            &match user {
                Some(name) => format!("seqstore-{}-{name}", config.account_id),
                None => format!("seqstore-{}", config.account_id),
            },
            &KeyPair { id, secret }
        )
    );
    Ok(())
}

/// Refuses a `--user` that is not an IAM user name.
pub fn check_user(user: Option<&str>) -> anyhow::Result<()> {
    if let Some(name) = user {
        anyhow::ensure!(
            !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
            "--user {name:?}: use 1 to 64 of A-Z a-z 0-9 + = , . @ _ - (IAM user name rules)"
        );
    }
    Ok(())
}

/// Prints every access key, oldest first: id, account, user, creation time.
pub async fn list(config: &Config) -> anyhow::Result<()> {
    let keys = crate::data_dir::open_catalog(config)
        .await?
        .access_keys()
        .await?;
    println!("ACCESS_KEY_ID\tACCOUNT\tUSER\tCREATED");
    for k in keys {
        let created = chrono::DateTime::<chrono::Utc>::from(k.created_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let user = k.user_name.as_deref().unwrap_or("-");
        println!("{}\t{}\t{user}\t{created}", k.access_key_id, k.account_id);
    }
    Ok(())
}

/// Deletes an access key; a running server stops accepting it within 2 seconds.
pub async fn delete(config: &Config, access_key_id: &str) -> anyhow::Result<()> {
    match crate::data_dir::open_catalog(config)
        .await?
        .delete_access_key(access_key_id)
        .await
    {
        Ok(()) => {
            eprintln!("deleted access key {access_key_id}");
            Ok(())
        }
        Err(CatalogError::NotFound(_)) => anyhow::bail!("no access key {access_key_id}"),
        Err(e) => Err(e).context("deleting the access key"),
    }
}
