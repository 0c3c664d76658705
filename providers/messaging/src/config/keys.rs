//! Which configuration keys the provider reads, and the warnings about the others.

use provider_sdk::provider::{Config, Link, Role};

/// Every key the provider reads.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "cluster_uris",
    "client_jwt",
    "client_seed",
    "creds_file",
    "tls_ca",
    "tls_ca_file",
    "custom_inbox_prefix",
    "subscriptions",
    "max_in_flight",
    "max_concurrency",
    "provider_max_in_flight",
    "admission_wait_ms",
    "unhealthy_after_ms",
    "consumers",
];

/// Keys of the messaging provider's configuration that this build recognises but does not
/// act on yet: warned about as such, not as unknown.
pub(crate) const NOT_YET: &[&str] = &[];

/// Keys that mean something only on a handler link (the provider calls the component).
const HANDLER_KEYS: &[&str] = &["subscriptions", "consumers"];

/// Every key the warnings compare against: read now, or recognised for later.
fn recognised() -> Vec<&'static str> {
    KNOWN_KEYS.iter().chain(NOT_YET).copied().collect()
}

/// Warns about the keys of the provider's configuration that are unknown or not supported yet,
/// once, where it is set (at init and on a change), not for every link that inherits it.
/// Returns how many warnings were logged.
pub(crate) fn warn_provider_keys(config: &Config) -> usize {
    let what = "the messaging provider config";
    config.warn_unknown_keys(&recognised(), what) + warn_not_yet(config, what)
}

/// Warns about the link's own keys that are unknown, not supported yet, or meaningless on its
/// side (handler keys on a consumer link, provider-wide keys on a link), naming the link.
pub(crate) fn warn_link_keys(link: &Link) -> usize {
    let what = format!("messaging link {}", link.key());
    let config = link.config();
    let mut warned = config.warn_unknown_keys(&recognised(), &what) + warn_not_yet(config, &what);
    if link.role() == Role::Target {
        for key in HANDLER_KEYS.iter().filter(|key| config.contains_key(key)) {
            tracing::warn!(
                key,
                "config key in {what} applies only to a handler link (the provider's source \
                 config on a link to a component exporting wasmcloud:messaging/handler); ignored"
            );
            warned += 1;
        }
    }
    if config.contains_key("provider_max_in_flight") {
        tracing::warn!(
            key = "provider_max_in_flight",
            "config key in {what} applies only to the provider config; ignored"
        );
        warned += 1;
    }
    warned
}

fn warn_not_yet(config: &Config, what: &str) -> usize {
    let mut warned = 0;
    for key in NOT_YET.iter().filter(|key| config.contains_key(key)) {
        tracing::warn!(key, "config key in {what} is not supported yet; ignored");
        warned += 1;
    }
    warned
}

#[cfg(test)]
mod tests {
    use provider_sdk::provider::ConfigSource;

    use super::*;

    #[test]
    fn later_keys_are_recognised_not_unknown() {
        let config = Config::from_map(
            [("consumers", "[]"), ("typo", "x"), ("max_in_flight", "3")],
            ConfigSource::HostProvider,
        );
        assert_eq!(config.unknown_keys(&recognised()), vec!["typo"]);
        assert_eq!(warn_provider_keys(&config), 1);
    }
}
