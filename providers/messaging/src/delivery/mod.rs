//! Handler links: each subscription's messages delivered to the component, bounded per link
//! and across links.
//!
//! One task per subscription ([`reader`]) reads its messages in order, noting when each was
//! taken from the subscription. Each message then takes a slot of its link (`max_in_flight`)
//! and one of the provider (`provider_max_in_flight`) ([`slots`]), if it gets both within
//! `admission_wait_ms` of being taken; it is then delivered on a task of its own that holds
//! the two slots until the component has answered. A message that gets no slot in time is
//! dropped, counted ([`stats`]) and logged with its subject; so is one that finds
//! [`QUEUE`] messages of its subscription already waiting, and one the component answers with
//! `err`, or whose call fails. Core NATS is at-most-once: nothing is redelivered.
//!
//! Closing a link (delete, replace, shutdown) unsubscribes first, so the server stops sending,
//! then lets the readers deliver what is already buffered until a drain deadline
//! (`admission_wait_ms`, at most [`DRAIN_MAX`]); whatever is still buffered then is counted as
//! dropped, with one warning line per link naming how many.
//!
//! The component is reached through [`Deliver`], which the provider implements with a wRPC
//! call, so this room knows nothing of bindings and can be tested alone.

mod reader;
mod slots;
mod stats;

pub(crate) use self::slots::{Limits, ProviderSlots};
pub use self::stats::DeliveryStats;
pub(crate) use self::stats::Stats;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::Message;
use provider_sdk::provider::LinkKey;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use self::reader::{Reader, read};

use crate::config::Subscription;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// How long closing a link waits to hand its connection an unsubscribe or drain command.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The longest a closing link keeps delivering what its subscriptions had buffered.
pub(crate) const DRAIN_MAX: Duration = Duration::from_secs(10);

/// Messages taken from a subscription and waiting for a delivery slot, at most; one more is
/// dropped (and counted). As many as async-nats buffers per subscription by default, which the
/// reader keeps close to empty.
pub(crate) const QUEUE: usize = 65_536;

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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use provider_testing::NatsServer;

    use super::*;
    use crate::config::ConnectionSettings;

    /// Longer than the reader's pacing of drop warnings, so a pending one has been written.
    const DROP_LOG_EVERY_FOR_TESTS: Duration = Duration::from_millis(1_200);

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

    /// Closing a link with nothing buffered ends as soon as its subscription has ended, not
    /// at the drain deadline (shutdown waits for it).
    #[tokio::test]
    async fn closing_an_idle_link_does_not_wait_for_the_drain_deadline() {
        let nats = NatsServer::start().unwrap();
        let (delivery, _stats) = link(
            &nats,
            "idle",
            1,
            Duration::from_secs(30),
            Duration::from_secs(10),
            Duration::ZERO,
        )
        .await;
        let started = Instant::now();
        delivery.close().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
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

    /// The `dropped=N` of every line containing all of `parts`, summed, and how many lines.
    fn dropped_in(logs: &provider_testing::Logs, parts: &[&str]) -> (u64, usize) {
        let lines = logs.with(parts);
        let sum = lines
            .iter()
            .map(|line| {
                let field = line.split("dropped=").nth(1).expect("a dropped= field");
                field.split(' ').next().unwrap().parse::<u64>().unwrap()
            })
            .sum();
        (sum, lines.len())
    }

    /// A component far slower than the messages: once its subscription's queue is full, each
    /// further message is dropped and counted by the provider (not left to overflow the
    /// client's buffer, which would drop it uncounted), and the warnings, a few lines in all,
    /// add up to the count.
    #[tokio::test]
    async fn a_full_queue_drops_and_counts_every_further_message_in_a_few_lines() {
        let logs = provider_testing::Logs::default();
        let _logging = tracing::subscriber::set_default(logs.clone());
        let nats = NatsServer::start().unwrap();
        let (_delivery, stats) = link(
            &nats,
            "flood",
            1,
            Duration::from_secs(30),
            Duration::ZERO,
            Duration::from_secs(30),
        )
        .await;
        let extra = 5_000;
        let published = QUEUE + 2 + extra;
        publish(&nats, "flood", published).await;
        // One with the component, one waiting for its slot, QUEUE behind it, the rest dropped.
        let seen = until(&stats, |s| s.dropped == extra as u64).await;
        assert_eq!(seen.dropped, extra as u64, "{seen:?}");
        tokio::time::sleep(DROP_LOG_EVERY_FOR_TESTS).await;
        let (logged, lines) = dropped_in(&logs, &["queue of messages waiting", "flood"]);
        assert_eq!(logged, extra as u64, "{:#?}", logs.lines());
        assert!((1..=5).contains(&lines), "{lines} lines");
        assert!(
            logs.with(&["slow consumer"]).is_empty(),
            "the client's buffer overflowed: {:#?}",
            logs.with(&["slow consumer"])
        );
    }
}
