//! wRPC over NATS, wire-compatible with `wrpc-transport-nats 0.31`.
//!
//! One call, message by message (`R_c` is the client's reply subject, `R_s` the server's):
//!
//! 1. The client publishes the invocation with reply-to `R_c`, its headers, and as much of the
//!    encoded params as fits in `max_payload`.
//! 2. The server publishes an empty handshake to `R_c` with reply-to `R_s`.
//! 3. The client sends the rest of the params to `R_s.params`, then an empty message (end of
//!    params) — always, even when everything fit in step 1.
//! 4. The server writes the results to `R_c.results`, then an empty message. Pending streams and
//!    futures follow on `R_c.results.<path>` (and `R_s.params.<path>` the other way).
//!
//! Every reply subject of a session starts with the session's inbox prefix, and one wildcard
//! subscription on it receives them all; a demultiplexer routes each message to its call's
//! [`Inbox`] by the numeric call id that follows the prefix. When all params went with the
//! invocation (the common case), the demultiplexer answers the handshake itself (step 3), so the
//! caller wakes once, for its results.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, Message, StatusCode};
use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::subject::{InboxAddress, params_subject, parse_inbox_subject, results_subject};
use super::{Invocation, InvocationContext};
use crate::channel::{
    Budget, ChannelReader, Failure, Inbox, Limits, Outgoing, Sink, Tasks, push_path,
};
use crate::error::{Error, Result};
use crate::wire::{Deferred, spawn_deferred};

/// How long `serve` waits for the NATS server to confirm a new subscription.
const SUBSCRIBE_CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a call the caller gave up on before its handshake keeps its route, to answer a late
/// handshake with the end of params (so the server is not left waiting for them).
const LINGER: Duration = Duration::from_secs(30);

/// What to do with a call's handshake.
enum Handshake {
    /// Hand it to the caller, which has more params to send.
    Notify(oneshot::Sender<Message>),
    /// All params went with the invocation: end the params channel right here, without waking
    /// the caller, which only waits for results.
    EndParams,
}

/// One registered call or invocation.
struct Route {
    /// The channel name data for this route arrives under (`results` or `params`); empty for a
    /// round-trip probe, which only ever gets a handshake.
    channel: &'static str,
    inbox: Weak<Inbox>,
    handshake: Option<Handshake>,
}

/// Checks a handshake reply; returns the server's reply subject `R_s`.
fn check_handshake(message: &Message) -> Result<&async_nats::Subject, Failure> {
    if let Some(status) = message.status.filter(|status| !status.is_success()) {
        return Err(if status == StatusCode::NO_RESPONDERS {
            Failure::NoServer
        } else {
            Failure::Refused {
                status: status.as_u16(),
                description: message.description.clone(),
            }
        });
    }
    message.reply.as_ref().ok_or(Failure::NoHandshakeReply)
}

/// The routing table the demultiplexer reads and calls write.
struct Routes {
    client: async_nats::Client,
    /// `_INBOX.<nuid>.`: every reply subject of the session starts with it.
    prefix: String,
    table: Mutex<HashMap<u64, Route>>,
    /// Routes of calls given up before their handshake, and when to forget them.
    lingering: Mutex<VecDeque<(Instant, u64)>>,
}

impl Routes {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A call's inbox is gone. If its handshake has not come yet, keep the route a while to
    /// answer it with the end of params; otherwise forget the route.
    fn finish(&self, id: u64) {
        let mut table = self.lock();
        let Some(route) = table.get_mut(&id) else {
            return;
        };
        if route.handshake.is_some() {
            route.handshake = Some(Handshake::EndParams);
            drop(table);
            self.lock_lingering()
                .push_back((Instant::now() + LINGER, id));
        } else {
            table.remove(&id);
        }
    }

    fn lock_lingering(&self) -> MutexGuard<'_, VecDeque<(Instant, u64)>> {
        self.lingering
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets lingering routes whose time is up.
    fn forget_expired(&self) {
        let now = Instant::now();
        let mut lingering = self.lock_lingering();
        while let Some(&(expiry, id)) = lingering.front() {
            if expiry > now {
                break;
            }
            lingering.pop_front();
            self.lock().remove(&id);
        }
    }

    async fn dispatch(&self, message: Message) {
        match parse_inbox_subject(&self.prefix, &message.subject) {
            Some(InboxAddress::Handshake(id)) => self.handshake(id, message).await,
            Some(InboxAddress::Channel { id, channel, path }) => {
                let inbox = self
                    .lock()
                    .get(&id)
                    .filter(|route| route.channel == channel)
                    .and_then(|route| route.inbox.upgrade());
                match inbox {
                    // Deliver (and maybe drop the last handle) outside the table lock: dropping
                    // an inbox removes its route.
                    Some(inbox) => inbox.deliver(&path, message.payload),
                    None => {
                        tracing::trace!(subject = %message.subject, "message for a finished call")
                    }
                }
            }
            None => {
                tracing::debug!(subject = %message.subject, "message on an unknown inbox subject")
            }
        }
    }

