//! The issue's "messages survive a node": the provider delivers from a durable pull consumer of
//! a stream replicated on all three nodes of a NATS cluster; the node leading both the stream
//! and the consumer is killed mid-stream (SIGKILL: no goodbye to clients or routes), and every
//! message is still handled `ok` at least once and ends up acked.
//!
//! The lattice (the test host, the provider's control plane and the component's calls) is a NATS
//! server of its own, so the kill takes the messages' path down and nothing else.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use futures::StreamExt as _;
use provider_testing::{NatsCluster, NatsServer, eventually};

mod common;

use common::jetstream::{Component, Policy, all_acked, handler_link, put, serve};

const STREAM: &str = "SURVIVE";
const CONSUMER: &str = "survive";
const SUBJECT: &str = "survive";
/// Messages published, half of them before the kill and half after.
const COUNT: usize = 3_000;
/// The consumer's `ack_wait`. Acks the provider sends while the consumer has no leader are
/// lost, and so are the deliveries the killed leader had made but not yet replicated as acked:
/// the new leader redelivers those once `ack_wait` has passed. The default (30 s) would make
/// the test wait that long.
const ACK_WAIT: Duration = Duration::from_secs(3);
/// From the kill until every message has been handled `ok`: the survivors elect new leaders
/// for the stream and the consumer (4 to 10 s on nats-server); the provider's pull, lost with
/// the old consumer leader, is renewed after two missed idle heartbeats (10 s) and reaches the
/// new one; what was in flight at the kill is redelivered after `ACK_WAIT`. (About 12.5 s on
/// nats-server 2.9. A pull renewed only when its request expires took 36 s.)
const BOUND: Duration = Duration::from_secs(25);
/// How long a single message may take to be acknowledged by the stream, retries included.
const PUBLISH_BOUND: Duration = Duration::from_secs(20);
/// The name the provider's connections for the handler link go by at the server.
const LINK_CONNECTION: &str = "messaging-provider comp (default)";

