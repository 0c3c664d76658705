//! Per-link state: one connection pool (or client, or anything) per link, found again from an
//! invocation's context.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};

use super::context::Context;
use super::link::{Link, LinkKey};

/// What identical configuration means for sharing: the link's own side of the configuration
/// and its secrets, keys lowercased. Kept whole, not hashed: two links share a pool only if
/// their settings are equal, never because two hashes collide.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Settings(Vec<(String, Vec<u8>)>);

impl Settings {
    fn of(link: &Link) -> Self {
        let config = link.config().iter().map(|(key, value)| {
            (
                format!("c:{}", key.to_lowercase()),
                value.as_bytes().to_vec(),
            )
        });
        let secrets = link.secrets().keys().filter_map(|key| {
            let value = link.secrets().get(key)?;
            Some((
                format!("s:{}", key.to_lowercase()),
                value.as_bytes().to_vec(),
            ))
        });
        let mut settings: Vec<_> = config.chain(secrets).collect();
        settings.sort();
        Self(settings)
    }
}

struct Inner<T> {
    by_link: HashMap<LinkKey, (Option<Settings>, Arc<T>)>,
    /// With sharing: the live value for each distinct configuration.
    shared: HashMap<Settings, Weak<T>>,
}

/// State kept per link, such as connection pools: built in [`Provider::link_put_as_target`]
/// (or `..._as_source`), found from an invocation's [`Context`], rebuilt when the link's
/// configuration changes, and dropped on link delete and when the provider stops.
///
/// A value is closed by dropping it: once it is no longer registered, it closes when the last
/// invocation still using it finishes. [`LinkResources::shared_by_config`] makes links whose
/// configuration and secrets are identical share one value.
///
/// Cheap to clone; clones share the registry.
///
/// [`Provider::link_put_as_target`]: super::Provider::link_put_as_target
pub struct LinkResources<T> {
    inner: Arc<Mutex<Inner<T>>>,
    sharing: bool,
}

impl<T> Clone for LinkResources<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            sharing: self.sharing,
        }
    }
}

impl<T> Default for LinkResources<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for LinkResources<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("LinkResources")
            .field("links", &inner.by_link.keys().collect::<Vec<_>>())
            .field("sharing", &self.sharing)
            .finish()
    }
}

