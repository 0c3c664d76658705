//! [`EnvStore`]: named configuration in environment variables.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::store::{ConfigStore, StoreChanges, Values, Watching};
use crate::error::{Error, Result};

/// Named configurations in environment variables: key `<key>` of name `<name>` is the variable
/// `WASMCLOUD_CONFIG_<NAME>__<KEY>`, where `<NAME>` is the name upper-cased with every character
/// other than a letter or digit written `_`, and `<KEY>` is the key (keys are case-insensitive,
/// so `__URL` is `url`). The name ends at the last `__`: a key cannot contain `__`.
///
/// ```text
/// WASMCLOUD_CONFIG_REDIS_CACHE__URL=redis://cache:6379   # name redis-cache, key url
/// ```
///
/// Two names that differ only in such characters (`redis-cache`, `redis.cache`) read the same
/// variables. The environment is read once, when the store is made: a process's environment does
/// not change while it runs, so the store has nothing to watch.
#[derive(Clone, Default)]
pub struct EnvStore {
    /// The variables that start with the prefix, without it.
    vars: Vec<(String, String)>,
}

impl std::fmt::Debug for EnvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvStore")
            .field("variables", &self.vars.len())
            .finish()
    }
}

impl EnvStore {
    /// What every variable of the store starts with.
    pub const PREFIX: &'static str = "WASMCLOUD_CONFIG_";

    /// The store over this process's environment. A variable of the store whose value is not
    /// UTF-8 is an error naming it.
    pub fn from_process() -> Result<Self> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(Self::PREFIX) {
                continue;
            }
            let value = value.into_string().map_err(|_| Error::NamedConfig {
                name: name.to_owned(),
                reason: "the environment variable's value is not UTF-8".to_owned(),
            })?;
            vars.push((name.to_owned(), value));
        }
        Ok(Self::from_vars(vars))
    }

    /// The store over `vars` (variable names with the prefix; others are ignored).
    pub fn from_vars<N: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let vars = vars
            .into_iter()
            .filter_map(|(name, value)| {
                let name: String = name.into();
                let rest = name.strip_prefix(Self::PREFIX)?.to_owned();
                Some((rest, value.into()))
            })
            .collect();
        Self { vars }
    }

    /// The prefix of the variables that hold `name`: `WASMCLOUD_CONFIG_REDIS_CACHE__` for
    /// `redis-cache`.
    pub fn variable_prefix(name: &str) -> String {
        format!("{}{}__", Self::PREFIX, encode(name))
    }
}

/// `redis-cache` → `REDIS_CACHE`.
fn encode(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl ConfigStore for EnvStore {
    fn describe(&self) -> String {
        format!("environment ({}<NAME>__<KEY>)", Self::PREFIX)
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Values>>> {
        let encoded = encode(name);
        let values: Values = self
            .vars
            .iter()
            .filter_map(|(var, value)| {
                let (var_name, key) = var.rsplit_once("__")?;
                (var_name == encoded && !key.is_empty())
                    .then(|| (key.to_lowercase(), value.clone()))
            })
            .collect();
        Box::pin(async move { Ok((!name.is_empty() && !values.is_empty()).then_some(values)) })
    }

    fn watch(self: Arc<Self>, _changes: StoreChanges) -> BoxFuture<'static, Result<Watching>> {
        let nothing: Watching = Box::pin(async {});
        Box::pin(async move { Ok(nothing) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(store: &EnvStore, name: &str) -> Option<Values> {
        futures::executor::block_on(store.get(name)).unwrap()
    }

    #[test]
    fn names_and_keys_follow_the_documented_rule() {
        let store = EnvStore::from_vars([
            ("WASMCLOUD_CONFIG_REDIS_CACHE__URL", "redis://cache"),
            ("WASMCLOUD_CONFIG_REDIS_CACHE__TLS_CA_FILE", "/ca.pem"),
            ("WASMCLOUD_CONFIG_REDIS__URL", "redis://other"),
            ("WASMCLOUD_CONFIG_REDIS_CACHE__", "no key"),
            // `redis-`'s and `redis--cache`'s, not `redis`'s.
            ("WASMCLOUD_CONFIG_REDIS___URL", "redis-"),
            ("WASMCLOUD_CONFIG_REDIS__CACHE__URL", "redis--cache"),
            ("PATH", "/bin"),
        ]);
        let values = get(&store, "redis-cache").unwrap();
        assert_eq!(values.len(), 2, "{values:?}");
        assert_eq!(values["url"], "redis://cache");
        assert_eq!(values["tls_ca_file"], "/ca.pem");
        assert_eq!(get(&store, "redis.cache"), Some(values));
        let redis = get(&store, "redis").unwrap();
        assert_eq!(redis.len(), 1, "{redis:?}");
        assert_eq!(redis["url"], "redis://other");
        assert_eq!(get(&store, "redis-").unwrap()["url"], "redis-");
        assert_eq!(get(&store, "redis--cache").unwrap()["url"], "redis--cache");
        assert_eq!(get(&store, "absent"), None);
        assert_eq!(get(&store, ""), None);
        assert_eq!(
            EnvStore::variable_prefix("redis-cache"),
            "WASMCLOUD_CONFIG_REDIS_CACHE__"
        );
    }
}
