//! The receiving side of one call: a table from channel path to channel.
//!
//! A channel's life, as the table sees it:
//!
//! - It appears when its first message arrives or when something asks for it, whichever is
//!   first: data for a sub-channel nobody has claimed yet waits in it.
//! - A [`PendingChannel`] (a decoded `stream` or `future` not yet polled) marks it as wanted;
//!   claiming turns that into a [`ChannelReader`].
//! - A reader that lets go of a channel someone else still wants gives it back, with its unread
//!   bytes (a `future<stream<T>>`'s stream continues on the future's channel). Otherwise the
//!   channel is abandoned: what is buffered is freed, and what still arrives is dropped.
//! - Once it has ended and nobody wants it, it is removed, so a long stream of futures does not
//!   fill the table.
//!
//! What a peer makes this side hold is counted twice over: per call, the bytes waiting in its
//! channels (`Limits::max_buffered_bytes`, which in-process writers also wait on); per transport,
//! those plus the bytes readers have taken out of their channels but not yet decoded into a value
//! (`Limits::max_total_buffered_bytes`). A value that arrives in pieces sits in its reader until it
//! is complete, so a peer that starts values and never finishes them is bounded by the latter.

use std::collections::HashMap;
use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;

use super::queue::{self, Receiver, Sender};
use super::{Limits, push_path};
use crate::error::{Error, Result};
use crate::throttle::PacedWarning;
use crate::wire;

/// Invocations closed for going over a limit (buffered bytes, sub-channels).
static CLOSED: PacedWarning = PacedWarning::new("closing an invocation's channels");

/// Bytes buffered across all calls of one transport, against [`Limits::max_total_buffered_bytes`]:
/// waiting in their channels, or held by their readers for a value not yet complete.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    /// Bytes buffered now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            limit,
        })
    }
}

/// Why an inbox stopped accepting data.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// More bytes waited than `Limits::max_buffered_bytes` (or the transport's total).
    BufferFull { limit: usize },
    /// The peer opened more sub-channels than `Limits::max_channels`.
    TooManyChannels,
    /// The invocation's handshake said nobody serves its subject (NATS status 503).
    NoServer,
    /// The invocation's handshake carried another error status.
    Status {
        status: u16,
        description: Option<String>,
    },
    /// The server's admission refused the invocation, for `reason`.
    Refused { reason: String },
    /// The invocation's handshake broke the protocol, as `detail` says.
    BadHandshake { detail: &'static str },
}

struct Slot {
    /// Where messages go; `None` once the channel has ended.
    tx: Option<Sender>,
    /// The receiving end, while no reader holds it.
    rx: Option<Receiver>,
    /// Bytes a reader received but did not consume when it gave the channel back.
    leftover: Bytes,
    /// Bytes received on the channel so far, for messages.
    received: usize,
    /// Decoded values that will read this channel and have not claimed it yet.
    wanted: usize,
    /// Nobody will read the channel: what arrives is dropped until it ends.
    abandoned: bool,
}

impl Slot {
    fn new() -> Self {
        let (tx, rx) = queue::queue();
        Self {
            tx: Some(tx),
            rx: Some(rx),
            leftover: Bytes::new(),
            received: 0,
            wanted: 0,
            abandoned: false,
        }
    }
}

struct State {
    channels: Slots,
    failure: Option<Failure>,
}

/// The channels of a call by path: the root (the empty path) apart, since most calls have no
/// other.
#[derive(Default)]
struct Slots {
    root: Option<Slot>,
    sub_channels: HashMap<Box<[usize]>, Slot>,
}

impl Slots {
    fn get_mut(&mut self, path: &[usize]) -> Option<&mut Slot> {
        if path.is_empty() {
            self.root.as_mut()
        } else {
            self.sub_channels.get_mut(path)
        }
    }

    fn contains(&self, path: &[usize]) -> bool {
        if path.is_empty() {
            self.root.is_some()
        } else {
            self.sub_channels.contains_key(path)
        }
    }

