//! The NATS JetStream KV backend. WIT bucket `b` is the KV bucket `b` (created on first use
//! only with `enable_bucket_auto_create`); with a fixed `bucket` configured, every WIT bucket
//! lives in that one KV bucket under the key prefix `b.`. Names and keys must be what JetStream
//! KV accepts; anything else is a clear error, never a silent rewrite.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_nats::jetstream::{self, context::KeyValueErrorKind, kv};
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use provider_sdk::provider::{NatsAuth, NatsOptions};
use provider_sdk::wasmcloud::open_or_create_kv_bucket;

use super::backend::{Backend, KeyPage, PAGE_SIZE, add};
use super::feed::{Change, Changes, Filter};
use crate::config::NatsSettings;
use crate::error::{Error, Result};

/// Compare-and-set rounds an increment makes before giving up under contention.
const MAX_INCREMENT_ROUNDS: usize = 1000;
/// Operations of one batch call in flight at once (JetStream KV has no multi-key commands).
const BATCH_CONCURRENCY: usize = 64;
/// KV buckets kept open per connection (a component may name any number).
const MAX_OPEN_BUCKETS: usize = 256;

/// A connection to a NATS server's JetStream, shared by the links with the same settings.
pub(crate) struct NatsStore {
    client: async_nats::Client,
    js: jetstream::Context,
    response_timeout: std::time::Duration,
    fixed_bucket: Option<String>,
    auto_create: bool,
    /// Replicas of the buckets this store creates, if set (1 if not).
    replicas: Option<usize>,
    open: Mutex<HashMap<String, kv::Store>>,
    shown_url: String,
}

impl std::fmt::Debug for NatsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsStore")
            .field("url", &self.shown_url)
            .field("fixed_bucket", &self.fixed_bucket)
            .finish_non_exhaustive()
    }
}

fn backend(message: impl std::fmt::Display) -> Error {
    Error::Backend {
        backend: "nats",
        message: message.to_string(),
    }
}

impl NatsStore {
    /// Connects (once, within the connect timeout); the client reconnects by itself afterwards.
    async fn connect(settings: &NatsSettings) -> Result<Self> {
        let auth = match (&settings.jwt, &settings.seed) {
            (Some(jwt), Some(seed)) => NatsAuth::Jwt {
                jwt: jwt.clone(),
                seed: seed.clone(),
            },
            (None, Some(seed)) => NatsAuth::Nkey(seed.clone()),
            _ => NatsAuth::None,
        };
        let mut options = NatsOptions::new(settings.url.clone())
            .auth(auth)
            .connect_attempts(1);
        options.tls_ca_pem = settings.tls_ca.clone();
        options.name = Some("keyvalue-provider".to_owned());
        // Direct gets are plain requests: the JetStream context's timeout does not bound them.
        options.request_timeout = Some(settings.response_timeout);
        let shown_url = settings.shown_url();
        let client = tokio::time::timeout(settings.connect_timeout, options.connect())
            .await
            .map_err(|_| {
                backend(format!(
                    "no connection to {shown_url} within {:?}",
                    settings.connect_timeout
                ))
            })?
            .map_err(backend)?;
        let mut js = match &settings.js_domain {
            Some(domain) => jetstream::with_domain(client.clone(), domain),
            None => jetstream::new(client.clone()),
        };
        js.set_timeout(settings.response_timeout);
        if settings.replicas.is_some() && !settings.auto_create {
            tracing::warn!(
                url = %shown_url,
                "`replicas` is set but `enable_bucket_auto_create` is not: the provider creates \
                 no bucket, so `replicas` changes nothing"
            );
        }
        Ok(Self {
            client,
            js,
            response_timeout: settings.response_timeout,
            fixed_bucket: settings.bucket.clone(),
            auto_create: settings.auto_create,
            replicas: settings.replicas,
            open: Mutex::new(HashMap::new()),
            shown_url,
        })
    }

    /// The KV bucket holding WIT bucket `bucket`, and the prefix of its keys there.
    async fn kv(&self, bucket: &str) -> Result<(kv::Store, String)> {
        let (name, prefix) = match &self.fixed_bucket {
            Some(fixed) => {
                if !is_token(bucket) {
                    return Err(Error::InvalidValue(format!(
                        "bucket {bucket:?} cannot be a key prefix in the NATS KV bucket \
                         {fixed:?}: use letters, digits, `-`, `_`, `/` and `=`"
                    )));
                }
                (fixed.as_str(), format!("{bucket}."))
            }
            None => {
                if !is_bucket_name(bucket) {
                    return Err(Error::InvalidValue(format!(
                        "bucket {bucket:?} is not a NATS KV bucket name: use letters, digits, \
                         `-` and `_`"
                    )));
                }
                (bucket, String::new())
            }
        };
        let cached = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned();
        let store = match cached {
            Some(store) => store,
            None => {
                let store = match self.js.get_key_value(name).await {
                    Ok(store) => store,
                    Err(error) if error.kind() == KeyValueErrorKind::GetBucket => {
                        if !self.auto_create {
                            return Err(Error::NoSuchStore(name.to_owned()));
                        }
                        self.create(name).await?
                    }
                    Err(error) => return Err(backend(error)),
                };
                self.check_replicas(&store);
                let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
                if open.len() >= MAX_OPEN_BUCKETS {
                    open.clear();
                }
                open.insert(name.to_owned(), store.clone());
                store
            }
        };
        Ok((store, prefix))
    }

