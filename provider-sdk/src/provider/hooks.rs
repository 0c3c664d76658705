//! What a provider is: the [`Provider`] trait, the hooks the runtime calls, and what
//! [`Provider::init`] learns.

use std::future::Future;
use std::sync::Arc;

use super::config::{Config, Secrets};
use super::handle::ProviderHandle;
use super::link::Link;
use crate::Result;
use crate::transport::{Server, Serving};
use crate::wasmcloud::Health;

/// What a provider hook returns: any error, which the runtime logs with the hook's name.
pub type HookResult = std::result::Result<(), HookError>;

/// An error from a provider hook.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// A capability provider: what it serves, and what it does when the lattice changes.
///
/// Only [`serve`](Provider::serve) is required. Hooks run one at a time, in the order the host
/// sent what caused them ([`health`](Provider::health) excepted: it runs on its own task, so a
/// slow hook never delays a health reply). A hook that fails is logged, and what it was told
/// about does not take effect: a link whose put hook failed is not a link (calls over it are
/// refused before any handler runs), and a failed update leaves the link as it was.
pub trait Provider: Send + Sync + Sized + 'static {
    /// Serves the provider's exports on `server`, usually by calling the `serve` function
    /// [`generate!`](crate::generate) made for the world. Called once, after
    /// [`init`](Provider::init) and after the links the host started the provider with are
    /// applied.
    fn serve(self: Arc<Self>, server: &Server) -> impl Future<Output = Result<Serving>> + Send;

    /// Called once, before anything else, with the provider's identity, configuration and
    /// secrets. An error stops the provider from starting.
    fn init(&self, init: &InitContext) -> impl Future<Output = HookResult> + Send {
        let _ = init;
        async { Ok(()) }
    }

    /// A component linked to this provider (the provider is the target: the component calls
    /// it), or such a link's configuration or secrets changed.
    fn link_put_as_target(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        let _ = link;
        async { Ok(()) }
    }

    /// This provider was linked to a component (the provider is the source: it calls the
    /// component), or such a link's configuration or secrets changed.
    fn link_put_as_source(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        let _ = link;
        async { Ok(()) }
    }

    /// A link to this provider was deleted. `link` is the link as it was, configuration and
    /// secrets included.
    fn link_deleted_as_target(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        let _ = link;
        async { Ok(()) }
    }

    /// A link from this provider was deleted. `link` is the link as it was.
    fn link_deleted_as_source(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        let _ = link;
        async { Ok(()) }
    }

    /// The provider's configuration changed; `config` is all of it, merged.
    fn config_updated(&self, config: &Config) -> impl Future<Output = HookResult> + Send {
        let _ = config;
        async { Ok(()) }
    }

    /// The provider's secrets changed (named secrets it refers to changed in their folder);
    /// `secrets` is all of them, merged. A link's changed secrets reach its put hook instead.
    fn secrets_updated(&self, secrets: &Secrets) -> impl Future<Output = HookResult> + Send {
        let _ = secrets;
        async { Ok(()) }
    }

    /// How the provider is. Runs concurrently with the other hooks; one that takes longer than
    /// [`RuntimeOptions::health_timeout`](super::RuntimeOptions::health_timeout) is answered as unhealthy.
    fn health(&self) -> impl Future<Output = Health> + Send {
        async { Health::healthy() }
    }

    /// The provider is stopping: invocations have drained (or their deadline passed). Close
    /// what needs closing; per-link state held in [`LinkResources`](super::LinkResources) closes when the provider is
    /// dropped, right after.
    fn shutdown(&self) -> impl Future<Output = HookResult> + Send {
        async { Ok(()) }
    }
}

/// A provider behind an [`Arc`] is the provider: the caller keeps a handle to its state (a
/// test asking how many links it holds, say) while the runtime runs it.
impl<P: Provider> Provider for Arc<P> {
    fn serve(self: Arc<Self>, server: &Server) -> impl Future<Output = Result<Serving>> + Send {
        P::serve(Arc::clone(&*self), server)
    }

    fn init(&self, init: &InitContext) -> impl Future<Output = HookResult> + Send {
        P::init(self, init)
    }

    fn link_put_as_target(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        P::link_put_as_target(self, link)
    }

    fn link_put_as_source(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        P::link_put_as_source(self, link)
    }

    fn link_deleted_as_target(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        P::link_deleted_as_target(self, link)
    }

    fn link_deleted_as_source(&self, link: &Link) -> impl Future<Output = HookResult> + Send {
        P::link_deleted_as_source(self, link)
    }

    fn config_updated(&self, config: &Config) -> impl Future<Output = HookResult> + Send {
        P::config_updated(self, config)
    }

    fn secrets_updated(&self, secrets: &Secrets) -> impl Future<Output = HookResult> + Send {
        P::secrets_updated(self, secrets)
    }

    fn health(&self) -> impl Future<Output = Health> + Send {
        P::health(self)
    }

    fn shutdown(&self) -> impl Future<Output = HookResult> + Send {
        P::shutdown(self)
    }
}

/// What [`Provider::init`] learns.
#[derive(Debug)]
pub struct InitContext {
    pub(crate) handle: ProviderHandle,
    pub(crate) config: Config,
    pub(crate) secrets: Secrets,
}

impl InitContext {
    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        self.handle.provider_id()
    }

    /// The lattice.
    pub fn lattice(&self) -> &str {
        self.handle.lattice()
    }

    /// The id of the host that started the provider (empty when standalone without one).
    pub fn host_id(&self) -> &str {
        self.handle.host_id()
    }

    /// The provider's configuration, merged.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The provider's secrets.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// A handle to the running provider, to keep: it calls components and asks for shutdown.
    pub fn handle(&self) -> &ProviderHandle {
        &self.handle
    }
}
