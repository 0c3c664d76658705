//! Which backend a link uses, read from its configuration over the provider's (the provider's
//! configuration is the default for every link) and its secrets (a secret wins over a config
//! value of the same key). Keys are case-insensitive; see the provider's README for each.
//!
//! Unknown keys are warned about where they were set, once: the provider's configuration's
//! when it is set ([`warn_unknown_provider_keys`]), a link's own keys when the link is put
//! ([`warn_unknown_link_keys`]); reading a link's backend ([`BackendConfig::for_link`]) warns of
//! nothing, so provider-level keys are not warned about again for every link.

use std::fmt;
use std::time::Duration;

use provider_sdk::provider::{Config, Link, Secrets, redact_credentials};

use crate::error::{Error, Result};

/// Every key the provider reads, for unknown-key warnings.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "backend",
    "url",
    "cluster_uri",
    "bucket",
    "js_domain",
    "enable_bucket_auto_create",
    "client_jwt",
    "client_seed",
    "tls_ca",
    "tls_ca_file",
    "connect_timeout_ms",
    "response_timeout_ms",
    "replicas",
    "username",
    "password",
];

/// The largest `tls_ca_file` read (a CA bundle is a few hundred KiB at most).
const MAX_CA_FILE: u64 = 1 << 20;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A link's backend and its settings.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum BackendConfig {
    /// Kept in the provider's memory, per link.
    Memory,
    /// A Redis server.
    Redis(RedisSettings),
    /// A NATS server's JetStream key-value buckets.
    Nats(NatsSettings),
}

impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendConfig::Memory => f.write_str("memory"),
            BackendConfig::Redis(settings) => write!(f, "redis at {}", settings.shown_url()),
            BackendConfig::Nats(settings) => write!(f, "nats at {}", settings.shown_url()),
        }
    }
}

/// How to reach a Redis server. Holds credentials: never logged whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct RedisSettings {
    pub(crate) url: String,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    /// CA certificates (PEM) to trust for `rediss://` instead of the system's.
    pub(crate) tls_ca: Option<Vec<u8>>,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.shown_url())
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls_ca", &self.tls_ca.as_ref().map(|_| "<PEM>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisSettings {
    /// The URL with any password replaced.
    pub(crate) fn shown_url(&self) -> String {
        redact_credentials(&self.url)
    }
}

/// How to reach NATS JetStream KV. Holds credentials: never logged whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct NatsSettings {
    /// Comma-separated server URLs.
    pub(crate) url: String,
    pub(crate) jwt: Option<String>,
    pub(crate) seed: Option<String>,
    /// CA certificates (PEM) to trust instead of the system's.
    pub(crate) tls_ca: Option<String>,
    pub(crate) js_domain: Option<String>,
    /// One KV bucket for every WIT bucket (their names become key prefixes).
    pub(crate) bucket: Option<String>,
    pub(crate) auto_create: bool,
    /// Replicas of the KV buckets the provider creates (1 to 5), if set (1 if not).
    pub(crate) replicas: Option<usize>,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
}

impl NatsSettings {
    /// The URLs with any password replaced.
    pub(crate) fn shown_url(&self) -> String {
        redact_credentials(&self.url)
    }
}

impl fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &self.shown_url())
            .field("jwt", &self.jwt.as_ref().map(|_| "<redacted>"))
            .field("seed", &self.seed.as_ref().map(|_| "<redacted>"))
            .field("tls_ca", &self.tls_ca.as_ref().map(|_| "<PEM>"))
            .field("js_domain", &self.js_domain)
            .field("bucket", &self.bucket)
            .field("auto_create", &self.auto_create)
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

/// A link's settings: its configuration over the provider's, its secrets over both.
struct Settings<'a> {
    config: Config,
    secrets: &'a Secrets,
}

impl Settings<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.secrets
            .get_str(key)
            .or_else(|| self.config.get_str(key))
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }

    fn millis(&self, key: &'static str, default: Duration) -> Result<Duration> {
        match self.str(key) {
            None => Ok(default),
            Some(value) => match value.parse::<u64>() {
                Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
                _ => Err(Error::InvalidConfig {
                    key,
                    value: value.to_owned(),
                    expected: "a whole number of milliseconds greater than 0",
                }),
            },
        }
    }
}

