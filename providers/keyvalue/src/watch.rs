//! Watchers: components the provider links to (source links) that want `on-set` / `on-delete`
//! for some keys of one bucket.
//!
//! A source link from the provider to component `C` named `N`, with source config `bucket` (the
//! WIT bucket) and `watch` (comma-separated keys; an entry ending in `*` is a prefix), watches
//! the store of `C`'s own link `N` to the provider, through the backend's own change feed: the
//! memory store's broadcast, Redis keyspace notifications, a JetStream KV watch. So changes made
//! by anyone to that store reach `C`, not only those made through the provider.
//!
//! Each watcher is two tasks: one follows the change feed of the watched link's current store
//! (re-attaching when the link gets another store, and after backend failures, with backoff)
//! and queues the changes `C` wants; the other calls `C` for each, in order, one at a time.
//! A change is reported from one feed only: a watcher stops following a store before it opens
//! the feed of the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use provider_sdk::provider::{Link, LinkKey, ProviderHandle};
use provider_sdk::transport::Client;
use tokio::sync::mpsc;

use crate::bindings::wrpc::keyvalue::watcher;
use crate::error::{Error, Result};
use crate::store::{Change, Changes, Filter, Store};

/// Notifications queued per watcher before new ones are dropped (with a warning).
const QUEUE: usize = 1024;
/// How long a link hook waits for a change feed to open before leaving it to the background.
const ATTACH_WAIT: Duration = Duration::from_secs(2);
/// How long the background waits for a change feed to open (the backend's own timeouts apply
/// within it).
const OPEN_WAIT: Duration = Duration::from_secs(60);
/// The first and the longest wait before opening a failed change feed again.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// A feed that failed after running this long is reopened at once; one that failed sooner
/// backs off further.
const STEADY: Duration = Duration::from_secs(10);

/// What a watcher follows: the watched link's store now (none: the link is gone) and, if it
/// could be opened at once, its change feed.
struct Attach {
    store: Option<Arc<Store>>,
    changes: Option<Changes>,
}

#[derive(Debug)]
struct Watcher {
    /// The link whose store is watched: the component's own link to the provider.
    target: LinkKey,
    bucket: String,
    filter: Arc<Filter>,
    attach: mpsc::UnboundedSender<Attach>,
    /// The task following the change feed.
    follow: tokio::task::AbortHandle,
    /// The task calling the component.
    deliver: tokio::task::AbortHandle,
}

/// A watcher that is gone (link deleted or replaced) stops at once, queue and all.
impl Drop for Watcher {
    fn drop(&mut self) {
        self.follow.abort();
        self.deliver.abort();
    }
}

/// Change feeds opened on a link's next store before calls can reach it, so that no change
/// made through the new store goes unreported: [`Pending::attach`] hands them over.
#[must_use = "the watchers follow no store until attached"]
pub(crate) struct Pending {
    feeds: Vec<(mpsc::UnboundedSender<Attach>, Option<Changes>)>,
}

impl Pending {
    /// The feeds' store is now the link's.
    pub(crate) fn attach(self, store: &Arc<Store>) {
        for (attach, changes) in self.feeds {
            let _ = attach.send(Attach {
                store: Some(Arc::clone(store)),
                changes,
            });
        }
    }
}

/// The watchers, by their source link.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    by_link: Mutex<HashMap<LinkKey, Watcher>>,
}

