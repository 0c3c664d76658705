//! W3C trace context (`traceparent`, `tracestate`) carried in NATS headers.
//!
//! wasmCloud hosts send each invocation with the caller's `traceparent`. A server made by this
//! crate parses it, records the trace on the invocation's `tracing` span (`trace_id`,
//! `parent_span_id`, `span_id`), and makes the invocation's own context [`current`] while the
//! handler runs, so that every call the handler makes through a
//! [`Client`](crate::transport::Client) carries the same trace with the invocation as its parent.
//!
//! The context follows the handler's task. Work the handler spawns onto other tasks takes it
//! along with [`TraceContext::scope`].
//!
//! ```
//! use provider_sdk::trace::TraceContext;
//!
//! let parent: TraceContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
//!     .parse()
//!     .unwrap();
//! let child = parent.child();
//! assert_eq!(child.trace_id(), parent.trace_id());
//! assert_ne!(child.span_id(), parent.span_id());
//! assert!(child.to_string().starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
//! ```

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

/// The `traceparent` header's name.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header's name.
pub const TRACESTATE: &str = "tracestate";

/// Longest `tracestate` passed on; longer ones are dropped, as W3C allows.
const MAX_TRACESTATE: usize = 512;

/// One position in a distributed trace: which trace, which span, and whether it is sampled.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
    state: Option<Arc<str>>,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TraceContext")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// A `traceparent` that does not follow the W3C format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid traceparent: expected `00-<32 hex digits>-<16 hex digits>-<2 hex digits>` with non-zero ids"
)]
pub struct InvalidTraceparent;

impl TraceContext {
    /// The flag bit that says the trace is sampled.
    pub const SAMPLED: u8 = 0x01;

    /// A new trace, sampled, with fresh random ids.
    pub fn new_root() -> Self {
        let mut ids = [0u8; 24];
        crate::random::fill(&mut ids);
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        trace_id.copy_from_slice(&ids[..16]);
        span_id.copy_from_slice(&ids[16..]);
        // All-zero ids are invalid; a random one is all zeros once in 2^128 tries.
        trace_id[15] |= u8::from(trace_id == [0; 16]);
        span_id[7] |= u8::from(span_id == [0; 8]);
        Self {
            trace_id,
            span_id,
            flags: Self::SAMPLED,
            state: None,
        }
    }

    /// A new span in the same trace, with this one as its parent.
    pub fn child(&self) -> Self {
        let mut span_id = [0u8; 8];
        crate::random::fill(&mut span_id);
        span_id[7] |= u8::from(span_id == [0; 8]);
        Self {
            span_id,
            ..self.clone()
        }
    }

    /// Reads the context from NATS headers: `None` when there is no valid `traceparent`.
    pub fn from_headers(headers: &async_nats::HeaderMap) -> Option<Self> {
        let name = async_nats::HeaderName::from_static;
        let parent = headers
            .get(name(TRACEPARENT))?
            .as_str()
            .parse::<Self>()
            .ok()?;
        let state = headers
            .get(name(TRACESTATE))
            .map(|value| value.as_str())
            .filter(|state| !state.is_empty() && state.len() <= MAX_TRACESTATE)
            .map(Arc::from);
        Some(Self { state, ..parent })
    }

    /// Writes `traceparent` (and `tracestate`, if any) into `headers`.
    pub fn insert_into(&self, headers: &mut async_nats::HeaderMap) {
        headers.insert(TRACEPARENT, self.to_string().as_str());
        if let Some(state) = &self.state {
            headers.insert(TRACESTATE, &**state);
        }
    }

    /// The trace id, as 32 lowercase hex digits.
    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id, as 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }

    /// Whether the caller sampled this trace.
    pub fn is_sampled(&self) -> bool {
        self.flags & Self::SAMPLED != 0
    }

    /// The vendor-specific `tracestate`, passed on unchanged.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The ids and flags, as bytes: for the OpenTelemetry SDK (feature `otel`).
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn raw(&self) -> ([u8; 16], [u8; 8], u8) {
        (self.trace_id, self.span_id, self.flags)
    }

    /// The context of a span made elsewhere (the OpenTelemetry SDK), keeping this one's
    /// `tracestate`.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn of_span(state: Option<&Self>, ids: ([u8; 16], [u8; 8], u8)) -> Self {
        let (trace_id, span_id, flags) = ids;
        Self {
            trace_id,
            span_id,
            flags,
            state: state.and_then(|state| state.state.clone()),
        }
    }

    /// Runs `future` with this context as [`current`].
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(Some(self), future)
    }
}

