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
//! than the transport's `max_payload`.

use std::collections::HashMap;
use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Buf, Bytes, BytesMut};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::wire::{ChannelContext, Decode, Reader};

/// Bounds on what one call may make this side hold in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes one value may take: the params or results of a call, the value of a
    /// `future`, one chunk of a `stream`. A length prefix that claims more fails the call with
    /// [`Error::TooLarge`] before anything is allocated for it.
    pub max_value_bytes: usize,
    /// The most bytes one call may have waiting in its incoming channels, across all of them.
    pub max_buffered_bytes: usize,
    /// The most sub-channels (pending `stream`s and `future`s) one call may open.
    pub max_channels: usize,
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

    /// Sets [`Limits::max_channels`].
    pub fn with_max_channels(mut self, channels: usize) -> Self {
        self.max_channels = channels;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_value_bytes: Self::DEFAULT_MAX_VALUE_BYTES,
            max_buffered_bytes: 2 * Self::DEFAULT_MAX_VALUE_BYTES,
            max_channels: 1024,
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

/// Why an inbox stopped accepting data.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// More bytes waited than `Limits::max_buffered_bytes`.
    BufferFull,
    /// The peer opened more sub-channels than `Limits::max_channels`.
    TooManyChannels,
    /// The invocation's handshake said nobody serves its subject (NATS status 503).
    NoServer,
    /// The invocation's handshake carried another error status.
    Refused {
        status: u16,
        description: Option<String>,
    },
    /// The invocation's handshake had no reply subject.
    NoHandshakeReply,
}

struct Slot {
    tx: Option<mpsc::UnboundedSender<Bytes>>,
    rx: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// Bytes a reader had received but not consumed when it let the channel go.
    leftover: Bytes,
}

impl Slot {
    fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx: Some(tx),
            rx: Some(rx),
            leftover: Bytes::new(),
        }
    }
}

struct InboxState {
    root: Slot,
    nested: HashMap<Box<[usize]>, Slot>,
    failure: Option<Failure>,
}

/// The incoming channels of one call.
pub(crate) struct Inbox {
    /// The invocation subject, which names the call in errors.
    subject: Box<str>,
    limits: Limits,
    buffered: AtomicUsize,
    state: Mutex<InboxState>,
    on_drop: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("subject", &self.subject)
            .field("buffered", &self.buffered.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        if let Some(on_drop) = self.on_drop.take() {
            on_drop();
        }
    }
}

impl Inbox {
    /// An inbox for a call of `subject`; `on_drop` runs when the last handle goes.
    pub(crate) fn new(
        subject: impl Into<Box<str>>,
        limits: Limits,
        on_drop: Option<Box<dyn FnOnce() + Send + Sync>>,
    ) -> Self {
        Self {
            subject: subject.into(),
            limits,
            buffered: AtomicUsize::new(0),
            state: Mutex::new(InboxState {
                root: Slot::new(),
                nested: HashMap::new(),
                failure: None,
            }),
            on_drop,
        }
    }

    fn lock(&self) -> MutexGuard<'_, InboxState> {
        // Nothing panics while holding the lock, but never let a poisoned lock stop a call.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Names the channel at `path` in messages: the invocation subject, and for a sub-channel
    /// its path (`wrpc.0.0.1.a:b/c.f (sub-channel 0.2)`).
    pub(crate) fn subject(&self, path: &[usize]) -> String {
        let mut subject = String::from(&*self.subject);
        if let Some((first, rest)) = path.split_first() {
            use std::fmt::Write as _;
            let _ = write!(subject, " (sub-channel {first}");
            push_path(&mut subject, rest);
            subject.push(')');
        }
        subject
    }

