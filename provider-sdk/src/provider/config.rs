//! Configuration and secrets as a provider sees them: case-insensitive keys, typed access, and
//! the source of every value for error messages.
//!
//! A provider's configuration and each link's are maps of strings merged from named
//! configurations, later names winning. [`Config`] keeps, for every key, the value and where it
//! came from, so that a bad value is reported as "config key `port` (from named config `redis`):
//! `abc` is not a valid u16" rather than as a bare parse error.
//!
//! [`Secrets`] are kept apart: they never print, in `Debug` or anywhere else.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::redact::redact_credentials;
use crate::wasmcloud::SecretValue;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigSource {
    /// A named configuration, read from the configuration stores (the `CONFIGDATA_<lattice>`
    /// bucket, a mounted folder, the environment: see [`stores`](super::stores)).
    Named(Arc<str>),
    /// The provider's configuration, merged by the wasmCloud host.
    HostProvider,
    /// A link's configuration for its target, merged by the wasmCloud host.
    LinkTarget,
    /// A link's configuration for its source, merged by the wasmCloud host.
    LinkSource,
    /// Written inline where the link or provider was defined (a links file, a test).
    Inline,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Named(name) => write!(f, "named config `{name}`"),
            ConfigSource::HostProvider => f.write_str("the provider config from the host"),
            ConfigSource::LinkTarget => f.write_str("the link's target config"),
            ConfigSource::LinkSource => f.write_str("the link's source config"),
            ConfigSource::Inline => f.write_str("inline config"),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
struct Entry {
    /// The key as written.
    key: String,
    value: String,
    source: ConfigSource,
}

/// A configuration: string keys (case-insensitive) to string values, with their sources.
///
/// ```
/// use provider_sdk::provider::{Config, ConfigSource};
///
/// let defaults = Config::from_map([("URL", "redis://a:6379"), ("pool_size", "4")], ConfigSource::Inline);
/// let named = Config::from_map([("pool_size", "8")], ConfigSource::Named("big-pool".into()));
/// let config = Config::merged([defaults, named]);
///
/// assert_eq!(config.get_str("url"), Some("redis://a:6379"));
/// assert_eq!(config.get::<u32>("POOL_SIZE").unwrap(), Some(8));
/// let error = Config::from_map([("pool_size", "many")], ConfigSource::Inline)
///     .get::<u32>("pool_size")
///     .unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "config key `pool_size` (from inline config): `many` is not a valid u32: invalid digit found in string"
/// );
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// By lowercased key.
    entries: BTreeMap<String, Entry>,
}

impl fmt::Debug for Config {
    /// Keys and sources only: values may hold credentials (a URL with a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .values()
                    .map(|entry| (&entry.key, format!("<{}>", entry.source))),
            )
            .finish()
    }
}

impl Config {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configuration from one source. Of keys that differ only in case, the last in sorted
    /// order wins (so `url` over `URL`), whatever order `map` has.
    pub fn from_map<K, V>(map: impl IntoIterator<Item = (K, V)>, source: ConfigSource) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut pairs: Vec<(String, String)> = map
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        pairs.sort();
        let mut config = Self::new();
        for (key, value) in pairs {
            config.entries.insert(
                key.to_lowercase(),
                Entry {
                    key,
                    value,
                    source: source.clone(),
                },
            );
        }
        config
    }

    /// `layers` merged in order, later values winning.
    pub fn merged(layers: impl IntoIterator<Item = Config>) -> Self {
        let mut config = Self::new();
        for layer in layers {
            config.merge(layer);
        }
        config
    }

    /// Merges `later` into this configuration, its values winning.
    pub fn merge(&mut self, later: Config) {
        self.entries.extend(later.entries);
    }

    /// Sets one value.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        source: ConfigSource,
    ) {
        let key = key.into();
        self.entries.insert(
            key.to_lowercase(),
            Entry {
                key,
                value: value.into(),
                source,
            },
        );
    }

    /// The value of `key` (any case), as written.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|entry| entry.value.as_str())
    }

    /// Where the value of `key` came from.
    pub fn source(&self, key: &str) -> Option<&ConfigSource> {
        self.entry(key).map(|entry| &entry.source)
    }

    /// The value of `key` parsed as `T`: `Ok(None)` when absent, an error naming the key, its
    /// source, the value and what was expected when it does not parse.
    pub fn get<T: ConfigValue>(&self, key: &str) -> Result<Option<T>> {
        let Some(entry) = self.entry(key) else {
            return Ok(None);
        };
        T::parse_config(&entry.value)
            .map(Some)
            .map_err(|reason| Error::Config {
                key: entry.key.clone(),
                origin: entry.source.to_string(),
                reason: format!(
                    "`{}` is not a valid {}: {reason}",
                    redact_credentials(&entry.value),
                    T::EXPECTED
                ),
            })
    }

    /// Like [`Config::get`], with `default` when the key is absent.
    pub fn get_or<T: ConfigValue>(&self, key: &str, default: T) -> Result<T> {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// Like [`Config::get`], failing when the key is absent.
    pub fn require<T: ConfigValue>(&self, key: &str) -> Result<T> {
        self.get(key)?.ok_or_else(|| Error::MissingConfig {
            key: key.to_owned(),
        })
    }

    /// Whether `key` (any case) is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The keys as written, in sorted order of their lowercase forms.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.values().map(|entry| entry.key.as_str())
    }

    /// `(key, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .values()
            .map(|entry| (entry.key.as_str(), entry.value.as_str()))
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys not among `known` (compared case-insensitively).
    pub fn unknown_keys<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|(lower, _)| !known.iter().any(|known| known.eq_ignore_ascii_case(lower)))
            .map(|(_, entry)| entry.key.as_str())
            .collect()
    }

    /// Logs a warning for each key not among `known`, naming it and its source; returns how
    /// many there were. `what` says whose configuration this is ("link default/component-a").
    pub fn warn_unknown_keys(&self, known: &[&str], what: &str) -> usize {
        let unknown = self.unknown_keys(known);
        for key in &unknown {
            let source = self
                .source(key)
                .map(ToString::to_string)
                .unwrap_or_default();
            tracing::warn!(
                key,
                %source,
                "unknown config key in {what}; known keys: {}",
                known.join(", ")
            );
        }
        unknown.len()
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        match self.entries.get(key) {
            Some(entry) => Some(entry),
            None if key.bytes().any(|b| b.is_ascii_uppercase()) || !key.is_ascii() => {
                self.entries.get(&key.to_lowercase())
            }
            None => None,
        }
    }
}

