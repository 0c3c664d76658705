//! Link files: one link, or an array of links, in the shape of a standalone provider's links
//! file (the SDK's [`LinkSpec`]), read into the host emulator's [`TestLink`]s.

use std::path::Path;

use provider_sdk::provider::{ConfigRefs, LinkSpec};
use provider_testing::TestLink;

use crate::error::{Error, Result};

/// The links in the file at `path`; `provider_id` is the target of those that name none.
pub fn read(path: &Path, provider_id: &str) -> Result<Vec<TestLink>> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::File {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    parse(&text, provider_id).map_err(|reason| Error::File {
        path: path.to_owned(),
        reason,
    })
}

/// The links in `text`.
fn parse(text: &str, provider_id: &str) -> Result<Vec<TestLink>, String> {
    let not_a_link = |error: serde_json::Error| {
        format!(
            "not a link or an array of links ({error}); a link is {{\"source_id\": ..., \
             \"wit_namespace\": ..., \"wit_package\": ..., \"interfaces\": [...]}}, with optional \
             \"name\", \"target\", \"source_config\", \"target_config\", \"source_secrets\", \
             \"target_secrets\""
        )
    };
    let specs: Vec<LinkSpec> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(not_a_link)?
    } else {
        vec![serde_json::from_str(text).map_err(not_a_link)?]
    };
    if specs.is_empty() {
        return Err("the array holds no link".to_owned());
    }
    specs
        .into_iter()
        .map(|spec| to_test_link(spec, provider_id))
        .collect()
}

fn to_test_link(spec: LinkSpec, provider_id: &str) -> Result<TestLink, String> {
    let interfaces: Vec<&str> = spec.interfaces.iter().map(String::as_str).collect();
    let target = spec.target.as_deref().unwrap_or(provider_id);
    let mut link = TestLink::new(
        &spec.source_id,
        target,
        &spec.name,
        (&spec.wit_namespace, &spec.wit_package),
        &interfaces,
    );
    for (key, value) in values(&spec.source_config, "source_config")? {
        link = link.source_config(key, value);
    }
    for (key, value) in values(&spec.target_config, "target_config")? {
        link = link.target_config(key, value);
    }
    for (key, value) in values(&spec.source_secrets, "source_secrets")? {
        link = link.source_secret(key, value);
    }
    for (key, value) in values(&spec.target_secrets, "target_secrets")? {
        link = link.target_secret(key, value);
    }
    Ok(link)
}

/// The values of a side's configuration or secrets, sorted by key (so links are put the same
/// way each time); names are refused, as a host resolves them before it sends a link.
fn values<'a>(config: &'a ConfigRefs, field: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    match config {
        ConfigRefs::Values(values) => {
            let mut values: Vec<(&str, &str)> = values
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect();
            values.sort_unstable();
            Ok(values)
        }
        ConfigRefs::Names(names) if names.is_empty() => Ok(Vec::new()),
        ConfigRefs::Names(names) => Err(format!(
            "`{field}` gives names ({}); give the values instead, as an object of strings \
             (`{{\"key\": \"value\"}}`)",
            names.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_link_or_an_array() {
        let one = r#"{"source_id": "c", "wit_namespace": "wrpc", "wit_package": "keyvalue",
                      "interfaces": ["store"], "target_config": {"b": "2", "a": "1"}}"#;
        let links = parse(one, "kv").unwrap();
        assert_eq!(links.len(), 1);
        let definition = links[0].definition();
        assert_eq!(definition.source_id, "c");
        assert_eq!(definition.target, "kv");
        assert_eq!(definition.name, "default");
        assert_eq!(definition.interfaces, ["store"]);
        assert_eq!(definition.target_config["a"], "1");

        let many = format!(
            "[{one}, {}]",
            r#"{"source_id": "d", "target": "other", "name": "n", "wit_namespace": "x",
                "wit_package": "y"}"#
        );
        let links = parse(&many, "kv").unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links[1].definition().target, "other");
        assert_eq!(links[1].definition().name, "n");
    }

    #[test]
    fn mistakes_say_what_a_link_looks_like() {
        let error = parse(r#"{"source": "c"}"#, "kv").unwrap_err();
        assert!(error.contains("unknown field `source`"), "{error}");
        assert!(error.contains("\"source_id\": ..."), "{error}");
        assert_eq!(parse("[]", "kv").unwrap_err(), "the array holds no link");
        let error = parse(
            r#"{"source_id": "c", "wit_namespace": "a", "wit_package": "b",
                "target_config": ["redis-cache"]}"#,
            "kv",
        )
        .unwrap_err();
        assert!(
            error.starts_with("`target_config` gives names (redis-cache)"),
            "{error}"
        );
    }

    #[test]
    fn secrets_are_kept_for_sealing() {
        let plain = r#"{"source_id": "c", "wit_namespace": "a", "wit_package": "b"}"#;
        let secret = r#"{"source_id": "c", "wit_namespace": "a", "wit_package": "b",
                         "target_secrets": {"password": "pw"}}"#;
        assert!(!parse(plain, "kv").unwrap()[0].has_secrets());
        assert!(parse(secret, "kv").unwrap()[0].has_secrets());
    }
}
