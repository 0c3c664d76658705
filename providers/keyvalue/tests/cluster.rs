//! The keyvalue provider scaled out on a three-node NATS cluster, and what its callers see when
//! part of it dies: replicas (the real binary as child processes fed `HostData`, as wasmCloud
//! hosts start them) share the calls of one queue group; a replica killed under load costs only
//! the calls in flight on it; a NATS node killed under load moves its provider to another node;
//! acknowledged writes to a bucket with three JetStream replicas survive the loss of the
//! stream leader's node.
//!
//! The tests take turns (one lock): each measures how long callers wait, which two cores shared
//! by several clusters under load would blur.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use keyvalue_provider::client::wrpc::keyvalue::{atomics, store};
use provider_sdk::provider::Health;
use provider_sdk::transport::Client;
use provider_testing::{ChildProvider, NatsCluster, TestHost, TestLink, eventually, within};
use tokio::sync::Mutex;

const PROVIDER: &str = "keyvalue-provider";
/// Concurrent callers in the load tests.
const CALLERS: usize = 32;
/// The deadline of every call in the load tests.
const DEADLINE: Duration = Duration::from_secs(2);
/// How much later than its deadline a failed call may return (a loaded machine's scheduling).
const SLACK: Duration = Duration::from_secs(1);

/// How long JetStream may take to elect a stream's new leader (nats-server's raft elections
/// take 4 to 10 s; a loaded machine stretches them).
const ELECTION: Duration = Duration::from_secs(30);

/// One test at a time.
static TURN: Mutex<()> = Mutex::const_new(());

/// Node indexes: replicas on the first two, callers on the third.
const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// A host on `node` that starts a replica of the provider (connected to that node, as its
/// `HostData` says) with a memory link for component `comp`: in a lattice of its own, or in
/// `lattice` to join the replicas of another host.
async fn host_on(cluster: &NatsCluster, node: usize, lattice: Option<&str>) -> TestHost {
    let host = TestHost::new(&cluster.url(node), PROVIDER)
        .await
        .unwrap()
        // Each replica under a host of its own: a shutdown names the host whose replica stops.
        .with_host_id(&format!("NHOST{node}"));
    let host = match lattice {
        Some(lattice) => host.in_lattice(lattice),
        None => host,
    };
    host.with_initial_link(memory_link());
    host
}

/// A caller on `node` in `host`'s lattice.
async fn caller_on(cluster: &NatsCluster, node: usize, host: &TestHost) -> TestHost {
    TestHost::new(&cluster.url(node), PROVIDER)
        .await
        .unwrap()
        .in_lattice(host.lattice())
}

fn memory_link() -> TestLink {
    TestLink::new(
        "comp",
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    )
}

async fn spawn(host: &TestHost) -> ChildProvider {
    host.spawn(env!("CARGO_BIN_EXE_keyvalue-provider").as_ref())
        .await
        .unwrap()
}

/// Waits until a call over `kv` succeeds.
async fn until_served(kv: &Client, logs: impl Fn() -> String) {
    assert!(
        eventually(|| async { matches!(store::set(kv, "b", "ready", b"1").await, Ok(Ok(()))) })
            .await,
        "the provider never served; its log:\n{}",
        logs()
    );
}

/// Waits until both replicas answer calls over `kv`: each keeps its own counter of `served`
/// in its own memory, so a count of 1 answered twice came from both.
async fn until_both_serve(kv: &Client, logs: impl Fn() -> String) {
    until_both_count(kv, "served", logs).await;
}

/// Waits until both replicas answer increments of `key` (a key not counted before).
async fn until_both_count(kv: &Client, key: &str, logs: impl Fn() -> String) {
    let ones = std::cell::Cell::new(0);
    let both = eventually(|| async {
        if let Ok(Ok(1)) = atomics::increment(kv, "b", key, 1).await {
            ones.set(ones.get() + 1);
        }
        ones.get() == 2
    })
    .await;
    assert!(both, "only one replica serves; logs:\n{}", logs());
}