/// A type a configuration value can be read as.
///
/// Implemented for strings, paths, numbers, `bool` (`true`/`false`, `yes`/`no`, `on`/`off`,
/// `1`/`0`, any case), and `Vec<T>` (comma-separated, blanks around items ignored).
pub trait ConfigValue: Sized {
    /// What a valid value looks like, for error messages ("u32", "bool").
    const EXPECTED: &'static str;

    /// Parses a value; the error says why it is invalid.
    fn parse_config(value: &str) -> std::result::Result<Self, String>;
}

impl ConfigValue for String {
    const EXPECTED: &'static str = "string";

    fn parse_config(value: &str) -> std::result::Result<Self, String> {
        Ok(value.to_owned())
    }
}

impl ConfigValue for PathBuf {
    const EXPECTED: &'static str = "path";

    fn parse_config(value: &str) -> std::result::Result<Self, String> {
        Ok(PathBuf::from(value))
    }
}

impl ConfigValue for bool {
    const EXPECTED: &'static str = "bool";

    fn parse_config(value: &str) -> std::result::Result<Self, String> {
        const TRUE: [&str; 4] = ["true", "yes", "on", "1"];
        const FALSE: [&str; 4] = ["false", "no", "off", "0"];
        let value = value.trim();
        if TRUE.iter().any(|t| t.eq_ignore_ascii_case(value)) {
            Ok(true)
        } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(value)) {
            Ok(false)
        } else {
            Err("expected true/false, yes/no, on/off or 1/0".to_owned())
        }
    }
}

macro_rules! from_str_values {
    ($($ty:ty),*) => {$(
        impl ConfigValue for $ty {
            const EXPECTED: &'static str = stringify!($ty);

            fn parse_config(value: &str) -> std::result::Result<Self, String> {
                value.trim().parse::<$ty>().map_err(|error| error.to_string())
            }
        }
    )*};
}

from_str_values!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, char
);

impl<T: ConfigValue> ConfigValue for Vec<T> {
    const EXPECTED: &'static str = "comma-separated list";

    fn parse_config(value: &str) -> std::result::Result<Self, String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                T::parse_config(item).map_err(|reason| {
                    format!(
                        "item `{}` is not a valid {}: {reason}",
                        redact_credentials(item),
                        T::EXPECTED
                    )
                })
            })
            .collect()
    }
}

