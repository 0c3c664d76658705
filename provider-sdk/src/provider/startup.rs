//! Where a provider's identity, NATS settings, configuration and initial links come from: a
//! wasmCloud host's `HostData`, or standalone flags and environment.

use std::collections::HashMap;
use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::config::{Config, ConfigSource, Secrets};
use super::connect::{NatsAuth, NatsOptions};
use super::link::Role;
use super::nats_args::NatsArgs;
use super::options::RuntimeOptions;
use super::stores::{ConfigStore, StoreArgs};
use crate::error::{Error, Result};
use crate::redact::redact_credentials;
use crate::wasmcloud::{HostData, Level, LinkDefinition, SecretKeys, SecretValue};

/// Settings for a provider started without a host. Every flag has an environment variable;
/// the NATS ones are those of the `nats` CLI. The field docs are the `--help` text, so they are
/// written for a terminal.
///
/// Use it as the provider's command line (what [`run`](super::run) does), or flatten it into a
/// larger `clap` parser and hand it to [`Startup::standalone`].
#[derive(Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct StandaloneArgs {
    /// How to reach NATS.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// How many times to try the first NATS connection.
    #[arg(
        long = "nats-connect-attempts",
        env = "NATS_CONNECT_ATTEMPTS",
        default_value_t = 10
    )]
    pub nats_connect_attempts: u32,

    /// The lattice.
    #[arg(long, env = "WASMCLOUD_LATTICE", default_value = "default")]
    pub lattice: String,
    /// The provider's id: it serves under `<lattice>.<provider-id>`. Defaults to the
    /// executable's name.
    #[arg(
        long = "provider-id",
        env = "WASMCLOUD_PROVIDER_ID",
        help = "The provider's id: it serves under <lattice>.<provider-id>. Defaults to the \
                executable's name"
    )]
    pub provider_id: Option<String>,
    /// The host id shutdown requests must carry (any, if unset).
    #[arg(long = "host-id", env = "WASMCLOUD_HOST_ID", default_value = "")]
    pub host_id: String,
    /// Named configurations for the provider, comma-separated, merged in order (later wins),
    /// looked up in the configuration stores (--config-stores) and watched.
    #[arg(
        long = "config",
        env = "WASMCLOUD_PROVIDER_CONFIG",
        value_delimiter = ',',
        help = "Named configurations for the provider, comma-separated, merged in order (later \
                wins), looked up in the configuration stores (--config-stores) and watched"
    )]
    pub config: Vec<String>,
    /// Where named configuration and secrets are kept.
    #[command(flatten)]
    pub stores: StoreArgs,
    /// A JSON file of links to apply at start: an array of objects with source_id, name,
    /// wit_namespace, wit_package, interfaces, source_config / target_config (an object of
    /// values, or a list of named configurations) and source_secrets / target_secrets (an
    /// object of values, or a list of named secrets).
    #[arg(long = "links", env = "WASMCLOUD_PROVIDER_LINKS")]
    pub links: Option<PathBuf>,
    /// Log level: error, warn, info, debug or trace (RUST_LOG takes precedence).
    #[arg(long = "log-level", env = "WASMCLOUD_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Log JSON lines.
    #[arg(long = "log-json", env = "WASMCLOUD_STRUCTURED_LOGGING")]
    pub log_json: bool,
}

impl std::fmt::Debug for StandaloneArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandaloneArgs")
            .field("nats", &self.nats)
            .field("lattice", &self.lattice)
            .field("provider_id", &self.provider_id)
            .field("config", &self.config)
            .field("stores", &self.stores)
            .field("links", &self.links)
            .field("nats_connect_attempts", &self.nats_connect_attempts)
            .field("host_id", &self.host_id)
            .field("log_level", &self.log_level)
            .field("log_json", &self.log_json)
            .finish()
    }
}

/// Configuration or secrets given either as names to look up, or as values.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ConfigRefs {
    /// Names to look up (configuration in the configuration stores, secrets in the secrets
    /// folder), merged in order.
    Names(Vec<String>),
    /// Values.
    Values(HashMap<String, String>),
}

impl Default for ConfigRefs {
    fn default() -> Self {
        Self::Values(HashMap::new())
    }
}

