//! The in-memory backend: a link's buckets in the provider's memory, for as long as the link
//! lives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use bytes::Bytes;
use futures::StreamExt as _;
use tokio::sync::broadcast;

use super::backend::{Backend, KeyPage, PAGE_SIZE, add};
use super::feed::{Change, Changes, Filter};
use crate::error::Result;

/// Writes (calls, however many keys each changed) a watcher may fall behind by before it
/// misses some (with a warning saying how many). The feed's ring holds this many slots from
/// the moment it is made (56 KiB with tokio 1.54), so it is made only for a watched store.
const FEED: usize = 1024;

type Buckets = HashMap<String, BTreeMap<String, Bytes>>;
/// Each write's changes, with their bucket.
type Feed = broadcast::Sender<(Arc<str>, Arc<[Change]>)>;

/// Buckets of sorted keys, and their changes for watchers.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    buckets: Mutex<Buckets>,
    /// Made when a watcher first follows the store: most links are never watched, and an idle
    /// provider holds one store per memory link.
    feed: OnceLock<Feed>,
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The feed, if a watcher follows it now.
    fn watched(&self) -> Option<&Feed> {
        self.feed.get().filter(|feed| feed.receiver_count() > 0)
    }

    /// Reports a write's changes to `bucket` to the watchers, if there are any. Called with
    /// the buckets locked, so the feed has the changes in the order they were made.
    fn publish(&self, bucket: &str, changes: impl IntoIterator<Item = Change>) {
        let Some(feed) = self.watched() else {
            return;
        };
        let changes: Arc<[Change]> = changes.into_iter().collect();
        if !changes.is_empty() {
            let _ = feed.send((Arc::from(bucket), changes));
        }
    }

    /// Every change made to `bucket` from now on.
    fn feed(&self, bucket: &str) -> Changes {
        let bucket: Arc<str> = Arc::from(bucket);
        let feed = self.feed.get_or_init(|| broadcast::channel(FEED).0);
        let writes = futures::stream::unfold(feed.subscribe(), move |mut feed| {
            let bucket = Arc::clone(&bucket);
            async move {
                loop {
                    match feed.recv().await {
                        Ok((of, changes)) if of == bucket => return Some((changes, feed)),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(%bucket, missed, "a watcher fell behind the memory store and missed writes");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        writes
            .flat_map(|changes| {
                futures::stream::iter((0..changes.len()).map(move |i| Ok(changes[i].clone())))
            })
            .boxed()
    }
}

/// Each link opens its own: its buckets are its own, for as long as the link.
impl Backend for MemoryStore {
    const NAME: &'static str = "memory";
    const SHARED: bool = false;
    type Settings = ();

    async fn open((): &()) -> Result<Self> {
        Ok(Self::default())
    }

    /// Every write to the store, whatever the filter.
    async fn changes(&self, bucket: &str, _: &Filter) -> Result<Changes> {
        Ok(self.feed(bucket))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        Ok(self.lock().get(bucket).and_then(|b| b.get(key)).cloned())
    }

    async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        let mut buckets = self.lock();
        buckets
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), value.clone());
        self.publish(bucket, [Change::Set(key.to_owned(), value)]);
        Ok(())
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        let mut buckets = self.lock();
        let Some(keys) = buckets.get_mut(bucket) else {
            return Ok(());
        };
        let deleted = keys.remove(key).is_some();
        if keys.is_empty() {
            buckets.remove(bucket);
        }
        if deleted {
            self.publish(bucket, [Change::Delete(key.to_owned())]);
        }
        Ok(())
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        Ok(self.lock().get(bucket).is_some_and(|b| b.contains_key(key)))
    }

    /// The cursor is an offset into the bucket's keys in sorted order: keys set or deleted
    /// between two pages shift the boundary, as with any offset.
    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        let buckets = self.lock();
        let Some(keys) = buckets.get(bucket) else {
            return Ok((Vec::new(), None));
        };
        let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        let page: Vec<String> = keys.keys().skip(start).take(PAGE_SIZE).cloned().collect();
        let next = start.saturating_add(page.len());
        let cursor = (next < keys.len()).then_some(next as u64);
        Ok((page, cursor))
    }

    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        let mut buckets = self.lock();
        let keys = buckets.entry(bucket.to_owned()).or_default();
        let value = add(keys.get(key).map(|v| &v[..]), delta)?;
        let text = Bytes::from(value.to_string());
        keys.insert(key.to_owned(), text.clone());
        self.publish(bucket, [Change::Set(key.to_owned(), text)]);
        Ok(value)
    }

    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>> {
        let buckets = self.lock();
        let found = buckets.get(bucket);
        Ok(keys
            .into_iter()
            .map(|key| {
                let value = found?.get(&key)?.clone();
                Some((key, value))
            })
            .collect())
    }

    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut buckets = self.lock();
        let stored = buckets.entry(bucket.to_owned()).or_default();
        if self.watched().is_none() {
            stored.extend(pairs);
        } else {
            stored.extend(pairs.iter().cloned());
            self.publish(
                bucket,
                pairs
                    .into_iter()
                    .map(|(key, value)| Change::Set(key, value)),
            );
        }
        Ok(())
    }

    /// Deletes the keys; only those that were there are reported as deleted.
    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        let mut buckets = self.lock();
        let Some(stored) = buckets.get_mut(bucket) else {
            return Ok(());
        };
        let deleted: Vec<String> = keys
            .into_iter()
            .filter(|key| stored.remove(key).is_some())
            .collect();
        if stored.is_empty() {
            buckets.remove(bucket);
        }
        self.publish(bucket, deleted.into_iter().map(Change::Delete));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_feed_has_a_buckets_changes_in_order() {
        let store = MemoryStore::default();
        store
            .set("b", "before", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let mut changes = store.feed("b");
        let set = |key: &str, value: &'static [u8]| {
            Change::Set(key.to_owned(), Bytes::from_static(value))
        };
        store.set("b", "k", Bytes::from_static(b"1")).await.unwrap();
        store
            .set("other", "k", Bytes::from_static(b"no"))
            .await
            .unwrap();
        store.increment("b", "n", 2).await.unwrap();
        store
            .set_many("b", vec![("m".into(), Bytes::from_static(b"3"))])
            .await
            .unwrap();
        store.delete("b", "absent").await.unwrap();
        store
            .delete_many("b", vec!["k".into(), "gone".into(), "m".into()])
            .await
            .unwrap();
        // A batch larger than the feed's capacity arrives whole: the feed counts writes.
        let many: Vec<(String, Bytes)> = (0..3 * FEED)
            .map(|i| (format!("many-{i}"), Bytes::from_static(b"x")))
            .collect();
        store.set_many("b", many).await.unwrap();
        drop(store);
        let mut heard: Vec<Change> = changes.by_ref().map(Result::unwrap).collect().await;
        let batch = heard.split_off(5);
        assert_eq!(batch.len(), 3 * FEED);
        assert_eq!(
            batch[3 * FEED - 1],
            set(&format!("many-{}", 3 * FEED - 1), b"x")
        );
        assert_eq!(
            heard,
            [
                set("k", b"1"),
                set("n", b"2"),
                set("m", b"3"),
                Change::Delete("k".into()),
                Change::Delete("m".into()),
            ]
        );
    }

    /// The feed's ring (56 KiB) is made for the first watcher, not for every link's store.
    #[tokio::test]
    async fn the_feed_is_made_when_a_watcher_first_follows_the_store() {
        let store = MemoryStore::default();
        store.set("b", "k", Bytes::from_static(b"1")).await.unwrap();
        store
            .set_many("b", vec![("m".into(), Bytes::from_static(b"2"))])
            .await
            .unwrap();
        assert!(store.feed.get().is_none());
        let mut changes = store.feed("b");
        assert!(store.feed.get().is_some());
        store.set("b", "k", Bytes::from_static(b"3")).await.unwrap();
        assert_eq!(
            changes.next().await.unwrap().unwrap(),
            Change::Set("k".into(), Bytes::from_static(b"3"))
        );
    }

    #[tokio::test]
    async fn buckets_are_namespaces_and_pages_cover_every_key_once() {
        let store = MemoryStore::default();
        for i in 0..2500 {
            store
                .set("a", &format!("k{i:05}"), Bytes::from_static(b"v"))
                .await
                .unwrap();
        }
        store
            .set("b", "k00000", Bytes::from_static(b"other"))
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (keys, next) = store.list_keys("a", cursor).await.unwrap();
            assert!(keys.len() <= PAGE_SIZE);
            seen.extend(keys);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 2500);
        assert_eq!(seen, {
            let mut sorted = seen.clone();
            sorted.dedup();
            sorted
        });
        assert_eq!(
            store.get("b", "k00000").await.unwrap().as_deref(),
            Some(&b"other"[..])
        );
        assert_eq!(store.list_keys("none", None).await.unwrap(), (vec![], None));
    }

    #[tokio::test]
    async fn increments_count_from_zero_and_refuse_what_is_not_a_number() {
        let store = MemoryStore::default();
        assert_eq!(store.increment("b", "n", 5).await.unwrap(), 5);
        assert_eq!(store.increment("b", "n", 2).await.unwrap(), 7);
        assert_eq!(
            store.get("b", "n").await.unwrap().as_deref(),
            Some(&b"7"[..])
        );
        store
            .set("b", "text", Bytes::from_static(b"seven"))
            .await
            .unwrap();
        assert!(store.increment("b", "text", 1).await.is_err());
        store
            .set("b", "max", Bytes::from(u64::MAX.to_string()))
            .await
            .unwrap();
        let error = store.increment("b", "max", 1).await.unwrap_err();
        assert!(error.to_string().contains("overflow"), "{error}");
        assert_eq!(
            store.get("b", "max").await.unwrap(),
            Some(Bytes::from(u64::MAX.to_string()))
        );
    }
}
