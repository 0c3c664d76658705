//! `wrpcurl call` against the round-trip fixture (`provider-sdk/tests/roundtrip/wit`): every
//! kind of WIT type as WAVE arguments and results, streams and futures both ways, resources,
//! named results and the world's own functions. Served twice on a private nats-server: by a
//! `generate!` server, and by a `wit-bindgen-wrpc 0.11` server over `wrpc-transport-nats 0.31`
//! (a different implementation, so the dynamic codec is checked against it too). Both must
//! answer every call as expected, and the transcript is compared with a golden file.

mod common;

#[macro_use]
#[path = "../../provider-sdk/tests/roundtrip/logic.rs"]
#[allow(dead_code)]
mod logic;
#[path = "../../provider-sdk/tests/roundtrip/ours.rs"]
#[allow(dead_code)]
mod ours;
#[path = "../../provider-sdk/tests/roundtrip/peer.rs"]
#[allow(dead_code)]
mod peer;

/// Our bindings of the fixture, for the `generate!` server.
#[allow(dead_code)]
mod bindings_ours {
    provider_sdk::generate!({ path: "../provider-sdk/tests/roundtrip/wit" });
}

/// The peer's bindings of the same world.
#[allow(dead_code)]
mod bindings_peer {
    wit_bindgen_wrpc::generate!({ path: "../provider-sdk/tests/roundtrip/wit" });
}

use std::time::{Duration, Instant};

use provider_sdk::transport::{InvocationContext, ServeOptions, Transport};
use provider_testing::NatsServer;

use common::{golden, stderr, stdout};

const WIT: &str = "../provider-sdk/tests/roundtrip/wit";

/// Each call and what it prints. `HANDLE` stands for the counter the first call makes.
const CALLS: &[(&str, &str)] = &[
    // the world's own functions
    ("roundtrip:test/roundtrip@0.1.0.ping()", "\"pong\""),
    ("version()", "(1, 2, 3)"),
    // scalars
    ("scalars.echo-bool(true)", "true"),
    ("echo-u64(18446744073709551615)", "18446744073709551615"),
    ("echo-s64(-9223372036854775808)", "-9223372036854775808"),
    ("echo-s16(-300)", "-300"),
    ("echo-f32(-1.5)", "-1.5"),
    ("echo-f64(-0.1)", "-0.1"),
    ("echo-char('😀')", "'😀'"),
    ("echo-string(\"héllo \\\"q\\\"\")", "\"héllo \\\"q\\\"\""),
    ("add-u8(250, 10)", "4"),
    ("add-s32(2147483647, 1)", "-2147483648"),
    ("roundtrip:test/scalars.concat(\"wr\", \"pc\")", "\"wrpc\""),
    // lists
    ("echo-list-u8([0, 1, 255])", "[0, 1, 255]"),
    (
        "echo-list-string([\"a\", \"\", \"ccc\"])",
        "[\"a\", \"\", \"ccc\"]",
    ),
    ("echo-list-nested([[1, 2], [], [3]])", "[[1, 2], [], [3]]"),
    ("flatten([[1, 2], [], [3]])", "[1, 2, 3]"),
    ("empty-list()", "[]"),
    // compound
    ("echo-point({x: -1, y: 2})", "{x: -1, y: 2}"),
    (
        "echo-person({name: \"Ada\", age: 36, tags: [\"math\"], home: some({x: 1, y: 2})})",
        "{name: \"Ada\", age: 36, tags: [\"math\"], home: some({x: 1, y: 2})}",
    ),
    (
        "echo-person({name: \"Bob\", age: 40, tags: []})",
        "{name: \"Bob\", age: 40, tags: []}",
    ),
    (
        "echo-shape(rect(({x: 0, y: 0}, {x: 2, y: 3})))",
        "rect(({x: 0, y: 0}, {x: 2, y: 3}))",
    ),
    ("area(rect(({x: 0, y: 0}, {x: 2, y: 3})))", "6"),
    ("echo-color(green)", "green"),
    ("next-color(blue)", "red"),
    ("grant({read}, {write, exec})", "{read, write, exec}"),
    ("echo-wide({f0, f31})", "{f0, f31}"),
    ("echo-nested-option(some(none))", "some(none)"),
    ("echo-option-string(none)", "none"),
    ("echo-result(err)", "err"),
    ("echo-result-both(err(red))", "err(red)"),
    ("divide(7, 2)", "ok(3)"),
    ("divide(7, 0)", "err(\"division by zero\")"),
    (
        "echo-tuple5((true, 2, 'c', 1.25, {x: 1, y: 1}))",
        "(true, 2, 'c', 1.25, {x: 1, y: 1})",
    ),
    ("named(21, \"ab\")", "(42, \"abab\")"),
    ("nothing()", ""),
    (
        "echo-bag({flag: true, small: 7, big: -1, ratio: 0.25, letter: 'ß', text: \"bag\", \
         data: [1], people: [], shape: %none, color: blue, perms: {}, wide: {f1}, \
         outcome: err(\"no\"), pair: (1, \"one\")})",
        "{flag: true, small: 7, big: -1, ratio: 0.25, letter: 'ß', text: \"bag\", data: [1], \
         people: [], shape: %none, color: blue, perms: {}, wide: {f1}, outcome: err(\"no\"), \
         pair: (1, \"one\")}",
    ),
    // resources: the handle printed as bytes, then given back
    ("resources.counter(5)", "HANDLE"),
    ("counter.add(HANDLE, 3)", "8"),
    ("counter.get(HANDLE)", "8"),
    ("counter-value(HANDLE)", "8"),
    ("counter.reset(HANDLE)", ""),
    ("counter.get(HANDLE)", "0"),
    (
        "counter.from-string(\"x\")",
        "err(\"\\\"x\\\": invalid digit found in string\")",
    ),
    // streams and futures, both ways
    (
        "streams.count(12)",
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]",
    ),
    ("sum([1, 2, 3])", "6"),
    ("echo-bytes-stream([1, 2, 3])", "[1, 2, 3]"),
    ("repeat-bytes([97, 98], 3)", "[97, 98, 97, 98, 97, 98]"),
    ("collect-bytes([])", "[]"),
    ("strings(3)", "[\"s0\", \"s1\", \"s2\"]"),
    ("points(2)", "[{x: 0, y: 0}, {x: 1, y: -1}]"),
    ("later(77)", "77"),
    ("await-string(\"soon\")", "\"got soon\""),
    ("later-bytes(5)", "[0, 1, 2, 3, 4]"),
    ("send-upload({name: \"file\", data: [1, 2, 3]})", "7"),
    ("fan([1, 2], [10, 20])", "(3, 30)"),
    ("maybe-later(some(1))", "some(2)"),
    ("signal()", "ok"),
];

