//! Latency and throughput of one small call, `greet: func(name: string) -> string`, over five
//! stacks that share one private `nats-server`:
//!
//! - `raw-nats`: a plain async-nats request/reply, the baseline (2 messages per call);
//! - `provider-sdk`: this crate's wRPC transport over NATS, client and server (3 messages per
//!   call: the short exchange);
//! - `wrpc-transport-nats`: the published wRPC peer, `wit-bindgen-wrpc` 0.11 bindings over
//!   `wrpc-transport-nats` 0.31 (5 messages per call);
//! - `sdk-to-wrpc`: our client calling the peer's server, and `wrpc-to-sdk`: the peer's client
//!   calling our server (5 messages per call: plain wRPC whenever one end is the peer).
//!
//! Each stack is measured at concurrency 1 (`greet/c1`, one call per iteration) and 32
//! (`greet/c32`, 32 concurrent calls per iteration). Every stack's server and client use separate
//! NATS connections, and every server answers `Hello, {name}!`.
//!
//! A failed or lost call does not abort the run: it is counted per stack, its first occurrences
//! are printed, and the totals appear in the summary (under `--test`, any failure fails the run).
//! The generated `wrpc-transport-nats` import has no deadline of its own, so its calls get one
//! here ([`WRPC_TIMEOUT`]); the other two stacks have built-in 10 s deadlines.
//!
//! After the groups ran, a summary table compares the stacks, read back from criterion's
//! `estimates.json` files written by this run (skipped under `--test` or when a filter left a
//! benchmark out). Set `RUST_LOG` to see the transports' logs.
//!
//! ```text
//! cargo bench -p provider-sdk --bench transport
//! ```
//!
//! With `TRANSPORT_CPU_CALLS=<n>` set, the benchmark instead makes `n` calls at concurrency 32
//! on each stack (after `n / 10` to warm up) and prints the CPU time they cost, per call: the
//! benchmark process's (clients and servers, user and system, all threads) and the
//! `nats-server`'s, from `/proc`. CPU time moves much less with the machine's other load than
//! latency and throughput do, so it is the steadier measure of the work one call takes.

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::StreamExt as _;
use futures::future::join_all;
use provider_sdk::transport::{Client as SdkClient, ServeOptions, Serving, Transport};
use provider_testing::criterion::{criterion_test_mode, estimate};
use provider_testing::{NatsServer, NatsServerConfig};
use tokio::runtime::Runtime;

mod bindings {
    wit_bindgen_wrpc::generate!({
        world: "bench",
        path: "benches/wit",
    });
}

use bindings::bench::greeter::greeter as wrpc_import;
use bindings::exports::bench::greeter::greeter as wrpc_export;

/// The name every call sends.
const NAME: &str = "criterion";
/// What every server answers.
const REPLY: &str = "Hello, criterion!";
/// Concurrency levels: calls in flight per iteration.
const CONCURRENCY: [usize; 2] = [1, 32];
/// The stacks, in the order they are measured and reported.
const STACKS: [&str; 5] = [RAW, SDK, WRPC, SDK_TO_WRPC, WRPC_TO_SDK];
const RAW: &str = "raw-nats";
const SDK: &str = "provider-sdk";
const WRPC: &str = "wrpc-transport-nats";
const SDK_TO_WRPC: &str = "sdk-to-wrpc";
const WRPC_TO_SDK: &str = "wrpc-to-sdk";

/// Failed calls per benchmark, warm-up included: index `level * STACKS.len() + stack`, with
/// `level` an index into [`CONCURRENCY`] and `stack` into [`STACKS`].
static FAILURES: [AtomicU64; CONCURRENCY.len() * STACKS.len()] =
    [const { AtomicU64::new(0) }; CONCURRENCY.len() * STACKS.len()];
/// How many failures per stack are printed as they happen.
const FAILURES_PRINTED: u64 = 3;

/// Subject of the raw request/reply server.
const RAW_SUBJECT: &str = "bench-raw.greet";
/// The instance both wRPC servers serve: the WIT interface id, as the peer names it.
const INSTANCE: &str = "bench:greeter/greeter";
/// Prefix of our transport's server.
const SDK_PREFIX: &str = "bench-sdk";
/// Prefix (and queue group) of the `wrpc-transport-nats` server: the subjects differ from ours
/// by prefix alone.
const WRPC_PREFIX: &str = "bench";

/// Everything the benchmarks call, plus what must stay alive while they run.
struct Stacks {
    raw: async_nats::Client,
    sdk: SdkClient,
    wrpc: wrpc_transport_nats::Client,
    /// Our client, to the peer's server.
    sdk_to_wrpc: SdkClient,
    /// The peer's client, to our server.
    wrpc_to_sdk: wrpc_transport_nats::Client,
    _serving: Serving,
    _wrpc_server: wrpc_transport_nats::Client,
    nats: NatsServer,
}

