//! wRPC transports: invoke functions and serve them, over NATS or in-process.
//!
//! A [`Transport`] is one NATS connection (or one in-process bus). From it come
//! [`Client`]s, which invoke functions under a subject prefix, and [`Server`]s, which serve them
//! with bounded concurrency. Both transports have the same API, so code written against one runs
//! on the other: the in-process transport is the embedded default when there is no NATS server,
//! and the fast way to test a handler.
//!
//! ```
//! # async fn demo() -> provider_sdk::Result<()> {
//! use provider_sdk::transport::{Invocation, ServeOptions, Transport};
//!
//! let transport = Transport::in_process();
//! let server = transport.server(ServeOptions::new("demo"));
//! let _serving = server
//!     .serve_fn("example:greeter/greet", "greet", |_cx, (name,): (String,)| async move {
//!         (format!("Hello, {name}!"),)
//!     })
//!     .await?;
//!
//! let client = transport.client("demo");
//! let (greeting,): (String,) = client.invoke("example:greeter/greet", "greet", ("wRPC",)).await?;
//! assert_eq!(greeting, "Hello, wRPC!");
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

mod admission;
mod local;
mod nats;
pub mod subject;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use tokio::sync::{Semaphore, watch};
use tracing::Instrument as _;

use crate::channel::{ChannelReader, Limits, Outgoing, Tasks};
use crate::error::{Error, Result};
use crate::trace::TraceContext;
use crate::wire::{Decode, Encode, Writer, spawn_deferred};

pub use self::admission::{Admission, Refusal};
pub use self::subject::invocation_subject;

/// One wRPC transport: a NATS connection, or an in-process bus.
///
/// Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Transport {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Nats(Arc<nats::Session>),
    Local(Arc<local::Bus>),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Nats(session) => f.debug_tuple("Transport::Nats").field(session).finish(),
            Kind::Local(bus) => f.debug_tuple("Transport::InProcess").field(bus).finish(),
        }
    }
}

impl Transport {
    /// wRPC over an established NATS connection, with default [`Limits`].
    ///
    /// Subscribes the connection's one inbox wildcard (`_INBOX.<id>.>`), through which every
    /// reply for every call and invocation on this transport arrives.
    pub async fn nats(client: async_nats::Client) -> Result<Self> {
        Self::nats_with_limits(client, Limits::default()).await
    }

    /// wRPC over an established NATS connection.
    pub async fn nats_with_limits(client: async_nats::Client, limits: Limits) -> Result<Self> {
        Ok(Self {
            kind: Kind::Nats(nats::Session::start(client, limits).await?),
        })
    }

    /// An in-process transport: clients and servers made from it (or its clones) talk through
    /// memory. Values are split into 1 MiB pieces, as over a default NATS server.
    pub fn in_process() -> Self {
        Self::in_process_with(1 << 20, Limits::default())
    }

    /// An in-process transport that splits values into `max_payload`-byte pieces.
    pub fn in_process_with(max_payload: usize, limits: Limits) -> Self {
        Self {
            kind: Kind::Local(Arc::new(local::Bus::new(max_payload, limits))),
        }
    }

    /// A client that invokes functions under `prefix` (`<lattice>.<target-id>` in wasmCloud; an
    /// empty prefix is none).
    pub fn client(&self, prefix: impl Into<String>) -> Client {
        Client {
            transport: self.clone(),
            prefix: prefix.into().into(),
            defaults: CallOptions::default(),
            start_traces: false,
        }
    }

    /// The NATS connection, if this is a NATS transport.
    pub fn nats_client(&self) -> Option<&async_nats::Client> {
        match &self.kind {
            Kind::Nats(session) => Some(session.client()),
            Kind::Local(_) => None,
        }
    }

    /// Subscribes a plain NATS subject and waits until the server has the subscription.
    pub(crate) async fn subscribe_confirmed(
        &self,
        subject: &str,
        queue_group: Option<&str>,
    ) -> Result<async_nats::Subscriber> {
        match &self.kind {
            Kind::Nats(session) => session.subscribe(subject, queue_group).await,
            Kind::Local(_) => Err(Error::Closed),
        }
    }

