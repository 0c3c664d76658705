//! The provider itself: its state (each consumer link's connection, each handler link's
//! subscriptions, the provider-wide delivery slots, the provider-level configuration) and its
//! lifecycle hooks. The `consumer` handlers are in `handlers.rs`, delivery in `delivery.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use async_nats::Message;
use provider_sdk::provider::{
    Config, Context, Health, HookResult, InitContext, Link, LinkResources, Provider,
    ProviderHandle, Secrets,
};
use provider_sdk::trace::TraceContext;
use provider_sdk::transport::{Client, Server, Serving};
use tokio::sync::Semaphore;

use crate::bindings::wasmcloud::messaging::types::BrokerMessage;
use crate::bindings::{self, wasmcloud::messaging::handler};
use crate::config::{self, DEFAULT_PROVIDER_MAX_IN_FLIGHT, Defaults, LinkSettings};
use crate::connection::Connection;
use crate::delivery::{
    DRAIN_MAX, Deliver, Delivery, DeliveryStats, Failure, Limits, ProviderSlots, Stats,
};
use crate::error::{Error, Result};
use crate::jetstream::{self, Consumers, JetStreamStats};

/// How long shutdown waits for deliveries in flight once the links have drained.
const DRAIN_WAIT: Duration = Duration::from_secs(10);

/// How long shutdown waits for a link to unsubscribe and drain, beyond its drain deadline.
const CLOSE_SLACK: Duration = Duration::from_secs(3);

/// The messaging provider.
#[derive(Debug)]
pub struct MessagingProvider {
    /// The provider's configuration and secrets: every link's defaults.
    defaults: Mutex<Defaults>,
    /// Each consumer link's connection (the provider is the target).
    consumers: LinkResources<Connection>,
    /// Each handler link's subscriptions (the provider is the source).
    handlers: LinkResources<Delivery>,
    /// Each handler link's JetStream consumers (`consumers`), on a connection of their own.
    jetstream: LinkResources<Consumers>,
    jetstream_stats: Arc<jetstream::Stats>,
    /// Delivery slots over all handler links.
    slots: ProviderSlots,
    stats: Arc<Stats>,
    /// Whether the log has said that a link uses the default NATS URL.
    said_default_url: AtomicBool,
    /// The running provider, for calling components.
    handle: OnceLock<ProviderHandle>,
    /// The delivery counters, registered as metrics at init.
    observed: OnceLock<crate::metrics::Observed>,
}

impl Default for MessagingProvider {
    fn default() -> Self {
        Self {
            defaults: Mutex::default(),
            consumers: LinkResources::new(),
            handlers: LinkResources::new(),
            jetstream: LinkResources::new(),
            jetstream_stats: Arc::default(),
            slots: ProviderSlots::new(DEFAULT_PROVIDER_MAX_IN_FLIGHT),
            stats: Arc::default(),
            said_default_url: AtomicBool::new(false),
            handle: OnceLock::new(),
            observed: OnceLock::new(),
        }
    }
}

impl MessagingProvider {
    /// Deliveries so far, over all handler links.
    pub fn delivery_stats(&self) -> DeliveryStats {
        self.stats.snapshot()
    }

    /// JetStream deliveries so far, over all handler links.
    pub fn jetstream_stats(&self) -> JetStreamStats {
        self.jetstream_stats.snapshot()
    }

    /// How many consumer links and handler links have a connection.
    pub fn links(&self) -> (usize, usize) {
        (self.consumers.len(), self.handlers.len())
    }