/// The `wrpc-transport-nats` server's handler.
#[derive(Clone, Copy)]
struct Greeter;

impl<Ctx: Send> wrpc_export::Handler<Ctx> for Greeter {
    async fn greet(&self, _cx: Ctx, name: String) -> anyhow::Result<String> {
        Ok(format!("Hello, {name}!"))
    }
}

async fn raw_call(client: &async_nats::Client) -> anyhow::Result<Bytes> {
    let reply = client
        .request(RAW_SUBJECT, Bytes::from_static(NAME.as_bytes()))
        .await?;
    Ok(reply.payload)
}

async fn sdk_call(client: &SdkClient) -> anyhow::Result<String> {
    let (greeting,): (String,) = client.invoke(INSTANCE, "greet", (NAME,)).await?;
    Ok(greeting)
}

/// The deadline of one `wrpc-transport-nats` call. async-nats requests and our transport have a
/// built-in deadline (10 s); the generated wRPC import has none, so a lost call would hang the
/// benchmark forever. A call takes a few milliseconds at most here, so this deadline only ends
/// lost calls; it is short so that one lost call barely moves the mean.
const WRPC_TIMEOUT: Duration = Duration::from_millis(250);

async fn wrpc_call(client: &wrpc_transport_nats::Client) -> anyhow::Result<String> {
    tokio::time::timeout(WRPC_TIMEOUT, wrpc_import::greet(client, None, NAME))
        .await
        .map_err(|_| anyhow::anyhow!("wrpc-transport-nats call timed out after {WRPC_TIMEOUT:?}"))?
}

/// Calls until the server answers (a fresh subscription may not be registered at the NATS
/// server yet, and the call then fails with "no responders"), and checks the answer.
async fn ready<T, F, Fut>(stack: &str, mut call: F) -> anyhow::Result<()>
where
    T: AsRef<[u8]>,
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(Duration::from_secs(2), call()).await {
            Ok(Ok(reply)) => {
                anyhow::ensure!(
                    reply.as_ref() == REPLY.as_bytes(),
                    "{stack} answered {:?}",
                    String::from_utf8_lossy(reply.as_ref())
                );
                return Ok(());
            }
            Ok(Err(error)) if Instant::now() > deadline => {
                return Err(error.context(format!("{stack} never answered")));
            }
            Err(_) if Instant::now() > deadline => anyhow::bail!("{stack} never answered"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn start() -> anyhow::Result<Stacks> {
    let nats = NatsServer::start_with(NatsServerConfig::default())?;

    // raw-nats: one subscription, answered in place.
    let raw_server = nats.connect().await?;
    let mut requests = raw_server.subscribe(RAW_SUBJECT).await?;
    raw_server.flush().await?;
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let Some(reply) = request.reply else { continue };
            let name = String::from_utf8_lossy(&request.payload);
            let greeting = Bytes::from(format!("Hello, {name}!"));
            if raw_server.publish(reply, greeting).await.is_err() {
                break;
            }
        }
    });
    let raw = nats.connect().await?;
    ready("raw-nats", || raw_call(&raw)).await?;

    // provider-sdk
    let sdk_server = Transport::nats(nats.connect().await?).await?;
    let serving = sdk_server
        .server(ServeOptions::new(SDK_PREFIX))
        .serve_fn(INSTANCE, "greet", |_cx, (name,): (String,)| async move {
            (format!("Hello, {name}!"),)
        })
        .await?;
    let sdk = Transport::nats(nats.connect().await?)
        .await?
        .client(SDK_PREFIX);
    ready("provider-sdk", || sdk_call(&sdk)).await?;

    // wrpc-transport-nats: drive every invocation stream, spawning each invocation.
    let wrpc_server = wrpc_transport_nats::Client::new(
        nats.connect().await?,
        WRPC_PREFIX,
        Some(WRPC_PREFIX.into()),
    )
    .await?;
    let invocations = bindings::serve(&wrpc_server, Greeter).await?;
    for (instance, name, mut stream) in invocations {
        tokio::spawn(async move {
            while let Some(invocation) = stream.next().await {
                match invocation {
                    Ok(invocation) => {
                        tokio::spawn(async move {
                            if let Err(error) = invocation.await {
                                eprintln!(
                                    "wrpc-transport-nats: {instance}.{name} failed: {error:#}"
                                );
                            }
                        });
                    }
                    Err(error) => {
                        eprintln!("wrpc-transport-nats: {instance}.{name} not accepted: {error:#}")
                    }
                }
            }
        });
    }
    let wrpc = wrpc_transport_nats::Client::new(nats.connect().await?, WRPC_PREFIX, None).await?;
    ready("wrpc-transport-nats", || wrpc_call(&wrpc)).await?;

    // Mixed: each client on a connection of its own, to the other stack's server.
    let sdk_to_wrpc = Transport::nats(nats.connect().await?)
        .await?
        .client(WRPC_PREFIX);
    ready(SDK_TO_WRPC, || sdk_call(&sdk_to_wrpc)).await?;
    let wrpc_to_sdk =
        wrpc_transport_nats::Client::new(nats.connect().await?, SDK_PREFIX, None).await?;
    ready(WRPC_TO_SDK, || wrpc_call(&wrpc_to_sdk)).await?;

    Ok(Stacks {
        raw,
        sdk,
        wrpc,
        sdk_to_wrpc,
        wrpc_to_sdk,
        _serving: serving,
        _wrpc_server: wrpc_server,
        nats,
    })
}

