//! Creating a JetStream key-value bucket on any JetStream server.
//!
//! `async_nats`'s `create_key_value` first reads the account's JetStream info, whose shape
//! changed in nats-server 2.10; against the 2.9 servers Debian ships, that read fails. The
//! bucket itself is only a stream with a known configuration, which every JetStream server
//! creates alike.

use async_nats::jetstream::{self, kv::Store, stream::DiscardPolicy};

use crate::error::{Error, Result};

/// Opens the key-value bucket `bucket`, creating it if it does not exist: keeping `history`
/// values per key, stored on `replicas` servers of a JetStream cluster (1 to 5; with 3, an
/// acknowledged write survives the loss of a server). An existing bucket is opened as it is.
pub async fn open_or_create_kv_bucket(
    js: &jetstream::Context,
    bucket: &str,
    history: i64,
    replicas: usize,
) -> Result<Store> {
    if let Ok(store) = js.get_key_value(bucket).await {
        return Ok(store);
    }
    let config = jetstream::stream::Config {
        name: format!("KV_{bucket}"),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: history.max(1),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        num_replicas: replicas.max(1),
        ..Default::default()
    };
    js.get_or_create_stream(config)
        .await
        .map_err(|error| Error::nats("create key-value bucket", error))?;
    js.get_key_value(bucket)
        .await
        .map_err(|error| Error::nats("open key-value bucket", error))
}
