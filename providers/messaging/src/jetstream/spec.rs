//! The `consumers` key: a JSON list of JetStream durable pull consumers a handler link
//! delivers from. Pure: parsing and validation only, every error naming the entry and field.
//!
//! ```json
//! [{"stream": "ORDERS", "consumer": "orders-handler"},
//!  {"stream": "JOBS", "consumer": "jobs", "max_ack_pending": 64, "ack_wait_ms": 30000,
//!   "max_deliver": 5, "create": true, "subjects": ["jobs.>"]}]
//! ```

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::is_subject;
use crate::error::{Error, Result};

/// The fields an entry may have.
const FIELDS: &[&str] = &[
    "stream",
    "consumer",
    "max_ack_pending",
    "ack_wait_ms",
    "max_deliver",
    "create",
    "subjects",
];

/// One entry of `consumers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConsumerSpec {
    /// The stream's name.
    pub(crate) stream: String,
    /// The durable consumer's name.
    pub(crate) consumer: String,
    /// Messages handed out and not yet acked, at most (server side; also caps the pull batch).
    pub(crate) max_ack_pending: Option<usize>,
    /// How long the server waits for an ack before redelivering.
    pub(crate) ack_wait: Option<Duration>,
    /// Deliveries of one message, at most; after the last failed one it is terminated.
    pub(crate) max_deliver: Option<u32>,
    /// Whether to create the stream (capturing `subjects`) and the consumer when missing.
    pub(crate) create: bool,
    /// The subjects a stream created by the provider captures.
    pub(crate) subjects: Vec<String>,
}

impl fmt::Display for ConsumerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.stream, self.consumer)
    }
}

/// Parses the `consumers` key: a JSON list of entries, no two naming the same stream and
/// consumer.
pub(crate) fn parse_consumers(json: &str) -> Result<Vec<ConsumerSpec>> {
    let value: Value = serde_json::from_str(json).map_err(|error| Error::InvalidConfig {
        key: "consumers",
        value: format!("not JSON ({error})"),
        expected: "a JSON list of {\"stream\": ..., \"consumer\": ...} objects",
    })?;
    let Value::Array(entries) = value else {
        return Err(Error::InvalidConfig {
            key: "consumers",
            value: json.to_owned(),
            expected: "a JSON list of {\"stream\": ..., \"consumer\": ...} objects",
        });
    };
    let mut specs: Vec<ConsumerSpec> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let spec = parse_entry(index + 1, entry)?;
        if specs
            .iter()
            .any(|s| s.stream == spec.stream && s.consumer == spec.consumer)
        {
            return Err(bad(
                index + 1,
                "consumer",
                &Value::String(spec.consumer),
                "a stream and consumer not named by an earlier entry",
            ));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// An error naming entry `index` (from 1), its `field` and the value.
fn bad(index: usize, field: &str, value: &Value, expected: &'static str) -> Error {
    Error::InvalidConfig {
        key: "consumers",
        value: format!("entry {index}: `{field}` = {value}"),
        expected,
    }
}

fn parse_entry(index: usize, entry: &Value) -> Result<ConsumerSpec> {
    let Value::Object(fields) = entry else {
        return Err(Error::InvalidConfig {
            key: "consumers",
            value: format!("entry {index}: {entry}"),
            expected: "an object such as {\"stream\": \"ORDERS\", \"consumer\": \"handler\"}",
        });
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Error::InvalidConfig {
            key: "consumers",
            value: format!("entry {index}: unknown field `{unknown}`"),
            expected: "the fields stream, consumer, max_ack_pending, ack_wait_ms, max_deliver, \
                       create, subjects",
        });
    }
    let stream = name(index, fields, "stream")?;
    let consumer = name(index, fields, "consumer")?;
    let max_ack_pending = count(index, fields, "max_ack_pending")?;
    let ack_wait =
        count(index, fields, "ack_wait_ms")?.map(|millis| Duration::from_millis(millis as u64));
    let max_deliver = match count(index, fields, "max_deliver")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| {
            bad(
                index,
                "max_deliver",
                &fields["max_deliver"],
                "a whole number greater than 0 that fits in 32 bits",
            )
        })?),
    };
    let create = match fields.get("create") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(other) => return Err(bad(index, "create", other, "true or false")),
    };
    let subjects = match fields.get("subjects") {
        None => Vec::new(),
        Some(value) => {
            let expected = "a list of NATS subjects, such as [\"orders.>\"]";
            let Value::Array(list) = value else {
                return Err(bad(index, "subjects", value, expected));
            };
            let mut subjects = Vec::with_capacity(list.len());
            for subject in list {
                match subject.as_str().map(str::trim) {
                    Some(s) if is_subject(s) => subjects.push(s.to_owned()),
                    _ => return Err(bad(index, "subjects", subject, expected)),
                }
            }
            subjects
        }
    };
    if create && subjects.is_empty() {
        return Err(bad(
            index,
            "create",
            &Value::Bool(true),
            "`create` together with `subjects`, the subjects a stream created for it captures",
        ));
    }
    if !create && !subjects.is_empty() {
        return Err(bad(
            index,
            "subjects",
            &fields["subjects"],
            "`subjects` only together with \"create\": true",
        ));
    }
    Ok(ConsumerSpec {
        stream,
        consumer,
        max_ack_pending,
        ack_wait,
        max_deliver,
        create,
        subjects,
    })
}

