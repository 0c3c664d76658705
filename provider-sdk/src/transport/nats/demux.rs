//! The demultiplexer: one wildcard subscription on the session's inbox receives every reply, and
//! a routing table sends each to its call's [`Inbox`] by the numeric call id after the prefix.
//! It also answers handshakes itself when a call has no more params to send, and turns a
//! refusal handshake into the call's failure.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use async_nats::{Message, StatusCode};
use bytes::Bytes;
use tokio::sync::oneshot;

use super::{REFUSED_HEADER, says_ends_implied};
use crate::channel::{Failure, Inbox};
use crate::transport::admission::truncate_reason;
use crate::transport::subject::{InboxAddress, params_subject, parse_inbox_subject};

/// How long a call the caller gave up on before its handshake keeps its route, to answer a late
/// handshake with the end of params (so the server is not left waiting for them).
const LINGER: Duration = Duration::from_secs(30);

/// What to do with a call's handshake.
pub(super) enum Handshake {
    /// Hand it to the caller, which has more params to send.
    Notify(oneshot::Sender<Message>),
    /// All params went with the invocation: end the params channel right here (unless the
    /// server needs no end), without waking the caller, which only waits for results.
    EndParams,
}

/// One registered call or invocation.
pub(super) struct Route {
    /// The channel name data for this route arrives under (`results` or `params`); empty for a
    /// round-trip probe, which only ever gets a handshake.
    pub(super) channel: &'static str,
    pub(super) inbox: Weak<Inbox>,
    pub(super) handshake: Option<Handshake>,
}

/// What an accepting handshake asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Accepted<'m> {
    /// Send the rest of the params to `R_s.params` (this subject's), then end that channel.
    SendParams(&'m async_nats::Subject),
    /// Send nothing more: the server took the invocation's params as whole (the handshake has
    /// no reply subject and says `wrpc-ends: <R_c>`, in answer to an invocation that said so).
    Nothing,
}

/// Checks a handshake reply: a refusal or an error status fails the call; otherwise it says
/// whether the caller has params to send.
pub(super) fn check_handshake(message: &Message) -> Result<Accepted<'_>, Failure> {
    if let Some(status) = message.status.filter(|status| !status.is_success()) {
        return Err(if status == StatusCode::NO_RESPONDERS {
            Failure::NoServer
        } else {
            Failure::Status {
                status: status.as_u16(),
                description: message.description.clone(),
            }
        });
    }
    match &message.reply {
        Some(server_reply) => Ok(Accepted::SendParams(server_reply)),
        None if is_refusal(message) => Err(Failure::Refused {
            reason: refusal_reason(&message.payload),
        }),
        // The handshake is addressed to `R_c`: its subject is what the invocation said.
        None if says_ends_implied(message.headers.as_ref(), &message.subject) => {
            Ok(Accepted::Nothing)
        }
        None => Err(Failure::BadHandshake {
            detail: "the handshake has no reply subject",
        }),
    }
}

/// Whether a handshake without a reply subject is a refusal: it says so in a header, or it
/// carries a reason.
fn is_refusal(message: &Message) -> bool {
    !message.payload.is_empty()
        || message
            .headers
            .as_ref()
            .is_some_and(|headers| headers.get(REFUSED_HEADER).is_some())
}

/// The reason of a refusal handshake, as text, cut to `Refusal::MAX_REASON_BYTES`.
fn refusal_reason(payload: &[u8]) -> String {
    let mut reason = String::from_utf8_lossy(payload).into_owned();
    truncate_reason(&mut reason);
    if reason.is_empty() {
        reason.push_str("refused");
    }
    reason
}

/// The routing table the demultiplexer reads and calls write.
pub(super) struct Routes {
    pub(super) client: async_nats::Client,
    /// `_INBOX.<nuid>.`: every reply subject of the session starts with it.
    pub(super) prefix: String,
    pub(super) table: Mutex<HashMap<u64, Route>>,
    /// Routes of calls given up before their handshake, and when to forget them.
    pub(super) lingering: Mutex<VecDeque<(Instant, u64)>>,
}

