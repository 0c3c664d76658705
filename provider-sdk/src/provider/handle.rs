//! [`ProviderHandle`]: the running provider, for code outside the runtime's own tasks.

use std::fmt;
use std::sync::Arc;

use super::config::Config;
use super::link::{DEFAULT_LINK_NAME, LINK_NAME, Link, LinkKey, SOURCE_ID};
use super::state::State;
use crate::error::Result;
use crate::transport::{Client, Transport};

/// A handle to a running provider: its identity, links and configuration, a client for calling
/// components, and a way to ask it to stop. Cheap to clone.
#[derive(Clone)]
pub struct ProviderHandle {
    state: Arc<State>,
}

impl fmt::Debug for ProviderHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderHandle")
            .field("lattice", &self.lattice())
            .field("provider_id", &self.provider_id())
            .field("host_id", &self.host_id())
            .field("links", &self.state.link_count())
            .finish_non_exhaustive()
    }
}

impl ProviderHandle {
    pub(crate) fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        &self.state.identity.provider_id
    }

    /// The lattice.
    pub fn lattice(&self) -> &str {
        &self.state.identity.lattice
    }

    /// The id of the host that started the provider (empty when standalone without one).
    pub fn host_id(&self) -> &str {
        &self.state.identity.host_id
    }

    /// The provider's current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.state.config()
    }

    /// The links in effect.
    pub fn links(&self) -> Vec<Arc<Link>> {
        self.state.links()
    }

    /// The link under `key`, if it is in effect.
    pub fn link(&self, key: &LinkKey) -> Option<Arc<Link>> {
        self.state.link(key)
    }

    /// How many invocations were refused so far because their caller had no link to this
    /// provider (see [`RuntimeOptions::require_link`](super::RuntimeOptions::require_link)).
    pub fn refused_calls(&self) -> u64 {
        self.state.refusals()
    }

    /// A client for calling `component_id`: subject prefix `<lattice>.<component-id>`, headers
    /// `source-id` (this provider) and `target-id`, the host's default deadline if it gave one,
    /// and a trace context on every call (the current invocation's, or a new trace).
    pub fn component(&self, component_id: &str) -> Result<Client> {
        let client = self
            .state
            .transport
            .client(format!("{}.{component_id}", self.lattice()))
            .with_header(SOURCE_ID, self.provider_id())?
            .with_header("target-id", component_id)?
            .starting_traces();
        Ok(match self.state.default_timeout {
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
            client.with_header(LINK_NAME, link.name())
        }
    }

    /// The transport the provider serves and calls on.
    pub fn transport(&self) -> &Transport {
        &self.state.transport
    }

    /// Asks the provider to shut down, as a host's shutdown request would.
    pub fn shutdown(&self) {
        self.state.stop.cancel();
    }

    /// Whether shutdown has been asked for.
    pub fn is_stopping(&self) -> bool {
        self.state.stop.is_cancelled()
    }
}
