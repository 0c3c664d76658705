//! Named configuration and secrets resolved into the provider's and the links' own.
//!
//! A wasmCloud host resolves names itself and sends merged maps: they come first. Then come the
//! names the provider (`--config`, `--secrets`) or a links file refers to: each name is looked up
//! in every configuration store in order and merged (a later store wins a key), then the names
//! are merged in order (a later name wins). Secrets come from the secrets folder alone. The
//! [`Resolver`] caches what it read, takes the stores' changes, and says which configurations a
//! change touches.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::provider::config::{Config, ConfigSource, Secrets};
use crate::provider::link::{Link, LinkKey};
use crate::provider::startup::LinkRefs;
use crate::provider::stores::{ConfigStore, SecretsDir, Values};

/// What the provider's configuration and secrets are made of.
#[derive(Debug, Default)]
pub(crate) struct ProviderRefs {
    /// The host's merged configuration (standalone: empty).
    pub(crate) host_config: Config,
    /// The host's secrets (standalone: none).
    pub(crate) host_secrets: Secrets,
    pub(crate) config_names: Vec<String>,
    pub(crate) secret_names: Vec<String>,
}

pub(crate) struct Resolver {
    /// The configuration stores, in merge order.
    stores: Vec<Arc<dyn ConfigStore>>,
    secrets: Option<SecretsDir>,
    /// Named configurations read so far, each store's values in store order; kept current by
    /// the stores' watches.
    config_cache: HashMap<String, Vec<Option<Config>>>,
    secret_cache: HashMap<String, Secrets>,
    /// Configuration names whose last read failed, with why: they resolve to that error until
    /// a store reports them again.
    unreadable_config: HashMap<String, String>,
    /// The same for secret names (a namespace of their own: a ConfigMap and a Secret are often
    /// named alike).
    unreadable_secrets: HashMap<String, String>,
    provider: ProviderRefs,
    link_refs: HashMap<LinkKey, LinkRefs>,
}

impl Resolver {
    pub(crate) fn new(
        stores: Vec<Arc<dyn ConfigStore>>,
        secrets: Option<SecretsDir>,
        provider: ProviderRefs,
    ) -> Self {
        Self {
            stores,
            secrets,
            config_cache: HashMap::new(),
            secret_cache: HashMap::new(),
            unreadable_config: HashMap::new(),
            unreadable_secrets: HashMap::new(),
            provider,
            link_refs: HashMap::new(),
        }
    }

    /// The provider's configuration: the host's, then its named configurations in order.
    pub(crate) async fn provider_config(&mut self) -> Result<Config> {
        let mut config = self.provider.host_config.clone();
        for name in self.provider.config_names.clone() {
            config.merge(self.named_config(&name).await?);
        }
        Ok(config)
    }

    /// The provider's secrets: the host's, then its named secrets in order.
    pub(crate) fn provider_secrets(&mut self) -> Result<Secrets> {
        let mut secrets = self.provider.host_secrets.clone();
        for name in self.provider.secret_names.clone() {
            secrets.merge(self.named_secrets(&name)?);
        }
        Ok(secrets)
    }

    /// `link` with this provider's side resolved from the names in `refs` (only this side can
    /// refer to names; the other side keeps its values). A side that names configurations (or
    /// secrets) has no values of its own besides: they merge from nothing.
    pub(crate) async fn link(&mut self, link: Link, refs: &LinkRefs) -> Result<Link> {
        let (config_names, secret_names) = refs.side(link.role());
        let mut link = link;
        if !config_names.is_empty() {
            let mut config = Config::new();
            for name in config_names {
                config.merge(self.named_config(name).await?);
            }
            link = link.with_config(config);
        }
        if !secret_names.is_empty() {
            let mut secrets = Secrets::new();
            for name in secret_names {
                secrets.merge(self.named_secrets(name)?);
            }
            link = link.with_secrets(secrets);
        }
        Ok(link)
    }