    fn insert(&mut self, path: &[usize], slot: Slot) {
        if path.is_empty() {
            self.root = Some(slot);
        } else {
            self.sub_channels.insert(path.into(), slot);
        }
    }

    fn remove(&mut self, path: &[usize]) {
        if path.is_empty() {
            self.root = None;
        } else {
            self.sub_channels.remove(path);
        }
    }

    fn all_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.root.iter_mut().chain(self.sub_channels.values_mut())
    }
}

/// The incoming channels of one call.
pub(crate) struct Inbox {
    /// The invocation subject, which names the call in errors.
    subject: Box<str>,
    limits: Limits,
    budget: Arc<Budget>,
    /// Bytes waiting in this call's channels.
    buffered: AtomicUsize,
    state: Mutex<State>,
    /// In-process writers waiting for room (backpressure).
    room: Notify,
    writers_waiting: AtomicUsize,
    /// Nothing arrives but what the inbox was given when made: a pending value decoded from it
    /// would wait for a channel nobody can send on.
    sealed: bool,
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
        // Give back this call's share of the transport's budget.
        self.budget
            .used
            .fetch_sub(*self.buffered.get_mut(), Ordering::Relaxed);
        if let Some(on_drop) = self.on_drop.take() {
            on_drop();
        }
    }
}

impl Inbox {
    /// An inbox for a call of `subject`; `on_drop` runs when the last handle goes.
    pub(crate) fn new(
        subject: &str,
        limits: Limits,
        budget: Arc<Budget>,
        on_drop: Option<Box<dyn FnOnce() + Send + Sync>>,
    ) -> Self {
        Self {
            subject: subject.into(),
            limits,
            budget,
            buffered: AtomicUsize::new(0),
            state: Mutex::new(State {
                channels: Slots::default(),
                failure: None,
            }),
            room: Notify::new(),
            writers_waiting: AtomicUsize::new(0),
            sealed: false,
            on_drop,
        }
    }