    fn defaults(&self) -> Defaults {
        self.defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the provider's configuration, warning about its keys once, here, when it changes
    /// (not for every link that inherits it). New defaults apply to links put from now on;
    /// `provider_max_in_flight` applies at once.
    fn set_defaults(&self, config: &Config, secrets: Option<&Secrets>) -> HookResult {
        let mut defaults = self.defaults.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = defaults.clone();
        next.config = config.clone();
        if let Some(secrets) = secrets {
            next.secrets = secrets.clone();
        }
        let slots = next.provider_max_in_flight()?;
        if defaults.config != *config {
            config::warn_provider_keys(config);
        }
        self.slots.resize(slots);
        *defaults = next;
        Ok(())
    }

    /// The settings of `link`, saying once in the log when a link uses the default URL.
    fn settings(&self, link: &Link) -> Result<LinkSettings> {
        config::warn_link_keys(link);
        let settings = LinkSettings::for_link(&self.defaults(), link)?;
        if settings.connection.default_url && !self.said_default_url.swap(true, Ordering::Relaxed) {
            tracing::info!(
                url = config::DEFAULT_URL,
                "no cluster_uris configured; links without one connect to the default NATS URL"
            );
        }
        Ok(settings)
    }

    /// The connection of the link a call came over. The runtime lets only linked callers in,
    /// so a link without one was deleted or replaced while the call was on its way.
    pub(crate) fn connection(&self, cx: &Context) -> Result<Arc<Connection>> {
        self.consumers
            .for_context(cx)
            .ok_or_else(|| Error::LinkChanged {
                link_name: cx.link_name().to_owned(),
            })
    }
}

/// Delivers to a component by calling its `handle-message` over the link, continuing the
/// trace the message carries in its headers (or starting one).
struct Component {
    client: Client,
}

impl Deliver for Component {
    async fn deliver(&self, message: Message) -> std::result::Result<(), Failure> {
        let trace = message
            .headers
            .as_ref()
            .and_then(TraceContext::from_headers);
        let message = BrokerMessage {
            subject: message.subject.to_string(),
            body: message.payload,
            reply_to: message.reply.map(|reply| reply.to_string()),
        };
        let call = handler::handle_message(&self.client, &message);
        let result = match trace {
            Some(trace) => trace.scope(call).await,
            None => call.await,
        };
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Failure::Rejected(error)),
            Err(error) => Err(Failure::Transport(error.to_string())),
        }
    }
}

