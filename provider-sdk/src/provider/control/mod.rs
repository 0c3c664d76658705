//! The control plane: everything a wasmCloud host, or a store of named configuration and
//! secrets, tells a running provider.
//!
//! - [`ControlPlane::subscribe`] takes the host's subjects before anything else happens, so
//!   nothing published from then on is missed: the provider's control prefix (link copies,
//!   deletes, config updates, in the host's order), health and shutdown on subscriptions of
//!   their own, and the sealed link puts named after the provider's xkey.
//! - [`router`] turns those messages into one ordered stream of [`ControlEvent`]s, and sends
//!   health and shutdown requests to their own lanes, so a slow hook never delays them.
//! - [`ControlPlane::watch_stores`] starts the stores' watches (see [`crate::provider::stores`])
//!   before anything is read from them; their changes form a second ordered stream.
//! - [`apply`] applies both streams through the provider's hooks, one change at a time;
//!   [`resolve`] merges named configuration and secrets.
//! - [`health`] answers health requests on a task of its own.
//!
//! To add a control subject: name it in [`crate::wasmcloud`] (its subject function and
//! `ControlSubject`), route it in [`router`], and handle its event in [`apply`] (ordered) or on a
//! lane of its own (urgent).

mod apply;
mod health;
mod resolve;
mod router;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use self::apply::Applier;
pub(crate) use self::resolve::{ProviderRefs, Resolver};
use self::router::{ControlEvent, Lane, Routes};
use super::hooks::Provider;
use super::state::Identity;
use crate::error::Result;
use crate::provider::stores::{
    ConfigStore, STORE_EVENT_QUEUE, SecretsDir, StoreChanges, StoreEvent,
};
use crate::transport::Transport;
use crate::wasmcloud::{self, SecretKeys};

/// How many ordered control events may wait for a hook before the router waits too.
const EVENT_QUEUE: usize = 4096;

/// The host's subjects, subscribed; not yet routed.
pub(crate) struct ControlPlane {
    prefix: String,
    host_id: String,
    client: async_nats::Client,
    control: async_nats::Subscriber,
    health: async_nats::Subscriber,
    shutdown: async_nats::Subscriber,
    sealed: Option<async_nats::Subscriber>,
    events: mpsc::Sender<ControlEvent>,
    queued: mpsc::Receiver<ControlEvent>,
    store_events: mpsc::Sender<StoreEvent>,
    store_queued: mpsc::Receiver<StoreEvent>,
    store_watches: Watches,
}

/// The stores' watches, stopped if the provider never starts (dropped before
/// [`ControlPlane::start`] takes them over).
#[derive(Default)]
struct Watches(Vec<JoinHandle<()>>);

impl Drop for Watches {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl ControlPlane {
    /// Subscribes the host's control subjects for `identity` (and the sealed link puts for
    /// `keys`), each confirmed by the server before this returns.
    pub(crate) async fn subscribe(
        transport: &Transport,
        identity: &Identity,
        keys: Option<&SecretKeys>,
    ) -> Result<Self> {
        let Identity {
            lattice,
            provider_id,
            host_id,
        } = identity;
        let prefix = wasmcloud::control_prefix(lattice, provider_id);
        let control = transport
            .subscribe_confirmed(&format!("{prefix}.>"), None)
            .await?;
        let health = transport
            .subscribe_confirmed(&wasmcloud::health_subject(lattice, provider_id), None)
            .await?;
        let shutdown = transport
            .subscribe_confirmed(&wasmcloud::shutdown_subject(lattice, provider_id), None)
            .await?;
        let sealed = match keys {
            Some(keys) => Some(
                transport
                    .subscribe_confirmed(
                        &wasmcloud::sealed_link_put_subject(lattice, &keys.provider_public()),
                        None,
                    )
                    .await?,
            ),
            None => None,
        };
        let client = transport
            .nats_client()
            .cloned()
            .ok_or(crate::Error::Closed)?;
        let (events, queued) = mpsc::channel(EVENT_QUEUE);
        let (store_events, store_queued) = mpsc::channel(STORE_EVENT_QUEUE);
        Ok(Self {
            prefix,
            host_id: host_id.clone(),
            client,
            control,
            health,
            shutdown,
            sealed,
            events,
            queued,
            store_events,
            store_queued,
            store_watches: Watches::default(),
        })
    }

