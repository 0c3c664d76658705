//! The exporters, one per signal, over OTLP/HTTP (protobuf) or OTLP/gRPC, each behind the SDK's
//! batching on a thread of its own, and watched: a collector that cannot be reached is logged
//! once, not per batch.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::redact::redact_credentials;
use crate::telemetry::{Destination, Protocol, Sampler, Signal, TelemetryConfig};

/// How long one export request may take before it counts as failed.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate authorities `https` endpoints are checked against: the system's and those
/// the configuration adds.
pub(super) struct Tls {
    /// The added ones, as PEM, for gRPC.
    added_pem: Vec<Vec<u8>>,
    /// System and added, for HTTP.
    roots: Arc<rustls::RootCertStore>,
}

impl Tls {
    pub(super) fn load(ca_paths: &[PathBuf]) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let mut added_pem = Vec::new();
        for path in ca_paths {
            let shown = path.display();
            let pem = std::fs::read(path).map_err(|error| {
                format!("cannot read the certificate authority file {shown}: {error}")
            })?;
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|error| format!("{shown} is not PEM: {error}"))?;
                roots
                    .add(cert)
                    .map_err(|error| format!("{shown} holds a bad certificate: {error}"))?;
                found += 1;
            }
            if found == 0 {
                return Err(format!("{shown} holds no PEM certificate"));
            }
            added_pem.push(pem);
        }
        Ok(Self {
            added_pem,
            roots: Arc::new(roots),
        })
    }

    /// A blocking HTTP client that trusts these authorities. Made on a thread of its own:
    /// reqwest's blocking client cannot be made inside an async runtime.
    fn http_client(&self) -> Result<reqwest::blocking::Client, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS for OTLP export: {error}"))?
            .with_root_certificates(Arc::clone(&self.roots))
            .with_no_client_auth();
        std::thread::spawn(move || {
            reqwest::blocking::Client::builder()
                .use_preconfigured_tls(tls)
                .timeout(EXPORT_TIMEOUT)
                .build()
        })
        .join()
        .map_err(|_| "making the HTTP client for OTLP export panicked".to_owned())?
        .map_err(|error| format!("cannot make the HTTP client for OTLP export: {error}"))
    }

    fn grpc(&self) -> ClientTlsConfig {
        self.added_pem
            .iter()
            .fold(ClientTlsConfig::new().with_native_roots(), |config, pem| {
                config.ca_certificate(Certificate::from_pem(pem))
            })
    }
}

/// An endpoint as log lines show it: no credentials, no query (where API keys go).
pub(crate) fn shown(endpoint: &str) -> String {
    match endpoint.split_once('?') {
        Some((url, _)) => format!("{}?…", redact_credentials(url)),
        None => redact_credentials(endpoint),
    }
}

/// `text` (an error that may quote the endpoint) with the endpoint's query and credentials
/// taken out.
fn scrubbed(text: &str, endpoint: &str) -> String {
    let text = match endpoint.split_once('?') {
        Some((_, query)) if !query.is_empty() => text.replace(query, "…"),
        _ => text.to_owned(),
    };
    redact_credentials(&text)
}

/// Whether `destination` needs TLS.
fn is_https(destination: &Destination) -> bool {
    destination.endpoint.starts_with("https://")
}

fn build_error(signal: Signal, destination: &Destination, error: impl std::fmt::Display) -> String {
    let error = scrubbed(&error.to_string(), &destination.endpoint);
    format!("cannot set up the OTLP {} exporter: {error}", signal.name())
}

/// One exporter's builder, set up for `destination` over its protocol.
macro_rules! exporter {
    ($exporter:ty, $signal:expr, $destination:expr, $tls:expr) => {{
        let destination: &Destination = $destination;
        let signal: Signal = $signal;
        match destination.protocol {
            Protocol::HttpProtobuf => <$exporter>::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(destination.endpoint.clone())
                .with_timeout(EXPORT_TIMEOUT)
                .with_http_client($tls.http_client()?)
                .build(),
            Protocol::Grpc => {
                let builder = <$exporter>::builder()
                    .with_tonic()
                    .with_endpoint(destination.endpoint.clone())
                    .with_timeout(EXPORT_TIMEOUT);
                let builder = if is_https(destination) {
                    builder.with_tls_config($tls.grpc())
                } else {
                    builder
                };
                builder.build()
            }
        }
        .map(|exporter| Watched::new(exporter, signal, destination))
        .map_err(|error| build_error(signal, destination, error))
    }};
}

