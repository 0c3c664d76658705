//! What OpenTelemetry export costs a call: the transport benchmark's `provider-sdk` stack
//! (our client and server over a private `nats-server`, one `greet` of 16 bytes) measured with
//! telemetry off, then, in the same run, with traces (always sampled) and metrics exported over
//! OTLP/HTTP to a receiver in this process, which decodes every request (a collector's work,
//! here on the same two cores). Raw NATS request/reply is the baseline of both.
//!
//! Export is installed once per process, so every `off` benchmark runs before any `on` one;
//! a filter that selects only `on` benchmarks measures them with export on all the same.
//!
//! ```sh
//! cargo bench -p provider-sdk --bench telemetry
//! ```

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::StreamExt as _;
use futures::future::join_all;
use provider_sdk::telemetry::{Destination, Protocol, Sampler, TelemetryConfig};
use provider_sdk::transport::{Client, ServeOptions, Serving, Transport};
use provider_testing::NatsServer;
use provider_testing::criterion::estimate;
use provider_testing::otlp::OtlpReceiver;
use tokio::runtime::Runtime;

const INSTANCE: &str = "bench:greeter/greeter";
const NAME: &str = "criterion";
const RAW_SUBJECT: &str = "bench-raw.greet";
const CONCURRENCY: [usize; 2] = [1, 32];

struct Stacks {
    raw: async_nats::Client,
    sdk: Client,
    _serving: Serving,
    _nats: NatsServer,
}

async fn start() -> anyhow::Result<Stacks> {
    let nats = NatsServer::start()?;
    let raw_server = nats.connect().await?;
    let mut requests = raw_server.subscribe(RAW_SUBJECT).await?;
    raw_server.flush().await?;
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let Some(reply) = request.reply else { continue };
            let greeting = Bytes::from(format!(
                "Hello, {}!",
                String::from_utf8_lossy(&request.payload)
            ));
            if raw_server.publish(reply, greeting).await.is_err() {
                break;
            }
        }
    });
    let serving = Transport::nats(nats.connect().await?)
        .await?
        .server(ServeOptions::new("bench-sdk"))
        .serve_fn(INSTANCE, "greet", |_cx, (name,): (String,)| async move {
            (format!("Hello, {name}!"),)
        })
        .await?;
    let sdk = Transport::nats(nats.connect().await?)
        .await?
        .client("bench-sdk");
    let raw = nats.connect().await?;
    Ok(Stacks {
        raw,
        sdk,
        _serving: serving,
        _nats: nats,
    })
}

async fn raw_call(client: &async_nats::Client) -> anyhow::Result<Bytes> {
    let reply = client
        .request(RAW_SUBJECT, Bytes::from_static(NAME.as_bytes()))
        .await?;
    Ok(reply.payload)
}

async fn sdk_call(client: &Client) -> anyhow::Result<String> {
    let (greeting,): (String,) = client.invoke(INSTANCE, "greet", (NAME,)).await?;
    Ok(greeting)
}

async fn concurrently<T, F, Fut>(n: usize, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    for result in black_box(join_all((0..n).map(|_| call())).await) {
        if let Err(error) = result {
            panic!("a call failed: {error:#}");
        }
    }
}

/// Runs `greet/c<n>/<name>` for both the raw baseline (`raw-nats-<name>`) and our stack.
fn bench(c: &mut Criterion, runtime: &Runtime, stacks: &Stacks, name: &str) {
    for n in CONCURRENCY {
        let mut group = c.benchmark_group(format!("greet/c{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("raw-nats-{name}"), |b| {
            b.to_async(runtime)
                .iter(|| concurrently(n, || raw_call(&stacks.raw)))
        });
        group.bench_function(format!("telemetry-{name}"), |b| {
            b.to_async(runtime)
                .iter(|| concurrently(n, || sdk_call(&stacks.sdk)))
        });
    }
}

fn export_to(receiver: &OtlpReceiver) -> TelemetryConfig {
    let to = |signal: &str| Destination {
        endpoint: format!("{}/v1/{signal}", receiver.http_endpoint()),
        protocol: Protocol::HttpProtobuf,
    };
    TelemetryConfig {
        traces: Some(to("traces")),
        metrics: Some(to("metrics")),
        logs: None,
        service_name: "bench".into(),
        sampler: Sampler::AlwaysOn,
        trace_level: tracing::Level::INFO,
        ca_paths: Vec::new(),
        max_queue_size: None,
    }
}

fn summary(since: SystemTime) {
    println!(
        "\n{:<10} {:>14} {:>14} {:>10} {:>12}",
        "", "off µs/call", "on µs/call", "on / off", "raw (off, on)"
    );
    for n in CONCURRENCY {
        let group = format!("greet/c{n}");
        let read = |name: &str| estimate(&group, name, since).map(|e| e.mean / 1000.0 / n as f64);
        let (Some(off), Some(on), Some(raw_off), Some(raw_on)) = (
            read("telemetry-off"),
            read("telemetry-on"),
            read("raw-nats-off"),
            read("raw-nats-on"),
        ) else {
            println!("{group}: summary skipped, this run did not write every estimate");
            continue;
        };
        println!(
            "{group:<10} {off:>14.1} {on:>14.1} {:>9.2}× {raw_off:>6.1}, {raw_on:.1}",
            on / off
        );
    }
}

fn main() -> anyhow::Result<()> {
    let since = SystemTime::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let stacks = runtime.block_on(start())?;
    let receiver = runtime.block_on(OtlpReceiver::start())?;
    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();

    bench(&mut criterion, &runtime, &stacks, "off");
    runtime.block_on(async {
        provider_sdk::telemetry::install(&export_to(&receiver), Vec::new())
            .context("setting up export")
    })?;
    bench(&mut criterion, &runtime, &stacks, "on");
    runtime.block_on(provider_sdk::telemetry::flush(Duration::from_secs(5)));
    criterion.final_summary();

    summary(since);
    println!(
        "spans the receiver decoded: {} (a server and a client span per call)",
        receiver.spans().len()
    );
    runtime.block_on(async move {
        drop(stacks);
        drop(receiver);
    });
    Ok(())
}