impl Routes {
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A call's inbox is gone. If its handshake has not come yet, keep the route a while to
    /// answer it with the end of params; otherwise forget the route.
    pub(super) fn finish(&self, id: u64) {
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
    pub(super) fn forget_expired(&self) {
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

    pub(super) async fn dispatch(&self, message: Message) {
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
                Ok(Accepted::SendParams(server_reply)) => {
                    let end = self
                        .client
                        .publish(params_subject(server_reply), Bytes::new())
                        .await;
                    if let Err(error) = end {
                        tracing::debug!(%error, "could not end a call's params");
                    }
                }
                Ok(Accepted::Nothing) => {}
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

#[cfg(test)]
mod tests {
    use async_nats::HeaderMap;

    use super::super::ENDS_HEADER;
    use super::*;

    fn handshake(reply: Option<&str>, payload: &'static [u8], refused_header: bool) -> Message {
        let headers = refused_header.then(|| {
            let mut headers = HeaderMap::new();
            headers.insert(REFUSED_HEADER, "1");
            headers
        });
        Message {
            subject: "_INBOX.x.0".into(),
            reply: reply.map(Into::into),
            payload: Bytes::from_static(payload),
            headers,
            status: None,
            description: None,
            length: payload.len(),
        }
    }

    fn reason(result: Result<Accepted<'_>, Failure>) -> Option<String> {
        match result {
            Err(Failure::Refused { reason }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_handshake_with_a_reply_subject_goes_on() {
        let message = handshake(Some("_INBOX.y.1"), b"", false);
        assert_eq!(
            check_handshake(&message).unwrap(),
            Accepted::SendParams(&"_INBOX.y.1".into())
        );
    }

    #[test]
    fn a_handshake_saying_the_ends_are_implied_wants_nothing_more() {
        let ends = |value: &str| {
            let mut message = handshake(None, b"", false);
            let mut headers = HeaderMap::new();
            headers.insert(ENDS_HEADER, value);
            message.headers = Some(headers);
            message
        };
        // The handshake comes to `R_c` ("_INBOX.x.0") and names it.
        assert_eq!(
            check_handshake(&ends("_INBOX.x.0")).unwrap(),
            Accepted::Nothing
        );
        // Naming another call's reply subject agrees to nothing.
        assert!(matches!(
            check_handshake(&ends("_INBOX.x.1")),
            Err(Failure::BadHandshake { .. })
        ));
        // With a reply subject, the caller sends the end of params whatever the header says.
        let mut message = ends("_INBOX.x.0");
        message.reply = Some("_INBOX.y.1".into());
        assert_eq!(
            check_handshake(&message).unwrap(),
            Accepted::SendParams(&"_INBOX.y.1".into())
        );
        // A refusal stays a refusal.
        let mut message = ends("_INBOX.x.0");
        message.payload = Bytes::from_static(b"not you");
        assert_eq!(
            reason(check_handshake(&message)).as_deref(),
            Some("not you")
        );
    }

    #[test]
    fn a_handshake_without_reply_subject_but_with_a_reason_is_a_refusal() {
        let message = handshake(None, b"not you", true);
        assert_eq!(
            reason(check_handshake(&message)).as_deref(),
            Some("not you")
        );
        // The header alone, or the reason alone, says the same.
        let message = handshake(None, b"", true);
        assert_eq!(
            reason(check_handshake(&message)).as_deref(),
            Some("refused")
        );
        let message = handshake(None, b"not you", false);
        assert_eq!(
            reason(check_handshake(&message)).as_deref(),
            Some("not you")
        );
    }

    #[test]
    fn a_refusal_reason_is_text_of_bounded_length() {
        static LONG: [u8; 5000] = [b'x'; 5000];
        let message = handshake(None, &LONG, true);
        assert_eq!(reason(check_handshake(&message)).unwrap().len(), 1024);
        let message = handshake(None, b"caf\xc3", true);
        assert_eq!(
            reason(check_handshake(&message)).as_deref(),
            Some("caf\u{fffd}")
        );
    }

    #[test]
    fn an_empty_handshake_without_reply_subject_is_a_protocol_error() {
        let message = handshake(None, b"", false);
        assert!(matches!(
            check_handshake(&message),
            Err(Failure::BadHandshake { .. })
        ));
    }

    #[test]
    fn no_responders_is_no_server() {
        let mut message = handshake(None, b"", false);
        message.status = Some(StatusCode::NO_RESPONDERS);
        assert!(matches!(check_handshake(&message), Err(Failure::NoServer)));
    }
}
