//! The provider's own measurements, exported with the runtime's when the host asks for metrics
//! (README "Telemetry"): what became of the messages delivered to handler links. Read from the
//! counts the provider keeps anyway ([`DeliveryStats`], [`JetStreamStats`]) when the metrics
//! are exported: nothing more is done per message.

use std::sync::Arc;

use provider_sdk::telemetry::opentelemetry::KeyValue;
use provider_sdk::telemetry::opentelemetry::metrics::ObservableCounter;

use crate::delivery::Stats;
use crate::jetstream;
use crate::{DeliveryStats, JetStreamStats};

/// The registered instruments: their callbacks live as long as these do.
#[derive(Debug)]
pub(crate) struct Observed {
    _counters: Vec<ObservableCounter<u64>>,
}

/// A counter's name, description, and what it reads from a snapshot of `S`.
type Counted<S> = (&'static str, &'static str, fn(&S) -> u64);

/// What each delivery counter is called, says, and reads.
const DELIVERIES: [Counted<DeliveryStats>; 3] = [
    (
        "messaging.deliveries",
        "Messages a handler component answered with ok",
        |stats| stats.delivered,
    ),
    (
        "messaging.handler_errors",
        "Messages a handler component answered with an error, or whose call failed",
        |stats| stats.failed,
    ),
    (
        "messaging.dropped",
        "Messages dropped for want of a delivery slot, a full queue, or a closing link",
        |stats| stats.dropped,
    ),
];

/// What each JetStream counter is called, says, and reads.
const JETSTREAM: [Counted<JetStreamStats>; 3] = [
    (
        "messaging.jetstream.acks",
        "JetStream messages handled and acked",
        |stats| stats.acked,
    ),
    (
        "messaging.jetstream.naks",
        "JetStream messages nak'ed for redelivery after a failed delivery",
        |stats| stats.naked,
    ),
    (
        "messaging.jetstream.terminated",
        "JetStream messages terminated after their last allowed delivery failed",
        |stats| stats.terminated,
    ),
];

/// Registers the counters over `deliveries` and `jetstream`.
pub(crate) fn observe(deliveries: &Arc<Stats>, jetstream: &Arc<jetstream::Stats>) -> Observed {
    let meter = provider_sdk::telemetry::meter("messaging-provider");
    let counter = |name: &'static str,
                   description: &'static str,
                   read: Box<dyn Fn() -> u64 + Send + Sync>| {
        meter
            .u64_observable_counter(name)
            .with_description(description)
            .with_callback(move |observer| observer.observe(read(), &[] as &[KeyValue]))
            .build()
    };
    let mut counters = Vec::new();
    for (name, description, read) in DELIVERIES {
        let stats = Arc::clone(deliveries);
        counters.push(counter(
            name,
            description,
            Box::new(move || read(&stats.snapshot())),
        ));
    }
    for (name, description, read) in JETSTREAM {
        let stats = Arc::clone(jetstream);
        counters.push(counter(
            name,
            description,
            Box::new(move || read(&stats.snapshot())),
        ));
    }
    Observed {
        _counters: counters,
    }
}
