//! Reference stores.

use super::Db;
use super::rows::{self, Arg, REFERENCE_STORE_COLUMNS, Select};
use super::tags::{delete_all_tags, target, upsert_tags};
use super::{SqlCatalog, record_idempotency, unique_as};
use async_trait::async_trait;
use seqstore_core::catalog::{
    CatalogError, IdempotencyRecord, ListCursor, ReferenceStoreFilter, ReferenceStoreRecord,
    ReferenceStores, ResourceKind, Result,
};
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
            .bind(&s.account_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if existing.is_some() {
            return Err(CatalogError::QuotaExceeded(
                "one reference store per account",
            ));
        }
        super::sequence_stores::id_unused_by(&mut tx, "sequence_stores", &s.id).await?;
        sqlx::query(&format!(
            "INSERT INTO reference_stores ({REFERENCE_STORE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&s.id)
        .bind(&s.account_id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.sse_type)
        .bind(&s.sse_key_arn)
        .bind(&s.s3_access_point_alias)
        .bind(s.created_at_ms)
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
        account_id: &str,
        id: &str,
    ) -> Result<Option<ReferenceStoreRecord>> {
        sqlx::query(&format!(
            "SELECT {REFERENCE_STORE_COLUMNS} FROM reference_stores WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await.db()?
        .as_ref()
        .map(rows::reference_store)
        .transpose()
    }

    async fn list_reference_stores(
        &self,
        account_id: &str,
        f: &ReferenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceStoreRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::Text(account_id.to_owned()));
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("created_at", ">=", &f.created_after_ms);
        q.cmp_opt("created_at", "<=", &f.created_before_ms);
        q.after(after);
        let (sql, args) = q.page(REFERENCE_STORE_COLUMNS, "reference_stores", limit);
        rows::bind_all(sqlx::query(&sql), args)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(rows::reference_store)
            .collect()
    }

    async fn delete_reference_store(&self, account_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let child = sqlx::query("SELECT id FROM genome_references WHERE account_id = $1 AND reference_store_id = $2 LIMIT 1")
            .bind(account_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await.db()?;
        if child.is_some() {
            return Err(CatalogError::NotEmpty("reference store"));
        }
        let done = sqlx::query("DELETE FROM reference_stores WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
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
