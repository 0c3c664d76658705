//! OpenTelemetry: traces, metrics and logs exported over OTLP (feature `otel`).
//!
//! Configured by a wasmCloud host's `otel_config`, or standalone by the standard `OTEL_*`
//! variables ([`TelemetryConfig`]); nothing is exported when neither asks. With export on, the
//! runtime records:
//!
//! - **traces**: a server span per invocation named `<interface>/<function>` (`rpc.system` =
//!   `wrpc`, `rpc.service`, `rpc.method`, `wasmcloud.source_id`, `wasmcloud.link_name`,
//!   `wrpc.outcome`), parented on the caller's `traceparent`; a client span per call the
//!   provider makes, whose context the call carries; a span with an event per link put, link
//!   delete and configuration update;
//! - **metrics**: `wrpc.server.invocations` (by function and outcome),
//!   `rpc.server.call.duration` (seconds), `wrpc.server.in_flight`, `wrpc.server.refused`,
//!   `rpc.client.call.duration`, `wasmcloud.provider.links`; providers add their own through
//!   [`meter`];
//! - **logs**: the process's `tracing` events, with the trace and span ids of the invocation
//!   they happened in.
//!
//! Export runs on the OpenTelemetry SDK's own threads, from bounded queues: an invocation never
//! waits for it. A full queue drops what does not fit (the SDK logs the first drop and the total
//! at shutdown); a collector that cannot be reached is logged once, and once more when it can
//! be again. Shutdown flushes within the provider's grace period, before a host's shutdown
//! request is answered. No configuration value, secret or endpoint is put in an attribute.
//!
//! Without the `otel` feature the same settings are read and checked, a warning says nothing
//! will be exported, and the runtime's hooks cost one branch each.

pub mod config;
#[cfg(not(feature = "otel"))]
mod off;
#[cfg(feature = "otel")]
mod otel;
mod outcome;

use std::sync::Arc;

#[cfg(not(feature = "otel"))]
pub(crate) use off::*;
/// The OpenTelemetry API this crate records with, for a provider's own instruments.
#[cfg(feature = "otel")]
pub use opentelemetry;
#[cfg(feature = "otel")]
pub(crate) use otel::*;
#[cfg(feature = "otel")]
pub use otel::{LogLayer, exports_metrics, flush, install, meter, shutdown};

pub use config::{Destination, Protocol, Sampler, Signal, TelemetryConfig};
pub(crate) use outcome::{Outcome, note_failure};

/// The longest a stopping provider waits for its telemetry to be exported: a host waits only
/// briefly for the answer to its shutdown request before it kills the process, and a
/// collector that hangs must not hold the answer up.
pub(crate) const FLUSH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// One served or called function, named once for every span and measurement of it.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct Function {
    /// `<interface>/<function>`: the span name.
    pub(crate) name: Arc<str>,
    /// The interface (`rpc.service`).
    pub(crate) service: Arc<str>,
    /// The function (`rpc.method`).
    pub(crate) method: Arc<str>,
}

impl Function {
    pub(crate) fn new(instance: &str, func: &str) -> Self {
        Self {
            name: format!("{instance}/{func}").into(),
            service: instance.into(),
            method: func.into(),
        }
    }
}

/// What a control message did, for its span's event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControlChange {
    /// A link was put (new or changed).
    LinkPut,
    /// A link was deleted.
    LinkDeleted,
    /// The provider's configuration was updated.
    ConfigUpdated,
}

impl ControlChange {
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            ControlChange::LinkPut => "wasmcloud/link.put",
            ControlChange::LinkDeleted => "wasmcloud/link.delete",
            ControlChange::ConfigUpdated => "wasmcloud/config.update",
        }
    }
}