/// A link in a standalone provider's links file: a JSON array of these.
///
/// ```json
/// [{"source_id": "component-a", "name": "cache",
///   "wit_namespace": "wasi", "wit_package": "keyvalue", "interfaces": ["store"],
///   "target_config": ["redis-cache"]}]
/// ```
///
/// `target` defaults to the provider's id. `source_config` and `target_config` are either lists
/// of named configurations (looked up in the stores and watched) or objects of values;
/// `source_secrets` and `target_secrets` are either lists of named secrets (read from the
/// secrets folder and watched) or objects of plain strings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LinkSpec {
    /// The calling side.
    pub source_id: String,
    /// The called side (default: this provider).
    #[serde(default)]
    pub target: Option<String>,
    /// The link name.
    #[serde(default = "default_name")]
    pub name: String,
    /// The WIT namespace.
    pub wit_namespace: String,
    /// The WIT package.
    pub wit_package: String,
    /// The WIT interfaces.
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// The source's configuration.
    #[serde(default)]
    pub source_config: ConfigRefs,
    /// The target's configuration.
    #[serde(default)]
    pub target_config: ConfigRefs,
    /// The source's secrets.
    #[serde(default)]
    pub source_secrets: ConfigRefs,
    /// The target's secrets.
    #[serde(default)]
    pub target_secrets: ConfigRefs,
}

fn default_name() -> String {
    "default".to_owned()
}

/// A link to apply at start, and the named configurations its sides refer to (standalone).
#[derive(Clone, Debug)]
pub(crate) struct InitialLink {
    pub(crate) definition: LinkDefinition,
    pub(crate) source_secrets: Secrets,
    pub(crate) target_secrets: Secrets,
    /// The names its sides refer to.
    pub(crate) refs: LinkRefs,
    /// Whether the definition's secrets are sealed (host) or given above (standalone).
    pub(crate) sealed: bool,
}

/// The named configurations and secrets a standalone link's sides refer to.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkRefs {
    pub(crate) source_config: Vec<String>,
    pub(crate) target_config: Vec<String>,
    pub(crate) source_secrets: Vec<String>,
    pub(crate) target_secrets: Vec<String>,
}

impl LinkRefs {
    pub(crate) fn is_empty(&self) -> bool {
        !self.names_any_config() && !self.names_any_secrets()
    }

    /// Whether a side names configurations.
    pub(crate) fn names_any_config(&self) -> bool {
        !self.source_config.is_empty() || !self.target_config.is_empty()
    }

    /// Whether a side names secrets.
    pub(crate) fn names_any_secrets(&self) -> bool {
        !self.source_secrets.is_empty() || !self.target_secrets.is_empty()
    }

    pub(crate) fn names_config(&self, name: &str) -> bool {
        self.source_config
            .iter()
            .chain(&self.target_config)
            .any(|n| n == name)
    }

    pub(crate) fn names_secrets(&self, name: &str) -> bool {
        self.source_secrets
            .iter()
            .chain(&self.target_secrets)
            .any(|n| n == name)
    }

    /// This provider's side of the link: its configuration names and its secret names.
    pub(crate) fn side(&self, role: Role) -> (&[String], &[String]) {
        match role {
            Role::Target => (&self.target_config, &self.target_secrets),
            Role::Source => (&self.source_config, &self.source_secrets),
        }
    }
}

/// Where a provider's start-up settings came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StartupSource {
    /// A wasmCloud host's `HostData`.
    Host,
    /// Flags and environment; why there was no host data.
    Standalone { why: &'static str },
}

/// Everything a provider needs to start.
#[derive(Debug)]
pub struct Startup {
    pub(crate) lattice: String,
    pub(crate) provider_id: String,
    pub(crate) host_id: String,
    pub(crate) nats: NatsOptions,
    /// The provider's configuration as the host merged it.
    pub(crate) config: Config,
    /// The named configurations to merge into the provider's configuration, after the host's.
    pub(crate) config_names: Vec<String>,
    /// The provider's secrets as the host gave them.
    pub(crate) secrets: Secrets,
    /// The named secrets to merge into the provider's secrets, after the host's.
    pub(crate) secret_names: Vec<String>,
    /// Which stores to look names up in.
    pub(crate) stores: StoreArgs,
    /// Stores the program added, after those `stores` names.
    pub(crate) custom_stores: Vec<std::sync::Arc<dyn ConfigStore>>,
    pub(crate) links: Vec<InitialLink>,
    pub(crate) keys: Option<SecretKeys>,
    pub(crate) log_level: Option<String>,
    pub(crate) log_json: bool,
    pub(crate) default_rpc_timeout: Option<Duration>,
    /// The host's `otel_config`; `None` when started standalone (the `OTEL_*` variables
    /// then say what to export).
    pub(crate) otel_config: Option<serde_json::Value>,
    /// This start's id: the host's `instance_id`, or made up standalone.
    pub(crate) instance_id: String,
    pub(crate) source: StartupSource,
}

