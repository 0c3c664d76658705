//! What the benchmarks run against: the lattice's NATS and the bus, the provider started by a
//! test host, the component played in-process (a `generate!` handler server counting what it
//! hears, and a `generate!` consumer client), and the raw NATS subscriber and responder on the
//! bus that the provider is compared with.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt as _;
use messaging_provider::MessagingProvider;
use messaging_provider::client::exports::wasmcloud::messaging::handler;
use messaging_provider::client::wasmcloud::messaging::consumer;
use messaging_provider::client::wasmcloud::messaging::types::BrokerMessage;
use provider_sdk::provider::RunningProvider;
use provider_sdk::transport::{Client, InvocationContext, ServeOptions, Serving};
use provider_testing::{NatsServer, TestHost, TestLink, eventually};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The provider's id at the test host.
const PROVIDER: &str = "messaging-provider";
/// The component's id: it calls `consumer` and serves `handler`.
const COMPONENT: &str = "bench";
/// The body of every delivered message (the component checks it).
pub const BODY: &[u8] = b"0123456789abcdef";
/// The subject of the raw responder, answered with the request's body.
pub const ECHO: &str = "bench.echo";
/// The subject publishes go to (nobody subscribes).
pub const SINK: &str = "bench.sink";
/// How long a request may take, in milliseconds, raw and through the provider (a failure, not
/// a measurement).
pub const REQUEST_TIMEOUT_MS: u32 = 2_000;

/// Where delivered messages go: a raw subscriber or a handler link of the provider.
#[derive(Clone, Copy, Debug)]
pub struct Destination {
    /// The benchmark function's name.
    pub name: &'static str,
    /// The subject published to.
    pub subject: &'static str,
    /// The handler link's `max_in_flight`; `None`: the raw subscriber.
    pub max_in_flight: Option<usize>,
}

/// The delivery destinations, in the order they are measured and reported; the first is the
/// raw baseline.
pub const DESTINATIONS: [Destination; 3] = [
    Destination {
        name: "raw-nats",
        subject: "bench.deliver.raw",
        max_in_flight: None,
    },
    // The provider's default `max_in_flight`.
    Destination {
        name: "provider-mif32",
        subject: "bench.deliver.mif32",
        max_in_flight: Some(32),
    },
    // The provider-wide default limit (`provider_max_in_flight`) is 256 too.
    Destination {
        name: "provider-mif256",
        subject: "bench.deliver.mif256",
        max_in_flight: Some(256),
    },
];

/// Messages counted as they arrive at one destination, and a wait for the ones expected.
#[derive(Debug, Default)]
pub struct Counter {
    arrived: AtomicU64,
    expected: AtomicU64,
    all_arrived: Notify,
}

impl Counter {
    fn arrived(&self) {
        let arrived = self.arrived.fetch_add(1, Ordering::SeqCst) + 1;
        if arrived >= self.expected.load(Ordering::SeqCst) {
            // Stores a permit when nobody waits; the waiter checks the count again anyway.
            self.all_arrived.notify_one();
        }
    }

    /// How many messages arrived so far.
    pub fn count(&self) -> u64 {
        self.arrived.load(Ordering::SeqCst)
    }

    /// Expects `n` more messages (call before sending them); returns the total to wait for.
    pub fn expect(&self, n: u64) -> u64 {
        self.expected.fetch_add(n, Ordering::SeqCst) + n
    }

    /// Waits until `expected` messages arrived in all, until `deadline`; returns how many are
    /// missing then (0: all arrived). Missing ones are no longer expected, so that the next
    /// iteration waits only for its own messages.
    pub async fn wait(&self, expected: u64, deadline: Instant) -> u64 {
        loop {
            let all_arrived = self.all_arrived.notified();
            if self.count() >= expected {
                return 0;
            }
            if tokio::time::timeout_at(deadline, all_arrived)
                .await
                .is_err()
            {
                let missing = expected.saturating_sub(self.count());
                if missing > 0 {
                    self.expected.fetch_sub(missing, Ordering::SeqCst);
                }
                return missing;
            }
        }
    }

