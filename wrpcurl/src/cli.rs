//! The command line: commands, their flags, and a working example in every `--help`.
//!
//! The examples run from the repository root against the reference providers, after
//! `cargo build -p keyvalue-provider -p wrpcurl` and with a `nats-server` on the default port;
//! `wrpcurl` is on PATH after `cargo install --path wrpcurl` (or run `target/debug/wrpcurl`).
//! A test parses every `wrpcurl …` line of every `--help`, so an example that does not parse fails it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use provider_sdk::provider::NatsArgs;

/// The host id `wrpcurl host` plays, and the one its shutdown requests carry by default.
pub const HOST_ID: &str = "wrpcurl";

const ABOUT: &str =
    "Describe, call, serve and host wRPC capability providers from the command line";

const TOP_LEVEL_HELP: &str = "\
Examples (from the repository root, with a nats-server on the default port; \
`cargo install --path wrpcurl` puts wrpcurl on PATH, or run target/debug/wrpcurl after \
`cargo build -p wrpcurl`):
  wrpcurl describe --wit wit --world keyvalue
  cargo build -p keyvalue-provider
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\", \"atomics\", \"batch\"]}' > link.json
  wrpcurl host run target/debug/keyvalue-provider --provider-id kv --link link.json &
  wrpcurl call default.kv --source-id my-component 'store.get(\"b\", \"k\")'
  ok(none)
  wrpcurl serve default.my-component wasmcloud:messaging/handler@0.2.0
More, with what each prints: `wrpcurl call --help`, `wrpcurl serve --help`, `wrpcurl host --help`.

Exit status: 0 success; 1 the provider answered, but not as hoped (unhealthy), or its process \
failed; 2 bad input (flags, WIT, files); 3 NATS or the provider could not be reached or did not \
answer in time.";

const DESCRIBE_EXAMPLES: &str = "\
Examples (from the repository root):
  wrpcurl describe --wit wit --world keyvalue
  wrpcurl describe --wit provider-sdk/tests/roundtrip/wit";

const SERVE_EXAMPLES: &str = "\
Each invocation is shown as the call, its headers and the answer given:
  wasmcloud:messaging/handler@0.2.0.handle-message({subject: \"demo.hello\", body: [104, 105]})
    source-id: messaging-provider
    target-id: my-component
    traceparent: 00-<trace id>-<span id>-01
    -> ok
A --reply is WAVE text of the results tuple: the value for one result, (a, b) for several, \
() for none; `--reply FUNC=WAVE` answers one function. Without one, a function answers the \
unit or `ok` answer where its result type has one; calls of the others are refused, telling \
the caller so. --json shows one JSON object per line (values as WAVE text).

Example: watch the messaging provider deliver to a component `my-component` (from the \
repository root, with a nats-server on the default port):
  cargo build -p messaging-provider
  echo '{\"source_id\": \"messaging-provider\", \"target\": \"my-component\", \
\"wit_namespace\": \"wasmcloud\", \"wit_package\": \"messaging\", \"interfaces\": [\"handler\"], \
\"source_config\": {\"subscriptions\": \"demo.>\"}}' > handler.json
  wrpcurl host run target/debug/messaging-provider --provider-id messaging-provider --link handler.json &
  wrpcurl serve default.my-component wasmcloud:messaging/handler@0.2.0
  nats pub demo.hello hi

Play the keyvalue provider for a component, answering every `get` with a value:
  wrpcurl serve default.kv wrpc:keyvalue/store@0.2.0-draft --reply 'get=ok(some([104, 105]))' \
--reply 'exists=ok(true)' --reply 'list-keys=ok({keys: [], cursor: none})'";

const HOST_EXAMPLES: &str = "\
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

/// `wrpcurl`.
#[derive(Debug, Parser)]
#[command(name = "wrpcurl", version, about = ABOUT, after_help = TOP_LEVEL_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only make matching on it clumsier"
)]
pub enum Command {
    /// Print a world's imports and exports: each function's WIT signature and doc comment.
    #[command(after_help = DESCRIBE_EXAMPLES)]
    Describe(DescribeArgs),
    /// Play a component or a provider: serve every function of an interface, show each
    /// invocation received (function, headers, arguments in WAVE) and answer it.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Call a function of a provider: arguments and results in WAVE, typed by the WIT.
    #[command(after_help = crate::call::EXAMPLES)]
    Call(crate::call::CallArgs),
    /// Play a wasmCloud 1.x host for a provider: start it, put and delete links, put
    /// configuration, ask for health and shutdown.
    #[command(after_help = HOST_EXAMPLES)]
    Host(HostArgs),
}

/// `wrpcurl describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The WIT: a `.wit` file, or a package folder with its `deps/` (default: `./wit`).
    #[arg(long, value_name = "PATH")]
    pub wit: Option<PathBuf>,
    /// The world, by name (`keyvalue`) or id (`provider-sdk:providers/keyvalue`); needed when
    /// the package has several.
    #[arg(long, value_name = "NAME")]
    pub world: Option<String>,
}

