//! [`SecretsDir`]: named secrets in files, as Kubernetes mounts Secrets.

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::mounted::{Contents, Decode, FileValue, Mounted};
use super::store::{StoreEvent, Watching};
use super::watch::watch_folder;
use crate::error::Result;
use crate::provider::config::Secrets;
use crate::wasmcloud::SecretValue;

/// Named secrets in a folder, in the layout of a [`DirStore`](super::DirStore): a Secret
/// mounted at `<dir>/<name>`, or `<dir>/<name>.json`. A value that is not UTF-8 is a binary
/// secret ([`SecretValue::Bytes`]). Watched like a `DirStore`; errors name the file, never a
/// value.
#[derive(Debug, Clone)]
pub struct SecretsDir {
    mounted: Mounted,
}

impl SecretsDir {
    /// The secrets in folder `dir`, which must exist.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        Ok(Self {
            mounted: Mounted::open(dir, Decode::TextOrBytes)?,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.mounted.root()
    }

    /// The secrets named `name`; `Ok(None)` if the folder holds no such name.
    pub fn get(&self, name: &str) -> Result<Option<Secrets>> {
        Ok(self.mounted.read(name)?.map(to_secrets))
    }

    /// Starts watching (in place when this returns); the watch reports changes to `events`.
    pub(crate) fn watch(self, events: mpsc::Sender<StoreEvent>) -> Result<Watching> {
        watch_folder(self.mounted, move |changed| {
            let events = events.clone();
            async move {
                let changes = changed
                    .into_iter()
                    .map(|(name, contents)| (name, contents.map(to_secrets)))
                    .collect();
                events.send(StoreEvent::Secrets { changes }).await.is_ok()
            }
        })
    }
}

fn to_secrets(contents: Contents) -> Secrets {
    Secrets::from_map(contents.into_iter().map(|(key, value)| {
        let value = match value {
            FileValue::Text(text) => SecretValue::String(text),
            FileValue::Bytes(bytes) => SecretValue::Bytes(bytes),
        };
        (key, value)
    }))
}
