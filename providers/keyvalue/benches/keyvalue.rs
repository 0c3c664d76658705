//! `get` and `set` through the keyvalue provider against the same operations on its backend
//! directly, in one run, on private servers:
//!
//! - `redis`: the provider (wRPC over NATS, then Redis) / a `redis` `ConnectionManager` to the
//!   same Redis;
//! - `nats`: the provider (then JetStream KV) / async-nats KV on the same JetStream;
//! - `memory`: the provider / an in-memory map served over raw NATS request/reply (one request,
//!   one reply: the floor for any keyvalue service on NATS).
//!
//! Values of 16 B and 64 KiB; at concurrency 1 (one operation per iteration) and 32 (32
//! concurrent operations per iteration, on 32 keys). A summary of the ratios follows the run.
//!
//! A baseline of another kind, `redis-peer/{get,set}/16B/c{1,32}`: the provider against a peer
//! server, what a straightforward keyvalue server written with `wit-bindgen-wrpc` 0.11 over
//! `wrpc-transport-nats` 0.31 looks like (its `get` and `set` on a `redis` `ConnectionManager`
//! to the same Redis, under its own prefix and queue group, on its own NATS connection). Each
//! server is called by two callers: our generated client (as the groups above call the
//! provider) and a `wrpc-transport-nats` client through the peer's generated import; every call
//! sends the link's headers, as a wasmCloud host does. These calls have a deadline
//! ([`PEER_TIMEOUT`]; the peer's import has none of its own) and a failed or lost call is
//! counted, not fatal (under `--test`, any failure fails the run). The summary gives, per
//! caller, the throughput ratio provider / peer server.
//!
//! ```text
//! cargo bench -p keyvalue-provider --bench keyvalue
//! cargo bench -p keyvalue-provider --bench keyvalue -- 'redis(-peer)?/(get|set)/16B'
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::StreamExt as _;
use futures::future::join_all;
use keyvalue_provider::KeyValueProvider;
use keyvalue_provider::client::wrpc::keyvalue::store;
use provider_sdk::provider::RunningProvider;
use provider_sdk::transport::Client;
use provider_sdk::wasmcloud::open_or_create_kv_bucket;
use provider_testing::criterion::{criterion_test_mode, estimate};
use provider_testing::{NatsServer, RedisServer, TestHost, TestLink};
use redis::aio::ConnectionManager;
use tokio::runtime::Runtime;

const BACKENDS: [&str; 3] = ["memory", "redis", "nats"];
const OPS: [&str; 2] = ["get", "set"];
const SIZES: [(&str, usize); 2] = [("16B", 16), ("64KiB", 64 << 10)];
const CONCURRENCY: [usize; 2] = [1, 32];
const BUCKET: &str = "bench";
const RAW_SUBJECT: &str = "bench-raw.kv";

mod peer {
    wit_bindgen_wrpc::generate!({
        world: "peer",
        path: "benches/wit",
        // `wrpc:keyvalue` is a dependency's package: generate it here too.
        generate_all,
    });
}

use peer::exports::wrpc::keyvalue::store as peer_export;
use peer::wrpc::keyvalue::store as peer_import;

/// The peer comparison's backend (its link) and value size.
const PEER_BACKEND: &str = "redis";
const PEER_SIZE: (&str, usize) = SIZES[0];
/// Who calls, and who serves, in the peer comparison; a benchmark per pair.
const CALLERS: [&str; 2] = ["sdk-client", "wrpc-client"];
const SERVERS: [&str; 2] = ["provider", "peer-server"];
/// Prefix (and queue group) of the peer server.
const PEER_PREFIX: &str = "bench-peer";
/// The deadline of every call in the peer comparison. The peer's generated import has none of
/// its own, so a lost call would hang the benchmark; a call takes a few milliseconds at most
/// here, so this only ends lost calls, and it is short so that one barely moves the mean. Our
/// client's calls get it too, so that all four pairs are timed alike.
const PEER_TIMEOUT: Duration = Duration::from_millis(250);
/// Failed calls per peer benchmark, warm-up included: index [`peer_id`].
static FAILURES: [AtomicU64; OPS.len() * CONCURRENCY.len() * CALLERS.len() * SERVERS.len()] =
    [const { AtomicU64::new(0) }; OPS.len() * CONCURRENCY.len() * CALLERS.len() * SERVERS.len()];
