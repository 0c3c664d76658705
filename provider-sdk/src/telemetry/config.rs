//! What to export, and where: a wasmCloud host's `otel_config`, or the standard `OTEL_*`
//! variables when the provider runs standalone.
//!
//! Under a host, `otel_config` says which signals are on; an endpoint it does not give comes
//! from `OTEL_EXPORTER_OTLP_*` (hosts pass those through), then the OTLP default. Standalone, a
//! signal is on when an `OTEL_EXPORTER_OTLP_*ENDPOINT` variable names where it goes, or when
//! `OTEL_<SIGNAL>_EXPORTER=otlp` asks for it; `OTEL_SDK_DISABLED=true` turns everything off.
//! Nothing is exported when neither asks.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// One of the three OpenTelemetry signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Counters, histograms, gauges.
    Metrics,
    /// Log records (the runtime's `tracing` events).
    Logs,
}

impl Signal {
    /// All three, in the order they are set up.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// `traces`, `metrics` or `logs`: the OTLP/HTTP path's last segment.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    fn env_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }
}

/// How export requests travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), by default on port 4318.
    HttpProtobuf,
    /// OTLP/gRPC, by default on port 4317.
    Grpc,
}

impl Protocol {
    fn default_endpoint(self, signal: Signal) -> String {
        match self {
            Protocol::HttpProtobuf => format!("http://127.0.0.1:4318/v1/{}", signal.name()),
            Protocol::Grpc => "http://127.0.0.1:4317".to_owned(),
        }
    }
}

/// Where one signal goes.
#[derive(Clone, PartialEq, Eq)]
pub struct Destination {
    /// The endpoint, used as is: the full URL of `/v1/<signal>` over HTTP, the server's base URL
    /// over gRPC.
    pub endpoint: String,
    /// How requests travel.
    pub protocol: Protocol,
}

impl fmt::Debug for Destination {
    /// An endpoint may carry credentials (`https://user:token@collector`): they are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field(
                "endpoint",
                &crate::redact::redact_credentials(&self.endpoint),
            )
            .field("protocol", &self.protocol)
            .finish()
    }
}

/// Which traces are recorded, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Every trace.
    AlwaysOn,
    /// None.
    AlwaysOff,
    /// This fraction of traces, chosen by trace id.
    TraceIdRatio(f64),
    /// The caller's decision when there is a caller; this one for new traces.
    ParentBased(Box<Sampler>),
}

impl Sampler {
    /// Reads a sampler name and its argument (`traceidratio` and `parentbased_traceidratio`
    /// take a ratio between 0 and 1, 1 when absent).
    pub fn parse(name: &str, arg: Option<&str>) -> Result<Self, String> {
        let ratio = || -> Result<f64, String> {
            let Some(arg) = arg else { return Ok(1.0) };
            match arg.trim().parse::<f64>() {
                Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
                _ => Err(format!(
                    "the sampler argument {arg:?} is not a ratio between 0 and 1"
                )),
            }
        };
        Ok(match name.trim() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(ratio()?),
            "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            "parentbased_traceidratio" => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(ratio()?)))
            }
            other => {
                return Err(format!(
                    "unknown traces sampler {other:?}: use always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
                ));
            }
        })
    }
}

impl Default for Sampler {
    /// `parentbased_always_on`, as the OpenTelemetry specification says.
    fn default() -> Self {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    }
}

/// What the provider exports: the result of reading `otel_config` or the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct TelemetryConfig {
    /// Where spans go, if they are exported.
    pub traces: Option<Destination>,
    /// Where metrics go, if they are exported.
    pub metrics: Option<Destination>,
    /// Where log records go, if they are exported.
    pub logs: Option<Destination>,
    /// `service.name` of everything exported.
    pub service_name: String,
    /// Which traces are recorded.
    pub sampler: Sampler,
    /// The least important spans recorded (the invocation and call spans are `info`): a host's
    /// `trace_level`.
    pub trace_level: tracing::Level,
    /// PEM files of certificate authorities trusted besides the system's, for `https`
    /// endpoints.
    pub ca_paths: Vec<PathBuf>,
    /// The most spans or log records waiting for export; past it, new ones are dropped (and
    /// counted). The OpenTelemetry default, 2,048, when not given.
    pub max_queue_size: Option<usize>,
}

