//! Starting a provider: [`run`] for `main`, [`start`] for tests and embedders.
//!
//! [`start`] is a short sequence of named steps; each room it calls owns its concern:
//!
//! 1. connect to NATS ([`super::connect`]) and subscribe the host's control subjects before
//!    anything else, so nothing is missed ([`super::control`]);
//! 2. [`configure`]: the stores named configuration and secrets are looked up in
//!    ([`super::stores`]), watched from before they are first read;
//! 3. [`initialize`]: the provider's configuration and secrets, [`Provider::init`], then the
//!    links it starts with, through their hooks;
//! 4. [`serve`]: the exports, behind the link check ([`super::policy`]);
//! 5. route control messages from then on, and stop when asked ([`super::shutdown`]).

use std::io::IsTerminal as _;
use std::sync::Arc;

use tracing::Instrument as _;

use super::control::{Applier, ControlPlane, ProviderRefs, Resolver};
use super::handle::ProviderHandle;
use super::hooks::{InitContext, Provider};
use super::options::RuntimeOptions;
use super::policy::LinkCheck;
use super::shutdown::{Running, stop_when_asked};
use super::startup::{InitialLink, Startup};
use super::state::{Identity, State};
use crate::error::{Error, Result};
use crate::telemetry::TelemetryConfig;
use crate::transport::{ServeOptions, Server, Serving, Transport};

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
    let startup = Startup::from_process(&options).await?;
    let (telemetry, warnings) = telemetry_config(&startup, &options)?;
    let exported_logs = match &telemetry {
        Some(config) => crate::telemetry::install(config, resource(&startup))?,
        None => None,
    };
    let unused_logs = if options.install_logging {
        install_logging(&startup, exported_logs)
    } else {
        exported_logs.is_some()
    };
    startup.log_source();
    if let Some(config) = &telemetry {
        crate::telemetry::announce(config);
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    if unused_logs {
        tracing::warn!(
            "logs are to be exported, but the runtime did not install logging (or another \
             subscriber was installed first): add provider_sdk::telemetry::install's layer to \
             your subscriber to export them"
        );
    }
    // Listening before anything starts: a SIGTERM that comes while the provider starts (or
    // just after) stops it cleanly instead of killing it.
    let stop = StopSignals::listen();
    let grace = options.shutdown_timeout;
    let running = start(provider, startup, options).await?;
    let handle = running.handle().clone();
    let signals = tokio::spawn(async move {
        let signal = stop.recv().await;
        tracing::info!(signal, "stopping");
        handle.shutdown();
    });
    let result = running.wait().await;
    signals.abort();
    // Flushed already before a host's request was answered; this stops the exporters.
    crate::telemetry::shutdown(grace.min(crate::telemetry::FLUSH_DEADLINE)).await;
    result
}

/// What to export over OpenTelemetry, as the host's `otel_config` or (standalone) the
/// `OTEL_*` variables say, and warnings about what they say. `service.name` is the provider's
/// name ([`RuntimeOptions::name`], else the executable's): under a host the executable is a
/// cached file named after the image, and `OTEL_SERVICE_NAME` is the host's own.
fn telemetry_config(
    startup: &Startup,
    options: &RuntimeOptions,
) -> Result<(Option<TelemetryConfig>, Vec<String>)> {
    let env = |name: &str| std::env::var(name).ok();
    let name = options
        .name
        .clone()
        .or_else(super::startup::program_name)
        .unwrap_or_else(|| startup.provider_id.clone());
    match &startup.otel_config {
        Some(otel_config) => TelemetryConfig::from_host(otel_config, &env, &name)
            .map_err(|reason| Error::Startup { reason }),
        None => Ok(TelemetryConfig::from_env(&env, &name)),
    }
}

/// What every span, metric and log record says about where it comes from.
fn resource(startup: &Startup) -> Vec<(&'static str, String)> {
    vec![
        ("service.instance.id", startup.instance_id.clone()),
        ("wasmcloud.provider.id", startup.provider_id.clone()),
        ("wasmcloud.lattice", startup.lattice.clone()),
        ("wasmcloud.host.id", startup.host_id.clone()),
    ]
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
    let running = start_steps(provider, startup, options)
        .instrument(span.clone())
        .await?;
    let handle = ProviderHandle::new(Arc::clone(&running.state));
    let task = tokio::spawn(stop_when_asked(running).instrument(span));
    Ok(RunningProvider { handle, task })
}

/// [`start`]'s steps, up to serving.
async fn start_steps<P: Provider>(
    provider: P,
    startup: Startup,
    options: RuntimeOptions,
) -> Result<Running<P>> {
    let lookups = startup.names_config();
    let names_secrets = startup.names_secrets();
    let Startup {
        lattice,
        provider_id,
        host_id,
        nats,
        config,
        config_names,
        secrets,
        secret_names,
        stores,
        custom_stores,
        links,
        keys,
        default_rpc_timeout,
        ..
    } = startup;
    let identity = Identity {
        lattice,
        provider_id,
        host_id,
    };
    let transport = Transport::nats_with_limits(nats.connect().await?, options.limits).await?;
    // The host's subjects first, so nothing it publishes from now on is missed.
    let mut control = ControlPlane::subscribe(&transport, &identity, keys.as_ref()).await?;
    let state = Arc::new(State::new(identity, transport, default_rpc_timeout));
    let provider = Arc::new(provider);

    let stores = Stores {
        args: stores,
        custom: custom_stores,
        lookups,
        names_secrets,
    };
    let refs = ProviderRefs {
        host_config: config,
        host_secrets: secrets,
        config_names,
        secret_names,
    };
    let resolver = configure(&mut control, &state, stores, refs).await?;
    let mut applier = Applier::new(Arc::clone(&provider), Arc::clone(&state), keys, resolver);
    initialize(&provider, &state, &mut applier, links).await?;
    let (server, serving) = serve(&provider, &state, &options).await?;
    let control = control.start(applier, Arc::clone(&provider), options.health_timeout);
    Ok(Running {
        provider,
        state,
        server,
        serving,
        control,
        grace: options.shutdown_timeout,
    })
}

