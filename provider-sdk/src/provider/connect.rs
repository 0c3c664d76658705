//! Connecting to the lattice's NATS: credentials, TLS, a retry on the first connect, and
//! reconnects afterwards (async-nats resubscribes every subscription, so serving resumes).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_nats::{ConnectErrorKind, ConnectOptions};

use crate::error::{Error, Result};
use crate::redact::redact_credentials;
use crate::throttle::Throttle;

/// How the provider authenticates to NATS.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum NatsAuth {
    /// No credentials.
    #[default]
    None,
    /// A user JWT and the nkey seed that signs the server's nonce (what hosts pass in
    /// `HostData`).
    Jwt {
        /// The user JWT.
        jwt: String,
        /// The user's nkey seed (`SU...`).
        seed: String,
    },
    /// A `.creds` file holding a JWT and a seed.
    CredsFile(PathBuf),
    /// A user name and password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// A token.
    Token(String),
    /// An nkey seed alone (no JWT).
    Nkey(String),
}

impl fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatsAuth::None => f.write_str("None"),
            NatsAuth::Jwt { .. } => f.write_str("Jwt(<redacted>)"),
            NatsAuth::CredsFile(path) => f.debug_tuple("CredsFile").field(path).finish(),
            NatsAuth::UserPassword { user, .. } => f
                .debug_struct("UserPassword")
                .field("user", user)
                .finish_non_exhaustive(),
            NatsAuth::Token(_) => f.write_str("Token(<redacted>)"),
            NatsAuth::Nkey(_) => f.write_str("Nkey(<redacted>)"),
        }
    }
}

/// Where the lattice's NATS is and how to connect to it.
#[derive(Clone)]
#[non_exhaustive]
pub struct NatsOptions {
    /// Server URLs, comma-separated (`nats://`, `tls://`). With [`NatsAuth::None`], the first
    /// URL's credentials are used (`nats://user:password@host`, `nats://token@host`,
    /// percent-escaped); they are never logged.
    pub url: String,
    /// Credentials (they win over any in the URL).
    pub auth: NatsAuth,
    /// A PEM file of CA certificates to trust for TLS, instead of the system's.
    pub tls_ca_file: Option<PathBuf>,
    /// CA certificates to trust for TLS, as PEM text, instead of the system's (and of
    /// `tls_ca_file`'s).
    pub tls_ca_pem: Option<String>,
    /// Require TLS even if the URL does not say `tls://`.
    pub require_tls: bool,
    /// How many times to try the first connection before giving up (at least 1). Once
    /// connected, the client reconnects for as long as the provider runs.
    pub connect_attempts: u32,
    /// The longest wait between two first-connection attempts (they back off from 250 ms).
    pub max_retry_delay: Duration,
    /// The connection's name, as the NATS server reports it.
    pub name: Option<String>,
    /// How long a request through the client waits for its reply (async-nats' default, 10 s,
    /// when `None`).
    pub request_timeout: Option<Duration>,
    /// How often the client pings its server; after two pings unanswered it drops the
    /// connection and reconnects to another server. A server whose process dies closes the
    /// connection at once; one whose machine or network vanishes is noticed only this way.
    /// Default [`NatsOptions::DEFAULT_PING_INTERVAL`] (async-nats' own is a minute, so about
    /// three minutes to notice). At least 1 s.
    pub ping_interval: Duration,
}

impl fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsOptions")
            .field("url", &redact_credentials(&self.url))
            .field("auth", &self.auth)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_ca_pem", &self.tls_ca_pem.as_ref().map(|_| "<PEM>"))
            .field("require_tls", &self.require_tls)
            .field("connect_attempts", &self.connect_attempts)
            .field("max_retry_delay", &self.max_retry_delay)
            .field("name", &self.name)
            .field("request_timeout", &self.request_timeout)
            .field("ping_interval", &self.ping_interval)
            .finish()
    }
}

impl Default for NatsOptions {
    fn default() -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            auth: NatsAuth::None,
            tls_ca_file: None,
            tls_ca_pem: None,
            require_tls: false,
            connect_attempts: 10,
            max_retry_delay: Duration::from_secs(5),
            name: None,
            request_timeout: None,
            ping_interval: Self::DEFAULT_PING_INTERVAL,
        }
    }
}

impl NatsOptions {
    /// Where NATS is when nothing says otherwise.
    pub const DEFAULT_URL: &'static str = "nats://127.0.0.1:4222";

    /// The default [`NatsOptions::ping_interval`]: a vanished server is noticed in about 30 s.
    pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(10);

    /// Options for `url`, otherwise default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Sets the credentials.
    pub fn auth(mut self, auth: NatsAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Trusts the CA certificates in `path` (PEM), and only those.
    pub fn tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls_ca_file = Some(path.into());
        self
    }