    /// Delivers one message for the channel at `path`; an empty payload ends the channel.
    pub(crate) fn deliver(&self, path: &[usize], payload: Bytes) {
        let mut state = self.lock();
        if state.failure.is_some() {
            return;
        }
        let slot = if path.is_empty() {
            &mut state.root
        } else if state.nested.contains_key(path) {
            // Checked just above; `get_mut` inside the branch would fight the borrow checker.
            match state.nested.get_mut(path) {
                Some(slot) => slot,
                None => return,
            }
        } else if state.nested.len() >= self.limits.max_channels {
            self.fail(&mut state, Failure::TooManyChannels);
            return;
        } else {
            state.nested.entry(path.into()).or_insert_with(Slot::new)
        };
        let Some(tx) = &slot.tx else {
            tracing::debug!(subject = %self.subject(path), "dropping a message after end of stream");
            return;
        };
        if payload.is_empty() {
            slot.tx = None;
            return;
        }
        let len = payload.len();
        let before = self.buffered.fetch_add(len, Ordering::Relaxed);
        if before + len > self.limits.max_buffered_bytes {
            self.buffered.fetch_sub(len, Ordering::Relaxed);
            self.fail(&mut state, Failure::BufferFull);
            return;
        }
        if tx.send(payload).is_err() {
            // The reader is gone; nobody will consume this.
            self.buffered.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Stops accepting data and ends every channel; readers then report `failure`.
    pub(crate) fn close_with(&self, failure: Failure) {
        let mut state = self.lock();
        if state.failure.is_none() {
            self.fail(&mut state, failure);
        }
    }

    fn fail(&self, state: &mut InboxState, failure: Failure) {
        if matches!(failure, Failure::BufferFull | Failure::TooManyChannels) {
            tracing::warn!(subject = %self.subject, ?failure, "closing an invocation's channels");
        }
        state.failure = Some(failure);
        state.root.tx = None;
        for slot in state.nested.values_mut() {
            slot.tx = None;
        }
    }

    fn failure_error(&self, failure: &Failure) -> Error {
        let subject = self.subject.to_string();
        match failure {
            Failure::BufferFull => Error::BufferFull {
                subject,
                limit: self.limits.max_buffered_bytes,
            },
            Failure::TooManyChannels => Error::Protocol {
                subject,
                detail: "the peer opened more sub-channels than `Limits::max_channels` allows",
            },
            Failure::NoServer => Error::NoServer { subject },
            Failure::Refused {
                status,
                description,
            } => Error::Refused {
                subject,
                status: *status,
                description: description.clone(),
            },
            Failure::NoHandshakeReply => Error::Protocol {
                subject,
                detail: "the handshake has no reply subject",
            },
        }
    }

    /// Takes the channel at `path` for reading.
    pub(crate) fn claim(self: &Arc<Self>, path: Box<[usize]>) -> Result<ChannelReader> {
        let mut state = self.lock();
        if let Some(failure) = &state.failure {
            return Err(self.failure_error(failure));
        }
        let slot = if path.is_empty() {
            &mut state.root
        } else {
            if !state.nested.contains_key(&path) && state.nested.len() >= self.limits.max_channels {
                self.fail(&mut state, Failure::TooManyChannels);
                return Err(self.failure_error(&Failure::TooManyChannels));
            }
            state.nested.entry(path.clone()).or_insert_with(Slot::new)
        };
        let Some(rx) = slot.rx.take() else {
            return Err(Error::Protocol {
                subject: self.subject(&path),
                detail: "a channel was claimed twice",
            });
        };
        let buf = mem::take(&mut slot.leftover);
        drop(state);
        Ok(ChannelReader {
            inbox: Arc::clone(self),
            path,
            rx: Some(rx),
            buf,
            received: 0,
        })
    }

    /// Takes the root channel for reading.
    pub(crate) fn claim_root(self: &Arc<Self>) -> Result<ChannelReader> {
        self.claim(Box::default())
    }
}

/// The sub-channel of a `stream` or `future` that was decoded as pending, not yet read.
#[derive(Debug)]
pub(crate) struct PendingChannel {
    inbox: Arc<Inbox>,
    path: Box<[usize]>,
}

impl PendingChannel {
    pub(crate) fn new(inbox: Arc<Inbox>, path: Vec<usize>) -> Self {
        Self {
            inbox,
            path: path.into_boxed_slice(),
        }
    }

    pub(crate) fn claim(self) -> Result<ChannelReader> {
        self.inbox.claim(self.path)
    }
}

/// Reads values from one incoming channel.
///
/// A value may arrive split across any number of messages: the reader decodes what it has and,
/// if the value is incomplete, waits for as many bytes as the decoder said it needs at least, so
/// a large value is decoded once it is all there rather than once per message.
pub(crate) struct ChannelReader {
    inbox: Arc<Inbox>,
    path: Box<[usize]>,
    /// `None` once the channel has ended.
    rx: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// Received, not yet consumed bytes.
    buf: Bytes,
    received: usize,
}

impl fmt::Debug for ChannelReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelReader")
            .field("subject", &self.subject())
            .field("buffered", &self.buf.len())
            .field("received", &self.received)
            .finish()
    }
}

