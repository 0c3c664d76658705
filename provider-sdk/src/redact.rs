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
    if value.contains(char::is_whitespace) {
        return redact_text(value);
    }
    // An address or a comma-separated list of them (NATS server lists may mix entries with and
    // without a scheme): each entry on its own.
    value
        .split(',')
        .map(redact_address)
        .collect::<Vec<_>>()
        .join(",")
}

/// One server address. Without a scheme (`user:pw@host:4222`, which NATS clients accept), the
/// userinfo before the last `@` goes.
fn redact_address(address: &str) -> String {
    if address.contains("://") {
        return redact_text(address);
    }
    match address.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => address.to_owned(),
    }
}

/// Every `scheme://userinfo@...` in free text. The userinfo runs to the last `@` of the URL's
/// word, so a password with an unescaped `/`, `?` or `#` in it is hidden whole (a path holding
/// an `@` is hidden too: more is hidden, never less).
fn redact_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let word_end = rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(rest.len());
        match rest[..word_end].rfind('@') {
            Some(at) => {
                match rest[..at].split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    // A lone token (`nats://token@host`) is the credential itself.
                    None => out.push_str("***"),
                }
                rest = &rest[at..];
            }
            None => {
                out.push_str(&rest[..word_end]);
                rest = &rest[word_end..];
            }
        }
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
            ("redis://u:pa/ss@h:6379/0", "redis://u:***@h:6379/0"),
            ("redis://u:p?a#s@h", "redis://u:***@h"),
            (
                "nats://a:4222,user:pw@b:4222,nats://tok@c",
                "nats://a:4222,user:***@b:4222,nats://***@c",
            ),
            (
                "user:pw@h1:4222,nats://h2:4222",
                "user:***@h1:4222,nats://h2:4222",
            ),
        ] {
            assert_eq!(redact_credentials(input), expected, "{input}");
        }
    }
}