    /// Starts watching `stores` and `secrets`; returns once every watch is in place, so that
    /// nothing changed after it returns is missed by what is read next.
    pub(crate) async fn watch_stores(
        &mut self,
        stores: &[Arc<dyn ConfigStore>],
        secrets: Option<&SecretsDir>,
    ) -> Result<()> {
        for (index, store) in stores.iter().enumerate() {
            let changes = StoreChanges::new(self.store_events.clone(), index);
            let watching = Arc::clone(store).watch(changes).await?;
            self.store_watches.0.push(tokio::spawn(watching));
        }
        if let Some(secrets) = secrets {
            let watching = secrets.clone().watch(self.store_events.clone())?;
            self.store_watches.0.push(tokio::spawn(watching));
        }
        Ok(())
    }

    /// Starts routing the host's messages: ordered changes to `applier`, health requests
    /// answered by `provider` within `health_timeout`, shutdown requests to the returned
    /// [`RunningControl`].
    pub(crate) fn start<P: Provider>(
        mut self,
        applier: Applier<P>,
        provider: Arc<P>,
        health_timeout: Duration,
    ) -> RunningControl {
        let (health_tx, health_rx) = mpsc::channel(16);
        let (shutdown_tx, shutdown_rx) = mpsc::channel(1);
        let routes = Routes {
            events: self.events.clone(),
            health: health_tx,
            shutdown: shutdown_tx,
            host_id: self.host_id,
        };
        let mut background = std::mem::take(&mut self.store_watches.0);
        for (subscriber, lane) in [
            (self.control, Lane::Ordered),
            (self.health, Lane::Urgent),
            (self.shutdown, Lane::Urgent),
        ] {
            background.push(tokio::spawn(router::route(
                self.prefix.clone(),
                subscriber,
                routes.clone(),
                lane,
            )));
        }
        if let Some(subscriber) = self.sealed {
            background.push(tokio::spawn(router::route_sealed(subscriber, self.events)));
        }
        background.push(tokio::spawn(health::answer_health(
            provider,
            self.client,
            health_rx,
            health_timeout,
        )));
        let stop = CancellationToken::new();
        // The stores' watches hold the only senders of their stream.
        drop(self.store_events);
        let applier = tokio::spawn(applier.run(self.queued, self.store_queued, stop.clone()));
        RunningControl {
            applier,
            stop_applier: stop,
            background,
            shutdown_requests: shutdown_rx,
        }
    }
}

/// The control plane's running tasks.
pub(crate) struct RunningControl {
    applier: JoinHandle<()>,
    stop_applier: CancellationToken,
    background: Vec<JoinHandle<()>>,
    shutdown_requests: mpsc::Receiver<Option<async_nats::Subject>>,
}

impl RunningControl {
    /// The next shutdown request from the provider's host: its reply subject, if it wants an
    /// answer. Pending forever once the routers have stopped.
    pub(crate) async fn shutdown_requested(&mut self) -> Option<async_nats::Subject> {
        match self.shutdown_requests.recv().await {
            Some(reply) => reply,
            None => std::future::pending().await,
        }
    }

    /// Applies no more changes: a hook already running gets `grace` to finish, then is
    /// cancelled.
    pub(crate) async fn stop_changes(&mut self, grace: Duration) {
        self.stop_applier.cancel();
        if tokio::time::timeout(grace, &mut self.applier)
            .await
            .is_err()
        {
            tracing::warn!(
                ?grace,
                "a link hook still running at shutdown was cancelled"
            );
            self.applier.abort();
        }
    }

    /// Stops routing and answering.
    pub(crate) fn stop(&self) {
        for task in &self.background {
            task.abort();
        }
    }
}
