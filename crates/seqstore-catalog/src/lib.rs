//! The SQL adapter of the domain's catalog port ([`seqstore_core::catalog::Catalog`]): one
//! implementation on two real backends through sqlx's `Any` driver, SQLite (the embedded
//! default) and PostgreSQL (scale-out). `tests/conformance.rs` holds it to the port's
//! contract on both.

mod sql;

pub use sql::{ConnectError, SqlCatalog};