/// Which node the test kills: always the one leading the stream and the consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Victim {
    /// A node the provider is not connected to: the provider's connection stays up, and its
    /// pull, acks and the consumer's lookups reach the new leaders through the survivors.
    NotTheProvider,
    /// The node the provider's connection is on, too: the client must reconnect to another
    /// node before anything else.
    TheProvider,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_handled_when_the_leader_s_node_dies_mid_stream() {
    messages_survive_a_node(Victim::NotTheProvider).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_handled_when_the_provider_s_node_dies_mid_stream() {
    messages_survive_a_node(Victim::TheProvider).await;
}

async fn messages_survive_a_node(victim: Victim) {
    let started = Instant::now();
    let mut cluster = NatsCluster::start(3).unwrap();
    let lattice = NatsServer::start().unwrap();
    let (host, provider, running) = common::start_provider(&lattice).await;
    // A few milliseconds per message, so that delivery is still under way when the test kills
    // the node (see `at_kill` below).
    let component = Component::new(Policy::Ok, Duration::from_millis(5));
    let _serving = serve(&host, component.clone()).await;

    let admin = jetstream_on(&cluster.url(0)).await;
    admin
        .create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: vec![format!("{SUBJECT}.>")],
            num_replicas: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    // The test creates the consumer (it gets the stream's three replicas) before the link: the
    // victim is chosen by where the consumer's leader is, and the link's URLs by the victim.
    admin
        .get_stream(STREAM)
        .await
        .unwrap()
        .create_consumer(pull::Config {
            durable_name: Some(CONSUMER.to_owned()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: ACK_WAIT,
            ..Default::default()
        })
        .await
        .unwrap();
    let consumers = format!(r#"[{{"stream":"{STREAM}","consumer":"{CONSUMER}"}}]"#);

    // The victim is the node leading the consumer, and the stream's leadership is moved to it:
    // the kill then costs both an election. (Not the other way round: on nats-server 2.9 a
    // stream's step-down hands over at once, a consumer's waits out an election of several
    // seconds.)
    let victim_node = leaders(&cluster, &admin)
        .await
        .expect("the stream or the consumer has no leader")
        .1;
    lead_stream_on(&cluster, &admin, victim_node).await;
    // The provider opens two connections for the link (one for its JetStream consumers, one for
    // its core subscriptions), each to one of the URLs it is given, at random. Which URLs it gets
    // decides where they are, so that each case tests what it says every time:
    let urls = match victim {
        // The survivors' URLs: both connections are on survivors. (The client learns the
        // victim's URL too, from the servers' INFO, but connects to a listed one first.)
        Victim::NotTheProvider => (0..cluster.len())
            .filter(|&node| node != victim_node)
            .map(|node| cluster.url(node))
            .collect::<Vec<_>>()
            .join(","),
        // The victim's URL only: both connections are on it, and after the kill the client
        // reconnects to the nodes the cluster advertised to it (the server's INFO lists its
        // peers' client URLs), which is what a user giving one seed URL relies on.
        Victim::TheProvider => cluster.url(victim_node),
    };
    put(
        &host,
        &handler_link(&urls, &consumers, &[("max_in_flight", "16")]),
        &provider,
    )
    .await;
    let on_victim = link_connections(&cluster, victim_node);
    match victim {
        Victim::NotTheProvider => assert_eq!(on_victim, 0),
        Victim::TheProvider => assert_eq!(on_victim, 2),
    }
    // The publisher is on a survivor: its publishes fail only while the stream has no leader.
    let survivor = (victim_node + 1) % 3;
    let js = jetstream_on(&cluster.url(survivor)).await;

    let (stream_leader, consumer_leader) = leaders(&cluster, &admin)
        .await
        .expect("the stream or the consumer has no leader");
    assert_eq!(
        consumer_leader, victim_node,
        "the victim does not lead the consumer"
    );
    eprintln!(
        "the victim n{victim_node} leads the consumer and {}",
        if stream_leader == victim_node {
            "the stream"
        } else {
            "not the stream"
        }
    );
    let before = tokio::spawn(publish(js.clone(), 0..COUNT / 2));
    assert!(
        eventually(|| async { component.handled() >= COUNT / 8 }).await,
        "only {} messages handled before the kill",
        component.handled()
    );
    cluster.kill(victim_node);
    let killed_at = Instant::now();
    let at_kill = component.handled();
    // Mid-stream: some of the messages published so far were handled, not all.
    assert!(
        at_kill < COUNT / 2,
        "{at_kill} of the first {} handled before the kill",
        COUNT / 2
    );
    let retried_after = publish(js.clone(), COUNT / 2..COUNT).await;
    let retried_before = before.await.unwrap();
    let published_in = killed_at.elapsed();

    let deadline = killed_at + BOUND;
    while component.handled() < COUNT && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let oks = component.oks();
    let missing: Vec<usize> = (0..COUNT)
        .filter(|n| !oks.contains_key(n.to_string().as_bytes()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {COUNT} messages not handled ok within {BOUND:?} of the kill (the first: {:?}); {:?}",
        missing.len(),
        &missing[..missing.len().min(20)],
        provider.jetstream_stats()
    );
    let all_handled_in = killed_at.elapsed();
    assert!(
        all_acked(&js, STREAM, CONSUMER).await,
        "the consumer still has messages pending or unacked"
    );

    let duplicates: usize = oks.values().map(|&n| n - 1).sum();
    let stall = longest_pause_after(&component.ok_times.lock().unwrap(), killed_at);
    eprintln!(
        "{victim:?}: killed n{victim_node} (leader of stream and consumer) with {at_kill} of \
         {COUNT} handled; publishing ended {published_in:.1?} after the kill, {retried_before} + \
         {retried_after} publishes retried; all handled {all_handled_in:.1?} after the kill; \
         delivery stalled {stall:.1?} at most; {duplicates} duplicate deliveries; {:?}",
        provider.jetstream_stats()
    );

    // The provider stops cleanly: its pull ends and nothing it delivers hangs the shutdown.
    tokio::time::timeout(Duration::from_secs(15), running.shutdown())
        .await
        .expect("the provider did not shut down within 15 s")
        .unwrap();
    eprintln!("{victim:?}: {:.1?} in all", started.elapsed());
}

/// A JetStream context on a new connection to `url`, whose requests wait at most 2 s for an
/// answer (a request to a leader that is gone waits that long before it is asked again).
async fn jetstream_on(url: &str) -> jetstream::Context {
    let mut js = jetstream::new(async_nats::connect(url).await.unwrap());
    js.set_timeout(Duration::from_secs(2));
    js
}

/// How many of the handler link's connections are on node `node`.
fn link_connections(cluster: &NatsCluster, node: usize) -> usize {
    cluster
        .node(node)
        .connections()
        .unwrap()
        .iter()
        .filter(|name| *name == LINK_CONNECTION)
        .count()
}

/// The nodes leading the stream and the consumer, once both have a leader (`None` if they do
/// not within 20 s).
async fn leaders(cluster: &NatsCluster, js: &jetstream::Context) -> Option<(usize, usize)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = current_leaders(cluster, js).await;
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn current_leaders(cluster: &NatsCluster, js: &jetstream::Context) -> Option<(usize, usize)> {
    let mut stream = js.get_stream(STREAM).await.ok()?;
    let stream_leader = stream.info().await.ok()?.cluster.clone()?.leader?;
    let consumer_leader = stream
        .consumer_info(CONSUMER)
        .await
        .ok()?
        .cluster
        .clone()?
        .leader?;
    Some((
        cluster.index_of(&stream_leader)?,
        cluster.index_of(&consumer_leader)?,
    ))
}

/// Makes node `to` the stream's leader if it can: the leader steps down, which hands the
/// leadership to another replica (the server picks which), until it is `to`. After 30 tries
/// it leaves the stream where it is and says so: the node killed then leads the consumer only.
async fn lead_stream_on(cluster: &NatsCluster, js: &jetstream::Context, to: usize) {
    for attempt in 1.. {
        let leaders = leaders(cluster, js)
            .await
            .expect("the stream or the consumer has no leader");
        if leaders.0 == to {
            return;
        }
        if attempt > 30 {
            eprintln!("n{to} did not become the stream's leader; it leads the consumer only");
            return;
        }
        js.client()
            .request(
                format!("$JS.API.STREAM.LEADER.STEPDOWN.{STREAM}"),
                "".into(),
            )
            .await
            .expect("the step-down request was not answered");
        // The new leader is known once the step-down's election is over.
        assert!(
            eventually(|| async {
                current_leaders(cluster, js)
                    .await
                    .is_some_and(|now| now.0 != leaders.0)
            })
            .await,
            "no new stream leader after a step-down"
        );
    }
}

/// Publishes `<SUBJECT>.<n>` with body `n` for each `n` of `range`, 64 at a time, each until
/// the stream has acknowledged it (stored on a majority of its replicas): while the stream has
/// no leader a publish fails (no responders, or no ack within the context's timeout) and is
/// sent again 100 ms later. Each carries `n` as its `Nats-Msg-Id`, so a retry of a publish that
/// was stored after all (its ack lost with the node) is dropped by the stream's duplicate window
/// instead of stored twice. Returns how many publishes were retried.
async fn publish(js: jetstream::Context, range: Range<usize>) -> usize {
    let retried = Arc::new(AtomicUsize::new(0));
    futures::stream::iter(range)
        .map(|n| {
            let (js, retried) = (js.clone(), Arc::clone(&retried));
            async move {
                let deadline = Instant::now() + PUBLISH_BOUND;
                loop {
                    let publish = PublishMessage::build()
                        .payload(n.to_string().into())
                        .message_id(n.to_string());
                    let acked = match js.send_publish(format!("{SUBJECT}.{n}"), publish).await {
                        Ok(ack) => ack.await.map(drop),
                        Err(error) => Err(error),
                    };
                    let Err(error) = acked else {
                        return;
                    };
                    assert!(
                        Instant::now() < deadline,
                        "message {n} was not acknowledged by the stream within \
                         {PUBLISH_BOUND:?}: {error}"
                    );
                    retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
    retried.load(Ordering::Relaxed)
}

/// The longest time without an `ok` from `from` on (`times`: when each `ok` was answered),
/// the wait from `from` to the first `ok` after it included.
fn longest_pause_after(times: &[Instant], from: Instant) -> Duration {
    let mut times: Vec<Instant> = times.iter().copied().filter(|&t| t >= from).collect();
    times.sort();
    std::iter::once(from)
        .chain(times.iter().copied())
        .zip(times.iter().copied())
        .map(|(earlier, later)| later - earlier)
        .max()
        .unwrap_or_default()
}
