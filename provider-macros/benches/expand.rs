//! Expansion time of `generate!` for the 102-function round-trip fixture, against
//! `wit-bindgen-wrpc 0.11`'s generator on the same world in the same run.
//!
//! ```text
//! cargo bench -p provider-macros --bench expand
//! ```
//!
//! A proc-macro crate exports only its macros, so the generator's modules are compiled into
//! this benchmark directly.

// The included modules carry their unit tests, which this harness-less target does not run.
#![allow(dead_code, unused_imports)]

#[path = "../src/generator/mod.rs"]
mod generator;
#[path = "../src/load.rs"]
mod load;
#[path = "../src/names.rs"]
mod names;
#[path = "../src/opts.rs"]
mod opts;

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

const FIXTURE: &str = "../provider-sdk/tests/roundtrip/wit";

fn load_fixture() -> (opts::Opts, load::Wit) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let opts: opts::Opts = syn::parse_str(&format!("{{ path: {FIXTURE:?} }}")).expect("options");
    let wit = load::load(&opts, root).expect("the fixture loads");
    (opts, wit)
}

fn expand(c: &mut Criterion) {
    let (opts, wit) = load_fixture();
    let mut group = c.benchmark_group("expand/roundtrip-fixture");
    // What the macro does per invocation: read the WIT, generate, and hand over the tokens as
    // text (proc_macro2 to proc_macro, which rustc then parses).
    group.bench_function("provider-macros", |b| {
        b.iter(|| {
            let (opts, wit) = load_fixture();
            let (tokens, errors) = generator::generate(&wit, &opts);
            assert!(errors.is_empty());
            black_box(tokens.to_string())
        })
    });
    // The peer generates text, which its macro then parses into tokens: both are counted.
    group.bench_function("wit-bindgen-wrpc-rust", |b| {
        b.iter(|| {
            let (_, wit) = load_fixture();
            let mut files = wit_bindgen_core::Files::default();
            let mut generator = wit_bindgen_wrpc_rust::Opts::default().build();
            generator
                .generate(&wit.resolve, wit.world, &mut files)
                .expect("the peer generates");
            let tokens: Vec<proc_macro2::TokenStream> = files
                .iter()
                .map(|(_, contents)| {
                    std::str::from_utf8(contents)
                        .expect("UTF-8")
                        .parse()
                        .expect("the peer's output parses")
                })
                .collect();
            black_box(tokens)
        })
    });
    // Generation alone, without reading the WIT.
    group.bench_function("provider-macros/generate-only", |b| {
        b.iter(|| {
            let (tokens, _) = generator::generate(&wit, &opts);
            black_box(tokens)
        })
    });
    group.finish();
}

criterion_group!(benches, expand);
criterion_main!(benches);
