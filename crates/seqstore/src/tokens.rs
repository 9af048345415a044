//! `seqstore tokens create|list|delete`: bearer tokens for the GA4GH endpoint.

use std::time::Duration;

use crate::config::Config;
use anyhow::Context;
use seqstore_core::catalog::CatalogError;
use seqstore_core::catalog::prelude::*;
use seqstore_core::ids::TokenId;

/// Creates a token for `config.account_id` (and `user`) and prints it; it is not shown again.
pub async fn create(
    config: &Config,
    user: Option<&str>,
    expires: Option<&str>,
) -> anyhow::Result<()> {
    crate::keys::check_user(user)?;
    let lifetime = expires.map(lifetime).transpose()?;
    let catalog = crate::data_dir::open_catalog(config).await?;
    let issued = seqstore_core::ga4gh::create_token(
        &catalog,
        &config.account_id.clone().into(),
        user,
        lifetime,
    )
    .await
    .context("creating the token")?;
    println!("{}", issued.token);
    let until = match issued.record.expires_at {
        Some(at) => format!("until {}", time_text(at)),
        None => "until deleted".into(),
    };
    eprintln!(
        "token {} acts as account {}{}, {until}; send it as \"Authorization: Bearer TOKEN\"",
        issued.record.token_id,
        issued.record.account_id,
        user.map(|u| format!(" user {u}")).unwrap_or_default(),
    );
    Ok(())
}

/// Prints every token, oldest first: id, account, user, creation and expiry.
pub async fn list(config: &Config) -> anyhow::Result<()> {
    let tokens = crate::data_dir::open_catalog(config)
        .await?
        .bearer_tokens()
        .await?;
    println!("TOKEN_ID\tACCOUNT\tUSER\tCREATED\tEXPIRES");
    for t in tokens {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            t.token_id,
            t.account_id,
            t.user_name.as_deref().unwrap_or("-"),
            time_text(t.created_at),
            t.expires_at.map_or_else(|| "-".into(), time_text)
        );
    }
    Ok(())
}

/// Deletes a token; it is refused from the next request on.
pub async fn delete(config: &Config, token_id: &str) -> anyhow::Result<()> {
    match crate::data_dir::open_catalog(config)
        .await?
        .delete_bearer_token(&TokenId::from(token_id))
        .await
    {
        Ok(()) => {
            eprintln!("deleted token {token_id}");
            Ok(())
        }
        Err(CatalogError::NotFound(_)) => anyhow::bail!("no token {token_id}"),
        Err(e) => Err(e).context("deleting the token"),
    }
}

fn time_text(at: seqstore_core::Timestamp) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `30d`, `12h`, `15m`, `90s` (as the configuration's durations), from a second to ten years.
fn lifetime(text: &str) -> anyhow::Result<Duration> {
    let crate::config::Period(lifetime) = text
        .parse()
        .map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
    anyhow::ensure!(
        !lifetime.is_zero() && lifetime <= seqstore_core::ga4gh::MAX_TOKEN_LIFETIME,
        "--expires {text:?}: a token lives from one second to ten years"
    );
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_take_a_number_and_a_unit() {
        assert_eq!(lifetime("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(lifetime("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(lifetime("30").unwrap(), Duration::from_secs(30));
        for bad in ["", "d", "0s", "1w", "-1d", "99999999999999999999d", "4000d"] {
            assert!(lifetime(bad).is_err(), "{bad}");
        }
    }
}
