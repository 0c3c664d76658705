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
//! Closing a link (delete, replace, shutdown) unsubscribes first, so the server stops sending,
//! then lets the readers deliver what is already buffered until a drain deadline
//! (`admission_wait_ms`, at most [`DRAIN_MAX`]); whatever is still buffered then is counted as
//! dropped, with one warning line per link naming how many.
//!
//! The component is reached through [`Deliver`], which the provider implements with a wRPC
//! call, so this room knows nothing of bindings and can be tested alone.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::{Message, Subscriber};
use futures::{FutureExt as _, StreamExt as _};
use provider_sdk::provider::LinkKey;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::Subscription;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// How long closing a link waits to hand its connection an unsubscribe or drain command.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The longest a closing link keeps delivering what its subscriptions had buffered.
pub(crate) const DRAIN_MAX: Duration = Duration::from_secs(10);

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
    /// Messages dropped for want of a delivery slot within `admission_wait_ms`, or still
    /// buffered when a closing link's drain deadline passed.
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
    /// How long a closing link keeps delivering what is already buffered.
    pub(crate) drain: Duration,
}

impl Limits {
    /// Both slots if both are free now.
    fn try_admit(&self) -> Option<[OwnedSemaphorePermit; 2]> {
        let link = Arc::clone(&self.link).try_acquire_owned().ok()?;
        let provider = Arc::clone(&self.provider).try_acquire_owned().ok()?;
        Some([link, provider])
    }

    async fn admit(&self) -> std::result::Result<[OwnedSemaphorePermit; 2], AcquireError> {
        let link = Arc::clone(&self.link).acquire_owned().await?;
        let provider = Arc::clone(&self.provider).acquire_owned().await?;
        Ok([link, provider])
    }
}

/// One handler link's subscriptions, delivering while it lives.
#[derive(Debug)]
pub(crate) struct Delivery {
    link: LinkKey,
    connection: Connection,
    /// The readers, each answering how many messages it dropped when it closed; taken by
    /// [`Delivery::close`].
    readers: std::sync::Mutex<Vec<JoinHandle<u64>>>,
    /// The drain deadline, once closing.
    closing: watch::Sender<Option<Instant>>,
    drain: Duration,
    stats: Arc<Stats>,
    link_slots: Arc<Semaphore>,
    max_in_flight: usize,
}

