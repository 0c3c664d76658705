//! The seam: what a store of named configuration is, and how its changes travel.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::provider::config::Secrets;

/// One named configuration: keys to values.
pub type Values = HashMap<String, String>;

/// A store's watch, running: the runtime polls it on a task of its own until the provider stops.
pub type Watching = BoxFuture<'static, ()>;

/// A place named configurations are kept.
///
/// The runtime calls [`get`](ConfigStore::get) for each name a provider or link refers to, once
/// at start, after [`watch`](ConfigStore::watch) is in place, and learns of every later change
/// from the watch. A read that fails at start fails the start (for the provider's own
/// configuration) or holds the link back until the store reports the name again; a change that
/// cannot be read is the store's to log, and the previous values stay in force.
pub trait ConfigStore: Send + Sync + fmt::Debug + 'static {
    /// What the store is, for logs and errors: `directory /etc/provider/config`.
    fn describe(&self) -> String;

    /// The configuration named `name`; `Ok(None)` if the store holds no such name.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Values>>>;

    /// Starts watching: resolves once the watch is in place, so that no change made after it
    /// resolves is missed, to the watch itself, which reports every change to `changes` (and
    /// may report a name whose values did not change: the runtime drops repeats). A store that
    /// never changes returns a watch that ends at once.
    fn watch(self: Arc<Self>, changes: StoreChanges) -> BoxFuture<'static, Result<Watching>>;
}

/// Where a store reports changes.
#[derive(Clone, Debug)]
pub struct StoreChanges {
    events: mpsc::Sender<StoreEvent>,
    store: usize,
}

impl StoreChanges {
    pub(crate) fn new(events: mpsc::Sender<StoreEvent>, store: usize) -> Self {
        Self { events, store }
    }

    /// `name` now holds `values` (`None`: it is gone). Waits while the provider is busy applying
    /// earlier changes; returns `false` once the provider has stopped, when the watch should end.
    pub async fn changed(&self, name: impl Into<String>, values: Option<Values>) -> bool {
        self.changed_together(vec![(name.into(), values)]).await
    }

    /// Several names changed in one update (one swap of a mount holding them all): the provider
    /// and each link that names any of them hear of it once.
    pub async fn changed_together(&self, changes: Vec<(String, Option<Values>)>) -> bool {
        let event = StoreEvent::Config {
            store: self.store,
            changes,
        };
        self.events.send(event).await.is_ok()
    }

    /// Whether the provider has stopped listening.
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}

/// A change in a store, on its way to the provider's hooks.
#[derive(Debug)]
pub(crate) enum StoreEvent {
    /// The configuration store at `store` (its place in the order) holds new values for these
    /// names (`None`: gone), changed together.
    Config {
        store: usize,
        changes: Vec<(String, Option<Values>)>,
    },
    /// These named secrets changed together.
    Secrets {
        changes: Vec<(String, Option<Secrets>)>,
    },
}

/// How many store changes may wait for the provider's hooks before a store's watch waits too.
pub(crate) const STORE_EVENT_QUEUE: usize = 1024;
