//! One link's NATS connection, and what a consumer link does on it: publish and request.
//!
//! Sizes are checked against the server's `max_payload` before anything is sent, so a message
//! too large fails whole with an error naming both numbers. A request waits at most the
//! caller's `timeout-ms` (async-nats' own request timeout would cap it at 10 s), all of it
//! bounded, sending included: while the connection is down the client's command queue can
//! block before its own timeout starts. With a `custom_inbox_prefix` its reply comes to an inbox
//! under that prefix. A publish waits at most [`PUBLISH_WAIT`] for the client to take it.
//!
//! Both carry the calling invocation's W3C trace context in `traceparent`/`tracestate` NATS
//! headers, so a handler link can continue the trace; a message that fits only without those
//! headers is sent without them (tracing is best effort, delivery is not).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, Message, Request, RequestErrorKind};
use bytes::Bytes;
use futures::StreamExt as _;
use provider_sdk::trace::{TRACEPARENT, TRACESTATE, TraceContext};

use crate::config::ConnectionSettings;
use crate::error::{Error, Result};

/// How long subscribing waits for the server to confirm (a round trip on the connection).
const CONFIRM_WAIT: Duration = Duration::from_secs(5);

/// How long a publish waits for the client to take the message (its command queue is full
/// while the connection is down and more than its capacity is waiting).
pub(crate) const PUBLISH_WAIT: Duration = Duration::from_secs(5);

