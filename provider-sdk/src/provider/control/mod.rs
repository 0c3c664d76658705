//! The control plane: everything a wasmCloud host (or, standalone, the named-configuration
//! bucket) tells a running provider.
//!
//! - [`ControlPlane::subscribe`] takes the host's subjects before anything else happens, so
//!   nothing published from then on is missed: the provider's control prefix (link copies,
//!   deletes, config updates, in the host's order), health and shutdown on subscriptions of
//!   their own, and the sealed link puts named after the provider's xkey.
//! - [`router`] turns those messages into one ordered stream of [`ControlEvent`]s, and sends
//!   health and shutdown requests to their own lanes, so a slow hook never delays them.
//! - [`apply`] applies the ordered stream through the provider's hooks, one change at a time;
//!   [`resolve`] merges named configuration; [`named_config`] reads and watches the bucket.
//! - [`health`] answers health requests on a task of its own.
//!
//! To add a control subject: name it in [`crate::wasmcloud`] (its subject function and
//! `ControlSubject`), route it in [`router`], and handle its event in [`apply`] (ordered) or on a
//! lane of its own (urgent).

mod apply;
mod health;
mod named_config;
mod resolve;
mod router;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use self::apply::Applier;
use self::named_config::NamedConfigs;
pub(crate) use self::resolve::Resolver;
use self::router::{ControlEvent, Lane, Routes};
use super::hooks::Provider;
use super::state::Identity;
use crate::error::Result;
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
    named_watch: Option<JoinHandle<()>>,
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
            named_watch: None,
        })
    }

    /// Opens the named-configuration bucket of `lattice` and watches it from before it is
    /// first read, so no change is missed. `None` when the bucket does not exist.
    pub(crate) async fn watch_named_configs(
        &mut self,
        lattice: &str,
    ) -> Result<Option<NamedConfigs>> {
        let Some(named) = NamedConfigs::open(self.client.clone(), lattice).await else {
            return Ok(None);
        };
        self.named_watch = Some(named.clone().watch(self.events.clone()).await?);
        Ok(Some(named))
    }

    /// Starts routing the host's messages: ordered changes to `applier`, health requests
    /// answered by `provider` within `health_timeout`, shutdown requests to the returned
    /// [`RunningControl`].
    pub(crate) fn start<P: Provider>(
        self,
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
        let mut background: Vec<JoinHandle<()>> = self.named_watch.into_iter().collect();
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
        let applier = tokio::spawn(applier.run(self.queued, stop.clone()));
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
