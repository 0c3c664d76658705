//! `wrpcurl host` against the keyvalue provider's executable and a private nats-server: `run`
//! starts it with a link, `health` answers, `wrpcurl call` reaches it through that link, `link del` and `link put` take effect on calls
//! made through the link, `config` reaches the bucket and the provider, `shutdown` and Ctrl-C
//! end it with exit status 0. Error messages are compared with a golden file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use futures::StreamExt as _;
use provider_testing::{NatsServer, TestHost, eventually};

use common::{golden, stderr, stdout};

provider_sdk::generate!({ path: "../wit", world: "keyvalue-client" });

use wrpc::keyvalue::store;

const PROVIDER: &str = "kv";
const LINK: &str = r#"{"source_id": "comp", "wit_namespace": "wrpc", "wit_package": "keyvalue",
                      "interfaces": ["store", "atomics", "batch"]}"#;

/// `wrpcurl args`, run to its end.
async fn wrpcurl(args: &[&str]) -> Output {
    tokio::process::Command::from(common::command(args))
        .output()
        .await
        .expect("wrpcurl runs")
}

/// The flags that name the test's lattice and provider.
fn target<'a>(nats: &'a str, lattice: &'a str) -> [&'a str; 6] {
    [
        "--nats",
        nats,
        "--lattice",
        lattice,
        "--provider-id",
        PROVIDER,
    ]
}

