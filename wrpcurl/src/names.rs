//! Naming things in messages: backquoted lists, "a, b or c", and did-you-mean suggestions.

/// `` `a`, `b`, `c` ``.
pub fn quoted<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `a`, `b` or `c` ``.
pub fn or_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// The names of `candidates` closest to `wanted` by edit distance, if any is close enough to
/// be a typo of it (at most a quarter of its length, and at least 2, off); at most 3.
pub fn closest<S: AsRef<str>>(
    wanted: &str,
    candidates: impl IntoIterator<Item = S>,
) -> Vec<String> {
    let limit = (wanted.chars().count() / 4).max(2);
    let mut best: Option<usize> = None;
    let mut names: Vec<String> = Vec::new();
    for name in candidates {
        let name = name.as_ref();
        let distance = strsim::levenshtein(wanted, name);
        if distance > limit || best.is_some_and(|best| distance > best) {
            continue;
        }
        if best != Some(distance) {
            names.clear();
            best = Some(distance);
        }
        if !names.iter().any(|known| known == name) {
            names.push(name.to_owned());
        }
    }
    names.truncate(3);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_suggestions() {
        assert_eq!(quoted(["a", "b"]), "`a`, `b`");
        assert_eq!(
            or_list(&["a".into(), "b".into(), "c".into()]),
            "`a`, `b` or `c`"
        );
        assert_eq!(or_list(&["a".into()]), "`a`");
        assert_eq!(closest("gett", ["get", "set", "list-keys"]), ["get"]);
        assert_eq!(closest("get", ["got", "set"]), ["got", "set"]);
        assert!(closest("delete", ["get"]).is_empty());
    }
}
