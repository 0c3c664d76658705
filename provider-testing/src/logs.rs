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
#[derive(Clone, Debug, Default)]
pub struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    /// The lines that contain all of `parts`.
    pub fn with(&self, parts: &[&str]) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| parts.iter().all(|part| line.contains(part)))
            .collect()
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
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
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
