//! The idle resident memory of the keyvalue provider's binary, run as a child process under the
//! test host: with no link, with 1 and with 100 links (memory backend, each its own component
//! and link name, each verified serving with a call). After each step the provider is left
//! idle for [`SETTLE`] before its `VmRSS` is read. The test prints the three figures, the
//! increment per link from 1 to 100, and what makes up the memory (anonymous and file-backed
//! resident memory, threads), and asserts that 100 links fit in [`MAX_RESIDENT_KIB`].
//!
//! The bound is about the binary as shipped, so run it against the release build:
//!
//! ```text
//! cargo test --release -p keyvalue-provider --test footprint -- --ignored --nocapture
//! ```
//!
//! `--release` builds the test and the provider binary it starts
//! (`CARGO_BIN_EXE_keyvalue-provider`, `target/release/keyvalue-provider`) with the release
//! profile. A debug build of the test refuses to measure the debug binary; to measure another
//! build (a release binary from elsewhere, say), name it in `FOOTPRINT_PROVIDER`:
//!
//! ```text
//! FOOTPRINT_PROVIDER=target/release/keyvalue-provider \
//!     cargo test -p keyvalue-provider --test footprint -- --ignored --nocapture
//! ```

use std::path::PathBuf;
use std::time::Duration;

use keyvalue_provider::client::wrpc::keyvalue::store;
use provider_testing::{ChildProvider, NatsServer, TestHost, TestLink, eventually, resident_kib};

const PROVIDER: &str = "keyvalue-provider";
/// How many links the provider holds at the last measurement.
const LINKS: usize = 100;
/// How long the provider is left idle before each measurement.
const SETTLE: Duration = Duration::from_secs(1);
/// The bound on the resident memory with [`LINKS`] links: 15 MiB (15 × 1024 × 1024 bytes).
const MAX_RESIDENT_KIB: u64 = 15 * 1024;
const BUCKET: &str = "footprint";

/// The binary to measure: `FOOTPRINT_PROVIDER`, else the one cargo built with this test.
fn program() -> PathBuf {
    if let Some(program) = std::env::var_os("FOOTPRINT_PROVIDER") {
        return program.into();
    }
    if cfg!(debug_assertions) {
        panic!(
            "the footprint is the release binary's: run `cargo test --release -p \
             keyvalue-provider --test footprint -- --ignored`, or name a binary in \
             FOOTPRINT_PROVIDER"
        );
    }
    env!("CARGO_BIN_EXE_keyvalue-provider").into()
}

/// Link `i`: component `footprint-<i>` over link `link-<i>`, memory backend.
fn link(i: usize) -> TestLink {
    TestLink::new(
        &format!("footprint-{i}"),
        PROVIDER,
        &format!("link-{i}"),
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    )
}

/// Puts link `i` and returns once a call over it has succeeded.
async fn put_and_call(host: &TestHost, child: &ChildProvider, i: usize) {
    let link = link(i);
    host.put_link(&link).await.unwrap();
    let definition = link.definition();
    let kv = host
        .component(&definition.source_id, &definition.name)
        .unwrap();
    let serves = eventually(|| async {
        matches!(
            store::set(&kv, BUCKET, "k", b"sixteen bytes!!!").await,
            Ok(Ok(()))
        )
    })
    .await;
    assert!(serves, "link {i} never served; log:\n{}", child.logs());
}

/// What the process's memory is made of, from `/proc/<pid>/status`.
#[derive(Debug)]
struct Memory {
    /// `VmRSS`, `RssAnon`, `RssFile` (KiB), `Threads`.
    resident: u64,
    anonymous: u64,
    file: u64,
    threads: u64,
}

impl Memory {
    fn of(pid: u32, child: &ChildProvider) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|_| panic!("the provider exited; log:\n{}", child.logs()));
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
        };
        let resident = resident_kib(pid).expect("the provider's VmRSS");
        Self {
            resident,
            anonymous: field("RssAnon"),
            file: field("RssFile"),
            threads: field("Threads"),
        }
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} KiB resident ({} KiB anonymous, {} KiB file-backed), {} threads",
            self.resident, self.anonymous, self.file, self.threads
        )
    }
}

/// Lets the provider settle, then reads its memory.
async fn settled(pid: u32, child: &ChildProvider) -> Memory {
    tokio::time::sleep(SETTLE).await;
    Memory::of(pid, child)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measures the release binary: cargo test --release -p keyvalue-provider --test footprint -- --ignored"]
async fn a_hundred_idle_links_fit_in_15_mib() {
    let program = program();
    let nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let mut child = host.spawn(&program).await.unwrap();
    let pid = child.id().unwrap();

    // No link: the provider is up once it answers a health check.
    assert!(
        eventually(|| async { host.health().await.is_ok() }).await,
        "the provider never answered a health check; log:\n{}",
        child.logs()
    );
    let none = settled(pid, &child).await;

    put_and_call(&host, &child, 0).await;
    let one = settled(pid, &child).await;

    for i in 1..LINKS {
        put_and_call(&host, &child, i).await;
    }
    let hundred = settled(pid, &child).await;

    let per_link = (hundred.resident as f64 - one.resident as f64) / (LINKS - 1) as f64;
    eprintln!("footprint of {}:", program.display());
    eprintln!("  0 links:   {none}");
    eprintln!("  1 link:    {one}");
    eprintln!("  {LINKS} links: {hundred}");
    eprintln!(
        "  per link, from 1 to {LINKS}: {per_link:.1} KiB; bound with {LINKS} links: \
         {MAX_RESIDENT_KIB} KiB (15 MiB)"
    );
    assert!(
        hundred.resident <= MAX_RESIDENT_KIB,
        "with {LINKS} links the provider holds {} KiB resident, over {MAX_RESIDENT_KIB} KiB",
        hundred.resident
    );

    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    let logs = child.logs();
    assert!(status.success(), "{status}; log:\n{logs}");
    assert!(!logs.contains("panicked"), "the provider panicked:\n{logs}");
}
