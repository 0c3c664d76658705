//! The messaging provider through the SDK's test host, on real NATS servers the tests start:
//! one for the lattice (wRPC, control), one for the messages ("the bus"). Components are played
//! by the test: `consumer` called through the host's client, `handler` served on the lattice
//! under `<lattice>.comp`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use messaging_provider::MessagingProvider;
use messaging_provider::client::exports::wasmcloud::messaging::handler;
use messaging_provider::client::wasmcloud::messaging::consumer;
use messaging_provider::client::wasmcloud::messaging::types::BrokerMessage;
use provider_sdk::provider::Health;
use provider_sdk::transport::{Client, InvocationContext, ServeOptions, Serving};
use provider_testing::{
    Logs, NatsServer, NatsServerConfig, TestCertificates, TestHost, TestLink, eventually,
};

mod common;

use common::{PROVIDER, Setup};

async fn setup() -> Setup {
    common::setup(NatsServerConfig::default().monitoring()).await
}

impl Setup {
    /// A consumer link from `comp` named `name` to the bus, put, and a client calling over it
    /// once calls reach its connection.
    async fn consumer(&self, name: &str) -> Client {
        let link = consumer_link(name).target_config("cluster_uris", &self.bus.url());
        self.consumer_link(&link).await
    }

    /// Puts `link` and returns a client calling over it once calls reach its connection.
    async fn consumer_link(&self, link: &TestLink) -> Client {
        let name = link.key().name;
        self.host.put_link(link).await.unwrap();
        let client = self.host.component("comp", &name).unwrap();
        assert!(
            eventually(|| async {
                matches!(
                    consumer::publish(&client, &message("probe.consumer", b"", None)).await,
                    Ok(Ok(()))
                )
            })
            .await,
            "the consumer link {name} never became usable"
        );
        client
    }

    /// A handler link from the provider to `comp` named `name`, subscribed to `subscriptions`
    /// with `extra` source config; returns once the provider holds `handlers` handler links
    /// (a handler link is held only once the server has confirmed its subscriptions).
    async fn handler(
        &self,
        name: &str,
        subscriptions: &str,
        extra: &[(&str, &str)],
        handlers: usize,
    ) -> TestLink {
        let mut link = TestLink::new(
            PROVIDER,
            "comp",
            name,
            ("wasmcloud", "messaging"),
            &["handler"],
        )
        .source_config("cluster_uris", &self.bus.url())
        .source_config("subscriptions", subscriptions);
        for (key, value) in extra {
            link = link.source_config(key, value);
        }
        self.host.put_link(&link).await.unwrap();
        assert!(
            eventually(|| async { self.provider.links().1 == handlers }).await,
            "the handler link {name} never subscribed"
        );
        link
    }

    /// `comp` serves `handler` with `component`.
    async fn serve(&self, component: Component) -> Serving {
        let server = self
            .host
            .transport()
            .server(ServeOptions::new(format!("{}.comp", self.host.lattice())));
        handler::serve(&server, component).await.unwrap()
    }
}

/// A consumer link from `comp` named `name`, no config yet.
fn consumer_link(name: &str) -> TestLink {
    TestLink::new(
        "comp",
        PROVIDER,
        name,
        ("wasmcloud", "messaging"),
        &["consumer"],
    )
}

fn message(subject: &str, body: &[u8], reply_to: Option<&str>) -> BrokerMessage {
    BrokerMessage {
        subject: subject.to_owned(),
        body: Bytes::copy_from_slice(body),
        reply_to: reply_to.map(str::to_owned),
    }
}

/// What the component heard: (link name, message), and how many deliveries it handled at once.
/// It answers `err` to a message whose body starts with `reject`.
#[derive(Clone, Default)]
struct Component {
    heard: Arc<Mutex<Vec<(String, BrokerMessage)>>>,
    /// How long each delivery takes.
    delay: Duration,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
    /// Each delivery's `traceparent`, in the order heard.
    traces: Arc<Mutex<Vec<Option<String>>>>,
}

impl Component {
    fn slow(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    fn heard(&self) -> Vec<(String, BrokerMessage)> {
        self.heard.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.heard.lock().unwrap().len()
    }

    async fn until(&self, count: usize) {
        assert!(
            eventually(|| async { self.count() >= count }).await,
            "heard {} messages, expected {count}",
            self.count()
        );
    }
}

impl handler::Handler<InvocationContext> for Component {
    async fn handle_message(
        &self,
        cx: InvocationContext,
        msg: BrokerMessage,
    ) -> Result<(), String> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let link = cx.header("link-name").unwrap_or("default").to_owned();
        let reject = msg.body.starts_with(b"reject");
        let trace = cx.header("traceparent").map(str::to_owned);
        let mut heard = self.heard.lock().unwrap();
        heard.push((link, msg));
        self.traces.lock().unwrap().push(trace);
        drop(heard);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if reject {
            return Err("rejected by the component".to_owned());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_published_message_reaches_the_handler_with_subject_body_and_reply_to_intact() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "orders.*", &[], 1).await;
    let client = setup.consumer("default").await;

