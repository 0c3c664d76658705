//! A soak: 32 workers put a mixed keyvalue load through the provider's binary,
//! run as a child process under the test host, for 60 s, on a memory link and a Redis link at
//! once. It asserts that no call failed or answered wrongly, and that the child's resident memory
//! at the end is within 20% of what it was after the first sixth of the run (10 s of 60). The
//! stores' key space is bounded, so what still grows after the warm-up is the provider's own.
//!
//! ```text
//! cargo test -p keyvalue-provider --test soak -- --ignored --nocapture
//! SOAK_SECS=12 cargo test -p keyvalue-provider --test soak -- --ignored --nocapture
//! ```
//!
//! One test for both backends, not one each: a host runs one provider process for all its
//! links, so that is the process to measure; the two backends share its runtime, link table and
//! transport under load, as they do in use; and one run of 60 s keeps CI a minute shorter. The
//! summary gives each link's share of the calls.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use keyvalue_provider::client::wrpc::keyvalue::{atomics, batch, store};
use provider_sdk::transport::Client;
use provider_testing::{
    ChildProvider, NatsServer, RedisServer, TestHost, TestLink, eventually, resident_kib,
};
use tokio::time::Instant;

const PROVIDER: &str = "keyvalue-provider";
const WORKERS: u64 = 32;
/// The links, by name; worker `i` calls over `LINKS[link_of(i)]`.
const LINKS: [&str; 2] = ["memory", "redis"];
/// The run's length unless `SOAK_SECS` says otherwise.
const DEFAULT_SECS: u64 = 60;
/// The baseline is the resident memory after this fraction of the run (10 s of 60).
const WARM_UP_FRACTION: u32 = 6;
/// How much the resident memory may grow from the baseline to the end.
const MAX_GROWTH: f64 = 1.2;

/// Every key any worker uses is in `BUCKET` or `COUNTERS`: `s-<n>` (shared by the link's
/// workers, n < `SHARED_KEYS`), `w<worker>-<n>` (one worker's, n < `PRIVATE_KEYS`).
const BUCKET: &str = "soak";
const SHARED_KEYS: u64 = 64;
const PRIVATE_KEYS: u64 = 8;
/// Counters: `shared` (every worker of a link adds to it) and `w<worker>`.
const COUNTERS: &str = "counters";
const SHARED_COUNTER: &str = "shared";
/// The value sizes, drawn uniformly.
const SIZES: [usize; 4] = [16, 512, 8 << 10, 64 << 10];
/// The most keys a batch call names.
const MAX_BATCH: u64 = 8;

/// An operation of the mix.
#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Set,
    Exists,
    Delete,
    Increment,
    ListKeys,
    GetMany,
    SetMany,
    DeleteMany,
}

impl Op {
    /// The mix: each operation with its weight (they add up to 100). Writes and deletes are
    /// balanced so that the stores hover about half full.
    const MIX: [(Op, u64); 9] = [
        (Op::Get, 20),
        (Op::Set, 14),
        (Op::Exists, 10),
        (Op::Delete, 8),
        (Op::Increment, 10),
        (Op::ListKeys, 4),
        (Op::GetMany, 14),
        (Op::SetMany, 12),
        (Op::DeleteMany, 8),
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// splitmix64: each worker's draws are reproducible from its number, and no dependency is
/// needed for them.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn op(&mut self) -> Op {
        let mut draw = self.below(Op::MIX.iter().map(|(_, weight)| weight).sum());
        for (op, weight) in Op::MIX {
            if draw < weight {
                return op;
            }
            draw -= weight;
        }
        unreachable!("the draw is below the sum of the weights")
    }
}

/// What a worker did.
#[derive(Debug, Default)]
struct Report {
    /// Calls per operation, in `Op::MIX` order.
    calls: [u64; Op::MIX.len()],
    /// Failed calls and wrong answers.
    errors: u64,
    /// The first few of those, to show.
    first_errors: Vec<String>,
    /// What the worker added to its link's shared counter.
    shared_added: u64,
}