/// Runs `call` `n` times concurrently (all of them to the end) and counts the failures of
/// benchmark `id` (an index into [`FAILURES`]).
async fn concurrently<T, F, Fut>(id: usize, n: usize, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    if n == 1 {
        let result = call().await;
        if let Err(error) = black_box(result) {
            failed(id, &error);
        }
    } else {
        for result in black_box(join_all((0..n).map(|_| call())).await) {
            if let Err(error) = result {
                failed(id, &error);
            }
        }
    }
}

#[cold]
fn failed(id: usize, error: &anyhow::Error) {
    let count = FAILURES[id].fetch_add(1, Ordering::Relaxed) + 1;
    if count <= FAILURES_PRINTED {
        let (n, stack) = (CONCURRENCY[id / STACKS.len()], STACKS[id % STACKS.len()]);
        eprintln!("greet/c{n}/{stack}: call failure {count}: {error:#}");
    }
}

fn bench_greet(c: &mut Criterion, runtime: &Runtime, stacks: &Stacks) {
    for (level, n) in CONCURRENCY.into_iter().enumerate() {
        let id = |stack: usize| level * STACKS.len() + stack;
        let mut group = c.benchmark_group(format!("greet/c{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(RAW, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id(0), n, || raw_call(&stacks.raw)))
        });
        group.bench_function(SDK, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id(1), n, || sdk_call(&stacks.sdk)))
        });
        group.bench_function(WRPC, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id(2), n, || wrpc_call(&stacks.wrpc)))
        });
        group.bench_function(SDK_TO_WRPC, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id(3), n, || sdk_call(&stacks.sdk_to_wrpc)))
        });
        group.bench_function(WRPC_TO_SDK, |b| {
            b.to_async(runtime)
                .iter(|| concurrently(id(4), n, || wrpc_call(&stacks.wrpc_to_sdk)))
        });
        group.finish();
    }
}

fn failures(level: usize, stack: usize) -> u64 {
    FAILURES[level * STACKS.len() + stack].load(Ordering::Relaxed)
}

fn summary(since: SystemTime) {
    let mut estimates = Vec::new();
    for n in CONCURRENCY {
        for stack in STACKS {
            match estimate(&format!("greet/c{n}"), stack, since) {
                Some(estimate) => estimates.push(estimate),
                None => {
                    println!("summary skipped: this run wrote no estimates for greet/c{n}/{stack}");
                    return;
                }
            }
        }
    }
    // Per call: the iteration's time divided by the calls in it (at c32, the amortized time
    // per call, not the latency one call sees), and calls per second.
    let per_call = |level: usize, stack: usize| {
        let estimate = &estimates[level * STACKS.len() + stack];
        let n = CONCURRENCY[level] as f64;
        (
            estimate.mean / n / 1e3,
            n * 1e9 / estimate.mean,
            estimate.median / n / 1e3,
        )
    };

    println!();
    println!("Summary: greet(\"{NAME}\") -> \"{REPLY}\", from criterion's estimates of this run");
    println!(
        "{:<10} {:<20} {:>14} {:>14} {:>12} {:>16} {:>13}",
        "group",
        "stack",
        "mean µs/iter",
        "mean µs/call",
        "calls/s",
        "median µs/call",
        "failed calls"
    );
    for (level, n) in CONCURRENCY.into_iter().enumerate() {
        for (index, stack) in STACKS.into_iter().enumerate() {
            let (latency_us, calls_per_s, median_us) = per_call(level, index);
            println!(
                "{:<10} {:<20} {:>14.2} {:>14.2} {:>12.0} {:>16.2} {:>13}",
                format!("greet/c{n}"),
                stack,
                estimates[level * STACKS.len() + index].mean / 1e3,
                latency_us,
                calls_per_s,
                median_us,
                failures(level, index),
            );
        }
    }
    println!();
    println!(
        "{:<10} {:<34} {:>19} {:>16} {:>21}",
        "group", "ratio", "latency (mean)", "throughput", "latency (median)"
    );
    // Ours against raw NATS and the peer; each mixed pair against the peer's own pair.
    let pairs = [(1, 0), (1, 2), (3, 2), (4, 2)];
    for (level, n) in CONCURRENCY.into_iter().enumerate() {
        for (stack, other) in pairs {
            let (latency, rate, median) = per_call(level, stack);
            let (other_latency, other_rate, other_median) = per_call(level, other);
            println!(
                "{:<10} {:<34} {:>18.2}x {:>15.2}x {:>20.2}x",
                format!("greet/c{n}"),
                format!("{} / {}", STACKS[stack], STACKS[other]),
                latency / other_latency,
                rate / other_rate,
                median / other_median,
            );
        }
    }
    println!(
        "(latency ratio > 1: the first is slower; throughput ratio < 1: it serves fewer calls/s)"
    );
}

