//! A stand-in wasmCloud host and real servers on free loopback ports, private to one test: what
//! provider tests, benchmarks and command-line tools use to run a provider without a lattice.
//!
//! Tests never share state with each other or with a server already running on the machine:
//! each [`NatsServer`] is a fresh `nats-server` process with its own JetStream directory, each
//! [`RedisServer`] a fresh `redis-server`, each [`NatsCluster`] routed `nats-server` processes
//! with JetStream stores of their own, all stopped when dropped. A [`TestHost`] starts a
//! provider and drives it over the control protocol as a wasmCloud host would. An
//! [`otlp::OtlpReceiver`] stands in for an OpenTelemetry collector and keeps what a provider
//! exports, for tests of its telemetry.

mod certificates;
pub mod criterion;
mod host;
mod kubernetes_mount;
mod large_stack;
mod logs;
mod nats_cluster;
mod nats_server;
pub mod otlp;
mod redis_server;

pub use self::certificates::TestCertificates;
pub use self::host::{
    ChildProvider, TestHost, TestLink, cpu_ticks, eventually, resident_kib, within,
};
pub use self::kubernetes_mount::KubernetesMount;
pub use self::large_stack::run_on_large_stack;
pub use self::logs::Logs;
pub use self::nats_cluster::NatsCluster;
pub use self::nats_server::{NatsServer, NatsServerConfig};
pub use self::redis_server::RedisServer;
