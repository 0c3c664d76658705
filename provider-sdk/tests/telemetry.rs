//! A call a handler makes, traced: export installed in this process (it is one per process,
//! hence a test binary of its own) to an OTLP receiver over gRPC, a function that calls another
//! over NATS, and the four spans that makes (client and server span of each call), each the
//! parent of the next; and the handler's log line, exported with its invocation's ids.

use std::time::Duration;

use provider_sdk::telemetry::{Destination, Protocol, Sampler, TelemetryConfig};
use provider_sdk::transport::{Client, ServeOptions, Transport};
use provider_testing::NatsServer;
use provider_testing::otlp::{OtlpReceiver, ReceivedSpan};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN_ID: &str = "b7ad6b7169203331";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handlers_call_is_a_client_span_whose_context_the_callee_continues() {
    let nats = NatsServer::start().unwrap();
    let receiver = OtlpReceiver::start().await.unwrap();
    let config = TelemetryConfig {
        traces: Some(Destination {
            endpoint: receiver.grpc_endpoint(),
            protocol: Protocol::Grpc,
        }),
        metrics: None,
        logs: Some(Destination {
            endpoint: receiver.grpc_endpoint(),
            protocol: Protocol::Grpc,
        }),
        service_name: "telemetry-test".into(),
        sampler: Sampler::default(),
        trace_level: tracing::Level::INFO,
        ca_paths: Vec::new(),
        max_queue_size: None,
    };
    let logs =
        provider_sdk::telemetry::install(&config, vec![("wasmcloud.lattice", "test".into())])
            .unwrap();
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        tracing_subscriber::registry()
            .with(logs)
            .with(tracing_subscriber::EnvFilter::new("info"))
            .init();
    }

    let transport = Transport::nats(nats.connect().await.unwrap())
        .await
        .unwrap();
    let server = transport.server(ServeOptions::new("tel"));
    let _inner = server
        .serve_fn(
            "test:app/inner",
            "echo",
            |_cx, (text,): (String,)| async move { (text,) },
        )
        .await
        .unwrap();
    let onward: Client = transport.client("tel");
    let _outer = server
        .serve_fn("test:app/outer", "relay", move |_cx, (text,): (String,)| {
            let onward = onward.clone();
            async move {
                tracing::info!("relaying");
                let echoed: Result<(String,), _> =
                    onward.invoke("test:app/inner", "echo", (text,)).await;
                (echoed.map(|(text,)| text).unwrap_or_default(),)
            }
        })
        .await
        .unwrap();

    // The caller sends a trace of its own, as a component's host would: the caller's client
    // (this process exports too) records a client span as its child and sends that instead.
    let caller = transport
        .client("tel")
        .with_header("traceparent", &format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .unwrap();
    let (relayed,): (String,) = caller
        .invoke("test:app/outer", "relay", ("hi",))
        .await
        .unwrap();
    assert_eq!(relayed, "hi");
    provider_sdk::telemetry::flush(Duration::from_secs(5)).await;

    let wait = Duration::from_secs(10);
    // The spans of one function's call: its client span (kind 3) and its server span (kind 2).
    let spans_of = |name: &'static str| {
        let receiver = &receiver;
        async move {
            let in_trace = |span: &ReceivedSpan| {
                span.span.name == name && hex(&span.span.trace_id) == TRACE_ID
            };
            let spans = receiver.wait_for_spans(in_trace, wait).await.unwrap();
            let of_kind = |kind: i32| {
                spans
                    .iter()
                    .find(|span| span.span.kind == kind)
                    .cloned()
                    .unwrap_or_else(|| panic!("no {name} span of kind {kind} in {spans:#?}"))
            };
            (of_kind(3), of_kind(2))
        }
    };
    let (relay_call, outer) = spans_of("test:app/outer/relay").await;
    let (echo_call, inner) = spans_of("test:app/inner/echo").await;
    assert_eq!(hex(&relay_call.span.parent_span_id), CALLER_SPAN_ID);
    assert_eq!(
        outer.span.parent_span_id, relay_call.span.span_id,
        "{outer:#?}"
    );
    assert_eq!(
        echo_call.span.parent_span_id, outer.span.span_id,
        "{echo_call:#?}"
    );
    assert_eq!(
        inner.span.parent_span_id, echo_call.span.span_id,
        "{inner:#?}"
    );
    assert_eq!(echo_call.attribute("rpc.method").as_deref(), Some("echo"));
    assert_eq!(echo_call.attribute("rpc.system").as_deref(), Some("wrpc"));
    assert_eq!(echo_call.attribute("wrpc.outcome").as_deref(), Some("ok"));
    assert_eq!(outer.service_name().as_deref(), Some("telemetry-test"));
    assert!(
        receiver.requests(
            provider_testing::otlp::Signal::Traces,
            provider_testing::otlp::Protocol::Grpc
        ) > 0
    );

    // The handler's log line carries its invocation's trace and span.
    let logged = receiver
        .wait_for_logs(|log| log.body().as_deref() == Some("relaying"), wait)
        .await
        .unwrap();
    assert_eq!(hex(&logged[0].log.trace_id), TRACE_ID, "{logged:#?}");
    assert_eq!(logged[0].log.span_id, outer.span.span_id, "{logged:#?}");
}
