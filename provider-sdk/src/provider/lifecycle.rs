//! The ordered control loop: link puts and deletes, configuration changes, one at a time, each
//! through the provider's hook, each committed only if the hook succeeded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Provider;
use super::config::{Config, ConfigSource, Secrets};
use super::control::ControlEvent;
use super::host_data::LinkDefinition;
use super::link::{Change, Link, LinkKey, LinkTable, Origin, Role};
use super::named_config::{NamedConfigs, to_config};
use super::runtime::Shared;
use super::sealed::{SecretKeys, open_without_keys};
use super::startup::InitialLink;
use crate::error::Result;

/// The named configurations a standalone link's sides refer to.
#[derive(Debug, Default)]
struct LinkRefs {
    source_names: Vec<String>,
    target_names: Vec<String>,
}

impl LinkRefs {
    fn mentions(&self, name: &str) -> bool {
        self.source_names
            .iter()
            .chain(&self.target_names)
            .any(|n| n == name)
    }
}

pub(crate) struct Lifecycle<P> {
    provider: Arc<P>,
    shared: Arc<Shared>,
    table: LinkTable,
    keys: Option<SecretKeys>,
    named: Option<NamedConfigs>,
    /// Named configurations read so far, kept current by the bucket watch.
    named_cache: HashMap<String, Config>,
    provider_config_names: Vec<String>,
    /// The provider's configuration as the host gave it (standalone: empty).
    host_config: Config,
    /// The provider's configuration in effect.
    config: Config,
    link_refs: HashMap<LinkKey, LinkRefs>,
}

impl<P: Provider> Lifecycle<P> {
    pub(crate) fn new(
        provider: Arc<P>,
        shared: Arc<Shared>,
        keys: Option<SecretKeys>,
        named: Option<NamedConfigs>,
        provider_config_names: Vec<String>,
        host_config: Config,
    ) -> Self {
        Self {
            provider,
            shared,
            table: LinkTable::new(),
            keys,
            named,
            named_cache: HashMap::new(),
            provider_config_names,
            config: host_config.clone(),
            host_config,
            link_refs: HashMap::new(),
        }
    }

    /// The provider's configuration: the host's, then its named configurations in order.
    pub(crate) async fn resolve_provider_config(&mut self) -> Config {
        let names = self.provider_config_names.clone();
        let merged = self.merge_named(self.host_config.clone(), &names).await;
        self.config = merged.clone();
        merged
    }

    async fn merge_named(&mut self, base: Config, names: &[String]) -> Config {
        let mut merged = base;
        for name in names {
            merged.merge(self.named_config(name).await);
        }
        merged
    }

    async fn named_config(&mut self, name: &str) -> Config {
        if let Some(config) = self.named_cache.get(name) {
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
        self.named_cache.insert(name.to_owned(), config.clone());
        config
    }

    /// Applies a link the provider starts with.
    pub(crate) async fn apply_initial(&mut self, initial: InitialLink) {
        let InitialLink {
            mut definition,
            source_secrets,
            target_secrets,
            source_names,
            target_names,
            sealed,
        } = initial;
        if definition.target.is_empty() {
            definition.target = self.shared.provider_id.clone();
        }
        let secrets = if sealed {
            self.open_secrets(&definition)
        } else {
            Ok((source_secrets, target_secrets))
        };
        let (source_secrets, target_secrets) = match secrets {
            Ok(secrets) => secrets,
            Err(error) => {
                tracing::error!(link = %key_of(&definition), %error, "link not applied");
                return;
            }
        };
        let Some(mut link) = Link::from_definition(
            &self.shared.provider_id,
            &definition,
            source_secrets,
            target_secrets,
        ) else {
            tracing::warn!(link = %key_of(&definition), "ignoring a link that neither starts nor ends at this provider");
            return;
        };
        let refs = LinkRefs {
            source_names,
            target_names,
        };
        if !refs.source_names.is_empty() || !refs.target_names.is_empty() {
            link = self.resolve_link_config(link, &refs).await;
            self.link_refs.insert(link.key().clone(), refs);
        }
        let change = self.table.put(link, Origin::Local, Instant::now());
        self.apply(change).await;
    }

    /// A link's configuration from the named configurations it refers to (only this
    /// provider's side can refer to names; the other side keeps its values).
    async fn resolve_link_config(&mut self, link: Link, refs: &LinkRefs) -> Link {
        let (names, side) = match link.role() {
            Role::Target => (&refs.target_names, link.target_config().clone()),
            Role::Source => (&refs.source_names, link.source_config().clone()),
        };
        if names.is_empty() {
            return link;
        }
        let names = names.clone();
        let config = self.merge_named(side, &names).await;
        link.with_config(config)
    }

    /// Applies control events in order until told to stop.
    pub(crate) async fn run(
        mut self,
        mut events: mpsc::Receiver<ControlEvent>,
        stop: CancellationToken,
    ) {
        loop {
            let event = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                event = events.recv() => match event {
                    Some(event) => event,
                    None => break,
                },
            };
            self.handle(event).await;
        }
    }

    async fn handle(&mut self, event: ControlEvent) {
        match event {
            ControlEvent::LinkPut(definition, origin) => self.put(&definition, origin).await,
            ControlEvent::LinkDelete(definition) => {
                let key = key_of(&definition);
                let change = self.table.delete(&key, Instant::now());
                if self.apply(change).await {
                    self.link_refs.remove(&key);
                }
            }
            ControlEvent::ProviderConfig(values) => {
                self.host_config = Config::from_map(values, ConfigSource::HostProvider);
                let config = self.resolve_provider_config_from_cache();
                self.update_provider_config(config).await;
            }
            ControlEvent::NamedConfig { name, values } => self.named_changed(name, values).await,
        }
    }

