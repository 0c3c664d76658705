//! A link's settings, read from its own configuration over the provider's (the provider's
//! configuration is the default for every link; a link's own keys override only those keys)
//! and secrets (a secret wins over a config value of the same key, at each level). Pure: no
//! I/O, no logging except the unknown-key warnings, which are made where the keys were set,
//! once: [`warn_provider_keys`] when the provider's configuration is set, [`warn_link_keys`]
//! when a link is put. Keys are case-insensitive; the README lists them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use provider_sdk::provider::redact_credentials;
use provider_sdk::provider::{Config, Link, NatsAuth, NatsOptions, Role, Secrets};

use crate::error::{Error, Result};
use crate::jetstream::{ConsumerSpec, parse_consumers};

/// Every key the provider reads.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "cluster_uris",
    "client_jwt",
    "client_seed",
    "creds_file",
    "tls_ca",
    "tls_ca_file",
    "custom_inbox_prefix",
    "subscriptions",
    "max_in_flight",
    "max_concurrency",
    "provider_max_in_flight",
    "admission_wait_ms",
    "unhealthy_after_ms",
    "consumers",
];

/// Keys of the messaging provider's configuration that this build recognises but does not
/// act on yet: warned about as such, not as unknown.
pub(crate) const NOT_YET: &[&str] = &[];

/// Keys that mean something only on a handler link (the provider calls the component).
const HANDLER_KEYS: &[&str] = &["subscriptions", "consumers"];

pub(crate) const DEFAULT_URL: &str = NatsOptions::DEFAULT_URL;
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 32;
pub(crate) const DEFAULT_PROVIDER_MAX_IN_FLIGHT: usize = 256;

/// The most deliveries in flight a link or the provider may be given (`max_in_flight`,
/// `provider_max_in_flight`): far beyond any real need, far below what a semaphore can hold.
pub(crate) const MAX_IN_FLIGHT: usize = 1_000_000;
pub(crate) const DEFAULT_ADMISSION_WAIT: Duration = Duration::from_millis(30_000);
pub(crate) const DEFAULT_UNHEALTHY_AFTER: Duration = Duration::from_millis(30_000);

/// The provider's own configuration and secrets: every link's defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Defaults {
    pub(crate) config: Config,
    pub(crate) secrets: Secrets,
}

impl Defaults {
    /// Deliveries in flight over all handler links (`provider_max_in_flight`).
    pub(crate) fn provider_max_in_flight(&self) -> Result<usize> {
        let layers = Layers {
            layers: [(&self.secrets, &self.config)].into_iter().collect(),
        };
        Ok(layers
            .count("provider_max_in_flight", &[])?
            .unwrap_or(DEFAULT_PROVIDER_MAX_IN_FLIGHT))
    }
}

/// Where the trusted CA certificates come from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum TlsCa {
    /// PEM text (`tls_ca`).
    Pem(String),
    /// A PEM file (`tls_ca_file`).
    File(PathBuf),
}

/// How one link connects to NATS. Holds credentials: its `Debug` shows none.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ConnectionSettings {
    /// Server URLs, comma-separated, every one of them used.
    pub(crate) urls: String,
    /// Whether `urls` is the default because nothing set `cluster_uris`.
    pub(crate) default_url: bool,
    pub(crate) jwt: Option<String>,
    pub(crate) seed: Option<String>,
    pub(crate) creds_file: Option<PathBuf>,
    pub(crate) tls_ca: Option<TlsCa>,
    /// Inbox prefix for requests' replies, instead of `_INBOX`.
    pub(crate) inbox_prefix: Option<String>,
    /// How long the connection may be down before health reports it.
    pub(crate) unhealthy_after: Duration,
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match (&self.jwt, &self.seed, &self.creds_file) {
            (_, _, Some(path)) => format!("creds file {}", path.display()),
            (Some(_), Some(_), None) => "jwt".to_owned(),
            (None, Some(_), None) => "nkey".to_owned(),
            _ => "none".to_owned(),
        };
        f.debug_struct("ConnectionSettings")
            .field("urls", &self.shown_urls())
            .field("auth", &auth)
            .field(
                "tls_ca",
                &self.tls_ca.as_ref().map(|ca| match ca {
                    TlsCa::Pem(_) => "<PEM>".to_owned(),
                    TlsCa::File(path) => path.display().to_string(),
                }),
            )
            .field("inbox_prefix", &self.inbox_prefix)
            .field("unhealthy_after", &self.unhealthy_after)
            .finish()
    }
}