    /// A server for functions under `options.prefix`.
    pub fn server(&self, mut options: ServeOptions) -> Server {
        options.max_concurrency = options.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Server {
            inner: Arc::new(ServerInner {
                transport: self.clone(),
                permits: Arc::new(Semaphore::new(options.max_concurrency)),
                options,
                stop: watch::Sender::new(false),
                tasks: Tasks::tracked(),
            }),
        }
    }
}

/// Per-call settings.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// NATS headers for the invocation (wasmCloud: `source-id`, `link-name`, `traceparent`).
    pub headers: Option<HeaderMap>,
    /// The deadline for the whole call, overriding the client's.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Sets a header; fails if NATS cannot carry the name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let invalid = || Error::InvalidHeader {
            name: name.to_owned(),
        };
        let header_name = name
            .parse::<async_nats::HeaderName>()
            .ok()
            .filter(|_| !name.is_empty())
            .ok_or_else(invalid)?;
        let header_value = value
            .parse::<async_nats::HeaderValue>()
            .map_err(|_| invalid())?;
        self.headers
            .get_or_insert_with(HeaderMap::new)
            .insert(header_name, header_value);
        Ok(self)
    }

    /// Sets the deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// These options where set, `defaults` where not; headers from both, these winning.
    fn or(&self, defaults: &CallOptions) -> CallOptions {
        let headers = match (&defaults.headers, &self.headers) {
            (Some(defaults), Some(headers)) => {
                let mut merged = defaults.clone();
                for (name, values) in headers.iter() {
                    let mut values = values.iter();
                    if let Some(first) = values.next() {
                        merged.insert(name.clone(), first.clone());
                    }
                    for value in values {
                        merged.append(name.clone(), value.clone());
                    }
                }
                Some(merged)
            }
            (defaults, headers) => headers.clone().or_else(|| defaults.clone()),
        };
        CallOptions {
            headers,
            timeout: self.timeout.or(defaults.timeout),
        }
    }
}

/// Invokes functions under one subject prefix, with default headers and deadline for its calls.
/// Cheap to clone.
///
/// A call made while serving an invocation that carried a W3C `traceparent` carries the
/// invocation's trace context (see [`crate::trace`]), unless the call sets `traceparent` itself.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
    prefix: Arc<str>,
    defaults: CallOptions,
    /// Whether calls made outside any traced invocation start a trace.
    start_traces: bool,
}

impl Client {
    /// The deadline of a call when neither the client nor the call sets one.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Sets the deadline of this client's calls.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.defaults.timeout = Some(timeout);
        self
    }

    /// Sends a header with every call of this client; fails if NATS cannot carry it.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        self.defaults = self.defaults.header(name, value)?;
        Ok(self)
    }

    /// Makes calls made outside any traced invocation start a new trace (a fresh
    /// `traceparent`), so that what they cause can be followed too.
    pub fn starting_traces(mut self) -> Self {
        self.start_traces = true;
        self
    }

    /// The subject prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Invokes `func` of `instance` with `params` (a tuple) and decodes its results (a tuple).
    pub async fn invoke<P: Encode, R: Decode>(
        &self,
        instance: &str,
        func: &str,
        params: P,
    ) -> Result<R> {
        self.invoke_with(&CallOptions::default(), instance, func, params)
            .await
    }

    /// Like [`Client::invoke`], with headers or a deadline for this call.
    pub async fn invoke_with<P: Encode, R: Decode>(
        &self,
        options: &CallOptions,
        instance: &str,
        func: &str,
        params: P,
    ) -> Result<R> {
        let subject = invocation_subject(&self.prefix, instance, func);
        let mut w = Writer::new();
        params.encode(&mut w)?;
        let (params, deferred) = w.finish();
        let merged;
        let options = if options.headers.is_none() && options.timeout.is_none() {
            &self.defaults
        } else {
            merged = options.or(&self.defaults);
            &merged
        };
        let timeout = options.timeout.unwrap_or(Self::DEFAULT_TIMEOUT);
        let traced = self.trace_headers(options.headers.as_ref());
        let headers = traced.as_ref().or(options.headers.as_ref());
        let call = async {
            let mut call = match &self.transport.kind {
                Kind::Nats(session) => session.invoke(&subject, headers, params, deferred).await?,
                Kind::Local(bus) => bus.invoke(&subject, headers, params, deferred).await?,
            };
            let results = call.read::<R>("result").await?;
            if R::MIN_SIZE == 0 {
                // Nothing to decode means nothing to wait for: the end of the results channel
                // is what says the function has run.
                call.expect_end().await?;
            } else {
                call.check_no_trailing_bytes()?;
            }
            Ok(results)
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                subject,
                after: timeout,
            }),
        }
        .inspect_err(|error| tracing::debug!(%error, "call failed"))
    }
}