    async fn handshake(&self, id: u64, message: Message) {
        let (handshake, inbox) = {
            let mut table = self.lock();
            let Some(route) = table.get_mut(&id) else {
                tracing::debug!(subject = %message.subject, "handshake for a finished call");
                return;
            };
            let handshake = route.handshake.take();
            let inbox = route.inbox.upgrade();
            // A probe, or a call whose caller is gone: nothing more will use the route.
            if route.channel.is_empty() || inbox.is_none() {
                table.remove(&id);
            }
            (handshake, inbox)
        };
        match handshake {
            Some(Handshake::Notify(caller)) => {
                let _ = caller.send(message);
            }
            Some(Handshake::EndParams) => match check_handshake(&message) {
                Ok(server_reply) => {
                    let end = self
                        .client
                        .publish(params_subject(server_reply), Bytes::new())
                        .await;
                    if let Err(error) = end {
                        tracing::debug!(%error, "could not end a call's params");
                    }
                }
                Err(failure) => {
                    if let Some(inbox) = inbox {
                        inbox.close_with(failure);
                    }
                }
            },
            None => tracing::debug!(subject = %message.subject, "unexpected handshake"),
        }
    }
}

/// A NATS connection with its inbox subscription and demultiplexer.
pub(crate) struct Session {
    client: async_nats::Client,
    routes: Arc<Routes>,
    next_id: AtomicU64,
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
            next_id: AtomicU64::new(0),
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
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
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
        self.routes.lock().insert(
            id,
            Route {
                channel,
                inbox: inbox.as_ref().map_or_else(Weak::new, Arc::downgrade),
                handshake,
            },
        );
        (id, reply, inbox)
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

    /// Sends an invocation and its params; returns the channel its results arrive on. A refused
    /// handshake (no server, another status) ends that channel with the reason.
    pub(crate) async fn invoke(
        &self,
        subject: &str,
        headers: Option<&HeaderMap>,
        mut params: Bytes,
        deferred: Vec<Deferred>,
    ) -> Result<ChannelReader> {
        // The first message carries the headers and as much of the params as fits with them.
        let budget = self
            .client
            .max_payload()
            .saturating_sub(headers.map_or(0, header_block_len));
        let first = params.split_to(params.len().min(budget));
        let all_sent = params.is_empty() && deferred.is_empty();

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

        match headers {
            Some(headers) => {
                self.client
                    .publish_with_reply_and_headers(
                        subject.to_owned(),
                        reply,
                        headers.clone(),
                        first,
                    )
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
            Ok(server_reply) => {
                let out = Outgoing::new(
                    NatsSink::to(self.client.clone(), params_subject(server_reply)),
                    Tasks::default(),
                );
                out.send(params).await?;
                out.close().await?;
                spawn_deferred(&out, deferred);
            }
            Err(failure) => inbox.close_with(failure),
        }
        Ok(results)
    }

    /// Sets up an arrived invocation: registers its params channel, queues the params that came
    /// with it, and sends the handshake.
    pub(crate) async fn accept(&self, message: Message, tasks: &Tasks) -> Result<Invocation> {
        let Some(client_reply) = message.reply else {
            return Err(Error::Protocol {
                subject: message.subject.to_string(),
                detail: "the invocation has no reply subject",
            });
        };
        let (_, reply, inbox) = self.register(&message.subject, "params", None);
        let Some(inbox) = inbox else {
            return Err(Error::Closed);
        };
        let params = inbox.claim_root()?;
        if !message.payload.is_empty() {
            inbox.deliver(&[], message.payload);
        }
        self.client
            .publish_with_reply(client_reply.clone(), reply, Bytes::new())
            .await
            .map_err(|error| Error::nats("publish", error))?;
        let context = InvocationContext::new(message.subject.as_str(), message.headers);
        let results = Outgoing::new(
            NatsSink::to(self.client.clone(), results_subject(&client_reply)),
            tasks.clone(),
        );
        Ok(Invocation::new(context, params, results))
    }
}

/// Publishes a channel's messages to its subject.
struct NatsSink {
    client: async_nats::Client,
    subject: async_nats::Subject,
}

impl NatsSink {
    fn to(client: async_nats::Client, subject: String) -> Arc<dyn Sink> {
        Arc::new(Self {
            client,
            subject: subject.into(),
        })
    }
}

impl Sink for NatsSink {
    fn publish(&self, payload: Bytes) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.client
                .publish(self.subject.clone(), payload)
                .await
                .map_err(|error| Error::nats("publish", error))
        })
    }

    fn index(&self, path: &[usize]) -> Arc<dyn Sink> {
        let mut nested = self.subject.to_string();
        push_path(&mut nested, path);
        Self::to(self.client.clone(), nested)
    }

    fn subject(&self) -> String {
        self.subject.to_string()
    }

    fn max_payload(&self) -> usize {
        self.client.max_payload()
    }
}

/// The size of a header block on the wire (`NATS/1.0\r\n`, `Name: value\r\n` each, `\r\n`),
/// which counts against `max_payload` together with the payload.
fn header_block_len(headers: &HeaderMap) -> usize {
    let mut len = b"NATS/1.0\r\n".len() + b"\r\n".len();
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
