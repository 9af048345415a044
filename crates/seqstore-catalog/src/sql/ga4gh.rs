//! What the GA4GH endpoint keeps: reference sequences by checksum, bearer tokens, and the
//! key that signs htsget ticket URLs.

use super::rows::{self, Table};
use super::{Db, SqlCatalog, unique_as};
use async_trait::async_trait;
use seqstore_core::catalog::{
    BearerTokenRecord, CatalogError, Ga4gh, ReferenceRecord, Result, SequenceRecord,
};
use seqstore_core::ids::{AccountId, ReferenceId, StoreId, TokenId};
use sqlx::Row;

/// A `reference_sequences` row whose reference is ACTIVE.
const SERVED: &str = "EXISTS (SELECT 1 FROM genome_references g \
     WHERE g.id = reference_sequences.reference_id AND g.status = 'ACTIVE')";

#[async_trait]
impl Ga4gh for SqlCatalog {
    async fn put_reference_sequences(
        &self,
        reference_id: &ReferenceId,
        sequences: &[SequenceRecord],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM reference_sequences WHERE reference_id = $1")
            .bind(reference_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        let insert = SequenceRecord::insert();
        for sequence in sequences {
            sequence
                .bind(sqlx::query(&insert))
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn sequences_by_digest(&self, digest: &str) -> Result<Vec<SequenceRecord>> {
        let condition = format!(
            "(md5 = $1 OR sha512t24u = $2) AND {SERVED} ORDER BY reference_id, ordinal LIMIT 100"
        );
        rows::all(self.pool(), &condition, &[digest, digest]).await
    }

    async fn references_without_sequences(&self, limit: u32) -> Result<Vec<ReferenceRecord>> {
        let condition = format!(
            "status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM reference_sequences s \
             WHERE s.reference_id = genome_references.id) ORDER BY created_at, id LIMIT {limit}"
        );
        rows::all(self.pool(), &condition, &[]).await
    }

    async fn sequence_store_owner(&self, store_id: &StoreId) -> Result<Option<AccountId>> {
        let row = sqlx::query(
            "SELECT account_id FROM sequence_stores WHERE id = $1 AND status <> 'DELETING'",
        )
        .bind(store_id.as_str())
        .fetch_optional(self.pool())
        .await
        .db()?;
        row.map(|r| {
            r.try_get::<String, _>("account_id")
                .db()
                .map(AccountId::from)
        })
        .transpose()
    }

    async fn insert_bearer_token(&self, token: &BearerTokenRecord) -> Result<()> {
        token
            .bind(sqlx::query(&BearerTokenRecord::insert()))
            .execute(self.pool())
            .await
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("bearer token")))?;
        Ok(())
    }

    async fn bearer_token(&self, token_id: &TokenId) -> Result<Option<BearerTokenRecord>> {
        rows::one(self.pool(), "token_id = $1", &[token_id.as_str()]).await
    }

    async fn bearer_tokens(&self) -> Result<Vec<BearerTokenRecord>> {
        rows::all(self.pool(), "1 = 1 ORDER BY created_at, token_id", &[]).await
    }

    async fn delete_bearer_token(&self, token_id: &TokenId) -> Result<()> {
        let done = sqlx::query("DELETE FROM bearer_tokens WHERE token_id = $1")
            .bind(token_id.as_str())
            .execute(self.pool())
            .await
            .db()?;
        match done.rows_affected() {
            0 => Err(CatalogError::NotFound("bearer token")),
            _ => Ok(()),
        }
    }

    async fn ticket_key(&self, candidate: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO ticket_keys (singleton, signing_key) VALUES (1, $1) \
             ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(candidate)
        .execute(self.pool())
        .await
        .db()?;
        let row = sqlx::query("SELECT signing_key FROM ticket_keys WHERE singleton = 1")
            .fetch_one(self.pool())
            .await
            .db()?;
        row.try_get("signing_key").db()
    }
}