    /// Remembers the names a link refers to, to resolve it again when they change.
    pub(crate) fn remember(&mut self, key: LinkKey, refs: LinkRefs) {
        self.link_refs.insert(key, refs);
    }

    /// Forgets a link's names (deleted, or replaced by a host's put).
    pub(crate) fn forget(&mut self, key: &LinkKey) {
        self.link_refs.remove(key);
    }

    /// The links that name any of `config` (configurations) or `secrets`, in one order.
    pub(crate) fn links_naming(&self, config: &[String], secrets: &[String]) -> Vec<LinkKey> {
        self.links_where(|refs| {
            config.iter().any(|name| refs.names_config(name))
                || secrets.iter().any(|name| refs.names_secrets(name))
        })
    }

    fn links_where(&self, names: impl Fn(&LinkRefs) -> bool) -> Vec<LinkKey> {
        let mut keys: Vec<LinkKey> = self
            .link_refs
            .iter()
            .filter(|(_, refs)| names(refs))
            .map(|(key, _)| key.clone())
            .collect();
        // Hooks run in one order whatever the map's.
        keys.sort_by_key(ToString::to_string);
        keys
    }

    /// `link` resolved again from its names; `None` if it names none.
    pub(crate) async fn relink(&mut self, link: &Link) -> Option<Result<Link>> {
        let refs = self.link_refs.remove(link.key())?;
        let relinked = self.link(link.clone(), &refs).await;
        self.link_refs.insert(link.key().clone(), refs);
        Some(relinked)
    }

    /// Takes the host's new provider configuration; returns the provider's configuration.
    pub(crate) fn set_host_config(&mut self, host_config: Config) -> Config {
        self.provider.host_config = host_config;
        self.provider_config_from_cache()
    }

    /// Takes new values of the named configuration `name` in the store at `store`; returns
    /// whether anything changed. Names nobody refers to are not kept.
    pub(crate) fn config_changed(
        &mut self,
        store: usize,
        name: &str,
        values: Option<Values>,
    ) -> bool {
        let Some(layer) = self
            .config_cache
            .get_mut(name)
            .and_then(|layers| layers.get_mut(store))
        else {
            return false;
        };
        let values = values.map(|values| to_config(name, values));
        let was_unreadable = self.unreadable_config.remove(name).is_some();
        if *layer == values && !was_unreadable {
            return false;
        }
        *layer = values;
        tracing::info!(
            name,
            store = %self.stores[store].describe(),
            "named config changed"
        );
        true
    }

    /// Takes new values of the secrets `name`; returns whether anything changed.
    pub(crate) fn secrets_changed(&mut self, name: &str, values: Option<Secrets>) -> bool {
        let Some(cached) = self.secret_cache.get_mut(name) else {
            return false;
        };
        let values = values.unwrap_or_default();
        let was_unreadable = self.unreadable_secrets.remove(name).is_some();
        if *cached == values && !was_unreadable {
            return false;
        }
        *cached = values;
        tracing::info!(name, "named secrets changed");
        true
    }

    /// The provider's configuration, if it names any of `names`.
    pub(crate) fn provider_config_naming(&self, names: &[String]) -> Option<Config> {
        let named = &self.provider.config_names;
        names
            .iter()
            .any(|name| named.contains(name))
            .then(|| self.provider_config_from_cache())
    }

    /// The provider's secrets, if they name any of `names`.
    pub(crate) fn provider_secrets_naming(&self, names: &[String]) -> Option<Secrets> {
        let named = &self.provider.secret_names;
        if !names.iter().any(|name| named.contains(name)) {
            return None;
        }
        let mut secrets = self.provider.host_secrets.clone();
        for name in named {
            if let Some(cached) = self.secret_cache.get(name) {
                secrets.merge(cached.clone());
            }
        }
        Some(secrets)
    }

    fn provider_config_from_cache(&self) -> Config {
        let mut config = self.provider.host_config.clone();
        for name in &self.provider.config_names {
            if let Some(layers) = self.config_cache.get(name) {
                config.merge(merge_layers(layers));
            }
        }
        config
    }

