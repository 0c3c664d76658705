//! Byte channels: the multiplexed byte streams one wRPC call is made of.
//!
//! A call has a root channel each way (params, results) and one sub-channel per pending
//! `stream` or `future`, named by its path (`R.results.0.2`). Every channel is a byte stream:
//! message boundaries mean nothing, and an empty message is end-of-stream.
//!
//! The receiving side of one call is an [`Inbox`]: a table from path to channel. The NATS demux
//! and the in-process transport both deliver into it; data for a sub-channel nobody has asked for
//! yet is kept until a decoded `stream` or `future` claims it. What an inbox may hold is bounded
//! by [`Limits`]. The sending side is an [`Outgoing`], which splits bytes into pieces no larger
//! than the transport's `max_payload`, publishes them through the transport's [`Sink`], and
//! carries the [`Tasks`] its pending values run on.
//!
//! The codec (`wire`) reads and writes sub-channels through small traits of its own, which this
//! module implements: imports run one way, channel → wire.

mod inbox;
mod queue;
mod reader;
mod tasks;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{BoxFuture, Either, Ready};

pub(crate) use self::inbox::{Budget, ChannelReader, Failure, Inbox};
pub(crate) use self::tasks::Tasks;
use crate::error::Result;
use crate::wire::OutgoingChannel;

/// Bounds on what calls may make this side hold in memory, and for how long.
///
/// wRPC over NATS has no flow control: a peer sends as fast as it likes, and what this side has
/// not read yet waits in memory. These limits cap that, per value, per call and per transport,
/// and fail the call that goes over them (with [`Error::TooLarge`](crate::Error::TooLarge) or
/// [`Error::BufferFull`](crate::Error::BufferFull)) instead of growing without bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes one value may take: the params or results of a call, the value of a
    /// `future`, one chunk of a `stream`. A length prefix that claims more fails the call with
    /// [`Error::TooLarge`](crate::Error::TooLarge) before anything is allocated for it.
    pub max_value_bytes: usize,
    /// The most bytes one call may have waiting in its incoming channels, across all of them.
    pub max_buffered_bytes: usize,
    /// The most bytes all calls of one transport may have waiting, together: in their channels,
    /// or received as the start of a value that is not complete yet (so that peers starting
    /// many values and never finishing them cannot make this side hold `max_value_bytes` for
    /// each).
    pub max_total_buffered_bytes: usize,
    /// The most sub-channels (pending `stream`s and `future`s) one call may have open at once.
    pub max_channels: usize,
    /// How long a pending `stream` or `future` may go without receiving anything before reading
    /// it fails with [`Error::Timeout`](crate::Error::Timeout) (`None`: forever). wRPC has no
    /// cancellation: this is what ends a read whose sender has gone.
    pub idle_timeout: Option<Duration>,
}

impl Limits {
    /// The default for [`Limits::max_value_bytes`]: 64 MiB, the codec's own default
    /// ([`wire::DEFAULT_MAX_VALUE_BYTES`](crate::wire::DEFAULT_MAX_VALUE_BYTES)).
    pub const DEFAULT_MAX_VALUE_BYTES: usize = crate::wire::DEFAULT_MAX_VALUE_BYTES;

