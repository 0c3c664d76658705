//! The functions `serve` plays: every function of one interface (or a world's own exports),
//! found by the id a call's subject carries (`wasmcloud:messaging/handler@0.2.0`).

use provider_sdk::dynamic::{DynamicFunction, FunctionType};
use wit_parser::{Function, Resolve, WorldId, WorldItem};

use crate::error::{Error, Result};
use crate::names::quoted;
use crate::signature::{signature, wire_name};

/// One function served: what the SDK serves, and its WIT signature for messages.
#[derive(Debug)]
pub struct Served {
    /// The instance, name and type.
    pub function: DynamicFunction,
    /// `handle-message: func(msg: broker-message) -> result<_, string>`.
    pub signature: String,
}

/// The functions of `instance`: an interface of `resolve` (of `world`'s imports and exports, if
/// a world is given), or a world whose own exported functions are served. A function whose
/// types the dynamic codec cannot handle is left out, with a warning (the second list) saying
/// so; the others are still served.
pub fn find(
    resolve: &Resolve,
    world: Option<WorldId>,
    instance: &str,
) -> Result<(Vec<Served>, Vec<String>)> {
    let known = candidates(resolve, world);
    let Some((_, functions)) = known.iter().find(|(id, _)| id == instance) else {
        return Err(unknown(instance, &known));
    };
    if functions.is_empty() {
        return Err(Error::Usage(format!(
            "`{instance}` has no functions to serve"
        )));
    }
    let mut served = Vec::new();
    let mut skipped = Vec::new();
    for function in functions {
        match FunctionType::from_wit(resolve, function) {
            Ok(ty) => served.push(Served {
                function: DynamicFunction::new(instance, wire_name(function), ty),
                signature: signature(resolve, function),
            }),
            Err(error) => skipped.push(format!(
                "`{}` of `{instance}` is not served (its calls go unanswered): {error}",
                wire_name(function)
            )),
        }
    }
    if served.is_empty() {
        return Err(Error::Usage(format!(
            "no function of `{instance}` can be served: {}",
            skipped.join("; ")
        )));
    }
    Ok((served, skipped))
}

/// The instances there are, each with its functions: every named interface (of `world`, if
/// given), and the worlds that export functions of their own.
fn candidates(resolve: &Resolve, world: Option<WorldId>) -> Vec<(String, Vec<&Function>)> {
    let mut known = Vec::new();
    let worlds: Vec<WorldId> = match world {
        Some(world) => vec![world],
        None => resolve.worlds.iter().map(|(id, _)| id).collect(),
    };
    match world {
        Some(world) => {
            let world = &resolve.worlds[world];
            for item in world.imports.values().chain(world.exports.values()) {
                if let WorldItem::Interface { id, .. } = item
                    && let Some(name) = resolve.id_of(*id)
                {
                    let functions = resolve.interfaces[*id].functions.values().collect();
                    known.push((name, functions));
                }
            }
        }
        None => {
            for (id, interface) in resolve.interfaces.iter() {
                if let Some(name) = resolve.id_of(id) {
                    known.push((name, interface.functions.values().collect()));
                }
            }
        }
    }
    for id in worlds {
        let world = &resolve.worlds[id];
        let functions: Vec<&Function> = world
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(function) => Some(function),
                _ => None,
            })
            .collect();
        if let (false, Some(package)) = (functions.is_empty(), world.package) {
            known.push((resolve.id_of_name(package, &world.name), functions));
        }
    }
    known.sort_by(|a, b| a.0.cmp(&b.0));
    known.dedup_by(|a, b| a.0 == b.0);
    known
}

/// No instance `instance`: the ones with the same name first, then all that have functions.
fn unknown(instance: &str, known: &[(String, Vec<&Function>)]) -> Error {
    // `handler` finds `wasmcloud:messaging/handler@0.2.0`.
    let short = |id: &str| -> String {
        let name = id.rsplit('/').next().unwrap_or(id);
        name.split('@').next().unwrap_or(name).to_owned()
    };
    let wanted = short(instance);
    let similar: Vec<&str> = known
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| short(id) == wanted)
        .collect();
    if !similar.is_empty() {
        return Error::Usage(format!(
            "no interface `{instance}` in the WIT; did you mean {}?",
            quoted(&similar)
        ));
    }
    let all: Vec<&str> = known
        .iter()
        .filter(|(_, functions)| !functions.is_empty())
        .map(|(id, _)| id.as_str())
        .collect();
    Error::Usage(format!(
        "no interface `{instance}` in the WIT; give one by its id, one of {} (or another WIT \
         with `--wit PATH`)",
        quoted(&all)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve() -> Resolve {
        let mut resolve = Resolve::default();
        resolve
            .push_str(
                "t.wit",
                "package a:b@1.0.0;
                interface h { f: func(x: u8) -> result<_, string>; resource r { m: func(); } }
                interface empty { type t = u8; }
                world w { export h; export ping: func() -> string; }",
            )
            .unwrap();
        resolve
    }

    fn names(served: &[Served]) -> Vec<&str> {
        served.iter().map(|s| s.function.name()).collect()
    }

    #[test]
    fn an_interface_is_served_by_its_functions_wire_names() {
        let resolve = resolve();
        let (served, skipped) = find(&resolve, None, "a:b/h@1.0.0").unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(names(&served), ["f", "r.m"]);
        assert_eq!(served[0].function.instance(), "a:b/h@1.0.0");
        assert_eq!(served[0].signature, "f: func(x: u8) -> result<_, string>");
    }

    #[test]
    fn a_worlds_own_exports_are_served_under_its_id() {
        let resolve = resolve();
        let (served, _) = find(&resolve, None, "a:b/w@1.0.0").unwrap();
        assert_eq!(names(&served), ["ping"]);
    }

    #[test]
    fn a_function_the_codec_cannot_handle_is_skipped_with_a_warning() {
        let flags: Vec<String> = (0..129).map(|n| format!("x{n}")).collect();
        let mut resolve = Resolve::default();
        resolve
            .push_str(
                "t.wit",
                &format!(
                    "package a:b;
                    interface i {{
                        flags many {{ {} }}
                        wide: func(m: many);
                        fine: func();
                    }}",
                    flags.join(", ")
                ),
            )
            .unwrap();
        let (served, skipped) = find(&resolve, None, "a:b/i").unwrap();
        assert_eq!(names(&served), ["fine"]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(
            skipped[0].starts_with("`wide` of `a:b/i` is not served"),
            "{skipped:?}"
        );
    }

    #[test]
    fn unknown_interfaces_get_suggestions() {
        let resolve = resolve();
        let error = find(&resolve, None, "x:y/h").unwrap_err().to_string();
        assert_eq!(
            error,
            "no interface `x:y/h` in the WIT; did you mean `a:b/h@1.0.0`?"
        );
        let error = find(&resolve, None, "nope").unwrap_err().to_string();
        assert!(
            error.contains("one of `a:b/h@1.0.0`, `a:b/w@1.0.0`"),
            "{error}"
        );
        let error = find(&resolve, None, "a:b/empty@1.0.0")
            .unwrap_err()
            .to_string();
        assert_eq!(error, "`a:b/empty@1.0.0` has no functions to serve");
    }
}
