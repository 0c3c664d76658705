//! The crate's one error type.

use std::time::Duration;

/// Everything that can go wrong in `provider-sdk`.
///
/// Variants fall in two groups, and [`Error::is_transport`] tells them apart:
///
/// - **Wire errors**: a value could not be encoded, or bytes did not decode as the expected WIT
///   type. These are bugs or hostile input on one side of the call.
/// - **Transport errors**: the call did not complete — nobody serves the subject, the deadline
///   passed, the peer closed a channel early, the NATS connection failed.
///
/// Application errors are not here: a WIT function that can fail returns `result<T, E>`, and the
/// handler's `E` travels as an ordinary value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the value does. Decoding a complete buffer reports this as-is; a
    /// transport channel waits for `needed` bytes instead and reports [`Error::Incomplete`] if
    /// the peer closes the channel first.
    #[error("value truncated: it needs at least {needed} bytes but only {available} are present")]
    UnexpectedEnd {
        /// The least number of bytes, counted from the start of the value, that can hold it.
        needed: usize,
        /// How many bytes were present.
        available: usize,
    },

    /// A `bool` was encoded as something other than `00` or `01`.
    #[error("invalid bool byte {0:#04x}: a bool is encoded as 0x00 or 0x01")]
    InvalidBool(u8),

    /// An `option`, `result` or `future` tag byte was neither `00` nor `01`.
    #[error("invalid {ty} tag {tag:#04x}: expected 0x00 or 0x01")]
    InvalidTag {
        /// The WIT type being decoded.
        ty: &'static str,
        /// The byte that was found.
        tag: u8,
    },

    /// A `variant` or `enum` case index is out of range.
    #[error("unknown case {index} for {ty}: it has {cases} cases")]
    UnknownCase {
        /// The WIT type being decoded.
        ty: &'static str,
        /// The case index that was found.
        index: u32,
        /// How many cases the type has.
        cases: u32,
    },

    /// A `flags` value has bits set beyond its last flag.
    #[error("invalid {ty} value: bits beyond its {count} flags are set")]
    InvalidFlags {
        /// The WIT type being decoded.
        ty: &'static str,
        /// How many flags the type has.
        count: usize,
    },

    /// A LEB128 integer is longer than its type allows or its value does not fit.
    #[error("invalid LEB128 {ty}: too many bytes or value out of range")]
    InvalidLeb128 {
        /// The integer type being decoded, e.g. `u32`.
        ty: &'static str,
    },

    /// A `string` is not UTF-8.
    #[error("string is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// The length of the valid prefix.
        valid_up_to: usize,
    },

    /// A `char` is not one UTF-8 encoded Unicode scalar value.
    #[error("invalid char: not a UTF-8 encoded Unicode scalar value")]
    InvalidChar,

    /// A value claims more bytes than this side accepts.
    #[error(
        "a {what} length makes the value at least {needed} bytes, over the limit of {limit}; raise `Limits::max_value_bytes` if such values are expected"
    )]
    TooLarge {
        /// What carried the claim (`"string"`, `"list"`, `"value"`).
        what: &'static str,
        /// The least number of bytes the value needs, counted from its start, given the claim.
        needed: u64,
        /// The configured limit in bytes.
        limit: usize,
    },

    /// A value is too long to encode: WIT lengths are `u32`.
    #[error("cannot encode a {what} of {len} elements: WIT lengths must fit in u32")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
    },

    /// A value given to the dynamic codec does not fit its WIT type, or WAVE text does not
    /// parse as one.
    #[error("invalid value at `{path}`: {reason}")]
    InvalidValue {
        /// Where in the value: `arg 2 .field[3]` (arguments and list indices count from 0).
        path: String,
        /// What is wrong, and what the type expects.
        reason: String,
    },

    /// A WIT type the dynamic codec cannot carry.
    #[error("unsupported WIT type `{ty}`: {reason}")]
    UnsupportedType {
        /// The type's name, or its kind (`stream`) if it has none.
        ty: String,
        /// Why, and what to use instead.
        reason: String,
    },

    /// A pending `stream` or `future` was decoded outside a transport channel, so there is
    /// nowhere for its values to come from.
    #[error(
        "a pending stream or future can only be decoded from a transport channel, not from a plain buffer"
    )]
    NoAsyncChannel,

    /// Bytes on a channel did not decode as the expected value.
    #[error("malformed value on `{subject}`: {source}")]
    Malformed {
        /// The channel's subject.
        subject: String,
        /// What was wrong with the bytes.
        #[source]
        source: Box<Error>,
    },

    /// Bytes followed the value they were meant to hold.
    #[error("{extra} unexpected bytes after the value")]
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },

    /// Nobody serves the subject: NATS answered the invocation with `503 No Responders`, or the
    /// in-process transport has no server registered for it.
    #[error("no server for `{subject}`: is the provider or component running and linked?")]
    NoServer {
        /// The invocation subject.
        subject: String,
    },

    /// The call did not complete within its deadline.
    #[error("call to `{subject}` timed out after {after:?}")]
    Timeout {
        /// The invocation subject.
        subject: String,
        /// The deadline that passed.
        after: Duration,
    },

    /// The peer closed a channel before a complete value arrived. wRPC has no error frame: this
    /// is how a server that failed (or crashed) shows up on the client.
    #[error(
        "incomplete {what} on `{subject}`: the peer closed the channel after {received} bytes; check the server's logs"
    )]
    Incomplete {
        /// `"result"`, `"params"`, `"stream"` or `"future"`.
        what: &'static str,
        /// The channel's subject.
        subject: String,
        /// Bytes received on the channel before it closed.
        received: usize,
    },

    /// The server refused the invocation before running it: its admission check said no (see
    /// [`ServeOptions::admission`](crate::transport::ServeOptions::admission)). The handler did
    /// not run; calling again will be refused again unless what the reason names changes.
    #[error("invocation of `{subject}` was refused: {reason}")]
    Refused {
        /// The invocation subject.
        subject: String,
        /// Why, as the server said it (at most 1 KiB).
        reason: String,
    },

    /// The handshake reply carried an error status other than 503.
    #[error("invocation of `{subject}` was answered with status {status}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        /// The invocation subject.
        subject: String,
        /// The NATS status code.
        status: u16,
        /// The status description, if any.
        description: Option<String>,
    },

    /// The peer broke the wRPC protocol (e.g. a handshake without a reply subject).
    #[error("protocol violation on `{subject}`: {detail}")]
    Protocol {
        /// Where it happened.
        subject: String,
        /// What was wrong.
        detail: &'static str,
    },

    /// An invocation buffered more bytes than allowed before its handler consumed them.
    #[error(
        "invocation on `{subject}` buffered more than {limit} bytes; raise `Limits::max_buffered_bytes` or read faster"
    )]
    BufferFull {
        /// The channel's base subject.
        subject: String,
        /// The configured limit.
        limit: usize,
    },

    /// A NATS operation failed.
    #[error("NATS {op} failed: {source}")]
    Nats {
        /// The operation (`"publish"`, `"subscribe"`, ...).
        op: &'static str,
        /// The client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A header name or value cannot be sent over NATS.
    #[error(
        "invalid header `{name}`: names are printable ASCII without `:` or whitespace, values have no line breaks"
    )]
    InvalidHeader {
        /// The header's name.
        name: String,
    },

    /// The NATS server did not confirm a new subscription in time.
    #[error(
        "the NATS server did not confirm the subscription to `{subject}` within {after:?}; is the connection up?"
    )]
    Unconfirmed {
        /// The subscribed subject.
        subject: String,
        /// How long it waited.
        after: Duration,
    },

    /// The server or transport was shut down.
    #[error("the server or transport is shut down")]
    Closed,

    /// Connecting to NATS failed.
    #[error("cannot connect to NATS at {url} (after {attempts} attempts): {reason}")]
    Connect {
        /// The URL, credentials redacted.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        reason: String,
    },

    /// A configuration value does not parse.
    #[error("config key `{key}` (from {origin}): {reason}")]
    Config {
        /// The key, as written.
        key: String,
        /// Where the value came from.
        origin: String,
        /// What is wrong, and what is accepted.
        reason: String,
    },

    /// A configuration key that must be set is not.
    #[error("config key `{key}` is required but not set")]
    MissingConfig {
        /// The key.
        key: String,
    },

    /// A named configuration could not be read.
    #[error("named config `{name}`: {reason}")]
    NamedConfig {
        /// The configuration's name.
        name: String,
        /// What went wrong.
        reason: String,
    },

    /// A file of a configuration or secrets folder could not be used.
    #[error("{}: {reason}", path.display())]
    ConfigFile {
        /// The file (or folder) at fault.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The host's start-up data is unusable.
    #[error("bad host data: {reason}")]
    HostData {
        /// What is wrong.
        reason: String,
    },

    /// Sealed secrets could not be opened.
    #[error("secrets: {reason}")]
    Secrets {
        /// What went wrong (never a secret's value).
        reason: String,
    },

    /// The provider could not start.
    #[error("cannot start the provider: {reason}")]
    Startup {
        /// Why, and what to do.
        reason: String,
    },

    /// A provider hook failed.
    #[error("the provider's `{hook}` hook failed: {source}")]
    Hook {
        /// The hook (`init`, ...).
        hook: &'static str,
        /// The hook's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Whether this is a transport failure (the call did not complete) rather than a wire
    /// encoding error (the call completed but carried bad bytes).
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Error::NoServer { .. }
                | Error::Timeout { .. }
                | Error::Unconfirmed { .. }
                | Error::Incomplete { .. }
                | Error::Refused { .. }
                | Error::Status { .. }
                | Error::Protocol { .. }
                | Error::BufferFull { .. }
                | Error::Nats { .. }
                | Error::Closed
                | Error::Connect { .. }
        )
    }

    pub(crate) fn nats(
        op: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Nats {
            op,
            source: Box::new(source),
        }
    }
}

/// Shorthand for `Result<T, provider_sdk::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
