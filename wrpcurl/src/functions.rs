//! The functions a WIT holds, by wRPC instance, and finding one by name: which function a
//! `call` names, which instance's functions `serve` plays.
//!
//! A function is named by its wRPC instance and its name on the wire, joined by a dot:
//! `wrpc:keyvalue/store@0.2.0-draft.get`, `wasi:keyvalue/store@0.2.0-draft.bucket.get`, or for
//! a world's own functions `roundtrip:test/roundtrip@0.1.0.ping`. Shorter forms are accepted
//! when they name one function only among those in scope:
//!
//! - the interface id without its version: `wrpc:keyvalue/store.get`;
//! - the interface's (or world's) name alone: `store.get`;
//! - the function alone: `get`, `bucket.get`.
//!
//! A short form that names several functions is an error listing them in full. A name that
//! matches nothing gets a did-you-mean: the closest names by edit distance.
//!
//! An instance is named the same way, by its id or a shorter form naming one instance only
//! ([`Functions::instance`]).

use wit_parser::{Function, InterfaceId, Resolve, WorldId, WorldItem};

use crate::error::{Error, Result};
use crate::names::{closest, or_list, quoted};
use crate::signature::wire_name;
use crate::wit::world_id;

/// One callable function.
#[derive(Debug)]
pub struct Target<'a> {
    /// The wRPC instance: the interface's id, or the world's for a world's own functions.
    pub instance: String,
    /// The function's name on the wire (`get`, `bucket.get`).
    pub func: String,
    /// The function.
    pub function: &'a Function,
    /// What may stand before `.func` to name it: the instance first, then shorter forms.
    prefixes: Vec<String>,
}

impl Target<'_> {
    /// `instance.func`: the name that is never ambiguous.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.instance, self.func)
    }

    /// Every name the function answers to, longest first.
    fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.prefixes
            .iter()
            .map(|prefix| format!("{prefix}.{}", self.func))
            .chain(std::iter::once(self.func.clone()))
    }
}

/// The functions a call may name (or serve may play), and where they come from (for messages).
#[derive(Debug)]
pub struct Functions<'a> {
    targets: Vec<Target<'a>>,
    scope: String,
}

impl<'a> Functions<'a> {
    /// The imports and exports of `world` if one is given, else every function of the WIT
    /// ([`Functions::of_all`]).
    pub fn of(resolve: &'a Resolve, world: Option<WorldId>) -> Self {
        match world {
            Some(world) => Self::of_world(resolve, world),
            None => Self::of_all(resolve, "the WIT".to_owned()),
        }
    }

    /// The imports and exports of `world`.
    pub fn of_world(resolve: &'a Resolve, world: WorldId) -> Self {
        let mut functions = Self {
            targets: Vec::new(),
            scope: format!("world `{}`", world_id(resolve, world)),
        };
        functions.add_world(resolve, world);
        functions
    }

    /// Every interface in `resolve` and every world's imports and exports: what a call may
    /// name when no world is chosen.
    pub fn of_all(resolve: &'a Resolve, scope: String) -> Self {
        let mut functions = Self {
            targets: Vec::new(),
            scope,
        };
        for (world, _) in resolve.worlds.iter() {
            functions.add_world(resolve, world);
        }
        for (id, _) in resolve.interfaces.iter() {
            if let Some(instance) = resolve.id_of(id) {
                functions.add_interface(resolve, id, instance);
            }
        }
        functions
    }

    fn add_world(&mut self, resolve: &'a Resolve, world: WorldId) {
        let items = resolve.worlds[world]
            .imports
            .iter()
            .chain(&resolve.worlds[world].exports);
        for (key, item) in items {
            match item {
                // An inline interface (`import x: interface { .. }`) is named by its key.
                WorldItem::Interface { id, .. } => {
                    self.add_interface(resolve, *id, resolve.name_world_key(key));
                }
                WorldItem::Function(function) => {
                    let instance = world_id(resolve, world);
                    let mut prefixes = short_forms(&instance);
                    prefixes.push(resolve.worlds[world].name.clone());
                    self.add(instance, prefixes, function);
                }
                WorldItem::Type(_) => {}
            }
        }
    }

    fn add_interface(&mut self, resolve: &'a Resolve, id: InterfaceId, instance: String) {
        let interface = &resolve.interfaces[id];
        let mut prefixes = short_forms(&instance);
        if let Some(name) = &interface.name {
            prefixes.push(name.clone());
        }
        for function in interface.functions.values() {
            self.add(instance.clone(), prefixes.clone(), function);
        }
    }

