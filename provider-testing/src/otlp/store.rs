//! What the receiver has decoded, flattened to one item per span, metric or log record, and
//! bounded; shared by both servers and the test.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::sync::Notify;

use super::{Protocol, Signal, WaitTimeout};

/// How many items of one signal the receiver keeps; later ones are counted, not kept.
pub const CAPACITY: usize = 100_000;

/// A span as received, with the resource and scope it was exported under.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// The attributes of the resource (`service.name` and the like).
    pub resource: Vec<KeyValue>,
    /// The name of the instrumentation scope (the tracer's name).
    pub scope: String,
    /// The span itself.
    pub span: Span,
}

/// A metric as received, with the resource and scope it was exported under.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMetric {
    /// The attributes of the resource.
    pub resource: Vec<KeyValue>,
    /// The name of the instrumentation scope (the meter's name).
    pub scope: String,
    /// The metric, with its data points (whose attributes are per point).
    pub metric: Metric,
}

/// A log record as received, with the resource and scope it was exported under.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedLog {
    /// The attributes of the resource.
    pub resource: Vec<KeyValue>,
    /// The name of the instrumentation scope (the logger's name).
    pub scope: String,
    /// The log record itself.
    pub log: LogRecord,
}

impl ReceivedSpan {
    /// The span's attribute `key`, as text (see [`attribute`]).
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.span.attributes, key)
    }

    /// The resource's `service.name`.
    pub fn service_name(&self) -> Option<String> {
        attribute(&self.resource, "service.name")
    }
}

impl ReceivedMetric {
    /// The resource's `service.name`.
    pub fn service_name(&self) -> Option<String> {
        attribute(&self.resource, "service.name")
    }
}

impl ReceivedLog {
    /// The record's attribute `key`, as text (see [`attribute`]).
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.log.attributes, key)
    }

    /// The record's body, as text (see [`attribute`]).
    pub fn body(&self) -> Option<String> {
        self.log.body.as_ref().and_then(render)
    }

    /// The resource's `service.name`.
    pub fn service_name(&self) -> Option<String> {
        attribute(&self.resource, "service.name")
    }
}

/// The value of attribute `key` among `attributes` as text, if it is a string, an integer, a
/// boolean or a double (`None` for arrays, maps, bytes, or no such attribute).
pub fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()
        .and_then(render)
}

fn render(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(text) => Some(text.clone()),
        any_value::Value::BoolValue(value) => Some(value.to_string()),
        any_value::Value::IntValue(value) => Some(value.to_string()),
        any_value::Value::DoubleValue(value) => Some(value.to_string()),
        _ => None,
    }
}

/// One kind of received item: where the store keeps it, and how a timeout names it.
pub(super) trait Received: Clone {
    const SIGNAL: Signal;
    fn list(items: &mut Items) -> &mut Vec<Self>;
    fn label(&self) -> String;
}

impl Received for ReceivedSpan {
    const SIGNAL: Signal = Signal::Traces;
    fn list(items: &mut Items) -> &mut Vec<Self> {
        &mut items.spans
    }
    fn label(&self) -> String {
        self.span.name.clone()
    }
}

impl Received for ReceivedMetric {
    const SIGNAL: Signal = Signal::Metrics;
    fn list(items: &mut Items) -> &mut Vec<Self> {
        &mut items.metrics
    }
    fn label(&self) -> String {
        self.metric.name.clone()
    }
}

impl Received for ReceivedLog {
    const SIGNAL: Signal = Signal::Logs;
    fn list(items: &mut Items) -> &mut Vec<Self> {
        &mut items.logs
    }
    fn label(&self) -> String {
        self.body().unwrap_or_else(|| self.log.event_name.clone())
    }
}

#[derive(Debug, Default)]
pub(super) struct Items {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    logs: Vec<ReceivedLog>,
    /// Indexed by `Signal as usize`.
    dropped: [u64; 3],
    /// Indexed by `[Signal as usize][Protocol as usize]`.
    requests: [[u64; 2]; 3],
}

#[derive(Debug, Default)]
pub(super) struct Store {
    items: Mutex<Items>,
    /// Wakes the waits whenever something is stored.
    arrived: Notify,
}

