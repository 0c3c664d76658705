//! Reading the WIT a `generate!` invocation names, with errors that say what to fix.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::LitStr;
use wit_parser::{PackageId, Resolve, WorldId, WorldItem, WorldKey};

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
    let mut resolve = Resolve::default();
    let call_site = opts.span.unwrap_or_else(Span::call_site);
    let (package, files) = match &opts.inline {
        Some(inline) => {
            let package = resolve
                .push_str("inline.wit", &inline.value())
                .map_err(|error| syn::Error::new(inline.span(), wit_error(&error, root)))?;
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
            let (package, sources) = resolve
                .push_path(&path)
                .map_err(|error| syn::Error::new(span, wit_error(&error, root)))?;
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