impl Startup {
    /// Start-up as a wasmCloud host describes it.
    pub fn from_host_data(data: HostData) -> Result<Self> {
        let keys = if data.provider_xkey_private_key.is_empty() {
            None
        } else {
            Some(SecretKeys::from_host_data(
                &data.provider_xkey_private_key,
                &data.host_xkey_public_key,
            )?)
        };
        let auth = if data.lattice_rpc_user_jwt.is_empty() {
            if data.lattice_rpc_user_seed.is_empty() {
                NatsAuth::None
            } else {
                NatsAuth::Nkey(data.lattice_rpc_user_seed.clone())
            }
        } else {
            NatsAuth::Jwt {
                jwt: data.lattice_rpc_user_jwt.clone(),
                seed: data.lattice_rpc_user_seed.clone(),
            }
        };
        let url = if data.lattice_rpc_url.is_empty() {
            NatsOptions::DEFAULT_URL.to_owned()
        } else {
            data.lattice_rpc_url.clone()
        };
        if data.provider_key.is_empty() {
            return Err(Error::HostData {
                reason: "`provider_key` is empty: the provider has no id to serve under".to_owned(),
            });
        }
        let lattice = if data.lattice_rpc_prefix.is_empty() {
            "default".to_owned()
        } else {
            data.lattice_rpc_prefix.clone()
        };
        let links = data
            .link_definitions
            .iter()
            .map(|definition| InitialLink {
                definition: definition.clone(),
                source_secrets: Secrets::new(),
                target_secrets: Secrets::new(),
                refs: LinkRefs::default(),
                sealed: true,
            })
            .collect();
        Ok(Self {
            nats: NatsOptions {
                name: Some(data.provider_key.clone()),
                ..NatsOptions::new(url).auth(auth)
            },
            lattice,
            provider_id: data.provider_key.clone(),
            host_id: data.host_id.clone(),
            config: Config::from_map(data.config.clone(), ConfigSource::HostProvider),
            config_names: Vec::new(),
            secrets: Secrets::from_map(data.secrets.clone()),
            secret_names: Vec::new(),
            stores: StoreArgs::default(),
            custom_stores: Vec::new(),
            links,
            keys,
            log_level: data
                .log_level
                .map(|level: Level| level.as_filter().to_owned()),
            log_json: data.structured_logging,
            default_rpc_timeout: data.default_rpc_timeout_ms.map(Duration::from_millis),
            otel_config: Some(data.otel_config.clone()),
            instance_id: if data.instance_id.is_empty() {
                format!("{}/{}", data.host_id, data.provider_key)
            } else {
                data.instance_id.clone()
            },
            source: StartupSource::Host,
        })
    }

