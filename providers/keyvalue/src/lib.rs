//! The keyvalue provider: `wrpc:keyvalue` (bucket as a string, what wasmCloud 1.x hosts send)
//! and `wasi:keyvalue` (bucket as a resource handle) over wRPC, with a backend chosen per link.
//!
//! Each link (calling component and link name) gets its store when it is put: `memory` (the
//! default; the link's own, kept for as long as the link), `redis` or `nats` (JetStream KV); a
//! Redis or NATS connection is shared by the links with the same connection settings and closed
//! when the last of them is deleted. See the README for the configuration keys.

mod config;
mod error;
mod store;
mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use bytes::Bytes;
use provider_sdk::provider::{
    Config, Context, HookResult, InitContext, Link, LinkResources, Provider, ProviderHandle,
    ResourceHandles,
};
use provider_sdk::transport::{Server, Serving};
use provider_sdk::wire::{ResourceBorrow, ResourceOwn};

use crate::config::{Backend, NatsSettings, RedisSettings};
pub use crate::error::{Error, Result};
use crate::store::{NatsStore, RedisStore, Store};
use crate::watch::Watchers;

mod bindings {
    provider_sdk::generate!({ path: "../../wit", world: "keyvalue" });
}

/// Client functions for every interface the provider serves, and the watcher a component
/// exports: for Rust programs (and tests) that play the component.
pub mod client {
    provider_sdk::generate!({ path: "../../wit", world: "keyvalue-client" });
}

use bindings::exports::{wasi, wrpc};

/// The keyvalue provider.
#[derive(Debug, Default)]
pub struct KeyValueProvider {
    /// The provider's configuration: every link's defaults.
    defaults: Mutex<Config>,
    /// Each link's store.
    stores: LinkResources<Store>,
    /// Live Redis connections by their settings, for links with the same ones to share.
    redis: Mutex<HashMap<RedisSettings, Weak<RedisStore>>>,
    /// Live NATS connections by their settings, likewise.
    nats: Mutex<HashMap<NatsSettings, Weak<NatsStore>>>,
    /// `wasi:keyvalue` bucket handles: the bucket's name, scoped to the link that opened it.
    buckets: ResourceHandles<String>,
    /// Components watching keys, by their source link.
    watchers: Watchers,
    /// The running provider, for calling watchers.
    handle: OnceLock<ProviderHandle>,
}

impl KeyValueProvider {
    /// How many links have a store.
    pub fn links(&self) -> usize {
        self.stores.len()
    }

    fn defaults(&self) -> Config {
        self.defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The store for `backend`: a shared Redis connection if one with these settings is live.
    async fn build(&self, backend: &Backend) -> Result<Store> {
        match backend {
            Backend::Memory => Ok(Store::Memory(store::MemoryStore::default())),
            Backend::Redis(settings) => {
                let mut shared = self.redis.lock().unwrap_or_else(PoisonError::into_inner);
                shared.retain(|_, store| store.strong_count() > 0);
                if let Some(store) = shared.get(settings).and_then(Weak::upgrade) {
                    return Ok(Store::Redis(store));
                }
                let store = Arc::new(RedisStore::open(settings)?);
                shared.insert(settings.clone(), Arc::downgrade(&store));
                Ok(Store::Redis(store))
            }
            Backend::Nats(settings) => {
                let live = {
                    let mut shared = self.nats.lock().unwrap_or_else(PoisonError::into_inner);
                    shared.retain(|_, store| store.strong_count() > 0);
                    shared.get(settings).and_then(Weak::upgrade)
                };
                if let Some(store) = live {
                    return Ok(Store::Nats(store));
                }
                // Link hooks run one at a time: no other put connects meanwhile.
                let store = Arc::new(NatsStore::connect(settings).await?);
                self.nats
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(settings.clone(), Arc::downgrade(&store));
                Ok(Store::Nats(store))
            }
        }
    }

    /// The store of the link the call came over.
    fn store(&self, cx: &Context) -> Result<Arc<Store>> {
        self.stores.for_context(cx).ok_or_else(|| Error::NoLink {
            source_id: cx.source_id().unwrap_or("an unnamed caller").to_owned(),
            link_name: cx.link_name().to_owned(),
        })
    }

    /// The store and bucket name behind a `wasi:keyvalue` bucket handle.
    fn bucket(
        &self,
        cx: &Context,
        handle: &ResourceBorrow<wasi::keyvalue::store::Bucket>,
    ) -> Result<(Arc<Store>, Arc<String>)> {
        let bucket = self.buckets.get(cx, handle.as_bytes())?;
        Ok((self.store(cx)?, bucket))
    }
}

impl Provider for KeyValueProvider {
    async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
        bindings::serve(server, self).await
    }

