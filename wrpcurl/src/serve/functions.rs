//! The functions `serve` plays: every function of one instance, an interface (or a world's own
//! functions), as [`Functions`] lists them for `call` too: found by the id a call's subject
//! carries (`wasmcloud:messaging/handler@0.2.0`) or a shorter form naming one instance only.

use provider_sdk::dynamic::{DynamicFunction, FunctionType};
use wit_parser::{Resolve, WorldId};

use crate::error::{Error, Result};
use crate::functions::Functions;
use crate::signature::signature;

/// One function served: what the SDK serves, and its WIT signature for messages.
#[derive(Debug)]
pub struct Served {
    /// The instance, name and type.
    pub function: DynamicFunction,
    /// `handle-message: func(msg: broker-message) -> result<_, string>`.
    pub signature: String,
}

/// The functions of the instance `instance` names among `world`'s imports and exports (or,
/// without a world, in all of `resolve`). A function whose types the dynamic codec cannot
/// handle is left out, with a warning (the second list) saying so; the others are still served.
pub fn find(
    resolve: &Resolve,
    world: Option<WorldId>,
    instance: &str,
) -> Result<(Vec<Served>, Vec<String>)> {
    let functions = Functions::of(resolve, world);
    let targets = functions.instance(instance)?;
    let mut served = Vec::new();
    let mut skipped = Vec::new();
    for target in &targets {
        match FunctionType::from_wit(resolve, target.function) {
            Ok(ty) => served.push(Served {
                function: DynamicFunction::new(&target.instance, &target.func, ty),
                signature: signature(resolve, target.function),
            }),
            Err(error) => skipped.push(format!(
                "`{}` of `{}` is not served (its calls go unanswered): {error}",
                target.func, target.instance
            )),
        }
    }
    if served.is_empty() {
        return Err(Error::Usage(format!(
            "no function of `{}` can be served: {}",
            targets[0].instance,
            skipped.join("; ")
        )));
    }
    Ok((served, skipped))
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
    fn inline_interfaces_world_imports_and_short_names_are_found_as_call_finds_them() {
        let mut resolve = Resolve::default();
        let package = resolve
            .push_str(
                "t.wit",
                "package a:b@1.0.0;
                interface h { f: func(); }
                world w {
                    import h;
                    export inline: interface { g: func() -> u8; }
                    import log: func(line: string);
                    export ping: func();
                }",
            )
            .unwrap();
        let world = resolve.select_world(package, Some("w")).unwrap();
        let (served, _) = find(&resolve, Some(world), "inline").unwrap();
        assert_eq!(names(&served), ["g"]);
        assert_eq!(served[0].function.instance(), "inline");
        let (served, _) = find(&resolve, Some(world), "a:b/w@1.0.0").unwrap();
        assert_eq!(names(&served), ["log", "ping"]);
        let (served, _) = find(&resolve, None, "h").unwrap();
        assert_eq!(served[0].function.instance(), "a:b/h@1.0.0");
        let (served, _) = find(&resolve, None, "a:b/h").unwrap();
        assert_eq!(served[0].function.instance(), "a:b/h@1.0.0");
    }

    #[test]
    fn unknown_interfaces_get_suggestions() {
        let resolve = resolve();
        let error = find(&resolve, None, "x:y/h").unwrap_err().to_string();
        assert_eq!(
            error,
            "no interface `x:y/h` with functions in the WIT; did you mean `a:b/h@1.0.0`?"
        );
        let error = find(&resolve, None, "nope").unwrap_err().to_string();
        assert!(
            error.contains("one of `a:b/h@1.0.0`, `a:b/w@1.0.0`"),
            "{error}"
        );
        let error = find(&resolve, None, "a:b/empty@1.0.0")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("no interface `a:b/empty@1.0.0` with functions in the WIT"),
            "{error}"
        );
    }
}
