//! Watching a store folder: inotify (through `notify`), settled into one re-read per change.
//!
//! One Kubernetes update is a burst of file events (a folder written, a symlink renamed, key
//! links added and removed, the old folder deleted). The watch waits until the folder has been
//! quiet for [`QUIET`] (or [`SETTLE_AT_MOST`] has passed), then the store re-reads every name
//! and reports only those whose values differ from what it reported last: a swap is one change,
//! and a burst that ends the way it started is none.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::Notify;

use super::mounted::{Contents, Mounted};
use super::store::Watching;
use crate::error::{Error, Result};

/// How long a folder stays quiet before it is re-read.
const QUIET: Duration = Duration::from_millis(50);
/// The longest a burst of events delays a re-read.
const SETTLE_AT_MOST: Duration = Duration::from_secs(1);

/// A folder under watch: [`FolderWatch::settled`] resolves after each burst of changes.
struct FolderWatch {
    // Dropping the watcher ends the watch.
    _watcher: notify::RecommendedWatcher,
    changed: Arc<Notify>,
}

impl std::fmt::Debug for FolderWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatch").finish_non_exhaustive()
    }
}

impl FolderWatch {
    /// Watches `root` and everything under it (symlinks not followed: a mount's own folders
    /// are all inside it); in place when this returns.
    fn start(root: &Path) -> Result<Self> {
        let changed = Arc::new(Notify::new());
        let signal = Arc::clone(&changed);
        let failed = |error: notify::Error| Error::ConfigFile {
            path: root.to_owned(),
            reason: format!("cannot be watched ({error})"),
        };
        let root = std::fs::canonicalize(root).map_err(|error| Error::ConfigFile {
            path: root.to_owned(),
            reason: format!("cannot be resolved ({error})"),
        })?;
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut watcher = notify::RecommendedWatcher::new(
            move |event: notify::Result<notify::Event>| {
                // Reads (the store's own among them) change nothing.
                if !matches!(event, Ok(ref event) if matches!(event.kind, EventKind::Access(_))) {
                    // A permit is kept if nobody waits: no change is missed between two waits.
                    signal.notify_one();
                }
            },
            config,
        )
        .map_err(failed)?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(failed)?;
        Ok(Self {
            _watcher: watcher,
            changed,
        })
    }

    /// Resolves once something changed and the folder has been quiet since for [`QUIET`].
    async fn settled(&self) {
        self.changed.notified().await;
        let deadline = tokio::time::Instant::now() + SETTLE_AT_MOST;
        while tokio::time::Instant::now() < deadline {
            if tokio::time::timeout(QUIET, self.changed.notified())
                .await
                .is_err()
            {
                break;
            }
        }
    }
}

/// Watches the store folder `mounted` (in place when this returns) and, after each settled burst
/// of events, hands the names whose values changed to `report`, together; ends when `report`
/// says the provider has stopped listening.
pub(crate) fn watch_folder<F, Fut>(mounted: Mounted, mut report: F) -> Result<Watching>
where
    F: FnMut(Vec<NameChange>) -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let watch = FolderWatch::start(mounted.root())?;
    let mut reported = Reported::read(&mounted);
    Ok(Box::pin(async move {
        loop {
            watch.settled().await;
            let changes = reported.changes(&mounted);
            if !changes.is_empty() && !report(changes).await {
                return;
            }
        }
    }))
}

/// What a store folder held when last reported, to tell real changes from event noise.
#[derive(Debug, Default)]
struct Reported {
    by_name: BTreeMap<String, Contents>,
}

/// A change to report: a name's new values, or `None` when it is gone.
pub(crate) type NameChange = (String, Option<Contents>);

impl Reported {
    /// Everything `mounted` holds now, as the baseline (names that cannot be read are left out,
    /// and logged).
    fn read(mounted: &Mounted) -> Self {
        let mut reported = Self::default();
        // The first re-read reports whatever differs from this.
        let _ = reported.changes(mounted);
        reported
    }

    /// Re-reads `mounted` and returns what changed since the last call. A name that cannot be
    /// read is logged with the file at fault and keeps its previous values.
    fn changes(&mut self, mounted: &Mounted) -> Vec<NameChange> {
        let names = match mounted.names() {
            Ok(names) => names,
            Err(error) => {
                tracing::error!(%error, "folder not re-read; the previous values stay in force");
                return Vec::new();
            }
        };
        let mut changes = Vec::new();
        let gone: Vec<String> = self
            .by_name
            .keys()
            .filter(|name| !names.contains(*name))
            .cloned()
            .collect();
        for name in gone {
            self.by_name.remove(&name);
            changes.push((name, None));
        }
        for name in names {
            match mounted.read(&name) {
                Ok(Some(contents)) => {
                    if self.by_name.get(&name) != Some(&contents) {
                        self.by_name.insert(name.clone(), contents.clone());
                        changes.push((name, Some(contents)));
                    }
                }
                Ok(None) => {
                    if self.by_name.remove(&name).is_some() {
                        changes.push((name, None));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, name, "named values not updated; the previous values stay in force");
                }
            }
        }
        changes
    }
}
