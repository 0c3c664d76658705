//! `wrpcurl`: describe, call, serve and host wRPC capability providers from the command line.
//!
//! The binary is a thin `main` around [`run`]; each command lives in a module of its own.

pub mod call;
pub mod cli;
pub mod describe;
pub mod error;
pub mod functions;
pub mod host;
pub mod names;
pub mod nats;
pub mod output;
pub mod prefix;
pub mod results;
pub mod serve;
pub mod signature;
pub mod stop;
pub mod wit;

pub use crate::error::{Error, Result};

use crate::cli::{Cli, Command};

/// Runs the command `cli` names; what it prints goes to stdout, failures come back as
/// [`Error`]s (whose [`Error::exit_status`] is the process's).
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Describe(args) => {
            let wit = wit::load(args.wit.as_deref(), args.world.as_deref())?;
            output::print(&describe::describe(&wit.resolve, wit.world_or_only()?))
        }
        Command::Call(args) => call::call(args).await,
        Command::Host(args) => host::host(args.command).await,
        Command::Serve(args) => serve::serve(args).await,
    }
}
