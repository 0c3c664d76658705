//! The messaging provider's OpenTelemetry export: the binary under the test host with an
//! `otel_config`, delivering messages to a handler component this test serves. Each delivery is
//! a call the provider makes (a client span whose context the component receives), and the
//! delivery counters arrive as metrics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use messaging_provider::client::exports::wasmcloud::messaging::handler;
use messaging_provider::client::wasmcloud::messaging::types::BrokerMessage;
use provider_sdk::transport::{InvocationContext, ServeOptions};
use provider_testing::otlp::proto::tonic::metrics::v1::{metric, number_data_point};
use provider_testing::otlp::{OtlpReceiver, ReceivedMetric, ReceivedSpan};
use provider_testing::{NatsServer, TestHost, TestLink, eventually};

const PROVIDER: &str = "messaging-provider";
const MESSAGES: usize = 5;
const WAIT: Duration = Duration::from_secs(20);

/// A handler component that keeps the `traceparent` of every delivery and fails `fail`.
#[derive(Clone, Default)]
struct Component {
    traceparents: Arc<Mutex<Vec<Option<String>>>>,
}

impl handler::Handler<InvocationContext> for Component {
    async fn handle_message(
        &self,
        cx: InvocationContext,
        msg: BrokerMessage,
    ) -> Result<(), String> {
        self.traceparents
            .lock()
            .unwrap()
            .push(cx.header("traceparent").map(str::to_owned));
        if msg.body.starts_with(b"fail") {
            return Err("failed by the component".to_owned());
        }
        Ok(())
    }
}

fn value(metric: &ReceivedMetric) -> Option<i64> {
    let Some(metric::Data::Sum(sum)) = &metric.metric.data else {
        return None;
    };
    sum.data_points
        .iter()
        .map(|point| match point.value {
            Some(number_data_point::Value::AsInt(value)) => value,
            Some(number_data_point::Value::AsDouble(value)) => value as i64,
            None => 0,
        })
        .max()
}

#[tokio::test]
async fn deliveries_are_client_spans_the_component_continues_and_are_counted() {
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start().unwrap();
    let receiver = OtlpReceiver::start().await.unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(
        TestLink::new(
            PROVIDER,
            "comp",
            "default",
            ("wasmcloud", "messaging"),
            &["handler"],
        )
        .source_config("cluster_uris", &bus.url())
        .source_config("subscriptions", "events"),
    )
    .with_otel_config(serde_json::json!({
        "enable_traces": true,
        "enable_metrics": true,
        "observability_endpoint": receiver.http_endpoint(),
    }))
    .with_otel_env("OTEL_BSP_SCHEDULE_DELAY", "100")
    .with_otel_env("OTEL_METRIC_EXPORT_INTERVAL", "200");
    let component = Component::default();
    let server = host
        .transport()
        .server(ServeOptions::new(format!("{}.comp", host.lattice())));
    let _serving = handler::serve(&server, component.clone()).await.unwrap();
    let provider = host
        .spawn(env!("CARGO_BIN_EXE_messaging-provider").as_ref())
        .await
        .unwrap();

    // Published until the subscription is in place, then the rest.
    let publisher = bus.connect().await.unwrap();
    let delivered = || component.traceparents.lock().unwrap().len();
    assert!(
        eventually(|| async {
            publisher
                .publish("events", Bytes::from_static(b"probe"))
                .await
                .unwrap();
            publisher.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            delivered() > 0
        })
        .await,
        "nothing was delivered; the provider's log:\n{}",
        provider.logs()
    );
    for n in 0..MESSAGES {
        publisher
            .publish("events", format!("m{n}").into())
            .await
            .unwrap();
    }
    publisher.publish("events", "fail".into()).await.unwrap();
    publisher.flush().await.unwrap();
    let before = delivered();
    assert!(eventually(|| async { delivered() > before + MESSAGES }).await);

    // Every delivery is a client span, and its context is what the component received.
    let handle = |span: &ReceivedSpan| {
        span.span.name == "wasmcloud:messaging/handler@0.2.0/handle-message" && span.span.kind == 3
    };
    let spans = receiver
        .wait_for_spans(|span| handle(span), WAIT)
        .await
        .unwrap_or_else(|error| panic!("{error}; the provider's log:\n{}", provider.logs()));
    let received = component.traceparents.lock().unwrap().clone();
    let last = received.last().cloned().flatten().expect("a traceparent");
    let (trace_id, span_id) = (&last[3..35], &last[36..52]);
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let spans = receiver
        .wait_for_spans(
            |span| handle(span) && hex(&span.span.span_id) == span_id,
            WAIT,
        )
        .await
        .unwrap_or_else(|error| panic!("{error}: no client span {span_id} among {spans:#?}"));
    assert_eq!(hex(&spans[0].span.trace_id), trace_id);
    assert_eq!(
        spans[0].attribute("rpc.method").as_deref(),
        Some("handle-message")
    );

    // The delivery counters: all but the failing one delivered, that one a handler error.
    for (name, at_least) in [
        ("messaging.deliveries", MESSAGES as i64),
        ("messaging.handler_errors", 1),
    ] {
        let counted = receiver
            .wait_for_metrics(
                |m| m.metric.name == name && value(m) >= Some(at_least),
                WAIT,
            )
            .await;
        assert!(counted.is_ok(), "{name}: {counted:?}");
    }
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
}
