//! Handles for WIT resources a provider serves over wRPC.
//!
//! wRPC has no drop message: a component that opens a resource never says it is done with it.
//! [`ResourceHandles`] therefore bounds what it keeps, with this policy:
//!
//! - handles are issued to and accepted from linked callers only ([`HandleError::NoLink`]
//!   otherwise; the runtime refuses unlinked callers before their handler runs anyway, unless
//!   [`RuntimeOptions::require_link`](super::RuntimeOptions::require_link) is off);
//! - a handle belongs to the link that created it (calling component and link name): another
//!   link presenting it gets [`HandleError::Unknown`], as for a handle never issued;
//! - a handle not used for [`ResourceHandles::idle_timeout`] expires;
//! - a link holds at most [`ResourceHandles::max_per_link`] handles: creating one more evicts
//!   that link's least recently used handle;
//! - the table holds at most [`ResourceHandles::max_total`] handles, whatever the number of
//!   links: creating one more evicts the table's least recently used handle;
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

/// Who owns a handle: the link of the call that created it.
type Scope = LinkKey;

/// The link a call came over, which owns the handles it makes.
fn scope_of(cx: &Context) -> Result<Scope, HandleError> {
    cx.link()
        .map(|link| link.key().clone())
        .ok_or(HandleError::NoLink)
}

/// Why a handle could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// Never issued to this link, expired, evicted, or dropped with its link.
    #[error("unknown resource handle: it expired, was evicted, or belongs to another link")]
    Unknown,
    /// The call came over no link: handles are issued to and accepted from linked callers only.
    #[error("resource handles are only for callers with a link to this provider")]
    NoLink,
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
    /// Every handle id by last use, oldest first.
    lru: BTreeMap<u64, u64>,
    next_id: u64,
    next_tick: u64,
}

impl<T> State<T> {
    /// Drops the handle `id`, from the entries and both use orders.
    fn drop_handle(&mut self, id: u64) -> Option<Entry<T>> {
        let entry = self.entries.remove(&id)?;
        self.lru.remove(&entry.tick);
        if let Some(order) = self.order.get_mut(&entry.scope) {
            order.remove(&entry.tick);
            if order.is_empty() {
                self.order.remove(&entry.scope);
            }
        }
        Some(entry)
    }
}

/// A table of resource handles scoped to links, bounded in number, with idle expiry (see the
/// module docs for the policy).
pub struct ResourceHandles<T> {
    state: Mutex<State<T>>,
    nonce: [u8; 8],
    max_per_link: usize,
    max_total: usize,
    idle_timeout: Duration,
}

