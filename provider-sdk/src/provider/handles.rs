//! Handles for WIT resources a provider serves over wRPC.
//!
//! wRPC has no drop message: a component that opens a resource never says it is done with it.
//! [`ResourceHandles`] therefore bounds what it keeps, with this policy:
//!
//! - a handle belongs to the link that created it (calling component and link name): another
//!   link presenting it gets [`HandleError::Unknown`], as for a handle never issued;
//! - a handle not used for [`ResourceHandles::idle_timeout`] expires;
//! - a link holds at most [`ResourceHandles::max_per_link`] handles: creating one more evicts
//!   that link's least recently used handle;
//! - deleting a link drops its handles ([`ResourceHandles::remove_link`]);
//! - handles are 16 opaque bytes, 8 of them random per table, so a handle from an earlier run of
//!   the provider is unknown, never someone else's.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::context::Context;
use super::link::LinkKey;

/// Who owns a handle: the calling component and link name of the call that created it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Scope {
    source: Option<String>,
    link_name: String,
}

impl Scope {
    fn of(cx: &Context) -> Self {
        Self {
            source: cx.source_id().map(str::to_owned),
            link_name: cx.link_name().to_owned(),
        }
    }
}

/// Why a handle could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// Never issued to this link, expired, evicted, or dropped with its link.
    #[error("unknown resource handle: it expired, was evicted, or belongs to another link")]
    Unknown,
}

struct Entry<T> {
    scope: Scope,
    value: Arc<T>,
    last_used: Instant,
    /// Position in the scope's use order.
    tick: u64,
}

struct State<T> {
    entries: HashMap<u64, Entry<T>>,
    /// Per scope, handle ids by last use, oldest first.
    order: HashMap<Scope, BTreeMap<u64, u64>>,
    next_id: u64,
    next_tick: u64,
}

/// A table of resource handles scoped to links, bounded in number, with idle expiry (see the
/// module docs for the policy).
pub struct ResourceHandles<T> {
    state: Mutex<State<T>>,
    nonce: [u8; 8],
    max_per_link: usize,
    idle_timeout: Duration,
}

impl<T> fmt::Debug for ResourceHandles<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceHandles")
            .field("len", &self.len())
            .field("max_per_link", &self.max_per_link)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl<T> Default for ResourceHandles<T> {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_PER_LINK, Self::DEFAULT_IDLE_TIMEOUT)
    }
}

impl<T> ResourceHandles<T> {
    /// The default for [`ResourceHandles::max_per_link`].
    pub const DEFAULT_MAX_PER_LINK: usize = 1024;
    /// The default for [`ResourceHandles::idle_timeout`].
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

