//! The catalog port: what the domain keeps durably (stores, references, read sets, uploads,
//! jobs, tags, access keys, idempotency tokens), in the domain's own records.
//!
//! [`Catalog`] is the sum of one small trait per concern; `seqstore-catalog` implements it
//! on SQL. Bring the traits into scope with `use seqstore_core::catalog::prelude::*`.

mod error;
mod ports;
mod records;

pub use error::{Busy, CatalogError};
pub use ports::{
    AccessKeys, Catalog, Ga4gh, Idempotency, Inventory, Jobs, Lifecycle, Nodes, ReadSets,
    ReferenceStores, References, S3Access, SequenceStores, Tags, Uploads,
};
pub use records::{
    AccessKeyRecord, AccessPolicy, BearerTokenRecord, Claim, FileEtags, Finished,
    IdempotencyRecord, JobFilter, JobItemRecord, JobRecord, Lease, ListCursor, Move, NodeRecord,
    PartRecord, ReadSetFilter, ReadSetRecord, ReferenceFilter, ReferenceRecord,
    ReferenceStoreFilter, ReferenceStoreRecord, ResourceKind, SequenceRecord, SequenceStoreFilter,
    SequenceStoreRecord, StoreKind, StoreRef, StoredFile, TagTarget, UploadRecord, UsageRow,
};

/// The catalog traits, for method calls on `dyn Catalog`.
pub mod prelude {
    pub use super::ports::{
        AccessKeys, Catalog, Ga4gh, Idempotency, Inventory, Jobs, Lifecycle, Nodes, ReadSets,
        ReferenceStores, References, S3Access, SequenceStores, Tags, Uploads,
    };
}

/// Result of catalog calls.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