impl Client {
    /// `headers` with a `traceparent` added, if the call should carry one it lacks.
    fn trace_headers(&self, headers: Option<&HeaderMap>) -> Option<HeaderMap> {
        if headers.is_some_and(|headers| headers.get(crate::trace::TRACEPARENT).is_some()) {
            return None;
        }
        let trace = match crate::trace::current() {
            Some(trace) => trace,
            None if self.start_traces => TraceContext::new_root(),
            None => return None,
        };
        let mut headers = headers.cloned().unwrap_or_default();
        trace.insert_into(&mut headers);
        Some(headers)
    }
}

/// Settings of a [`Server`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The subject prefix functions are served under (`<lattice>.<provider-id>` in wasmCloud).
    pub prefix: String,
    /// The NATS queue group (`<lattice>.<provider-id>` in wasmCloud). Without one, every replica
    /// answers every call and their results corrupt each other.
    pub queue_group: Option<String>,
    /// The most invocations handled at once, across all functions of the server. Past it, new
    /// invocations wait in the subscription's buffer (backpressure), not in spawned tasks.
    pub max_concurrency: usize,
    /// How long one invocation may take, from its arrival to its results: receiving the params,
    /// the handler, sending the results. Past it the invocation is dropped (the caller sees an
    /// incomplete result) and its permit returns, so a stalled caller cannot hold a slot forever.
    /// Pending streams and futures in the results are not counted.
    pub timeout: Duration,
    /// Handed to every invocation's context.
    state: Option<State>,
    admission: Option<AdmissionHook>,
}

#[derive(Clone)]
struct AdmissionHook(Arc<dyn Admission>);

impl fmt::Debug for AdmissionHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Admission(..)")
    }
}

impl ServeOptions {
    /// The default for [`ServeOptions::max_concurrency`].
    pub const DEFAULT_MAX_CONCURRENCY: usize = 1024;

    /// The default for [`ServeOptions::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Options for `prefix`, with the prefix as queue group.
    pub fn new(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Self {
            queue_group: Some(prefix.clone()),
            prefix,
            max_concurrency: Self::DEFAULT_MAX_CONCURRENCY,
            timeout: Self::DEFAULT_TIMEOUT,
            state: None,
            admission: None,
        }
    }

    /// Sets the queue group (`None`: every server answers).
    pub fn queue_group(mut self, group: Option<String>) -> Self {
        self.queue_group = group;
        self
    }

    /// Sets the concurrency limit (at least 1).
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.max(1);
        self
    }

    /// Sets the invocation deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks every invocation with `admission` before its handler runs.
    pub fn admission(mut self, admission: Arc<dyn Admission>) -> Self {
        self.admission = Some(AdmissionHook(admission));
        self
    }

    /// Gives every invocation's context `state`, found again with
    /// [`InvocationContext::state`]; a [`FromInvocation`] context type reads it there.
    pub fn with_state<T: Any + Send + Sync>(mut self, state: Arc<T>) -> Self {
        self.state = Some(State(state));
        self
    }
}

