//! What the codec needs from a transport to carry pending `stream`s and `future`s.
//!
//! The codec does no I/O. A pending value's contents travel on a sub-channel of its call, named
//! by the value's path; the channel layer lends the codec a few small traits for them, so imports
//! run one way (channel → wire) and the codec can be used, fuzzed and tested without a transport:
//!
//! - Decoding: a [`Reader`] made over a channel holds a [`SubChannels`], which hands out a
//!   [`PendingChannel`] for every pending value decoded (it counts as wanted only if the whole
//!   decode succeeds; a decode retried with more bytes creates it again). Reading the value claims
//!   it as an [`IncomingChannel`], which decodes values as their bytes arrive.
//! - Encoding: a pending value leaves work ([`Deferred`](super::Deferred)) that runs on an
//!   [`OutgoingChannel`] once the value's own bytes are sent: send bytes, end the channel, find a
//!   sub-channel below it, start background work.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::{Decode, Reader};
use crate::error::{Error, Result};

/// Where a [`Reader`] reading a transport channel finds the sub-channels of the pending values
/// it decodes.
pub(crate) trait SubChannels: Send + Sync {
    /// The sub-channel at `path` (below the channel being read) of a pending value just decoded.
    fn pending(&mut self, path: &[usize]) -> Box<dyn PendingChannel>;
}

/// The sub-channel of a decoded pending value, not read yet. Dropping it unclaimed abandons the
/// channel.
pub(crate) trait PendingChannel: Send + 'static {
    /// Takes the channel for reading.
    fn claim(self: Box<Self>) -> Result<Box<dyn IncomingChannel>>;
}

/// A decoder with its result type erased: it stores what it decodes itself.
pub(crate) type ErasedDecode<'a> = dyn FnMut(&mut Reader<'_>) -> Result<()> + Send + 'a;

/// An incoming channel, read one value at a time.
pub(crate) trait IncomingChannel: Send + 'static {
    /// Runs `decode` on what has arrived, waiting for more bytes as long as it reports
    /// [`Error::UnexpectedEnd`]; `min_size` is the least the value needs. `what` names the
    /// channel in errors (`"stream"`).
    fn read_erased<'a>(
        &'a mut self,
        what: &'static str,
        min_size: usize,
        decode: &'a mut ErasedDecode<'a>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Waits for the end of the channel, which must carry no more bytes: how a value of no
    /// bytes (a `future` without a type) is known to have arrived.
    #[cfg_attr(not(feature = "dynamic"), allow(dead_code))]
    fn expect_end(&mut self) -> BoxFuture<'_, Result<()>>;
}

impl dyn IncomingChannel {
    /// Reads one value with `decode`, which needs at least `min_size` bytes.
    pub(crate) async fn read_with<V: Send>(
        &mut self,
        what: &'static str,
        min_size: usize,
        mut decode: impl FnMut(&mut Reader<'_>) -> Result<V> + Send,
    ) -> Result<V> {
        let mut value = None;
        let mut erased = |r: &mut Reader<'_>| {
            value = Some(decode(r)?);
            Ok(())
        };
        self.read_erased(what, min_size, &mut erased).await?;
        value.ok_or(Error::Closed)
    }

    /// Reads one value of type `T`.
    pub(crate) async fn read<T: Decode + Send>(&mut self, what: &'static str) -> Result<T> {
        self.read_with(what, T::MIN_SIZE, T::decode).await
    }
}

/// The sending side of a channel, as pending values use it.
pub(crate) trait OutgoingChannel: Send + Sync + 'static {
    /// Sends `bytes`, in as many messages as the transport needs; nothing for no bytes.
    fn send(&self, bytes: Bytes) -> BoxFuture<'_, Result<()>>;

    /// Ends the channel.
    fn close(&self) -> BoxFuture<'_, Result<()>>;

    /// The sub-channel at `path` below this one.
    fn index(&self, path: &[usize]) -> Arc<dyn OutgoingChannel>;

    /// Runs `task` in the background, where the channel's call runs its work (a server's
    /// tracked tasks, so its shutdown waits for them).
    fn spawn(&self, task: BoxFuture<'static, ()>);

    /// The channel's subject, for logs.
    fn subject(&self) -> String;
}