    /// An inbox that only ever holds what it is given now: decoding a pending `stream` or
    /// `future` from it fails, since nothing can reach its sub-channel.
    pub(crate) fn sealed(subject: &str, limits: Limits, budget: Arc<Budget>) -> Self {
        let mut inbox = Self::new(subject, limits, budget, None);
        inbox.sealed = true;
        inbox
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, but never let a poisoned lock stop a call.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes waiting in this call's channels.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.buffered.load(Ordering::Relaxed)
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

    /// The slot at `path`, created if need be; `None` (and the inbox failed) past
    /// `max_channels`.
    fn slot<'s>(&self, state: &'s mut State, path: &[usize]) -> Option<&'s mut Slot> {
        if !state.channels.contains(path) {
            let sub_channels = state.channels.sub_channels.len();
            if !path.is_empty() && sub_channels >= self.limits.max_channels {
                self.fail(state, Failure::TooManyChannels);
                return None;
            }
            state.channels.insert(path, Slot::new());
        }
        state.channels.get_mut(path)
    }

    /// Delivers one message for the channel at `path`; an empty payload ends the channel.
    pub(crate) fn deliver(&self, path: &[usize], payload: Bytes) {
        let mut state = self.lock();
        if state.failure.is_some() {
            return;
        }
        let Some(slot) = self.slot(&mut state, path) else {
            return;
        };
        if slot.abandoned {
            if payload.is_empty() {
                state.channels.remove(path);
            }
            return;
        }
        let Some(tx) = &slot.tx else {
            tracing::debug!(subject = %self.subject(path), "dropping a message after end of stream");
            return;
        };
        if payload.is_empty() {
            slot.tx = None;
            return;
        }
        let len = payload.len();
        slot.received += len;
        let call = self.buffered.fetch_add(len, Ordering::Relaxed) + len;
        let total = self.budget.used.fetch_add(len, Ordering::Relaxed) + len;
        if call > self.limits.max_buffered_bytes || total > self.budget.limit {
            self.unbuffer(len);
            let limit = if call > self.limits.max_buffered_bytes {
                self.limits.max_buffered_bytes
            } else {
                self.budget.limit
            };
            self.fail(&mut state, Failure::BufferFull { limit });
            return;
        }
        if tx.send(payload).is_err() {
            // Unreachable while the slot or a reader holds `rx`; never count what nobody reads.
            self.unbuffer(len);
        }
    }

    /// Forgets `len` bytes that were counted as buffered.
    pub(crate) fn unbuffer(&self, len: usize) {
        self.dequeue(len);
        self.release_held(len);
    }

    /// `len` bytes left the call's channels for a reader: no longer waiting in the call, but
    /// still on the transport's budget until the reader lets go of them.
    fn dequeue(&self, len: usize) {
        self.buffered.fetch_sub(len, Ordering::Relaxed);
        if self.writers_waiting.load(Ordering::Acquire) > 0 {
            self.room.notify_waiters();
        }
    }

    /// A reader holds `len` more bytes (a channel's leftover, which it takes over).
    fn hold(&self, len: usize) {
        self.budget.used.fetch_add(len, Ordering::Relaxed);
    }

    /// A reader let go of `len` bytes it held.
    fn release_held(&self, len: usize) {
        self.budget.used.fetch_sub(len, Ordering::Relaxed);
    }

    /// Whether `len` more bytes fit comfortably (half the call's limit), or nothing waits.
    pub(crate) fn has_room(&self, len: usize) -> bool {
        let buffered = self.buffered.load(Ordering::Relaxed);
        buffered == 0 || buffered + len <= self.limits.max_buffered_bytes / 2
    }

    /// Waits until `len` more bytes fit comfortably (half the call's limit), so an in-process
    /// writer cannot run ahead of its reader. Always lets a write through when nothing waits.
    pub(crate) async fn wait_for_room(&self, len: usize) {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.has_room(len) || self.lock().failure.is_some() {
                return;
            }
            self.writers_waiting.fetch_add(1, Ordering::AcqRel);
            room.await;
            self.writers_waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Stops accepting data and ends every channel; readers then report `failure`.
    pub(crate) fn close_with(&self, failure: Failure) {
        let mut state = self.lock();
        if state.failure.is_none() {
            self.fail(&mut state, failure);
        }
    }

    fn fail(&self, state: &mut State, failure: Failure) {
        if matches!(
            failure,
            Failure::BufferFull { .. } | Failure::TooManyChannels
        ) {
            CLOSED.note(Some(&self.subject), &format_args!("{failure:?}"));
        }
        state.failure = Some(failure);
        for slot in state.channels.all_mut() {
            slot.tx = None;
        }
        self.room.notify_waiters();
    }

    pub(crate) fn failure_error(&self) -> Option<Error> {
        let failure = self.lock().failure.clone()?;
        let subject = self.subject.to_string();
        Some(match failure {
            Failure::BufferFull { limit } => Error::BufferFull { subject, limit },
            Failure::TooManyChannels => Error::Protocol {
                subject,
                detail: "the peer opened more sub-channels than `Limits::max_channels` allows",
            },
            Failure::NoServer => Error::NoServer { subject },
            Failure::Status {
                status,
                description,
            } => Error::Status {
                subject,
                status,
                description,
            },
            Failure::Refused { reason } => Error::Refused { subject, reason },
            Failure::BadHandshake { detail } => Error::Protocol { subject, detail },
        })
    }

    /// Marks the channel at `path` as wanted by one more decoded value.
    fn want(&self, path: &[usize]) -> Result<()> {
        if self.sealed && !path.is_empty() {
            return Err(Error::Protocol {
                subject: self.subject(path),
                detail: "a pending stream or future arrived in params said to be whole",
            });
        }
        let mut state = self.lock();
        match self.slot(&mut state, path) {
            Some(slot) => {
                slot.wanted += 1;
                Ok(())
            }
            None => {
                drop(state);
                Err(self.failure_error().unwrap_or(Error::Closed))
            }
        }
    }

    /// One decoded value that wanted `path` no longer does (claimed or dropped).
    fn unwant(&self, path: &[usize], claimed: bool) {
        let mut state = self.lock();
        let Some(slot) = state.channels.get_mut(path) else {
            return;
        };
        slot.wanted = slot.wanted.saturating_sub(1);
        if !claimed && slot.wanted == 0 && slot.rx.is_some() {
            self.abandon(&mut state, path);
        }
    }

    /// Nobody will read the channel at `path`: free what it holds and drop what still comes.
    fn abandon(&self, state: &mut State, path: &[usize]) {
        let Some(slot) = state.channels.get_mut(path) else {
            return;
        };
        let mut freed = 0;
        if let Some(mut rx) = slot.rx.take() {
            while let Some(message) = rx.try_recv() {
                freed += message.len();
            }
        }
        slot.leftover = Bytes::new();
        if slot.tx.is_none() {
            state.channels.remove(path);
        } else {
            // Keep the slot only to recognize the end of the channel, then remove it.
            slot.abandoned = true;
            slot.tx = None;
        }
        if freed > 0 {
            self.unbuffer(freed);
        }
    }

    /// Takes the channel at `path` for reading.
    pub(crate) fn claim(self: &Arc<Self>, path: Box<[usize]>) -> Result<ChannelReader> {
        let mut state = self.lock();
        if state.failure.is_some() {
            drop(state);
            return Err(self.failure_error().unwrap_or(Error::Closed));
        }
        let Some(slot) = self.slot(&mut state, &path) else {
            drop(state);
            return Err(self.failure_error().unwrap_or(Error::Closed));
        };
        let Some(rx) = slot.rx.take() else {
            return Err(Error::Protocol {
                subject: self.subject(&path),
                detail: "a channel was claimed twice",
            });
        };
        let buf = mem::take(&mut slot.leftover);
        let received = slot.received;
        drop(state);
        self.hold(buf.len());
        Ok(ChannelReader {
            inbox: Arc::clone(self),
            path,
            rx: Some(rx),
            held: buf.len(),
            buf,
            received,
        })
    }

    /// Takes the root channel for reading.
    pub(crate) fn claim_root(self: &Arc<Self>) -> Result<ChannelReader> {
        self.claim(Box::default())
    }

    /// Takes back a channel from a reader that lets go of it.
    fn release(&self, path: &[usize], rx: Option<Receiver>, unread: Bytes) {
        let mut state = self.lock();
        let Some(slot) = state.channels.get_mut(path) else {
            return;
        };
        if slot.wanted > 0 {
            // Someone continues on this channel: hand it over as it is (ended or not).
            slot.rx = Some(rx.unwrap_or_else(Receiver::ended));
            slot.leftover = unread;
        } else if rx.is_none() {
            // Read to its end: nothing more will come.
            state.channels.remove(path);
        } else {
            slot.rx = rx;
            self.abandon(&mut state, path);
        }
    }
}