/// A `wrpcurl host run` in the background, its output collected in files.
struct Running {
    child: tokio::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    fn start(nats: &str, lattice: &str, links: &[&Path], dir: &Path) -> Self {
        let mut args: Vec<String> = vec![
            "host".into(),
            "run".into(),
            common::keyvalue_provider().display().to_string(),
        ];
        args.extend(target(nats, lattice).map(str::to_owned));
        for link in links {
            args.push("--link".into());
            args.push(link.display().to_string());
        }
        args.extend(["--config".into(), "response_timeout_ms=2000".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let stdout = dir.join("run.stdout");
        let stderr = dir.join("run.stderr");
        let mut command = tokio::process::Command::from(common::command(&args));
        command
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .kill_on_drop(true);
        Self {
            child: command.spawn().expect("wrpcurl host run starts"),
            stdout,
            stderr,
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    async fn wait(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(40), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("wrpcurl host run did not exit; {}", self.output()))
            .unwrap()
    }
}

/// A host emulator in the test's lattice, to call the provider as component `comp`.
async fn caller(nats: &NatsServer, lattice: &str) -> TestHost {
    TestHost::new(&nats.url(), PROVIDER)
        .await
        .unwrap()
        .in_lattice(lattice)
}

async fn healthy(nats: &str, lattice: &str) -> bool {
    let mut args = vec!["host", "health"];
    args.extend(target(nats, lattice));
    let output = wrpcurl(&args).await;
    output.status.success() && stdout(&output) == "healthy\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_keyvalue_provider_and_drives_it_over_the_control_subjects() {
    let nats = NatsServer::start().unwrap();
    let url = nats.url();
    let lattice = "wrpcurl-host";
    let dir = tempfile::tempdir().unwrap();
    let link_file = dir.path().join("link.json");
    std::fs::write(&link_file, LINK).unwrap();
    let mut running = Running::start(&url, lattice, &[&link_file], dir.path());

    assert!(
        eventually(|| healthy(&url, lattice)).await,
        "`wrpcurl host health` never said healthy; {}",
        running.output()
    );
    let host = caller(&nats, lattice).await;
    let kv = host.component("comp", "default").unwrap();
    // The link from the file is there from the start.
    store::set(&kv, "b", "k", b"hi").await.unwrap().unwrap();
    let value = store::get(&kv, "b", "k").await.unwrap().unwrap();
    assert_eq!(value.as_deref(), Some(&b"hi"[..]));
    // `wrpcurl call` reaches the provider through the same link, as component `comp`: it reads
    // what the generated client set, and sets a value the client then reads.
    let instance = format!("{lattice}.{PROVIDER}");
    let call = |expression: &'static str| {
        let (url, instance) = (url.clone(), instance.clone());
        async move {
            let args = [
                "call",
                "--wit",
                "../wit",
                "--nats",
                &url,
                "--source-id",
                "comp",
            ];
            let output = wrpcurl(&[&args[..], &[&instance, expression]].concat()).await;
            assert!(output.status.success(), "{expression}: {}", stderr(&output));
            stdout(&output)
        }
    };
    assert_eq!(
        call(r#"store.get("b", "k")"#).await,
        "ok(some([104, 105]))\n"
    );
    assert_eq!(call(r#"store.set("b", "k2", [33])"#).await, "ok\n");
    let value = store::get(&kv, "b", "k2").await.unwrap().unwrap();
    assert_eq!(value.as_deref(), Some(&b"!"[..]));

    // `link del` takes the link away: calls are refused.
    let mut args = vec!["host", "link", "del", "comp", "--link-wit", "wrpc:keyvalue"];
    args.extend(target(&url, lattice));
    let output = wrpcurl(&args).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "deleted link comp -> kv (default)\n");
    assert!(
        eventually(|| async {
            matches!(
                store::get(&kv, "b", "k").await,
                Err(provider_sdk::Error::Refused { .. })
            )
        })
        .await,
        "the link was not deleted; {}",
        running.output()
    );

    // `link put` brings it back, with a fresh memory store.
    let link_path = link_file.display().to_string();
    let mut args = vec!["host", "link", "put", &link_path];
    args.extend(target(&url, lattice));
    let output = wrpcurl(&args).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "put link comp -> kv (default): wrpc:keyvalue/{store,atomics,batch}\n"
    );
    assert!(
        eventually(|| async { matches!(store::get(&kv, "b", "k").await, Ok(Ok(None))) }).await,
        "the link was not put again; {}",
        running.output()
    );

    // `config update` sends the whole configuration to the provider's subject.
    let subject = format!("wasmbus.rpc.{lattice}.{PROVIDER}.config.update");
    let mut updates = host.nats().subscribe(subject).await.unwrap();
    host.nats().flush().await.unwrap();
    let mut args = vec!["host", "config", "update", "response_timeout_ms=3000"];
    args.extend(target(&url, lattice));
    let output = wrpcurl(&args).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let update = tokio::time::timeout(Duration::from_secs(10), updates.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&update.payload).unwrap(),
        serde_json::json!({"response_timeout_ms": "3000"})
    );
    assert!(healthy(&url, lattice).await, "{}", running.output());

    // `config put` writes a named configuration into the lattice's bucket.
    let output = wrpcurl(&[
        "host",
        "config",
        "put",
        "kv-defaults",
        "backend=memory",
        "--nats",
        &url,
        "--lattice",
        lattice,
    ])
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("put configuration `kv-defaults` (keys backend) in CONFIGDATA_{lattice}\n")
    );
    let bucket = async_nats::jetstream::new(host.nats().clone())
        .get_key_value(format!("CONFIGDATA_{lattice}"))
        .await
        .unwrap();
    let stored = bucket.get("kv-defaults").await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&stored).unwrap(),
        serde_json::json!({"backend": "memory"})
    );

    // `shutdown` stops the provider, and `host run` exits 0 with it.
    let mut args = vec!["host", "shutdown"];
    args.extend(target(&url, lattice));
    let output = wrpcurl(&args).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "shutting down\n");
    let status = running.wait().await;
    let log = running.output();
    assert!(status.success(), "{status}; {log}");
    assert!(
        log.contains("wrpcurl: provider `kv` started"),
        "no start line; {log}"
    );
    assert!(
        log.contains("wrpcurl: provider `kv` exited (exit status: 0)"),
        "no exit line; {log}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_shuts_the_provider_down_as_its_host() {
    let nats = NatsServer::start().unwrap();
    let url = nats.url();
    let lattice = "wrpcurl-sigint";
    let dir = tempfile::tempdir().unwrap();
    let mut running = Running::start(&url, lattice, &[], dir.path());
    assert!(
        eventually(|| healthy(&url, lattice)).await,
        "never healthy; {}",
        running.output()
    );
    // Only `wrpcurl` gets the signal (a terminal would signal the provider too): the provider
    // stops because its host asked it to.
    let pid = running.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let status = running.wait().await;
    let log = running.output();
    assert!(status.success(), "{status}; {log}");
    assert!(log.contains("asking the provider to shut down"), "{log}");
    assert!(
        !log.contains("did not answer the shutdown request"),
        "{log}"
    );
    assert!(
        log.contains("wrpcurl: provider `kv` exited (exit status: 0)"),
        "{log}"
    );
    assert!(!healthy(&url, lattice).await, "the provider is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_tell_transport_failures_from_bad_input() {
    let nats = NatsServer::start().unwrap();
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.json");
    std::fs::write(
        &secret,
        r#"{"source_id": "comp", "wit_namespace": "wrpc", "wit_package": "keyvalue",
            "target_secrets": {"password": "hunter2"}}"#,
    )
    .unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"source": "comp"}"#).unwrap();
    let secret = secret.display().to_string();
    let bad = bad.display().to_string();
    let dir_shown = dir.path().display().to_string();

    let with_target = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|arg| (*arg).to_owned())
            .chain(target(&url, "empty").map(str::to_owned))
            .collect()
    };
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        ("no provider", with_target(&["host", "health"]), 3),
        (
            "no provider to shut down",
            with_target(&["host", "shutdown"]),
            3,
        ),
        (
            "link del without a provider",
            with_target(&["host", "link", "del", "comp"]),
            3,
        ),
        (
            "a link with secrets",
            with_target(&["host", "link", "put", &secret]),
            2,
        ),
        ("not a link", with_target(&["host", "link", "put", &bad]), 2),
    ];
    let mut text = String::new();
    for (name, args, code) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = wrpcurl(&args).await;
        let message = stderr(&output)
            .replace(&url, "NATS_URL")
            .replace(&dir_shown, "DIR");
        assert_eq!(output.status.code(), Some(code), "{name}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
        text.push_str(&format!("# {name} (exit status {code})\n{message}\n"));
    }
    golden("host-errors.txt", &text);

    // No NATS server at all: a transport failure, naming the URL.
    let output = wrpcurl(&[
        "host",
        "health",
        "--nats",
        "nats://127.0.0.1:1",
        "--provider-id",
        "kv",
    ])
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(
            "wrpcurl: cannot reach the lattice: cannot connect to NATS at nats://127.0.0.1:1"
        ),
        "{}",
        stderr(&output)
    );
}
