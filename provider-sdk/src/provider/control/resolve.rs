//! Named configuration resolved into the provider's and the links' configuration.
//!
//! A wasmCloud host resolves names itself and sends merged maps; a standalone provider names
//! configurations (`--config`, a links file) that live in the `CONFIGDATA_<lattice>` bucket.
//! The [`Resolver`] merges them in order (later names win), caches what it read, and says
//! which configurations a change of one name touches.

use std::collections::HashMap;

use super::named_config::{NamedConfigs, to_config};
use crate::provider::config::Config;
use crate::provider::link::{Link, LinkKey, Role};

/// The named configurations a standalone link's sides refer to.
#[derive(Debug, Default)]
pub(crate) struct LinkRefs {
    source_names: Vec<String>,
    target_names: Vec<String>,
}

impl LinkRefs {
    pub(crate) fn new(source_names: Vec<String>, target_names: Vec<String>) -> Self {
        Self {
            source_names,
            target_names,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.source_names.is_empty() && self.target_names.is_empty()
    }

    fn mentions(&self, name: &str) -> bool {
        self.source_names
            .iter()
            .chain(&self.target_names)
            .any(|n| n == name)
    }
}

pub(crate) struct Resolver {
    /// The bucket, when some name needs it.
    named: Option<NamedConfigs>,
    /// Named configurations read so far, kept current by the bucket watch.
    cache: HashMap<String, Config>,
    provider_names: Vec<String>,
    /// The provider's configuration as the host gave it (standalone: empty).
    host_config: Config,
    link_refs: HashMap<LinkKey, LinkRefs>,
}

impl Resolver {
    pub(crate) fn new(
        named: Option<NamedConfigs>,
        provider_names: Vec<String>,
        host_config: Config,
    ) -> Self {
        Self {
            named,
            cache: HashMap::new(),
            provider_names,
            host_config,
            link_refs: HashMap::new(),
        }
    }

    /// The provider's configuration: the host's, then its named configurations in order.
    pub(crate) async fn provider_config(&mut self) -> Config {
        let names = self.provider_names.clone();
        self.merge_named(self.host_config.clone(), &names).await
    }

    /// A link's configuration from the named configurations it refers to (only this
    /// provider's side can refer to names; the other side keeps its values).
    pub(crate) async fn link_config(&mut self, link: Link, refs: &LinkRefs) -> Link {
        let (names, side) = match link.role() {
            Role::Target => (&refs.target_names, link.target_config().clone()),
            Role::Source => (&refs.source_names, link.source_config().clone()),
        };
        if names.is_empty() {
            return link;
        }
        let config = self.merge_named(side, names).await;
        link.with_config(config)
    }

    /// Remembers the names a link's configuration came from, to resolve it again when they
    /// change.
    pub(crate) fn remember(&mut self, key: LinkKey, refs: LinkRefs) {
        self.link_refs.insert(key, refs);
    }

    /// Forgets a link's names (deleted, or replaced by a host's put).
    pub(crate) fn forget(&mut self, key: &LinkKey) {
        self.link_refs.remove(key);
    }

    /// The links whose configuration names `name`.
    pub(crate) fn links_naming(&self, name: &str) -> Vec<LinkKey> {
        self.link_refs
            .iter()
            .filter(|(_, refs)| refs.mentions(name))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// `link` with its configuration merged again from its names; `None` if it names none.
    pub(crate) async fn relink(&mut self, link: &Link) -> Option<Link> {
        let refs = self.link_refs.remove(link.key())?;
        // A side that names configurations has no values of its own: merge from nothing.
        let relinked = link.clone().with_config(Config::new());
        let relinked = self.link_config(relinked, &refs).await;
        self.link_refs.insert(link.key().clone(), refs);
        Some(relinked)
    }

    /// Takes the host's new provider configuration; returns the provider's configuration.
    pub(crate) fn set_host_config(&mut self, host_config: Config) -> Config {
        self.host_config = host_config;
        self.provider_config_from_cache()
    }

    /// Takes a change of the named configuration `name`; returns the provider's new
    /// configuration if the provider names it.
    pub(crate) fn named_changed(
        &mut self,
        name: &str,
        values: Option<HashMap<String, String>>,
    ) -> Option<Config> {
        let config = match values {
            Some(values) => to_config(name, values),
            None => Config::new(),
        };
        self.cache.insert(name.to_owned(), config);
        self.provider_names
            .iter()
            .any(|n| n == name)
            .then(|| self.provider_config_from_cache())
    }

    fn provider_config_from_cache(&self) -> Config {
        let mut config = self.host_config.clone();
        for name in &self.provider_names {
            if let Some(named) = self.cache.get(name) {
                config.merge(named.clone());
            }
        }
        config
    }

    async fn merge_named(&mut self, base: Config, names: &[String]) -> Config {
        let mut merged = base;
        for name in names {
            merged.merge(self.named(name).await);
        }
        merged
    }

    async fn named(&mut self, name: &str) -> Config {
        if let Some(config) = self.cache.get(name) {
            return config.clone();
        }
        let config = match &self.named {
            Some(named) => named.get(name).await,
            None => {
                tracing::warn!(
                    name,
                    "named config requested, but there is no bucket to read it from"
                );
                Config::new()
            }
        };
        self.cache.insert(name.to_owned(), config.clone());
        config
    }
}
