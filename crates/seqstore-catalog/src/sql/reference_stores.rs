//! Reference stores.

use super::Db;
use super::rows::{self, Arg, Select, Table};
use super::tags::{delete_all_tags, target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_core::catalog::{
    CatalogError, IdempotencyRecord, ListCursor, ReferenceStoreFilter, ReferenceStoreRecord,
    ReferenceStores, ResourceKind, Result,
};
use seqstore_core::ids::{AccountId, StoreId};
use std::collections::BTreeMap;

#[async_trait]
impl ReferenceStores for SqlCatalog {
    async fn create_reference_store(
        &self,
        s: &ReferenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(record) = idempotency {
            record_idempotency(&mut tx, record).await?;
        }
        let existing = sqlx::query("SELECT id FROM reference_stores WHERE account_id = $1")
            .bind(s.account_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if existing.is_some() {
            return Err(CatalogError::QuotaExceeded(
                "one reference store per account",
            ));
        }
        super::sequence_stores::id_unused_by(&mut tx, "sequence_stores", &s.id).await?;
        s.bind(sqlx::query(&ReferenceStoreRecord::insert()))
            .execute(&mut *tx)
            .await
            // A concurrent create for the same account also lands here: the account column is
            // unique, so the quota holds even then.
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("reference store")))?;
        upsert_tags(
            &mut tx,
            &target(&s.account_id, ResourceKind::ReferenceStore, &s.id),
            tags,
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn reference_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<Option<ReferenceStoreRecord>> {
        rows::one(
            self.pool(),
            "account_id = $1 AND id = $2",
            &[account_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn list_reference_stores(
        &self,
        account_id: &AccountId,
        f: &ReferenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceStoreRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("created_at", ">=", &f.created_after);
        q.cmp_opt("created_at", "<=", &f.created_before);
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn delete_reference_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let child = sqlx::query("SELECT id FROM genome_references WHERE account_id = $1 AND reference_store_id = $2 LIMIT 1")
            .bind(account_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await.db()?;
        if child.is_some() {
            return Err(CatalogError::NotEmpty("reference store"));
        }
        super::sequence_stores::nothing_in_flight(&mut tx, account_id, id, false).await?;
        let done = sqlx::query("DELETE FROM reference_stores WHERE account_id = $1 AND id = $2")
            .bind(account_id.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("reference store"));
        }
        delete_all_tags(
            &mut tx,
            &target(account_id, ResourceKind::ReferenceStore, id),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }
}
