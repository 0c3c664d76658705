//! `wrpcurl describe` against the keyvalue provider's world and the round-trip fixture, and
//! its error messages, compared with golden files (`BLESS=1` rewrites them).

mod common;

use common::{golden, stderr, stdout, wrpcurl};

#[test]
fn the_keyvalue_providers_world() {
    let output = wrpcurl(&["describe", "--wit", "../wit", "--world", "keyvalue"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    // A few facts the golden file must show, so a wrong bless cannot hide them.
    assert!(
        text.contains("world provider-sdk:providers/keyvalue {"),
        "{text}"
    );
    assert!(
        text.contains("get: func(bucket: string, key: string) -> result<option<list<u8>>, error>;"),
        "{text}"
    );
    assert!(
        text.contains("bucket.get: func(self: borrow<bucket>, key: string)"),
        "{text}"
    );
    assert!(
        text.contains("import wrpc:keyvalue/watcher@0.2.0-draft {"),
        "{text}"
    );
    golden("describe-keyvalue.txt", &text);
}

#[test]
fn the_world_by_its_id() {
    let by_name = wrpcurl(&["describe", "--wit", "../wit", "--world", "keyvalue-client"]);
    let by_id = wrpcurl(&[
        "describe",
        "--wit",
        "../wit",
        "--world",
        "provider-sdk:providers/keyvalue-client",
    ]);
    assert!(by_id.status.success(), "{}", stderr(&by_id));
    assert_eq!(stdout(&by_name), stdout(&by_id));
    assert!(stdout(&by_id).contains("export wrpc:keyvalue/watcher@0.2.0-draft {"));
}

#[test]
fn the_round_trip_fixture_from_its_wit_file() {
    let output = wrpcurl(&[
        "describe",
        "--wit",
        "../provider-sdk/tests/roundtrip/wit/roundtrip.wit",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("world roundtrip:test/"), "{text}");
    golden("describe-roundtrip.txt", &text);
}

#[test]
fn the_round_trip_fixture_from_its_folder_is_the_same() {
    let file = wrpcurl(&[
        "describe",
        "--wit",
        "../provider-sdk/tests/roundtrip/wit/roundtrip.wit",
    ]);
    let folder = wrpcurl(&["describe", "--wit", "../provider-sdk/tests/roundtrip/wit"]);
    assert!(folder.status.success(), "{}", stderr(&folder));
    assert_eq!(stdout(&file), stdout(&folder));
}

#[test]
fn errors_say_what_to_do_and_exit_2() {
    let cases: [(&str, &[&str]); 4] = [
        ("several worlds", &["describe", "--wit", "../wit"]),
        (
            "unknown world",
            &["describe", "--wit", "../wit", "--world", "kv"],
        ),
        (
            "unknown world id",
            &["describe", "--wit", "../wit", "--world", "a:b/kv"],
        ),
        // Run from the package folder, which has no `wit/`.
        ("no wit", &["describe"]),
    ];
    let mut text = String::new();
    for (name, args) in cases {
        let output = wrpcurl(args);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "{name}");
        text.push_str(&format!(
            "# {name}: wrpcurl {}\n{}\n",
            args.join(" "),
            stderr(&output)
        ));
    }
    golden("describe-errors.txt", &text);
}
