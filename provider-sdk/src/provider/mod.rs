//! The provider runtime: start from a wasmCloud host or standalone, stay in step with the
//! lattice, serve the provider's exports, shut down cleanly.
//!
//! A provider is a type that implements [`Provider`]: its [`serve`](Provider::serve) hands the
//! exports to the functions [`generate!`](crate::generate) made, and its other hooks, all
//! defaulted, hear about links, configuration, health and shutdown. [`run`] does the rest:
//!
//! - reads the host's `HostData` line from stdin, or standalone settings from flags and
//!   environment ([`StandaloneArgs`]);
//! - connects to NATS (credentials, TLS, a retried first connect, reconnects afterwards);
//! - looks up the named configuration and secrets it refers to in their stores (the lattice's
//!   bucket, mounted folders, the environment: [`stores`]) and watches them;
//! - subscribes the host's control subjects and applies link puts and deletes and config updates
//!   in the order the host sent them, one at a time, through the hooks; answers health requests
//!   on their own task;
//! - serves the exports under `<lattice>.<provider-id>`, queue group the same, with bounded
//!   concurrency, a per-invocation deadline and a `tracing` span joined to the caller's trace;
//! - on a host's shutdown request, SIGTERM or Ctrl-C: stops taking invocations, drains those in
//!   flight within [`RuntimeOptions::shutdown_timeout`], runs [`Provider::shutdown`], answers
//!   the host, and returns `Ok(())`, so `main` exits 0.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use provider_sdk::provider::{Context, HookResult, Link, LinkResources, Provider};
//! use provider_sdk::transport::{Server, Serving};
//!
//! mod bindings {
//!     provider_sdk::generate!({
//!         inline: "
//!             package example:counter;
//!             interface counter { increment: func(by: u64) -> u64; }
//!             world provider { export counter; }
//!         ",
//!     });
//! }
//!
//! /// One counter per link.
//! #[derive(Default)]
//! struct Counters {
//!     per_link: LinkResources<std::sync::atomic::AtomicU64>,
//! }
//!
//! impl Provider for Counters {
//!     async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
//!         bindings::serve(server, self).await
//!     }
//!
//!     async fn link_put_as_target(&self, link: &Link) -> HookResult {
//!         let start: u64 = link.config().get_or("start", 0)?;
//!         self.per_link.put(link, async { Ok::<_, std::convert::Infallible>(start.into()) }).await?;
//!         Ok(())
//!     }
//!
//!     async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
//!         self.per_link.remove(link.key());
//!         Ok(())
//!     }
//! }
//!
//! impl bindings::exports::example::counter::counter::Handler<Context> for Counters {
//!     async fn increment(&self, cx: Context, by: u64) -> u64 {
//!         match self.per_link.for_context(&cx) {
//!             Some(counter) => counter.fetch_add(by, std::sync::atomic::Ordering::Relaxed) + by,
//!             None => 0,
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> provider_sdk::Result<()> {
//!     provider_sdk::provider::run(Counters::default()).await
//! }
//! ```

// One room per concern; imports among them run one way (tests/architecture.rs checks).
mod config; // Config and Secrets: typed, case-insensitive, sources named in errors
mod connect; // NATS connection options
mod context; // Context: what a handler learns about its invocation
mod control; // the control plane: subscriptions, ordered changes, health, named config
mod handle; // ProviderHandle: the running provider, for code outside the runtime
mod handles; // ResourceHandles: WIT resource handles scoped to links
mod hooks; // the Provider trait
mod link; // Link, LinkKey, Role
mod link_table; // the pure rules that keep links in step with the host
mod nats_args; // NatsArgs: the NATS flags of providers and tools
mod options; // RuntimeOptions
mod policy; // who gets through: the link check before every handler
mod resources; // LinkResources: state per link
mod run; // start-up as named steps: run, run_with, start
mod shutdown; // the shutdown sequence
mod startup; // Startup: host data or standalone flags
mod state; // State: identity, links, config; the one source of truth
pub mod stores; // where named configuration and secrets are kept: bucket, folders, environment

pub use self::config::{Config, ConfigSource, ConfigValue, Secrets};
pub use self::connect::{NatsAuth, NatsOptions};
pub use self::context::Context;
pub use self::handle::ProviderHandle;
pub use self::handles::{HandleError, ResourceHandles};
pub use self::hooks::{HookError, HookResult, InitContext, Provider};
pub use self::link::{Link, LinkKey, Role};
pub use self::nats_args::NatsArgs;
pub use self::options::RuntimeOptions;
pub use self::resources::LinkResources;
pub use self::run::{RunningProvider, run, run_with, start};
pub use self::startup::{ConfigRefs, LinkSpec, StandaloneArgs, Startup};
pub use crate::redact::redact_credentials;
pub use crate::wasmcloud::{Health, SecretValue};
