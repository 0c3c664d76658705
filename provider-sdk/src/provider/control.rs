//! The control subjects a wasmCloud host publishes to a provider, and the router that turns
//! their messages into one ordered stream of [`ControlEvent`]s.
//!
//! Link puts (the copies), link deletes, config updates, health and shutdown requests all arrive
//! on `wasmbus.rpc.<lattice>.<provider-id>.>`, one subscription, so they keep the order the
//! host published them in. Link puts with sealed secrets arrive on a second subscription, named
//! after the provider's xkey. Health and shutdown requests skip the ordered queue: a slow link
//! hook never delays them.

use std::collections::HashMap;

use bytes::Bytes;
use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::host_data::{LinkDefinition, ShutdownRequest};
use super::link::Origin;

/// The subject prefix of every control message to `provider_id` in `lattice`.
pub fn control_prefix(lattice: &str, provider_id: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{provider_id}")
}

/// Where link puts with sealed secrets arrive: named after the provider's public xkey.
pub fn sealed_link_put_subject(lattice: &str, provider_xkey_public: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{provider_xkey_public}.linkdefs.put")
}

/// Where link put copies (no secrets) for `id` arrive.
pub fn link_put_subject(lattice: &str, id: &str) -> String {
    format!("{}.linkdefs.put", control_prefix(lattice, id))
}

/// Where link deletes for `id` arrive.
pub fn link_delete_subject(lattice: &str, id: &str) -> String {
    format!("{}.linkdefs.del", control_prefix(lattice, id))
}

/// Where health requests for `provider_id` arrive.
pub fn health_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.health", control_prefix(lattice, provider_id))
}

/// Where shutdown requests for `provider_id` arrive.
pub fn shutdown_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.default.shutdown", control_prefix(lattice, provider_id))
}

/// Where the host publishes the provider's merged configuration when it changes.
pub fn config_update_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.config.update", control_prefix(lattice, provider_id))
}

/// What a control message under [`control_prefix`] is, from the rest of its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControlSubject {
    LinkPut,
    LinkDelete,
    ConfigUpdate,
    Health,
    Shutdown,
}

impl ControlSubject {
    /// Classifies `subject`, which must start with `prefix`; `None` for anything else.
    pub(crate) fn parse(prefix: &str, subject: &str) -> Option<Self> {
        let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
        match rest {
            "linkdefs.put" => Some(Self::LinkPut),
            "linkdefs.del" => Some(Self::LinkDelete),
            "config.update" => Some(Self::ConfigUpdate),
            "health" => Some(Self::Health),
            // `default` was a link name once; accept any single token there.
            _ => match rest.split_once('.') {
                Some((link_name, "shutdown")) if !link_name.contains('.') => Some(Self::Shutdown),
                _ => None,
            },
        }
    }
}

/// One change to apply, in order.
#[derive(Debug)]
pub(crate) enum ControlEvent {
    /// A link put, as received.
    LinkPut(Box<LinkDefinition>, Origin),
    /// A link delete, as received.
    LinkDelete(Box<LinkDefinition>),
    /// The provider's whole merged configuration, from the host.
    ProviderConfig(HashMap<String, String>),
    /// A named configuration was put (`Some`) or deleted (`None`) in `CONFIGDATA_<lattice>`.
    NamedConfig {
        name: String,
        values: Option<HashMap<String, String>>,
    },
}

/// Where the router sends what it read.
#[derive(Clone)]
pub(crate) struct Routes {
    pub(crate) events: mpsc::Sender<ControlEvent>,
    pub(crate) health: mpsc::Sender<async_nats::Subject>,
    pub(crate) shutdown: mpsc::Sender<Option<async_nats::Subject>>,
    /// Shutdown requests from other hosts are ignored; empty accepts any.
    pub(crate) host_id: String,
}

/// Which control messages a router handles: link and config changes, which queue up behind
/// a slow hook, or health and shutdown requests, which must never wait behind them and so come
/// on subscriptions of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    Ordered,
    Urgent,
}

