//! Watchers: components the provider links to (source links) that want `on-set` / `on-delete`
//! for some keys of one bucket.
//!
//! A source link from the provider to component `C` named `N`, with source config `bucket` (the
//! WIT bucket) and `watch` (comma-separated keys; an entry ending in `*` is a prefix), watches
//! the store of `C`'s own link `N` to the provider: changes made through the provider to that
//! store (over any link sharing it) reach `C`, in order, one call at a time. Changes made to the
//! backend behind the provider's back are not seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use provider_sdk::provider::{Link, LinkKey, ProviderHandle};
use provider_sdk::transport::Client;
use tokio::sync::mpsc;

use crate::bindings::wrpc::keyvalue::watcher;
use crate::error::{Error, Result};
use crate::store::Store;

/// Notifications queued per watcher before new ones are dropped (with a warning).
const QUEUE: usize = 1024;

/// A change to report.
#[derive(Debug)]
pub(crate) enum Change {
    Set(String, Bytes),
    Delete(String),
}

impl Change {
    fn key(&self) -> &str {
        match self {
            Change::Set(key, _) | Change::Delete(key) => key,
        }
    }
}

#[derive(Debug)]
struct Watcher {
    /// The link whose store is watched: the component's own link to the provider.
    target: LinkKey,
    bucket: String,
    keys: Vec<String>,
    prefixes: Vec<String>,
    queue: mpsc::Sender<Change>,
}

impl Watcher {
    fn wants(&self, bucket: &str, key: &str) -> bool {
        bucket == self.bucket
            && (self.keys.iter().any(|k| k == key)
                || self.prefixes.iter().any(|p| key.starts_with(p.as_str())))
    }
}

/// The watchers, by their source link.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    by_link: Mutex<HashMap<LinkKey, Watcher>>,
}

impl Watchers {
    /// Starts (or restarts, with new settings) the watcher a source link asks for; a source link
    /// without `watch` is not a watcher.
    pub(crate) fn put(&self, handle: &ProviderHandle, link: &Link) -> Result<()> {
        let config = link.config();
        let Some(watch) = config.get_str("watch") else {
            self.remove(link.key());
            return Ok(());
        };
        let bucket = config
            .get_str("bucket")
            .ok_or_else(|| Error::InvalidConfig {
                key: "bucket",
                value: String::new(),
                expected: "the WIT bucket to watch (source config, with `watch`)",
            })?;
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        for entry in watch.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_owned()),
                None => keys.push(entry.to_owned()),
            }
        }
        let client = handle.link_client(link).map_err(|error| {
            Error::Unsupported(format!("cannot call the watcher component: {error}"))
        })?;
        let (queue, changes) = mpsc::channel(QUEUE);
        tokio::spawn(deliver(client, bucket.to_owned(), changes));
        let watcher = Watcher {
            target: LinkKey::new(link.peer(), link.source_id(), link.name()),
            bucket: bucket.to_owned(),
            keys,
            prefixes,
            queue,
        };
        tracing::info!(link = %link.key(), bucket, watch, "watching");
        // Replacing a watcher drops its queue: its delivery task ends after what is queued.
        self.lock().insert(link.key().clone(), watcher);
        Ok(())
    }

    pub(crate) fn remove(&self, key: &LinkKey) {
        self.lock().remove(key);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// Reports `changes` to `bucket` of `store` to the watchers of that store that want them.
    /// `store_of` finds the store a watched link uses now.
    pub(crate) fn notify(
        &self,
        store: &Arc<Store>,
        bucket: &str,
        changes: impl IntoIterator<Item = Change>,
        store_of: impl Fn(&LinkKey) -> Option<Arc<Store>>,
    ) {
        let watchers = self.lock();
        if watchers.is_empty() {
            return;
        }
        let interested: Vec<&Watcher> = watchers
            .values()
            .filter(|w| w.bucket == bucket)
            .filter(|w| store_of(&w.target).is_some_and(|watched| watched.same(store)))
            .collect();
        if interested.is_empty() {
            return;
        }
        for change in changes {
            for watcher in interested.iter().filter(|w| w.wants(bucket, change.key())) {
                let change = match &change {
                    Change::Set(key, value) => Change::Set(key.clone(), value.clone()),
                    Change::Delete(key) => Change::Delete(key.clone()),
                };
                if watcher.queue.try_send(change).is_err() {
                    tracing::warn!(
                        link = %watcher.target,
                        "a watcher is {QUEUE} notifications behind; dropping one"
                    );
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LinkKey, Watcher>> {
        self.by_link.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Calls the watcher component for each change, in order, until the watcher is dropped.
async fn deliver(client: Client, bucket: String, mut changes: mpsc::Receiver<Change>) {
    while let Some(change) = changes.recv().await {
        let result = match &change {
            Change::Set(key, value) => watcher::on_set(&client, &bucket, key, value).await,
            Change::Delete(key) => watcher::on_delete(&client, &bucket, key).await,
        };
        if let Err(error) = result {
            tracing::warn!(%error, key = change.key(), "a watcher notification failed");
        }
    }
}
