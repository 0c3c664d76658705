//! The keyvalue provider through the SDK's test host, on real NATS and Redis servers the tests
//! start, for every backend: what the WIT promises, isolation, concurrency, paging, big values,
//! a Redis restart, link delete closing connections, TLS with a private CA, and watchers
//! hearing of changes made through the provider and behind its back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use keyvalue_provider::KeyValueProvider;
use keyvalue_provider::client::exports::wrpc::keyvalue::watcher;
use keyvalue_provider::client::wasi::keyvalue as wasi;
use keyvalue_provider::client::wrpc::keyvalue::{atomics, batch, store};
use provider_sdk::provider::{Health, RunningProvider};
use provider_sdk::transport::{Client, InvocationContext, ServeOptions, Serving};
use provider_testing::{
    NatsServer, NatsServerConfig, RedisServer, TestCertificates, TestHost, TestLink, eventually,
};

const PROVIDER: &str = "keyvalue-provider";

/// A backend under test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Memory,
    Redis,
    Nats,
}

/// One test per backend, `<name>::memory`, `<name>::redis` and `<name>::nats`, each running
/// `<name>(kind)`.
macro_rules! per_backend {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn memory() {
                super::$name(super::Kind::Memory).await;
            }

            #[tokio::test]
            async fn redis() {
                super::$name(super::Kind::Redis).await;
            }

            #[tokio::test]
            async fn nats() {
                super::$name(super::Kind::Nats).await;
            }
        }
    };
}

struct Setup {
    _nats: NatsServer,
    redis: RedisServer,
    /// The JetStream the nats backend stores in (not the lattice's), taking 16 MiB values.
    kv_nats: NatsServer,
    host: TestHost,
    provider: Arc<KeyValueProvider>,
    running: Option<RunningProvider>,
}

async fn setup() -> Setup {
    let nats = NatsServer::start().unwrap();
    let redis = RedisServer::start().unwrap();
    let kv_nats = NatsServer::start_with(
        NatsServerConfig::default()
            .jetstream()
            .monitoring()
            .max_payload(20 << 20),
    )
    .unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let provider = Arc::new(KeyValueProvider::default());
    let running = host.start(Arc::clone(&provider)).await.unwrap();
    Setup {
        _nats: nats,
        redis,
        kv_nats,
        host,
        provider,
        running: Some(running),
    }
}

impl Setup {
    /// A link from `source` named `name` to a store of `kind`: Redis database `db`; for NATS,
    /// a KV bucket per WIT bucket (`db` 0) or the one KV bucket `kv<db>`.
    fn link(&self, source: &str, name: &str, kind: Kind, db: u8) -> TestLink {
        let link = TestLink::new(
            source,
            PROVIDER,
            name,
            ("wrpc", "keyvalue"),
            &["store", "atomics", "batch"],
        );
        match kind {
            Kind::Memory => link,
            Kind::Redis => link.target_config("URL", &format!("{}/{db}", self.redis.url())),
            Kind::Nats => {
                let link = link
                    .target_config("backend", "nats")
                    .target_config("url", &self.kv_nats.url())
                    .target_config("enable_bucket_auto_create", "true");
                match db {
                    0 => link,
                    db => link.target_config("bucket", &format!("kv{db}")),
                }
            }
        }
    }

    /// Puts `link` and waits until calls over it reach its store.
    async fn put(&self, link: &TestLink) -> Client {
        self.host.put_link(link).await.unwrap();
        let key = link.key();
        let client = self.host.component(&key.source_id, &key.name).unwrap();
        assert!(
            eventually(|| async {
                matches!(
                    store::exists(&client, "b", "k").await,
                    Ok(Ok(_) | Err(store::Error::NoSuchStore))
                )
            })
            .await,
            "the link {key} never became usable"
        );
        client
    }

    /// Puts a link from `comp` named `default` to a store of `kind`.
    async fn client(&self, kind: Kind) -> Client {
        self.put(&self.link("comp", "default", kind, 0)).await
    }
}

fn b(value: &str) -> Bytes {
    Bytes::copy_from_slice(value.as_bytes())
}

/// A call over no link: refused by the runtime before the handler runs, naming caller and link.
fn refused(error: provider_sdk::Error, source: &str, name: &str) {
    match &error {
        provider_sdk::Error::Refused { reason, .. }
            if reason.contains(&format!("`{source}`")) && reason.contains(&format!("`{name}`")) => {
        }
        _ => panic!("expected a refusal of {source} over {name}, got {error:?}"),
    }
}

/// `other("...")`'s message, or a panic.
fn other(error: store::Error) -> String {
    match error {
        store::Error::Other(message) => message,
        error => panic!("expected other(..), got {error:?}"),
    }
}

