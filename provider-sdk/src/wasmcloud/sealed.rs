//! Link secrets sealed by the host: JSON of `{name: SecretValue}`, sealed with the host's xkey
//! for the provider's (curve25519 box, as `nkeys` xkeys do it).

use std::collections::HashMap;
use std::fmt;

use nkeys::XKey;

use super::SecretValue;
use crate::error::{Error, Result};

/// Secrets as a link carries them once opened.
pub(crate) type SecretMap = HashMap<String, SecretValue>;

/// The provider's xkey and the host's public xkey: what opens sealed link secrets.
pub(crate) struct SecretKeys {
    provider: XKey,
    host: Option<XKey>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKeys")
            .field("provider_public", &self.provider.public_key())
            .field("host_public", &self.host.as_ref().map(XKey::public_key))
            .finish()
    }
}

impl SecretKeys {
    /// Keys from host data: the provider's xkey seed and the host's public xkey (empty when
    /// the host has no secrets support).
    pub(crate) fn from_host_data(provider_seed: &str, host_public: &str) -> Result<Self> {
        let provider = XKey::from_seed(provider_seed).map_err(|error| Error::Secrets {
            reason: format!("`provider_xkey_private_key` is not an xkey seed ({error})"),
        })?;
        let host = match host_public {
            "" => None,
            public => Some(
                XKey::from_public_key(public).map_err(|error| Error::Secrets {
                    reason: format!("`host_xkey_public_key` is not an xkey public key ({error})"),
                })?,
            ),
        };
        Ok(Self { provider, host })
    }

    /// The provider's public xkey: link puts with secrets arrive on a subject named after it.
    pub(crate) fn provider_public(&self) -> String {
        self.provider.public_key()
    }

    /// Opens sealed secrets (none when `sealed` is `None`).
    pub(crate) fn open(&self, sealed: Option<&[u8]>) -> Result<SecretMap> {
        let Some(sealed) = sealed else {
            return Ok(SecretMap::new());
        };
        let host = self.host.as_ref().ok_or_else(|| Error::Secrets {
            reason: "a link carries sealed secrets but the host sent no `host_xkey_public_key`"
                .to_owned(),
        })?;
        let json = self
            .provider
            .open(sealed, host)
            .map_err(|error| Error::Secrets {
                reason: format!(
                    "sealed link secrets do not open with this provider's xkey ({error})"
                ),
            })?;
        let map: HashMap<String, SecretValue> =
            serde_json::from_slice(&json).map_err(|error| Error::Secrets {
                reason: format!(
                    "opened link secrets are not a JSON map of secret values ({})",
                    // Position only: serde's message may quote the secret text.
                    format_args!("line {} column {}", error.line(), error.column())
                ),
            })?;
        Ok(map)
    }
}

/// Opens secrets when the provider has no keys: only "no secrets" opens.
pub(crate) fn open_without_keys(sealed: Option<&[u8]>) -> Result<SecretMap> {
    match sealed {
        None => Ok(SecretMap::new()),
        Some(_) => Err(Error::Secrets {
            reason: "a link carries sealed secrets but the provider was given no xkey to open them"
                .to_owned(),
        }),
    }
}

/// Seals link secrets as a host does: what a link put's `source_secrets` or `target_secrets`
/// carries, for the provider whose public xkey is `provider_public`.
pub fn seal_secrets(
    secrets: &HashMap<String, SecretValue>,
    host: &XKey,
    provider_public: &str,
) -> Result<Vec<u8>> {
    let recipient = XKey::from_public_key(provider_public).map_err(|error| Error::Secrets {
        reason: format!("not an xkey public key ({error})"),
    })?;
    let json = serde_json::to_vec(secrets).map_err(|error| Error::Secrets {
        reason: error.to_string(),
    })?;
    host.seal(&json, &recipient)
        .map_err(|error| Error::Secrets {
            reason: format!("sealing failed ({error})"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (XKey, SecretKeys) {
        let host = XKey::new();
        let provider = XKey::new();
        let keys =
            SecretKeys::from_host_data(&provider.seed().unwrap(), &host.public_key()).unwrap();
        (host, keys)
    }

    #[test]
    fn opens_what_a_host_sealed() {
        let (host, keys) = keys();
        let secrets = HashMap::from([(
            "Password".to_owned(),
            SecretValue::String("hunter2".to_owned()),
        )]);
        let sealed = seal_secrets(&secrets, &host, &keys.provider_public()).unwrap();
        let opened = keys.open(Some(&sealed)).unwrap();
        assert_eq!(opened["Password"].as_str(), Some("hunter2"));
        assert!(keys.open(None).unwrap().is_empty());
    }

    #[test]
    fn refuses_secrets_sealed_for_someone_else_or_tampered() {
        let (host, keys) = keys();
        let other = XKey::new();
        let secrets = HashMap::from([("a".to_owned(), SecretValue::Bytes(vec![1]))]);
        let for_other = seal_secrets(&secrets, &host, &other.public_key()).unwrap();
        assert!(matches!(
            keys.open(Some(&for_other)),
            Err(Error::Secrets { .. })
        ));
        let mut tampered = seal_secrets(&secrets, &host, &keys.provider_public()).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            keys.open(Some(&tampered)),
            Err(Error::Secrets { .. })
        ));
        assert!(matches!(
            keys.open(Some(b"short")),
            Err(Error::Secrets { .. })
        ));
    }

    #[test]
    fn bad_keys_are_named() {
        let error = SecretKeys::from_host_data("not a seed", "").unwrap_err();
        assert!(
            error.to_string().contains("provider_xkey_private_key"),
            "{error}"
        );
        let seed = XKey::new().seed().unwrap();
        let error = SecretKeys::from_host_data(&seed, "XBAD").unwrap_err();
        assert!(
            error.to_string().contains("host_xkey_public_key"),
            "{error}"
        );
    }

    #[test]
    fn sealed_secrets_without_keys_fail() {
        assert!(open_without_keys(None).unwrap().is_empty());
        assert!(open_without_keys(Some(b"x")).is_err());
    }
}
