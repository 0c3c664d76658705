//! Handler links' JetStream consumers: at-least-once delivery to the component.
//!
//! The exchange, message by message, for one entry of a link's `consumers` on the link's own
//! JetStream connection:
//!
//! ```text
//! link put     provider → $JS.API.STREAM.INFO.<stream>            the stream exists?
//!              (missing, with create) → $JS.API.STREAM.CREATE.<stream>  {subjects}
//!              provider → $JS.API.CONSUMER.INFO.<stream>.<consumer>     the consumer exists?
//!              (missing, with create) → $JS.API.CONSUMER.CREATE.<stream>.<consumer>
//!                        {durable, ack_policy: explicit, max_ack_pending, ack_wait, max_deliver}
//!                        (max_ack_pending: the entry's; without one, max_in_flight when that
//!                        is above the server's default of 1000)
//!              missing without create: the link put fails, naming the stream or consumer.
//!              an existing consumer whose ack policy is not explicit fails the put too.
//! pull         provider → $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
//!                        {batch, expires: 30 s, idle_heartbeat: 5 s}
//!              batch = min(max_in_flight, the entry's max_ack_pending, the consumer's own
//!              max_ack_pending and max_request_batch, those > 0): a larger batch would be
//!              refused by the server (409) and nothing delivered.
//!              repeated as the batch drains, when a request expires and after a reconnect
//!              (async-nats' pull stream). Nothing from the server for two heartbeats (a
//!              missed heartbeat, logged at warn as every pull stream error, at most once a
//!              minute per kind): the pull request is lost, as when the consumer leader's node
//!              dies (a waiting pull lives on the leader only, and dies with it unannounced);
//!              a new pull stream is started, which reaches the new leader.
//!              consumer deleted (or no responders to the pull): the consumer is opened again
//!              as at link put (created again with `create`), retrying with backoff (1 s
//!              doubling up to 30 s) and a warning for each failure.
//! message      server → provider: the message, reply subject $JS.ACK.<stream>.<consumer>.
//!              <delivered>.<stream seq>.<consumer seq>.<time>.<pending>
//! deliver      the message waits for a slot of its link (`max_in_flight`) and one of the
//!              provider (`provider_max_in_flight`), for as long as it takes (nothing is
//!              dropped: waiting is the back pressure, the pull stops as the batch fills);
//!              then, on a task holding both slots:
//!              provider → component: wasmcloud:messaging/handler.handle-message (reply-to none)
//! progress     while it waits for the slots and while the component handles it, every half
//!              of the consumer's ack_wait: provider → $JS.ACK...  "+WPI" (the server
//!              restarts its ack_wait; the message is not redelivered meanwhile)
//! ack          `ok`: provider → $JS.ACK...  "+ACK"             done; never redelivered.
//! nak          `err`, or the call failed (no component, timeout), delivered < max_deliver:
//!              provider → $JS.ACK...  "-NAK {"delay": backoff}"  redelivered after the
//!              delay: after `err`, 100 ms doubling with each delivery up to 30 s; after a
//!              failed call (transport: component not serving, timeout), 1 s doubling up to
//!              30 s, so a component restart does not use up max_deliver.
//! term         the same, delivered ≥ max_deliver: provider → $JS.ACK...  "+TERM"; never
//!              redelivered; counted and logged (warn) with stream, consumer, subject.
//!              max_deliver is the smaller of the entry's and the consumer's own (> 0), so
//!              the last delivery the server makes is the one terminated.
//! stop         link delete / replace / shutdown: the pull stops (its subscription closes);
//!              deliveries in flight still answer. A message pulled and not yet answered is
//!              redelivered by the server once its `ack_wait` passes; so is everything in
//!              flight when the provider dies (nothing is acked before `ok`).
//! ```
//!
//! The component is reached through the same [`Deliver`] as core subscriptions.

mod open;
mod policy;
mod reader;
mod spec;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_nats::jetstream;
use provider_sdk::provider::LinkKey;
use tokio::sync::Semaphore;

use self::open::open;
use self::reader::Reader;
pub(crate) use self::spec::{ConsumerSpec, parse_consumers};
use crate::connection::Connection;
use crate::delivery::{Deliver, Limits};
use crate::error::Result;

/// Counts over every handler link's JetStream consumers.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(super) acked: AtomicU64,
    pub(super) naked: AtomicU64,
    pub(super) terminated: AtomicU64,
}

/// A snapshot of the JetStream delivery counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JetStreamStats {
    /// Messages the component answered with `ok`, acked.
    pub acked: u64,
    /// Failed deliveries (`err`, or the call failed) nak'ed for redelivery.
    pub naked: u64,
    /// Messages terminated after their last allowed delivery failed (`max_deliver`).
    pub terminated: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> JetStreamStats {
        JetStreamStats {
            acked: self.acked.load(Ordering::Relaxed),
            naked: self.naked.load(Ordering::Relaxed),
            terminated: self.terminated.load(Ordering::Relaxed),
        }
    }
}

/// One handler link's JetStream consumers, pulling while it lives.
#[derive(Debug)]
pub(crate) struct Consumers {
    connection: Connection,
    readers: Vec<tokio::task::AbortHandle>,
    link_slots: Arc<Semaphore>,
    max_in_flight: usize,
}

impl Drop for Consumers {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

impl Consumers {
    /// Finds (or, with `create`, creates) every stream and consumer of `specs` on
    /// `connection`, failing naming the first that is missing, and starts pulling and
    /// delivering to `target`.
    pub(crate) async fn start<D: Deliver>(
        link: &LinkKey,
        connection: Connection,
        specs: &[ConsumerSpec],
        max_in_flight: usize,
        limits: Limits,
        target: D,
        stats: Arc<Stats>,
    ) -> Result<Self> {
        let js = jetstream::new(connection.client().clone());
        let mut consumers = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let consumer = open(&js, index + 1, spec, max_in_flight).await?;
            consumers.push((index + 1, spec.clone(), consumer));
        }
        let target = Arc::new(target);
        let shared_link = Arc::new(link.clone());
        let readers = consumers
            .into_iter()
            .map(|(index, spec, consumer)| {
                let mut reader = Reader {
                    link: Arc::clone(&shared_link),
                    js: js.clone(),
                    index,
                    spec: Arc::new(spec),
                    max_in_flight,
                    batch: 1,
                    max_deliver: None,
                    progress_every: None,
                    limits: limits.clone(),
                    target: Arc::clone(&target),
                    stats: Arc::clone(&stats),
                    warned: HashMap::new(),
                };
                reader.adopt(&consumer);
                tokio::spawn(reader.run(consumer)).abort_handle()
            })
            .collect();
        Ok(Self {
            connection,
            readers,
            link_slots: limits.link,
            max_in_flight,
        })
    }

    /// The link's JetStream connection.
    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Stops pulling. Deliveries in flight still ack or nak (their acker holds the client);
    /// messages pulled and not delivered are redelivered by the server after `ack_wait`.
    pub(crate) fn close(&self) {
        for reader in &self.readers {
            reader.abort();
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
