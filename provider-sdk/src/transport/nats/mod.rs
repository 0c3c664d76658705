//! wRPC over NATS, wire-compatible with `wrpc-transport-nats 0.31`.
//!
//! One call, message by message (`R_c` is the client's reply subject, `R_s` the server's):
//!
//! 1. The client publishes the invocation with reply-to `R_c`, its headers, and as much of the
//!    encoded params as fits in `max_payload`.
//! 2. The server publishes an empty handshake to `R_c` with reply-to `R_s`.
//! 3. The client sends the rest of the params to `R_s.params`, then an empty message (end of
//!    params), even when everything fit in step 1.
//! 4. The server writes the results to `R_c.results`, then an empty message. Pending streams and
//!    futures follow on `R_c.results.<path>` (and `R_s.params.<path>` the other way).
//!
//! That is five messages for a small call. Between two ends of this SDK the same call takes
//! three (the short exchange), agreed per call with a header plain wRPC peers ignore:
//!
//! 1. A client whose params all fit in the invocation, with no pending `stream` or `future` in
//!    them, adds `wrpc-ends: <R_c>` (its own reply subject, so that the header copied onto
//!    another invocation agrees to nothing): "these params are whole; my results need no end
//!    message after a whole value".
//! 2. A server of this SDK answers with a handshake carrying the same header and **no reply-to**:
//!    it took the params as they are, registers nothing for them, and the client sends nothing
//!    more (no step 3). A server that does not know the header sends its usual handshake, and
//!    the client ends the params as in step 3.
//! 4. The server sends the results without the empty message after them, if they are a whole
//!    value with no pending `stream` or `future` (results that carry none are the end message
//!    alone). Any other call keeps the full exchange.
//!
//! A server whose admission check refuses the invocation answers step 2 differently, and that is
//! the whole exchange:
//!
//! 2'. The server publishes to `R_c` a handshake with **no reply-to**, the header
//!    `wrpc-refused: 1`, and the reason (UTF-8, at most 1 KiB) as payload. It registers nothing
//!    for the call: whatever else the client sends goes nowhere. Our client reports
//!    [`Error::Refused`] with the reason at once; a `wrpc-transport-nats 0.31` client fails at
//!    once too ("peer did not specify a reply subject"). wRPC has no error frame, and NATS
//!    clients cannot publish a status line (async-nats always writes `NATS/1.0`), so a handshake
//!    without `R_s` is the one answer every peer reads as "no" rather than waiting for its
//!    deadline. A handshake without reply-to, payload or either header is a protocol error.
//!
//! Every reply subject of a session starts with the session's inbox prefix, and one wildcard
//! subscription on it receives them all; a demultiplexer ([`demux`]) routes each message to its
//! call's [`Inbox`] by the numeric call id that follows the prefix. When all params went with
//! the invocation (the common case), the demultiplexer answers the handshake itself (step 3, or
//! nothing in the short exchange), so the caller wakes once, for its results.

mod demux;
mod serving;
mod sink;

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_nats::{HeaderMap, HeaderName};
use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

use self::demux::{Accepted, Handshake, Route, Routes, check_handshake};
use self::serving::NatsSource;
use self::sink::NatsSink;
use super::backend::{Backend, Source};
use super::subject::params_subject;
use crate::channel::{Budget, ChannelReader, Failure, Inbox, Limits, Outgoing, Tasks};
use crate::error::{Error, Result};
use crate::wire::{Deferred, spawn_deferred};

/// How long `serve` waits for the NATS server to confirm a new subscription.
const SUBSCRIBE_CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// The header of a refusal handshake (step 2').
const REFUSED_HEADER: &str = "wrpc-refused";

/// The header of the short exchange, on an invocation and on the handshake that answers it.
/// Its value is the invocation's reply subject `R_c`: a header copied onto another invocation
/// (a handler passing its caller's headers on, a proxy) agrees to nothing.
const ENDS_HEADER: &str = "wrpc-ends";

