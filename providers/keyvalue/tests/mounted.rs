//! The keyvalue provider run as a container runs it: the real binary as a child process,
//! standalone (nothing on stdin), its settings only from folders laid out exactly as the kubelet
//! mounts ConfigMaps and Secrets, environment variables and a links file, against real NATS and
//! Redis servers of its own. A link's values come from a mounted ConfigMap, the environment and
//! a mounted Secret at once; a ConfigMap swapped under the running provider moves the link; the
//! environment store's place in the merge order holds in a real process.

use std::path::Path;
use std::time::Duration;

use keyvalue_provider::client::wrpc::keyvalue::store;
use provider_sdk::transport::Client;
use provider_testing::{ChildProvider, KubernetesMount, NatsServer, RedisServer, TestHost, within};

const PROVIDER: &str = "keyvalue-provider";
/// The Redis user's password: given only in a mounted Secret, and looked for in the log.
const PASSWORD: &str = "kv-mounted-pw-5e1d9c";
/// How long a change may take to reach a link (the folder watch settles in 50 ms to 1 s).
const BOUND: Duration = Duration::from_secs(10);

fn program() -> &'static Path {
    env!("CARGO_BIN_EXE_keyvalue-provider").as_ref()
}

/// A Redis server that only the user `app` (password [`PASSWORD`]) may use: the provider gets
/// in only with the username (from the environment) and the password (from the Secret) both.
fn redis_for_app() -> RedisServer {
    RedisServer::start_with_args(&[
        "--user",
        "app",
        "on",
        &format!(">{PASSWORD}"),
        "~*",
        "&*",
        "+@all",
        "--user",
        "default",
        "off",
    ])
    .unwrap()
}

