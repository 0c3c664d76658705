//! Results as JSON, for scripts (`wrpcurl call --json`).
//!
//! | WIT | JSON |
//! |---|---|
//! | `bool` | `true`, `false` |
//! | integers | numbers, exact (`u64` and `s64` included) |
//! | `f32`, `f64` | numbers; `"nan"`, `"inf"`, `"-inf"` as strings (JSON has none) |
//! | `char`, `string` | strings |
//! | `list<T>` (bytes and streams too), `tuple<..>` | arrays |
//! | resource handles | arrays of their bytes |
//! | `record` | an object of its fields |
//! | `variant` | `{"case": payload}`; `{"case": null}` for a case without one |
//! | `enum` | the case's name |
//! | `flags` | an array of the names of the flags set |
//! | `option<T>` | `null` for `none`, `T` for `some`; `{"some": T}` when `T` is itself an option, so that `some(none)` is not `none` |
//! | `result<T, E>` | `{"ok": T}` or `{"err": E}`; `{"ok": null}`, `{"err": null}` without a payload |
//! | `future<T>` | `T` |
//!
//! A call's results are one JSON document: its one unnamed result, an object of its named
//! results, or `null` when it has none.

use provider_sdk::dynamic::wasm_wave::value::Value;
use provider_sdk::dynamic::wasm_wave::wasm::{WasmTypeKind, WasmValue as _};
use serde_json::{Map, Number, Value as Json};

/// `value` as JSON.
pub fn to_json(value: &Value) -> Json {
    match value.kind() {
        WasmTypeKind::Bool => Json::Bool(value.unwrap_bool()),
        WasmTypeKind::S8 => Json::from(value.unwrap_s8()),
        WasmTypeKind::S16 => Json::from(value.unwrap_s16()),
        WasmTypeKind::S32 => Json::from(value.unwrap_s32()),
        WasmTypeKind::S64 => Json::from(value.unwrap_s64()),
        WasmTypeKind::U8 => Json::from(value.unwrap_u8()),
        WasmTypeKind::U16 => Json::from(value.unwrap_u16()),
        WasmTypeKind::U32 => Json::from(value.unwrap_u32()),
        WasmTypeKind::U64 => Json::from(value.unwrap_u64()),
        // Through the shortest text that reads back as the f32: 0.1f32 is 0.1, not
        // 0.10000000149011612.
        WasmTypeKind::Float32 => {
            let float = value.unwrap_float32();
            float_json(float.to_string().parse().unwrap_or(f64::from(float)))
        }
        WasmTypeKind::Float64 => float_json(value.unwrap_float64()),
        WasmTypeKind::Char => Json::String(value.unwrap_char().to_string()),
        WasmTypeKind::String => Json::String(value.unwrap_string().into_owned()),
        WasmTypeKind::List => Json::Array(value.unwrap_list().map(|v| to_json(&v)).collect()),
        WasmTypeKind::Tuple => Json::Array(value.unwrap_tuple().map(|v| to_json(&v)).collect()),
        WasmTypeKind::Record => Json::Object(
            value
                .unwrap_record()
                .map(|(name, v)| (name.into_owned(), to_json(&v)))
                .collect(),
        ),
        WasmTypeKind::Variant => {
            let (case, payload) = value.unwrap_variant();
            tagged(&case, payload.as_deref())
        }
        WasmTypeKind::Enum => Json::String(value.unwrap_enum().into_owned()),
        WasmTypeKind::Flags => Json::Array(
            value
                .unwrap_flags()
                .map(|flag| Json::String(flag.into_owned()))
                .collect(),
        ),
        WasmTypeKind::Option => match value.unwrap_option() {
            None => Json::Null,
            Some(some) if some.kind() == WasmTypeKind::Option => tagged("some", Some(&some)),
            Some(some) => to_json(&some),
        },
        WasmTypeKind::Result => match value.unwrap_result() {
            Ok(ok) => tagged("ok", ok.as_deref()),
            Err(err) => tagged("err", err.as_deref()),
        },
        // The dynamic codec makes no other values.
        _ => Json::Null,
    }
}

