//! Runs the keyvalue provider: under a wasmCloud host (`HostData` on stdin) or standalone
//! (`keyvalue-provider --help` lists the flags and their environment variables).

use std::process::ExitCode;

use provider_sdk::provider::RuntimeOptions;

#[tokio::main]
async fn main() -> ExitCode {
    let provider = keyvalue_provider::KeyValueProvider::default();
    let options = RuntimeOptions::default().describe(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
    );
    match provider_sdk::provider::run_with(provider, options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyvalue-provider: {error}");
            ExitCode::FAILURE
        }
    }
}
