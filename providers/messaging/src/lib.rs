//! The messaging provider: `wasmcloud:messaging` over core NATS.
//!
//! A component linked to the provider (the provider is the link's target) publishes and makes
//! requests through `consumer`, on a NATS connection of that link's own. A link from the
//! provider to a component exporting `handler` (the provider is the source) subscribes, with
//! that link's own connection, to the subjects its source config lists, and delivers each
//! message by calling `handle-message`, with bounded concurrency per link and across links.
//! Links are keyed by component and link name: two links of one component never share or
//! replace each other's connection. See the README for the configuration keys.

mod bindings;
mod config;
mod connection;
mod delivery;
mod error;
mod handlers;
mod jetstream;
mod metrics;
mod provider;

pub use crate::delivery::DeliveryStats;
pub use crate::error::{Error, Result};
pub use crate::jetstream::JetStreamStats;
pub use crate::provider::MessagingProvider;

/// Client functions for `consumer`, and the `handler` a component exports: for Rust programs
/// (and tests) that play the component.
pub mod client {
    provider_sdk::generate!({ path: "wit", world: "messaging-client" });
}