async fn every_operation_as_the_wit_promises(kind: Kind) {
    let setup = setup().await;
    let kv = setup.client(kind).await;

    assert_eq!(store::get(&kv, "b", "missing").await.unwrap(), Ok(None));
    assert_eq!(store::delete(&kv, "b", "missing").await.unwrap(), Ok(()));
    assert_eq!(store::exists(&kv, "b", "k").await.unwrap(), Ok(false));
    store::set(&kv, "b", "k", b"v").await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "b", "k").await.unwrap(), Ok(Some(b("v"))));
    assert_eq!(store::exists(&kv, "b", "k").await.unwrap(), Ok(true));
    store::set(&kv, "b", "k", b"").await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "b", "k").await.unwrap(), Ok(Some(b(""))));
    store::delete(&kv, "b", "k").await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "b", "k").await.unwrap(), Ok(None));

    // Increment creates, adds, and refuses what it cannot add to.
    assert_eq!(atomics::increment(&kv, "b", "n", 5).await.unwrap(), Ok(5));
    assert_eq!(atomics::increment(&kv, "b", "n", 2).await.unwrap(), Ok(7));
    assert_eq!(store::get(&kv, "b", "n").await.unwrap(), Ok(Some(b("7"))));
    store::set(&kv, "b", "text", b"seven")
        .await
        .unwrap()
        .unwrap();
    let error = atomics::increment(&kv, "b", "text", 1)
        .await
        .unwrap()
        .unwrap_err();
    assert!(other(error).contains("not a decimal integer"));
    let max = if kind == Kind::Redis {
        i64::MAX as u64
    } else {
        u64::MAX
    };
    store::set(&kv, "b", "max", max.to_string().as_bytes())
        .await
        .unwrap()
        .unwrap();
    let error = atomics::increment(&kv, "b", "max", 1)
        .await
        .unwrap()
        .unwrap_err();
    assert!(other(error).contains("overflow"));

    // Batches answer in the order asked.
    batch::set_many(&kv, "b", &[("x".into(), b("1")), ("y".into(), b("2"))])
        .await
        .unwrap()
        .unwrap();
    let got = batch::get_many(&kv, "b", &["y".into(), "none".into(), "x".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        vec![Some(("y".into(), b("2"))), None, Some(("x".into(), b("1")))]
    );
    assert_eq!(batch::get_many(&kv, "b", &[]).await.unwrap(), Ok(vec![]));
    batch::delete_many(&kv, "b", &["x".into(), "none".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store::exists(&kv, "b", "x").await.unwrap(), Ok(false));
    assert_eq!(store::exists(&kv, "b", "y").await.unwrap(), Ok(true));

    // 16 MiB round-trips (the transport splits it over NATS' 1 MiB max_payload).
    let big: Bytes = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
    store::set(&kv, "b", "big", &big).await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "b", "big").await.unwrap(), Ok(Some(big)));

    // list-keys sees this bucket only and ends with no cursor.
    store::set(&kv, "other", "elsewhere", b"1")
        .await
        .unwrap()
        .unwrap();
    let mut keys = all_keys(&kv, "b").await;
    keys.sort();
    assert_eq!(keys, ["big", "max", "n", "text", "y"]);
    setup.running.unwrap().shutdown().await.unwrap();
}

/// Every key of `bucket`, page by page.
async fn all_keys(kv: &Client, bucket: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store::list_keys(kv, bucket, cursor).await.unwrap().unwrap();
        keys.extend(page.keys);
        pages += 1;
        assert!(pages < 1000, "list-keys never ends");
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return keys,
        }
    }
}

per_backend!(every_operation_as_the_wit_promises);

async fn buckets_and_links_are_isolated(kind: Kind) {
    // Bucket and key names with each backend's separator in them, where it allows one.
    let (sub, sub_key) = match kind {
        Kind::Memory | Kind::Redis => ("a:b", "b:k"),
        Kind::Nats => ("a_b", "b.k"),
    };
    let setup = setup().await;
    let one = setup.put(&setup.link("comp", "one", kind, 1)).await;
    let two = setup.put(&setup.link("comp", "two", kind, 2)).await;
    store::set(&one, "a", "k", b"a").await.unwrap().unwrap();
    store::set(&one, sub, "k", b"sub").await.unwrap().unwrap();
    store::set(&one, "a", sub_key, b"a/sub")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::get(&one, sub, "k").await.unwrap(),
        Ok(Some(b("sub")))
    );
    assert_eq!(store::get(&one, "a", "k").await.unwrap(), Ok(Some(b("a"))));
    let mut keys = all_keys(&one, "a").await;
    keys.sort();
    assert_eq!(keys, [sub_key, "k"]);
    assert_eq!(all_keys(&one, sub).await, ["k"]);
    // The other link sees none of it.
    assert_eq!(store::get(&two, "a", "k").await.unwrap(), Ok(None));
    assert!(all_keys(&two, "a").await.is_empty());
    setup.running.unwrap().shutdown().await.unwrap();
}