impl TelemetryConfig {
    /// Whether anything is exported.
    pub fn exports_anything(&self) -> bool {
        self.traces.is_some() || self.metrics.is_some() || self.logs.is_some()
    }

    /// Where `signal` goes, if it is exported.
    pub fn destination(&self, signal: Signal) -> Option<&Destination> {
        match signal {
            Signal::Traces => self.traces.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Logs => self.logs.as_ref(),
        }
    }

    /// Reads a host's `otel_config` (`null` or `{}`: nothing), with `env` for what it leaves
    /// out. Returns `None` when no signal is on, and warnings to log: keys it does not know (a
    /// newer host may send more) and `OTEL_*` values it cannot follow (a host passes its own
    /// environment through; they fall back to the defaults). A value of `otel_config` itself
    /// that is wrong is an error, but only when something is exported.
    pub fn from_host(
        otel_config: &serde_json::Value,
        env: &dyn Fn(&str) -> Option<String>,
        service_name: &str,
    ) -> Result<(Option<Self>, Vec<String>), String> {
        if otel_config.is_null() {
            return Ok((None, Vec::new()));
        }
        let host = HostOtelConfig::deserialize(otel_config)
            .map_err(|error| format!("the host's otel_config is not valid: {error}"))?;
        let mut warnings: Vec<String> = host
            .unknown
            .keys()
            .map(|key| {
                format!("the host's otel_config has a key this runtime does not know: {key}")
            })
            .collect();
        let on = |signal: Option<bool>| signal.unwrap_or(host.enable_observability);
        let wanted = [
            on(host.enable_traces),
            on(host.enable_metrics),
            on(host.enable_logs),
        ];
        if env_flag(env, "OTEL_SDK_DISABLED") || !wanted.contains(&true) {
            return Ok((None, warnings));
        }
        let protocol = match host.protocol.as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(p) if p == "http" => Some(Protocol::HttpProtobuf),
            Some(p) if p == "grpc" => Some(Protocol::Grpc),
            Some(other) => {
                return Err(format!(
                    "the host's otel_config names protocol {other:?}: use \"http\" or \"grpc\""
                ));
            }
        };
        let own_endpoints = [
            &host.traces_endpoint,
            &host.metrics_endpoint,
            &host.logs_endpoint,
        ];
        let mut destinations = [None, None, None];
        for (index, signal) in Signal::ALL.into_iter().enumerate() {
            if !wanted[index] {
                continue;
            }
            let protocol = protocol.unwrap_or_else(|| env_protocol(env, signal, &mut warnings));
            let endpoint = match (own_endpoints[index], &host.observability_endpoint) {
                (Some(own), _) => own.clone(),
                (None, Some(base)) => for_signal(base, protocol, signal),
                (None, None) => env_endpoint(env, signal, protocol)
                    .unwrap_or_else(|| protocol.default_endpoint(signal)),
            };
            destinations[index] = Some(Destination { endpoint, protocol });
        }
        let sampler = match &host.traces_sampler {
            Some(name) => Sampler::parse(name, host.traces_sampler_arg.as_deref())?,
            None => env_sampler(env, &mut warnings),
        };
        let trace_level = match host.trace_level.as_deref() {
            None => tracing::Level::INFO,
            Some(level) => parse_level(level)?,
        };
        let [traces, metrics, logs] = destinations;
        let config = Self {
            traces,
            metrics,
            logs,
            // Not `OTEL_SERVICE_NAME`: a host passes its own, which names the host.
            service_name: service_name.to_owned(),
            sampler,
            trace_level,
            ca_paths: host.additional_ca_paths,
            max_queue_size: host
                .max_batch_queue_size
                .map(|size| clamp_queue(size, &mut warnings)),
        };
        Ok((Some(config), warnings))
    }

    /// Reads the standard `OTEL_*` variables through `env`. Returns `None` when they ask for
    /// nothing to be exported, and warnings to log: values it cannot follow fall back to the
    /// defaults, as the OpenTelemetry specification asks.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        default_service_name: &str,
    ) -> (Option<Self>, Vec<String>) {
        let mut warnings = Vec::new();
        if env_flag(env, "OTEL_SDK_DISABLED") {
            return (None, warnings);
        }
        let mut destinations = [None, None, None];
        for (slot, signal) in destinations.iter_mut().zip(Signal::ALL) {
            let exporter_var = format!("OTEL_{}_EXPORTER", signal.env_name());
            let exporters = env(&exporter_var).unwrap_or_default();
            let names: Vec<&str> = exporters
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .collect();
            if names.contains(&"none") {
                continue;
            }
            for other in names.iter().filter(|name| **name != "otlp") {
                warnings.push(format!(
                    "{exporter_var} names {other:?}: this provider exports over OTLP only"
                ));
            }
            let asked = names.contains(&"otlp");
            let protocol = env_protocol(env, signal, &mut warnings);
            let endpoint = match env_endpoint(env, signal, protocol) {
                Some(endpoint) => endpoint,
                None if asked => protocol.default_endpoint(signal),
                None => continue,
            };
            *slot = Some(Destination { endpoint, protocol });
        }
        let [traces, metrics, logs] = destinations;
        if traces.is_none() && metrics.is_none() && logs.is_none() {
            return (None, warnings);
        }
        let config = Self {
            traces,
            metrics,
            logs,
            service_name: env("OTEL_SERVICE_NAME")
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| default_service_name.into()),
            sampler: env_sampler(env, &mut warnings),
            trace_level: tracing::Level::INFO,
            ca_paths: env("OTEL_EXPORTER_OTLP_CERTIFICATE")
                .map(PathBuf::from)
                .into_iter()
                .collect(),
            max_queue_size: None,
        };
        (Some(config), warnings)
    }
}