    /// Trusts the CA certificates in `pem`, and only those.
    pub fn tls_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.tls_ca_pem = Some(pem.into());
        self
    }

    /// Sets how many first-connection attempts to make.
    pub fn connect_attempts(mut self, attempts: u32) -> Self {
        self.connect_attempts = attempts.max(1);
        self
    }

    /// Connects, retrying the first connection with backoff; authentication and TLS failures
    /// are not retried (they will not fix themselves). Never logs credentials.
    pub async fn connect(&self) -> Result<async_nats::Client> {
        let urls: Vec<&str> = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect();
        let shown = redact_credentials(&self.url);
        if urls.is_empty() {
            return Err(Error::Connect {
                url: shown,
                attempts: 0,
                reason: "no NATS URL given".to_owned(),
            });
        }
        let addrs = urls
            .iter()
            .map(|url| url.parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| Error::Connect {
                url: shown.clone(),
                attempts: 0,
                reason: format!("not a NATS URL ({error})"),
            })?;
        let mut delay = Duration::from_millis(250);
        let attempts = self.connect_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let options = self.connect_options().await?;
            let error = match options.connect(addrs.clone()).await {
                Ok(client) => {
                    tracing::info!(url = %shown, "connected to NATS");
                    return Ok(client);
                }
                Err(error) => error,
            };
            let retry = matches!(
                error.kind(),
                ConnectErrorKind::Io
                    | ConnectErrorKind::TimedOut
                    | ConnectErrorKind::Dns
                    | ConnectErrorKind::MaxReconnects
            ) && !is_tls_rejection(&error);
            if !retry || attempt >= attempts {
                return Err(Error::Connect {
                    url: shown,
                    attempts: attempt,
                    reason: error.to_string(),
                });
            }
            tracing::warn!(url = %shown, attempt, %error, ?delay, "NATS connection failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.max_retry_delay);
        }
    }

    async fn connect_options(&self) -> Result<ConnectOptions> {
        let shown = || redact_credentials(&self.url);
        // Which connection an event is about: a provider may hold several (one per link).
        let events = std::sync::Arc::new(EventLog::new(self.name.as_deref().unwrap_or("nats")));
        let options = ConnectOptions::new()
            .max_reconnects(None)
            // async-nats cannot ping at a zero interval.
            .ping_interval(self.ping_interval.max(Duration::from_secs(1)))
            .event_callback(move |event| {
                let events = std::sync::Arc::clone(&events);
                async move { events.log(event) }
            });
        let options = match &self.name {
            Some(name) => options.name(name),
            None => options,
        };
        let options = match self.request_timeout {
            Some(timeout) => options.request_timeout(Some(timeout)),
            None => options,
        };
        let from_url;
        let auth = match &self.auth {
            NatsAuth::None => {
                from_url = url_credentials(&self.url);
                &from_url
            }
            auth => auth,
        };
        let options = match auth {
            NatsAuth::None => options,
            NatsAuth::Jwt { jwt, seed } => {
                let key_pair =
                    std::sync::Arc::new(nkeys::KeyPair::from_seed(seed).map_err(|error| {
                        Error::Connect {
                            url: shown(),
                            attempts: 0,
                            reason: format!("the NATS user seed is not an nkey seed ({error})"),
                        }
                    })?);
                options.jwt(jwt.clone(), move |nonce| {
                    let key_pair = std::sync::Arc::clone(&key_pair);
                    async move { key_pair.sign(&nonce).map_err(async_nats::AuthError::new) }
                })
            }
            NatsAuth::CredsFile(path) => {
                options
                    .credentials_file(path)
                    .await
                    .map_err(|error| Error::Connect {
                        url: shown(),
                        attempts: 0,
                        reason: format!(
                            "cannot read the NATS credentials file {} ({error})",
                            path.display()
                        ),
                    })?
            }
            NatsAuth::UserPassword { user, password } => {
                options.user_and_password(user.clone(), password.clone())
            }
            NatsAuth::Token(token) => options.token(token.clone()),
            NatsAuth::Nkey(seed) => options.nkey(seed.clone()),
        };
        let options = match &self.tls_ca_file {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::Connect {
                        url: shown(),
                        attempts: 0,
                        reason: format!("the TLS CA file {} does not exist", path.display()),
                    });
                }
                options
                    .add_root_certificates(path.clone())
                    .require_tls(true)
            }
            None => options,
        };
        let options = match &self.tls_ca_pem {
            Some(pem) => options
                .tls_client_config(tls_trusting(pem).map_err(|reason| Error::Connect {
                    url: shown(),
                    attempts: 0,
                    reason,
                })?)
                .require_tls(true),
            None => options,
        };
        Ok(if self.require_tls {
            options.require_tls(true)
        } else {
            options
        })
    }
}

