//! Snapshot tests: for each WIT fixture in `tests/fixtures`, the generated code, formatted, must
//! equal the checked-in `tests/snapshots/<fixture>.rs`. Run with `BLESS=1` to rewrite the
//! snapshots after an intended change, and review the diff.

use std::path::{Path, PathBuf};

use crate::load;
use crate::opts::Opts;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The generated code for `fixture`, formatted.
fn expand(fixture: &Path, opts: &str) -> String {
    let mut opts: Opts = syn::parse_str(opts).expect("valid options");
    let relative = fixture.strip_prefix(fixtures()).expect("a fixture");
    opts.path = Some(syn::LitStr::new(
        &relative.display().to_string(),
        proc_macro2::Span::call_site(),
    ));
    let wit = match load::load(&opts, &fixtures()) {
        Ok(wit) => wit,
        Err(error) => panic!("{}: {error}", fixture.display()),
    };
    let (tokens, errors) = crate::generator::generate(&wit, &opts);
    assert!(errors.is_empty(), "{}: {errors:?}", fixture.display());
    // Paths of the files read are absolute: keep them out of the snapshot.
    let file: syn::File = syn::parse2(tokens).expect("the output parses as a file");
    let mut file = file;
    file.items
        .retain(|item| !matches!(item, syn::Item::Const(c) if c.ident == "_"));
    prettyplease::unparse(&file)
}

/// A line diff of `expected` and `actual`, short enough to read in a test failure.
fn diff(expected: &str, actual: &str) -> String {
    let expected: Vec<_> = expected.lines().collect();
    let actual: Vec<_> = actual.lines().collect();
    let first = expected
        .iter()
        .zip(&actual)
        .position(|(e, a)| e != a)
        .unwrap_or(expected.len().min(actual.len()));
    let mut out = format!("first difference at line {}:\n", first + 1);
    for line in expected.iter().skip(first).take(8) {
        out.push_str(&format!("-{line}\n"));
    }
    for line in actual.iter().skip(first).take(8) {
        out.push_str(&format!("+{line}\n"));
    }
    out
}

fn check(name: &str, opts: &str) {
    check_as(name, name.trim_end_matches(".wit"), opts);
}

/// Checks the code generated for the fixture `name` against `tests/snapshots/<snapshot>.rs`.
fn check_as(name: &str, snapshot: &str, opts: &str) {
    let fixture = fixtures().join(name);
    let actual = expand(&fixture, opts);
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{snapshot}.rs"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(snapshot.parent().expect("a directory")).expect("mkdir");
        std::fs::write(&snapshot, &actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        expected == actual,
        "the code generated for {name} changed; if that is intended, run `BLESS=1 cargo test -p provider-macros` and review the diff of {}\n{}",
        snapshot.display(),
        diff(&expected, &actual)
    );
}

#[test]
fn types() {
    check("types.wit", "{}");
}

#[test]
fn resources() {
    check("resources.wit", "{}");
}

#[test]
fn async_values() {
    check("async.wit", "{}");
}

#[test]
fn world_functions() {
    check("world.wit", "{}");
}

#[test]
fn deps_and_versions() {
    check("deps", r#"{ world: "uses-deps" }"#);
}

#[test]
fn options() {
    check(
        "options.wit",
        r#"{ additional_derives: [Eq, serde::Serialize], interfaces: ["test:options/served"], provider_sdk_crate: ::my_sdk }"#,
    );
}

#[test]
fn collisions() {
    check("collisions.wit", "{}");
}

/// wasmtime 38's WIT for `wasi:http@0.2.6` and its deps, as `crates/wasi-http/wit` ships it,
/// loads only with a feature on: `[static]outgoing-body.finish` refers to a type that wit-parser
/// leaves out with the gated `send-informational`. Every world of it needs `features` or
/// `all_features`; this is the smallest, with a gated interface (`timezone`) that
/// `all_features` brings in. `provider-sdk`'s `generated_fixtures` compiles `wasi:http/proxy`.
#[test]
fn wasi_features() {
    check_as(
        "wasi-http",
        "wasi-clocks",
        r#"{ world: "wasi:clocks/imports@0.2.6", all_features: true }"#,
    );
}