/// The most spans or log records that may wait for export: the SDK allocates the whole queue
/// up front.
const MAX_QUEUE: usize = 65_536;

fn clamp_queue(size: usize, warnings: &mut Vec<String>) -> usize {
    let clamped = size.clamp(1, MAX_QUEUE);
    if clamped != size {
        warnings.push(format!(
            "max_batch_queue_size {size} is outside 1..={MAX_QUEUE}: {clamped} is used"
        ));
    }
    clamped
}

/// `otel_config` as wasmCloud 1.x hosts write it (`../shared/PROTOCOL.md` §2).
#[derive(Deserialize)]
struct HostOtelConfig {
    #[serde(default)]
    enable_observability: bool,
    enable_traces: Option<bool>,
    enable_metrics: Option<bool>,
    enable_logs: Option<bool>,
    observability_endpoint: Option<String>,
    traces_endpoint: Option<String>,
    metrics_endpoint: Option<String>,
    logs_endpoint: Option<String>,
    protocol: Option<String>,
    #[serde(default)]
    additional_ca_paths: Vec<PathBuf>,
    trace_level: Option<String>,
    traces_sampler: Option<String>,
    #[serde(default, deserialize_with = "text_or_number")]
    traces_sampler_arg: Option<String>,
    max_batch_queue_size: Option<usize>,
    /// The thread-based batch processors export one batch at a time; read, not used.
    #[serde(rename = "concurrent_exports")]
    _concurrent_exports: Option<usize>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_json::Value>,
}

/// A sampler argument written as `"0.5"` or `0.5`.
fn text_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(
        match Option::<serde_json::Value>::deserialize(deserializer)? {
            Some(serde_json::Value::String(text)) => Some(text),
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "traces_sampler_arg must be a number, not {other}"
                )));
            }
        },
    )
}

/// A base URL turned into one signal's endpoint: over HTTP the signal's path is added when the
/// URL has none; over gRPC the path goes.
fn for_signal(base: &str, protocol: Protocol, signal: Signal) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match protocol {
        Protocol::HttpProtobuf if path.trim_matches('/').is_empty() => {
            format!("{scheme}://{authority}/v1/{}", signal.name())
        }
        Protocol::HttpProtobuf => base.to_owned(),
        Protocol::Grpc => format!("{scheme}://{authority}"),
    }
}

