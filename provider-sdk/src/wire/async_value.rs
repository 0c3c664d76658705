//! `stream<T>` and `future<T>`: values that arrive after the call's own bytes.
//!
//! A pending async value is written inline as `00`; its contents follow on a sub-channel named by
//! the value's path (param or result position, then record field, tuple or list index, or
//! absolute stream element index; `option`, `result` and `variant` payloads add no segment).
//!
//! - `future<T>`: the sub-channel carries `T` once, then ends. A future that is already resolved
//!   may be written inline as `01` followed by `T`.
//! - `stream<T>`: the sub-channel carries chunks, each a `u32` LEB128 count and that many
//!   elements, then a `00` end marker, then ends. Inline, a non-empty list is a whole stream.
//!
//! A value inside a pending future's `T` at the future's own path (say `future<stream<u8>>`)
//! continues on the future's channel after `T`, as `wrpc-transport` does.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt as _, StreamExt as _};

use super::sub_channel::{OutgoingChannel, PendingChannel};
use super::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};

/// The sending side of a sub-channel, as a pending value's work holds it.
type Outgoing = Arc<dyn OutgoingChannel>;

/// Work that sends a pending value on its sub-channel. It owns the channel and ends it.
pub(crate) type DeferredTask = Box<dyn FnOnce(Outgoing) -> BoxFuture<'static, Result<()>> + Send>;

/// A pending value's work, and the path of its sub-channel relative to the encoded value.
pub(crate) struct Deferred {
    pub(crate) path: Vec<usize>,
    pub(crate) task: DeferredTask,
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A stream's chunks are sent in pieces of at most this many bytes of elements (or one element,
/// if it is larger), so that a piece stays within what a receiver accepts as one value (its
/// value limit, [`DEFAULT_MAX_VALUE_BYTES`](super::DEFAULT_MAX_VALUE_BYTES) by default).
const CHUNK_BYTES: usize = 512 << 10;

/// Starts the work of every pending value in `deferred` on its sub-channel below `out`.
pub(crate) fn spawn_deferred(out: &dyn OutgoingChannel, deferred: Vec<Deferred>) {
    for Deferred { path, task } in deferred {
        spawn_task(out.index(&path), task);
    }
}

/// Runs `task` on `out`'s tasks. Whatever happens to it — an error, a panic, cancellation at
/// shutdown — the channel ends, so the reader sees an incomplete value instead of waiting.
fn spawn_task(out: Outgoing, task: DeferredTask) {
    let runner = Arc::clone(&out);
    runner.spawn(
        async move {
            let mut guard = EndOnDrop(Some(Arc::clone(&out)));
            let result = task(out).await;
            // The task ended its channel itself (on success and on error alike).
            guard.0 = None;
            if let Err(error) = result {
                tracing::warn!(%error, "sending a pending stream or future failed");
            }
        }
        .boxed(),
    );
}

/// Ends a channel when dropped, unless disarmed.
struct EndOnDrop(Option<Outgoing>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        let Some(out) = self.0.take() else { return };
        tracing::warn!(subject = %out.subject(), "a pending stream or future stopped early");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = out.close().await;
            });
        }
    }
}

/// Sends one chunk of a stream: `items`, the first at absolute index `first_index`, in as many
/// chunks of about [`CHUNK_BYTES`] as they need; then starts their pending parts.
async fn send_chunk<T: Encode>(
    out: &dyn OutgoingChannel,
    items: Vec<T>,
    first_index: usize,
) -> Result<()> {
    let count = items.len();
    let mut w = Writer::new();
    w.write_len("stream chunk", count)?;
    let header = w.len();
    let mut ends = Vec::with_capacity(count);
    for (i, item) in items.into_iter().enumerate() {
        w.write_field(first_index + i, item)?;
        ends.push(w.len());
    }
    let (bytes, deferred) = w.finish();
    if bytes.len() - header <= CHUNK_BYTES {
        out.send(bytes).await?;
    } else {
        // Too large for one piece: split at element boundaries, each piece its own chunk.
        let (mut start, mut first) = (header, 0);
        for i in 0..=count {
            let full = i < count && i > first && ends[i] - start > CHUNK_BYTES;
            if full || (i == count && i > first) {
                let end = ends[i - 1];
                let mut piece = Writer::new();
                piece.write_len("stream chunk", i - first)?;
                piece.write_slice(&bytes[start..end]);
                out.send(piece.finish().0).await?;
                (start, first) = (end, i);
            }
        }
    }
    spawn_deferred(out, deferred);
    Ok(())
}

/// Sends `bytes` of a value on `out`, then its pending parts: the one at `out`'s own path (if
/// any) continues on `out` and ends it; the others go to sub-channels. Otherwise ends `out`.
async fn send_then_nested(out: Outgoing, bytes: Bytes, deferred: Vec<Deferred>) -> Result<()> {
    if let Err(error) = out.send(bytes).await {
        let _ = out.close().await;
        return Err(error);
    }
    let mut same_channel = None;
    for Deferred { path, task } in deferred {
        if path.is_empty() {
            same_channel = Some(task);
        } else {
            spawn_task(out.index(&path), task);
        }
    }
    match same_channel {
        Some(task) => task(out).await,
        None => out.close().await,
    }
}