#[tokio::test]
async fn replicas_in_one_queue_group_share_the_calls() {
    let _turn = TURN.lock().await;
    let cluster = NatsCluster::start(3).unwrap();
    let on_a = host_on(&cluster, A, None).await;
    let on_b = host_on(&cluster, B, Some(on_a.lattice())).await;
    let (replica_a, replica_b) = (spawn(&on_a).await, spawn(&on_b).await);
    let caller = caller_on(&cluster, C, &on_a).await;
    let logs = || replica_a.logs() + &replica_b.logs();
    until_both_serve(&caller.component("comp", "default").unwrap(), logs).await;

    // A link put while both run reaches both: link puts are not queued, every replica hears
    // each one (here from the host on node A).
    let later = TestLink::new(
        "comp",
        PROVIDER,
        "later",
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    );
    on_a.put_link(&later).await.unwrap();
    let kv = caller.component("comp", "later").unwrap();
    until_both_serve(&kv, logs).await;

    // Each replica keeps its own counter, so the answers are two runs 1, 2, 3, ...: a value
    // answered twice was answered by both, and the larger run's end is one replica's share.
    const CALLS: u64 = 200;
    let mut answers = Vec::new();
    for _ in 0..CALLS {
        answers.push(atomics::increment(&kv, "b", "n", 1).await.unwrap().unwrap());
    }
    let larger = answers.iter().copied().max().unwrap();
    let smaller = CALLS - larger;
    assert_eq!(
        answers.iter().filter(|value| **value == 1).count(),
        2,
        "both replicas answer: {answers:?}"
    );
    eprintln!("{CALLS} calls from node C: {larger} to one replica, {smaller} to the other");
    // NATS picks a queue member at random per message: a split this uneven has a probability
    // below 1e-15.
    assert!(
        smaller >= CALLS / 5,
        "{smaller} of {CALLS} calls to one replica"
    );
}

/// What one call of the load saw.
struct Outcome {
    started: Instant,
    took: Duration,
    error: Option<provider_sdk::Error>,
}

/// `CALLERS` callers each making `set` calls over `kv` until `stop` is set; every call's
/// outcome.
async fn load(kv: Client, stop: Arc<AtomicBool>) -> Vec<Outcome> {
    let kv = kv.with_timeout(DEADLINE);
    let callers = (0..CALLERS).map(|caller| {
        let (kv, stop) = (kv.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let key = format!("caller-{caller}");
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let result = store::set(&kv, "b", &key, &Bytes::from_static(b"v")).await;
                outcomes.push(Outcome {
                    started,
                    took: started.elapsed(),
                    error: match result {
                        Ok(Ok(())) => None,
                        Ok(Err(error)) => panic!("the store refused a set: {error:?}"),
                        Err(error) => Some(error),
                    },
                });
            }
            outcomes
        })
    });
    let mut all = Vec::new();
    for caller in futures::future::join_all(callers).await {
        all.extend(caller.unwrap());
    }
    all
}

