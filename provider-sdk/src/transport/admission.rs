//! Admission: a server's check of each invocation before it takes a permit or reaches a handler.
//!
//! The check runs on the serve loop as soon as an invocation arrives, with the invocation's
//! subject, headers and the server's state. It lets the invocation through (optionally attaching a
//! value the handler reads back with [`InvocationContext::admitted`]) or refuses it with a
//! [`Refusal`], whose reason the caller receives as [`Error::Refused`](crate::Error::Refused).
//! A refused invocation takes no permit, runs no handler and sets up no channels: over NATS the
//! server answers the caller's reply subject with one message (see the NATS transport's protocol
//! comment), and the serve loop goes on to the next invocation.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::InvocationContext;

/// Decides whether a server serves an invocation. Set with
/// [`ServeOptions::admission`](super::ServeOptions::admission).
///
/// It runs on the serve loop, one invocation at a time: keep it quick and never block in it
/// (look things up in memory; anything slow belongs in the handler).
///
/// Closures of the same shape implement it.
pub trait Admission: Send + Sync + 'static {
    /// `Ok` lets the invocation through, with a value for its handler's context if `Some`;
    /// `Err` refuses it, and the caller receives the refusal's reason.
    fn admit(
        &self,
        invocation: &InvocationContext,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal>;
}

impl<F> Admission for F
where
    F: Fn(&InvocationContext) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal>
        + Send
        + Sync
        + 'static,
{
    fn admit(
        &self,
        invocation: &InvocationContext,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal> {
        self(invocation)
    }
}

/// Why an invocation was refused: a human-readable reason, sent to the caller.
///
/// The reason is at most [`Refusal::MAX_REASON_BYTES`] bytes (longer ones are cut at a character
/// boundary) and never empty. It travels in the clear: say what the caller can act on, never a
/// secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Refusal {
    reason: Box<str>,
}

impl Refusal {
    /// The longest reason sent, in bytes.
    pub const MAX_REASON_BYTES: usize = 1024;

    /// A refusal with `reason`, cut to [`Refusal::MAX_REASON_BYTES`]; an empty reason becomes
    /// `"refused"`.
    pub fn new(reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        truncate_reason(&mut reason);
        if reason.is_empty() {
            reason.push_str("refused");
        }
        Self {
            reason: reason.into_boxed_str(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Refusal").field(&self.reason).finish()
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Self::new(reason)
    }
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Self::new(reason)
    }
}

/// Cuts `reason` to at most [`Refusal::MAX_REASON_BYTES`] bytes, at a character boundary.
pub(crate) fn truncate_reason(reason: &mut String) {
    if reason.len() > Refusal::MAX_REASON_BYTES {
        let mut end = Refusal::MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
}

/// A server's admission check, as [`ServeOptions`](super::ServeOptions) holds it.
#[derive(Clone)]
pub(super) struct AdmissionCheck(pub(super) Arc<dyn Admission>);

impl fmt::Debug for AdmissionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Admission(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_reason_is_cut_at_a_character_boundary() {
        let refusal = Refusal::new("é".repeat(1000));
        assert_eq!(refusal.reason().len(), 1024);
        let refusal = Refusal::new(format!("x{}", "é".repeat(1000)));
        assert_eq!(refusal.reason().len(), 1023);
        assert!(refusal.reason().ends_with('é'));
    }

    #[test]
    fn an_empty_reason_still_says_something() {
        assert_eq!(Refusal::new("").reason(), "refused");
        assert_eq!(Refusal::from("no").to_string(), "no");
    }

    #[test]
    fn a_closure_is_an_admission() {
        let admission: Arc<dyn Admission> = Arc::new(|cx: &InvocationContext| {
            if cx.header("source-id") == Some("trusted") {
                Ok(Some(Arc::new(7u32) as Arc<dyn Any + Send + Sync>))
            } else {
                Err(Refusal::new("untrusted"))
            }
        });
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("source-id", "trusted");
        let trusted = InvocationContext::new("s", Some(headers));
        let admitted = admission.admit(&trusted).unwrap().unwrap();
        assert_eq!(admitted.downcast::<u32>().ok().as_deref(), Some(&7));
        let stranger = InvocationContext::new("s", None);
        assert_eq!(
            admission.admit(&stranger).unwrap_err().reason(),
            "untrusted"
        );
    }
}