/// `wrpcurl serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The subject prefix to serve under: `<lattice>.<component-id>` to play a component a
    /// provider calls, `<lattice>.<provider-id>` to play a provider.
    #[arg(value_name = "INSTANCE-PREFIX")]
    pub prefix: String,
    /// The interface whose functions to serve, by id (`wasmcloud:messaging/handler@0.2.0`); a
    /// world's id serves the world's own exported functions.
    #[arg(value_name = "IFACE")]
    pub interface: String,
    /// The answer, WAVE text of the results tuple: for every function (`'ok'`), or for one
    /// (`'get=ok(some([104, 105]))'`) (repeatable).
    #[arg(long = "reply", value_name = "[FUNC=]WAVE")]
    pub replies: Vec<String>,
    /// Show each invocation as one line of JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit after N invocations.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// The WIT: a `.wit` file, or a package folder with its `deps/` (default: `./wit`).
    #[arg(long, value_name = "PATH")]
    pub wit: Option<PathBuf>,
    /// Look for the interface among this world's imports and exports only.
    #[arg(long, value_name = "NAME")]
    pub world: Option<String>,
    /// How to reach NATS.
    #[command(flatten)]
    pub nats: NatsArgs,
}

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
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_values_split_at_the_first_equals_sign() {
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert!(key_value("=b").is_err());
        assert!(key_value("ab").is_err());
    }

    #[test]
    fn every_command_shows_an_example_that_parses() {
        fn visit(command: &mut clap::Command, path: String, parsed: &mut usize) {
            let name = format!("{path} {}", command.get_name());
            let subcommands: Vec<_> = command.get_subcommands_mut().map(|c| c.clone()).collect();
            let help = command.render_long_help().to_string();
            assert!(
                help.contains("Example"),
                "`{name} --help` has no example:\n{help}"
            );
            for line in commands(&help) {
                let words = shell_words(&line)
                    .unwrap_or_else(|error| panic!("`{name} --help`: `{line}`: {error}"));
                if let Err(error) = Cli::try_parse_from(&words) {
                    panic!("`{name} --help`: `{line}` does not parse:\n{error}");
                }
                *parsed += 1;
            }
            for mut subcommand in subcommands {
                visit(&mut subcommand, name.clone(), parsed);
            }
        }
        let mut parsed = 0;
        visit(&mut Cli::command(), String::new(), &mut parsed);
        assert!(parsed >= 20, "only {parsed} examples");
    }

    /// The `wrpcurl …` command lines of a help text: lines continued with `\` joined, a
    /// trailing ` &` dropped.
    fn commands(help: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for line in help.lines() {
            current.push_str(line.trim());
            if let Some(continued) = current.strip_suffix('\\') {
                current = format!("{} ", continued.trim_end());
                continue;
            }
            let line = std::mem::take(&mut current);
            let line = line.strip_suffix(" &").unwrap_or(&line);
            if line.starts_with("wrpcurl ") {
                lines.push(line.to_owned());
            }
        }
        lines
    }

    /// `line` split into words as a shell does for the simple commands of the examples:
    /// whitespace between words, '…' and "…" quotes (`\"` inside the latter). Shell syntax
    /// the examples should not hold unquoted (`(`, `)`, `;`, `|`, `<`, `>`, `&`) is an error.
    fn shell_words(line: &str) -> Result<Vec<String>, String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => words.extend(word.take()),
                '\'' => {
                    let word = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => word.push(c),
                            None => return Err("a ' is not closed".to_owned()),
                        }
                    }
                }
                '"' => {
                    let word = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => word.extend(chars.next()),
                            Some(c) => word.push(c),
                            None => return Err("a \" is not closed".to_owned()),
                        }
                    }
                }
                '(' | ')' | ';' | '|' | '<' | '>' | '&' => {
                    return Err(format!("`{c}` outside quotes is shell syntax"));
                }
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        Ok(words)
    }

    #[test]
    fn shell_words_are_split_as_a_shell_does() {
        assert_eq!(
            shell_words(r#"wrpcurl call p 'store.get("b", "k")' -H "a=b c""#).unwrap(),
            [
                "wrpcurl",
                "call",
                "p",
                r#"store.get("b", "k")"#,
                "-H",
                "a=b c"
            ]
        );
        assert!(shell_words("wrpcurl call p 'x' (with a link)").is_err());
        assert!(shell_words("wrpcurl call p 'x").is_err());
        assert_eq!(
            commands("x\n  wrpcurl a \\\n    b &\n  ok\nExample: wrpcurl c"),
            ["wrpcurl a b"]
        );
    }

    #[test]
    fn host_commands_take_the_lattice_and_nats_flags() {
        let cli = Cli::try_parse_from([
            "wrpcurl",
            "host",
            "health",
            "--nats",
            "nats://127.0.0.1:4333",
            "--lattice",
            "l1",
            "--provider-id",
            "kv",
        ])
        .unwrap();
        let Command::Host(HostArgs {
            command: HostCommand::Health(target),
        }) = cli.command
        else {
            panic!("not host health: {cli:?}");
        };
        assert_eq!(target.provider_id, "kv");
        assert_eq!(target.lattice.lattice, "l1");
        assert_eq!(target.lattice.nats.url, "nats://127.0.0.1:4333");
        assert_eq!(target.lattice.host_id, HOST_ID);
    }
}
