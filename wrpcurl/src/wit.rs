//! Loading the WIT a command works with: `./wit` by default, as `generate!` reads it, or the
//! `.wit` file or package folder (with its `deps/`) that `--wit` names; then the world
//! `--world` names, if it does. `describe`, `call` and `serve` all load it with [`load`].

use std::path::{Path, PathBuf};

use wit_parser::{PackageId, Resolve, WorldId};

use crate::error::{Error, Result};

/// Where the WIT is when `--wit` is not given.
pub const DEFAULT_PATH: &str = "wit";

/// A resolved WIT package and the world chosen from it, if one was.
#[derive(Debug)]
pub struct Wit {
    /// Every package read.
    pub resolve: Resolve,
    /// The package at the path given.
    pub package: PackageId,
    /// The world named, if one was.
    pub world: Option<WorldId>,
}

impl Wit {
    /// The world named, or else the package's only world (an error if it has none or several,
    /// telling how to choose one).
    pub fn world_or_only(&self) -> Result<WorldId> {
        match self.world {
            Some(world) => Ok(world),
            None => select_world(&self.resolve, self.package, None),
        }
    }
}

/// Loads the WIT at `path` (default [`DEFAULT_PATH`]) and, if `world` is given, chooses it:
/// by name (`keyvalue`) or id (`provider-sdk:providers/keyvalue`). Every `@unstable` feature
/// is on, so that gated items are described too.
pub fn load(path: Option<&Path>, world: Option<&str>) -> Result<Wit> {
    let path = path.map_or_else(|| PathBuf::from(DEFAULT_PATH), Path::to_path_buf);
    let (resolve, package) = load_package(&path)?;
    let world = world
        .map(|name| select_world(&resolve, package, Some(name)))
        .transpose()?;
    Ok(Wit {
        resolve,
        package,
        world,
    })
}

/// Every package read from `path`, and the one at `path`.
fn load_package(path: &Path) -> Result<(Resolve, PackageId)> {
    if !path.exists() {
        return Err(Error::NoWit {
            path: path.to_path_buf(),
        });
    }
    let mut resolve = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    let (package, _) = resolve.push_path(path).map_err(|error| Error::Wit {
        path: path.to_path_buf(),
        reason: format!("{error:#}"),
    })?;
    Ok((resolve, package))
}

/// A world's id (`roundtrip:test/roundtrip@0.1.0`), or its name if it is in no package.
pub fn world_id(resolve: &Resolve, world: WorldId) -> String {
    let world = &resolve.worlds[world];
    world.package.map_or_else(
        || world.name.clone(),
        |package| resolve.id_of_name(package, &world.name),
    )
}

/// The world `name` of `package`, or its only one; errors list the worlds there are.
fn select_world(resolve: &Resolve, package: PackageId, name: Option<&str>) -> Result<WorldId> {
    let package_name = &resolve.packages[package].name;
    let worlds = &resolve.packages[package].worlds;
    let names = || {
        worlds
            .keys()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(name) = name else {
        let mut all = worlds.values();
        return match (all.next(), all.next()) {
            (Some(only), None) => Ok(*only),
            (None, _) => Err(Error::World(format!(
                "the package `{package_name}` has no world; add one (e.g. `world provider {{ export my-interface; }}`)"
            ))),
            (Some(_), Some(_)) => Err(Error::World(format!(
                "the package `{package_name}` has several worlds; choose one with `--world NAME`: {}",
                names()
            ))),
        };
    };
    if !name.contains(':') {
        return worlds.get(name).copied().ok_or_else(|| {
            Error::World(format!(
                "no world named `{name}` in `{package_name}`; it has {}",
                names()
            ))
        });
    }
    resolve.select_world(package, Some(name)).map_err(|_| {
        let all: Vec<String> = resolve
            .worlds
            .iter()
            .filter_map(|(_, world)| {
                let package = world.package?;
                Some(format!("`{}`", resolve.id_of_name(package, &world.name)))
            })
            .collect();
        Error::World(format!(
            "no world `{name}`; the worlds there are {}",
            all.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const TWO_WORLDS: &str = "package a:b;\ninterface i { f: func(); }\nworld one { export i; }\nworld two { import i; }\n";

    #[test]
    fn a_missing_folder_says_how_to_name_another() {
        let error = load(Some(Path::new("/nonexistent/wit")), None).unwrap_err();
        assert!(matches!(error, Error::NoWit { .. }), "{error}");
        assert!(error.to_string().contains("--wit PATH"), "{error}");
    }

    #[test]
    fn several_worlds_need_a_name_and_the_error_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "a.wit", TWO_WORLDS);
        let wit = load(Some(&file), None).unwrap();
        assert_eq!(wit.world, None);
        let error = wit.world_or_only().unwrap_err();
        assert_eq!(
            error.to_string(),
            "the package `a:b` has several worlds; choose one with `--world NAME`: `one`, `two`"
        );
        let wit = load(Some(&file), Some("two")).unwrap();
        assert_eq!(wit.resolve.worlds[wit.world_or_only().unwrap()].name, "two");
        let wit = load(Some(&file), Some("a:b/one")).unwrap();
        assert_eq!(wit.resolve.worlds[wit.world_or_only().unwrap()].name, "one");
    }

    #[test]
    fn an_unknown_world_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "a.wit", TWO_WORLDS);
        let error = load(Some(&file), Some("three")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no world named `three` in `a:b`; it has `one`, `two`"
        );
        let error = load(Some(&file), Some("a:b/three")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no world `a:b/three`; the worlds there are `a:b/one`, `a:b/two`"
        );
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "a.wit",
            "package a:b;\nworld w { export nope }\n",
        );
        let error = load(Some(&file), None).unwrap_err();
        assert!(matches!(error, Error::Wit { .. }), "{error}");
        assert!(error.to_string().contains("a.wit"), "{error}");
    }
}
