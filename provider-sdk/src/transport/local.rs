//! The in-process transport: the same calls as over NATS, through memory.
//!
//! Servers register their invocation subjects on a [`Bus`]; a call finds one (round-robin, like
//! a NATS queue group), hands it the call, and writes its params straight into the server's
//! [`Inbox`] in `max_payload`-byte pieces. Results come back the same way. The codec, the
//! channel readers and the serve loop are the ones NATS uses.
//!
//! A refused call ends both its inboxes with the refusal: the caller's read of its results fails
//! with [`Error::Refused`] at once, and any params it still writes are dropped.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::Stream;
use futures::future::{BoxFuture, FutureExt as _, ready};
use tokio::sync::mpsc;

use super::InvocationContext;
use super::backend::{Arrival, Arriving, Backend, Channels, Source};
use crate::channel::{
    Budget, ChannelReader, Completion, Failure, Inbox, InboxSink, Limits, Outgoing, Tasks, done,
};
use crate::error::{Error, Result};
use crate::wire::{Deferred, spawn_deferred};

/// How many calls may wait for a server's permits before callers wait too.
const QUEUE_DEPTH: usize = 256;

/// A call on its way to a server. Dropped without being accepted (its server stopped), it
/// ends its results channel, so the caller sees an incomplete result at once.
pub(crate) struct Call {
    subject: Arc<str>,
    headers: Option<HeaderMap>,
    /// The server's side of the call: its params arrive here.
    params: Arc<Inbox>,
    /// The caller's side: the results go here, until the call is accepted or refused.
    results: Option<Arc<Inbox>>,
    max_payload: usize,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if let Some(results) = self.results.take() {
            results.deliver(&[], Bytes::new());
        }
    }
}

impl Arriving for Call {
    fn accept(mut self: Box<Self>, _subject: &str) -> Completion<'static, Result<Channels>> {
        let accepted = self.params.claim_root().and_then(|params| {
            let results = self.results.take().ok_or(Error::Closed)?;
            Ok(Channels {
                params,
                // The server's tasks send its pending results; the serve loop hands them over.
                results: Outgoing::new(
                    InboxSink::root(results, self.max_payload),
                    Tasks::default(),
                ),
            })
        });
        done(accepted)
    }

    fn refuse(mut self: Box<Self>, reason: &str) -> Completion<'static, Result<()>> {
        let refused = Failure::Refused {
            reason: reason.to_owned(),
        };
        if let Some(results) = self.results.take() {
            results.close_with(refused.clone());
        }
        self.params.close_with(refused);
        done(Ok(()))
    }
}

#[derive(Default)]
struct Endpoints {
    next: usize,
    servers: Vec<(u64, mpsc::Sender<Call>)>,
}

/// The in-process bus.
pub(crate) struct Bus {
    endpoints: Mutex<HashMap<String, Endpoints>>,
    next_id: AtomicU64,
    max_payload: usize,
    limits: Limits,
    budget: Arc<Budget>,
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("subjects", &self.lock().len())
            .field("max_payload", &self.max_payload)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A server's registration of one subject; dropping it unregisters.
pub(crate) struct Endpoint {
    bus: Weak<Bus>,
    subject: String,
    id: u64,
    calls: mpsc::Receiver<Call>,
}

impl Stream for Endpoint {
    type Item = Arrival;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arrival>> {
        self.calls.poll_recv(cx).map(|call| {
            let mut call = call?;
            Some(Arrival {
                context: InvocationContext::new(Arc::clone(&call.subject), call.headers.take()),
                call: Box::new(call),
            })
        })
    }
}

impl Source for Endpoint {
    /// Takes no more calls; those already queued still come out of the stream.
    fn stop(&mut self) -> BoxFuture<'_, Result<()>> {
        self.unregister();
        self.calls.close();
        ready(Ok(())).boxed()
    }
}

impl Endpoint {
    fn unregister(&self) {
        let Some(bus) = self.bus.upgrade() else {
            return;
        };
        let mut endpoints = bus.lock();
        if let Some(entry) = endpoints.get_mut(&self.subject) {
            entry.servers.retain(|(id, _)| *id != self.id);
            if entry.servers.is_empty() {
                endpoints.remove(&self.subject);
            }
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl Bus {
    pub(crate) fn new(max_payload: usize, limits: Limits) -> Self {
        Self {
            endpoints: Mutex::default(),
            next_id: AtomicU64::new(0),
            max_payload: max_payload.max(1),
            budget: Budget::new(limits.max_total_buffered_bytes),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Endpoints>> {
        self.endpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn endpoint(self: &Arc<Self>, subject: &str) -> Endpoint {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, calls) = mpsc::channel(QUEUE_DEPTH);
        self.lock()
            .entry(subject.to_owned())
            .or_default()
            .servers
            .push((id, tx));
        Endpoint {
            bus: Arc::downgrade(self),
            subject: subject.to_owned(),
            id,
            calls,
        }
    }

    /// A server for `subject`, taking turns among several.
    fn pick(&self, subject: &str) -> Option<mpsc::Sender<Call>> {
        let mut endpoints = self.lock();
        let entry = endpoints.get_mut(subject)?;
        let count = entry.servers.len();
        (0..count).find_map(|_| {
            entry.next = (entry.next + 1) % count;
            let (_, server) = &entry.servers[entry.next];
            (!server.is_closed()).then(|| server.clone())
        })
    }

    async fn invoke(
        &self,
        subject: &str,
        headers: Option<&HeaderMap>,
        params: Bytes,
        deferred: Vec<Deferred>,
    ) -> Result<ChannelReader> {
        let no_server = || Error::NoServer {
            subject: subject.to_owned(),
        };
        let server = self.pick(subject).ok_or_else(no_server)?;
        let inbox = || {
            Arc::new(Inbox::new(
                subject,
                self.limits,
                Arc::clone(&self.budget),
                None,
            ))
        };
        let (results_inbox, params_inbox) = (inbox(), inbox());
        let results = results_inbox.claim_root()?;
        let call = Call {
            subject: subject.into(),
            headers: headers.cloned(),
            params: Arc::clone(&params_inbox),
            results: Some(results_inbox),
            max_payload: self.max_payload,
        };
        server.send(call).await.map_err(|_| no_server())?;
        let out = Outgoing::new(
            InboxSink::root(params_inbox, self.max_payload),
            Tasks::default(),
        );
        out.send(params).await?;
        out.close().await?;
        spawn_deferred(&out, deferred);
        Ok(results)
    }
}

impl Backend for Bus {
    fn invoke<'a>(
        &'a self,
        subject: &'a str,
        headers: Option<&'a HeaderMap>,
        params: Bytes,
        deferred: Vec<Deferred>,
    ) -> BoxFuture<'a, Result<ChannelReader>> {
        Box::pin(Bus::invoke(self, subject, headers, params, deferred))
    }

    fn subscribe<'a>(
        self: Arc<Self>,
        subject: &'a str,
        _queue_group: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn Source>>> {
        let endpoint: Box<dyn Source> = Box::new(self.endpoint(subject));
        ready(Ok(endpoint)).boxed()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