impl ConnectionSettings {
    /// The URLs with any password replaced.
    pub(crate) fn shown_urls(&self) -> String {
        redact_credentials(&self.urls)
    }

    /// The options to connect with: one attempt (a link put fails at once rather than holding
    /// up the control plane; the client reconnects by itself once connected).
    pub(crate) fn options(&self, name: &str) -> NatsOptions {
        let auth = match (&self.creds_file, &self.jwt, &self.seed) {
            (Some(path), _, _) => NatsAuth::CredsFile(path.clone()),
            (None, Some(jwt), Some(seed)) => NatsAuth::Jwt {
                jwt: jwt.clone(),
                seed: seed.clone(),
            },
            (None, None, Some(seed)) => NatsAuth::Nkey(seed.clone()),
            _ => NatsAuth::None,
        };
        let mut options = NatsOptions::new(self.urls.clone())
            .auth(auth)
            .connect_attempts(1);
        match &self.tls_ca {
            Some(TlsCa::Pem(pem)) => options.tls_ca_pem = Some(pem.clone()),
            Some(TlsCa::File(path)) => options.tls_ca_file = Some(path.clone()),
            None => {}
        }
        options.name = Some(name.to_owned());
        options
    }
}

/// One subscription of a handler link: `subject` or `subject|queue`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Subscription {
    pub(crate) subject: String,
    pub(crate) queue: Option<String>,
}

impl fmt::Display for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.queue {
            Some(queue) => write!(f, "{}|{queue}", self.subject),
            None => f.write_str(&self.subject),
        }
    }
}

/// Everything one link needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinkSettings {
    pub(crate) connection: ConnectionSettings,
    /// Handler links: what to subscribe to (empty for a consumer link).
    pub(crate) subscriptions: Vec<Subscription>,
    /// Handler links: deliveries in flight at once.
    pub(crate) max_in_flight: usize,
    /// Handler links: how long a message may wait for a delivery slot.
    pub(crate) admission_wait: Duration,
    /// Handler links: the JetStream consumers to deliver from (`consumers`).
    pub(crate) consumers: Vec<ConsumerSpec>,
}

/// Lookup through levels, first match wins: each level is (secrets, config), secrets first.
struct Layers<'a> {
    layers: Vec<(&'a Secrets, &'a Config)>,
}

impl Layers<'_> {
    /// The value of the first of `keys` (aliases, in order of preference) set at the first
    /// level that sets any of them, trimmed; an empty value counts as unset.
    fn str(&self, keys: &[&'static str]) -> Option<(&'static str, &str)> {
        self.layers.iter().find_map(|(secrets, config)| {
            keys.iter().find_map(|&key| {
                secrets
                    .get_str(key)
                    .or_else(|| config.get_str(key))
                    .map(str::trim)
                    .filter(|value| !value.is_empty())
                    .map(|value| (key, value))
            })
        })
    }

    /// A count from 1 to [`MAX_IN_FLIGHT`].
    fn count(&self, key: &'static str, aliases: &[&'static str]) -> Result<Option<usize>> {
        let keys: Vec<&'static str> = std::iter::once(key)
            .chain(aliases.iter().copied())
            .collect();
        match self.str(&keys) {
            None => Ok(None),
            Some((key, value)) => match value.parse::<usize>() {
                Ok(count) if (1..=MAX_IN_FLIGHT).contains(&count) => Ok(Some(count)),
                _ => Err(Error::InvalidConfig {
                    key,
                    value: value.to_owned(),
                    expected: "a whole number from 1 to 1000000",
                }),
            },
        }
    }

    fn millis(&self, key: &'static str) -> Result<Option<Duration>> {
        match self.str(&[key]) {
            None => Ok(None),
            Some((key, value)) => value
                .parse::<u64>()
                .map(|millis| Some(Duration::from_millis(millis)))
                .map_err(|_| Error::InvalidConfig {
                    key,
                    value: value.to_owned(),
                    expected: "a whole number of milliseconds",
                }),
        }
    }
}

