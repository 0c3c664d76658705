//! `wrpcurl serve`'s command line: the flags, and the examples `--help` shows.

use std::path::PathBuf;

use provider_sdk::provider::NatsArgs;

/// What `wrpcurl serve --help` shows after the flags: how invocations are shown, and examples.
pub const EXAMPLES: &str = "\
Each invocation is shown as the call, its headers and the answer given:
  wasmcloud:messaging/handler@0.2.0.handle-message({subject: \"demo.hello\", body: [104, 105]})
    source-id: messaging-provider
    target-id: my-component
    traceparent: 00-<trace id>-<span id>-01
    -> ok
A --reply is WAVE text of the results tuple: the value for one result, (a, b) for several, \
() for none (answers show so too); `--reply FUNC=WAVE` answers one function. Without one, a function answers the \
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

/// `wrpcurl serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The subject prefix to serve under: `<lattice>.<component-id>` to play a component a
    /// provider calls, `<lattice>.<provider-id>` to play a provider.
    #[arg(value_name = "INSTANCE-PREFIX")]
    pub prefix: String,
    /// The interface whose functions to serve, by id (`wasmcloud:messaging/handler@0.2.0`) or a
    /// shorter form naming one interface only (`handler`); a world's id serves the world's own
    /// functions.
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
