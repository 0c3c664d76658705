//! The JSON shapes of the wasmCloud 1.x host ↔ provider control protocol, as `wasmcloud-core
//! 0.21` writes them: [`HostData`] on stdin, [`LinkDefinition`] on link puts and deletes,
//! [`Health`] (`HealthCheckResponse` there) and [`ShutdownRequest`].
//!
//! Deserialization accepts what a host writes and ignores fields it does not know, so a newer
//! host's additions do not stop a provider from starting. Serialization writes what a host
//! writes, so the test harness can play one.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a wasmCloud host tells a provider when it starts it: one line of base64 JSON on stdin.
#[derive(Clone, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct HostData {
    /// The id (public key) of the host that started the provider.
    #[serde(default)]
    pub host_id: String,
    /// The lattice.
    #[serde(default)]
    pub lattice_rpc_prefix: String,
    /// Legacy: the provider's link name.
    #[serde(default)]
    pub link_name: String,
    /// JWT for the NATS connection.
    #[serde(default)]
    pub lattice_rpc_user_jwt: String,
    /// nkey seed that signs the JWT's nonce.
    #[serde(default)]
    pub lattice_rpc_user_seed: String,
    /// NATS URL; empty means `nats://127.0.0.1:4222`.
    #[serde(default)]
    pub lattice_rpc_url: String,
    /// The provider's id.
    #[serde(default)]
    pub provider_key: String,
    /// Legacy environment values. Required by hosts' own parser, so always written.
    #[serde(default)]
    pub env_values: HashMap<String, String>,
    /// The provider instance's id.
    #[serde(default)]
    pub instance_id: String,
    /// The links that exist when the provider starts.
    #[serde(default)]
    pub link_definitions: Vec<LinkDefinition>,
    /// Legacy.
    #[serde(default)]
    pub cluster_issuers: Vec<String>,
    /// The provider's named configuration, merged by the host.
    #[serde(default)]
    pub config: HashMap<String, String>,
    /// The provider's secrets.
    #[serde(default)]
    pub secrets: HashMap<String, SecretValue>,
    /// The host's xkey public key: link secrets are sealed with it.
    #[serde(default)]
    pub host_xkey_public_key: String,
    /// The provider's xkey seed: link secrets are sealed for it.
    #[serde(default)]
    pub provider_xkey_private_key: String,
    /// The host's default RPC timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_rpc_timeout_ms: Option<u64>,
    /// Whether the host logs JSON.
    #[serde(default)]
    pub structured_logging: bool,
    /// The level the host logs at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<Level>,
    /// OpenTelemetry settings, kept as the host wrote them.
    #[serde(default)]
    pub otel_config: serde_json::Value,
}

impl fmt::Debug for HostData {
    /// Credentials, keys and secrets are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostData")
            .field("host_id", &self.host_id)
            .field("lattice_rpc_prefix", &self.lattice_rpc_prefix)
            .field(
                "lattice_rpc_url",
                &crate::redact::redact_credentials(&self.lattice_rpc_url),
            )
            .field("has_jwt", &!self.lattice_rpc_user_jwt.is_empty())
            .field("provider_key", &self.provider_key)
            .field("instance_id", &self.instance_id)
            .field("link_definitions", &self.link_definitions)
            .field("config_keys", &self.config.keys().collect::<Vec<_>>())
            .field("secret_keys", &self.secrets.keys().collect::<Vec<_>>())
            .field("host_xkey_public_key", &self.host_xkey_public_key)
            .field("default_rpc_timeout_ms", &self.default_rpc_timeout_ms)
            .field("structured_logging", &self.structured_logging)
            .field("log_level", &self.log_level)
            .finish_non_exhaustive()
    }
}

impl HostData {
    /// Parses the line a host writes on stdin: base64 (standard alphabet) of the JSON, with or
    /// without its line ending.
    pub fn from_stdin_line(line: &str) -> Result<Self> {
        let encoded = line.trim();
        let json = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|error| Error::HostData {
                reason: format!("the stdin line is not base64 ({error})"),
            })?;
        Self::from_json(&json)
    }

    /// Parses host data JSON.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(|error| Error::HostData {
            reason: format!("the JSON does not match wasmCloud's HostData ({error})"),
        })
    }

    /// The line a host writes: base64 of the JSON, ending in `\r\n` as hosts end it.
    pub fn to_stdin_line(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut line = base64::engine::general_purpose::STANDARD.encode(json);
        line.push_str("\r\n");
        line
    }
}

