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
//! than the transport's `max_payload`, and carries the [`Tasks`] its pending values run on.

mod inbox;
mod reader;
mod tasks;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub(crate) use self::inbox::{Arming, Budget, ChannelReader, Failure, Inbox, PendingChannel};
pub(crate) use self::tasks::Tasks;
use crate::error::{Error, Result};

/// Bounds on what calls may make this side hold in memory, and for how long.
///
/// wRPC over NATS has no flow control: a peer sends as fast as it likes, and what this side has
/// not read yet waits in memory. These limits cap that, per value, per call and per transport,
/// and fail the call that goes over them (with [`Error::TooLarge`] or [`Error::BufferFull`])
/// instead of growing without bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes one value may take: the params or results of a call, the value of a
    /// `future`, one chunk of a `stream`. A length prefix that claims more fails the call with
    /// [`Error::TooLarge`] before anything is allocated for it.
    pub max_value_bytes: usize,
    /// The most bytes one call may have waiting in its incoming channels, across all of them.
    pub max_buffered_bytes: usize,
    /// The most bytes all calls of one transport may have waiting, together.
    pub max_total_buffered_bytes: usize,
    /// The most sub-channels (pending `stream`s and `future`s) one call may have open at once.
    pub max_channels: usize,
    /// How long a pending `stream` or `future` may go without receiving anything before reading
    /// it fails with [`Error::Timeout`] (`None`: forever). wRPC has no cancellation: this is what
    /// ends a read whose sender has gone.
    pub idle_timeout: Option<Duration>,
}

impl Limits {
    /// The default for [`Limits::max_value_bytes`]: 64 MiB.
    pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 << 20;

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

/// Where the outgoing bytes of a channel go.
#[derive(Clone)]
enum Sink {
    Nats {
        client: async_nats::Client,
        subject: async_nats::Subject,
    },
    Local {
        inbox: Arc<Inbox>,
        path: Box<[usize]>,
        max_payload: usize,
    },
}

/// The sending side of one channel.
#[derive(Clone)]
pub(crate) struct Outgoing {
    sink: Sink,
    tasks: Tasks,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Outgoing").field(&self.subject()).finish()
    }
}

impl Outgoing {
    pub(crate) fn nats(client: async_nats::Client, subject: String, tasks: Tasks) -> Self {
        Self {
            sink: Sink::Nats {
                client,
                subject: subject.into(),
            },
            tasks,
        }
    }

    pub(crate) fn local(inbox: Arc<Inbox>, max_payload: usize, tasks: Tasks) -> Self {
        Self {
            sink: Sink::Local {
                inbox,
                path: Box::default(),
                max_payload,
            },
            tasks,
        }
    }

    /// Where work for pending values sent on this channel runs.
    pub(crate) fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// The same channel, its pending values running on `tasks`.
    pub(crate) fn with_tasks(self, tasks: Tasks) -> Self {
        Self { tasks, ..self }
    }

    /// The sub-channel at `path` below this one.
    pub(crate) fn index(&self, path: &[usize]) -> Self {
        let sink = match &self.sink {
            Sink::Nats { client, subject } => {
                let mut nested = subject.to_string();
                push_path(&mut nested, path);
                Sink::Nats {
                    client: client.clone(),
                    subject: nested.into(),
                }
            }
            Sink::Local {
                inbox,
                path: base,
                max_payload,
            } => Sink::Local {
                inbox: inbox.clone(),
                path: base.iter().chain(path).copied().collect(),
                max_payload: *max_payload,
            },
        };
        Self {
            sink,
            tasks: self.tasks.clone(),
        }
    }

    /// The channel's subject, for messages.
    pub(crate) fn subject(&self) -> String {
        match &self.sink {
            Sink::Nats { subject, .. } => subject.to_string(),
            Sink::Local { inbox, path, .. } => inbox.subject(path),
        }
    }

    fn max_payload(&self) -> usize {
        match &self.sink {
            Sink::Nats { client, .. } => client.max_payload(),
            Sink::Local { max_payload, .. } => *max_payload,
        }
        .max(1)
    }

    async fn publish(&self, payload: Bytes) -> Result<()> {
        match &self.sink {
            Sink::Nats { client, subject } => client
                .publish(subject.clone(), payload)
                .await
                .map_err(|err| Error::nats("publish", err)),
            Sink::Local { inbox, path, .. } => {
                // In-process there is flow control: wait until the reader has caught up.
                if !payload.is_empty() {
                    inbox.wait_for_room(payload.len()).await;
                }
                inbox.deliver(path, payload);
                Ok(())
            }
        }
    }

    /// Sends `bytes`, in as many messages as `max_payload` requires. Sending nothing sends no
    /// message: an empty message would end the channel.
    pub(crate) async fn send(&self, mut bytes: Bytes) -> Result<()> {
        let max_payload = self.max_payload();
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(max_payload));
            self.publish(piece).await?;
        }
        Ok(())
    }

    /// Ends the channel.
    pub(crate) async fn close(&self) -> Result<()> {
        self.publish(Bytes::new()).await
    }
}

#[cfg(test)]
mod tests;