impl<T> fmt::Debug for ResourceHandles<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceHandles")
            .field("len", &self.len())
            .field("max_per_link", &self.max_per_link)
            .field("max_total", &self.max_total)
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
    /// The default for [`ResourceHandles::max_total`].
    pub const DEFAULT_MAX_TOTAL: usize = 65_536;
    /// The default for [`ResourceHandles::idle_timeout`].
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

    /// A table keeping at most `max_per_link` handles per link (at least 1), each expiring
    /// after `idle_timeout` without use, and at most [`Self::DEFAULT_MAX_TOTAL`] in all (see
    /// [`ResourceHandles::with_max_total`]).
    pub fn new(max_per_link: usize, idle_timeout: Duration) -> Self {
        let mut nonce = [0u8; 8];
        crate::random::fill(&mut nonce);
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                order: HashMap::new(),
                lru: BTreeMap::new(),
                next_id: 0,
                next_tick: 0,
            }),
            nonce,
            max_per_link: max_per_link.max(1),
            max_total: Self::DEFAULT_MAX_TOTAL,
            idle_timeout,
        }
    }

    /// Keeps at most `max_total` handles in the table (at least 1).
    pub fn with_max_total(mut self, max_total: usize) -> Self {
        self.max_total = max_total.max(1);
        self
    }

    /// The most handles one link holds.
    pub fn max_per_link(&self) -> usize {
        self.max_per_link
    }

    /// The most handles the table holds.
    pub fn max_total(&self) -> usize {
        self.max_total
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

    /// Stores `value` for the link `cx` came over and returns its new handle; fails with
    /// [`HandleError::NoLink`] for a call over no link.
    pub fn insert(&self, cx: &Context, value: T) -> Result<Bytes, HandleError> {
        let scope = scope_of(cx)?;
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
            order.first_key_value().map(|(_, &id)| id)
        } else {
            None
        };
        state.lru.insert(tick, id);
        state.entries.insert(
            id,
            Entry {
                scope,
                value: Arc::new(value),
                last_used: now,
                tick,
            },
        );
        if let Some(evicted) = evicted {
            state.drop_handle(evicted);
        }
        while state.entries.len() > self.max_total {
            let Some((_, &oldest)) = state.lru.first_key_value() else {
                break;
            };
            state.drop_handle(oldest);
        }
        drop(state);
        Ok(self.encode(id))
    }

    /// The value behind `handle`, if it is this link's and alive; counts as a use.
    pub fn get(&self, cx: &Context, handle: &[u8]) -> Result<Arc<T>, HandleError> {
        let scope = scope_of(cx)?;
        let id = self.decode(handle).ok_or(HandleError::Unknown)?;
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
        state.lru.remove(&old_tick);
        state.lru.insert(tick, id);
        Ok(value)
    }

    /// Drops `handle` (a resource's explicit close), returning its value.
    pub fn remove(&self, cx: &Context, handle: &[u8]) -> Result<Arc<T>, HandleError> {
        let scope = scope_of(cx)?;
        let id = self.decode(handle).ok_or(HandleError::Unknown)?;
        let mut state = self.lock();
        if state
            .entries
            .get(&id)
            .is_none_or(|entry| entry.scope != scope)
        {
            return Err(HandleError::Unknown);
        }
        let entry = state.drop_handle(id).ok_or(HandleError::Unknown)?;
        Ok(entry.value)
    }

    /// Drops every handle of the link under `key` (call it when the link is deleted).
    pub fn remove_link(&self, key: &LinkKey) {
        let mut state = self.lock();
        if let Some(order) = state.order.remove(key) {
            for (tick, id) in order {
                state.entries.remove(&id);
                state.lru.remove(&tick);
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

    /// Drops handles idle for longer than the timeout, oldest first.
    fn expire(&self, state: &mut State<T>, now: Instant) {
        while let Some((_, &id)) = state.lru.first_key_value() {
            let idle = state
                .entries
                .get(&id)
                .is_none_or(|entry| now.duration_since(entry.last_used) > self.idle_timeout);
            if !idle {
                break;
            }
            if state.drop_handle(id).is_none() {
                // Not an entry (cannot happen): do not loop on it.
                state.lru.pop_first();
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
    use crate::provider::{Link, Secrets};
    use crate::transport::{FromInvocation, InvocationContext};
    use crate::wasmcloud::LinkDefinition;

    /// Every handle is in both use orders, and nothing else is.
    fn assert_consistent<T>(table: &ResourceHandles<T>) {
        let state = table.lock();
        assert_eq!(state.lru.len(), state.entries.len());
        let scoped: usize = state.order.values().map(BTreeMap::len).sum();
        assert_eq!(scoped, state.entries.len());
        assert!(state.order.values().all(|order| !order.is_empty()));
        for (tick, id) in &state.lru {
            let entry = &state.entries[id];
            assert_eq!(entry.tick, *tick);
            assert_eq!(state.order[&entry.scope].get(tick), Some(id));
        }
    }

    fn cx(source: &str, link: &str) -> Context {
        let definition = LinkDefinition {
            source_id: source.to_owned(),
            target: "me".to_owned(),
            name: link.to_owned(),
            ..LinkDefinition::default()
        };
        let link = Link::from_definition("me", &definition, Secrets::new(), Secrets::new());
        Context::with_link(InvocationContext::new("subject", None), link.unwrap())
    }

    #[test]
    fn only_linked_callers_get_handles() {
        let table = ResourceHandles::default();
        let handle = table.insert(&cx("comp-a", "default"), 1).unwrap();
        let unlinked = Context::from_invocation(InvocationContext::new("subject", None));
        assert_eq!(table.insert(&unlinked, 2), Err(HandleError::NoLink));
        assert_eq!(table.get(&unlinked, &handle), Err(HandleError::NoLink));
        assert_eq!(table.remove(&unlinked, &handle), Err(HandleError::NoLink));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn handles_belong_to_the_link_that_made_them() {
        let table = ResourceHandles::default();
        let mine = cx("comp-a", "default");
        let handle = table.insert(&mine, "bucket-1").unwrap();
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
        let first = table.insert(&a, 1).unwrap();
        let second = table.insert(&a, 2).unwrap();
        table.get(&a, &first).unwrap(); // `second` is now the least recently used
        let third = table.insert(&a, 3).unwrap();
        assert_eq!(table.get(&a, &second), Err(HandleError::Unknown));
        assert_eq!(*table.get(&a, &first).unwrap(), 1);
        assert_eq!(*table.get(&a, &third).unwrap(), 3);
        // Other links have their own allowance.
        let b = cx("other", "default");
        let theirs = table.insert(&b, 4).unwrap();
        assert_eq!(*table.get(&b, &theirs).unwrap(), 4);
        assert_eq!(table.len(), 3);
        assert_consistent(&table);
    }

    #[test]
    fn the_table_as_a_whole_is_bounded_whatever_the_number_of_links() {
        let table = ResourceHandles::new(4, Duration::from_secs(60)).with_max_total(3);
        let first = table.insert(&cx("a", "default"), 1).unwrap();
        let second = table.insert(&cx("b", "default"), 2).unwrap();
        let third = table.insert(&cx("c", "default"), 3).unwrap();
        table.get(&cx("a", "default"), &first).unwrap(); // `second` is now the oldest
        let fourth = table.insert(&cx("d", "default"), 4).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.get(&cx("b", "default"), &second),
            Err(HandleError::Unknown)
        );
        for (source, handle, value) in [("a", &first, 1), ("c", &third, 3), ("d", &fourth, 4)] {
            assert_eq!(*table.get(&cx(source, "default"), handle).unwrap(), value);
        }
        // Many callers naming links of their own cannot grow the table.
        for i in 0..100 {
            table
                .insert(&cx(&format!("caller-{i}"), "default"), i)
                .unwrap();
        }
        assert_eq!(table.len(), 3);
        assert_eq!(table.lock().order.len(), 3);
        assert_consistent(&table);
    }

    #[test]
    fn idle_handles_expire() {
        let table = ResourceHandles::new(8, Duration::ZERO);
        let a = cx("comp", "default");
        let handle = table.insert(&a, 1).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(table.get(&a, &handle), Err(HandleError::Unknown));
        assert!(table.is_empty());
        assert_consistent(&table);
    }

    #[test]
    fn deleting_a_link_drops_its_handles() {
        let table = ResourceHandles::default();
        let a = cx("comp", "default");
        let b = cx("comp", "cache");
        let gone = table.insert(&a, 1).unwrap();
        let kept = table.insert(&b, 2).unwrap();
        table.remove_link(&LinkKey::new("comp", "me", "default"));
        assert_eq!(table.get(&a, &gone), Err(HandleError::Unknown));
        assert_eq!(*table.get(&b, &kept).unwrap(), 2);
        assert_eq!(*table.remove(&b, &kept).unwrap(), 2);
        assert!(table.is_empty());
        assert_consistent(&table);
    }

    proptest::proptest! {
        /// Whatever calls come, the bounds hold and the use orders match the handles.
        #[test]
        fn any_sequence_keeps_the_bounds(ops in proptest::collection::vec((0u8..4, 0u8..6, 0usize..8), 0..200)) {
            let table = ResourceHandles::new(3, Duration::from_secs(60)).with_max_total(7);
            let mut issued: Vec<(u8, Bytes)> = Vec::new();
            for (op, link, pick) in ops {
                let link_cx = cx(&format!("comp-{link}"), "default");
                match op {
                    0 | 1 => issued.push((link, table.insert(&link_cx, pick).unwrap())),
                    2 => {
                        if let Some((owner, handle)) = issued.get(pick % issued.len().max(1)) {
                            let _ = table.get(&cx(&format!("comp-{owner}"), "default"), handle);
                        }
                    }
                    _ => table.remove_link(&LinkKey::new(format!("comp-{link}"), "me", "default")),
                }
                assert_consistent(&table);
                let state = table.lock();
                proptest::prop_assert!(state.entries.len() <= 7);
                proptest::prop_assert!(state.order.values().all(|order| order.len() <= 3));
            }
        }
    }
}
