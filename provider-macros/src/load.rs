//! Reading the WIT a `generate!` invocation names, with errors that say what to fix.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::LitStr;
use wit_parser::{PackageId, Resolve, Stability, WorldId, WorldItem, WorldKey};

use crate::opts::Opts;

/// The WIT of one invocation.
pub(crate) struct Wit {
    pub(crate) resolve: Resolve,
    pub(crate) world: WorldId,
    /// Every file read, so that editing one rebuilds the crate.
    pub(crate) files: Vec<PathBuf>,
}

/// Loads the WIT that `opts` names, relative to the crate root `root`.
pub(crate) fn load(opts: &Opts, root: &Path) -> syn::Result<Wit> {
    // Features decide which `@unstable` items are read, so they are set before any package is.
    let mut resolve = Resolve {
        features: opts.features.iter().map(LitStr::value).collect(),
        all_features: opts.all_features.as_ref().is_some_and(|all| all.value),
        ..Resolve::default()
    };
    let call_site = opts.span.unwrap_or_else(Span::call_site);
    let (package, files) = match &opts.inline {
        Some(inline) => {
            let package = resolve
                .push_str("inline.wit", &inline.value())
                .map_err(|error| {
                    let hint = feature_hint(&error, opts, |all| {
                        all.push_str("inline.wit", &inline.value()).map(drop)
                    });
                    syn::Error::new(inline.span(), wit_error(&error, root) + &hint)
                })?;
            (package, Vec::new())
        }
        None => {
            let (relative, span) = match &opts.path {
                Some(path) => (path.value(), path.span()),
                None => ("wit".to_owned(), call_site),
            };
            let path = root.join(&relative);
            if !path.exists() {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "no WIT found at `{relative}` (relative to the crate root, where `Cargo.toml` \
                         is); create it with a package and a world, or name another place with \
                         `path: \"...\"`, or give the WIT with `inline: \"...\"`"
                    ),
                ));
            }
            let (package, sources) = resolve.push_path(&path).map_err(|error| {
                let hint = feature_hint(&error, opts, |all| all.push_path(&path).map(drop));
                syn::Error::new(span, wit_error(&error, root) + &hint)
            })?;
            (package, sources.paths().map(Path::to_path_buf).collect())
        }
    };
    let world = select_world(&resolve, package, opts.world.as_ref(), call_site)?;
    check_interfaces(&resolve, world, opts)?;
    Ok(Wit {
        resolve,
        world,
        files,
    })
}

/// A wit-parser error (its whole chain of causes), with paths made relative to the crate root.
fn wit_error(error: &impl std::fmt::Display, root: &Path) -> String {
    let message = format!("{error:#}");
    let root = root.display().to_string();
    message.replace(&format!("{root}/"), "").replace(&root, ".")
}

