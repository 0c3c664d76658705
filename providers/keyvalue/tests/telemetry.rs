//! The keyvalue provider's OpenTelemetry export, as a wasmCloud host configures it: the provider
//! binary started through the SDK's test host with an `otel_config`, exporting to a receiver
//! that decodes the real OTLP requests.

use std::time::{Duration, Instant};

use keyvalue_provider::client::wrpc::keyvalue::store;
use provider_sdk::transport::Client;
use provider_testing::otlp::proto::tonic::metrics::v1::{metric, number_data_point};
use provider_testing::otlp::{self, OtlpReceiver, ReceivedMetric, ReceivedSpan};
use provider_testing::{ChildProvider, NatsServer, TestHost, TestLink, eventually};

const PROVIDER: &str = "keyvalue-provider";
const STORE: &str = "wrpc:keyvalue/store@0.2.0-draft";
/// The caller's trace and span, as a component's host would send them.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";
const WAIT: Duration = Duration::from_secs(20);

fn link() -> TestLink {
    TestLink::new(
        "comp-a",
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    )
}

/// A host on `nats` whose provider exports everything to `endpoint` over HTTP, quickly.
async fn host_exporting_to(nats: &NatsServer, endpoint: Option<String>) -> TestHost {
    host_exporting_over(nats, endpoint, "Http").await
}

