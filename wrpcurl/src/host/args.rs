//! `wrpcurl host`'s command line: its commands, their flags, and the examples each `--help`
//! shows.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use provider_sdk::provider::NatsArgs;

/// The host id `wrpcurl host` plays, and the one its shutdown requests carry by default.
pub const HOST_ID: &str = "wrpcurl";

/// What `wrpcurl host --help` shows after the commands.
pub const EXAMPLES: &str = "\
Example (from the repository root, with a nats-server on the default port):
  cargo build -p keyvalue-provider
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\", \"atomics\", \"batch\"]}' > link.json
  wrpcurl host run target/debug/keyvalue-provider --provider-id kv --link link.json &
  wrpcurl host health --provider-id kv
  wrpcurl host link del my-component --provider-id kv
  wrpcurl host link put link.json --provider-id kv
  wrpcurl host shutdown --provider-id kv";

const RUN_EXAMPLES: &str = "\
A link FILE holds one link, or an array of them, as a links file does:
  {\"source_id\": \"my-component\", \"name\": \"default\", \"wit_namespace\": \"wrpc\",
   \"wit_package\": \"keyvalue\", \"interfaces\": [\"store\", \"atomics\", \"batch\"],
   \"target_config\": {\"backend\": \"memory\"}, \"target_secrets\": {}}
`target` defaults to the provider; secrets are sealed as a host seals them.

Example (from the repository root, with a nats-server on the default port):
  cargo build -p keyvalue-provider
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\", \"atomics\", \"batch\"]}' > link.json
  wrpcurl host run target/debug/keyvalue-provider --provider-id kv --link link.json";

const LINK_PUT_EXAMPLES: &str = "\
Example, with `wrpcurl host run target/debug/keyvalue-provider --provider-id kv` running:
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\"]}' > link.json
  wrpcurl host link put link.json --provider-id kv";

const LINK_DEL_EXAMPLES: &str = "\
Example, with `wrpcurl host run target/debug/keyvalue-provider --provider-id kv --link link.json` running:
  wrpcurl host link del my-component --provider-id kv";

const CONFIG_PUT_EXAMPLES: &str = "\
Example (a standalone provider naming the configuration picks it up):
  wrpcurl host config put kv-defaults backend=memory
  target/debug/keyvalue-provider --provider-id kv --config kv-defaults";

const CONFIG_UPDATE_EXAMPLES: &str = "\
Example, with `wrpcurl host run target/debug/keyvalue-provider --provider-id kv` running:
  wrpcurl host config update --provider-id kv backend=memory response_timeout_ms=2000";

const HEALTH_EXAMPLES: &str = "\
Example, with `wrpcurl host run target/debug/keyvalue-provider --provider-id kv` running:
  wrpcurl host health --provider-id kv";

const SHUTDOWN_EXAMPLES: &str = "\
Example, with `wrpcurl host run target/debug/keyvalue-provider --provider-id kv` running:
  wrpcurl host shutdown --provider-id kv";

/// `wrpcurl host`.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// What to do as the host.
    #[command(subcommand)]
    pub command: HostCommand,
}

/// The `host` commands.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Start a provider executable as a wasmCloud host does (`HostData` on stdin) and keep it
    /// running, showing its output, until it exits or Ctrl-C stops it.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Put or delete a link of a running provider.
    #[command(subcommand, after_help = LINK_DEL_EXAMPLES)]
    Link(LinkCommand),
    /// Put named configuration, or send a running provider its configuration.
    #[command(subcommand, after_help = CONFIG_UPDATE_EXAMPLES)]
    Config(ConfigCommand),
    /// Ask a running provider whether it is healthy (exit status 1 when it is not).
    #[command(after_help = HEALTH_EXAMPLES)]
    Health(Target),
    /// Ask a running provider to shut down, as the host that started it.
    #[command(after_help = SHUTDOWN_EXAMPLES)]
    Shutdown(Target),
}

/// The lattice and the host played in it.
#[derive(Debug, Args)]
pub struct Lattice {
    /// How to reach NATS.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// The lattice.
    #[arg(long, env = "WASMCLOUD_LATTICE", default_value = "default")]
    pub lattice: String,
    /// The id of the host played: a provider obeys shutdown requests from the host that
    /// started it only.
    #[arg(long = "host-id", default_value = HOST_ID, value_name = "ID")]
    pub host_id: String,
}