/// How many failures per benchmark are printed as they happen.
const FAILURES_PRINTED: u64 = 3;

/// The direct way to each backend.
enum Direct {
    /// Raw request/reply: `g<key>` answers the value, `s<key>\0<value>` stores it.
    Raw(async_nats::Client),
    Redis(ConnectionManager),
    Nats(Box<async_nats::jetstream::kv::Store>),
}

impl Direct {
    async fn get(&self, key: &str) -> Bytes {
        match self {
            Direct::Raw(nats) => {
                let request = Bytes::from(format!("g{key}"));
                nats.request(RAW_SUBJECT, request).await.unwrap().payload
            }
            Direct::Redis(redis) => {
                let mut redis = redis.clone();
                let value: Option<Bytes> = redis::cmd("GET")
                    .arg(format!("{BUCKET}:{key}"))
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                value.unwrap()
            }
            Direct::Nats(kv) => kv.get(key).await.unwrap().unwrap(),
        }
    }

    async fn set(&self, key: &str, value: &Bytes) {
        match self {
            Direct::Raw(nats) => {
                let mut request = format!("s{key}\0").into_bytes();
                request.extend_from_slice(value);
                nats.request(RAW_SUBJECT, request.into()).await.unwrap();
            }
            Direct::Redis(redis) => {
                let mut redis = redis.clone();
                let () = redis::cmd("SET")
                    .arg(format!("{BUCKET}:{key}"))
                    .arg(&value[..])
                    .query_async(&mut redis)
                    .await
                    .unwrap();
            }
            Direct::Nats(kv) => {
                kv.put(key, value.clone()).await.unwrap();
            }
        }
    }
}

struct Setup {
    _nats: NatsServer,
    _redis: RedisServer,
    _host: TestHost,
    running: Option<RunningProvider>,
    /// Per backend: the provider over that backend's link, and the backend directly.
    stacks: Vec<(Client, Direct)>,
    values: HashMap<usize, Bytes>,
    peer: Peer,
}

/// The peer comparison: the peer server, and a client of each kind to each server.
struct Peer {
    /// Our generated client over the redis link, and to the peer server.
    sdk: [Client; 2],
    /// `wrpc-transport-nats` clients (one NATS connection) to the provider and to the peer.
    wrpc: [wrpc_transport_nats::Client; 2],
    /// What a wasmCloud host sends with a component's call: who calls, over which link.
    headers: async_nats::HeaderMap,
    _server: wrpc_transport_nats::Client,
}

/// The peer server's handler: `get` and `set` on Redis, under the keys the provider uses for
/// the same bucket and key (`<bucket>:<key>`, the bucket having no `:` or `\`).
#[derive(Clone)]
struct PeerStore {
    redis: ConnectionManager,
}

fn not_served() -> anyhow::Result<Result<(), peer_export::Error>> {
    Ok(Err(peer_export::Error::Other(
        "the benchmark's peer server serves get and set only".to_owned(),
    )))
}

impl<Ctx: Send> peer_export::Handler<Ctx> for PeerStore {
    async fn get(
        &self,
        _cx: Ctx,
        bucket: String,
        key: String,
    ) -> anyhow::Result<Result<Option<Bytes>, peer_export::Error>> {
        let mut redis = self.redis.clone();
        let value: redis::RedisResult<Option<Bytes>> = redis::cmd("GET")
            .arg(format!("{bucket}:{key}"))
            .query_async(&mut redis)
            .await;
        Ok(value.map_err(|error| peer_export::Error::Other(error.to_string())))
    }