/// A host on `nats` whose provider exports everything to `endpoint` over `protocol` (as hosts
/// spell it), quickly.
async fn host_exporting_over(
    nats: &NatsServer,
    endpoint: Option<String>,
    protocol: &str,
) -> TestHost {
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(link());
    if let Some(endpoint) = endpoint {
        host.with_otel_config(serde_json::json!({
            "enable_observability": true,
            "observability_endpoint": endpoint,
            "protocol": protocol,
        }))
        .with_otel_env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .with_otel_env("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .with_otel_env("OTEL_METRIC_EXPORT_INTERVAL", "200");
    }
    host
}

async fn spawn(host: &TestHost) -> ChildProvider {
    host.spawn(env!("CARGO_BIN_EXE_keyvalue-provider").as_ref())
        .await
        .unwrap()
}

async fn until_served(kv: &Client, provider: &ChildProvider) {
    assert!(
        eventually(|| async { matches!(store::set(kv, "b", "ready", b"1").await, Ok(Ok(()))) })
            .await,
        "the provider never served; its log:\n{}",
        provider.logs()
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The value of a sum's data point whose attributes include all of `with`.
fn sum_point(metric: &ReceivedMetric, with: &[(&str, &str)]) -> Option<i64> {
    let Some(metric::Data::Sum(sum)) = &metric.metric.data else {
        return None;
    };
    sum.data_points
        .iter()
        .filter(|point| {
            with.iter()
                .all(|(k, v)| otlp::attribute(&point.attributes, k).as_deref() == Some(*v))
        })
        .map(|point| match point.value {
            Some(number_data_point::Value::AsInt(value)) => value,
            Some(number_data_point::Value::AsDouble(value)) => value as i64,
            None => 0,
        })
        .max()
}

/// How many durations a histogram's data point whose attributes include all of `with` holds.
fn histogram_count(metric: &ReceivedMetric, with: &[(&str, &str)]) -> Option<u64> {
    let Some(metric::Data::Histogram(histogram)) = &metric.metric.data else {
        return None;
    };
    histogram
        .data_points
        .iter()
        .filter(|point| {
            with.iter()
                .all(|(k, v)| otlp::attribute(&point.attributes, k).as_deref() == Some(*v))
        })
        .map(|point| point.count)
        .max()
}

/// How a test reads a metric's data points: `sum_point` or `histogram_count`.
type Reading<T> = fn(&ReceivedMetric, &[(&str, &str)]) -> Option<T>;

/// Asserts that a metric named `name` arrives whose data points (those with all of `with`)
/// `read` finds `wanted`: `sum_point` or `histogram_count` compared by `wanted`.
async fn metric_arrives<T: std::fmt::Debug>(
    receiver: &OtlpReceiver,
    name: &str,
    with: &[(&str, &str)],
    read: Reading<T>,
    wanted: impl Fn(Option<T>) -> bool,
) {
    let arrived = receiver
        .wait_for_metrics(|m| m.metric.name == name && wanted(read(m, with)), WAIT)
        .await;
    assert!(arrived.is_ok(), "{name} {with:?}: {arrived:?}");
}

#[tokio::test]
async fn a_call_is_a_server_span_in_the_callers_trace_with_its_measurements_and_logs() {
    let nats = NatsServer::start().unwrap();
    let receiver = OtlpReceiver::start().await.unwrap();
    let host = host_exporting_to(&nats, Some(receiver.http_endpoint())).await;
    let provider = spawn(&host).await;
    let kv = host.component("comp-a", "default").unwrap();
    until_served(&kv, &provider).await;

    let traced = kv
        .clone()
        .with_header("traceparent", &format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .unwrap();
    store::set(&traced, "b", "k", b"v").await.unwrap().unwrap();
    let got = store::get(&traced, "b", "k").await.unwrap().unwrap();
    assert_eq!(got.as_deref(), Some(&b"v"[..]));

    // The server span: named `<interface>/<function>`, in the caller's trace, the caller's span
    // its parent, with the RPC conventions and who called over which link.
    let is_get = |span: &ReceivedSpan| span.span.name == format!("{STORE}/get");
    let spans = match receiver.wait_for_spans(is_get, WAIT).await {
        Ok(spans) => spans,
        Err(error) => panic!("{error}; the provider's log:\n{}", provider.logs()),
    };
    let get = spans
        .iter()
        .find(|span| hex(&span.span.trace_id) == TRACE_ID)
        .unwrap_or_else(|| panic!("no get span in the caller's trace: {spans:#?}"));
    assert_eq!(hex(&get.span.parent_span_id), CALLER_SPAN_ID);
    assert_eq!(get.span.kind, 2, "SPAN_KIND_SERVER");
    assert_ne!(hex(&get.span.span_id), CALLER_SPAN_ID);
    for (key, value) in [
        ("rpc.system", "wrpc"),
        ("rpc.service", STORE),
        ("rpc.method", "get"),
        ("wasmcloud.source_id", "comp-a"),
        ("wasmcloud.link_name", "default"),
        ("wrpc.outcome", "ok"),
    ] {
        assert_eq!(
            get.attribute(key).as_deref(),
            Some(value),
            "{key}: {get:#?}"
        );
    }
    assert_eq!(get.service_name().as_deref(), Some(PROVIDER));
    assert_eq!(
        otlp::attribute(&get.resource, "wasmcloud.provider.id").as_deref(),
        Some(PROVIDER)
    );
    assert!(
        get.span.end_time_unix_nano >= get.span.start_time_unix_nano,
        "{get:#?}"
    );
    // No configuration value or endpoint in any attribute.
    for span in receiver.spans() {
        for attribute in &span.span.attributes {
            let shown = format!("{:?}", attribute.value);
            assert!(!shown.contains("127.0.0.1"), "{span:#?}");
        }
    }

    // The link the provider started with is a span with its event.
    let link_put = |span: &ReceivedSpan| span.span.name == "wasmcloud/link.put";
    let puts = receiver.wait_for_spans(link_put, WAIT).await.unwrap();
    assert_eq!(
        puts[0].attribute("wasmcloud.link.source_id").as_deref(),
        Some("comp-a")
    );
    assert_eq!(puts[0].span.events.len(), 1, "{:#?}", puts[0]);
    assert_eq!(puts[0].span.events[0].name, "applied");

    // The invocation counter by function and outcome, and the duration histogram.
    let get_ok = [("rpc.method", "get"), ("wrpc.outcome", "ok")];
    let target = [("wasmcloud.link.role", "target")];
    let at_least_one = |n: Option<i64>| n >= Some(1);
    metric_arrives(
        &receiver,
        "wrpc.server.invocations",
        &get_ok,
        sum_point,
        at_least_one,
    )
    .await;
    let counted = |n: Option<u64>| n >= Some(1);
    metric_arrives(
        &receiver,
        "rpc.server.call.duration",
        &get_ok,
        histogram_count,
        counted,
    )
    .await;
    let one = |n| n == Some(1);
    metric_arrives(
        &receiver,
        "wasmcloud.provider.links",
        &target,
        sum_point,
        one,
    )
    .await;
    // The provider's own: operations by backend and operation.
    let memory_get = [
        ("keyvalue.backend", "memory"),
        ("keyvalue.operation", "get"),
    ];
    metric_arrives(
        &receiver,
        "keyvalue.operations",
        &memory_get,
        sum_point,
        at_least_one,
    )
    .await;

    // The runtime's log lines arrive as log records.
    let logged = receiver
        .wait_for_logs(
            |log| {
                log.body()
                    .is_some_and(|body| body.contains("link in effect"))
            },
            WAIT,
        )
        .await;
    assert!(logged.is_ok(), "{logged:?}");

    // A caller without a link is refused before any handler runs, and counted.
    let stranger = host.component("comp-x", "default").unwrap();
    assert!(store::get(&stranger, "b", "k").await.is_err());
    let get = [("rpc.method", "get")];
    metric_arrives(
        &receiver,
        "wrpc.server.refused",
        &get,
        sum_point,
        at_least_one,
    )
    .await;
    // Nothing is running now: the in-flight count is back to nothing.
    let none = |n| n == Some(0);
    metric_arrives(&receiver, "wrpc.server.in_flight", &get, sum_point, none).await;

    // Deleting the link is a span with its event, and the link count goes back to none.
    host.delete_link(&link()).await.unwrap();
    let deleted = receiver
        .wait_for_spans(|span| span.span.name == "wasmcloud/link.delete", WAIT)
        .await;
    assert!(deleted.is_ok(), "{deleted:?}");
    metric_arrives(
        &receiver,
        "wasmcloud.provider.links",
        &target,
        sum_point,
        none,
    )
    .await;

    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
}

#[tokio::test]
async fn a_collector_that_is_down_does_not_slow_calls_nor_hold_up_shutdown() {
    const CALLS: u32 = 200;
    let nats = NatsServer::start().unwrap();
    let blackhole = otlp::Blackhole::start().await.unwrap();
    let hanging = host_exporting_to(&nats, Some(blackhole.endpoint())).await;
    let plain = host_exporting_to(&nats, None).await;
    let hanging_provider = spawn(&hanging).await;
    let plain_provider = spawn(&plain).await;
    let through_hanging = hanging.component("comp-a", "default").unwrap();
    let through_plain = plain.component("comp-a", "default").unwrap();
    until_served(&through_hanging, &hanging_provider).await;
    until_served(&through_plain, &plain_provider).await;

    // Interleaved, so that both see the same machine.
    let mut took = [Duration::ZERO; 2];
    for _ in 0..CALLS {
        for (slot, kv) in [&through_hanging, &through_plain].into_iter().enumerate() {
            let started = Instant::now();
            store::set(kv, "b", "k", b"v").await.unwrap().unwrap();
            took[slot] += started.elapsed();
        }
    }
    let [hanging_took, plain_took] = took;
    // Were an invocation to wait for export, each would take the export timeout (10 s).
    assert!(
        hanging_took < plain_took * 3 + Duration::from_secs(1),
        "{CALLS} calls took {hanging_took:?} exporting to a collector that never answers, \
         {plain_took:?} exporting nothing"
    );

    // The flush before the answer takes at most 2 s, and the process ends right after.
    let asked = Instant::now();
    assert_eq!(hanging.shutdown().await.unwrap(), "shutting down");
    let answered = asked.elapsed();
    assert!(
        answered < Duration::from_secs(4),
        "answered after {answered:?}"
    );
    let mut hanging_provider = hanging_provider;
    let exited = hanging_provider.wait(Duration::from_secs(5)).await;
    assert!(
        exited.as_ref().is_ok_and(|status| status.success()),
        "{exited:?}; its log:\n{}",
        hanging_provider.logs()
    );
    assert_eq!(plain.shutdown().await.unwrap(), "shutting down");
}

#[tokio::test]
async fn a_collector_that_refuses_connections_is_logged_once_per_signal() {
    let nats = NatsServer::start().unwrap();
    let host = host_exporting_to(&nats, Some(otlp::dead_endpoint())).await;
    let mut provider = spawn(&host).await;
    let kv = host.component("comp-a", "default").unwrap();
    until_served(&kv, &provider).await;
    // Batches go every 100-200 ms: a couple of seconds of calls make a dozen failed exports.
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        store::set(&kv, "b", "k", b"v").await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let exited = provider.wait(Duration::from_secs(5)).await;
    assert!(exited.is_ok_and(|status| status.success()));
    let logs = provider.logs();
    let told = logs.matches("cannot export over OTLP").count();
    // Once for each of traces, metrics and logs, not once per batch.
    assert!((1..=3).contains(&told), "told {told} times:\n{logs}");
}

#[tokio::test]
async fn a_host_that_asks_for_grpc_gets_its_spans_over_grpc() {
    let nats = NatsServer::start().unwrap();
    let receiver = OtlpReceiver::start().await.unwrap();
    let host = host_exporting_over(&nats, Some(receiver.grpc_endpoint()), "Grpc").await;
    let provider = spawn(&host).await;
    let kv = host.component("comp-a", "default").unwrap();
    until_served(&kv, &provider).await;
    let is_set = |span: &ReceivedSpan| span.span.name == format!("{STORE}/set");
    let spans = receiver.wait_for_spans(is_set, WAIT).await;
    assert!(
        spans.is_ok(),
        "{spans:?}; the provider's log:\n{}",
        provider.logs()
    );
    assert!(receiver.requests(otlp::Signal::Traces, otlp::Protocol::Grpc) > 0);
    assert_eq!(
        receiver.requests(otlp::Signal::Traces, otlp::Protocol::Http),
        0
    );
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
}

#[tokio::test]
async fn nothing_is_exported_when_the_host_does_not_ask_whatever_the_environment_says() {
    let nats = NatsServer::start().unwrap();
    let receiver = OtlpReceiver::start().await.unwrap();
    let host = host_exporting_to(&nats, None).await;
    // A host passes its own OTEL_* variables through; its otel_config (none here) decides.
    host.with_otel_env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.http_endpoint())
        .with_otel_env("OTEL_TRACES_EXPORTER", "otlp")
        .with_otel_env("OTEL_BSP_SCHEDULE_DELAY", "100");
    let mut provider = spawn(&host).await;
    let kv = host.component("comp-a", "default").unwrap();
    until_served(&kv, &provider).await;
    for _ in 0..20 {
        store::set(&kv, "b", "k", b"v").await.unwrap().unwrap();
    }
    // Shutting down flushes whatever would have been exported, before the answer.
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    assert!(provider.wait(Duration::from_secs(5)).await.is_ok());
    for signal in [
        otlp::Signal::Traces,
        otlp::Signal::Metrics,
        otlp::Signal::Logs,
    ] {
        for protocol in [otlp::Protocol::Http, otlp::Protocol::Grpc] {
            assert_eq!(
                receiver.requests(signal, protocol),
                0,
                "{signal} over {protocol:?}"
            );
        }
    }
}
