//! `wrpcurl call` against the keyvalue provider's executable on a private nats-server, linked
//! as a host links it: every exported function of `wrpc:keyvalue` and `wasi:keyvalue` (lists
//! of bytes, options, records, results with variant errors, resources), `--json`, and the
//! error messages with their exit statuses. Outputs are compared with golden files.

mod common;

use std::process::Output;

use provider_testing::{ChildProvider, NatsServer, TestHost, TestLink, eventually};

use common::{golden, stderr, stdout};

const PROVIDER: &str = "kv";
const COMPONENT: &str = "comp";

/// The keyvalue provider, started by a host emulator in `lattice` with a link from
/// [`COMPONENT`] for both keyvalue packages.
async fn start_provider(nats: &NatsServer, lattice: &str) -> (TestHost, ChildProvider) {
    let host = TestHost::new(&nats.url(), PROVIDER)
        .await
        .unwrap()
        .in_lattice(lattice);
    host.with_initial_link(TestLink::new(
        COMPONENT,
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    ));
    let provider = host.spawn(common::keyvalue_provider()).await.unwrap();
    let healthy = eventually(|| async { host.health().await.is_ok_and(|h| h.healthy) }).await;
    assert!(
        healthy,
        "the provider never became healthy: {}",
        provider.logs()
    );
    (host, provider)
}

/// `wrpcurl call PREFIX CALL` with the repository's WIT, `flags` after.
async fn call(url: &str, prefix: &str, expression: &str, flags: &[&str]) -> Output {
    let mut args = vec!["call", prefix, expression, "--wit", "../wit", "--nats", url];
    args.extend(flags);
    tokio::process::Command::from(common::command(&args))
        .output()
        .await
        .expect("wrpcurl runs")
}