impl Report {
    const ERRORS_SHOWN: usize = 10;

    /// Counts an error, and keeps its message if it is one of the first.
    fn fail(&mut self, message: String) {
        self.errors += 1;
        if self.first_errors.len() < Self::ERRORS_SHOWN {
            self.first_errors.push(message);
        }
    }

    fn add(&mut self, other: &Report) {
        for (calls, more) in self.calls.iter_mut().zip(other.calls) {
            *calls += more;
        }
        self.errors += other.errors;
        let room = Self::ERRORS_SHOWN.saturating_sub(self.first_errors.len());
        self.first_errors
            .extend(other.first_errors.iter().take(room).cloned());
        self.shared_added += other.shared_added;
    }

    fn total(&self) -> u64 {
        self.calls.iter().sum()
    }
}

/// One of the 32: calls over its link in a loop, and checks every answer about its own keys
/// against what it knows it stored (no other worker touches them).
struct Worker {
    id: u64,
    kv: Client,
    rng: Rng,
    /// The worker's keys in `BUCKET` that are set, with their values.
    stored: HashMap<String, Bytes>,
    /// The worker's own counter.
    counted: u64,
    /// The next value's serial number.
    serial: u64,
    /// Where the next list-keys page starts.
    cursor: Option<u64>,
    report: Report,
}

/// What one call came to: nothing, or what went wrong.
type Outcome = Result<(), String>;

/// A call's result with the transport's failure and the store's error both as text.
fn answer<T>(result: provider_sdk::Result<Result<T, store::Error>>) -> Result<T, String> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("the store answered {error:?}")),
        Err(error) => Err(format!("the call failed: {error}")),
    }
}

/// A value for a message: its length and serial number, not its bytes.
fn describe(value: Option<&Bytes>) -> String {
    match value {
        None => "none".to_owned(),
        Some(value) => match value.first_chunk::<8>() {
            Some(serial) => format!("{} B, serial {}", value.len(), u64::from_le_bytes(*serial)),
            None => format!("{} B", value.len()),
        },
    }
}

/// The index in `LINKS` of the link `worker` calls over: half the workers on each.
fn link_of(worker: u64) -> usize {
    (worker % LINKS.len() as u64) as usize
}

/// How many keys a worker has of its own, or its link shares.
fn key_space(own: bool) -> u64 {
    if own { PRIVATE_KEYS } else { SHARED_KEYS }
}

/// Whether `key` is one of the key space's (a page of list-keys names nothing else).
fn in_key_space(key: &str) -> bool {
    let below = |n: &str, bound: u64| n.parse::<u64>().is_ok_and(|n| n < bound);
    if let Some(n) = key.strip_prefix("s-") {
        return below(n, SHARED_KEYS);
    }
    key.strip_prefix('w')
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(worker, n)| below(worker, WORKERS) && below(n, PRIVATE_KEYS))
}

impl Worker {
    fn new(id: u64, kv: Client) -> Self {
        Self {
            id,
            kv,
            rng: Rng(id),
            stored: HashMap::new(),
            counted: 0,
            serial: 0,
            cursor: None,
            report: Report::default(),
        }
    }

    async fn run(mut self, until: Instant) -> Report {
        while Instant::now() < until {
            let op = self.rng.op();
            // Half the calls name the worker's own keys (whose answers it can check), half the
            // link's shared keys (which other workers change meanwhile).
            let own = self.rng.below(2) == 0;
            let outcome = self.call(op, own).await;
            self.report.calls[op.index()] += 1;
            if let Err(what) = outcome {
                let whose = match op {
                    Op::ListKeys => "",
                    _ if own => " (own keys)",
                    _ => " (shared keys)",
                };
                let (link, id) = (LINKS[link_of(self.id)], self.id);
                self.report
                    .fail(format!("{link} link, worker {id}: {op:?}{whose}: {what}"));
            }
        }
        self.report
    }

    /// Key number `n` of the worker's own keys or of the shared ones.
    fn key(&self, own: bool, n: u64) -> String {
        if own {
            format!("w{}-{n}", self.id)
        } else {
            format!("s-{n}")
        }
    }