impl LinkSettings {
    /// The settings of `link` over `defaults`.
    pub(crate) fn for_link(defaults: &Defaults, link: &Link) -> Result<Self> {
        let layers = Layers {
            layers: vec![
                (link.secrets(), link.config()),
                (&defaults.secrets, &defaults.config),
            ],
        };
        let (urls, default_url) = match layers.str(&["cluster_uris"]) {
            Some((_, urls)) => (parse_urls(urls)?, false),
            None => (DEFAULT_URL.to_owned(), true),
        };
        let jwt = layers.str(&["client_jwt"]).map(|(_, v)| v.to_owned());
        let seed = layers.str(&["client_seed"]).map(|(_, v)| v.to_owned());
        let creds_file = layers.str(&["creds_file"]).map(|(_, v)| PathBuf::from(v));
        if jwt.is_some() && seed.is_none() {
            return Err(Error::InvalidConfig {
                key: "client_jwt",
                value: "(set, without client_seed)".to_owned(),
                expected: "client_jwt together with client_seed, the seed that signs for it",
            });
        }
        if creds_file.is_some() && (jwt.is_some() || seed.is_some()) {
            return Err(Error::InvalidConfig {
                key: "creds_file",
                value: "(with client_jwt or client_seed)".to_owned(),
                expected: "either creds_file or client_jwt and client_seed, not both",
            });
        }
        let tls_ca = match (layers.str(&["tls_ca"]), layers.str(&["tls_ca_file"])) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(Error::InvalidConfig {
                    key: "tls_ca_file",
                    value: "(with tls_ca)".to_owned(),
                    expected: "one of tls_ca (PEM text) and tls_ca_file (a PEM file), not both",
                });
            }
            (Some((_, pem)), None) => {
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(Error::InvalidConfig {
                        key: "tls_ca",
                        value: "(inline)".to_owned(),
                        expected: "PEM text with at least one -----BEGIN CERTIFICATE----- block",
                    });
                }
                Some(TlsCa::Pem(pem.to_owned()))
            }
            (None, Some((_, path))) => Some(TlsCa::File(PathBuf::from(path))),
        };
        let inbox_prefix = match layers.str(&["custom_inbox_prefix"]) {
            None => None,
            Some((key, prefix)) => {
                if !is_subject(prefix) || prefix.contains(['*', '>']) {
                    return Err(Error::InvalidConfig {
                        key,
                        value: prefix.to_owned(),
                        expected: "a NATS subject without wildcards, such as _INBOX_mine",
                    });
                }
                Some(prefix.to_owned())
            }
        };
        let subscriptions = match layers.str(&["subscriptions"]) {
            Some((_, list)) => parse_subscriptions(list)?,
            None => Vec::new(),
        };
        Ok(LinkSettings {
            connection: ConnectionSettings {
                urls,
                default_url,
                jwt,
                seed,
                creds_file,
                tls_ca,
                inbox_prefix,
                unhealthy_after: layers
                    .millis("unhealthy_after_ms")?
                    .unwrap_or(DEFAULT_UNHEALTHY_AFTER),
            },
            subscriptions,
            max_in_flight: layers
                .count("max_in_flight", &["max_concurrency"])?
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            admission_wait: layers
                .millis("admission_wait_ms")?
                .unwrap_or(DEFAULT_ADMISSION_WAIT),
            consumers: match layers.str(&["consumers"]) {
                Some((_, json)) => parse_consumers(json)?,
                None => Vec::new(),
            },
        })
    }
}