fn env_flag(env: &dyn Fn(&str) -> Option<String>, name: &str) -> bool {
    env(name).is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with the
/// signal's path added over HTTP (always, as the OTLP specification says: a base URL's own path
/// is a prefix), as is over gRPC.
fn env_endpoint(
    env: &dyn Fn(&str) -> Option<String>,
    signal: Signal,
    protocol: Protocol,
) -> Option<String> {
    let nonempty = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if let Some(own) = nonempty(&format!(
        "OTEL_EXPORTER_OTLP_{}_ENDPOINT",
        signal.env_name()
    )) {
        return Some(own);
    }
    let base = nonempty("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    Some(match protocol {
        Protocol::HttpProtobuf => {
            let (url, query) = match base.split_once('?') {
                Some((url, query)) => (url, format!("?{query}")),
                None => (base.as_str(), String::new()),
            };
            format!("{}/v1/{}{query}", url.trim_end_matches('/'), signal.name())
        }
        Protocol::Grpc => base,
    })
}

/// The signal's protocol from `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL` or
/// `OTEL_EXPORTER_OTLP_PROTOCOL`; http/protobuf when neither says one it can follow.
fn env_protocol(
    env: &dyn Fn(&str) -> Option<String>,
    signal: Signal,
    warnings: &mut Vec<String>,
) -> Protocol {
    let own = format!("OTEL_EXPORTER_OTLP_{}_PROTOCOL", signal.env_name());
    let (name, value) = match env(&own) {
        Some(value) => (own, value),
        None => match env("OTEL_EXPORTER_OTLP_PROTOCOL") {
            Some(value) => ("OTEL_EXPORTER_OTLP_PROTOCOL".to_owned(), value),
            None => return Protocol::HttpProtobuf,
        },
    };
    match value.trim() {
        "" | "http/protobuf" => Protocol::HttpProtobuf,
        "grpc" => Protocol::Grpc,
        other => {
            warnings.push(format!(
                "{name}={other:?} is not supported (use \"http/protobuf\" or \"grpc\"): \
                 {} goes over http/protobuf",
                signal.name()
            ));
            Protocol::HttpProtobuf
        }
    }
}

/// The sampler `OTEL_TRACES_SAMPLER` names, or the default when it names none it knows.
fn env_sampler(env: &dyn Fn(&str) -> Option<String>, warnings: &mut Vec<String>) -> Sampler {
    match env("OTEL_TRACES_SAMPLER") {
        Some(name) if !name.trim().is_empty() => {
            Sampler::parse(&name, env("OTEL_TRACES_SAMPLER_ARG").as_deref()).unwrap_or_else(
                |error| {
                    warnings.push(format!(
                        "OTEL_TRACES_SAMPLER: {error}; parentbased_always_on is used"
                    ));
                    Sampler::default()
                },
            )
        }
        _ => Sampler::default(),
    }
}