    async fn init(&self, init: &InitContext) -> HookResult {
        let _ = self.handle.set(init.handle().clone());
        *self.defaults.lock().unwrap_or_else(PoisonError::into_inner) = init.config().clone();
        Ok(())
    }

    /// New defaults apply to links put from now on; live links keep their stores.
    async fn config_updated(&self, config: &Config) -> HookResult {
        *self.defaults.lock().unwrap_or_else(PoisonError::into_inner) = config.clone();
        Ok(())
    }

    /// A new link, or new settings for a live one. A memory link that stays memory keeps its
    /// data; any other change makes a new store (the old one closes when its last call ends).
    async fn link_put_as_target(&self, link: &Link) -> HookResult {
        let backend = Backend::for_link(&self.defaults(), link)?;
        if backend == Backend::Memory
            && let Some(current) = self.stores.get(link.key())
            && matches!(*current, Store::Memory(_))
        {
            return Ok(());
        }
        let store = self.build(&backend).await?;
        // Watchers open the new store's feeds before calls reach it: no change goes unheard.
        let watchers = self.watchers.prepare(link.key(), &store).await;
        let store = self
            .stores
            .put(link, async { Ok::<_, Error>(store) })
            .await?;
        watchers.attach(&store);
        tracing::info!(link = %link.key(), ?backend, "keyvalue link ready");
        Ok(())
    }

    async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
        self.stores.remove(link.key());
        self.buckets.remove_link(link.key());
        self.watchers.detach(link.key());
        Ok(())
    }

    /// A link to a component that may watch keys (source config `watch` and `bucket`).
    async fn link_put_as_source(&self, link: &Link) -> HookResult {
        let handle = self.handle.get().ok_or("the provider has not started")?;
        self.watchers
            .put(handle, link, |watched| self.stores.get(watched))
            .await?;
        Ok(())
    }

    async fn link_deleted_as_source(&self, link: &Link) -> HookResult {
        self.watchers.remove(link.key());
        Ok(())
    }

    async fn shutdown(&self) -> HookResult {
        self.watchers.clear();
        self.stores.clear();
        Ok(())
    }
}

type WrpcError = wrpc::keyvalue::store::Error;
type WasiError = wasi::keyvalue::store::Error;

impl wrpc::keyvalue::store::Handler<Context> for KeyValueProvider {
    async fn get(
        &self,
        cx: Context,
        bucket: String,
        key: String,
    ) -> Result<Option<Bytes>, WrpcError> {
        Ok(self.store(&cx)?.get(&bucket, &key).await?)
    }

    async fn set(
        &self,
        cx: Context,
        bucket: String,
        key: String,
        value: Bytes,
    ) -> Result<(), WrpcError> {
        Ok(self.store(&cx)?.set(&bucket, &key, value).await?)
    }

    async fn delete(&self, cx: Context, bucket: String, key: String) -> Result<(), WrpcError> {
        Ok(self.store(&cx)?.delete(&bucket, &key).await?)
    }

    async fn exists(&self, cx: Context, bucket: String, key: String) -> Result<bool, WrpcError> {
        Ok(self.store(&cx)?.exists(&bucket, &key).await?)
    }

    async fn list_keys(
        &self,
        cx: Context,
        bucket: String,
        cursor: Option<u64>,
    ) -> Result<wrpc::keyvalue::store::KeyResponse, WrpcError> {
        let (keys, cursor) = self.store(&cx)?.list_keys(&bucket, cursor).await?;
        Ok(wrpc::keyvalue::store::KeyResponse { keys, cursor })
    }
}

impl wrpc::keyvalue::atomics::Handler<Context> for KeyValueProvider {
    async fn increment(
        &self,
        cx: Context,
        bucket: String,
        key: String,
        delta: u64,
    ) -> Result<u64, WrpcError> {
        Ok(self.store(&cx)?.increment(&bucket, &key, delta).await?)
    }
}

