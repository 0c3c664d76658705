//! The OpenTelemetry SDK set up from a [`TelemetryConfig`], once per process, and what the
//! runtime records through it.

mod calls;
mod export;
mod instruments;

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_subscriber::Layer as _;

pub(crate) use calls::{ClientCall, ServerCall, control_event, not_accepted, refused};
pub(crate) use instruments::links_changed;

use self::instruments::Instruments;
use super::TelemetryConfig;

/// The layer that exports `tracing` events as log records: add it to a `tracing_subscriber`
/// registry (the runtime's logging does).
pub type LogLayer = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// What [`install`] set up: the providers to flush and shut down, and what the runtime's hooks
/// record with.
struct Installed {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    /// Spans are made only when traces are exported, at the level the host asked for.
    tracer: Option<SdkTracer>,
    instruments: Option<Instruments>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

fn installed() -> Option<&'static Installed> {
    INSTALLED.get()
}

/// Where the crates that export, and the transports under them, log: their events are not
/// exported as logs (an export that fails would log, and that log would be exported…). A
/// target is theirs when it is one of these or starts with one and `::`, `_` or `-`
/// (`opentelemetry_sdk`, `opentelemetry-otlp`, `hyper_util::client`).
const OWN_TARGETS: [&str; 9] = [
    "opentelemetry",
    "reqwest",
    "hyper",
    "h2",
    "tonic",
    "tower",
    "rustls",
    "tokio_rustls",
    "http_body",
];

fn is_own_target(target: &str) -> bool {
    OWN_TARGETS.iter().any(|own| {
        target.strip_prefix(own).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with("::") || rest.starts_with(['_', '-'])
        })
    })
}

