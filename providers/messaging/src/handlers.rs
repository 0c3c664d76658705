//! The `consumer` handlers: each call finds the connection of the link it came over and
//! publishes or requests on it, passing on the invocation's trace context.

use bytes::Bytes;
use provider_sdk::provider::Context;
use provider_sdk::trace;

use crate::bindings::exports::wasmcloud::messaging::consumer;
use crate::bindings::wasmcloud::messaging::types::BrokerMessage;
use crate::provider::MessagingProvider;

impl consumer::Handler<Context> for MessagingProvider {
    async fn request(
        &self,
        cx: Context,
        subject: String,
        body: Bytes,
        timeout_ms: u32,
    ) -> Result<BrokerMessage, String> {
        let connection = self.connection(&cx).map_err(|e| e.to_string())?;
        let reply = connection
            .request(subject, body, timeout_ms, trace::current())
            .await
            .map_err(|e| e.to_string())?;
        Ok(BrokerMessage {
            subject: reply.subject.to_string(),
            body: reply.payload,
            reply_to: reply.reply.map(|reply| reply.to_string()),
        })
    }

    async fn publish(&self, cx: Context, msg: BrokerMessage) -> Result<(), String> {
        let connection = self.connection(&cx).map_err(|e| e.to_string())?;
        connection
            .publish(msg.subject, msg.body, msg.reply_to, trace::current())
            .await
            .map_err(|e| e.to_string())
    }
}
