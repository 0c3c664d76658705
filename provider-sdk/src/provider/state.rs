//! The running provider's state: who it is, the links and configuration in effect, its
//! connection. One owner for each: the control plane writes links and configuration here and
//! nowhere else; invocations and handles read them here, under a lock held for a lookup, never
//! across an await.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config::Config;
use super::link::{Link, LinkKey};
use super::link_table::LinkTable;
use crate::transport::Transport;

/// Who the provider is.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) lattice: String,
    pub(crate) provider_id: String,
    pub(crate) host_id: String,
}

pub(crate) struct State {
    pub(crate) identity: Identity,
    pub(crate) transport: Transport,
    /// The host's deadline for calls to components, if it gave one.
    pub(crate) default_timeout: Option<Duration>,
    /// Cancelled when the provider is asked to stop.
    pub(crate) stop: CancellationToken,
    links: RwLock<LinkTable>,
    config: RwLock<Arc<Config>>,
    refused: AtomicU64,
}

impl State {
    pub(crate) fn new(
        identity: Identity,
        transport: Transport,
        default_timeout: Option<Duration>,
    ) -> Self {
        Self {
            identity,
            transport,
            default_timeout,
            stop: CancellationToken::new(),
            links: RwLock::new(LinkTable::new()),
            config: RwLock::new(Arc::new(Config::new())),
            refused: AtomicU64::new(0),
        }
    }

    /// The link from `source` under `name` whose target is this provider.
    pub(crate) fn target_link(&self, source: &str, name: &str) -> Option<Arc<Link>> {
        let key = LinkKey::new(source, self.identity.provider_id.as_str(), name);
        self.link(&key)
    }

    /// The link under `key`, if it is in effect.
    pub(crate) fn link(&self, key: &LinkKey) -> Option<Arc<Link>> {
        read(&self.links).get(key).cloned()
    }

    /// Every link in effect.
    pub(crate) fn links(&self) -> Vec<Arc<Link>> {
        read(&self.links).links().cloned().collect()
    }

    /// How many links are in effect.
    pub(crate) fn link_count(&self) -> usize {
        read(&self.links).len()
    }

    /// Runs `change` on the link table: only the control plane does, one change at a time.
    pub(crate) fn with_links<R>(&self, change: impl FnOnce(&mut LinkTable) -> R) -> R {
        change(&mut write(&self.links))
    }

    /// The provider's configuration in effect.
    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&read(&self.config))
    }

    pub(crate) fn set_config(&self, config: Config) {
        *write(&self.config) = Arc::new(config);
    }

    /// Counts an invocation refused for want of a link; returns the count so far.
    pub(crate) fn count_refusal(&self) -> u64 {
        self.refused.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Invocations refused for want of a link so far.
    pub(crate) fn refusals(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

// The locks guard plain maps and no code panics while holding them; should one ever have,
// what they guard is still consistent.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