/// Sets up export as `config` says, for this process: what [`run`](crate::provider::run)
/// does before a provider starts, for programs that use the transport without the provider
/// runtime. `resource` is what every span, metric and log record says about where it comes
/// from (the provider's id, the lattice). Returns the layer that exports logs, if logs are
/// exported: add it to the program's `tracing` subscriber. A second call changes nothing.
pub fn install(
    config: &TelemetryConfig,
    resource: Vec<(&'static str, String)>,
) -> crate::Result<Option<LogLayer>> {
    if INSTALLED.get().is_some() {
        return Ok(None);
    }
    let (installed, layer) =
        set_up(config, resource).map_err(|reason| crate::Error::Startup { reason })?;
    let (tracer_provider, meter_provider) = (
        installed.tracer_provider.clone(),
        installed.meter_provider.clone(),
    );
    if INSTALLED.set(installed).is_err() {
        // Another call won the race; its providers are the ones in use.
        return Ok(None);
    }
    if let Some(provider) = tracer_provider {
        opentelemetry::global::set_tracer_provider(provider);
    }
    if let Some(provider) = meter_provider {
        opentelemetry::global::set_meter_provider(provider);
    }
    Ok(layer)
}

/// Says where each signal goes: after the program's logging is set up.
pub(crate) fn announce(config: &TelemetryConfig) {
    for signal in super::Signal::ALL {
        if let Some(destination) = config.destination(signal) {
            tracing::info!(
                signal = signal.name(),
                endpoint = %export::shown(&destination.endpoint),
                protocol = ?destination.protocol,
                "exporting over OTLP"
            );
        }
    }
}

fn set_up(
    config: &TelemetryConfig,
    resource: Vec<(&'static str, String)>,
) -> Result<(Installed, Option<LogLayer>), String> {
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attributes(
            resource
                .into_iter()
                .map(|(key, value)| KeyValue::new(key, value)),
        )
        .build();
    let https = super::Signal::ALL
        .into_iter()
        .filter_map(|signal| config.destination(signal))
        .any(|destination| destination.endpoint.starts_with("https://"));
    // The certificate authorities matter only to `https` endpoints.
    let tls = export::Tls::load(if https { &config.ca_paths } else { &[] })?;
    let tracer_provider = config
        .traces
        .as_ref()
        .map(|to| export::tracer_provider(to, config, &tls, resource.clone()))
        .transpose()?;
    let meter_provider = config
        .metrics
        .as_ref()
        .map(|to| export::meter_provider(to, &tls, resource.clone()))
        .transpose()?;
    let logger_provider = config
        .logs
        .as_ref()
        .map(|to| export::logger_provider(to, config, &tls, resource))
        .transpose()?;
    // Spans of the runtime are `info`: a host's `trace_level` of warn or error turns them off.
    let tracer = tracer_provider
        .as_ref()
        .filter(|_| config.trace_level >= tracing::Level::INFO)
        .map(|provider| {
            use opentelemetry::trace::TracerProvider as _;
            provider.tracer("provider-sdk")
        });
    let instruments = meter_provider.as_ref().map(Instruments::new);
    let layer = logger_provider.as_ref().map(|provider| {
        let not_own =
            tracing_subscriber::filter::filter_fn(|metadata| !is_own_target(metadata.target()));
        OpenTelemetryTracingBridge::new(provider)
            .with_filter(not_own)
            .boxed()
    });
    let installed = Installed {
        tracer_provider,
        meter_provider,
        logger_provider,
        tracer,
        instruments,
    };
    Ok((installed, layer))
}

/// Whether metrics are exported: a provider's instruments are worth recording only then.
pub fn exports_metrics() -> bool {
    installed().is_some_and(|installed| installed.meter_provider.is_some())
}

/// A meter to record a provider's own measurements with, exported with the runtime's: a no-op
/// meter when metrics are not exported.
pub fn meter(name: &'static str) -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter(name)
}

/// Exports what is waiting, within `deadline`: before a host's shutdown request is answered
/// (the host kills the process right after). Each signal flushes on a thread of its own, so a
/// collector that hangs for one does not hold up the others.
pub async fn flush(deadline: Duration) {
    let Some(installed) = installed() else {
        return;
    };
    let mut work: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    if let Some(provider) = installed.tracer_provider.clone() {
        work.push(Box::new(move || drop(provider.force_flush())));
    }
    if let Some(provider) = installed.meter_provider.clone() {
        work.push(Box::new(move || drop(provider.force_flush())));
    }
    if let Some(provider) = installed.logger_provider.clone() {
        work.push(Box::new(move || drop(provider.force_flush())));
    }
    if !off_runtime(deadline, work).await {
        tracing::warn!(
            ?deadline,
            "telemetry was not all exported by the shutdown deadline"
        );
    }
}

/// Flushes and stops export, within `deadline`: the last thing a provider's process does.
pub async fn shutdown(deadline: Duration) {
    let Some(installed) = installed() else {
        return;
    };
    let mut work: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    if let Some(provider) = installed.tracer_provider.clone() {
        work.push(Box::new(move || {
            drop(provider.shutdown_with_timeout(deadline))
        }));
    }
    if let Some(provider) = installed.meter_provider.clone() {
        work.push(Box::new(move || {
            drop(provider.shutdown_with_timeout(deadline))
        }));
    }
    if let Some(provider) = installed.logger_provider.clone() {
        work.push(Box::new(move || {
            drop(provider.shutdown_with_timeout(deadline))
        }));
    }
    off_runtime(deadline, work).await;
}

/// Runs each of `work` (the SDK's flushes and shutdowns block) on a thread of its own and waits
/// for all of them up to `deadline`; returns whether they all finished. Detached threads, not
/// tokio's blocking pool: the runtime waits for its blocking tasks when it stops, and a
/// collector that hangs must not keep the process alive.
async fn off_runtime(deadline: Duration, work: Vec<Box<dyn FnOnce() + Send>>) -> bool {
    let mut finished = Vec::new();
    for work in work {
        let (done, finishes) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("otel-flush".into())
            .spawn(move || {
                work();
                let _ = done.send(());
            });
        if spawned.is_err() {
            return false;
        }
        finished.push(finishes);
    }
    let all = futures::future::join_all(finished);
    matches!(tokio::time::timeout(deadline, all).await, Ok(results) if results.iter().all(Result::is_ok))
}