/// A link's connection. Closes when dropped (with its subscriptions).
#[derive(Debug)]
pub(crate) struct Connection {
    client: async_nats::Client,
    inbox_prefix: Option<String>,
    /// Since when the connection has been down, if it is.
    down_since: Arc<Mutex<Option<Instant>>>,
    unhealthy_after: Duration,
    shown_urls: String,
    /// The task noting when the connection goes down and comes back.
    watcher: tokio::task::AbortHandle,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl Connection {
    /// Connects once; the client reconnects by itself afterwards.
    /// Connects with `settings`; `name` names the connection to the server and in the SDK's
    /// warnings about it (lost, slow consumer, server errors).
    pub(crate) async fn open(settings: &ConnectionSettings, name: &str) -> Result<Self> {
        let client = settings.options(name).connect().await?;
        let down_since = Arc::new(Mutex::new(None));
        // Often enough to tell `unhealthy_after` apart, at most once a second.
        let tick =
            (settings.unhealthy_after / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let watcher =
            tokio::spawn(watch(client.clone(), Arc::clone(&down_since), tick)).abort_handle();
        Ok(Self {
            client,
            inbox_prefix: settings.inbox_prefix.clone(),
            down_since,
            unhealthy_after: settings.unhealthy_after,
            shown_urls: settings.shown_urls(),
            watcher,
        })
    }

    /// What is wrong with the connection, if it has been down longer than `unhealthy_after`.
    pub(crate) fn problem(&self) -> Option<String> {
        let since = (*self
            .down_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner))?;
        let down = since.elapsed();
        (down > self.unhealthy_after).then(|| {
            format!(
                "NATS connection to {} down for {:.1} s",
                self.shown_urls,
                down.as_secs_f64()
            )
        })
    }

    pub(crate) fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// A fresh inbox subject, under the custom prefix if there is one.
    pub(crate) fn new_inbox(&self) -> String {
        let inbox = self.client.new_inbox();
        match &self.inbox_prefix {
            Some(prefix) => {
                let unique = inbox.rsplit('.').next().unwrap_or(&inbox);
                format!("{prefix}.{unique}")
            }
            None => inbox,
        }
    }

    /// Fails with [`Error::TooLarge`] if `body` exceeds the server's `max_payload`; otherwise
    /// the headers carrying `trace`, if there is one and they fit with the body.
    fn headers(
        &self,
        subject: &str,
        body: &Bytes,
        trace: Option<TraceContext>,
    ) -> Result<Option<HeaderMap>> {
        let limit = self.client.server_info().max_payload;
        if limit > 0 && body.len() > limit {
            return Err(Error::TooLarge {
                subject: subject.to_owned(),
                size: body.len(),
                limit,
            });
        }
        Ok(trace
            .filter(|trace| limit == 0 || body.len() + trace_headers_len(trace) <= limit)
            .map(|trace| {
                let mut headers = HeaderMap::new();
                trace.insert_into(&mut headers);
                headers
            }))
    }

    /// Publishes `body` to `subject`, with `reply_to` if given.
    pub(crate) async fn publish(
        &self,
        subject: String,
        body: Bytes,
        reply_to: Option<String>,
        trace: Option<TraceContext>,
    ) -> Result<()> {
        let headers = self.headers(&subject, &body, trace)?;
        let client = &self.client;
        let shown = subject.clone();
        let publish = async move {
            match (reply_to, headers) {
                (Some(reply_to), Some(headers)) => {
                    client
                        .publish_with_reply_and_headers(subject, reply_to, headers, body)
                        .await
                }
                (Some(reply_to), None) => client.publish_with_reply(subject, reply_to, body).await,
                (None, Some(headers)) => client.publish_with_headers(subject, headers, body).await,
                (None, None) => client.publish(subject, body).await,
            }
        };
        match tokio::time::timeout(PUBLISH_WAIT, publish).await {
            Ok(result) => result.map_err(Error::nats),
            Err(_) => Err(Error::Unavailable {
                operation: "publish",
                subject: shown,
                waited_ms: millis(PUBLISH_WAIT),
            }),
        }
    }

    /// Sends `body` to `subject` and waits `timeout_ms` for one reply.
    pub(crate) async fn request(
        &self,
        subject: String,
        body: Bytes,
        timeout_ms: u32,
        trace: Option<TraceContext>,
    ) -> Result<Message> {
        if timeout_ms == 0 {
            return Err(Error::InvalidConfig {
                key: "timeout-ms",
                value: "0".to_owned(),
                expected: "a request timeout of at least 1 ms",
            });
        }
        let headers = self.headers(&subject, &body, trace)?;
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let mut request = Request::new().payload(body).timeout(Some(timeout));
        if let Some(headers) = headers {
            request = request.headers(headers);
        }
        if self.inbox_prefix.is_some() {
            request = request.inbox(self.new_inbox());
        }
        // The whole request is bounded: async-nats' timeout starts only once its command queue
        // has taken the request, which blocks while the connection is down.
        let timed_out = || {
            if self.client.connection_state() == async_nats::connection::State::Connected {
                Error::Timeout {
                    subject: subject.clone(),
                    timeout_ms,
                }
            } else {
                Error::Unavailable {
                    operation: "request",
                    subject: subject.clone(),
                    waited_ms: u64::from(timeout_ms),
                }
            }
        };
        match tokio::time::timeout(timeout, self.client.send_request(subject.clone(), request))
            .await
        {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(match error.kind() {
                RequestErrorKind::TimedOut => timed_out(),
                RequestErrorKind::NoResponders => Error::NoResponders(subject),
                _ => Error::nats(error),
            }),
            Err(_) => Err(timed_out()),
        }
    }

    /// Waits until the server has processed everything sent on this connection so far (its
    /// subscriptions included): a message to a fresh inbox, subscribed on this connection,
    /// comes back. `flush` alone only empties the client's buffer.
    pub(crate) async fn confirm(&self) -> Result<()> {
        let inbox = self.new_inbox();
        let mut echo = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(Error::nats)?;
        self.client
            .publish(inbox, Bytes::from_static(b"confirm"))
            .await
            .map_err(Error::nats)?;
        match tokio::time::timeout(CONFIRM_WAIT, echo.next()).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Error::nats("the connection closed while subscribing")),
            Err(_) => Err(Error::nats(format!(
                "the NATS server did not confirm the subscriptions within {CONFIRM_WAIT:?}"
            ))),
        }
    }
}

/// Notes when `client`'s connection goes down (the first time it is seen down) and when it
/// is back, every `tick`.
async fn watch(
    client: async_nats::Client,
    down_since: Arc<Mutex<Option<Instant>>>,
    tick: Duration,
) {
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        let mut down = down_since.lock().unwrap_or_else(PoisonError::into_inner);
        match (connected, *down) {
            (true, Some(_)) => *down = None,
            (false, None) => *down = Some(Instant::now()),
            _ => {}
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The bytes the NATS header block carrying `trace` takes on the wire:
/// `NATS/1.0\r\n`, a `name: value\r\n` line per header, `\r\n`.
fn trace_headers_len(trace: &TraceContext) -> usize {
    let line = |name: &str, value: &str| name.len() + 2 + value.len() + 2;
    "NATS/1.0\r\n".len()
        + line(TRACEPARENT, &trace.to_string())
        + trace.state().map_or(0, |state| line(TRACESTATE, state))
        + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_header_length_is_what_goes_on_the_wire() {
        let trace: TraceContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .unwrap();
        let wire = format!("NATS/1.0\r\ntraceparent: {trace}\r\n\r\n");
        assert_eq!(trace_headers_len(&trace), wire.len());
    }
}
