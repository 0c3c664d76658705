//! Rust names for WIT names: `snake_case` for functions, fields and modules, `UpperCamelCase`
//! for types and cases, `SHOUTY_CASE` for flags; Rust keywords get a trailing `_` (`type_`).

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

fn ident(name: String) -> Ident {
    let name = if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    };
    Ident::new(&name, Span::call_site())
}

/// A module name already in `snake_case` (from `wit-bindgen-core`), with keywords escaped.
pub(crate) fn module(name: String) -> String {
    ident(name).to_string()
}

/// `get-many` → `get_many`; `type` → `type_`.
pub(crate) fn snake(name: &str) -> Ident {
    ident(name.to_snake_case())
}

/// `key-response` → `KeyResponse`.
pub(crate) fn camel(name: &str) -> Ident {
    ident(name.to_upper_camel_case())
}

/// `read-only` → `READ_ONLY`.
pub(crate) fn shouty(name: &str) -> Ident {
    ident(name.to_shouty_snake_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("get-many").to_string(), "get_many");
        assert_eq!(snake("type").to_string(), "type_");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(camel("key-response").to_string(), "KeyResponse");
        assert_eq!(camel("self").to_string(), "Self_");
        assert_eq!(shouty("read-only").to_string(), "READ_ONLY");
    }
}