/// `cluster_uris`: comma-separated, each a NATS server address; returned comma-joined.
fn parse_urls(list: &str) -> Result<String> {
    let urls: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .collect();
    for url in &urls {
        if url.parse::<async_nats::ServerAddr>().is_err() {
            return Err(Error::InvalidConfig {
                key: "cluster_uris",
                value: redact_credentials(url),
                expected: "comma-separated NATS URLs such as nats://host:4222 or tls://host:4222",
            });
        }
    }
    Ok(urls.join(","))
}

/// `subscriptions`: comma-separated `subject` or `subject|queue`, no duplicates.
pub(crate) fn parse_subscriptions(list: &str) -> Result<Vec<Subscription>> {
    let mut subscriptions: Vec<Subscription> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (subject, queue) = match entry.split_once('|') {
            Some((subject, queue)) => (subject.trim(), Some(queue.trim())),
            None => (entry, None),
        };
        let bad = |expected| Error::InvalidConfig {
            key: "subscriptions",
            value: entry.to_owned(),
            expected,
        };
        if !is_subject(subject) {
            return Err(bad(
                "comma-separated NATS subjects (tokens separated by `.`, no spaces; `*` for a \
                 token, `>` as the last one), each optionally `|queue`",
            ));
        }
        if let Some(queue) = queue
            && (queue.is_empty() || queue.contains(|c: char| c.is_whitespace() || c == '|'))
        {
            return Err(bad("a queue group name after `|`: no spaces, not empty"));
        }
        let subscription = Subscription {
            subject: subject.to_owned(),
            queue: queue.map(str::to_owned),
        };
        if !subscriptions.contains(&subscription) {
            subscriptions.push(subscription);
        }
    }
    Ok(subscriptions)
}

/// A NATS subject one may subscribe to: non-empty tokens separated by `.`, no whitespace,
/// `*` only as a whole token, `>` only as the whole last token.
pub(crate) fn is_subject(subject: &str) -> bool {
    if subject.is_empty() || subject.contains(char::is_whitespace) {
        return false;
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    tokens.iter().enumerate().all(|(i, token)| {
        !token.is_empty()
            && (!token.contains('*') || *token == "*")
            && (!token.contains('>') || (*token == ">" && i == tokens.len() - 1))
    })
}

/// Every key the warnings compare against: read now, or recognised for later.
fn recognised() -> Vec<&'static str> {
    KNOWN_KEYS.iter().chain(NOT_YET).copied().collect()
}

/// Warns about the keys of the provider's configuration that are unknown or not supported yet,
/// once, where it is set (at init and on a change), not for every link that inherits it.
/// Returns how many warnings were logged.
pub(crate) fn warn_provider_keys(config: &Config) -> usize {
    let what = "the messaging provider config";
    config.warn_unknown_keys(&recognised(), what) + warn_not_yet(config, what)
}

/// Warns about the link's own keys that are unknown, not supported yet, or meaningless on its
/// side (handler keys on a consumer link, provider-wide keys on a link), naming the link.
pub(crate) fn warn_link_keys(link: &Link) -> usize {
    let what = format!("messaging link {}", link.key());
    let config = link.config();
    let mut warned = config.warn_unknown_keys(&recognised(), &what) + warn_not_yet(config, &what);
    if link.role() == Role::Target {
        for key in HANDLER_KEYS.iter().filter(|key| config.contains_key(key)) {
            tracing::warn!(
                key,
                "config key in {what} applies only to a handler link (the provider's source \
                 config on a link to a component exporting wasmcloud:messaging/handler); ignored"
            );
            warned += 1;
        }
    }
    if config.contains_key("provider_max_in_flight") {
        tracing::warn!(
            key = "provider_max_in_flight",
            "config key in {what} applies only to the provider config; ignored"
        );
        warned += 1;
    }
    warned
}

fn warn_not_yet(config: &Config, what: &str) -> usize {
    let mut warned = 0;
    for key in NOT_YET.iter().filter(|key| config.contains_key(key)) {
        tracing::warn!(key, "config key in {what} is not supported yet; ignored");
        warned += 1;
    }
    warned
}