impl Provider for MessagingProvider {
    async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
        bindings::serve(server, self).await
    }

    async fn init(&self, init: &InitContext) -> HookResult {
        let _ = self.handle.set(init.handle().clone());
        let _ = self
            .observed
            .set(crate::metrics::observe(&self.stats, &self.jetstream_stats));
        self.set_defaults(init.config(), Some(init.secrets()))
    }

    async fn config_updated(&self, config: &Config) -> HookResult {
        self.set_defaults(config, None)
    }

    /// New provider secrets (a rotated mounted Secret) are the defaults of links put from now
    /// on, as new configuration is.
    async fn secrets_updated(&self, secrets: &Secrets) -> HookResult {
        let config = self.defaults().config.clone();
        self.set_defaults(&config, Some(secrets))
    }

    /// A component that publishes and requests: a connection of its own for this link. A
    /// changed link gets a new connection; the old one closes when its last call ends.
    async fn link_put_as_target(&self, link: &Link) -> HookResult {
        let settings = self.settings(link)?;
        self.consumers
            .put(
                link,
                Connection::open(&settings.connection, &connection_name(link)),
            )
            .await?;
        tracing::info!(
            link = %link.key(),
            connection = ?settings.connection,
            "messaging consumer link ready"
        );
        Ok(())
    }

    async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
        self.consumers.remove(link.key());
        Ok(())
    }

    /// A component that handles messages: its own connection, subscribed to its
    /// `subscriptions` (confirmed by the server before this returns). A changed link is
    /// subscribed anew, then the old subscriptions are unsubscribed and drain in the background
    /// (see `Delivery::close`).
    async fn link_put_as_source(&self, link: &Link) -> HookResult {
        let handle = self.handle.get().ok_or("the provider has not started")?;
        let settings = self.settings(link)?;
        if settings.subscriptions.is_empty() && settings.consumers.is_empty() {
            tracing::warn!(
                link = %link.key(),
                "handler link without subscriptions (source config `subscriptions`): nothing \
                 will be delivered"
            );
        }
        let component = Component {
            client: handle.link_client(link)?,
        };
        let limits = Limits {
            link: Arc::new(Semaphore::new(settings.max_in_flight)),
            provider: self.slots.semaphore(),
            wait: settings.admission_wait,
            drain: settings.admission_wait.min(DRAIN_MAX),
        };
        // Everything new is started before anything is registered: a missing stream or
        // consumer, or a subscription the server refuses, fails the put with the link's
        // previous consumers and subscriptions still delivering.
        let consumers = if settings.consumers.is_empty() {
            None
        } else {
            let connection = Connection::open(&settings.connection, &connection_name(link)).await?;
            let component = Component {
                client: handle.link_client(link)?,
            };
            Some(
                Consumers::start(
                    link.key(),
                    connection,
                    &settings.consumers,
                    settings.max_in_flight,
                    limits.clone(),
                    component,
                    Arc::clone(&self.jetstream_stats),
                )
                .await?,
            )
        };
        let subscriptions = settings.subscriptions.clone();
        let delivery = async {
            let connection = Connection::open(&settings.connection, &connection_name(link)).await?;
            Delivery::start(
                link.key(),
                connection,
                &subscriptions,
                settings.max_in_flight,
                limits,
                component,
                Arc::clone(&self.stats),
            )
            .await
        }
        .await;
        let delivery = match delivery {
            Ok(delivery) => delivery,
            Err(error) => {
                if let Some(consumers) = consumers {
                    consumers.close();
                }
                return Err(error.into());
            }
        };
        // Only now do the old consumers stop and the old subscriptions unsubscribe and drain
        // (a message may arrive over both meanwhile; none is lost silently).
        let previous_consumers = match consumers {
            Some(consumers) => self.jetstream.insert(link, consumers),
            None => self.jetstream.remove(link.key()),
        };
        if let Some(previous) = previous_consumers {
            previous.close();
        }
        if let Some(previous) = self.handlers.insert(link, delivery) {
            previous.close();
        }
        let subscriptions: Vec<String> = subscriptions.iter().map(ToString::to_string).collect();
        tracing::info!(
            link = %link.key(),
            subscriptions = %subscriptions.join(","),
            consumers = %settings.consumers.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            max_in_flight = settings.max_in_flight,
            connection = ?settings.connection,
            "messaging handler link subscribed"
        );
        Ok(())
    }

    async fn link_deleted_as_source(&self, link: &Link) -> HookResult {
        if let Some(consumers) = self.jetstream.remove(link.key()) {
            consumers.close();
        }
        if let Some(delivery) = self.handlers.remove(link.key()) {
            delivery.close();
        }
        Ok(())
    }

    /// Unhealthy while a link's connection has been down longer than its
    /// `unhealthy_after_ms`, naming each such link.
    async fn health(&self) -> Health {
        let consumers = self.consumers.links().into_iter().filter_map(|key| {
            let problem = self.consumers.get(&key)?.problem()?;
            Some(format!("link {key}: {problem}"))
        });
        let handlers = self.handlers.links().into_iter().filter_map(|key| {
            let problem = self.handlers.get(&key)?.connection().problem()?;
            Some(format!("link {key}: {problem}"))
        });
        let jetstream = self.jetstream.links().into_iter().filter_map(|key| {
            let problem = self.jetstream.get(&key)?.connection().problem()?;
            Some(format!("link {key} (JetStream): {problem}"))
        });
        let mut down: Vec<String> = consumers.chain(handlers).chain(jetstream).collect();
        if down.is_empty() {
            return Health::healthy();
        }
        down.sort_unstable();
        Health::unhealthy(down.join("; "))
    }

    /// Unsubscribes everything, lets each handler link deliver what it had buffered (until its
    /// drain deadline; the rest is counted as dropped), waits (a while) for deliveries in
    /// flight, closes everything.
    async fn shutdown(&self) -> HookResult {
        // JetStream: stop pulling first; deliveries in flight are waited for below.
        let pulls: Vec<_> = self
            .jetstream
            .links()
            .iter()
            .filter_map(|key| self.jetstream.get(key))
            .collect();
        for consumers in &pulls {
            consumers.close();
        }
        let deliveries: Vec<_> = self
            .handlers
            .links()
            .iter()
            .filter_map(|key| self.handlers.get(key))
            .collect();
        let closing: Vec<_> = deliveries.iter().map(|delivery| delivery.close()).collect();
        let closed = Instant::now() + DRAIN_MAX + CLOSE_SLACK;
        for close in closing {
            if tokio::time::timeout_at(closed.into(), close).await.is_err() {
                tracing::warn!("handler links still draining at shutdown; abandoning them");
                break;
            }
        }
        let deadline = Instant::now() + DRAIN_WAIT;
        for delivery in &deliveries {
            if !delivery.drained(deadline).await {
                tracing::warn!("deliveries still in flight at shutdown; abandoning them");
                break;
            }
        }
        for consumers in &pulls {
            if !consumers.drained(deadline).await {
                tracing::warn!(
                    "JetStream deliveries still in flight at shutdown; the server redelivers them"
                );
                break;
            }
        }
        self.jetstream.clear();
        self.handlers.clear();
        self.consumers.clear();
        Ok(())
    }
}