    async fn set(
        &self,
        _cx: Ctx,
        bucket: String,
        key: String,
        value: Bytes,
    ) -> anyhow::Result<Result<(), peer_export::Error>> {
        let mut redis = self.redis.clone();
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("{bucket}:{key}"))
            .arg(&value[..])
            .query_async(&mut redis)
            .await;
        Ok(set.map_err(|error| peer_export::Error::Other(error.to_string())))
    }

    async fn delete(
        &self,
        _cx: Ctx,
        _bucket: String,
        _key: String,
    ) -> anyhow::Result<Result<(), peer_export::Error>> {
        not_served()
    }

    async fn exists(
        &self,
        _cx: Ctx,
        _bucket: String,
        _key: String,
    ) -> anyhow::Result<Result<bool, peer_export::Error>> {
        not_served().map(|result| result.map(|()| false))
    }

    async fn list_keys(
        &self,
        _cx: Ctx,
        _bucket: String,
        _cursor: Option<u64>,
    ) -> anyhow::Result<Result<peer_export::KeyResponse, peer_export::Error>> {
        not_served().map(|result| {
            result.map(|()| peer_export::KeyResponse {
                keys: Vec::new(),
                cursor: None,
            })
        })
    }
}

impl Peer {
    /// Starts the peer server on its own NATS connection and Redis connection, and the
    /// clients.
    async fn start(
        nats: &NatsServer,
        redis: &RedisServer,
        host: &TestHost,
    ) -> anyhow::Result<Self> {
        let redis = ConnectionManager::new(redis::Client::open(redis.url())?).await?;
        let server = wrpc_transport_nats::Client::new(
            nats.connect().await?,
            PEER_PREFIX,
            Some(PEER_PREFIX.into()),
        )
        .await?;
        // Drive every invocation stream, spawning each invocation.
        for (instance, name, mut stream) in peer::serve(&server, PeerStore { redis }).await? {
            tokio::spawn(async move {
                while let Some(invocation) = stream.next().await {
                    match invocation {
                        Ok(invocation) => {
                            tokio::spawn(async move {
                                if let Err(error) = invocation.await {
                                    eprintln!("peer server: {instance}.{name} failed: {error:#}");
                                }
                            });
                        }
                        Err(error) => {
                            eprintln!("peer server: {instance}.{name} not accepted: {error:#}")
                        }
                    }
                }
            });
        }

        let (source, link) = ("bench", PEER_BACKEND);
        let sdk = [
            host.component(source, link)?,
            host.transport()
                .client(PEER_PREFIX)
                .with_header("source-id", source)?
                .with_header("link-name", link)?,
        ];
        let caller = nats.connect().await?;
        let provider_prefix = format!("{}.{}", host.lattice(), host.provider_id());
        let wrpc = [
            wrpc_transport_nats::Client::new(caller.clone(), provider_prefix, None).await?,
            wrpc_transport_nats::Client::new(caller, PEER_PREFIX, None).await?,
        ];
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("source-id", source);
        headers.insert("link-name", link);
        Ok(Self {
            sdk,
            wrpc,
            headers,
            _server: server,
        })
    }

