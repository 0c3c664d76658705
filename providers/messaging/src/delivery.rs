//! Handler links: each subscription's messages delivered to the component, bounded per link
//! and across links.
//!
//! One task per subscription reads its messages in order, noting when each was taken from the
//! subscription. Each message then takes a slot of its link (`max_in_flight`) and one of the
//! provider (`provider_max_in_flight`), if it gets both within `admission_wait_ms` of being
//! taken; it is then delivered on a task of its own that holds the two slots until the
//! component has answered. A message that gets no slot in time is dropped, counted and logged
//! with its subject; so is one the component answers with `err`, or whose call fails. Core
//! NATS is at-most-once: nothing is redelivered.
//!
//! The component is reached through [`Deliver`], which the provider implements with a wRPC
//! call, so this room knows nothing of bindings and can be tested alone.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::{Message, Subscriber};
use futures::StreamExt as _;
use provider_sdk::provider::LinkKey;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::config::Subscription;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// How long closing a link waits to hand its connection the drain command.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Messages stamped and waiting for admission, per subscription; more wait unstamped in the
/// client's subscription buffer.
const STAMPED: usize = 4096;

/// Why a delivery failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The component answered `err`.
    Rejected(String),
    /// The call did not complete (no component, timeout, broken connection).
    Transport(String),
}

/// Hands one message to the component.
pub(crate) trait Deliver: Send + Sync + 'static {
    fn deliver(
        &self,
        message: Message,
    ) -> impl Future<Output = std::result::Result<(), Failure>> + Send;
}

/// Counts over every handler link of the provider.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Messages the component answered with `ok`.
    pub delivered: u64,
    /// Messages the component answered with `err`, or whose call failed.
    pub failed: u64,
    /// Messages dropped for want of a delivery slot within `admission_wait_ms`.
    pub dropped: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// The provider-wide delivery slots: one semaphore whose size follows
/// `provider_max_in_flight`.
#[derive(Debug)]
pub(crate) struct ProviderSlots {
    semaphore: Arc<Semaphore>,
    size: std::sync::Mutex<usize>,
}

impl ProviderSlots {
    pub(crate) fn new(size: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size: std::sync::Mutex::new(size),
        }
    }

    pub(crate) fn semaphore(&self) -> Arc<Semaphore> {
        Arc::clone(&self.semaphore)
    }

    /// Grows or shrinks to `size` slots. Shrinking takes the surplus slots out as they come
    /// free: deliveries in flight finish.
    pub(crate) fn resize(&self, size: usize) {
        let mut current = self.size.lock().unwrap_or_else(|e| e.into_inner());
        if size > *current {
            self.semaphore.add_permits(size - *current);
        } else if size < *current {
            let surplus = u32::try_from(*current - size).unwrap_or(u32::MAX);
            let semaphore = Arc::clone(&self.semaphore);
            tokio::spawn(async move {
                if let Ok(permits) = semaphore.acquire_many_owned(surplus).await {
                    permits.forget();
                }
            });
        }
        *current = size;
    }
}

/// How a handler link admits messages.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// The link's slots (`max_in_flight`).
    pub(crate) link: Arc<Semaphore>,
    /// The provider's slots (`provider_max_in_flight`).
    pub(crate) provider: Arc<Semaphore>,
    /// `admission_wait_ms`.
    pub(crate) wait: Duration,
}

impl Limits {
    async fn admit(&self) -> std::result::Result<[OwnedSemaphorePermit; 2], AcquireError> {
        let link = Arc::clone(&self.link).acquire_owned().await?;
        let provider = Arc::clone(&self.provider).acquire_owned().await?;
        Ok([link, provider])
    }
}

/// One handler link's subscriptions, delivering while it lives.
#[derive(Debug)]
pub(crate) struct Delivery {
    connection: Connection,
    readers: Vec<tokio::task::AbortHandle>,
    link_slots: Arc<Semaphore>,
    max_in_flight: usize,
}

impl Drop for Delivery {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

impl Delivery {
    /// Subscribes to every subscription on `connection`, confirms with the server that they
    /// are in place, and starts delivering to `target`.
    pub(crate) async fn start<D: Deliver>(
        link: &LinkKey,
        connection: Connection,
        subscriptions: &[Subscription],
        max_in_flight: usize,
        limits: Limits,
        target: D,
        stats: Arc<Stats>,
    ) -> Result<Self> {
        let mut subscribers = Vec::with_capacity(subscriptions.len());
        for subscription in subscriptions {
            let client = connection.client();
            let subscriber = match &subscription.queue {
                Some(queue) => {
                    client
                        .queue_subscribe(subscription.subject.clone(), queue.clone())
                        .await
                }
                None => client.subscribe(subscription.subject.clone()).await,
            }
            .map_err(|error| Error::nats(format!("subscribing to {subscription}: {error}")))?;
            subscribers.push((subscription.clone(), subscriber));
        }
        connection.confirm().await?;
        let target = Arc::new(target);
        let readers = subscribers
            .into_iter()
            .map(|(subscription, subscriber)| {
                tokio::spawn(read(
                    link.clone(),
                    subscription,
                    subscriber,
                    limits.clone(),
                    Arc::clone(&target),
                    Arc::clone(&stats),
                ))
                .abort_handle()
            })
            .collect();
        Ok(Self {
            connection,
            readers,
            link_slots: limits.link,
            max_in_flight,
        })
    }

