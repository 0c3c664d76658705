//! Log lines captured in a test, to assert what a provider logs (a warning once, never a
//! secret).

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

/// A `tracing` subscriber that records every event's fields, one line per event. Set it for the
/// current thread with [`tracing::subscriber::set_default`] (on a current-thread runtime, so
/// the code under test logs on that thread), then ask which lines were written.
///
/// ```
/// let logs = provider_testing::Logs::default();
/// let _guard = tracing::subscriber::set_default(logs.clone());
/// tracing::warn!(key = "typo", "unknown config key");
/// assert_eq!(logs.with(&["unknown config key", "typo"]).len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Logs {
    lines: Arc<Mutex<Vec<String>>>,
    /// The most verbose level recorded; all when `None`.
    most_verbose: Option<tracing::Level>,
}

impl Default for Logs {
    fn default() -> Self {
        keep_interest_per_thread();
        Self {
            lines: Arc::default(),
            most_verbose: None,
        }
    }
}

/// Keeps `tracing` asking each thread's subscriber, for every test in the process.
///
/// `tracing` caches, per call site, whether anybody is interested in it. While only one
/// dispatcher is registered it asks the *current thread's* default when a call site is first
/// hit: a test thread without a subscriber then caches "never" for everyone, and a `Logs` on
/// another thread stops seeing that call site's events (seen: a provider's error line missing
/// from the one test that captured it, only when other tests ran alongside). A second
/// dispatcher that lives for the whole process, interested "sometimes", makes `tracing` combine
/// the registered dispatchers instead, which leaves each event to its thread's subscriber.
fn keep_interest_per_thread() {
    static KEEP: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    KEEP.get_or_init(|| tracing::Dispatch::new(AskEachTime));
}

/// A subscriber that records nothing and wants every call site asked about each time.
struct AskEachTime;

impl tracing::Subscriber for AskEachTime {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

impl Logs {
    /// Records events at `level` and above only: `Logs::up_to(Level::DEBUG)` leaves out the
    /// `trace` events of dependencies (async-nats traces every message it reads, payload and
    /// all, which is what an operator who turns tracing on asks for).
    pub fn up_to(level: tracing::Level) -> Self {
        Self {
            most_verbose: Some(level),
            ..Self::default()
        }
    }

    /// The lines that contain all of `parts`.
    pub fn with(&self, parts: &[&str]) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| parts.iter().all(|part| line.contains(part)))
            .collect()
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        self.most_verbose
            .is_none_or(|most_verbose| *metadata.level() <= most_verbose)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                let _ = write!(self.0, "{}={value:?} ", field.name());
            }
        }
        let mut line = Line(String::new());
        event.record(&mut line);
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