    /// Forgets what arrived beyond what was expected (probes while starting).
    fn settle(&self) {
        self.expected.store(self.count(), Ordering::SeqCst);
    }
}

/// The component's `handler`: counts each message on the counter of the link it came over,
/// after checking its body; answers `err` to anything else (the provider counts it failed).
#[derive(Clone, Debug)]
struct Component {
    /// By link name.
    counters: Arc<HashMap<&'static str, Arc<Counter>>>,
}

impl handler::Handler<InvocationContext> for Component {
    async fn handle_message(
        &self,
        cx: InvocationContext,
        msg: BrokerMessage,
    ) -> Result<(), String> {
        let link = cx.header("link-name").unwrap_or("default");
        let Some(counter) = self.counters.get(link) else {
            return Err(format!("no handler link named {link:?} in this benchmark"));
        };
        if msg.body != BODY {
            return Err(format!(
                "unexpected body on {}: {:?}",
                msg.subject, msg.body
            ));
        }
        counter.arrived();
        Ok(())
    }
}

/// Everything the benchmarks call, and what must stay alive while they run.
pub struct Stacks {
    /// A plain async-nats client on the bus: publishes every delivered message, makes the raw
    /// requests and publishes.
    pub bus_client: async_nats::Client,
    /// The component's client over its consumer link.
    pub consumer: Client,
    /// Per destination of [`DESTINATIONS`], in that order.
    pub counters: Vec<Arc<Counter>>,
    pub provider: Arc<MessagingProvider>,
    running: Option<RunningProvider>,
    tasks: Vec<JoinHandle<()>>,
    _serving: Serving,
    _host: TestHost,
    _bus: NatsServer,
    _lattice: NatsServer,
}

impl Stacks {
    /// Starts everything and checks that each path works once.
    pub async fn start() -> anyhow::Result<Self> {
        let lattice = NatsServer::start()
            .context("starting nats-server for the lattice (is nats-server installed?)")?;
        let bus = NatsServer::start().context("starting nats-server for the bus")?;
        let host = TestHost::new(&lattice.url(), PROVIDER).await?;
        let provider = Arc::new(MessagingProvider::default());
        let running = host.start(Arc::clone(&provider)).await?;
        let bus_client = bus.connect().await?;
        let counters: Vec<Arc<Counter>> = DESTINATIONS.iter().map(|_| Arc::default()).collect();
        let mut tasks = Vec::new();

        // Raw: a subscriber of its own on the bus, and a responder echoing requests.
        let subscriber = bus.connect().await?;
        let mut messages = subscriber.subscribe(DESTINATIONS[0].subject).await?;
        let raw = Arc::clone(&counters[0]);
        tasks.push(tokio::spawn(async move {
            let _subscriber = subscriber;
            while let Some(message) = messages.next().await {
                if message.payload == BODY {
                    raw.arrived();
                }
            }
        }));
        let responder = bus.connect().await?;
        let mut requests = responder.subscribe(ECHO).await?;
        responder.flush().await?;
        tasks.push(tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let Some(reply) = request.reply else { continue };
                if responder.publish(reply, request.payload).await.is_err() {
                    break;
                }
            }
        }));

        // The component: serves `handler` on the lattice, then its handler links are put.
        let by_link = DESTINATIONS
            .iter()
            .zip(&counters)
            .filter(|(destination, _)| destination.max_in_flight.is_some())
            .map(|(destination, counter)| (link_name(destination), Arc::clone(counter)))
            .collect();
        let server = host
            .transport()
            .server(ServeOptions::new(format!("{}.{COMPONENT}", host.lattice())));
        let component = Component {
            counters: Arc::new(by_link),
        };
        let serving = handler::serve(&server, component).await?;
        let mut handlers = 0;
        for destination in &DESTINATIONS {
            let Some(max_in_flight) = destination.max_in_flight else {
                continue;
            };
            let link = TestLink::new(
                PROVIDER,
                COMPONENT,
                link_name(destination),
                ("wasmcloud", "messaging"),
                &["handler"],
            )
            .source_config("cluster_uris", &bus.url())
            .source_config("subscriptions", destination.subject)
            .source_config("max_in_flight", &max_in_flight.to_string());
            host.put_link(&link).await?;
            handlers += 1;
            anyhow::ensure!(
                eventually(|| async { provider.links().1 == handlers }).await,
                "the handler link {} never subscribed",
                link_name(destination)
            );
        }

        // The consumer link, on the bus.
        let link = TestLink::new(
            COMPONENT,
            PROVIDER,
            "default",
            ("wasmcloud", "messaging"),
            &["consumer"],
        )
        .target_config("cluster_uris", &bus.url());
        host.put_link(&link).await?;
        let consumer = host.component(COMPONENT, "default")?;

        let stacks = Self {
            bus_client,
            consumer,
            counters,
            provider,
            running: Some(running),
            tasks,
            _serving: serving,
            _host: host,
            _bus: bus,
            _lattice: lattice,
        };
        stacks.ready().await?;
        Ok(stacks)
    }

    /// Waits until every path works: a message reaches each destination, a request comes back
    /// raw and through the provider.
    async fn ready(&self) -> anyhow::Result<()> {
        for (destination, counter) in DESTINATIONS.iter().zip(&self.counters) {
            let arrived = eventually(|| async {
                let _ = self
                    .bus_client
                    .publish(destination.subject, Bytes::from_static(BODY))
                    .await;
                let _ = self.bus_client.flush().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                counter.count() > 0
            })
            .await;
            anyhow::ensure!(arrived, "no message ever reached {}", destination.name);
        }
        let raw = eventually(|| async { raw_request(&self.bus_client).await.is_ok() }).await;
        anyhow::ensure!(raw, "the raw responder never answered");
        let provider = eventually(|| async { provider_request(&self.consumer).await.is_ok() });
        anyhow::ensure!(
            provider.await,
            "no request through the provider ever came back"
        );
        // Probes still on their way arrive, then only what the benchmarks send is expected.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for counter in &self.counters {
            counter.settle();
        }
        Ok(())
    }

    /// Shuts the provider down (draining its deliveries) and stops everything.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.shutdown().await?;
        }
        for task in &self.tasks {
            task.abort();
        }
        Ok(())
    }
}

