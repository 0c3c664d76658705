//! What both test files start with: the lattice's NATS, a separate bus the links connect to,
//! a test host and the provider running in-process.

use std::sync::Arc;

use messaging_provider::MessagingProvider;
use provider_sdk::provider::RunningProvider;
use provider_testing::{NatsServer, NatsServerConfig, TestHost};

pub const PROVIDER: &str = "messaging-provider";

pub struct Setup {
    /// The lattice's NATS (the host and the provider's control plane).
    #[allow(dead_code, reason = "jetstream.rs only keeps it running")]
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
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let provider = Arc::new(MessagingProvider::default());
    let running = host.start(Arc::clone(&provider)).await.unwrap();
    Setup {
        lattice: nats,
        bus,
        host,
        provider,
        running: Some(running),
    }
}
