//! The provider runtime against real NATS: lifecycle, links, configuration, health, shutdown,
//! tracing, with a test host playing wasmCloud.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provider_sdk::provider::{
    self, Config, Context, Health, HookResult, Link, LinkKey, Provider, ProviderHandle,
    RuntimeOptions, StandaloneArgs, Startup,
};
use provider_sdk::trace::TraceContext;
use provider_sdk::transport::{InvocationContext, ServeOptions, Server, Serving};
use provider_sdk::{Error, HeaderMap};
use provider_testing::{NatsServer, TestHost, TestLink, eventually};
use tokio::sync::Semaphore;

mod auth;
mod link_policy;
mod stores;

mod bindings {
    provider_sdk::generate!({ path: "tests/provider/wit", world: "provider" });
}

/// The other side: a component that calls the provider.
mod component {
    provider_sdk::generate!({ path: "tests/provider/wit", world: "component" });
}

use bindings::exports::test::probe::probe::Handler;
use component::test::probe::probe as calls;

const PROVIDER: &str = "probe-provider";
const IFACE: (&str, &str) = ("test", "probe");

/// What the test sees of the provider.
struct State {
    events: Mutex<Vec<String>>,
    /// Permits for `slow` calls to return.
    release: Semaphore,
    /// `slow` calls that have started.
    slow_started: AtomicUsize,
    /// Permits for link hooks of links with `block` set.
    hook_gate: Semaphore,
    hook_blocked: AtomicBool,
    unhealthy: AtomicBool,
    handle: Mutex<Option<ProviderHandle>>,
    /// `whoami` calls that reached the handler.
    whoami_calls: AtomicUsize,
    /// The provider's secrets, as `init` and `secrets_updated` last said.
    secrets: Mutex<Vec<(String, String)>>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            events: Mutex::default(),
            release: Semaphore::new(0),
            slow_started: AtomicUsize::new(0),
            hook_gate: Semaphore::new(0),
            hook_blocked: AtomicBool::new(false),
            unhealthy: AtomicBool::new(false),
            handle: Mutex::default(),
            whoami_calls: AtomicUsize::new(0),
            secrets: Mutex::default(),
        }
    }
}

impl State {
    fn log(&self, event: String) {
        self.events.lock().unwrap().push(event);
    }

    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn count(&self, prefix: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }
}

#[derive(Clone, Default)]
struct Probe(Arc<State>);

impl Provider for Probe {
    async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
        bindings::serve(server, self).await
    }

    async fn init(&self, init: &provider::InitContext) -> HookResult {
        *self.0.handle.lock().unwrap() = Some(init.handle().clone());
        *self.0.secrets.lock().unwrap() = secret_pairs(init.secrets());
        self.0.log(format!(
            "init {} config={:?}",
            init.provider_id(),
            sorted(init.config())
        ));
        Ok(())
    }

    async fn link_put_as_target(&self, link: &Link) -> HookResult {
        if link.config().get_or("block", false)? {
            self.0.hook_blocked.store(true, Ordering::SeqCst);
            self.0.hook_gate.acquire().await?.forget();
        }
        if link.config().get_or("fail", false)? {
            self.0.log(format!("put-failed {}", link.name()));
            return Err("the link asked to fail".into());
        }
        self.0.log(format!(
            "put {} {} {:?}",
            link.source_id(),
            link.name(),
            sorted(link.config())
        ));
        Ok(())
    }

    async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
        self.0.log(format!(
            "delete {} {} {:?}",
            link.source_id(),
            link.name(),
            sorted(link.config())
        ));
        Ok(())
    }

    async fn config_updated(&self, config: &Config) -> HookResult {
        self.0.log(format!("config {:?}", sorted(config)));
        Ok(())
    }

    async fn secrets_updated(&self, secrets: &provider::Secrets) -> HookResult {
        let pairs = secret_pairs(secrets);
        self.0.log(format!(
            "secrets {:?}",
            pairs.iter().map(|(k, _)| k).collect::<Vec<_>>()
        ));
        *self.0.secrets.lock().unwrap() = pairs;
        Ok(())
    }

    async fn health(&self) -> Health {
        if self.0.unhealthy.load(Ordering::SeqCst) {
            Health::unhealthy("told to be")
        } else {
            Health::healthy()
        }
    }

    async fn shutdown(&self) -> HookResult {
        self.0.log("shutdown".to_owned());
        Ok(())
    }
}