/// A stream or consumer name: required, no whitespace, `.`, `*`, `>`, `/` or `\`.
fn name(index: usize, fields: &Map<String, Value>, field: &'static str) -> Result<String> {
    let expected = "a JetStream name: not empty; no spaces, `.`, `*`, `>`, `/` or `\\`";
    match fields.get(field) {
        None => Err(Error::InvalidConfig {
            key: "consumers",
            value: format!("entry {index}: no `{field}`"),
            expected: "every entry to name its `stream` and `consumer`",
        }),
        Some(Value::String(s))
            if !s.is_empty()
                && !s.contains(|c: char| c.is_whitespace() || ".*>/\\".contains(c)) =>
        {
            Ok(s.clone())
        }
        Some(other) => Err(bad(index, field, other, expected)),
    }
}

/// A whole number greater than 0, as a JSON number or a string of digits.
fn count(index: usize, fields: &Map<String, Value>, field: &'static str) -> Result<Option<usize>> {
    let Some(value) = fields.get(field) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse::<usize>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(bad(index, field, value, "a whole number greater than 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_entry_and_a_full_one() {
        let specs = parse_consumers(
            r#"[{"stream":"ORDERS","consumer":"h"},
                {"stream":"JOBS","consumer":"j","max_ack_pending":64,"ack_wait_ms":"1500",
                 "max_deliver":5,"create":true,"subjects":["jobs.>", "more"]}]"#,
        )
        .unwrap();
        assert_eq!(
            specs,
            vec![
                ConsumerSpec {
                    stream: "ORDERS".into(),
                    consumer: "h".into(),
                    max_ack_pending: None,
                    ack_wait: None,
                    max_deliver: None,
                    create: false,
                    subjects: vec![],
                },
                ConsumerSpec {
                    stream: "JOBS".into(),
                    consumer: "j".into(),
                    max_ack_pending: Some(64),
                    ack_wait: Some(Duration::from_millis(1500)),
                    max_deliver: Some(5),
                    create: true,
                    subjects: vec!["jobs.>".into(), "more".into()],
                },
            ]
        );
        assert_eq!(specs[1].to_string(), "JOBS/j");
        assert!(parse_consumers("[]").unwrap().is_empty());
    }

    /// Every error names the key, the entry (from 1) and the field.
    #[test]
    fn errors_name_the_entry_and_the_field() {
        let cases = [
            ("{", "not JSON"),
            (r#"{"stream":"S"}"#, "JSON list"),
            (r#"["S"]"#, "entry 1"),
            (r#"[{"consumer":"c"}]"#, "entry 1: no `stream`"),
            (r#"[{"stream":"S"}]"#, "entry 1: no `consumer`"),
            (
                r#"[{"stream":"S","consumer":"c"},{"stream":"a.b","consumer":"c"}]"#,
                "entry 2: `stream`",
            ),
            (
                r#"[{"stream":"S","consumer":"c d"}]"#,
                "entry 1: `consumer`",
            ),
            (
                r#"[{"stream":"S","consumer":"c","max_deliver":0}]"#,
                "entry 1: `max_deliver` = 0",
            ),
            (
                r#"[{"stream":"S","consumer":"c","max_ack_pending":-1}]"#,
                "`max_ack_pending` = -1",
            ),
            (
                r#"[{"stream":"S","consumer":"c","ack_wait_ms":"soon"}]"#,
                "entry 1: `ack_wait_ms` = \\\"soon",
            ),
            (
                r#"[{"stream":"S","consumer":"c","create":"yes"}]"#,
                "entry 1: `create` = \\\"yes",
            ),
            (
                r#"[{"stream":"S","consumer":"c","create":true}]"#,
                "together with `subjects`",
            ),
            (
                r#"[{"stream":"S","consumer":"c","subjects":["a"]}]"#,
                "only together with",
            ),
            (
                r#"[{"stream":"S","consumer":"c","create":true,"subjects":["a..b"]}]"#,
                "entry 1: `subjects` = \\\"a..b",
            ),
            (
                r#"[{"stream":"S","consumer":"c","batch":3}]"#,
                "entry 1: unknown field `batch`",
            ),
            (
                r#"[{"stream":"S","consumer":"c"},{"stream":"S","consumer":"c"}]"#,
                "entry 2: `consumer`",
            ),
        ];
        for (json, part) in cases {
            let error = parse_consumers(json).unwrap_err().to_string();
            assert!(error.starts_with("config `consumers`"), "{json}: {error}");
            assert!(error.contains(part), "{json}: {error}");
        }
    }
}
