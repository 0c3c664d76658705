//! Spans and measurements of invocations served, calls made, and control messages.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue};

use super::installed;
use crate::telemetry::outcome::{self, Outcome};
use crate::telemetry::{ControlChange, Function};
use crate::trace::TraceContext;

/// `rpc.system`, `rpc.service`, `rpc.method`.
fn rpc_attributes(function: &Function) -> [KeyValue; 3] {
    [
        KeyValue::new("rpc.system", "wrpc"),
        KeyValue::new("rpc.service", function.service.clone()),
        KeyValue::new("rpc.method", function.method.clone()),
    ]
}

/// An OpenTelemetry context whose span is `trace`, made by someone else.
fn remote(trace: &TraceContext) -> Context {
    let (trace_id, span_id, flags) = trace.raw();
    let state = trace
        .state()
        .and_then(|state| state.parse::<TraceState>().ok())
        .unwrap_or_default();
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_bytes(trace_id),
        SpanId::from_bytes(span_id),
        TraceFlags::new(flags),
        true,
        state,
    ))
}

/// The context `cx`'s span gives the calls made under it, `tracestate` from `parent`.
fn trace_of(cx: &Context, parent: Option<&TraceContext>) -> Option<TraceContext> {
    let span = cx.span();
    let own = span.span_context();
    own.is_valid().then(|| {
        TraceContext::of_span(
            parent,
            (
                own.trace_id().to_bytes(),
                own.span_id().to_bytes(),
                own.trace_flags().to_u8(),
            ),
        )
    })
}

/// One invocation served: its span (when traces are exported) and its measurements.
pub(crate) struct ServerCall {
    function: Arc<Function>,
    started: Instant,
    /// The caller's context with this invocation's span in it, if traces are exported.
    cx: Option<Context>,
    /// What the handler runs in: `cx`, or (spans off) the caller's trace, for log records.
    scope: Option<Context>,
    trace: Option<TraceContext>,
    ended: bool,
}

impl ServerCall {
    /// Starts the record of an invocation of `function`, in the trace its caller sent. `None`
    /// when nothing is exported.
    pub(crate) fn start(
        function: &Arc<Function>,
        headers: Option<&async_nats::HeaderMap>,
    ) -> Option<Self> {
        let installed = installed()?;
        let caller = headers.and_then(TraceContext::from_headers);
        let header = |name: &'static str| {
            let value = headers?.get(async_nats::HeaderName::from_static(name))?;
            Some(value.as_str().to_owned())
        };
        let cx = installed.tracer.as_ref().map(|tracer| {
            let parent = caller.as_ref().map(remote).unwrap_or_default();
            let mut attributes = rpc_attributes(function).to_vec();
            if let Some(source) = header("source-id") {
                attributes.push(KeyValue::new("wasmcloud.source_id", source));
            }
            if let Some(link) = header("link-name") {
                attributes.push(KeyValue::new("wasmcloud.link_name", link));
            }
            let span = tracer
                .span_builder(function.name.to_string())
                .with_kind(SpanKind::Server)
                .with_attributes(attributes)
                .start_with_context(tracer, &parent);
            parent.with_span(span)
        });
        let trace = match &cx {
            Some(cx) => trace_of(cx, caller.as_ref()),
            None => caller.map(|caller| caller.child()),
        };
        let scope = cx.clone().or_else(|| trace.as_ref().map(remote));
        if let Some(instruments) = &installed.instruments {
            instruments.in_flight.add(1, &rpc_attributes(function)[1..]);
        }
        Some(Self {
            function: Arc::clone(function),
            started: Instant::now(),
            cx,
            scope,
            trace,
            ended: false,
        })
    }

    /// The context calls made by the handler carry: this invocation's span.
    pub(crate) fn trace(&self) -> Option<TraceContext> {
        self.trace.clone()
    }

    /// Runs the handler with this invocation's span current (log records made meanwhile carry
    /// its ids), then ends the record with how it went.
    pub(crate) async fn run(mut self, handler: impl Future<Output = ()>) {
        let outcome = match self.scope.take() {
            Some(cx) => outcome::watch(handler.with_context(cx)).await,
            None => outcome::watch(handler).await,
        };
        self.end(outcome);
    }

    fn end(&mut self, outcome: Outcome) {
        self.ended = true;
        if let Some(cx) = &self.cx {
            let span = cx.span();
            span.set_attribute(KeyValue::new("wrpc.outcome", outcome.as_str()));
            if outcome != Outcome::Ok {
                span.set_status(Status::error(outcome.as_str()));
            }
            span.end();
        }
        let Some(instruments) = installed().and_then(|i| i.instruments.as_ref()) else {
            return;
        };
        let [system, service, method] = rpc_attributes(&self.function);
        let elapsed = self.started.elapsed().as_secs_f64();
        instruments
            .in_flight
            .add(-1, &[service.clone(), method.clone()]);
        let attributes = [
            system,
            service,
            method,
            KeyValue::new("wrpc.outcome", outcome.as_str()),
        ];
        instruments.invocations.add(1, &attributes);
        instruments.server_duration.record(elapsed, &attributes);
    }
}

