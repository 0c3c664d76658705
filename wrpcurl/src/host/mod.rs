//! `wrpcurl host`: plays a wasmCloud 1.x host for a provider with the host emulator the tests
//! use (`provider_testing::TestHost`): `run` starts a provider process and keeps it running;
//! the other commands talk to a running provider over the control subjects, by lattice and
//! provider id.

mod args;
mod control;
mod links;
mod run;

use provider_testing::TestHost;

pub use self::args::{
    ConfigCommand, ConfigPutArgs, ConfigUpdateArgs, EXAMPLES, HOST_ID, HostArgs, HostCommand,
    Lattice, LinkCommand, LinkDelArgs, LinkPutArgs, RunArgs, Target,
};

use crate::error::{Error, Result};

/// Runs a `host` command.
pub async fn host(command: HostCommand) -> Result<()> {
    match command {
        HostCommand::Run(args) => run::run(args).await,
        HostCommand::Link(command) => control::link(command).await,
        HostCommand::Config(command) => control::config(command).await,
        HostCommand::Health(target) => control::health(target).await,
        HostCommand::Shutdown(target) => control::shutdown(target).await,
    }
}

/// The host emulator for `provider_id` in `lattice`, connected to its NATS.
async fn emulator(lattice: &Lattice, provider_id: &str) -> Result<TestHost> {
    let nats = crate::nats::connect(&lattice.nats).await?;
    let host = TestHost::with_client(nats, &lattice.nats.url, provider_id)
        .await
        .map_err(|error| Error::transport("cannot set up the host", error))?;
    Ok(host
        .in_lattice(&lattice.lattice)
        .with_host_id(&lattice.host_id))
}
