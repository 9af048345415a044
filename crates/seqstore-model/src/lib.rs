//! The Omics storage API model: typed shapes and a static schema generated from the pinned
//! botocore model, plus the small runtime the HTTP layer needs around them.
//!
//! - [`route()`]: (method, raw path) → [`Operation`] and decoded path labels.
//! - [`bind_input()`]: labels, query, headers and JSON body → one validated input document,
//!   ready for `serde_json::from_value` into the generated `…Request` struct.
//! - [`validate()`]: model constraints with AWS-style messages ([`ValidationErrors`]).
//! - [`time`]: the timestamp wire format used by every generated timestamp field.
//!
//! Regenerate `generated/` with `cargo run -p xtask -- codegen`.

pub mod bind;
pub mod generated;
pub mod parse_enum_error;
pub mod route;
pub mod schema_types;
pub mod time;
pub mod validate;

#[cfg(test)]
mod generated_tests;

pub use bind::bind_input;
pub use generated::schema::{
    API_VERSION, BOTOCORE_VERSION, ErrorShape, OPERATIONS, Operation, SHAPES, shape,
};
pub use generated::shapes::*;
pub use parse_enum_error::ParseEnumError;
pub use route::{Route, path_matches_any, route};
pub use schema_types::{Location, Member, OperationDef, Shape};
pub use validate::{ValidationErrors, validate};