    /// Creates the KV bucket `name` with the configured replicas; when JetStream cannot place
    /// that many, an error that names `replicas` and says why.
    async fn create(&self, name: &str) -> Result<kv::Store> {
        let replicas = self.replicas.unwrap_or(1);
        open_or_create_kv_bucket(&self.js, name, 1, replicas)
            .await
            .map_err(|error| match placement_failure(&error) {
                Some(why) if replicas > 1 => backend(format!(
                    "cannot create bucket {name:?} with replicas = {replicas}: {why} ({error})"
                )),
                _ => backend(error),
            })
    }

    /// Warns if an existing bucket does not have the replicas the link's `replicas` asks for:
    /// the key applies to the buckets the provider creates, not to existing ones.
    fn check_replicas(&self, store: &kv::Store) {
        let has = store.stream.cached_info().config.num_replicas;
        if let Some(wanted) = self.replicas.filter(|wanted| *wanted != has) {
            tracing::warn!(
                bucket = %store.name,
                replicas = has,
                configured = wanted,
                "the KV bucket exists with other replicas than `replicas` says; the key applies \
                 only to buckets the provider creates (change the bucket with `nats kv edit`)"
            );
        }
    }

    /// The KV key for `key`, after checking JetStream would take it.
    fn key(prefix: &str, key: &str) -> Result<String> {
        let valid = !key.is_empty()
            && !key.starts_with('.')
            && !key.ends_with('.')
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-/_=.".contains(&b));
        if valid {
            Ok(format!("{prefix}{key}"))
        } else {
            Err(Error::InvalidValue(format!(
                "key {key:?} is not a NATS KV key: use letters, digits, `-`, `/`, `_`, `=` and \
                 `.` (not first or last)"
            )))
        }
    }

    /// JetStream stores a value in one message: it must fit the server's `max_payload`.
    fn fits(&self, value: &Bytes) -> Result<()> {
        // Headers and subject take a little of the payload limit too.
        let max = self.client.server_info().max_payload.saturating_sub(1024);
        if value.len() > max {
            return Err(Error::InvalidValue(format!(
                "a value of {} bytes is more than the NATS server stores in one message \
                 (about {max} bytes, from its max_payload): raise max_payload or use redis",
                value.len()
            )));
        }
        Ok(())
    }
}

/// Shared by the links with equal settings.
impl Backend for NatsStore {
    const NAME: &'static str = "nats";
    const SHARED: bool = true;
    type Settings = NatsSettings;

    /// Connects at once, within the connect timeout: an unreachable server refuses the link.
    async fn open(settings: &NatsSettings) -> Result<Self> {
        Self::connect(settings).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        let (kv, prefix) = self.kv(bucket).await?;
        kv.get(Self::key(&prefix, key)?).await.map_err(backend)
    }

