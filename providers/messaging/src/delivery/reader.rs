//! One subscription's reader: takes its messages from the client, admits each to a delivery
//! slot or drops it (counted, and logged), and delivers it on a task of its own.
//!
//! Two halves run side by side. The *taking* half moves each message from async-nats'
//! subscription buffer to a queue of [`QUEUE`] messages, stamped with the time it was taken,
//! and never waits: a message that finds the queue full is dropped and counted here, where the
//! subscription is known, instead of being left to overflow async-nats' buffer, which drops
//! messages without counting them. The *admitting* half takes each message from the queue,
//! waits for a delivery slot until `admission_wait_ms` after its stamp (so a backlog older
//! than that is dropped at once, not one wait after another) and starts its delivery.
//!
//! Drops are logged as warnings paced by a [`Throttle`]: the first at once, then at most one
//! line a second per subscription and cause, each with the number it covers, so that a burst
//! of drops is fully accounted for in a few lines.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::{Message, Subscriber};
use futures::{FutureExt as _, StreamExt as _};
use provider_sdk::provider::LinkKey;
use provider_sdk::throttle::Throttle;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

use super::slots::Limits;
use super::stats::Stats;
use super::{CLOSE_WAIT, Deliver, Failure, QUEUE};
use crate::config::Subscription;

/// At most one warning about dropped messages per this, per subscription and cause.
const DROP_LOG_EVERY: Duration = Duration::from_secs(1);

/// What a subscription's reader needs besides the subscription and the component.
pub(super) struct Reader {
    /// Shared with every delivery task, which names it in its log lines.
    pub(super) link: Arc<LinkKey>,
    pub(super) subscription: Subscription,
    pub(super) limits: Limits,
    pub(super) stats: Arc<Stats>,
    /// The drain deadline, once the link is closing.
    pub(super) closing: watch::Receiver<Option<Instant>>,
}

/// Resolves when the link starts closing.
async fn closing(closing: &mut watch::Receiver<Option<Instant>>) {
    // The sender lives as long as the link: an error means it is gone, so is the link.
    let _ = closing.wait_for(Option::is_some).await;
}