    /// Start-up without a host, from flags and environment.
    pub fn standalone(args: StandaloneArgs) -> Result<Self> {
        let provider_id = match args.provider_id.clone().filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => program_name().ok_or_else(|| Error::Startup {
                reason: "no provider id: pass --provider-id or set WASMCLOUD_PROVIDER_ID"
                    .to_owned(),
            })?,
        };
        let links = match &args.links {
            Some(path) => read_links_file(path)?,
            None => Vec::new(),
        };
        let mut nats = args
            .nats
            .options()
            .connect_attempts(args.nats_connect_attempts);
        nats.name = Some(provider_id.clone());
        let instance_id = format!("{}/{provider_id}/{}", args.host_id, std::process::id());
        Ok(Self {
            lattice: args.lattice.clone(),
            provider_id,
            host_id: args.host_id.clone(),
            nats,
            config: Config::new(),
            config_names: names(&args.config),
            secrets: Secrets::new(),
            secret_names: names(&args.stores.secrets),
            stores: args.stores.clone(),
            custom_stores: Vec::new(),
            links: links.into_iter().map(InitialLink::from).collect(),
            keys: None,
            log_level: args.log_level.clone(),
            log_json: args.log_json,
            default_rpc_timeout: None,
            otel_config: None,
            instance_id,
            source: StartupSource::Standalone {
                why: "started standalone by the program",
            },
        })
    }

    /// Start-up for this process: `HostData` from stdin when a host started it, otherwise
    /// standalone settings from the command line and environment. `options` name the provider
    /// in `--help`.
    ///
    /// Stdin is read unless it is a terminal; it counts as holding no host data if it ends
    /// empty or stays silent for five seconds (a host writes at once).
    pub async fn from_process(options: &RuntimeOptions) -> Result<Self> {
        let args = parse_args(options);
        match read_host_data_line().await? {
            HostLine::Line(line) => {
                // The host resolved its own names; those given here come after.
                let mut startup = Self::from_host_data(HostData::from_stdin_line(&line)?)?;
                startup.config_names = names(&args.config);
                startup.secret_names = names(&args.stores.secrets);
                startup.stores = args.stores;
                Ok(startup)
            }
            HostLine::None { why } => {
                let mut startup = Self::standalone(args)?;
                startup.source = StartupSource::Standalone { why };
                Ok(startup)
            }
        }
    }

    /// Says in one line how the provider starts: from a host, or standalone with which
    /// lattice, id and NATS server (credentials redacted). [`run`](super::run) logs it once
    /// logging is set up.
    pub fn log_source(&self) {
        match self.source {
            StartupSource::Host => tracing::info!(
                lattice = %self.lattice,
                provider_id = %self.provider_id,
                host_id = %self.host_id,
                nats = %redact_credentials(&self.nats.url),
                "started by a wasmCloud host"
            ),
            StartupSource::Standalone { why } => tracing::info!(
                lattice = %self.lattice,
                provider_id = %self.provider_id,
                nats = %redact_credentials(&self.nats.url),
                "no host data ({why}): running standalone"
            ),
        }
    }

    /// Adds a store of named configuration, after those the flags chose: it wins a key over
    /// them. See [`ConfigStore`]. [`run`](super::run) makes its own `Startup`: to add a store,
    /// make it with [`Startup::from_process`], add the store, and hand it to
    /// [`start`](super::start) (installing logging and stop signals yourself).
    pub fn add_config_store(&mut self, store: std::sync::Arc<dyn ConfigStore>) -> &mut Self {
        self.custom_stores.push(store);
        self
    }

    /// Whether anything refers to a named configuration.
    pub(crate) fn names_config(&self) -> bool {
        !self.config_names.is_empty() || self.links.iter().any(|link| link.refs.names_any_config())
    }

    /// Whether anything refers to named secrets.
    pub(crate) fn names_secrets(&self) -> bool {
        !self.secret_names.is_empty() || self.links.iter().any(|link| link.refs.names_any_secrets())
    }

    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The lattice.
    pub fn lattice(&self) -> &str {
        &self.lattice
    }

    /// The NATS settings, to adjust before starting.
    pub fn nats_mut(&mut self) -> &mut NatsOptions {
        &mut self.nats
    }

    /// Whether the provider runs without a host.
    pub fn is_standalone(&self) -> bool {
        matches!(self.source, StartupSource::Standalone { .. })
    }
}

impl From<LinkSpec> for InitialLink {
    fn from(spec: LinkSpec) -> Self {
        let (source_config, source_names) = split(spec.source_config);
        let (target_config, target_names) = split(spec.target_config);
        let (source_secrets, source_secret_names) = split(spec.source_secrets);
        let (target_secrets, target_secret_names) = split(spec.target_secrets);
        let secrets = |map: HashMap<String, String>| {
            Secrets::from_map(
                map.into_iter()
                    .map(|(key, value)| (key, SecretValue::String(value))),
            )
        };
        Self {
            definition: LinkDefinition {
                source_id: spec.source_id,
                target: spec.target.unwrap_or_default(),
                name: spec.name,
                wit_namespace: spec.wit_namespace,
                wit_package: spec.wit_package,
                interfaces: spec.interfaces,
                source_config,
                target_config,
                source_secrets: None,
                target_secrets: None,
            },
            source_secrets: secrets(source_secrets),
            target_secrets: secrets(target_secrets),
            refs: LinkRefs {
                source_config: source_names,
                target_config: target_names,
                source_secrets: source_secret_names,
                target_secrets: target_secret_names,
            },
            sealed: false,
        }
    }
}

/// The names given, without empty ones (`--config ""`).
fn names(given: &[String]) -> Vec<String> {
    given
        .iter()
        .filter(|name| !name.is_empty())
        .cloned()
        .collect()
}

