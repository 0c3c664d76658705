//! Reading back what a criterion benchmark run measured, for benchmarks that print ratios
//! against their baselines after the run.

use std::path::PathBuf;
use std::time::SystemTime;

/// Criterion's estimates of one benchmark, in nanoseconds per iteration.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// The mean.
    pub mean: f64,
    /// The median.
    pub median: f64,
}

/// Criterion's output directory, found the way criterion finds it: `$CRITERION_HOME`,
/// `$CARGO_TARGET_DIR/criterion`, else the `criterion` directory next to this executable's
/// profile directory (`target/release/deps/bench-…` → `target/criterion`).
pub fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join("criterion"))
        .find(|dir| dir.is_dir())
}

/// The estimates criterion wrote for `<group>/<function>`, if it wrote them after `since`
/// (that is, in this run).
pub fn estimate(group: &str, function: &str, since: SystemTime) -> Option<Estimate> {
    // Criterion's `make_filename_safe`.
    let safe = |s: &str| s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
    let path = criterion_dir()?
        .join(safe(group))
        .join(safe(function))
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None; // left over from an earlier run
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some(Estimate {
        mean: estimates["mean"]["point_estimate"].as_f64()?,
        median: estimates["median"]["point_estimate"].as_f64()?,
    })
}

/// Whether criterion runs each benchmark once instead of measuring it (`--test`, or
/// `cargo test --benches`, which does not pass `--bench`).
pub fn criterion_test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench")
}
