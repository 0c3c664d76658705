//! The backends behind a link: the contract they keep ([`Backend`], in `backend.rs`), their
//! change feeds (`feed.rs`), connection sharing (`pool.rs`), one file per backend, and here
//! the two places that name every backend: [`Store`], a link's store, and [`Backends`], which
//! opens one from a link's validated configuration. Every WIT bucket is a namespace of its own
//! in every backend.

mod backend;
mod feed;
mod memory;
mod nats;
mod pool;
mod redis;

use std::sync::Arc;

use bytes::Bytes;

pub(crate) use self::backend::{Backend, KeyPage};
pub(crate) use self::feed::{Change, Changes, Filter};
use self::memory::MemoryStore;
use self::nats::NatsStore;
use self::pool::Pool;
use self::redis::RedisStore;
use crate::config::BackendConfig;
use crate::error::Result;

/// A link's store: the backend it uses. An enum, not a `dyn Backend`: see [`Backend`] for why.
#[derive(Debug)]
pub(crate) enum Store {
    Memory(Arc<MemoryStore>),
    Redis(Arc<RedisStore>),
    Nats(Arc<NatsStore>),
}

/// Forwards an operation to the link's backend, counted as `$op` ([`crate::metrics`]).
macro_rules! dispatch {
    ($self:ident, $op:literal, $store:ident => $call:expr) => {{
        let result = match $self {
            Store::Memory($store) => $call,
            Store::Redis($store) => $call,
            Store::Nats($store) => $call,
        };
        crate::metrics::counted($self.backend(), $op, result)
    }};
}

impl Store {
    /// Whether this is the memory backend (the link's own data, kept across its updates).
    pub(crate) fn is_memory(&self) -> bool {
        matches!(self, Store::Memory(_))
    }

    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        dispatch!(self, "get", store => store.get(bucket, key).await)
    }

    pub(crate) async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        dispatch!(self, "set", store => store.set(bucket, key, value).await)
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        dispatch!(self, "delete", store => store.delete(bucket, key).await)
    }

    pub(crate) async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        dispatch!(self, "exists", store => store.exists(bucket, key).await)
    }

    pub(crate) async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        dispatch!(self, "list_keys", store => store.list_keys(bucket, cursor).await)
    }

    pub(crate) async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        dispatch!(self, "increment", store => store.increment(bucket, key, delta).await)
    }

    pub(crate) async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>> {
        dispatch!(self, "get_many", store => store.get_many(bucket, keys).await)
    }

    pub(crate) async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        dispatch!(self, "set_many", store => store.set_many(bucket, pairs).await)
    }

    pub(crate) async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        dispatch!(self, "delete_many", store => store.delete_many(bucket, keys).await)
    }

    /// Every change made to `bucket` from now on: see [`Backend::changes`].
    pub(crate) async fn changes(&self, bucket: &str, filter: &Filter) -> Result<Changes> {
        dispatch!(self, "changes", store => store.changes(bucket, filter).await)
    }

    /// Whether `bucket` can be opened (`wasi:keyvalue/store.open`): see
    /// [`Backend::open_bucket`].
    pub(crate) async fn open(&self, bucket: &str) -> Result<()> {
        dispatch!(self, "open", store => store.open_bucket(bucket).await)
    }

    /// Why the backend is down, if it knows it is: see [`Backend::health`].
    pub(crate) fn health(&self) -> Result<(), String> {
        match self {
            Store::Memory(store) => store.health(),
            Store::Redis(store) => store.health(),
            Store::Nats(store) => store.health(),
        }
    }

    /// The backend's name, as configuration and measurements say it.
    fn backend(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
            Store::Nats(_) => "nats",
        }
    }
}

/// Every backend, each with its [`Pool`]: where a backend is registered.
#[derive(Debug, Default)]
pub(crate) struct Backends {
    memory: Pool<MemoryStore>,
    redis: Pool<RedisStore>,
    nats: Pool<NatsStore>,
}

impl Backends {
    /// The store for a link with `config`: a live shared connection if one with the same
    /// settings is open, else a new one.
    pub(crate) async fn open(&self, config: &BackendConfig) -> Result<Store> {
        Ok(match config {
            BackendConfig::Memory => Store::Memory(self.memory.open(&()).await?),
            BackendConfig::Redis(settings) => Store::Redis(self.redis.open(settings).await?),
            BackendConfig::Nats(settings) => Store::Nats(self.nats.open(settings).await?),
        })
    }
}