/// `wrpc-ends` as a header name.
fn ends_header() -> HeaderName {
    HeaderName::from_static(ENDS_HEADER)
}

/// Whether `headers` carry `wrpc-ends: <reply>`: the short exchange, for the call whose reply
/// subject is `reply`.
fn says_ends_implied(headers: Option<&HeaderMap>, reply: &str) -> bool {
    headers
        .and_then(|headers| headers.get(ends_header()))
        .is_some_and(|value| value.as_str() == reply)
}

/// `headers` without `wrpc-ends`, which is the transport's and no handler's business; `None` if
/// nothing else is left. (async-nats's `HeaderMap` cannot remove a header.)
fn without_ends_header(headers: HeaderMap) -> Option<HeaderMap> {
    if headers.get(ends_header()).is_none() {
        return Some(headers);
    }
    let mut rest = HeaderMap::new();
    for (name, values) in headers.iter() {
        if AsRef::<str>::as_ref(name) != ENDS_HEADER {
            for value in values {
                rest.append(name.clone(), value.clone());
            }
        }
    }
    (!rest.is_empty()).then_some(rest)
}

/// An otherwise empty header block: `NATS/1.0\r\n` and the blank line.
const EMPTY_HEADER_BLOCK_LEN: usize = "NATS/1.0\r\n".len() + "\r\n".len();

/// The ids of a session's calls, which end its reply subjects: a counter through a keyed
/// hash (std's `RandomState`, SipHash with a key random to the process). Reply subjects are
/// seen by the peers of a call (a server's `R_s` by its caller), and sequential ids would let
/// one caller guess another's and send data into its call; these are not predictable from the
/// ids a caller has seen. A drawn id that is still in use is drawn again (`Session::register`).
#[derive(Default)]
struct CallIds {
    next: AtomicU64,
    key: RandomState,
}

impl CallIds {
    fn next(&self) -> u64 {
        let mut hasher = self.key.build_hasher();
        hasher.write_u64(self.next.fetch_add(1, Ordering::Relaxed));
        hasher.finish()
    }
}

/// A NATS connection with its inbox subscription and demultiplexer.
pub(crate) struct Session {
    client: async_nats::Client,
    routes: Arc<Routes>,
    ids: CallIds,
    limits: Limits,
    budget: Arc<Budget>,
    demux: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("inbox", &self.routes.prefix)
            .field("routes", &self.routes.lock().len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.demux.abort();
    }
}

impl Session {
    pub(crate) async fn start(client: async_nats::Client, limits: Limits) -> Result<Arc<Self>> {
        let prefix = format!("{}.", client.new_inbox());
        let mut subscriber = client
            .subscribe(format!("{prefix}>"))
            .await
            .map_err(|error| Error::nats("subscribe", error))?;
        let routes = Arc::new(Routes {
            client: client.clone(),
            prefix,
            table: Mutex::default(),
            lingering: Mutex::default(),
        });
        let demux = tokio::spawn({
            let routes = Arc::clone(&routes);
            async move {
                while let Some(message) = subscriber.next().await {
                    routes.dispatch(message).await;
                }
            }
        });
        let session = Arc::new(Self {
            client,
            routes,
            ids: CallIds::default(),
            budget: Budget::new(limits.max_total_buffered_bytes),
            limits,
            demux,
        });
        // The inbox subscription must be live before the first reply can come back.
        let inbox = format!("{}>", session.routes.prefix);
        session.round_trip(&inbox).await?;
        Ok(session)
    }

