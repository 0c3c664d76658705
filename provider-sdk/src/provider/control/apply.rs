//! The ordered control loop: link puts and deletes, configuration and secrets changes, one at a
//! time, each through the provider's hook, each committed only if the hook succeeded.
//!
//! Two streams feed it, each in its own order: the host's control messages, and the changes the
//! stores of named configuration and secrets report. The loop is the only writer of the links
//! and configuration in [`State`]; it resolves named configuration and secrets through a
//! [`Resolver`] before a change reaches a hook.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::resolve::Resolver;
use super::router::ControlEvent;
use crate::error::Result;
use crate::provider::config::{Config, ConfigSource, Secrets};
use crate::provider::hooks::Provider;
use crate::provider::link::{Link, LinkKey, Role};
use crate::provider::link_table::{Change, Origin};
use crate::provider::startup::InitialLink;
use crate::provider::state::State;
use crate::provider::stores::StoreEvent;
use crate::telemetry::{self, ControlChange};
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
    /// The provider's secrets as its hooks last accepted them.
    secrets: Secrets,
    /// Links from a links file that name what could not be read: put once it can be.
    pending: HashMap<LinkKey, Link>,
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
            secrets: Secrets::new(),
            pending: HashMap::new(),
        }
    }

    /// Resolves the provider's configuration and secrets and puts them in effect (before
    /// `init`).
    pub(crate) async fn resolve_provider(&mut self) -> Result<(Config, Secrets)> {
        let config = self.resolver.provider_config().await?;
        let secrets = self.resolver.provider_secrets()?;
        self.state.set_config(config.clone());
        self.secrets = secrets.clone();
        Ok((config, secrets))
    }

    /// Applies a link the provider starts with.
    pub(crate) async fn apply_initial(&mut self, initial: InitialLink) {
        let InitialLink {
            mut definition,
            source_secrets,
            target_secrets,
            refs,
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
        if !refs.is_empty() {
            let key = link.key().clone();
            let resolved = self.resolver.link(link.clone(), &refs).await;
            self.resolver.remember(key.clone(), refs);
            link = match resolved {
                Ok(link) => link,
                Err(error) => {
                    tracing::error!(link = %key, %error, "link not applied yet: it will be once what it names can be read");
                    self.pending.insert(key, link);
                    return;
                }
            };
        }
        self.put(link, Origin::Local).await;
    }

    /// Applies the host's changes and the stores' in their orders until told to stop.
    pub(crate) async fn run(
        mut self,
        mut events: mpsc::Receiver<ControlEvent>,
        mut store_events: mpsc::Receiver<StoreEvent>,
        stop: CancellationToken,
    ) {
        // The stores' stream ends when every store has stopped watching (or none watches):
        // the host's goes on.
        let mut stores_open = true;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                event = events.recv() => match event {
                    Some(event) => self.handle(event).await,
                    None => break,
                },
                event = store_events.recv(), if stores_open => match event {
                    Some(event) => self.store_changed(event).await,
                    None => stores_open = false,
                },
            }
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
                        self.pending.remove(&key);
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
                if self.pending.remove(&key).is_some() {
                    self.resolver.forget(&key);
                    tracing::info!(link = %key, "a link waiting for what it names was deleted");
                }
            }
            ControlEvent::ProviderConfig(values) => {
                let host_config = Config::from_map(values, ConfigSource::HostProvider);
                let config = self.resolver.set_host_config(host_config);
                self.update_provider_config(config).await;
            }
        }
    }

    /// A store's change: the caches first, then the provider's hook and each affected link's
    /// once, however many names changed together.
    async fn store_changed(&mut self, event: StoreEvent) {
        let (config_names, secret_names): (Vec<String>, Vec<String>) = match event {
            StoreEvent::Config { store, changes } => {
                let changed = changes
                    .into_iter()
                    .filter_map(|(name, values)| {
                        self.resolver
                            .config_changed(store, &name, values)
                            .then_some(name)
                    })
                    .collect();
                (changed, Vec::new())
            }
            StoreEvent::Secrets { changes } => {
                let changed = changes
                    .into_iter()
                    .filter_map(|(name, values)| {
                        self.resolver.secrets_changed(&name, values).then_some(name)
                    })
                    .collect();
                (Vec::new(), changed)
            }
        };
        if let Some(config) = self.resolver.provider_config_naming(&config_names) {
            self.update_provider_config(config).await;
        }
        if let Some(secrets) = self.resolver.provider_secrets_naming(&secret_names) {
            self.update_provider_secrets(secrets).await;
        }
        let links = self.resolver.links_naming(&config_names, &secret_names);
        self.relink(links).await;
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
        let updated = self.provider.config_updated(&config).await;
        let fields = [("wasmcloud.config.keys", config.len().to_string())];
        telemetry::control_event(ControlChange::ConfigUpdated, &fields, updated.is_ok());
        match updated {
            Ok(()) => {
                tracing::info!(keys = config.len(), "provider configuration updated");
                self.state.set_config(config);
            }
            Err(error) => {
                tracing::error!(%error, "the config update hook failed; the previous configuration stays in effect");
            }
        }
    }

    async fn update_provider_secrets(&mut self, secrets: Secrets) {
        if self.secrets == secrets {
            return;
        }
        match self.provider.secrets_updated(&secrets).await {
            Ok(()) => {
                tracing::info!(keys = secrets.len(), "provider secrets updated");
                self.secrets = secrets;
            }
            Err(error) => {
                tracing::error!(%error, "the secrets update hook failed; the previous secrets stay in effect");
            }
        }
    }

    /// Puts the links `keys` again (or for the first time, if they were waiting), resolved from
    /// the names they refer to.
    async fn relink(&mut self, keys: Vec<LinkKey>) {
        for key in keys {
            let link = match self.state.link(&key) {
                Some(link) => Link::clone(&link),
                None => match self.pending.get(&key) {
                    Some(link) => link.clone(),
                    None => continue,
                },
            };
            match self.resolver.relink(&link).await {
                Some(Ok(relinked)) => {
                    let applied = self.put(relinked, Origin::Local).await;
                    if applied {
                        self.pending.remove(&key);
                    }
                }
                Some(Err(error)) => {
                    tracing::error!(link = %key, %error, "the link stays as it was");
                }
                None => {}
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
                telemetry::control_event(
                    ControlChange::LinkPut,
                    &link_fields(link),
                    result.is_ok(),
                );
                match result {
                    Ok(()) => {
                        self.state.with_links(|links| links.commit(&change));
                        if !updated {
                            telemetry::links_changed(1, role_name(link.role()));
                        }
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
                telemetry::links_changed(-1, role_name(link.role()));
                telemetry::control_event(
                    ControlChange::LinkDeleted,
                    &link_fields(link),
                    result.is_ok(),
                );
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

/// What a link's span says about it: who, which interfaces; never configuration or secrets.
fn link_fields(link: &Link) -> [(&'static str, String); 5] {
    [
        ("wasmcloud.link.source_id", link.source_id().to_owned()),
        ("wasmcloud.link.target", link.target().to_owned()),
        ("wasmcloud.link_name", link.name().to_owned()),
        ("wasmcloud.link.role", role_name(link.role()).to_owned()),
        (
            "wasmcloud.link.interfaces",
            format!(
                "{}:{}/{{{}}}",
                link.wit_namespace(),
                link.wit_package(),
                link.interfaces().join(",")
            ),
        ),
    ]
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Target => "target",
        Role::Source => "source",
    }
}