impl Settings<'_> {
    /// The CA certificates to trust, PEM: `tls_ca` itself or the contents of `tls_ca_file`.
    fn tls_ca(&self) -> Result<Option<String>> {
        let pem = match (self.str("tls_ca"), self.str("tls_ca_file")) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(Error::InvalidConfig {
                    key: "tls_ca_file",
                    value: "(with tls_ca)".to_owned(),
                    expected: "one of tls_ca (PEM text) and tls_ca_file (a PEM file), not both",
                });
            }
            (Some(pem), None) => (pem.to_owned(), "tls_ca", "(inline)".to_owned()),
            (None, Some(path)) => match read_limited(path, MAX_CA_FILE) {
                Ok(pem) => (pem, "tls_ca_file", path.to_owned()),
                Err(error) => {
                    return Err(Error::InvalidConfig {
                        key: "tls_ca_file",
                        value: format!("{path} ({error})"),
                        expected: "a readable PEM file of CA certificates, at most 1 MiB",
                    });
                }
            },
        };
        let (pem, key, shown) = pem;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(Error::InvalidConfig {
                key,
                value: shown,
                expected: "PEM text with at least one -----BEGIN CERTIFICATE----- block",
            });
        }
        Ok(Some(pem))
    }

    /// `replicas`: how many servers of a JetStream cluster keep a bucket the provider creates
    /// (JetStream allows 1 to 5).
    fn replicas(&self) -> Result<Option<usize>> {
        match self.str("replicas") {
            None => Ok(None),
            Some(value) => match value.parse::<usize>() {
                Ok(replicas @ 1..=5) => Ok(Some(replicas)),
                _ => Err(Error::InvalidConfig {
                    key: "replicas",
                    value: value.to_owned(),
                    expected: "a whole number from 1 to 5 (JetStream's limit), at most the servers in the cluster",
                }),
            },
        }
    }

    fn flag(&self, key: &'static str) -> Result<bool> {
        match self.str(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "no" | "off" | "0") => Ok(false),
            Some("true" | "yes" | "on" | "1") => Ok(true),
            Some(other) => Err(Error::InvalidConfig {
                key,
                value: other.to_owned(),
                expected: "true or false",
            }),
        }
    }
}