/// Asserts that no call outlived its deadline and every failure is a transport failure;
/// returns the failures.
fn no_call_hung(outcomes: &[Outcome]) -> Vec<&Outcome> {
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap_or_default();
    assert!(
        slowest <= DEADLINE + SLACK,
        "a call took {slowest:?}, past its deadline of {DEADLINE:?}"
    );
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    for outcome in &failed {
        let error = outcome.error.as_ref().unwrap();
        assert!(error.is_transport(), "not a transport failure: {error}");
    }
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_costs_only_the_calls_in_flight_on_it() {
    let _turn = TURN.lock().await;
    let cluster = NatsCluster::start(3).unwrap();
    let on_a = host_on(&cluster, A, None).await;
    let on_b = host_on(&cluster, B, Some(on_a.lattice())).await;
    let (mut replica_a, replica_b) = (spawn(&on_a).await, spawn(&on_b).await);
    let caller = caller_on(&cluster, C, &on_a).await;
    let kv = caller.component("comp", "default").unwrap();
    until_both_serve(&kv, || replica_a.logs() + &replica_b.logs()).await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(kv.clone(), Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Both still serve, under the load, the moment before the kill: the kill hits a replica
    // taking its share of the calls.
    until_both_count(&kv, "served-under-load", || {
        replica_a.logs() + &replica_b.logs()
    })
    .await;
    let killed_at = Instant::now();
    replica_a.kill().await.unwrap();
    // Long enough for every call in flight on the dead replica to reach its deadline, and for
    // a stretch of calls made after that.
    tokio::time::sleep(DEADLINE * 2).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await.unwrap();

    let failed = no_call_hung(&outcomes);
    let before = outcomes.iter().filter(|o| o.started < killed_at).count();
    // Calls begun in the moment between the kill and NATS seeing the replica's connection close
    // can still be routed to it.
    let begun_after = failed
        .iter()
        .filter(|o| o.started > killed_at)
        .map(|o| o.started - killed_at);
    eprintln!(
        "{} calls ({before} before the kill), {} failed ({} begun after the kill, the last {:?} \
         after it), all with transport errors: {:?}",
        outcomes.len(),
        failed.len(),
        begun_after.clone().count(),
        begun_after.max().unwrap_or_default(),
        failed
            .iter()
            .map(|o| o.error.as_ref().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>(),
    );
    // Only calls in flight around the kill fail: none begun one deadline after it.
    let settled = killed_at + DEADLINE;
    let late = failed.iter().filter(|o| o.started > settled).count();
    assert_eq!(late, 0, "calls begun after {DEADLINE:?} still failed");
    // The killed replica was serving (checked just before the kill), but a call spends a
    // fraction of a millisecond of its ~10 ms inside a replica: the kill may find none in flight,
    // and then no call fails at all. Those that fail are at most the calls in flight.
    assert!(
        failed.len() <= CALLERS * 2,
        "{} failures: more than the calls in flight",
        failed.len()
    );
    let after = outcomes.iter().filter(|o| o.started > settled).count();
    assert!(after > 0, "no call was made after the kill had settled");
    assert_eq!(caller.health().await.unwrap(), Health::healthy());
    assert!(
        replica_b
            .logs()
            .lines()
            .all(|line| !line.contains("panicked"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_moves_its_provider_to_another_node() {
    let _turn = TURN.lock().await;
    let mut cluster = NatsCluster::start(3).unwrap();
    // The provider is told only of node A: it finds the others from what the cluster
    // advertised when it connected.
    let on_a = host_on(&cluster, A, None).await;
    let provider = spawn(&on_a).await;
    let caller = caller_on(&cluster, C, &on_a).await;
    let kv = caller.component("comp", "default").unwrap();
    until_served(&kv, || provider.logs()).await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(kv.clone(), Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = Instant::now();
    cluster.kill(A);
    // A probe with a short deadline, calling from the kill on: its first success is when
    // serving resumed (the load's callers are all waiting out the calls lost with the node).
    const BOUND: Duration = Duration::from_secs(5);
    let probe = kv.with_timeout(Duration::from_millis(200));
    let resumed = within(BOUND, || async {
        matches!(store::set(&probe, "b", "probe", b"1").await, Ok(Ok(())))
    })
    .await;
    let resumed = resumed.unwrap_or_else(|| {
        panic!(
            "no call succeeded within {BOUND:?} of the node's death; provider log:\n{}",
            provider.logs()
        )
    });
    assert_eq!(caller.health().await.unwrap(), Health::healthy());
    // The load's calls go on past their deadline, to see that none hangs and they succeed again.
    tokio::time::sleep(DEADLINE + Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await.unwrap();

    let failed = no_call_hung(&outcomes);
    // Two ways to fail: a call in flight on the dead node times out (at most one per caller);
    // a call made in the moment before the provider subscribed again on another node is
    // answered "no responders" at once (a caller may make several of those).
    let (timed_out, no_server): (Vec<&&Outcome>, Vec<&&Outcome>) = failed
        .iter()
        .partition(|o| matches!(o.error, Some(provider_sdk::Error::Timeout { .. })));
    eprintln!(
        "a call succeeded {resumed:?} after the provider's node died; of {} loaded calls {} \
         timed out (in flight) and {} found no server (made before the provider was back)",
        outcomes.len(),
        timed_out.len(),
        no_server.len(),
    );
    assert!(
        timed_out.len() <= CALLERS,
        "{} calls timed out",
        timed_out.len()
    );
    for outcome in &no_server {
        let error = outcome.error.as_ref().unwrap();
        assert!(
            matches!(error, provider_sdk::Error::NoServer { .. }),
            "neither a timeout nor no server: {error}"
        );
    }
    let late = failed
        .iter()
        .filter(|o| o.started > killed_at + resumed)
        .count();
    assert_eq!(late, 0, "calls begun after serving resumed failed");
    let served_after = outcomes
        .iter()
        .filter(|o| o.started > killed_at + DEADLINE && o.error.is_none())
        .count();
    assert!(
        served_after > 0,
        "no loaded call succeeded after the node died"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sets_survive_the_loss_of_the_stream_leader_s_node() {
    let _turn = TURN.lock().await;
    let mut cluster = NatsCluster::start(3).unwrap();
    let host = TestHost::new(&cluster.url(C), PROVIDER).await.unwrap();
    host.with_initial_link(
        memory_link()
            .target_config("backend", "nats")
            .target_config("url", &cluster.urls())
            .target_config("enable_bucket_auto_create", "true")
            .target_config("replicas", "3"),
    );
    let provider = spawn(&host).await;
    let kv = host.component("comp", "default").unwrap();
    until_served(&kv, || provider.logs()).await;

    // 10,000 sets, 32 at a time; each acknowledged by the provider only after JetStream
    // stored it on a majority of the bucket's replicas.
    const SETS: usize = 10_000;
    let started = Instant::now();
    let writers = (0..CALLERS).map(|writer| {
        let kv = kv.clone();
        tokio::spawn(async move {
            for key in (writer..SETS).step_by(CALLERS) {
                store::set(&kv, "b", &format!("k{key}"), format!("v{key}").as_bytes())
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }
    eprintln!("{SETS} acknowledged sets in {:?}", started.elapsed());

    // The bucket is the stream KV_b: three replicas, and one of the nodes leads it. Not node
    // C, where the lattice is: this test is about the stream's leader alone (the provider's
    // own node dying is the test above), so a leader on C is asked to step down first.
    let js = async_nats::jetstream::new(host.nats().clone());
    let stream = js.get_stream("KV_b").await.unwrap();
    assert_eq!(
        stream.cached_info().config.num_replicas,
        3,
        "the replicas key made the bucket"
    );
    let leader_of = |stream: &async_nats::jetstream::stream::Stream| {
        let cluster_info = stream.cached_info().cluster.as_ref();
        let leader = cluster_info.and_then(|c| c.leader.clone());
        leader.and_then(|name| cluster.index_of(&name))
    };
    let mut leader = leader_of(&stream);
    if leader == Some(C) {
        host.nats()
            .request("$JS.API.STREAM.LEADER.STEPDOWN.KV_b", "".into())
            .await
            .unwrap();
        let deadline = Instant::now() + ELECTION;
        while leader.is_none_or(|node| node == C) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            leader = js.get_stream("KV_b").await.ok().and_then(|s| leader_of(&s));
        }
        assert_ne!(leader, Some(C), "the stream's leader did not leave node C");
    }
    let leader = leader.expect("the stream has a leader among the nodes");
    cluster.kill(leader);

    // Sets succeed again once the survivors have elected a new leader.
    let kv = kv.with_timeout(DEADLINE);
    let elected = within(ELECTION, || async {
        matches!(store::set(&kv, "b", "after", b"1").await, Ok(Ok(())))
    })
    .await;
    let elected = elected.unwrap_or_else(|| {
        panic!(
            "no set succeeded within {ELECTION:?} of the leader's node's death; provider log:\n{}",
            provider.logs()
        )
    });
    eprintln!("a set succeeded again {elected:?} after node {leader} (the stream leader) died");

    let readers = (0..CALLERS).map(|reader| {
        let kv = kv.clone();
        tokio::spawn(async move {
            let mut missing = Vec::new();
            for key in (reader..SETS).step_by(CALLERS) {
                let got = store::get(&kv, "b", &format!("k{key}"))
                    .await
                    .unwrap()
                    .unwrap();
                if got.as_deref() != Some(format!("v{key}").as_bytes()) {
                    missing.push(key);
                }
            }
            missing
        })
    });
    let mut missing = Vec::new();
    for reader in futures::future::join_all(readers).await {
        missing.extend(reader.unwrap());
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged sets lost: {missing:?}",
        missing.len()
    );
}
