//! One consumer's pull loop: pulls messages, admits each to a delivery slot, delivers it and
//! acks, naks or terminates it by the component's answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::consumer::pull::MessagesErrorKind;
use async_nats::jetstream::message::{AckKind, Acker};
use futures::StreamExt as _;
use provider_sdk::provider::LinkKey;
use provider_sdk::throttle::Throttle;
use tokio::sync::OwnedSemaphorePermit;

use super::open::open;
use super::policy::{
    backoff, effective_max_deliver, progress_every, pull_batch, transport_backoff,
};
use super::{ConsumerSpec, Stats};
use crate::delivery::{Deliver, Failure, Limits};

/// How long to wait before pulling again after the pull stream failed.
const RETRY_PULL: Duration = Duration::from_secs(1);
/// Idle heartbeat of a pull: two of these without anything from the server (a missed
/// heartbeat) mean the pull request is lost, and a new pull is started.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// At most one warning per kind of pull stream error in this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Pulls one consumer's messages and delivers each.
pub(super) struct Reader<D> {
    /// Shared with every delivery task, as `spec` is.
    pub(super) link: Arc<LinkKey>,
    /// To open the consumer again when it is gone.
    pub(super) js: jetstream::Context,
    /// The entry's number in `consumers`, from 1.
    pub(super) index: usize,
    pub(super) spec: Arc<ConsumerSpec>,
    pub(super) max_in_flight: usize,
    /// Messages asked for per pull.
    pub(super) batch: usize,
    /// Deliveries of one message, at most (`None`: unlimited).
    pub(super) max_deliver: Option<i64>,
    /// How often a message waiting for a slot or with the component is reported in progress
    /// (`+WPI`), so that the server does not redeliver it meanwhile.
    pub(super) progress_every: Option<Duration>,
    pub(super) limits: Limits,
    pub(super) target: Arc<D>,
    pub(super) stats: Arc<Stats>,
    /// The pacing of the warnings about each kind of pull stream error.
    pub(super) warned: HashMap<String, Throttle>,
}

impl<D: Deliver> Reader<D> {
    /// Takes the batch and `max_deliver` from `consumer`'s own settings.
    pub(super) fn adopt(&mut self, consumer: &PullConsumer) {
        let config = &consumer.cached_info().config;
        self.batch = pull_batch(
            self.max_in_flight,
            self.spec.max_ack_pending,
            config.max_ack_pending,
            config.max_batch,
        );
        self.max_deliver = effective_max_deliver(self.spec.max_deliver, config.max_deliver);
        self.progress_every = progress_every(config.ack_wait);
        tracing::debug!(link = %self.link, consumer = %self.spec, batch = self.batch, max_deliver = ?self.max_deliver, progress_every = ?self.progress_every, "JetStream consumer opened");
    }

    /// Warns about a pull stream error, at most once a minute per kind.
    fn warn_pull(&mut self, kind: String, error: &dyn std::fmt::Display) {
        let throttle = self
            .warned
            .entry(kind)
            .or_insert_with(|| Throttle::new(WARN_EVERY));
        if let Some(errors) = throttle.note(Instant::now()) {
            tracing::warn!(link = %self.link, consumer = %self.spec, %error, errors, "JetStream pull stream error (at most one warning per kind a minute; `errors`: how many of this kind since the last warning, this one included)");
        }
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

    pub(super) async fn run(mut self, mut consumer: PullConsumer) {
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
            // Whether the consumer must be opened again before the next pull.
            let mut gone = false;
            while let Some(message) = messages.next().await {
                match message {
                    Ok(message) => {
                        // Waiting for a slot is the back pressure: the pull asks for no more
                        // than its batch while these wait.
                        let (delivered, stream_sequence) = message
                            .info()
                            .map_or((1, 0), |info| (info.delivered, info.stream_sequence));
                        let (message, acker) = message.split();
                        let admit = in_progress(self.admit(), &acker, self.progress_every);
                        let Ok(slots) = admit.await else {
                            return;
                        };
                        self.deliver(message, acker, (delivered, stream_sequence), slots);
                    }
                    Err(error) => {
                        let kind = error.kind();
                        self.warn_pull(kind.to_string(), &error);
                        match kind {
                            MessagesErrorKind::ConsumerDeleted
                            | MessagesErrorKind::NoResponders => {
                                gone = true;
                                break;
                            }
                            // The pull is lost: its request waits on the consumer leader's
                            // node only, and when that node dies nothing tells the client.
                            // async-nats would ask again only once the request expires (35 s
                            // on nats-server 2.9, where nothing else comes meanwhile); a new
                            // pull reaches the new leader (or, with no leader yet, gets no
                            // responders, and the consumer is opened again). Dropping the old
                            // pull loses nothing: whatever it might still bring would be
                            // unacked, and redelivered after `ack_wait`.
                            MessagesErrorKind::MissingHeartbeat => break,
                            _ => {}
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
    /// `(delivered, stream_sequence)`: which delivery of the message this is, and where it is
    /// in the stream.
    fn deliver(
        &self,
        message: async_nats::Message,
        acker: Acker,
        (delivered, stream_sequence): (i64, u64),
        slots: [OwnedSemaphorePermit; 2],
    ) {
        let subject = message.subject.clone();
        let last = self.max_deliver.is_some_and(|max| delivered >= max);
        let target = Arc::clone(&self.target);
        let stats = Arc::clone(&self.stats);
        let link = Arc::clone(&self.link);
        let spec = Arc::clone(&self.spec);
        let progress_every = self.progress_every;
        tokio::spawn(async move {
            let _slots = slots;
            let call = in_progress(target.deliver(message), &acker, progress_every);
            let (error, delay) = match call.await {
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

/// Runs `work`, reporting the message in progress to the server every `every` meanwhile.
async fn in_progress<F: Future>(work: F, acker: &Acker, every: Option<Duration>) -> F::Output {
    let Some(every) = every else {
        return work.await;
    };
    tokio::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return output,
            () = tokio::time::sleep(every) => {
                if let Err(error) = acker.ack_with(AckKind::Progress).await {
                    tracing::debug!(%error, "cannot report a message in progress");
                }
            }
        }
    }
}
