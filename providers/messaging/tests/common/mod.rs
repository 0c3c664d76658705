//! What the test files start with: the lattice's NATS, a separate bus the links connect to,
//! a test host and the provider running in-process; and in `jetstream`, what the JetStream
//! test files share.

#![allow(
    dead_code,
    reason = "each test file compiles this module on its own and uses a part of it"
)]

use std::sync::Arc;

use messaging_provider::MessagingProvider;
use provider_sdk::provider::RunningProvider;
use provider_testing::{NatsServer, NatsServerConfig, TestHost};

pub mod jetstream;

pub const PROVIDER: &str = "messaging-provider";

pub struct Setup {
    /// The lattice's NATS (the host and the provider's control plane).
    pub lattice: NatsServer,
    pub bus: NatsServer,
    pub host: TestHost,
    pub provider: Arc<MessagingProvider>,
    pub running: Option<RunningProvider>,
}

/// The lattice's NATS, a bus started with `bus`, and the provider started by a test host.
pub async fn setup(bus: NatsServerConfig) -> Setup {
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start_with(bus).unwrap();
    let (host, provider, running) = start_provider(&nats).await;
    Setup {
        lattice: nats,
        bus,
        host,
        provider,
        running: Some(running),
    }
}

/// A test host on `lattice` and the provider it started, in-process.
pub async fn start_provider(
    lattice: &NatsServer,
) -> (TestHost, Arc<MessagingProvider>, RunningProvider) {
    let host = TestHost::new(&lattice.url(), PROVIDER).await.unwrap();
    let provider = Arc::new(MessagingProvider::default());
    let running = host.start(Arc::clone(&provider)).await.unwrap();
    (host, provider, running)
}