    /// Registers a route for a call of `subject`; returns its id, its reply subject, and its
    /// inbox (unless `channel` is empty: a round-trip probe).
    fn register(
        &self,
        subject: &str,
        channel: &'static str,
        handshake: Option<Handshake>,
    ) -> (u64, String, Option<Arc<Inbox>>) {
        self.routes.forget_expired();
        let mut table = self.routes.lock();
        // Ids are hashes, not a sequence: draw again in the rare case one is in use.
        let id = std::iter::repeat_with(|| self.ids.next())
            .find(|id| !table.contains_key(id))
            .unwrap_or_default();
        let reply = format!("{}{id}", self.routes.prefix);
        let inbox = (!channel.is_empty()).then(|| {
            let routes = Arc::downgrade(&self.routes);
            Arc::new(Inbox::new(
                subject,
                self.limits,
                Arc::clone(&self.budget),
                Some(Box::new(move || {
                    if let Some(routes) = routes.upgrade() {
                        routes.finish(id);
                    }
                })),
            ))
        });
        table.insert(
            id,
            Route {
                channel,
                inbox: inbox.as_ref().map_or_else(Weak::new, Arc::downgrade),
                handshake,
            },
        );
        (id, reply, inbox)
    }

    /// An inbox for an invocation whose params are all in hand: no route, since nothing more
    /// arrives for it, and sealed, so a pending value in the params fails at once.
    fn unrouted_inbox(&self, subject: &str) -> Arc<Inbox> {
        Arc::new(Inbox::sealed(
            subject,
            self.limits,
            Arc::clone(&self.budget),
        ))
    }

    /// Publishes to our own inbox and waits for the message to come back: once it has, the NATS
    /// server has processed every subscription this connection sent before it (`flush` only
    /// writes to the socket). `subscribed` names what is being confirmed, in errors.
    async fn round_trip(&self, subscribed: &str) -> Result<()> {
        let (returned, handshake) = oneshot::channel();
        let (id, reply, _) = self.register("", "", Some(Handshake::Notify(returned)));
        let probe = async {
            self.client
                .publish(reply.clone(), Bytes::new())
                .await
                .map_err(|error| Error::nats("publish", error))?;
            handshake.await.map_err(|_| Error::Closed)
        };
        let result = match tokio::time::timeout(SUBSCRIBE_CONFIRM_TIMEOUT, probe).await {
            Ok(result) => result.map(drop),
            Err(_) => Err(Error::Unconfirmed {
                subject: subscribed.to_owned(),
                after: SUBSCRIBE_CONFIRM_TIMEOUT,
            }),
        };
        if result.is_err() {
            self.routes.lock().remove(&id);
        }
        result
    }

    /// The NATS connection.
    pub(crate) fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Subscribes an invocation subject and waits until the server has the subscription.
    pub(crate) async fn subscribe(
        &self,
        subject: &str,
        queue_group: Option<&str>,
    ) -> Result<async_nats::Subscriber> {
        let subscriber = match queue_group {
            Some(group) => {
                self.client
                    .queue_subscribe(subject.to_owned(), group.to_owned())
                    .await
            }
            None => self.client.subscribe(subject.to_owned()).await,
        }
        .map_err(|error| Error::nats("subscribe", error))?;
        self.round_trip(subject).await?;
        tracing::debug!(subject, queue_group, "serving");
        Ok(subscriber)
    }

