//! Functions: client functions for imports, handler traits and `serve` for exports.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, Results, Type, TypeDefKind, TypeId, WorldItem};

use super::{Cx, Generator, doc_attrs};
use crate::names::{camel, snake};

/// The functions of one handler trait: the interface's own, or one resource's.
struct HandlerTrait<'f> {
    name: Ident,
    resource: Option<TypeId>,
    funcs: Vec<&'f Function>,
}

/// A function's name on the wire: its WIT name without `[method]`, `[static]` or
/// `[constructor]` (`counter.increment`, `counter`).
fn wire_name(func: &Function) -> &str {
    match func.name.split_once(']') {
        Some((_, rest)) if func.name.starts_with('[') => rest,
        _ => &func.name,
    }
}

/// A function's Rust name: the part after the resource for methods and statics; `new` for a
/// constructor, or `constructor` if the resource has a method or static named `new`.
fn rust_name(func: &Function, siblings: &[&Function]) -> Ident {
    let item = |func: &Function| {
        let name = wire_name(func);
        snake(name.split_once('.').map_or(name, |(_, method)| method))
    };
    match func.kind {
        FunctionKind::Constructor(resource) => {
            let taken = siblings.iter().any(|other| {
                matches!(other.kind, FunctionKind::Method(r) | FunctionKind::Static(r) if r == resource)
                    && item(other) == "new"
            });
            if taken {
                format_ident!("constructor")
            } else {
                format_ident!("new")
            }
        }
        FunctionKind::Method(_) | FunctionKind::Static(_) => item(func),
        FunctionKind::Freestanding => snake(&func.name),
    }
}

/// Rust names of a function's params: a method's `self` is `this`, and names the generated
/// code uses itself (and `this`, in methods) get a trailing `_`.
fn param_names(func: &Function, reserved: &[&str]) -> Vec<Ident> {
    let method = matches!(func.kind, FunctionKind::Method(_));
    func.params
        .iter()
        .enumerate()
        .map(|(index, (name, _))| {
            if index == 0 && method {
                return format_ident!("this");
            }
            let ident = snake(name);
            let text = ident.to_string();
            if reserved.contains(&text.as_str()) || (method && text == "this") {
                format_ident!("{ident}_")
            } else {
                ident
            }
        })
        .collect()
}

/// wRPC carries params and results as a tuple, which peers implement up to 16 elements.
const MAX_TUPLE: usize = 16;

/// Groups functions by the trait that serves them: freestanding ones in `Handler`, each
/// resource's in `<Resource>Handler`, in the order they first appear. A trait name that a WIT
/// type of the same module already has gets a trailing `_` (and an error says so).
fn handler_traits<'f>(
    generator: &Generator<'_>,
    funcs: &[&'f Function],
    taken: &[String],
    report: bool,
) -> Vec<HandlerTrait<'f>> {
    let mut traits: Vec<HandlerTrait<'f>> = Vec::new();
    for func in funcs {
        let resource = func.kind.resource();
        let position = traits.iter().position(|t| t.resource == resource);
        match position {
            Some(position) => traits[position].funcs.push(func),
            None => {
                let name = match resource {
                    Some(resource) => {
                        let resource_name = generator.resolve.types[resource].name.as_deref();
                        format_ident!("{}Handler", camel(resource_name.unwrap_or("resource")))
                    }
                    None => format_ident!("Handler"),
                };
                traits.push(HandlerTrait {
                    name,
                    resource,
                    funcs: vec![func],
                });
            }
        }
    }
    // `Handler` first.
    traits.sort_by_key(|t| t.resource.is_some());
    for handler in &mut traits {
        let name = handler.name.to_string();
        if taken.contains(&name) {
            if report {
                generator.error(format!(
                    "a WIT type becomes `{name}`, the name of a generated handler trait; rename the type in WIT"
                ));
            }
            handler.name = format_ident!("{name}_");
        }
    }
    traits
}

