//! The in-memory backend: a link's buckets in the provider's memory, for as long as the link
//! lives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{KeyPage, PAGE_SIZE, add};
use crate::error::Result;

/// Buckets of sorted keys.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    buckets: Mutex<HashMap<String, BTreeMap<String, Bytes>>>,
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, BTreeMap<String, Bytes>>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        Ok(self.lock().get(bucket).and_then(|b| b.get(key)).cloned())
    }

    pub(crate) async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        self.lock()
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), value);
        Ok(())
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        let mut buckets = self.lock();
        if let Some(keys) = buckets.get_mut(bucket) {
            keys.remove(key);
            if keys.is_empty() {
                buckets.remove(bucket);
            }
        }
        Ok(())
    }

    pub(crate) async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        Ok(self.lock().get(bucket).is_some_and(|b| b.contains_key(key)))
    }

    /// The cursor is an offset into the bucket's keys in sorted order: keys set or deleted
    /// between two pages shift the boundary, as with any offset.
    pub(crate) async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
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

    pub(crate) async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        let mut buckets = self.lock();
        let keys = buckets.entry(bucket.to_owned()).or_default();
        let value = add(keys.get(key).map(|v| &v[..]), delta)?;
        keys.insert(key.to_owned(), Bytes::from(value.to_string()));
        Ok(value)
    }

    pub(crate) async fn get_many(
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

    pub(crate) async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.lock()
            .entry(bucket.to_owned())
            .or_default()
            .extend(pairs);
        Ok(())
    }

    pub(crate) async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        let mut buckets = self.lock();
        if let Some(stored) = buckets.get_mut(bucket) {
            for key in &keys {
                stored.remove(key);
            }
            if stored.is_empty() {
                buckets.remove(bucket);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
