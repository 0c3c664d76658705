//! wRPC subjects, as pure functions.
//!
//! Instance names contain dots (`wasi:keyvalue/store@0.2.0-draft`), so subjects are opaque
//! strings: they are built here and compared whole, never split into NATS tokens.

/// The wRPC protocol token in invocation subjects.
pub const PROTOCOL: &str = "wrpc.0.0.1";

/// The subject a function is invoked on: `[<prefix>.]wrpc.0.0.1.<instance>.<func>`.
///
/// `instance` is the interface id as wit-parser prints it (`wasi:keyvalue/store@0.2.0-draft`),
/// or the world's id for world-level functions; `func` is the WIT function name without its
/// `[method]`, `[static]` or `[constructor]` prefix (`bucket.get`). An empty prefix or instance
/// is left out, as `wrpc-transport-nats` does.
pub fn invocation_subject(prefix: &str, instance: &str, func: &str) -> String {
    let mut subject =
        String::with_capacity(prefix.len() + PROTOCOL.len() + instance.len() + func.len() + 3);
    if !prefix.is_empty() {
        subject.push_str(prefix);
        subject.push('.');
    }
    subject.push_str(PROTOCOL);
    subject.push('.');
    if !instance.is_empty() {
        subject.push_str(instance);
        subject.push('.');
    }
    subject.push_str(func);
    subject
}

/// The subject the rest of a call's params go to, below the server's handshake reply `R_s`.
pub(crate) fn params_subject(server_reply: &str) -> String {
    format!("{server_reply}.params")
}

/// The subject a call's results go to, below the client's reply `R_c`.
pub(crate) fn results_subject(client_reply: &str) -> String {
    format!("{client_reply}.results")
}

/// Where a message on a session's inbox belongs: `<prefix><id>[.<channel>[.<i>.<j>...]]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InboxAddress<'a> {
    /// `<prefix><id>`: a handshake reply (or a round-trip probe).
    Handshake(u64),
    /// `<prefix><id>.<channel>[.<path>]`: data for one of a call's channels.
    Channel {
        id: u64,
        channel: &'a str,
        path: Vec<usize>,
    },
}

/// Parses a subject under `prefix` (which ends in `.`); `None` if it is not one of ours.
pub(crate) fn parse_inbox_subject<'a>(prefix: &str, subject: &'a str) -> Option<InboxAddress<'a>> {
    let rest = subject.strip_prefix(prefix)?;
    let (id, rest) = match rest.split_once('.') {
        Some((id, rest)) => (id, Some(rest)),
        None => (rest, None),
    };
    let id = id.parse().ok()?;
    let Some(rest) = rest else {
        return Some(InboxAddress::Handshake(id));
    };
    let (channel, path) = match rest.split_once('.') {
        Some((channel, path)) => (
            channel,
            path.split('.')
                .map(|index| index.parse().ok())
                .collect::<Option<Vec<_>>>()?,
        ),
        None => (rest, Vec::new()),
    };
    Some(InboxAddress::Channel { id, channel, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_subjects() {
        assert_eq!(
            invocation_subject("default.kv", "wrpc:keyvalue/store@0.2.0-draft", "get"),
            "default.kv.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get"
        );
        assert_eq!(
            invocation_subject("", "wasi:keyvalue/store@0.2.0-draft", "bucket.get"),
            "wrpc.0.0.1.wasi:keyvalue/store@0.2.0-draft.bucket.get"
        );
        assert_eq!(invocation_subject("p", "", "hello"), "p.wrpc.0.0.1.hello");
    }

    #[test]
    fn channel_subjects() {
        assert_eq!(params_subject("_INBOX.a.7"), "_INBOX.a.7.params");
        assert_eq!(results_subject("_INBOX.a.7"), "_INBOX.a.7.results");
    }

    #[test]
    fn inbox_addresses() {
        let prefix = "_INBOX.abc.";
        assert_eq!(
            parse_inbox_subject(prefix, "_INBOX.abc.42"),
            Some(InboxAddress::Handshake(42))
        );
        assert_eq!(
            parse_inbox_subject(prefix, "_INBOX.abc.42.results"),
            Some(InboxAddress::Channel {
                id: 42,
                channel: "results",
                path: vec![]
            })
        );
        assert_eq!(
            parse_inbox_subject(prefix, "_INBOX.abc.7.params.0.12"),
            Some(InboxAddress::Channel {
                id: 7,
                channel: "params",
                path: vec![0, 12]
            })
        );
        assert_eq!(parse_inbox_subject(prefix, "_INBOX.other.42"), None);
        assert_eq!(parse_inbox_subject(prefix, "_INBOX.abc.x.results"), None);
        assert_eq!(parse_inbox_subject(prefix, "_INBOX.abc.1.results.*"), None);
        assert_eq!(parse_inbox_subject(prefix, "_INBOX.abc.1.results.-1"), None);
    }
}
