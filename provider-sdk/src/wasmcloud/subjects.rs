//! Subjects of the wasmCloud 1.x control protocol, as pure functions: where a host publishes link
//! puts and deletes, configuration updates, health and shutdown requests to a provider, and the
//! bucket it keeps named configuration in.
//!
//! Link puts (the copies), link deletes, config updates, health and shutdown requests all arrive
//! under [`control_prefix`]; link puts with sealed secrets arrive on [`sealed_link_put_subject`],
//! named after the provider's xkey.

/// The subject prefix of every control message to `provider_id` in `lattice`.
pub fn control_prefix(lattice: &str, provider_id: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{provider_id}")
}

/// Where link puts with sealed secrets arrive: named after the provider's public xkey.
pub fn sealed_link_put_subject(lattice: &str, provider_xkey_public: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{provider_xkey_public}.linkdefs.put")
}

/// Where link put copies (no secrets) for `id` arrive.
pub fn link_put_subject(lattice: &str, id: &str) -> String {
    format!("{}.linkdefs.put", control_prefix(lattice, id))
}

/// Where link deletes for `id` arrive.
pub fn link_delete_subject(lattice: &str, id: &str) -> String {
    format!("{}.linkdefs.del", control_prefix(lattice, id))
}

/// Where health requests for `provider_id` arrive.
pub fn health_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.health", control_prefix(lattice, provider_id))
}

/// Where shutdown requests for `provider_id` arrive.
pub fn shutdown_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.default.shutdown", control_prefix(lattice, provider_id))
}

/// Where the host publishes the provider's merged configuration when it changes.
pub fn config_update_subject(lattice: &str, provider_id: &str) -> String {
    format!("{}.config.update", control_prefix(lattice, provider_id))
}

/// What a control message under [`control_prefix`] is, from the rest of its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControlSubject {
    LinkPut,
    LinkDelete,
    ConfigUpdate,
    Health,
    Shutdown,
}

impl ControlSubject {
    /// Classifies `subject`, which must start with `prefix`; `None` for anything else.
    pub(crate) fn parse(prefix: &str, subject: &str) -> Option<Self> {
        let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
        match rest {
            "linkdefs.put" => Some(Self::LinkPut),
            "linkdefs.del" => Some(Self::LinkDelete),
            "config.update" => Some(Self::ConfigUpdate),
            "health" => Some(Self::Health),
            // `default` was a link name once; accept any single token there.
            _ => match rest.split_once('.') {
                Some((link_name, "shutdown")) if !link_name.contains('.') => Some(Self::Shutdown),
                _ => None,
            },
        }
    }
}

/// The bucket holding `lattice`'s named configuration.
pub fn config_bucket(lattice: &str) -> String {
    format!("CONFIGDATA_{lattice}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_named_after_the_lattice() {
        assert_eq!(config_bucket("default"), "CONFIGDATA_default");
    }

    #[test]
    fn subjects_are_the_hosts() {
        assert_eq!(
            link_put_subject("default", "p1"),
            "wasmbus.rpc.default.p1.linkdefs.put"
        );
        assert_eq!(
            link_delete_subject("default", "p1"),
            "wasmbus.rpc.default.p1.linkdefs.del"
        );
        assert_eq!(health_subject("l", "p1"), "wasmbus.rpc.l.p1.health");
        assert_eq!(
            shutdown_subject("l", "p1"),
            "wasmbus.rpc.l.p1.default.shutdown"
        );
        assert_eq!(
            config_update_subject("l", "p1"),
            "wasmbus.rpc.l.p1.config.update"
        );
        assert_eq!(
            sealed_link_put_subject("l", "XABC"),
            "wasmbus.rpc.l.XABC.linkdefs.put"
        );
    }

    #[test]
    fn control_subjects_are_classified_by_their_tail() {
        let prefix = control_prefix("l", "p1");
        let parse = |subject: &str| ControlSubject::parse(&prefix, subject);
        assert_eq!(
            parse("wasmbus.rpc.l.p1.linkdefs.put"),
            Some(ControlSubject::LinkPut)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.linkdefs.del"),
            Some(ControlSubject::LinkDelete)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.config.update"),
            Some(ControlSubject::ConfigUpdate)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.health"),
            Some(ControlSubject::Health)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.default.shutdown"),
            Some(ControlSubject::Shutdown)
        );
        assert_eq!(
            parse("wasmbus.rpc.l.p1.other.shutdown"),
            Some(ControlSubject::Shutdown)
        );
        assert_eq!(parse("wasmbus.rpc.l.p1.a.b.shutdown"), None);
        assert_eq!(parse("wasmbus.rpc.l.p10.health"), None);
        assert_eq!(parse("wasmbus.rpc.l.p1.linkdefs.get"), None);
    }
}