/// Reads control messages of `lane` until the subscription ends or the receiving side is gone.
pub(crate) async fn route(
    prefix: String,
    mut subscriber: async_nats::Subscriber,
    routes: Routes,
    lane: Lane,
) {
    while let Some(message) = subscriber.next().await {
        let Some(kind) = ControlSubject::parse(&prefix, &message.subject) else {
            tracing::debug!(subject = %message.subject, "ignoring an unknown control message");
            continue;
        };
        let urgent = matches!(kind, ControlSubject::Health | ControlSubject::Shutdown);
        if urgent != (lane == Lane::Urgent) {
            continue;
        }
        let delivered = match kind {
            ControlSubject::LinkPut => match parse_link(&message.payload) {
                Some(link) => routes
                    .events
                    .send(ControlEvent::LinkPut(link, Origin::Copy))
                    .await
                    .is_ok(),
                None => true,
            },
            ControlSubject::LinkDelete => match parse_link(&message.payload) {
                Some(link) => routes
                    .events
                    .send(ControlEvent::LinkDelete(link))
                    .await
                    .is_ok(),
                None => true,
            },
            ControlSubject::ConfigUpdate => {
                match serde_json::from_slice::<HashMap<String, String>>(&message.payload) {
                    Ok(config) => routes
                        .events
                        .send(ControlEvent::ProviderConfig(config))
                        .await
                        .is_ok(),
                    Err(error) => {
                        tracing::warn!(%error, "ignoring a config update that is not a JSON map of strings");
                        true
                    }
                }
            }
            ControlSubject::Health => match message.reply {
                Some(reply) => {
                    if routes.health.try_send(reply).is_err() {
                        tracing::warn!(
                            "dropping a health request: earlier ones are still being answered"
                        );
                    }
                    true
                }
                None => true,
            },
            ControlSubject::Shutdown => {
                let request = if message.payload.is_empty() {
                    ShutdownRequest::default()
                } else {
                    match serde_json::from_slice::<ShutdownRequest>(&message.payload) {
                        Ok(request) => request,
                        Err(error) => {
                            tracing::warn!(%error, "ignoring a malformed shutdown request");
                            continue;
                        }
                    }
                };
                if routes.host_id.is_empty() || request.host_id == routes.host_id {
                    // One is enough; later ones find the channel full and are dropped.
                    let _ = routes.shutdown.try_send(message.reply);
                } else {
                    tracing::debug!(requester = %request.host_id, "ignoring a shutdown request from another host");
                }
                true
            }
        };
        if !delivered {
            break;
        }
    }
}

/// Forwards sealed link puts into the ordered queue.
pub(crate) async fn route_sealed(
    mut subscriber: async_nats::Subscriber,
    events: mpsc::Sender<ControlEvent>,
) {
    while let Some(message) = subscriber.next().await {
        if let Some(link) = parse_link(&message.payload) {
            let has_secrets = link.source_secrets.is_some() || link.target_secrets.is_some();
            if events
                .send(ControlEvent::LinkPut(link, Origin::Sealed { has_secrets }))
                .await
                .is_err()
            {
                break;
            }
        }
    }
}

fn parse_link(payload: &Bytes) -> Option<Box<LinkDefinition>> {
    match serde_json::from_slice::<LinkDefinition>(payload) {
        Ok(link) => Some(Box::new(link)),
        Err(error) => {
            tracing::warn!(%error, "ignoring a link message that is not a wasmCloud link definition");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_the_hosts() {
        assert_eq!(
            link_put_subject("default", "p1"),
            "wasmbus.rpc.default.p1.linkdefs.put"
        );
        assert_eq!(
            link_delete_subject("default", "p1"),
            "wasmbus.rpc.default.p1.linkdefs.del"
        );
        assert_eq!(health_subject("l", "p1"), "wasmbus.rpc.l.p1.health");
        assert_eq!(
            shutdown_subject("l", "p1"),
            "wasmbus.rpc.l.p1.default.shutdown"
        );
        assert_eq!(
            config_update_subject("l", "p1"),
            "wasmbus.rpc.l.p1.config.update"
        );
        assert_eq!(
            sealed_link_put_subject("l", "XABC"),
            "wasmbus.rpc.l.XABC.linkdefs.put"
        );
    }

    #[test]
    fn control_subjects_are_classified_by_their_tail() {
        let prefix = control_prefix("l", "p1");
        let parse = |subject: &str| ControlSubject::parse(&prefix, subject);
        assert_eq!(
            parse("wasmbus.rpc.l.p1.linkdefs.put"),
            Some(ControlSubject::LinkPut)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.linkdefs.del"),
            Some(ControlSubject::LinkDelete)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.config.update"),
            Some(ControlSubject::ConfigUpdate)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.health"),
            Some(ControlSubject::Health)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.default.shutdown"),
            Some(ControlSubject::Shutdown)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.other.shutdown"),
            Some(ControlSubject::Shutdown)
        );
        assert_eq!(parse("wasmbus.rpc.l.p1.a.b.shutdown"), None);
        assert_eq!(parse("wasmbus.rpc.l.p10.health"), None);
        assert_eq!(parse("wasmbus.rpc.l.p1.linkdefs.get"), None);
    }
}