    /// Sets [`Limits::max_value_bytes`].
    pub fn with_max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_buffered_bytes`].
    pub fn with_max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_total_buffered_bytes`].
    pub fn with_max_total_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_total_buffered_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_channels`].
    pub fn with_max_channels(mut self, channels: usize) -> Self {
        self.max_channels = channels;
        self
    }

    /// Sets [`Limits::idle_timeout`].
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_value_bytes: Self::DEFAULT_MAX_VALUE_BYTES,
            max_buffered_bytes: 2 * Self::DEFAULT_MAX_VALUE_BYTES,
            max_total_buffered_bytes: 1 << 30,
            max_channels: 1024,
            idle_timeout: Some(Duration::from_secs(120)),
        }
    }
}

/// Appends `.i.j...` for `path` to `subject`.
pub(crate) fn push_path(subject: &mut String, path: &[usize]) {
    use std::fmt::Write as _;
    for index in path {
        // Writing to a String cannot fail.
        let _ = write!(subject, ".{index}");
    }
}

/// A future that is often complete at once, and then costs no allocation: a transport's
/// operation that may or may not need to wait.
pub(crate) type Completion<'a, T> = Either<Ready<T>, BoxFuture<'a, T>>;

/// A [`Completion`] that is complete.
pub(crate) fn done<'a, T>(value: T) -> Completion<'a, T> {
    Either::Left(futures::future::ready(value))
}

/// A [`Completion`] that waits for `future`.
pub(crate) fn waiting<'a, T>(
    future: impl std::future::Future<Output = T> + Send + 'a,
) -> Completion<'a, T> {
    Either::Right(Box::pin(future))
}

/// Where the outgoing bytes of a channel go: one transport's way of publishing to a subject.
/// Each transport implements it (the in-process one with [`InboxSink`]).
pub(crate) trait Sink: Send + Sync + 'static {
    /// Publishes one message of at most [`Sink::max_payload`] bytes; an empty one ends the
    /// channel.
    fn publish(&self, payload: Bytes) -> Completion<'_, Result<()>>;

    /// The sink of the sub-channel at `path` below this one.
    fn index(&self, path: &[usize]) -> Arc<dyn Sink>;

    /// The channel's subject, for messages.
    fn subject(&self) -> String;

    /// The most bytes one message may carry (at least 1).
    fn max_payload(&self) -> usize;
}

/// A sink that writes straight into an [`Inbox`] of this process, waiting while the reader is
/// behind (in-process there is flow control).
pub(crate) struct InboxSink {
    inbox: Arc<Inbox>,
    path: Box<[usize]>,
    max_payload: usize,
}

impl InboxSink {
    /// The root channel of `inbox`, in pieces of at most `max_payload` bytes.
    pub(crate) fn root(inbox: Arc<Inbox>, max_payload: usize) -> Arc<dyn Sink> {
        Arc::new(Self {
            inbox,
            path: Box::default(),
            max_payload: max_payload.max(1),
        })
    }
}

impl Sink for InboxSink {
    fn publish(&self, payload: Bytes) -> Completion<'_, Result<()>> {
        if payload.is_empty() || self.inbox.has_room(payload.len()) {
            self.inbox.deliver(&self.path, payload);
            return done(Ok(()));
        }
        waiting(async move {
            self.inbox.wait_for_room(payload.len()).await;
            self.inbox.deliver(&self.path, payload);
            Ok(())
        })
    }

    fn index(&self, path: &[usize]) -> Arc<dyn Sink> {
        Arc::new(Self {
            inbox: Arc::clone(&self.inbox),
            path: self.path.iter().chain(path).copied().collect(),
            max_payload: self.max_payload,
        })
    }

    fn subject(&self) -> String {
        self.inbox.subject(&self.path)
    }

    fn max_payload(&self) -> usize {
        self.max_payload
    }
}

/// The sending side of one channel.
#[derive(Clone)]
pub(crate) struct Outgoing {
    sink: Arc<dyn Sink>,
    tasks: Tasks,
    /// The peer takes a whole value with nothing pending as the end of this channel, so
    /// [`Outgoing::send_last`] sends no end message after one (negotiated over NATS with
    /// `wrpc-ends: <R_c>`).
    end_implied: bool,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Outgoing")
            .field(&self.sink.subject())
            .finish()
    }
}

impl Outgoing {
    /// A channel sending through `sink`, its pending values running on `tasks`.
    pub(crate) fn new(sink: Arc<dyn Sink>, tasks: Tasks) -> Self {
        Self {
            sink,
            tasks,
            end_implied: false,
        }
    }

    /// The same channel, to a peer that takes a whole value as its end.
    pub(crate) fn with_end_implied(self) -> Self {
        Self {
            end_implied: true,
            ..self
        }
    }

    /// The same channel, its pending values running on `tasks`.
    pub(crate) fn with_tasks(self, tasks: Tasks) -> Self {
        Self { tasks, ..self }
    }

    /// Sends `bytes`, in as many messages as `max_payload` requires. Sending nothing sends no
    /// message: an empty message would end the channel.
    pub(crate) async fn send(&self, mut bytes: Bytes) -> Result<()> {
        let max_payload = self.sink.max_payload().max(1);
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(max_payload));
            self.sink.publish(piece).await?;
        }
        Ok(())
    }

    /// Ends the channel.
    pub(crate) async fn close(&self) -> Result<()> {
        self.sink.publish(Bytes::new()).await
    }

    /// Sends `bytes`, one whole value and everything the channel carries, then ends the
    /// channel: with an end message, unless the peer takes a whole value as the end and the
    /// value has no `pending` streams or futures. An empty value still gets the end message,
    /// which is then the only one it has.
    pub(crate) async fn send_last(&self, bytes: Bytes, pending: bool) -> Result<()> {
        let implied = self.end_implied && !pending && !bytes.is_empty();
        let sent = self.send(bytes).await;
        if implied && sent.is_ok() {
            return sent;
        }
        let closed = self.close().await;
        sent.and(closed)
    }
}

impl OutgoingChannel for Outgoing {
    fn send(&self, bytes: Bytes) -> BoxFuture<'_, Result<()>> {
        Box::pin(Outgoing::send(self, bytes))
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(Outgoing::close(self))
    }

    fn index(&self, path: &[usize]) -> Arc<dyn OutgoingChannel> {
        Arc::new(Self::new(self.sink.index(path), self.tasks.clone()))
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.tasks.spawn(task);
    }

    fn subject(&self) -> String {
        self.sink.subject()
    }
}

#[cfg(test)]
mod tests;
