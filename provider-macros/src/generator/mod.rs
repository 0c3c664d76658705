//! The generator: a world in, Rust tokens out.
//!
//! Plain Rust over `proc_macro2` tokens, so it is tested with ordinary `#[test]`s (the snapshot
//! tests in `crate::snapshots`). The output refers to the runtime only through one path
//! (`::provider_sdk::__private` unless `provider_sdk_crate` says otherwise).
//!
//! Layout, mirroring WIT: an imported interface `ns:pkg/iface` at `ns::pkg::iface`, an exported
//! one at `exports::ns::pkg::iface`, world-level items at the root. Every interface gets its
//! types; imports get client functions, exports a `Handler<Ctx>` trait (one more per resource)
//! and `serve` functions; the root gets a `serve` for every export of the world.

mod funcs;
mod preamble;
mod types;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use wit_bindgen_core::name_package_module;
use wit_parser::{
    Docs, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem,
    WorldKey,
};

use crate::load::{Wit, interface_id};
use crate::names::{camel, module, snake};
use crate::opts::Opts;

/// One Rust module of the output.
#[derive(Default)]
struct Module {
    docs: TokenStream,
    items: TokenStream,
    children: BTreeMap<String, Module>,
}

impl Module {
    fn at(&mut self, path: &[String]) -> &mut Module {
        match path.split_first() {
            None => self,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().at(rest),
        }
    }

    fn into_tokens(self) -> TokenStream {
        let Module {
            items, children, ..
        } = self;
        let children = children.into_iter().map(|(name, module)| {
            let name = format_ident!("{name}");
            let docs = module.docs.clone();
            let body = module.into_tokens();
            quote! {
                #docs
                #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
                pub mod #name {
                    #body
                }
            }
        });
        quote! {
            #items
            #(#children)*
        }
    }
}

/// Where generated code is: the module path (from the macro's call site), and whether it is
/// export code (which refers to exported interfaces' types where the world exports them).
#[derive(Clone, Copy)]
pub(crate) struct Cx<'p> {
    path: &'p [String],
    export: bool,
}