/// `n` calls of `stack` at concurrency 32 after `n / 10` to warm up; prints the CPU time of this
/// process and of the NATS server per call.
async fn cpu_per_call(stacks: &Stacks, stack: usize, n: usize) {
    let id = CONCURRENCY.len() * STACKS.len() - STACKS.len() + stack;
    let batch = || async {
        match stack {
            0 => concurrently(id, 32, || raw_call(&stacks.raw)).await,
            1 => concurrently(id, 32, || sdk_call(&stacks.sdk)).await,
            2 => concurrently(id, 32, || wrpc_call(&stacks.wrpc)).await,
            3 => concurrently(id, 32, || sdk_call(&stacks.sdk_to_wrpc)).await,
            _ => concurrently(id, 32, || wrpc_call(&stacks.wrpc_to_sdk)).await,
        }
    };
    for _ in 0..n / 10 / 32 {
        batch().await;
    }
    let ours = std::process::id();
    let server = stacks.nats.pid();
    let ticks = || {
        (
            provider_testing::cpu_ticks(ours).unwrap_or_default(),
            provider_testing::cpu_ticks(server).unwrap_or_default(),
        )
    };
    let (ours_before, server_before) = ticks();
    let started = Instant::now();
    for _ in 0..n / 32 {
        batch().await;
    }
    let wall = started.elapsed();
    let (ours_after, server_after) = ticks();
    let calls = (n / 32 * 32) as f64;
    // Clock ticks are 10 ms.
    let per_call = |ticks: u64| ticks as f64 * 1e4 / calls;
    println!(
        "{:<20} {:>16.2} {:>18.2} {:>14.2} {:>12.0}",
        STACKS[stack],
        per_call(ours_after - ours_before),
        per_call(server_after - server_before),
        per_call(ours_after - ours_before + server_after - server_before),
        calls / wall.as_secs_f64(),
    );
}

fn main() -> anyhow::Result<()> {
    let since = SystemTime::now();
    // Logs only on request (`RUST_LOG=wrpc_transport_nats=debug,provider_sdk=debug`), so the
    // measured code pays nothing for them otherwise.
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
    let stacks = runtime.block_on(start())?;

    if let Some(n) = std::env::var("TRANSPORT_CPU_CALLS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        // At least one batch of 32, so there is something to divide by.
        .map(|n| n.max(32))
    {
        println!("CPU time per call at c32, {n} calls per stack (10 ms ticks from /proc)");
        println!(
            "{:<20} {:>16} {:>18} {:>14} {:>12}",
            "stack", "bench µs/call", "nats-server µs/call", "total µs/call", "calls/s"
        );
        for stack in 0..STACKS.len() {
            runtime.block_on(cpu_per_call(&stacks, stack, n));
        }
        runtime.block_on(async move { drop(stacks) });
        return Ok(());
    }

    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    bench_greet(&mut criterion, &runtime, &stacks);
    criterion.final_summary();

    summary(since);
    let failed: u64 = FAILURES
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .sum();
    if failed > 0 {
        println!(
            "WARNING: {failed} calls failed (see above and the table); they are in the timings"
        );
    }

    // Stop the servers' tasks before the NATS server and the connections go away.
    runtime.block_on(async move { drop(stacks) });
    runtime.shutdown_timeout(Duration::from_secs(1));
    anyhow::ensure!(
        !(criterion_test_mode() && failed > 0),
        "{failed} calls failed"
    );
    Ok(())
}
