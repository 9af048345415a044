//! Tags of any taggable resource.

use super::Db;
use super::{SqlCatalog, unique_as};
use async_trait::async_trait;
use seqstore_core::catalog::{CatalogError, ResourceKind, Result, TagTarget, Tags};
use seqstore_core::ids::AccountId;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

#[async_trait]
impl Tags for SqlCatalog {
    async fn tags(&self, target: &TagTarget) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query(
            "SELECT tag_key, tag_value FROM tags \
             WHERE account_id = $1 AND resource_kind = $2 AND resource_id = $3",
        )
        .bind(target.account_id.as_str())
        .bind(target.kind.as_str())
        .bind(target.id.as_str())
        .fetch_all(self.pool())
        .await
        .db()?;
        rows.iter()
            .map(|r| Ok((r.try_get("tag_key").db()?, r.try_get("tag_value").db()?)))
            .collect()
    }

    async fn put_tags(
        &self,
        target: &TagTarget,
        tags: &BTreeMap<String, String>,
        max_tags: usize,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if self.is_postgres() {
            // Two writers adding different keys would each count only their own new row
            // (READ COMMITTED) and together pass the quota: one resource's tag writes take
            // turns. SQLite's BEGIN IMMEDIATE already makes every writer wait.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!(
                    "tags/{}/{}/{}",
                    target.account_id.as_str(),
                    target.kind.as_str(),
                    target.id.as_str()
                ))
                .execute(&mut *tx)
                .await
                .db()?;
        }
        upsert_tags(&mut tx, target, tags).await?;
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM tags \
             WHERE account_id = $1 AND resource_kind = $2 AND resource_id = $3",
        )
        .bind(target.account_id.as_str())
        .bind(target.kind.as_str())
        .bind(target.id.as_str())
        .fetch_one(&mut *tx)
        .await
        .db()?
        .try_get("n")
        .db()?;
        if count > max_tags as i64 {
            return Err(CatalogError::QuotaExceeded("tags per resource"));
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn delete_tags(&self, target: &TagTarget, keys: &[String]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for key in keys {
            sqlx::query(
                "DELETE FROM tags WHERE account_id = $1 AND resource_kind = $2 \
                 AND resource_id = $3 AND tag_key = $4",
            )
            .bind(target.account_id.as_str())
            .bind(target.kind.as_str())
            .bind(target.id.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }
}

/// Adds or replaces tags inside a transaction.
pub(crate) async fn upsert_tags(
    tx: &mut Transaction<'_, Any>,
    target: &TagTarget,
    tags: &BTreeMap<String, String>,
) -> Result<()> {
    for (key, value) in tags {
        sqlx::query(
            "INSERT INTO tags (account_id, resource_kind, resource_id, tag_key, tag_value) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (account_id, resource_kind, resource_id, tag_key) \
             DO UPDATE SET tag_value = excluded.tag_value",
        )
        .bind(target.account_id.as_str())
        .bind(target.kind.as_str())
        .bind(target.id.as_str())
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_as(e, CatalogError::AlreadyExists("tag")))?;
    }
    Ok(())
}

/// Removes every tag of a resource inside a transaction.
pub(crate) async fn delete_all_tags(
    tx: &mut Transaction<'_, Any>,
    target: &TagTarget,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM tags WHERE account_id = $1 AND resource_kind = $2 AND resource_id = $3",
    )
    .bind(target.account_id.as_str())
    .bind(target.kind.as_str())
    .bind(target.id.as_str())
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// The tag target of a resource.
pub(crate) fn target(account_id: &AccountId, kind: ResourceKind, id: &str) -> TagTarget {
    TagTarget {
        account_id: account_id.to_owned(),
        kind,
        id: id.to_owned(),
    }
}
