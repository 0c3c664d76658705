//! Links as the provider sees them, and the table that keeps them in step with the host.
//!
//! A link is keyed by (source, target, link name): two link names from one component are two
//! links. The [`LinkTable`] turns the host's link puts and deletes into [`Change`]s the
//! runtime hands to the provider's hooks, and commits a change only once its hook succeeded, so
//! a failed hook never leaves a link half-applied.
//!
//! How the table orders a host's two copies of a put against deletes is described on
//! [`LinkTable`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{Config, ConfigSource, Secrets};
use super::host_data::LinkDefinition;

/// Identifies a link: who calls, who is called, under which link name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkKey {
    /// The calling side.
    pub source_id: String,
    /// The called side.
    pub target: String,
    /// The link name (`default` unless named).
    pub name: String,
}

impl LinkKey {
    /// A key from its parts.
    pub fn new(
        source_id: impl Into<String>,
        target: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            source_id: source_id.into(),
            target: target.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.source_id, self.target, self.name)
    }
}

/// Which end of a link this provider is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Components call the provider (e.g. a keyvalue store).
    Target,
    /// The provider calls components (e.g. delivering messages to a handler).
    Source,
}

/// A link to or from this provider, with its configuration merged and its secrets opened.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    key: LinkKey,
    role: Role,
    wit_namespace: String,
    wit_package: String,
    interfaces: Vec<String>,
    source_config: Config,
    target_config: Config,
    source_secrets: Secrets,
    target_secrets: Secrets,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("key", &self.key)
            .field("role", &self.role)
            .field(
                "wit",
                &format_args!(
                    "{}:{}/{{{}}}",
                    self.wit_namespace,
                    self.wit_package,
                    self.interfaces.join(",")
                ),
            )
            .field("source_config", &self.source_config)
            .field("target_config", &self.target_config)
            .field("source_secrets", &self.source_secrets)
            .field("target_secrets", &self.target_secrets)
            .finish()
    }
}

impl Link {
    /// A link as defined by a host, from the point of view of `provider_id`, with its secrets
    /// already opened. `None` when the provider is neither end.
    pub fn from_definition(
        provider_id: &str,
        definition: &LinkDefinition,
        source_secrets: Secrets,
        target_secrets: Secrets,
    ) -> Option<Self> {
        let role = if definition.target == provider_id {
            Role::Target
        } else if definition.source_id == provider_id {
            Role::Source
        } else {
            return None;
        };
        Some(Self {
            key: LinkKey::new(&definition.source_id, &definition.target, &definition.name),
            role,
            wit_namespace: definition.wit_namespace.clone(),
            wit_package: definition.wit_package.clone(),
            interfaces: definition.interfaces.clone(),
            source_config: Config::from_map(
                definition.source_config.clone(),
                ConfigSource::LinkSource,
            ),
            target_config: Config::from_map(
                definition.target_config.clone(),
                ConfigSource::LinkTarget,
            ),
            source_secrets,
            target_secrets,
        })
    }

    /// The link's key.
    pub fn key(&self) -> &LinkKey {
        &self.key
    }

    /// The calling side.
    pub fn source_id(&self) -> &str {
        &self.key.source_id
    }

    /// The called side.
    pub fn target(&self) -> &str {
        &self.key.target
    }

    /// The link name.
    pub fn name(&self) -> &str {
        &self.key.name
    }

    /// Which end this provider is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The other end: the calling component for a target link, the called one for a source link.
    pub fn peer(&self) -> &str {
        match self.role {
            Role::Target => &self.key.source_id,
            Role::Source => &self.key.target,
        }
    }

    /// The WIT namespace, e.g. `wasi`.
    pub fn wit_namespace(&self) -> &str {
        &self.wit_namespace
    }

    /// The WIT package, e.g. `keyvalue`.
    pub fn wit_package(&self) -> &str {
        &self.wit_package
    }

    /// The WIT interfaces the link covers.
    pub fn interfaces(&self) -> &[String] {
        &self.interfaces
    }

    /// This provider's configuration for the link: the target config when it is the target,
    /// the source config when it is the source.
    pub fn config(&self) -> &Config {
        match self.role {
            Role::Target => &self.target_config,
            Role::Source => &self.source_config,
        }
    }

    /// This provider's secrets for the link, chosen like [`Link::config`].
    pub fn secrets(&self) -> &Secrets {
        match self.role {
            Role::Target => &self.target_secrets,
            Role::Source => &self.source_secrets,
        }
    }

    /// The source's configuration.
    pub fn source_config(&self) -> &Config {
        &self.source_config
    }

    /// The target's configuration.
    pub fn target_config(&self) -> &Config {
        &self.target_config
    }

    /// The source's secrets.
    pub fn source_secrets(&self) -> &Secrets {
        &self.source_secrets
    }

    /// The target's secrets.
    pub fn target_secrets(&self) -> &Secrets {
        &self.target_secrets
    }

    /// Replaces this provider's side of the configuration (used when named configuration the
    /// link refers to changes).
    pub(crate) fn with_config(mut self, config: Config) -> Self {
        match self.role {
            Role::Target => self.target_config = config,
            Role::Source => self.source_config = config,
        }
        self
    }

    fn same_definition(&self, other: &Link) -> bool {
        self.key == other.key
            && self.role == other.role
            && self.wit_namespace == other.wit_namespace
            && self.wit_package == other.wit_package
            && self.interfaces == other.interfaces
            && self.source_config == other.source_config
            && self.target_config == other.target_config
    }

    fn same_secrets(&self, other: &Link) -> bool {
        self.source_secrets == other.source_secrets && self.target_secrets == other.target_secrets
    }

    fn with_secrets_of(mut self, other: &Link) -> Self {
        self.source_secrets = other.source_secrets.clone();
        self.target_secrets = other.target_secrets.clone();
        self
    }
}

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

    #[cfg(test)]
    fn len(&self) -> usize {
        self.links.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// What a put of `link`, arriving at `now`, would change. Call [`LinkTable::commit`] with
    /// the change once the provider accepted it.
    pub(crate) fn put(&mut self, link: Link, origin: Origin, now: Instant) -> Change {
        let current = self.links.get(&link.key).cloned();
        let link = match origin {
            Origin::Local => link,
            Origin::Copy => {
                self.copies_seen = true;
                self.early_deletes.remove(&link.key);
                let pending = self
                    .sealed
                    .get(&link.key)
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
                    link.key.clone(),
                    Arc::clone(&link),
                );
                if has_secrets {
                    let late = self
                        .early_deletes
                        .remove(&link.key)
                        .is_some_and(|deleted| now.duration_since(deleted) <= LATE_PUT_WINDOW);
                    if late && current.is_none() {
                        tracing::warn!(
                            link = %link.key,
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
                self.links.insert(link.key.clone(), Arc::clone(link));
            }
            Change::Removed(link) => {
                self.links.remove(&link.key);
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
    use super::super::config::SecretValue;
    use super::*;

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