/// The handler link's name for `destination`.
fn link_name(destination: &Destination) -> &'static str {
    destination
        .name
        .strip_prefix("provider-")
        .unwrap_or(destination.name)
}

/// A raw request to the echo responder, its answer checked.
pub async fn raw_request(bus: &async_nats::Client) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(u64::from(REQUEST_TIMEOUT_MS));
    let reply = tokio::time::timeout(timeout, bus.request(ECHO, Bytes::from_static(BODY)))
        .await
        .context("raw request timed out")??;
    anyhow::ensure!(
        reply.payload == BODY,
        "raw echo answered {:?}",
        reply.payload
    );
    Ok(())
}

/// The component's `consumer.request` to the echo responder, its answer checked.
pub async fn provider_request(consumer: &Client) -> anyhow::Result<()> {
    let reply = consumer::request(consumer, ECHO, BODY, REQUEST_TIMEOUT_MS)
        .await?
        .map_err(|error| anyhow::anyhow!("request through the provider failed: {error}"))?;
    anyhow::ensure!(reply.body == BODY, "echo answered {:?}", reply.body);
    Ok(())
}

/// A raw publish, flushed (the message is written to the socket).
pub async fn raw_publish(bus: &async_nats::Client) -> anyhow::Result<()> {
    bus.publish(SINK, Bytes::from_static(BODY)).await?;
    bus.flush().await?;
    Ok(())
}

/// The component's `consumer.publish`.
pub async fn provider_publish(consumer: &Client) -> anyhow::Result<()> {
    let message = BrokerMessage {
        subject: SINK.to_owned(),
        body: Bytes::from_static(BODY),
        reply_to: None,
    };
    consumer::publish(consumer, &message)
        .await?
        .map_err(|error| anyhow::anyhow!("publish through the provider failed: {error}"))
}
