//! How an invocation ended, for its span and its measurements.
//!
//! The handler returns nothing, so what went wrong is noted where it happens (bad params,
//! results that could not be sent) into the invocation's task, and read when it ends. Only
//! failures are noted: a call that goes well costs nothing here.

use std::cell::Cell;
use std::future::Future;

/// How an invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) enum Outcome {
    /// Results sent.
    Ok,
    /// Its params were malformed or did not arrive in time.
    BadParams,
    /// Its results could not be encoded or sent.
    ResultsFailed,
    /// It was dropped before it ended: its deadline passed, or the server stopped.
    Cancelled,
    /// The handshake or its channels failed: the handler never ran.
    NotAccepted,
}

#[cfg_attr(not(feature = "otel"), allow(dead_code))]
impl Outcome {
    /// The `wrpc.outcome` attribute's value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::BadParams => "bad_params",
            Outcome::ResultsFailed => "results_failed",
            Outcome::Cancelled => "cancelled",
            Outcome::NotAccepted => "not_accepted",
        }
    }
}

tokio::task_local! {
    static NOTED: Cell<Outcome>;
}

/// Notes that the invocation this task runs failed so; nothing outside an invocation.
pub(crate) fn note_failure(outcome: Outcome) {
    let _ = NOTED.try_with(|noted| noted.set(outcome));
}

/// Runs `future` (an invocation's handler), returning what it noted.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) async fn watch<F: Future<Output = ()>>(future: F) -> Outcome {
    NOTED
        .scope(Cell::new(Outcome::Ok), async move {
            future.await;
            NOTED.with(Cell::get)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_noted_in_the_task_are_read_at_its_end() {
        assert_eq!(watch(async {}).await, Outcome::Ok);
        let noted = watch(async {
            tokio::task::yield_now().await;
            note_failure(Outcome::BadParams);
        })
        .await;
        assert_eq!(noted, Outcome::BadParams);
        // Outside an invocation, a note goes nowhere and does not panic.
        note_failure(Outcome::ResultsFailed);
    }
}
