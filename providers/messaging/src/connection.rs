//! One link's NATS connection, and what a consumer link does on it: publish and request.
//!
//! Sizes are checked against the server's `max_payload` before anything is sent, so a message
//! too large fails whole with an error naming both numbers. A request waits exactly the
//! caller's `timeout-ms` (async-nats' own request timeout would cap it at 10 s), and with a
//! `custom_inbox_prefix` its reply comes to an inbox under that prefix.

use std::time::Duration;

use async_nats::{Message, Request, RequestErrorKind};
use bytes::Bytes;
use futures::StreamExt as _;

use crate::config::ConnectionSettings;
use crate::error::{Error, Result};

/// How long subscribing waits for the server to confirm (a round trip on the connection).
const CONFIRM_WAIT: Duration = Duration::from_secs(5);

/// A link's connection. Closes when dropped (with its clones and subscriptions).
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    client: async_nats::Client,
    inbox_prefix: Option<String>,
}

impl Connection {
    /// Connects once; the client reconnects by itself afterwards.
    pub(crate) async fn open(settings: &ConnectionSettings) -> Result<Self> {
        let client = settings.options().connect().await?;
        Ok(Self {
            client,
            inbox_prefix: settings.inbox_prefix.clone(),
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

    /// Fails with [`Error::TooLarge`] if `size` bytes exceed the server's `max_payload`.
    fn check_size(&self, subject: &str, size: usize) -> Result<()> {
        let limit = self.client.server_info().max_payload;
        if limit > 0 && size > limit {
            return Err(Error::TooLarge {
                subject: subject.to_owned(),
                size,
                limit,
            });
        }
        Ok(())
    }

    /// Publishes `body` to `subject`, with `reply_to` if given.
    pub(crate) async fn publish(
        &self,
        subject: String,
        body: Bytes,
        reply_to: Option<String>,
    ) -> Result<()> {
        self.check_size(&subject, body.len())?;
        match reply_to {
            Some(reply_to) => self
                .client
                .publish_with_reply(subject, reply_to, body)
                .await
                .map_err(Error::nats),
            None => self
                .client
                .publish(subject, body)
                .await
                .map_err(Error::nats),
        }
    }

    /// Sends `body` to `subject` and waits `timeout_ms` for one reply.
    pub(crate) async fn request(
        &self,
        subject: String,
        body: Bytes,
        timeout_ms: u32,
    ) -> Result<Message> {
        if timeout_ms == 0 {
            return Err(Error::InvalidConfig {
                key: "timeout-ms",
                value: "0".to_owned(),
                expected: "a request timeout of at least 1 ms",
            });
        }
        self.check_size(&subject, body.len())?;
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let mut request = Request::new().payload(body).timeout(Some(timeout));
        if self.inbox_prefix.is_some() {
            request = request.inbox(self.new_inbox());
        }
        self.client
            .send_request(subject.clone(), request)
            .await
            .map_err(|error| match error.kind() {
                RequestErrorKind::TimedOut => Error::Timeout {
                    subject,
                    timeout_ms,
                },
                RequestErrorKind::NoResponders => Error::NoResponders(subject),
                _ => Error::nats(error),
            })
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
