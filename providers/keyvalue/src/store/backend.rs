//! The contract every keyvalue backend keeps: [`Backend`]. The backends (`memory.rs`,
//! `redis.rs`, `nats.rs`) implement it; [`super::Store`] dispatches a link's calls to the one
//! the link uses; [`super::Pool`] opens and shares them. This file names no backend.

use std::fmt;
use std::future::Future;
use std::hash::Hash;

use bytes::Bytes;

use super::feed::{Changes, Filter};
use crate::error::{Error, Result};

/// How many keys one `list-keys` call returns at most.
pub(crate) const PAGE_SIZE: usize = 1000;

/// A page of keys and the cursor for the next page (`None`: the last page).
pub(crate) type KeyPage = (Vec<String>, Option<u64>);

/// A keyvalue backend: what the provider needs of a place to keep a link's buckets.
///
/// # The contract
///
/// - **Buckets are namespaces.** Every operation names a WIT bucket; no two buckets ever see
///   each other's keys.
/// - **Reads and writes** (`get`, `set`, `delete`, `exists`): `get` of a missing key is
///   `Ok(None)`; `delete` of a missing key succeeds.
/// - **`list_keys`** returns at most [`PAGE_SIZE`] keys and a cursor for the next page
///   (`None` on the last); a full iteration returns every key present throughout at least once.
///   What the cursor means is the backend's own (an offset, a SCAN cursor).
/// - **`increment`** is atomic under concurrency, creates a missing key, and stores the counter
///   as decimal text (see [`add`]), so every backend reads what another wrote; a non-number or
///   an overflow is [`Error::InvalidValue`].
/// - **Batches**: `get_many` answers in the order of the keys given (`None` for missing ones);
///   `set_many` and `delete_many` need not be atomic.
/// - **`open_bucket`**: whether the bucket can be used (`wasi:keyvalue/store.open`). Buckets
///   spring into being on first write unless the backend says otherwise.
/// - **`changes`**: the backend's own change feed for a bucket: every change from now on, by
///   anyone, in the order the backend made them; it may leave out keys `filter` does not want.
///   An error ends the feed (the watcher opens a new one).
/// - **`health`**: whether the backend is broken beyond mending itself; no I/O, never waits.
///   An unreachable server is not that: calls fail meanwhile, the provider stays healthy.
/// - **Opening and sharing**: a backend is opened from its validated [`Backend::Settings`]
///   (read from configuration by `crate::config`). Where [`Backend::SHARED`], equal settings
///   identify one shareable connection: links with equal settings share one opened backend,
///   which closes when the last of them drops it.
///
/// # Static dispatch, deliberately
///
/// The methods return `impl Future + Send` (written `async fn` in the implementations), so the
/// trait is not object-safe, and that is the point: a link's store is the enum
/// [`super::Store`], which matches on its backend and awaits the backend's own future, inline.
/// A `dyn Backend` would need a boxed future per call (`Pin<Box<dyn Future>>`), one allocation
/// on every `get` and `set`, the hot path the `keyvalue` benchmark measures. The set of
/// backends is closed (this crate's), so an enum costs nothing in flexibility.
pub(crate) trait Backend: fmt::Debug + Send + Sync + Sized + 'static {
    /// The backend's name, as the `backend` config key says it.
    const NAME: &'static str;

    /// Whether links with equal settings share one opened backend (a connection to a server),
    /// or each link opens its own (the memory backend: the link's own data).
    const SHARED: bool;

    /// The validated settings it is opened from. Equal settings identify one shareable
    /// connection, so they must hold everything that makes two connections differ
    /// (address, credentials, timeouts, ...). `Debug` must not show credentials.
    type Settings: Clone + Eq + Hash + fmt::Debug + Send + Sync + 'static;

    /// Opens the backend. It may connect at once (an unreachable server then refuses the
    /// link) or on first use (calls fail until it is reachable).
    fn open(settings: &Self::Settings) -> impl Future<Output = Result<Self>> + Send;

    /// The value of `key`, `None` if it is missing.
    fn get(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// Sets `key` to `value`.
    fn set(&self, bucket: &str, key: &str, value: Bytes)
    -> impl Future<Output = Result<()>> + Send;

    /// Deletes `key`; a missing key is no error.
    fn delete(&self, bucket: &str, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Whether `key` is set.
    fn exists(&self, bucket: &str, key: &str) -> impl Future<Output = Result<bool>> + Send;

    /// A page of the bucket's keys from `cursor` (`None`: the first page).
    fn list_keys(
        &self,
        bucket: &str,
        cursor: Option<u64>,
    ) -> impl Future<Output = Result<KeyPage>> + Send;

    /// Adds `delta` to the counter at `key` (0 when missing), atomically; the new value.
    fn increment(
        &self,
        bucket: &str,
        key: &str,
        delta: u64,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// The values of `keys`, in their order, `None` for the missing ones.
    fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> impl Future<Output = Result<Vec<Option<(String, Bytes)>>>> + Send;

    /// Sets every pair.
    fn set_many(
        &self,
        bucket: &str,
        pairs: Vec<(String, Bytes)>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes every key.
    fn delete_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Whether `bucket` can be used: by default it can (buckets spring into being on first
    /// write).
    fn open_bucket(&self, bucket: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = bucket;
        std::future::ready(Ok(()))
    }

    /// Every change made to `bucket` from now on, by anyone, from the backend's own feed.
    /// `filter` says which keys are wanted: a backend may leave out others (not all do).
    fn changes(
        &self,
        bucket: &str,
        filter: &Filter,
    ) -> impl Future<Output = Result<Changes>> + Send;

    /// `Err` with why, if the backend is broken beyond mending itself, so the provider should
    /// report itself unhealthy. No I/O: it answers health requests. A server that is down while
    /// the backend reconnects is not that: calls fail with the reason meanwhile and the provider
    /// stays healthy (no backend here ever says otherwise, hence the default).
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A counter's value stored as decimal text, as Redis keeps integers, so every backend reads
/// what another wrote.
pub(crate) fn add(current: Option<&[u8]>, delta: u64) -> Result<u64> {
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