/// A TLS client configuration trusting the CA certificates in `pem` and nothing else.
fn tls_trusting(pem: &str) -> std::result::Result<async_nats::rustls::ClientConfig, String> {
    use async_nats::rustls::pki_types::CertificateDer;
    use async_nats::rustls::pki_types::pem::PemObject as _;
    let mut roots = async_nats::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|error| format!("the TLS CA PEM is not valid ({error})"))?;
        roots
            .add(cert)
            .map_err(|error| format!("the TLS CA PEM holds a bad certificate ({error})"))?;
    }
    if roots.is_empty() {
        return Err("the TLS CA PEM holds no certificate".to_owned());
    }
    Ok(async_nats::rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Whether an I/O error is the TLS handshake refusing the server's certificate (or the server
/// refusing ours), which no retry fixes. async-nats reports these as I/O errors carrying
/// rustls' message, so the message is what there is to go on.
fn is_tls_rejection(error: &async_nats::ConnectError) -> bool {
    let message = error.to_string();
    message.contains("certificate") || message.contains("received fatal alert")
}

/// Credentials written in the first of `urls` that has any (`nats://user:password@host`, or
/// `nats://token@host`): async-nats reads none from a URL itself.
fn url_credentials(urls: &str) -> NatsAuth {
    let with_userinfo = urls
        .split(',')
        .filter_map(|url| url.trim().parse::<async_nats::ServerAddr>().ok())
        .find(async_nats::ServerAddr::has_user_pass);
    let Some(addr) = with_userinfo else {
        return NatsAuth::None;
    };
    match (addr.username(), addr.password()) {
        (Some(user), Some(password)) => NatsAuth::UserPassword {
            user: decode_userinfo(user),
            password: decode_userinfo(password),
        },
        (Some(token), None) => NatsAuth::Token(decode_userinfo(token)),
        _ => NatsAuth::None,
    }
}

/// A URL's user or password with its percent-escapes (`%40` for `@`, say) undone.
fn decode_userinfo(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

/// How often, at most, a subscription's slow-consumer drops are logged.
const SLOW_CONSUMER_LOG_EVERY: Duration = Duration::from_secs(1);

/// Logs one connection's events: losing the connection and dropping messages are warnings,
/// naming the connection.
struct EventLog {
    connection: String,
    /// Per subscription id: messages dropped in all, and the pacing of the warnings about them.
    slow_consumers: std::sync::Mutex<HashMap<u64, (u64, Throttle)>>,
}

impl EventLog {
    fn new(connection: &str) -> Self {
        Self {
            connection: connection.to_owned(),
            slow_consumers: std::sync::Mutex::default(),
        }
    }

    fn log(&self, event: async_nats::Event) {
        let connection = self.connection.as_str();
        match event {
            async_nats::Event::Connected => {
                tracing::info!(connection, "NATS connection (re)established");
            }
            async_nats::Event::Disconnected => {
                tracing::warn!(connection, "NATS connection lost; reconnecting");
            }
            async_nats::Event::SlowConsumer(subscription) => self.slow_consumer(subscription),
            async_nats::Event::ServerError(error) => {
                tracing::warn!(connection, %error, "the NATS server reported an error");
            }
            other => tracing::debug!(connection, event = %other, "NATS connection event"),
        }
    }

    /// async-nats drops a message when a subscription's buffer is full and reports each drop as
    /// an event (as long as its event queue of 128 has room: the count is a lower bound). One
    /// warning per subscription and second at most, with the count since the last one.
    fn slow_consumer(&self, subscription: u64) {
        let mut slow = self
            .slow_consumers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (total, throttle) = slow
            .entry(subscription)
            .or_insert_with(|| (0, Throttle::new(SLOW_CONSUMER_LOG_EVERY)));
        *total += 1;
        if let Some(dropped) = throttle.note(Instant::now()) {
            tracing::warn!(
                connection = self.connection.as_str(),
                subscription,
                dropped,
                total_dropped = *total,
                "NATS dropped messages for a subscription whose buffer was full (slow consumer)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_first_url_that_has_them() {
        let auth = url_credentials("nats://a:4222, nats://me:p%40ss@b:4222,nats://x:y@c");
        assert!(
            matches!(&auth, NatsAuth::UserPassword { user, password } if user == "me" && password == "p@ss"),
            "{auth:?}"
        );
        assert!(
            matches!(url_credentials("nats://t0k3n@h:4222"), NatsAuth::Token(token) if token == "t0k3n")
        );
        assert!(matches!(url_credentials("nats://h:4222"), NatsAuth::None));
        assert!(matches!(url_credentials("not a url"), NatsAuth::None));
    }

    /// async-nats reports every message a full subscription buffer drops as an event: a burst
    /// of them is one warning naming the connection, the subscription and the count, not a
    /// line per message; another subscription gets its own.
    #[test]
    fn slow_consumer_drops_are_counted_in_one_warning_per_subscription_and_second() {
        let logs = provider_testing::Logs::default();
        let _logging = tracing::subscriber::set_default(logs.clone());
        let events = EventLog::new("link-conn");
        for _ in 0..1_000 {
            events.log(async_nats::Event::SlowConsumer(7));
        }
        events.log(async_nats::Event::SlowConsumer(9));
        let warnings = logs.with(&["slow consumer", "connection=\"link-conn\""]);
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(warnings[0].contains("subscription=7") && warnings[0].contains("total_dropped=1 "));
        assert!(warnings[1].contains("subscription=9"));
        let slow = events.slow_consumers.lock().unwrap();
        let (total, throttle) = &slow[&7];
        assert_eq!(*total, 1_000);
        assert!(throttle.due().is_some(), "999 drops wait for the next line");
    }
}
