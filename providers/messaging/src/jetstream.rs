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
//!              missing without create: the link put fails, naming the stream or consumer.
//! pull         provider → $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
//!                        {batch: min(max_in_flight, max_ack_pending), expires, idle_heartbeat}
//!              repeated as the batch drains (async-nats' pull stream); idle heartbeats tell
//!              a live pull from a dead one.
//! message      server → provider: the message, reply subject $JS.ACK.<stream>.<consumer>.
//!              <delivered>.<stream seq>.<consumer seq>.<time>.<pending>
//! deliver      the message waits for a slot of its link (`max_in_flight`) and one of the
//!              provider (`provider_max_in_flight`), for as long as it takes (nothing is
//!              dropped: waiting is the back pressure, the pull stops as the batch fills);
//!              then, on a task holding both slots:
//!              provider → component: wasmcloud:messaging/handler.handle-message (reply-to none)
//! ack          `ok`: provider → $JS.ACK...  "+ACK"             done; never redelivered.
//! nak          `err`, or the call failed (no component, timeout), delivered < max_deliver:
//!              provider → $JS.ACK...  "-NAK {"delay": backoff}"  redelivered after the
//!              delay, 100 ms doubling with each delivery up to 30 s.
//! term         the same, delivered ≥ max_deliver: provider → $JS.ACK...  "+TERM"; never
//!              redelivered; counted and logged (warn) with stream, consumer, subject.
//! stop         link delete / replace / shutdown: the pull stops (its subscription closes);
//!              deliveries in flight still answer. A message pulled and not yet answered is
//!              redelivered by the server once its `ack_wait` passes; so is everything in
//!              flight when the provider dies (nothing is acked before `ok`).
//! ```
//!
//! The component is reached through the same [`Deliver`] as core subscriptions.

mod spec;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{ConsumerInfoErrorKind, GetStreamErrorKind};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{self, stream};
use futures::StreamExt as _;
use provider_sdk::provider::{LinkKey, LinkResources};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) use self::spec::{ConsumerSpec, parse_consumers};
use crate::connection::Connection;
use crate::delivery::{Deliver, Failure, Limits};
use crate::error::{Error, Result};

/// The first redelivery delay after a failed delivery; it doubles with each delivery.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest redelivery delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long to wait before pulling again after the pull stream failed.
const RETRY_PULL: Duration = Duration::from_secs(1);
/// Idle heartbeat of a pull: a pull without one for two of these is renewed.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Counts over every handler link's JetStream consumers.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    acked: AtomicU64,
    naked: AtomicU64,
    terminated: AtomicU64,
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

