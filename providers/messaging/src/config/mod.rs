//! A link's settings, read from its own configuration over the provider's (the provider's
//! configuration is the default for every link; a link's own keys override only those keys)
//! and secrets (a secret wins over a config value of the same key, at each level). Pure: no
//! I/O, no logging except the unknown-key warnings, which are made where the keys were set,
//! once: [`warn_provider_keys`] when the provider's configuration is set, [`warn_link_keys`]
//! when a link is put. Keys are case-insensitive; the README lists them.

mod connection;
mod keys;
mod subscriptions;

use std::path::PathBuf;
use std::time::Duration;

use provider_sdk::provider::redact_credentials;
use provider_sdk::provider::{Config, Link, NatsOptions, Secrets};

pub(crate) use self::connection::{ConnectionSettings, TlsCa};
pub(crate) use self::keys::{warn_link_keys, warn_provider_keys};
pub(crate) use self::subscriptions::{Subscription, is_subject, parse_subscriptions};
use crate::error::{Error, Result};
use crate::jetstream::{ConsumerSpec, parse_consumers};

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

#[cfg(test)]
mod tests {
    use provider_sdk::provider::{ConfigSource, NatsAuth, SecretValue};
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
}
