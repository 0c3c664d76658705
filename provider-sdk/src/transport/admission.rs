//! TEMPORARY stand-in for the admission API (replaced by the transport rework).

use std::any::Any;
use std::sync::Arc;

use super::InvocationContext;

/// Decides whether an invocation reaches its handler.
pub trait Admission: Send + Sync + 'static {
    /// Ok: let it through, with a value the handler's context can read back; Err: refuse.
    fn admit(
        &self,
        invocation: &InvocationContext,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal>;
}

/// Why an invocation was refused.
#[derive(Clone, Debug)]
pub struct Refusal {
    reason: String,
}

impl Refusal {
    /// A refusal for `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
