//! The rest-json adapter: routes on method + raw path, authenticates with SigV4, binds
//! and validates input against the model, calls the domain, and maps errors to the wire.

mod auth;
mod console;
mod errors;
pub mod generated;
mod handlers;
mod router;
mod stall;
pub mod wire;

pub use router::{AppState, router};