/// The redelivery delay after the `delivered`th delivery failed: 100 ms, doubling, at most
/// 30 s.
pub(crate) fn backoff(delivered: i64) -> Duration {
    let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
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
            let consumer = open(&js, index + 1, spec).await?;
            let max_deliver = spec.max_deliver.map(i64::from).or_else(|| {
                let configured = consumer.cached_info().config.max_deliver;
                (configured > 0).then_some(configured)
            });
            consumers.push((spec.clone(), consumer, max_deliver));
        }
        let target = Arc::new(target);
        let readers = consumers
            .into_iter()
            .map(|(spec, consumer, max_deliver)| {
                let batch = spec
                    .max_ack_pending
                    .map_or(max_in_flight, |pending| pending.min(max_in_flight));
                let reader = Reader {
                    link: link.clone(),
                    spec,
                    batch,
                    max_deliver,
                    limits: limits.clone(),
                    target: Arc::clone(&target),
                    stats: Arc::clone(&stats),
                };
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

/// Stops a link's consumers again when dropped, unless kept: for a link put that fails after
/// they started.
pub(crate) struct Undo<'a> {
    consumers: &'a LinkResources<Consumers>,
    key: Option<LinkKey>,
}

impl<'a> Undo<'a> {
    pub(crate) fn new(consumers: &'a LinkResources<Consumers>, key: &LinkKey) -> Self {
        Self {
            consumers,
            key: Some(key.clone()),
        }
    }

    /// The put succeeded: the consumers stay.
    pub(crate) fn keep(mut self) {
        self.key = None;
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Some(consumers) = self.key.take().and_then(|key| self.consumers.remove(&key)) {
            consumers.close();
        }
    }
}

/// The consumer of entry `index`, creating it and its stream if missing and `create` is set.
async fn open(js: &jetstream::Context, index: usize, spec: &ConsumerSpec) -> Result<PullConsumer> {
    let stream = match js.get_stream(&spec.stream).await {
        Ok(stream) => stream,
        Err(error) => {
            let missing = matches!(
                error.kind(),
                GetStreamErrorKind::JetStream(e)
                    if e.error_code() == ErrorCode::STREAM_NOT_FOUND
            );
            if !missing {
                return Err(Error::nats(format!(
                    "consumers entry {index}: looking up JetStream stream `{}`: {error}",
                    spec.stream
                )));
            }
            if !spec.create {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream stream `{}` does not exist; create it, \
                     or set \"create\": true with \"subjects\" on the entry",
                    spec.stream
                )));
            }
            let config = stream::Config {
                name: spec.stream.clone(),
                subjects: spec.subjects.clone(),
                ..Default::default()
            };
            let stream = js.get_or_create_stream(config).await.map_err(|error| {
                Error::nats(format!(
                    "consumers entry {index}: creating JetStream stream `{}`: {error}",
                    spec.stream
                ))
            })?;
            tracing::info!(stream = %spec.stream, subjects = ?spec.subjects, "JetStream stream created");
            stream
        }
    };
    match stream.consumer_info(&spec.consumer).await {
        Ok(_) => {
            return stream
                .get_consumer::<pull::Config>(&spec.consumer)
                .await
                .map_err(|error| {
                    Error::nats(format!(
                        "consumers entry {index}: JetStream consumer `{}` of stream `{}`: \
                         {error} (a durable pull consumer is needed)",
                        spec.consumer, spec.stream
                    ))
                });
        }
        Err(error) => {
            let missing = match error.kind() {
                ConsumerInfoErrorKind::NotFound => true,
                ConsumerInfoErrorKind::JetStream(e) => {
                    e.error_code() == ErrorCode::CONSUMER_NOT_FOUND
                }
                _ => false,
            };
            if !missing {
                return Err(Error::nats(format!(
                    "consumers entry {index}: looking up JetStream consumer `{}` of stream \
                     `{}`: {error}",
                    spec.consumer, spec.stream
                )));
            }
            if !spec.create {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream consumer `{}` of stream `{}` does not \
                     exist; create it (a durable pull consumer), or set \"create\": true with \
                     \"subjects\" on the entry",
                    spec.consumer, spec.stream
                )));
            }
        }
    }
    let config = pull::Config {
        durable_name: Some(spec.consumer.clone()),
        ack_policy: AckPolicy::Explicit,
        max_ack_pending: spec
            .max_ack_pending
            .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        ack_wait: spec.ack_wait.unwrap_or_default(),
        max_deliver: spec.max_deliver.map_or(0, i64::from),
        ..Default::default()
    };
    let consumer = stream.create_consumer(config).await.map_err(|error| {
        Error::nats(format!(
            "consumers entry {index}: creating JetStream consumer `{}` of stream `{}`: {error}",
            spec.consumer, spec.stream
        ))
    })?;
    tracing::info!(stream = %spec.stream, consumer = %spec.consumer, "JetStream consumer created");
    Ok(consumer)
}

/// Pulls one consumer's messages and delivers each.
struct Reader<D> {
    link: LinkKey,
    spec: ConsumerSpec,
    /// Messages asked for per pull.
    batch: usize,
    /// Deliveries of one message, at most (`None`: unlimited).
    max_deliver: Option<i64>,
    limits: Limits,
    target: Arc<D>,
    stats: Arc<Stats>,
}

