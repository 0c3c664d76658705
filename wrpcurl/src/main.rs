//! The `wrpcurl` binary: parses the command line and runs it (see the library).

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = wrpcurl::cli::Cli::parse();
    log_to_stderr();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wrpcurl: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(wrpcurl::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wrpcurl: {error}");
            ExitCode::from(error.exit_status())
        }
    }
}

/// What the SDK logs goes to stderr: warnings and worse by default (a served call dropped
/// because its arguments do not decode), or what `RUST_LOG` asks for.
fn log_to_stderr() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