/// `GET key` from database `db` of `server`, straight from Redis, as `app` if `auth`.
async fn redis_get(server: &RedisServer, auth: bool, db: u8, key: &str) -> Option<String> {
    let credentials = if auth {
        format!("app:{PASSWORD}@")
    } else {
        String::new()
    };
    let url = format!("redis://{credentials}{}/{db}", server.addr());
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

/// Waits until a `set` over `kv` succeeds: the link is in effect and its backend answers.
async fn until_served(kv: &Client, child: &ChildProvider, what: &str) {
    let served = within(BOUND, || async {
        matches!(store::set(kv, "b", "probe", b"1").await, Ok(Ok(())))
    })
    .await;
    assert!(
        served.is_some(),
        "{what} never served; log:\n{}",
        child.logs()
    );
}

/// Asks the provider to stop (SIGTERM) and returns its log once it has exited 0.
async fn stop(mut child: ChildProvider) -> String {
    child.terminate().unwrap();
    let status = child.wait(Duration::from_secs(10)).await.unwrap();
    let logs = child.logs();
    assert!(status.success(), "{status}; log:\n{logs}");
    logs
}

#[tokio::test]
async fn a_link_from_a_mounted_config_map_the_environment_and_a_mounted_secret_follows_a_swap() {
    let nats = NatsServer::start().unwrap();
    let (first, second) = (redis_for_app(), redis_for_app());
    let root = tempfile::tempdir().unwrap();
    let (config_dir, secrets_dir) = (root.path().join("config"), root.path().join("secrets"));

    // The ConfigMap `kv-redis` at <config>/kv-redis: where the data lives, Redis database 2.
    let first_url = format!("redis://{}/2", first.addr());
    let mut config_map = KubernetesMount::create(
        config_dir.join("kv-redis"),
        &[("backend", "redis"), ("url", &first_url)],
    );
    // The Secret `kv-redis-auth` at <secrets>/kv-redis-auth.
    KubernetesMount::create(secrets_dir.join("kv-redis-auth"), &[("password", PASSWORD)]);
    // The links file, itself from a ConfigMap. The link `default` takes its configuration from
    // `kv-redis` and `kv-env` (the environment only) and its secrets from `kv-redis-auth`; the
    // link `no-env` leaves `kv-env` out, so it lacks the username Redis asks for.
    let link = |name: &str, config: &str| {
        format!(
            r#"{{"source_id": "comp", "name": "{name}", "wit_namespace": "wrpc",
                 "wit_package": "keyvalue", "interfaces": ["store", "atomics", "batch"],
                 "target_config": {config}, "target_secrets": ["kv-redis-auth"]}}"#
        )
    };
    let links = format!(
        "[{}, {}]",
        link("default", r#"["kv-redis", "kv-env"]"#),
        link("no-env", r#"["kv-redis"]"#)
    );
    let links_mount = KubernetesMount::create(root.path().join("links"), &[("links.json", &links)]);

    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let config_flag = config_dir.display().to_string();
    let secrets_flag = secrets_dir.display().to_string();
    let links_flag = links_mount.path().join("links.json").display().to_string();
    let child = host
        .spawn_standalone_with_args(
            program(),
            &nats.url(),
            &[
                "--config-dir",
                &config_flag,
                "--secrets-dir",
                &secrets_flag,
                "--links",
                &links_flag,
            ],
            // Everything at debug: the password must not show even there.
            &[
                ("WASMCLOUD_CONFIG_KV_ENV__USERNAME", "app"),
                ("RUST_LOG", "debug"),
            ],
        )
        .unwrap();

    // A component's set and get land in database 2 of the first Redis.
    let kv = host.component("comp", "default").unwrap();
    until_served(&kv, &child, "the link `default`").await;
    store::set(&kv, "b", "k", b"first").await.unwrap().unwrap();
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some("first".into()))
    );
    assert_eq!(
        redis_get(&first, true, 2, "b:k").await.as_deref(),
        Some("first")
    );
    assert_eq!(redis_get(&first, true, 0, "b:k").await, None);
    assert_eq!(redis_get(&second, true, 2, "b:k").await, None);

    // Without `kv-env` there is no username, and Redis refuses the password alone: the
    // environment's values are what make `default` work. (The Redis client retries a refusal
    // for a few seconds before it gives up: the call runs meanwhile.)
    let no_env = host.component("comp", "no-env").unwrap();
    let refused = tokio::spawn(async move { store::set(&no_env, "b", "k", b"x").await });

    // The kubelet swaps the ConfigMap to the second Redis, database 5: the link follows.
    let second_url = format!("redis://{}/5", second.addr());
    config_map.swap(&[("backend", "redis"), ("url", &second_url)]);
    let mut attempt = 0;
    let moved = within(BOUND, || {
        attempt += 1;
        let value = format!("try-{attempt}");
        let kv = &kv;
        let second = &second;
        async move {
            matches!(
                store::set(kv, "b", "moved", value.as_bytes()).await,
                Ok(Ok(()))
            ) && redis_get(second, true, 5, "b:moved").await.as_deref() == Some(&value)
        }
    })
    .await;
    let moved = moved.unwrap_or_else(|| panic!("the link never moved; log:\n{}", child.logs()));
    eprintln!("the link moved {moved:?} after the swap");
    store::set(&kv, "b", "k", b"second").await.unwrap().unwrap();
    assert_eq!(
        store::get(&kv, "b", "k").await.unwrap(),
        Ok(Some("second".into()))
    );
    assert_eq!(
        redis_get(&second, true, 5, "b:k").await.as_deref(),
        Some("second")
    );
    assert_eq!(
        redis_get(&first, true, 2, "b:k").await.as_deref(),
        Some("first"),
        "a write after the move reached the first Redis"
    );
    // Attempts before the move went to the first Redis; nothing written after it does.
    store::set(&kv, "b", "after", b"x").await.unwrap().unwrap();
    assert_eq!(
        redis_get(&second, true, 5, "b:after").await.as_deref(),
        Some("x")
    );
    assert_eq!(redis_get(&first, true, 2, "b:after").await, None);

    assert!(
        matches!(refused.await.unwrap(), Ok(Err(store::Error::AccessDenied))),
        "a link without the username from the environment was not refused"
    );
    let logs = stop(child).await;
    assert!(
        !logs.contains(PASSWORD),
        "the log shows the password:\n{logs}"
    );
    // One swap is one change: `default` was put once at start and updated once.
    let updates = logs
        .lines()
        .filter(|line| {
            line.contains("link in effect")
                && line.contains("(default)")
                && line.contains("updated=true")
        })
        .count();
    assert_eq!(updates, 1, "one swap, {updates} updates; log:\n{logs}");
}

