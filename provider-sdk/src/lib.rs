//! Write capability providers that serve WIT interfaces over wRPC on NATS.
//!
//! - [`wire`]: the wRPC value encoding ([`Encode`](wire::Encode), [`Decode`](wire::Decode)),
//!   byte-compatible with `wrpc-transport 0.29` peers.
//! - [`transport`]: invoke and serve functions over NATS (compatible with
//!   `wrpc-transport-nats 0.31`) or in-process.
//! - [`provider`]: the provider runtime: lifecycle under a wasmCloud host or standalone, links,
//!   named configuration, per-link state, serving exports and calling components.
//! - [`trace`]: W3C trace context carried from invocations to the calls they make.
//! - [`telemetry`]: OpenTelemetry traces, metrics and logs over OTLP (feature `otel`), set up
//!   from a host's `otel_config` or the `OTEL_*` variables.
//! - [`wasmcloud`]: the wasmCloud host ↔ provider protocol's shapes and subjects, for tools that
//!   play a host.
//! - [`dynamic`] (feature `dynamic`): the same encoding for values of WIT types known only at
//!   run time, as WAVE values, for tools such as a grpcurl for wRPC.
//! - [`Error`]: everything that can go wrong, wire and transport failures apart.

#![warn(missing_docs, clippy::unwrap_used)]

mod channel;
#[cfg(feature = "dynamic")]
pub mod dynamic;
mod error;
pub mod provider;
mod random;
mod redact;
pub mod telemetry;
pub mod throttle;
pub mod trace;
pub mod transport;
pub mod wasmcloud;
pub mod wire;

pub use async_nats::HeaderMap;
pub use provider_macros::generate;

/// What code from [`generate!`] refers to. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use ::bitflags;
    pub use ::bytes::Bytes;

    pub use crate::transport::{Client, FromInvocation, InvocationContext, Server, Serving};
    pub use crate::wire::{
        ByteSlice, ByteStream, Decode, Encode, Reader, ResourceBorrow, ResourceOwn, WitFuture,
        WitStream, Writer,
    };
    pub use crate::{Error, Result};
}

/// The workspace README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
pub use channel::Limits;
pub use error::{Error, Result};