    /// One of the worker's own keys or of the shared ones.
    fn any_key(&mut self, own: bool) -> String {
        let n = self.rng.below(key_space(own));
        self.key(own, n)
    }

    /// 1 to `most` distinct keys, own or shared.
    fn keys(&mut self, own: bool, most: u64) -> Vec<String> {
        let space = key_space(own);
        let start = self.rng.below(space);
        let count = 1 + self.rng.below(most);
        (0..count)
            .map(|i| self.key(own, (start + i) % space))
            .collect()
    }

    /// A value of one of `SIZES`, starting with its serial number.
    fn value(&mut self) -> Bytes {
        self.serial += 1;
        let serial = (self.id << 40) | self.serial;
        let mut value = vec![serial as u8; SIZES[self.rng.below(SIZES.len() as u64) as usize]];
        value[..8].copy_from_slice(&serial.to_le_bytes());
        value.into()
    }

    /// For an own key: whether `got` is what the worker stored there.
    fn check(&self, own: bool, key: &str, got: Option<&Bytes>) -> Outcome {
        let expected = self.stored.get(key);
        if own && got != expected {
            return Err(format!(
                "{key} holds {}, expected {}",
                describe(got),
                describe(expected)
            ));
        }
        Ok(())
    }

    async fn call(&mut self, op: Op, own: bool) -> Outcome {
        match op {
            Op::Get => {
                let key = self.any_key(own);
                let got = answer(store::get(&self.kv, BUCKET, &key).await)?;
                self.check(own, &key, got.as_ref())
            }
            Op::Set => {
                let key = self.any_key(own);
                let value = self.value();
                answer(store::set(&self.kv, BUCKET, &key, &value).await)?;
                if own {
                    self.stored.insert(key, value);
                }
                Ok(())
            }
            Op::Exists => {
                let key = self.any_key(own);
                let exists = answer(store::exists(&self.kv, BUCKET, &key).await)?;
                if own && exists != self.stored.contains_key(&key) {
                    return Err(format!("{key} exists: {exists}, expected {}", !exists));
                }
                Ok(())
            }
            Op::Delete => {
                let key = self.any_key(own);
                answer(store::delete(&self.kv, BUCKET, &key).await)?;
                self.stored.remove(&key); // a shared key is not there to remove
                Ok(())
            }
            Op::Increment => self.increment(own).await,
            Op::ListKeys => self.list_keys().await,
            Op::GetMany => {
                let keys = self.keys(own, MAX_BATCH);
                let got = answer(batch::get_many(&self.kv, BUCKET, &keys).await)?;
                if got.len() != keys.len() {
                    return Err(format!("{} answers for {} keys", got.len(), keys.len()));
                }
                for (key, got) in keys.iter().zip(&got) {
                    match got {
                        Some((named, _)) if named != key => {
                            return Err(format!("asked for {key}, answered {named}"));
                        }
                        _ => self.check(own, key, got.as_ref().map(|(_, value)| value))?,
                    }
                }
                Ok(())
            }
            Op::SetMany => {
                let pairs: Vec<(String, Bytes)> = self
                    .keys(own, MAX_BATCH)
                    .into_iter()
                    .map(|key| (key, self.value()))
                    .collect();
                answer(batch::set_many(&self.kv, BUCKET, &pairs).await)?;
                if own {
                    self.stored.extend(pairs);
                }
                Ok(())
            }
            Op::DeleteMany => {
                let keys = self.keys(own, MAX_BATCH);
                answer(batch::delete_many(&self.kv, BUCKET, &keys).await)?;
                for key in &keys {
                    self.stored.remove(key);
                }
                Ok(())
            }
        }
    }

