//! Test support: real servers on free loopback ports, private to one test.
//!
//! Tests never share state with each other or with a server already running on the machine:
//! each [`NatsServer`] is a fresh `nats-server` process with its own JetStream directory,
//! stopped when dropped.

mod nats_server;

pub use self::nats_server::{NatsServer, NatsServerConfig};
