//! Runs the keyvalue provider: under a wasmCloud host (`HostData` on stdin) or standalone
//! (`keyvalue-provider --help` lists the flags and their environment variables).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let provider = keyvalue_provider::KeyValueProvider::default();
    match provider_sdk::provider::run(provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyvalue-provider: {error}");
            ExitCode::FAILURE
        }
    }
}