per_backend!(buckets_and_links_are_isolated);

async fn concurrent_increments_all_count(kind: Kind) {
    const TASKS: u64 = 16;
    const EACH: u64 = 50;
    let setup = setup().await;
    let kv = setup.client(kind).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    atomics::increment(&kv, "b", "n", 1).await.unwrap().unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store::get(&kv, "b", "n").await.unwrap(),
        Ok(Some(b(&(TASKS * EACH).to_string())))
    );
    setup.running.unwrap().shutdown().await.unwrap();
}

per_backend!(concurrent_increments_all_count);

async fn list_keys_pages_over_ten_thousand_keys(kind: Kind) {
    let setup = setup().await;
    let kv = setup.client(kind).await;
    for chunk in 0..10 {
        let pairs: Vec<(String, Bytes)> = (0..1000)
            .map(|i| (format!("key-{:05}", chunk * 1000 + i), b("v")))
            .collect();
        batch::set_many(&kv, "big", &pairs).await.unwrap().unwrap();
    }
    store::set(&kv, "big-other", "key-x", b"v")
        .await
        .unwrap()
        .unwrap();
    let mut keys = all_keys(&kv, "big").await;
    keys.sort();
    keys.dedup();
    let expected: Vec<String> = (0..10_000).map(|i| format!("key-{i:05}")).collect();
    assert_eq!(keys, expected);
    setup.running.unwrap().shutdown().await.unwrap();
}

per_backend!(list_keys_pages_over_ten_thousand_keys);

