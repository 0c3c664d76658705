//! What a handler learns about the invocation it serves.

use std::fmt;
use std::sync::Arc;

use super::config::{Config, Secrets};
use super::handle::ProviderHandle;
use super::link::{DEFAULT_LINK_NAME, LINK_NAME, Link, LinkKey, SOURCE_ID};
use super::state::State;
use crate::HeaderMap;
use crate::trace::TraceContext;
use crate::transport::{FromInvocation, InvocationContext};

/// The context of one invocation served by the provider runtime: who called, over which link,
/// with which configuration. Use it as the `Ctx` of the handlers [`generate!`](crate::generate)
/// makes.
///
/// A call carries only `source-id` and `link-name`, so the link is found by (calling
/// component, link name) among the links whose target is this provider: two links from one
/// component under the same name but for different interfaces are one link here. The runtime
/// refuses calls that come over no link before their handler runs (unless
/// [`RuntimeOptions::require_link`](super::RuntimeOptions::require_link) is off), so a handler
/// served by it always finds [`Context::link`]; without one, [`Context::config`] is empty.
#[derive(Clone)]
pub struct Context {
    invocation: InvocationContext,
    /// The link name, when made for a link ([`Context::with_link`]); otherwise the call's
    /// `link-name` header says it.
    link_name: Option<Arc<str>>,
    link: Option<Arc<Link>>,
    handle: Option<ProviderHandle>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("subject", &self.invocation.subject())
            .field("source_id", &self.source_id())
            .field("link_name", &self.link_name())
            .field("linked", &self.link.is_some())
            .finish_non_exhaustive()
    }
}

impl FromInvocation for Context {
    fn from_invocation(invocation: InvocationContext) -> Self {
        let handle = invocation.state::<State>().map(ProviderHandle::new);
        // The runtime's link check found the link before the handler was called.
        let link = invocation.admitted::<Link>();
        Self {
            invocation,
            link_name: None,
            link,
            handle,
        }
    }
}

impl Context {
    /// The context the runtime makes for `invocation` over `link`: for unit tests of handlers,
    /// which can then run without a lattice.
    pub fn with_link(invocation: InvocationContext, link: Link) -> Self {
        let link_name = Some(Arc::from(link.name()));
        Self {
            invocation,
            link_name,
            link: Some(Arc::new(link)),
            handle: None,
        }
    }

    /// The calling component (the `source-id` header), if the call said.
    pub fn source_id(&self) -> Option<&str> {
        self.invocation.known_header(SOURCE_ID)
    }

    /// The link name the call was made over (`default` if it named none).
    pub fn link_name(&self) -> &str {
        match &self.link_name {
            Some(name) => name,
            None => self
                .invocation
                .known_header(LINK_NAME)
                .filter(|name| !name.is_empty())
                .unwrap_or(DEFAULT_LINK_NAME),
        }
    }

    /// The key of the link the call was made over, whether or not such a link exists.
    pub fn link_key(&self) -> Option<LinkKey> {
        let handle = self.handle.as_ref()?;
        Some(LinkKey::new(
            self.source_id()?,
            handle.provider_id(),
            self.link_name(),
        ))
    }

    /// The link the call was made over, if there is one.
    pub fn link(&self) -> Option<&Link> {
        self.link.as_deref()
    }

    /// The link's configuration for this provider (empty without a link).
    pub fn config(&self) -> &Config {
        static EMPTY: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
        match &self.link {
            Some(link) => link.config(),
            None => EMPTY.get_or_init(Config::new),
        }
    }

    /// The link's secrets for this provider (none without a link).
    pub fn secrets(&self) -> &Secrets {
        static EMPTY: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
        match &self.link {
            Some(link) => link.secrets(),
            None => EMPTY.get_or_init(Secrets::new),
        }
    }

    /// One header of the invocation.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.invocation.header(name)
    }

    /// The invocation's headers.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.invocation.headers()
    }

    /// The caller's trace context, if it sent one.
    pub fn trace(&self) -> Option<TraceContext> {
        self.invocation
            .headers()
            .and_then(TraceContext::from_headers)
    }

    /// The invocation's subject and headers.
    pub fn invocation(&self) -> &InvocationContext {
        &self.invocation
    }

    /// The running provider (absent when the handler is served outside the runtime).
    pub fn provider(&self) -> Option<&ProviderHandle> {
        self.handle.as_ref()
    }
}