impl BackendConfig {
    /// The backend for `link`, with `defaults` (the provider's configuration) under it. Warns
    /// of no unknown key: see [`warn_unknown_provider_keys`] and [`warn_unknown_link_keys`].
    pub(crate) fn for_link(defaults: &Config, link: &Link) -> Result<Self> {
        let settings = Settings {
            config: Config::merged([defaults.clone(), link.config().clone()]),
            secrets: link.secrets(),
        };
        let url = settings.str("url").or_else(|| settings.str("cluster_uri"));
        let backend = match settings.str("backend").map(str::to_ascii_lowercase) {
            Some(backend) => backend,
            None => match url
                .and_then(|url| url.split_once("://"))
                .map(|(scheme, _)| scheme)
            {
                Some("redis" | "rediss") => "redis".to_owned(),
                Some("nats" | "tls" | "ws" | "wss") => "nats".to_owned(),
                Some(_) => {
                    return Err(Error::InvalidConfig {
                        key: "url",
                        value: redact_credentials(url.unwrap_or_default()),
                        expected: "a redis://, rediss://, nats:// or tls:// URL, or `backend` set",
                    });
                }
                None => "memory".to_owned(),
            },
        };
        match backend.as_str() {
            "memory" => Ok(BackendConfig::Memory),
            "redis" => {
                let url = url.unwrap_or("redis://127.0.0.1:6379");
                if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                    return Err(Error::InvalidConfig {
                        key: "url",
                        value: redact_credentials(url),
                        expected: "redis://[user:password@]host:port[/db] or rediss://...",
                    });
                }
                let tls_ca = settings.tls_ca()?;
                if tls_ca.is_some() && !url.starts_with("rediss://") {
                    return Err(Error::InvalidConfig {
                        key: "url",
                        value: redact_credentials(url),
                        expected: "a rediss:// URL when tls_ca or tls_ca_file is set",
                    });
                }
                Ok(BackendConfig::Redis(RedisSettings {
                    url: url.to_owned(),
                    username: settings.str("username").map(str::to_owned),
                    password: settings.str("password").map(str::to_owned),
                    tls_ca: tls_ca.map(String::into_bytes),
                    connect_timeout: settings
                        .millis("connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT)?,
                    response_timeout: settings
                        .millis("response_timeout_ms", DEFAULT_RESPONSE_TIMEOUT)?,
                }))
            }
            "nats" => Ok(BackendConfig::Nats(NatsSettings {
                url: url.unwrap_or("nats://127.0.0.1:4222").to_owned(),
                jwt: settings.str("client_jwt").map(str::to_owned),
                seed: settings.str("client_seed").map(str::to_owned),
                tls_ca: settings.tls_ca()?,
                js_domain: settings.str("js_domain").map(str::to_owned),
                bucket: settings.str("bucket").map(str::to_owned),
                auto_create: settings.flag("enable_bucket_auto_create")?,
                replicas: settings.replicas()?,
                connect_timeout: settings.millis("connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT)?,
                response_timeout: settings
                    .millis("response_timeout_ms", DEFAULT_RESPONSE_TIMEOUT)?,
            })),
            _ => Err(Error::InvalidConfig {
                key: "backend",
                value: backend,
                expected: "memory, redis or nats",
            }),
        }
    }
}

/// Warns once about each key of the provider's configuration that is not a keyvalue key,
/// naming the provider config as where it was set: called where that configuration is set
/// (at init and on an update), not per link, though every link inherits it.
pub(crate) fn warn_unknown_provider_keys(config: &Config) -> usize {
    config.warn_unknown_keys(KNOWN_KEYS, "the keyvalue provider config")
}

/// Warns about each of the link's own keys that is not a keyvalue key, naming the link. Keys it
/// inherits from the provider's configuration are not its own: they were warned about where
/// they were set.
pub(crate) fn warn_unknown_link_keys(link: &Link) -> usize {
    link.config()
        .warn_unknown_keys(KNOWN_KEYS, &format!("keyvalue link {}", link.key()))
}

/// The text of the file at `path`, refusing one of more than `limit` bytes (or no end, as
/// `/dev/zero`) without reading past the limit.
fn read_limited(path: &str, limit: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use provider_sdk::provider::{ConfigSource, SecretValue};
    use provider_sdk::wasmcloud::LinkDefinition;

    use super::*;

    fn link(config: &[(&str, &str)], secrets: &[(&str, &str)]) -> Link {
        let mut definition = LinkDefinition::default();
        definition.source_id = "comp".into();
        definition.target = "kv".into();
        definition.name = "default".into();
        definition.target_config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let secrets = Secrets::from_map(
            secrets
                .iter()
                .map(|(k, v)| (*k, SecretValue::String(v.to_string()))),
        );
        Link::from_definition("kv", &definition, Secrets::new(), secrets).unwrap()
    }

    fn backend(config: &[(&str, &str)]) -> Result<BackendConfig> {
        BackendConfig::for_link(&Config::new(), &link(config, &[]))
    }

    #[test]
    fn the_backend_is_named_or_inferred_from_the_url_or_memory() {
        assert_eq!(backend(&[]).unwrap(), BackendConfig::Memory);
        assert_eq!(
            backend(&[("BACKEND", "Memory")]).unwrap(),
            BackendConfig::Memory
        );
        let BackendConfig::Redis(redis) = backend(&[("URL", "rediss://h:6380/2")]).unwrap() else {
            panic!("not redis");
        };
        assert_eq!(redis.url, "rediss://h:6380/2");
        assert_eq!(redis.response_timeout, DEFAULT_RESPONSE_TIMEOUT);
        assert!(matches!(
            backend(&[("backend", "redis")]).unwrap(),
            BackendConfig::Redis(RedisSettings { url, .. }) if url == "redis://127.0.0.1:6379"
        ));
    }

    #[test]
    fn bad_values_name_the_key_the_value_and_what_is_accepted() {
        let error = backend(&[("backend", "mongo")]).unwrap_err().to_string();
        assert_eq!(
            error,
            "config `backend` = \"mongo\" is not valid: expected memory, redis or nats"
        );
        let error = backend(&[("url", "http://user:hunter2@h")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`url`") && !error.contains("hunter2"),
            "{error}"
        );
        let error = backend(&[("url", "redis://h"), ("response_timeout_ms", "soon")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`response_timeout_ms` = \"soon\""),
            "{error}"
        );
    }

    #[test]
    fn link_config_wins_over_provider_defaults_and_secrets_over_both() {
        let defaults = Config::from_map(
            [("url", "redis://default:6379"), ("password", "from-config")],
            ConfigSource::HostProvider,
        );
        let BackendConfig::Redis(redis) = BackendConfig::for_link(
            &defaults,
            &link(
                &[("URL", "redis://link:6379")],
                &[("password", "from-secret")],
            ),
        )
        .unwrap() else {
            panic!("not redis");
        };
        assert_eq!(redis.url, "redis://link:6379");
        assert_eq!(redis.password.as_deref(), Some("from-secret"));
        assert!(!format!("{:?}", BackendConfig::Redis(redis)).contains("from-secret"));
    }

    #[test]
    fn replicas_are_optional_and_must_be_what_jetstream_allows() {
        let replicas = |config: &[(&str, &str)]| match backend(config) {
            Ok(BackendConfig::Nats(nats)) => Ok(nats.replicas),
            Ok(other) => panic!("not nats: {other:?}"),
            Err(error) => Err(error.to_string()),
        };
        assert_eq!(replicas(&[("url", "nats://h")]), Ok(None));
        assert_eq!(
            replicas(&[("url", "nats://h"), ("REPLICAS", " 3 ")]),
            Ok(Some(3))
        );
        assert_eq!(
            replicas(&[("url", "nats://h"), ("replicas", "5")]),
            Ok(Some(5))
        );
        for bad in ["0", "6", "three", "-1"] {
            let error = replicas(&[("url", "nats://h"), ("replicas", bad)]).unwrap_err();
            assert!(
                error.contains(&format!("`replicas` = \"{bad}\"")) && error.contains("1 to 5"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_ca_comes_inline_or_from_a_file_and_must_hold_a_certificate() {
        const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let BackendConfig::Nats(nats) =
            backend(&[("url", "tls://h:4222"), ("TLS_CA", PEM)]).unwrap()
        else {
            panic!("not nats");
        };
        assert_eq!(nats.tls_ca.as_deref(), Some(PEM.trim()));
        let missing = backend(&[("url", "tls://h"), ("tls_ca_file", "/nonexistent/ca.pem")])
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
        let endless = backend(&[("url", "tls://h"), ("tls_ca_file", "/dev/zero")])
            .unwrap_err()
            .to_string();
        assert!(endless.contains("larger than"), "{endless}");
        let both = backend(&[("url", "tls://h"), ("tls_ca", PEM), ("tls_ca_file", "/x")])
            .unwrap_err()
            .to_string();
        assert!(both.contains("not both"), "{both}");
        let garbage = backend(&[("url", "tls://h"), ("tls_ca", "hello")])
            .unwrap_err()
            .to_string();
        assert!(garbage.contains("BEGIN CERTIFICATE"), "{garbage}");
        let plain = backend(&[("url", "redis://h"), ("tls_ca", PEM)])
            .unwrap_err()
            .to_string();
        assert!(plain.contains("rediss://"), "{plain}");
        assert!(matches!(
            backend(&[("url", "rediss://h"), ("tls_ca", PEM)]).unwrap(),
            BackendConfig::Redis(RedisSettings {
                tls_ca: Some(_),
                ..
            })
        ));
    }
}
