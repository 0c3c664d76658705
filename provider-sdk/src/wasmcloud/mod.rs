//! The wasmCloud 1.x host ↔ provider protocol: what a host writes to a provider and where.
//!
//! A provider written with [`crate::provider`] never needs this module: the runtime reads these
//! shapes and subscribes these subjects itself. It is public for tools that play a host (a test
//! harness, a command-line client) and must write exactly what a host writes.
//!
//! - [`HostData`]: the line of base64 JSON a host writes on a provider's stdin, with the
//!   [`LinkDefinition`]s it starts with; [`SecretValue`] is how it writes a secret.
//! - Control subjects ([`link_put_subject`], [`health_subject`], ...) and the named-configuration
//!   bucket ([`config_bucket`]); [`Health`] and [`ShutdownRequest`] are the bodies of the health
//!   and shutdown exchanges.
//! - [`seal_secrets`]: link secrets sealed for a provider's xkey, as a host seals them.

mod host_data;
mod kv_bucket;
mod sealed;
mod subjects;

pub use self::host_data::{Health, HostData, Level, LinkDefinition, SecretValue, ShutdownRequest};
pub use self::kv_bucket::open_or_create_kv_bucket;
pub use self::sealed::seal_secrets;
pub(crate) use self::sealed::{SecretKeys, open_without_keys};
pub(crate) use self::subjects::ControlSubject;
pub use self::subjects::{
    config_bucket, config_update_subject, control_prefix, health_subject, link_delete_subject,
    link_put_subject, sealed_link_put_subject, shutdown_subject,
};