#[tokio::test]
async fn the_wasi_interface_works_on_bucket_handles_scoped_to_the_link() {
    for kind in [Kind::Memory, Kind::Redis, Kind::Nats] {
        let setup = setup().await;
        let kv = setup.client(kind).await;
        let other = setup.put(&setup.link("comp", "other", kind, 0)).await;
        let bucket = wasi::store::open(&kv, "b").await.unwrap().unwrap();
        let handle = bucket.borrow();
        use wasi::store::Bucket;
        assert_eq!(
            Bucket::get(&kv, handle.clone(), "k").await.unwrap(),
            Ok(None)
        );
        Bucket::set(&kv, handle.clone(), "k", b"v")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Bucket::exists(&kv, handle.clone(), "k").await.unwrap(),
            Ok(true)
        );
        // The same bucket through the wrpc interface.
        assert_eq!(store::get(&kv, "b", "k").await.unwrap(), Ok(Some(b("v"))));
        assert_eq!(
            wasi::atomics::increment(&kv, handle.clone(), "n", 3)
                .await
                .unwrap(),
            Ok(3)
        );
        wasi::batch::set_many(&kv, handle.clone(), &[("x".into(), b("1"))])
            .await
            .unwrap()
            .unwrap();
        let got = wasi::batch::get_many(&kv, handle.clone(), &["x".into(), "y".into()])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, vec![Some(("x".into(), b("1"))), None]);
        let page = Bucket::list_keys(&kv, handle.clone(), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.cursor, None);
        assert_eq!(page.keys.len(), 3);
        Bucket::delete(&kv, handle.clone(), "k")
            .await
            .unwrap()
            .unwrap();
        wasi::batch::delete_many(&kv, handle.clone(), &["x".into()])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Bucket::exists(&kv, handle.clone(), "x").await.unwrap(),
            Ok(false)
        );
        // Another link cannot use this link's handle.
        let error = Bucket::get(&other, handle.clone(), "n")
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&error, wasi::store::Error::Other(m) if m.contains("unknown resource handle")),
            "{kind:?}: {error:?}"
        );
        // Deleting the link drops its handles.
        setup
            .host
            .delete_link(&setup.link("comp", "default", kind, 0))
            .await
            .unwrap();
        assert!(eventually(|| async { setup.provider.links() == 1 }).await);
        setup.put(&setup.link("comp", "default", kind, 0)).await;
        assert!(Bucket::get(&kv, handle, "n").await.unwrap().is_err());
        setup.running.unwrap().shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn redis_down_is_an_error_the_provider_survives_and_recovers_from() {
    let mut setup = setup().await;
    let kv = setup.client(Kind::Redis).await;
    store::set(&kv, "b", "k", b"v").await.unwrap().unwrap();
    setup.redis.stop();
    let error = store::get(&kv, "b", "k").await.unwrap().unwrap_err();
    assert!(other(error).starts_with("redis: "));
    assert_eq!(setup.host.health().await.unwrap(), Health::healthy());
    setup.redis.restart().unwrap();
    // The server kept nothing on disk; the connection comes back by itself.
    assert!(
        eventually(|| async { matches!(store::get(&kv, "b", "k").await, Ok(Ok(None))) }).await,
        "the provider did not reconnect to Redis"
    );
    store::set(&kv, "b", "k", b"again").await.unwrap().unwrap();
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some(b("again")))
    );
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn nats_down_is_an_error_the_provider_survives_and_recovers_from() {
    let mut setup = setup().await;
    let link = setup
        .link("comp", "default", Kind::Nats, 0)
        .target_config("response_timeout_ms", "500");
    let kv = setup.put(&link).await;
    store::set(&kv, "b", "k", b"kept").await.unwrap().unwrap();
    setup.kv_nats.stop();
    let error = store::get(&kv, "b", "k").await.unwrap().unwrap_err();
    assert!(other(error).starts_with("nats: "));
    assert_eq!(setup.host.health().await.unwrap(), Health::healthy());
    // The server comes back with its JetStream store; the client reconnects by itself.
    setup.kv_nats.restart().unwrap();
    assert!(
        eventually(|| async { store::get(&kv, "b", "k").await.unwrap() == Ok(Some(b("kept"))) })
            .await,
        "the provider did not reconnect to NATS"
    );
    store::set(&kv, "b", "k", b"again").await.unwrap().unwrap();
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some(b("again")))
    );
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn nats_js_domain_reaches_the_domains_jetstream() {
    let setup = setup().await;
    let nats = NatsServer::start_with(
        NatsServerConfig::default()
            .jetstream()
            .extra("jetstream { domain: hub }"),
    )
    .unwrap();
    let link = |name: &str, domain: &str| {
        setup
            .link("comp", name, Kind::Nats, 0)
            .target_config("url", &nats.url())
            .target_config("js_domain", domain)
            .target_config("response_timeout_ms", "500")
    };
    let kv = setup.put(&link("hub", "hub")).await;
    store::set(&kv, "b", "k", b"v").await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "b", "k").await.unwrap(), Ok(Some(b("v"))));
    // Another domain's JetStream does not answer: an error naming the backend.
    setup
        .host
        .put_link(&link("elsewhere", "elsewhere"))
        .await
        .unwrap();
    let kv = setup.host.component("comp", "elsewhere").unwrap();
    assert!(
        eventually(|| async {
            // Refused until the link is in effect, then the backend's error.
            matches!(store::get(&kv, "b", "k").await, Ok(Err(store::Error::Other(m))) if m.starts_with("nats: "))
        })
        .await
    );
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn links_share_a_redis_connection_and_delete_closes_it() {
    let setup = setup().await;
    let a = setup.link("comp-a", "default", Kind::Redis, 0);
    let b_link = setup.link("comp-b", "default", Kind::Redis, 0);
    let other_db = setup.link("comp-a", "cache", Kind::Redis, 3);
    for link in [&a, &b_link, &other_db] {
        setup.put(link).await;
    }
    assert_eq!(setup.redis.clients().unwrap(), 2);
    setup.host.delete_link(&a).await.unwrap();
    assert!(eventually(|| async { setup.provider.links() == 2 }).await);
    assert_eq!(setup.redis.clients().unwrap(), 2, "comp-b still uses it");
    setup.host.delete_link(&b_link).await.unwrap();
    assert!(eventually(|| async { setup.redis.clients().unwrap() == 1 }).await);
    setup.host.delete_link(&other_db).await.unwrap();
    assert!(eventually(|| async { setup.redis.clients().unwrap() == 0 }).await);
    let kv = setup.host.component("comp-a", "cache").unwrap();
    refused(
        store::get(&kv, "b", "k").await.unwrap_err(),
        "comp-a",
        "cache",
    );
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_config_is_refused_and_a_memory_link_keeps_its_data_across_updates() {
    let setup = setup().await;
    let kv = setup.client(Kind::Memory).await;
    store::set(&kv, "b", "k", b"kept").await.unwrap().unwrap();
    // An update that stays in memory keeps the data.
    setup
        .put(
            &setup
                .link("comp", "default", Kind::Memory, 0)
                .target_config("Backend", "MEMORY"),
        )
        .await;
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some(b("kept")))
    );
    // A bad backend is refused: the link keeps what it had.
    setup
        .host
        .put_link(
            &setup
                .link("comp", "default", Kind::Memory, 0)
                .target_config("backend", "mongo"),
        )
        .await
        .unwrap();
    let fresh = setup
        .put(&setup.link("comp", "fresh", Kind::Memory, 0))
        .await;
    assert_eq!(store::get(&fresh, "b", "k").await.unwrap(), Ok(None));
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some(b("kept")))
    );
    // A link whose first put is refused is no link.
    setup
        .host
        .put_link(
            &setup
                .link("comp", "bad", Kind::Memory, 0)
                .target_config("response_timeout_ms", "soon")
                .target_config("backend", "redis"),
        )
        .await
        .unwrap();
    setup
        .put(&setup.link("comp", "after", Kind::Memory, 0))
        .await;
    let bad = setup.host.component("comp", "bad").unwrap();
    refused(store::get(&bad, "b", "k").await.unwrap_err(), "comp", "bad");
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn runs_under_a_host_as_a_process_and_exits_0() {
    let nats = NatsServer::start().unwrap();
    let redis = RedisServer::start_with_password(Some("kv-secret-pw")).unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let interfaces = &["store", "atomics", "batch"];
    host.with_initial_link(TestLink::new(
        "comp",
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        interfaces,
    ));
    host.with_initial_link(
        TestLink::new("comp", PROVIDER, "redis", ("wrpc", "keyvalue"), interfaces)
            .target_config("url", &redis.url_without_password())
            .target_secret("password", "kv-secret-pw"),
    );
    let mut child = host
        .spawn(env!("CARGO_BIN_EXE_keyvalue-provider").as_ref())
        .await
        .unwrap();
    for name in ["default", "redis"] {
        let kv = host.component("comp", name).unwrap();
        assert!(
            eventually(|| async {
                matches!(atomics::increment(&kv, "b", "n", 1).await, Ok(Ok(_)))
            })
            .await,
            "link {name} never served; log:\n{}",
            child.logs()
        );
    }
    assert_eq!(host.health().await.unwrap(), Health::healthy());
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    let logs = child.logs();
    assert!(status.success(), "{status}; log:\n{logs}");
    assert!(
        !logs.contains("kv-secret-pw"),
        "the log shows the password:\n{logs}"
    );
}