/// What a handler learns about an invocation besides its params. Cheap to clone.
#[derive(Clone, Debug)]
pub struct InvocationContext {
    subject: Arc<str>,
    headers: Option<Arc<HeaderMap>>,
    state: Option<State>,
    admitted: Option<State>,
}

/// A server's shared state, handed to every invocation's context.
#[derive(Clone)]
struct State(Arc<dyn Any + Send + Sync>);

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State(..)")
    }
}

impl InvocationContext {
    /// A context for `subject` with `headers`: what a server makes for each invocation, and
    /// what a unit test of a handler can make by hand.
    pub fn new(subject: impl Into<Arc<str>>, headers: Option<HeaderMap>) -> Self {
        Self {
            subject: subject.into(),
            headers: headers.map(Arc::new),
            state: None,
            admitted: None,
        }
    }

    /// The state the server was given with [`ServeOptions::with_state`], if it is a `T`.
    pub fn state<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.state.as_ref()?.0).downcast::<T>().ok()
    }

    /// What the server's admission check attached to this invocation, if it is a `T`.
    pub fn admitted<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.admitted.as_ref()?.0).downcast::<T>().ok()
    }

    /// The invocation subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The invocation's NATS headers, if it had any.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.headers.as_deref()
    }

    /// One header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_ref()?.get(name).map(|value| value.as_str())
    }
}

/// The context a handler generated by [`generate!`](crate::generate) receives with each
/// invocation, made from the invocation's [`InvocationContext`].
///
/// Implemented for [`InvocationContext`] itself and for `()` (a handler that needs no
/// context); a provider's own context type implements it to carry more.
pub trait FromInvocation: Send + 'static {
    /// Makes the context for one invocation.
    fn from_invocation(cx: InvocationContext) -> Self;
}

impl FromInvocation for InvocationContext {
    fn from_invocation(cx: InvocationContext) -> Self {
        cx
    }
}

impl FromInvocation for () {
    fn from_invocation(_: InvocationContext) -> Self {}
}

/// One incoming call: read its params, then write its results.
///
/// Dropping an invocation without writing results ends the results channel, so the caller sees
/// [`Error::Incomplete`] at once instead of waiting for its deadline.
pub struct Invocation {
    context: InvocationContext,
    params: ChannelReader,
    results: Option<Outgoing>,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("context", &self.context)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Drop for Invocation {
    fn drop(&mut self) {
        let Some(results) = self.results.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = results.close().await;
            });
        }
    }
}

impl Invocation {
    fn new(context: InvocationContext, params: ChannelReader, results: Outgoing) -> Self {
        Self {
            context,
            params,
            results: Some(results),
        }
    }

    /// The invocation's subject and headers.
    pub fn context(&self) -> &InvocationContext {
        &self.context
    }

    /// Reads the params (a tuple) as soon as they have all arrived.
    pub async fn read_params<P: Decode>(&mut self) -> Result<P> {
        let params = self.params.read("params").await?;
        self.params.check_no_trailing_bytes()?;
        Ok(params)
    }

    /// Writes the results (a tuple), ends the results channel, and starts sending any pending
    /// `stream`s and `future`s in them.
    pub async fn write_results<R: Encode>(mut self, results: R) -> Result<()> {
        let Some(out) = self.results.take() else {
            return Err(Error::Closed);
        };
        let mut w = Writer::new();
        if let Err(error) = results.encode(&mut w) {
            let _ = out.close().await;
            return Err(error);
        }
        let (bytes, deferred) = w.finish();
        let sent = out.send(bytes).await;
        let closed = out.close().await;
        sent.and(closed)?;
        spawn_deferred(&out, deferred);
        Ok(())
    }
}

/// The running subscriptions of one or more functions. Serving stops when it is dropped.
#[must_use = "functions are served only while their `Serving` handle lives"]
#[derive(Default)]
pub struct Serving {
    subjects: Vec<String>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serving")
            .field("subjects", &self.subjects)
            .finish_non_exhaustive()
    }
}