impl Handler<Context> for Probe {
    async fn whoami(&self, cx: Context, key: String) -> (Option<String>, String, Option<String>) {
        self.0.whoami_calls.fetch_add(1, Ordering::SeqCst);
        (
            cx.source_id().map(str::to_owned),
            cx.link_name().to_owned(),
            cx.config().get_str(&key).map(str::to_owned),
        )
    }

    async fn secret(&self, cx: Context, key: String) -> Option<String> {
        cx.secrets().get_str(&key).map(str::to_owned)
    }

    async fn slow(&self, _cx: Context, id: u32) -> u32 {
        self.0.slow_started.fetch_add(1, Ordering::SeqCst);
        if let Ok(permit) = self.0.release.acquire().await {
            permit.forget();
        }
        self.0.log(format!("slow {id} done"));
        id
    }

    async fn trace_id(&self, _cx: Context) -> Option<String> {
        provider_sdk::trace::current().map(|trace| trace.trace_id())
    }

    async fn call_callee(&self, cx: Context, component: String) -> Result<String, String> {
        let handle = cx.provider().ok_or("no provider handle")?;
        let client = handle.component(&component).map_err(|e| e.to_string())?;
        bindings::test::probe::callee::hello(&client)
            .await
            .map_err(|e| e.to_string())
    }
}

fn sorted(config: &Config) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = config
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.to_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn secret_pairs(secrets: &provider::Secrets) -> Vec<(String, String)> {
    secrets
        .keys()
        .map(|key| {
            (
                key.to_owned(),
                secrets.get_str(key).unwrap_or("<bytes>").to_owned(),
            )
        })
        .collect()
}

fn link(source: &str, name: &str) -> TestLink {
    TestLink::new(source, PROVIDER, name, IFACE, &["probe"])
}

async fn whoami(
    host: &TestHost,
    source: &str,
    name: &str,
    key: &str,
) -> (Option<String>, String, Option<String>) {
    let client = host.component(source, name).unwrap();
    calls::whoami(&client, key).await.unwrap()
}

/// Links `source` to the provider under `default` and waits until the link is in effect: only
/// linked callers get through.
async fn link_up(host: &TestHost, state: &State, source: &str) {
    host.put_link(&link(source, "default")).await.unwrap();
    let put = format!("put {source} default");
    assert!(eventually(|| async { state.count(&put) == 1 }).await);
    // The hook has run; the link is in effect once a call gets through.
    let client = host.component(source, "default").unwrap();
    assert!(eventually(|| async { calls::whoami(&client, "k").await.is_ok() }).await);
}

