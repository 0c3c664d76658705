//! Links as the provider sees them.
//!
//! A link is keyed by (source, target, link name): two link names from one component are two
//! links. A call carries only `source-id` and `link-name` headers, so the runtime finds a call's
//! link by (calling component, link name) among the links whose target is this provider.

use std::fmt;

use super::config::{Config, ConfigSource, Secrets};
use crate::wasmcloud::LinkDefinition;

/// The header naming the calling component.
pub(crate) const SOURCE_ID: &str = "source-id";
/// The header naming the link a call was made over.
pub(crate) const LINK_NAME: &str = "link-name";
/// The link name when a call names none.
pub(crate) const DEFAULT_LINK_NAME: &str = "default";

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

    /// Replaces this provider's side of the secrets (used when named secrets the link refers to
    /// change).
    pub(crate) fn with_secrets(mut self, secrets: Secrets) -> Self {
        match self.role {
            Role::Target => self.target_secrets = secrets,
            Role::Source => self.source_secrets = secrets,
        }
        self
    }

    pub(crate) fn same_definition(&self, other: &Link) -> bool {
        self.key == other.key
            && self.role == other.role
            && self.wit_namespace == other.wit_namespace
            && self.wit_package == other.wit_package
            && self.interfaces == other.interfaces
            && self.source_config == other.source_config
            && self.target_config == other.target_config
    }

    pub(crate) fn same_secrets(&self, other: &Link) -> bool {
        self.source_secrets == other.source_secrets && self.target_secrets == other.target_secrets
    }

    pub(crate) fn with_secrets_of(mut self, other: &Link) -> Self {
        self.source_secrets = other.source_secrets.clone();
        self.target_secrets = other.target_secrets.clone();
        self
    }
}