impl Drop for ServerCall {
    /// Dropped before its end: the invocation's deadline passed, or the server stopped.
    fn drop(&mut self) {
        if !self.ended {
            self.end(Outcome::Cancelled);
        }
    }
}

/// Counts an invocation whose handshake failed: the handler never ran.
pub(crate) fn not_accepted(function: &Function) {
    if let Some(instruments) = installed().and_then(|i| i.instruments.as_ref()) {
        let [system, service, method] = rpc_attributes(function);
        instruments.invocations.add(
            1,
            &[
                system,
                service,
                method,
                KeyValue::new("wrpc.outcome", Outcome::NotAccepted.as_str()),
            ],
        );
    }
}

/// Counts an invocation refused before it ran.
pub(crate) fn refused(function: &Function) {
    if let Some(instruments) = installed().and_then(|i| i.instruments.as_ref()) {
        instruments.refused.add(1, &rpc_attributes(function)[1..]);
    }
}

/// One call the provider makes: its client span (when traces are exported) and its duration.
pub(crate) struct ClientCall {
    function: Function,
    started: Instant,
    cx: Option<Context>,
    trace: Option<TraceContext>,
    ended: bool,
}

impl ClientCall {
    /// Starts the record of a call to `func` of `instance`, as a child of the trace the
    /// caller's `headers` carry, else of the invocation the call is made in. `None` when
    /// nothing is exported.
    pub(crate) fn start(
        instance: &str,
        func: &str,
        headers: Option<&async_nats::HeaderMap>,
    ) -> Option<Self> {
        let installed = installed()?;
        let function = Function::new(instance, func);
        let parent = headers
            .and_then(TraceContext::from_headers)
            .or_else(crate::trace::current);
        let parent = parent.as_ref();
        let cx = installed.tracer.as_ref().map(|tracer| {
            let parent_cx = match parent {
                // The handler's own span is current while it runs: a local parent.
                Some(parent) if current_span_is(parent) => Context::current(),
                Some(parent) => remote(parent),
                None => Context::new(),
            };
            let span = tracer
                .span_builder(function.name.to_string())
                .with_kind(SpanKind::Client)
                .with_attributes(rpc_attributes(&function))
                .start_with_context(tracer, &parent_cx);
            parent_cx.with_span(span)
        });
        let trace = cx.as_ref().and_then(|cx| trace_of(cx, parent));
        Some(Self {
            function,
            started: Instant::now(),
            cx,
            trace,
            ended: false,
        })
    }

    /// The context the call carries: its own span, or `None` if it has none.
    pub(crate) fn trace(&self) -> Option<TraceContext> {
        self.trace.clone()
    }

    /// Ends the record: `error` is the call's failure, if it failed.
    pub(crate) fn end(mut self, error: Option<&crate::Error>) {
        let outcome = if error.is_some() { "error" } else { "ok" };
        let status = error.map(|error| error.to_string());
        self.finish(outcome, status);
    }

    fn finish(&mut self, outcome: &'static str, error: Option<String>) {
        self.ended = true;
        if let Some(cx) = &self.cx {
            let span = cx.span();
            span.set_attribute(KeyValue::new("wrpc.outcome", outcome));
            if let Some(error) = error {
                span.set_status(Status::error(error));
            }
            span.end();
        }
        if let Some(instruments) = installed().and_then(|i| i.instruments.as_ref()) {
            let [system, service, method] = rpc_attributes(&self.function);
            instruments.client_duration.record(
                self.started.elapsed().as_secs_f64(),
                &[
                    system,
                    service,
                    method,
                    KeyValue::new("wrpc.outcome", outcome),
                ],
            );
        }
    }
}

impl Drop for ClientCall {
    /// Dropped before its end: the caller gave up on the call.
    fn drop(&mut self) {
        if !self.ended {
            self.finish("cancelled", Some("the caller stopped waiting".to_owned()));
        }
    }
}

/// Whether the OpenTelemetry context current now has `trace`'s span.
fn current_span_is(trace: &TraceContext) -> bool {
    let (trace_id, span_id, _) = trace.raw();
    Context::map_current(|cx| {
        let span = cx.span();
        let current = span.span_context();
        current.trace_id().to_bytes() == trace_id && current.span_id().to_bytes() == span_id
    })
}

/// Records a control message as a short span with one event: `fields` say which link (never
/// its configuration or secrets), `applied` whether it took effect.
pub(crate) fn control_event(
    event: ControlChange,
    fields: &[(&'static str, String)],
    applied: bool,
) {
    let Some(tracer) = installed().and_then(|i| i.tracer.as_ref()) else {
        return;
    };
    let attributes: Vec<KeyValue> = fields
        .iter()
        .map(|(key, value)| KeyValue::new(*key, value.clone()))
        .collect();
    let span = tracer
        .span_builder(event.name())
        .with_kind(SpanKind::Internal)
        .with_attributes(attributes)
        .start(tracer);
    let cx = Context::new().with_span(span);
    let span = cx.span();
    span.add_event(
        if applied { "applied" } else { "not applied" },
        vec![KeyValue::new("wasmcloud.applied", applied)],
    );
    if !applied {
        span.set_status(Status::error("the provider's hook failed"));
    }
    span.end();
}
