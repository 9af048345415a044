//! The catalog: durable metadata of stores, tags, access keys and idempotency tokens.
//!
//! One [`Catalog`] trait, one SQL implementation that runs on two real backends through
//! sqlx's `Any` driver: SQLite (the embedded default) and PostgreSQL (scale-out).

mod error;
mod records;
mod sql;

pub use error::CatalogError;
pub use records::{
    AccessKeyRecord, IdempotencyRecord, ListCursor, ReferenceStoreFilter, ReferenceStoreRecord,
    ResourceKind, SequenceStoreFilter, SequenceStoreRecord, TagTarget,
};
pub use sql::SqlCatalog;

use async_trait::async_trait;
use std::collections::BTreeMap;

/// Result of catalog calls.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Everything the domain needs to keep durably. Implementations are safe to share across
/// tasks and across server processes that use the same database.
#[async_trait]
pub trait Catalog: Send + Sync + std::fmt::Debug {
    /// Which backend this is (`sqlite` or `postgres`), for logs.
    fn backend(&self) -> &'static str;

    /// Stores a new access key; an existing id is a [`CatalogError::AlreadyExists`].
    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<()>;
    /// Looks up an access key by id.
    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>>;

    /// Returns the live idempotency record for `(account, operation, token)`, if any
    /// younger than `not_before_ms`.
    async fn idempotency_record(
        &self,
        account_id: &str,
        operation: &str,
        client_token: &str,
        not_before_ms: i64,
    ) -> Result<Option<IdempotencyRecord>>;

    /// Creates a sequence store with its tags, and records `idempotency` in the same
    /// transaction. Fails with [`CatalogError::AlreadyExists`] when the id or access point
    /// alias is taken and with [`CatalogError::TokenInUse`] when the token was recorded
    /// concurrently; nothing is written then.
    async fn create_sequence_store(
        &self,
        store: &SequenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One sequence store of an account.
    async fn sequence_store(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<SequenceStoreRecord>>;
    /// A page of an account's sequence stores, ordered by creation time then id.
    async fn list_sequence_stores(
        &self,
        account_id: &str,
        filter: &SequenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<SequenceStoreRecord>>;
    /// Replaces the mutable fields of a sequence store (matched by account and id) and
    /// records `idempotency` in the same transaction. [`CatalogError::NotFound`] when gone.
    async fn update_sequence_store(
        &self,
        store: &SequenceStoreRecord,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// Deletes a sequence store and its tags. [`CatalogError::NotFound`] when absent.
    async fn delete_sequence_store(&self, account_id: &str, id: &str) -> Result<()>;

    /// Creates the account's reference store with its tags; the account already having one
    /// is [`CatalogError::QuotaExceeded`]; a taken id is [`CatalogError::AlreadyExists`].
    async fn create_reference_store(
        &self,
        store: &ReferenceStoreRecord,
        tags: &BTreeMap<String, String>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()>;
    /// One reference store of an account.
    async fn reference_store(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<ReferenceStoreRecord>>;
    /// A page of an account's reference stores, ordered by creation time then id.
    async fn list_reference_stores(
        &self,
        account_id: &str,
        filter: &ReferenceStoreFilter,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<ReferenceStoreRecord>>;
    /// Deletes a reference store and its tags. [`CatalogError::NotFound`] when absent.
    async fn delete_reference_store(&self, account_id: &str, id: &str) -> Result<()>;

    /// The tags of a resource (empty when it has none).
    async fn tags(&self, target: &TagTarget) -> Result<BTreeMap<String, String>>;
    /// Adds or replaces tags; more than `max_tags` in total afterwards is
    /// [`CatalogError::QuotaExceeded`] and changes nothing.
    async fn put_tags(
        &self,
        target: &TagTarget,
        tags: &BTreeMap<String, String>,
        max_tags: usize,
    ) -> Result<()>;
    /// Removes the given keys; absent keys are ignored.
    async fn delete_tags(&self, target: &TagTarget, keys: &[String]) -> Result<()>;
}