    let body: Vec<u8> = (0..=255).collect();
    consumer::publish(&client, &message("orders.new", &body, Some("replies.here")))
        .await
        .unwrap()
        .unwrap();
    consumer::publish(&client, &message("orders.empty", b"", None))
        .await
        .unwrap()
        .unwrap();
    component.until(2).await;
    let heard = component.heard();
    assert_eq!(
        heard[0],
        (
            "default".to_owned(),
            message("orders.new", &body, Some("replies.here"))
        )
    );
    assert_eq!(
        heard[1],
        ("default".to_owned(), message("orders.empty", b"", None))
    );
    // A message published on the bus by anyone else arrives too.
    let bus = setup.bus.connect().await.unwrap();
    bus.publish("orders.direct", Bytes::from_static(b"hi"))
        .await
        .unwrap();
    component.until(3).await;
    assert_eq!(
        component.heard()[2].1,
        message("orders.direct", b"hi", None)
    );
    assert_eq!(setup.provider.delivery_stats().delivered, 3);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_gets_the_responders_reply_and_no_responders_is_an_error() {
    let mut setup = setup().await;
    let client = setup.consumer("default").await;
    let bus = setup.bus.connect().await.unwrap();
    let mut requests = bus.subscribe("echo").await.unwrap();
    // The SUB is at the server once a message of its own comes back (a flush only writes it).
    bus.publish("echo", Bytes::from_static(b"probe"))
        .await
        .unwrap();
    assert_eq!(
        requests.next().await.unwrap().payload,
        Bytes::from_static(b"probe")
    );
    let responder = tokio::spawn({
        let bus = bus.clone();
        async move {
            while let Some(request) = requests.next().await {
                let mut body = b"echo: ".to_vec();
                body.extend_from_slice(&request.payload);
                bus.publish(request.reply.unwrap(), body.into())
                    .await
                    .unwrap();
            }
        }
    });
    let reply = consumer::request(&client, "echo", b"ping", 2_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.body, Bytes::from_static(b"echo: ping"));
    assert!(reply.subject.starts_with("_INBOX."), "{}", reply.subject);
    let error = consumer::request(&client, "nobody.home", b"ping", 2_000)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        error.contains("no responders") && error.contains("nobody.home"),
        "{error}"
    );
    responder.abort();
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// The "`timeout-ms` 100 against a silent subject fails in about 100 ms".
#[tokio::test]
async fn a_request_with_timeout_ms_100_to_a_silent_subject_fails_in_about_100_ms() {
    let mut setup = setup().await;
    let client = setup
        .consumer("default")
        .await
        .with_timeout(Duration::from_secs(20));
    let bus = setup.bus.connect().await.unwrap();
    // Subscribed but silent: no "no responders", just no reply.
    let _silent = bus.subscribe("silent").await.unwrap();
    bus.flush().await.unwrap();
    let started = Instant::now();
    let error = consumer::request(&client, "silent", b"?", 100)
        .await
        .unwrap()
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(90) && took < Duration::from_secs(1),
        "{took:?}"
    );
    assert!(
        error.contains("silent") && error.contains("within 100 ms"),
        "{error}"
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// The "`timeout-ms` 20000 against a responder that answers after 12 s succeeds":
/// longer than async-nats' own 10 s request timeout, and still waited for.
#[tokio::test]
async fn a_request_with_timeout_ms_20000_gets_a_reply_sent_after_12_s() {
    let mut setup = setup().await;
    // The caller's own deadline is beyond the request's 20 s, so only the provider's counts.
    let client = setup
        .consumer("default")
        .await
        .with_timeout(Duration::from_secs(30));
    let bus = setup.bus.connect().await.unwrap();
    let mut slow = bus.subscribe("slow").await.unwrap();
    // A flush only writes the SUB out; a message of its own coming back proves the server has
    // it (seen: "no responders" on nats-server 2.15 with only the flush).
    bus.publish("slow", Bytes::from_static(b"probe"))
        .await
        .unwrap();
    assert_eq!(
        slow.next().await.unwrap().payload,
        Bytes::from_static(b"probe")
    );
    let responder = tokio::spawn({
        let bus = bus.clone();
        async move {
            let request = slow.next().await.unwrap();
            tokio::time::sleep(Duration::from_secs(12)).await;
            bus.publish(request.reply.unwrap(), Bytes::from_static(b"late"))
                .await
                .unwrap();
            bus.flush().await.unwrap();
        }
    });
    let started = Instant::now();
    let reply = consumer::request(&client, "slow", b"?", 20_000)
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(reply.body, Bytes::from_static(b"late"));
    assert!(
        took >= Duration::from_secs(12) && took < Duration::from_secs(20),
        "{took:?}"
    );
    responder.await.unwrap();
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// While the bus is down, a request returns within its timeout-ms and says the connection is
/// down; publishes return within their bound (the first ones are queued by the client for when
/// it reconnects, the ones beyond its queue fail, saying so), none hangs.
#[tokio::test]
async fn request_and_publish_are_bounded_while_the_connection_is_down() {
    let mut setup = setup().await;
    let client = setup
        .consumer("default")
        .await
        .with_timeout(Duration::from_secs(30));
    setup.bus.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..3 {
        let started = Instant::now();
        let error = consumer::request(&client, "anyone", b"?", 500)
            .await
            .unwrap()
            .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1_200), "{took:?}");
        assert!(error.contains("connection is down"), "{error}");
    }

    // Publish until one is refused; each returns within the bound (5 s) plus slack.
    let started = Instant::now();
    let refused = futures::stream::iter(0..20_000)
        .map(|n| {
            let client = &client;
            async move {
                let started = Instant::now();
                let result =
                    consumer::publish(client, &message("later", n.to_string().as_bytes(), None))
                        .await
                        .unwrap();
                let took = started.elapsed();
                assert!(took < Duration::from_secs(7), "{took:?}");
                result.err()
            }
        })
        .buffer_unordered(256)
        .filter_map(std::future::ready)
        .boxed()
        .next()
        .await
        .expect("no publish was refused while the connection was down");
    assert!(refused.contains("connection is down"), "{refused}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // With the client's queue full, a request still returns within its timeout-ms.
    let started = Instant::now();
    let error = consumer::request(&client, "anyone", b"?", 500)
        .await
        .unwrap()
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1_200), "{took:?}");
    assert!(error.contains("connection is down"), "{error}");