impl<D: Deliver> Reader<D> {
    async fn run(self, consumer: PullConsumer) {
        loop {
            let messages = consumer
                .stream()
                .max_messages_per_batch(self.batch)
                .heartbeat(HEARTBEAT)
                .messages()
                .await;
            let mut messages = match messages {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(link = %self.link, consumer = %self.spec, %error, "cannot pull from a JetStream consumer; retrying");
                    tokio::time::sleep(RETRY_PULL).await;
                    continue;
                }
            };
            while let Some(message) = messages.next().await {
                match message {
                    Ok(message) => {
                        // Waiting for a slot is the back pressure: the pull asks for no more
                        // than its batch while these wait.
                        let Ok(slots) = self.admit().await else {
                            return;
                        };
                        self.deliver(message, slots);
                    }
                    Err(error) => {
                        tracing::debug!(link = %self.link, consumer = %self.spec, %error, "JetStream pull");
                    }
                }
            }
            tokio::time::sleep(RETRY_PULL).await;
        }
    }

    async fn admit(
        &self,
    ) -> std::result::Result<[OwnedSemaphorePermit; 2], tokio::sync::AcquireError> {
        let link = Arc::clone(&self.limits.link).acquire_owned().await?;
        let provider = Arc::clone(&self.limits.provider).acquire_owned().await?;
        Ok([link, provider])
    }

    /// Delivers `message` on a task of its own holding `slots`, then acks, naks or terminates
    /// it. Bounded: at most `max_in_flight` of these run per link, `provider_max_in_flight` in
    /// all.
    fn deliver(&self, message: jetstream::Message, slots: [OwnedSemaphorePermit; 2]) {
        let delivered = message.info().map_or(1, |info| info.delivered);
        let stream_sequence = message.info().map_or(0, |info| info.stream_sequence);
        let (message, acker) = message.split();
        let subject = message.subject.clone();
        let last = self.max_deliver.is_some_and(|max| delivered >= max);
        let target = Arc::clone(&self.target);
        let stats = Arc::clone(&self.stats);
        let link = self.link.clone();
        let spec = self.spec.clone();
        tokio::spawn(async move {
            let _slots = slots;
            let error = match target.deliver(message).await {
                Ok(()) => {
                    stats.acked.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = acker.ack().await {
                        tracing::warn!(%link, stream = %spec.stream, consumer = %spec.consumer, %subject, %error, "cannot ack a handled message; it will be redelivered");
                    }
                    return;
                }
                Err(Failure::Rejected(error)) => format!("the component answered err: {error}"),
                Err(Failure::Transport(error)) => format!("the call failed: {error}"),
            };
            let (kind, what) = if last {
                stats.terminated.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    %link, stream = %spec.stream, consumer = %spec.consumer, %subject,
                    stream_sequence, delivered, %error,
                    "message terminated: its last allowed delivery (max_deliver) failed"
                );
                (AckKind::Term, "terminate")
            } else {
                stats.naked.fetch_add(1, Ordering::Relaxed);
                let delay = backoff(delivered);
                tracing::debug!(
                    %link, stream = %spec.stream, consumer = %spec.consumer, %subject,
                    stream_sequence, delivered, %error, delay_ms = delay.as_millis() as u64,
                    "delivery failed; redelivery requested"
                );
                (AckKind::Nak(Some(delay)), "nak")
            };
            if let Err(error) = acker.ack_with(kind).await {
                tracing::warn!(%link, stream = %spec.stream, consumer = %spec.consumer, %subject, %error, "cannot {what} a message; the server redelivers it after ack_wait");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_100_ms_up_to_30_s() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(9), Duration::from_millis(25_600));
        assert_eq!(backoff(10), Duration::from_secs(30));
        assert_eq!(backoff(i64::MAX), Duration::from_secs(30));
    }
}
