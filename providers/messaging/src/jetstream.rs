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
//!              repeated as the batch drains and when a request expires (async-nats' pull
//!              stream). A missing heartbeat is only reported (logged at warn, as every pull
//!              stream error, at most once a minute per kind); the pull is not renewed
//!              because of it, only when its request expires or the client reconnects.
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

mod spec;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::pull::MessagesErrorKind;
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
/// The first redelivery delay after a delivery whose call failed (transport); it doubles
/// with each delivery.
const FIRST_TRANSPORT_BACKOFF: Duration = Duration::from_secs(1);
/// The longest redelivery delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long to wait before pulling again after the pull stream failed.
const RETRY_PULL: Duration = Duration::from_secs(1);
/// Idle heartbeat of a pull: two of these without anything from the server is reported (as a
/// pull stream error, logged); the pull itself is renewed only when its request expires.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The server's default `max_ack_pending` for a consumer created without one.
const SERVER_DEFAULT_MAX_ACK_PENDING: usize = 1000;
/// At most one warning per kind of pull stream error in this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

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
    doubling(FIRST_BACKOFF, delivered)
}

/// The redelivery delay after the `delivered`th delivery's call failed (component not
/// serving, timeout): 1 s, doubling, at most 30 s; long enough to outlast a component restart
/// before `max_deliver` runs out.
pub(crate) fn transport_backoff(delivered: i64) -> Duration {
    doubling(FIRST_TRANSPORT_BACKOFF, delivered)
}