/// The sub-channel of a `stream` or `future` that was decoded as pending, not yet read.
///
/// Created unarmed while decoding (a decode attempt may fail and be retried when more bytes
/// arrive); [`Arming::arm`] marks the channel as wanted once the value is handed out, so
/// that dropping the value unread abandons the channel.
#[derive(Debug)]
pub(crate) struct PendingChannel {
    inbox: Arc<Inbox>,
    path: Box<[usize]>,
    armed: Arc<AtomicBool>,
}

impl PendingChannel {
    pub(crate) fn new(inbox: Arc<Inbox>, path: Vec<usize>) -> Self {
        Self {
            inbox,
            path: path.into_boxed_slice(),
            armed: Arc::default(),
        }
    }

    /// A handle [`ChannelReader::read_with`] keeps to arm this channel if the value decodes.
    pub(crate) fn arming(&self) -> Arming {
        Arming {
            inbox: Arc::clone(&self.inbox),
            path: self.path.clone(),
            armed: Arc::clone(&self.armed),
        }
    }

    pub(crate) fn claim(mut self) -> Result<ChannelReader> {
        let path = mem::take(&mut self.path);
        if self.armed.swap(false, Ordering::AcqRel) {
            self.inbox.unwant(&path, true);
        }
        self.inbox.claim(path)
    }
}

