//! The `wrpcurl` binary: parses the command line and runs it (see the library).

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = wrpcurl::cli::Cli::parse();
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