/// A running provider.
#[derive(Debug, Args)]
pub struct Target {
    /// The lattice and the host.
    #[command(flatten)]
    pub lattice: Lattice,
    /// The provider's id.
    #[arg(long = "provider-id", env = "WASMCLOUD_PROVIDER_ID", value_name = "ID")]
    pub provider_id: String,
}

/// `wrpcurl host run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The provider executable.
    #[arg(value_name = "PROVIDER-BIN")]
    pub program: PathBuf,
    /// A JSON file of one link or an array of links the provider starts with (repeatable).
    #[arg(long = "link", value_name = "FILE")]
    pub links: Vec<PathBuf>,
    /// A value of the provider's configuration (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
    pub config: Vec<(String, String)>,
    /// The lattice and the host.
    #[command(flatten)]
    pub lattice: Lattice,
    /// The provider's id (default: the executable's file name).
    #[arg(long = "provider-id", env = "WASMCLOUD_PROVIDER_ID", value_name = "ID")]
    pub provider_id: Option<String>,
}

/// `wrpcurl host link`.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Put the links in a JSON file (one link or an array, as for `host run --link`), as a host
    /// does. Links with secrets need the provider's xkey: give them to `host run --link`.
    #[command(after_help = LINK_PUT_EXAMPLES)]
    Put(LinkPutArgs),
    /// Delete a link, as a host does.
    #[command(after_help = LINK_DEL_EXAMPLES)]
    Del(LinkDelArgs),
}

/// `wrpcurl host link put`.
#[derive(Debug, Args)]
pub struct LinkPutArgs {
    /// The JSON file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The provider.
    #[command(flatten)]
    pub target: Target,
}

/// `wrpcurl host link del`.
#[derive(Debug, Args)]
pub struct LinkDelArgs {
    /// The calling side of the link (a component id).
    #[arg(value_name = "SOURCE-ID")]
    pub source_id: String,
    /// The link name.
    #[arg(long = "link-name", default_value = "default", value_name = "NAME")]
    pub link_name: String,
    /// The called side (default: the provider).
    #[arg(long = "link-target", value_name = "ID")]
    pub link_target: Option<String>,
    /// The link's WIT namespace and package, as hosts send them (`wrpc:keyvalue`).
    #[arg(long = "link-wit", value_name = "NAMESPACE:PACKAGE", value_parser = namespace_package)]
    pub link_wit: Option<(String, String)>,
    /// The provider.
    #[command(flatten)]
    pub target: Target,
}

/// `wrpcurl host config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Put a named configuration into the lattice's `CONFIGDATA_<lattice>` bucket, as
    /// `wash config put` does.
    #[command(after_help = CONFIG_PUT_EXAMPLES)]
    Put(ConfigPutArgs),
    /// Send a running provider its whole configuration (not a change), as a host does when
    /// the configuration changes.
    #[command(after_help = CONFIG_UPDATE_EXAMPLES)]
    Update(ConfigUpdateArgs),
}

/// `wrpcurl host config put`.
#[derive(Debug, Args)]
pub struct ConfigPutArgs {
    /// The configuration's name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Its values.
    #[arg(value_name = "KEY=VALUE", value_parser = key_value)]
    pub values: Vec<(String, String)>,
    /// The lattice.
    #[command(flatten)]
    pub lattice: Lattice,
}

/// `wrpcurl host config update`.
#[derive(Debug, Args)]
pub struct ConfigUpdateArgs {
    /// The provider's configuration, all of it.
    #[arg(value_name = "KEY=VALUE", value_parser = key_value)]
    pub values: Vec<(String, String)>,
    /// The provider.
    #[command(flatten)]
    pub target: Target,
}

/// Parses `KEY=VALUE` (the value may hold `=`; the key may not be empty).
fn key_value(text: &str) -> Result<(String, String), String> {
    crate::cli::name_value(text, "KEY=VALUE")
}

/// Parses `NAMESPACE:PACKAGE`.
fn namespace_package(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((namespace, package)) if !namespace.is_empty() && !package.is_empty() => {
            Ok((namespace.to_owned(), package.to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not NAMESPACE:PACKAGE (e.g. `wrpc:keyvalue`)"
        )),
    }
}