/// What to do about a wit-parser error that comes from an item left out for its feature: the
/// features that the WIT has (found by loading it again with all of them, through `push`),
/// which of them would make it load, and how to activate them. Empty for any other error.
fn feature_hint<E>(
    error: &impl std::fmt::Display,
    opts: &Opts,
    push: impl Fn(&mut Resolve) -> Result<(), E>,
) -> String {
    if !format!("{error:#}").contains("due to its feature not being activated") {
        return String::new();
    }
    let on: Vec<String> = opts.features.iter().map(LitStr::value).collect();
    let mut all = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    let mut off = match push(&mut all) {
        Ok(()) => unstable_features(&all),
        Err(_) => Vec::new(),
    };
    off.retain(|feature| !on.contains(feature));
    // The features that, each added alone, make the WIT load.
    let fixes: Vec<&String> = off
        .iter()
        .filter(|feature| {
            let mut resolve = Resolve {
                features: on.iter().chain([*feature]).cloned().collect(),
                ..Resolve::default()
            };
            push(&mut resolve).is_ok()
        })
        .collect();
    let quoted = |names: &[&String], quote: &str| {
        names
            .iter()
            .map(|name| format!("{quote}{name}{quote}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let add = match fixes.first() {
        Some(fix) => {
            let wanted: Vec<&String> = on.iter().chain([*fix]).collect();
            format!("add `features: [{}]`", quoted(&wanted, "\""))
        }
        None => "name the features it needs with `features: [\"...\"]`".to_owned(),
    };
    let known = match off.as_slice() {
        [] => String::new(),
        [one] => format!(" (the WIT's feature is `{one}`)"),
        more => format!(
            " (the WIT's features are {})",
            quoted(&more.iter().collect::<Vec<_>>(), "`")
        ),
    };
    format!(
        "\n\nhelp: the WIT uses an item that `@unstable(feature = ...)` leaves out unless its \
         feature is on: {add} to `generate!`, or turn every feature on with `all_features: true`{known}"
    )
}

/// Every feature that an `@unstable` item of `resolve` names, sorted.
fn unstable_features(resolve: &Resolve) -> Vec<String> {
    let mut stabilities: Vec<&Stability> = Vec::new();
    for (_, world) in &resolve.worlds {
        stabilities.push(&world.stability);
        for item in world.imports.values().chain(world.exports.values()) {
            match item {
                WorldItem::Interface { stability, .. } => stabilities.push(stability),
                WorldItem::Function(func) => stabilities.push(&func.stability),
                WorldItem::Type(_) => {}
            }
        }
    }
    for (_, interface) in &resolve.interfaces {
        stabilities.push(&interface.stability);
        stabilities.extend(interface.functions.values().map(|func| &func.stability));
    }
    stabilities.extend(resolve.types.iter().map(|(_, ty)| &ty.stability));
    let mut features: Vec<String> = stabilities
        .into_iter()
        .filter_map(|stability| match stability {
            Stability::Unstable { feature, .. } => Some(feature.clone()),
            _ => None,
        })
        .collect();
    features.sort();
    features.dedup();
    features
}

fn world_names(resolve: &Resolve, package: PackageId) -> Vec<String> {
    resolve.packages[package]
        .worlds
        .keys()
        .map(|name| format!("`{name}`"))
        .collect()
}

fn select_world(
    resolve: &Resolve,
    package: PackageId,
    world: Option<&LitStr>,
    call_site: Span,
) -> syn::Result<WorldId> {
    let package_name = &resolve.packages[package].name;
    let Some(world) = world else {
        let worlds = &resolve.packages[package].worlds;
        return match worlds.len() {
            1 => Ok(*worlds.values().next().expect("one world")),
            0 => Err(syn::Error::new(
                call_site,
                format!(
                    "the package `{package_name}` has no world; add one, e.g. `world provider {{ export my-interface; }}`"
                ),
            )),
            _ => Err(syn::Error::new(
                call_site,
                format!(
                    "the package `{package_name}` has several worlds; choose one with `world: \"...\"`: {}",
                    world_names(resolve, package).join(", ")
                ),
            )),
        };
    };
    let name = world.value();
    if !name.contains(':') {
        return resolve.packages[package]
            .worlds
            .get(&name)
            .copied()
            .ok_or_else(|| {
                syn::Error::new(
                    world.span(),
                    format!(
                        "no world named `{name}` in `{package_name}`; it has {}",
                        world_names(resolve, package).join(", ")
                    ),
                )
            });
    }
    resolve.select_world(package, Some(&name)).map_err(|_| {
        let all: Vec<_> = resolve
            .worlds
            .iter()
            .filter_map(|(_, w)| {
                let package = w.package?;
                Some(format!("`{}`", resolve.id_of_name(package, &w.name)))
            })
            .collect();
        syn::Error::new(
            world.span(),
            format!("no world `{name}`; the worlds there are {}", all.join(", ")),
        )
    })
}

/// The id of an imported or exported interface, as `interfaces: [...]` names it.
pub(crate) fn interface_id(resolve: &Resolve, key: &WorldKey) -> String {
    resolve.name_world_key(key)
}

/// Checks that every name in `interfaces: [...]` is an interface of the world.
fn check_interfaces(resolve: &Resolve, world: WorldId, opts: &Opts) -> syn::Result<()> {
    let Some(wanted) = &opts.interfaces else {
        return Ok(());
    };
    let world = &resolve.worlds[world];
    let mut known: Vec<String> = world
        .imports
        .iter()
        .chain(&world.exports)
        .filter(|(_, item)| matches!(item, WorldItem::Interface { .. }))
        .map(|(key, _)| interface_id(resolve, key))
        .collect();
    known.sort();
    known.dedup();
    let mut errors: Option<syn::Error> = None;
    for name in wanted {
        if !known.contains(&name.value()) {
            let error = syn::Error::new(
                name.span(),
                format!(
                    "the world has no interface `{}`; it has {}",
                    name.value(),
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            match &mut errors {
                Some(errors) => errors.combine(error),
                None => errors = Some(error),
            }
        }
    }
    errors.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package whose stable function returns a type that only a feature brings in.
    const GATED: &str = r#"{ inline: "
        package demo:gated@0.1.0;

        interface api {
            @unstable(feature = fancy-levels)
            type level = u8;

            @since(version = 0.1.0)
            get: func() -> result<level>;
        }

        world gated {
            export api;
        }
    ""#;

    fn load_with(options: &str) -> syn::Result<Wit> {
        let opts: Opts = syn::parse_str(&format!("{GATED}{options} }}")).expect("valid options");
        load(&opts, Path::new("/crate"))
    }

    #[test]
    fn a_gated_item_says_which_feature_to_activate() {
        let error = load_with("").err().expect("fails without the feature");
        let message = error.to_string();
        eprintln!("{message}");
        assert!(
            message.contains("features: [\"fancy-levels\"]"),
            "{message}"
        );
        assert!(message.contains("all_features: true"), "{message}");
    }

    #[test]
    fn features_bring_gated_items_in() {
        assert!(load_with(r#", features: ["fancy-levels"]"#).is_ok());
        assert!(load_with(", all_features: true").is_ok());
        assert!(load_with(", all_features: false").is_err());
    }
}