    async fn put(&mut self, definition: &LinkDefinition, origin: Origin) {
        let secrets = match origin {
            Origin::Sealed { .. } | Origin::Local => self.open_secrets(definition),
            // Copies carry no secrets; any they do carry are not trusted over the sealed put.
            Origin::Copy => Ok((Secrets::new(), Secrets::new())),
        };
        let (source_secrets, target_secrets) = match secrets {
            Ok(secrets) => secrets,
            Err(error) => {
                tracing::error!(link = %key_of(definition), %error, "link not applied");
                return;
            }
        };
        let Some(link) = Link::from_definition(
            &self.shared.provider_id,
            definition,
            source_secrets,
            target_secrets,
        ) else {
            tracing::debug!(link = %key_of(definition), "ignoring a link that is not this provider's");
            return;
        };
        let key = link.key().clone();
        let change = self.table.put(link, origin, Instant::now());
        // A put from the host replaces what a links file said: the named configurations the
        // file gave the link no longer apply to it.
        if self.apply(change).await && !matches!(origin, Origin::Local) {
            self.link_refs.remove(&key);
        }
    }

    fn open_secrets(&self, definition: &LinkDefinition) -> Result<(Secrets, Secrets)> {
        let open = |sealed: Option<&Vec<u8>>| match &self.keys {
            Some(keys) => keys.open(sealed.map(Vec::as_slice)),
            None => open_without_keys(sealed.map(Vec::as_slice)),
        };
        Ok((
            open(definition.source_secrets.as_ref())?,
            open(definition.target_secrets.as_ref())?,
        ))
    }

    fn resolve_provider_config_from_cache(&self) -> Config {
        let mut config = self.host_config.clone();
        for name in &self.provider_config_names {
            if let Some(named) = self.named_cache.get(name) {
                config.merge(named.clone());
            }
        }
        config
    }

    async fn update_provider_config(&mut self, config: Config) {
        if config == self.config {
            return;
        }
        match self.provider.config_updated(&config).await {
            Ok(()) => {
                tracing::info!(keys = config.len(), "provider configuration updated");
                self.shared.set_config(config.clone());
                self.config = config;
            }
            Err(error) => {
                tracing::error!(%error, "the config update hook failed; the previous configuration stays in effect");
            }
        }
    }

    async fn named_changed(&mut self, name: String, values: Option<HashMap<String, String>>) {
        let config = match values {
            Some(values) => to_config(&name, values),
            None => Config::new(),
        };
        self.named_cache.insert(name.clone(), config);
        if self.provider_config_names.contains(&name) {
            let config = self.resolve_provider_config_from_cache();
            self.update_provider_config(config).await;
        }
        let affected: Vec<LinkKey> = self
            .link_refs
            .iter()
            .filter(|(_, refs)| refs.mentions(&name))
            .map(|(key, _)| key.clone())
            .collect();
        for key in affected {
            let (Some(link), Some(refs)) =
                (self.table.get(&key).cloned(), self.link_refs.remove(&key))
            else {
                continue;
            };
            // A side that names configurations has no values of its own: merge the names
            // again from nothing.
            let relinked = (*link).clone().with_config(Config::new());
            let relinked = self.resolve_link_config(relinked, &refs).await;
            self.link_refs.insert(key, refs);
            let change = self.table.put(relinked, Origin::Local, Instant::now());
            self.apply(change).await;
        }
    }

    /// Runs the hook for `change` and commits it if the hook succeeded (a delete is committed
    /// whatever the hook says). Returns whether the change took effect.
    async fn apply(&mut self, change: Change) -> bool {
        match &change {
            Change::Unchanged => true,
            Change::Added(link) | Change::Updated { new: link, .. } => {
                let updated = matches!(change, Change::Updated { .. });
                let result = match link.role() {
                    Role::Target => self.provider.link_put_as_target(link).await,
                    Role::Source => self.provider.link_put_as_source(link).await,
                };
                match result {
                    Ok(()) => {
                        self.table.commit(&change);
                        self.shared.set_link(Arc::clone(link));
                        tracing::info!(link = %link.key(), role = ?link.role(), updated, "link in effect");
                        true
                    }
                    Err(error) => {
                        tracing::error!(
                            link = %link.key(),
                            %error,
                            "the link hook failed; {}",
                            if updated { "the link stays as it was" } else { "the link is not applied" }
                        );
                        false
                    }
                }
            }
            Change::Removed(link) => {
                let result = match link.role() {
                    Role::Target => self.provider.link_deleted_as_target(link).await,
                    Role::Source => self.provider.link_deleted_as_source(link).await,
                };
                self.table.commit(&change);
                self.shared.remove_link(link.key());
                match result {
                    Ok(()) => tracing::info!(link = %link.key(), "link deleted"),
                    Err(error) => {
                        tracing::error!(link = %link.key(), %error, "the link delete hook failed; the link is deleted anyway");
                    }
                }
                true
            }
        }
    }
}

fn key_of(definition: &LinkDefinition) -> LinkKey {
    LinkKey::new(&definition.source_id, &definition.target, &definition.name)
}