    /// Returns once each client has read the seeded key from each server: a fresh subscription
    /// may not be registered at the NATS server yet, and a call then fails ("no responders").
    async fn ready(&self) -> anyhow::Result<()> {
        let key = key(PEER_SIZE.1, 0);
        for (caller, caller_name) in CALLERS.into_iter().enumerate() {
            for (server, server_name) in SERVERS.into_iter().enumerate() {
                let deadline = Instant::now() + Duration::from_secs(10);
                while let Err(error) = self.get(caller, server, &key).await {
                    if Instant::now() > deadline {
                        return Err(
                            error.context(format!("{caller_name} never reached the {server_name}"))
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Ok(())
    }

    /// `get` of `key` in the bucket, from `CALLERS[caller]` to `SERVERS[server]`.
    async fn get(&self, caller: usize, server: usize, key: &str) -> anyhow::Result<Bytes> {
        let call = async {
            if caller == 0 {
                let got = store::get(&self.sdk[server], BUCKET, key).await?;
                got.map_err(|error| anyhow::anyhow!("the store answered {error:?}"))
            } else {
                let headers = Some(self.headers.clone());
                let got = peer_import::get(&self.wrpc[server], headers, BUCKET, key).await?;
                got.map_err(|error| anyhow::anyhow!("the store answered {error:?}"))
            }
        };
        let value = deadline(call).await?;
        value.ok_or_else(|| anyhow::anyhow!("no value under {key}"))
    }

    /// `set` of `key` to `value` in the bucket, from `CALLERS[caller]` to `SERVERS[server]`.
    async fn set(
        &self,
        caller: usize,
        server: usize,
        key: &str,
        value: &Bytes,
    ) -> anyhow::Result<()> {
        deadline(async {
            if caller == 0 {
                let set = store::set(&self.sdk[server], BUCKET, key, value).await?;
                set.map_err(|error| anyhow::anyhow!("the store answered {error:?}"))
            } else {
                let headers = Some(self.headers.clone());
                let set = peer_import::set(&self.wrpc[server], headers, BUCKET, key, value).await?;
                set.map_err(|error| anyhow::anyhow!("the store answered {error:?}"))
            }
        })
        .await
    }
}

/// `call`, ended after [`PEER_TIMEOUT`].
async fn deadline<T>(call: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::time::timeout(PEER_TIMEOUT, call)
        .await
        .map_err(|_| anyhow::anyhow!("the call timed out after {PEER_TIMEOUT:?}"))?
}

/// An in-memory map answering raw NATS requests.
async fn serve_raw(nats: async_nats::Client) {
    let mut requests = nats.subscribe(RAW_SUBJECT).await.unwrap();
    let map: Arc<Mutex<HashMap<Vec<u8>, Bytes>>> = Arc::default();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let Some(reply) = request.reply else { continue };
            let payload = request.payload;
            let answer = match payload.first() {
                Some(b'g') => map
                    .lock()
                    .unwrap()
                    .get(&payload[1..])
                    .cloned()
                    .unwrap_or_default(),
                _ => {
                    let split = payload
                        .iter()
                        .position(|b| *b == 0)
                        .unwrap_or(payload.len());
                    let value = payload.slice((split + 1).min(payload.len())..);
                    map.lock()
                        .unwrap()
                        .insert(payload[1..split].to_vec(), value);
                    Bytes::new()
                }
            };
            let _ = nats.publish(reply, answer).await;
        }
    });
}

async fn start() -> Setup {
    let nats = NatsServer::start().unwrap();
    let redis = RedisServer::start().unwrap();
    let host = TestHost::new(&nats.url(), "keyvalue-provider")
        .await
        .unwrap();
    let link = |name: &str| {
        TestLink::new(
            "bench",
            "keyvalue-provider",
            name,
            ("wrpc", "keyvalue"),
            &["store"],
        )
    };
    host.with_initial_link(link("memory"));
    host.with_initial_link(link("redis").target_config("url", &redis.url()));
    host.with_initial_link(
        link("nats")
            .target_config("backend", "nats")
            .target_config("url", &nats.url())
            .target_config("enable_bucket_auto_create", "true"),
    );
    let running = host.start(KeyValueProvider::default()).await.unwrap();

    let raw = nats.connect().await.unwrap();
    serve_raw(nats.connect().await.unwrap()).await;
    let redis_direct = ConnectionManager::new(redis::Client::open(redis.url()).unwrap())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats.connect().await.unwrap());
    let kv = open_or_create_kv_bucket(&js, BUCKET, 1, 1).await.unwrap();
    let stacks = vec![
        (host.component("bench", "memory").unwrap(), Direct::Raw(raw)),
        (
            host.component("bench", "redis").unwrap(),
            Direct::Redis(redis_direct),
        ),
        (
            host.component("bench", "nats").unwrap(),
            Direct::Nats(Box::new(kv)),
        ),
    ];
    let values = SIZES
        .iter()
        .map(|&(_, size)| (size, (0..size).map(|i| i as u8).collect()))
        .collect();
    let peer = Peer::start(&nats, &redis, &host).await.unwrap();
    let setup = Setup {
        _nats: nats,
        _redis: redis,
        _host: host,
        running: Some(running),
        stacks,
        values,
        peer,
    };
    // Every key either side reads exists, with a value of the size read.
    for (provider, direct) in &setup.stacks {
        for &(_, size) in &SIZES {
            let value = &setup.values[&size];
            for i in 0..32 {
                let key = key(size, i);
                store::set(provider, BUCKET, &key, value)
                    .await
                    .unwrap()
                    .unwrap();
                direct.set(&key, value).await;
            }
        }
    }
    setup.peer.ready().await.unwrap();
    setup
}

fn key(size: usize, i: usize) -> String {
    format!("k{size}-{i}")
}

fn group(backend: &str, op: &str, size: &str, n: usize) -> String {
    format!("{backend}/{op}/{size}/c{n}")
}

fn bench(c: &mut Criterion, runtime: &Runtime, setup: &Setup) {
    for (backend, (provider, direct)) in BACKENDS.iter().zip(&setup.stacks) {
        for op in OPS {
            for &(size_name, size) in &SIZES {
                let value = &setup.values[&size];
                for n in CONCURRENCY {
                    let mut group = c.benchmark_group(group(backend, op, size_name, n));
                    group.throughput(Throughput::Elements(n as u64));
                    group.bench_function("provider", |b| {
                        b.to_async(runtime).iter(|| {
                            join_all((0..n).map(|i| async move {
                                let key = key(size, i);
                                if op == "get" {
                                    let got = store::get(provider, BUCKET, &key).await;
                                    black_box(got.unwrap().unwrap().unwrap());
                                } else {
                                    let set = store::set(provider, BUCKET, &key, value).await;
                                    set.unwrap().unwrap();
                                }
                            }))
                        })
                    });
                    group.bench_function("direct", |b| {
                        b.to_async(runtime).iter(|| {
                            join_all((0..n).map(|i| async move {
                                let key = key(size, i);
                                if op == "get" {
                                    black_box(direct.get(&key).await);
                                } else {
                                    direct.set(&key, value).await;
                                }
                            }))
                        })
                    });
                    group.finish();
                }
            }
        }
    }
}

fn peer_group(op: &str, n: usize) -> String {
    format!("{PEER_BACKEND}-peer/{op}/{}/c{n}", PEER_SIZE.0)
}

fn route(caller: usize, server: usize) -> String {
    format!("{}/{}", CALLERS[caller], SERVERS[server])
}

/// The index in [`FAILURES`] of a peer benchmark: indices into [`OPS`], [`CONCURRENCY`],
/// [`CALLERS`] and [`SERVERS`].
fn peer_id(op: usize, level: usize, caller: usize, server: usize) -> usize {
    ((op * CONCURRENCY.len() + level) * CALLERS.len() + caller) * SERVERS.len() + server
}

#[cold]
fn failed(op: usize, level: usize, caller: usize, server: usize, error: &anyhow::Error) {
    let count = FAILURES[peer_id(op, level, caller, server)].fetch_add(1, Ordering::Relaxed) + 1;
    if count <= FAILURES_PRINTED {
        let benchmark = format!(
            "{}/{}",
            peer_group(OPS[op], CONCURRENCY[level]),
            route(caller, server)
        );
        eprintln!("{benchmark}: call failure {count}: {error:#}");
    }
}

fn failures(op: usize, level: usize, caller: usize, server: usize) -> u64 {
    FAILURES[peer_id(op, level, caller, server)].load(Ordering::Relaxed)
}

/// The peer comparison: each caller against each server, on the redis link with 16 B values.
fn bench_peer(c: &mut Criterion, runtime: &Runtime, setup: &Setup) {
    let size = PEER_SIZE.1;
    let value = &setup.values[&size];
    let peer = &setup.peer;
    for (o, op) in OPS.into_iter().enumerate() {
        for (level, n) in CONCURRENCY.into_iter().enumerate() {
            let mut group = c.benchmark_group(peer_group(op, n));
            group.throughput(Throughput::Elements(n as u64));
            for caller in 0..CALLERS.len() {
                for server in 0..SERVERS.len() {
                    group.bench_function(route(caller, server), |b| {
                        b.to_async(runtime).iter(|| {
                            join_all((0..n).map(|i| async move {
                                let key = key(size, i);
                                let done = if op == "get" {
                                    peer.get(caller, server, &key).await.map(|got| {
                                        black_box(got);
                                    })
                                } else {
                                    peer.set(caller, server, &key, value).await
                                };
                                if let Err(error) = done {
                                    failed(o, level, caller, server, &error);
                                }
                            }))
                        })
                    });
                }
            }
            group.finish();
        }
    }
}

fn summary(since: SystemTime) {
    println!();
    println!("Summary: µs per operation (iteration time / concurrency), from this run's estimates");
    println!(
        "{:<24} {:>14} {:>12} {:>20}",
        "benchmark", "provider µs", "direct µs", "ratio provider/direct"
    );
    for backend in BACKENDS {
        for op in OPS {
            for (size, _) in SIZES {
                for n in CONCURRENCY {
                    let group = group(backend, op, size, n);
                    let (Some(provider), Some(direct)) = (
                        estimate(&group, "provider", since),
                        estimate(&group, "direct", since),
                    ) else {
                        println!("{group:<24} (not measured in this run)");
                        continue;
                    };
                    let per_op = |ns: f64| ns / n as f64 / 1e3;
                    println!(
                        "{group:<24} {:>14.1} {:>12.1} {:>19.2}x",
                        per_op(provider.mean),
                        per_op(direct.mean),
                        provider.mean / direct.mean
                    );
                }
            }
        }
    }
    println!("(ratio > 1: the provider takes longer than the backend alone)");

    println!();
    println!(
        "Summary: the provider against the peer server (wit-bindgen-wrpc 0.11 over \
         wrpc-transport-nats 0.31, get/set on a redis ConnectionManager), per caller: µs per \
         operation (iteration time / concurrency) and failed calls"
    );
    println!(
        "{:<24} {:<12} {:>12} {:>15} {:>31} {:>29}",
        "benchmark",
        "caller",
        "provider µs",
        "peer-server µs",
        "throughput provider/peer-server",
        "failed (provider/peer-server)"
    );
    for (o, op) in OPS.into_iter().enumerate() {
        for (level, n) in CONCURRENCY.into_iter().enumerate() {
            let group = peer_group(op, n);
            for (caller, caller_name) in CALLERS.into_iter().enumerate() {
                let (Some(provider), Some(peer)) = (
                    estimate(&group, &route(caller, 0), since),
                    estimate(&group, &route(caller, 1), since),
                ) else {
                    println!("{group:<24} {caller_name:<12} (not measured in this run)");
                    continue;
                };
                let per_op = |ns: f64| ns / n as f64 / 1e3;
                println!(
                    "{group:<24} {caller_name:<12} {:>12.1} {:>15.1} {:>30.2}x {:>29}",
                    per_op(provider.mean),
                    per_op(peer.mean),
                    peer.mean / provider.mean,
                    format!(
                        "{} / {}",
                        failures(o, level, caller, 0),
                        failures(o, level, caller, 1)
                    ),
                );
            }
        }
    }
    println!(
        "(throughput ratio > 1: the provider serves more operations per second than the peer \
         server; failed: calls that failed or missed the {PEER_TIMEOUT:?} deadline, warm-up \
         included)"
    );
}

fn main() {
    let since = SystemTime::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut setup = runtime.block_on(start());
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut criterion, &runtime, &setup);
    bench_peer(&mut criterion, &runtime, &setup);
    criterion.final_summary();
    if !criterion_test_mode() {
        summary(since);
    }
    let failed: u64 = FAILURES
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .sum();
    if failed > 0 {
        println!(
            "WARNING: {failed} calls of the peer comparison failed (see above); they are in \
             the timings"
        );
    }
    let running = setup.running.take();
    runtime.block_on(async move {
        if let Some(running) = running {
            running.shutdown().await.unwrap();
        }
        drop(setup);
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    assert!(
        !(criterion_test_mode() && failed > 0),
        "{failed} calls of the peer comparison failed"
    );
}