fn split(refs: ConfigRefs) -> (HashMap<String, String>, Vec<String>) {
    match refs {
        ConfigRefs::Names(names) => (HashMap::new(), names),
        ConfigRefs::Values(values) => (values, Vec::new()),
    }
}

/// Reads a links file: a JSON array of [`LinkSpec`]s.
pub(crate) fn read_links_file(path: &std::path::Path) -> Result<Vec<LinkSpec>> {
    let text = std::fs::read(path).map_err(|error| Error::Startup {
        reason: format!("cannot read the links file {} ({error})", path.display()),
    })?;
    serde_json::from_slice(&text).map_err(|error| Error::Startup {
        reason: format!(
            "the links file {} is not a JSON array of links ({error}); see provider_sdk::provider::LinkSpec",
            path.display()
        ),
    })
}

/// The command line: the standalone flags, under the provider's own name and description.
fn parse_args(options: &RuntimeOptions) -> StandaloneArgs {
    use clap::FromArgMatches as _;

    let matches = help_command(options).get_matches();
    StandaloneArgs::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// The `clap` command `--help` describes: the standalone flags under the provider's name,
/// version and description, and how it starts. The description is set after the flags: the
/// derive would otherwise put [`StandaloneArgs`]' own rustdoc there.
fn help_command(options: &RuntimeOptions) -> clap::Command {
    use clap::Args as _;

    let name = options.name.clone().unwrap_or_else(|| {
        std::env::args()
            .next()
            .map(PathBuf::from)
            .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "provider".to_owned())
    });
    let about = options
        .about
        .clone()
        .unwrap_or_else(|| format!("{name}: a wasmCloud capability provider"));
    let mut command = StandaloneArgs::augment_args(clap::Command::new(name))
        .about(about)
        .long_about(None)
        .after_help(
            "Started by a wasmCloud host, the provider reads its settings from the host on \
             stdin. Started by hand (stdin a terminal, empty, or silent for 5 seconds), it runs \
             standalone with the settings above.",
        );
    if let Some(version) = &options.version {
        command = command.version(version.clone());
    }
    command
}

/// What stdin held.
enum HostLine {
    Line(String),
    None { why: &'static str },
}

/// One line from stdin, if a host wrote one.
///
/// Read on a detached thread: a parent that keeps stdin open and silent would otherwise leave a
/// blocked read in tokio's blocking pool, which the runtime waits for when it shuts down.
async fn read_host_data_line() -> Result<HostLine> {
    const SILENCE: Duration = Duration::from_secs(5);
    if std::io::stdin().is_terminal() {
        return Ok(HostLine::None {
            why: "stdin is a terminal",
        });
    }
    let (sender, line) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("host-data".to_owned())
        .spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
            let _ = sender.send(read);
        })
        .map_err(|error| Error::HostData {
            reason: format!("cannot start a thread to read stdin ({error})"),
        })?;
    match tokio::time::timeout(SILENCE, line).await {
        Ok(Ok(Ok(line))) if line.trim().is_empty() => Ok(HostLine::None {
            why: "stdin is empty",
        }),
        Ok(Ok(Ok(line))) => Ok(HostLine::Line(line)),
        Ok(Ok(Err(error))) => Err(Error::HostData {
            reason: format!("reading stdin failed ({error})"),
        }),
        Ok(Err(_)) => Err(Error::HostData {
            reason: "reading stdin failed".to_owned(),
        }),
        Err(_) => Ok(HostLine::None {
            why: "stdin stayed silent for 5 seconds",
        }),
    }
}