    /// Sends an invocation and its params; returns the channel its results arrive on. A
    /// handshake that says no (no server, a refusal, another status) ends that channel with the
    /// reason.
    async fn invoke(
        &self,
        subject: &str,
        headers: Option<&HeaderMap>,
        mut params: Bytes,
        deferred: Vec<Deferred>,
    ) -> Result<ChannelReader> {
        // The first message carries the headers and as much of the params as fits with them;
        // if that is all of them, with `wrpc-ends: <R_c>` too (`R_c` is the prefix and at most
        // 20 digits).
        let max_payload = self.client.max_payload();
        let ends_line = ENDS_HEADER.len() + ": ".len() + self.routes.prefix.len() + 20 + 2;
        let with_ends = headers.map_or(EMPTY_HEADER_BLOCK_LEN, header_block_len) + ends_line;
        let all_sent = deferred.is_empty() && params.len() <= max_payload.saturating_sub(with_ends);
        let budget = max_payload.saturating_sub(headers.map_or(0, header_block_len));
        let first = params.split_to(params.len().min(budget));

        let (handshake, notified) = if all_sent {
            (Handshake::EndParams, None)
        } else {
            let (tx, rx) = oneshot::channel();
            (Handshake::Notify(tx), Some(rx))
        };
        let (_, reply, inbox) = self.register(subject, "results", Some(handshake));
        let Some(inbox) = inbox else {
            return Err(Error::Closed);
        };
        let results = inbox.claim_root()?;

        let headers = if all_sent {
            let mut headers = headers.cloned().unwrap_or_default();
            headers.insert(ends_header(), reply.as_str());
            Some(headers)
        } else {
            // A `wrpc-ends` the caller copied from elsewhere must not go out with this one.
            headers.cloned().and_then(without_ends_header)
        };
        match headers {
            Some(headers) => {
                self.client
                    .publish_with_reply_and_headers(subject.to_owned(), reply, headers, first)
                    .await
            }
            None => {
                self.client
                    .publish_with_reply(subject.to_owned(), reply, first)
                    .await
            }
        }
        .map_err(|error| Error::nats("publish", error))?;

        let Some(notified) = notified else {
            return Ok(results);
        };
        let handshake = notified.await.map_err(|_| Error::Closed)?;
        match check_handshake(&handshake) {
            Ok(Accepted::SendParams(server_reply)) => {
                let out = Outgoing::new(
                    NatsSink::to(self.client.clone(), params_subject(server_reply)),
                    Tasks::default(),
                );
                out.send(params).await?;
                out.close().await?;
                spawn_deferred(&out, deferred);
            }
            // This invocation did not say its params were whole, so that is not the server's to
            // decide.
            Ok(Accepted::Nothing) => inbox.close_with(Failure::BadHandshake {
                detail: "the handshake took params as whole that were not",
            }),
            Err(failure) => inbox.close_with(failure),
        }
        Ok(results)
    }
}

impl Backend for Session {
    fn invoke<'a>(
        &'a self,
        subject: &'a str,
        headers: Option<&'a HeaderMap>,
        params: Bytes,
        deferred: Vec<Deferred>,
    ) -> BoxFuture<'a, Result<ChannelReader>> {
        Box::pin(Session::invoke(self, subject, headers, params, deferred))
    }

    fn subscribe<'a>(
        self: Arc<Self>,
        subject: &'a str,
        queue_group: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn Source>>> {
        Box::pin(async move {
            let subscriber = Session::subscribe(&self, subject, queue_group).await?;
            Ok(Box::new(NatsSource {
                session: self,
                subscriber,
                subject: subject.into(),
            }) as Box<dyn Source>)
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The size of a header block on the wire (`NATS/1.0\r\n`, `Name: value\r\n` each, `\r\n`),
/// which counts against `max_payload` together with the payload.
fn header_block_len(headers: &HeaderMap) -> usize {
    let mut len = EMPTY_HEADER_BLOCK_LEN;
    for (name, values) in headers.iter() {
        let name: &str = name.as_ref();
        for value in values {
            len += name.len() + b": ".len() + value.as_str().len() + b"\r\n".len();
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_distinct_and_not_in_sequence() {
        let ids = CallIds::default();
        let drawn: Vec<u64> = (0..10_000).map(|_| ids.next()).collect();
        let distinct: std::collections::HashSet<u64> = drawn.iter().copied().collect();
        assert_eq!(distinct.len(), drawn.len());
        let steps_of_one = drawn
            .windows(2)
            .filter(|w| w[1].wrapping_sub(w[0]) == 1)
            .count();
        assert_eq!(steps_of_one, 0, "ids follow each other");
        // Another session's ids are others.
        assert_ne!(CallIds::default().next(), CallIds::default().next());
    }

    #[test]
    fn header_block_len_matches_the_wire() {
        let mut headers = HeaderMap::new();
        assert_eq!(header_block_len(&headers), 12);
        headers.insert("source-id", "component");
        headers.append("link-name", "default");
        // NATS/1.0\r\nsource-id: component\r\nlink-name: default\r\n\r\n
        assert_eq!(
            header_block_len(&headers),
            12 + 9 + 2 + 9 + 2 + 9 + 2 + 7 + 2
        );
    }
}