impl Drop for Delivery {
    /// A link dropped without [`Delivery::close`] stops reading at once.
    fn drop(&mut self) {
        let readers = self.readers.get_mut().unwrap_or_else(|e| e.into_inner());
        for reader in readers.iter() {
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
        let (closing, closed) = watch::channel(None);
        let shared_link = Arc::new(link.clone());
        let readers = subscribers
            .into_iter()
            .map(|(subscription, subscriber)| {
                tokio::spawn(read(
                    Reader {
                        link: Arc::clone(&shared_link),
                        subscription,
                        limits: limits.clone(),
                        stats: Arc::clone(&stats),
                        closing: closed.clone(),
                    },
                    subscriber,
                    Arc::clone(&target),
                ))
            })
            .collect();
        Ok(Self {
            link: link.clone(),
            connection,
            readers: std::sync::Mutex::new(readers),
            closing,
            drain: limits.drain,
            stats,
            link_slots: limits.link,
            max_in_flight,
        })
    }

    /// The link's connection.
    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Unsubscribes every subscription, lets the readers deliver what they already have until
    /// the drain deadline, counts and warns about what is left then, and closes the
    /// connection. Returns at once; the returned task ends when all that is done (deliveries
    /// in flight finish on their own).
    pub(crate) fn close(&self) -> JoinHandle<()> {
        let readers = std::mem::take(&mut *self.readers.lock().unwrap_or_else(|e| e.into_inner()));
        self.closing.send_replace(Some(Instant::now() + self.drain));
        let link = self.link.clone();
        let client = self.connection.client().clone();
        let stats = Arc::clone(&self.stats);
        tokio::spawn(async move {
            let mut dropped = 0;
            for reader in readers {
                dropped += reader.await.unwrap_or(0);
            }
            if dropped > 0 {
                tracing::warn!(
                    %link,
                    dropped,
                    total_dropped = stats.snapshot().dropped,
                    "handler link closed: messages still buffered at its drain deadline were dropped"
                );
            }
            // Drain only queues a command; with the server away and the queue full it would
            // wait.
            match tokio::time::timeout(CLOSE_WAIT, client.drain()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(%error, "closing a handler link's connection"),
                Err(_) => tracing::debug!("closing a handler link's connection: no room to drain"),
            }
        })
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

/// What a subscription's reader needs besides the subscription and the component.
struct Reader {
    /// Shared with every delivery task, which names it in its log lines.
    link: Arc<LinkKey>,
    subscription: Subscription,
    limits: Limits,
    stats: Arc<Stats>,
    /// The drain deadline, once the link is closing.
    closing: watch::Receiver<Option<Instant>>,
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

/// Reads one subscription, admitting and delivering each message, until the link closes; then
/// unsubscribes and delivers what was buffered until the drain deadline. Answers how many
/// messages were still buffered then (counted as dropped).
async fn read<D: Deliver>(reader: Reader, mut subscriber: Subscriber, target: Arc<D>) -> u64 {
    let Reader {
        link,
        subscription,
        limits,
        stats,
        closing: closed,
    } = reader;
    // Messages are stamped as they are taken from the subscription, ahead of admission, so
    // that the time spent queued behind other messages counts towards admission_wait_ms and a
    // backlog of messages older than that is dropped at once, not one wait after another.
    let (queue, mut queued) = mpsc::channel::<(Instant, Message)>(STAMPED);
    let stamp = {
        let mut closed = closed.clone();
        let subscription = subscription.clone();
        let link = link.clone();
        async move {
            let mut left = 0u64;
            let mut unsubscribed = false;
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
                        match tokio::time::timeout(CLOSE_WAIT, subscriber.unsubscribe()).await {
                            Ok(Ok(())) => {}
                            Ok(Err(error)) => tracing::debug!(%link, %subscription, %error, "unsubscribing"),
                            Err(_) => tracing::debug!(%link, %subscription, "unsubscribing: no room for the command"),
                        }
                        continue;
                    }
                    next = subscriber.next() => next,
                };
                let Some(message) = next else { break };
                if queue.send((Instant::now(), message)).await.is_err() {
                    // The admitting half stopped at the drain deadline.
                    left += 1;
                    break;
                }
            }
            // Whatever the client still holds for this subscription is dropped with it.
            while let Some(Some(_)) = subscriber.next().now_or_never() {
                left += 1;
            }
            left
        }
    };
    let admit = {
        let stats = Arc::clone(&stats);
        async move {
            let mut left = 0u64;
            let deadline = drained(closed);
            tokio::pin!(deadline);
            loop {
                let next = tokio::select! {
                    biased;
                    () = &mut deadline => break,
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
            // Stamped but not admitted by the deadline: dropped. Closing the queue makes the
            // stamping half's next send fail, so it counts that message and its own.
            queued.close();
            while queued.recv().await.is_some() {
                left += 1;
            }
            left
        }
    };
    let (stamped_left, queued_left) = tokio::join!(stamp, admit);
    let left = stamped_left + queued_left;
    stats.dropped.fetch_add(left, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use provider_testing::NatsServer;

    use super::*;
    use crate::config::ConnectionSettings;

    /// A component taking `delay` per message.
    struct Slow {
        delay: Duration,
    }

    impl Deliver for Slow {
        async fn deliver(&self, _: Message) -> std::result::Result<(), Failure> {
            tokio::time::sleep(self.delay).await;
            Ok(())
        }
    }

    async fn connect(nats: &NatsServer) -> Connection {
        Connection::open(
            &ConnectionSettings {
                urls: nats.url(),
                default_url: false,
                jwt: None,
                seed: None,
                creds_file: None,
                tls_ca: None,
                inbox_prefix: None,
                unhealthy_after: Duration::from_secs(30),
            },
            "test",
        )
        .await
        .unwrap()
    }

    /// A link on `nats` subscribed to `subject`, delivering to a component taking `delay` per
    /// message.
    async fn link(
        nats: &NatsServer,
        subject: &str,
        max_in_flight: usize,
        wait: Duration,
        drain: Duration,
        delay: Duration,
    ) -> (Delivery, Arc<Stats>) {
        let stats = Arc::new(Stats::default());
        let limits = Limits {
            link: Arc::new(Semaphore::new(max_in_flight)),
            provider: Arc::new(Semaphore::new(1024)),
            wait,
            drain,
        };
        let subscriptions = crate::config::parse_subscriptions(subject).unwrap();
        let delivery = Delivery::start(
            &LinkKey::new("messaging", "comp", "default"),
            connect(nats).await,
            &subscriptions,
            max_in_flight,
            limits,
            Slow { delay },
            Arc::clone(&stats),
        )
        .await
        .unwrap();
        (delivery, stats)
    }

    async fn publish(nats: &NatsServer, subject: &'static str, count: usize) {
        let client = nats.connect().await.unwrap();
        for n in 0..count {
            client
                .publish(subject, Bytes::from(n.to_string()))
                .await
                .unwrap();
        }
        client.flush().await.unwrap();
    }

    async fn until(stats: &Stats, done: impl Fn(DeliveryStats) -> bool) -> DeliveryStats {
        for _ in 0..200 {
            if done(stats.snapshot()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        stats.snapshot()
    }

    /// Closing a link with a backlog behind a slow component: what fits in the drain deadline
    /// is delivered, the rest counted as dropped; every message published is one or the other.
    #[tokio::test]
    async fn closing_a_link_delivers_or_counts_every_buffered_message() {
        let nats = NatsServer::start().unwrap();
        let (delivery, stats) = link(
            &nats,
            "backlog",
            1,
            Duration::from_secs(30),
            Duration::from_millis(500),
            Duration::from_millis(100),
        )
        .await;
        publish(&nats, "backlog", 50).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        delivery.close().await.unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
        let seen = until(&stats, |s| s.delivered + s.failed + s.dropped == 50).await;
        assert_eq!(seen.delivered + seen.failed + seen.dropped, 50, "{seen:?}");
        assert!(seen.dropped > 0 && seen.delivered > 0, "{seen:?}");
        // Nothing published after the close is read.
        publish(&nats, "backlog", 5).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(stats.snapshot(), seen);
    }

    /// With time enough, closing delivers the whole backlog: nothing dropped.
    #[tokio::test]
    async fn closing_a_link_with_time_enough_delivers_its_whole_backlog() {
        let nats = NatsServer::start().unwrap();
        let (delivery, stats) = link(
            &nats,
            "backlog",
            2,
            Duration::from_secs(30),
            Duration::from_secs(10),
            Duration::from_millis(20),
        )
        .await;
        publish(&nats, "backlog", 40).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        delivery.close().await.unwrap();
        let seen = until(&stats, |s| s.delivered == 40).await;
        assert_eq!(
            seen,
            DeliveryStats {
                delivered: 40,
                failed: 0,
                dropped: 0
            }
        );
    }

    /// `admission_wait_ms = 0` still takes a free slot at once; only a message that finds none
    /// is dropped.
    #[tokio::test]
    async fn a_zero_admission_wait_takes_free_slots() {
        let nats = NatsServer::start().unwrap();
        let (_delivery, stats) = link(
            &nats,
            "now",
            16,
            Duration::ZERO,
            Duration::ZERO,
            Duration::from_millis(1),
        )
        .await;
        publish(&nats, "now", 5).await;
        let seen = until(&stats, |s| s.delivered == 5).await;
        assert_eq!(seen.delivered, 5, "{seen:?}");
        assert_eq!(seen.dropped, 0, "{seen:?}");
    }

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