    /// The named configuration `name`, merged across the stores; read on first use. A name
    /// that could not be read is cached as unreadable (its error stands until a store reports
    /// it again), so a link naming it can be put once it can be read.
    async fn named_config(&mut self, name: &str) -> Result<Config> {
        readable(&self.unreadable_config, name)?;
        if let Some(layers) = self.config_cache.get(name) {
            return Ok(merge_layers(layers));
        }
        let mut layers = Vec::with_capacity(self.stores.len());
        let mut failed = None;
        for store in &self.stores {
            match store.get(name).await {
                Ok(values) => layers.push(values.map(|values| to_config(name, values))),
                Err(error) => {
                    layers.push(None);
                    failed.get_or_insert(error);
                }
            }
        }
        if failed.is_none() && layers.iter().all(Option::is_none) {
            let stores: Vec<String> = self.stores.iter().map(|store| store.describe()).collect();
            tracing::warn!(
                name,
                stores = %stores.join(", "),
                "named config not found in any store; reading it as empty until it appears"
            );
        }
        let merged = merge_layers(&layers);
        self.config_cache.insert(name.to_owned(), layers);
        match failed {
            Some(error) => {
                self.unreadable_config
                    .insert(name.to_owned(), error.to_string());
                Err(error)
            }
            None => Ok(merged),
        }
    }

    /// The named secrets `name`; read on first use, cached as unreadable as configuration is.
    fn named_secrets(&mut self, name: &str) -> Result<Secrets> {
        readable(&self.unreadable_secrets, name)?;
        if let Some(secrets) = self.secret_cache.get(name) {
            return Ok(secrets.clone());
        }
        let Some(dir) = &self.secrets else {
            return Err(Error::NamedConfig {
                name: name.to_owned(),
                reason: "secrets are named, but there is no secrets folder (--secrets-dir)"
                    .to_owned(),
            });
        };
        let secrets = match dir.get(name) {
            Ok(Some(secrets)) => secrets,
            Ok(None) => {
                tracing::warn!(
                    name,
                    dir = %dir.dir().display(),
                    "named secrets not found; reading them as empty until they appear"
                );
                Secrets::new()
            }
            Err(error) => {
                self.secret_cache.insert(name.to_owned(), Secrets::new());
                self.unreadable_secrets
                    .insert(name.to_owned(), error.to_string());
                return Err(error);
            }
        };
        self.secret_cache.insert(name.to_owned(), secrets.clone());
        Ok(secrets)
    }
}

/// The error `name`'s last read ended in, if it is in `unreadable`.
fn readable(unreadable: &HashMap<String, String>, name: &str) -> Result<()> {
    match unreadable.get(name) {
        Some(reason) => Err(Error::NamedConfig {
            name: name.to_owned(),
            reason: format!("could not be read: {reason}"),
        }),
        None => Ok(()),
    }
}

/// A named configuration as a [`Config`] whose values remember their name.
fn to_config(name: &str, values: Values) -> Config {
    Config::from_map(values, ConfigSource::Named(name.into()))
}