impl Drop for ChannelReader {
    /// Gives the channel back, with any unread bytes: a `future`'s value may be followed on the
    /// same channel by the chunks of a `stream` inside it, which claims the channel next.
    fn drop(&mut self) {
        let Some(rx) = self.rx.take() else { return };
        let mut state = self.inbox.lock();
        let slot = if self.path.is_empty() {
            Some(&mut state.root)
        } else {
            state.nested.get_mut(&self.path)
        };
        if let Some(slot) = slot {
            slot.rx = Some(rx);
            slot.leftover = mem::take(&mut self.buf);
        }
    }
}

impl ChannelReader {
    /// The channel's subject, for messages.
    pub(crate) fn subject(&self) -> String {
        self.inbox.subject(&self.path)
    }

    /// The next message, or `None` at end of stream.
    async fn next_message(&mut self) -> Result<Option<Bytes>> {
        let Some(rx) = &mut self.rx else {
            return Ok(None);
        };
        match rx.recv().await {
            Some(message) => {
                self.inbox
                    .buffered
                    .fetch_sub(message.len(), Ordering::Relaxed);
                self.received += message.len();
                Ok(Some(message))
            }
            None => {
                self.rx = None;
                match &self.inbox.lock().failure {
                    Some(failure) => Err(self.inbox.failure_error(failure)),
                    None => Ok(None),
                }
            }
        }
    }

    /// Receives until at least `needed` bytes are buffered.
    async fn fill(&mut self, needed: usize, what: &'static str) -> Result<()> {
        let mut acc: Option<BytesMut> = None;
        while acc.as_ref().map_or(self.buf.len(), BytesMut::len) < needed {
            let message = match self.next_message().await {
                Ok(Some(message)) => message,
                result => {
                    if let Some(acc) = acc {
                        self.buf = acc.freeze();
                    }
                    result?;
                    return Err(Error::Incomplete {
                        what,
                        subject: self.subject(),
                        received: self.received,
                    });
                }
            };
            match &mut acc {
                // The common case, a value in one message: keep it without copying.
                None if self.buf.is_empty() => self.buf = message,
                // Taking back a buffer nobody else holds does not copy it either.
                None => {
                    let mut joined = BytesMut::from(mem::take(&mut self.buf));
                    joined.extend_from_slice(&message);
                    acc = Some(joined);
                }
                Some(acc) => acc.extend_from_slice(&message),
            }
        }
        if let Some(acc) = acc {
            self.buf = acc.freeze();
        }
        Ok(())
    }

    /// Reads one value of type `T`. `what` names the channel in errors (`"result"`).
    pub(crate) async fn read<T: Decode>(&mut self, what: &'static str) -> Result<T> {
        self.read_with(what, T::MIN_SIZE, T::decode).await
    }