impl Watchers {
    /// Starts (or restarts, with new settings) the watcher a source link asks for; a source link
    /// without `watch` is not a watcher. `store` is the watched link's store, if it has one yet.
    pub(crate) async fn put(
        &self,
        handle: &ProviderHandle,
        link: &Link,
        store: impl FnOnce(&LinkKey) -> Option<Arc<Store>>,
    ) -> Result<()> {
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
            })?
            .to_owned();
        let client = handle.link_client(link).map_err(|error| {
            Error::Unsupported(format!("cannot call the watcher component: {error}"))
        })?;
        // The watcher this one replaces stops first.
        self.remove(link.key());
        let target = LinkKey::new(link.peer(), link.source_id(), link.name());
        let filter = Arc::new(Filter::parse(watch));
        let store = store(&target);
        let changes = match &store {
            Some(store) => open(store, &bucket, &filter, &target, ATTACH_WAIT).await,
            None => None,
        };
        let (queue, queued) = mpsc::channel(QUEUE);
        let (attach, attachments) = mpsc::unbounded_channel();
        let _ = attach.send(Attach { store, changes });
        let deliver = tokio::spawn(deliver(client, bucket.clone(), queued)).abort_handle();
        let follow = tokio::spawn(follow(
            target.clone(),
            bucket.clone(),
            Arc::clone(&filter),
            attachments,
            queue,
        ))
        .abort_handle();
        tracing::info!(link = %link.key(), watched = %target, bucket, watch, "watching");
        self.lock().insert(
            link.key().clone(),
            Watcher {
                target,
                bucket,
                filter,
                attach,
                follow,
                deliver,
            },
        );
        Ok(())
    }

    pub(crate) fn remove(&self, key: &LinkKey) {
        self.lock().remove(key);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The link `target` is about to get `store`: its watchers stop following the old one and
    /// open `store`'s feeds, to be attached once the link has it.
    pub(crate) async fn prepare(&self, target: &LinkKey, store: &Store) -> Pending {
        let watching = self.stop_following(target);
        let opening = watching
            .into_iter()
            .map(|(bucket, filter, attach)| async move {
                let changes = open(store, &bucket, &filter, target, ATTACH_WAIT).await;
                (attach, changes)
            });
        Pending {
            feeds: futures::future::join_all(opening).await,
        }
    }

    /// The link `target` has no store any more (it was deleted): its watchers wait for the
    /// next.
    pub(crate) fn detach(&self, target: &LinkKey) {
        self.stop_following(target);
    }

    /// Tells `target`'s watchers to stop following its store; returns what each watches.
    fn stop_following(
        &self,
        target: &LinkKey,
    ) -> Vec<(String, Arc<Filter>, mpsc::UnboundedSender<Attach>)> {
        let watching: Vec<_> = self
            .lock()
            .values()
            .filter(|watcher| &watcher.target == target)
            .map(|watcher| {
                (
                    watcher.bucket.clone(),
                    Arc::clone(&watcher.filter),
                    watcher.attach.clone(),
                )
            })
            .collect();
        for (_, _, attach) in &watching {
            let _ = attach.send(Attach {
                store: None,
                changes: None,
            });
        }
        watching
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LinkKey, Watcher>> {
        self.by_link.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens `store`'s change feed for `bucket` within `wait`; a failure is logged and left to the
/// watcher's retries.
async fn open(
    store: &Store,
    bucket: &str,
    filter: &Filter,
    target: &LinkKey,
    wait: Duration,
) -> Option<Changes> {
    match tokio::time::timeout(wait, store.changes(bucket, filter)).await {
        Ok(Ok(changes)) => Some(changes),
        Ok(Err(error)) => {
            tracing::warn!(watched = %target, bucket, %error, "cannot watch the store yet; retrying");
            None
        }
        Err(_) => {
            tracing::warn!(watched = %target, bucket, ?wait, "the store's change feed did not open in time; retrying");
            None
        }
    }
}

/// Follows the change feed of the watched link's store, queueing what the watcher wants,
/// until the watcher is dropped.
async fn follow(
    target: LinkKey,
    bucket: String,
    filter: Arc<Filter>,
    mut attachments: mpsc::UnboundedReceiver<Attach>,
    queue: mpsc::Sender<Change>,
) {
    let mut store: Option<Arc<Store>> = None;
    let mut changes: Option<Changes> = None;
    let mut retry = RETRY_FIRST;
    let mut opened = Instant::now();
    let mut dropped: u64 = 0;
    loop {
        tokio::select! {
            attach = attachments.recv() => {
                let Some(attach) = attach else { return };
                store = attach.store;
                changes = attach.changes;
                retry = RETRY_FIRST;
                opened = Instant::now();
            }
            change = next(&mut changes) => match change {
                Some(Ok(change)) => {
                    if filter.wants(change.key()) && queue.try_send(change).is_err() {
                        dropped += 1;
                        if dropped.is_power_of_two() {
                            tracing::warn!(
                                watched = %target,
                                dropped,
                                "a watcher is {QUEUE} notifications behind; dropping new ones"
                            );
                        }
                    }
                }
                ended => {
                    match ended {
                        Some(Err(error)) => tracing::warn!(watched = %target, bucket, %error, "the change feed failed; reopening it"),
                        _ => tracing::warn!(watched = %target, bucket, "the change feed ended; reopening it"),
                    }
                    changes = None;
                    retry = if opened.elapsed() >= STEADY {
                        RETRY_FIRST
                    } else {
                        (retry * 2).min(RETRY_MAX)
                    };
                }
            },
            () = tokio::time::sleep(retry), if changes.is_none() && store.is_some() => {
                if let Some(store) = &store {
                    changes = open(store, &bucket, &filter, &target, OPEN_WAIT).await;
                    if changes.is_some() {
                        tracing::info!(watched = %target, bucket, "watching the store again");
                        opened = Instant::now();
                    } else {
                        retry = (retry * 2).min(RETRY_MAX);
                    }
                }
            }
        }
    }
}

/// The next change of the feed, if there is one; never, if there is not.
async fn next(changes: &mut Option<Changes>) -> Option<Result<Change>> {
    match changes {
        Some(changes) => changes.next().await,
        None => std::future::pending().await,
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