/// One name's values across the stores, a later store winning.
fn merge_layers(layers: &[Option<Config>]) -> Config {
    Config::merged(layers.iter().flatten().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::stores::EnvStore;

    /// A store holding fixed values, for the merge rules.
    #[derive(Debug)]
    struct Fixed(Vec<(&'static str, Values)>);

    impl ConfigStore for Fixed {
        fn describe(&self) -> String {
            "fixed".to_owned()
        }

        fn get<'a>(
            &'a self,
            name: &'a str,
        ) -> futures::future::BoxFuture<'a, Result<Option<Values>>> {
            let found = self
                .0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone());
            Box::pin(async move { Ok(found) })
        }

        fn watch(
            self: Arc<Self>,
            _changes: crate::provider::stores::StoreChanges,
        ) -> futures::future::BoxFuture<'static, Result<crate::provider::stores::Watching>>
        {
            Box::pin(async { Ok(Box::pin(async {}) as crate::provider::stores::Watching) })
        }
    }

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn resolver(names: &[&str]) -> Resolver {
        let bucket = Fixed(vec![
            (
                "redis",
                values(&[("url", "bucket"), ("db", "1"), ("pool", "4")]),
            ),
            ("pool", values(&[("pool", "8")])),
        ]);
        let dir = Fixed(vec![("redis", values(&[("url", "dir"), ("db", "2")]))]);
        let env = EnvStore::from_vars([("WASMCLOUD_CONFIG_REDIS__URL", "env")]);
        Resolver::new(
            vec![Arc::new(bucket), Arc::new(dir), Arc::new(env)],
            None,
            ProviderRefs {
                host_config: Config::from_map(
                    [("url", "host"), ("host", "h")],
                    ConfigSource::HostProvider,
                ),
                config_names: names.iter().map(|n| (*n).to_owned()).collect(),
                ..ProviderRefs::default()
            },
        )
    }

    #[test]
    fn an_unreadable_secret_leaves_the_configuration_of_the_same_name_readable() {
        let secrets = tempfile::tempdir().unwrap();
        std::fs::create_dir(secrets.path().join("redis")).unwrap();
        std::fs::write(secrets.path().join("redis/password"), "pw").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", secrets.path().join("redis/escape")).unwrap();
        let mut resolver = resolver(&["redis"]);
        resolver.secrets = Some(SecretsDir::new(secrets.path()).unwrap());
        resolver.provider.secret_names = vec!["redis".into()];
        let error = resolver.provider_secrets().unwrap_err().to_string();
        assert!(error.contains("redis/escape"), "{error}");
        // The ConfigMap of the same name still reads...
        let config = futures::executor::block_on(resolver.provider_config()).unwrap();
        assert_eq!(config.get_str("db"), Some("2"));
        // ...and its changes do not make the secret readable.
        assert!(resolver.config_changed(1, "redis", Some(values(&[("db", "3")]))));
        assert!(resolver.provider_secrets().is_err());
        // The Secret's own change does.
        let fixed = Secrets::from_map([(
            "password",
            crate::wasmcloud::SecretValue::String("pw".into()),
        )]);
        assert!(resolver.secrets_changed("redis", Some(fixed.clone())));
        assert_eq!(resolver.provider_secrets().unwrap(), fixed);
    }

    #[test]
    fn stores_merge_in_order_then_names_in_order_after_the_host() {
        let mut resolver = resolver(&["redis", "pool"]);
        let config = futures::executor::block_on(resolver.provider_config()).unwrap();
        assert_eq!(config.get_str("url"), Some("env"), "env is the last store");
        assert_eq!(
            config.get_str("db"),
            Some("2"),
            "dir comes after the bucket"
        );
        assert_eq!(config.get_str("pool"), Some("8"), "a later name wins");
        assert_eq!(
            config.get_str("host"),
            Some("h"),
            "the host's values come first"
        );
        assert_eq!(
            config.source("db"),
            Some(&ConfigSource::Named("redis".into()))
        );

        // The directory's `redis` changes: the provider's configuration follows.
        assert!(resolver.config_changed(1, "redis", Some(values(&[("db", "3")]))));
        let changed = resolver.provider_config_naming(&["redis".into()]).unwrap();
        assert_eq!(changed.get_str("db"), Some("3"));
        assert_eq!(changed.get_str("url"), Some("env"));
        // The same values again are no change.
        assert!(!resolver.config_changed(1, "redis", Some(values(&[("db", "3")]))));
        // Gone from the directory: the bucket's value shows through.
        assert!(resolver.config_changed(1, "redis", None));
        let changed = resolver.provider_config_naming(&["redis".into()]).unwrap();
        assert_eq!(changed.get_str("db"), Some("1"));
        // A name nobody refers to changes nothing.
        assert!(!resolver.config_changed(0, "other", Some(values(&[]))));
        assert!(resolver.provider_config_naming(&["other".into()]).is_none());
    }
}