/// Resolves at the drain deadline once the link is closing.
async fn drained(mut closing: watch::Receiver<Option<Instant>>) {
    let deadline = match closing.wait_for(Option::is_some).await {
        Ok(deadline) => *deadline,
        Err(_) => None,
    };
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Resolves when `throttle` has drops due to be reported; never while it has none.
async fn report_due(throttle: &Throttle) {
    match throttle.due() {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}

/// Why messages were dropped, as a reader's warnings say it.
#[derive(Clone, Copy)]
enum Cause {
    QueueFull,
    NoSlot,
}

impl Reader {
    /// Counts one dropped message (of `subject`) and logs, paced by `throttle`.
    fn dropped(&self, cause: Cause, throttle: &mut Throttle, subject: &str) {
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        if let Some(dropped) = throttle.note(Instant::now()) {
            self.report(cause, dropped, subject);
        }
    }

    fn report(&self, cause: Cause, dropped: u64, last_subject: &str) {
        let (link, subscription) = (&self.link, &self.subscription);
        let total_dropped = self.stats.dropped.load(Ordering::Relaxed);
        match cause {
            Cause::QueueFull => tracing::warn!(
                %link,
                %subscription,
                dropped,
                total_dropped,
                last_subject,
                queue = QUEUE,
                "messages dropped: the subscription's queue of messages waiting for a delivery \
                 slot is full (the component is slower than the messages arrive)"
            ),
            Cause::NoSlot => tracing::warn!(
                %link,
                %subscription,
                dropped,
                total_dropped,
                last_subject,
                "messages dropped: no delivery slot free within admission_wait_ms"
            ),
        }
    }
}

/// Reads one subscription, admitting and delivering each message, until the link closes; then
/// unsubscribes and delivers what was buffered until the drain deadline. Answers how many
/// messages were still buffered then (counted as dropped).
pub(super) async fn read<D: Deliver>(
    reader: Reader,
    mut subscriber: Subscriber,
    target: Arc<D>,
) -> u64 {
    let (queue, mut queued) = mpsc::channel::<(Instant, Message)>(QUEUE);
    let reader = &reader;
    // Moves the queue's sender in: when this half ends, the admitting half sees the queue end.
    let take = async move {
        let mut closed = reader.closing.clone();
        let mut left = 0u64;
        let mut unsubscribed = false;
        let mut throttle = Throttle::new(DROP_LOG_EVERY);
        let mut last_subject = String::new();
        let deadline = drained(closed.clone());
        tokio::pin!(deadline);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut deadline => break,
                () = closing(&mut closed), if !unsubscribed => {
                    unsubscribed = true;
                    // The server stops sending; what is buffered is still read, then the
                    // subscription ends.
                    let (link, subscription) = (&reader.link, &reader.subscription);
                    match tokio::time::timeout(CLOSE_WAIT, subscriber.unsubscribe()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => tracing::debug!(%link, %subscription, %error, "unsubscribing"),
                        Err(_) => tracing::debug!(%link, %subscription, "unsubscribing: no room for the command"),
                    }
                    continue;
                }
                () = report_due(&throttle) => {
                    if let Some(dropped) = throttle.flush(Instant::now()) {
                        reader.report(Cause::QueueFull, dropped, &last_subject);
                    }
                    continue;
                }
                next = subscriber.next() => next,
            };
            let Some(message) = next else { break };
            match queue.try_send((Instant::now(), message)) {
                Ok(()) => {}
                Err(TrySendError::Full((_, message))) => {
                    reader.dropped(Cause::QueueFull, &mut throttle, &message.subject);
                    if throttle.due().is_some() {
                        message.subject.as_str().clone_into(&mut last_subject);
                    }
                }
                Err(TrySendError::Closed(_)) => {
                    // The admitting half stopped at the drain deadline.
                    left += 1;
                    break;
                }
            }
        }
        if let n @ 1.. = throttle.take() {
            reader.report(Cause::QueueFull, n, &last_subject);
        }
        // Whatever the client still holds for this subscription is dropped with it.
        while let Some(Some(_)) = subscriber.next().now_or_never() {
            left += 1;
        }
        left
    };
    let admit = async move {
        let limits = &reader.limits;
        let mut left = 0u64;
        let mut throttle = Throttle::new(DROP_LOG_EVERY);
        let mut last_subject = String::new();
        let deadline = drained(reader.closing.clone());
        tokio::pin!(deadline);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut deadline => break,
                () = report_due(&throttle) => {
                    if let Some(dropped) = throttle.flush(Instant::now()) {
                        reader.report(Cause::NoSlot, dropped, &last_subject);
                    }
                    continue;
                }
                next = queued.recv() => next,
            };
            let Some((arrived, message)) = next else {
                break;
            };
            let admission = arrived + limits.wait;
            // A free slot is taken at once, whatever the wait; only then does the wait count.
            let admitted = match limits.try_admit() {
                Some(slots) => Some(slots),
                None if Instant::now() >= admission => None,
                None => tokio::select! {
                    biased;
                    () = &mut deadline => {
                        left += 1;
                        break;
                    }
                    admitted = tokio::time::timeout_at(admission.into(), limits.admit()) => {
                        match admitted {
                            Ok(Ok(slots)) => Some(slots),
                            // The semaphores are never closed; should one be, nothing can be
                            // delivered.
                            Ok(Err(_)) => {
                                left += 1;
                                break;
                            }
                            Err(_) => None,
                        }
                    }
                },
            };
            match admitted {
                Some(slots) => deliver(&reader.link, message, slots, &target, &reader.stats),
                None => {
                    reader.dropped(Cause::NoSlot, &mut throttle, &message.subject);
                    if throttle.due().is_some() {
                        message.subject.as_str().clone_into(&mut last_subject);
                    }
                }
            }
        }
        if let n @ 1.. = throttle.take() {
            reader.report(Cause::NoSlot, n, &last_subject);
        }
        // Queued but not admitted by the deadline: dropped. Closing the queue makes the
        // taking half's next send fail, so it counts that message and its own.
        queued.close();
        while queued.recv().await.is_some() {
            left += 1;
        }
        left
    };
    let (taken_left, queued_left) = tokio::join!(take, admit);
    let left = taken_left + queued_left;
    reader.stats.dropped.fetch_add(left, Ordering::Relaxed);
    left
}

/// Delivers `message` on a task of its own, holding `slots` until the component has answered.
/// Bounded: at most `max_in_flight` of these run per link, `provider_max_in_flight` in all.
fn deliver<D: Deliver>(
    link: &Arc<LinkKey>,
    message: Message,
    slots: [OwnedSemaphorePermit; 2],
    target: &Arc<D>,
    stats: &Arc<Stats>,
) {
    let target = Arc::clone(target);
    let stats = Arc::clone(stats);
    let link = Arc::clone(link);
    tokio::spawn(async move {
        let _slots = slots;
        let subject = message.subject.clone();
        match target.deliver(message).await {
            Ok(()) => {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(Failure::Rejected(error)) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%link, %subject, %error, "the component failed to handle a message");
            }
            Err(Failure::Transport(error)) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%link, %subject, %error, "could not deliver a message to the component");
            }
        }
    });
}