/// Calls as the linked component; the output must be a success.
async fn ok(url: &str, prefix: &str, expression: &str) -> String {
    let output = call(url, prefix, expression, &["--source-id", COMPONENT]).await;
    assert!(
        output.status.success(),
        "{expression}: {}{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// The handle in an `ok([..])` answer: the text to pass back.
fn handle(answer: &str) -> String {
    answer
        .trim()
        .strip_prefix("ok(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not ok(handle): {answer}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exported_function() {
    let nats = NatsServer::start().unwrap();
    let url = nats.url();
    let lattice = "wrpcurl-call";
    let (_host, provider) = start_provider(&nats, lattice).await;
    let prefix = format!("{lattice}.{PROVIDER}");

    let mut transcript = String::new();
    let mut step = async |expression: &str| -> String {
        let answer = ok(&url, &prefix, expression).await;
        transcript.push_str(&format!("$ {expression}\n{answer}"));
        answer
    };
    // wrpc:keyvalue, by full ids and by short forms.
    let set = "wrpc:keyvalue/store@0.2.0-draft.set(\"b\", \"k\", [104, 105])";
    assert_eq!(step(set).await, "ok\n");
    let get = "wrpc:keyvalue/store@0.2.0-draft.get(\"b\", \"k\")";
    assert_eq!(step(get).await, "ok(some([104, 105]))\n");
    assert_eq!(step("store.get(\"b\", \"nope\")").await, "ok(none)\n");
    assert_eq!(
        step("wrpc:keyvalue/store.exists(\"b\", \"k\")").await,
        "ok(true)\n"
    );
    assert_eq!(
        step("store.list-keys(\"b\")").await,
        "ok({keys: [\"k\"]})\n"
    );
    assert_eq!(step("store.delete(\"b\", \"k\")").await, "ok\n");
    assert_eq!(step("store.exists(\"b\", \"k\")").await, "ok(false)\n");
    let increment = "wrpc:keyvalue/atomics@0.2.0-draft.increment(\"b\", \"n\", 5)";
    assert_eq!(step(increment).await, "ok(5)\n");
    assert_eq!(step(increment).await, "ok(10)\n");
    assert_eq!(
        step("wrpc:keyvalue/batch.set-many(\"b\", [(\"x\", [1]), (\"y\", [])])").await,
        "ok\n"
    );
    assert_eq!(
        step("wrpc:keyvalue/batch@0.2.0-draft.get-many(\"b\", [\"x\", \"none\", \"y\"])").await,
        "ok([some((\"x\", [1])), none, some((\"y\", []))])\n"
    );
    assert_eq!(
        step("wrpc:keyvalue/batch.delete-many(\"b\", [\"x\", \"y\"])").await,
        "ok\n"
    );
    // A variant error: the value is not a number.
    step("store.set(\"b\", \"text\", [97])").await;
    let answer = step("wrpc:keyvalue/atomics.increment(\"b\", \"text\", 1)").await;
    assert!(answer.starts_with("err(other(\""), "{answer}");

    // wasi:keyvalue: a bucket resource, its handle printed as bytes and given back as such.
    let opened = ok(&url, &prefix, "wasi:keyvalue/store.open(\"w\")").await;
    let bucket = handle(&opened);
    transcript.push_str("$ wasi:keyvalue/store.open(\"w\")\nok(HANDLE)\n");
    let mut with_bucket = async |template: &str| -> String {
        let expression = template.replace("HANDLE", &bucket);
        let answer = ok(&url, &prefix, &expression).await;
        transcript.push_str(&format!("$ {template}\n{answer}"));
        answer
    };
    let wasi = "wasi:keyvalue/store@0.2.0-draft";
    let calls = [
        (format!("{wasi}.bucket.set(HANDLE, \"k\", [1, 2])"), "ok\n"),
        (
            format!("{wasi}.bucket.get(HANDLE, \"k\")"),
            "ok(some([1, 2]))\n",
        ),
        ("bucket.exists(HANDLE, \"k\")".to_owned(), "ok(true)\n"),
        (
            "bucket.list-keys(HANDLE, none)".to_owned(),
            "ok({keys: [\"k\"]})\n",
        ),
        ("bucket.delete(HANDLE, \"k\")".to_owned(), "ok\n"),
        ("bucket.get(HANDLE, \"k\")".to_owned(), "ok(none)\n"),
        (
            "wasi:keyvalue/atomics.increment(HANDLE, \"n\", 2)".to_owned(),
            "ok(2)\n",
        ),
        (
            "wasi:keyvalue/batch.set-many(HANDLE, [(\"a\", [7])])".to_owned(),
            "ok\n",
        ),
        (
            "wasi:keyvalue/batch.get-many(HANDLE, [\"a\", \"b\"])".to_owned(),
            "ok([some((\"a\", [7])), none])\n",
        ),
        (
            "wasi:keyvalue/batch.delete-many(HANDLE, [\"a\"])".to_owned(),
            "ok\n",
        ),
    ];
    for (expression, expected) in calls {
        assert_eq!(with_bucket(&expression).await, expected, "{expression}");
    }
    // A handle the link does not hold is the provider's error, not a crash.
    let answer = ok(&url, &prefix, "bucket.get([1, 2, 3], \"k\")").await;
    assert!(answer.starts_with("err(other("), "{answer}");
    transcript.push_str(&format!("$ bucket.get([1, 2, 3], \"k\")\n{answer}"));

    // --json, for scripts.
    ok(&url, &prefix, "store.set(\"b\", \"k\", [104, 105])").await;
    let output = call(&url, &prefix, get, &["--source-id", COMPONENT, "--json"]).await;
    assert_eq!(
        stdout(&output),
        "{\"ok\":[104,105]}\n",
        "{}",
        stderr(&output)
    );
    let output = call(
        &url,
        &prefix,
        "store.list-keys(\"b\", none)",
        &["--source-id", COMPONENT, "--json"],
    )
    .await;
    let keys: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let mut keys: Vec<&str> = keys["ok"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["k", "n", "text"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&output)).unwrap()["ok"]["cursor"],
        serde_json::Value::Null
    );

    golden("call-keyvalue.txt", &transcript);
    drop(provider);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_function_and_what_is_wrong() {
    let nats = NatsServer::start().unwrap();
    let url = nats.url();
    let lattice = "wrpcurl-call-errors";
    let (host, _provider) = start_provider(&nats, lattice).await;
    let prefix = format!("{lattice}.{PROVIDER}");
    // A server that never answers, for the deadline.
    let silent = host
        .nats()
        .subscribe("silent.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get")
        .await
        .unwrap();
    host.nats().flush().await.unwrap();

    let linked: &[&str] = &["--source-id", COMPONENT];
    let get = "store.get(\"b\", \"k\")";
    let cases: Vec<(&str, &str, &str, &[&str], i32)> = vec![
        ("no source-id", &prefix, get, &[], 1),
        (
            "no such link name",
            &prefix,
            get,
            &["--source-id", COMPONENT, "--link-name", "other"],
            1,
        ),
        ("no server", "wrpcurl-call-errors.nobody", get, linked, 3),
        ("deadline", "silent", get, &["--timeout", "300ms"], 3),
        ("not a call", &prefix, "store.get", linked, 2),
        (
            "misspelt function",
            &prefix,
            "store.gett(\"b\", \"k\")",
            linked,
            2,
        ),
        (
            "misspelt function of a full interface id",
            &prefix,
            "wrpc:keyvalue/store@0.2.0-draft.gett(\"b\", \"k\")",
            linked,
            2,
        ),
        (
            "misspelt interface",
            &prefix,
            "wrpc:keyvalue/stor@0.2.0-draft.get(\"b\", \"k\")",
            linked,
            2,
        ),
        (
            "ambiguous short form",
            &prefix,
            "increment(\"b\", \"k\", 1)",
            linked,
            2,
        ),
        (
            "argument of the wrong type",
            &prefix,
            "store.get(\"b\", 5)",
            linked,
            2,
        ),
        ("missing argument", &prefix, "store.get(\"b\")", linked, 2),
        (
            "extra argument",
            &prefix,
            "store.get(\"b\", \"k\", 1)",
            linked,
            2,
        ),
        (
            "number out of range",
            &prefix,
            "wrpc:keyvalue/atomics.increment(\"b\", \"k\", -1)",
            &["--world", "keyvalue", "--source-id", COMPONENT],
            2,
        ),
        (
            "unparsable arguments",
            &prefix,
            "store.get(\"b\", \"k\"",
            linked,
            2,
        ),
        (
            "a handle written as a string",
            &prefix,
            "bucket.get(\"w\", \"k\")",
            linked,
            2,
        ),
        ("unknown world", &prefix, get, &["--world", "nope"], 2),
        ("bad header", &prefix, get, &["-H", "a b=c"], 2),
        ("bad prefix", "a.*", get, linked, 2),
    ];
    let mut text = String::new();
    for (name, prefix, expression, flags, code) in cases {
        let output = call(&url, prefix, expression, flags).await;
        let message = stderr(&output).replace(&url, "NATS_URL");
        assert_eq!(output.status.code(), Some(code), "{name}: {message}");
        assert!(stdout(&output).is_empty(), "{name}: {}", stdout(&output));
        text.push_str(&format!("# {name} (exit status {code})\n{message}\n"));
    }
    golden("call-errors.txt", &text);
    drop(silent);

    // Facts the golden file must show, so that a wrong bless cannot hide them.
    for fact in [
        "pass those of a component linked to the provider",
        "did you mean `store.get`?",
        "did you mean `wrpc:keyvalue/store@0.2.0-draft.get`?",
        "argument 2 (`key`) of `wrpc:keyvalue/store@0.2.0-draft.get` is not a WAVE `string`",
        "argument 2 (`key: string`) is missing",
        "timed out after 300ms",
        "no server for",
    ] {
        assert!(text.contains(fact), "no `{fact}` in:\n{text}");
    }

    // No NATS server at all.
    let output = call("nats://127.0.0.1:1", &prefix, get, linked).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot connect to NATS at nats://127.0.0.1:1"),
        "{}",
        stderr(&output)
    );
}