/// A WIT `stream<T>`: chunks of `T` that arrive over time.
///
/// To send one, build it from any [`futures::Stream`] of chunks ([`WitStream::new`]) or from
/// all its items at once (`WitStream::from(vec)`). A received one yields its chunks as they
/// arrive, and an error if the sender stops before the end. Forwarding a received stream sends
/// it on.
///
/// `stream<u8>` is [`ByteStream`], whose chunks are [`Bytes`].
pub struct WitStream<T> {
    inner: BoxStream<'static, Result<Vec<T>>>,
}

impl<T> fmt::Debug for WitStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WitStream")
    }
}

impl<T: Send + 'static> WitStream<T> {
    /// A stream that sends the chunks `chunks` yields.
    pub fn new(chunks: impl futures::Stream<Item = Vec<T>> + Send + 'static) -> Self {
        Self {
            inner: chunks.map(Ok).boxed(),
        }
    }

    /// A stream with no items.
    pub fn empty() -> Self {
        Self {
            inner: futures::stream::empty().boxed(),
        }
    }

    /// Reads the whole stream into one `Vec`.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut items = Vec::new();
        while let Some(chunk) = self.inner.next().await {
            items.extend(chunk?);
        }
        Ok(items)
    }
}

impl<T: Send + 'static> From<Vec<T>> for WitStream<T> {
    fn from(items: Vec<T>) -> Self {
        Self {
            inner: futures::stream::iter((!items.is_empty()).then_some(Ok(items))).boxed(),
        }
    }
}

impl<T> futures::Stream for WitStream<T> {
    type Item = Result<Vec<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl<T: Encode + Send + 'static> Encode for WitStream<T> {
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        // Always pending, as wRPC peers send streams.
        w.write_u8(0);
        let mut chunks = self.inner;
        w.defer(Box::new(move |out: Outgoing| {
            async move {
                let mut next_index = 0usize;
                let sent: Result<()> = async {
                    while let Some(chunk) = chunks.next().await {
                        let chunk = chunk?;
                        // An empty chunk would read as the end marker.
                        if chunk.is_empty() {
                            continue;
                        }
                        let len = chunk.len();
                        send_chunk(&*out, chunk, next_index).await?;
                        next_index += len;
                    }
                    out.send(Bytes::from_static(&[0])).await
                }
                .await;
                // End the channel either way; without the end marker the reader sees an
                // incomplete stream rather than waiting forever.
                let closed = out.close().await;
                sent.and(closed)
            }
            .boxed()
        }));
        Ok(())
    }
}

impl<T: Decode + Send + 'static> Decode for WitStream<T> {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = true;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.read_len("stream", T::MIN_SIZE)?;
        if len == 0 {
            return Ok(Self::incoming(r.pending_channel()?));
        }
        Ok(Self::from(r.read_elements(len, 0)?))
    }
}

impl<T: Decode + Send + 'static> WitStream<T> {
    fn incoming(channel: Box<dyn PendingChannel>) -> Self {
        let chunks = futures::stream::try_unfold(
            (Some(channel), None, 0usize),
            |(mut channel, reader, next_index)| async move {
                let mut reader = match (reader, channel.take()) {
                    (Some(reader), _) => reader,
                    (None, Some(channel)) => channel.claim()?,
                    (None, None) => return Ok(None),
                };
                let chunk: Vec<T> = reader
                    .read_with("stream", 1, |r| {
                        let len = r.read_len("stream chunk", T::MIN_SIZE)?;
                        r.read_elements(len, next_index)
                    })
                    .await?;
                if chunk.is_empty() {
                    return Ok(None);
                }
                let next_index = next_index + chunk.len();
                Ok(Some((chunk, (None, Some(reader), next_index))))
            },
        );
        Self {
            inner: chunks.boxed(),
        }
    }
}

/// A WIT `stream<u8>`: chunks of bytes that arrive over time.
///
/// Like [`WitStream`], with [`Bytes`] chunks that are not copied on the way in.
pub struct ByteStream {
    inner: BoxStream<'static, Result<Bytes>>,
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ByteStream")
    }
}

impl ByteStream {
    /// A stream that sends the chunks `chunks` yields.
    pub fn new(chunks: impl futures::Stream<Item = Bytes> + Send + 'static) -> Self {
        Self {
            inner: chunks.map(Ok).boxed(),
        }
    }

    /// A stream with no bytes.
    pub fn empty() -> Self {
        Self {
            inner: futures::stream::empty().boxed(),
        }
    }

