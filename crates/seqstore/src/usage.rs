//! `seqstore usage`: per account and sequence store, read sets by status, the bytes each
//! tier holds, and what archiving saves.

use seqstore_core::catalog::UsageRow;
use seqstore_core::catalog::prelude::*;
use seqstore_core::vocabulary::ReadSetStatus;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::config::Config;

/// What one store holds.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreUsage {
    account_id: String,
    sequence_store_id: String,
    /// Read sets by status.
    read_sets: BTreeMap<String, i64>,
    /// Bytes of ACTIVE read sets' files (the active tier).
    active_bytes: i64,
    /// Bytes the ARCHIVED (and ACTIVATING) read sets' files have when active.
    archived_bytes: i64,
    /// Bytes of their archive copies (the archive tier).
    archive_bytes: i64,
    /// `archived_bytes - archive_bytes`.
    saved_bytes: i64,
}

impl StoreUsage {
    fn add(&mut self, row: &UsageRow) {
        *self.read_sets.entry(row.status.to_string()).or_default() += row.read_sets;
        match row.status {
            ReadSetStatus::Active => self.active_bytes += row.bytes,
            ReadSetStatus::Archived | ReadSetStatus::Activating => {
                self.archived_bytes += row.bytes;
                self.archive_bytes += row.archive_bytes;
            }
            _ => {}
        }
        self.saved_bytes = self.archived_bytes - self.archive_bytes;
    }
}

/// Prints the usage as a table or JSON.
pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let catalog = crate::data_dir::open_catalog(config).await?;
    let mut stores: BTreeMap<(String, String), StoreUsage> = BTreeMap::new();
    let mut total = StoreUsage {
        account_id: "*".into(),
        sequence_store_id: "*".into(),
        ..StoreUsage::default()
    };
    for row in catalog.usage().await? {
        let key = (row.account_id.to_string(), row.store_id.to_string());
        let store = stores.entry(key.clone()).or_insert_with(|| StoreUsage {
            account_id: key.0,
            sequence_store_id: key.1,
            ..StoreUsage::default()
        });
        store.add(&row);
        total.add(&row);
    }
    let stores: Vec<StoreUsage> = stores.into_values().collect();
    if json {
        let report = serde_json::json!({ "stores": stores, "total": total });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("account\tstore\tread sets\tactive bytes\tarchived bytes\tarchive bytes\tsaved");
    for s in stores.iter().chain(std::iter::once(&total)) {
        let counts: Vec<String> = s
            .read_sets
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.account_id,
            s.sequence_store_id,
            if counts.is_empty() {
                "-".to_owned()
            } else {
                counts.join(",")
            },
            s.active_bytes,
            s.archived_bytes,
            s.archive_bytes,
            saving(s),
        );
    }
    Ok(())
}

/// The saving as bytes and as a share of the archived bytes.
fn saving(s: &StoreUsage) -> String {
    if s.archived_bytes == 0 {
        return "0".into();
    }
    let share = 100.0 * s.saved_bytes as f64 / s.archived_bytes as f64;
    format!("{} ({share:.1}%)", s.saved_bytes)
}
