//! The redis-counter provider through the SDK's test host, against real NATS and Redis servers
//! the tests start: in-process, and as the executable a wasmCloud host would run.

use std::sync::Arc;
use std::time::Duration;

use provider_sdk::provider::{Health, RunningProvider};
use provider_testing::{NatsServer, RedisServer, TestHost, TestLink, eventually};
use redis_counter::{RedisCounter, client};

const PROVIDER: &str = "redis-counter";
const PASSWORD: &str = "counter-pw-7c1f";

struct Setup {
    _nats: NatsServer,
    redis: RedisServer,
    host: TestHost,
}

async fn setup() -> Setup {
    let nats = NatsServer::start().unwrap();
    let redis = RedisServer::start_with_password(Some(PASSWORD)).unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    Setup {
        _nats: nats,
        redis,
        host,
    }
}

impl Setup {
    /// A link from `source` named `name`, to this test's Redis, password as a secret.
    fn link(&self, source: &str, name: &str) -> TestLink {
        TestLink::new(source, PROVIDER, name, ("example", "counter"), &["counter"])
            .target_config("URL", &self.redis.url_without_password())
            .target_secret("password", PASSWORD)
    }

    async fn start(&self) -> (Arc<RedisCounter>, RunningProvider) {
        let provider = Arc::new(RedisCounter::default());
        let running = self.host.start(Arc::clone(&provider)).await.unwrap();
        (provider, running)
    }

    /// Calls `increment` as `source` over link `name`: the provider's answer, or the transport
    /// error (until the provider serves, say) as `transport: ...`.
    async fn increment(&self, source: &str, name: &str, counter: &str) -> Result<i64, String> {
        let client = self.host.component(source, name).unwrap();
        client::increment(&client, counter, 1)
            .await
            .unwrap_or_else(|error| Err(format!("transport: {error}")))
    }

    async fn get(&self, source: &str, name: &str, counter: &str) -> Result<Option<i64>, String> {
        let client = self.host.component(source, name).unwrap();
        client::get(&client, counter)
            .await
            .unwrap_or_else(|error| Err(format!("transport: {error}")))
    }

    /// Puts `link` and waits until calls over it reach Redis.
    async fn put(&self, link: &TestLink) {
        self.host.put_link(link).await.unwrap();
        let key = link.key();
        assert!(
            eventually(|| async { self.get(&key.source_id, &key.name, "probe").await.is_ok() })
                .await,
            "the link {key} never became usable"
        );
    }
}

