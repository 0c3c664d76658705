//! Runs the provider: under a wasmCloud host (`HostData` on stdin) or standalone
//! (`redis-counter --help` lists the flags and their environment variables).

use std::process::ExitCode;

use provider_sdk::provider::RuntimeOptions;

#[tokio::main]
async fn main() -> ExitCode {
    let options = RuntimeOptions::default().describe(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
    );
    match provider_sdk::provider::run_with(redis_counter::RedisCounter::default(), options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("redis-counter: {error}");
            ExitCode::FAILURE
        }
    }
}