impl Serving {
    /// The subjects being served.
    pub fn subjects(&self) -> &[String] {
        &self.subjects
    }

    /// Takes over the subscriptions of `other`: they now stop when this handle is dropped.
    pub fn merge(&mut self, mut other: Serving) {
        self.subjects.append(&mut other.subjects);
        self.tasks.append(&mut other.tasks);
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Serves functions under one subject prefix, with bounded concurrency.
///
/// Cheap to clone; clones share the concurrency limit.
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    transport: Transport,
    options: ServeOptions,
    permits: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    /// Invocations and the pending values their results send.
    tasks: Tasks,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("options", &self.inner.options)
            .field("available_permits", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// An invocation that has arrived but not yet been accepted (handshake sent, channels set up).
enum Arrival {
    Nats(Arc<nats::Session>, async_nats::Message),
    Local(Arc<local::Bus>, local::Call),
}

impl Arrival {
    async fn accept(self, tasks: &Tasks) -> Result<Invocation> {
        match self {
            Arrival::Nats(session, message) => session.accept(message, tasks).await,
            Arrival::Local(bus, call) => bus.accept(call, tasks),
        }
    }
}

/// Where a served function's invocations come from.
enum Source {
    Nats(Arc<nats::Session>, async_nats::Subscriber),
    Local(Arc<local::Bus>, local::Endpoint),
}

impl Source {
    async fn next(&mut self) -> Option<Arrival> {
        use futures::StreamExt as _;
        match self {
            Source::Nats(session, subscriber) => {
                let message = subscriber.next().await?;
                Some(Arrival::Nats(Arc::clone(session), message))
            }
            Source::Local(bus, endpoint) => {
                let call = endpoint.next().await?;
                Some(Arrival::Local(Arc::clone(bus), call))
            }
        }
    }

    /// Stops new invocations from arriving, then refuses the ones that already had (their
    /// callers see an incomplete result at once, instead of waiting for their deadlines).
    async fn close(mut self, tasks: &Tasks) {
        match &mut self {
            Source::Nats(_, subscriber) => {
                if let Err(error) = subscriber.unsubscribe().await {
                    tracing::debug!(%error, "unsubscribing failed");
                    return;
                }
            }
            Source::Local(_, endpoint) => endpoint.close(),
        }
        // After the unsubscription, the subscription ends once what was delivered is drained.
        let drained = async {
            while let Some(arrival) = self.next().await {
                drop(arrival.accept(tasks).await);
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drained).await;
    }
}

impl Server {
    /// The server's options.
    pub fn options(&self) -> &ServeOptions {
        &self.inner.options
    }

    /// Serves `func` of `instance`: each invocation is handed to `handler`, at most
    /// [`ServeOptions::max_concurrency`] at a time across the server.
    ///
    /// Returns once the subscription is in place at the NATS server, so a call made right
    /// after cannot miss it.
    pub async fn serve<F, Fut>(&self, instance: &str, func: &str, handler: F) -> Result<Serving>
    where
        F: Fn(Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let inner = &self.inner;
        if *inner.stop.borrow() {
            return Err(Error::Closed);
        }
        let subject = invocation_subject(&inner.options.prefix, instance, func);
        let source = match &inner.transport.kind {
            Kind::Nats(session) => Source::Nats(
                Arc::clone(session),
                session
                    .subscribe(&subject, inner.options.queue_group.as_deref())
                    .await?,
            ),
            Kind::Local(bus) => Source::Local(Arc::clone(bus), bus.subscribe(&subject)),
        };
        let task = tokio::spawn(serve_loop(
            Arc::clone(inner),
            source,
            Arc::new(handler),
            subject.clone(),
        ));
        Ok(Serving {
            subjects: vec![subject],
            tasks: vec![task],
        })
    }

    /// Serves `func` of `instance` with a typed handler: params and results are tuples.
    ///
    /// Malformed params are logged and the invocation is dropped (wRPC has no error frame:
    /// the caller sees an incomplete result). Application errors belong in a WIT `result`.
    pub async fn serve_fn<P, R, F, Fut>(
        &self,
        instance: &str,
        func: &str,
        handler: F,
    ) -> Result<Serving>
    where
        P: Decode + Send + 'static,
        R: Encode + Send + 'static,
        F: Fn(InvocationContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.serve(instance, func, move |mut invocation: Invocation| {
            let handler = Arc::clone(&handler);
            async move {
                let params = match invocation.read_params::<P>().await {
                    Ok(params) => params,
                    Err(error) => {
                        tracing::warn!(%error, "dropping an invocation: reading its params failed");
                        return;
                    }
                };
                let results = handler(invocation.context().clone(), params).await;
                if let Err(error) = invocation.write_results(results).await {
                    tracing::warn!(%error, "writing results failed");
                }
            }
        })
        .await
    }

    /// Stops taking new invocations on every function of this server (refusing those already
    /// queued), and waits up to `grace` for the ones in flight and for the pending streams and
    /// futures their results are still sending; what is left then is cancelled. Returns whether
    /// everything finished in time. Serving again after this fails with [`Error::Closed`].
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.stop.send_replace(true);
        self.inner.tasks.drain(grace).await
    }
}

/// Records the caller's identity and trace on the invocation's span, and returns the
/// invocation's own trace context: a new span in the caller's trace, or none if the caller sent
/// no `traceparent`.
fn join_trace(context: &InvocationContext) -> Option<TraceContext> {
    let span = tracing::Span::current();
    if let Some(source) = context.header("source-id") {
        span.record("source_id", source);
    }
    let parent = TraceContext::from_headers(context.headers()?)?;
    let own = parent.child();
    span.record("trace_id", parent.trace_id());
    span.record("parent_span_id", parent.span_id());
    span.record("span_id", own.span_id());
    Some(own)
}

/// Resolves once the server is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the server is gone, which is as good as stopped.
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn serve_loop<F, Fut>(
    server: Arc<ServerInner>,
    mut source: Source,
    handler: Arc<F>,
    subject: String,
) where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut stop = server.stop.subscribe();
    // One future for the whole loop: cheaper than a new one per invocation.
    let stopped = stopped(&mut stop);
    tokio::pin!(stopped);
    loop {
        let arrival = tokio::select! {
            biased;
            () = &mut stopped => break,
            arrival = source.next() => match arrival {
                Some(arrival) => arrival,
                None => break,
            },
        };
        // A permit for this invocation, shared across the server's functions. While none is
        // free, this loop holds its one invocation and the rest wait in the subscription
        // (backpressure), not in tasks; an idle function holds no permit.
        let permit = tokio::select! {
            biased;
            () = &mut stopped => {
                drop(arrival.accept(&server.tasks).await);
                break;
            }
            permit = Arc::clone(&server.permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let handler = Arc::clone(&handler);
        let timeout = server.options.timeout;
        let tasks = server.tasks.clone();
        let state = server.options.state.clone();
        let admission = server.options.admission.clone();
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
                    match arrival.accept(&tasks).await {
                        Ok(mut invocation) => {
                            invocation.context.state = state;
                            if let Some(admission) = admission {
                                match admission.0.admit(&invocation.context) {
                                    Ok(admitted) => invocation.context.admitted = admitted.map(State),
                                    Err(_) => return,
                                }
                            }
                            let trace = join_trace(&invocation.context);
                            crate::trace::scope(trace, handler(invocation)).await;
                        }
                        Err(error) => tracing::warn!(%error, "could not accept an invocation"),
                    }
                });
                if handled.await.is_err() {
                    tracing::warn!(?timeout, "dropped an invocation that outlived its deadline");
                }
                drop(permit);
            }
            .instrument(span),
        );
    }
    source.close(&server.tasks).await;
    tracing::debug!(subject, "stopped serving");
}
