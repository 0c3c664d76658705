//! A channel's sending side over NATS: each message published to the channel's subject.

use std::sync::Arc;

use bytes::Bytes;

use crate::channel::{Completion, Sink, push_path, waiting};
use crate::error::{Error, Result};

/// Publishes a channel's messages to its subject.
pub(super) struct NatsSink {
    client: async_nats::Client,
    subject: async_nats::Subject,
}

impl NatsSink {
    pub(super) fn to(client: async_nats::Client, subject: String) -> Arc<dyn Sink> {
        Arc::new(Self {
            client,
            subject: subject.into(),
        })
    }
}

impl Sink for NatsSink {
    fn publish(&self, payload: Bytes) -> Completion<'_, Result<()>> {
        waiting(async move {
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