/// The name a link's connection goes by, at the server and in warnings: the provider, the
/// component at the other end and the link name.
fn connection_name(link: &Link) -> String {
    format!("messaging-provider {} ({})", link.peer(), link.name())
}

#[cfg(test)]
mod tests {
    use provider_sdk::provider::{ConfigSource, SecretValue};
    use provider_sdk::wasmcloud::LinkDefinition;

    use provider_testing::{Logs, NatsServer};

    use super::*;

    /// A consumer link from `comp` named `name` (the provider is the target).
    fn link(name: &str, config: &[(&str, &str)], secrets: &[(&str, &str)]) -> Link {
        let mut definition = LinkDefinition::default();
        definition.source_id = "comp".into();
        definition.target = "messaging".into();
        definition.name = name.into();
        definition.target_config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let secrets = Secrets::from_map(
            secrets
                .iter()
                .map(|(k, v)| (*k, SecretValue::String(v.to_string()))),
        );
        Link::from_definition("messaging", &definition, Secrets::new(), secrets).unwrap()
    }

    /// Provider-level keys are warned about once however many links inherit them; a link's
    /// own keys once per put, naming the link; later keys as "not supported yet"; handler keys
    /// on a consumer link as ignored; the default URL is said once; secrets never appear.
    #[tokio::test(flavor = "current_thread")]
    async fn keys_are_warned_about_once_where_they_were_set_and_secrets_never_logged() {
        let nats = NatsServer::start().unwrap();
        let url = nats.url();
        let logs = Logs::default();
        let _logging = tracing::subscriber::set_default(logs.clone());
        let provider = MessagingProvider::default();
        let defaults = Config::from_map(
            [
                ("provider_typo", "x"),
                ("consumers", "[]"),
                ("cluster_uris", url.as_str()),
            ],
            ConfigSource::HostProvider,
        );
        provider.config_updated(&defaults).await.unwrap();
        provider.config_updated(&defaults).await.unwrap();
        for name in ["one", "two", "three"] {
            provider
                .link_put_as_target(&link(name, &[], &[]))
                .await
                .unwrap();
        }
        provider
            .link_put_as_target(&link(
                "alpha",
                &[("link_typo", "y"), ("subscriptions", "a.b")],
                &[("client_seed", "SUAFAKESEEDNEVERTOBELOGGED")],
            ))
            .await
            .ok();
        assert_eq!(logs.with(&["unknown config key", "provider_typo"]).len(), 1);
        let warned = logs.with(&["unknown config key", "(alpha)", "link_typo"]);
        assert_eq!(warned.len(), 1, "{warned:#?}");
        let warned = logs.with(&["applies only to a handler link", "subscriptions"]);
        assert_eq!(warned.len(), 1, "{warned:#?}");
        assert_eq!(logs.with(&["unknown config key"]).len(), 2);
        assert!(logs.with(&["SUAFAKESEEDNEVERTOBELOGGED"]).is_empty());

        // Without cluster_uris anywhere, the default URL is said once, however many links.
        provider.config_updated(&Config::new()).await.unwrap();
        for name in ["d1", "d2"] {
            let _ = provider.link_put_as_target(&link(name, &[], &[])).await;
        }
        assert_eq!(logs.with(&["default NATS URL"]).len(), 1);
    }
}
