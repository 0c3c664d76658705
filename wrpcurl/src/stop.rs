//! Stopping on a signal, as `host run` and `serve` do: Ctrl-C, or SIGTERM on Unix.

/// The signals that stop a command, listened to from [`StopSignal::listen`] on: one that
/// arrives while the command is busy elsewhere is kept until [`StopSignal::received`] is awaited.
#[derive(Debug)]
pub struct StopSignal {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    /// Starts listening. A signal that cannot be listened to never arrives.
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Completes when a stop signal has arrived since listening started (or since the last
    /// time this completed). Cancel-safe: dropping it loses no signal.
    pub async fn received(&mut self) {
        #[cfg(unix)]
        {
            let Self {
                interrupt,
                terminate,
            } = self;
            tokio::select! {
                () = next(interrupt) => {}
                () = next(terminate) => {}
            }
        }
        // Elsewhere only Ctrl-C, listened to while this is awaited.
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The next arrival of `signal`; never, without one.
#[cfg(unix)]
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
    let arrived = match signal {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    };
    if !arrived {
        std::future::pending::<()>().await;
    }
}
