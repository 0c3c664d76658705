//! The provider's one error type, and how it reaches a component as a WIT `error`.

/// What can go wrong in the keyvalue provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is not one the provider accepts.
    #[error("config `{key}` = {value:?} is not valid: expected {expected}")]
    InvalidConfig {
        /// The key, lowercase.
        key: &'static str,
        /// The value as given (credentials redacted).
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The configuration asks for something this build cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// The call's link has no store: it was deleted or replaced while the call was on its way
    /// (calls over no link at all are refused by the runtime before they get here).
    #[error("no store for the link {link_name:?}: it was deleted or replaced during the call")]
    LinkChanged {
        /// The link name the call was made over.
        link_name: String,
    },
    /// The bucket does not exist (and the backend does not create buckets on demand).
    #[error("no bucket {0:?}")]
    NoSuchStore(String),
    /// The backend refused the credentials.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// A value the operation cannot work on, such as a non-numeric value to increment.
    #[error("{0}")]
    InvalidValue(String),
    /// The backend failed (unreachable, timed out, refused the command).
    #[error("{backend}: {message}")]
    Backend {
        /// `redis` or `nats`.
        backend: &'static str,
        /// What failed, without credentials.
        message: String,
    },
    /// A `wasi:keyvalue` bucket handle this link does not hold.
    #[error(transparent)]
    Handle(#[from] provider_sdk::provider::HandleError),
}

/// The provider's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<redis::RedisError> for Error {
    fn from(error: redis::RedisError) -> Self {
        use redis::ErrorKind;
        let message = error.to_string();
        match error.kind() {
            ErrorKind::AuthenticationFailed => Error::AccessDenied(format!("redis: {message}")),
            // Redis answers a non-numeric INCRBY with a type error.
            ErrorKind::Server(_) if message.contains("not an integer") => Error::InvalidValue(
                "the value is not a decimal integer, so it cannot be incremented".to_owned(),
            ),
            ErrorKind::Server(_) if message.contains("overflow") => {
                Error::InvalidValue("incrementing the value would overflow".to_owned())
            }
            _ => Error::Backend {
                backend: "redis",
                message,
            },
        }
    }
}

/// Converts to the WIT `error` variant of each keyvalue package the provider serves.
macro_rules! into_wit_error {
    ($($error:path),* $(,)?) => {$(
        impl From<Error> for $error {
            fn from(error: Error) -> Self {
                use $error as Wit;
                match error {
                    Error::NoSuchStore(_) => Wit::NoSuchStore,
                    Error::AccessDenied(_) => Wit::AccessDenied,
                    other => Wit::Other(other.to_string()),
                }
            }
        }
    )*};
}

into_wit_error!(
    crate::bindings::exports::wrpc::keyvalue::store::Error,
    crate::bindings::exports::wasi::keyvalue::store::Error,
);