    async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        let (kv, prefix) = self.kv(bucket).await?;
        self.fits(&value)?;
        kv.put(Self::key(&prefix, key)?, value)
            .await
            .map(drop)
            .map_err(backend)
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        let (kv, prefix) = self.kv(bucket).await?;
        kv.delete(Self::key(&prefix, key)?).await.map_err(backend)
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        Ok(self.get(bucket, key).await?.is_some())
    }

    /// The cursor is an offset into the bucket's keys in sorted order, as in memory.
    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        let (kv, prefix) = self.kv(bucket).await?;
        // The keys come from a consumer, not a request: each must come within the response
        // timeout, however many there are.
        let timeout = self.response_timeout;
        let stalled = || backend(format!("listing the keys stalled for {timeout:?}"));
        let mut listing = tokio::time::timeout(timeout, kv.keys())
            .await
            .map_err(|_| stalled())?
            .map_err(backend)?;
        let mut keys = Vec::new();
        while let Some(key) = tokio::time::timeout(timeout, listing.next())
            .await
            .map_err(|_| stalled())?
        {
            if let Some(key) = key.map_err(backend)?.strip_prefix(&prefix) {
                keys.push(key.to_owned());
            }
        }
        keys.sort_unstable();
        let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        let total = keys.len();
        let page: Vec<String> = keys.into_iter().skip(start).take(PAGE_SIZE).collect();
        let next = start.saturating_add(page.len());
        Ok((page, (next < total).then_some(next as u64)))
    }

    /// Compare-and-set on the key's revision until no other writer came between.
    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        let (kv, prefix) = self.kv(bucket).await?;
        let key = Self::key(&prefix, key)?;
        for _ in 0..MAX_INCREMENT_ROUNDS {
            let entry = kv.entry(key.clone()).await.map_err(backend)?;
            let (current, revision) = match &entry {
                Some(entry) if entry.operation == kv::Operation::Put => {
                    (Some(&entry.value[..]), Some(entry.revision))
                }
                Some(entry) => (None, Some(entry.revision)),
                None => (None, None),
            };
            let value = add(current, delta)?;
            let written = match revision {
                Some(revision) => kv
                    .update(&key, Bytes::from(value.to_string()), revision)
                    .await
                    .map_err(|error| {
                        (
                            error.kind() == kv::UpdateErrorKind::WrongLastRevision,
                            error.to_string(),
                        )
                    }),
                None => kv
                    .create(&key, Bytes::from(value.to_string()))
                    .await
                    .map_err(|error| {
                        (
                            error.kind() == kv::CreateErrorKind::AlreadyExists,
                            error.to_string(),
                        )
                    }),
            };
            match written {
                Ok(_) => return Ok(value),
                Err((true, _)) => tokio::task::yield_now().await,
                Err((false, message)) => return Err(backend(message)),
            }
        }
        Err(backend(format!(
            "the key {key:?} changed under {MAX_INCREMENT_ROUNDS} increments in a row; try again"
        )))
    }

    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>> {
        futures::stream::iter(keys)
            .map(|key| async move {
                let value = self.get(bucket, &key).await?;
                Ok(value.map(|value| (key, value)))
            })
            .buffered(BATCH_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        futures::stream::iter(pairs)
            .map(|(key, value)| async move { self.set(bucket, &key, value).await })
            .buffer_unordered(BATCH_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        futures::stream::iter(keys)
            .map(|key| async move { self.delete(bucket, &key).await })
            .buffer_unordered(BATCH_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn open_bucket(&self, bucket: &str) -> Result<()> {
        self.kv(bucket).await.map(drop)
    }

    /// Every change to `bucket` from now on, from a JetStream KV watch (an ordered consumer,
    /// which async-nats recreates after reconnects): every key of the bucket, whatever the
    /// filter (the watcher filters).
    async fn changes(&self, bucket: &str, _: &Filter) -> Result<Changes> {
        let (kv, prefix) = self.kv(bucket).await?;
        let watch = if prefix.is_empty() {
            kv.watch_all().await
        } else {
            kv.watch(format!("{prefix}>")).await
        }
        .map_err(backend)?;
        let changes = watch.filter_map(move |entry| {
            let change = match entry {
                Err(error) => Some(Err(backend(error))),
                Ok(entry) => entry.key.strip_prefix(&prefix).map(|key| {
                    Ok(match entry.operation {
                        kv::Operation::Put => Change::Set(key.to_owned(), entry.value),
                        kv::Operation::Delete | kv::Operation::Purge => {
                            Change::Delete(key.to_owned())
                        }
                    })
                }),
            };
            std::future::ready(change)
        });
        Ok(changes.boxed())
    }
}

/// Why JetStream could not place a stream's replicas, if `error` says so (by its JetStream
/// error code; the server's own text names no setting).
fn placement_failure(error: &provider_sdk::Error) -> Option<&'static str> {
    use async_nats::jetstream::ErrorCode;
    use async_nats::jetstream::context::{CreateStreamError, CreateStreamErrorKind};
    let provider_sdk::Error::Nats { source, .. } = error else {
        return None;
    };
    let CreateStreamErrorKind::JetStream(error) =
        source.downcast_ref::<CreateStreamError>()?.kind()
    else {
        return None;
    };
    let code = error.error_code();
    if code == ErrorCode::STREAM_REPLICAS_NOT_SUPPORTED {
        Some(
            "the JetStream server is not part of a cluster; set replicas to 1, or use a cluster \
             of at least that many servers",
        )
    } else if code == ErrorCode::CLUSTER_NO_PEERS {
        Some("the JetStream cluster has fewer servers than that")
    } else if code == ErrorCode::INSUFFICIENT_RESOURCES {
        Some("the JetStream cluster may have fewer servers than that, or its limits are reached")
    } else {
        None
    }
}

/// A KV bucket name: letters, digits, `-`, `_`.
fn is_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One KV key token (no `.`).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-/_=".contains(&b))
}