/// A log level as hosts name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
    Critical,
}

impl Level {
    /// The `tracing` filter directive for this level.
    pub fn as_filter(self) -> &'static str {
        match self {
            Level::Error | Level::Critical => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

/// A link as hosts send it (`InterfaceLinkDefinition` in `wasmcloud-core`).
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct LinkDefinition {
    /// The calling side: a component, or this provider when it calls components.
    pub source_id: String,
    /// The called side.
    pub target: String,
    /// The link name.
    #[serde(default = "default_link_name")]
    pub name: String,
    /// The WIT namespace, e.g. `wasi`.
    pub wit_namespace: String,
    /// The WIT package, e.g. `keyvalue`.
    pub wit_package: String,
    /// The WIT interfaces, e.g. `store`, `atomics`.
    pub interfaces: Vec<String>,
    /// The source's configuration, merged by the host.
    #[serde(default)]
    pub source_config: HashMap<String, String>,
    /// The target's configuration, merged by the host.
    #[serde(default)]
    pub target_config: HashMap<String, String>,
    /// The source's secrets: JSON of `{name: SecretValue}` sealed with the host's xkey for the
    /// provider's. Absent when there are none.
    #[serde(default)]
    pub source_secrets: Option<Vec<u8>>,
    /// The target's secrets, sealed likewise.
    #[serde(default)]
    pub target_secrets: Option<Vec<u8>>,
}

impl fmt::Debug for LinkDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkDefinition")
            .field("source_id", &self.source_id)
            .field("target", &self.target)
            .field("name", &self.name)
            .field("wit_namespace", &self.wit_namespace)
            .field("wit_package", &self.wit_package)
            .field("interfaces", &self.interfaces)
            .field(
                "source_config_keys",
                &self.source_config.keys().collect::<Vec<_>>(),
            )
            .field(
                "target_config_keys",
                &self.target_config.keys().collect::<Vec<_>>(),
            )
            .field("sealed_source_secrets", &self.source_secrets.is_some())
            .field("sealed_target_secrets", &self.target_secrets.is_some())
            .finish()
    }
}

fn default_link_name() -> String {
    "default".to_owned()
}

/// A provider's answer to a health request (`HealthCheckResponse` in `wasmcloud-core`). Hosts
/// read a reply of `{}` as unhealthy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Health {
    /// Whether the provider is healthy.
    #[serde(default)]
    pub healthy: bool,
    /// Why, in a few words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Health {
    /// Healthy, with nothing to add.
    pub fn healthy() -> Self {
        Self {
            healthy: true,
            message: None,
        }
    }

    /// Unhealthy, and why.
    pub fn unhealthy(message: impl Into<String>) -> Self {
        Self {
            healthy: false,
            message: Some(message.into()),
        }
    }
}

/// The body of a shutdown request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ShutdownRequest {
    /// The host that asks: a provider only obeys its own.
    #[serde(default)]
    pub host_id: String,
}

/// A secret's value, as wasmCloud hosts send it (`{"kind":"String","value":...}` or
/// `{"kind":"Bytes","value":[...]}`). It never prints.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", content = "value")]
pub enum SecretValue {
    /// A text secret (a password, a token).
    String(String),
    /// A binary secret (a key).
    Bytes(Vec<u8>),
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::String(_) => f.write_str("String(<redacted>)"),
            SecretValue::Bytes(_) => f.write_str("Bytes(<redacted>)"),
        }
    }
}

