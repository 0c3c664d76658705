//! Runs the messaging provider: under a wasmCloud host (`HostData` on stdin) or standalone
//! (`messaging-provider --help` lists the flags and their environment variables).

use std::process::ExitCode;

use provider_sdk::provider::RuntimeOptions;

#[tokio::main]
async fn main() -> ExitCode {
    let provider = messaging_provider::MessagingProvider::default();
    let options = RuntimeOptions::default().describe(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
    );
    match provider_sdk::provider::run_with(provider, options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("messaging-provider: {error}");
            ExitCode::FAILURE
        }
    }
}