impl Generator<'_> {
    /// Whether a function's params and results fit wRPC's tuples; if not, an error says so and
    /// the function is left out.
    fn fits(&self, func: &Function, report: bool) -> bool {
        let results = match &func.results {
            Results::Anon(_) => 1,
            Results::Named(params) => params.len(),
        };
        let (what, count) = if func.params.len() > MAX_TUPLE {
            ("params", func.params.len())
        } else if results > MAX_TUPLE {
            ("results", results)
        } else {
            return true;
        };
        if report {
            self.error(format!(
                "`{}` has {count} {what}; wRPC carries them as a tuple of at most {MAX_TUPLE}: group them in a record",
                func.name
            ));
        }
        false
    }

    /// The Rust names of the WIT types defined in the module at `cx`.
    fn type_names(&self, cx: Cx<'_>) -> Vec<String> {
        let ids: Vec<TypeId> = match self.interface_at(cx) {
            Some(interface) => self.resolve.interfaces[interface]
                .types
                .values()
                .copied()
                .collect(),
            None => self.resolve.worlds[self.world]
                .imports
                .values()
                .chain(self.resolve.worlds[self.world].exports.values())
                .filter_map(|item| match item {
                    WorldItem::Type(id) => Some(*id),
                    _ => None,
                })
                .collect(),
        };
        ids.iter()
            .filter_map(|id| self.resolve.types[*id].name.as_deref())
            .map(|name| camel(name).to_string())
            .collect()
    }

    /// A function's results: as a handler returns them, as they travel (always a tuple), and
    /// how to turn the former into the latter.
    fn results(&self, func: &Function, cx: Cx<'_>) -> (TokenStream, TokenStream, TokenStream) {
        let types: Vec<_> = match &func.results {
            Results::Anon(ty) => vec![self.ty(ty, cx)],
            Results::Named(params) => params.iter().map(|(_, ty)| self.ty(ty, cx)).collect(),
        };
        match (&func.results, types.as_slice()) {
            (_, []) => (quote!(()), quote!(()), quote!(())),
            (Results::Anon(_), [ty]) => (quote!(#ty), quote!((#ty,)), quote!((results,))),
            (_, types) => (
                quote!((#(#types,)*)),
                quote!((#(#types,)*)),
                quote!(results),
            ),
        }
    }

    /// A param type as a client function takes it: borrowed where that saves the caller a
    /// clone (`&str`, `&[u8]`, `&[T]`, `&Record`), by value otherwise (`Copy` types, handles,
    /// and types with async parts, which are consumed). The second value says
    /// whether the param is a `&[u8]`, sent through `ByteSlice`.
    fn param_ty(&self, ty: &Type, cx: Cx<'_>) -> (TokenStream, bool) {
        let owned = self.ty(ty, cx);
        // Through aliases to what they stand for: `type name = string` is taken as `&str`.
        let mut ty = ty;
        while let Type::Id(id) = ty {
            match &self.resolve.types[*id].kind {
                TypeDefKind::Type(target) => ty = target,
                _ => break,
            }
        }
        match ty {
            Type::String => (quote!(&str), false),
            Type::Id(id) if !self.is_async(ty) => {
                let def = &self.resolve.types[*id];
                match (&def.name, &def.kind) {
                    (_, TypeDefKind::List(Type::U8)) => (quote!(&[u8]), true),
                    (None, TypeDefKind::List(element)) => {
                        let element = self.ty(element, cx);
                        (quote!(&[#element]), false)
                    }
                    (Some(_), _) if !self.by_value(ty) => (quote!(&#owned), false),
                    _ => (owned, false),
                }
            }
            _ => (owned, false),
        }
    }

    /// Whether a named type is passed by value: if it is `Copy` (enums, flags, and records,
    /// variants, tuples, options and results of plain data), or a handle.
    fn by_value(&self, ty: &Type) -> bool {
        self.is_copy(ty)
            || matches!(ty, Type::Id(id) if matches!(self.resolve.types[*id].kind, TypeDefKind::Handle(_)))
    }

    /// Client functions for imported functions.
    pub(super) fn import_funcs(
        &self,
        instance: &str,
        funcs: &[&Function],
        cx: Cx<'_>,
    ) -> TokenStream {
        let rt = &self.rt;
        let mut free = TokenStream::new();
        let mut methods: Vec<(TypeId, TokenStream)> = Vec::new();
        for func in funcs {
            if !self.fits(func, true) {
                continue;
            }
            let docs = doc_attrs(&func.docs);
            let name = rust_name(func, funcs);
            let wire = wire_name(func);
            let params = param_names(func, &["client", "results"]);
            let mut types = Vec::new();
            let mut values = Vec::new();
            for (param, (_, ty)) in params.iter().zip(&func.params) {
                let (ty, byte_slice) = self.param_ty(ty, cx);
                types.push(ty);
                values.push(if byte_slice {
                    quote!(#rt::ByteSlice(#param))
                } else {
                    quote!(#param)
                });
            }
            let (returned, wire_results, _) = self.results(func, cx);
            let call = quote!(client.invoke(#instance, #wire, (#(#values,)*)).await?);
            let body = match &func.results {
                Results::Anon(_) => quote! {
                    let results: #wire_results = #call;
                    ::core::result::Result::Ok(results.0)
                },
                Results::Named(params) if params.is_empty() => quote! {
                    let (): () = #call;
                    ::core::result::Result::Ok(())
                },
                Results::Named(_) => quote! {
                    let results: #wire_results = #call;
                    ::core::result::Result::Ok(results)
                },
            };
            let calls = format!(" Calls `{}` of `{instance}` through `client`.", func.name);
            let separator = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
            let allow = self.allow(cx);
            let item = quote! {
                #docs
                #separator
                #[doc = #calls]
                #allow
                pub async fn #name(client: &#rt::Client, #(#params: #types),*) -> #rt::Result<#returned> {
                    #body
                }
            };
            match func.kind.resource() {
                Some(resource) => match methods.iter_mut().find(|(id, _)| *id == resource) {
                    Some((_, items)) => items.extend(item),
                    None => methods.push((resource, item)),
                },
                None => free.extend(item),
            }
        }
        for (resource, items) in methods {
            let resource = self.type_path(resource, cx);
            let allow = self.allow(cx);
            free.extend(quote! {
                #allow
                impl #resource {
                    #items
                }
            });
        }
        free
    }

    /// Handler traits and `serve` functions for exported functions. `what` names them in docs.
    pub(super) fn export_funcs(
        &self,
        instance: &str,
        funcs: &[&Function],
        cx: Cx<'_>,
        what: &str,
    ) -> TokenStream {
        let rt = &self.rt;
        let funcs: Vec<&Function> = funcs
            .iter()
            .copied()
            .filter(|func| self.fits(func, true))
            .collect();
        let traits = handler_traits(self, &funcs, &self.type_names(cx), true);
        if traits.is_empty() {
            return TokenStream::new();
        }
        let mut items = TokenStream::new();
        let mut serves = Vec::new();
        for handler in &traits {
            let trait_name = &handler.name;
            let mut methods = Vec::new();
            let mut forwards = Vec::new();
            for func in &handler.funcs {
                let docs = doc_attrs(&func.docs);
                let name = rust_name(func, &funcs);
                let params = param_names(func, &["cx", "handler", "results"]);
                let types: Vec<_> = func.params.iter().map(|(_, ty)| self.ty(ty, cx)).collect();
                let (returned, _, _) = self.results(func, cx);
                methods.push(quote! {
                    #docs
                    fn #name(&self, cx: Ctx, #(#params: #types),*)
                        -> impl ::core::future::Future<Output = #returned> + ::core::marker::Send;
                });
                forwards.push(quote! {
                    fn #name(&self, cx: Ctx, #(#params: #types),*)
                        -> impl ::core::future::Future<Output = #returned> + ::core::marker::Send
                    {
                        <H as #trait_name<Ctx>>::#name(&**self, cx, #(#params),*)
                    }
                });
                serves.push(self.serve_one(instance, func, &name, trait_name, cx));
            }
            let trait_docs = match handler.resource {
                Some(resource) => {
                    let resource = self.resolve.types[resource]
                        .name
                        .as_deref()
                        .unwrap_or_default();
                    format!(
                        " Serves the resource `{resource}` of {what}: its constructor, methods and static functions."
                    )
                }
                None => format!(" Serves the functions of {what}."),
            };
            let allow = self.allow(cx);
            items.extend(quote! {
                #[doc = #trait_docs]
                #allow
                pub trait #trait_name<Ctx>: ::core::marker::Send + ::core::marker::Sync + 'static {
                    #(#methods)*
                }

                /// A shared handler serves as the handler it shares.
                #allow
                impl<Ctx, H: #trait_name<Ctx>> #trait_name<Ctx> for ::std::sync::Arc<H> {
                    #(#forwards)*
                }
            });
        }
        // The world's own exports are served by the world's `serve`.
        if cx.path.is_empty() {
            return items;
        }
        let bounds: Vec<_> = traits
            .iter()
            .map(|t| {
                let name = &t.name;
                quote!(#name<Ctx>)
            })
            .collect();
        let serve_docs = format!(
            " Serves every function of {what} on `server`, handing each invocation to `handler`."
        );
        items.extend(quote! {
            #[doc = #serve_docs]
            ///
            /// Returns once every function is subscribed; dropping the returned handle stops
            /// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
            /// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
            pub async fn serve<Ctx, H>(server: &#rt::Server, handler: H) -> #rt::Result<#rt::Serving>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                serve_shared(server, ::std::sync::Arc::new(handler)).await
            }

            /// Like [`serve`], for a handler shared with other interfaces.
            pub async fn serve_shared<Ctx, H>(
                server: &#rt::Server,
                handler: ::std::sync::Arc<H>,
            ) -> #rt::Result<#rt::Serving>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                let mut serving = #rt::Serving::default();
                #(#serves)*
                ::core::result::Result::Ok(serving)
            }
        });
        items
    }

    /// The statement of a `serve_shared` body that serves one function (the trait method
    /// `trait_name::name`), merging its handle into `serving`; `handler` is the shared handler.
    fn serve_one(
        &self,
        instance: &str,
        func: &Function,
        name: &Ident,
        trait_name: &Ident,
        cx: Cx<'_>,
    ) -> TokenStream {
        let rt = &self.rt;
        let wire = wire_name(func);
        let params = param_names(func, &["cx", "handler", "results"]);
        let types: Vec<_> = func.params.iter().map(|(_, ty)| self.ty(ty, cx)).collect();
        let (_, _, to_wire) = self.results(func, cx);
        quote! {
            {
                let handler = ::std::sync::Arc::clone(&handler);
                serving.merge(
                    server
                        .serve_fn(
                            #instance,
                            #wire,
                            move |cx: #rt::InvocationContext, (#(#params,)*): (#(#types,)*)| {
                                let handler = ::std::sync::Arc::clone(&handler);
                                async move {
                                    let cx = <Ctx as #rt::FromInvocation>::from_invocation(cx);
                                    let results = #trait_name::#name(&*handler, cx, #(#params),*).await;
                                    #to_wire
                                }
                            },
                        )
                        .await?,
                );
            }
        }
    }

    /// `serve` for the whole world: every exported interface, and the world's own exports.
    pub(super) fn world_serve(&self) -> TokenStream {
        let rt = &self.rt;
        let world = &self.resolve.worlds[self.world];
        let root = Cx {
            path: &[],
            export: true,
        };
        let mut bounds = Vec::new();
        let mut serves = Vec::new();
        let mut world_funcs = Vec::new();
        for (key, item) in &world.exports {
            match item {
                WorldItem::Interface { id, .. } if self.wanted(key) => {
                    let interface = &self.resolve.interfaces[*id];
                    let funcs: Vec<_> = interface
                        .functions
                        .values()
                        .filter(|func| self.fits(func, false))
                        .collect();
                    if funcs.is_empty() {
                        continue;
                    }
                    let path: Vec<_> = self.export_paths[id]
                        .iter()
                        .map(|s| format_ident!("{s}"))
                        .collect();
                    let exports = Cx {
                        path: &self.export_paths[id],
                        export: true,
                    };
                    let taken = self.type_names(exports);
                    for handler in handler_traits(self, &funcs, &taken, false) {
                        let name = handler.name;
                        bounds.push(quote!(#(#path::)*#name<Ctx>));
                    }
                    serves.push(quote! {
                        serving.merge(#(#path::)*serve_shared(server, ::std::sync::Arc::clone(&handler)).await?);
                    });
                }
                WorldItem::Function(func) => world_funcs.push(func),
                _ => {}
            }
        }
        if !world_funcs.is_empty() {
            let instance = match world.package {
                Some(package) => self.resolve.id_of_name(package, &world.name),
                None => world.name.clone(),
            };
            let world_funcs: Vec<_> = world_funcs
                .into_iter()
                .filter(|func| self.fits(func, false))
                .collect();
            for handler in handler_traits(self, &world_funcs, &self.type_names(root), false) {
                let name = &handler.name;
                bounds.push(quote!(#name<Ctx>));
                for func in &handler.funcs {
                    let rust = rust_name(func, &world_funcs);
                    serves.push(self.serve_one(&instance, func, &rust, name, root));
                }
            }
        }
        if serves.is_empty() {
            return TokenStream::new();
        }
        let allow = self.allow(root);
        let docs = format!(
            " Serves every export of the world `{}` on `server`, with one handler for all of them.",
            world.name
        );
        quote! {
            #[doc = #docs]
            ///
            /// Returns once every function is subscribed; dropping the returned handle stops
            /// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
            /// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
            #allow
            pub async fn serve<Ctx, H>(server: &#rt::Server, handler: H) -> #rt::Result<#rt::Serving>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                let handler = ::std::sync::Arc::new(handler);
                let mut serving = #rt::Serving::default();
                #(#serves)*
                ::core::result::Result::Ok(serving)
            }
        }
    }
}
