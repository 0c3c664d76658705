//! The WIT handlers: each call finds the store of the link it came over (and, for
//! `wasi:keyvalue`, the bucket behind its handle) and forwards to it.

use bytes::Bytes;
use provider_sdk::provider::Context;
use provider_sdk::wire::{ResourceBorrow, ResourceOwn};

use crate::bindings::exports::{wasi, wrpc};
use crate::provider::KeyValueProvider;

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
        Ok(ResourceOwn::new(self.open_bucket(&cx, identifier).await?))
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