    fn add(&mut self, instance: String, mut prefixes: Vec<String>, function: &'a Function) {
        let func = wire_name(function).to_owned();
        if self
            .targets
            .iter()
            .any(|t| t.instance == instance && t.func == func)
        {
            return;
        }
        prefixes.dedup();
        self.targets.push(Target {
            instance,
            func,
            function,
            prefixes,
        });
    }

    /// The function `path` names.
    pub fn find(&self, path: &str) -> Result<&Target<'a>> {
        let found: Vec<&Target<'a>> = self
            .targets
            .iter()
            .filter(|target| target.names().any(|name| name == path))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Usage(self.not_found(path))),
            several => Err(Error::Usage(format!(
                "`{path}` names several functions in {}: {}; write one of them in full",
                self.scope,
                quoted(several.iter().map(|target| target.full_name()))
            ))),
        }
    }

    /// The functions of the instance `name` names, in WIT order: by its id
    /// (`wasmcloud:messaging/handler@0.2.0`), or a shorter form (`wasmcloud:messaging/handler`,
    /// `handler`) that names one instance only. Never empty.
    pub fn instance(&self, name: &str) -> Result<Vec<&Target<'a>>> {
        let named: Vec<&str> = self.instances_where(|prefix| prefix == name);
        match named.as_slice() {
            [one] => Ok(self
                .targets
                .iter()
                .filter(|target| target.instance == *one)
                .collect()),
            [] => Err(Error::Usage(self.no_instance(name))),
            several => Err(Error::Usage(format!(
                "`{name}` names several interfaces in {}: {}; give one by its id",
                self.scope,
                quoted(several)
            ))),
        }
    }

    /// Why no instance is called `name`: the closest ids, else all of them.
    fn no_instance(&self, name: &str) -> String {
        if self.targets.is_empty() {
            return format!("there are no functions in {}", self.scope);
        }
        let forms = self.targets.iter().flat_map(|target| &target.prefixes);
        let close = closest(name, forms);
        let suggestions: Vec<String> = self
            .instances_where(|prefix| close.iter().any(|close| close == prefix))
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !suggestions.is_empty() {
            return format!(
                "no interface `{name}` with functions in {}; did you mean {}?",
                self.scope,
                or_list(&suggestions)
            );
        }
        format!(
            "no interface `{name}` with functions in {}; give one by its id, one of {} (or \
             another WIT with `--wit PATH`)",
            self.scope,
            quoted(self.instances_where(|_| true))
        )
    }

    /// The instances (each once, sorted) with a name form for which `wanted` holds.
    fn instances_where(&self, wanted: impl Fn(&str) -> bool) -> Vec<&str> {
        let mut instances: Vec<&str> = self
            .targets
            .iter()
            .filter(|target| target.prefixes.iter().any(|prefix| wanted(prefix)))
            .map(|target| target.instance.as_str())
            .collect();
        instances.sort_unstable();
        instances.dedup();
        instances
    }

    /// Why nothing is called `path`, with the closest names there are.
    fn not_found(&self, path: &str) -> String {
        if self.targets.is_empty() {
            return format!("there are no functions in {} to call", self.scope);
        }
        let mut message = format!("no function `{path}` in {}", self.scope);
        let suggestions = self.closest(path);
        if !suggestions.is_empty() {
            message.push_str(&format!("; did you mean {}?", or_list(&suggestions)));
        }
        // The interface is right and the function is not: say what it has.
        let instances = self.instances_named_in(path);
        if let [instance] = instances.as_slice() {
            let functions = self
                .targets
                .iter()
                .filter(|target| target.instance == *instance)
                .map(|target| target.func.clone());
            message.push_str(&format!(" (`{instance}` has {})", quoted(functions)));
        } else {
            message.push_str(" (`wrpcurl describe` lists the functions)");
        }
        message
    }

    /// The names closest to `path` by edit distance, if any is close enough to be a typo.
    fn closest(&self, path: &str) -> Vec<String> {
        closest(path, self.targets.iter().flat_map(Target::names))
    }

    /// The instances whose names (in any form) `path` starts with, followed by a dot.
    fn instances_named_in(&self, path: &str) -> Vec<String> {
        let mut instances: Vec<String> = Vec::new();
        for target in &self.targets {
            let named = target.prefixes.iter().any(|prefix| {
                path.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
            });
            if named && !instances.contains(&target.instance) {
                instances.push(target.instance.clone());
            }
        }
        instances
    }
}

/// `instance`, and without its version if it has one.
fn short_forms(instance: &str) -> Vec<String> {
    let mut forms = vec![instance.to_owned()];
    if let Some((unversioned, _)) = instance.split_once('@') {
        forms.push(unversioned.to_owned());
    }
    forms
}