/// The program's file name without extension (`keyvalue-provider`), if it has one.
pub(crate) fn program_name() -> Option<String> {
    std::env::args()
        .next()
        .map(PathBuf::from)
        .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .filter(|stem| !stem.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_the_provider_and_is_written_for_a_terminal() {
        let options = RuntimeOptions::default().describe("kv", "1.2.3", "Stores values per link");
        let mut command = help_command(&options);
        let help = command.render_long_help().to_string();
        assert!(help.starts_with("Stores values per link"), "{help}");
        assert!(!help.contains("A wasmCloud capability provider"), "{help}");
        assert!(
            !help.contains("[`") && !help.contains('`'),
            "rustdoc syntax in:\n{help}"
        );
        assert!(help.contains("--nats-url") && help.contains("WASMCLOUD_PROVIDER_LINKS"));
        assert_eq!(command.get_version(), Some("1.2.3"));
    }

    #[test]
    fn host_data_gives_identity_credentials_and_links() {
        let data = HostData {
            host_id: "NHOST".into(),
            lattice_rpc_prefix: "lattice-1".into(),
            lattice_rpc_url: "nats://u:pw@127.0.0.1:4222".into(),
            lattice_rpc_user_jwt: "eyJ.jwt".into(),
            lattice_rpc_user_seed: "SUSEED".into(),
            provider_key: "kv".into(),
            config: [("Backend".to_owned(), "redis".to_owned())].into(),
            link_definitions: vec![LinkDefinition {
                source_id: "comp".into(),
                target: "kv".into(),
                name: "default".into(),
                ..LinkDefinition::default()
            }],
            default_rpc_timeout_ms: Some(2000),
            log_level: Some(Level::Debug),
            ..HostData::default()
        };
        let startup = Startup::from_host_data(data).unwrap();
        assert_eq!(startup.lattice(), "lattice-1");
        assert_eq!(startup.provider_id(), "kv");
        assert!(matches!(startup.nats.auth, NatsAuth::Jwt { .. }));
        assert_eq!(startup.config.get_str("backend"), Some("redis"));
        assert_eq!(startup.links.len(), 1);
        assert_eq!(startup.log_level.as_deref(), Some("debug"));
        assert!(!startup.is_standalone());
        let printed = format!("{startup:?}");
        assert!(
            !printed.contains("SUSEED") && !printed.contains(":pw@"),
            "{printed}"
        );
    }

    #[test]
    fn host_data_without_a_provider_key_is_refused() {
        let error = Startup::from_host_data(HostData::default()).unwrap_err();
        assert!(error.to_string().contains("provider_key"), "{error}");
    }

    #[test]
    fn standalone_args_pick_the_credentials_given() {
        let mut nats = NatsArgs::new("nats://h:4222");
        nats.user = Some("me".into());
        nats.password = Some("pw".into());
        let args = StandaloneArgs {
            nats,
            provider_id: Some("p".into()),
            config: vec!["a".into(), "b".into()],
            ..StandaloneArgs::default()
        };
        let startup = Startup::standalone(args).unwrap();
        assert!(matches!(startup.nats.auth, NatsAuth::UserPassword { .. }));
        assert_eq!(startup.config_names, ["a", "b"]);
        assert!(startup.is_standalone());
    }

    #[test]
    fn debug_output_of_the_args_shows_no_credentials() {
        let mut nats = NatsArgs::new("nats://me:url-secret@h:4222");
        nats.jwt = Some("jwt-secret".into());
        nats.seed = Some("SUSEED-secret".into());
        nats.user = Some("me".into());
        nats.password = Some("pw-secret".into());
        let args = StandaloneArgs {
            nats,
            ..StandaloneArgs::default()
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains("-secret"), "{shown}");
        assert!(shown.contains("nats://me:***@h:4222"), "{shown}");
    }

    #[test]
    fn links_files_take_names_or_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("links.json");
        std::fs::write(
            &path,
            r#"[{"source_id":"c","wit_namespace":"wasi","wit_package":"keyvalue","interfaces":["store"],
                 "target_config":["redis","big-pool"]},
                {"source_id":"c","name":"mem","wit_namespace":"wasi","wit_package":"keyvalue",
                 "target_config":{"backend":"memory"},"target_secrets":{"password":"pw"}}]"#,
        )
        .unwrap();
        let links: Vec<InitialLink> = read_links_file(&path)
            .unwrap()
            .into_iter()
            .map(InitialLink::from)
            .collect();
        assert_eq!(links[0].refs.target_config, ["redis", "big-pool"]);
        assert_eq!(links[0].definition.name, "default");
        assert_eq!(links[1].definition.target_config["backend"], "memory");
        assert_eq!(links[1].target_secrets.get_str("password"), Some("pw"));
    }

    #[test]
    fn a_bad_links_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("links.json");
        std::fs::write(&path, r#"[{"source_id":"c","oops":1}]"#).unwrap();
        let error = read_links_file(&path).unwrap_err().to_string();
        assert!(
            error.contains("links.json") && error.contains("LinkSpec"),
            "{error}"
        );
        let missing = read_links_file(&dir.path().join("nope.json")).unwrap_err();
        assert!(missing.to_string().contains("nope.json"));
    }
}
