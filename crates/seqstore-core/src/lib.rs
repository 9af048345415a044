//! The domain of seqstore: stores, tags, access keys, idempotency and paging rules,
//! expressed over the generated wire shapes and free of HTTP and SQL types.

mod arn;
mod error;
mod idempotency;
mod ids;
mod keys;
mod paging;
mod reference_stores;
mod s3_access;
mod sequence_stores;
mod tags;
mod time;

pub use arn::{Arn, ArnResource};
pub use error::CoreError;
pub use keys::{ROOT_KEY_PREFIX, new_access_key};

use seqstore_blob::BlobStore;
use seqstore_catalog::Catalog;
use std::sync::Arc;

/// Deployment facts the domain needs to name things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// AWS partition used in ARNs (`aws`).
    pub partition: String,
    /// The region this server answers for.
    pub region: String,
    /// The account that owns the S3 access points (spec E17: a service account).
    pub s3_access_point_account: String,
}

/// The domain service: one per process, shared by every request.
#[derive(Debug, Clone)]
pub struct Service {
    catalog: Arc<dyn Catalog>,
    #[allow(dead_code)] // read and written by read sets and references (later issues)
    blobs: BlobStore,
    settings: Settings,
}

impl Service {
    /// Builds the service over a catalog and a blob store.
    pub fn new(catalog: Arc<dyn Catalog>, blobs: BlobStore, settings: Settings) -> Self {
        Self {
            catalog,
            blobs,
            settings,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The catalog (for the access-key lookups of the authenticating layer).
    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }
}