#[cfg(test)]
mod tests {
    use provider_sdk::provider::{ConfigSource, SecretValue};
    use provider_sdk::wasmcloud::LinkDefinition;

    use super::*;

    /// A handler link (the provider is the source) with `config` as its source config.
    fn link(config: &[(&str, &str)], secrets: &[(&str, &str)]) -> Link {
        let mut definition = LinkDefinition::default();
        definition.source_id = "messaging".into();
        definition.target = "comp".into();
        definition.name = "default".into();
        definition.source_config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let secrets = Secrets::from_map(
            secrets
                .iter()
                .map(|(k, v)| (*k, SecretValue::String(v.to_string()))),
        );
        Link::from_definition("messaging", &definition, secrets, Secrets::new()).unwrap()
    }

    fn defaults(config: &[(&str, &str)]) -> Defaults {
        Defaults {
            config: Config::from_map(config.iter().copied(), ConfigSource::HostProvider),
            secrets: Secrets::new(),
        }
    }

    fn settings(config: &[(&str, &str)]) -> Result<LinkSettings> {
        LinkSettings::for_link(&Defaults::default(), &link(config, &[]))
    }

    #[test]
    fn nothing_set_means_the_documented_defaults() {
        let settings = settings(&[]).unwrap();
        assert_eq!(settings.connection.urls, "nats://127.0.0.1:4222");
        assert!(settings.connection.default_url);
        assert!(settings.subscriptions.is_empty());
        assert_eq!(settings.max_in_flight, 32);
        assert_eq!(settings.admission_wait, Duration::from_secs(30));
        assert_eq!(settings.connection.inbox_prefix, None);
        assert_eq!(settings.connection.unhealthy_after, Duration::from_secs(30));
        assert_eq!(Defaults::default().provider_max_in_flight().unwrap(), 256);
        assert_eq!(
            defaults(&[("PROVIDER_MAX_IN_FLIGHT", "8")])
                .provider_max_in_flight()
                .unwrap(),
            8
        );
    }

