//! The serving side: a [`Server`] serves functions under a subject prefix with
//! [`ServeOptions`] (queue group, concurrency, deadline, state, admission); each function
//! served is a subscription, held by a [`Serving`], and a serve loop (see `serve_loop`).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use super::admission::AdmissionCheck;
use super::invocation::Attached;
use super::serve_loop::serve_loop;
use super::{Admission, Invocation, InvocationContext, Transport, invocation_subject};
use crate::channel::Tasks;
use crate::error::{Error, Result};
use crate::telemetry::{Outcome, note_failure};
use crate::throttle::PacedWarning;
use crate::wire::{Decode, Encode};

/// Invocations whose params could not be read (malformed, truncated, too large, abandoned).
pub(crate) static BAD_PARAMS: PacedWarning =
    PacedWarning::new("dropping an invocation: reading its params failed");

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
    /// How long an invocation's params may take to arrive, within [`ServeOptions::timeout`]:
    /// while they are missing the invocation holds a permit for nothing the server does, so a
    /// caller that stops sending (or never answers the handshake) gives its permit back after
    /// this rather than the whole deadline. It bounds the whole of the params (not pending
    /// `stream`/`future` values, which arrive later under [`Limits::idle_timeout`](crate::Limits)):
    /// 10 s lets a 64 MiB value arrive at 6.7 MB/s; raise it for large params over slow links.
    /// [`Server::serve_fn`] (what `generate!` serves with) applies it; a handler given to
    /// [`Server::serve`] reads the params itself and bounds that itself, and
    /// `serve_dynamic` (feature `dynamic`), which reads streams whole, relies on the channels'
    /// idle timeout instead.
    pub params_timeout: Duration,
    /// Handed to every invocation's context.
    state: Option<Attached>,
    /// Checks every invocation before it takes a permit.
    admission: Option<AdmissionCheck>,
}

impl ServeOptions {
    /// The default for [`ServeOptions::max_concurrency`].
    pub const DEFAULT_MAX_CONCURRENCY: usize = 1024;

    /// The default for [`ServeOptions::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// The default for [`ServeOptions::params_timeout`].
    pub const DEFAULT_PARAMS_TIMEOUT: Duration = Duration::from_secs(10);

    /// Options for `prefix`, with the prefix as queue group.
    pub fn new(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Self {
            queue_group: Some(prefix.clone()),
            prefix,
            max_concurrency: Self::DEFAULT_MAX_CONCURRENCY,
            timeout: Self::DEFAULT_TIMEOUT,
            params_timeout: Self::DEFAULT_PARAMS_TIMEOUT,
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

    /// Sets how long an invocation's params may take to arrive.
    pub fn params_timeout(mut self, timeout: Duration) -> Self {
        self.params_timeout = timeout;
        self
    }

    /// Gives every invocation's context `state`, found again with
    /// [`InvocationContext::state`]; a [`FromInvocation`](super::FromInvocation) context type
    /// reads it there.
    pub fn with_state<T: Any + Send + Sync>(mut self, state: Arc<T>) -> Self {
        self.state = Some(Attached(state));
        self
    }

    /// Checks every invocation with `admission` as it arrives, before it takes a permit or
    /// reaches a handler: a refused one is answered with the refusal's reason (the caller gets
    /// [`Error::Refused`]) and costs the server one message.
    pub fn admission(mut self, admission: Arc<dyn Admission>) -> Self {
        self.admission = Some(AdmissionCheck(admission));
        self
    }

    /// The state given with [`ServeOptions::with_state`].
    pub(super) fn state(&self) -> Option<&Attached> {
        self.state.as_ref()
    }

    /// The check given with [`ServeOptions::admission`].
    pub(super) fn admission_check(&self) -> Option<&dyn Admission> {
        self.admission.as_ref().map(|check| &*check.0)
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

pub(super) struct ServerInner {
    transport: Transport,
    pub(super) options: ServeOptions,
    pub(super) permits: Arc<Semaphore>,
    pub(super) stop: watch::Sender<bool>,
    /// Invocations and the pending values their results send.
    pub(super) tasks: Tasks,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("options", &self.inner.options)
            .field("available_permits", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Server {
    pub(super) fn new(transport: Transport, mut options: ServeOptions) -> Self {
        options.max_concurrency = options.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            inner: Arc::new(ServerInner {
                transport,
                permits: Arc::new(Semaphore::new(options.max_concurrency)),
                options,
                stop: watch::Sender::new(false),
                tasks: Tasks::tracked(),
            }),
        }
    }

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
        let source = Arc::clone(&inner.transport.backend)
            .subscribe(&subject, inner.options.queue_group.as_deref())
            .await?;
        let task = tokio::spawn(serve_loop(
            Arc::clone(inner),
            source,
            Arc::new(handler),
            subject.clone(),
            Arc::new(crate::telemetry::Function::new(instance, func)),
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
        let params_timeout = self.inner.options.params_timeout;
        self.serve(instance, func, move |mut invocation: Invocation| {
            let handler = Arc::clone(&handler);
            async move {
                let read = tokio::time::timeout(params_timeout, invocation.read_params::<P>());
                let params = match read.await {
                    Ok(Ok(params)) => params,
                    Ok(Err(error)) => {
                        BAD_PARAMS.note(None, &error);
                        return;
                    }
                    Err(_) => {
                        let error = format!("its params did not arrive within {params_timeout:?}");
                        BAD_PARAMS.note(None, &error);
                        note_failure(Outcome::BadParams);
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
