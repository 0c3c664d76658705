//! JetStream consumers of handler links, on a real nats-server with JetStream (the Debian
//! 2.9 one by default): at-least-once delivery, acked only after the component's `ok`. The
//! component is played by the test, serving `handler` on the lattice under `<lattice>.comp`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::AckPolicy;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use futures::StreamExt as _;
use provider_sdk::provider::{Link, Provider as _, Secrets};
use provider_sdk::transport::Serving;
use provider_testing::{NatsServer, NatsServerConfig, TestHost, TestLink, eventually};

mod common;

use common::jetstream::{Component, Policy, all_acked, handler_link, put, serve};
use common::{PROVIDER, Setup};

async fn setup() -> Setup {
    common::setup(NatsServerConfig::default().jetstream()).await
}

impl Setup {
    async fn serve(&self, component: Component) -> Serving {
        serve(&self.host, component).await
    }

    async fn jetstream(&self) -> jetstream::Context {
        jetstream::new(self.bus.connect().await.unwrap())
    }

    /// Puts `link` and waits until the provider holds it (JetStream consumers found first).
    async fn put(&self, link: &TestLink) {
        put(&self.host, link, &self.provider).await;
    }

    /// The link put hook's own error for `link`, called directly.
    async fn put_error(&self, link: &TestLink) -> String {
        let link =
            Link::from_definition(PROVIDER, link.definition(), Secrets::new(), Secrets::new())
                .unwrap();
        self.provider
            .link_put_as_source(&link)
            .await
            .unwrap_err()
            .to_string()
    }
}

/// Publishes bodies `range` to `subject_prefix.<n>`, waiting for every JetStream ack.
async fn publish(js: &jetstream::Context, subject_prefix: &str, range: std::ops::Range<usize>) {
    futures::stream::iter(range)
        .map(|n| async move {
            js.publish(format!("{subject_prefix}.{n}"), n.to_string().into())
                .await
                .unwrap()
                .await
                .unwrap();
        })
        .buffer_unordered(256)
        .collect::<Vec<()>>()
        .await;
}

/// (a) 10,000 messages, every tenth failed once by the component: every message handled `ok`
/// exactly once, each failure redelivered once, all acked on the server, and never more than
/// `max_in_flight` deliveries at once (the handler awaits and the runtime has two workers, so
/// deliveries do overlap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_with_every_tenth_failing_once_are_all_handled_ok_once() {
    let mut setup = setup().await;
    let component = Component::new(Policy::FailEveryTenthOnce, Duration::ZERO);
    let _serving = setup.serve(component.clone()).await;
    let js = setup.jetstream().await;
    js.get_or_create_stream(stream::Config {
        name: "ORDERS".into(),
        subjects: vec!["orders.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    publish(&js, "orders", 0..5_000).await;
    // The stream exists; the consumer is created by the provider.
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"ORDERS","consumer":"orders-handler","create":true,"subjects":["orders.>"]}]"#,
        &[("max_in_flight", "32")],
    );
    setup.put(&link).await;
    publish(&js, "orders", 5_000..10_000).await;

    component.until_ok(10_000, 120).await;
    assert!(all_acked(&js, "ORDERS", "orders-handler").await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let oks = component.oks();
    assert_eq!(oks.len(), 10_000);
    assert!(
        oks.values().all(|&n| n == 1),
        "a message was handled ok twice"
    );
    let errs = component.errs();
    assert_eq!(errs.len(), 1_000);
    assert!(errs.values().all(|&n| n == 1));
    assert!(errs.keys().all(|body| body.ends_with(b"0")));
    let stats = setup.provider.jetstream_stats();
    assert_eq!(
        (stats.acked, stats.naked, stats.terminated),
        (10_000, 1_000, 0)
    );
    let most = component.most_in_flight.load(Ordering::SeqCst);
    assert!(most > 1 && most <= 32, "{most} deliveries at once");
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (b) A missing stream or consumer without `create` fails the link put, naming it, and the
/// link never comes up; with `create` both are created and deliver.
#[tokio::test]
async fn a_missing_stream_fails_the_link_put_unless_create_is_set() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;

    let missing = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"NOSUCH","consumer":"c"}]"#,
        &[],
    );
    let error = setup.put_error(&missing).await;
    assert!(
        error.contains("`NOSUCH`") && error.contains("does not exist"),
        "{error}"
    );
    setup.host.put_link(&missing).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(setup.provider.links().1, 0);

    // A stream that exists with a consumer that does not: the consumer is named.
    let js = setup.jetstream().await;
    js.get_or_create_stream(stream::Config {
        name: "THERE".into(),
        subjects: vec!["there".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let no_consumer = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"THERE","consumer":"ghost"}]"#,
        &[],
    );
    let error = setup.put_error(&no_consumer).await;
    assert!(
        error.contains("`ghost`") && error.contains("`THERE`") && error.contains("does not exist"),
        "{error}"
    );
    assert_eq!(setup.provider.links().1, 0);

    // Bad JSON: an error naming the entry and the field.
    let bad = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"NOSUCH","consumer":"c","max_deliver":0}]"#,
        &[],
    );
    let error = setup.put_error(&bad).await;
    assert!(error.contains("entry 1: `max_deliver` = 0"), "{error}");

    let created = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"NOSUCH","consumer":"c","create":true,"subjects":["made.>"]}]"#,
        &[],
    );
    setup.put(&created).await;
    let stream = js.get_stream("NOSUCH").await.unwrap();
    assert_eq!(
        stream.cached_info().config.subjects,
        vec!["made.>".to_owned()]
    );
    publish(&js, "made", 0..3).await;
    component.until_ok(3, 20).await;
    assert!(all_acked(&js, "NOSUCH", "c").await);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (c) A message the component always fails is delivered `max_deliver` times, then
