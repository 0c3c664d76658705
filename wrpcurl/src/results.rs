//! A function's results as WAVE text, as `call` prints them and `serve` shows its answers.

use provider_sdk::dynamic::wasm_wave::{self, value::Value};

use crate::error::{Error, Result};

/// The results as WAVE text: empty for none, the value for one result (named or not), the
/// tuple `(a, b)` for several. `call` prints nothing for none; `serve` shows `()`.
pub fn wave(results: &[Value]) -> Result<String> {
    let texts = results
        .iter()
        .map(wasm_wave::to_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Error::Usage(format!("cannot print a result in WAVE: {error}")))?;
    Ok(match texts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        several => format!("({})", several.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use provider_sdk::dynamic::wasm_wave::value::Type;

    use super::*;

    #[test]
    fn results_print_as_nothing_one_value_or_a_tuple() {
        let value = |text| wasm_wave::from_str::<Value>(&Type::STRING, text).unwrap();
        assert_eq!(wave(&[]).unwrap(), "");
        assert_eq!(wave(&[value("\"a\"")]).unwrap(), "\"a\"");
        assert_eq!(
            wave(&[value("\"a\""), value("\"b\"")]).unwrap(),
            "(\"a\", \"b\")"
        );
    }
}