    /// The link's connection.
    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Stops reading, unsubscribes and closes the connection; deliveries in flight finish on
    /// their own.
    pub(crate) async fn close(&self) {
        for reader in &self.readers {
            reader.abort();
        }
        // Drain only queues a command; with the server away and the queue full it would wait.
        match tokio::time::timeout(CLOSE_WAIT, self.connection.client().drain()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(%error, "closing a handler link's connection"),
            Err(_) => tracing::debug!("closing a handler link's connection: no room to drain"),
        }
    }

    /// Waits until no delivery of this link is in flight, or `deadline` passes; whether they
    /// all finished.
    pub(crate) async fn drained(&self, deadline: Instant) -> bool {
        let all = u32::try_from(self.max_in_flight).unwrap_or(u32::MAX);
        tokio::time::timeout_at(deadline.into(), self.link_slots.acquire_many(all))
            .await
            .is_ok()
    }
}

/// Reads one subscription, admitting and delivering each message.
async fn read<D: Deliver>(
    link: LinkKey,
    subscription: Subscription,
    mut subscriber: Subscriber,
    limits: Limits,
    target: Arc<D>,
    stats: Arc<Stats>,
) {
    // Messages are stamped as they are taken from the subscription, ahead of admission, so
    // that the time spent queued behind other messages counts towards admission_wait_ms and a
    // backlog of messages older than that is dropped at once, not one wait after another.
    let (queue, mut queued) = mpsc::channel::<(Instant, Message)>(STAMPED);
    let stamp = async move {
        while let Some(message) = subscriber.next().await {
            if queue.send((Instant::now(), message)).await.is_err() {
                return;
            }
        }
    };
    let admit = async move {
        while let Some((arrived, message)) = queued.recv().await {
            let deadline = arrived + limits.wait;
            let admitted = if Instant::now() > deadline {
                None
            } else {
                match tokio::time::timeout_at(deadline.into(), limits.admit()).await {
                    Ok(Ok(slots)) => Some(slots),
                    // The semaphores are never closed; should one be, nothing can be delivered.
                    Ok(Err(_)) => return,
                    Err(_) => None,
                }
            };
            let Some(slots) = admitted else {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    %link,
                    subject = %message.subject,
                    subscription = %subscription,
                    waited_ms = arrived.elapsed().as_millis() as u64,
                    "message dropped: no delivery slot free within admission_wait_ms"
                );
                continue;
            };
            deliver(&link, message, slots, &target, &stats);
        }
    };
    tokio::join!(stamp, admit);
}

/// Delivers `message` on a task of its own, holding `slots` until the component has answered.
/// Bounded: at most `max_in_flight` of these run per link, `provider_max_in_flight` in all.
fn deliver<D: Deliver>(
    link: &LinkKey,
    message: Message,
    slots: [OwnedSemaphorePermit; 2],
    target: &Arc<D>,
    stats: &Arc<Stats>,
) {
    let target = Arc::clone(target);
    let stats = Arc::clone(stats);
    let link = link.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn settled(semaphore: &Semaphore, expected: usize) -> bool {
        for _ in 0..100 {
            if semaphore.available_permits() == expected {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// Growing adds slots at once; shrinking takes the surplus out only as deliveries in
    /// flight give their slots back, never cutting one short.
    #[tokio::test]
    async fn provider_slots_grow_at_once_and_shrink_as_deliveries_finish() {
        let slots = ProviderSlots::new(2);
        let semaphore = slots.semaphore();
        let held = Arc::clone(&semaphore).acquire_many_owned(2).await.unwrap();
        slots.resize(1);
        assert_eq!(semaphore.available_permits(), 0);
        drop(held);
        assert!(
            settled(&semaphore, 1).await,
            "{}",
            semaphore.available_permits()
        );
        slots.resize(4);
        assert_eq!(semaphore.available_permits(), 4);
        slots.resize(4);
        assert_eq!(semaphore.available_permits(), 4);
    }
}
