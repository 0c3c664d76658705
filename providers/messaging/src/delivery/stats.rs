//! What handler links' deliveries come to, counted over every link of the provider.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts over every handler link of the provider.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(super) delivered: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) dropped: AtomicU64,
}

/// The provider's delivery counts over all handler links, as of one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Messages the component answered with `ok`.
    pub delivered: u64,
    /// Messages the component answered with `err`, or whose call failed.
    pub failed: u64,
    /// Messages dropped: for want of a delivery slot within `admission_wait_ms`, because
    /// their subscription already had 65,536 messages waiting for one, or
    /// because they were still waiting when a closing link's drain deadline passed.
    pub dropped: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}
