//! The provider's own measurements, exported with the runtime's when the host asks for metrics
//! (README "Telemetry"): what became of the messages delivered to handler links. Read from the
//! counts the provider keeps anyway ([`DeliveryStats`], [`JetStreamStats`]) when the metrics
//! are exported: nothing more is done per message.

use std::sync::Arc;

use provider_sdk::telemetry::opentelemetry::KeyValue;
use provider_sdk::telemetry::opentelemetry::metrics::ObservableCounter;

use crate::delivery::Stats;
use crate::jetstream;

/// The registered instruments: their callbacks live as long as these do.
#[derive(Debug)]
pub(crate) struct Observed {
    _counters: Vec<ObservableCounter<u64>>,
}

/// Registers the counters over `deliveries` and `jetstream`.
pub(crate) fn observe(deliveries: &Arc<Stats>, jetstream: &Arc<jetstream::Stats>) -> Observed {
    let meter = provider_sdk::telemetry::meter("messaging-provider");
    let mut counters = Vec::new();
    let mut counter = |name: &'static str,
                       description: &'static str,
                       read: Box<dyn Fn() -> u64 + Send + Sync>| {
        counters.push(
            meter
                .u64_observable_counter(name)
                .with_description(description)
                .with_callback(move |observer| observer.observe(read(), &[] as &[KeyValue]))
                .build(),
        );
    };
    let stats = Arc::clone(deliveries);
    counter(
        "messaging.deliveries",
        "Messages a handler component answered with ok",
        Box::new(move || stats.snapshot().delivered),
    );
    let stats = Arc::clone(deliveries);
    counter(
        "messaging.handler_errors",
        "Messages a handler component answered with an error, or whose call failed",
        Box::new(move || stats.snapshot().failed),
    );
    let stats = Arc::clone(deliveries);
    counter(
        "messaging.dropped",
        "Messages dropped for want of a delivery slot, a full queue, or a closing link",
        Box::new(move || stats.snapshot().dropped),
    );
    let stats = Arc::clone(jetstream);
    counter(
        "messaging.jetstream.acks",
        "JetStream messages handled and acked",
        Box::new(move || stats.snapshot().acked),
    );
    let stats = Arc::clone(jetstream);
    counter(
        "messaging.jetstream.naks",
        "JetStream messages nak'ed for redelivery after a failed delivery",
        Box::new(move || stats.snapshot().naked),
    );
    let stats = Arc::clone(jetstream);
    counter(
        "messaging.jetstream.terminated",
        "JetStream messages terminated after their last allowed delivery failed",
        Box::new(move || stats.snapshot().terminated),
    );
    Observed {
        _counters: counters,
    }
}
