//! The provider's one error type. Errors reach components as the WIT `string` of
//! `result<_, string>`, so every message says what failed and what to do about it.

/// What can go wrong in the messaging provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is not one the provider accepts.
    #[error("config `{key}` = {value:?} is not valid: expected {expected}")]
    InvalidConfig {
        /// The key, lowercase.
        key: &'static str,
        /// The value as given (credentials redacted, secrets never shown).
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The call's link was deleted or replaced while the call was on its way (calls over no
    /// link at all are refused by the runtime before they get here).
    #[error("the link {link_name:?} was deleted or replaced during the call; call again")]
    LinkChanged {
        /// The link name the call was made over.
        link_name: String,
    },
    /// A message too large for the NATS server; nothing was sent.
    #[error(
        "the message to {subject:?} is {size} bytes, more than the NATS server's max_payload \
         of {limit} bytes; nothing was published"
    )]
    TooLarge {
        /// Where it was going.
        subject: String,
        /// Its size in bytes.
        size: usize,
        /// The server's `max_payload`.
        limit: usize,
    },
    /// No reply within the caller's `timeout-ms`.
    #[error("no reply on {subject:?} within {timeout_ms} ms")]
    Timeout {
        /// The request's subject.
        subject: String,
        /// The caller's timeout.
        timeout_ms: u32,
    },
    /// The connection is down (reconnecting) or too busy to take the operation in time.
    #[error(
        "could not {operation} on {subject:?} within {waited_ms} ms: the NATS connection is \
         down (reconnecting) or too busy; try again later"
    )]
    Unavailable {
        /// `publish` or `request`.
        operation: &'static str,
        /// The message's subject.
        subject: String,
        /// How long it waited.
        waited_ms: u64,
    },
    /// Nobody subscribes to the request's subject.
    #[error("no responders on {0:?}")]
    NoResponders(String),
    /// NATS refused or failed the operation (connection, subject, permissions).
    #[error("nats: {0}")]
    Nats(String),
}

/// The provider's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn nats(error: impl std::fmt::Display) -> Self {
        Error::Nats(error.to_string())
    }
}

impl From<provider_sdk::Error> for Error {
    fn from(error: provider_sdk::Error) -> Self {
        Error::nats(error)
    }
}
