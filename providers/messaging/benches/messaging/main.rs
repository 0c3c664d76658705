//! The messaging provider against raw NATS, in one run, on two private `nats-server`s (the
//! lattice, carrying wRPC, and the bus the links connect to):
//!
//! - `delivery/1000`: 1,000 messages of 16 B published on the bus by a plain async-nats client
//!   (then flushed); an iteration ends when all 1,000 arrived. `raw-nats`: at a plain async-nats
//!   subscriber. `provider-mif32` / `provider-mif256`: at the component, through a handler link
//!   with `subscriptions` and `max_in_flight` 32 (the default) or 256 (the default
//!   `provider_max_in_flight` too); the provider calls `handle-message` once per message over
//!   the lattice, and the component (a `generate!` handler server in this process) counts it.
//! - `request/c1`, `request/c32`: one request, or 32 concurrent ones, to an echo responder on
//!   the bus. `raw-nats`: async-nats request/reply. `provider`: the component's
//!   `consumer.request` (a `generate!` client on the lattice, with the consumer link's
//!   `source-id`/`link-name` headers), which the provider makes on the link's connection.
//! - `publish/c1`: one publish. `raw-nats`: async-nats `publish` then `flush` (the message is
//!   written to the socket). `provider`: the component's `consumer.publish`, answered once the
//!   provider's client has queued the message (it is not flushed).
//!
//! A lost message or failed call does not abort the run: it is counted per benchmark, its first
//! occurrences are printed, and the totals appear in the summary, with the provider's delivery
//! counts (under `--test`, any loss or failure fails the run). A delivery iteration waits at most
//! [`DELIVERY_WAIT`] for its messages.
//!
//! After the groups ran, a summary table compares the provider with raw NATS, read back from
//! criterion's `estimates.json` files written by this run (skipped under `--test` or when a
//! filter left a benchmark out). Set `RUST_LOG` to see the provider's logs.
//!
//! ```text
//! cargo bench -p messaging-provider --bench messaging
//! cargo bench -p messaging-provider --bench messaging -- --test   # each benchmark once
//! ```

mod stacks;
mod summary;

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput};
use futures::future::join_all;
use provider_testing::criterion::criterion_test_mode;
use tokio::runtime::Runtime;
use tokio::time::Instant;

use stacks::{BODY, Counter, DESTINATIONS, Stacks};

/// Messages published per delivery iteration.
const MESSAGES: u64 = 1_000;
/// How long a delivery iteration waits for its messages before counting the missing as lost.
const DELIVERY_WAIT: Duration = Duration::from_secs(5);
/// Concurrency levels of the request benchmarks: calls in flight per iteration.
const REQUESTS: [usize; 2] = [1, 32];

/// One benchmark: criterion's group and function, and the messages or calls per iteration.
#[derive(Clone, Copy, Debug)]
struct Bench {
    group: &'static str,
    function: &'static str,
    per_iteration: u64,
}

const RAW: &str = "raw-nats";
const PROVIDER: &str = "provider";
const DELIVERY: &str = "delivery/1000";

/// Every benchmark, in the order they run; an index into this is a benchmark's id.
const BENCHES: [Bench; 9] = [
    Bench::new(DELIVERY, DESTINATIONS[0].name, MESSAGES),
    Bench::new(DELIVERY, DESTINATIONS[1].name, MESSAGES),
    Bench::new(DELIVERY, DESTINATIONS[2].name, MESSAGES),
    Bench::new("request/c1", RAW, 1),
    Bench::new("request/c1", PROVIDER, 1),
    Bench::new("request/c32", RAW, 32),
    Bench::new("request/c32", PROVIDER, 32),
    Bench::new("publish/c1", RAW, 1),
    Bench::new("publish/c1", PROVIDER, 1),
];

/// The provider / raw pairs the summary compares, as ids.
const RATIOS: [(usize, usize); 5] = [(1, 0), (2, 0), (4, 3), (6, 5), (8, 7)];

impl Bench {
    const fn new(group: &'static str, function: &'static str, per_iteration: u64) -> Self {
        Self {
            group,
            function,
            per_iteration,
        }
    }

    /// The id of `group`/`function`.
    fn id(group: &str, function: &str) -> usize {
        BENCHES
            .iter()
            .position(|bench| bench.group == group && bench.function == function)
            .expect("every benchmark is listed in BENCHES")
    }
}

/// Lost messages or failed calls per benchmark id, warm-up included.
static FAILURES: [AtomicU64; BENCHES.len()] = [const { AtomicU64::new(0) }; BENCHES.len()];
/// How many failures per benchmark are printed as they happen.
const FAILURES_PRINTED: u64 = 3;

#[cold]
fn failed(id: usize, count: u64, error: &dyn std::fmt::Display) {
    let before = FAILURES[id].fetch_add(count, Ordering::Relaxed);
    if before < FAILURES_PRINTED {
        let bench = BENCHES[id];
        eprintln!("{}/{}: {error:#}", bench.group, bench.function);
    }
}

