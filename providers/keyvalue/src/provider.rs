//! The provider itself: its state (each link's store, the shared backends, bucket handles,
//! watchers, the provider-level configuration) and its lifecycle hooks. The WIT handlers that
//! serve calls are in `handlers.rs`.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use provider_sdk::provider::{
    Config, Context, Health, HookResult, InitContext, Link, LinkResources, Provider,
    ProviderHandle, ResourceHandles,
};
use provider_sdk::transport::{Server, Serving};
use provider_sdk::wire::ResourceBorrow;

use crate::bindings::{self, exports::wasi};
use crate::config::{self, BackendConfig};
use crate::error::{Error, Result};
use crate::store::{Backends, Store};
use crate::watch::Watchers;

/// The keyvalue provider.
#[derive(Debug, Default)]
pub struct KeyValueProvider {
    /// The provider's configuration: every link's defaults.
    defaults: Mutex<Config>,
    /// Each link's store.
    stores: LinkResources<Store>,
    /// Opens the links' stores, sharing connections between links with equal settings.
    backends: Backends,
    /// `wasi:keyvalue` bucket handles: the bucket's name, scoped to the link that opened it.
    buckets: ResourceHandles<String>,
    /// Components watching keys, by their source link.
    watchers: Watchers,
    /// The running provider, for calling watchers.
    handle: OnceLock<ProviderHandle>,
}

impl KeyValueProvider {
    /// How many links have a store.
    pub fn links(&self) -> usize {
        self.stores.len()
    }

    fn defaults(&self) -> Config {
        self.defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the provider's configuration, warning about its unknown keys once, here, when it
    /// changes (not for every link that inherits it).
    fn set_defaults(&self, config: &Config) {
        let mut defaults = self.defaults.lock().unwrap_or_else(PoisonError::into_inner);
        if *defaults != *config {
            config::warn_unknown_provider_keys(config);
            *defaults = config.clone();
        }
    }

    /// The store of the link the call came over. The runtime lets only linked callers in, so
    /// a link without a store was deleted or replaced while the call was on its way.
    pub(crate) fn store(&self, cx: &Context) -> Result<Arc<Store>> {
        self.stores
            .for_context(cx)
            .ok_or_else(|| Error::LinkChanged {
                link_name: cx.link_name().to_owned(),
            })
    }

    /// A new `wasi:keyvalue` bucket handle for `bucket`, if the link's store can open it.
    pub(crate) async fn open_bucket(&self, cx: &Context, bucket: String) -> Result<Bytes> {
        self.store(cx)?.open(&bucket).await?;
        Ok(self.buckets.insert(cx, bucket)?)
    }

    /// The store and bucket name behind a `wasi:keyvalue` bucket handle.
    pub(crate) fn bucket(
        &self,
        cx: &Context,
        handle: &ResourceBorrow<wasi::keyvalue::store::Bucket>,
    ) -> Result<(Arc<Store>, Arc<String>)> {
        let bucket = self.buckets.get(cx, handle.as_bytes())?;
        Ok((self.store(cx)?, bucket))
    }
}

impl Provider for KeyValueProvider {
    async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
        bindings::serve(server, self).await
    }

    async fn init(&self, init: &InitContext) -> HookResult {
        let _ = self.handle.set(init.handle().clone());
        self.set_defaults(init.config());
        Ok(())
    }

    /// New defaults apply to links put from now on; live links keep their stores.
    async fn config_updated(&self, config: &Config) -> HookResult {
        self.set_defaults(config);
        Ok(())
    }

    /// A new link, or new settings for a live one. A memory link that stays memory keeps its
    /// data; any other change makes a new store (the old one closes when its last call ends).
    async fn link_put_as_target(&self, link: &Link) -> HookResult {
        config::warn_unknown_link_keys(link);
        let backend = BackendConfig::for_link(&self.defaults(), link)?;
        if backend == BackendConfig::Memory
            && let Some(current) = self.stores.get(link.key())
            && current.is_memory()
        {
            return Ok(());
        }
        let store = self.backends.open(&backend).await?;
        // Watchers open the new store's feeds before calls reach it: no change goes unheard.
        let watchers = self.watchers.prepare(link.key(), &store).await;
        let store = self
            .stores
            .put(link, async { Ok::<_, Error>(store) })
            .await?;
        watchers.attach(&store);
        tracing::info!(link = %link.key(), ?backend, "keyvalue link ready");
        Ok(())
    }

