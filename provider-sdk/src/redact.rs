//! Credentials kept out of logs.

/// `value` with the password of any URL in it replaced by `***`, for messages and logs.
///
/// ```
/// use provider_sdk::provider::redact_credentials;
///
/// assert_eq!(redact_credentials("redis://user:hunter2@db:6379/0"), "redis://user:***@db:6379/0");
/// assert_eq!(redact_credentials("nats://a:4222,nats://t0k3n@b:4222"), "nats://a:4222,nats://***@b:4222");
/// assert_eq!(redact_credentials("plain"), "plain");
/// assert_eq!(redact_credentials("user:pw@host:4222"), "user:***@host:4222");
/// ```
pub fn redact_credentials(value: &str) -> String {
    // Server addresses without a scheme (`user:pw@host:4222`, comma-separated), which NATS
    // clients accept: the userinfo before `@` goes.
    if !value.contains("://") && !value.contains(char::is_whitespace) && value.contains('@') {
        return value
            .split(',')
            .map(|address| match address.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => format!("***@{host}"),
                },
                None => address.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(",");
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest.find(['/', '?', '#', ',', ' ']).unwrap_or(rest.len());
        match rest[..authority_end].rfind('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    // A lone token (`nats://token@host`) is the credential itself.
                    None => out.push_str("***"),
                }
                out.push_str(&rest[at..authority_end]);
            }
            None => out.push_str(&rest[..authority_end]),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_covers_the_usual_url_shapes() {
        for (input, expected) in [
            ("redis://:pw@h:6379", "redis://:***@h:6379"),
            ("rediss://user:pw@h/2?x=1", "rediss://user:***@h/2?x=1"),
            ("nats://h:4222", "nats://h:4222"),
            ("tls://tok@h", "tls://***@h"),
            (
                "see redis://u:p@h and nats://x@y",
                "see redis://u:***@h and nats://***@y",
            ),
            ("no scheme user:pw@h", "no scheme user:pw@h"),
            ("redis://u:p@ss@h", "redis://u:***@h"),
        ] {
            assert_eq!(redact_credentials(input), expected, "{input}");
        }
    }
}