pub(super) fn tracer_provider(
    destination: &Destination,
    config: &TelemetryConfig,
    tls: &Tls,
    resource: Resource,
) -> Result<SdkTracerProvider, String> {
    let exporter = exporter!(
        opentelemetry_otlp::SpanExporter,
        Signal::Traces,
        destination,
        tls
    )?;
    let mut batch = opentelemetry_sdk::trace::BatchConfigBuilder::default();
    if let Some(size) = config.max_queue_size {
        batch = batch.with_max_queue_size(size.max(1));
    }
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch.build())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sdk_sampler(&config.sampler))
        .with_resource(resource)
        .build())
}

pub(super) fn meter_provider(
    destination: &Destination,
    tls: &Tls,
    resource: Resource,
) -> Result<SdkMeterProvider, String> {
    let exporter = exporter!(
        opentelemetry_otlp::MetricExporter,
        Signal::Metrics,
        destination,
        tls
    )?;
    // The interval is `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds) or a minute.
    let reader = PeriodicReader::builder(exporter).build();
    Ok(SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource)
        .build())
}

pub(super) fn logger_provider(
    destination: &Destination,
    config: &TelemetryConfig,
    tls: &Tls,
    resource: Resource,
) -> Result<SdkLoggerProvider, String> {
    let exporter = exporter!(
        opentelemetry_otlp::LogExporter,
        Signal::Logs,
        destination,
        tls
    )?;
    let mut batch = opentelemetry_sdk::logs::BatchConfigBuilder::default();
    if let Some(size) = config.max_queue_size {
        batch = batch.with_max_queue_size(size.max(1));
    }
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(batch.build())
        .build();
    Ok(SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .with_resource(resource)
        .build())
}

fn sdk_sampler(sampler: &Sampler) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as Sdk;
    match sampler {
        Sampler::AlwaysOn => Sdk::AlwaysOn,
        Sampler::AlwaysOff => Sdk::AlwaysOff,
        Sampler::TraceIdRatio(ratio) => Sdk::TraceIdRatioBased(*ratio),
        Sampler::ParentBased(root) => Sdk::ParentBased(Box::new(sdk_sampler(root))),
    }
}

/// An exporter whose failures are logged once until it works again, then returned to the SDK
/// as success: the SDK would log each failed batch, every few seconds, for as long as the
/// collector is away.
#[derive(Debug)]
pub(super) struct Watched<E> {
    inner: E,
    signal: Signal,
    /// Where it exports, as given: only ever logged [`shown`] or [`scrubbed`].
    endpoint: String,
    failing: AtomicBool,
    failed_exports: AtomicU64,
}

impl<E> Watched<E> {
    fn new(inner: E, signal: Signal, destination: &Destination) -> Self {
        Self {
            inner,
            signal,
            endpoint: destination.endpoint.clone(),
            failing: AtomicBool::new(false),
            failed_exports: AtomicU64::new(0),
        }
    }

    fn watch(&self, result: OTelSdkResult) -> OTelSdkResult {
        let signal = self.signal.name();
        match result {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    let failed = self.failed_exports.swap(0, Ordering::Relaxed);
                    tracing::info!(
                        signal,
                        endpoint = %shown(&self.endpoint),
                        failed,
                        "OTLP export works again; what the failed exports carried is lost"
                    );
                }
            }
            Err(error) => {
                self.failed_exports.fetch_add(1, Ordering::Relaxed);
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        signal,
                        endpoint = %shown(&self.endpoint),
                        error = %scrubbed(&error.to_string(), &self.endpoint),
                        "cannot export over OTLP; what is recorded meanwhile is dropped, and \
                         this is logged once until export works again"
                    );
                }
            }
        }
        Ok(())
    }
}

impl<E: SpanExporter> SpanExporter for Watched<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let result = self.inner.export(batch).await;
        self.watch(result)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter> PushMetricExporter for Watched<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        self.watch(result)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

impl<E: LogExporter> LogExporter for Watched<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let result = self.inner.export(batch).await;
        self.watch(result)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_in_log_lines_carry_no_credentials_nor_query() {
        let endpoint = "https://user:s3cret@collector:4318/v1/traces?api_key=k3y";
        let shown = shown(endpoint);
        assert_eq!(shown, "https://user:***@collector:4318/v1/traces?…");
        let error = format!("error sending request for url ({endpoint})");
        let scrubbed = scrubbed(&error, endpoint);
        assert!(
            !scrubbed.contains("s3cret") && !scrubbed.contains("k3y"),
            "{scrubbed}"
        );
    }
}