    /// Adds to the worker's own counter (whose total it knows) or to the link's shared one
    /// (whose total is checked after the run).
    async fn increment(&mut self, own: bool) -> Outcome {
        let delta = 1 + self.rng.below(100);
        let key = if own {
            format!("w{}", self.id)
        } else {
            SHARED_COUNTER.to_owned()
        };
        let total = answer(atomics::increment(&self.kv, COUNTERS, &key, delta).await)?;
        if own {
            self.counted += delta;
            if total != self.counted {
                return Err(format!("{key} counts {total}, expected {}", self.counted));
            }
        } else {
            self.report.shared_added += delta;
            if total < delta {
                return Err(format!("{key} counts {total} after adding {delta}"));
            }
        }
        Ok(())
    }

    /// The next page of the bucket's keys: only keys of the key space, and, when one page
    /// holds them all, exactly the worker's own keys that it stored.
    async fn list_keys(&mut self) -> Outcome {
        let from = self.cursor;
        let page = answer(store::list_keys(&self.kv, BUCKET, from).await)?;
        self.cursor = page.cursor;
        if let Some(stray) = page.keys.iter().find(|key| !in_key_space(key)) {
            return Err(format!("listed {stray}, not a key any worker sets"));
        }
        if from.is_none() && page.cursor.is_none() {
            let prefix = format!("w{}-", self.id);
            let mut listed: Vec<&str> = page
                .keys
                .iter()
                .map(String::as_str)
                .filter(|key| key.starts_with(&prefix))
                .collect();
            let mut stored: Vec<&str> = self.stored.keys().map(String::as_str).collect();
            listed.sort_unstable();
            stored.sort_unstable();
            if listed != stored {
                return Err(format!("listed own keys {listed:?}, expected {stored:?}"));
            }
        }
        Ok(())
    }
}

/// The resident memory of `pid` once a second from now until `until`, with when each was
/// taken; stops early if the process is gone.
async fn sample_memory(pid: u32, until: Instant) -> Vec<(Duration, u64)> {
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut samples = Vec::new();
    while Instant::now() < until {
        ticks.tick().await;
        match resident_kib(pid) {
            Some(kib) => samples.push((start.elapsed(), kib)),
            None => break,
        }
    }
    samples
}

/// The child's resident memory over the run, in KiB.
#[derive(Debug)]
struct Memory {
    /// After the warm-up.
    baseline: u64,
    /// When the load stopped.
    end: u64,
    max: u64,
    /// A sample every warm-up's length, from the start.
    trail: Vec<(Duration, u64)>,
}

impl Memory {
    fn new(samples: &[(Duration, u64)], end: u64, warm_up: Duration) -> Self {
        let baseline = samples
            .iter()
            .find(|(at, _)| *at >= warm_up)
            .map(|&(_, kib)| kib)
            .unwrap_or_else(|| panic!("no memory sample after {warm_up:?}: {samples:?}"));
        let max = samples.iter().map(|&(_, kib)| kib).fold(end, u64::max);
        let every = warm_up.as_secs().max(1) as usize;
        let trail = samples.iter().step_by(every).copied().collect();
        Self {
            baseline,
            end,
            max,
            trail,
        }
    }

    fn growth(&self) -> f64 {
        self.end as f64 / self.baseline as f64
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (baseline, end, max) = (mib(self.baseline), mib(self.end), mib(self.max));
        let growth = self.growth();
        write!(
            f,
            "RSS after warm-up {baseline}, end {end}, max {max}, end/baseline {growth:.3}; over time:"
        )?;
        for (i, (at, kib)) in self.trail.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma} {}s {}", at.as_secs(), mib(*kib))?;
        }
        Ok(())
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn soak_duration() -> Duration {
    let secs = std::env::var("SOAK_SECS").map_or(DEFAULT_SECS, |secs| {
        secs.parse()
            .unwrap_or_else(|_| panic!("SOAK_SECS={secs} is not a number of seconds"))
    });
    Duration::from_secs(secs)
}