/// terminated and counted; the others are handled and the consumer has nothing left unacked.
#[tokio::test]
async fn a_message_failing_every_time_is_terminated_after_max_deliver_attempts() {
    let mut setup = setup().await;
    let component = Component::new(Policy::Poison, Duration::ZERO);
    let _serving = setup.serve(component.clone()).await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"JOBS","consumer":"jobs","create":true,"subjects":["jobs"],"max_deliver":3}]"#,
        &[],
    );
    setup.put(&link).await;
    let js = setup.jetstream().await;
    for body in ["fine", "poison", "also fine"] {
        js.publish("jobs", body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    assert!(
        eventually(|| async { setup.provider.jetstream_stats().terminated == 1 }).await,
        "{:?}",
        setup.provider.jetstream_stats()
    );
    assert!(all_acked(&js, "JOBS", "jobs").await);
    // Nothing comes after the termination.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        component.errs(),
        HashMap::from([(Bytes::from("poison"), 3)])
    );
    assert_eq!(
        component.oks(),
        HashMap::from([(Bytes::from("fine"), 1), (Bytes::from("also fine"), 1)])
    );
    let stats = setup.provider.jetstream_stats();
    assert_eq!((stats.acked, stats.naked, stats.terminated), (2, 2, 1));
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (d) The provider as a process, killed with SIGKILL while handling a stream of messages,
/// then started again: every message is handled at least once (those in flight at the kill
/// are redelivered after `ack_wait`).
#[tokio::test]
async fn every_message_is_handled_at_least_once_across_a_crash() {
    const COUNT: usize = 2_000;
    let program = env!("CARGO_BIN_EXE_messaging-provider");
    let nats = NatsServer::start().unwrap();
    let bus = NatsServer::start_with(NatsServerConfig::default().jetstream()).unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(handler_link(
        &bus.url(),
        r#"[{"stream":"CRASH","consumer":"crash","create":true,"subjects":["crash.>"],"ack_wait_ms":2000}]"#,
        &[("max_in_flight", "16")],
    ));
    let component = Component::new(Policy::Ok, Duration::from_millis(5));
    let _serving = serve(&host, component.clone()).await;
    let js = jetstream::new(bus.connect().await.unwrap());
    js.get_or_create_stream(stream::Config {
        name: "CRASH".into(),
        subjects: vec!["crash.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    publish(&js, "crash", 0..COUNT).await;

    let mut first = host.spawn(program.as_ref()).await.unwrap();
    assert!(
        eventually(|| async { component.oks.lock().unwrap().len() >= 200 }).await,
        "nothing handled; log:\n{}",
        first.logs()
    );
    let status = first.kill().await.unwrap();
    assert!(!status.success(), "{status}");
    let at_kill = component.oks.lock().unwrap().len();
    assert!(at_kill < COUNT, "all {COUNT} handled before the kill");

    let mut second = host.spawn(program.as_ref()).await.unwrap();
    component.until_ok(COUNT, 60).await;
    assert!(all_acked(&js, "CRASH", "crash").await);
    let oks = component.oks();
    for n in 0..COUNT {
        assert!(
            oks.contains_key(n.to_string().as_bytes()),
            "{n} never handled"
        );
    }
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = second.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", second.logs());
}

/// Creates stream `name` capturing `subject` and a durable pull consumer `consumer` of it
/// with `config` (its durable name set here).
async fn existing_consumer(
    js: &jetstream::Context,
    name: &str,
    subject: &str,
    consumer: &str,
    config: jetstream::consumer::pull::Config,
) {
    let stream = js
        .get_or_create_stream(stream::Config {
            name: name.into(),
            subjects: vec![subject.into()],
            ..Default::default()
        })
        .await
        .unwrap();
    stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some(consumer.into()),
            ..config
        })
        .await
        .unwrap();
}

/// (e) An existing consumer whose ack policy is not explicit (`all`: one ack acks every
/// earlier message in flight; `none`: naks do nothing) fails the link put, naming the stream,
/// the consumer and the policy.
#[tokio::test]
async fn an_existing_consumer_without_explicit_ack_fails_the_link_put() {
    let mut setup = setup().await;
    let _serving = setup.serve(Component::default()).await;
    let js = setup.jetstream().await;
    for (consumer, policy, name) in [
        ("acks-all", AckPolicy::All, "`all`"),
        ("acks-none", AckPolicy::None, "`none`"),
    ] {
        existing_consumer(
            &js,
            "POLICY",
            "policy.>",
            consumer,
            jetstream::consumer::pull::Config {
                ack_policy: policy,
                ..Default::default()
            },
        )
        .await;
        let link = handler_link(
            &setup.bus.url(),
            &format!(r#"[{{"stream":"POLICY","consumer":"{consumer}"}}]"#),
            &[],
        );
        let error = setup.put_error(&link).await;
        assert!(
            error.contains(&format!("`{consumer}`"))
                && error.contains("`POLICY`")
                && error.contains(name)
                && error.contains("explicit"),
            "{error}"
        );
        assert_eq!(setup.provider.links().1, 0);
    }
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (f) An existing consumer with `max_ack_pending` and `max_request_batch` (4) below the
/// link's `max_in_flight` (32): the pull is clamped to them (a larger one is refused by the
/// server, 409 "Exceeded MaxRequestBatch", which async-nats takes as the end of the request
/// and pulls again: nothing would ever be delivered), and every message is handled.
#[tokio::test]
async fn a_consumer_with_a_small_max_ack_pending_and_max_request_batch_still_delivers() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    let js = setup.jetstream().await;
    existing_consumer(
        &js,
        "SMALL",
        "small.>",
        "small",
        jetstream::consumer::pull::Config {
            ack_policy: AckPolicy::Explicit,
            max_ack_pending: 4,
            max_batch: 4,
            ..Default::default()
        },
    )
    .await;
    publish(&js, "small", 0..50).await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"SMALL","consumer":"small"}]"#,
        &[("max_in_flight", "32")],
    );
    setup.put(&link).await;
    component.until_ok(50, 30).await;
    assert!(all_acked(&js, "SMALL", "small").await);
    assert_eq!(setup.provider.jetstream_stats().acked, 50);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (g) A consumer deleted while its link is up is opened again (created again, with
/// `create`), and delivery resumes.
#[tokio::test]
async fn a_deleted_consumer_is_created_again_and_delivery_resumes() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"AGAIN","consumer":"again","create":true,"subjects":["again.>"]}]"#,
        &[],
    );
    setup.put(&link).await;
    let js = setup.jetstream().await;
    publish(&js, "again", 0..5).await;
    component.until_ok(5, 20).await;
    assert!(all_acked(&js, "AGAIN", "again").await);

    js.get_stream("AGAIN")
        .await
        .unwrap()
        .delete_consumer("again")
        .await
        .unwrap();
    publish(&js, "again", 5..10).await;
    component.until_ok(10, 30).await;
    assert!(all_acked(&js, "AGAIN", "again").await);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (h) An existing consumer's own `max_deliver` (2) below the entry's (5): the message is