fn parse_level(level: &str) -> Result<tracing::Level, String> {
    Ok(match level.trim().to_ascii_lowercase().as_str() {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "info" => tracing::Level::INFO,
        "warn" => tracing::Level::WARN,
        "error" | "critical" => tracing::Level::ERROR,
        other => {
            return Err(format!(
                "the host's otel_config names trace_level {other:?}: use trace, debug, info, \
                 warn, error or critical"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn host(config: serde_json::Value, vars: &[(&str, &str)]) -> Option<TelemetryConfig> {
        let (config, warnings) = TelemetryConfig::from_host(&config, &env_of(vars), "kv").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        config
    }

    fn standalone(vars: &[(&str, &str)]) -> Option<TelemetryConfig> {
        let (config, warnings) = TelemetryConfig::from_env(&env_of(vars), "kv");
        assert!(warnings.is_empty(), "{warnings:?}");
        config
    }

    fn endpoint(config: &TelemetryConfig, signal: Signal) -> Option<(&str, Protocol)> {
        config
            .destination(signal)
            .map(|d| (d.endpoint.as_str(), d.protocol))
    }

    #[test]
    fn a_host_that_asks_for_nothing_gets_nothing() {
        assert_eq!(host(json!(null), &[]), None);
        assert_eq!(host(json!({}), &[]), None);
        let as_hosts_write_it = json!({"enable_observability": false, "enable_traces": null,
            "enable_metrics": null, "enable_logs": null, "observability_endpoint": null,
            "traces_endpoint": null, "metrics_endpoint": null, "logs_endpoint": null,
            "protocol": "Http"});
        assert_eq!(host(as_hosts_write_it, &[]), None);
        // The environment does not turn on what the host left off.
        assert_eq!(
            host(
                json!({}),
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]
            ),
            None
        );
    }

    #[test]
    fn observability_turns_on_every_signal_that_does_not_say_otherwise() {
        let config = host(
            json!({"enable_observability": true, "enable_logs": false,
                   "observability_endpoint": "http://collector:4318"}),
            &[],
        )
        .unwrap();
        let http = Protocol::HttpProtobuf;
        assert_eq!(
            endpoint(&config, Signal::Traces),
            Some(("http://collector:4318/v1/traces", http))
        );
        assert_eq!(
            endpoint(&config, Signal::Metrics),
            Some(("http://collector:4318/v1/metrics", http))
        );
        assert_eq!(endpoint(&config, Signal::Logs), None);
        assert_eq!(config.service_name, "kv");
        assert_eq!(config.sampler, Sampler::default());
    }

    #[test]
    fn endpoints_resolve_as_the_protocol_says() {
        // A per-signal endpoint is used as given; a base URL with a path keeps it over HTTP.
        let config = host(
            json!({"enable_traces": true, "enable_metrics": true, "enable_logs": true,
                   "traces_endpoint": "https://t.example/custom",
                   "observability_endpoint": "http://c:4318/otlp/v1/any", "protocol": "Http"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            endpoint(&config, Signal::Traces).unwrap().0,
            "https://t.example/custom"
        );
        assert_eq!(
            endpoint(&config, Signal::Logs).unwrap().0,
            "http://c:4318/otlp/v1/any"
        );
        // Over gRPC the path goes; with no endpoint at all, the defaults.
        let config = host(
            json!({"enable_traces": true, "enable_metrics": true,
                   "observability_endpoint": "http://c:4317/", "protocol": "Grpc"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            endpoint(&config, Signal::Metrics),
            Some(("http://c:4317", Protocol::Grpc))
        );
        let config = host(
            json!({"enable_observability": true, "protocol": "grpc"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            endpoint(&config, Signal::Traces).unwrap().0,
            "http://127.0.0.1:4317"
        );
        let config = host(json!({"enable_observability": true}), &[]).unwrap();
        assert_eq!(
            endpoint(&config, Signal::Logs).unwrap().0,
            "http://127.0.0.1:4318/v1/logs"
        );
    }

    #[test]
    fn a_host_without_endpoints_uses_the_environments() {
        let config = host(
            json!({"enable_traces": true}),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
                ("OTEL_SERVICE_NAME", "wasmcloud-host"),
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
        )
        .unwrap();
        assert_eq!(
            endpoint(&config, Signal::Traces).unwrap().0,
            "http://env:4318/v1/traces"
        );
        // The host's own service name, passed through, does not name the provider.
        assert_eq!(config.service_name, "kv");
        assert_eq!(config.sampler, Sampler::TraceIdRatio(0.25));
    }

    #[test]
    fn the_hosts_sampler_level_and_limits_are_read() {
        let config = host(
            json!({"enable_traces": true, "traces_sampler": "parentbased_traceidratio",
                   "traces_sampler_arg": 0.5, "trace_level": "critical",
                   "max_batch_queue_size": 64, "concurrent_exports": 2,
                   "additional_ca_paths": ["/etc/ca.pem"]}),
            &[],
        )
        .unwrap();
        assert_eq!(
            config.sampler,
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.5)))
        );
        assert_eq!(config.trace_level, tracing::Level::ERROR);
        assert_eq!(config.max_queue_size, Some(64));
        assert_eq!(config.ca_paths, vec![PathBuf::from("/etc/ca.pem")]);
    }

    #[test]
    fn bad_host_settings_are_errors_that_name_them_and_unknown_keys_are_reported() {
        let read = |config: serde_json::Value| {
            TelemetryConfig::from_host(&config, &env_of(&[]), "kv").map(|(_, warnings)| warnings)
        };
        for (config, needle) in [
            (json!({"enable_traces": "yes"}), "otel_config is not valid"),
            (
                json!({"enable_traces": true, "protocol": "carrier-pigeon"}),
                "protocol",
            ),
            (
                json!({"enable_traces": true, "traces_sampler": "sometimes"}),
                "unknown traces sampler",
            ),
            (
                json!({"enable_traces": true, "traces_sampler": "traceidratio",
                       "traces_sampler_arg": 2}),
                "between 0 and 1",
            ),
            (
                json!({"enable_traces": true, "trace_level": "loud"}),
                "trace_level",
            ),
        ] {
            let error = read(config.clone()).unwrap_err();
            assert!(error.contains(needle), "{config}: {error}");
        }
        let warnings = read(json!({"enable_traces": true, "new_knob": 1})).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("new_knob"), "{warnings:?}");
        // What is wrong in a part nothing uses stops nothing.
        assert!(read(json!({"enable_traces": false, "trace_level": "loud"})).is_ok());
        let queue = read(json!({"enable_traces": true, "max_batch_queue_size": 1_000_000_000}));
        assert!(queue.unwrap()[0].contains("65536"));
    }

    #[test]
    fn environment_values_a_host_passes_through_fall_back_with_a_warning() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_TRACES_SAMPLER", "xray"),
        ];
        // Observability off: nothing is read, nothing is said.
        let (config, warnings) =
            TelemetryConfig::from_host(&json!({}), &env_of(&vars), "kv").unwrap();
        assert_eq!((config, warnings.len()), (None, 0));
        let (config, warnings) =
            TelemetryConfig::from_host(&json!({"enable_traces": true}), &env_of(&vars), "kv")
                .unwrap();
        let config = config.unwrap();
        assert_eq!(config.traces.unwrap().protocol, Protocol::HttpProtobuf);
        assert_eq!(config.sampler, Sampler::default());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn standalone_exports_what_the_environment_names() {
        let read = standalone;
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[("OTEL_SERVICE_NAME", "x")]), None);
        let config = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:4317"),
            ("OTEL_SERVICE_NAME", "my-kv"),
        ])
        .unwrap();
        assert_eq!(config.service_name, "my-kv");
        assert_eq!(
            endpoint(&config, Signal::Traces),
            Some(("http://c:4317", Protocol::Grpc))
        );
        assert_eq!(
            endpoint(&config, Signal::Metrics).unwrap().0,
            "http://m:4317"
        );
        assert_eq!(endpoint(&config, Signal::Logs), None);
        // Asking by exporter name alone takes the default endpoint.
        let config = read(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap();
        assert_eq!(
            endpoint(&config, Signal::Traces).unwrap().0,
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(endpoint(&config, Signal::Metrics), None);
        // Disabled wins.
        let off = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(off, None);
        // Over HTTP the signal's path goes after the base URL's own, as OTLP says.
        let config = read(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://gw.example/otlp/?k=1",
        )])
        .unwrap();
        assert_eq!(
            endpoint(&config, Signal::Logs).unwrap().0,
            "https://gw.example/otlp/v1/logs?k=1"
        );
    }

    #[test]
    fn standalone_falls_back_from_what_it_cannot_do_with_a_warning() {
        let read = |vars: &[(&str, &str)]| TelemetryConfig::from_env(&env_of(vars), "kv");
        let (config, warnings) = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "lots"),
        ]);
        let config = config.unwrap();
        assert_eq!(config.traces.unwrap().protocol, Protocol::HttpProtobuf);
        assert_eq!(config.sampler, Sampler::default());
        assert_eq!(
            warnings.len(),
            4,
            "one per signal's protocol, one sampler: {warnings:?}"
        );
        let (config, warnings) = read(&[("OTEL_TRACES_EXPORTER", "otlp,zipkin")]);
        assert!(config.unwrap().traces.is_some());
        assert!(warnings[0].contains("OTLP only"), "{warnings:?}");
    }

    #[test]
    fn endpoints_with_credentials_are_not_shown() {
        let destination = Destination {
            endpoint: "https://user:s3cret@collector:4318/v1/traces".into(),
            protocol: Protocol::HttpProtobuf,
        };
        let shown = format!("{destination:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