tokio::task_local! {
    static CURRENT: Option<TraceContext>;
}

/// Runs `future` with `trace` (or none) as [`current`].
pub(crate) fn scope<F: Future>(
    trace: Option<TraceContext>,
    future: F,
) -> impl Future<Output = F::Output> {
    CURRENT.scope(trace, future)
}

/// The trace context of the invocation this task is handling, if any.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.span_id),
            self.flags
        )
    }
}

impl FromStr for TraceContext {
    type Err = InvalidTraceparent;

    /// Parses a `traceparent`. Versions above `00` are read as `00`, ignoring what follows the
    /// flags, as W3C asks; version `ff` is invalid.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.len() < 55 {
            return Err(InvalidTraceparent);
        }
        let version = unhex::<1>(&bytes[0..2])?[0];
        let exact = bytes.len() == 55;
        let tail_ok = exact || (version > 0 && bytes[55] == b'-');
        if version == 0xff || (version == 0 && !exact) || !tail_ok {
            return Err(InvalidTraceparent);
        }
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return Err(InvalidTraceparent);
        }
        let trace_id = unhex::<16>(&bytes[3..35])?;
        let span_id = unhex::<8>(&bytes[36..52])?;
        let flags = unhex::<1>(&bytes[53..55])?[0];
        if trace_id == [0; 16] || span_id == [0; 8] {
            return Err(InvalidTraceparent);
        }
        Ok(Self {
            trace_id,
            span_id,
            flags,
            state: None,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Lowercase hex only: W3C forbids uppercase.
fn unhex<const N: usize>(digits: &[u8]) -> Result<[u8; N], InvalidTraceparent> {
    fn nibble(digit: u8) -> Result<u8, InvalidTraceparent> {
        match digit {
            b'0'..=b'9' => Ok(digit - b'0'),
            b'a'..=b'f' => Ok(digit - b'a' + 10),
            _ => Err(InvalidTraceparent),
        }
    }
    let mut out = [0u8; N];
    if digits.len() != N * 2 {
        return Err(InvalidTraceparent);
    }
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn parses_and_prints_the_w3c_example() {
        let parent: TraceContext = EXAMPLE.parse().unwrap();
        assert_eq!(parent.trace_id(), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(parent.span_id(), "b7ad6b7169203331");
        assert!(parent.is_sampled());
        assert_eq!(parent.to_string(), EXAMPLE);
    }

    #[test]
    fn rejects_what_w3c_calls_invalid() {
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert_eq!(
                bad.parse::<TraceContext>(),
                Err(InvalidTraceparent),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_later_versions_as_version_zero() {
        let later = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-whatever";
        let parsed: TraceContext = later.parse().unwrap();
        assert!(!parsed.is_sampled());
        assert_eq!(
            parsed.to_string(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
        );
    }

    #[test]
    fn children_share_the_trace_and_get_new_spans() {
        let root = TraceContext::new_root();
        assert!(root.is_sampled());
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
        assert_ne!(TraceContext::new_root().trace_id(), root.trace_id());
    }

    #[test]
    fn round_trips_through_headers_with_state() {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(TRACEPARENT, EXAMPLE);
        headers.insert(TRACESTATE, "vendor=opaque");
        let parsed = TraceContext::from_headers(&headers).unwrap();
        assert_eq!(parsed.state(), Some("vendor=opaque"));
        let mut out = async_nats::HeaderMap::new();
        parsed.insert_into(&mut out);
        assert_eq!(out.get(TRACEPARENT).unwrap().as_str(), EXAMPLE);
        assert_eq!(out.get(TRACESTATE).unwrap().as_str(), "vendor=opaque");
    }

    #[tokio::test]
    async fn current_follows_the_scope() {
        assert_eq!(current(), None);
        let root = TraceContext::new_root();
        let seen = root.clone().scope(async { current() }).await;
        assert_eq!(seen, Some(root));
        assert_eq!(current(), None);
    }
}