/// Calls `whoami` from `source` over `name`, which has no link: refused before the handler
/// runs, with a reason naming the caller and the link name.
async fn refused(host: &TestHost, source: &str, name: &str) {
    let client = host.component(source, name).unwrap();
    let result = calls::whoami(&client, "k").await;
    match result {
        Err(Error::Refused { reason, .. }) => {
            assert!(
                reason.contains(&format!("`{source}`")) && reason.contains(&format!("`{name}`")),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn setup() -> (NatsServer, TestHost, Arc<State>) {
    let nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    (nats, host, Arc::new(State::default()))
}

#[tokio::test]
async fn starts_with_the_links_and_secrets_in_host_data() {
    let (_nats, host, state) = setup().await;
    host.with_config("Mode", "test");
    host.with_initial_link(
        link("comp-a", "default")
            .target_config("URL", "redis://a")
            .target_secret("password", "hunter2"),
    );
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    // Applied before serving: the first call already sees the link.
    assert_eq!(
        whoami(&host, "comp-a", "default", "url").await,
        (
            Some("comp-a".into()),
            "default".into(),
            Some("redis://a".into())
        )
    );
    let client = host.component("comp-a", "default").unwrap();
    let secret = calls::secret(&client, "PASSWORD").await.unwrap();
    assert_eq!(secret.as_deref(), Some("hunter2"));
    let events = state.events();
    assert_eq!(
        events[0],
        format!("init {PROVIDER} config=[(\"mode\", \"test\")]")
    );
    assert_eq!(events[1], "put comp-a default [(\"url\", \"redis://a\")]");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_link_names_from_one_component_are_two_links() {
    let (_nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    host.put_link(&link("comp", "default").target_config("bucket", "one"))
        .await
        .unwrap();
    host.put_link(&link("comp", "cache").target_config("bucket", "two"))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("put comp") == 2 }).await);
    assert_eq!(
        whoami(&host, "comp", "default", "bucket")
            .await
            .2
            .as_deref(),
        Some("one")
    );
    assert_eq!(
        whoami(&host, "comp", "cache", "bucket").await.2.as_deref(),
        Some("two")
    );
    // An unknown link name, or no link at all, is refused before the handler runs.
    refused(&host, "comp", "other").await;
    refused(&host, "stranger", "default").await;
}

#[tokio::test]
async fn a_changed_config_on_a_live_link_is_an_update_and_a_duplicate_is_not() {
    let (_nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    let first = link("comp", "default").target_config("bucket", "one");
    host.put_link(&first).await.unwrap();
    assert!(eventually(|| async { state.count("put ") == 1 }).await);
    // The same put again (hosts repeat them) changes nothing.
    host.put_link(&first).await.unwrap();
    let changed = link("comp", "default").target_config("bucket", "two");
    host.put_link(&changed).await.unwrap();
    assert!(eventually(|| async { state.count("put ") == 2 }).await);
    assert_eq!(
        state.events()[1..],
        [
            "put comp default [(\"bucket\", \"one\")]",
            "put comp default [(\"bucket\", \"two\")]"
        ]
    );
    assert_eq!(
        whoami(&host, "comp", "default", "bucket")
            .await
            .2
            .as_deref(),
        Some("two")
    );
}

#[tokio::test]
async fn a_failing_link_hook_leaves_nothing_half_applied() {
    let (_nats, host, state) = setup().await;
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    host.put_link(&link("comp", "broken").target_config("fail", "yes"))
        .await
        .unwrap();
    host.put_link(&link("comp", "default").target_config("bucket", "one"))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("put comp") == 1 }).await);
    assert_eq!(state.count("put-failed broken"), 1);
    assert!(
        running
            .handle()
            .link(&LinkKey::new("comp", PROVIDER, "broken"))
            .is_none()
    );
    refused(&host, "comp", "broken").await;
    // A failed update keeps the link as it was.
    host.put_link(
        &link("comp", "default")
            .target_config("bucket", "two")
            .target_config("fail", "yes"),
    )
    .await
    .unwrap();
    assert!(eventually(|| async { state.count("put-failed default") == 1 }).await);
    assert_eq!(
        whoami(&host, "comp", "default", "bucket")
            .await
            .2
            .as_deref(),
        Some("one")
    );
}

#[tokio::test]
async fn a_delete_reaches_the_hook_with_the_link_as_it_was() {
    let (_nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    let linked = link("comp", "default").target_config("bucket", "one");
    host.put_link(&linked).await.unwrap();
    assert!(eventually(|| async { state.count("put ") == 1 }).await);
    host.delete_link(&linked).await.unwrap();
    assert!(eventually(|| async { state.count("delete ") == 1 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "delete comp default [(\"bucket\", \"one\")]"
    );
    refused(&host, "comp", "default").await;
    // A quick put then delete lands in that order.
    let again = link("comp", "quick");
    host.put_link(&again).await.unwrap();
    host.delete_link(&again).await.unwrap();
    assert!(eventually(|| async { state.count("delete comp quick") == 1 }).await);
    let events = state.events();
    let put = events
        .iter()
        .position(|e| e.starts_with("put comp quick"))
        .unwrap();
    let delete = events
        .iter()
        .position(|e| e.starts_with("delete comp quick"))
        .unwrap();
    assert!(put < delete, "{events:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    refused(&host, "comp", "quick").await;
    assert_eq!(
        state.count("put comp quick"),
        1,
        "the sealed put did not bring it back"
    );
}

#[tokio::test]
async fn health_is_answered_while_a_link_hook_is_blocked() {
    let (_nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    host.put_link(&link("comp", "default").target_config("block", "true"))
        .await
        .unwrap();
    assert!(eventually(|| async { state.hook_blocked.load(Ordering::SeqCst) }).await);
    // The hook is stuck, and still health answers.
    assert_eq!(host.health().await.unwrap(), Health::healthy());
    state.unhealthy.store(true, Ordering::SeqCst);
    let health = host.health().await.unwrap();
    assert!(!health.healthy);
    assert_eq!(health.message.as_deref(), Some("told to be"));
    assert_eq!(state.count("put "), 0);
    state.hook_gate.add_permits(1);
    assert!(eventually(|| async { state.count("put ") == 1 }).await);
}

#[tokio::test]
async fn an_unhealthy_provider_still_shuts_down_through_its_hook() {
    let (_nats, host, state) = setup().await;
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    state.unhealthy.store(true, Ordering::SeqCst);
    assert!(!host.health().await.unwrap().healthy);
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    running.wait().await.unwrap();
    assert_eq!(state.events().last().unwrap(), "shutdown");
}

#[tokio::test]
async fn shutdown_requests_from_other_hosts_are_ignored() {
    let (_nats, host, state) = setup().await;
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    link_up(&host, &state, "c").await;
    let other = tokio::time::timeout(Duration::from_millis(500), host.shutdown_as("NOTHER")).await;
    assert!(other.is_err(), "no answer to another host: {other:?}");
    assert!(!running.handle().is_stopping());
    assert_eq!(whoami(&host, "c", "default", "k").await.1, "default");
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    running.wait().await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_calls_in_flight_then_runs_the_hook_then_answers() {
    let (_nats, host, state) = setup().await;
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    link_up(&host, &state, "comp").await;
    let client = host.component("comp", "default").unwrap();
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { calls::slow(&client, 7).await })
    };
    assert!(eventually(|| async { state.slow_started.load(Ordering::SeqCst) == 1 }).await);
    let shutdown = tokio::spawn(async move { host.shutdown().await.map(|reply| (reply, host)) });
    assert!(eventually(|| async { running.handle().is_stopping() }).await);
    // Serving has stopped: a new call finds nobody.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = calls::whoami(&client, "k").await;
    assert!(
        matches!(refused, Err(Error::NoServer { .. })),
        "{refused:?}"
    );
    assert!(
        !shutdown.is_finished(),
        "the host hears back only after the drain"
    );
    state.release.add_permits(1);
    assert_eq!(in_flight.await.unwrap().unwrap(), 7);
    let (reply, _host) = shutdown.await.unwrap().unwrap();
    assert_eq!(reply, "shutting down");
    running.wait().await.unwrap();
    let events = state.events();
    assert_eq!(events[events.len() - 2..], ["slow 7 done", "shutdown"]);
}

#[tokio::test]
async fn shutdown_cancels_what_outlives_its_deadline() {
    let (_nats, host, state) = setup().await;
    let options = RuntimeOptions::default().shutdown_timeout(Duration::from_millis(200));
    let running = host
        .start_with(Probe(Arc::clone(&state)), options)
        .await
        .unwrap();
    link_up(&host, &state, "comp").await;
    let client = host.component("comp", "default").unwrap();
    let stuck = tokio::spawn(async move { calls::slow(&client, 1).await });
    assert!(eventually(|| async { state.slow_started.load(Ordering::SeqCst) == 1 }).await);
    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    running.wait().await.unwrap();
    assert!(matches!(
        stuck.await.unwrap(),
        Err(Error::Incomplete { .. })
    ));
    assert_eq!(state.events().last().unwrap(), "shutdown");
}

#[tokio::test]
async fn bounded_concurrency_and_invocation_deadline_come_from_the_options() {
    let (_nats, host, state) = setup().await;
    let options = RuntimeOptions::default()
        .max_concurrency(1)
        .invocation_timeout(Duration::from_millis(300));
    let _running = host
        .start_with(Probe(Arc::clone(&state)), options)
        .await
        .unwrap();
    link_up(&host, &state, "comp").await;
    let client = host.component("comp", "default").unwrap();
    let first = {
        let client = client.clone();
        tokio::spawn(async move { calls::slow(&client, 1).await })
    };
    assert!(eventually(|| async { state.slow_started.load(Ordering::SeqCst) == 1 }).await);
    let second = {
        let client = client.clone();
        tokio::spawn(async move { calls::slow(&client, 2).await })
    };
    // One at a time: the second waits for the first's slot, which its deadline frees.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(state.slow_started.load(Ordering::SeqCst), 1);
    assert!(matches!(
        first.await.unwrap(),
        Err(Error::Incomplete { .. })
    ));
    assert!(eventually(|| async { state.slow_started.load(Ordering::SeqCst) == 2 }).await);
    state.release.add_permits(1);
    // The second got its slot but also outlives the deadline unless released in time.
    let second = second.await.unwrap();
    assert!(
        matches!(second, Ok(2) | Err(Error::Incomplete { .. })),
        "{second:?}"
    );
}

#[tokio::test]
async fn config_updates_from_the_host_reach_the_hook() {
    let (_nats, host, state) = setup().await;
    host.with_config("a", "1");
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    host.update_config(&HashMap::from([
        ("a".into(), "2".into()),
        ("b".into(), "x".into()),
    ]))
    .await
    .unwrap();
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "config [(\"a\", \"2\"), (\"b\", \"x\")]"
    );
    assert_eq!(running.handle().config().get_str("B"), Some("x"));
}

#[tokio::test]
async fn serving_and_control_resume_after_nats_restarts() {
    let (mut nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    link_up(&host, &state, "comp").await;
    assert_eq!(whoami(&host, "comp", "default", "k").await.1, "default");
    nats.restart().unwrap();
    // Calls fail (never hang) until both sides have reconnected.
    let client = host
        .component("comp", "default")
        .unwrap()
        .with_timeout(Duration::from_secs(1));
    assert!(
        eventually(|| async { calls::whoami(&client, "k").await.is_ok() }).await,
        "calls work again after the restart"
    );
    host.put_link(&link("comp", "after").target_config("k", "v"))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("put comp after") == 1 }).await);
    assert_eq!(host.health().await.unwrap(), Health::healthy());
}

#[tokio::test]
async fn invocations_join_the_callers_trace_and_calls_carry_it_on() {
    let (_nats, host, state) = setup().await;
    let _running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    link_up(&host, &state, "comp-a").await;
    // A component the provider calls back, recording the headers it receives.
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let callee = host
        .transport()
        .server(ServeOptions::new(format!("{}.comp-b", host.lattice())));
    let recorded = Arc::clone(&seen);
    let _callee = callee
        .serve_fn(
            "test:probe/callee",
            "hello",
            move |cx: InvocationContext, (): ()| {
                let recorded = Arc::clone(&recorded);
                async move {
                    recorded
                        .lock()
                        .unwrap()
                        .push(cx.headers().cloned().unwrap_or_default());
                    ("hi".to_owned(),)
                }
            },
        )
        .await
        .unwrap();

    let parent = TraceContext::new_root();
    let mut headers = HeaderMap::new();
    parent.insert_into(&mut headers);
    let client = host.component("comp-a", "default").unwrap();
    let options = provider_sdk::transport::CallOptions::default()
        .header("traceparent", &parent.to_string())
        .unwrap();
    let (trace_id,): (Option<String>,) = client
        .invoke_with(&options, "test:probe/probe", "trace-id", ())
        .await
        .unwrap();
    assert_eq!(trace_id, Some(parent.trace_id()));
    let (untraced,): (Option<String>,) = client
        .invoke("test:probe/probe", "trace-id", ())
        .await
        .unwrap();
    assert_eq!(untraced, None);

    let (answer,): (Result<String, String>,) = client
        .invoke_with(&options, "test:probe/probe", "call-callee", ("comp-b",))
        .await
        .unwrap();
    assert_eq!(answer.as_deref(), Ok("hi"));
    let headers = seen.lock().unwrap()[0].clone();
    assert_eq!(headers.get("source-id").unwrap().as_str(), PROVIDER);
    assert_eq!(headers.get("target-id").unwrap().as_str(), "comp-b");
    let carried: TraceContext = headers
        .get("traceparent")
        .unwrap()
        .as_str()
        .parse()
        .unwrap();
    assert_eq!(carried.trace_id(), parent.trace_id());
    assert_ne!(
        carried.span_id(),
        parent.span_id(),
        "the provider's own span is the parent"
    );

    // Outside any traced invocation, the component client starts a trace.
    let (answer,): (Result<String, String>,) = client
        .invoke("test:probe/probe", "call-callee", ("comp-b",))
        .await
        .unwrap();
    assert_eq!(answer.as_deref(), Ok("hi"));
    let started = seen.lock().unwrap()[1].clone();
    assert!(started.get("traceparent").is_some());
    drop(state);
}

#[tokio::test]
async fn startup_fails_clearly_without_nats() {
    let host = TestHost::new(&NatsServer::start().unwrap().url(), PROVIDER).await;
    drop(host);
    let mut args = StandaloneArgs::default();
    args.nats.url = "nats://127.0.0.1:1".to_owned();
    args.provider_id = Some(PROVIDER.to_owned());
    args.nats_connect_attempts = 2;
    let error = provider::start(
        Probe::default(),
        Startup::standalone(args).unwrap(),
        RuntimeOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, Error::Connect { attempts: 2, .. }),
        "{error}"
    );
    assert!(error.is_transport());
}
