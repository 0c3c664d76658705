//! `wrpcurl serve` on a private nats-server: a `generate!` client of the round-trip fixture
//! calls it (streams and futures both ways, a refused call, JSON lines), with golden output;
//! it plays a component the messaging provider (in-process) delivers a published message to;
//! Ctrl-C stops it with exit status 0.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use messaging_provider::MessagingProvider;
use provider_sdk::transport::{Client, Transport};
use provider_sdk::wire::{ByteStream, WitFuture, WitStream};
use provider_testing::{NatsServer, TestHost, TestLink, eventually};

use common::golden;

provider_sdk::generate!({ path: "../provider-sdk/tests/roundtrip/wit" });

use roundtrip::test::{compound, streams};

const FIXTURE: &str = "../provider-sdk/tests/roundtrip/wit";

/// A running `wrpcurl serve`, its output in files.
struct Serving {
    child: tokio::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Serving {
    /// Starts `wrpcurl serve ARGS --nats URL` and waits until it serves.
    async fn start(nats: &str, args: &[&str], dir: &Path) -> Self {
        let mut all = vec!["serve"];
        all.extend(args);
        all.extend(["--nats", nats]);
        let stdout = dir.join("serve.stdout");
        let stderr = dir.join("serve.stderr");
        let mut command = tokio::process::Command::from(common::command(&all));
        command
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .kill_on_drop(true);
        let serving = Self {
            child: command.spawn().expect("wrpcurl serve starts"),
            stdout,
            stderr,
        };
        // It says so once its subscriptions are confirmed by the server.
        let ready = eventually(|| async { serving.stderr().contains("wrpcurl: serving ") }).await;
        assert!(ready, "wrpcurl serve never served; {}", serving.output());
        serving
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr())
    }

    /// Waits for it to exit; its stdout.
    async fn finish(mut self) -> String {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("wrpcurl serve did not exit; {}", self.output()))
            .unwrap();
        assert!(status.success(), "{status}; {}", self.output());
        self.stdout()
    }
}

