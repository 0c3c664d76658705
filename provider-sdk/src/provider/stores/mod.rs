//! Where named configuration and secrets are kept: the [`ConfigStore`] seam, and the stores the
//! runtime ships with.
//!
//! A provider (`--config`) or a link (`"target_config": ["redis"]` in a links file) names
//! configurations. The runtime looks each name up in every configuration store, in the order
//! the stores were given, and merges what they hold for it (a later store wins a key); then it
//! merges the names in the order they were given (a later name wins). The stores are watched,
//! and a change reaches the hooks of whatever names it.
//!
//! - [`BucketStore`]: the lattice's `CONFIGDATA_<lattice>` JetStream bucket, where wasmCloud
//!   keeps named configuration;
//! - [`DirStore`]: a folder laid out the way Kubernetes mounts ConfigMaps, one folder (or one
//!   JSON file) per name, watched with inotify;
//! - [`EnvStore`]: environment variables `WASMCLOUD_CONFIG_<NAME>__<KEY>`;
//! - anything else that implements [`ConfigStore`] (a secret manager, an API), added with
//!   [`Startup::add_config_store`](super::Startup::add_config_store).
//!
//! Secrets are kept apart: a [`SecretsDir`] reads mounted Secrets in the same layout as a
//! [`DirStore`], its values go only into [`Secrets`](super::Secrets), which never shows a value,
//! and no error or log line quotes one.

mod args;
mod bucket;
mod dir;
mod env;
mod mounted;
mod secrets;
mod store;
mod watch;

pub use self::args::{StoreArgs, StoreKind};
pub use self::bucket::BucketStore;
pub use self::dir::DirStore;
pub use self::env::EnvStore;
pub use self::secrets::SecretsDir;
pub use self::store::{ConfigStore, StoreChanges, Values, Watching};
pub(crate) use self::store::{STORE_EVENT_QUEUE, StoreEvent};
