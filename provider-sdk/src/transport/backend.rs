//! The seam between the transport-neutral [`Client`](super::Client) and
//! [`Server`](super::Server) and one transport (NATS, in-process).
//!
//! A transport implements [`Backend`]: it sends invocations and hands back the channel their
//! results arrive on, and it subscribes a function's subject as a [`Source`] of [`Arrival`]s,
//! which the serve loop accepts (sets up the invocation's channels) or refuses. Everything else —
//! encoding, deadlines, admission, permits, handlers, shutdown — is the same for every transport.
//! Channels send through the transport's [`Sink`](crate::channel::Sink), which each backend
//! builds for its own channels.
//!
//! A new transport is one module implementing these traits, plus a constructor on
//! [`Transport`](super::Transport).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;

use super::InvocationContext;
use crate::channel::{ChannelReader, Completion, Outgoing};
use crate::error::Result;
use crate::wire::Deferred;

/// One transport.
pub(crate) trait Backend: fmt::Debug + Send + Sync + 'static {
    /// Sends an invocation of `subject` with `headers` and the encoded `params`, then starts
    /// sending the params' pending values (`deferred`). Returns the channel the results arrive
    /// on; a call the server refused, or that nobody serves, ends that channel with the reason.
    fn invoke<'a>(
        &'a self,
        subject: &'a str,
        headers: Option<&'a HeaderMap>,
        params: Bytes,
        deferred: Vec<Deferred>,
    ) -> BoxFuture<'a, Result<ChannelReader>>;

    /// Starts receiving the invocations of `subject` (in `queue_group`, if the transport has
    /// such groups). Returns once a call made right after cannot miss the subscription.
    fn subscribe<'a>(
        self: Arc<Self>,
        subject: &'a str,
        queue_group: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn Source>>>;

    /// The backend itself, for what only one transport offers (the NATS connection).
    fn as_any(&self) -> &dyn Any;
}

/// The invocations of one served subject, as they arrive.
pub(crate) trait Source: Stream<Item = Arrival> + Send + Unpin {
    /// Stops new invocations from arriving. Those already delivered still come out of the
    /// stream, which then ends.
    fn stop(&mut self) -> BoxFuture<'_, Result<()>>;
}

/// An invocation that has arrived, not yet accepted or refused.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// Its subject and headers, which admission and the handler see.
    pub(crate) context: InvocationContext,
    /// What the transport needs to answer it.
    pub(crate) call: Box<dyn Arriving>,
}

/// The transport's side of an [`Arrival`].
pub(crate) trait Arriving: fmt::Debug + Send {
    /// Sets up the invocation's channels (sending the handshake, over NATS) and returns them.
    /// `subject` is the invocation's.
    fn accept(self: Box<Self>, subject: &str) -> Completion<'static, Result<Channels>>;

    /// Tells the caller the invocation is refused, for `reason` (at most
    /// [`Refusal::MAX_REASON_BYTES`](super::Refusal::MAX_REASON_BYTES), never empty); sets up
    /// nothing.
    fn refuse(self: Box<Self>, reason: &str) -> Completion<'static, Result<()>>;
}

/// The channels of an accepted invocation.
pub(crate) struct Channels {
    /// Where its params arrive.
    pub(crate) params: ChannelReader,
    /// Where its results go; their pending values run on untracked tasks until the server
    /// hands them its own.
    pub(crate) results: Outgoing,
}
