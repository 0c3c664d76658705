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
/// provider_sdk::generate!({
///     world: "provider",            // the world; optional if the package has one
///     path: "wit",                  // WIT directory or file, from the crate root (default)
///     // inline: "package a:b; ...", // or the WIT itself
///     additional_derives: [serde::Serialize],
///     interfaces: ["wasi:keyvalue/store@0.2.0-draft"], // only these get functions
///     provider_sdk_crate: ::provider_sdk,              // where the runtime is
/// });
/// ```
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
    let span = opts.span.unwrap_or_else(Span::call_site);
    let errors = errors
        .iter()
        .map(|error| syn::Error::new(span, error).to_compile_error());
    quote!(#tokens #(#errors)*).into()
}