    async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
        self.stores.remove(link.key());
        self.buckets.remove_link(link.key());
        self.watchers.detach(link.key());
        Ok(())
    }

    /// A link to a component that may watch keys (source config `watch` and `bucket`).
    async fn link_put_as_source(&self, link: &Link) -> HookResult {
        let handle = self.handle.get().ok_or("the provider has not started")?;
        self.watchers
            .put(handle, link, |watched| self.stores.get(watched))
            .await?;
        Ok(())
    }

    async fn link_deleted_as_source(&self, link: &Link) -> HookResult {
        self.watchers.remove(link.key());
        Ok(())
    }

    /// Unhealthy only if a link's backend is broken beyond mending itself (none is today: a
    /// backend whose server is down reconnects, its calls failing meanwhile), naming each once.
    async fn health(&self) -> Health {
        let mut down: Vec<String> = self
            .stores
            .links()
            .iter()
            .filter_map(|link| self.stores.get(link)?.health().err())
            .collect();
        if down.is_empty() {
            return Health::healthy();
        }
        down.sort_unstable();
        down.dedup();
        Health::unhealthy(down.join("; "))
    }

    async fn shutdown(&self) -> HookResult {
        self.watchers.clear();
        self.stores.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use provider_sdk::provider::{ConfigSource, Secrets};
    use provider_sdk::wasmcloud::LinkDefinition;

    use provider_testing::Logs;

    use super::*;

    fn link(name: &str, config: &[(&str, &str)]) -> Link {
        let mut definition = LinkDefinition::default();
        definition.source_id = "comp".into();
        definition.target = "kv".into();
        definition.name = name.into();
        definition.target_config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Link::from_definition("kv", &definition, Secrets::new(), Secrets::new()).unwrap()
    }

    /// A provider-level unknown key is warned about once, naming the provider config, however
    /// many links inherit it; a link's own unknown key once per put of that link, naming it.
    #[tokio::test(flavor = "current_thread")]
    async fn unknown_keys_are_warned_about_once_where_they_were_set() {
        let logs = Logs::default();
        let _logging = tracing::subscriber::set_default(logs.clone());
        let provider = KeyValueProvider::default();
        let defaults = Config::from_map(
            [("provider_typo", "x"), ("response_timeout_ms", "100")],
            ConfigSource::HostProvider,
        );
        provider.config_updated(&defaults).await.unwrap();
        // The same configuration again (a named config re-read, ...) is no news.
        provider.config_updated(&defaults).await.unwrap();
        for name in ["one", "two", "three"] {
            provider.link_put_as_target(&link(name, &[])).await.unwrap();
        }
        provider
            .link_put_as_target(&link("alpha", &[("link_typo", "y")]))
            .await
            .unwrap();
        provider
            .link_put_as_target(&link("beta", &[("LINK_TYPO", "z")]))
            .await
            .unwrap();
        assert_eq!(provider.links(), 5);

        let warned = logs.with(&["unknown config key", "provider_typo"]);
        assert_eq!(warned.len(), 1, "{warned:#?}");
        assert!(
            warned[0].contains("keyvalue provider config")
                && warned[0].contains(&ConfigSource::HostProvider.to_string()),
            "{warned:#?}"
        );
        let warned = logs.with(&["unknown config key", "(alpha)", "link_typo"]);
        assert_eq!(warned.len(), 1, "{warned:#?}");
        let warned = logs.with(&["unknown config key", "(beta)", "LINK_TYPO"]);
        assert_eq!(warned.len(), 1, "{warned:#?}");
        assert_eq!(logs.with(&["unknown config key"]).len(), 3);

        // A new provider config is warned about once more; a link put again, once more.
        let updated = Config::from_map([("provider_typo", "changed")], ConfigSource::HostProvider);
        provider.config_updated(&updated).await.unwrap();
        provider
            .link_put_as_target(&link("alpha", &[("link_typo", "y")]))
            .await
            .unwrap();
        assert_eq!(logs.with(&["unknown config key", "provider_typo"]).len(), 2);
        assert_eq!(
            logs.with(&["unknown config key", "(alpha)", "link_typo"])
                .len(),
            2
        );
    }
}