/// Generates the code for `wit` with `opts`; errors that do not stop generation come back
/// alongside the code.
pub(crate) fn generate(wit: &Wit, opts: &Opts) -> (TokenStream, Vec<String>) {
    let preamble = preamble::preamble(&wit.resolve, wit.world, opts);
    let mut generator = Generator::new(wit, opts);
    let tokens = generator.world();
    (quote!(#preamble #tokens), generator.errors.into_inner())
}

pub(crate) struct Generator<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    files: &'a [std::path::PathBuf],
    /// The runtime path generated code names (`::provider_sdk::__private`).
    rt: TokenStream,
    derives: &'a [syn::Path],
    /// The interfaces that get functions (`None`: all).
    only: Option<HashSet<String>>,
    import_paths: HashMap<InterfaceId, Vec<String>>,
    export_paths: HashMap<InterfaceId, Vec<String>>,
    is_async: RefCell<HashMap<TypeId, bool>>,
    errors: RefCell<Vec<String>>,
    /// What is being generated, for errors (`in `ns:pkg/iface``).
    context: RefCell<String>,
}

impl<'a> Generator<'a> {
    fn new(wit: &'a Wit, opts: &'a Opts) -> Self {
        let rt = match &opts.provider_sdk_crate {
            Some(path) => quote!(#path::__private),
            None => quote!(::provider_sdk::__private),
        };
        let mut generator = Self {
            resolve: &wit.resolve,
            world: wit.world,
            files: &wit.files,
            rt,
            derives: &opts.additional_derives,
            only: opts
                .interfaces
                .as_ref()
                .map(|names| names.iter().map(syn::LitStr::value).collect()),
            import_paths: HashMap::new(),
            export_paths: HashMap::new(),
            is_async: RefCell::default(),
            errors: RefCell::default(),
            context: RefCell::default(),
        };
        let world = &wit.resolve.worlds[wit.world];
        for (key, item) in &world.imports {
            if let WorldItem::Interface { id, .. } = item {
                let path = generator.interface_path(key, *id, false);
                generator.import_paths.insert(*id, path);
            }
        }
        for (key, item) in &world.exports {
            if let WorldItem::Interface { id, .. } = item {
                let path = generator.interface_path(key, *id, true);
                generator.export_paths.insert(*id, path);
            }
        }
        generator
    }

    fn error(&self, message: String) {
        let context = self.context.borrow();
        let message = if context.is_empty() {
            message
        } else {
            format!("in {context}: {message}")
        };
        if !self.errors.borrow().contains(&message) {
            self.errors.borrow_mut().push(message);
        }
    }

    /// `[exports::]ns::pkg::iface` for a named interface, `[exports::]name` for one declared in
    /// the world.
    fn interface_path(&self, key: &WorldKey, id: InterfaceId, export: bool) -> Vec<String> {
        let mut path = Vec::new();
        if export {
            path.push("exports".to_owned());
        }
        let interface = &self.resolve.interfaces[id];
        match (key, interface.package, &interface.name) {
            (WorldKey::Interface(_), Some(package), Some(name)) => {
                let package_name = &self.resolve.packages[package].name;
                path.push(snake(&package_name.namespace).to_string());
                path.push(module(name_package_module(self.resolve, package)));
                path.push(snake(name).to_string());
            }
            (WorldKey::Name(name), ..) => path.push(snake(name).to_string()),
            _ => path.push(format!("interface{}", id.index())),
        }
        path
    }

    /// The interface whose module is at `cx`, if any (`None` at the root).
    fn interface_at(&self, cx: Cx<'_>) -> Option<InterfaceId> {
        let paths = if cx.export {
            &self.export_paths
        } else {
            &self.import_paths
        };
        paths
            .iter()
            .find(|(_, path)| path.as_slice() == cx.path)
            .map(|(id, _)| *id)
    }

    /// The wRPC instance of an interface: its id (`ns:pkg/iface@version`).
    fn instance(&self, key: &WorldKey, id: InterfaceId) -> String {
        let interface = &self.resolve.interfaces[id];
        match (key, interface.package) {
            (WorldKey::Name(name), Some(package)) => self.resolve.id_of_name(package, name),
            _ => interface_id(self.resolve, key),
        }
    }

    /// Lint allowances for an item at `cx`: modules of interfaces carry them, root items (the
    /// world's) each need their own.
    fn allow(&self, cx: Cx<'_>) -> TokenStream {
        if cx.path.is_empty() {
            quote!(#[allow(dead_code, missing_docs, clippy::all)])
        } else {
            TokenStream::new()
        }
    }

    /// Whether functions of the interface at `key` are generated.
    fn wanted(&self, key: &WorldKey) -> bool {
        match (&self.only, key) {
            (None, _) => true,
            (Some(only), WorldKey::Interface(_)) => only.contains(&interface_id(self.resolve, key)),
            (Some(only), WorldKey::Name(name)) => only.contains(name),
        }
    }

    fn world(&mut self) -> TokenStream {
        let resolve = self.resolve;
        let world = &resolve.worlds[self.world];
        let mut root = Module::default();
        let serve = self.world_serve();

        for (export, items) in [(false, &world.imports), (true, &world.exports)] {
            let mut world_types = Vec::new();
            let mut world_funcs = Vec::new();
            for (key, item) in items {
                match item {
                    WorldItem::Interface { id, .. } => self.interface(&mut root, key, *id, export),
                    WorldItem::Type(id) => world_types.push(*id),
                    WorldItem::Function(func) => world_funcs.push(func),
                }
            }
            let cx = Cx { path: &[], export };
            let mut items = TokenStream::new();
            for id in world_types {
                items.extend(self.type_def(id, cx));
            }
            if !export && !serve.is_empty() {
                // The world's `serve` takes the name; say so rather than define it twice.
                world_funcs.retain(|func| {
                    let collides = ["serve", "serve-shared"].contains(&func.name.as_str());
                    if collides {
                        self.error(format!(
                            "the world imports a function `{}`, which collides with the generated `serve` of its exports; rename the function in WIT",
                            func.name
                        ));
                    }
                    !collides
                });
            }
            if !world_funcs.is_empty() {
                let instance = match world.package {
                    Some(package) => resolve.id_of_name(package, &world.name),
                    None => world.name.clone(),
                };
                items.extend(if export {
                    self.export_funcs(&instance, &world_funcs, cx, "the world")
                } else {
                    self.import_funcs(&instance, &world_funcs, cx)
                });
            }
            root.items.extend(items);
            self.context.borrow_mut().clear();
        }
        root.items.extend(serve);

        let files = self.files.iter().map(|file| {
            let file = file.display().to_string();
            quote!(
                const _: &[u8] = include_bytes!(#file);
            )
        });
        let body = root.into_tokens();
        quote! {
            #body
            #(#files)*
        }
    }

    fn interface(&self, root: &mut Module, key: &WorldKey, id: InterfaceId, export: bool) {
        let path = if export {
            self.export_paths[&id].clone()
        } else {
            self.import_paths[&id].clone()
        };
        let cx = Cx {
            path: &path,
            export,
        };
        let interface = &self.resolve.interfaces[id];
        *self.context.borrow_mut() = format!("`{}`", interface_id(self.resolve, key));
        let mut items = TokenStream::new();
        for id in interface.types.values() {
            items.extend(self.type_def(*id, cx));
        }
        if self.wanted(key) {
            let instance = self.instance(key, id);
            let funcs: Vec<_> = interface.functions.values().collect();
            items.extend(if export {
                self.export_funcs(&instance, &funcs, cx, &format!("`{instance}`"))
            } else {
                self.import_funcs(&instance, &funcs, cx)
            });
        }
        let module = root.at(&path);
        module.docs = doc_attrs(&interface.docs);
        module.items.extend(items);
        self.context.borrow_mut().clear();
    }

    /// The path from `cx` to the named type `id`.
    fn type_path(&self, id: TypeId, cx: Cx<'_>) -> TokenStream {
        let ty = &self.resolve.types[id];
        let name = camel(ty.name.as_deref().unwrap_or("anonymous"));
        let target: &[String] = match ty.owner {
            TypeOwner::Interface(owner) => {
                let export_path = cx.export.then(|| self.export_paths.get(&owner)).flatten();
                match export_path.or_else(|| self.import_paths.get(&owner)) {
                    Some(path) => path,
                    None => &[],
                }
            }
            TypeOwner::World(_) | TypeOwner::None => &[],
        };
        if target == cx.path {
            // `self::`, so that a generic parameter (`Ctx`, `H`) cannot hide a WIT type.
            return quote!(self::#name);
        }
        let supers = cx.path.iter().map(|_| quote!(super::));
        let segments = target.iter().map(|segment| format_ident!("{segment}"));
        quote!(#(#supers)* #(#segments::)* #name)
    }

    /// The Rust type of a WIT type, owned: what decoding produces and handlers receive.
    fn ty(&self, ty: &Type, cx: Cx<'_>) -> TokenStream {
        match ty {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String => quote!(::std::string::String),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                if def.name.is_some() {
                    self.type_path(*id, cx)
                } else {
                    self.kind_ty(&def.kind, cx)
                }
            }
        }
    }

    /// The Rust type of a type definition that is not a record, variant, enum, flags or
    /// resource (those are named, and referred to by name).
    fn kind_ty(&self, kind: &TypeDefKind, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        match kind {
            TypeDefKind::Type(ty) => self.ty(ty, cx),
            TypeDefKind::Option(ty) => {
                let ty = self.ty(ty, cx);
                quote!(::core::option::Option<#ty>)
            }
            TypeDefKind::Result(result) => {
                let ok = self.opt_ty(result.ok.as_ref(), cx);
                let err = self.opt_ty(result.err.as_ref(), cx);
                quote!(::core::result::Result<#ok, #err>)
            }
            TypeDefKind::List(Type::U8) => quote!(#rt::Bytes),
            TypeDefKind::List(ty) => {
                let ty = self.ty(ty, cx);
                quote!(::std::vec::Vec<#ty>)
            }
            TypeDefKind::Tuple(tuple) => {
                if tuple.types.len() > 16 {
                    self.error(format!(
                        "a tuple of {} elements: the wire codec has tuples of at most 16; use a record",
                        tuple.types.len()
                    ));
                }
                let types = tuple.types.iter().map(|ty| self.ty(ty, cx));
                quote!((#(#types,)*))
            }
            TypeDefKind::Handle(Handle::Own(resource)) => {
                let resource = self.type_path(*resource, cx);
                quote!(#rt::ResourceOwn<#resource>)
            }
            TypeDefKind::Handle(Handle::Borrow(resource)) => {
                let resource = self.type_path(*resource, cx);
                quote!(#rt::ResourceBorrow<#resource>)
            }
            TypeDefKind::Future(ty) => {
                let ty = self.opt_ty(ty.as_ref(), cx);
                quote!(#rt::WitFuture<#ty>)
            }
            TypeDefKind::Stream(stream) => {
                if stream.end.is_some() {
                    self.error(
                        "a stream with an end type (`stream<T, E>`) has no wRPC encoding; use `stream<T>`"
                            .to_owned(),
                    );
                }
                match stream.element {
                    Some(Type::U8) => quote!(#rt::ByteStream),
                    ref element => {
                        let element = self.opt_ty(element.as_ref(), cx);
                        quote!(#rt::WitStream<#element>)
                    }
                }
            }
            kind => {
                self.error(format!("unsupported anonymous WIT type: {}", kind.as_str()));
                quote!(())
            }
        }
    }

    fn opt_ty(&self, ty: Option<&Type>, cx: Cx<'_>) -> TokenStream {
        match ty {
            Some(ty) => self.ty(ty, cx),
            None => quote!(()),
        }
    }

    /// Whether values of `ty` can hold a pending `stream` or `future`.
    fn is_async(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        if let Some(known) = self.is_async.borrow().get(id) {
            return *known;
        }
        let found = match &self.resolve.types[*id].kind {
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => true,
            TypeDefKind::Record(record) => record.fields.iter().any(|f| self.is_async(&f.ty)),
            TypeDefKind::Tuple(tuple) => tuple.types.iter().any(|ty| self.is_async(ty)),
            TypeDefKind::Variant(variant) => variant
                .cases
                .iter()
                .any(|case| case.ty.as_ref().is_some_and(|ty| self.is_async(ty))),
            TypeDefKind::Option(ty) | TypeDefKind::List(ty) | TypeDefKind::Type(ty) => {
                self.is_async(ty)
            }
            TypeDefKind::Result(result) => [&result.ok, &result.err]
                .into_iter()
                .any(|ty| ty.as_ref().is_some_and(|ty| self.is_async(ty))),
            _ => false,
        };
        self.is_async.borrow_mut().insert(*id, found);
        found
    }

    /// Whether values of `ty` are plain data that can be `Copy`: no strings, lists, handles,
    /// streams or futures.
    fn is_copy(&self, ty: &Type) -> bool {
        match ty {
            Type::String => false,
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Record(record) => record.fields.iter().all(|f| self.is_copy(&f.ty)),
                TypeDefKind::Tuple(tuple) => tuple.types.iter().all(|ty| self.is_copy(ty)),
                TypeDefKind::Variant(variant) => variant
                    .cases
                    .iter()
                    .all(|case| case.ty.as_ref().is_none_or(|ty| self.is_copy(ty))),
                TypeDefKind::Option(ty) | TypeDefKind::Type(ty) => self.is_copy(ty),
                TypeDefKind::Result(result) => [&result.ok, &result.err]
                    .into_iter()
                    .all(|ty| ty.as_ref().is_none_or(|ty| self.is_copy(ty))),
                TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => true,
                _ => false,
            },
            _ => true,
        }
    }

    /// The fewest bytes a value of `ty` takes on the wire.
    fn min_size(&self, ty: &Type) -> usize {
        match ty {
            Type::F32 => 4,
            Type::F64 => 8,
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Record(record) => {
                    record.fields.iter().map(|f| self.min_size(&f.ty)).sum()
                }
                TypeDefKind::Tuple(tuple) => tuple.types.iter().map(|ty| self.min_size(ty)).sum(),
                TypeDefKind::Flags(flags) => flags.flags.len().div_ceil(8),
                TypeDefKind::Type(ty) => self.min_size(ty),
                _ => 1,
            },
            _ => 1,
        }
    }

    /// `builtin` derives, then the additional derives, without repeats.
    fn derives(&self, builtin: &[&str]) -> TokenStream {
        let mut names: Vec<String> = builtin.iter().map(|name| (*name).to_owned()).collect();
        let mut derives: Vec<TokenStream> = builtin
            .iter()
            .map(|name| {
                let path: syn::Path = syn::parse_str(name).expect("a derive path");
                quote!(#path)
            })
            .collect();
        for path in self.derives {
            let last = path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            if !names
                .iter()
                .any(|name| name.rsplit("::").next() == Some(last.as_str()))
            {
                names.push(last);
                derives.push(quote!(#path));
            }
        }
        quote!(#[derive(#(#derives),*)])
    }
}

/// `#[doc = "..."]` for WIT doc comments.
fn doc_attrs(docs: &Docs) -> TokenStream {
    let Some(contents) = &docs.contents else {
        return TokenStream::new();
    };
    let lines = contents.lines().map(|line| {
        let line = format!(" {line}");
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}