fn lock<T>(inner: &Mutex<Inner<T>>) -> std::sync::MutexGuard<'_, Inner<T>> {
    // The lock guards plain maps and no code panics while holding it; should one ever have,
    // the maps are still consistent.
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<T> LinkResources<T> {
    /// A registry with one value per link.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                by_link: HashMap::new(),
                shared: HashMap::new(),
            })),
            sharing: false,
        }
    }

    /// A registry where links with identical configuration and secrets (this provider's side
    /// of each link) share one value.
    ///
    /// Only the links' own settings are compared: a value that also depends on something else,
    /// such as a default from the provider's configuration, must not be shared this way (key
    /// the sharing yourself, or give each link its own).
    pub fn shared_by_config() -> Self {
        Self {
            sharing: true,
            ..Self::new()
        }
    }

    /// Registers a value for `link`, replacing any it had, and returns it. `build` makes the
    /// value; with sharing, it is not run when another link with the same configuration has a
    /// live value already, which is reused. On error nothing changes: the link keeps its
    /// previous value, if any.
    pub async fn put<F, E>(&self, link: &Link, build: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let settings = self.sharing.then(|| Settings::of(link));
        let existing = settings.as_ref().and_then(|settings| {
            let inner = lock(&self.inner);
            inner.shared.get(settings).and_then(Weak::upgrade)
        });
        let value = match existing {
            Some(value) => value,
            None => Arc::new(build.await?),
        };
        // Dropped outside the lock: closing a pool may take a while.
        drop(self.register(link.key(), settings, Arc::clone(&value)));
        Ok(value)
    }

    /// Registers `value` for `link` and returns the value it replaces, if any, for the caller
    /// to close when it sees fit ([`put`](Self::put) drops it at once). For a value built
    /// before anything is registered, so that a put that fails half-way leaves the link as it
    /// was. With sharing, `value` becomes the one links with the same configuration share.
    pub fn insert(&self, link: &Link, value: T) -> Option<Arc<T>> {
        let settings = self.sharing.then(|| Settings::of(link));
        self.register(link.key(), settings, Arc::new(value))
    }

    fn register(&self, key: &LinkKey, settings: Option<Settings>, value: Arc<T>) -> Option<Arc<T>> {
        let mut inner = lock(&self.inner);
        if let Some(settings) = &settings {
            inner
                .shared
                .insert(settings.clone(), Arc::downgrade(&value));
        }
        let previous = inner.by_link.insert(key.clone(), (settings, value));
        inner.shared.retain(|_, weak| weak.strong_count() > 0);
        previous.map(|(_, value)| value)
    }

    /// The value registered for the link under `key`.
    pub fn get(&self, key: &LinkKey) -> Option<Arc<T>> {
        lock(&self.inner)
            .by_link
            .get(key)
            .map(|(_, value)| Arc::clone(value))
    }

    /// The value for the link an invocation came over; `None` for a call over no link (possible
    /// only with [`RuntimeOptions::require_link`](super::RuntimeOptions::require_link) off), or
    /// over a link deleted while the call was on its way.
    pub fn for_context(&self, cx: &Context) -> Option<Arc<T>> {
        self.get(cx.link()?.key())
    }

    /// Unregisters the link's value and returns it; it closes once the last user drops it.
    pub fn remove(&self, key: &LinkKey) -> Option<Arc<T>> {
        let removed = lock(&self.inner).by_link.remove(key);
        removed.map(|(_, value)| value)
    }

    /// Unregisters every value.
    pub fn clear(&self) {
        let drained: Vec<_> = {
            let mut inner = lock(&self.inner);
            inner.shared.clear();
            inner.by_link.drain().collect()
        };
        drop(drained);
    }

    /// The links with a value.
    pub fn links(&self) -> Vec<LinkKey> {
        lock(&self.inner).by_link.keys().cloned().collect()
    }

    /// How many links have a value.
    pub fn len(&self) -> usize {
        lock(&self.inner).by_link.len()
    }

    /// Whether no link has a value.
    pub fn is_empty(&self) -> bool {
        lock(&self.inner).by_link.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::provider::Secrets;
    use crate::wasmcloud::LinkDefinition;

    fn link(source: &str, name: &str, url: &str) -> Link {
        let definition = LinkDefinition {
            source_id: source.into(),
            target: "me".into(),
            name: name.into(),
            target_config: [("url".to_owned(), url.to_owned())].into(),
            ..LinkDefinition::default()
        };
        Link::from_definition("me", &definition, Secrets::new(), Secrets::new()).unwrap()
    }

    /// Counts live instances, so tests can see a value close.
    struct Pool(Arc<AtomicUsize>);

    impl Pool {
        fn open(live: &Arc<AtomicUsize>) -> Self {
            live.fetch_add(1, Ordering::SeqCst);
            Self(Arc::clone(live))
        }
    }

    impl Drop for Pool {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn ok(pool: Pool) -> Result<Pool, Infallible> {
        Ok(pool)
    }

    #[tokio::test]
    async fn one_value_per_link_replaced_on_put_and_closed_on_remove() {
        let live = Arc::new(AtomicUsize::new(0));
        let pools = LinkResources::new();
        let a = link("c", "a", "redis://1");
        let b = link("c", "b", "redis://1");
        pools.put(&a, ok(Pool::open(&live))).await.unwrap();
        pools.put(&b, ok(Pool::open(&live))).await.unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 2);
        // A changed link gets a new value; the old one closes.
        pools
            .put(&link("c", "a", "redis://2"), ok(Pool::open(&live)))
            .await
            .unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 2);
        // A value still in use closes when its user lets go.
        let in_use = pools.get(a.key()).unwrap();
        pools.remove(a.key());
        assert_eq!(live.load(Ordering::SeqCst), 2);
        drop(in_use);
        assert_eq!(live.load(Ordering::SeqCst), 1);
        pools.clear();
        assert_eq!(live.load(Ordering::SeqCst), 0);
        assert!(pools.is_empty());
    }

    #[tokio::test]
    async fn a_failed_build_keeps_the_previous_value() {
        let pools = LinkResources::new();
        let a = link("c", "a", "redis://1");
        pools
            .put(&a, async { Ok::<_, Infallible>(1) })
            .await
            .unwrap();
        let failed = pools
            .put(&link("c", "a", "redis://2"), async { Err::<u8, _>("down") })
            .await;
        assert_eq!(failed.unwrap_err(), "down");
        assert_eq!(*pools.get(a.key()).unwrap(), 1);
    }

    #[tokio::test]
    async fn identical_config_shares_one_value_when_asked() {
        let live = Arc::new(AtomicUsize::new(0));
        let pools = LinkResources::shared_by_config();
        let a = link("c1", "default", "redis://1");
        let b = link("c2", "default", "redis://1");
        let c = link("c3", "default", "redis://other");
        pools.put(&a, ok(Pool::open(&live))).await.unwrap();
        let built = AtomicUsize::new(0);
        pools
            .put(&b, async {
                built.fetch_add(1, Ordering::SeqCst);
                ok(Pool::open(&live)).await
            })
            .await
            .unwrap();
        assert_eq!(
            built.load(Ordering::SeqCst),
            0,
            "the shared value is reused"
        );
        assert!(Arc::ptr_eq(
            &pools.get(a.key()).unwrap(),
            &pools.get(b.key()).unwrap()
        ));
        pools.put(&c, ok(Pool::open(&live))).await.unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 2);
        // The shared value lives while any link holds it.
        pools.remove(a.key());
        assert_eq!(live.load(Ordering::SeqCst), 2);
        pools.remove(b.key());
        assert_eq!(live.load(Ordering::SeqCst), 1);
        // A new link with that config builds a new one.
        pools.put(&a, ok(Pool::open(&live))).await.unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 2);
    }
}
