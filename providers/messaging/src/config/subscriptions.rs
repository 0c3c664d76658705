//! A handler link's `subscriptions`: subjects, each with an optional queue group.

use std::fmt;

use crate::error::{Error, Result};

/// One subscription of a handler link: `subject` or `subject|queue`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Subscription {
    pub(crate) subject: String,
    pub(crate) queue: Option<String>,
}

impl fmt::Display for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.queue {
            Some(queue) => write!(f, "{}|{queue}", self.subject),
            None => f.write_str(&self.subject),
        }
    }
}

/// `subscriptions`: comma-separated `subject` or `subject|queue`, no duplicates.
pub(crate) fn parse_subscriptions(list: &str) -> Result<Vec<Subscription>> {
    let mut subscriptions: Vec<Subscription> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (subject, queue) = match entry.split_once('|') {
            Some((subject, queue)) => (subject.trim(), Some(queue.trim())),
            None => (entry, None),
        };
        let bad = |expected| Error::InvalidConfig {
            key: "subscriptions",
            value: entry.to_owned(),
            expected,
        };
        if !is_subject(subject) {
            return Err(bad(
                "comma-separated NATS subjects (tokens separated by `.`, no spaces; `*` for a \
                 token, `>` as the last one), each optionally `|queue`",
            ));
        }
        if let Some(queue) = queue
            && (queue.is_empty() || queue.contains(|c: char| c.is_whitespace() || c == '|'))
        {
            return Err(bad("a queue group name after `|`: no spaces, not empty"));
        }
        let subscription = Subscription {
            subject: subject.to_owned(),
            queue: queue.map(str::to_owned),
        };
        if !subscriptions.contains(&subscription) {
            subscriptions.push(subscription);
        }
    }
    Ok(subscriptions)
}

/// A NATS subject one may subscribe to: non-empty tokens separated by `.`, no whitespace,
/// `*` only as a whole token, `>` only as the whole last token.
pub(crate) fn is_subject(subject: &str) -> bool {
    if subject.is_empty() || subject.contains(char::is_whitespace) {
        return false;
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    tokens.iter().enumerate().all(|(i, token)| {
        !token.is_empty()
            && (!token.contains('*') || *token == "*")
            && (!token.contains('>') || (*token == ">" && i == tokens.len() - 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_subjects_with_optional_queue_groups() {
        assert_eq!(
            parse_subscriptions(" a.b , c.*|workers,d.>, a.b ,").unwrap(),
            vec![
                Subscription {
                    subject: "a.b".into(),
                    queue: None
                },
                Subscription {
                    subject: "c.*".into(),
                    queue: Some("workers".into())
                },
                Subscription {
                    subject: "d.>".into(),
                    queue: None
                },
            ]
        );
        for bad in ["a..b", "a b", "a.>.c", "a.b*", "a|", "a|b c", ".a"] {
            let error = parse_subscriptions(bad).unwrap_err().to_string();
            assert!(error.contains("`subscriptions`"), "{bad}: {error}");
        }
    }
}
