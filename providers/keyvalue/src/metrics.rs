//! The provider's own measurements, exported with the runtime's when the host asks for metrics
//! (README "Telemetry"): operations by backend and operation, and the backends' failures.

use std::sync::OnceLock;

use provider_sdk::telemetry::opentelemetry::KeyValue;
use provider_sdk::telemetry::opentelemetry::metrics::Counter;

use crate::error::{Error, Result};

struct Instruments {
    operations: Counter<u64>,
    backend_errors: Counter<u64>,
}

/// Made at the first operation, after the runtime has set up export; none when metrics are
/// not exported, so an operation then costs one load.
fn instruments() -> Option<&'static Instruments> {
    static INSTRUMENTS: OnceLock<Option<Instruments>> = OnceLock::new();
    let made = INSTRUMENTS.get_or_init(|| {
        if !provider_sdk::telemetry::exports_metrics() {
            return None;
        }
        let meter = provider_sdk::telemetry::meter("keyvalue-provider");
        Some(Instruments {
            operations: meter
                .u64_counter("keyvalue.operations")
                .with_description("Store operations, by backend and operation")
                .build(),
            backend_errors: meter
                .u64_counter("keyvalue.backend.errors")
                .with_description(
                    "Operations the backend failed (unreachable, timed out, refused), by \
                     backend and operation",
                )
                .build(),
        })
    });
    made.as_ref()
}

/// Counts `operation` on `backend`, and its failure if the backend failed it; hands `result`
/// back.
pub(crate) fn counted<T>(
    backend: &'static str,
    operation: &'static str,
    result: Result<T>,
) -> Result<T> {
    let Some(instruments) = instruments() else {
        return result;
    };
    let attributes = [
        KeyValue::new("keyvalue.backend", backend),
        KeyValue::new("keyvalue.operation", operation),
    ];
    instruments.operations.add(1, &attributes);
    if let Err(Error::Backend { .. } | Error::AccessDenied(_)) = &result {
        instruments.backend_errors.add(1, &attributes);
    }
    result
}
