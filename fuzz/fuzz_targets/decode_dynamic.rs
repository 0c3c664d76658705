//! Decodes arbitrary bytes with the dynamic codec as the params or results of any function of
//! the round-trip fixture (every WIT type). Decoding must never panic or allocate beyond what
//! the input backs, and whatever decodes must encode and decode again to the same value.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use provider_sdk::dynamic::wit_parser::Resolve;
use provider_sdk::dynamic::{FunctionType, wasm_wave};
use provider_sdk::wire::{Bytes, Reader};

const FIXTURE: &str = include_str!("../../provider-sdk/tests/roundtrip/wit/roundtrip.wit");

/// Every function of the fixture, mapped once.
fn functions() -> &'static [FunctionType] {
    static FUNCTIONS: OnceLock<Vec<FunctionType>> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        let mut resolve = Resolve::new();
        resolve.push_str("roundtrip.wit", FIXTURE).expect("the fixture parses");
        let mut functions = Vec::new();
        for (_, interface) in resolve.interfaces.iter() {
            for function in interface.functions.values() {
                functions.push(FunctionType::from_wit(&resolve, function).expect("maps"));
            }
        }
        functions
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let functions = functions();
    let f = &functions[usize::from(selector >> 1) % functions.len()];
    let results = selector & 1 == 1;
    let bytes = Bytes::copy_from_slice(rest);
    let mut r = Reader::new(&bytes);
    let decoded = if results { f.decode_results(&mut r) } else { f.decode_params(&mut r) };
    let Ok(values) = decoded else { return };
    // Streams are always sent pending: there is no plain buffer to compare them in.
    let encoded = if results { f.results_to_bytes(&values) } else { f.params_to_bytes(&values) };
    let Ok(encoded) = encoded else { return };
    let mut again = Reader::new(&encoded);
    let again = if results { f.decode_results(&mut again) } else { f.decode_params(&mut again) }
        .expect("an encoded value decodes");
    let text = |values: &[_]| -> Vec<String> {
        values.iter().map(|v| wasm_wave::to_string(v).expect("prints")).collect()
    };
    assert_eq!(text(&values), text(&again));
});
