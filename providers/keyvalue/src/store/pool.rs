//! Connection sharing, once for every backend: one opened backend per distinct settings,
//! shared by the links with those settings, closed when the last of them lets it go.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::backend::Backend;
use crate::error::Result;

/// The live backends of one kind, by their settings. It holds them weakly: the links' stores
/// hold them, so a backend closes (drops its connection) when the last link using it is
/// deleted or moves elsewhere, and the next link with those settings opens a new one.
pub(crate) struct Pool<B: Backend> {
    live: Mutex<HashMap<B::Settings, Weak<B>>>,
}

impl<B: Backend> Default for Pool<B> {
    fn default() -> Self {
        Self {
            live: Mutex::default(),
        }
    }
}

impl<B: Backend> fmt::Debug for Pool<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("backend", &B::NAME)
            .field("live", &self.live_count())
            .finish()
    }
}

impl<B: Backend> Pool<B> {
    /// The backend for `settings`: the live one with equal settings if there is one (and
    /// the backend is [shared](Backend::SHARED)), else a newly opened one.
    pub(crate) async fn open(&self, settings: &B::Settings) -> Result<Arc<B>> {
        if !B::SHARED {
            return Ok(Arc::new(B::open(settings).await?));
        }
        if let Some(live) = self.live(settings) {
            return Ok(live);
        }
        // Link hooks run one at a time, so no other put opens one meanwhile (were one to, both
        // would work, and the later would be the one shared).
        let backend = Arc::new(B::open(settings).await?);
        tracing::debug!(
            backend = B::NAME,
            ?settings,
            "opened a shared backend connection"
        );
        self.lock()
            .insert(settings.clone(), Arc::downgrade(&backend));
        Ok(backend)
    }

    /// The live backend with `settings`, forgetting those that closed.
    fn live(&self, settings: &B::Settings) -> Option<Arc<B>> {
        let mut live = self.lock();
        live.retain(|_, backend| backend.strong_count() > 0);
        live.get(settings).and_then(Weak::upgrade)
    }

    /// How many backends are open.
    fn live_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|backend| backend.strong_count() > 0)
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<B::Settings, Weak<B>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;

    use super::*;
    use crate::store::backend::KeyPage;
    use crate::store::feed::{Changes, Filter};

    /// How many fakes were opened.
    static OPENED: AtomicUsize = AtomicUsize::new(0);

    /// Backends that only count how often they were opened.
    macro_rules! fake {
        ($name:literal, $shared:literal, $ty:ident) => {
            #[derive(Debug)]
            struct $ty;

            impl Backend for $ty {
                const NAME: &'static str = $name;
                const SHARED: bool = $shared;
                type Settings = &'static str;

                async fn open(_: &&'static str) -> Result<Self> {
                    OPENED.fetch_add(1, Ordering::SeqCst);
                    Ok($ty)
                }
                async fn get(&self, _: &str, _: &str) -> Result<Option<Bytes>> {
                    Ok(None)
                }
                async fn set(&self, _: &str, _: &str, _: Bytes) -> Result<()> {
                    Ok(())
                }
                async fn delete(&self, _: &str, _: &str) -> Result<()> {
                    Ok(())
                }
                async fn exists(&self, _: &str, _: &str) -> Result<bool> {
                    Ok(false)
                }
                async fn list_keys(&self, _: &str, _: Option<u64>) -> Result<KeyPage> {
                    Ok((Vec::new(), None))
                }
                async fn increment(&self, _: &str, _: &str, delta: u64) -> Result<u64> {
                    Ok(delta)
                }
                async fn get_many(
                    &self,
                    _: &str,
                    keys: Vec<String>,
                ) -> Result<Vec<Option<(String, Bytes)>>> {
                    Ok(keys.iter().map(|_| None).collect())
                }
                async fn set_many(&self, _: &str, _: Vec<(String, Bytes)>) -> Result<()> {
                    Ok(())
                }
                async fn delete_many(&self, _: &str, _: Vec<String>) -> Result<()> {
                    Ok(())
                }
                async fn changes(&self, _: &str, _: &Filter) -> Result<Changes> {
                    Ok(Box::pin(futures::stream::empty()))
                }
            }
        };
    }

    fake!("shared", true, Shared);
    fake!("own", false, Own);

    // One test: `OPENED` is shared by the fakes.
    #[tokio::test]
    async fn equal_settings_share_one_backend_until_the_last_user_drops_it() {
        let pool = Pool::<Shared>::default();
        let opened = || OPENED.load(Ordering::SeqCst);
        let before = opened();
        let a = pool.open(&"a").await.unwrap();
        let also_a = pool.open(&"a").await.unwrap();
        assert!(Arc::ptr_eq(&a, &also_a));
        let b = pool.open(&"b").await.unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!((opened() - before, pool.live_count()), (2, 2));
        drop(a);
        assert_eq!(pool.live_count(), 2, "one link still uses `a`");
        drop(also_a);
        assert_eq!(pool.live_count(), 1, "`a` closed with its last link");
        let a_again = pool.open(&"a").await.unwrap();
        assert_eq!((opened() - before, pool.live_count()), (3, 2));
        drop((a_again, b));
        assert_eq!(pool.live_count(), 0);

        // A backend that is not shared is opened for every link, and never kept.
        let own = Pool::<Own>::default();
        let before = opened();
        let one = own.open(&"a").await.unwrap();
        let other = own.open(&"a").await.unwrap();
        assert!(!Arc::ptr_eq(&one, &other));
        assert_eq!((opened() - before, own.live_count()), (2, 0));
    }
}
