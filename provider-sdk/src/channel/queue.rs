//! The messages a channel has received and its reader has not taken yet: one sender (the
//! inbox), one receiver (the channel's reader), no bound of its own (the inbox bounds the bytes
//! it lets in).
//!
//! Every call makes at least one channel each way, so making one must be cheap: an `Arc`, and a
//! `VecDeque` that allocates only when a message is queued; tokio's unbounded channel allocates
//! a block of 32 slots for each.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

struct State {
    messages: VecDeque<Bytes>,
    /// The sender is gone: once `messages` is empty, the channel has ended.
    ended: bool,
    /// The receiver is gone: sending fails.
    unread: bool,
    /// The receiver waiting for a message.
    waker: Option<Waker>,
}

struct Shared(Mutex<State>);

impl Shared {
    fn new(ended: bool) -> Arc<Self> {
        Arc::new(Self(Mutex::new(State {
            messages: VecDeque::new(),
            ended,
            unread: false,
            waker: None,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; never let a poisoned lock stop a call.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A new queue.
pub(super) fn queue() -> (Sender, Receiver) {
    let shared = Shared::new(false);
    (Sender(Arc::clone(&shared)), Receiver(shared))
}

/// The sending end; dropping it ends the channel.
pub(super) struct Sender(Arc<Shared>);

impl Sender {
    /// Queues `message`; gives it back if the receiver is gone.
    pub(super) fn send(&self, message: Bytes) -> Result<(), Bytes> {
        let mut state = self.0.lock();
        if state.unread {
            return Err(message);
        }
        state.messages.push_back(message);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.ended = true;
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The receiving end.
pub(super) struct Receiver(Arc<Shared>);

impl Receiver {
    /// A receiver of a channel that has ended, with nothing queued.
    pub(super) fn ended() -> Self {
        Self(Shared::new(true))
    }

    /// The next message if one is queued.
    pub(super) fn try_recv(&mut self) -> Option<Bytes> {
        self.0.lock().messages.pop_front()
    }

    /// The next message, or `None` once the channel has ended and nothing is left. Each
    /// message takes a unit of the task's cooperative budget, as tokio's channels do, so a
    /// reader draining a long backlog gives other tasks their turn.
    pub(super) async fn recv(&mut self) -> Option<Bytes> {
        let message = poll_fn(|cx| self.poll_recv(cx)).await;
        if message.is_some() {
            tokio::task::consume_budget().await;
        }
        message
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut state = self.0.lock();
        if let Some(message) = state.messages.pop_front() {
            return Poll::Ready(Some(message));
        }
        if state.ended {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.unread = true;
        state.messages.clear();
        state.waker = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_come_out_in_order_then_the_end() {
        let (tx, mut rx) = queue();
        tx.send(Bytes::from_static(b"a")).unwrap();
        tx.send(Bytes::from_static(b"b")).unwrap();
        assert_eq!(rx.try_recv().as_deref(), Some(&b"a"[..]));
        drop(tx);
        assert_eq!(rx.recv().await.as_deref(), Some(&b"b"[..]));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_a_message_and_for_the_end() {
        let (tx, mut rx) = queue();
        let reader = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        tokio::task::yield_now().await;
        tx.send(Bytes::from_static(b"x")).unwrap();
        tokio::task::yield_now().await;
        drop(tx);
        let (first, second) = reader.await.unwrap();
        assert_eq!(first.as_deref(), Some(&b"x"[..]));
        assert_eq!(second, None);
    }

    #[test]
    fn sending_to_a_dropped_receiver_gives_the_message_back() {
        let (tx, rx) = queue();
        drop(rx);
        assert_eq!(
            tx.send(Bytes::from_static(b"x")),
            Err(Bytes::from_static(b"x"))
        );
    }

    #[tokio::test]
    async fn an_ended_receiver_has_nothing() {
        let mut rx = Receiver::ended();
        assert_eq!(rx.try_recv(), None);
        assert_eq!(rx.recv().await, None);
    }
}
