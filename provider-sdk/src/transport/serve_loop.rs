//! The serve loop of one served function: take an arrival, admit it, wait for a permit, hand it
//! to the handler on the server's tasks; at the end, turn away what is still queued.
//!
//! Each arrival, in order:
//!
//! 1. It gets the server's state, then the server's [`Admission`](super::Admission) check, on
//!    this loop. A refusal is answered here, one message at a time, and the loop moves on: a
//!    refused invocation takes no permit, spawns nothing and runs no handler, so a flood of them
//!    costs the server one publish each.
//! 2. It waits for a permit, shared across the server's functions. While none is free, this loop
//!    holds its one invocation and the rest wait in the subscription (backpressure), not in tasks.
//! 3. A task accepts it (handshake, channels) and runs the handler in the caller's trace, within
//!    the server's deadline; the permit returns when the task ends.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::watch;
use tracing::Instrument as _;

use super::backend::{Arrival, Arriving, Source};
use super::invocation::Attached;
use super::server::ServerInner;
use super::{Invocation, InvocationContext};
use crate::telemetry::{Function, ServerCall};
use crate::throttle::PacedWarning;
use crate::trace::TraceContext;

/// Invocations that could not be accepted (the handshake or the channels failed).
static NOT_ACCEPTED: PacedWarning = PacedWarning::new("could not accept an invocation");
/// Invocations dropped at their deadline.
static OUTLIVED: PacedWarning =
    PacedWarning::new("dropped an invocation that outlived its deadline");

/// How long a stopping serve loop keeps turning away invocations that were already delivered.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Records the caller's identity and trace on the invocation's `tracing` span, and returns the
/// caller's trace context, if it sent one.
fn record_caller(context: &InvocationContext) -> Option<TraceContext> {
    let span = tracing::Span::current();
    if !span.is_disabled()
        && let Some(source) = context.known_header("source-id")
    {
        span.record("source_id", source);
    }
    let parent = TraceContext::from_headers(context.headers()?)?;
    // The ids are printed as hex: only for a span that records them.
    if !span.is_disabled() {
        span.record("trace_id", parent.trace_id());
        span.record("parent_span_id", parent.span_id());
    }
    Some(parent)
}

/// Records the invocation's own span id (and trace id, for a new trace) on its `tracing` span.
fn record_own(own: Option<&TraceContext>) {
    let span = tracing::Span::current();
    if let Some(own) = own
        && !span.is_disabled()
    {
        span.record("trace_id", own.trace_id());
        span.record("span_id", own.span_id());
    }
}

/// Resolves once the server is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the server is gone, which is as good as stopped.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Runs the server's admission check on `context`; returns the refusal's reason, or attaches
/// what the check let through with.
fn admit(server: &ServerInner, context: &mut InvocationContext) -> Option<String> {
    let check = server.options.admission_check()?;
    match check.admit(context) {
        Ok(admitted) => {
            context.admitted = admitted.map(Attached);
            None
        }
        Err(refusal) => Some(refusal.reason().to_owned()),
    }
}

/// Answers a refused invocation.
async fn refuse(call: Box<dyn Arriving>, context: &InvocationContext, reason: &str) {
    tracing::debug!(
        subject = context.subject(),
        source_id = context.known_header("source-id"),
        reason,
        "refused an invocation"
    );
    if let Err(error) = call.refuse(reason).await {
        tracing::debug!(%error, "could not answer a refused invocation");
    }
}

/// Accepts an invocation only to end its results at once: its caller sees an incomplete result
/// instead of waiting for its deadline. No admission check: nothing of the call runs.
async fn turn_away(arrival: Arrival) {
    if let Ok(channels) = arrival.call.accept(arrival.context.subject()).await {
        let _ = channels.results.close().await;
    }
}

pub(super) async fn serve_loop<F, Fut>(
    server: Arc<ServerInner>,
    mut source: Box<dyn Source>,
    handler: Arc<F>,
    subject: String,
    function: Arc<Function>,
) where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut stop = server.stop.subscribe();
    // One future for the whole loop: cheaper than a new one per invocation.
    let stopped = stopped(&mut stop);
    tokio::pin!(stopped);
    loop {
        let Arrival { mut context, call } = tokio::select! {
            biased;
            () = &mut stopped => break,
            arrival = source.next() => match arrival {
                Some(arrival) => arrival,
                None => break,
            },
        };
        context.state = server.options.state().cloned();
        if let Some(reason) = admit(&server, &mut context) {
            crate::telemetry::refused(&function);
            // One answer at a time; a connection too stalled to take it does not hold up a stop.
            tokio::select! {
                biased;
                () = &mut stopped => break,
                () = refuse(call, &context, &reason) => continue,
            }
        }
        let permit = tokio::select! {
            biased;
            () = &mut stopped => {
                turn_away(Arrival { context, call }).await;
                break;
            }
            permit = Arc::clone(&server.permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let handler = Arc::clone(&handler);
        let function = Arc::clone(&function);
        let timeout = server.options.timeout;
        let tasks = server.tasks.clone();
        let span = tracing::info_span!(
            "invocation",
            subject = %subject,
            source_id = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            parent_span_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        server.tasks.spawn(
            async move {
                let handled = tokio::time::timeout(timeout, async {
                    match call.accept(context.subject()).await {
                        Ok(channels) => {
                            let results = channels.results.with_tasks(tasks);
                            let invocation = Invocation::new(context, channels.params, results);
                            let caller = record_caller(invocation.context());
                            let headers = invocation.context().headers();
                            match ServerCall::start(&function, headers) {
                                Some(call) => {
                                    let own = call.trace();
                                    record_own(own.as_ref());
                                    let handled = crate::trace::scope(own, handler(invocation));
                                    call.run(handled).await;
                                }
                                None => {
                                    let own = caller.map(|caller| caller.child());
                                    record_own(own.as_ref());
                                    crate::trace::scope(own, handler(invocation)).await;
                                }
                            }
                        }
                        Err(error) => {
                            crate::telemetry::not_accepted(&function);
                            NOT_ACCEPTED.note(None, &error);
                        }
                    }
                });
                if handled.await.is_err() {
                    let error = format!("its deadline of {timeout:?} passed");
                    OUTLIVED.note(None, &error);
                }
                drop(permit);
            }
            .instrument(span),
        );
    }
    close(source).await;
    tracing::debug!(subject, "stopped serving");
}

/// Stops new invocations from arriving, then turns away the ones that already had.
async fn close(mut source: Box<dyn Source>) {
    if let Err(error) = source.stop().await {
        tracing::debug!(%error, "unsubscribing failed");
        return;
    }
    // After the unsubscription, the subscription ends once what was delivered is drained.
    let drained = async {
        while let Some(arrival) = source.next().await {
            turn_away(arrival).await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
}
