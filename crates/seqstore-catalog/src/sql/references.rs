//! References (genomes) of reference stores.

use super::Db;
use super::SqlCatalog;
use super::rows::{self, Arg, Select};
use super::tags::{delete_all_tags, target};
use async_trait::async_trait;
use seqstore_core::catalog::{
    CatalogError, ListCursor, ReferenceFilter, ReferenceRecord, References, ResourceKind, Result,
};
use seqstore_core::ids::{AccountId, ReferenceId, StoreId};

#[async_trait]
impl References for SqlCatalog {
    async fn reference(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
    ) -> Result<Option<ReferenceRecord>> {
        rows::one(
            self.pool(),
            "account_id = $1 AND reference_store_id = $2 AND id = $3",
            &[account_id.as_str(), store_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn list_references(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        f: &ReferenceFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::from(account_id.as_str()));
        q.cmp("reference_store_id", "=", Arg::from(store_id.as_str()));
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("md5", "=", &f.md5);
        q.cmp_opt("created_at", ">=", &f.created_after);
        q.cmp_opt("created_at", "<=", &f.created_before);
        q.after(after);
        q.page(self.pool(), limit).await
    }

    async fn delete_reference(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        id: &ReferenceId,
        arn: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let user = sqlx::query(
            "SELECT id FROM read_sets WHERE reference_arn = $1 AND status <> 'DELETED' \
             UNION ALL SELECT id FROM uploads WHERE reference_arn = $1 AND status = 'IN_PROGRESS' LIMIT 1",
        )
        .bind(arn)
        .fetch_optional(&mut *tx)
        .await.db()?;
        if user.is_some() {
            return Err(CatalogError::NotEmpty("reference"));
        }
        let done = sqlx::query(
            "DELETE FROM genome_references WHERE account_id = $1 AND reference_store_id = $2 AND id = $3",
        )
        .bind(account_id.as_str())
        .bind(store_id.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("reference"));
        }
        sqlx::query("DELETE FROM reference_sequences WHERE reference_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        delete_all_tags(&mut tx, &target(account_id, ResourceKind::Reference, id)).await?;
        tx.commit().await.db()?;
        Ok(())
    }
}