    setup.bus.restart().unwrap();
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// How many times each of the bodies `0..count` was heard; panics naming a body outside them.
fn times_heard(bodies: impl IntoIterator<Item = Bytes>, count: usize) -> Vec<usize> {
    let mut times = vec![0; count];
    for body in bodies {
        let index: usize = std::str::from_utf8(&body)
            .ok()
            .and_then(|text| text.parse().ok())
            .filter(|index| *index < count)
            .unwrap_or_else(|| panic!("heard a body that was never published: {body:?}"));
        times[index] += 1;
    }
    times
}

/// Asserts that each body in `range` was heard exactly once (`times` from [`times_heard`]),
/// naming (the first few of) those that were not.
fn assert_each_heard_once(times: &[usize], range: std::ops::Range<usize>) {
    let missing: Vec<usize> = range.clone().filter(|&i| times[i] == 0).collect();
    let twice: Vec<usize> = range.filter(|&i| times[i] > 1).collect();
    assert!(
        missing.is_empty() && twice.is_empty(),
        "{} never heard (first: {:?}), {} heard more than once (first: {:?})",
        missing.len(),
        &missing[..missing.len().min(10)],
        twice.len(),
        &twice[..twice.len().min(10)],
    );
}

/// The "10,000 publishes → exactly 10,000 deliveries, none twice": published by the
/// component through its consumer link, delivered back to it through its handler link.
#[tokio::test]
async fn ten_thousand_publishes_arrive_exactly_once_each() {
    const COUNT: usize = 10_000;
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "many", &[], 1).await;
    let client = setup.consumer("default").await;

