//! The ordered control loop: link puts and deletes, configuration changes, one at a time, each
//! through the provider's hook, each committed only if the hook succeeded.
//!
//! The loop is the only writer of the links and configuration in [`State`]; it resolves named
//! configuration through a [`Resolver`] before a change reaches a hook.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::resolve::{LinkRefs, Resolver};
use super::router::ControlEvent;
use crate::error::Result;
use crate::provider::config::{Config, ConfigSource, Secrets};
use crate::provider::hooks::Provider;
use crate::provider::link::{Link, LinkKey, Role};
use crate::provider::link_table::{Change, Origin};
use crate::provider::startup::InitialLink;
use crate::provider::state::State;
use crate::wasmcloud::{LinkDefinition, SecretKeys, open_without_keys};

/// Where a link's secrets come from.
enum SecretsFrom {
    /// Sealed in the definition, for the provider's xkey.
    Sealed,
    /// Given apart, in the clear (a standalone links file).
    Given(Secrets, Secrets),
    /// None: a host's copy of a put carries none, and any it did carry are not trusted.
    Nowhere,
}

/// Applies control events to the provider, in order.
pub(crate) struct Applier<P> {
    provider: Arc<P>,
    state: Arc<State>,
    keys: Option<SecretKeys>,
    resolver: Resolver,
}

impl<P: Provider> Applier<P> {
    pub(crate) fn new(
        provider: Arc<P>,
        state: Arc<State>,
        keys: Option<SecretKeys>,
        resolver: Resolver,
    ) -> Self {
        Self {
            provider,
            state,
            keys,
            resolver,
        }
    }

    /// Resolves the provider's configuration and puts it in effect (before `init`).
    pub(crate) async fn resolve_provider_config(&mut self) -> Config {
        let config = self.resolver.provider_config().await;
        self.state.set_config(config.clone());
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
            definition.target = self.state.identity.provider_id.clone();
        }
        let secrets = if sealed {
            SecretsFrom::Sealed
        } else {
            SecretsFrom::Given(source_secrets, target_secrets)
        };
        let Some(mut link) = self.link_from(&definition, secrets) else {
            return;
        };
        let refs = LinkRefs::new(source_names, target_names);
        if !refs.is_empty() {
            link = self.resolver.link_config(link, &refs).await;
            self.resolver.remember(link.key().clone(), refs);
        }
        self.put(link, Origin::Local).await;
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
            ControlEvent::LinkPut(definition, origin) => {
                let secrets = match origin {
                    Origin::Sealed { .. } | Origin::Local => SecretsFrom::Sealed,
                    Origin::Copy => SecretsFrom::Nowhere,
                };
                if let Some(link) = self.link_from(&definition, secrets) {
                    let key = link.key().clone();
                    // A put from the host replaces what a links file said: the named
                    // configurations the file gave the link no longer apply to it.
                    if self.put(link, origin).await && !matches!(origin, Origin::Local) {
                        self.resolver.forget(&key);
                    }
                }
            }
            ControlEvent::LinkDelete(definition) => {
                let key = key_of(&definition);
                let change = self
                    .state
                    .with_links(|links| links.delete(&key, Instant::now()));
                if self.apply(change).await {
                    self.resolver.forget(&key);
                }
            }
            ControlEvent::ProviderConfig(values) => {
                let host_config = Config::from_map(values, ConfigSource::HostProvider);
                let config = self.resolver.set_host_config(host_config);
                self.update_provider_config(config).await;
            }
            ControlEvent::NamedConfig { name, values } => self.named_changed(name, values).await,
        }
    }

    /// The link `definition` describes, its secrets opened; `None` (logged) when the secrets do
    /// not open or the link is not this provider's.
    fn link_from(&self, definition: &LinkDefinition, secrets: SecretsFrom) -> Option<Link> {
        let opened = match secrets {
            SecretsFrom::Sealed => self.open_secrets(definition),
            SecretsFrom::Given(source, target) => Ok((source, target)),
            SecretsFrom::Nowhere => Ok((Secrets::new(), Secrets::new())),
        };
        let (source_secrets, target_secrets) = match opened {
            Ok(secrets) => secrets,
            Err(error) => {
                tracing::error!(link = %key_of(definition), %error, "link not applied");
                return None;
            }
        };
        let link = Link::from_definition(
            &self.state.identity.provider_id,
            definition,
            source_secrets,
            target_secrets,
        );
        if link.is_none() {
            tracing::debug!(link = %key_of(definition), "ignoring a link that is not this provider's");
        }
        link
    }

    fn open_secrets(&self, definition: &LinkDefinition) -> Result<(Secrets, Secrets)> {
        let open = |sealed: Option<&Vec<u8>>| {
            let sealed = sealed.map(Vec::as_slice);
            match &self.keys {
                Some(keys) => keys.open(sealed),
                None => open_without_keys(sealed),
            }
            .map(Secrets::from_map)
        };
        Ok((
            open(definition.source_secrets.as_ref())?,
            open(definition.target_secrets.as_ref())?,
        ))
    }

    /// Puts `link` through the table and the hook; returns whether it took effect.
    async fn put(&mut self, link: Link, origin: Origin) -> bool {
        let change = self
            .state
            .with_links(|links| links.put(link, origin, Instant::now()));
        self.apply(change).await
    }

    async fn update_provider_config(&mut self, config: Config) {
        if *self.state.config() == config {
            return;
        }
        match self.provider.config_updated(&config).await {
            Ok(()) => {
                tracing::info!(keys = config.len(), "provider configuration updated");
                self.state.set_config(config);
            }
            Err(error) => {
                tracing::error!(%error, "the config update hook failed; the previous configuration stays in effect");
            }
        }
    }

    async fn named_changed(&mut self, name: String, values: Option<HashMap<String, String>>) {
        if let Some(config) = self.resolver.named_changed(&name, values) {
            self.update_provider_config(config).await;
        }
        for key in self.resolver.links_naming(&name) {
            let Some(link) = self.state.link(&key) else {
                continue;
            };
            if let Some(relinked) = self.resolver.relink(&link).await {
                self.put(relinked, Origin::Local).await;
            }
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
                        self.state.with_links(|links| links.commit(&change));
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
                self.state.with_links(|links| links.commit(&change));
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