impl Store {
    pub(super) fn add_traces(&self, protocol: Protocol, request: ExportTraceServiceRequest) {
        let mut spans = Vec::new();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default().attributes;
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.unwrap_or_default().name;
                spans.extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    span,
                }));
            }
        }
        self.add(protocol, spans);
    }

    pub(super) fn add_metrics(&self, protocol: Protocol, request: ExportMetricsServiceRequest) {
        let mut metrics = Vec::new();
        for resource_metrics in request.resource_metrics {
            let resource = resource_metrics.resource.unwrap_or_default().attributes;
            for scope_metrics in resource_metrics.scope_metrics {
                let scope = scope_metrics.scope.unwrap_or_default().name;
                metrics.extend(
                    scope_metrics
                        .metrics
                        .into_iter()
                        .map(|metric| ReceivedMetric {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            metric,
                        }),
                );
            }
        }
        self.add(protocol, metrics);
    }

    pub(super) fn add_logs(&self, protocol: Protocol, request: ExportLogsServiceRequest) {
        let mut logs = Vec::new();
        for resource_logs in request.resource_logs {
            let resource = resource_logs.resource.unwrap_or_default().attributes;
            for scope_logs in resource_logs.scope_logs {
                let scope = scope_logs.scope.unwrap_or_default().name;
                logs.extend(scope_logs.log_records.into_iter().map(|log| ReceivedLog {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    log,
                }));
            }
        }
        self.add(protocol, logs);
    }

    fn add<T: Received>(&self, protocol: Protocol, new: Vec<T>) {
        {
            let mut items = self.lock();
            let items = &mut *items;
            items.requests[T::SIGNAL as usize][protocol as usize] += 1;
            let list = T::list(items);
            let room = CAPACITY.saturating_sub(list.len());
            let dropped = new.len().saturating_sub(room);
            list.extend(new.into_iter().take(room));
            items.dropped[T::SIGNAL as usize] += dropped as u64;
        }
        self.arrived.notify_waiters();
    }

    pub(super) fn all<T: Received>(&self) -> Vec<T> {
        T::list(&mut self.lock()).clone()
    }

    pub(super) fn requests(&self, signal: Signal, protocol: Protocol) -> u64 {
        self.lock().requests[signal as usize][protocol as usize]
    }

    pub(super) fn dropped(&self, signal: Signal) -> u64 {
        self.lock().dropped[signal as usize]
    }

    /// Everything received that matches, as soon as something does.
    pub(super) async fn wait_for<T: Received>(
        &self,
        matches: impl Fn(&T) -> bool,
        timeout: Duration,
    ) -> Result<Vec<T>, WaitTimeout> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so an arrival between the look and the wait wakes it.
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let matched: Vec<T> = T::list(&mut self.lock())
                .iter()
                .filter(|item| matches(item))
                .cloned()
                .collect();
            if !matched.is_empty() {
                return Ok(matched);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let mut items = self.lock();
                let received = T::list(&mut items);
                return Err(WaitTimeout {
                    signal: T::SIGNAL,
                    waited: timeout,
                    received: received.len(),
                    first: received.iter().take(20).map(T::label).collect(),
                });
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Items> {
        // A test that panicked while holding the lock leaves counts that are still valid.
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    use super::*;

    fn value(value: any_value::Value) -> KeyValue {
        KeyValue {
            key: "key".to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn attributes_render_as_text_if_scalar() {
        let render = |v| attribute(&[value(v)], "key");
        assert_eq!(
            render(any_value::Value::StringValue("a".into())),
            Some("a".into())
        );
        assert_eq!(render(any_value::Value::IntValue(-7)), Some("-7".into()));
        assert_eq!(
            render(any_value::Value::BoolValue(false)),
            Some("false".into())
        );
        assert_eq!(
            render(any_value::Value::DoubleValue(1.5)),
            Some("1.5".into())
        );
        assert_eq!(render(any_value::Value::BytesValue(vec![1])), None);
        assert_eq!(attribute(&[], "key"), None);
    }

    #[test]
    fn the_store_keeps_up_to_its_capacity_and_counts_the_rest() {
        let store = Store::default();
        let export = |spans: usize| ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span::default(); spans],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        store.add_traces(Protocol::Http, export(CAPACITY - 1));
        store.add_traces(Protocol::Grpc, export(3));
        store.add_traces(Protocol::Grpc, export(1));
        assert_eq!(store.all::<ReceivedSpan>().len(), CAPACITY);
        assert_eq!(store.dropped(Signal::Traces), 3);
        assert_eq!(store.requests(Signal::Traces, Protocol::Http), 1);
        assert_eq!(store.requests(Signal::Traces, Protocol::Grpc), 2);
        assert_eq!(store.dropped(Signal::Logs), 0);
    }
}
