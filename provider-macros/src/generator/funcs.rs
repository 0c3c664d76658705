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

/// A function's Rust name: `new` for a constructor, the part after the resource for methods
/// and statics.
fn rust_name(func: &Function) -> Ident {
    match func.kind {
        FunctionKind::Constructor(_) => format_ident!("new"),
        FunctionKind::Method(_) | FunctionKind::Static(_) => {
            let name = wire_name(func);
            snake(name.split_once('.').map_or(name, |(_, method)| method))
        }
        FunctionKind::Freestanding => snake(&func.name),
    }
}

/// Rust names of a function's params: a method's `self` is `this`, and names the generated
/// code uses itself get a trailing `_`.
fn param_names(func: &Function, reserved: &[&str]) -> Vec<Ident> {
    func.params
        .iter()
        .enumerate()
        .map(|(index, (name, _))| {
            if index == 0 && matches!(func.kind, FunctionKind::Method(_)) {
                return format_ident!("this");
            }
            let ident = snake(name);
            if reserved.contains(&ident.to_string().as_str()) {
                format_ident!("{ident}_")
            } else {
                ident
            }
        })
        .collect()
}

/// Groups functions by the trait that serves them: freestanding ones in `Handler`, each
/// resource's in `<Resource>Handler`, in the order they first appear.
fn handler_traits<'f>(generator: &Generator<'_>, funcs: &[&'f Function]) -> Vec<HandlerTrait<'f>> {
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
    traits
}

impl Generator<'_> {
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
    /// clone (`&str`, `&[u8]`, `&[T]`, `&Record`), by value otherwise. The second value says
    /// whether the param is a `&[u8]`, sent through `ByteSlice`.
    fn param_ty(&self, ty: &Type, cx: Cx<'_>) -> (TokenStream, bool) {
        let owned = self.ty(ty, cx);
        match ty {
            Type::String => (quote!(&str), false),
            Type::Id(id) if !self.is_async(ty) => {
                let def = &self.resolve.types[*id];
                match (&def.name, &def.kind) {
                    (None, TypeDefKind::List(Type::U8)) => (quote!(&[u8]), true),
                    (None, TypeDefKind::List(element)) => {
                        let element = self.ty(element, cx);
                        (quote!(&[#element]), false)
                    }
                    (Some(_), kind) if !self.by_value(kind) => (quote!(&#owned), false),
                    _ => (owned, false),
                }
            }
            _ => (owned, false),
        }
    }

    /// Whether a named type is passed by value: enums and flags (`Copy`), handles, and aliases of
    /// such or of primitives.
    fn by_value(&self, kind: &TypeDefKind) -> bool {
        match kind {
            TypeDefKind::Enum(_) | TypeDefKind::Flags(_) | TypeDefKind::Handle(_) => true,
            TypeDefKind::Type(Type::Id(id)) => self.by_value(&self.resolve.types[*id].kind),
            TypeDefKind::Type(Type::String) => false,
            TypeDefKind::Type(_) => true,
            _ => false,
        }
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
            let docs = doc_attrs(&func.docs);
            let name = rust_name(func);
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
            let item = quote! {
                #docs
                #separator
                #[doc = #calls]
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
            free.extend(quote! {
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
        let traits = handler_traits(self, funcs);
        if traits.is_empty() {
            return TokenStream::new();
        }
        let mut items = TokenStream::new();
        let mut serves = Vec::new();
        for handler in &traits {
            let trait_name = &handler.name;
            let mut methods = Vec::new();
            for func in &handler.funcs {
                let docs = doc_attrs(&func.docs);
                let name = rust_name(func);
                let params = param_names(func, &["cx", "handler", "results"]);
                let types: Vec<_> = func.params.iter().map(|(_, ty)| self.ty(ty, cx)).collect();
                let (returned, _, _) = self.results(func, cx);
                methods.push(quote! {
                    #docs
                    fn #name(&self, cx: Ctx, #(#params: #types),*)
                        -> impl ::core::future::Future<Output = #returned> + ::core::marker::Send;
                });
                serves.push(self.serve_one(instance, func, trait_name, cx));
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
            items.extend(quote! {
                #[doc = #trait_docs]
                pub trait #trait_name<Ctx>: ::core::marker::Send + ::core::marker::Sync + 'static {
                    #(#methods)*
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
            /// Returns once every function is subscribed; dropping the returned handles stops
            /// serving them.
            pub async fn serve<Ctx, H>(server: &#rt::Server, handler: H)
                -> #rt::Result<::std::vec::Vec<#rt::Serving>>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                serve_shared(server, ::std::sync::Arc::new(handler)).await
            }

            /// Like [`serve`], for a handler shared with other interfaces.
            pub async fn serve_shared<Ctx, H>(server: &#rt::Server, handler: ::std::sync::Arc<H>)
                -> #rt::Result<::std::vec::Vec<#rt::Serving>>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                let mut serving = ::std::vec::Vec::new();
                #(#serves)*
                ::core::result::Result::Ok(serving)
            }
        });
        items
    }

    /// The statement of a `serve_shared` body that serves one function, pushing its handle to
    /// `serving`; `handler` is the shared handler.
    fn serve_one(
        &self,
        instance: &str,
        func: &Function,
        trait_name: &Ident,
        cx: Cx<'_>,
    ) -> TokenStream {
        let rt = &self.rt;
        let name = rust_name(func);
        let wire = wire_name(func);
        let params = param_names(func, &["cx", "handler", "results"]);
        let types: Vec<_> = func.params.iter().map(|(_, ty)| self.ty(ty, cx)).collect();
        let (_, _, to_wire) = self.results(func, cx);
        quote! {
            {
                let handler = ::std::sync::Arc::clone(&handler);
                serving.push(
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
                    let funcs: Vec<_> = interface.functions.values().collect();
                    if funcs.is_empty() {
                        continue;
                    }
                    let path: Vec<_> = self.export_paths[id]
                        .iter()
                        .map(|s| format_ident!("{s}"))
                        .collect();
                    for handler in handler_traits(self, &funcs) {
                        let name = handler.name;
                        bounds.push(quote!(#(#path::)*#name<Ctx>));
                    }
                    serves.push(quote! {
                        serving.extend(#(#path::)*serve_shared(server, ::std::sync::Arc::clone(&handler)).await?);
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
            for handler in handler_traits(self, &world_funcs) {
                let name = &handler.name;
                bounds.push(quote!(#name<Ctx>));
                for func in &handler.funcs {
                    serves.push(self.serve_one(&instance, func, name, root));
                }
            }
        }
        if serves.is_empty() {
            return TokenStream::new();
        }
        let docs = format!(
            " Serves every export of the world `{}` on `server`, with one handler for all of them.",
            world.name
        );
        quote! {
            #[doc = #docs]
            ///
            /// Returns once every function is subscribed; dropping the returned handles stops
            /// serving them.
            pub async fn serve<Ctx, H>(server: &#rt::Server, handler: H)
                -> #rt::Result<::std::vec::Vec<#rt::Serving>>
            where
                Ctx: #rt::FromInvocation,
                H: #(#bounds)+*,
            {
                let handler = ::std::sync::Arc::new(handler);
                let mut serving = ::std::vec::Vec::new();
                #(#serves)*
                ::core::result::Result::Ok(serving)
            }
        }
    }
}
