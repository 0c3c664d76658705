//! The table that keeps the provider's links in step with the host: pure rules, no I/O.
//!
//! The [`LinkTable`] turns the host's link puts and deletes into [`Change`]s the runtime hands
//! to the provider's hooks, and commits a change only once its hook succeeded, so a failed hook
//! never leaves a link half-applied. It is the one owner of the links in effect: the runtime
//! keeps it behind a lock and every reader (an invocation finding its link, a handle listing
//! links) asks it.
//!
//! How the table orders a host's two copies of a put against deletes is described on
//! [`LinkTable`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::link::{Link, LinkKey};

/// How a link put reached the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// On the xkey subject, with or without sealed secrets.
    Sealed { has_secrets: bool },
    /// The copy without secrets on the provider-id subject: ordered with deletes.
    Copy,
    /// From the provider's own start-up (host data, a links file) or a change of named
    /// configuration the runtime resolved: authoritative for everything.
    Local,
}

/// What applying a put or delete would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// A new link.
    Added(Arc<Link>),
    /// A link whose configuration or secrets changed.
    Updated { old: Arc<Link>, new: Arc<Link> },
    /// A deleted link, as it was.
    Removed(Arc<Link>),
    /// Nothing to do: a duplicate put, a delete of an unknown link, a late put.
    Unchanged,
}

/// Sealed puts and early deletes kept for links not in the table, at most this many of each.
const MAX_REMEMBERED: usize = 4096;

/// How long a delete of an unknown link makes a sealed put of it suspect: the put that the
/// delete followed, overtaken on the way.
pub(crate) const LATE_PUT_WINDOW: Duration = Duration::from_secs(2);

/// The provider's links, and the rules that turn host messages into changes. Pure: no I/O;
/// time comes in as an argument.
///
/// A host publishes a link put as a copy without secrets on the provider-id subject (for links
/// without secrets only) and as a sealed put on the subject named after the provider's xkey;
/// deletes come on the provider-id subject. Two subscriptions do not keep the order between
/// them, so:
///
/// - a copy is a whole put of the link's definition (it is ordered with deletes); it keeps the
///   secrets the link has, or takes them from a sealed put of the same definition that came
///   first;
/// - a sealed put without secrets, once the host has shown it sends copies, only clears
///   secrets of the link it matches: the copy decides whether the link exists, so a late
///   sealed put cannot bring back a deleted link;
/// - a sealed put with secrets (no copy follows it) is a whole put, unless a delete of that
///   link arrived moments before it while the link was unknown: then it is the put that the
///   delete followed, overtaken on the way, and is dropped with a warning;
/// - before any copy has been seen (a host that sends none), every put is a whole put.
#[derive(Debug, Default)]
pub(crate) struct LinkTable {
    links: HashMap<LinkKey, Arc<Link>>,
    /// The latest sealed put per key, for a copy of the same definition that comes later.
    sealed: HashMap<LinkKey, Arc<Link>>,
    /// When a delete of a link not in the table arrived.
    early_deletes: HashMap<LinkKey, Instant>,
    copies_seen: bool,
}

impl LinkTable {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The link under `key`.
    pub(crate) fn get(&self, key: &LinkKey) -> Option<&Arc<Link>> {
        self.links.get(key)
    }

    /// Every link in effect.
    pub(crate) fn links(&self) -> impl Iterator<Item = &Arc<Link>> {
        self.links.values()
    }

