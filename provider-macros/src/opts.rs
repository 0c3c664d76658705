//! The options of `generate!`, parsed with spans so that errors point at the offending token.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitStr, Path, Token, braced, bracketed};

/// Every option `generate!` takes, in the order messages list them.
const NAMES: &[&str] = &[
    "world",
    "path",
    "inline",
    "additional_derives",
    "interfaces",
    "provider_sdk_crate",
    "features",
    "all_features",
];

/// The parsed options.
#[derive(Default)]
pub(crate) struct Opts {
    /// The world to generate: `"name"` in the root package, or `"ns:pkg/name"`.
    pub(crate) world: Option<LitStr>,
    /// The WIT directory or file, relative to the crate root (default `wit`).
    pub(crate) path: Option<LitStr>,
    /// WIT source given in place of a file.
    pub(crate) inline: Option<LitStr>,
    /// Derives added to every generated record, variant, enum and flags type.
    pub(crate) additional_derives: Vec<Path>,
    /// Only these interfaces (by id, `ns:pkg/iface[@version]`) get functions; types are always
    /// generated.
    pub(crate) interfaces: Option<Vec<LitStr>>,
    /// The path of the runtime crate (default `::provider_sdk`).
    pub(crate) provider_sdk_crate: Option<Path>,
    /// WIT features to activate: items gated by `@unstable(feature = name)` are left out
    /// unless their feature is named here.
    pub(crate) features: Vec<LitStr>,
    /// Activates every WIT feature (`all_features: true`).
    pub(crate) all_features: Option<LitBool>,
    /// Where the options were written, for errors about the whole invocation.
    pub(crate) span: Option<Span>,
}