/// The results of a call as one JSON document: see the module docs.
pub fn results_to_json(names: &[&str], values: &[Value]) -> Json {
    match (names, values) {
        (_, []) => Json::Null,
        ([""], [one]) => to_json(one),
        _ => Json::Object(
            names
                .iter()
                .zip(values)
                .map(|(name, value)| ((*name).to_owned(), to_json(value)))
                .collect(),
        ),
    }
}

fn tagged(tag: &str, payload: Option<&Value>) -> Json {
    let mut object = Map::new();
    object.insert(tag.to_owned(), payload.map_or(Json::Null, to_json));
    Json::Object(object)
}

fn float_json(float: f64) -> Json {
    match Number::from_f64(float) {
        Some(number) => Json::Number(number),
        None if float.is_nan() => Json::String("nan".to_owned()),
        None if float > 0.0 => Json::String("inf".to_owned()),
        None => Json::String("-inf".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use provider_sdk::dynamic::wasm_wave;
    use provider_sdk::dynamic::wasm_wave::value::Type;
    use serde_json::json;

    use super::*;

    fn json_of(ty: &Type, wave: &str) -> Json {
        to_json(&wasm_wave::from_str::<Value>(ty, wave).unwrap())
    }

    #[test]
    fn scalars_are_json_scalars_and_exact() {
        assert_eq!(json_of(&Type::U64, "18446744073709551615"), json!(u64::MAX));
        assert_eq!(json_of(&Type::S64, "-9223372036854775808"), json!(i64::MIN));
        assert_eq!(json_of(&Type::FLOAT32, "0.1"), json!(0.1));
        assert_eq!(json_of(&Type::FLOAT64, "nan"), json!("nan"));
        assert_eq!(json_of(&Type::FLOAT64, "-inf"), json!("-inf"));
        assert_eq!(json_of(&Type::CHAR, "'ß'"), json!("ß"));
        assert_eq!(json_of(&Type::BOOL, "true"), json!(true));
    }

    #[test]
    fn options_and_results_keep_their_shape() {
        let bytes = Type::list(Type::U8);
        let get = Type::result(
            Some(Type::option(bytes.clone())),
            Some(Type::enum_ty(["no-such-store", "other"]).unwrap()),
        );
        assert_eq!(
            json_of(&get, "ok(some([104, 105]))"),
            json!({"ok": [104, 105]})
        );
        assert_eq!(json_of(&get, "ok(none)"), json!({"ok": null}));
        assert_eq!(json_of(&get, "err(other)"), json!({"err": "other"}));
        let nested = Type::option(Type::option(Type::U8));
        assert_eq!(json_of(&nested, "some(none)"), json!({"some": null}));
        assert_eq!(json_of(&nested, "some(some(1))"), json!({"some": 1}));
        assert_eq!(json_of(&nested, "none"), json!(null));
        assert_eq!(
            json_of(&Type::result(None, None), "ok"),
            json!({"ok": null})
        );
    }

    #[test]
    fn records_variants_and_flags_are_named() {
        let point = Type::record([("x", Type::S32), ("y", Type::S32)]).unwrap();
        assert_eq!(json_of(&point, "{x: 1, y: -2}"), json!({"x": 1, "y": -2}));
        let shape = Type::variant([("circle", Some(Type::FLOAT64)), ("none", None)]).unwrap();
        assert_eq!(json_of(&shape, "circle(0.5)"), json!({"circle": 0.5}));
        assert_eq!(json_of(&shape, "%none"), json!({"none": null}));
        let perms = Type::flags(["read", "write", "exec"]).unwrap();
        assert_eq!(json_of(&perms, "{read, exec}"), json!(["read", "exec"]));
        let pair = Type::tuple([Type::U8, Type::STRING]).unwrap();
        assert_eq!(json_of(&pair, "(1, \"one\")"), json!([1, "one"]));
    }

    #[test]
    fn results_are_one_document() {
        let one = wasm_wave::from_str::<Value>(&Type::U8, "1").unwrap();
        let two = wasm_wave::from_str::<Value>(&Type::STRING, "\"b\"").unwrap();
        assert_eq!(results_to_json(&[], &[]), json!(null));
        assert_eq!(results_to_json(&[""], std::slice::from_ref(&one)), json!(1));
        assert_eq!(
            results_to_json(&["a-out", "b-out"], &[one, two]),
            json!({"a-out": 1, "b-out": "b"})
        );
    }
}