/// terminated after the server's last delivery (the 2nd), not left unanswered waiting for a
/// 5th delivery that never comes.
#[tokio::test]
async fn the_consumer_s_smaller_max_deliver_decides_the_termination() {
    let mut setup = setup().await;
    let component = Component::new(Policy::Poison, Duration::ZERO);
    let _serving = setup.serve(component.clone()).await;
    let js = setup.jetstream().await;
    existing_consumer(
        &js,
        "TWICE",
        "twice",
        "twice",
        jetstream::consumer::pull::Config {
            ack_policy: AckPolicy::Explicit,
            max_deliver: 2,
            ..Default::default()
        },
    )
    .await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"TWICE","consumer":"twice","max_deliver":5}]"#,
        &[],
    );
    setup.put(&link).await;
    js.publish("twice", "poison".into())
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(
        eventually(|| async { setup.provider.jetstream_stats().terminated == 1 }).await,
        "{:?}",
        setup.provider.jetstream_stats()
    );
    assert!(all_acked(&js, "TWICE", "twice").await);
    assert_eq!(
        component.errs(),
        HashMap::from([(Bytes::from("poison"), 2)])
    );
    let stats = setup.provider.jetstream_stats();
    assert_eq!((stats.acked, stats.naked, stats.terminated), (0, 1, 1));
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (i) A failed call (no component serving) is redelivered after 1 s doubling, not the 100 ms
/// of a component's `err`: a component that comes up 2.5 s late still gets a message whose
/// `max_deliver` is 5 (100 ms doubling would have terminated it after about 1.5 s).
#[tokio::test]
async fn a_component_restart_does_not_use_up_max_deliver() {
    let mut setup = setup().await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"LATE","consumer":"late","create":true,"subjects":["late"],"max_deliver":5}]"#,
        &[],
    );
    setup.put(&link).await;
    let js = setup.jetstream().await;
    js.publish("late", "hello".into())
        .await
        .unwrap()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    component.until_ok(1, 20).await;
    assert!(all_acked(&js, "LATE", "late").await);
    let stats = setup.provider.jetstream_stats();
    assert_eq!((stats.acked, stats.terminated), (1, 0), "{stats:?}");
    assert!(stats.naked >= 1, "{stats:?}");
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// (j) A consumer the provider creates for a link whose `max_in_flight` (2000) is above the
/// server's default `max_ack_pending` (1000), with no `max_ack_pending` on the entry, gets
/// `max_ack_pending` = 2000, so a full pull is not refused; with one on the entry, the entry's.
#[tokio::test]
async fn a_created_consumer_s_max_ack_pending_covers_a_large_max_in_flight() {
    let mut setup = setup().await;
    let _serving = setup.serve(Component::default()).await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"WIDE","consumer":"wide","create":true,"subjects":["wide"]},
            {"stream":"WIDE","consumer":"narrow","create":true,"subjects":["wide"],"max_ack_pending":64}]"#,
        &[("max_in_flight", "2000")],
    );
    setup.put(&link).await;
    let js = setup.jetstream().await;
    let stream = js.get_stream("WIDE").await.unwrap();
    for (name, expected) in [("wide", 2000), ("narrow", 64)] {
        let consumer: jetstream::consumer::PullConsumer = stream.get_consumer(name).await.unwrap();
        assert_eq!(
            consumer.cached_info().config.max_ack_pending,
            expected,
            "{name}"
        );
        assert_eq!(
            consumer.cached_info().config.ack_policy,
            AckPolicy::Explicit
        );
    }
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// A changed link whose put fails (a consumer added that does not exist) leaves the link as it
/// was: its consumers still pull and its subscriptions still deliver.
#[tokio::test]
async fn a_failed_change_leaves_the_link_s_consumers_and_subscriptions_delivering() {
    let mut setup = setup().await;
    let component = Component::default();
    let _serving = setup.serve(component.clone()).await;
    let consumers = r#"[{"stream":"KEPT","consumer":"kept","create":true,"subjects":["kept.>"]}]"#;
    let link = handler_link(
        &setup.bus.url(),
        consumers,
        &[("subscriptions", "core.kept")],
    );
    setup.put(&link).await;

    let changed = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"KEPT","consumer":"kept"},{"stream":"KEPT","consumer":"ghost"}]"#,
        &[("subscriptions", "core.kept,core.new")],
    );
    let error = setup.put_error(&changed).await;
    assert!(error.contains("`ghost`"), "{error}");

    let js = setup.jetstream().await;
    publish(&js, "kept", 0..3).await;
    let bus = setup.bus.connect().await.unwrap();
    bus.publish("core.kept", "100".into()).await.unwrap();
    bus.publish("core.new", "200".into()).await.unwrap();
    bus.flush().await.unwrap();
    component.until_ok(4, 20).await;
    assert!(all_acked(&js, "KEPT", "kept").await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let oks = component.oks();
    assert!(oks.contains_key(&Bytes::from_static(b"100")), "{oks:?}");
    assert!(
        !oks.contains_key(&Bytes::from_static(b"200")),
        "the failed change subscribed: {oks:?}"
    );
    assert_eq!(setup.provider.links().1, 1);
    setup.running.take().unwrap().shutdown().await.unwrap();
}

/// A handler slower than the consumer's `ack_wait` (3 s against 1 s): the provider reports the
/// message in progress meanwhile, so the server does not redeliver it while it is handled.
#[tokio::test]
async fn a_handler_slower_than_ack_wait_is_not_given_the_message_twice() {
    let mut setup = setup().await;
    let component = Component::new(Policy::Ok, Duration::from_secs(3));
    let _serving = setup.serve(component.clone()).await;
    let link = handler_link(
        &setup.bus.url(),
        r#"[{"stream":"SLOW","consumer":"slow","create":true,"subjects":["slow.>"],"ack_wait_ms":1000}]"#,
        &[],
    );
    setup.put(&link).await;
    let js = setup.jetstream().await;
    publish(&js, "slow", 0..1).await;
    component.until_ok(1, 20).await;
    assert!(all_acked(&js, "SLOW", "slow").await);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(component.oks()[&Bytes::from_static(b"0")], 1);
    assert_eq!(component.most_in_flight.load(Ordering::SeqCst), 1);
    setup.running.take().unwrap().shutdown().await.unwrap();
}
