//! What the `wrpcurl` tests share: running the binary, and golden files.

#![allow(dead_code)] // Each test file uses a part.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

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

/// The keyvalue provider's executable, built once per test run into this build's target folder.
pub fn keyvalue_provider() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_wrpcurl"))
            .parent()
            .expect("the binary is in a folder");
        let target_dir = bin_dir
            .parent()
            .expect("the profile folder is in a target folder");
        let mut command = std::process::Command::new(env!("CARGO"));
        command
            .args([
                "build",
                "--quiet",
                "-p",
                "keyvalue-provider",
                "--bin",
                "keyvalue-provider",
            ])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(workspace());
        // What cargo set for this test: left in, build scripts that watch them (ring's watches
        // CARGO_MANIFEST_DIR) would run again, and the next `cargo test` would rebuild it all.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_by_cargo = [
                "CARGO_MANIFEST_",
                "CARGO_PKG_",
                "CARGO_BIN_",
                "CARGO_CRATE_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_ref());
            if set_by_cargo {
                command.env_remove(name.as_ref());
            }
        }
        match bin_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                command.arg("--release");
            }
            Some(profile) => {
                command.args(["--profile", profile]);
            }
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p keyvalue-provider failed");
        bin_dir.join(format!("keyvalue-provider{}", std::env::consts::EXE_SUFFIX))
    })
}