impl SecretValue {
    /// The secret as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SecretValue::String(value) => Some(value),
            SecretValue::Bytes(_) => None,
        }
    }

    /// The secret's bytes (a text secret's UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SecretValue::String(value) => value.as_bytes(),
            SecretValue::Bytes(value) => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Host data as a wasmCloud 1.x host serializes it (field order and all), with one link
    /// carrying sealed secrets.
    const HOST_JSON: &str = r#"{"host_id":"NHOST","lattice_rpc_prefix":"default","link_name":"default","lattice_rpc_user_jwt":"","lattice_rpc_user_seed":"","lattice_rpc_url":"nats://127.0.0.1:4222","provider_key":"kv-provider","env_values":{},"instance_id":"01J8","link_definitions":[{"source_id":"comp-a","target":"kv-provider","name":"cache","wit_namespace":"wasi","wit_package":"keyvalue","interfaces":["store","atomics"],"source_config":{},"target_config":{"URL":"redis://127.0.0.1:6379"},"source_secrets":null,"target_secrets":[1,2,3]}],"cluster_issuers":[],"config":{"backend":"memory"},"secrets":{"token":{"kind":"String","value":"s3cret"}},"host_xkey_public_key":"XHOST","provider_xkey_private_key":"SXPROV","default_rpc_timeout_ms":2000,"structured_logging":false,"log_level":"info","otel_config":{"enable_observability":false,"enable_traces":null,"enable_metrics":null,"enable_logs":null,"observability_endpoint":null,"traces_endpoint":null,"metrics_endpoint":null,"logs_endpoint":null,"protocol":"Http"}}"#;

    #[test]
    fn reads_host_data_as_a_host_writes_it() {
        let data = HostData::from_json(HOST_JSON.as_bytes()).unwrap();
        assert_eq!(data.host_id, "NHOST");
        assert_eq!(data.lattice_rpc_prefix, "default");
        assert_eq!(data.provider_key, "kv-provider");
        assert_eq!(data.config["backend"], "memory");
        assert_eq!(data.secrets["token"].as_str(), Some("s3cret"));
        assert_eq!(data.default_rpc_timeout_ms, Some(2000));
        assert_eq!(data.log_level, Some(Level::Info));
        let link = &data.link_definitions[0];
        assert_eq!(link.name, "cache");
        assert_eq!(link.interfaces, ["store", "atomics"]);
        assert_eq!(link.target_config["URL"], "redis://127.0.0.1:6379");
        assert_eq!(link.source_secrets, None);
        assert_eq!(link.target_secrets.as_deref(), Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn the_stdin_line_is_base64_ending_in_crlf() {
        let data = HostData::from_json(HOST_JSON.as_bytes()).unwrap();
        let line = data.to_stdin_line();
        assert!(line.ends_with("\r\n"));
        let again = HostData::from_stdin_line(&line).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&data).unwrap()
        );
        // What the host writes, byte for byte, reads the same.
        let host_line = format!(
            "{}\r\n",
            base64::engine::general_purpose::STANDARD.encode(HOST_JSON)
        );
        assert_eq!(
            HostData::from_stdin_line(&host_line).unwrap().host_id,
            "NHOST"
        );
    }

    #[test]
    fn serializes_the_fields_a_host_parser_requires() {
        let json = serde_json::to_value(HostData::default()).unwrap();
        assert!(json.get("link_definitions").is_some());
        assert!(json.get("env_values").is_some());
        assert!(json.get("default_rpc_timeout_ms").is_none());
    }

    #[test]
    fn bad_input_says_what_was_wrong() {
        let not_base64 = HostData::from_stdin_line("{not base64}").unwrap_err();
        assert!(
            not_base64.to_string().contains("not base64"),
            "{not_base64}"
        );
        let line = base64::engine::general_purpose::STANDARD.encode(r#"{"link_definitions":3}"#);
        let bad_json = HostData::from_stdin_line(&line).unwrap_err();
        assert!(bad_json.to_string().contains("HostData"), "{bad_json}");
    }

    #[test]
    fn a_minimal_link_gets_the_default_name() {
        let link: LinkDefinition = serde_json::from_str(
            r#"{"source_id":"a","target":"b","wit_namespace":"w","wit_package":"p","interfaces":[]}"#,
        )
        .unwrap();
        assert_eq!(link.name, "default");
        assert!(link.target_config.is_empty());
    }

    #[test]
    fn debug_hides_credentials_and_secrets() {
        let mut data = HostData::from_json(HOST_JSON.as_bytes()).unwrap();
        data.lattice_rpc_url = "nats://user:pw@nats:4222".into();
        data.lattice_rpc_user_seed = "SUSEED".into();
        let printed = format!("{data:?}");
        for hidden in ["s3cret", "SXPROV", "SUSEED", ":pw@"] {
            assert!(!printed.contains(hidden), "{hidden} in {printed}");
        }
    }

    #[test]
    fn health_replies_match_the_host_parser() {
        assert_eq!(
            serde_json::to_string(&Health::healthy()).unwrap(),
            r#"{"healthy":true}"#
        );
        assert_eq!(
            serde_json::to_string(&Health::unhealthy("redis down")).unwrap(),
            r#"{"healthy":false,"message":"redis down"}"#
        );
        let empty: Health = serde_json::from_str("{}").unwrap();
        assert!(!empty.healthy);
    }
}