impl wrpc::keyvalue::batch::Handler<Context> for KeyValueProvider {
    async fn get_many(
        &self,
        cx: Context,
        bucket: String,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>, WrpcError> {
        Ok(self.store(&cx)?.get_many(&bucket, keys).await?)
    }

    async fn set_many(
        &self,
        cx: Context,
        bucket: String,
        key_values: Vec<(String, Bytes)>,
    ) -> Result<(), WrpcError> {
        Ok(self.store(&cx)?.set_many(&bucket, key_values).await?)
    }

    async fn delete_many(
        &self,
        cx: Context,
        bucket: String,
        keys: Vec<String>,
    ) -> Result<(), WrpcError> {
        Ok(self.store(&cx)?.delete_many(&bucket, keys).await?)
    }
}

type BucketOwn = ResourceOwn<wasi::keyvalue::store::Bucket>;
type BucketBorrow = ResourceBorrow<wasi::keyvalue::store::Bucket>;

impl wasi::keyvalue::store::Handler<Context> for KeyValueProvider {
    async fn open(&self, cx: Context, identifier: String) -> Result<BucketOwn, WasiError> {
        self.store(&cx)?.open(&identifier).await?;
        Ok(ResourceOwn::new(self.buckets.insert(&cx, identifier)))
    }
}

impl wasi::keyvalue::store::BucketHandler<Context> for KeyValueProvider {
    async fn get(
        &self,
        cx: Context,
        this: BucketBorrow,
        key: String,
    ) -> Result<Option<Bytes>, WasiError> {
        let (store, bucket) = self.bucket(&cx, &this)?;
        Ok(store.get(&bucket, &key).await?)
    }

    async fn set(
        &self,
        cx: Context,
        this: BucketBorrow,
        key: String,
        value: Bytes,
    ) -> Result<(), WasiError> {
        let (store, bucket) = self.bucket(&cx, &this)?;
        Ok(store.set(&bucket, &key, value).await?)
    }

    async fn delete(&self, cx: Context, this: BucketBorrow, key: String) -> Result<(), WasiError> {
        let (store, bucket) = self.bucket(&cx, &this)?;
        Ok(store.delete(&bucket, &key).await?)
    }

    async fn exists(
        &self,
        cx: Context,
        this: BucketBorrow,
        key: String,
    ) -> Result<bool, WasiError> {
        let (store, bucket) = self.bucket(&cx, &this)?;
        Ok(store.exists(&bucket, &key).await?)
    }

    async fn list_keys(
        &self,
        cx: Context,
        this: BucketBorrow,
        cursor: Option<u64>,
    ) -> Result<wasi::keyvalue::store::KeyResponse, WasiError> {
        let (store, bucket) = self.bucket(&cx, &this)?;
        let (keys, cursor) = store.list_keys(&bucket, cursor).await?;
        Ok(wasi::keyvalue::store::KeyResponse { keys, cursor })
    }
}

impl wasi::keyvalue::atomics::Handler<Context> for KeyValueProvider {
    async fn increment(
        &self,
        cx: Context,
        bucket: BucketBorrow,
        key: String,
        delta: u64,
    ) -> Result<u64, WasiError> {
        let (store, bucket) = self.bucket(&cx, &bucket)?;
        Ok(store.increment(&bucket, &key, delta).await?)
    }
}

impl wasi::keyvalue::batch::Handler<Context> for KeyValueProvider {
    async fn get_many(
        &self,
        cx: Context,
        bucket: BucketBorrow,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>, WasiError> {
        let (store, bucket) = self.bucket(&cx, &bucket)?;
        Ok(store.get_many(&bucket, keys).await?)
    }

    async fn set_many(
        &self,
        cx: Context,
        bucket: BucketBorrow,
        key_values: Vec<(String, Bytes)>,
    ) -> Result<(), WasiError> {
        let (store, bucket) = self.bucket(&cx, &bucket)?;
        Ok(store.set_many(&bucket, key_values).await?)
    }

    async fn delete_many(
        &self,
        cx: Context,
        bucket: BucketBorrow,
        keys: Vec<String>,
    ) -> Result<(), WasiError> {
        let (store, bucket) = self.bucket(&cx, &bucket)?;
        Ok(store.delete_many(&bucket, keys).await?)
    }
}
