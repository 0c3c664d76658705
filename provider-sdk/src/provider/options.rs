//! Settings of the runtime, chosen in code.

use std::time::Duration;

use crate::Limits;
use crate::transport::ServeOptions;

/// Settings of the runtime, chosen in code.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeOptions {
    /// The most invocations handled at once.
    pub max_concurrency: usize,
    /// How long one invocation may take.
    pub invocation_timeout: Duration,
    /// How long an invocation's params may take to arrive (within `invocation_timeout`), so a
    /// caller that stops sending gives its slot back soon
    /// ([`ServeOptions::params_timeout`]).
    pub params_timeout: Duration,
    /// How long shutdown waits for invocations in flight (and for a link hook that is running)
    /// before it cancels them.
    pub shutdown_timeout: Duration,
    /// How long a health check may take before it is answered as unhealthy.
    pub health_timeout: Duration,
    /// Limits on what invocations may buffer.
    pub limits: Limits,
    /// Whether only callers with a link reach the provider's handlers (the default). An
    /// invocation whose `source-id` and `link-name` name no link to this provider is then
    /// refused before its handler runs, with an error the caller can read; refusals are counted
    /// ([`ProviderHandle::refused_calls`](super::ProviderHandle::refused_calls)) and logged at
    /// debug level. Turn it off for a provider that serves anyone on the lattice on purpose:
    /// handlers then see calls without a [`Context::link`](super::Context::link).
    pub require_link: bool,
    /// Whether [`run`](super::run) installs a `tracing` subscriber that logs to stderr (when
    /// none is installed yet), at the host's log level or `RUST_LOG`, in colour only on a
    /// terminal.
    pub install_logging: bool,
    /// The provider's name in `--help` (default: the executable's name).
    pub name: Option<String>,
    /// What the provider does, in one line, for `--help`.
    pub about: Option<String>,
    /// The provider's version, for `--version`.
    pub version: Option<String>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            max_concurrency: ServeOptions::DEFAULT_MAX_CONCURRENCY,
            invocation_timeout: ServeOptions::DEFAULT_TIMEOUT,
            params_timeout: ServeOptions::DEFAULT_PARAMS_TIMEOUT,
            shutdown_timeout: Duration::from_secs(10),
            health_timeout: Duration::from_secs(5),
            limits: Limits::default(),
            require_link: true,
            install_logging: true,
            name: None,
            about: None,
            version: None,
        }
    }
}

impl RuntimeOptions {
    /// Sets [`RuntimeOptions::max_concurrency`].
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.max(1);
        self
    }

    /// Sets [`RuntimeOptions::params_timeout`].
    pub fn params_timeout(mut self, timeout: Duration) -> Self {
        self.params_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::invocation_timeout`].
    pub fn invocation_timeout(mut self, timeout: Duration) -> Self {
        self.invocation_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::shutdown_timeout`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::health_timeout`].
    pub fn health_timeout(mut self, timeout: Duration) -> Self {
        self.health_timeout = timeout;
        self
    }

    /// Sets [`RuntimeOptions::require_link`].
    pub fn require_link(mut self, required: bool) -> Self {
        self.require_link = required;
        self
    }

    /// Names the provider and says what it does, for `--help` and `--version`:
    ///
    /// ```
    /// # use provider_sdk::provider::RuntimeOptions;
    /// let options = RuntimeOptions::default().describe(
    ///     env!("CARGO_PKG_NAME"),
    ///     env!("CARGO_PKG_VERSION"),
    ///     "Keeps counters in Redis, one connection per link",
    /// );
    /// ```
    pub fn describe(
        mut self,
        name: impl Into<String>,
        version: impl Into<String>,
        about: impl Into<String>,
    ) -> Self {
        self.name = Some(name.into());
        self.version = Some(version.into());
        self.about = Some(about.into());
        self
    }
}
