//! `wrpcurl call`'s command line: the flags, their parsers, and the example `--help` shows.

use std::path::PathBuf;
use std::time::Duration;

use provider_sdk::provider::NatsArgs;

/// What `wrpcurl call --help` shows after the flags: examples that work against the keyvalue
/// provider, results included.
pub const EXAMPLES: &str = "\
Examples (from the repository root, with a nats-server on the default port):
  cargo build -p keyvalue-provider
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\", \"atomics\", \"batch\"]}' > link.json
  wrpcurl host run target/debug/keyvalue-provider --link link.json &
  wrpcurl call default.keyvalue-provider --source-id my-component \\
      'wrpc:keyvalue/store@0.2.0-draft.set(\"b\", \"k\", [104, 105])'
  ok
  wrpcurl call default.keyvalue-provider --source-id my-component 'store.get(\"b\", \"k\")'
  ok(some([104, 105]))
  wrpcurl call default.keyvalue-provider --source-id my-component --json 'store.get(\"b\", \"k\")'
  {\"ok\":[104,105]}

A function is named `INTERFACE-ID.FUNCTION` (`wasi:keyvalue/store@0.2.0-draft.bucket.get`), or
shorter when that names one function only: without the version (`wrpc:keyvalue/store.get`),
by the interface's name (`store.get`), or alone (`get`). Arguments and results are WAVE, typed
by the WIT: a resource handle is the list of bytes a call returned it as, a stream a list of
all its elements, a future its value.

Exit status: 0 success; 1 the provider refused the call or answered with bytes that do not fit \
the WIT; 2 bad input (function, arguments, flags, WIT); 3 NATS or the provider could not be \
reached or did not answer in time.";

/// `wrpcurl call`.
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The subject prefix the provider serves under: `<lattice>.<provider-id>` for a
    /// wasmCloud provider (`default.keyvalue-provider`).
    #[arg(value_name = "INSTANCE-PREFIX")]
    pub prefix: String,
    /// The call: a function and its WAVE arguments, `'wrpc:keyvalue/store@0.2.0-draft.get("b", "k")'`.
    #[arg(value_name = "CALL")]
    pub call: String,
    /// The WIT: a `.wit` file, or a package folder with its `deps/` (default: `./wit`).
    #[arg(long, value_name = "PATH")]
    pub wit: Option<PathBuf>,
    /// Look for the function in this world's imports and exports only (by name or id);
    /// without it, in every interface and world the WIT holds.
    #[arg(long, value_name = "NAME")]
    pub world: Option<String>,
    /// The calling component (the `source-id` header): a provider serves only components
    /// linked to it.
    #[arg(long = "source-id", value_name = "COMPONENT-ID")]
    pub source_id: Option<String>,
    /// The link's name (the `link-name` header), when it is not `default`.
    #[arg(long = "link-name", value_name = "NAME")]
    pub link_name: Option<String>,
    /// An extra NATS header for the invocation (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME=VALUE", value_parser = header)]
    pub headers: Vec<(String, String)>,
    /// The deadline for the whole call: `500ms`, `5s`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = duration)]
    pub timeout: Duration,
    /// Print the results as one JSON document instead of WAVE: records as objects, lists and
    /// tuples as arrays, variants and results as `{"case": payload}` (`{"ok": [104, 105]}`;
    /// `{"ok": null}` for a case without payload), enums as strings, flags as arrays of names,
    /// `none` as `null`. Several results are an object of their names.
    #[arg(long)]
    pub json: bool,
    /// How to reach NATS.
    #[command(flatten)]
    pub nats: NatsArgs,
}

/// Parses `NAME=VALUE` (the value may hold `=`; the name may not be empty).
fn header(text: &str) -> Result<(String, String), String> {
    crate::cli::name_value(text, "NAME=VALUE (e.g. `traceparent=00-...`)")
}

/// Parses a duration: a whole number with a unit, `ms`, `s`, `m` or `h`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let bad = || {
        format!(
            "`{text}` is not a duration: write a whole number and a unit, e.g. `500ms`, `5s`, `2m`"
        )
    };
    let number: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err(format!("`{text}`: the deadline must be more than zero"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in [
            "5",
            "s",
            "",
            "1.5s",
            "-1s",
            "5 s",
            "0s",
            "99999999999999999999s",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_split_at_the_first_equals_sign() {
        assert_eq!(header("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(header("=b").is_err());
        assert!(header("ab").is_err());
    }
}
