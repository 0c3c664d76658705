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

/// A layer the runtime's logging adds when logs are exported.
pub(crate) type LogLayer =
    Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

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
/// exported as logs (an export that fails would log, and that log would be exported…).
const OWN_TARGETS: [&str; 8] = [
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "tonic",
];

/// Sets up export as `config` says, for this process. `resource` is what every span, metric and
/// log record says about where it comes from (the provider's id, the lattice). Returns the
/// layer that exports logs, if logs are exported. A second call changes nothing.
pub(crate) fn install(
    config: &TelemetryConfig,
    resource: Vec<(&'static str, String)>,
) -> Result<Option<LogLayer>, String> {
    if INSTALLED.get().is_some() {
        return Ok(None);
    }
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attributes(
            resource
                .into_iter()
                .map(|(key, value)| KeyValue::new(key, value)),
        )
        .build();
    let tls = export::Tls::load(&config.ca_paths)?;
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
    if let Some(provider) = &tracer_provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    if let Some(provider) = &meter_provider {
        opentelemetry::global::set_meter_provider(provider.clone());
    }
    let layer = logger_provider.as_ref().map(|provider| {
        let not_own = tracing_subscriber::filter::filter_fn(|metadata| {
            let target = metadata.target();
            !OWN_TARGETS.iter().any(|own| {
                target
                    .strip_prefix(own)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
        });
        OpenTelemetryTracingBridge::new(provider)
            .with_filter(not_own)
            .boxed()
    });
    let _ = INSTALLED.set(Installed {
        tracer_provider,
        meter_provider,
        logger_provider,
        tracer,
        instruments,
    });
    for signal in super::Signal::ALL {
        if let Some(destination) = config.destination(signal) {
            tracing::info!(
                signal = signal.name(),
                endpoint = %crate::redact::redact_credentials(&destination.endpoint),
                protocol = ?destination.protocol,
                "exporting over OTLP"
            );
        }
    }
    Ok(layer)
}

/// A meter to record a provider's own measurements with, exported with the runtime's: a no-op
/// meter when metrics are not exported.
pub fn meter(name: &'static str) -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter(name)
}

/// Exports what is waiting, within `deadline`: before a host's shutdown request is answered
/// (the host kills the process right after).
pub(crate) async fn flush(deadline: Duration) {
    let Some(installed) = installed() else {
        return;
    };
    let flushed = off_runtime(deadline, move || {
        if let Some(provider) = &installed.tracer_provider {
            let _ = provider.force_flush();
        }
        if let Some(provider) = &installed.meter_provider {
            let _ = provider.force_flush();
        }
        if let Some(provider) = &installed.logger_provider {
            let _ = provider.force_flush();
        }
    });
    if !flushed.await {
        tracing::warn!(
            ?deadline,
            "telemetry was not all exported by the shutdown deadline"
        );
    }
}

/// Flushes and stops export, within `deadline`: the last thing a provider's process does.
pub(crate) async fn shutdown(deadline: Duration) {
    let Some(installed) = installed() else {
        return;
    };
    off_runtime(deadline, move || {
        if let Some(provider) = &installed.tracer_provider {
            let _ = provider.shutdown_with_timeout(deadline);
        }
        if let Some(provider) = &installed.meter_provider {
            let _ = provider.shutdown_with_timeout(deadline);
        }
        if let Some(provider) = &installed.logger_provider {
            let _ = provider.shutdown_with_timeout(deadline);
        }
    })
    .await;
}

/// Runs `work` (the SDK's flushes and shutdowns block) on a thread of its own and waits for it
/// up to `deadline`; returns whether it finished. A detached thread, not tokio's blocking pool:
/// the runtime waits for its blocking tasks when it stops, and a collector that hangs must not
/// keep the process alive.
async fn off_runtime(deadline: Duration, work: impl FnOnce() + Send + 'static) -> bool {
    let (done, finished) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("otel-flush".into())
        .spawn(move || {
            work();
            let _ = done.send(());
        });
    spawned.is_ok() && matches!(tokio::time::timeout(deadline, finished).await, Ok(Ok(())))
}