    /// Reads the whole stream into one buffer.
    pub async fn collect_all(mut self) -> Result<Bytes> {
        let mut all = bytes::BytesMut::new();
        while let Some(chunk) = self.inner.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all.freeze())
    }

    fn incoming(channel: Box<dyn PendingChannel>) -> Self {
        let chunks = futures::stream::try_unfold(
            (Some(channel), None),
            |(mut channel, reader)| async move {
                let mut reader = match (reader, channel.take()) {
                    (Some(reader), _) => reader,
                    (None, Some(channel)) => channel.claim()?,
                    (None, None) => return Ok(None),
                };
                let chunk = reader
                    .read_with("stream", 1, |r| {
                        let len = r.read_len("stream chunk", 1)?;
                        r.read_bytes(len)
                    })
                    .await?;
                if chunk.is_empty() {
                    return Ok(None);
                }
                Ok(Some((chunk, (None, Some(reader)))))
            },
        );
        Self {
            inner: chunks.boxed(),
        }
    }
}

impl From<Bytes> for ByteStream {
    fn from(bytes: Bytes) -> Self {
        Self {
            inner: futures::stream::iter((!bytes.is_empty()).then_some(Ok(bytes))).boxed(),
        }
    }
}

impl From<Vec<u8>> for ByteStream {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl futures::Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl Encode for ByteStream {
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_u8(0);
        let mut chunks = self.inner;
        w.defer(Box::new(move |out: Outgoing| {
            async move {
                let sent: Result<()> = async {
                    while let Some(chunk) = chunks.next().await {
                        // Empty chunks are skipped: one would read as the end marker.
                        for piece in chunk?.chunks(CHUNK_BYTES) {
                            let mut w = Writer::new();
                            w.write_len("stream chunk", piece.len())?;
                            w.write_slice(piece);
                            out.send(w.finish().0).await?;
                        }
                    }
                    out.send(Bytes::from_static(&[0])).await
                }
                .await;
                let closed = out.close().await;
                sent.and(closed)
            }
            .boxed()
        }));
        Ok(())
    }
}

impl Decode for ByteStream {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = true;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.read_len("stream", 1)?;
        if len == 0 {
            return Ok(Self::incoming(r.pending_channel()?));
        }
        Ok(Self::from(r.read_bytes(len)?))
    }
}

enum FutureState<T> {
    Ready(T),
    Pending(BoxFuture<'static, Result<T>>),
}

/// A WIT `future<T>`: one value that arrives later.
///
/// To send one, build it from any [`Future`] ([`WitFuture::new`]) or from a value
/// ([`WitFuture::ready`], sent inline). A received one resolves, when awaited, to `Result<T>`,
/// which fails if the sender goes away without sending the value.
pub struct WitFuture<T> {
    state: FutureState<T>,
}

impl<T> fmt::Debug for WitFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            FutureState::Ready(_) => "ready",
            FutureState::Pending(_) => "pending",
        };
        f.debug_tuple("WitFuture").field(&state).finish()
    }
}

impl<T: Send + 'static> WitFuture<T> {
    /// A future that sends what `value` resolves to.
    pub fn new(value: impl Future<Output = T> + Send + 'static) -> Self {
        Self {
            state: FutureState::Pending(value.map(Ok).boxed()),
        }
    }

    /// A future that is already resolved.
    pub fn ready(value: T) -> Self {
        Self {
            state: FutureState::Ready(value),
        }
    }
}

impl<T: Send + 'static> IntoFuture for WitFuture<T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        match self.state {
            FutureState::Ready(value) => futures::future::ready(Ok(value)).boxed(),
            FutureState::Pending(future) => future,
        }
    }
}

impl<T: Encode + Send + 'static> Encode for WitFuture<T> {
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        match self.state {
            FutureState::Ready(value) => {
                w.write_u8(1);
                value.encode(w)
            }
            FutureState::Pending(future) => {
                w.write_u8(0);
                w.defer(Box::new(move |out: Outgoing| {
                    async move {
                        let value = match future.await {
                            Ok(value) => value,
                            Err(error) => {
                                let _ = out.close().await;
                                return Err(error);
                            }
                        };
                        let mut w = Writer::new();
                        if let Err(error) = value.encode(&mut w) {
                            let _ = out.close().await;
                            return Err(error);
                        }
                        let (bytes, deferred) = w.finish();
                        send_then_nested(out, bytes, deferred).await
                    }
                    .boxed()
                }));
                Ok(())
            }
        }
    }
}

impl<T: Decode + Send + 'static> Decode for WitFuture<T> {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = true;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            0 => {
                let channel = r.pending_channel()?;
                let value = async move {
                    let mut reader = channel.claim()?;
                    reader.read::<T>("future").await
                };
                Ok(Self {
                    state: FutureState::Pending(value.boxed()),
                })
            }
            1 => Ok(Self::ready(T::decode(r)?)),
            tag => Err(Error::InvalidTag { ty: "future", tag }),
        }
    }
}
