//! The OTLP receiver against the real OpenTelemetry exporters, over OTLP/HTTP and OTLP/gRPC.
//!
//! The SDK's batch processors and periodic reader export from threads of their own; flushing
//! blocks until the export is answered, so it runs on a blocking thread while the runtime's
//! workers serve the receiver. The HTTP exporter's reqwest blocking client must never run on a
//! runtime thread (it panics in debug builds), which the processors' threads guarantee.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, SpanExporter, WithExportConfig as _, WithHttpConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use provider_testing::otlp::proto::tonic::logs::v1::SeverityNumber;
use provider_testing::otlp::proto::tonic::metrics::v1::{metric, number_data_point};
use provider_testing::otlp::proto::tonic::trace::v1::span;
use provider_testing::otlp::{Blackhole, OtlpReceiver, Protocol, Signal, attribute, dead_endpoint};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn resource(service: &'static str) -> Resource {
    Resource::builder_empty().with_service_name(service).build()
}

/// A blocking HTTP client with TLS by ring, as provider-sdk makes its own: in the workspace,
/// reqwest is built without a default crypto provider (`rustls-no-provider`), so the
/// exporter's default client would panic. Made on a thread of its own, as reqwest asks.
fn http_client() -> reqwest::blocking::Client {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS 1.2 and 1.3 with ring")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
    })
    .join()
    .expect("making the client does not panic")
    .expect("a blocking client")
}

fn span_exporter(receiver: &OtlpReceiver, protocol: Protocol) -> SpanExporter {
    match protocol {
        Protocol::Http => SpanExporter::builder()
            .with_http()
            .with_http_client(http_client())
            .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
            .build(),
        Protocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build(),
    }
    .expect("an exporter to the receiver")
}

fn metric_exporter(receiver: &OtlpReceiver, protocol: Protocol) -> MetricExporter {
    match protocol {
        Protocol::Http => MetricExporter::builder()
            .with_http()
            .with_http_client(http_client())
            .with_endpoint(format!("{}/v1/metrics", receiver.http_endpoint()))
            .build(),
        Protocol::Grpc => MetricExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build(),
    }
    .expect("an exporter to the receiver")
}

fn log_exporter(receiver: &OtlpReceiver, protocol: Protocol) -> LogExporter {
    match protocol {
        Protocol::Http => LogExporter::builder()
            .with_http()
            .with_http_client(http_client())
            .with_endpoint(format!("{}/v1/logs", receiver.http_endpoint()))
            .build(),
        Protocol::Grpc => LogExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build(),
    }
    .expect("an exporter to the receiver")
}

/// Runs `flush` (a provider's `force_flush` or `shutdown`) where blocking is allowed.
async fn blocking(flush: impl FnOnce() -> OTelSdkResult + Send + 'static) {
    tokio::task::spawn_blocking(flush)
        .await
        .expect("the flush does not panic")
        .expect("the export succeeds");
}

