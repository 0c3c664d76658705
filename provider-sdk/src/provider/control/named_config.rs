//! Named configuration in the `CONFIGDATA_<lattice>` JetStream key-value bucket, for a provider
//! running standalone (a wasmCloud host resolves names itself and sends the merged result).
//!
//! Each key is a configuration name; each value a JSON object of strings. The runtime reads the
//! names it needs when it starts, then watches the whole bucket and feeds every change into the
//! ordered control stream, where the provider's and the links' configurations are merged again.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv::{Operation, Store};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::router::ControlEvent;
use crate::error::{Error, Result};
use crate::provider::config::{Config, ConfigSource};
use crate::wasmcloud::config_bucket;

/// Parses one named configuration's JSON.
pub(crate) fn parse(name: &str, json: &[u8]) -> Result<HashMap<String, String>> {
    serde_json::from_slice(json).map_err(|error| Error::NamedConfig {
        name: name.to_owned(),
        reason: format!("the value is not a JSON object of strings ({error})"),
    })
}

/// A named configuration as a [`Config`] whose values remember their name.
pub(crate) fn to_config(name: &str, values: HashMap<String, String>) -> Config {
    Config::from_map(values, ConfigSource::Named(name.into()))
}

/// The named-configuration bucket of one lattice.
#[derive(Debug, Clone)]
pub(crate) struct NamedConfigs {
    store: Store,
    bucket: String,
}

impl NamedConfigs {
    /// Opens the bucket; `None` (with a warning) if it does not exist.
    pub(crate) async fn open(nats: async_nats::Client, lattice: &str) -> Option<Self> {
        let bucket = config_bucket(lattice);
        match jetstream::new(nats).get_key_value(&bucket).await {
            Ok(store) => Some(Self { store, bucket }),
            Err(error) => {
                tracing::warn!(%bucket, %error, "no named configuration bucket: named configs read as empty and are not watched");
                None
            }
        }
    }

    /// The named configuration `name`: empty, with a warning, if missing or malformed.
    pub(crate) async fn get(&self, name: &str) -> Config {
        match self.store.get(name).await {
            Ok(Some(json)) => match parse(name, &json) {
                Ok(values) => to_config(name, values),
                Err(error) => {
                    tracing::warn!(%error, "named config ignored");
                    Config::new()
                }
            },
            Ok(None) => {
                tracing::warn!(name, bucket = %self.bucket, "named config not found; reading it as empty until it is put");
                Config::new()
            }
            Err(error) => {
                tracing::warn!(name, bucket = %self.bucket, %error, "named config could not be read; reading it as empty");
                Config::new()
            }
        }
    }

    /// Starts watching the bucket; returns once the watch is in place, so no change made
    /// after it returns is missed. Changes go to `events` until it closes; a broken watch is
    /// re-established (every name is then re-read, as changes may have been missed).
    pub(crate) async fn watch(
        self,
        events: mpsc::Sender<ControlEvent>,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let watch = self
            .store
            .watch_all()
            .await
            .map_err(|error| Error::NamedConfig {
                name: "*".to_owned(),
                reason: format!("cannot watch {} ({error})", self.bucket),
            })?;
        Ok(tokio::spawn(async move {
            let mut watch = watch;
            loop {
                while let Some(entry) = watch.next().await {
                    let entry = match entry {
                        Ok(entry) => entry,
                        Err(error) => {
                            tracing::warn!(%error, "named config watch failed");
                            break;
                        }
                    };
                    let values = match entry.operation {
                        Operation::Put => match parse(&entry.key, &entry.value) {
                            Ok(values) => Some(values),
                            Err(error) => {
                                tracing::warn!(%error, "named config change ignored");
                                continue;
                            }
                        },
                        Operation::Delete | Operation::Purge => None,
                    };
                    let event = ControlEvent::NamedConfig {
                        name: entry.key,
                        values,
                    };
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
                // The watch ended (the connection dropped, the consumer went away): start
                // over, re-reading every key so nothing missed in between is lost.
                watch = loop {
                    if events.is_closed() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match self.resync(&events).await {
                        Ok(watch) => break watch,
                        Err(error) => {
                            tracing::warn!(%error, "re-establishing the named config watch failed; retrying")
                        }
                    }
                };
            }
        }))
    }

    async fn resync(
        &self,
        events: &mpsc::Sender<ControlEvent>,
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
            if events
                .send(ControlEvent::NamedConfig { name: key, values })
                .await
                .is_err()
            {
                break;
            }
        }
        Ok(watch)
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
        assert!(parse("a", b"[]").is_err());
    }

    #[test]
    fn values_remember_their_name() {
        let config = to_config("redis", parse("redis", br#"{"URL":"x"}"#).unwrap());
        assert_eq!(
            config.source("url"),
            Some(&ConfigSource::Named("redis".into()))
        );
    }
}
