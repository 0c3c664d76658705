//! Runs the provider: under a wasmCloud host (`HostData` on stdin) or standalone
//! (`redis-counter --help` lists the flags and their environment variables).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match provider_sdk::provider::run(redis_counter::RedisCounter::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("redis-counter: {error}");
            ExitCode::FAILURE
        }
    }
}
