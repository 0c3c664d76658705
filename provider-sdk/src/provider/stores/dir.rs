//! [`DirStore`]: named configuration in files, as Kubernetes mounts ConfigMaps.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::mounted::{Contents, Decode, FileValue, Mounted};
use super::store::{ConfigStore, StoreChanges, Values, Watching};
use super::watch::watch_folder;
use crate::error::Result;

/// Named configurations in a folder: `<dir>/<name>/<key>` (a ConfigMap mounted at
/// `<dir>/<name>`), or `<dir>/<name>.json` holding a JSON object of strings; `<dir>` itself may
/// be a mount. Kubernetes' atomic updates (the `..data` symlink swap) are read whole and
/// reported as one change; the folder is watched with inotify.
///
/// Values must be UTF-8 text of at most 1 MiB, in regular files inside the mount once symlinks
/// are resolved; a name is a single path segment. A file that breaks these rules is an error
/// naming it, and its name keeps its previous values.
#[derive(Debug, Clone)]
pub struct DirStore {
    mounted: Mounted,
}

impl DirStore {
    /// The store in folder `dir`, which must exist.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        Ok(Self {
            mounted: Mounted::open(dir, Decode::Text)?,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.mounted.root()
    }
}

impl ConfigStore for DirStore {
    fn describe(&self) -> String {
        format!("directory {}", self.dir().display())
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Values>>> {
        Box::pin(async move { Ok(self.mounted.read(name)?.map(to_values)) })
    }

    fn watch(self: Arc<Self>, changes: StoreChanges) -> BoxFuture<'static, Result<Watching>> {
        let watching = watch_folder(self.mounted.clone(), move |changed| {
            let changes = changes.clone();
            async move {
                let changed = changed
                    .into_iter()
                    .map(|(name, contents)| (name, contents.map(to_values)))
                    .collect();
                changes.changed_together(changed).await
            }
        });
        Box::pin(async move { watching })
    }
}

fn to_values(contents: Contents) -> Values {
    contents
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                FileValue::Text(text) => text,
                // Decode::Text reads no other kind.
                FileValue::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            };
            (key, value)
        })
        .collect()
}
