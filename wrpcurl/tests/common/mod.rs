//! What the `wrpcurl` tests share: running the binary, and golden files.

#![allow(dead_code)] // Each test file uses a part.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The `wrpcurl` binary, run from the package folder with `args`, NATS settings from the
/// environment cleared (each test names its own server).
pub fn wrpcurl(args: &[&str]) -> Output {
    command(args).output().expect("wrpcurl runs")
}

/// The command for `wrpcurl args`, not started.
pub fn command(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wrpcurl"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "NATS_URL",
        "NATS_CREDS",
        "NATS_JWT",
        "NATS_NKEY",
        "NATS_USER",
        "NATS_PASSWORD",
        "NATS_CA",
        "WASMCLOUD_LATTICE",
        "WASMCLOUD_PROVIDER_ID",
    ] {
        command.env_remove(name);
    }
    command
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks `actual` against `tests/golden/<name>`; with `BLESS=1`, rewrites the file instead.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "the output differs from {}; if the change is intended, run `BLESS=1 cargo test -p \
         wrpcurl` and review the diff\n{}",
        path.display(),
        diff(&expected, actual)
    );
}

/// The lines that differ, `-` expected and `+` actual, with their line numbers.
fn diff(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for line in 0..expected.len().max(actual.len()) {
        let (old, new) = (expected.get(line), actual.get(line));
        if old != new {
            if let Some(old) = old {
                out.push_str(&format!("{:>5} - {old}\n", line + 1));
            }
            if let Some(new) = new {
                out.push_str(&format!("{:>5} + {new}\n", line + 1));
            }
        }
    }
    out
}

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("wrpcurl/ is in the workspace")
        .to_owned()
}
