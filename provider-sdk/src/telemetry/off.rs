//! Without the `otel` feature: the runtime's hooks, doing nothing.

use std::future::Future;
use std::time::Duration;

use super::{ControlChange, Function, TelemetryConfig};
use crate::trace::TraceContext;

/// Never made: nothing exports logs.
pub(crate) type LogLayer =
    Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// Nothing to set up.
pub(crate) fn install(
    _config: &TelemetryConfig,
    _resource: Vec<(&'static str, String)>,
) -> crate::Result<Option<LogLayer>> {
    Ok(None)
}

/// Says that nothing will be exported, when `config` asks for something.
pub(crate) fn announce(config: &TelemetryConfig) {
    if config.exports_anything() {
        tracing::warn!(
            "OpenTelemetry export is configured, but this provider was built without \
             provider-sdk's `otel` feature: nothing will be exported"
        );
    }
}

pub(crate) async fn flush(_deadline: Duration) {}

pub(crate) async fn shutdown(_deadline: Duration) {}

pub(crate) fn links_changed(_delta: i64, _role: &'static str) {}

pub(crate) fn not_accepted(_function: &Function) {}

pub(crate) fn refused(_function: &Function) {}

pub(crate) fn control_event(
    _event: ControlChange,
    _fields: &[(&'static str, String)],
    _applied: bool,
) {
}

/// Never made.
pub(crate) enum ServerCall {}

impl ServerCall {
    pub(crate) fn start(
        _function: &std::sync::Arc<Function>,
        _headers: Option<&async_nats::HeaderMap>,
    ) -> Option<Self> {
        None
    }

    pub(crate) fn trace(&self) -> Option<TraceContext> {
        match *self {}
    }

    pub(crate) async fn run(self, _handler: impl Future<Output = ()>) {
        match self {}
    }
}

/// Never made.
pub(crate) enum ClientCall {}

impl ClientCall {
    pub(crate) fn start(
        _instance: &str,
        _func: &str,
        _headers: Option<&async_nats::HeaderMap>,
    ) -> Option<Self> {
        None
    }

    pub(crate) fn trace(&self) -> Option<TraceContext> {
        match *self {}
    }

    pub(crate) fn end(self, _error: Option<&crate::Error>) {
        match self {}
    }
}