    /// How many links are in effect.
    pub(crate) fn len(&self) -> usize {
        self.links.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// What a put of `link`, arriving at `now`, would change. Call [`LinkTable::commit`] with
    /// the change once the provider accepted it.
    pub(crate) fn put(&mut self, link: Link, origin: Origin, now: Instant) -> Change {
        let current = self.links.get(link.key()).cloned();
        let link = match origin {
            Origin::Local => link,
            Origin::Copy => {
                self.copies_seen = true;
                self.early_deletes.remove(link.key());
                let pending = self
                    .sealed
                    .get(link.key())
                    .filter(|sealed| sealed.same_definition(&link))
                    .cloned();
                match (pending, &current) {
                    (Some(sealed), _) => link.with_secrets_of(&sealed),
                    (None, Some(current)) => link.with_secrets_of(current),
                    (None, None) => link,
                }
            }
            Origin::Sealed { has_secrets } => {
                let link = Arc::new(link);
                remember(
                    &mut self.sealed,
                    &self.links,
                    link.key().clone(),
                    Arc::clone(&link),
                );
                if has_secrets {
                    let late = self
                        .early_deletes
                        .remove(link.key())
                        .is_some_and(|deleted| now.duration_since(deleted) <= LATE_PUT_WINDOW);
                    if late && current.is_none() {
                        tracing::warn!(
                            link = %link.key(),
                            "dropping a link put that arrived after its own delete; put the link again if it should exist"
                        );
                        return Change::Unchanged;
                    }
                } else if self.copies_seen {
                    return match current {
                        Some(current)
                            if current.same_definition(&link) && !current.same_secrets(&link) =>
                        {
                            Change::Updated {
                                new: Arc::new((*current).clone().with_secrets_of(&link)),
                                old: current,
                            }
                        }
                        _ => Change::Unchanged,
                    };
                }
                Arc::unwrap_or_clone(link)
            }
        };
        match current {
            None => Change::Added(Arc::new(link)),
            Some(current) if *current == link => Change::Unchanged,
            Some(current) => Change::Updated {
                old: current,
                new: Arc::new(link),
            },
        }
    }

    /// What deleting the link under `key`, at `now`, would change.
    pub(crate) fn delete(&mut self, key: &LinkKey, now: Instant) -> Change {
        self.sealed.remove(key);
        match self.links.get(key) {
            Some(link) => Change::Removed(Arc::clone(link)),
            None => {
                remember(&mut self.early_deletes, &self.links, key.clone(), now);
                Change::Unchanged
            }
        }
    }

    /// Applies a change returned by [`LinkTable::put`] or [`LinkTable::delete`].
    pub(crate) fn commit(&mut self, change: &Change) {
        match change {
            Change::Added(link) | Change::Updated { new: link, .. } => {
                self.links.insert(link.key().clone(), Arc::clone(link));
            }
            Change::Removed(link) => {
                self.links.remove(link.key());
            }
            Change::Unchanged => {}
        }
    }
}

/// Inserts into a bounded map of things remembered about links, making room by dropping an
/// entry for a key that is not a live link.
fn remember<V>(
    map: &mut HashMap<LinkKey, V>,
    links: &HashMap<LinkKey, Arc<Link>>,
    key: LinkKey,
    value: V,
) {
    if map.len() >= MAX_REMEMBERED && !map.contains_key(&key) {
        let stale = map.keys().find(|key| !links.contains_key(*key)).cloned();
        match stale {
            Some(stale) => {
                map.remove(&stale);
            }
            None => return,
        }
    }
    map.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::config::Secrets;
    use crate::provider::link::Role;
    use crate::wasmcloud::{LinkDefinition, SecretValue};

    const ME: &str = "provider";

    fn definition(source: &str, name: &str, config: &[(&str, &str)]) -> LinkDefinition {
        LinkDefinition {
            source_id: source.into(),
            target: ME.into(),
            name: name.into(),
            wit_namespace: "wasi".into(),
            wit_package: "keyvalue".into(),
            interfaces: vec!["store".into()],
            target_config: config
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..LinkDefinition::default()
        }
    }

    fn link(source: &str, name: &str, config: &[(&str, &str)], password: Option<&str>) -> Link {
        let secrets =
            Secrets::from_map(password.map(|p| ("password", SecretValue::String(p.to_owned()))));
        Link::from_definition(
            ME,
            &definition(source, name, config),
            Secrets::new(),
            secrets,
        )
        .unwrap()
    }

    const SEALED: Origin = Origin::Sealed { has_secrets: false };
    const SEALED_SECRETS: Origin = Origin::Sealed { has_secrets: true };

    fn put_commit(table: &mut LinkTable, link: Link, origin: Origin) -> Change {
        let change = table.put(link, origin, Instant::now());
        table.commit(&change);
        change
    }

    fn delete_commit(table: &mut LinkTable, key: &LinkKey) -> Change {
        let change = table.delete(key, Instant::now());
        table.commit(&change);
        change
    }

    #[test]
    fn roles_follow_which_end_the_provider_is() {
        let mut def = definition("comp", "default", &[]);
        let target = Link::from_definition(ME, &def, Secrets::new(), Secrets::new()).unwrap();
        assert_eq!((target.role(), target.peer()), (Role::Target, "comp"));
        def.source_id = ME.into();
        def.target = "handler".into();
        def.source_config
            .insert("subscriptions".into(), "a.b".into());
        let source = Link::from_definition(ME, &def, Secrets::new(), Secrets::new()).unwrap();
        assert_eq!((source.role(), source.peer()), (Role::Source, "handler"));
        assert_eq!(source.config().get_str("subscriptions"), Some("a.b"));
        def.source_id = "other".into();
        assert!(Link::from_definition(ME, &def, Secrets::new(), Secrets::new()).is_none());
    }

    #[test]
    fn two_link_names_from_one_component_are_two_links() {
        let mut table = LinkTable::new();
        for name in ["default", "cache"] {
            let change = put_commit(&mut table, link("comp", name, &[], None), Origin::Copy);
            assert!(matches!(change, Change::Added(_)), "{change:?}");
        }
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_changed_config_is_an_update_and_a_duplicate_is_nothing() {
        let mut table = LinkTable::new();
        put_commit(
            &mut table,
            link("c", "default", &[("url", "a")], None),
            Origin::Copy,
        );
        let again = put_commit(
            &mut table,
            link("c", "default", &[("url", "a")], None),
            Origin::Copy,
        );
        assert_eq!(again, Change::Unchanged);
        let change = table.put(
            link("c", "default", &[("url", "b")], None),
            Origin::Copy,
            Instant::now(),
        );
        let Change::Updated { old, new } = &change else {
            panic!("{change:?}")
        };
        assert_eq!(old.config().get_str("url"), Some("a"));
        assert_eq!(new.config().get_str("url"), Some("b"));
    }

    #[test]
    fn an_uncommitted_change_leaves_the_table_as_it_was() {
        let mut table = LinkTable::new();
        put_commit(
            &mut table,
            link("c", "default", &[("url", "a")], None),
            Origin::Copy,
        );
        // The hook failed: the update is not committed.
        let _ = table.put(
            link("c", "default", &[("url", "b")], None),
            Origin::Copy,
            Instant::now(),
        );
        let key = LinkKey::new("c", ME, "default");
        assert_eq!(table.get(&key).unwrap().config().get_str("url"), Some("a"));
        // The same put again is tried again, not taken for a duplicate.
        assert!(matches!(
            table.put(
                link("c", "default", &[("url", "b")], None),
                Origin::Copy,
                Instant::now()
            ),
            Change::Updated { .. }
        ));
    }

    #[test]
    fn without_copies_a_sealed_put_is_a_whole_put() {
        let mut table = LinkTable::new();
        let added = put_commit(&mut table, link("c", "d", &[], None), SEALED);
        assert!(matches!(added, Change::Added(_)));
        let key = LinkKey::new("c", ME, "d");
        assert!(matches!(
            delete_commit(&mut table, &key),
            Change::Removed(_)
        ));
        let with_secrets = put_commit(&mut table, link("c", "s", &[], Some("pw")), SEALED_SECRETS);
        assert!(matches!(with_secrets, Change::Added(_)));
    }

    #[test]
    fn a_sealed_put_then_its_copy_give_one_link() {
        let mut table = LinkTable::new();
        assert!(matches!(
            put_commit(&mut table, link("c", "d", &[], None), SEALED),
            Change::Added(_)
        ));
        assert_eq!(
            put_commit(&mut table, link("c", "d", &[], None), Origin::Copy),
            Change::Unchanged
        );
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn once_copies_are_seen_a_late_sealed_put_cannot_bring_a_link_back() {
        let mut table = LinkTable::new();
        put_commit(&mut table, link("c", "d", &[], None), Origin::Copy);
        let key = LinkKey::new("c", ME, "d");
        assert!(matches!(
            delete_commit(&mut table, &key),
            Change::Removed(_)
        ));
        assert_eq!(
            put_commit(&mut table, link("c", "d", &[], None), SEALED),
            Change::Unchanged
        );
        assert!(table.is_empty());
        // The next put's copy brings it back.
        assert!(matches!(
            put_commit(&mut table, link("c", "d", &[], None), Origin::Copy),
            Change::Added(_)
        ));
    }

    #[test]
    fn a_link_with_secrets_comes_by_its_sealed_put_alone() {
        let mut table = LinkTable::new();
        put_commit(&mut table, link("other", "d", &[], None), Origin::Copy);
        let change = put_commit(
            &mut table,
            link("c", "d", &[("url", "a")], Some("pw")),
            SEALED_SECRETS,
        );
        let Change::Added(added) = change else {
            panic!("{change:?}")
        };
        assert_eq!(added.secrets().get_str("password"), Some("pw"));
        // New secrets, same config: an update.
        let change = put_commit(
            &mut table,
            link("c", "d", &[("url", "a")], Some("new")),
            SEALED_SECRETS,
        );
        assert!(matches!(change, Change::Updated { .. }), "{change:?}");
        // Secrets removed: the copy keeps them, the sealed put without secrets clears them.
        assert_eq!(
            put_commit(
                &mut table,
                link("c", "d", &[("url", "a")], None),
                Origin::Copy
            ),
            Change::Unchanged
        );
        let cleared = put_commit(&mut table, link("c", "d", &[("url", "a")], None), SEALED);
        let Change::Updated { new, .. } = cleared else {
            panic!("{cleared:?}")
        };
        assert!(new.secrets().is_empty());
    }

    #[test]
    fn a_sealed_put_overtaken_by_its_delete_is_dropped() {
        let mut table = LinkTable::new();
        let key = LinkKey::new("c", ME, "d");
        let start = Instant::now();
        assert_eq!(table.delete(&key, start), Change::Unchanged);
        let late = table.put(
            link("c", "d", &[], Some("pw")),
            SEALED_SECRETS,
            start + Duration::from_millis(5),
        );
        assert_eq!(late, Change::Unchanged);
        // A put long after an unknown link's delete is a put.
        assert_eq!(table.delete(&key, start), Change::Unchanged);
        let later = table.put(
            link("c", "d", &[], Some("pw")),
            SEALED_SECRETS,
            start + LATE_PUT_WINDOW * 2,
        );
        assert!(matches!(later, Change::Added(_)), "{later:?}");
    }

    #[test]
    fn a_copy_takes_secrets_from_a_sealed_put_that_came_first() {
        let mut table = LinkTable::new();
        put_commit(&mut table, link("x", "y", &[], None), Origin::Copy);
        // (A host sends no copy for links with secrets; a copy of the same definition that
        // does come still picks them up.)
        assert_eq!(
            put_commit(&mut table, link("c", "d", &[], Some("pw")), SEALED_SECRETS),
            Change::Added(Arc::new(link("c", "d", &[], Some("pw"))))
        );
        let key = LinkKey::new("c", ME, "d");
        assert_eq!(
            table.get(&key).unwrap().secrets().get_str("password"),
            Some("pw")
        );
        assert_eq!(
            put_commit(&mut table, link("c", "d", &[], None), Origin::Copy),
            Change::Unchanged
        );
    }

    #[test]
    fn a_copy_with_new_config_keeps_the_secrets_it_has() {
        let mut table = LinkTable::new();
        put_commit(
            &mut table,
            link("c", "d", &[("url", "a")], Some("pw")),
            Origin::Local,
        );
        let change = table.put(
            link("c", "d", &[("url", "b")], None),
            Origin::Copy,
            Instant::now(),
        );
        let Change::Updated { new, .. } = change else {
            panic!("{change:?}")
        };
        assert_eq!(new.secrets().get_str("password"), Some("pw"));
        assert_eq!(new.config().get_str("url"), Some("b"));
    }

    #[test]
    fn deleting_an_unknown_link_changes_nothing() {
        let mut table = LinkTable::new();
        assert_eq!(
            table.delete(&LinkKey::new("x", ME, "y"), Instant::now()),
            Change::Unchanged
        );
    }

    #[test]
    fn what_is_remembered_is_bounded() {
        let mut table = LinkTable::new();
        put_commit(&mut table, link("c", "live", &[], None), Origin::Copy);
        let now = Instant::now();
        for i in 0..MAX_REMEMBERED + 10 {
            table.put(link(&format!("s{i}"), "d", &[], None), SEALED, now);
            table.delete(&LinkKey::new(format!("gone{i}"), ME, "d"), now);
        }
        assert!(table.sealed.len() <= MAX_REMEMBERED);
        assert!(table.early_deletes.len() <= MAX_REMEMBERED);
    }
}
