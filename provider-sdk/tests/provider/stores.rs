//! Named configuration and secrets from mounted folders and the environment: a standalone
//! provider whose configuration lives in a folder laid out as Kubernetes mounts ConfigMaps and
//! Secrets, swapped the way the kubelet swaps it while the provider runs.

use std::path::{Path, PathBuf};

use provider_sdk::provider::stores::{EnvStore, StoreKind};
use provider_testing::{KubernetesMount, Logs};

use super::*;

/// Longer than a store folder takes to settle after a change (50 ms of quiet, at most 1 s):
/// a second hook call would have come by then.
const SETTLED: Duration = Duration::from_millis(1500);

/// Standalone settings on `nats`, in `host`'s lattice.
fn args(nats: &NatsServer, host: &TestHost) -> StandaloneArgs {
    let mut args = StandaloneArgs::default();
    args.nats.url = nats.url();
    args.lattice = host.lattice().to_owned();
    args.provider_id = Some(PROVIDER.to_owned());
    args.nats_connect_attempts = 1;
    args
}

/// A links file with one link from `comp` whose target side names `config` and `secrets`.
fn links_file(dir: &Path, config: &[&str], secrets: &[&str]) -> PathBuf {
    let path = dir.join("links.json");
    let link = serde_json::json!([{
        "source_id": "comp",
        "wit_namespace": "test",
        "wit_package": "probe",
        "interfaces": ["probe"],
        "target_config": config,
        "target_secrets": secrets,
    }]);
    std::fs::write(&path, link.to_string()).unwrap();
    path
}

async fn start(
    state: &Arc<State>,
    startup: Startup,
) -> provider_sdk::Result<provider::RunningProvider> {
    provider::start(Probe(Arc::clone(state)), startup, RuntimeOptions::default()).await
}

/// The `bucket` value component `comp`'s `default` link hands the provider's handlers.
async fn link_bucket(host: &TestHost) -> Option<String> {
    whoami(host, "comp", "default", "bucket").await.2
}

