//! What the S3 endpoint reads: stores by alias, access point policies, objects in key order.

use super::Db;
use super::SqlCatalog;
use super::inventory::{STORED, STORED_IN_ID_ORDER};
use super::rows::{self, Column};
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    AccessPolicy, CatalogError, FileEtags, ReadSetRecord, ReferenceRecord, Result, S3Access,
    StoreKind, StoreRef,
};
use seqstore_core::ids::{AccountId, ReadSetId, ReferenceId, StoreId};
use sqlx::Row;
use std::sync::atomic::Ordering;

fn store_table(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::Sequence => "sequence_stores",
        StoreKind::Reference => "reference_stores",
    }
}

#[async_trait]
impl S3Access for SqlCatalog {
    async fn s3_revision(&self) -> Result<u64> {
        if !self.is_postgres() {
            // What `seqstore fsck --repair` changes from another process holds within the
            // lookups' second.
            return Ok(self.s3_revision.load(Ordering::Acquire));
        }
        let row = sqlx::query("SELECT revision FROM s3_revision WHERE singleton = 1")
            .fetch_one(self.pool())
            .await
            .db()?;
        let revision: i64 = row.try_get("revision").db()?;
        Ok(revision as u64)
    }

    async fn s3_changed(&self) -> Result<()> {
        if !self.is_postgres() {
            self.s3_revision.fetch_add(1, Ordering::AcqRel);
            return Ok(());
        }
        sqlx::query("UPDATE s3_revision SET revision = revision + 1 WHERE singleton = 1")
            .execute(self.pool())
            .await
            .db()?;
        Ok(())
    }

    async fn store_by_alias(&self, alias: &str) -> Result<Option<StoreRef>> {
        let row = sqlx::query(
            "SELECT 'S' AS kind, account_id, id FROM sequence_stores \
             WHERE s3_access_point_alias = $1 AND status <> 'DELETING' \
             UNION ALL \
             SELECT 'R' AS kind, account_id, id FROM reference_stores \
             WHERE s3_access_point_alias = $2",
        )
        .bind(alias)
        .bind(alias)
        .fetch_optional(self.pool())
        .await
        .db()?;
        row.map(|r| -> Result<_> {
            let kind: String = r.try_get("kind").db()?;
            Ok(StoreRef {
                kind: if kind == "S" {
                    StoreKind::Sequence
                } else {
                    StoreKind::Reference
                },
                account_id: Column::read(&r, "account_id")?,
                id: Column::read(&r, "id")?,
            })
        })
        .transpose()
    }

    async fn access_policy(
        &self,
        kind: StoreKind,
        account_id: &AccountId,
        store_id: &StoreId,
    ) -> Result<Option<AccessPolicy>> {
        let row = sqlx::query(&format!(
            "SELECT s3_access_policy, s3_access_policy_updated_at FROM {} \
             WHERE account_id = $1 AND id = $2",
            store_table(kind)
        ))
        .bind(account_id.as_str())
        .bind(store_id.as_str())
        .fetch_optional(self.pool())
        .await
        .db()?;
        row.map(|r| -> Result<_> {
            let text: Option<String> = r.try_get("s3_access_policy").db()?;
            let at: Option<Timestamp> = Column::read(&r, "s3_access_policy_updated_at")?;
            Ok(match (text, at) {
                (None, _) => AccessPolicy::Default,
                (Some(text), Some(at)) if text.is_empty() => {
                    AccessPolicy::Removed { updated_at: at }
                }
                (Some(text), Some(at)) => AccessPolicy::Document {
                    text,
                    updated_at: at,
                },
                (Some(_), None) => {
                    return Err(CatalogError::Corrupt {
                        column: "s3_access_policy_updated_at",
                        reason: "a stored policy has no update time".into(),
                    });
                }
            })
        })
        .transpose()
    }

    async fn set_access_policy(
        &self,
        kind: StoreKind,
        account_id: &AccountId,
        store_id: &StoreId,
        policy: &AccessPolicy,
    ) -> Result<()> {
        let (text, at) = match policy {
            AccessPolicy::Default => (None, None),
            AccessPolicy::Removed { updated_at } => (Some(""), Some(*updated_at)),
            AccessPolicy::Document { text, updated_at } => (Some(text.as_str()), Some(*updated_at)),
        };
        let done = sqlx::query(&format!(
            "UPDATE {} SET s3_access_policy = $1, s3_access_policy_updated_at = $2 \
             WHERE account_id = $3 AND id = $4",
            store_table(kind)
        ))
        .bind(text)
        .bind(at.map(Timestamp::millis))
        .bind(account_id.as_str())
        .bind(store_id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound("store"));
        }
        Ok(())
    }

    async fn readable_read_sets(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        from_id: &str,
        limit: u32,
    ) -> Result<Vec<ReadSetRecord>> {
        let condition = format!(
            "sequence_store_id = $1 AND account_id = $2 AND id >= $3 \
             AND {STORED} ORDER BY id LIMIT {limit}"
        );
        let args = [store_id.as_str(), account_id.as_str(), from_id];
        rows::all(self.pool(), &condition, &args).await
    }

    async fn readable_references(
        &self,
        account_id: &AccountId,
        store_id: &StoreId,
        from_id: &str,
        limit: u32,
    ) -> Result<Vec<ReferenceRecord>> {
        let condition = format!(
            "reference_store_id = $1 AND account_id = $2 AND id >= $3 AND status = 'ACTIVE' \
             ORDER BY id LIMIT {limit}"
        );
        let args = [store_id.as_str(), account_id.as_str(), from_id];
        rows::all(self.pool(), &condition, &args).await
    }

    async fn set_read_set_etags(&self, read_set_id: &ReadSetId, etags: &FileEtags) -> Result<()> {
        sqlx::query(
            "UPDATE read_sets SET source1_s3_etag = $1, source2_s3_etag = $2, index_s3_etag = $3 \
             WHERE id = $4",
        )
        .bind(&etags.source1)
        .bind(&etags.source2)
        .bind(&etags.index)
        .bind(read_set_id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn set_reference_etags(
        &self,
        reference_id: &ReferenceId,
        source: &str,
        index: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE genome_references SET source_s3_etag = $1, index_s3_etag = $2 WHERE id = $3",
        )
        .bind(source)
        .bind(index)
        .bind(reference_id.as_str())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn files_missing_etags(
        &self,
        limit: u32,
    ) -> Result<(Vec<ReadSetRecord>, Vec<ReferenceRecord>)> {
        // The predicate of the partial index `read_sets_missing_etags` (migration 0007), word
        // for word.
        let read_sets = format!(
            "{STORED_IN_ID_ORDER} AND (source1_s3_etag IS NULL \
             OR (source2_name IS NOT NULL AND source2_s3_etag IS NULL) \
             OR (index_name IS NOT NULL AND index_s3_etag IS NULL)) ORDER BY id LIMIT {limit}"
        );
        let references = format!(
            "status = 'ACTIVE' AND (source_s3_etag IS NULL OR index_s3_etag IS NULL) \
             ORDER BY id LIMIT {limit}"
        );
        let read_sets = rows::all(self.pool(), &read_sets, &[]).await?;
        let references = rows::all(self.pool(), &references, &[]).await?;
        Ok((read_sets, references))
    }
}