/// The peer's generated futures for this world are too large for the default 2 MiB stack in
/// debug builds.
fn run<F, Fut>(test: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    provider_testing::run_on_large_stack(test)
}

/// `wrpcurl call PREFIX CALL` with the fixture's WIT, `flags` after.
async fn call(url: &str, prefix: &str, expression: &str, flags: &[&str]) -> std::process::Output {
    let mut args = vec!["call", prefix, expression, "--wit", WIT, "--nats", url];
    args.extend(flags);
    tokio::process::Command::from(common::command(&args))
        .output()
        .await
        .expect("wrpcurl runs")
}

/// Makes every call of [`CALLS`] to the server under `prefix`, checks each answer, and returns
/// the transcript.
async fn check_all(url: &str, prefix: &str) -> String {
    let mut transcript = String::new();
    let mut handle = String::new();
    let mut wrong = Vec::new();
    for (template, expected) in CALLS {
        let expression = template.replace("HANDLE", &handle);
        let output = call(url, prefix, &expression, &[]).await;
        assert!(
            output.status.success(),
            "{prefix}: {expression}: {}",
            stderr(&output)
        );
        let answer = stdout(&output);
        if *expected == "HANDLE" {
            // `counter-1` as bytes, as both servers name their first counter.
            assert_eq!(answer, "[99, 111, 117, 110, 116, 101, 114, 45, 49]\n");
            handle = answer.trim().to_owned();
        } else {
            let expected = if expected.is_empty() {
                String::new()
            } else {
                format!("{expected}\n")
            };
            if answer != expected {
                wrong.push(format!(
                    "{expression}: expected {expected:?}, got {answer:?}"
                ));
            }
        }
        transcript.push_str(&format!("$ {template}\n{answer}"));
    }
    assert!(wrong.is_empty(), "{prefix}:\n{}", wrong.join("\n"));
    // Named results as JSON: an object of their names.
    let output = call(url, prefix, "named(21, \"ab\")", &["--json"]).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&output)).unwrap(),
        serde_json::json!({"a-out": 42, "b-out": "abab"}),
        "{}",
        stderr(&output)
    );
    transcript
}

#[test]
fn every_kind_of_value_against_a_generate_server_and_a_wit_bindgen_wrpc_server()
-> anyhow::Result<()> {
    run(|| async {
        let nats = NatsServer::start()?;
        let url = nats.url();
        let transport = Transport::nats(nats.connect().await?).await?;
        let server = transport.server(ServeOptions::new("ours"));
        let _ours =
            bindings_ours::serve::<InvocationContext, _>(&server, ours::Server::default()).await?;
        let _peer = peer::serve(nats.connect().await?, "peer").await?;
        wait_for_peer(&url).await;

        let ours = check_all(&url, "ours").await;
        let peer = check_all(&url, "peer").await;
        assert_eq!(ours, peer, "the two servers answered differently");
        golden("call-roundtrip.txt", &ours);
        Ok(())
    })
}

/// The peer's server subscribes without confirming it: call until it answers.
async fn wait_for_peer(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = call(url, "peer", "ping()", &[]).await;
        if output.status.success() || Instant::now() > deadline {
            assert!(output.status.success(), "{}", stderr(&output));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `--timeout` bounds the whole call: a server that answers `later` with a future it never
/// resolves makes the call a transport failure (exit status 3) at the deadline, naming the
/// function and the deadline, not a call that waits as long as the server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_covers_pending_futures_of_the_results() {
    let nats = NatsServer::start().unwrap();
    let connection = async_nats::connect(nats.url()).await.unwrap();
    let server = Transport::nats(connection)
        .await
        .unwrap()
        .server(ServeOptions::new("stalling"));
    let _serving = server
        .serve(
            "roundtrip:test/streams@0.1.0",
            "later",
            |mut invocation| async move {
                let _: (u64,) = invocation.read_params().await.unwrap();
                let never = provider_sdk::wire::WitFuture::new(std::future::pending::<u64>());
                let _ = invocation.write_results((never,)).await;
            },
        )
        .await
        .unwrap();
    let started = Instant::now();
    let output = call(&nats.url(), "stalling", "later(1)", &["--timeout", "1s"]).await;
    let elapsed = started.elapsed();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{message}");
    assert!(
        message.contains("calling `roundtrip:test/streams@0.1.0.later`")
            && message.contains("timed out after 1s"),
        "{message}"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}
