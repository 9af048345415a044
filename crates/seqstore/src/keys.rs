//! `seqstore keys create`: a new access key for an account, printed once.

use crate::config::Config;
use crate::credentials::{KeyPair, render_profile};
use anyhow::Context;
use seqstore_catalog::SqlCatalog;
use seqstore_core::catalog::AccessKeyRecord;
use seqstore_core::catalog::prelude::*;

/// Creates a key for `config.account_id` (and `user`) and prints it as
/// `[seqstore-<account>]` (`[seqstore-<account>-<user>]`).
pub async fn create(config: &Config, user: Option<&str>) -> anyhow::Result<()> {
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
    crate::data_dir::prepare(&config.data_dir)?;
    let catalog = SqlCatalog::connect(&config.catalog_url())
        .await
        .context("opening the catalog")?;
    crate::data_dir::secure_catalog(&config.catalog_url())?;
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
