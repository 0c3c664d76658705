//! Answering a host's health requests: on a task of their own, never behind a link hook.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::provider::hooks::Provider;
use crate::wasmcloud::Health;

/// Answers health requests, one at a time; a check that takes longer than `timeout` is
/// answered as unhealthy.
pub(crate) async fn answer_health<P: Provider>(
    provider: Arc<P>,
    client: async_nats::Client,
    mut requests: mpsc::Receiver<async_nats::Subject>,
    timeout: Duration,
) {
    while let Some(reply) = requests.recv().await {
        let health = match tokio::time::timeout(timeout, provider.health()).await {
            Ok(health) => health,
            Err(_) => Health::unhealthy(format!("the health check took longer than {timeout:?}")),
        };
        if !health.healthy {
            tracing::warn!(
                message = health.message.as_deref().unwrap_or(""),
                "unhealthy"
            );
        }
        let body = serde_json::to_vec(&health).unwrap_or_default();
        if let Err(error) = client.publish(reply, body.into()).await {
            tracing::warn!(%error, "could not answer a health request");
        }
    }
}
