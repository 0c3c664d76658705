//! Starting, running and stopping a provider.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::config::Config;
use super::context::{DEFAULT_LINK_NAME, SOURCE_ID};
use super::control::{self, ControlEvent, Lane, Routes};
use super::host_data::Health;
use super::lifecycle::Lifecycle;
use super::link::{Link, LinkKey};
use super::named_config::NamedConfigs;
use super::startup::Startup;
use super::{InitContext, Provider};
use crate::channel::Limits;
use crate::error::{Error, Result};
use crate::transport::{Client, ServeOptions, Transport};

/// Settings of the runtime, chosen in code.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeOptions {
    /// The most invocations handled at once.
    pub max_concurrency: usize,
    /// How long one invocation may take.
    pub invocation_timeout: Duration,
    /// How long shutdown waits for invocations in flight (and for a link hook that is running)
    /// before it cancels them.
    pub shutdown_timeout: Duration,
    /// How long a health check may take before it is answered as unhealthy.
    pub health_timeout: Duration,
    /// Limits on what invocations may buffer.
    pub limits: Limits,
    /// Whether [`run`] installs a `tracing` subscriber that logs to stderr (when none is
    /// installed yet), at the host's log level or `RUST_LOG`.
    pub install_logging: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            max_concurrency: ServeOptions::DEFAULT_MAX_CONCURRENCY,
            invocation_timeout: ServeOptions::DEFAULT_TIMEOUT,
            shutdown_timeout: Duration::from_secs(10),
            health_timeout: Duration::from_secs(5),
            limits: Limits::default(),
            install_logging: true,
        }
    }
}

impl RuntimeOptions {
    /// Sets [`RuntimeOptions::max_concurrency`].
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.max(1);
        self
    }

    /// Sets [`RuntimeOptions::invocation_timeout`].
    pub fn invocation_timeout(mut self, timeout: Duration) -> Self {
        self.invocation_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::shutdown_timeout`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::health_timeout`].
    pub fn health_timeout(mut self, timeout: Duration) -> Self {
        self.health_timeout = timeout;
        self
    }
}

/// What the runtime's parts share: identity, the live links and configuration, the connection.
pub(crate) struct Shared {
    pub(crate) lattice: String,
    pub(crate) provider_id: String,
    pub(crate) host_id: String,
    links: RwLock<HashMap<LinkKey, Arc<Link>>>,
    config: RwLock<Arc<Config>>,
    pub(crate) transport: Transport,
    stop: CancellationToken,
    default_timeout: Option<Duration>,
}

impl Shared {
    /// The link from `source` under `name` whose target is this provider.
    pub(crate) fn target_link(&self, source: &str, name: &str) -> Option<Arc<Link>> {
        let key = LinkKey::new(source, self.provider_id.as_str(), name);
        read(&self.links).get(&key).cloned()
    }

    pub(crate) fn set_link(&self, link: Arc<Link>) {
        write(&self.links).insert(link.key().clone(), link);
    }

    pub(crate) fn remove_link(&self, key: &LinkKey) {
        write(&self.links).remove(key);
    }

    pub(crate) fn set_config(&self, config: Config) {
        *write(&self.config) = Arc::new(config);
    }

    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&read(&self.config))
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A handle to a running provider: its identity, links and configuration, a client for calling
/// components, and a way to ask it to stop. Cheap to clone.
#[derive(Clone)]
pub struct ProviderHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ProviderHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderHandle")
            .field("lattice", &self.shared.lattice)
            .field("provider_id", &self.shared.provider_id)
            .field("host_id", &self.shared.host_id)
            .field("links", &read(&self.shared.links).len())
            .finish_non_exhaustive()
    }
}

impl ProviderHandle {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        &self.shared.provider_id
    }

    /// The lattice.
    pub fn lattice(&self) -> &str {
        &self.shared.lattice
    }

    /// The id of the host that started the provider (empty when standalone without one).
    pub fn host_id(&self) -> &str {
        &self.shared.host_id
    }

    /// The provider's current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.shared.config()
    }

    /// The links in effect.
    pub fn links(&self) -> Vec<Arc<Link>> {
        read(&self.shared.links).values().cloned().collect()
    }

    /// The link under `key`, if it is in effect.
    pub fn link(&self, key: &LinkKey) -> Option<Arc<Link>> {
        read(&self.shared.links).get(key).cloned()
    }

    /// A client for calling `component_id`: subject prefix `<lattice>.<component-id>`, headers
    /// `source-id` (this provider) and `target-id`, the host's default deadline if it gave one,
    /// and a trace context on every call (the current invocation's, or a new trace).
    pub fn component(&self, component_id: &str) -> Result<Client> {
        let client = self
            .shared
            .transport
            .client(format!("{}.{component_id}", self.shared.lattice))
            .with_header(SOURCE_ID, &self.shared.provider_id)?
            .with_header("target-id", component_id)?
            .starting_traces();
        Ok(match self.shared.default_timeout {
            Some(timeout) => client.with_timeout(timeout),
            None => client,
        })
    }

    /// Like [`ProviderHandle::component`], for the component at the other end of `link`, with
    /// the link's name in a `link-name` header when it is not `default`.
    pub fn link_client(&self, link: &Link) -> Result<Client> {
        let client = self.component(link.peer())?;
        if link.name() == DEFAULT_LINK_NAME {
            Ok(client)
        } else {
            client.with_header(super::context::LINK_NAME, link.name())
        }
    }

    /// The transport the provider serves and calls on.
    pub fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    /// Asks the provider to shut down, as a host's shutdown request would.
    pub fn shutdown(&self) {
        self.shared.stop.cancel();
    }

    /// Whether shutdown has been asked for.
    pub fn is_stopping(&self) -> bool {
        self.shared.stop.is_cancelled()
    }
}