#[tokio::test]
async fn names_in_the_bucket_are_merged_watched_and_reach_links() {
    let (nats, host, state) = setup().await;
    host.put_named_config(
        "base",
        &HashMap::from([("url".into(), "a".into()), ("pool".into(), "1".into())]),
    )
    .await
    .unwrap();
    host.put_named_config("override", &HashMap::from([("pool".into(), "8".into())]))
        .await
        .unwrap();
    host.put_named_config(
        "link-cfg",
        &HashMap::from([("bucket".into(), "first".into())]),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = args(&nats, &host);
    args.config = vec!["base".into(), "override".into(), "missing".into()];
    args.links = Some(links_file(dir.path(), &["link-cfg"], &[]));
    let _running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    assert_eq!(
        state.events()[0],
        format!("init {PROVIDER} config=[(\"pool\", \"8\"), (\"url\", \"a\")]")
    );
    assert_eq!(link_bucket(&host).await.as_deref(), Some("first"));

    // A change to a named config the provider uses reaches its hook...
    host.put_named_config("override", &HashMap::from([("pool".into(), "16".into())]))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "config [(\"pool\", \"16\"), (\"url\", \"a\")]"
    );
    // ...one that was missing at start counts once it appears...
    host.put_named_config("missing", &HashMap::from([("extra".into(), "y".into())]))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("config ") == 2 }).await);
    // ...and one a link uses updates the live link.
    host.put_named_config(
        "link-cfg",
        &HashMap::from([("bucket".into(), "second".into())]),
    )
    .await
    .unwrap();
    assert!(eventually(|| async { state.count("put comp default") == 2 }).await);
    assert_eq!(link_bucket(&host).await.as_deref(), Some("second"));
    // Unrelated names change nothing.
    host.put_named_config("unrelated", &HashMap::from([("z".into(), "1".into())]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(state.count("config "), 2);
    assert_eq!(state.count("put "), 2);
}

#[tokio::test]
async fn a_configmap_swap_reaches_the_provider_and_its_link_once() {
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let config_dir = files.path().join("config");
    let mut provider_cfg = KubernetesMount::create(
        config_dir.join("provider-cfg"),
        &[("pool", "4"), ("url", "a")],
    );
    let mut link_cfg = KubernetesMount::create(config_dir.join("link-cfg"), &[("bucket", "first")]);
    let mut args = args(&nats, &host);
    args.config = vec!["provider-cfg".into()];
    args.stores.config_dir = Some(config_dir.clone());
    args.links = Some(links_file(files.path(), &["link-cfg"], &[]));
    let _running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    assert_eq!(
        state.events()[0],
        format!("init {PROVIDER} config=[(\"pool\", \"4\"), (\"url\", \"a\")]")
    );
    assert_eq!(link_bucket(&host).await.as_deref(), Some("first"));

    // The kubelet's update: a new data folder, `..data` renamed over, a key link added, the
    // old folder removed. One change, one hook call, with the new values whole.
    provider_cfg.swap(&[("pool", "8"), ("url", "a"), ("extra", "y")]);
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "config [(\"extra\", \"y\"), (\"pool\", \"8\"), (\"url\", \"a\")]"
    );
    // A link whose named configuration lives there gets its update, once.
    link_cfg.swap(&[("bucket", "second")]);
    assert!(eventually(|| async { state.count("put comp default") == 2 }).await);
    assert_eq!(link_bucket(&host).await.as_deref(), Some("second"));
    // A swap to the same values is no change.
    link_cfg.swap(&[("bucket", "second")]);
    tokio::time::sleep(SETTLED).await;
    assert_eq!(state.count("config "), 1, "{:?}", state.events());
    assert_eq!(state.count("put comp default"), 2, "{:?}", state.events());

    // A removed key is a change too.
    provider_cfg.swap(&[("pool", "8"), ("url", "a")]);
    assert!(eventually(|| async { state.count("config ") == 2 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "config [(\"pool\", \"8\"), (\"url\", \"a\")]"
    );
}

#[tokio::test]
async fn a_bad_file_is_logged_by_name_and_the_previous_values_stay() {
    let logs = Logs::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let config_dir = files.path().join("config");
    let mut cfg = KubernetesMount::create(config_dir.join("cfg"), &[("pool", "4")]);
    let mut args = args(&nats, &host);
    args.config = vec!["cfg".into()];
    args.stores.config_dir = Some(config_dir.clone());
    let running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();

    // A value that is not UTF-8 appears: the name keeps its values, the log names the file.
    let data = cfg.path().join("..data");
    std::fs::write(data.join("blob"), [0xff, 0xfe, 0x00]).unwrap();
    assert!(
        eventually(|| async { !logs.with(&["cfg/..data/blob", "UTF-8"]).is_empty() }).await,
        "{:#?}",
        logs.lines()
    );
    // A key that links outside the mount.
    std::fs::remove_file(data.join("blob")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", data.join("escape")).unwrap();
    assert!(
        eventually(|| async {
            !logs
                .with(&["cfg/..data/escape", "outside the mount"])
                .is_empty()
        })
        .await,
        "{:#?}",
        logs.lines()
    );
    assert_eq!(state.count("config "), 0, "{:?}", state.events());
    assert_eq!(running.handle().config().get_str("pool"), Some("4"));

    // Fixed by the next update: the new values reach the hook.
    cfg.swap(&[("pool", "5")]);
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    assert_eq!(running.handle().config().get_str("pool"), Some("5"));
}

#[tokio::test]
async fn a_bad_file_at_start_is_a_start_error_naming_it() {
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let config_dir = files.path().join("config");
    std::fs::create_dir_all(config_dir.join("cfg")).unwrap();
    std::fs::write(config_dir.join("cfg/pool"), [0xff]).unwrap();
    let mut args = args(&nats, &host);
    args.config = vec!["cfg".into()];
    args.stores.config_dir = Some(config_dir.clone());
    let error = start(&state, Startup::standalone(args.clone()).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cfg/pool") && error.contains("UTF-8"),
        "{error}"
    );

    // A name that is not a path segment, and a folder that is not there.
    args.config = vec!["../etc".into()];
    let error = start(&state, Startup::standalone(args.clone()).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`../etc`") && error.contains("path segment"),
        "{error}"
    );
    args.stores.config_dir = Some(files.path().join("absent"));
    let error = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("absent"), "{error}");
}

#[tokio::test]
async fn a_secret_mount_is_used_refreshed_and_never_logged() {
    // Everything but dependencies' `trace` events, which show the bytes on the wire.
    let logs = Logs::up_to(tracing::Level::DEBUG);
    let _guard = tracing::subscriber::set_default(logs.clone());
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let secrets_dir = files.path().join("secrets");
    let mut link_auth = KubernetesMount::create(
        secrets_dir.join("link-auth"),
        &[("password", "first-s3cret")],
    );
    let mut provider_auth = KubernetesMount::create(
        secrets_dir.join("provider-auth"),
        &[("token", "tok-s3cret")],
    );
    let mut args = args(&nats, &host);
    args.stores.secrets_dir = Some(secrets_dir.clone());
    args.stores.secrets = vec!["provider-auth".into()];
    args.links = Some(links_file(files.path(), &[], &["link-auth"]));
    let _running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    assert_eq!(
        *state.secrets.lock().unwrap(),
        [("token".to_owned(), "tok-s3cret".to_owned())]
    );
    let client = host.component("comp", "default").unwrap();
    assert_eq!(
        calls::secret(&client, "password").await.unwrap().as_deref(),
        Some("first-s3cret")
    );

    // Rotated in the mount: the link's calls see the new value, the provider's hook its own.
    link_auth.swap(&[("password", "second-s3cret")]);
    assert!(
        eventually(|| async {
            calls::secret(&client, "password").await.unwrap().as_deref() == Some("second-s3cret")
        })
        .await
    );
    provider_auth.swap(&[("token", "tok2-s3cret")]);
    assert!(eventually(|| async { state.count("secrets ") == 1 }).await);
    assert_eq!(
        *state.secrets.lock().unwrap(),
        [("token".to_owned(), "tok2-s3cret".to_owned())]
    );
    // A bad file in the secrets folder is reported by name, its content never (serde's own
    // message would quote the number: "invalid type: integer `98765`").
    std::fs::write(secrets_dir.join("bad.json"), r#"{"pin": 98765}"#).unwrap();
    assert!(eventually(|| async { !logs.with(&["bad.json", "JSON"]).is_empty() }).await);

    let lines = logs.lines();
    assert!(lines.len() > 5, "{lines:#?}");
    let leaked: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("s3cret") || line.contains("98765"))
        .collect();
    assert!(leaked.is_empty(), "secrets in the log: {leaked:#?}");
}

#[tokio::test]
async fn stores_merge_in_their_order_and_a_later_store_wins() {
    let (nats, host, state) = setup().await;
    host.put_named_config(
        "redis",
        &HashMap::from([
            ("url".into(), "bucket".into()),
            ("db".into(), "1".into()),
            ("pool".into(), "4".into()),
        ]),
    )
    .await
    .unwrap();
    let files = tempfile::tempdir().unwrap();
    let config_dir = files.path().join("config");
    KubernetesMount::create(config_dir.join("redis"), &[("url", "dir"), ("db", "2")]);
    let env = EnvStore::from_vars([("WASMCLOUD_CONFIG_REDIS__URL", "env")]);

    // The default order: bucket, then the folder; a store the program adds comes last.
    let mut args = args(&nats, &host);
    args.config = vec!["redis".into()];
    args.stores.config_dir = Some(config_dir.clone());
    let mut startup = Startup::standalone(args.clone()).unwrap();
    startup.add_config_store(Arc::new(env));
    let running = start(&state, startup).await.unwrap();
    let config = running.handle().config();
    assert_eq!(config.get_str("url"), Some("env"));
    assert_eq!(config.get_str("db"), Some("2"));
    assert_eq!(config.get_str("pool"), Some("4"));
    running.shutdown().await.unwrap();

    // --config-stores dir,bucket: the bucket wins.
    args.stores.config_stores = vec![StoreKind::Dir, StoreKind::Bucket];
    let state = Arc::new(State::default());
    let running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    let config = running.handle().config();
    assert_eq!(config.get_str("url"), Some("bucket"));
    assert_eq!(config.get_str("db"), Some("1"));
    // A bucket change still reaches the hook through its place in the order...
    host.put_named_config("redis", &HashMap::from([("url".into(), "bucket-2".into())]))
        .await
        .unwrap();
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    assert_eq!(
        state.events().last().unwrap(),
        "config [(\"db\", \"2\"), (\"url\", \"bucket-2\")]"
    );
}

#[tokio::test]
async fn names_swapped_together_reach_the_hook_once() {
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    // The store folder is itself one ConfigMap volume, a JSON file per name.
    let mut configs = KubernetesMount::create(
        files.path().join("config"),
        &[("a.json", r#"{"x":"1"}"#), ("b.json", r#"{"y":"1"}"#)],
    );
    let mut args = args(&nats, &host);
    args.config = vec!["a".into(), "b".into()];
    args.stores.config_dir = Some(configs.path().to_owned());
    let _running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    configs.swap(&[("a.json", r#"{"x":"2"}"#), ("b.json", r#"{"y":"2"}"#)]);
    assert!(eventually(|| async { state.count("config ") == 1 }).await);
    tokio::time::sleep(SETTLED).await;
    assert_eq!(
        state.events()[1..],
        ["config [(\"x\", \"2\"), (\"y\", \"2\")]".to_owned()],
        "one hook call with both names' new values, never a mix"
    );
}

#[tokio::test]
async fn a_link_waiting_for_an_unreadable_file_is_put_once_it_reads() {
    let (nats, host, state) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let config_dir = files.path().join("config");
    let mut link_cfg = KubernetesMount::create(config_dir.join("link-cfg"), &[("bucket", "x")]);
    std::fs::write(link_cfg.path().join("..data/broken"), [0xff]).unwrap();
    let mut args = args(&nats, &host);
    args.stores.config_dir = Some(config_dir.clone());
    args.links = Some(links_file(files.path(), &["link-cfg"], &[]));
    let _running = start(&state, Startup::standalone(args).unwrap())
        .await
        .unwrap();
    assert_eq!(state.count("put "), 0, "{:?}", state.events());
    refused(&host, "comp", "default").await;

    link_cfg.swap(&[("bucket", "fixed")]);
    assert!(eventually(|| async { state.count("put comp default") == 1 }).await);
    assert_eq!(link_bucket(&host).await.as_deref(), Some("fixed"));
}