#[tokio::test]
async fn nats_without_auto_create_reports_missing_buckets() {
    let setup = setup().await;
    let link = TestLink::new(
        "comp",
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        &["store"],
    )
    .target_config("backend", "nats")
    .target_config("cluster_uri", &setup.kv_nats.url());
    let kv = setup.put(&link).await;
    assert_eq!(
        store::get(&kv, "absent", "k").await.unwrap(),
        Err(store::Error::NoSuchStore)
    );
    assert!(matches!(
        wasi::store::open(&kv, "absent").await.unwrap(),
        Err(wasi::store::Error::NoSuchStore)
    ));
    // Once it exists, it is used.
    let js = async_nats::jetstream::new(setup.kv_nats.connect().await.unwrap());
    provider_sdk::wasmcloud::open_or_create_kv_bucket(&js, "absent", 1, 1)
        .await
        .unwrap();
    store::set(&kv, "absent", "k", b"v").await.unwrap().unwrap();
    assert_eq!(
        store::get(&kv, "absent", "k").await.unwrap(),
        Ok(Some(b("v")))
    );
    // Names JetStream cannot take are refused, saying why.
    let error = store::get(&kv, "a b", "k").await.unwrap().unwrap_err();
    assert!(other(error).contains("not a NATS KV bucket name"));
    let error = store::set(&kv, "absent", "sp ace", b"v")
        .await
        .unwrap()
        .unwrap_err();
    assert!(other(error).contains("not a NATS KV key"));
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn nats_replicas_a_single_server_cannot_hold_are_an_error_naming_the_key() {
    let setup = setup().await;
    let link = setup
        .link("comp", "default", Kind::Nats, 0)
        .target_config("replicas", "3");
    setup.host.put_link(&link).await.unwrap();
    let kv = setup.host.component("comp", "default").unwrap();
    let named =
        |error: &str| error.contains("replicas = 3") && error.contains("not part of a cluster");
    let refused = eventually(|| async {
        match store::set(&kv, "r3", "k", b"v").await {
            Ok(Err(error)) => named(&other(error)),
            _ => false,
        }
    });
    assert!(refused.await, "no error naming replicas");
    // Nothing was created: with replicas 1 the bucket is made and used.
    let js = async_nats::jetstream::new(setup.kv_nats.connect().await.unwrap());
    assert!(
        js.get_key_value("r3").await.is_err(),
        "a bucket was created"
    );
    let link = link.target_config("replicas", "1");
    let kv = setup.put(&link).await;
    store::set(&kv, "r3", "k", b"v").await.unwrap().unwrap();
    assert_eq!(store::get(&kv, "r3", "k").await.unwrap(), Ok(Some(b("v"))));
    setup.running.unwrap().shutdown().await.unwrap();
}

/// A component's watcher export: what it heard, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<std::sync::Mutex<Vec<String>>>);

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl watcher::Handler<InvocationContext> for Recorder {
    async fn on_set(&self, cx: InvocationContext, bucket: String, key: String, value: Bytes) {
        let from = cx.header("source-id").unwrap_or_default().to_owned();
        let value = String::from_utf8_lossy(&value).into_owned();
        self.0
            .lock()
            .unwrap()
            .push(format!("{from}: set {bucket} {key} {value}"));
    }

    async fn on_delete(&self, cx: InvocationContext, bucket: String, key: String) {
        let from = cx.header("source-id").unwrap_or_default().to_owned();
        self.0
            .lock()
            .unwrap()
            .push(format!("{from}: delete {bucket} {key}"));
    }
}

/// `comp` serves the watcher export, recording what it hears, and the provider gets a watch
/// link to it named `name`, for `keys` of bucket `b`.
async fn watch(setup: &Setup, name: &str, keys: &str) -> (Recorder, Serving, TestLink) {
    let recorder = Recorder::default();
    let server = setup
        .host
        .transport()
        .server(ServeOptions::new(format!("{}.comp", setup.host.lattice())));
    let serving = watcher::serve(&server, recorder.clone()).await.unwrap();
    let watch = TestLink::new(PROVIDER, "comp", name, ("wrpc", "keyvalue"), &["watcher"])
        .source_config("watch", keys)
        .source_config("bucket", "b");
    setup.host.put_link(&watch).await.unwrap();
    (recorder, serving, watch)
}

/// What the watcher heard, checked as it arrives: each expected notification is waited for
/// before the test makes the next change, and at the end nothing else may have arrived.
struct Heard<'a> {
    recorder: &'a Recorder,
    expected: Vec<String>,
}

