//! Stopping: what happens between "stop" (a host's request, SIGTERM, Ctrl-C,
//! [`ProviderHandle::shutdown`](super::ProviderHandle::shutdown)) and `Ok(())`.
//!
//! 1. At once: no new invocations are taken and no more link changes are applied.
//! 2. In-flight invocations, and a link hook that is running, get the grace period together;
//!    what is still running then is cancelled.
//! 3. The provider's [`shutdown`](super::Provider::shutdown) hook runs (within the grace
//!    period).
//! 4. The control plane stops; telemetry is flushed (for at most 2 s); the host's
//!    request, if one caused this, is answered only now: a host kills the process as soon as it
//!    has its answer.

use std::sync::Arc;
use std::time::Duration;

use super::control::RunningControl;
use super::hooks::Provider;
use super::state::State;
use crate::error::Result;
use crate::transport::{Server, Serving};

/// What the provider runs on, handed to [`stop_when_asked`].
pub(crate) struct Running<P> {
    pub(crate) provider: Arc<P>,
    pub(crate) state: Arc<State>,
    pub(crate) server: Server,
    pub(crate) serving: Serving,
    pub(crate) control: RunningControl,
    pub(crate) grace: Duration,
}

/// Waits until the provider is asked to stop, then stops it in order.
pub(crate) async fn stop_when_asked<P: Provider>(running: Running<P>) -> Result<()> {
    let Running {
        provider,
        state,
        server,
        serving,
        mut control,
        grace,
    } = running;
    let stop = state.stop.clone();
    let reply = tokio::select! {
        () = stop.cancelled() => None,
        reply = control.shutdown_requested() => {
            tracing::info!("the host asked the provider to shut down");
            stop.cancel();
            reply
        }
    };
    let (drained, ()) = tokio::join!(server.shutdown(grace), control.stop_changes(grace));
    if drained {
        tracing::info!("invocations drained");
    } else {
        tracing::warn!(
            ?grace,
            "invocations still running at the shutdown deadline were cancelled"
        );
    }
    drop(serving);
    match tokio::time::timeout(grace, provider.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "the provider's shutdown hook failed"),
        Err(_) => tracing::warn!(?grace, "the provider's shutdown hook did not finish"),
    }
    control.stop();
    // What the invocations and the hooks recorded, out before the host kills the process.
    crate::telemetry::flush(grace.min(crate::telemetry::FLUSH_DEADLINE)).await;
    if let Some(client) = state.transport.nats_client() {
        if let Some(reply) = reply
            && let Err(error) = client.publish(reply, "shutting down".into()).await
        {
            tracing::warn!(%error, "could not answer the host's shutdown request");
        }
        if let Err(error) = client.flush().await {
            tracing::debug!(%error, "flushing NATS at shutdown failed");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
