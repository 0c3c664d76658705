//! `wrpcurl describe`: a world's imports and exports, each function with its WIT signature and
//! doc comment, written as WIT-like text.
//!
//! Functions go by the names a call uses on the wire (`bucket.get`, with `self` as its first
//! parameter), inside the interface whose id is the wRPC instance
//! (`wrpc:keyvalue/store@0.2.0-draft`). Types are named as the WIT names them.

use std::fmt::Write as _;

use wit_parser::{Docs, Resolve, WorldId, WorldItem};

use crate::signature::signature;

const INDENT: &str = "    ";

/// The description of `world`.
pub fn describe(resolve: &Resolve, world: WorldId) -> String {
    let id = crate::wit::world_id(resolve, world);
    let world = &resolve.worlds[world];
    let mut out = String::new();
    doc_lines(&mut out, "", &world.docs);
    let _ = writeln!(out, "world {id} {{");
    let items = world
        .imports
        .iter()
        .map(|item| ("import", item))
        .chain(world.exports.iter().map(|item| ("export", item)));
    let mut first = true;
    for (direction, (key, item)) in items {
        let mut section = String::new();
        match item {
            WorldItem::Interface { id, .. } => {
                let interface = &resolve.interfaces[*id];
                let name = resolve.name_world_key(key);
                doc_lines(&mut section, INDENT, &interface.docs);
                if interface.functions.is_empty() {
                    let _ = writeln!(section, "{INDENT}{direction} {name};");
                } else {
                    let _ = writeln!(section, "{INDENT}{direction} {name} {{");
                    for func in interface.functions.values() {
                        let inner = format!("{INDENT}{INDENT}");
                        doc_lines(&mut section, &inner, &func.docs);
                        let _ = writeln!(section, "{inner}{};", signature(resolve, func));
                    }
                    let _ = writeln!(section, "{INDENT}}}");
                }
            }
            WorldItem::Function(func) => {
                doc_lines(&mut section, INDENT, &func.docs);
                let _ = writeln!(section, "{INDENT}{direction} {};", signature(resolve, func));
            }
            // Types are described where functions use them, by name.
            WorldItem::Type(_) => continue,
        }
        if !first {
            out.push('\n');
        }
        first = false;
        out.push_str(&section);
    }
    out.push_str("}\n");
    out
}

/// `docs` as `///` lines, each after `indent`.
fn doc_lines(out: &mut String, indent: &str, docs: &Docs) {
    let Some(contents) = &docs.contents else {
        return;
    };
    for line in contents.trim_end().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_is_written_as_wit_with_docs_and_wire_names() {
        let mut resolve = Resolve::default();
        let package = resolve
            .push_str(
                "test.wit",
                "package a:b@1.0.0;

                /// Types only.
                interface types { type t = u8; }

                /// Counters.
                ///
                /// Two lines.
                interface counters {
                    use types.{t};
                    resource counter {
                        /// Adds.
                        add: func(n: t) -> u64;
                    }
                }

                /// The world.
                world w {
                    import types;
                    export counters;
                    /// Says hello.
                    export hello: func(name: string) -> string;
                    import log: func(line: string);
                }",
            )
            .unwrap();
        let world = resolve.select_world(package, Some("w")).unwrap();
        // In the resolved world's order: wit-parser puts world functions before interfaces.
        assert_eq!(
            describe(&resolve, world),
            "/// The world.
world a:b/w@1.0.0 {
    /// Types only.
    import a:b/types@1.0.0;

    import log: func(line: string);

    /// Says hello.
    export hello: func(name: string) -> string;

    /// Counters.
    ///
    /// Two lines.
    export a:b/counters@1.0.0 {
        /// Adds.
        counter.add: func(self: borrow<counter>, n: t) -> u64;
    }
}
"
        );
    }
}
