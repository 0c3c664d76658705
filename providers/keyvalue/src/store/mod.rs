//! The backends behind a link, with one set of operations: what every WIT bucket operation
//! turns into. Every WIT bucket is a namespace of its own in every backend.

mod memory;
mod nats;
mod redis;

use bytes::Bytes;

pub(crate) use self::memory::MemoryStore;
pub(crate) use self::nats::NatsStore;
pub(crate) use self::redis::RedisStore;
use crate::error::Result;
use crate::watch::{Changes, Filter};

/// How many keys one `list-keys` call returns at most.
pub(crate) const PAGE_SIZE: usize = 1000;

/// A page of keys and the cursor for the next page (`None`: the last page).
pub(crate) type KeyPage = (Vec<String>, Option<u64>);

/// A link's store.
#[derive(Debug)]
pub(crate) enum Store {
    Memory(MemoryStore),
    Redis(std::sync::Arc<RedisStore>),
    Nats(std::sync::Arc<NatsStore>),
}

/// Forwards an operation to the backend.
macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Memory($store) => $call,
            Store::Redis($store) => $call,
            Store::Nats($store) => $call,
        }
    };
}

impl Store {
    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        dispatch!(self, store => store.get(bucket, key).await)
    }

    pub(crate) async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        dispatch!(self, store => store.set(bucket, key, value).await)
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        dispatch!(self, store => store.delete(bucket, key).await)
    }

    pub(crate) async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        dispatch!(self, store => store.exists(bucket, key).await)
    }

    pub(crate) async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        dispatch!(self, store => store.list_keys(bucket, cursor).await)
    }

    pub(crate) async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        dispatch!(self, store => store.increment(bucket, key, delta).await)
    }

    pub(crate) async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>> {
        dispatch!(self, store => store.get_many(bucket, keys).await)
    }

    pub(crate) async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        dispatch!(self, store => store.set_many(bucket, pairs).await)
    }

    pub(crate) async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        dispatch!(self, store => store.delete_many(bucket, keys).await)
    }

    /// Every change made to `bucket` from now on, by anyone, from the backend's own change
    /// feed (see the watchers).
    /// `filter` says which keys are wanted: a backend may leave out others (not all do).
    pub(crate) async fn changes(&self, bucket: &str, filter: &Filter) -> Result<Changes> {
        match self {
            Store::Memory(store) => Ok(store.changes(bucket)),
            Store::Redis(store) => store.changes(bucket, filter).await,
            Store::Nats(store) => store.changes(bucket).await,
        }
    }

    /// Whether `bucket` can be opened (`wasi:keyvalue/store.open`): buckets spring into being
    /// on first write in memory and Redis; JetStream KV buckets must exist (or be creatable).
    pub(crate) async fn open(&self, bucket: &str) -> Result<()> {
        match self {
            Store::Memory(_) | Store::Redis(_) => Ok(()),
            Store::Nats(store) => store.open(bucket).await,
        }
    }
}

/// A counter's value stored as decimal text, as Redis keeps integers, so every backend reads
/// what another wrote.
pub(crate) fn add(current: Option<&[u8]>, delta: u64) -> Result<u64> {
    use crate::error::Error;
    let current = match current {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| {
                Error::InvalidValue(
                    "the value is not a decimal integer, so it cannot be incremented".to_owned(),
                )
            })?,
    };
    current
        .checked_add(delta)
        .ok_or_else(|| Error::InvalidValue("incrementing the value would overflow".to_owned()))
}