/// A provider started with [`start`]: wait for it to stop, or stop it.
#[derive(Debug)]
pub struct RunningProvider {
    handle: ProviderHandle,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl RunningProvider {
    /// The provider's handle.
    pub fn handle(&self) -> &ProviderHandle {
        &self.handle
    }

    /// Waits until the provider has stopped (a host's request, [`ProviderHandle::shutdown`]),
    /// and how that went.
    pub async fn wait(self) -> Result<()> {
        self.task.await.unwrap_or_else(|error| {
            Err(Error::Startup {
                reason: format!("the provider's task failed: {error}"),
            })
        })
    }

    /// Shuts the provider down and waits until it has.
    pub async fn shutdown(self) -> Result<()> {
        self.handle.shutdown();
        self.wait().await
    }
}

/// Runs `provider` until it is told to stop: started by a wasmCloud host (`HostData` on stdin)
/// or standalone (flags and environment, see [`StandaloneArgs`](super::StandaloneArgs)); stops
/// on a host's shutdown request, SIGTERM or Ctrl-C, after draining invocations in flight.
/// Returns `Ok(())` after a clean shutdown.
pub async fn run<P: Provider>(provider: P) -> Result<()> {
    run_with(provider, RuntimeOptions::default()).await
}

/// Like [`run`], with options.
pub async fn run_with<P: Provider>(provider: P, options: RuntimeOptions) -> Result<()> {
    let startup = Startup::from_process().await?;
    if options.install_logging {
        install_logging(&startup);
    }
    let running = start(provider, startup, options).await?;
    let handle = running.handle().clone();
    let signals = tokio::spawn(async move {
        let signal = stop_signal().await;
        tracing::info!(signal, "stopping");
        handle.shutdown();
    });
    let result = running.wait().await;
    signals.abort();
    result
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C still stops");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

fn install_logging(startup: &Startup) {
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(startup.log_level.as_deref().unwrap_or("info")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Fails only if the application installed a subscriber already, which then wins.
    let _ = if startup.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Starts `provider`: connects, initializes it, applies the links it starts with, serves its
/// exports, and follows the host from then on. Returns once it serves, or the first error.
pub async fn start<P: Provider>(
    provider: P,
    startup: Startup,
    options: RuntimeOptions,
) -> Result<RunningProvider> {
    let span = tracing::info_span!(
        "provider",
        provider_id = %startup.provider_id,
        lattice = %startup.lattice
    );
    start_in(provider, startup, options, span.clone())
        .instrument(span)
        .await
}

/// [`start`], in `span`, which the provider's stopping task keeps.
async fn start_in<P: Provider>(
    provider: P,
    startup: Startup,
    options: RuntimeOptions,
    span: tracing::Span,
) -> Result<RunningProvider> {
    let Startup {
        lattice,
        provider_id,
        host_id,
        nats,
        config,
        config_names,
        secrets,
        links,
        keys,
        default_rpc_timeout,
        standalone,
        ..
    } = startup;
    let client = nats.connect().await?;
    let transport = Transport::nats_with_limits(client.clone(), options.limits).await?;

    // Control subjects first, so nothing the host publishes from now on is missed.
    let prefix = control::control_prefix(&lattice, &provider_id);
    let control_subscriber = transport
        .subscribe_confirmed(&format!("{prefix}.>"), None)
        .await?;
    // Health and shutdown on subscriptions of their own, never queued behind link changes.
    let health_subscriber = transport
        .subscribe_confirmed(&control::health_subject(&lattice, &provider_id), None)
        .await?;
    let shutdown_subscriber = transport
        .subscribe_confirmed(&control::shutdown_subject(&lattice, &provider_id), None)
        .await?;
    let sealed_subscriber = match &keys {
        Some(keys) => Some(
            transport
                .subscribe_confirmed(
                    &control::sealed_link_put_subject(&lattice, &keys.provider_public()),
                    None,
                )
                .await?,
        ),
        None => None,
    };
    let (events_tx, events_rx) = mpsc::channel::<ControlEvent>(4096);
    let (health_tx, health_rx) = mpsc::channel(16);
    let (shutdown_tx, mut shutdown_rx) = mpsc::channel(1);

    let shared = Arc::new(Shared {
        lattice: lattice.clone(),
        provider_id: provider_id.clone(),
        host_id: host_id.clone(),
        links: RwLock::new(HashMap::new()),
        config: RwLock::new(Arc::new(Config::new())),
        transport: transport.clone(),
        stop: CancellationToken::new(),
        default_timeout: default_rpc_timeout,
    });
    let handle = ProviderHandle {
        shared: Arc::clone(&shared),
    };
    let provider = Arc::new(provider);

    // Standalone: named configuration from the bucket, watched from before it is first read.
    let mut background = Vec::new();
    let named = if standalone {
        match NamedConfigs::open(client.clone(), &lattice).await {
            Some(named) => {
                background.push(named.clone().watch(events_tx.clone()).await?);
                Some(named)
            }
            None => None,
        }
    } else {
        None
    };
    let mut lifecycle = Lifecycle::new(
        Arc::clone(&provider),
        Arc::clone(&shared),
        keys,
        named,
        config_names,
        config,
    );
    let config = lifecycle.resolve_provider_config().await;
    shared.set_config(config.clone());

    let init = InitContext {
        handle: handle.clone(),
        config,
        secrets,
    };
    provider.init(&init).await.map_err(|source| Error::Hook {
        hook: "init",
        source,
    })?;
    for link in links {
        lifecycle.apply_initial(link).await;
    }

    let server = transport.server(
        ServeOptions::new(format!("{lattice}.{provider_id}"))
            .max_concurrency(options.max_concurrency)
            .timeout(options.invocation_timeout)
            .with_state(Arc::clone(&shared)),
    );
    let serving = Arc::clone(&provider).serve(&server).await?;
    tracing::info!(functions = serving.subjects().len(), "serving");

    let routes = Routes {
        events: events_tx.clone(),
        health: health_tx,
        shutdown: shutdown_tx,
        host_id: host_id.clone(),
    };
    for (subscriber, lane) in [
        (control_subscriber, Lane::Ordered),
        (health_subscriber, Lane::Urgent),
        (shutdown_subscriber, Lane::Urgent),
    ] {
        background.push(tokio::spawn(control::route(
            prefix.clone(),
            subscriber,
            routes.clone(),
            lane,
        )));
    }
    if let Some(subscriber) = sealed_subscriber {
        background.push(tokio::spawn(control::route_sealed(subscriber, events_tx)));
    }
    background.push(tokio::spawn(answer_health(
        Arc::clone(&provider),
        transport.clone(),
        health_rx,
        options.health_timeout,
    )));
    let lifecycle_stop = CancellationToken::new();
    let mut lifecycle_task = tokio::spawn(lifecycle.run(events_rx, lifecycle_stop.clone()));

    let stop = shared.stop.clone();
    let grace = options.shutdown_timeout;
    let task = tokio::spawn(
        async move {
            let reply = tokio::select! {
                () = stop.cancelled() => None,
                Some(request) = shutdown_rx.recv() => {
                    tracing::info!("the host asked the provider to shut down");
                    stop.cancel();
                    request
                }
            };
            // At once: no new invocations, no more link changes. In-flight invocations and a
            // running link hook get the grace period, together.
            lifecycle_stop.cancel();
            let hook = async {
                if tokio::time::timeout(grace, &mut lifecycle_task)
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        ?grace,
                        "a link hook still running at shutdown was cancelled"
                    );
                    lifecycle_task.abort();
                }
            };
            let (drained, ()) = tokio::join!(server.shutdown(grace), hook);
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
            for task in &background {
                task.abort();
            }
            if let Some(reply) = reply
                && let Err(error) = client.publish(reply, "shutting down".into()).await
            {
                tracing::warn!(%error, "could not answer the host's shutdown request");
            }
            if let Err(error) = client.flush().await {
                tracing::debug!(%error, "flushing NATS at shutdown failed");
            }
            tracing::info!("stopped");
            Ok(())
        }
        .instrument(span),
    );
    Ok(RunningProvider { handle, task })
}

/// Answers health requests, one at a time, never waiting for link hooks.
async fn answer_health<P: Provider>(
    provider: Arc<P>,
    transport: Transport,
    mut requests: mpsc::Receiver<async_nats::Subject>,
    timeout: Duration,
) {
    let Some(client) = transport.nats_client().cloned() else {
        return;
    };
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
