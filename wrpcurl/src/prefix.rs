//! The instance prefix `call` and `serve` take: the subject prefix a provider or component
//! serves under, `<lattice>.<id>`.

use crate::error::{Error, Result};

/// Checks that `prefix` is a NATS subject: dot-separated tokens, no wildcards or spaces.
pub fn check(prefix: &str) -> Result<()> {
    let bad_token = prefix.split('.').any(|token| {
        token.is_empty() || token == "*" || token == ">" || token.contains(char::is_whitespace)
    });
    if bad_token {
        return Err(Error::Usage(format!(
            "`{prefix}` is not an instance prefix: it is a NATS subject like \
             `<lattice>.<provider-id>` (`default.keyvalue-provider`), without wildcards or spaces"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_subjects_without_wildcards() {
        assert!(check("default.keyvalue-provider").is_ok());
        assert!(check("roundtrip").is_ok());
        for bad in ["", "a..b", ".a", "a.", "a.*", "a.>", "a b"] {
            let error = check(bad).unwrap_err();
            assert_eq!(error.exit_status(), 2, "{bad}");
        }
    }
}