    let publishes = futures::stream::iter(0..COUNT)
        .map(|n| {
            let client = &client;
            async move {
                consumer::publish(client, &message("many", n.to_string().as_bytes(), None))
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
        .buffer_unordered(64);
    publishes.collect::<Vec<()>>().await;
    component.until(COUNT).await;
    // Time for a duplicate, if there were one, to arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let heard = component.heard();
    assert_eq!(heard.len(), COUNT);
    assert_each_heard_once(
        &times_heard(heard.into_iter().map(|(_, m)| m.body), COUNT),
        0..COUNT,
    );
    assert!(
        eventually(|| async { setup.provider.delivery_stats().delivered == COUNT as u64 }).await,
        "{:?}",
        setup.provider.delivery_stats()
    );
    let stats = setup.provider.delivery_stats();
    assert_eq!((stats.failed, stats.dropped), (0, 0), "{stats:?}");
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn two_link_names_from_one_component_are_two_delivery_streams() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("a", "only.a,both", &[], 1).await;
    setup.handler("b", "only.b,both", &[], 2).await;
    let bus = setup.bus.connect().await.unwrap();
    for subject in ["only.a", "only.b", "both"] {
        bus.publish(subject, Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    component.until(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut heard: Vec<(String, String)> = component
        .heard()
        .into_iter()
        .map(|(link, m)| (link, m.subject))
        .collect();
    heard.sort();
    let expected = [
        ("a", "both"),
        ("a", "only.a"),
        ("b", "both"),
        ("b", "only.b"),
    ];
    assert_eq!(
        heard,
        expected.map(|(l, s)| (l.to_owned(), s.to_owned())).to_vec()
    );
    // Each link has a connection of its own.
    let connections = setup.bus.connections().unwrap();
    let mut ours: Vec<&String> = connections
        .iter()
        .filter(|name| name.starts_with("messaging-provider "))
        .collect();
    ours.sort();
    assert_eq!(ours.len(), 2, "{connections:?}");
    // Named for the link they serve, so the server and the logs tell them apart.
    assert!(
        ours[0].ends_with(" (a)") && ours[1].ends_with(" (b)"),
        "{ours:?}"
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_a_handler_link_stops_delivery_and_closes_its_connection() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    let link = setup.handler("default", "events", &[], 1).await;
    let bus = setup.bus.connect().await.unwrap();
    bus.publish("events", Bytes::from_static(b"1"))
        .await
        .unwrap();
    component.until(1).await;

    setup.host.delete_link(&link).await.unwrap();
    assert!(eventually(|| async { setup.provider.links().1 == 0 }).await);
    assert!(
        eventually(|| async {
            !setup
                .bus
                .connections()
                .unwrap()
                .iter()
                .any(|name| name.starts_with("messaging-provider "))
        })
        .await,
        "the link's connection stayed open"
    );
    bus.publish("events", Bytes::from_static(b"2"))
        .await
        .unwrap();
    bus.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(component.count(), 1);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// A link deleted with messages queued behind a slow component loses none silently: each is
/// delivered or counted as dropped.
#[tokio::test]
async fn deleting_a_busy_handler_link_delivers_or_counts_every_message() {
    let mut setup = setup().await;
    let component = Component::slow(Duration::from_millis(200));
    let _serving = setup.serve(component.clone()).await;
    let link = setup
        .handler(
            "default",
            "queued",
            &[("max_in_flight", "1"), ("admission_wait_ms", "1500")],
            1,
        )
        .await;
    let bus = setup.bus.connect().await.unwrap();
    for n in 0..30 {
        bus.publish("queued", n.to_string().into()).await.unwrap();
    }
    bus.flush().await.unwrap();
    component.until(1).await;
    setup.host.delete_link(&link).await.unwrap();
    let accounted = || {
        let stats = setup.provider.delivery_stats();
        stats.delivered + stats.failed + stats.dropped
    };
    assert!(
        eventually(|| async { accounted() == 30 }).await,
        "{:?}",
        setup.provider.delivery_stats()
    );
    let stats = setup.provider.delivery_stats();
    assert!(stats.delivered >= 1 && stats.dropped >= 1, "{stats:?}");
    assert_eq!(component.count() as u64, stats.delivered);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// A link replaced with messages queued behind a slow component: the old subscription drains;
/// each of its messages is delivered or counted as dropped.
#[tokio::test]
async fn replacing_a_busy_handler_link_delivers_or_counts_every_message() {
    let mut setup = setup().await;
    let component = Component::slow(Duration::from_millis(200));
    let _serving = setup.serve(component.clone()).await;
    let extra = [("max_in_flight", "1"), ("admission_wait_ms", "1500")];
    setup.handler("default", "before", &extra, 1).await;
    let bus = setup.bus.connect().await.unwrap();
    for n in 0..30 {
        bus.publish("before", n.to_string().into()).await.unwrap();
    }
    bus.flush().await.unwrap();
    component.until(1).await;
    setup.handler("default", "after", &extra, 1).await;
    let accounted = || {
        let stats = setup.provider.delivery_stats();
        stats.delivered + stats.failed + stats.dropped
    };
    assert!(
        eventually(|| async { accounted() == 30 }).await,
        "{:?}",
        setup.provider.delivery_stats()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = setup.provider.delivery_stats();
    assert_eq!(
        stats.delivered + stats.failed + stats.dropped,
        30,
        "{stats:?}"
    );
    assert_eq!(component.count() as u64, stats.delivered);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_changed_handler_link_is_subscribed_anew() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "old", &[], 1).await;
    let bus = setup.bus.connect().await.unwrap();
    bus.publish("old", Bytes::from_static(b"1")).await.unwrap();
    component.until(1).await;

    // A change the provider cannot apply leaves the link as it was.
    let bad = TestLink::new(
        PROVIDER,
        "comp",
        "default",
        ("wasmcloud", "messaging"),
        &["handler"],
    )
    .source_config("cluster_uris", &setup.bus.url())
    .source_config("subscriptions", "not a subject");
    setup.host.put_link(&bad).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    bus.publish("old", Bytes::from_static(b"still"))
        .await
        .unwrap();
    component.until(2).await;

    setup.handler("default", "new", &[], 1).await;
    // The new subscription is in place once a message to it arrives.
    assert!(
        eventually(|| async {
            bus.publish("new", Bytes::from_static(b"probe"))
                .await
                .unwrap();
            component.heard().iter().any(|(_, m)| m.subject == "new")
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = component.count();
    bus.publish("old", Bytes::from_static(b"2")).await.unwrap();
    bus.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        component.count(),
        before,
        "the old subscription still delivers"
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slow_handler_never_sees_more_than_max_in_flight_at_once() {
    let mut setup = setup().await;
    let component = Component::slow(Duration::from_millis(50));
    let _serving = setup.serve(component.clone()).await;
    setup
        .handler("default", "work", &[("max_in_flight", "4")], 1)
        .await;
    let bus = setup.bus.connect().await.unwrap();
    for n in 0..40 {
        bus.publish("work", n.to_string().into()).await.unwrap();
    }
    component.until(40).await;
    assert_eq!(component.most_in_flight.load(Ordering::SeqCst), 4);
    assert_eq!(setup.provider.delivery_stats().dropped, 0);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_message_that_waits_too_long_for_a_slot_is_dropped_and_counted() {
    let mut setup = setup().await;
    let component = Component::slow(Duration::from_millis(1_000));
    let _serving = setup.serve(component.clone()).await;
    setup
        .handler(
            "default",
            "busy",
            &[("max_concurrency", "1"), ("admission_wait_ms", "200")],
            1,
        )
        .await;
    let bus = setup.bus.connect().await.unwrap();
    let started = Instant::now();
    for n in 0..20 {
        bus.publish("busy", n.to_string().into()).await.unwrap();
    }
    // The first is delivered; the others wait behind it, together: all of them are dropped
    // once their 200 ms are up (not one 200 ms wait after another, which would take 3.8 s and
    // let some through as slots free up).
    assert!(eventually(|| async { setup.provider.delivery_stats().dropped == 19 }).await);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    component.until(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(component.count(), 1);
    assert_eq!(component.heard()[0].1.body, Bytes::from_static(b"0"));
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn an_oversized_message_is_refused_whole_naming_its_size_and_the_limit() {
    let mut setup = setup().await;
    let client = setup.consumer("default").await;
    let bus = setup.bus.connect().await.unwrap();
    let limit = bus.server_info().max_payload;
    let mut big = bus.subscribe("big").await.unwrap();
    bus.flush().await.unwrap();

    let body = vec![7u8; limit + 1];
    let error = consumer::publish(&client, &message("big", &body, None))
        .await
        .unwrap()
        .unwrap_err();
    let (size, limit) = ((limit + 1).to_string(), limit.to_string());
    assert!(
        error.contains(&size) && error.contains(&limit) && error.contains("max_payload"),
        "{error}"
    );
    let error = consumer::request(&client, "big", &body, 1_000)
        .await
        .unwrap()
        .unwrap_err();
    assert!(error.contains(&size) && error.contains(&limit), "{error}");
    // Nothing of either reached the subject. A message of exactly max_payload bytes from a
    // traced component goes out whole, without the trace headers that would not fit.
    let traced = client.starting_traces();
    let exact = vec![8u8; limit.parse().unwrap()];
    consumer::publish(&traced, &message("big", &exact, None))
        .await
        .unwrap()
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), big.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.payload, Bytes::from(exact));
    assert!(first.headers.is_none());
    consumer::publish(&traced, &message("big", b"fits", None))
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), big.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.payload, Bytes::from_static(b"fits"));
    assert!(second.headers.unwrap().get("traceparent").is_some());
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_queue_subscription_shares_messages_between_links() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("a", "jobs|workers", &[], 1).await;
    setup.handler("b", "jobs|workers", &[], 2).await;
    let bus = setup.bus.connect().await.unwrap();
    for n in 0..200 {
        bus.publish("jobs", n.to_string().into()).await.unwrap();
    }
    component.until(200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let heard = component.heard();
    assert_eq!(heard.len(), 200);
    let distinct: HashSet<&Bytes> = heard.iter().map(|(_, m)| &m.body).collect();
    assert_eq!(distinct.len(), 200);
    // Both members of the group got some (NATS picks one at random for each message).
    for link in ["a", "b"] {
        assert!(heard.iter().any(|(l, _)| l == link), "{link} got none");
    }
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// The issue's "a queue group over two provider instances: each message delivered once in
/// all". Two replicas as a wasmCloud lattice runs them: the same provider id in the same
/// lattice, started by (here, one) host with the same `HostData` and links, each a run of its
/// own with its own connections. One runs in this process, so its `delivery_stats` tell how
/// many it delivered; the other is the provider's executable in a child process.
#[tokio::test]
async fn a_queue_group_over_two_provider_instances_delivers_each_message_once_in_all() {
    const COUNT: usize = 1_000;
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start_with(NatsServerConfig::default().monitoring()).unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(
        TestLink::new(
            PROVIDER,
            "comp",
            "default",
            ("wasmcloud", "messaging"),
            &["handler"],
        )
        .source_config("cluster_uris", &bus.url())
        .source_config("subscriptions", "jobs|workers"),
    );
    let component = Component::default();
    let server = host
        .transport()
        .server(ServeOptions::new(format!("{}.comp", host.lattice())));
    let _serving = handler::serve(&server, component.clone()).await.unwrap();
    let here = Arc::new(MessagingProvider::default());
    let running = host.start(Arc::clone(&here)).await.unwrap();
    let mut child = host
        .spawn(env!("CARGO_BIN_EXE_messaging-provider").as_ref())
        .await
        .unwrap();

    // Both members are in the group once each has delivered a probe (NATS hands each message
    // of a queue group to one member, at random).
    let publisher = bus.connect().await.unwrap();
    let probes = || {
        component
            .heard()
            .iter()
            .filter(|(_, m)| m.body.starts_with(b"probe"))
            .count() as u64
    };
    assert!(
        eventually(|| async {
            publisher.publish("jobs", "probe".into()).await.unwrap();
            let here = here.delivery_stats().delivered;
            here > 0 && probes() > here
        })
        .await,
        "the two instances never both delivered a probe: {} here, {} in all; child's log:\n{}",
        here.delivery_stats().delivered,
        probes(),
        child.logs()
    );
    // Each replica has a connection of its own for the link.
    let connections = bus.connections().unwrap();
    let links = connections
        .iter()
        .filter(|name| *name == "messaging-provider comp (default)")
        .count();
    assert_eq!(links, 2, "{connections:?}");
    // Let the last probes land, then count from here.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probes_heard = probes();
    let before = here.delivery_stats();

    for n in 0..COUNT {
        publisher
            .publish("jobs", n.to_string().into())
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    assert!(
        eventually(|| async { component.count() as u64 >= probes_heard + COUNT as u64 }).await,
        "heard {} of {COUNT}; child's log:\n{}",
        component.count() as u64 - probes_heard,
        child.logs()
    );
    // Time for a duplicate, if there were one, to arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let heard: Vec<Bytes> = component
        .heard()
        .into_iter()
        .map(|(_, m)| m.body)
        .filter(|body| !body.starts_with(b"probe"))
        .collect();
    assert_eq!(heard.len(), COUNT);
    assert_each_heard_once(&times_heard(heard, COUNT), 0..COUNT);
    let after = here.delivery_stats();
    let by_here = after.delivered - before.delivered;
    assert!(
        by_here > 0 && by_here < COUNT as u64,
        "this instance delivered {by_here} of {COUNT}, the other {}",
        (COUNT as u64).saturating_sub(by_here)
    );
    assert_eq!((after.failed, after.dropped), (0, 0), "{after:?}");

    running.shutdown().await.unwrap();
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", child.logs());
}

#[tokio::test]
async fn the_provider_limit_bounds_deliveries_over_all_links() {
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start_with(NatsServerConfig::default().monitoring()).unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_config("provider_max_in_flight", "3");
    host.with_config("max_in_flight", "8");
    let provider = Arc::new(MessagingProvider::default());
    let running = host.start(Arc::clone(&provider)).await.unwrap();
    let mut setup = Setup {
        lattice: nats,
        bus,
        host,
        provider,
        running: Some(running),
    };
    let component = Component::slow(Duration::from_millis(50));
    let _serving = setup.serve(component.clone()).await;
    setup.handler("a", "work", &[], 1).await;
    setup.handler("b", "work", &[], 2).await;
    let bus = setup.bus.connect().await.unwrap();
    for n in 0..30 {
        bus.publish("work", n.to_string().into()).await.unwrap();
    }
    // Each link hears every message: 60 deliveries, never more than 3 at once.
    component.until(60).await;
    assert_eq!(component.most_in_flight.load(Ordering::SeqCst), 3);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// The "a handler err is counted and logged": the component's `err` and a call that
/// cannot reach a component are each counted as failed and logged once (warn) with the link,
/// the subject and the reason. (A current-thread runtime, so that the delivery tasks log on
/// this thread, where the capture is the default subscriber.)
#[tokio::test(flavor = "current_thread")]
async fn rejected_and_undeliverable_messages_are_counted_and_logged() {
    let logs = Logs::default();
    let _logging = tracing::subscriber::set_default(logs.clone());
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "mixed", &[], 1).await;
    let bus = setup.bus.connect().await.unwrap();
    for body in ["ok", "reject me", "ok too"] {
        bus.publish("mixed", body.into()).await.unwrap();
    }
    component.until(3).await;
    assert!(
        eventually(|| async {
            let stats = setup.provider.delivery_stats();
            stats.delivered == 2 && stats.failed == 1
        })
        .await,
        "{:?}",
        setup.provider.delivery_stats()
    );
    let rejected = logs.with(&["the component failed to handle a message"]);
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    for part in [
        "messaging-provider -> comp (default)",
        "subject=mixed",
        "rejected by the component",
    ] {
        assert!(rejected[0].contains(part), "no {part:?} in {}", rejected[0]);
    }
    // A handler link to a component that serves nothing: the call fails, counted.
    let ghost = TestLink::new(
        PROVIDER,
        "ghost",
        "default",
        ("wasmcloud", "messaging"),
        &["handler"],
    )
    .source_config("cluster_uris", &setup.bus.url())
    .source_config("subscriptions", "haunted");
    setup.host.put_link(&ghost).await.unwrap();
    assert!(eventually(|| async { setup.provider.links().1 == 2 }).await);
    bus.publish("haunted", "boo".into()).await.unwrap();
    assert!(
        eventually(|| async { setup.provider.delivery_stats().failed == 2 }).await,
        "{:?}",
        setup.provider.delivery_stats()
    );
    let undelivered = logs.with(&["could not deliver a message to the component"]);
    assert_eq!(undelivered.len(), 1, "{undelivered:#?}");
    for part in ["messaging-provider -> ghost (default)", "subject=haunted"] {
        assert!(
            undelivered[0].contains(part),
            "no {part:?} in {}",
            undelivered[0]
        );
    }
    // The failed call is logged as such, not as the component's err.
    assert_eq!(
        logs.with(&["the component failed to handle a message"])
            .len(),
        1
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn runs_under_a_host_as_a_process_and_exits_0() {
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(
        TestLink::new(
            "comp",
            PROVIDER,
            "default",
            ("wasmcloud", "messaging"),
            &["consumer"],
        )
        .target_config("cluster_uris", &bus.url())
        .target_config("custom_inbox_prefix", "_MINE"),
    );
    host.with_initial_link(
        TestLink::new(
            PROVIDER,
            "comp",
            "default",
            ("wasmcloud", "messaging"),
            &["handler"],
        )
        .source_config("cluster_uris", &bus.url())
        .source_config("subscriptions", "to.comp"),
    );
    let component = Component::default();
    let server = host
        .transport()
        .server(ServeOptions::new(format!("{}.comp", host.lattice())));
    let _serving = handler::serve(&server, component.clone()).await.unwrap();
    let responder = bus.connect().await.unwrap();
    let mut requests = responder.subscribe("echo").await.unwrap();
    // The SUB is at the server once a message of its own comes back (a flush only writes it).
    responder
        .publish("echo", Bytes::from_static(b"probe"))
        .await
        .unwrap();
    assert_eq!(
        requests.next().await.unwrap().payload,
        Bytes::from_static(b"probe")
    );
    tokio::spawn({
        let responder = responder.clone();
        async move {
            while let Some(request) = requests.next().await {
                let _ = responder
                    .publish(request.reply.unwrap(), request.payload)
                    .await;
            }
        }
    });

    let mut child = host
        .spawn(env!("CARGO_BIN_EXE_messaging-provider").as_ref())
        .await
        .unwrap();
    let client = host.component("comp", "default").unwrap();
    let reply = Mutex::new(None);
    assert!(
        eventually(|| async {
            let answer = consumer::request(&client, "echo", b"hello", 1_000)
                .await
                .ok()
                .and_then(Result::ok);
            let got = answer.is_some();
            *reply.lock().unwrap() = answer;
            got
        })
        .await,
        "the consumer link never served; log:\n{}",
        child.logs()
    );
    let reply = reply.into_inner().unwrap().unwrap();
    assert_eq!(reply.body, Bytes::from_static(b"hello"));
    // The reply came to an inbox under the custom prefix.
    assert!(reply.subject.starts_with("_MINE."), "{}", reply.subject);
    consumer::publish(&client, &message("to.comp", b"for you", None))
        .await
        .unwrap()
        .unwrap();
    component.until(1).await;
    assert_eq!(component.heard()[0].1, message("to.comp", b"for you", None));

    assert_eq!(host.health().await.unwrap(), Health::healthy());
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", child.logs());
}

/// The trace id of a `traceparent`.
fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap()
}

#[tokio::test]
async fn the_trace_follows_a_message_from_publisher_to_handler() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "traced", &[], 1).await;
    let client = setup.consumer("default").await.starting_traces();
    let bus = setup.bus.connect().await.unwrap();
    let mut seen = bus.subscribe("traced").await.unwrap();
    bus.flush().await.unwrap();

    // Published by a traced component: the message carries the trace, the handler continues it.
    consumer::publish(&client, &message("traced", b"1", None))
        .await
        .unwrap()
        .unwrap();
    let on_the_bus = tokio::time::timeout(Duration::from_secs(5), seen.next())
        .await
        .unwrap()
        .unwrap();
    let header = on_the_bus.headers.unwrap();
    let sent = header.get("traceparent").unwrap().as_str().to_owned();
    component.until(1).await;
    let delivered = component.traces.lock().unwrap()[0].clone().unwrap();
    assert_eq!(trace_id(&delivered), trace_id(&sent));
    assert_eq!(component.heard()[0].1, message("traced", b"1", None));

    // Published by anyone with a traceparent: the same.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    );
    bus.publish_with_headers("traced", headers, "2".into())
        .await
        .unwrap();
    component.until(2).await;
    let delivered = component.traces.lock().unwrap()[1].clone().unwrap();
    assert_eq!(trace_id(&delivered), "0af7651916cd43dd8448eb211c80319c");
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn credentials_and_a_private_ca_are_what_connects() {
    let certificates = TestCertificates::generate().unwrap();
    let user = nkeys::KeyPair::new_user();
    let seed = user.seed().unwrap();
    let bus = NatsServer::start_with(NatsServerConfig::default().monitoring().extra(format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}\nauthorization {{ users = [ {{ nkey: {} }} ] }}",
        certificates.cert_file().display().to_string(),
        certificates.key_file().display().to_string(),
        user.public_key()
    )))
    .unwrap();
    let nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let provider = Arc::new(MessagingProvider::default());
    let running = host.start(Arc::clone(&provider)).await.unwrap();
    let url = format!("tls://{}", bus.addr());
    let mut setup = Setup {
        lattice: nats,
        bus,
        host,
        provider,
        running: Some(running),
    };
    let ca_file = certificates.ca_file().display().to_string();
    // The seed as a secret, over a config value that would not do; the CA from a file or inline.
    let file = consumer_link("file")
        .target_config("cluster_uris", &url)
        .target_config("tls_ca_file", &ca_file)
        .target_config("client_seed", "SUNOTTHISONE")
        .target_secret("client_seed", &seed);
    let inline = consumer_link("inline")
        .target_config("cluster_uris", &url)
        .target_config("tls_ca", certificates.ca_pem())
        .target_secret("client_seed", &seed);
    for link in [&file, &inline] {
        let client = setup.consumer_link(link).await;
        consumer::publish(&client, &message("secured", b"x", None))
            .await
            .unwrap()
            .unwrap();
    }
    // Without the CA, or without the seed, there is no connection and so no link.
    let untrusted = consumer_link("untrusted")
        .target_config("cluster_uris", &url)
        .target_secret("client_seed", &seed);
    let anonymous = consumer_link("anonymous")
        .target_config("cluster_uris", &url)
        .target_config("tls_ca_file", &ca_file);
    for link in [&untrusted, &anonymous] {
        setup.host.put_link(link).await.unwrap();
    }
    let anonymous_client = setup.host.component("comp", "anonymous").unwrap();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(setup.provider.links().0, 2);
    assert!(
        consumer::publish(&anonymous_client, &message("secured", b"x", None))
            .await
            .is_err()
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// The "NATS restarted mid-stream: delivery resumes", with the bus restarted.
#[tokio::test]
async fn delivery_resumes_when_the_bus_restarts_mid_stream() {
    a_stream_resumes_after_a_restart(Restart::Bus).await;
}

/// The same with the lattice's NATS restarted too, as when one NATS carries both (common in a
/// wasmCloud deployment): calls to and from the component wait for it as well.
#[tokio::test]
async fn delivery_resumes_when_the_lattice_and_the_bus_restart_mid_stream() {
    a_stream_resumes_after_a_restart(Restart::LatticeAndBus).await;
}

/// Which NATS servers [`a_stream_resumes_after_a_restart`] restarts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Restart {
    Bus,
    LatticeAndBus,
}

/// The component publishes a numbered stream through its consumer link, one message every few
/// milliseconds, and hears it through its handler link; `restart`'s servers are killed and
/// started again in the middle. Core NATS is at most once, so messages around the outage may be
/// lost; but the stream resumes, nothing is heard twice, and from the first message heard
/// that was published after the restart on, every publish that returned `ok` is delivered.
async fn a_stream_resumes_after_a_restart(restart: Restart) {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    setup.handler("default", "stream", &[], 1).await;
    // A call in flight when the lattice goes down is lost with it and waits out its whole
    // timeout: a short one keeps the stream going.
    let client = setup
        .consumer("default")
        .await
        .with_timeout(Duration::from_secs(2));

    // Publishes 0, 1, 2, ... until told to stop; returns which of them returned `ok`.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let published = Arc::new(AtomicUsize::new(0));
    let publisher = tokio::spawn({
        let (stop, published) = (Arc::clone(&stop), Arc::clone(&published));
        async move {
            let mut ok = Vec::new();
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let body = n.to_string();
                let result =
                    consumer::publish(&client, &message("stream", body.as_bytes(), None)).await;
                ok.push(matches!(result, Ok(Ok(()))));
                published.store(n + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            ok
        }
    });
    let indices = || -> Vec<usize> {
        component
            .heard()
            .iter()
            .map(|(_, m)| std::str::from_utf8(&m.body).unwrap().parse().unwrap())
            .collect()
    };

    component.until(20).await;
    setup.bus.stop();
    if restart == Restart::LatticeAndBus {
        setup.lattice.stop();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    if restart == Restart::LatticeAndBus {
        setup.lattice.restart().unwrap();
    }
    setup.bus.restart().unwrap();
    let after_restart = published.load(Ordering::SeqCst);
    // Resumed: messages published after the restart arrive, a good many of them.
    assert!(
        eventually(|| async { indices().iter().filter(|&&n| n >= after_restart).count() >= 50 })
            .await,
        "delivery did not resume after the restart: heard {} messages, the last {:?}; {:?}",
        component.count(),
        indices().last(),
        setup.provider.delivery_stats()
    );
    stop.store(true, Ordering::SeqCst);
    let ok = publisher.await.unwrap();
    let last = ok
        .iter()
        .rposition(|ok| *ok)
        .expect("no publish returned ok");
    assert!(
        eventually(|| async { indices().contains(&last) }).await,
        "the last message published ok ({last}) never arrived"
    );
    // Time for a duplicate, if there were one, to arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let heard = indices();
    let times = times_heard(heard.iter().map(|n| Bytes::from(n.to_string())), ok.len());
    let twice: Vec<usize> = (0..times.len()).filter(|&n| times[n] > 1).collect();
    assert!(twice.is_empty(), "heard more than once: {twice:?}");
    let resumed = heard
        .iter()
        .copied()
        .filter(|&n| n >= after_restart)
        .min()
        .unwrap();
    let missing: Vec<usize> = (resumed..ok.len())
        .filter(|&n| ok[n] && times[n] == 0)
        .collect();
    assert!(
        missing.is_empty(),
        "published ok after delivery resumed (at {resumed}) but never heard: {missing:?}"
    );
    let heard = heard.len() as u64;
    if restart == Restart::LatticeAndBus {
        // A call in flight when the lattice went down is lost with it: the provider counts it
        // as failed once its timeout (10 s) has passed, whether or not the component heard it.
        assert!(
            eventually(|| async {
                let stats = setup.provider.delivery_stats();
                stats.delivered + stats.failed >= heard
            })
            .await,
            "heard {heard}, {:?}",
            setup.provider.delivery_stats()
        );
    }
    let stats = setup.provider.delivery_stats();
    match restart {
        // The component's calls never went down: every delivery was answered.
        Restart::Bus => assert_eq!((stats.delivered, stats.failed), (heard, 0), "{stats:?}"),
        Restart::LatticeAndBus => assert!(stats.delivered <= heard, "heard {heard}, {stats:?}"),
    }
    assert_eq!(stats.dropped, 0, "{stats:?}");
    setup.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn health_names_a_link_whose_connection_stays_down_and_recovers_with_it() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    let link = consumer_link("default")
        .target_config("cluster_uris", &setup.bus.url())
        .target_config("unhealthy_after_ms", "300");
    let client = setup.consumer_link(&link).await;
    // The handler link tolerates a longer outage: it is not named.
    setup
        .handler("patient", "after", &[("unhealthy_after_ms", "60000")], 1)
        .await;
    assert_eq!(setup.host.health().await.unwrap(), Health::healthy());

    setup.bus.stop();
    assert!(
        eventually(|| async {
            let health = setup.host.health().await.unwrap();
            !health.healthy
                && health
                    .message
                    .as_deref()
                    .is_some_and(|message| message.contains("comp") && message.contains("down for"))
        })
        .await
    );
    let report = setup.host.health().await.unwrap().message.unwrap();
    assert!(!report.contains("patient"), "{report}");

    // Back: healthy again, and the handler link's subscription was restored by the client.
    setup.bus.restart().unwrap();
    assert!(eventually(|| async { setup.host.health().await.unwrap() == Health::healthy() }).await);
    assert!(
        eventually(|| async {
            let _ = consumer::publish(&client, &message("after", b"back", None)).await;
            component.count() > 0
        })
        .await
    );
    setup.running.take().unwrap().shutdown().await.unwrap();
}
