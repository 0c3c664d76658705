//! The numbers of JetStream delivery: redelivery delays, how many deliveries a message gets,
//! how many messages a pull asks for. Pure functions.

use std::time::Duration;

/// The first redelivery delay after a failed delivery; it doubles with each delivery.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The first redelivery delay after a delivery whose call failed (transport); it doubles
/// with each delivery.
const FIRST_TRANSPORT_BACKOFF: Duration = Duration::from_secs(1);
/// The longest redelivery delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The redelivery delay after the `delivered`th delivery failed: 100 ms, doubling, at most
/// 30 s.
pub(crate) fn backoff(delivered: i64) -> Duration {
    doubling(FIRST_BACKOFF, delivered)
}

/// The redelivery delay after the `delivered`th delivery's call failed (component not
/// serving, timeout): 1 s, doubling, at most 30 s; long enough to outlast a component restart
/// before `max_deliver` runs out.
pub(crate) fn transport_backoff(delivered: i64) -> Duration {
    doubling(FIRST_TRANSPORT_BACKOFF, delivered)
}

/// `first`, doubled `n - 1` times, at most [`MAX_BACKOFF`].
fn doubling(first: Duration, n: i64) -> Duration {
    let doublings = u32::try_from(n.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// The deliveries of one message, at most: the smaller of the entry's `max_deliver` and the
/// consumer's own (`server`; <= 0 is unlimited). `None`: unlimited.
pub(crate) fn effective_max_deliver(entry: Option<u32>, server: i64) -> Option<i64> {
    let server = (server > 0).then_some(server);
    match (entry.map(i64::from), server) {
        (Some(entry), Some(server)) => Some(entry.min(server)),
        (entry, server) => entry.or(server),
    }
}

/// Messages asked for per pull: `max_in_flight`, capped by the entry's `max_ack_pending` and
/// the consumer's own `max_ack_pending` and `max_request_batch` (those > 0), at least 1. The
/// server refuses (409) a pull larger than either of the consumer's.
pub(crate) fn pull_batch(
    max_in_flight: usize,
    entry_max_ack_pending: Option<usize>,
    server_max_ack_pending: i64,
    server_max_batch: i64,
) -> usize {
    let server = |n: i64| usize::try_from(n).ok().filter(|&n| n > 0);
    [
        entry_max_ack_pending,
        server(server_max_ack_pending),
        server(server_max_batch),
    ]
    .into_iter()
    .flatten()
    .fold(max_in_flight, usize::min)
    .max(1)
}

/// How often a message in flight is reported in progress: twice per `ack_wait` (the consumer's
/// own), so that one report may be lost or late without the server redelivering it; at most
/// every 100 ms. `None` without an `ack_wait`.
pub(crate) fn progress_every(ack_wait: Duration) -> Option<Duration> {
    (!ack_wait.is_zero()).then(|| (ack_wait / 2).max(Duration::from_millis(100)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_100_ms_up_to_30_s() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(9), Duration::from_millis(25_600));
        assert_eq!(backoff(10), Duration::from_secs(30));
        assert_eq!(backoff(i64::MAX), Duration::from_secs(30));
    }

    #[test]
    fn the_transport_backoff_doubles_from_1_s_up_to_30_s() {
        assert_eq!(transport_backoff(1), Duration::from_secs(1));
        assert_eq!(transport_backoff(2), Duration::from_secs(2));
        assert_eq!(transport_backoff(3), Duration::from_secs(4));
        assert_eq!(transport_backoff(5), Duration::from_secs(16));
        assert_eq!(transport_backoff(6), Duration::from_secs(30));
        // Four failed calls in a row wait 1 + 2 + 4 + 8 = 15 s in all: a component restart
        // of a few seconds does not use up a max_deliver of 5.
        let waited: Duration = (1..5).map(transport_backoff).sum();
        assert_eq!(waited, Duration::from_secs(15));
    }

    #[test]
    fn max_deliver_is_the_smaller_of_the_entry_and_the_consumer() {
        assert_eq!(effective_max_deliver(None, -1), None);
        assert_eq!(effective_max_deliver(None, 0), None);
        assert_eq!(effective_max_deliver(Some(5), -1), Some(5));
        assert_eq!(effective_max_deliver(None, 4), Some(4));
        assert_eq!(effective_max_deliver(Some(10), 3), Some(3));
        assert_eq!(effective_max_deliver(Some(2), 7), Some(2));
    }

    #[test]
    fn the_pull_batch_is_capped_by_the_consumer_s_own_limits() {
        assert_eq!(pull_batch(32, None, 0, 0), 32);
        assert_eq!(pull_batch(32, None, -1, -1), 32);
        assert_eq!(pull_batch(32, Some(8), 1000, 0), 8);
        assert_eq!(pull_batch(32, None, 4, 0), 4);
        assert_eq!(pull_batch(32, Some(16), 20, 10), 10);
        assert_eq!(pull_batch(2000, None, 1000, 0), 1000);
        assert_eq!(pull_batch(0, None, 0, 0), 1);
    }

    #[test]
    fn progress_is_reported_twice_per_ack_wait() {
        assert_eq!(
            progress_every(Duration::from_secs(30)),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            progress_every(Duration::from_millis(100)),
            Some(Duration::from_millis(100))
        );
        assert_eq!(progress_every(Duration::ZERO), None);
    }
}
