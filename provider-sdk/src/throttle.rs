//! Pacing log lines about something that keeps happening, such as messages being dropped.
//!
//! Every occurrence must be counted and end up in a log line, but one line per occurrence turns
//! a burst of ten thousand drops into ten thousand lines. A [`Throttle`] reports the first
//! occurrence at once and later ones at most once per interval, each report carrying how many
//! occurrences it covers, so that the lines add up to the total.

use std::fmt::Display;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Decides when to report a recurring event and how many occurrences each report covers.
///
/// Pure state: time is passed in and nothing is logged here. Call [`note`](Self::note) for each
/// occurrence and log when it answers `Some(count)`; when [`due`](Self::due) gives a time, the
/// occurrences noted since the last report should be reported then (with
/// [`flush`](Self::flush)) even if no more come; [`take`](Self::take) takes them for a last line.
///
/// ```
/// use std::time::{Duration, Instant};
/// use provider_sdk::throttle::Throttle;
///
/// let start = Instant::now();
/// let mut drops = Throttle::new(Duration::from_secs(1));
/// assert_eq!(drops.note(start), Some(1)); // the first one: at once
/// assert_eq!(drops.note(start + Duration::from_millis(10)), None);
/// assert_eq!(drops.note(start + Duration::from_millis(20)), None);
/// assert_eq!(drops.due(), Some(start + Duration::from_secs(1)));
/// assert_eq!(drops.flush(start + Duration::from_secs(1)), Some(2)); // the two since
/// assert_eq!(drops.take(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct Throttle {
    every: Duration,
    last_report: Option<Instant>,
    unreported: u64,
}

impl Throttle {
    /// At most one report per `every`.
    pub const fn new(every: Duration) -> Self {
        Self {
            every,
            last_report: None,
            unreported: 0,
        }
    }

    /// Notes one occurrence at `now`; `Some(count)` when a report is due, covering `count`
    /// occurrences (this one included).
    pub fn note(&mut self, now: Instant) -> Option<u64> {
        self.unreported += 1;
        self.flush(now)
    }

    /// The occurrences not yet reported, if a report of them is due at `now`.
    pub fn flush(&mut self, now: Instant) -> Option<u64> {
        if self.unreported == 0 {
            return None;
        }
        let due = self
            .last_report
            .is_none_or(|last| now.saturating_duration_since(last) >= self.every);
        due.then(|| {
            self.last_report = Some(now);
            std::mem::take(&mut self.unreported)
        })
    }

    /// When the occurrences noted since the last report are due to be reported, if there are
    /// any.
    pub fn due(&self) -> Option<Instant> {
        if self.unreported == 0 {
            return None;
        }
        Some(
            self.last_report
                .map_or_else(Instant::now, |last| last + self.every),
        )
    }

    /// Takes the occurrences not yet reported, due or not (for a last report when the thing
    /// being watched ends).
    pub fn take(&mut self) -> u64 {
        std::mem::take(&mut self.unreported)
    }
}

/// A warning that callers can cause any number of times (an invocation with bad params, one
/// that outlived its deadline): each occurrence is logged at debug level, and a warning at most
/// once a second carries how many occurred since the previous warning (in the whole process:
/// the subject and error it shows are the latest occurrence's), so that a flood of bad calls
/// cannot flood the log (a caller must not be able to, see the link policy). Occurrences after
/// the last warning of a burst are in the next warning's count, whenever that comes, and in the
/// debug lines.
pub(crate) struct PacedWarning {
    what: &'static str,
    throttle: Mutex<Throttle>,
}

impl PacedWarning {
    /// A warning saying `what`.
    pub(crate) const fn new(what: &'static str) -> Self {
        Self {
            what,
            throttle: Mutex::new(Throttle::new(Duration::from_secs(1))),
        }
    }

    /// Notes one occurrence caused by `error`, naming `subject` (`None` inside an invocation's
    /// span, which has it already).
    pub(crate) fn note(&self, subject: Option<&str>, error: &dyn Display) {
        let due = self
            .throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .note(Instant::now());
        match due {
            Some(count) => tracing::warn!(
                subject,
                %error,
                count,
                "{} ({count} since the last such warning, each logged at debug level)",
                self.what
            ),
            None => tracing::debug!(subject, %error, "{}", self.what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn reports_add_up_to_every_occurrence() {
        let start = Instant::now();
        let mut throttle = Throttle::new(SECOND);
        let mut reported = 0;
        // 10,000 occurrences over 5 s, one every half millisecond.
        for n in 0..10_000u32 {
            let now = start + Duration::from_micros(500) * n;
            reported += throttle.note(now).unwrap_or(0);
        }
        reported += throttle.take();
        assert_eq!(reported, 10_000);
    }

    #[test]
    fn at_most_one_report_per_interval() {
        let start = Instant::now();
        let mut throttle = Throttle::new(SECOND);
        let reports = (0..10_000u32)
            .filter(|n| {
                throttle
                    .note(start + Duration::from_micros(500) * *n)
                    .is_some()
            })
            .count();
        // At 0 s, 1 s, 2 s, 3 s and 4 s.
        assert_eq!(reports, 5);
    }

    #[test]
    fn the_first_occurrence_and_one_after_a_quiet_interval_are_reported_at_once() {
        let start = Instant::now();
        let mut throttle = Throttle::new(SECOND);
        assert_eq!(throttle.note(start), Some(1));
        assert_eq!(throttle.due(), None);
        assert_eq!(throttle.note(start + 3 * SECOND), Some(1));
    }

    #[test]
    fn pending_occurrences_fall_due_one_interval_after_the_last_report() {
        let start = Instant::now();
        let mut throttle = Throttle::new(SECOND);
        throttle.note(start);
        assert_eq!(throttle.note(start + SECOND / 2), None);
        assert_eq!(throttle.due(), Some(start + SECOND));
        assert_eq!(throttle.flush(start + SECOND / 2), None, "not due yet");
        assert_eq!(throttle.flush(start + SECOND), Some(1));
        assert_eq!(throttle.due(), None);
        assert_eq!(throttle.flush(start + 5 * SECOND), None, "nothing left");
    }
}
