//! The catalog: durable metadata of stores, references, jobs, tags, access keys and
//! idempotency tokens.
//!
//! The [`Catalog`] trait is the sum of one small trait per concern; one SQL implementation
//! runs on two real backends through sqlx's `Any` driver: SQLite (the embedded default)
//! and PostgreSQL (scale-out). Bring the traits into scope with `use
//! seqstore_catalog::prelude::*`.

mod catalog;
mod error;
mod records;
mod sql;

pub use catalog::{
    AccessKeys, Catalog, Idempotency, Jobs, ReadSets, ReferenceStores, References, S3Access,
    SequenceStores, Tags, Uploads,
};
pub use error::CatalogError;
pub use records::{
    AccessKeyRecord, AccessPolicy, FileEtags, IdempotencyRecord, JobFilter, JobItemRecord,
    JobRecord, Lease, ListCursor, PartRecord, ReadSetFilter, ReadSetRecord, ReferenceFilter,
    ReferenceRecord, ReferenceStoreFilter, ReferenceStoreRecord, ResourceKind, SequenceStoreFilter,
    SequenceStoreRecord, StoreKind, StoreRef, TagTarget, UploadRecord,
};
pub use sql::SqlCatalog;

/// The catalog traits, for method calls on `dyn Catalog`.
pub mod prelude {
    pub use crate::catalog::{
        AccessKeys, Catalog, Idempotency, Jobs, ReadSets, ReferenceStores, References, S3Access,
        SequenceStores, Tags, Uploads,
    };
}

/// Result of catalog calls.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