impl Parse for Opts {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = Opts {
            span: Some(input.span()),
            ..Opts::default()
        };
        if input.is_empty() {
            return Ok(opts);
        }
        let content;
        braced!(content in input);
        let mut errors: Option<syn::Error> = None;
        let mut push = |error: syn::Error| match &mut errors {
            Some(errors) => errors.combine(error),
            None => errors = Some(error),
        };
        while !content.is_empty() {
            let key: Ident = content.parse()?;
            content.parse::<Token![:]>()?;
            let duplicate = |seen: bool| {
                seen.then(|| syn::Error::new(key.span(), format!("`{key}` is given twice")))
            };
            match key.to_string().as_str() {
                "world" => {
                    if let Some(error) = duplicate(opts.world.is_some()) {
                        push(error);
                    }
                    opts.world = Some(content.parse()?);
                }
                "path" => {
                    if let Some(error) = duplicate(opts.path.is_some()) {
                        push(error);
                    }
                    opts.path = Some(content.parse()?);
                }
                "inline" => {
                    if let Some(error) = duplicate(opts.inline.is_some()) {
                        push(error);
                    }
                    opts.inline = Some(content.parse()?);
                }
                "additional_derives" => {
                    let list;
                    bracketed!(list in content);
                    let derives = Punctuated::<Path, Token![,]>::parse_terminated(&list)?;
                    opts.additional_derives.extend(derives);
                }
                "interfaces" => {
                    if let Some(error) = duplicate(opts.interfaces.is_some()) {
                        push(error);
                    }
                    let list;
                    bracketed!(list in content);
                    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
                    opts.interfaces = Some(names.into_iter().collect());
                }
                "provider_sdk_crate" => {
                    if let Some(error) = duplicate(opts.provider_sdk_crate.is_some()) {
                        push(error);
                    }
                    opts.provider_sdk_crate = Some(content.parse()?);
                }
                "features" => {
                    let list;
                    bracketed!(list in content);
                    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
                    for name in names {
                        if let Some(error) = feature_error(&name) {
                            push(error);
                        }
                        if !opts
                            .features
                            .iter()
                            .any(|seen| seen.value() == name.value())
                        {
                            opts.features.push(name);
                        }
                    }
                }
                "all_features" => {
                    if let Some(error) = duplicate(opts.all_features.is_some()) {
                        push(error);
                    }
                    // A wrong value is reported with the other errors, not instead of them.
                    let value = content.span();
                    match content.parse::<LitBool>() {
                        Ok(all) => opts.all_features = Some(all),
                        Err(_) => {
                            push(syn::Error::new(
                                value,
                                "`all_features` takes `true` or `false`",
                            ));
                            skip_value(&content)?;
                        }
                    }
                }
                _ => {
                    let hint = match closest(&key.to_string()) {
                        Some(known) => format!("did you mean `{known}`? "),
                        None => String::new(),
                    };
                    push(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{key}`; {hint}the options are {}",
                            options()
                        ),
                    ));
                    // Skip the value so that later options are still checked.
                    skip_value(&content)?;
                }
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if let (Some(path), Some(inline)) = (&opts.path, &opts.inline) {
            let mut error = syn::Error::new(
                inline.span(),
                "give either `path` or `inline`, not both: `inline` is the whole WIT package",
            );
            error.combine(syn::Error::new(path.span(), "`path` is given here"));
            push(error);
        }
        match errors {
            Some(errors) => Err(errors),
            None => Ok(opts),
        }
    }
}

/// Every option, for messages: `` `world`, `path`, ... ``.
fn options() -> String {
    NAMES
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `name` cannot be a WIT feature, if it cannot: features are kebab-case identifiers, as
/// `@unstable(feature = name)` writes them.
fn feature_error(name: &LitStr) -> Option<syn::Error> {
    let value = name.value();
    let valid = value.split('-').all(|word| {
        let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let upper = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
        word.starts_with(|c: char| c.is_ascii_alphabetic())
            && (word.chars().all(lower) || word.chars().all(upper))
    });
    (!valid).then(|| {
        syn::Error::new(
            name.span(),
            format!(
                "`{value}` is not a WIT feature name; features are kebab-case, as in \
                 `@unstable(feature = my-feature)`: `features: [\"my-feature\"]`"
            ),
        )
    })
}

/// The option closest to `name`, if it is close enough to be a typo.
fn closest(name: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .map(|known| (distance(name, known), *known))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// Skips one option value (a token tree sequence up to the next top-level comma).
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> syn::Result<Opts> {
        syn::parse_str(input)
    }

    #[test]
    fn empty_input_is_the_defaults() {
        let opts = parse("").unwrap();
        assert!(opts.world.is_none() && opts.path.is_none() && opts.inline.is_none());
    }

    #[test]
    fn every_option() {
        let opts = parse(
            r#"{
                world: "provider",
                path: "../wit",
                additional_derives: [serde::Serialize, Eq],
                interfaces: ["wasi:keyvalue/store@0.2.0-draft"],
                provider_sdk_crate: ::my_sdk,
                features: ["clocks-timezone", "HTTP-v2", "clocks-timezone"],
                all_features: true,
            }"#,
        )
        .unwrap();
        assert_eq!(opts.world.unwrap().value(), "provider");
        assert_eq!(opts.path.unwrap().value(), "../wit");
        assert_eq!(opts.additional_derives.len(), 2);
        assert_eq!(
            opts.interfaces.unwrap()[0].value(),
            "wasi:keyvalue/store@0.2.0-draft"
        );
        assert!(opts.provider_sdk_crate.is_some());
        let features: Vec<_> = opts.features.iter().map(LitStr::value).collect();
        assert_eq!(features, ["clocks-timezone", "HTTP-v2"]);
        assert!(opts.all_features.unwrap().value);
    }

    fn messages(input: &str) -> Vec<String> {
        match parse(input) {
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
            Ok(_) => panic!("accepted bad options: {input}"),
        }
    }

    #[test]
    fn feature_names_are_wit_identifiers() {
        let messages = messages(r#"{ features: ["clocks_timezone", "", "ok-v1", "-x", "v-1"] }"#);
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("`clocks_timezone` is not a WIT feature name"));
    }

    #[test]
    fn all_features_is_a_bool() {
        assert_eq!(
            messages(r#"{ all_features: "yes" }"#),
            ["`all_features` takes `true` or `false`"]
        );
        assert_eq!(
            messages("{ all_features: true, all_features: false }"),
            ["`all_features` is given twice"]
        );
        assert_eq!(
            messages(r#"{ all_features: yes, features: ["a_b"] }"#).len(),
            2,
            "both errors at once"
        );
    }

    #[test]
    fn all_errors_at_once() {
        let error = match parse(r#"{ wrold: "x", pth: "y", world: "w", world: "v" }"#) {
            Err(error) => error,
            Ok(_) => panic!("accepted bad options"),
        };
        let messages: Vec<_> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            [
                format!(
                    "unknown option `wrold`; did you mean `world`? the options are {}",
                    options()
                ),
                format!(
                    "unknown option `pth`; did you mean `path`? the options are {}",
                    options()
                ),
                "`world` is given twice".to_owned(),
            ]
        );
    }

    #[test]
    fn path_and_inline_exclude_each_other() {
        assert!(parse(r#"{ path: "wit", inline: "package a:b;" }"#).is_err());
    }
}
