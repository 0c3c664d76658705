//! The router that turns a host's control messages into one ordered stream of
//! [`ControlEvent`]s, and hands health and shutdown requests to their own lanes.
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

use crate::provider::link_table::Origin;
use crate::wasmcloud::{ControlSubject, LinkDefinition, ShutdownRequest};

/// One change to apply, in order.
#[derive(Debug)]
pub(crate) enum ControlEvent {
    /// A link put, as received.
    LinkPut(Box<LinkDefinition>, Origin),
    /// A link delete, as received.
    LinkDelete(Box<LinkDefinition>),
    /// The provider's whole merged configuration, from the host.
    ProviderConfig(HashMap<String, String>),
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
