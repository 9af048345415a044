//! Sequence stores.

use super::Db;
use super::rows::{self, Arg, Select, Table};
use super::tags::{delete_all_tags, target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_core::catalog::{
    Busy, CatalogError, IdempotencyRecord, ListCursor, ResourceKind, Result, SequenceStoreFilter,
    SequenceStoreRecord, SequenceStores,
};
use seqstore_core::ids::{AccountId, StoreId};
use std::collections::BTreeMap;

#[async_trait]
impl SequenceStores for SqlCatalog {
    async fn create_sequence_store(
        &self,
        s: &SequenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(record) = idempotency {
            record_idempotency(&mut tx, record).await?;
        }
        id_unused_by(&mut tx, "reference_stores", &s.id).await?;
        s.bind(sqlx::query(&SequenceStoreRecord::insert()))
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("sequence store id or alias")))?;
        upsert_tags(
            &mut tx,
            &target(&s.account_id, ResourceKind::SequenceStore, &s.id),
            tags,
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn sequence_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<Option<SequenceStoreRecord>> {
        rows::one(
            self.pool(),
            "account_id = $1 AND id = $2",
            &[account_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn list_sequence_stores(
        &self,
        account_id: &AccountId,
        f: &SequenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<SequenceStoreRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("status", "=", &f.status.map(|s| s.as_str()));
        q.cmp_opt("created_at", ">=", &f.created_after);
        q.cmp_opt("created_at", "<=", &f.created_before);
        q.cmp_opt("updated_at", ">=", &f.updated_after);
        q.cmp_opt("updated_at", "<=", &f.updated_before);
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn update_sequence_store(
        &self,
        s: &SequenceStoreRecord,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(record) = idempotency {
            record_idempotency(&mut tx, record).await?;
        }
        let done = sqlx::query(
            "UPDATE sequence_stores SET name = $1, description = $2, fallback_location = $3, \
             status = $4, status_message = $5, propagated_set_level_tags = $6, \
             access_log_location = $7, updated_at = $8 WHERE account_id = $9 AND id = $10",
        )
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.fallback_location)
        .bind(s.status.as_str())
        .bind(&s.status_message)
        .bind(json_list(&s.propagated_set_level_tags))
        .bind(&s.access_log_location)
        .bind(s.updated_at.millis())
        .bind(s.account_id.as_str())
        .bind(s.id.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("sequence store"));
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn delete_sequence_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let child = sqlx::query(
            "SELECT id FROM read_sets WHERE account_id = $1 AND sequence_store_id = $2 \
             AND status <> 'DELETED' LIMIT 1",
        )
        .bind(account_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if child.is_some() {
            return Err(CatalogError::NotEmpty("sequence store"));
        }
        nothing_in_flight(&mut tx, account_id, id, true).await?;
        let done = sqlx::query("DELETE FROM sequence_stores WHERE account_id = $1 AND id = $2")
            .bind(account_id.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("sequence store"));
        }
        delete_all_tags(
            &mut tx,
            &target(account_id, ResourceKind::SequenceStore, id),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }
}

fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// Sequence and reference stores share one id space: an id names one access point
/// (`<account>-<storeId>`). A clash is [`CatalogError::AlreadyExists`], so the caller draws
/// another id.
pub(crate) async fn id_unused_by(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    other_table: &str,
    id: &StoreId,
) -> Result<()> {
    let taken = sqlx::query(&format!("SELECT id FROM {other_table} WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    match taken {
        Some(_) => Err(CatalogError::AlreadyExists("store id")),
        None => Ok(()),
    }
}

/// Refuses to delete a store that a job (and, with `uploads`, an upload) still works on:
/// [`CatalogError::InFlight`] names the oldest.
pub(crate) async fn nothing_in_flight(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: &AccountId,
    store_id: &StoreId,
    uploads: bool,
) -> Result<()> {
    let first = |sql| {
        sqlx::query_scalar::<_, String>(sql)
            .bind(account_id.as_str())
            .bind(store_id.as_str())
    };
    let job = first(
        "SELECT id FROM jobs WHERE account_id = $1 AND store_id = $2 \
         AND status IN ('SUBMITTED', 'IN_PROGRESS', 'CANCELLING') ORDER BY created_at, id LIMIT 1",
    );
    if let Some(id) = job.fetch_optional(&mut **tx).await.db()? {
        return Err(CatalogError::InFlight(Busy::Job(id.into())));
    }
    if uploads {
        let upload = first(
            "SELECT id FROM uploads WHERE account_id = $1 AND sequence_store_id = $2 \
             AND status = 'IN_PROGRESS' ORDER BY created_at, id LIMIT 1",
        );
        if let Some(id) = upload.fetch_optional(&mut **tx).await.db()? {
            return Err(CatalogError::InFlight(Busy::Upload(id.into())));
        }
    }
    Ok(())
}