/// Starts the provider's binary under `host` with a memory link and a link to `redis`, and
/// returns it and a client for each link, once both serve.
async fn start(host: &TestHost, redis: &RedisServer) -> (ChildProvider, Vec<Client>) {
    for name in LINKS {
        let link = TestLink::new(
            "soak",
            PROVIDER,
            name,
            ("wrpc", "keyvalue"),
            &["store", "atomics", "batch"],
        );
        host.with_initial_link(match name {
            "redis" => link.target_config("url", &redis.url()),
            _ => link,
        });
    }
    let child = host
        .spawn(env!("CARGO_BIN_EXE_keyvalue-provider").as_ref())
        .await
        .unwrap();
    let clients: Vec<Client> = LINKS
        .iter()
        .map(|name| host.component("soak", name).unwrap())
        .collect();
    for (name, kv) in LINKS.iter().zip(&clients) {
        let serves =
            eventually(|| async { matches!(store::exists(kv, BUCKET, "s-0").await, Ok(Ok(_))) })
                .await;
        assert!(serves, "link {name} never served; log:\n{}", child.logs());
    }
    (child, clients)
}

/// Runs the workers until `until`; returns what each link's workers did.
async fn load(clients: &[Client], until: Instant) -> Vec<Report> {
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let worker = Worker::new(id, clients[link_of(id)].clone());
            tokio::spawn(worker.run(until))
        })
        .collect();
    let mut per_link: Vec<Report> = LINKS.iter().map(|_| Report::default()).collect();
    for (id, worker) in (0..WORKERS).zip(workers) {
        per_link[link_of(id)].add(&worker.await.unwrap());
    }
    per_link
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a 60 s soak: cargo test -p keyvalue-provider --test soak -- --ignored"]
async fn a_minute_of_32_way_mixed_load_leaves_no_errors_and_no_memory_growth() {
    let duration = soak_duration();
    let warm_up = duration / WARM_UP_FRACTION;
    let nats = NatsServer::start().unwrap();
    let redis = RedisServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let (mut child, clients) = start(&host, &redis).await;
    let pid = child.id().unwrap();

    let until = Instant::now() + duration;
    let sampler = tokio::spawn(sample_memory(pid, until));
    let per_link = load(&clients, until).await;
    // The workers stop starting calls at `until`; the last of them end a little later.
    let elapsed = duration + until.elapsed();
    let end =
        resident_kib(pid).unwrap_or_else(|| panic!("the provider exited; log:\n{}", child.logs()));
    let memory = Memory::new(&sampler.await.unwrap(), end, warm_up);

    let mut all = Report::default();
    per_link.iter().for_each(|report| all.add(report));
    let calls: Vec<String> = Op::MIX
        .iter()
        .map(|(op, _)| format!("{op:?} {}", all.calls[op.index()]))
        .collect();
    let links: Vec<String> = LINKS
        .iter()
        .zip(&per_link)
        .map(|(name, report)| format!("{} {name}", report.total()))
        .collect();
    eprintln!(
        "soak: {:.1} s, {WORKERS} workers, warm-up {warm_up:?}: {} calls ({:.0}/s; {}): {}; \
         {memory}; errors {}",
        elapsed.as_secs_f64(),
        all.total(),
        all.total() as f64 / elapsed.as_secs_f64(),
        links.join(", "),
        calls.join(", "),
        all.errors,
    );
    assert_eq!(
        all.errors,
        0,
        "errors under load, the first of them:\n{}\nlog:\n{}",
        all.first_errors.join("\n"),
        child.logs()
    );
    // Increments add up: each link's shared counter holds what its workers added.
    for ((name, kv), report) in LINKS.iter().zip(&clients).zip(&per_link) {
        let counted = answer(store::get(kv, COUNTERS, SHARED_COUNTER).await).unwrap();
        assert_eq!(
            counted,
            Some(Bytes::from(report.shared_added.to_string())),
            "the {name} link's shared counter"
        );
    }
    assert!(
        memory.growth() <= MAX_GROWTH,
        "resident memory grew more than {MAX_GROWTH}× from the warm-up to the end: {memory}"
    );

    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    let logs = child.logs();
    assert!(status.success(), "{status}; log:\n{logs}");
    assert!(!logs.contains("panicked"), "the provider panicked:\n{logs}");
}