/// `first`, doubled `n - 1` times, at most [`MAX_BACKOFF`].
fn doubling(first: Duration, n: i64) -> Duration {
    let doublings = u32::try_from(n.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// The deliveries of one message, at most: the smaller of the entry's `max_deliver` and the
/// consumer's own (`server`; <= 0 is unlimited). `None`: unlimited.
pub(crate) fn effective_max_deliver(entry: Option<u32>, server: i64) -> Option<i64> {
    let server = (server > 0).then_some(server);
    match (entry.map(i64::from), server) {
        (Some(entry), Some(server)) => Some(entry.min(server)),
        (entry, server) => entry.or(server),
    }
}

/// Messages asked for per pull: `max_in_flight`, capped by the entry's `max_ack_pending` and
/// the consumer's own `max_ack_pending` and `max_request_batch` (those > 0), at least 1. The
/// server refuses (409) a pull larger than either of the consumer's.
pub(crate) fn pull_batch(
    max_in_flight: usize,
    entry_max_ack_pending: Option<usize>,
    server_max_ack_pending: i64,
    server_max_batch: i64,
) -> usize {
    let server = |n: i64| usize::try_from(n).ok().filter(|&n| n > 0);
    [
        entry_max_ack_pending,
        server(server_max_ack_pending),
        server(server_max_batch),
    ]
    .into_iter()
    .flatten()
    .fold(max_in_flight, usize::min)
    .max(1)
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

/// The consumer of entry `index`, creating it and its stream if missing and `create` is set;
/// an existing consumer must ack explicitly.
async fn open(
    js: &jetstream::Context,
    index: usize,
    spec: &ConsumerSpec,
    max_in_flight: usize,
) -> Result<PullConsumer> {
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
        Ok(info) => {
            // With `all`, one ack would ack every earlier message still in flight; with
            // `none`, naks do nothing: at-least-once needs explicit acks.
            if info.config.ack_policy != AckPolicy::Explicit {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream consumer `{}` of stream `{}` has ack \
                     policy `{}`; the provider needs ack policy `explicit` (one ack per \
                     message)",
                    spec.consumer,
                    spec.stream,
                    ack_policy_name(info.config.ack_policy)
                )));
            }
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
        // Without the entry's, the server's default (1000) would cap the pull below a larger
        // `max_in_flight`: ask for at least the batch.
        max_ack_pending: spec
            .max_ack_pending
            .or((max_in_flight > SERVER_DEFAULT_MAX_ACK_PENDING).then_some(max_in_flight))
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

/// The name of an ack policy as the server spells it.
fn ack_policy_name(policy: AckPolicy) -> &'static str {
    match policy {
        AckPolicy::Explicit => "explicit",
        AckPolicy::All => "all",
        AckPolicy::None => "none",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// Pulls one consumer's messages and delivers each.
struct Reader<D> {
    /// Shared with every delivery task, as `spec` is.
    link: Arc<LinkKey>,
    /// To open the consumer again when it is gone.
    js: jetstream::Context,
    /// The entry's number in `consumers`, from 1.
    index: usize,
    spec: Arc<ConsumerSpec>,
    max_in_flight: usize,
    /// Messages asked for per pull.
    batch: usize,
    /// Deliveries of one message, at most (`None`: unlimited).
    max_deliver: Option<i64>,
    limits: Limits,
    target: Arc<D>,
    stats: Arc<Stats>,
    /// When each kind of pull stream error was last warned about, and how many of that kind
    /// went unlogged since.
    warned: HashMap<String, (Option<Instant>, u64)>,
}

impl<D: Deliver> Reader<D> {
    /// Takes the batch and `max_deliver` from `consumer`'s own settings.
    fn adopt(&mut self, consumer: &PullConsumer) {
        let config = &consumer.cached_info().config;
        self.batch = pull_batch(
            self.max_in_flight,
            self.spec.max_ack_pending,
            config.max_ack_pending,
            config.max_batch,
        );
        self.max_deliver = effective_max_deliver(self.spec.max_deliver, config.max_deliver);
        tracing::debug!(link = %self.link, consumer = %self.spec, batch = self.batch, max_deliver = ?self.max_deliver, "JetStream consumer opened");
    }

    /// Warns about a pull stream error, at most once a minute per kind.
    fn warn_pull(&mut self, kind: String, error: &dyn std::fmt::Display) {
        let now = Instant::now();
        let (last, suppressed) = self.warned.entry(kind).or_insert((None, 0));
        if last.is_some_and(|last| now.duration_since(last) < WARN_EVERY) {
            *suppressed += 1;
            return;
        }
        let suppressed = std::mem::replace(suppressed, 0);
        *last = Some(now);
        tracing::warn!(link = %self.link, consumer = %self.spec, %error, suppressed, "JetStream pull stream error (at most one warning per kind a minute; `suppressed`: those not logged since the last)");
    }

    /// Opens the consumer again (creating it with `create`), retrying with backoff until it
    /// succeeds; a warning for each failure.
    async fn reopen(&mut self) -> PullConsumer {
        let mut attempt = 1;
        loop {
            match open(&self.js, self.index, &self.spec, self.max_in_flight).await {
                Ok(consumer) => {
                    tracing::info!(link = %self.link, consumer = %self.spec, "JetStream consumer opened again");
                    self.adopt(&consumer);
                    return consumer;
                }
                Err(error) => {
                    let delay = transport_backoff(attempt);
                    tracing::warn!(link = %self.link, consumer = %self.spec, %error, retry_ms = delay.as_millis() as u64, "JetStream consumer gone and cannot be opened again; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn run(mut self, mut consumer: PullConsumer) {
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
                    self.warn_pull(format!("start: {}", error.kind()), &error);
                    tokio::time::sleep(RETRY_PULL).await;
                    continue;
                }
            };
            let mut gone = false;
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
                        let kind = error.kind();
                        self.warn_pull(kind.to_string(), &error);
                        if matches!(
                            kind,
                            MessagesErrorKind::ConsumerDeleted | MessagesErrorKind::NoResponders
                        ) {
                            gone = true;
                            break;
                        }
                    }
                }
            }
            drop(messages);
            tokio::time::sleep(RETRY_PULL).await;
            if gone {
                consumer = self.reopen().await;
            }
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
        let link = Arc::clone(&self.link);
        let spec = Arc::clone(&self.spec);
        tokio::spawn(async move {
            let _slots = slots;
            let (error, delay) = match target.deliver(message).await {
                Ok(()) => {
                    stats.acked.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = acker.ack().await {
                        tracing::warn!(%link, stream = %spec.stream, consumer = %spec.consumer, %subject, %error, "cannot ack a handled message; it will be redelivered");
                    }
                    return;
                }
                Err(Failure::Rejected(error)) => (
                    format!("the component answered err: {error}"),
                    backoff(delivered),
                ),
                Err(Failure::Transport(error)) => (
                    format!("the call failed: {error}"),
                    transport_backoff(delivered),
                ),
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

    #[test]
    fn the_transport_backoff_doubles_from_1_s_up_to_30_s() {
        assert_eq!(transport_backoff(1), Duration::from_secs(1));
        assert_eq!(transport_backoff(2), Duration::from_secs(2));
        assert_eq!(transport_backoff(3), Duration::from_secs(4));
        assert_eq!(transport_backoff(5), Duration::from_secs(16));
        assert_eq!(transport_backoff(6), Duration::from_secs(30));
        // Four failed calls in a row wait 1 + 2 + 4 + 8 = 15 s in all: a component restart
        // of a few seconds does not use up a max_deliver of 5.
        let waited: Duration = (1..5).map(transport_backoff).sum();
        assert_eq!(waited, Duration::from_secs(15));
    }

    #[test]
    fn max_deliver_is_the_smaller_of_the_entry_and_the_consumer() {
        assert_eq!(effective_max_deliver(None, -1), None);
        assert_eq!(effective_max_deliver(None, 0), None);
        assert_eq!(effective_max_deliver(Some(5), -1), Some(5));
        assert_eq!(effective_max_deliver(None, 4), Some(4));
        assert_eq!(effective_max_deliver(Some(10), 3), Some(3));
        assert_eq!(effective_max_deliver(Some(2), 7), Some(2));
    }

    #[test]
    fn the_pull_batch_is_capped_by_the_consumer_s_own_limits() {
        assert_eq!(pull_batch(32, None, 0, 0), 32);
        assert_eq!(pull_batch(32, None, -1, -1), 32);
        assert_eq!(pull_batch(32, Some(8), 1000, 0), 8);
        assert_eq!(pull_batch(32, None, 4, 0), 4);
        assert_eq!(pull_batch(32, Some(16), 20, 10), 10);
        assert_eq!(pull_batch(2000, None, 1000, 0), 1000);
        assert_eq!(pull_batch(0, None, 0, 0), 1);
    }
}
