//! The serving side over NATS: a subscription as a [`Source`] of arrivals, and each arrival
//! accepted (handshake with reply-to `R_s`) or refused (handshake without one, the reason as its
//! payload).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_nats::{HeaderMap, Message, Subject};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt as _, Stream, StreamExt as _};

use super::sink::NatsSink;
use super::{REFUSED_HEADER, Session, ends_header, says_ends_implied, without_ends_header};
use crate::channel::{Completion, Outgoing, Tasks, done, waiting};
use crate::error::{Error, Result};
use crate::transport::InvocationContext;
use crate::transport::backend::{Arrival, Arriving, Channels, Source};
use crate::transport::subject::results_subject;

/// The invocations of one subscribed subject.
pub(super) struct NatsSource {
    pub(super) session: Arc<Session>,
    pub(super) subscriber: async_nats::Subscriber,
    /// The subscribed subject, which every invocation's context shares.
    pub(super) subject: Arc<str>,
}

impl Stream for NatsSource {
    type Item = Arrival;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arrival>> {
        let message = match self.subscriber.poll_next_unpin(cx) {
            Poll::Ready(Some(message)) => message,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        let Message {
            subject,
            reply,
            payload,
            headers,
            ..
        } = message;
        // The short exchange's header is the transport's: handlers see the caller's headers.
        let ends_implied = reply
            .as_ref()
            .is_some_and(|reply| says_ends_implied(headers.as_ref(), reply));
        let headers = headers.and_then(without_ends_header);
        let call = NatsArrival {
            session: Arc::clone(&self.session),
            reply,
            payload,
            ends_implied,
        };
        Poll::Ready(Some(Arrival {
            context: InvocationContext::new(self.subject_of(&subject), headers),
            call: Box::new(call),
        }))
    }
}

impl NatsSource {
    /// `subject` as an invocation context holds it: the subscribed subject, shared, when it is
    /// that (always, for a subject without wildcards).
    fn subject_of(&self, subject: &Subject) -> Arc<str> {
        if subject.as_str() == &*self.subject {
            Arc::clone(&self.subject)
        } else {
            subject.as_str().into()
        }
    }
}

impl Source for NatsSource {
    fn stop(&mut self) -> BoxFuture<'_, Result<()>> {
        async move {
            self.subscriber
                .unsubscribe()
                .await
                .map_err(|error| Error::nats("unsubscribe", error))
        }
        .boxed()
    }
}

/// An invocation message, not answered yet.
struct NatsArrival {
    session: Arc<Session>,
    /// The caller's reply subject `R_c`.
    reply: Option<Subject>,
    /// The params that came with the invocation.
    payload: Bytes,
    /// The invocation said `wrpc-ends: <its reply subject>`: its params are all in `payload`, and a whole
    /// results value needs no end message after it.
    ends_implied: bool,
}

impl fmt::Debug for NatsArrival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsArrival")
            .field("reply", &self.reply)
            .field("payload", &self.payload.len())
            .field("ends_implied", &self.ends_implied)
            .finish_non_exhaustive()
    }
}

impl Arriving for NatsArrival {
    /// Queues the params that came with the invocation and sends the handshake. In the full
    /// exchange the handshake's reply subject is a registered params channel, where the rest
    /// of the params arrive; in the short one (`wrpc-ends`) the params are whole
    /// already, so nothing is registered and the handshake says so instead.
    fn accept(self: Box<Self>, subject: &str) -> Completion<'static, Result<Channels>> {
        let Self {
            session,
            reply,
            payload,
            ends_implied,
        } = *self;
        let Some(client_reply) = reply else {
            let error = Error::Protocol {
                subject: subject.to_owned(),
                detail: "the invocation has no reply subject",
            };
            return done(Err(error));
        };
        let (inbox, server_reply) = if ends_implied {
            (Some(session.unrouted_inbox(subject)), None)
        } else {
            let (_, reply, inbox) = session.register(subject, "params", None);
            (inbox, Some(reply))
        };
        waiting(async move {
            let inbox = inbox.ok_or(Error::Closed)?;
            let params = inbox.claim_root()?;
            if !payload.is_empty() {
                inbox.deliver(&[], payload);
            }
            let handshake = match server_reply {
                Some(server_reply) => {
                    session
                        .client
                        .publish_with_reply(client_reply.clone(), server_reply, Bytes::new())
                        .await
                }
                None => {
                    inbox.deliver(&[], Bytes::new());
                    let mut headers = HeaderMap::new();
                    headers.insert(ends_header(), client_reply.as_str());
                    session
                        .client
                        .publish_with_headers(client_reply.clone(), headers, Bytes::new())
                        .await
                }
            };
            handshake.map_err(|error| Error::nats("publish", error))?;
            let mut results = Outgoing::new(
                NatsSink::to(session.client.clone(), results_subject(&client_reply)),
                Tasks::default(),
            );
            if ends_implied {
                results = results.with_end_implied();
            }
            Ok(Channels { params, results })
        })
    }

    /// Answers `R_c` with a handshake that has no reply subject: the reason as its payload and
    /// the refusal header. Nothing is registered, so whatever the caller still sends is dropped.
    fn refuse(self: Box<Self>, reason: &str) -> Completion<'static, Result<()>> {
        let Some(client_reply) = self.reply else {
            // Nobody to tell.
            return done(Ok(()));
        };
        let mut headers = HeaderMap::new();
        headers.insert(REFUSED_HEADER, "1");
        let reason = Bytes::copy_from_slice(reason.as_bytes());
        let client = self.session.client.clone();
        waiting(async move {
            client
                .publish_with_headers(client_reply, headers, reason)
                .await
                .map_err(|error| Error::nats("publish", error))
        })
    }
}
