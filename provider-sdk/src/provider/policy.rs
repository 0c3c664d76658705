//! Who gets through: the link check the runtime makes before every handler.
//!
//! A call names its caller in the `source-id` header and its link in `link-name` (`default`
//! when absent). Any NATS client on the lattice can write those headers, so the check cannot
//! prove who called; what it guarantees is that a handler only runs for a (component, link
//! name) pair that has a link to this provider, with that link's configuration and secrets,
//! and that a caller naming no such link learns why at once instead of being served with
//! nothing configured.
//!
//! Refusals are counted and logged at debug level only: the caller chooses how many it causes,
//! and must not be able to flood the log.

use std::any::Any;
use std::sync::Arc;

use super::link::{DEFAULT_LINK_NAME, LINK_NAME, SOURCE_ID};
use super::state::State;
use crate::transport::{Admission, InvocationContext, Refusal};

/// The runtime's [`Admission`]: finds each invocation's link and hands it to the handler's
/// context; refuses invocations over no link when links are required.
pub(crate) struct LinkCheck {
    state: Arc<State>,
    required: bool,
}

impl LinkCheck {
    pub(crate) fn new(state: Arc<State>, required: bool) -> Self {
        Self { state, required }
    }

    /// Why a call from `source` over `link_name` is refused, in words the caller can act on.
    /// What the caller wrote is echoed cut short and printable only: the answer goes to a
    /// subject of the caller's choosing.
    fn reason(&self, source: Option<&str>, link_name: &str) -> String {
        let provider = &self.state.identity.provider_id;
        let source = source.map(echo);
        let link_name = echo(link_name);
        match source {
            None => format!(
                "provider `{provider}` serves only linked components, and this call names no \
                 caller: it has no `source-id` header. Calls from components made through a \
                 wasmCloud host carry one; a client calling by hand must set `source-id` (and \
                 `link-name` unless the link is `default`) to a component linked to `{provider}`"
            ),
            Some(source) => format!(
                "no link from component `{source}` named `{link_name}` to provider `{provider}`: \
                 put that link (for example `wash link put {source} {provider} <namespace> \
                 <package> --link-name {link_name} --interface <interface>`), or call over a \
                 link name the component has"
            ),
        }
    }
}

impl Admission for LinkCheck {
    fn admit(
        &self,
        invocation: &InvocationContext,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal> {
        let source = invocation.known_header(SOURCE_ID);
        let link_name = invocation
            .known_header(LINK_NAME)
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_LINK_NAME);
        let link = source.and_then(|source| self.state.target_link(source, link_name));
        match link {
            Some(link) => Ok(Some(link)),
            None if !self.required => Ok(None),
            None => {
                // Logged (at debug level) where the refusal is sent.
                self.state.count_refusal();
                Err(Refusal::new(self.reason(source, link_name)))
            }
        }
    }
}

/// At most this many characters of a caller's header are echoed back.
const ECHOED: usize = 64;

/// `value` as a refusal may quote it: printable characters only, at most [`ECHOED`] of them.
fn echo(value: &str) -> String {
    let mut echoed: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(ECHOED)
        .collect();
    if value
        .chars()
        .filter(|c| !c.is_control())
        .nth(ECHOED)
        .is_some()
    {
        echoed.push('…');
    }
    echoed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(required: bool) -> LinkCheck {
        let state = State::new(
            super::super::state::Identity {
                lattice: "l".into(),
                provider_id: "kv".into(),
                host_id: String::new(),
            },
            crate::transport::Transport::in_process(),
            None,
        );
        LinkCheck::new(Arc::new(state), required)
    }

    #[test]
    fn reasons_name_the_caller_the_link_and_what_to_do() {
        let reason = check(true).reason(Some("comp-a"), "cache");
        assert!(reason.contains("`comp-a`"), "{reason}");
        assert!(reason.contains("`cache`"), "{reason}");
        assert!(reason.contains("`kv`"), "{reason}");
        assert!(reason.contains("wash link put"), "{reason}");
        let reason = check(true).reason(None, "default");
        assert!(reason.contains("no `source-id` header"), "{reason}");
        // What the caller wrote comes back short and printable.
        let long = "x".repeat(500);
        let reason = check(true).reason(Some(&long), "a\r\nb");
        assert!(
            reason.contains(&format!("`{}…`", "x".repeat(64))),
            "{reason}"
        );
        assert!(
            reason.contains("`ab`") && !reason.contains('\n'),
            "{reason}"
        );
    }
}
