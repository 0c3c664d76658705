//! The runtime's measurements.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _, UpDownCounter};
use opentelemetry_sdk::metrics::SdkMeterProvider;

/// Every instrument the runtime records to, made once.
pub(super) struct Instruments {
    /// Invocations ended, by function and outcome.
    pub(super) invocations: Counter<u64>,
    /// How long invocations took, in seconds, by function and outcome.
    pub(super) server_duration: Histogram<f64>,
    /// Invocations running now, by function.
    pub(super) in_flight: UpDownCounter<i64>,
    /// Invocations the link check or another admission refused, by function.
    pub(super) refused: Counter<u64>,
    /// How long the provider's own calls took, in seconds, by function and outcome.
    pub(super) client_duration: Histogram<f64>,
    /// Links in effect, by the provider's role in them.
    pub(super) links: UpDownCounter<i64>,
}

/// Boundaries for call durations, in seconds: 100 µs to 30 s.
const DURATION_BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    30.0,
];

impl Instruments {
    pub(super) fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("provider-sdk");
        Self {
            invocations: meter
                .u64_counter("wrpc.server.invocations")
                .with_description("Invocations served, by function and outcome")
                .build(),
            server_duration: meter
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description("How long invocations took, from arrival to their end")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            in_flight: meter
                .i64_up_down_counter("wrpc.server.in_flight")
                .with_description("Invocations running now")
                .build(),
            refused: meter
                .u64_counter("wrpc.server.refused")
                .with_description("Invocations refused before they ran (no link, or admission)")
                .build(),
            client_duration: meter
                .f64_histogram("rpc.client.call.duration")
                .with_unit("s")
                .with_description("How long the provider's calls took")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            links: meter
                .i64_up_down_counter("wasmcloud.provider.links")
                .with_description("Links in effect")
                .build(),
        }
    }
}

/// Counts a link coming into effect (`+1`) or going (`-1`), as `role` (`target`, `source`).
pub(crate) fn links_changed(delta: i64, role: &'static str) {
    if let Some(instruments) = super::installed().and_then(|i| i.instruments.as_ref()) {
        instruments
            .links
            .add(delta, &[KeyValue::new("wasmcloud.link.role", role)]);
    }
}
