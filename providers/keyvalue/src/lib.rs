//! The keyvalue provider: `wrpc:keyvalue` (bucket as a string, what wasmCloud 1.x hosts send)
//! and `wasi:keyvalue` (bucket as a resource handle) over wRPC, with a backend chosen per link.
//!
//! Each link (calling component and link name) gets its store when it is put: `memory` (the
//! default; the link's own, kept for as long as the link), `redis` or `nats` (JetStream KV); a
//! Redis or NATS connection is shared by the links with the same connection settings and closed
//! when the last of them is deleted. See the README for the configuration keys.

mod bindings;
mod config;
mod error;
mod handlers;
mod metrics;
mod provider;
mod store;
mod watch;

pub use crate::error::{Error, Result};
pub use crate::provider::KeyValueProvider;

/// Client functions for every interface the provider serves, and the watcher a component
/// exports: for Rust programs (and tests) that play the component.
pub mod client {
    provider_sdk::generate!({ path: "../../wit", world: "keyvalue-client" });
}