impl Heard<'_> {
    /// Waits for the next notification and checks it is `line`.
    async fn next(&mut self, line: &str) {
        let line = format!("keyvalue-provider: {line}");
        self.expected.push(line.clone());
        let count = self.expected.len();
        assert!(
            eventually(|| async { self.recorder.0.lock().unwrap().len() >= count }).await,
            "never heard {line:?}; heard {:?}",
            self.recorder.0.lock().unwrap()
        );
        let heard = self.recorder.0.lock().unwrap()[count - 1].clone();
        assert_eq!(heard, line, "notification {count}");
    }

    /// Checks that nothing else arrives (within a grace period).
    async fn nothing_else(&mut self) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(self.recorder.take(), std::mem::take(&mut self.expected));
    }
}

/// Sets new keys `probe-<n>` of bucket `b` (the watch must include `probe*`) until the watcher
/// hears of one, then waits for the last one set: the watch is on, and nothing of the probing
/// is left to arrive.
async fn until_heard(kv: &Client, recorder: &Recorder) {
    let sent = std::sync::atomic::AtomicUsize::new(0);
    assert!(
        eventually(|| async {
            let n = sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let _ = store::set(kv, "b", &format!("probe-{n}"), &b(&n.to_string())).await;
            !recorder.0.lock().unwrap().is_empty()
        })
        .await,
        "the watcher never heard anything"
    );
    let last = sent.load(std::sync::atomic::Ordering::Relaxed);
    let line = format!("keyvalue-provider: set b probe-{last} {last}");
    assert!(
        eventually(|| async { recorder.0.lock().unwrap().contains(&line) }).await,
        "never heard {line:?}"
    );
    recorder.take();
}

per_backend!(watchers_hear_of_every_change_to_their_keys_in_order);

