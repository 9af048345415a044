//! References (genomes) of reference stores.

use super::Db;
use super::SqlCatalog;
use super::rows::{self, Arg, REFERENCE_COLUMNS, Select};
use super::tags::{delete_all_tags, target};
use async_trait::async_trait;
use seqstore_core::catalog::{
    CatalogError, ListCursor, ReferenceFilter, ReferenceRecord, References, ResourceKind, Result,
};

#[async_trait]
impl References for SqlCatalog {
    async fn reference(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
    ) -> Result<Option<ReferenceRecord>> {
        sqlx::query(&format!(
            "SELECT {REFERENCE_COLUMNS} FROM genome_references \
             WHERE account_id = $1 AND reference_store_id = $2 AND id = $3"
        ))
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .db()?
        .as_ref()
        .map(rows::reference)
        .transpose()
    }

    async fn list_references(
        &self,
        account_id: &str,
        store_id: &str,
        f: &ReferenceFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceRecord>> {
        let mut q = Select::default();
        q.cmp("account_id", "=", Arg::Text(account_id.to_owned()));
        q.cmp("reference_store_id", "=", Arg::Text(store_id.to_owned()));
        q.cmp_opt("name", "=", &f.name);
        q.cmp_opt("md5", "=", &f.md5);
        q.cmp_opt("created_at", ">=", &f.created_after_ms);
        q.cmp_opt("created_at", "<=", &f.created_before_ms);
        q.after(after);
        let (sql, args) = q.page(REFERENCE_COLUMNS, "genome_references", limit);
        rows::bind_all(sqlx::query(&sql), args)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(rows::reference)
            .collect()
    }

    async fn delete_reference(
        &self,
        account_id: &str,
        store_id: &str,
        id: &str,
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
        .bind(account_id)
        .bind(store_id)
        .bind(id)
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("reference"));
        }
        delete_all_tags(&mut tx, &target(account_id, ResourceKind::Reference, id)).await?;
        tx.commit().await.db()?;
        Ok(())
    }
}