    /// A table keeping at most `max_per_link` handles per link (at least 1), each expiring
    /// after `idle_timeout` without use.
    pub fn new(max_per_link: usize, idle_timeout: Duration) -> Self {
        let mut nonce = [0u8; 8];
        crate::random::fill(&mut nonce);
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                order: HashMap::new(),
                next_id: 0,
                next_tick: 0,
            }),
            nonce,
            max_per_link: max_per_link.max(1),
            idle_timeout,
        }
    }

    /// The most handles one link holds.
    pub fn max_per_link(&self) -> usize {
        self.max_per_link
    }

    /// How long an unused handle lives.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `value` for the link `cx` came over and returns its new handle.
    pub fn insert(&self, cx: &Context, value: T) -> Bytes {
        let scope = Scope::of(cx);
        let now = Instant::now();
        let mut state = self.lock();
        self.expire(&mut state, now);
        let id = state.next_id;
        state.next_id += 1;
        let tick = state.next_tick;
        state.next_tick += 1;
        let order = state.order.entry(scope.clone()).or_default();
        order.insert(tick, id);
        let evicted = if order.len() > self.max_per_link {
            order.pop_first().map(|(_, id)| id)
        } else {
            None
        };
        if let Some(evicted) = evicted {
            state.entries.remove(&evicted);
        }
        state.entries.insert(
            id,
            Entry {
                scope,
                value: Arc::new(value),
                last_used: now,
                tick,
            },
        );
        drop(state);
        self.encode(id)
    }

    /// The value behind `handle`, if it is this link's and alive; counts as a use.
    pub fn get(&self, cx: &Context, handle: &[u8]) -> Result<Arc<T>, HandleError> {
        let id = self.decode(handle).ok_or(HandleError::Unknown)?;
        let scope = Scope::of(cx);
        let now = Instant::now();
        let mut state = self.lock();
        self.expire(&mut state, now);
        let tick = state.next_tick;
        let entry = state
            .entries
            .get_mut(&id)
            .filter(|entry| entry.scope == scope)
            .ok_or(HandleError::Unknown)?;
        let old_tick = std::mem::replace(&mut entry.tick, tick);
        entry.last_used = now;
        let value = Arc::clone(&entry.value);
        state.next_tick += 1;
        if let Some(order) = state.order.get_mut(&scope) {
            order.remove(&old_tick);
            order.insert(tick, id);
        }
        Ok(value)
    }

    /// Drops `handle` (a resource's explicit close), returning its value.
    pub fn remove(&self, cx: &Context, handle: &[u8]) -> Result<Arc<T>, HandleError> {
        let id = self.decode(handle).ok_or(HandleError::Unknown)?;
        let scope = Scope::of(cx);
        let mut state = self.lock();
        if state
            .entries
            .get(&id)
            .is_none_or(|entry| entry.scope != scope)
        {
            return Err(HandleError::Unknown);
        }
        let entry = state.entries.remove(&id).ok_or(HandleError::Unknown)?;
        Self::forget_order(&mut state, &entry.scope, entry.tick);
        Ok(entry.value)
    }

    /// Drops every handle of the link under `key` (call it when the link is deleted).
    pub fn remove_link(&self, key: &LinkKey) {
        let scope = Scope {
            source: Some(key.source_id.clone()),
            link_name: key.name.clone(),
        };
        let mut state = self.lock();
        if let Some(order) = state.order.remove(&scope) {
            for id in order.values() {
                state.entries.remove(id);
            }
        }
    }

    /// How many handles are alive (expired ones may count until the next use of the table).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops handles idle for longer than the timeout, oldest first, in every scope.
    fn expire(&self, state: &mut State<T>, now: Instant) {
        let State { entries, order, .. } = state;
        order.retain(|_, ticks| {
            while let Some((_, id)) = ticks.first_key_value() {
                let idle = entries
                    .get(id)
                    .is_none_or(|entry| now.duration_since(entry.last_used) > self.idle_timeout);
                if !idle {
                    break;
                }
                if let Some((_, id)) = ticks.pop_first() {
                    entries.remove(&id);
                }
            }
            !ticks.is_empty()
        });
    }

    fn forget_order(state: &mut State<T>, scope: &Scope, tick: u64) {
        if let Some(order) = state.order.get_mut(scope) {
            order.remove(&tick);
            if order.is_empty() {
                state.order.remove(scope);
            }
        }
    }

    fn encode(&self, id: u64) -> Bytes {
        let mut handle = Vec::with_capacity(16);
        handle.extend_from_slice(&self.nonce);
        handle.extend_from_slice(&id.to_be_bytes());
        Bytes::from(handle)
    }

    fn decode(&self, handle: &[u8]) -> Option<u64> {
        let (nonce, id) = handle.split_at_checked(8)?;
        if nonce != self.nonce {
            return None;
        }
        Some(u64::from_be_bytes(id.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{FromInvocation, InvocationContext};

    fn cx(source: &str, link: &str) -> Context {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("source-id", source);
        headers.insert("link-name", link);
        Context::from_invocation(InvocationContext::new("subject", Some(headers)))
    }

    #[test]
    fn handles_belong_to_the_link_that_made_them() {
        let table = ResourceHandles::default();
        let mine = cx("comp-a", "default");
        let handle = table.insert(&mine, "bucket-1");
        assert_eq!(*table.get(&mine, &handle).unwrap(), "bucket-1");
        assert_eq!(
            table.get(&cx("comp-b", "default"), &handle),
            Err(HandleError::Unknown)
        );
        assert_eq!(
            table.get(&cx("comp-a", "other"), &handle),
            Err(HandleError::Unknown)
        );
        assert_eq!(table.get(&mine, b"garbage"), Err(HandleError::Unknown));
        // Another table (a restarted provider) does not know it.
        assert_eq!(
            ResourceHandles::<&str>::default().get(&mine, &handle),
            Err(HandleError::Unknown)
        );
    }

    #[test]
    fn the_least_recently_used_handle_is_evicted_at_the_limit() {
        let table = ResourceHandles::new(2, Duration::from_secs(60));
        let a = cx("comp", "default");
        let first = table.insert(&a, 1);
        let second = table.insert(&a, 2);
        table.get(&a, &first).unwrap(); // `second` is now the least recently used
        let third = table.insert(&a, 3);
        assert_eq!(table.get(&a, &second), Err(HandleError::Unknown));
        assert_eq!(*table.get(&a, &first).unwrap(), 1);
        assert_eq!(*table.get(&a, &third).unwrap(), 3);
        // Other links have their own allowance.
        let b = cx("other", "default");
        let theirs = table.insert(&b, 4);
        assert_eq!(*table.get(&b, &theirs).unwrap(), 4);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn idle_handles_expire() {
        let table = ResourceHandles::new(8, Duration::ZERO);
        let a = cx("comp", "default");
        let handle = table.insert(&a, 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(table.get(&a, &handle), Err(HandleError::Unknown));
        assert!(table.is_empty());
    }

    #[test]
    fn deleting_a_link_drops_its_handles() {
        let table = ResourceHandles::default();
        let a = cx("comp", "default");
        let b = cx("comp", "cache");
        let gone = table.insert(&a, 1);
        let kept = table.insert(&b, 2);
        table.remove_link(&LinkKey::new("comp", "provider", "default"));
        assert_eq!(table.get(&a, &gone), Err(HandleError::Unknown));
        assert_eq!(*table.get(&b, &kept).unwrap(), 2);
        assert_eq!(*table.remove(&b, &kept).unwrap(), 2);
        assert!(table.is_empty());
    }
}