/// Exports one span over `protocol` and checks what the receiver decoded.
async fn span_round_trip(protocol: Protocol) {
    let receiver = OtlpReceiver::start().await.unwrap();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(span_exporter(&receiver, protocol))
        .with_resource(resource("span-test"))
        .build();
    let tracer = provider.tracer("otlp-test-tracer");
    let mut sent = tracer
        .span_builder("link.put")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("link.name", "default"),
            KeyValue::new("link.count", 3_i64),
            KeyValue::new("link.new", true),
        ])
        .start(&tracer);
    let trace_id = sent.span_context().trace_id().to_bytes();
    let span_id = sent.span_context().span_id().to_bytes();
    sent.end();

    let flushing = provider.clone();
    let (waited, ()) = tokio::join!(
        receiver.wait_for_spans(|span| span.span.name == "link.put", WAIT),
        blocking(move || flushing.force_flush()),
    );
    let spans = waited.expect("the span arrives");
    assert_eq!(spans.len(), 1);
    let received = &spans[0];
    assert_eq!(received.span.trace_id, trace_id);
    assert_eq!(received.span.span_id, span_id);
    assert_eq!(received.span.kind, span::SpanKind::Server as i32);
    assert_eq!(received.attribute("link.name").as_deref(), Some("default"));
    assert_eq!(received.attribute("link.count").as_deref(), Some("3"));
    assert_eq!(received.attribute("link.new").as_deref(), Some("true"));
    assert_eq!(received.attribute("absent"), None);
    assert_eq!(received.service_name().as_deref(), Some("span-test"));
    assert_eq!(received.scope, "otlp-test-tracer");
    assert_eq!(receiver.spans(), spans);
    let timeout = receiver
        .wait_for_spans(|span| span.span.name == "absent", Duration::from_millis(50))
        .await
        .expect_err("no such span was sent");
    assert_eq!(
        (timeout.received, timeout.first),
        (1, vec!["link.put".to_owned()])
    );

    let other = match protocol {
        Protocol::Http => Protocol::Grpc,
        Protocol::Grpc => Protocol::Http,
    };
    assert_eq!(receiver.requests(Signal::Traces, protocol), 1);
    assert_eq!(receiver.requests(Signal::Traces, other), 0);
    assert_eq!(receiver.requests(Signal::Logs, protocol), 0);
    assert_eq!(receiver.dropped(Signal::Traces), 0);
    blocking(move || provider.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_exported_over_http_is_decoded() {
    span_round_trip(Protocol::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_exported_over_grpc_is_decoded() {
    span_round_trip(Protocol::Grpc).await;
}

/// Adds 3 to a counter, exports it over `protocol` and checks what the receiver decoded.
async fn counter_round_trip(protocol: Protocol) {
    let receiver = OtlpReceiver::start().await.unwrap();
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(metric_exporter(&receiver, protocol))
        .with_resource(resource("metric-test"))
        .build();
    let counter = provider
        .meter("otlp-test-meter")
        .u64_counter("provider.calls")
        .with_unit("{call}")
        .build();
    counter.add(2, &[KeyValue::new("operation", "get")]);
    counter.add(1, &[KeyValue::new("operation", "get")]);

    let flushing = provider.clone();
    blocking(move || flushing.force_flush()).await;
    let metrics = receiver.metrics();
    assert_eq!(metrics.len(), 1, "{metrics:#?}");
    let received = &metrics[0];
    assert_eq!(received.metric.name, "provider.calls");
    assert_eq!(received.metric.unit, "{call}");
    assert_eq!(received.scope, "otlp-test-meter");
    assert_eq!(received.service_name().as_deref(), Some("metric-test"));
    let Some(metric::Data::Sum(sum)) = &received.metric.data else {
        panic!("a counter is a sum: {:?}", received.metric.data);
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.data_points.len(), 1);
    let point = &sum.data_points[0];
    assert_eq!(point.value, Some(number_data_point::Value::AsInt(3)));
    assert_eq!(
        attribute(&point.attributes, "operation").as_deref(),
        Some("get")
    );
    assert_eq!(receiver.requests(Signal::Metrics, protocol), 1);
    blocking(move || provider.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_exported_over_http_is_decoded() {
    counter_round_trip(Protocol::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_exported_over_grpc_is_decoded() {
    counter_round_trip(Protocol::Grpc).await;
}

/// Emits one log record, exports it over `protocol` and checks what the receiver decoded.
async fn log_round_trip(protocol: Protocol) {
    let receiver = OtlpReceiver::start().await.unwrap();
    let provider = SdkLoggerProvider::builder()
        .with_batch_exporter(log_exporter(&receiver, protocol))
        .with_resource(resource("log-test"))
        .build();
    let logger = provider.logger("otlp-test-logger");
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Warn);
    record.set_severity_text("WARN");
    record.set_body(AnyValue::from("link put failed"));
    record.add_attribute("attempt", 2_i64);
    record.add_attribute("ratio", 0.5);
    logger.emit(record);

    let flushing = provider.clone();
    blocking(move || flushing.force_flush()).await;
    let logs = receiver
        .wait_for_logs(|log| log.log.severity_text == "WARN", WAIT)
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    let received = &logs[0];
    assert_eq!(received.body().as_deref(), Some("link put failed"));
    assert_eq!(received.log.severity_number, SeverityNumber::Warn as i32);
    assert_eq!(received.attribute("attempt").as_deref(), Some("2"));
    assert_eq!(received.attribute("ratio").as_deref(), Some("0.5"));
    assert_eq!(received.scope, "otlp-test-logger");
    assert_eq!(received.service_name().as_deref(), Some("log-test"));
    assert_eq!(receiver.requests(Signal::Logs, protocol), 1);
    blocking(move || provider.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_record_exported_over_http_is_decoded() {
    log_round_trip(Protocol::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_record_exported_over_grpc_is_decoded() {
    log_round_trip(Protocol::Grpc).await;
}

/// POSTs `body` to `path` of `endpoint` over HTTP/1.1 and returns the response's status code.
async fn post(endpoint: &str, path: &str, content_type: &str, body: &[u8]) -> u16 {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1).expect("a status line");
    status.parse().unwrap()
}

#[tokio::test]
async fn a_body_that_does_not_decode_gets_400_and_is_not_stored() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let endpoint = receiver.http_endpoint();
    let protobuf = "application/x-protobuf";
    // Field 13 with wire type 6, which protobuf does not have.
    assert_eq!(
        post(&endpoint, "/v1/traces", protobuf, b"not protobuf").await,
        400
    );
    assert_eq!(
        post(&endpoint, "/v1/logs", protobuf, &[0x0a, 0x05]).await,
        400
    );
    assert_eq!(post(&endpoint, "/v1/profiles", protobuf, b"").await, 404);
    assert_eq!(
        post(&endpoint, "/v1/traces", "application/json", b"{}").await,
        415
    );
    assert!(receiver.spans().is_empty());
    assert!(receiver.logs().is_empty());
    assert_eq!(receiver.requests(Signal::Traces, Protocol::Http), 0);
    assert_eq!(receiver.requests(Signal::Logs, Protocol::Http), 0);

    // An empty body is an export request with nothing in it.
    assert_eq!(post(&endpoint, "/v1/metrics", protobuf, b"").await, 200);
    assert_eq!(receiver.requests(Signal::Metrics, Protocol::Http), 1);
    assert!(receiver.metrics().is_empty());
}

#[tokio::test]
async fn a_wait_that_times_out_says_so() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let timeout = receiver
        .wait_for_metrics(|_| true, Duration::from_millis(50))
        .await
        .expect_err("nothing was sent");
    assert_eq!(timeout.signal, Signal::Metrics);
    assert_eq!(timeout.received, 0);
    assert_eq!(
        timeout.to_string(),
        "nothing matching arrived in the metrics received within 50ms: 0 received"
    );
}

#[tokio::test]
async fn the_stand_ins_for_a_missing_collector_refuse_or_hang() {
    let dead = dead_endpoint();
    let refused = TcpStream::connect(dead.trim_start_matches("http://"))
        .await
        .expect_err("nothing listens");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    let blackhole = Blackhole::start().await.unwrap();
    let mut stream = TcpStream::connect(blackhole.endpoint().trim_start_matches("http://"))
        .await
        .expect("the blackhole accepts");
    stream
        .write_all(b"POST /v1/traces HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0; 1];
    let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await;
    assert!(read.is_err(), "no answer and no close: {read:?}");
}

#[tokio::test]
async fn dropping_the_receiver_stops_its_servers() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let endpoints = [receiver.http_endpoint(), receiver.grpc_endpoint()];
    drop(receiver);
    for endpoint in endpoints {
        let addr = endpoint.trim_start_matches("http://").to_owned();
        // The servers are aborted, which takes effect when the runtime next runs them.
        let closed = provider_testing::within(Duration::from_secs(5), || {
            let addr = addr.clone();
            async move { TcpStream::connect(addr).await.is_err() }
        })
        .await;
        assert!(closed.is_some(), "{endpoint} still accepts connections");
    }
}
