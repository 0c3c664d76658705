//! A backend's change feed, as watchers consume it: the changes, and which keys a watcher
//! wants (a backend may use that to hear less). Defined here, below both the backends that
//! produce feeds and the watchers that follow them, so imports run one way.

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::Result;

/// A change to a key of a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Set(String, Bytes),
    Delete(String),
}

impl Change {
    /// The key that changed.
    pub(crate) fn key(&self) -> &str {
        match self {
            Change::Set(key, _) | Change::Delete(key) => key,
        }
    }
}

/// A store's changes to one bucket, in the order the backend made them. An error ends the
/// feed; the watcher then opens a new one.
pub(crate) type Changes = BoxStream<'static, Result<Change>>;

/// Which keys a watcher wants.
#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) keys: Vec<String>,
    pub(crate) prefixes: Vec<String>,
}

impl Filter {
    /// From `watch`: comma-separated keys, an entry ending in `*` being a prefix.
    pub(crate) fn parse(watch: &str) -> Self {
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        for entry in watch.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_owned()),
                None => keys.push(entry.to_owned()),
            }
        }
        Self { keys, prefixes }
    }

    pub(crate) fn wants(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
            || self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_keys_and_prefixes() {
        let filter = Filter::parse(" a, pre*, ,b.c ,*");
        assert_eq!(filter.keys, ["a", "b.c"]);
        assert_eq!(filter.prefixes, ["pre", ""]);
        assert!(filter.wants("anything"));
        let filter = Filter::parse("a,pre*");
        assert!(filter.wants("a") && filter.wants("pre") && filter.wants("prefix"));
        assert!(!filter.wants("ab") && !filter.wants("pr"));
    }
}