/// Starts a provider whose link names the configuration `kv-order`, which both the directory
/// (the first Redis) and the environment (the second) hold a `url` for.
async fn order_provider(
    nats: &NatsServer,
    dir: &Path,
    links: &Path,
    env_url: &str,
    bucket_url: Option<&str>,
    stores: &[&str],
) -> (TestHost, ChildProvider) {
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    if let Some(url) = bucket_url {
        // The lattice's CONFIGDATA bucket, as a wasmCloud host keeps named configuration.
        let values = std::collections::HashMap::from([("url".to_owned(), url.to_owned())]);
        host.put_named_config("kv-order", &values).await.unwrap();
    }
    let dir = dir.display().to_string();
    let links = links.display().to_string();
    let mut args = vec!["--config-dir", &dir, "--links", &links];
    args.extend_from_slice(stores);
    let child = host
        .spawn_standalone_with_args(
            program(),
            &nats.url(),
            &args,
            // `kv-order`, key `url`: upper-cased, `-` written `_`.
            &[("WASMCLOUD_CONFIG_KV_ORDER__URL", env_url)],
        )
        .unwrap();
    (host, child)
}

#[tokio::test]
async fn stores_merge_in_the_order_given_across_the_bucket_the_directory_and_the_environment() {
    let nats = NatsServer::start().unwrap();
    let (in_dir, in_env) = (RedisServer::start().unwrap(), RedisServer::start().unwrap());
    let in_bucket = RedisServer::start().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("config");
    KubernetesMount::create(
        dir.join("kv-order"),
        &[("url", &format!("redis://{}", in_dir.addr()))],
    );
    let links = root.path().join("links.json");
    std::fs::write(
        &links,
        r#"[{"source_id": "comp", "wit_namespace": "wrpc", "wit_package": "keyvalue",
             "interfaces": ["store"], "target_config": ["kv-order"]}]"#,
    )
    .unwrap();
    let env_url = format!("redis://{}", in_env.addr());

    let bucket_url = format!("redis://{}", in_bucket.addr());

    // Three providers, each in a lattice of its own: the default order (bucket, dir, env; this
    // lattice has no bucket), `--config-stores env,dir`, and `dir,env,bucket` with the name in
    // the lattice's bucket too.
    let (default_host, default_child) =
        order_provider(&nats, &dir, &links, &env_url, None, &[]).await;
    let (flipped_host, flipped_child) = order_provider(
        &nats,
        &dir,
        &links,
        &env_url,
        None,
        &["--config-stores", "env,dir"],
    )
    .await;
    let (bucket_host, bucket_child) = order_provider(
        &nats,
        &dir,
        &links,
        &env_url,
        Some(&bucket_url),
        &["--config-stores", "dir,env,bucket"],
    )
    .await;
    let bucket_kv = bucket_host.component("comp", "default").unwrap();
    until_served(&bucket_kv, &bucket_child, "the bucket-last order's link").await;
    store::set(&bucket_kv, "b", "who", b"dir,env,bucket")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        redis_get(&in_bucket, false, 0, "b:who").await.as_deref(),
        Some("dir,env,bucket"),
        "with --config-stores dir,env,bucket the bucket wins"
    );
    stop(bucket_child).await;
    let default_kv = default_host.component("comp", "default").unwrap();
    let flipped_kv = flipped_host.component("comp", "default").unwrap();
    until_served(&default_kv, &default_child, "the default order's link").await;
    until_served(&flipped_kv, &flipped_child, "the flipped order's link").await;
    store::set(&default_kv, "b", "who", b"default order")
        .await
        .unwrap()
        .unwrap();
    store::set(&flipped_kv, "b", "who", b"env,dir")
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        redis_get(&in_env, false, 0, "b:who").await.as_deref(),
        Some("default order"),
        "by default the environment comes last and wins"
    );
    assert_eq!(
        redis_get(&in_dir, false, 0, "b:who").await.as_deref(),
        Some("env,dir"),
        "with --config-stores env,dir the directory wins"
    );

    let default_logs = stop(default_child).await;
    let flipped_logs = stop(flipped_child).await;
    // The default order has the bucket first, but this lattice has none: skipped, and said so.
    assert!(
        default_logs.contains("no named configuration bucket"),
        "{default_logs}"
    );
    assert!(
        !flipped_logs.contains("no named configuration bucket"),
        "{flipped_logs}"
    );
}