async fn watchers_hear_of_every_change_to_their_keys_in_order(kind: Kind) {
    let mut setup = setup().await;
    // The watch link comes before comp's own link: the watcher starts following comp's store
    // when that link is put.
    let (recorder, _serving, watch) = watch(&setup, "default", "a, pre*, probe*").await;
    let kv = setup.client(kind).await;
    // Another component; with Redis and NATS it uses the same data, so its writes to the
    // bucket are comp's to hear of too. In memory its store is its own.
    let neighbour = setup
        .put(&setup.link("neighbour", "default", kind, 0))
        .await;
    until_heard(&kv, &recorder).await;
    let mut heard = Heard {
        recorder: &recorder,
        expected: Vec::new(),
    };

    store::set(&kv, "b", "a", b"1").await.unwrap().unwrap();
    heard.next("set b a 1").await;
    store::set(&kv, "b", "pre-x", b"2").await.unwrap().unwrap();
    heard.next("set b pre-x 2").await;
    store::set(&kv, "b", "other", b"no").await.unwrap().unwrap();
    store::set(&kv, "c", "a", b"no").await.unwrap().unwrap();
    atomics::increment(&kv, "b", "pre-n", 3)
        .await
        .unwrap()
        .unwrap();
    heard.next("set b pre-n 3").await;
    batch::set_many(&kv, "b", &[("a".into(), b("4")), ("zzz".into(), b("no"))])
        .await
        .unwrap()
        .unwrap();
    heard.next("set b a 4").await;
    store::delete(&kv, "b", "a").await.unwrap().unwrap();
    heard.next("delete b a").await;
    batch::delete_many(&kv, "b", &["pre-x".into(), "other".into()])
        .await
        .unwrap()
        .unwrap();
    heard.next("delete b pre-x").await;
    store::set(&neighbour, "b", "a", b"5")
        .await
        .unwrap()
        .unwrap();
    if kind != Kind::Memory {
        heard.next("set b a 5").await;
    }
    // A burst, not waited for one by one, arrives whole and in order.
    for i in 0..50 {
        store::set(&kv, "b", &format!("pre-{i:02}"), &b(&i.to_string()))
            .await
            .unwrap()
            .unwrap();
    }
    for i in 0..50 {
        heard.next(&format!("set b pre-{i:02} {i}")).await;
    }
    // Changes made to the backend directly, not through the provider, are heard too.
    match kind {
        Kind::Memory => {}
        Kind::Redis => {
            let client = redis::Client::open(format!("{}/0", setup.redis.url())).unwrap();
            let mut redis = client.get_multiplexed_async_connection().await.unwrap();
            redis::cmd("SET")
                .arg("b:a")
                .arg("6")
                .exec_async(&mut redis)
                .await
                .unwrap();
            heard.next("set b a 6").await;
            redis::cmd("SET")
                .arg("b:pre-t")
                .arg("7")
                .exec_async(&mut redis)
                .await
                .unwrap();
            heard.next("set b pre-t 7").await;
            // Expiry is a deletion.
            redis::cmd("PEXPIRE")
                .arg("b:pre-t")
                .arg(1)
                .exec_async(&mut redis)
                .await
                .unwrap();
            heard.next("delete b pre-t").await;
            redis::cmd("DEL")
                .arg("b:a")
                .exec_async(&mut redis)
                .await
                .unwrap();
            heard.next("delete b a").await;
        }
        Kind::Nats => {
            let js = async_nats::jetstream::new(setup.kv_nats.connect().await.unwrap());
            let bucket = js.get_key_value("b").await.unwrap();
            bucket.put("a", b("6")).await.unwrap();
            heard.next("set b a 6").await;
            bucket.delete("a").await.unwrap();
            heard.next("delete b a").await;
        }
    }
    heard.nothing_else().await;

    if kind == Kind::Redis {
        // A restarted Redis has forgotten the subscription and the notification setting:
        // the watcher subscribes and turns notifications on again.
        setup.redis.restart().unwrap();
        until_heard(&kv, &recorder).await;
    }

    // A deleted watch link hears nothing more.
    setup.host.delete_link(&watch).await.unwrap();
    setup.put(&setup.link("comp", "barrier", kind, 0)).await;
    store::set(&kv, "b", "a", b"8").await.unwrap().unwrap();
    heard.nothing_else().await;
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_watcher_follows_its_link_to_another_backend_and_survives_its_deletion() {
    let setup = setup().await;
    let kv = setup.client(Kind::Memory).await;
    let (recorder, _serving, _watch) = watch(&setup, "default", "a, probe*").await;
    until_heard(&kv, &recorder).await;
    // The link moves to Redis: the watcher follows, and hears writes made to Redis directly.
    setup
        .put(&setup.link("comp", "default", Kind::Redis, 0))
        .await;
    until_heard(&kv, &recorder).await;
    let client = redis::Client::open(format!("{}/0", setup.redis.url())).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg("b:a")
        .arg("direct")
        .exec_async(&mut redis)
        .await
        .unwrap();
    let mut heard = Heard {
        recorder: &recorder,
        expected: Vec::new(),
    };
    heard.next("set b a direct").await;
    heard.nothing_else().await;
    drop(redis);
    // Deleted, the link has no store to watch: its connection and the watcher's close. Put
    // again, it is watched again.
    let link = setup.link("comp", "default", Kind::Redis, 0);
    setup.host.delete_link(&link).await.unwrap();
    assert!(eventually(|| async { setup.provider.links() == 0 }).await);
    assert!(
        eventually(|| async { setup.redis.clients().unwrap() == 0 }).await,
        "{} Redis connections left",
        setup.redis.clients().unwrap()
    );
    setup.put(&link).await;
    until_heard(&kv, &recorder).await;
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn a_redis_watcher_needs_no_config_permission_where_the_operator_turned_notifications_on() {
    let setup = setup().await;
    // A user that may not run CONFIG, on a server whose operator configured notifications.
    let redis = RedisServer::start_with_args(&[
        "--notify-keyspace-events",
        "KEA",
        "--user",
        "app",
        "on",
        ">app-secret",
        "~*",
        "&*",
        "+@all",
        "-config",
        "--user",
        "default",
        "off",
    ])
    .unwrap();
    let link = setup
        .link("comp", "default", Kind::Memory, 0)
        .target_config("url", &format!("redis://{}", redis.addr()))
        .target_secret("username", "app")
        .target_secret("password", "app-secret");
    let kv = setup.put(&link).await;
    let (recorder, _serving, _watch) = watch(&setup, "default", "a, probe*").await;
    until_heard(&kv, &recorder).await;
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn nats_links_share_a_connection_and_delete_closes_it() {
    let setup = setup().await;
    let named = || {
        let names = setup.kv_nats.connections().unwrap();
        names.iter().filter(|name| *name == PROVIDER).count()
    };
    let a = setup.link("comp-a", "default", Kind::Nats, 0);
    let b_link = setup.link("comp-b", "default", Kind::Nats, 0);
    let fixed = setup.link("comp-a", "cache", Kind::Nats, 1);
    for link in [&a, &b_link, &fixed] {
        setup.put(link).await;
    }
    assert_eq!(named(), 2);
    setup.host.delete_link(&a).await.unwrap();
    assert!(eventually(|| async { setup.provider.links() == 2 }).await);
    assert_eq!(named(), 2, "comp-b still uses it");
    setup.host.delete_link(&b_link).await.unwrap();
    assert!(eventually(|| async { named() == 1 }).await);
    setup.host.delete_link(&fixed).await.unwrap();
    assert!(eventually(|| async { named() == 0 }).await);
    setup.running.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_backends_trust_a_private_ca_given_inline_or_as_a_file() {
    let setup = setup().await;
    let certificates = TestCertificates::generate().unwrap();
    let redis = RedisServer::start_with_tls(&certificates).unwrap();
    let nats = NatsServer::start_with(NatsServerConfig::default().jetstream().extra(format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}",
        certificates.cert_file().display().to_string(),
        certificates.key_file().display().to_string()
    )))
    .unwrap();
    let link = |name: &str, url: &str| {
        TestLink::new(
            "comp",
            PROVIDER,
            name,
            ("wrpc", "keyvalue"),
            &["store", "atomics", "batch"],
        )
        .target_config("url", url)
        .target_config("enable_bucket_auto_create", "true")
    };
    let ca_file = certificates.ca_file().display().to_string();
    let nats_url = format!("tls://{}", nats.addr());
    let trusted = [
        link("redis-file", &redis.url()).target_config("tls_ca_file", &ca_file),
        link("redis-inline", &redis.url()).target_config("TLS_CA", certificates.ca_pem()),
        link("nats-file", &nats_url).target_config("tls_ca_file", &ca_file),
        link("nats-inline", &nats_url).target_config("tls_ca", certificates.ca_pem()),
    ];
    for link in &trusted {
        let kv = setup.put(link).await;
        let name = &link.key().name;
        store::set(&kv, "b", "k", name.as_bytes())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store::get(&kv, "b", "k").await.unwrap(),
            Ok(Some(b(name))),
            "{name}"
        );
    }
    // A watcher's own subscription connection trusts the CA too.
    let (recorder, _serving, _watch) = watch(&setup, "redis-inline", "probe*").await;
    let kv = setup.host.component("comp", "redis-inline").unwrap();
    until_heard(&kv, &recorder).await;
    // Without the CA, the server is not trusted: Redis calls fail (it connects on first use),
    // a NATS link is refused (it connects when put), so calls over it find no link.
    for name in ["redis-untrusted", "nats-untrusted"] {
        let url = if name.starts_with("redis") {
            redis.url()
        } else {
            nats_url.clone()
        };
        setup.host.put_link(&link(name, &url)).await.unwrap();
    }
    setup
        .put(&setup.link("comp", "barrier", Kind::Memory, 0))
        .await;
    let kv = setup.host.component("comp", "redis-untrusted").unwrap();
    let error = other(store::get(&kv, "b", "k").await.unwrap().unwrap_err());
    assert!(error.starts_with("redis: "), "{error}");
    let kv = setup.host.component("comp", "nats-untrusted").unwrap();
    refused(
        store::get(&kv, "b", "k").await.unwrap_err(),
        "comp",
        "nats-untrusted",
    );
    setup.running.unwrap().shutdown().await.unwrap();
}
