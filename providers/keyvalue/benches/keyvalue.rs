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
//! ```text
//! cargo bench -p keyvalue-provider --bench keyvalue
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

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
    let setup = Setup {
        _nats: nats,
        _redis: redis,
        _host: host,
        running: Some(running),
        stacks,
        values,
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
    criterion.final_summary();
    if !criterion_test_mode() {
        summary(since);
    }
    let running = setup.running.take();
    runtime.block_on(async move {
        if let Some(running) = running {
            running.shutdown().await.unwrap();
        }
        drop(setup);
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}