/// A client of the fixture on `nats`, as component `tester`.
async fn client(nats: &NatsServer) -> Client {
    let connection = async_nats::connect(nats.url()).await.unwrap();
    Transport::nats(connection)
        .await
        .unwrap()
        .client("roundtrip")
        .with_header("source-id", "tester")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_generated_clients_calls_streams_included() {
    let nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let replies = [
        "--reply",
        "sum=6",
        "--reply",
        "count=[0, 1, 2]",
        "--reply",
        "send-upload=7",
        "--reply",
        r#"await-string="got""#,
        "--reply",
        "fan=(3, 30)",
        "--reply",
        "later-bytes=[9, 8]",
    ];
    let mut args = vec![
        "roundtrip",
        "roundtrip:test/streams@0.1.0",
        "--wit",
        FIXTURE,
    ];
    args.extend(replies);
    args.extend(["--count", "8"]);
    let serving = Serving::start(&nats.url(), &args, dir.path()).await;
    let stderr = serving.stderr();
    assert!(
        stderr.contains("no answer for `collect-bytes`")
            && stderr.contains("--reply 'collect-bytes=WAVE'"),
        "{stderr}"
    );
    let c = &client(&nats).await;

    let numbers = WitStream::new(futures::stream::iter(vec![vec![1u32, 2], vec![], vec![3]]));
    assert_eq!(streams::sum(c, numbers).await.unwrap(), 6);
    let counted = streams::count(c, 3).await.unwrap();
    assert_eq!(counted.collect_all().await.unwrap(), [0, 1, 2]);
    let upload = streams::Upload {
        name: "file".to_owned(),
        data: ByteStream::from(vec![4u8, 5, 6]),
    };
    assert_eq!(streams::send_upload(c, upload).await.unwrap(), 7);
    let later = WitFuture::new(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        "soon".to_owned()
    });
    assert_eq!(streams::await_string(c, later).await.unwrap(), "got");
    let a = WitStream::from(vec![1u32, 2]);
    let b = WitStream::new(futures::stream::iter(vec![vec![10u32], vec![20]]));
    assert_eq!(streams::fan(c, a, b).await.unwrap(), (3, 30));
    let bytes = streams::later_bytes(c, 2).await.unwrap().await.unwrap();
    assert_eq!(bytes.collect_all().await.unwrap().as_ref(), [9, 8]);
    // The default answer of `-> future`.
    streams::signal(c).await.unwrap().await.unwrap();
    // No answer: refused, and the caller is told what to do.
    let error = streams::collect_bytes(c, ByteStream::from(vec![1u8]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, provider_sdk::Error::Refused { .. })
            && error.to_string().contains("--reply 'collect-bytes=WAVE'"),
        "{error}"
    );

    let stdout = serving.finish().await;
    assert!(
        stdout
            .contains("roundtrip:test/streams@0.1.0.sum([1, 2, 3])\n  source-id: tester\n  -> 6\n"),
        "{stdout}"
    );
    golden("serve-streams.txt", &stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_invocations_as_json_lines() {
    let nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "roundtrip",
        "roundtrip:test/compound@0.1.0",
        "--wit",
        FIXTURE,
        "--json",
        "--reply",
        r#"named=(42, "abab")"#,
        "--reply",
        "echo-shape=circle(0.5)",
        "--count",
        "3",
    ];
    let serving = Serving::start(&nats.url(), &args, dir.path()).await;
    let c = &client(&nats).await;
    assert_eq!(
        compound::named(c, 21, "ab").await.unwrap(),
        (42, "abab".to_owned())
    );
    let rect = compound::Shape::Rect((
        compound::Point { x: 0, y: 0 },
        compound::Point { x: 2, y: -3 },
    ));
    assert_eq!(
        compound::echo_shape(c, rect).await.unwrap(),
        compound::Shape::Circle(0.5)
    );
    compound::nothing(c).await.unwrap();
    let stdout = serving.finish().await;
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["function"], "named");
    assert_eq!(lines[0]["args"], serde_json::json!(["21", "\"ab\""]));
    assert_eq!(lines[1]["args"][0], "rect(({x: 0, y: 0}, {x: 2, y: -3}))");
    assert_eq!(lines[2]["reply"], "()");
    golden("serve-compound.jsonl", &stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_component_the_messaging_provider_delivers_to() {
    let lattice = NatsServer::start().unwrap();
    let bus = NatsServer::start().unwrap();
    let host = TestHost::new(&lattice.url(), "messaging-provider")
        .await
        .unwrap();
    let provider = Arc::new(MessagingProvider::default());
    let _running = host.start(Arc::clone(&provider)).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("{}.my-component", host.lattice());
    let serving = Serving::start(
        &lattice.url(),
        &[
            &prefix,
            "wasmcloud:messaging/handler@0.2.0",
            "--wit",
            "../wit",
            "--count",
            "1",
        ],
        dir.path(),
    )
    .await;

    let link = TestLink::new(
        "messaging-provider",
        "my-component",
        "default",
        ("wasmcloud", "messaging"),
        &["handler"],
    )
    .source_config("cluster_uris", &bus.url())
    .source_config("subscriptions", "demo.>");
    host.put_link(&link).await.unwrap();
    assert!(
        eventually(|| async { provider.links().1 == 1 }).await,
        "the handler link never subscribed"
    );
    let publisher = async_nats::connect(bus.url()).await.unwrap();
    publisher.publish("demo.hello", "hi".into()).await.unwrap();
    publisher.flush().await.unwrap();

    let stdout = serving.finish().await;
    assert!(
        stdout.starts_with(
            "wasmcloud:messaging/handler@0.2.0.handle-message({subject: \"demo.hello\", body: \
             [104, 105]})\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  source-id: messaging-provider\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n  target-id: my-component\n"), "{stdout}");
    assert!(stdout.ends_with("\n  -> ok\n"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_it_cleanly() {
    let nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "roundtrip",
        "roundtrip:test/compound@0.1.0",
        "--wit",
        FIXTURE,
    ];
    let serving = Serving::start(&nats.url(), &args, dir.path()).await;
    let c = &client(&nats).await;
    compound::nothing(c).await.unwrap();
    let pid = serving.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let stdout = serving.finish().await;
    assert_eq!(
        stdout,
        "roundtrip:test/compound@0.1.0.nothing()\n  source-id: tester\n  -> ()\n"
    );
}

#[test]
fn bad_replies_and_interfaces_are_usage_errors() {
    let cases: [&[&str]; 5] = [
        &["serve", "p", "roundtrip:test/nope@0.1.0", "--wit", FIXTURE],
        &[
            "serve",
            "p",
            "roundtrip:test/compound@0.1.0",
            "--wit",
            FIXTURE,
            "--reply",
            "named=(1)",
        ],
        &[
            "serve",
            "p",
            "roundtrip:test/compound@0.1.0",
            "--wit",
            FIXTURE,
            "--reply",
            "\"x\"",
            "--reply",
            "1",
        ],
        &[
            "serve",
            "p",
            "roundtrip:test/compound@0.1.0",
            "--wit",
            FIXTURE,
            "--reply",
            "nameed=(1, \"a\")",
        ],
        &[
            "serve",
            "a.*",
            "roundtrip:test/compound@0.1.0",
            "--wit",
            FIXTURE,
        ],
    ];
    let mut text = String::new();
    for args in cases {
        let output = common::wrpcurl(args);
        assert_eq!(output.status.code(), Some(2), "{}", common::stderr(&output));
        text.push_str(&format!(
            "$ wrpcurl {}\n{}\n",
            args.join(" "),
            common::stderr(&output)
        ));
    }
    golden("serve-errors.txt", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_arguments_do_not_decode_is_a_warning_naming_the_function() {
    let nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "roundtrip",
        "roundtrip:test/compound@0.1.0",
        "--wit",
        FIXTURE,
        "--reply",
        "echo-shape=circle(0.5)",
    ];
    let serving = Serving::start(&nats.url(), &args, dir.path()).await;
    // The same function, as a caller with another WIT sees it: a `u32` where a `shape` is
    // expected, so that 99 is a case `shape` does not have.
    let wit = dir.path().join("other.wit");
    std::fs::write(
        &wit,
        "package roundtrip:test@0.1.0;\ninterface compound { echo-shape: func(v: u32) -> u32; }\n",
    )
    .unwrap();
    let url = nats.url();
    let call = [
        "call",
        "roundtrip",
        "echo-shape(99)",
        "--wit",
        wit.to_str().unwrap(),
        "--timeout",
        "1s",
        "--nats",
        &url,
    ];
    let output = tokio::process::Command::from(common::command(&call))
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", common::stderr(&output));
    let warned = eventually(|| async {
        let stderr = serving.stderr();
        stderr.contains("WARN") && stderr.contains("compound@0.1.0.echo-shape")
    })
    .await;
    assert!(
        warned,
        "no warning naming the function; {}",
        serving.output()
    );
    assert_eq!(serving.stdout(), "", "the call was not shown");
}