/// Publishes [`MESSAGES`] to `subject` and waits until they all reached `counter`, counting the
/// ones that did not arrive within [`DELIVERY_WAIT`] as lost.
async fn deliver(id: usize, bus: &async_nats::Client, subject: &'static str, counter: &Counter) {
    let expected = counter.expect(MESSAGES);
    let mut refused = None;
    for _ in 0..MESSAGES {
        if let Err(error) = bus.publish(subject, Bytes::from_static(BODY)).await {
            refused.get_or_insert(error);
        }
    }
    if let Err(error) = bus.flush().await {
        failed(id, 0, &format!("flush failed: {error}"));
    }
    let missing = counter.wait(expected, Instant::now() + DELIVERY_WAIT).await;
    if missing > 0 {
        let why = refused.map_or(String::new(), |error| {
            format!(" (a publish failed: {error})")
        });
        let error = format!(
            "{missing} of {MESSAGES} messages did not arrive within {DELIVERY_WAIT:?}{why}"
        );
        failed(id, missing, &error);
    }
}

/// Runs `call` `n` times concurrently (all of them to the end) and counts the failures of
/// benchmark `id`.
async fn concurrently<F, Fut>(id: usize, n: usize, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for result in black_box(join_all((0..n).map(|_| call())).await) {
        if let Err(error) = result {
            failed(id, 1, &error);
        }
    }
}

fn bench_delivery(c: &mut Criterion, runtime: &Runtime, stacks: &Stacks) {
    let mut group = c.benchmark_group(DELIVERY);
    // An iteration takes milliseconds: the same number of them per sample.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.throughput(Throughput::Elements(MESSAGES));
    for (destination, counter) in DESTINATIONS.iter().zip(&stacks.counters) {
        let id = Bench::id(DELIVERY, destination.name);
        group.bench_function(destination.name, |b| {
            b.to_async(runtime)
                .iter(|| deliver(id, &stacks.bus_client, destination.subject, counter))
        });
    }
    group.finish();
}

fn bench_calls(c: &mut Criterion, runtime: &Runtime, stacks: &Stacks) {
    let (bus, consumer) = (&stacks.bus_client, &stacks.consumer);
    for n in REQUESTS {
        let name = format!("request/c{n}");
        let mut group = c.benchmark_group(&name);
        group.throughput(Throughput::Elements(n as u64));
        let id = Bench::id(&name, RAW);
        group.bench_function(RAW, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id, n, || stacks::raw_request(bus)))
        });
        let id = Bench::id(&name, PROVIDER);
        group.bench_function(PROVIDER, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id, n, || stacks::provider_request(consumer)))
        });
        group.finish();
    }

    let mut group = c.benchmark_group("publish/c1");
    group.throughput(Throughput::Elements(1));
    let id = Bench::id("publish/c1", RAW);
    group.bench_function(RAW, |b| {
        b.to_async(runtime)
            .iter(|| concurrently(id, 1, || stacks::raw_publish(bus)))
    });
    let id = Bench::id("publish/c1", PROVIDER);
    group.bench_function(PROVIDER, |b| {
        b.to_async(runtime)
            .iter(|| concurrently(id, 1, || stacks::provider_publish(consumer)))
    });
    group.finish();
}

fn main() -> anyhow::Result<()> {
    let since = SystemTime::now();
    // Logs only on request (`RUST_LOG=messaging_provider=debug`), so the measured code pays
    // nothing for them otherwise.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let stacks = runtime.block_on(Stacks::start())?;

    // A whole run takes about 70 s (setting up included).
    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    bench_delivery(&mut criterion, &runtime, &stacks);
    bench_calls(&mut criterion, &runtime, &stacks);
    criterion.final_summary();

    // Every message the component counted came through the provider (probes included), which
    // should have counted each as delivered; read once the provider has shut down, which waits
    // for deliveries in flight.
    let counters: Vec<Arc<Counter>> = DESTINATIONS
        .iter()
        .zip(&stacks.counters)
        .filter(|(destination, _)| destination.max_in_flight.is_some())
        .map(|(_, counter)| Arc::clone(counter))
        .collect();
    let provider = Arc::clone(&stacks.provider);
    runtime.block_on(stacks.stop())?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    let stats = provider.delivery_stats();
    let heard: u64 = counters.iter().map(|counter| counter.count()).sum();

    let failures: Vec<u64> = FAILURES.iter().map(|f| f.load(Ordering::Relaxed)).collect();
    if !criterion_test_mode() {
        summary::print(since, &failures);
    }
    println!(
        "provider deliveries: {} delivered, {} failed, {} dropped; the component heard {heard}",
        stats.delivered, stats.failed, stats.dropped
    );
    let failed: u64 = failures.iter().sum();
    let wrong = stats.failed + stats.dropped + stats.delivered.abs_diff(heard);
    if failed + wrong > 0 {
        println!(
            "WARNING: {failed} messages lost or calls failed (see above and the table; they \
             are in the timings), {wrong} deliveries failed, dropped or miscounted"
        );
    }
    anyhow::ensure!(
        !(criterion_test_mode() && failed + wrong > 0),
        "{failed} messages lost or calls failed, {wrong} deliveries failed, dropped or miscounted"
    );
    Ok(())
}
