//! Starting a provider: [`run`] for `main`, [`start`] for tests and embedders.
//!
//! [`start`] is a short sequence of named steps; each room it calls owns its concern:
//!
//! 1. connect to NATS ([`super::connect`]) and subscribe the host's control subjects before
//!    anything else, so nothing is missed ([`super::control`]);
//! 2. [`configure`]: how named configuration is resolved;
//! 3. [`initialize`]: the provider's configuration, [`Provider::init`], then the links it
//!    starts with, through their hooks;
//! 4. [`serve`]: the exports, behind the link check ([`super::policy`]);
//! 5. route control messages from then on, and stop when asked ([`super::shutdown`]).

use std::io::IsTerminal as _;
use std::sync::Arc;

use tracing::Instrument as _;

use super::config::{Config, Secrets};
use super::control::{Applier, ControlPlane, Resolver};
use super::handle::ProviderHandle;
use super::hooks::{InitContext, Provider};
use super::options::RuntimeOptions;
use super::policy::LinkCheck;
use super::shutdown::{Running, stop_when_asked};
use super::startup::{InitialLink, Startup, StartupSource};
use super::state::{Identity, State};
use crate::error::{Error, Result};
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
    if options.install_logging {
        install_logging(&startup);
    }
    startup.log_source();
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
        source,
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

    let standalone = matches!(source, StartupSource::Standalone { .. });
    let needs_bucket =
        standalone && (!config_names.is_empty() || links.iter().any(InitialLink::names_config));
    let resolver = configure(&mut control, &state, needs_bucket, config_names, config).await?;
    let mut applier = Applier::new(Arc::clone(&provider), Arc::clone(&state), keys, resolver);
    initialize(&provider, &state, &mut applier, secrets, links).await?;
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

/// How the provider's configuration is resolved. Standalone, named configurations come from
/// the lattice's bucket, looked up only if a name needs it (`needs_bucket`), and watched from
/// before it is first read.
async fn configure(
    control: &mut ControlPlane,
    state: &State,
    needs_bucket: bool,
    config_names: Vec<String>,
    host_config: Config,
) -> Result<Resolver> {
    let named = if needs_bucket {
        control.watch_named_configs(&state.identity.lattice).await?
    } else {
        None
    };
    Ok(Resolver::new(named, config_names, host_config))
}

/// The provider's own start: its configuration resolved and put in effect, [`Provider::init`],
/// then the links it starts with, each through its hook.
async fn initialize<P: Provider>(
    provider: &Arc<P>,
    state: &Arc<State>,
    applier: &mut Applier<P>,
    secrets: Secrets,
    links: Vec<InitialLink>,
) -> Result<()> {
    let init = InitContext {
        handle: ProviderHandle::new(Arc::clone(state)),
        config: applier.resolve_provider_config().await,
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
        .admission(Arc::new(LinkCheck::new(
            Arc::clone(state),
            options.require_link,
        )))
        .with_state(Arc::clone(state))
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

/// Logs to stderr at the host's level (or `RUST_LOG`), as JSON lines if the host asks, in
/// colour only when stderr is a terminal.
fn install_logging(startup: &Startup) {
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(startup.log_level.as_deref().unwrap_or("info")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // Fails only if the application installed a subscriber already, which then wins.
    let _ = if startup.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