#[tokio::test]
async fn each_link_has_its_connection_and_its_delete_closes_it() {
    let setup = setup().await;
    let (provider, running) = setup.start().await;
    let a_default = setup.link("comp-a", "default").target_config("prefix", "a");
    let a_other = setup.link("comp-a", "other").target_config("prefix", "b");
    // Same settings as comp-a's default link: its own connection, the same counters.
    let b_default = setup.link("comp-b", "default").target_config("prefix", "a");
    for link in [&a_default, &a_other, &b_default] {
        setup.put(link).await;
    }
    assert_eq!(provider.links(), 3);

    assert_eq!(setup.increment("comp-a", "default", "hits").await, Ok(1));
    assert_eq!(setup.increment("comp-a", "default", "hits").await, Ok(2));
    assert_eq!(setup.increment("comp-a", "other", "hits").await, Ok(1));
    assert_eq!(setup.increment("comp-b", "default", "hits").await, Ok(3));
    assert_eq!(setup.redis.clients().unwrap(), 3);

    // A call over a link that does not exist says what to do.
    let error = setup.get("comp-c", "default", "hits").await.unwrap_err();
    assert!(
        error.contains("refused")
            && error.contains("no link from component `comp-c` named `default`"),
        "{error}"
    );

    // Deleting a link closes its connection and no other.
    setup.host.delete_link(&a_default).await.unwrap();
    assert!(eventually(|| async { setup.redis.clients().unwrap() == 2 }).await);
    assert_eq!(provider.links(), 2);
    assert_eq!(setup.get("comp-b", "default", "hits").await, Ok(Some(3)));
    setup.host.delete_link(&b_default).await.unwrap();
    setup.host.delete_link(&a_other).await.unwrap();
    assert!(eventually(|| async { setup.redis.clients().unwrap() == 0 }).await);
    let error = setup.get("comp-a", "other", "hits").await.unwrap_err();
    assert!(
        error.contains("no link from component `comp-a` named `other`"),
        "{error}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_config_change_on_a_live_link_moves_it_to_a_new_connection() {
    let setup = setup().await;
    let (provider, running) = setup.start().await;
    setup
        .put(&setup.link("comp", "default").target_config("prefix", "old"))
        .await;
    assert_eq!(setup.increment("comp", "default", "n").await, Ok(1));

    setup
        .host
        .put_link(&setup.link("comp", "default").target_config("prefix", "new"))
        .await
        .unwrap();
    assert!(
        eventually(|| async { setup.get("comp", "default", "n").await == Ok(None) }).await,
        "the link still uses its old settings"
    );
    assert_eq!(setup.increment("comp", "default", "n").await, Ok(1));
    assert_eq!(provider.links(), 1);
    // The old connection is closed, the new one open.
    assert!(eventually(|| async { setup.redis.clients().unwrap() == 1 }).await);

    // A malformed URL is refused and the link keeps its working connection.
    setup
        .host
        .put_link(
            &setup
                .link("comp", "default")
                .target_config("url", "not a url"),
        )
        .await
        .unwrap();
    setup
        .put(&setup.link("comp", "other").target_config("prefix", "new"))
        .await;
    assert_eq!(setup.increment("comp", "default", "n").await, Ok(2));
    running.shutdown().await.unwrap();
    assert_eq!(provider.links(), 0, "shutdown closes every connection");
}

#[tokio::test]
async fn redis_failures_are_errors_and_it_recovers() {
    let mut setup = setup().await;
    let (_provider, running) = setup.start().await;
    let wrong = TestLink::new(
        "comp",
        PROVIDER,
        "wrong",
        ("example", "counter"),
        &["counter"],
    )
    .target_config("url", &setup.redis.url_without_password())
    .target_secret("password", "not-the-password");
    setup.host.put_link(&wrong).await.unwrap();
    setup.put(&setup.link("comp", "default")).await;
    assert!(
        eventually(|| async {
            matches!(setup.increment("comp", "wrong", "n").await,
                     Err(error) if error.starts_with("Redis: ") && !error.contains("not-the-password"))
        })
        .await
    );

    assert_eq!(setup.increment("comp", "default", "n").await, Ok(1));
    setup.redis.stop();
    let error = setup.increment("comp", "default", "n").await.unwrap_err();
    assert!(error.starts_with("Redis: "), "{error}");
    setup.redis.restart().unwrap();
    // The server kept nothing, and the connection comes back on its own.
    assert!(
        eventually(|| async { setup.increment("comp", "default", "n").await == Ok(1) }).await,
        "the provider did not reconnect to Redis"
    );
    running.shutdown().await.unwrap();
}

/// The provider executable, started as a wasmCloud host starts it: `HostData` on stdin.
async fn spawn(setup: &Setup, links: &[TestLink]) -> provider_testing::ChildProvider {
    // The provider's default Redis carries the password in its URL: never to be logged.
    setup.host.with_config("default_url", &setup.redis.url());
    for link in links {
        setup.host.with_initial_link(link.clone());
    }
    setup
        .host
        .spawn(env!("CARGO_BIN_EXE_redis-counter").as_ref())
        .await
        .unwrap()
}

#[tokio::test]
async fn runs_under_a_host_and_exits_0_when_the_host_says_so() {
    let setup = setup().await;
    let no_url = TestLink::new(
        "comp",
        PROVIDER,
        "default",
        ("example", "counter"),
        &["counter"],
    );
    let mut child = spawn(&setup, &[setup.link("comp", "secret"), no_url]).await;
    assert!(
        eventually(|| async { setup.increment("comp", "secret", "n").await == Ok(1) }).await,
        "the provider never served; its log:\n{}",
        child.logs()
    );
    // The link without a URL uses the provider's default, credentials and all.
    assert_eq!(setup.increment("comp", "default", "n").await, Ok(2));
    assert_eq!(setup.host.health().await.unwrap(), Health::healthy());

    assert_eq!(setup.host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    let logs = child.logs();
    assert!(status.success(), "{status}; log:\n{logs}");
    assert!(
        !logs.contains(PASSWORD),
        "the log shows the Redis password:\n{logs}"
    );
    assert!(logs.contains("Redis connection for the link"), "{logs}");
}

#[tokio::test]
async fn exits_0_on_sigterm() {
    let setup = setup().await;
    let mut child = spawn(&setup, &[setup.link("comp", "default")]).await;
    assert!(
        eventually(|| async { setup.increment("comp", "default", "n").await == Ok(1) }).await,
        "the provider never served; its log:\n{}",
        child.logs()
    );
    child.terminate().unwrap();
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", child.logs());
    // Gone: nothing answers its health subject any more.
    assert!(setup.host.health().await.is_err());
}

#[tokio::test]
async fn started_by_hand_it_says_how_in_one_plain_line() {
    let nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    // Credentials in the URL (a server without auth takes any): never to be logged.
    let url = nats
        .url()
        .replace("nats://", "nats://someone:nats-pw-5e2a@");
    let mut child = host
        .spawn_standalone(env!("CARGO_BIN_EXE_redis-counter").as_ref(), &url, &[])
        .unwrap();
    assert!(
        eventually(|| async { child.logs().contains("serving") }).await,
        "the provider never served; its log:\n{}",
        child.logs()
    );
    let logs = child.logs();
    let said: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("running standalone"))
        .collect();
    assert_eq!(said.len(), 1, "{logs}");
    for expected in [
        "no host data (stdin is empty)",
        host.lattice(),
        PROVIDER,
        "nats://someone:***@127.0.0.1",
    ] {
        assert!(said[0].contains(expected), "{expected} in {}", said[0]);
    }
    assert!(!logs.contains("nats-pw-5e2a"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {logs}"
    );
    assert!(
        !logs.contains("CONFIGDATA"),
        "no named configuration was asked for, so no bucket is looked up: {logs}"
    );
    child.terminate().unwrap();
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", child.logs());
}

#[test]
fn help_names_the_provider_in_words_for_a_terminal() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_redis-counter"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.starts_with(env!("CARGO_PKG_DESCRIPTION")),
        "the provider's own description first:\n{help}"
    );
    assert!(!help.contains('`') && !help.contains("[`"), "{help}");
    assert!(
        help.contains("--nats-url") && help.contains("NATS_URL"),
        "{help}"
    );
}
