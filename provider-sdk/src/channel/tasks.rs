//! Work a call leaves running: handlers, and the sending of pending streams and futures.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where background work runs: tracked by a server (so its shutdown can wait for the work and
/// then cancel what is left), or untracked (a client's outgoing streams).
#[derive(Clone, Default)]
pub(crate) struct Tasks(Option<Arc<Tracked>>);

struct Tracked {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(tracked) => f
                .debug_tuple("Tasks")
                .field(&tracked.tracker.len())
                .finish(),
            None => f.write_str("Tasks(untracked)"),
        }
    }
}

impl Tasks {
    /// Tasks a server tracks.
    pub(crate) fn tracked() -> Self {
        Self(Some(Arc::new(Tracked {
            tracker: TaskTracker::new(),
            cancel: CancellationToken::new(),
        })))
    }

    /// Runs `task` in the background. Tracked tasks are dropped if the tracker is cancelled.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        match &self.0 {
            None => {
                tokio::spawn(task);
            }
            Some(tracked) => {
                let cancel = tracked.cancel.clone();
                tracked.tracker.spawn(async move {
                    // The task first: one that finishes in its first poll (most invocations of a
                    // quick handler) never registers with the token, whose waiter list every
                    // task of the server shares.
                    tokio::select! {
                        biased;
                        () = task => {}
                        () = cancel.cancelled() => {}
                    }
                });
            }
        }
    }

    /// Waits up to `grace` for every tracked task, then cancels the rest (each is polled once
    /// more first, and stops at its next wait). Returns whether all finished in time.
    pub(crate) async fn drain(&self, grace: Duration) -> bool {
        let Some(tracked) = &self.0 else { return true };
        tracked.tracker.close();
        let finished = tokio::time::timeout(grace, tracked.tracker.wait())
            .await
            .is_ok();
        if !finished {
            tracked.cancel.cancel();
        }
        finished
    }
}
