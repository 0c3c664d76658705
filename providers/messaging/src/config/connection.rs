//! How a link connects to NATS.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use provider_sdk::provider::redact_credentials;
use provider_sdk::provider::{NatsAuth, NatsOptions};

/// Where the trusted CA certificates come from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum TlsCa {
    /// PEM text (`tls_ca`).
    Pem(String),
    /// A PEM file (`tls_ca_file`).
    File(PathBuf),
}

/// How one link connects to NATS. Holds credentials: its `Debug` shows none.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ConnectionSettings {
    /// Server URLs, comma-separated, every one of them used.
    pub(crate) urls: String,
    /// Whether `urls` is the default because nothing set `cluster_uris`.
    pub(crate) default_url: bool,
    pub(crate) jwt: Option<String>,
    pub(crate) seed: Option<String>,
    pub(crate) creds_file: Option<PathBuf>,
    pub(crate) tls_ca: Option<TlsCa>,
    /// Inbox prefix for requests' replies, instead of `_INBOX`.
    pub(crate) inbox_prefix: Option<String>,
    /// How long the connection may be down before health reports it.
    pub(crate) unhealthy_after: Duration,
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match (&self.jwt, &self.seed, &self.creds_file) {
            (_, _, Some(path)) => format!("creds file {}", path.display()),
            (Some(_), Some(_), None) => "jwt".to_owned(),
            (None, Some(_), None) => "nkey".to_owned(),
            _ => "none".to_owned(),
        };
        f.debug_struct("ConnectionSettings")
            .field("urls", &self.shown_urls())
            .field("auth", &auth)
            .field(
                "tls_ca",
                &self.tls_ca.as_ref().map(|ca| match ca {
                    TlsCa::Pem(_) => "<PEM>".to_owned(),
                    TlsCa::File(path) => path.display().to_string(),
                }),
            )
            .field("inbox_prefix", &self.inbox_prefix)
            .field("unhealthy_after", &self.unhealthy_after)
            .finish()
    }
}

impl ConnectionSettings {
    /// The URLs with any password replaced.
    pub(crate) fn shown_urls(&self) -> String {
        redact_credentials(&self.urls)
    }

    /// The options to connect with: one attempt (a link put fails at once rather than holding
    /// up the control plane; the client reconnects by itself once connected).
    pub(crate) fn options(&self, name: &str) -> NatsOptions {
        let auth = match (&self.creds_file, &self.jwt, &self.seed) {
            (Some(path), _, _) => NatsAuth::CredsFile(path.clone()),
            (None, Some(jwt), Some(seed)) => NatsAuth::Jwt {
                jwt: jwt.clone(),
                seed: seed.clone(),
            },
            (None, None, Some(seed)) => NatsAuth::Nkey(seed.clone()),
            _ => NatsAuth::None,
        };
        let mut options = NatsOptions::new(self.urls.clone())
            .auth(auth)
            .connect_attempts(1);
        match &self.tls_ca {
            Some(TlsCa::Pem(pem)) => options.tls_ca_pem = Some(pem.clone()),
            Some(TlsCa::File(path)) => options.tls_ca_file = Some(path.clone()),
            None => {}
        }
        options.name = Some(name.to_owned());
        options
    }
}