/// Secrets by key (case-insensitive). Neither `Debug` nor any log shows a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// By lowercased key: the key as written, and the value.
    entries: BTreeMap<String, (String, SecretValue)>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.entries.values().map(|(key, _)| key))
            .finish()
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Secrets from `(key, value)` pairs.
    pub fn from_map<K: Into<String>>(map: impl IntoIterator<Item = (K, SecretValue)>) -> Self {
        let mut pairs: Vec<(String, SecretValue)> = map
            .into_iter()
            .map(|(key, value)| (key.into(), value))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut secrets = Self::new();
        for (key, value) in pairs {
            secrets.entries.insert(key.to_lowercase(), (key, value));
        }
        secrets
    }

    /// Merges `later` into these secrets, its values winning.
    pub fn merge(&mut self, later: Secrets) {
        self.entries.extend(later.entries);
    }

    /// The secret named `key` (any case).
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.entries
            .get(key)
            .or_else(|| self.entries.get(&key.to_lowercase()))
            .map(|(_, value)| value)
    }

    /// The secret named `key` as text.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(SecretValue::as_str)
    }

    /// The keys as written.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.values().map(|(key, _)| key.as_str())
    }

    /// How many secrets there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(pairs: &[(&str, &str)]) -> Config {
        Config::from_map(pairs.iter().copied(), ConfigSource::Inline)
    }

    #[test]
    fn keys_are_case_insensitive_and_later_layers_win() {
        let config = Config::merged([
            inline(&[("URL", "redis://a"), ("Pool", "1")]),
            Config::from_map([("url", "redis://b")], ConfigSource::Named("b".into())),
        ]);
        assert_eq!(config.get_str("Url"), Some("redis://b"));
        assert_eq!(config.source("URL"), Some(&ConfigSource::Named("b".into())));
        assert_eq!(config.get::<u8>("pool").unwrap(), Some(1));
        assert_eq!(config.keys().collect::<Vec<_>>(), ["Pool", "url"]);
    }

    #[test]
    fn same_key_in_two_cases_resolves_the_same_way_whatever_the_order() {
        let a = inline(&[("URL", "upper"), ("url", "lower")]);
        let b = inline(&[("url", "lower"), ("URL", "upper")]);
        assert_eq!(a.get_str("url"), Some("lower"));
        assert_eq!(b.get_str("url"), Some("lower"));
    }

    #[test]
    fn typed_values_and_their_errors() {
        let config = inline(&[
            ("yes", "Yes"),
            ("off", "OFF"),
            ("bad_bool", "maybe"),
            ("list", " a, b ,,c "),
            ("ports", "1,x"),
            ("url", "redis://u:secret@h:1"),
        ]);
        assert_eq!(config.get::<bool>("yes").unwrap(), Some(true));
        assert_eq!(config.get::<bool>("off").unwrap(), Some(false));
        assert_eq!(
            config.get::<Vec<String>>("list").unwrap(),
            Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
        );
        assert_eq!(config.get::<u8>("absent").unwrap(), None);
        assert_eq!(config.get_or::<u8>("absent", 7).unwrap(), 7);
        assert_eq!(
            config.get::<bool>("bad_bool").unwrap_err().to_string(),
            "config key `bad_bool` (from inline config): `maybe` is not a valid bool: expected true/false, yes/no, on/off or 1/0"
        );
        assert_eq!(
            config.get::<Vec<u16>>("ports").unwrap_err().to_string(),
            "config key `ports` (from inline config): `1,x` is not a valid comma-separated list: item `x` is not a valid u16: invalid digit found in string"
        );
        let error = config.get::<u16>("url").unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
        assert_eq!(
            config.require::<String>("nope").unwrap_err().to_string(),
            "config key `nope` is required but not set"
        );
    }

    #[test]
    fn unknown_keys_are_listed_case_insensitively() {
        let config = inline(&[("URL", "x"), ("Extra", "y"), ("bucket", "z")]);
        assert_eq!(config.unknown_keys(&["url", "BUCKET"]), ["Extra"]);
        assert_eq!(config.warn_unknown_keys(&["url", "bucket"], "a test"), 1);
    }

    #[test]
    fn debug_shows_no_values() {
        let config = inline(&[("url", "redis://u:hunter2@h")]);
        let secrets = Secrets::from_map([("password", SecretValue::String("hunter2".into()))]);
        for printed in [
            format!("{config:?}"),
            format!("{secrets:?}"),
            format!("{:?}", secrets.get("PASSWORD")),
        ] {
            assert!(!printed.contains("hunter2"), "{printed}");
        }
        assert_eq!(format!("{secrets:?}"), r#"{"password"}"#);
    }

    #[test]
    fn secret_values_have_the_hosts_json_shape() {
        let json =
            r#"{"a":{"kind":"String","value":"s3cret"},"b":{"kind":"Bytes","value":[1,2,255]}}"#;
        let map: BTreeMap<String, SecretValue> = serde_json::from_str(json).unwrap();
        assert_eq!(map["a"].as_str(), Some("s3cret"));
        assert_eq!(map["b"].as_bytes(), [1, 2, 255]);
        assert_eq!(serde_json::to_string(&map).unwrap(), json);
    }
}