impl wire::PendingChannel for PendingChannel {
    fn claim(self: Box<Self>) -> Result<Box<dyn wire::IncomingChannel>> {
        Ok(Box::new(PendingChannel::claim(*self)?))
    }
}

impl Drop for PendingChannel {
    fn drop(&mut self) {
        if self.armed.swap(false, Ordering::AcqRel) {
            self.inbox.unwant(&self.path, false);
        }
    }
}

/// Arms a [`PendingChannel`] from a successful decode.
pub(crate) struct Arming {
    inbox: Arc<Inbox>,
    path: Box<[usize]>,
    armed: Arc<AtomicBool>,
}

impl Arming {
    pub(crate) fn arm(self) -> Result<()> {
        // The value may already be gone (dropped inside the decoder): then nothing wants it.
        if Arc::strong_count(&self.armed) > 1 {
            self.inbox.want(&self.path)?;
            self.armed.store(true, Ordering::Release);
        }
        Ok(())
    }
}

/// Reads values from one incoming channel.
///
/// A value may arrive split across any number of messages: the reader decodes what it has and,
/// if the value is incomplete, waits for as many bytes as the decoder said it needs at least, so
/// a large value is decoded once it is all there rather than once per message.
pub(crate) struct ChannelReader {
    pub(super) inbox: Arc<Inbox>,
    pub(super) path: Box<[usize]>,
    /// `None` once the channel has ended.
    pub(super) rx: Option<Receiver>,
    /// Received, not yet consumed bytes.
    pub(super) buf: Bytes,
    /// Bytes taken from the channel and not yet consumed by a decoded value (`buf`, and what a
    /// read in progress has gathered), which count against the transport's budget. A read
    /// cancelled halfway drops what it gathered, which stays counted until the reader goes:
    /// over-counted, never under (no reader in this crate is cancelled without being dropped).
    pub(super) held: usize,
    pub(super) received: usize,
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
    /// Gives back what the reader held; unread bytes go back to the channel for whoever
    /// continues on it, counted again when claimed.
    fn drop(&mut self) {
        self.inbox.release_held(mem::take(&mut self.held));
        self.inbox
            .release(&self.path, self.rx.take(), mem::take(&mut self.buf));
    }
}

impl ChannelReader {
    /// The channel's subject, for messages.
    pub(crate) fn subject(&self) -> String {
        self.inbox.subject(&self.path)
    }

    /// The next message, or `None` at end of stream. A sub-channel that stays silent for
    /// `Limits::idle_timeout` fails with [`Error::Timeout`] (the root channels are bounded by
    /// the call's deadline instead).
    pub(super) async fn next_message(&mut self) -> Result<Option<Bytes>> {
        let Some(rx) = &mut self.rx else {
            return Ok(None);
        };
        let message = match self.inbox.limits.idle_timeout {
            Some(idle) if !self.path.is_empty() => {
                match tokio::time::timeout(idle, rx.recv()).await {
                    Ok(message) => message,
                    Err(_) => return Err(self.idle_error(idle)),
                }
            }
            _ => rx.recv().await,
        };
        match message {
            Some(message) => {
                self.took(message.len());
                Ok(Some(message))
            }
            None => {
                self.rx = None;
                match self.inbox.failure_error() {
                    Some(error) => Err(error),
                    None => Ok(None),
                }
            }
        }
    }

    /// The next message if one is already there.
    pub(super) fn try_next_message(&mut self) -> Option<Bytes> {
        let message = self.rx.as_mut()?.try_recv()?;
        self.took(message.len());
        Some(message)
    }

    /// `len` bytes left the channel for this reader, which holds them until they are consumed.
    fn took(&mut self, len: usize) {
        self.inbox.dequeue(len);
        self.held += len;
        self.received += len;
    }

    /// `len` held bytes became (part of) a decoded value: no longer the transport's to count.
    pub(super) fn consumed(&mut self, len: usize) {
        let len = len.min(self.held);
        self.held -= len;
        self.inbox.release_held(len);
    }

    fn idle_error(&self, idle: Duration) -> Error {
        Error::Timeout {
            subject: self.subject(),
            after: idle,
        }
    }
}