    /// Reads one value with `decode`, which needs at least `min_size` bytes.
    pub(crate) async fn read_with<V>(
        &mut self,
        what: &'static str,
        min_size: usize,
        mut decode: impl FnMut(&mut Reader<'_>) -> Result<V>,
    ) -> Result<V> {
        let limit = self.inbox.limits.max_value_bytes;
        let mut needed = min_size;
        loop {
            self.fill(needed, what).await?;
            let context = ChannelContext {
                inbox: &self.inbox,
                base: &self.path,
            };
            let mut reader = Reader::with_channel(&self.buf, limit, context);
            match decode(&mut reader) {
                Ok(value) => {
                    let used = reader.position();
                    self.buf.advance(used);
                    return Ok(value);
                }
                // Wait for what the decoder said it needs; always make progress.
                Err(Error::UnexpectedEnd { needed: more, .. }) => {
                    needed = more.max(self.buf.len() + 1)
                }
                Err(source) => {
                    return Err(Error::Malformed {
                        subject: self.subject(),
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    /// Waits for the end of the channel, which must carry no more bytes.
    pub(crate) async fn expect_end(&mut self) -> Result<()> {
        loop {
            if !self.buf.is_empty() {
                return Err(Error::Malformed {
                    subject: self.subject(),
                    source: Box::new(Error::TrailingBytes {
                        extra: self.buf.len(),
                    }),
                });
            }
            match self.next_message().await? {
                Some(message) => self.buf = message,
                None => return Ok(()),
            }
        }
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
pub(crate) struct Outgoing(Sink);

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Outgoing").field(&self.subject()).finish()
    }
}

impl Outgoing {
    pub(crate) fn nats(client: async_nats::Client, subject: String) -> Self {
        Self(Sink::Nats {
            client,
            subject: subject.into(),
        })
    }

    pub(crate) fn local(inbox: Arc<Inbox>, max_payload: usize) -> Self {
        Self(Sink::Local {
            inbox,
            path: Box::default(),
            max_payload,
        })
    }

    /// The sub-channel at `path` below this one.
    pub(crate) fn index(&self, path: &[usize]) -> Self {
        match &self.0 {
            Sink::Nats { client, subject } => {
                let mut nested = subject.to_string();
                push_path(&mut nested, path);
                Self::nats(client.clone(), nested)
            }
            Sink::Local {
                inbox,
                path: base,
                max_payload,
            } => Self(Sink::Local {
                inbox: inbox.clone(),
                path: base.iter().chain(path).copied().collect(),
                max_payload: *max_payload,
            }),
        }
    }

    /// The channel's subject, for messages.
    pub(crate) fn subject(&self) -> String {
        match &self.0 {
            Sink::Nats { subject, .. } => subject.to_string(),
            Sink::Local { inbox, path, .. } => inbox.subject(path),
        }
    }

    fn max_payload(&self) -> usize {
        match &self.0 {
            Sink::Nats { client, .. } => client.max_payload(),
            Sink::Local { max_payload, .. } => *max_payload,
        }
        .max(1)
    }

    async fn publish(&self, payload: Bytes) -> Result<()> {
        match &self.0 {
            Sink::Nats { client, subject } => client
                .publish(subject.clone(), payload)
                .await
                .map_err(|err| Error::nats("publish", err)),
            Sink::Local { inbox, path, .. } => {
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
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::encode;

    type Value = (String, Vec<u64>, Option<(bool, Bytes)>, char);

    fn sample() -> Value {
        (
            "héllo".repeat(20),
            (0..50).map(|i| i * 1_000_003).collect(),
            Some((true, Bytes::from_static(&[7; 40]))),
            '😀',
        )
    }

    fn inbox(limits: Limits) -> Arc<Inbox> {
        Arc::new(Inbox::new("test.f", limits, None))
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// Delivers `bytes` in pieces cut at `cuts`, then the end of the channel.
    fn deliver_pieces(inbox: &Inbox, bytes: &Bytes, cuts: &[usize]) {
        let mut start = 0;
        for &cut in cuts.iter().chain([&bytes.len()]) {
            if cut > start {
                inbox.deliver(&[], bytes.slice(start..cut));
                start = cut;
            }
        }
        inbox.deliver(&[], Bytes::new());
    }

    #[test]
    fn a_value_split_anywhere_decodes() {
        let bytes = encode(sample()).unwrap();
        let rt = runtime();
        for cut in 0..=bytes.len() {
            let inbox = inbox(Limits::default());
            let mut reader = inbox.claim_root().unwrap();
            deliver_pieces(&inbox, &bytes, &[cut]);
            let value: Value = rt.block_on(reader.read("result")).unwrap();
            assert_eq!(value, sample(), "cut at {cut}");
            rt.block_on(reader.expect_end()).unwrap();
        }
    }

    proptest! {
        #[test]
        fn a_value_in_many_pieces_decodes(mut cuts in prop::collection::vec(0usize..2000, 0..40)) {
            let bytes = encode(sample()).unwrap();
            cuts.iter_mut().for_each(|cut| *cut %= bytes.len());
            cuts.sort_unstable();
            let inbox = inbox(Limits::default());
            let mut reader = inbox.claim_root().unwrap();
            deliver_pieces(&inbox, &bytes, &cuts);
            let value: Value = runtime().block_on(reader.read("result")).unwrap();
            prop_assert_eq!(value, sample());
        }
    }

    #[test]
    fn values_back_to_back_in_one_message() {
        let mut bytes = BytesMut::new();
        bytes.extend_from_slice(&encode(1u32).unwrap());
        bytes.extend_from_slice(&encode("two").unwrap());
        let inbox = inbox(Limits::default());
        let mut reader = inbox.claim_root().unwrap();
        inbox.deliver(&[], bytes.freeze());
        let rt = runtime();
        assert_eq!(rt.block_on(reader.read::<u32>("result")).unwrap(), 1);
        assert_eq!(rt.block_on(reader.read::<String>("result")).unwrap(), "two");
    }

    #[test]
    fn end_before_the_value_is_incomplete() {
        let bytes = encode(sample()).unwrap();
        let inbox = inbox(Limits::default());
        let mut reader = inbox.claim_root().unwrap();
        inbox.deliver(&[], bytes.slice(..10));
        inbox.deliver(&[], Bytes::new());
        let err = runtime()
            .block_on(reader.read::<Value>("result"))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Incomplete { what: "result", subject, received: 10 } if subject == "test.f"),
            "{err}"
        );
    }

    #[test]
    fn a_claim_beyond_the_value_limit_fails_before_buffering() {
        let inbox = inbox(Limits::default().with_max_value_bytes(1000));
        let mut reader = inbox.claim_root().unwrap();
        // A 2000-byte string: its length prefix alone is enough to refuse it.
        inbox.deliver(&[], Bytes::from_static(&[0xd0, 0x0f, b'x']));
        let err = runtime()
            .block_on(reader.read::<String>("params"))
            .unwrap_err();
        let Error::Malformed { source, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            matches!(**source, Error::TooLarge { limit: 1000, .. }),
            "{err}"
        );
    }

    #[test]
    fn buffering_beyond_the_limit_fails_the_call() {
        let inbox = inbox(Limits::default().with_max_buffered_bytes(100));
        let mut reader = inbox.claim_root().unwrap();
        // A 200-byte string, arriving in two 60-byte pieces: 120 bytes waiting is too many.
        let mut first = vec![0xc8, 0x01];
        first.resize(60, b'x');
        inbox.deliver(&[], Bytes::from(first));
        inbox.deliver(&[], Bytes::from(vec![b'x'; 60]));
        let err = runtime()
            .block_on(reader.read::<String>("params"))
            .unwrap_err();
        // What arrived within the limit is read; then the channel reports why it ended.
        assert!(matches!(err, Error::BufferFull { limit: 100, .. }), "{err}");
    }

    #[test]
    fn sub_channels_are_bounded() {
        let inbox = inbox(Limits::default().with_max_channels(2));
        inbox.deliver(&[0], Bytes::from_static(b"a"));
        inbox.deliver(&[1], Bytes::from_static(b"b"));
        inbox.deliver(&[2], Bytes::from_static(b"c"));
        let err = inbox.claim(vec![0].into()).unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err}");
    }

    #[test]
    fn data_for_a_sub_channel_waits_for_its_claim() {
        let inbox = inbox(Limits::default());
        inbox.deliver(&[0, 3], encode(42u32).unwrap());
        inbox.deliver(&[0, 3], Bytes::new());
        let mut reader = inbox.claim(vec![0, 3].into()).unwrap();
        assert_eq!(reader.subject(), "test.f (sub-channel 0.3)");
        let err = inbox.claim(vec![0, 3].into()).unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err}");
        assert_eq!(
            runtime().block_on(reader.read::<u32>("future")).unwrap(),
            42
        );
    }

    #[test]
    fn a_released_channel_continues_where_it_stopped() {
        let inbox = inbox(Limits::default());
        let mut bytes = BytesMut::new();
        bytes.extend_from_slice(&encode(1u8).unwrap());
        bytes.extend_from_slice(&encode(2u8).unwrap());
        inbox.deliver(&[5], bytes.freeze());
        let rt = runtime();
        let mut reader = inbox.claim(vec![5].into()).unwrap();
        assert_eq!(rt.block_on(reader.read::<u8>("future")).unwrap(), 1);
        drop(reader);
        let mut reader = inbox.claim(vec![5].into()).unwrap();
        assert_eq!(rt.block_on(reader.read::<u8>("stream")).unwrap(), 2);
    }

    #[test]
    fn outgoing_splits_into_max_payload_pieces() {
        let peer = inbox(Limits::default());
        let mut reader = peer.claim_root().unwrap();
        let out = Outgoing::local(Arc::clone(&peer), 7);
        let bytes = encode(sample()).unwrap();
        let rt = runtime();
        rt.block_on(async {
            out.send(bytes.clone()).await.unwrap();
            out.close().await.unwrap();
        });
        let mut pieces = Vec::new();
        while let Some(piece) = rt.block_on(reader.next_message()).unwrap() {
            pieces.push(piece);
        }
        assert!(
            pieces
                .iter()
                .all(|piece| !piece.is_empty() && piece.len() <= 7)
        );
        assert_eq!(pieces.concat(), bytes.to_vec());
    }
}