/// What [`configure`] opens.
struct Stores {
    args: super::stores::StoreArgs,
    custom: Vec<Arc<dyn super::stores::ConfigStore>>,
    /// Whether anything names a configuration (otherwise no store is opened).
    lookups: bool,
    /// Whether anything names secrets (then a secrets folder is required).
    names_secrets: bool,
}

/// How named configuration and secrets are resolved: the stores are opened and watched from
/// before they are first read, so no change is missed.
async fn configure(
    control: &mut ControlPlane,
    state: &State,
    stores: Stores,
    refs: ProviderRefs,
) -> Result<Resolver> {
    let nats = state.transport.nats_client().ok_or(Error::Closed)?;
    // Stores nothing names are not opened, nor watched; the flags are checked all the same.
    stores.args.order()?;
    let secrets = if stores.names_secrets {
        Some(stores.args.open_secrets()?)
    } else {
        None
    };
    let stores = if stores.lookups {
        let lattice = &state.identity.lattice;
        stores.args.open(nats, lattice, stores.custom).await?
    } else {
        Vec::new()
    };
    control.watch_stores(&stores, secrets.as_ref()).await?;
    if !stores.is_empty() || secrets.is_some() {
        let described: Vec<String> = stores.iter().map(|store| store.describe()).collect();
        tracing::info!(
            config_stores = %described.join(", "),
            secrets_dir = ?secrets.as_ref().map(|dir| dir.dir().display().to_string()),
            "named configuration and secrets: watching"
        );
    }
    Ok(Resolver::new(stores, secrets, refs))
}

/// The provider's own start: its configuration and secrets resolved and put in effect,
/// [`Provider::init`], then the links it starts with, each through its hook.
async fn initialize<P: Provider>(
    provider: &Arc<P>,
    state: &Arc<State>,
    applier: &mut Applier<P>,
    links: Vec<InitialLink>,
) -> Result<()> {
    let (config, secrets) = applier.resolve_provider().await?;
    let init = InitContext {
        handle: ProviderHandle::new(Arc::clone(state)),
        config,
        secrets,
    };
    provider.init(&init).await.map_err(|source| Error::Hook {
        hook: "init",
        source,
    })?;
    for link in links {
        applier.apply_initial(link).await;
    }
    Ok(())
}

/// Serves the provider's exports, behind the link check.
async fn serve<P: Provider>(
    provider: &Arc<P>,
    state: &Arc<State>,
    options: &RuntimeOptions,
) -> Result<(Server, Serving)> {
    let server = state.transport.server(serve_options(state, options));
    let serving = Arc::clone(provider).serve(&server).await?;
    tracing::info!(functions = serving.subjects().len(), "serving");
    Ok((server, serving))
}

/// The server's settings: `<lattice>.<provider-id>`, queue group the same, bounded, behind the
/// link check, with the state every invocation's [`Context`](super::Context) reads.
fn serve_options(state: &Arc<State>, options: &RuntimeOptions) -> ServeOptions {
    let Identity {
        lattice,
        provider_id,
        ..
    } = &state.identity;
    ServeOptions::new(format!("{lattice}.{provider_id}"))
        .max_concurrency(options.max_concurrency)
        .timeout(options.invocation_timeout)
        .params_timeout(options.params_timeout)
        .admission(Arc::new(LinkCheck::new(
            Arc::clone(state),
            options.require_link,
        )))
        .with_state(Arc::clone(state))
}

/// SIGTERM and Ctrl-C (SIGINT), listened for from the moment this is made: a signal that comes
/// before [`StopSignals::recv`] is polled is kept, not left to kill the process.
struct StopSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(signal) => Some(signal),
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for {name}; it will not stop the provider cleanly");
                    None
                }
            };
            Self {
                terminate: listen(SignalKind::terminate(), "SIGTERM"),
                interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves on the first signal, with its name.
    async fn recv(self) -> &'static str {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = next(self.terminate) => "SIGTERM",
                () = next(self.interrupt) => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Logs to stderr at the host's level (or `RUST_LOG`), as JSON lines if the host asks, in
/// colour only when stderr is a terminal; and to `exported`, when logs are exported over
/// OpenTelemetry, at the same level. Returns whether `exported` went unused (another
/// subscriber was there first).
fn install_logging(startup: &Startup, exported: Option<crate::telemetry::LogLayer>) -> bool {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{EnvFilter, Layer as _};

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(startup.log_level.as_deref().unwrap_or("info")));
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let stderr = if startup.log_json {
        stderr.json().boxed()
    } else {
        stderr.boxed()
    };
    // Fails only if the application installed a subscriber already, which then wins.
    let exporting = exported.is_some();
    let installed = tracing_subscriber::registry()
        .with(exported)
        .with(stderr)
        .with(filter)
        .try_init()
        .is_ok();
    exporting && !installed
}
