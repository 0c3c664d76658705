//! How `serve` shows each invocation: a block of text, or one JSON line (`--json`).
//!
//! Text, the call as `wrpcurl call` takes it, the headers (sorted by name, one line per value),
//! then the answer:
//!
//! ```text
//! wasmcloud:messaging/handler@0.2.0.handle-message({subject: "a", body: [104, 105]})
//!   source-id: messaging-provider
//!   -> ok
//! ```
//!
//! The answer is shown as `wrpcurl call` prints results: the value for one result (named or
//! not), `(a, b)` for several; a function without results shows `-> ()` (where `call` prints
//! nothing). A refused call's arguments are not read: it shows as `iface.func(…)` and
//! `-> refused: …`.
//!
//! JSON, one object per line (keys sorted); values stay WAVE text, so that every WIT value has one form:
//!
//! ```json
//! {"args":["{subject: \"a\", body: [104, 105]}"],"function":"handle-message",
//!  "headers":{"source-id":"messaging-provider"},
//!  "instance":"wasmcloud:messaging/handler@0.2.0","reply":"ok"}
//! ```
//!
//! `headers` maps each name to its value (several values joined with `, `); `args` holds the
//! arguments in order, `null` for a refused call; then `"reply"` with the answer's text as above
//! (`()` for no results), or `"refused"` with the reason told to the caller.

use std::collections::BTreeMap;

use provider_sdk::HeaderMap;
use provider_sdk::dynamic::wasm_wave::{self, value::Value};
use serde_json::json;

/// One invocation, as shown.
#[derive(Debug)]
pub struct Shown<'a> {
    /// The instance called.
    pub instance: &'a str,
    /// The function, by its wire name.
    pub function: &'a str,
    /// The invocation's headers.
    pub headers: Option<&'a HeaderMap>,
    /// The arguments; `None` when they were not read (a refused call).
    pub args: Option<&'a [Value]>,
    /// How it was answered.
    pub outcome: Outcome<'a>,
}

/// How an invocation was answered.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// With results, shown as WAVE text of the results tuple.
    Reply(&'a str),
    /// Refused, with the reason told to the caller.
    Refused(&'a str),
}

impl Shown<'_> {
    /// The text block, ending in a newline.
    pub fn text(&self) -> String {
        let args = match self.args {
            Some(args) => args.iter().map(wave).collect::<Vec<_>>().join(", "),
            None => "…".to_owned(),
        };
        let mut out = format!("{}.{}({args})\n", self.instance, self.function);
        for (name, values) in headers(self.headers) {
            for value in values {
                out.push_str(&format!("  {name}: {value}\n"));
            }
        }
        match self.outcome {
            Outcome::Reply(results) => out.push_str(&format!("  -> {results}\n")),
            Outcome::Refused(reason) => out.push_str(&format!("  -> refused: {reason}\n")),
        }
        out
    }

    /// The JSON line, ending in a newline.
    pub fn json(&self) -> String {
        let headers: BTreeMap<String, String> = headers(self.headers)
            .into_iter()
            .map(|(name, values)| (name, values.join(", ")))
            .collect();
        let args = self
            .args
            .map(|args| args.iter().map(wave).collect::<Vec<_>>());
        let mut line = json!({
            "instance": self.instance,
            "function": self.function,
            "headers": headers,
            "args": args,
        });
        let (key, value) = match self.outcome {
            Outcome::Reply(results) => ("reply", results),
            Outcome::Refused(reason) => ("refused", reason),
        };
        line[key] = json!(value);
        format!("{line}\n")
    }
}

/// A value as WAVE text.
fn wave(value: &Value) -> String {
    wasm_wave::to_string(value).unwrap_or_else(|error| format!("<{error}>"))
}

/// The headers by name, sorted, each with its values in order.
fn headers(headers: Option<&HeaderMap>) -> BTreeMap<String, Vec<String>> {
    let mut sorted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, values) in headers.into_iter().flat_map(HeaderMap::iter) {
        let entry = sorted.entry(name.to_string()).or_default();
        entry.extend(values.iter().map(|value| value.as_str().to_owned()));
    }
    sorted
}

#[cfg(test)]
mod tests {
    use provider_sdk::dynamic::wasm_wave::wasm::WasmValue as _;

    use super::*;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("source-id", "comp");
        headers.insert("link-name", "default");
        headers.append("x-many", "1");
        headers.append("x-many", "2");
        headers
    }

    #[test]
    fn a_reply_shows_as_a_call_its_headers_and_the_answer() {
        let headers = headers();
        let args = [Value::make_string("a\"b".into()), Value::make_u32(7)];
        let shown = Shown {
            instance: "a:b/i@1.0.0",
            function: "f",
            headers: Some(&headers),
            args: Some(&args),
            outcome: Outcome::Reply("ok"),
        };
        assert_eq!(
            shown.text(),
            "a:b/i@1.0.0.f(\"a\\\"b\", 7)\n  link-name: default\n  source-id: comp\n  \
             x-many: 1\n  x-many: 2\n  -> ok\n"
        );
        assert_eq!(
            shown.json(),
            "{\"args\":[\"\\\"a\\\\\\\"b\\\"\",\"7\"],\"function\":\"f\",\"headers\":\
             {\"link-name\":\"default\",\"source-id\":\"comp\",\"x-many\":\"1, 2\"},\
             \"instance\":\"a:b/i@1.0.0\",\"reply\":\"ok\"}\n"
        );
    }

    #[test]
    fn a_refusal_shows_no_arguments() {
        let shown = Shown {
            instance: "a:b/i@1.0.0",
            function: "g",
            headers: None,
            args: None,
            outcome: Outcome::Refused("no answer"),
        };
        assert_eq!(shown.text(), "a:b/i@1.0.0.g(…)\n  -> refused: no answer\n");
        let line: serde_json::Value = serde_json::from_str(&shown.json()).unwrap();
        assert_eq!(line["args"], serde_json::Value::Null);
        assert_eq!(line["refused"], "no answer");
        assert_eq!(line["headers"], json!({}));
    }
}