    #[test]
    fn every_cluster_uri_is_kept_and_bad_ones_are_named_without_passwords() {
        let settings =
            self::settings(&[("CLUSTER_URIS", " nats://a:4222, tls://b:4223 ,")]).unwrap();
        assert_eq!(settings.connection.urls, "nats://a:4222,tls://b:4223");
        assert!(!settings.connection.default_url);
        let error = self::settings(&[("cluster_uris", "nats://u:hunter2@a:4222, http://x y")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`cluster_uris`"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn subscriptions_are_subjects_with_optional_queue_groups() {
        assert_eq!(
            parse_subscriptions(" a.b , c.*|workers,d.>, a.b ,").unwrap(),
            vec![
                Subscription {
                    subject: "a.b".into(),
                    queue: None
                },
                Subscription {
                    subject: "c.*".into(),
                    queue: Some("workers".into())
                },
                Subscription {
                    subject: "d.>".into(),
                    queue: None
                },
            ]
        );
        for bad in ["a..b", "a b", "a.>.c", "a.b*", "a|", "a|b c", ".a"] {
            let error = parse_subscriptions(bad).unwrap_err().to_string();
            assert!(error.contains("`subscriptions`"), "{bad}: {error}");
        }
    }

    #[test]
    fn link_keys_override_only_themselves_and_the_alias_counts_as_its_key() {
        let defaults = defaults(&[
            ("cluster_uris", "nats://provider:4222"),
            ("max_in_flight", "10"),
            ("admission_wait_ms", "500"),
        ]);
        let settings =
            LinkSettings::for_link(&defaults, &link(&[("max_concurrency", "4")], &[])).unwrap();
        assert_eq!(settings.connection.urls, "nats://provider:4222");
        assert_eq!(settings.max_in_flight, 4);
        assert_eq!(settings.admission_wait, Duration::from_millis(500));
        // On one level, the key itself wins over its alias.
        let settings = self::settings(&[("max_concurrency", "4"), ("max_in_flight", "6")]).unwrap();
        assert_eq!(settings.max_in_flight, 6);
        let error = self::settings(&[("max_concurrency", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "config `max_concurrency` = \"0\" is not valid: expected a whole number from 1 to 1000000"
        );
        let error = self::settings(&[("admission_wait_ms", "soon")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`admission_wait_ms` = \"soon\""), "{error}");
    }

    #[test]
    fn in_flight_limits_are_capped_naming_the_key_value_and_range() {
        let settings = self::settings(&[("max_in_flight", "1000000")]).unwrap();
        assert_eq!(settings.max_in_flight, MAX_IN_FLIGHT);
        for (key, value) in [
            ("max_in_flight", "1000001"),
            ("max_concurrency", "18446744073709551615"),
            ("max_in_flight", "0"),
        ] {
            let error = self::settings(&[(key, value)]).unwrap_err().to_string();
            assert!(error.contains(&format!("`{key}` = \"{value}\"")), "{error}");
            assert!(error.contains("from 1 to 1000000"), "{error}");
        }
        let huge = usize::MAX.to_string();
        let error = defaults(&[("provider_max_in_flight", &huge)])
            .provider_max_in_flight()
            .unwrap_err()
            .to_string();
        assert!(error.contains("`provider_max_in_flight`"), "{error}");
        assert!(error.contains(&huge), "{error}");
        assert!(error.contains("from 1 to 1000000"), "{error}");
    }

    #[test]
    fn secrets_win_over_config_and_are_never_shown() {
        let settings = LinkSettings::for_link(
            &Defaults::default(),
            &link(
                &[
                    ("client_jwt", "jwt-from-config"),
                    ("client_seed", "config-seed"),
                ],
                &[("client_seed", "SUSECRETSEED")],
            ),
        )
        .unwrap();
        assert_eq!(settings.connection.seed.as_deref(), Some("SUSECRETSEED"));
        assert_eq!(settings.connection.jwt.as_deref(), Some("jwt-from-config"));
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("SUSECRETSEED") && !shown.contains("jwt-from-config"),
            "{shown}"
        );
        assert!(matches!(
            settings.connection.options("test").auth,
            NatsAuth::Jwt { .. }
        ));
    }

    #[test]
    fn credentials_and_trust_must_make_sense_together() {
        let error = settings(&[("client_jwt", "j")]).unwrap_err().to_string();
        assert!(error.contains("client_seed"), "{error}");
        let error = settings(&[("creds_file", "/c"), ("client_seed", "s")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("not both"), "{error}");
        assert!(matches!(
            settings(&[("creds_file", "/c.creds")])
                .unwrap()
                .connection
                .options("test")
                .auth,
            NatsAuth::CredsFile(_)
        ));
        const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let options = settings(&[("tls_ca", PEM)])
            .unwrap()
            .connection
            .options("test");
        assert_eq!(options.tls_ca_pem.as_deref(), Some(PEM));
        let options = settings(&[("tls_ca_file", "/ca.pem")])
            .unwrap()
            .connection
            .options("test");
        assert_eq!(options.tls_ca_file, Some(PathBuf::from("/ca.pem")));
        let error = settings(&[("tls_ca", "hello")]).unwrap_err().to_string();
        assert!(error.contains("BEGIN CERTIFICATE"), "{error}");
        let error = settings(&[("tls_ca", PEM), ("tls_ca_file", "/x")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("not both"), "{error}");
        let error = settings(&[("custom_inbox_prefix", "my.>")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`custom_inbox_prefix`"), "{error}");
        assert_eq!(
            settings(&[("custom_inbox_prefix", "_INBOX_mine")])
                .unwrap()
                .connection
                .inbox_prefix
                .as_deref(),
            Some("_INBOX_mine")
        );
    }

    #[test]
    fn later_keys_are_recognised_not_unknown() {
        let config = Config::from_map(
            [("consumers", "[]"), ("typo", "x"), ("max_in_flight", "3")],
            ConfigSource::HostProvider,
        );
        assert_eq!(config.unknown_keys(&recognised()), vec!["typo"]);
        assert_eq!(warn_provider_keys(&config), 1);
    }
}
