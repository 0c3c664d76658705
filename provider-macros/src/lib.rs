//! The `generate!` macro of `provider-sdk`: typed wRPC bindings from WIT.
//!
//! Depend on `provider-sdk`, which re-exports this macro as `provider_sdk::generate!`, and read
//! its documentation there. This crate is only the entry point: options are parsed in [`opts`],
//! the WIT is read in [`load`], and [`generator`] turns it into tokens.

mod generator;
mod load;
mod names;
mod opts;
#[cfg(test)]
mod snapshots;

use std::path::PathBuf;

use proc_macro2::Span;
use quote::quote;

use crate::opts::Opts;

/// Generates Rust bindings for a WIT world: its types with their wRPC encoding, a
/// `Handler<Ctx>` trait and `serve` functions for every export, client functions for every
/// import.
///
/// ```ignore
/// mod bindings {
///     provider_sdk::generate!({
///         world: "provider",            // the world; optional if the package has one
///         path: "wit",                  // WIT directory or file, from the crate root (default)
///         // inline: "package a:b; ...", // or the WIT itself, instead of `path`
///         additional_derives: [serde::Serialize, serde::Deserialize],
///         interfaces: ["wasi:keyvalue/store@0.2.0-draft"], // only these get functions
///         provider_sdk_crate: ::provider_sdk,              // where the runtime is
///         features: ["clocks-timezone"], // WIT features to turn on (`@unstable(feature = ..)`)
///         // all_features: true,         // or turn every feature on
///     });
/// }
/// ```
///
/// # Options
///
/// Every option is optional; an unknown or repeated one is an error at its token.
///
/// - `world: "name"` — the world to generate: `"name"` in the root package, or
///   `"ns:pkg/name@version"` in any package, deps included. Needed only if the root package
///   has several worlds.
/// - `path: "wit"` — the WIT directory (with its `deps/`) or file, relative to the crate root.
/// - `inline: "package a:b; ..."` — the WIT itself, instead of `path`.
/// - `additional_derives: [Eq, serde::Serialize]` — derives added to every record, variant,
///   enum and flags type.
/// - `interfaces: ["ns:pkg/iface@version"]` — only these interfaces get functions (client
///   functions or handler traits); types are generated for all.
/// - `provider_sdk_crate: ::provider_sdk` — the path of the runtime crate, if it is renamed or
///   re-exported.
/// - `features: ["name", ...]` — WIT features to turn on. WIT items marked
///   `@unstable(feature = name)` are left out unless their feature is on, as in wasmtime's
///   `bindgen!`; a WIT that refers to such an item (wasmtime 38's `wasi:http@0.2.6` tree needs
///   `informational-outbound-responses`) fails to load with a message naming the feature.
/// - `all_features: true` — turn every WIT feature on.
///
/// The expansion opens with `pub const GENERATED_BY: &str` (`"provider-macros <version>"`),
/// whose documentation names the world and every option in effect.
///
/// # What it generates
///
/// Modules mirror WIT: an imported interface `ns:pkg/iface` at `ns::pkg::iface`, an exported
/// one at `exports::ns::pkg::iface`, world-level items where the macro is invoked. Names are
/// `snake_case` for functions, fields and modules, `UpperCamelCase` for types and cases;
/// Rust keywords get a trailing `_` (`type_`). WIT doc comments become doc comments.
///
/// - **Types.** Records are structs, variants and enums are enums, flags are `bitflags`
///   types; `list<u8>` is `Bytes`, `stream<u8>` is `ByteStream`, `stream<T>` is
///   `WitStream<T>`, `future<T>` is `WitFuture<T>`, `own<R>`/`borrow<R>` are
///   `ResourceOwn<R>`/`ResourceBorrow<R>`, and a resource `R` is a marker type. Every type
///   implements `Encode` and `Decode`; those without streams or futures are `Clone` and
///   `PartialEq` too, are encoded by reference as well (`&T: Encode`), and are `Copy` if they
///   hold plain data only (no strings, lists or handles).
/// - **Exports.** A `Handler<Ctx>` trait per interface, whose `async fn`s take the WIT params
///   and return the WIT result (a failing WIT function returns its `result<T, E>`), and a
///   `<Resource>Handler<Ctx>` trait per resource (constructor `new`, methods taking
///   `this: ResourceBorrow<R>`, statics). `serve(server, handler)` subscribes every function of
///   the interface; `serve_shared` does the same with an `Arc`'d handler; the root `serve`
///   serves every export of the world with one handler. `Ctx` is made from each invocation by
///   [`FromInvocation`](https://docs.rs/provider-sdk) (`InvocationContext` or `()`).
/// - **Imports.** An `async fn` per function taking the `Client` first, then the params
///   (borrowed where that saves a clone: `&str`, `&[u8]`, `&[T]`, `&Record`; by value if
///   `Copy`, as plain-data records and variants are), returning
///   `Result<T, provider_sdk::Error>`; resource methods are associated functions of the
///   resource type.
///
/// Editing a WIT file rebuilds the crate. Errors point at the option or WIT that caused them
/// and say what to do.
#[proc_macro]
pub fn generate(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let opts = match syn::parse::<Opts>(input) {
        Ok(opts) => opts,
        Err(error) => return error.to_compile_error().into(),
    };
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let wit = match load::load(&opts, &root) {
        Ok(wit) => wit,
        Err(error) => return error.to_compile_error().into(),
    };
    let (tokens, errors) = generator::generate(&wit, &opts);
    // Errors that did not stop generation come with the code, so that the rest of the crate
    // (and an IDE) still sees the bindings.
    // Point at the WIT the errors are about, if the invocation names it.
    let span = (opts.inline.as_ref().or(opts.path.as_ref()))
        .map(syn::LitStr::span)
        .or(opts.span)
        .unwrap_or_else(Span::call_site);
    let errors = errors
        .iter()
        .map(|error| syn::Error::new(span, error).to_compile_error());
    quote!(#tokens #(#errors)*).into()
}
