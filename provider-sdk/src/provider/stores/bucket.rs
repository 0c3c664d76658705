//! [`BucketStore`]: named configuration in the `CONFIGDATA_<lattice>` JetStream bucket, where a
//! wasmCloud host keeps it.
//!
//! Each key is a configuration name; each value a JSON object of strings.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv::{Operation, Store};
use futures::StreamExt as _;
use futures::future::BoxFuture;

use super::store::{ConfigStore, StoreChanges, Values, Watching};
use crate::error::{Error, Result};
use crate::wasmcloud::config_bucket;

/// Parses one named configuration's JSON.
pub(crate) fn parse(name: &str, json: &[u8]) -> Result<Values> {
    serde_json::from_slice(json).map_err(|error| Error::NamedConfig {
        name: name.to_owned(),
        reason: format!(
            "the value is not a JSON object of strings (line {}, column {})",
            error.line(),
            error.column()
        ),
    })
}

/// The named-configuration bucket of one lattice.
#[derive(Debug, Clone)]
pub struct BucketStore {
    store: Store,
    bucket: String,
}

impl BucketStore {
    /// Opens the bucket of `lattice`; `None` (with a warning) if it does not exist.
    pub async fn open(nats: async_nats::Client, lattice: &str) -> Option<Self> {
        let bucket = config_bucket(lattice);
        match jetstream::new(nats).get_key_value(&bucket).await {
            Ok(store) => Some(Self { store, bucket }),
            Err(error) => {
                tracing::warn!(%bucket, %error, "no named configuration bucket: names are not looked up there, nor watched");
                None
            }
        }
    }

    /// Re-reads every key after the watch broke (changes may have been missed); returns the
    /// new watch.
    async fn resync(
        &self,
        changes: &StoreChanges,
    ) -> std::result::Result<jetstream::kv::Watch, async_nats::Error> {
        let watch = self.store.watch_all().await?;
        let mut keys = self.store.keys().await?;
        while let Some(key) = keys.next().await {
            let key = key?;
            let values = match self.store.get(&key).await? {
                Some(json) => match parse(&key, &json) {
                    Ok(values) => Some(values),
                    Err(_) => continue,
                },
                None => None,
            };
            if !changes.changed(key, values).await {
                break;
            }
        }
        Ok(watch)
    }
}

impl ConfigStore for BucketStore {
    fn describe(&self) -> String {
        format!("bucket {}", self.bucket)
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Values>>> {
        Box::pin(async move {
            match self.store.get(name).await {
                Ok(Some(json)) => parse(name, &json).map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(Error::NamedConfig {
                    name: name.to_owned(),
                    reason: format!("cannot be read from {} ({error})", self.bucket),
                }),
            }
        })
    }

    /// Watches the whole bucket; a broken watch is re-established, and every name re-read.
    fn watch(self: Arc<Self>, changes: StoreChanges) -> BoxFuture<'static, Result<Watching>> {
        Box::pin(async move {
            let watch = self
                .store
                .watch_all()
                .await
                .map_err(|error| Error::NamedConfig {
                    name: "*".to_owned(),
                    reason: format!("cannot watch {} ({error})", self.bucket),
                })?;
            let watching: Watching = Box::pin(async move {
                let mut watch = watch;
                loop {
                    while let Some(entry) = watch.next().await {
                        let entry = match entry {
                            Ok(entry) => entry,
                            Err(error) => {
                                tracing::warn!(%error, bucket = %self.bucket, "named config watch failed");
                                break;
                            }
                        };
                        let values = match entry.operation {
                            Operation::Put => match parse(&entry.key, &entry.value) {
                                Ok(values) => Some(values),
                                Err(error) => {
                                    tracing::error!(%error, "named config change ignored; the previous values stay in force");
                                    continue;
                                }
                            },
                            Operation::Delete | Operation::Purge => None,
                        };
                        if !changes.changed(entry.key, values).await {
                            return;
                        }
                    }
                    // The watch ended (the connection dropped, the consumer went away): start
                    // over, re-reading every key so nothing missed in between is lost.
                    watch = loop {
                        if changes.is_closed() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        match self.resync(&changes).await {
                            Ok(watch) => break watch,
                            Err(error) => {
                                tracing::warn!(%error, "re-establishing the named config watch failed; retrying")
                            }
                        }
                    };
                }
            });
            Ok(watching)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_be_objects_of_strings() {
        assert_eq!(parse("a", br#"{"url":"x"}"#).unwrap()["url"], "x");
        let error = parse("redis", br#"{"port":6379}"#).unwrap_err();
        assert!(error.to_string().contains("`redis`"), "{error}");
        assert!(
            !error.to_string().contains("6379"),
            "quotes the value: {error}"
        );
        assert!(parse("a", b"[]").is_err());
    }
}
