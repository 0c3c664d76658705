//! The dynamic codec against the static one, on every type of the round-trip fixture
//! (`tests/roundtrip/wit`):
//!
//! - property tests: for every function, WAVE values of its params and results encode to the
//!   bytes `generate!`'s types encode the same values to, and decode back from them; arbitrary
//!   bytes decode (or fail) alike in both;
//! - byte-exact vectors and WAVE text for a few types; hostile input gives errors, not panics;
//! - calls of the fixture's functions with `Client::invoke_dynamic` against the generated server
//!   in process, streams and futures both ways.

#[macro_use]
#[path = "roundtrip/logic.rs"]
#[allow(dead_code)]
mod logic;
#[path = "roundtrip/ours.rs"]
#[allow(dead_code)]
mod ours;

/// Our bindings of the fixture: the static codec to compare with.
#[allow(dead_code)]
mod bindings_ours {
    provider_sdk::generate!({ path: "tests/roundtrip/wit" });
}

use bytes::Bytes;
use proptest::prelude::*;
use proptest::strategy::Union;
use provider_sdk::Error;
use provider_sdk::dynamic::wasm_wave::value::{Type as WaveType, Value};
use provider_sdk::dynamic::wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue};
use provider_sdk::dynamic::wit_parser::{Resolve, Type};
use provider_sdk::dynamic::{self, DynamicType, FunctionType, Typed, wasm_wave};
use provider_sdk::transport::{CallOptions, Client, ServeOptions, Transport};
use provider_sdk::wire::{self, Decode, Encode, Reader, ResourceBorrow, ResourceOwn};

use bindings_ours::roundtrip::test::compound::{Bag, Color, Perms, Person, Point, Shape, Wide};
use bindings_ours::roundtrip::test::resources::Counter;

const PACKAGE: &str = "roundtrip:test@0.1.0";

fn resolve() -> Resolve {
    let mut resolve = Resolve::new();
    resolve
        .push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/roundtrip/wit"))
        .expect("the fixture parses");
    resolve
}

/// The type of function `func` of interface `iface` (or of the world, for `None`).
fn function(resolve: &Resolve, iface: &str, func: &str) -> FunctionType {
    let interface = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some(iface))
        .map(|(_, i)| i)
        .unwrap_or_else(|| panic!("no interface {iface}"));
    let function = interface
        .functions
        .get(func)
        .unwrap_or_else(|| panic!("no function {iface}.{func}"));
    FunctionType::from_wit(resolve, function).expect("the fixture's types map")
}

/// The named type `name` of interface `iface`.
fn named(resolve: &Resolve, iface: &str, name: &str) -> DynamicType {
    let interface = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some(iface))
        .map(|(_, i)| i)
        .expect("the interface exists");
    let id = interface.types[name];
    DynamicType::from_wit(resolve, &Type::Id(id)).expect("the type maps")
}

// ---------------------------------------------------------------------------------------------
// Arbitrary WAVE values of a type, to compare both codecs on.

fn arb(ty: &WaveType) -> BoxedStrategy<Value> {
    let ty = ty.clone();
    match ty.kind() {
        WasmTypeKind::Bool => any::<bool>().prop_map(Value::make_bool).boxed(),
        WasmTypeKind::U8 => any::<u8>().prop_map(Value::make_u8).boxed(),
        WasmTypeKind::U16 => any::<u16>().prop_map(Value::make_u16).boxed(),
        WasmTypeKind::U32 => any::<u32>().prop_map(Value::make_u32).boxed(),
        WasmTypeKind::U64 => any::<u64>().prop_map(Value::make_u64).boxed(),
        WasmTypeKind::S8 => any::<i8>().prop_map(Value::make_s8).boxed(),
        WasmTypeKind::S16 => any::<i16>().prop_map(Value::make_s16).boxed(),
        WasmTypeKind::S32 => any::<i32>().prop_map(Value::make_s32).boxed(),
        WasmTypeKind::S64 => any::<i64>().prop_map(Value::make_s64).boxed(),
        // NaN is never equal to itself: its canonical bytes have a vector of their own.
        WasmTypeKind::Float32 => any::<f32>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(Value::make_float32)
            .boxed(),
        WasmTypeKind::Float64 => any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(Value::make_float64)
            .boxed(),
        WasmTypeKind::Char => any::<char>().prop_map(Value::make_char).boxed(),
        WasmTypeKind::String => ".{0,6}"
            .prop_map(|s: String| Value::make_string(s.into()))
            .boxed(),
        WasmTypeKind::List => {
            let element = ty.list_element_type().expect("a list");
            prop::collection::vec(arb(&element), 0..4)
                .prop_map(move |items| Value::make_list(&ty, items).expect("typed"))
                .boxed()
        }
        WasmTypeKind::Record => {
            let fields: Vec<(String, WaveType)> = ty
                .record_fields()
                .map(|(name, ty)| (name.into_owned(), ty))
                .collect();
            let strategies: Vec<_> = fields.iter().map(|(_, ty)| arb(ty)).collect();
            strategies
                .prop_map(move |values| {
                    let named = fields.iter().map(|(name, _)| name.as_str()).zip(values);
                    Value::make_record(&ty, named).expect("typed")
                })
                .boxed()
        }
        WasmTypeKind::Tuple => {
            let strategies: Vec<_> = ty.tuple_element_types().map(|ty| arb(&ty)).collect();
            strategies
                .prop_map(move |values| Value::make_tuple(&ty, values).expect("typed"))
                .boxed()
        }
        WasmTypeKind::Variant => {
            let cases: Vec<_> = ty
                .variant_cases()
                .map(|(name, payload)| {
                    let ty = ty.clone();
                    let name = name.into_owned();
                    match payload {
                        Some(payload) => arb(&payload)
                            .prop_map(move |value| {
                                Value::make_variant(&ty, &name, Some(value)).expect("typed")
                            })
                            .boxed(),
                        None => Just(Value::make_variant(&ty, &name, None).expect("typed")).boxed(),
                    }
                })
                .collect();
            Union::new(cases).boxed()
        }
        WasmTypeKind::Enum => {
            let cases: Vec<String> = ty.enum_cases().map(|c| c.into_owned()).collect();
            (0..cases.len())
                .prop_map(move |i| Value::make_enum(&ty, &cases[i]).expect("typed"))
                .boxed()
        }
        WasmTypeKind::Option => {
            let some = ty.option_some_type().expect("an option");
            prop::option::of(arb(&some))
                .prop_map(move |value| Value::make_option(&ty, value).expect("typed"))
                .boxed()
        }
        WasmTypeKind::Result => {
            let (ok, err) = ty.result_types().expect("a result");
            let side = |payload: Option<WaveType>| match payload {
                Some(payload) => arb(&payload).prop_map(Some).boxed(),
                None => Just(None).boxed(),
            };
            let (ty_ok, ty_err) = (ty.clone(), ty);
            prop_oneof![
                side(ok).prop_map(move |v| Value::make_result(&ty_ok, Ok(v)).expect("typed")),
                side(err).prop_map(move |v| Value::make_result(&ty_err, Err(v)).expect("typed")),
            ]
            .boxed()
        }
        WasmTypeKind::Flags => {
            let names: Vec<String> = ty.flags_names().map(|c| c.into_owned()).collect();
            prop::collection::vec(any::<bool>(), names.len())
                .prop_map(move |set| {
                    let set = names
                        .iter()
                        .zip(set)
                        .filter(|(_, on)| *on)
                        .map(|(name, _)| name.as_str());
                    Value::make_flags(&ty, set).expect("typed")
                })
                .boxed()
        }
        kind => panic!("no strategy for {kind}"),
    }
}

fn arb_tuple(types: &[(String, DynamicType)]) -> BoxedStrategy<Vec<Value>> {
    types
        .iter()
        .map(|(_, ty)| arb(ty.wave_type()))
        .collect::<Vec<_>>()
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Static and dynamic side by side.

/// One side of a function (its params or results) with the static tuple type they have.
trait Side {
    fn to_bytes(f: &FunctionType, values: &[Value]) -> Bytes;
    fn decode(f: &FunctionType, r: &mut Reader<'_>) -> provider_sdk::Result<Vec<Value>>;
}

struct Params;
struct Results;

impl Side for Params {
    fn to_bytes(f: &FunctionType, values: &[Value]) -> Bytes {
        f.params_to_bytes(values).expect("typed values encode")
    }
    fn decode(f: &FunctionType, r: &mut Reader<'_>) -> provider_sdk::Result<Vec<Value>> {
        f.decode_params(r)
    }
}

impl Side for Results {
    fn to_bytes(f: &FunctionType, values: &[Value]) -> Bytes {
        f.results_to_bytes(values).expect("typed values encode")
    }
    fn decode(f: &FunctionType, r: &mut Reader<'_>) -> provider_sdk::Result<Vec<Value>> {
        f.decode_results(r)
    }
}

/// Decodes a complete buffer with the dynamic codec, which must use all of it.
fn dyn_decode<S: Side>(f: &FunctionType, bytes: &Bytes) -> provider_sdk::Result<Vec<Value>> {
    let mut r = Reader::new(bytes);
    let values = S::decode(f, &mut r)?;
    match r.remaining() {
        0 => Ok(values),
        extra => Err(Error::TrailingBytes { extra }),
    }
}

/// Property: `values` encode to what the static type `T` encodes them to, and decode back.
fn same_bytes<S: Side, T: Decode + Encode>(f: &FunctionType, values: &[Value]) {
    let dynamic = S::to_bytes(f, values);
    let value: T = wire::decode(&dynamic).expect("the static codec reads the dynamic bytes");
    let fixed = wire::encode(value).expect("encodes");
    assert_eq!(dynamic, fixed, "dynamic and static bytes of {values:?}");
    let back = dyn_decode::<S>(f, &fixed).expect("the dynamic codec reads the static bytes");
    assert_eq!(back, values, "decoded from {fixed:02x?}");
}

/// Property: arbitrary bytes decode alike in both codecs, or fail in both; what decodes
/// encodes again to the same bytes in both.
fn same_verdict<S: Side, T: Decode + Encode>(f: &FunctionType, bytes: &Bytes) {
    let statically = wire::decode::<T>(bytes);
    let dynamically = dyn_decode::<S>(f, bytes);
    match (statically, dynamically) {
        (Ok(value), Ok(values)) => {
            let fixed = wire::encode(value).expect("encodes");
            assert_eq!(S::to_bytes(f, &values), fixed, "{bytes:02x?}");
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "the codecs disagree on {bytes:02x?}: static {:?}, dynamic {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
}

/// Runs both properties on the params (as `P`) and results (as `R`) of `iface.func`.
fn check<P, R>(iface: &str, func: &str)
where
    P: Decode + Encode,
    R: Decode + Encode,
{
    let resolve = resolve();
    let f = function(&resolve, iface, func);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    let name = format!("{iface}.{func}");
    runner
        .run(&arb_tuple(f.params()), |values| {
            same_bytes::<Params, P>(&f, &values);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{name} params: {error}"));
    runner
        .run(&arb_tuple(f.results()), |values| {
            same_bytes::<Results, R>(&f, &values);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{name} results: {error}"));
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..24), |bytes| {
            let bytes = Bytes::from(bytes);
            same_verdict::<Params, P>(&f, &bytes);
            same_verdict::<Results, R>(&f, &bytes);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{name} arbitrary bytes: {error}"));
}

/// Every function of the fixture without streams or futures, with its static params and
/// results types.
macro_rules! functions {
    ($($test:ident: $iface:literal $func:literal ($($p:ty),*) -> ($($r:ty),*);)*) => {$(
        #[test]
        fn $test() {
            check::<($($p,)*), ($($r,)*)>($iface, $func);
        }
    )*};
}

functions! {
    scalars_bool: "scalars" "echo-bool" (bool) -> (bool);
    scalars_u8: "scalars" "echo-u8" (u8) -> (u8);
    scalars_u16: "scalars" "echo-u16" (u16) -> (u16);
    scalars_u32: "scalars" "echo-u32" (u32) -> (u32);
    scalars_u64: "scalars" "echo-u64" (u64) -> (u64);
    scalars_s8: "scalars" "echo-s8" (i8) -> (i8);
    scalars_s16: "scalars" "echo-s16" (i16) -> (i16);
    scalars_s32: "scalars" "echo-s32" (i32) -> (i32);
    scalars_s64: "scalars" "echo-s64" (i64) -> (i64);
    scalars_f32: "scalars" "echo-f32" (f32) -> (f32);
    scalars_f64: "scalars" "echo-f64" (f64) -> (f64);
    scalars_char: "scalars" "echo-char" (char) -> (char);
    scalars_string: "scalars" "echo-string" (String) -> (String);
    scalars_add_s64: "scalars" "add-s64" (i64, i64) -> (i64);
    scalars_concat: "scalars" "concat" (String, String) -> (String);
    scalars_string_len: "scalars" "string-len" (String) -> (u32);
    lists_bool: "lists" "echo-list-bool" (Vec<bool>) -> (Vec<bool>);
    lists_u8: "lists" "echo-list-u8" (Bytes) -> (Bytes);
    lists_u16: "lists" "echo-list-u16" (Vec<u16>) -> (Vec<u16>);
    lists_u32: "lists" "echo-list-u32" (Vec<u32>) -> (Vec<u32>);
    lists_u64: "lists" "echo-list-u64" (Vec<u64>) -> (Vec<u64>);
    lists_s8: "lists" "echo-list-s8" (Vec<i8>) -> (Vec<i8>);
    lists_s16: "lists" "echo-list-s16" (Vec<i16>) -> (Vec<i16>);
    lists_s32: "lists" "echo-list-s32" (Vec<i32>) -> (Vec<i32>);
    lists_s64: "lists" "echo-list-s64" (Vec<i64>) -> (Vec<i64>);
    lists_f32: "lists" "echo-list-f32" (Vec<f32>) -> (Vec<f32>);
    lists_f64: "lists" "echo-list-f64" (Vec<f64>) -> (Vec<f64>);
    lists_char: "lists" "echo-list-char" (Vec<char>) -> (Vec<char>);
    lists_string: "lists" "echo-list-string" (Vec<String>) -> (Vec<String>);
    lists_bytes: "lists" "echo-list-bytes" (Vec<Bytes>) -> (Vec<Bytes>);
    lists_nested: "lists" "echo-list-nested" (Vec<Vec<u32>>) -> (Vec<Vec<u32>>);
    lists_sum: "lists" "sum-u32" (Vec<u32>) -> (u64);
    lists_empty: "lists" "empty-list" () -> (Vec<u64>);
    compound_point: "compound" "echo-point" (Point) -> (Point);
    compound_person: "compound" "echo-person" (Person) -> (Person);
    compound_shape: "compound" "echo-shape" (Shape) -> (Shape);
    compound_color: "compound" "echo-color" (Color) -> (Color);
    compound_perms: "compound" "echo-perms" (Perms) -> (Perms);
    compound_wide: "compound" "echo-wide" (Wide) -> (Wide);
    compound_bag: "compound" "echo-bag" (Bag) -> (Bag);
    compound_option_u32: "compound" "echo-option-u32" (Option<u32>) -> (Option<u32>);
    compound_option_string: "compound" "echo-option-string" (Option<String>) -> (Option<String>);
    compound_option_point: "compound" "echo-option-point" (Option<Point>) -> (Option<Point>);
    compound_nested_option: "compound" "echo-nested-option" (Option<Option<u8>>) -> (Option<Option<u8>>);
    compound_result: "compound" "echo-result" (Result<(), ()>) -> (Result<(), ()>);
    compound_result_ok: "compound" "echo-result-ok" (Result<u32, ()>) -> (Result<u32, ()>);
    compound_result_err: "compound" "echo-result-err" (Result<(), String>) -> (Result<(), String>);
    compound_result_both: "compound" "echo-result-both" (Result<String, Color>) -> (Result<String, Color>);
    compound_tuple2: "compound" "echo-tuple2" ((u8, String)) -> ((u8, String));
    compound_tuple5: "compound" "echo-tuple5" ((bool, u16, char, f64, Point)) -> ((bool, u16, char, f64, Point));
    compound_move_point: "compound" "move-point" (Point, i32, i32) -> (Point);
    compound_grant: "compound" "grant" (Perms, Perms) -> (Perms);
    compound_oldest: "compound" "oldest" (Vec<Person>) -> (Option<Person>);
    compound_divide: "compound" "divide" (u32, u32) -> (Result<u32, String>);
    compound_named: "compound" "named" (u32, String) -> (u32, String);
    compound_nothing: "compound" "nothing" () -> ();
    resources_counter_value: "resources" "counter-value" (ResourceBorrow<Counter>) -> (u64);
    resources_merge: "resources" "merge" (ResourceOwn<Counter>, ResourceOwn<Counter>) -> (ResourceOwn<Counter>);
    resources_register: "resources" "[method]registry.register" (ResourceBorrow<Counter>, String, ResourceBorrow<Counter>) -> (u32);
    resources_from_string: "resources" "[static]counter.from-string" (String) -> (Result<ResourceOwn<Counter>, String>);
}

// ---------------------------------------------------------------------------------------------
// Byte-exact vectors and WAVE text.

/// `text` (WAVE, of type `ty`) encodes to exactly `bytes`, which decode and print as `text`.
#[track_caller]
fn vector(ty: &DynamicType, text: &str, bytes: &[u8]) {
    let value = ty.parse(text).expect("the WAVE text parses");
    let encoded = wire::encode(Typed::new(&value, ty)).expect("encodes");
    assert_eq!(&encoded[..], bytes, "encoding of {text}");
    let bytes = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&bytes);
    let decoded = dynamic::decode(ty, &mut r).expect("decodes");
    assert_eq!(r.remaining(), 0);
    assert_eq!(wasm_wave::to_string(&decoded).expect("prints"), text);
}

#[test]
fn vectors() {
    let resolve = resolve();
    let point = named(&resolve, "compound", "point");
    vector(&point, "{x: 300, y: -2}", &[0xac, 0x02, 0x7e]);
    let shape = named(&resolve, "compound", "shape");
    vector(
        &shape,
        "rect(({x: 1, y: 2}, {x: 3, y: 4}))",
        &[0x01, 1, 2, 3, 4],
    );
    // A case named like a WAVE keyword is written with `%`.
    vector(&shape, "%none", &[0x02]);
    vector(&shape, "circle(1.5)", &[0x00, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    let color = named(&resolve, "compound", "color");
    vector(&color, "blue", &[0x02]);
    let perms = named(&resolve, "compound", "perms");
    vector(&perms, "{read, exec}", &[0b101]);
    let wide = named(&resolve, "compound", "wide");
    vector(&wide, "{f0, f31}", &[0x01, 0, 0, 0x80]);
    let person = named(&resolve, "compound", "person");
    vector(
        &person,
        r#"{name: "ab", age: 7, tags: ["x"], home: some({x: 0, y: -1})}"#,
        &[2, b'a', b'b', 7, 1, 1, b'x', 1, 0, 0x7f],
    );

    // Through a function's types: handles are their bytes, futures their value.
    let f = function(&resolve, "resources", "merge");
    let args = f.parse_params(&["[1, 2]", "[]"]).expect("parses");
    assert_eq!(&f.params_to_bytes(&args).unwrap()[..], &[2, 1, 2, 0]);
    let f = function(&resolve, "streams", "later");
    let result = f.results()[0].1.parse("7").expect("a future<u64> is a u64");
    assert_eq!(&f.results_to_bytes(&[result]).unwrap()[..], &[1, 7]);
    let f = function(&resolve, "streams", "signal");
    let result = f.results()[0].1.parse("ok").expect("a future is ok");
    assert_eq!(&f.results_to_bytes(&[result]).unwrap()[..], &[1]);

    // NaN is written canonical, as the static codec writes it.
    let f = function(&resolve, "scalars", "echo-f32");
    let nan = Value::make_float32(f32::from_bits(0x7fc0_1234));
    assert_eq!(
        f.params_to_bytes(&[nan]).unwrap(),
        wire::encode((f32::from_bits(0x7fc0_1234),)).unwrap()
    );
}

#[test]
fn a_static_bag_reads_as_wave() {
    let resolve = resolve();
    let bag = Bag {
        flag: true,
        small: 255,
        big: -3,
        ratio: 0.5,
        letter: 'λ',
        text: "hi".into(),
        data: Bytes::from_static(&[1, 2]),
        people: vec![Person {
            name: "p".into(),
            age: 3,
            tags: vec![],
            home: None,
        }],
        shape: Shape::Circle(2.0),
        color: Color::Green,
        perms: Perms::READ | Perms::WRITE,
        wide: Wide::F9,
        maybe: Some("m".into()),
        outcome: Err("no".into()),
        pair: (1, "one".into()),
    };
    let bytes = wire::encode(&bag).expect("encodes");
    let ty = named(&resolve, "compound", "bag");
    let value = dynamic::decode(&ty, &mut Reader::new(&bytes)).expect("decodes");
    assert_eq!(
        wasm_wave::to_string(&value).unwrap(),
        r#"{flag: true, small: 255, big: -3, ratio: 0.5, letter: 'λ', text: "hi", data: [1, 2], people: [{name: "p", age: 3, tags: []}], shape: circle(2), color: green, perms: {read, write}, wide: {f9}, maybe: some("m"), outcome: err("no"), pair: (1, "one")}"#
    );
    assert_eq!(wire::encode(Typed::new(&value, &ty)).unwrap(), bytes);
    // WAVE leaves out record fields that are `none`; they read back.
    let text = wasm_wave::to_string(&value).unwrap();
    assert_eq!(ty.parse(&text).unwrap(), value);
}

// ---------------------------------------------------------------------------------------------
// Values that do not fit their type, and hostile bytes.

#[test]
fn a_value_of_the_wrong_type_names_where_it_is() {
    let resolve = resolve();
    let f = function(&resolve, "compound", "oldest");
    // A list of people whose second has a tag that is not a string: built for another type.
    let odd_ty = wasm_wave::value::Type::record([
        ("name", WaveType::STRING),
        ("age", WaveType::U8),
        ("tags", WaveType::list(WaveType::U32)),
        ("home", WaveType::option(WaveType::U8)),
    ])
    .unwrap();
    let odd =
        wasm_wave::from_str::<Value>(&odd_ty, "{name: \"b\", age: 2, tags: [1, 2], home: none}")
            .unwrap();
    let values = [Value::make_list(&WaveType::list(odd_ty.clone()), [odd.clone(), odd]).unwrap()];
    match f.params_to_bytes(&values) {
        Err(Error::InvalidValue { path, reason }) => {
            assert_eq!(path, "arg 0 [0].tags[0]");
            assert!(
                reason.contains("expected a value of type string"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    // Wrong count of arguments, and unparsable text.
    assert!(matches!(
        f.params_to_bytes(&[]),
        Err(Error::InvalidValue { .. })
    ));
    match f.parse_params(&["[{name: 1}]"]) {
        Err(Error::InvalidValue { path, .. }) => assert_eq!(path, "arg 0 (people)"),
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    let color = named(&resolve, "compound", "color");
    let enum_ty = WaveType::enum_ty(["red", "purple"]).unwrap();
    let purple = Value::make_enum(&enum_ty, "purple").unwrap();
    match wire::encode(Typed::new(&purple, &color)) {
        Err(Error::InvalidValue { path, reason }) => {
            assert_eq!(path, "value");
            assert!(
                reason.contains("`purple`") && reason.contains("`blue`"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

fn decode_err(ty: &DynamicType, bytes: &[u8]) -> Error {
    let bytes = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&bytes);
    match dynamic::decode(ty, &mut r) {
        Ok(value) if r.remaining() == 0 => panic!("{bytes:02x?} decoded as {value:?}"),
        Ok(_) => Error::TrailingBytes {
            extra: r.remaining(),
        },
        Err(error) => error,
    }
}

#[test]
fn hostile_input_is_an_error() {
    let resolve = resolve();
    let list = function(&resolve, "lists", "echo-list-string").params()[0]
        .1
        .clone();
    // A count of 2^32 - 1 strings in five bytes: over the limit, refused before anything is
    // allocated; a count of 100 in three bytes: more bytes are needed.
    assert!(matches!(
        decode_err(&list, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        Error::TooLarge { what: "list", .. }
    ));
    assert!(matches!(
        decode_err(&list, &[100, 1, b'a']),
        Error::UnexpectedEnd { .. }
    ));
    let bool_ty = function(&resolve, "scalars", "not").params()[0].1.clone();
    assert!(matches!(decode_err(&bool_ty, &[2]), Error::InvalidBool(2)));
    let char_ty = function(&resolve, "scalars", "next-char").params()[0]
        .1
        .clone();
    assert!(matches!(decode_err(&char_ty, &[0xff]), Error::InvalidChar));
    assert!(matches!(
        decode_err(&char_ty, &[0xed, 0xa0, 0x80]),
        Error::InvalidChar
    ));
    let string = function(&resolve, "scalars", "upper").params()[0].1.clone();
    assert!(matches!(
        decode_err(&string, &[2, 0xc3, 0x28]),
        Error::InvalidUtf8 { .. }
    ));
    let color = named(&resolve, "compound", "color");
    assert!(matches!(
        decode_err(&color, &[3]),
        Error::UnknownCase {
            index: 3,
            cases: 3,
            ..
        }
    ));
    let perms = named(&resolve, "compound", "perms");
    assert!(matches!(
        decode_err(&perms, &[0b1000]),
        Error::InvalidFlags { .. }
    ));
    let option = function(&resolve, "compound", "echo-option-u32").params()[0]
        .1
        .clone();
    assert!(matches!(
        decode_err(&option, &[2]),
        Error::InvalidTag {
            ty: "option",
            tag: 2
        }
    ));
    let u16_ty = function(&resolve, "scalars", "echo-u16").params()[0]
        .1
        .clone();
    assert!(matches!(
        decode_err(&u16_ty, &[0xff, 0xff, 0x04]),
        Error::InvalidLeb128 { .. }
    ));
    assert!(matches!(
        decode_err(&u16_ty, &[1, 2]),
        Error::TrailingBytes { extra: 1 }
    ));

    // Every truncation of a bag is UnexpectedEnd.
    let bag = named(&resolve, "compound", "bag");
    let value = bag
        .parse(r#"{flag: true, small: 1, big: -300, ratio: 1.0, letter: 'x', text: "hello", data: [1, 2, 3], people: [{name: "p", age: 3, tags: ["t"], home: some({x: 1, y: 2})}], shape: rect(({x: 1, y: 2}, {x: 3, y: 4})), color: red, perms: {exec}, wide: {f20}, maybe: none, outcome: ok(5), pair: (1, "a")}"#)
        .expect("parses");
    let full = wire::encode(Typed::new(&value, &bag)).unwrap();
    for len in 0..full.len() {
        match decode_err(&bag, &full[..len]) {
            Error::UnexpectedEnd { .. } => {}
            error => panic!("{len} bytes: {error}"),
        }
    }

    // A pending stream or future in a plain buffer has nowhere to come from.
    let stream = function(&resolve, "streams", "sum").params()[0].1.clone();
    assert!(matches!(decode_err(&stream, &[0]), Error::NoAsyncChannel));
    let future = function(&resolve, "streams", "later").results()[0]
        .1
        .clone();
    assert!(matches!(decode_err(&future, &[0]), Error::NoAsyncChannel));
    assert!(matches!(
        decode_err(&future, &[2]),
        Error::InvalidTag {
            ty: "future",
            tag: 2
        }
    ));
    // Inline, both decode.
    let bytes = Bytes::from_static(&[2, 5, 6]);
    let value = dynamic::decode(&stream, &mut Reader::new(&bytes)).unwrap();
    assert_eq!(wasm_wave::to_string(&value).unwrap(), "[5, 6]");
    let bytes = Bytes::from_static(&[1, 9]);
    let value = dynamic::decode(&future, &mut Reader::new(&bytes)).unwrap();
    assert_eq!(wasm_wave::to_string(&value).unwrap(), "9");
}

#[test]
fn unsupported_types_are_refused() {
    let mut resolve = Resolve::new();
    resolve
        .push_str(
            "t.wit",
            "package t:t; interface i { type s = stream<u8, string>; type b = stream; f: func(a: s); g: func(a: b); }",
        )
        .unwrap();
    let (_, i) = resolve.interfaces.iter().next().unwrap();
    for name in ["f", "g"] {
        match FunctionType::from_wit(&resolve, &i.functions[name]) {
            Err(Error::UnsupportedType { reason, .. }) => assert!(reason.contains("stream<T>")),
            other => panic!("{name}: {other:?}"),
        }
    }
}

proptest! {
    /// Arbitrary bytes never panic the decoder, for every type of the fixture's functions.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let resolve = resolve();
        let bytes = Bytes::from(bytes);
        for (_, interface) in resolve.interfaces.iter() {
            for function in interface.functions.values() {
                let f = FunctionType::from_wit(&resolve, function).unwrap();
                let _ = f.decode_params(&mut Reader::new(&bytes));
                let _ = f.decode_results(&mut Reader::new(&bytes));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls against the generated server, streams and futures both ways.

/// `iface.func(args)` through `client`, the results printed as WAVE.
async fn call(
    client: &Client,
    resolve: &Resolve,
    iface: &str,
    func: &str,
    args: &[&str],
) -> Vec<String> {
    let f = function(resolve, iface, func);
    let params = f.parse_params(args).expect("the arguments parse");
    let name = func.rsplit(']').next().unwrap_or(func);
    let instance = format!("{}/{iface}@0.1.0", PACKAGE.split('@').next().unwrap());
    let results = client
        .invoke_dynamic(&CallOptions::default(), &instance, name, &f, &params)
        .await
        .unwrap_or_else(|error| panic!("{iface}.{func}: {error}"));
    results
        .iter()
        .map(|value| wasm_wave::to_string(value).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_with_dynamic_values() -> anyhow::Result<()> {
    let resolve = resolve();
    // Small pieces: values cross piece boundaries.
    let transport = Transport::in_process_with(64, provider_sdk::Limits::default());
    let server = transport.server(ServeOptions::new("roundtrip"));
    let _serving = bindings_ours::serve::<provider_sdk::transport::InvocationContext, _>(
        &server,
        ours::Server::default(),
    )
    .await?;
    let client = transport.client("roundtrip");
    let c = &client;
    let r = &resolve;

    assert_eq!(
        call(c, r, "scalars", "add-s8", &["100", "100"]).await,
        ["-56"]
    );
    assert_eq!(
        call(c, r, "scalars", "concat", &[r#""a""#, r#""b""#]).await,
        [r#""ab""#]
    );
    assert_eq!(
        call(c, r, "compound", "classify", &["3"]).await,
        ["rect(({x: 0, y: 0}, {x: 3, y: 3}))"]
    );
    assert_eq!(
        call(c, r, "compound", "named", &["2", r#""x""#]).await,
        ["4", r#""xx""#]
    );
    assert!(call(c, r, "compound", "nothing", &[]).await.is_empty());

    // Resources: a handle prints as its bytes and is accepted back so.
    let counter = call(c, r, "resources", "make-counter", &["41"])
        .await
        .remove(0);
    assert!(counter.starts_with('['), "{counter}");
    assert_eq!(
        call(c, r, "resources", "[method]counter.add", &[&counter, "1"]).await,
        ["42"]
    );
    assert_eq!(
        call(c, r, "resources", "counter-value", &[&counter]).await,
        ["42"]
    );

    // Streams and futures in the results, read from their sub-channels.
    let count: Vec<String> = (0..25).map(|i| i.to_string()).collect();
    assert_eq!(
        call(c, r, "streams", "count", &["25"]).await,
        [format!("[{}]", count.join(", "))]
    );
    assert_eq!(
        call(c, r, "streams", "strings", &["3"]).await,
        [r#"["s0", "s1", "s2"]"#]
    );
    assert_eq!(
        call(c, r, "streams", "points", &["2"]).await,
        ["[{x: 0, y: 0}, {x: 1, y: -1}]"]
    );
    assert_eq!(
        call(c, r, "streams", "repeat-bytes", &["[1, 2]", "3"]).await,
        ["[1, 2, 1, 2, 1, 2]"]
    );
    assert_eq!(call(c, r, "streams", "later", &["7"]).await, ["7"]);
    let pattern: Vec<String> = logic::pattern(300).iter().map(u8::to_string).collect();
    assert_eq!(
        call(c, r, "streams", "later-bytes", &["300"]).await,
        [format!("[{}]", pattern.join(", "))]
    );
    assert_eq!(
        call(c, r, "streams", "maybe-later", &["some(1)"]).await,
        ["some(2)"]
    );
    assert_eq!(call(c, r, "streams", "signal", &[]).await, ["ok"]);

    // Streams and futures in the params, sent from WAVE lists and values.
    assert_eq!(call(c, r, "streams", "sum", &["[1, 2, 3]"]).await, ["6"]);
    assert_eq!(call(c, r, "streams", "sum", &["[]"]).await, ["0"]);
    assert_eq!(
        call(c, r, "streams", "echo-bytes-stream", &["[104, 105]"]).await,
        ["[104, 105]"]
    );
    assert_eq!(
        call(c, r, "streams", "collect-bytes", &["[1, 2, 3]"]).await,
        ["[1, 2, 3]"]
    );
    assert_eq!(
        call(c, r, "streams", "await-string", &[r#""hi""#]).await,
        [r#""got hi""#]
    );
    assert_eq!(
        call(
            c,
            r,
            "streams",
            "send-upload",
            &[r#"{name: "ab", data: [1, 2, 3]}"#]
        )
        .await,
        ["5"]
    );
    assert_eq!(
        call(c, r, "streams", "fan", &["[1, 2]", "[10, 20]"]).await,
        ["(3, 30)"]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Serving with dynamic values: the generated client calls, `Server::serve_dynamic` hands out
// each invocation with its params as WAVE values and answers with WAVE values.

use bindings_ours::roundtrip::test::{compound, lists, resources, scalars, streams};
use provider_sdk::dynamic::{DynamicCalls, DynamicFunction};
use provider_sdk::wire::{ByteStream, WitFuture, WitStream};

/// Every function of the fixture's interfaces, under its instance and wire name.
fn all_functions(resolve: &Resolve) -> Vec<DynamicFunction> {
    let mut functions = Vec::new();
    for (id, interface) in resolve.interfaces.iter() {
        let instance = resolve.id_of(id).expect("a named interface");
        for function in interface.functions.values() {
            let name = ["[method]", "[static]", "[constructor]"]
                .iter()
                .find_map(|prefix| function.name.strip_prefix(prefix))
                .unwrap_or(&function.name);
            let ty = FunctionType::from_wit(resolve, function).expect("the fixture's types map");
            functions.push(DynamicFunction::new(instance.clone(), name, ty));
        }
    }
    functions
}

/// Runs `call` (a generated client's call) while the server takes the one invocation it
/// makes: checks it is `func` with `params` (WAVE), answers with `reply` (WAVE, one text per
/// result), and returns what the client got.
async fn served<R>(
    calls: &mut DynamicCalls,
    call: impl std::future::Future<Output = provider_sdk::Result<R>>,
    func: &str,
    params: &[&str],
    reply: &[&str],
) -> R {
    let server = async {
        let call = calls.recv().await.expect("an invocation");
        assert_eq!(call.function().name(), func);
        let got: Vec<String> = call
            .params()
            .iter()
            .map(|value| wasm_wave::to_string(value).unwrap())
            .collect();
        assert_eq!(got, params, "the params of {func}");
        let results: Vec<Value> = call
            .function()
            .ty()
            .results()
            .iter()
            .zip(reply)
            .map(|((_, ty), text)| ty.parse(text).expect("the reply parses"))
            .collect();
        assert_eq!(results.len(), reply.len(), "one reply per result of {func}");
        call.reply(&results).await.expect("the reply is sent");
    };
    let (result, ()) = tokio::join!(call, server);
    result.unwrap_or_else(|error| panic!("{func}: {error}"))
}

/// Serves every function of the fixture dynamically on `transport` under `roundtrip`.
async fn serve_all(transport: &Transport) -> (provider_sdk::transport::Serving, DynamicCalls) {
    let server = transport.server(ServeOptions::new("roundtrip"));
    server
        .serve_dynamic(all_functions(&resolve()), 4)
        .await
        .expect("serving starts")
}

/// Calls of every kind of value through the generated client against the dynamic server.
async fn check_served(client: &Client, calls: &mut DynamicCalls) {
    let c = client;
    let calls = &mut *calls;

    // Scalars.
    let r = served(
        calls,
        scalars::add_s64(c, -5, i64::MAX),
        "add-s64",
        &["-5", "9223372036854775807"],
        &["-1"],
    )
    .await;
    assert_eq!(r, -1);
    let r = served(
        calls,
        scalars::echo_char(c, 'é'),
        "echo-char",
        &["'é'"],
        &["'ß'"],
    )
    .await;
    assert_eq!(r, 'ß');
    let r = served(
        calls,
        scalars::echo_f64(c, -0.5),
        "echo-f64",
        &["-0.5"],
        &["1e300"],
    )
    .await;
    assert_eq!(r, 1e300);
    let r = served(
        calls,
        scalars::concat(c, "a\"b", "\n"),
        "concat",
        &[r#""a\"b""#, r#""\n""#],
        &[r#""ok\t""#],
    )
    .await;
    assert_eq!(r, "ok\t");

    // Lists.
    let byte_lists = [Bytes::from_static(b"ab"), Bytes::new()];
    let r = served(
        calls,
        lists::echo_list_bytes(c, &byte_lists),
        "echo-list-bytes",
        &["[[97, 98], []]"],
        &["[[1], [2, 3]]"],
    )
    .await;
    assert_eq!(r, [Bytes::from_static(&[1]), Bytes::from_static(&[2, 3])]);
    let r = served(calls, lists::empty_list(c), "empty-list", &[], &["[]"]).await;
    assert!(r.is_empty());

    // Records, variants, enums, flags, options, results, tuples.
    let point = Point { x: -1, y: 2 };
    let ada = Person {
        name: "Ada".to_owned(),
        age: 36,
        tags: vec!["math".to_owned()],
        home: Some(point),
    };
    let bag = Bag {
        flag: true,
        small: 7,
        big: i64::MIN,
        ratio: 0.25,
        letter: 'ß',
        text: "bag".to_owned(),
        data: Bytes::from_static(&[1, 2]),
        people: vec![ada.clone()],
        shape: Shape::Rect((Point { x: 0, y: 0 }, Point { x: 2, y: 3 })),
        color: Color::Blue,
        perms: Perms::READ | Perms::EXEC,
        wide: Wide::F0 | Wide::F31,
        maybe: None,
        outcome: Err("no".to_owned()),
        pair: (1, "one".to_owned()),
    };
    // WAVE leaves out a record's fields that are `none`.
    let bag_wave = r#"{flag: true, small: 7, big: -9223372036854775808, ratio: 0.25, letter: 'ß', text: "bag", data: [1, 2], people: [{name: "Ada", age: 36, tags: ["math"], home: some({x: -1, y: 2})}], shape: rect(({x: 0, y: 0}, {x: 2, y: 3})), color: blue, perms: {read, exec}, wide: {f0, f31}, outcome: err("no"), pair: (1, "one")}"#;
    let reply = r#"{flag: false, small: 0, big: 1, ratio: -1.5, letter: 'x', text: "", data: [], people: [], shape: circle(0.5), color: green, perms: {}, wide: {f17}, maybe: some("m"), outcome: ok(3), pair: (0, "")}"#;
    let r = served(
        calls,
        compound::echo_bag(c, &bag),
        "echo-bag",
        &[bag_wave],
        &[reply],
    )
    .await;
    let expected = Bag {
        flag: false,
        small: 0,
        big: 1,
        ratio: -1.5,
        letter: 'x',
        text: String::new(),
        data: Bytes::new(),
        people: vec![],
        shape: Shape::Circle(0.5),
        color: Color::Green,
        perms: Perms::empty(),
        wide: Wide::F17,
        maybe: Some("m".to_owned()),
        outcome: Ok(3),
        pair: (0, String::new()),
    };
    assert_eq!(r, expected);
    let r = served(
        calls,
        compound::echo_nested_option(c, Some(None)),
        "echo-nested-option",
        &["some(none)"],
        &["some(some(4))"],
    )
    .await;
    assert_eq!(r, Some(Some(4)));
    let r = served(
        calls,
        compound::echo_result_both(c, Err(Color::Red)),
        "echo-result-both",
        &["err(red)"],
        &[r#"ok("fine")"#],
    )
    .await;
    assert_eq!(r, Ok("fine".to_owned()));
    let r = served(
        calls,
        compound::echo_result(c, Ok(())),
        "echo-result",
        &["ok"],
        &["err"],
    )
    .await;
    assert_eq!(r, Err(()));
    let five = (true, 2, 'c', 1.25, point);
    let r = served(
        calls,
        compound::echo_tuple5(c, five),
        "echo-tuple5",
        &["(true, 2, 'c', 1.25, {x: -1, y: 2})"],
        &["(false, 3, 'd', 2.5, {x: 0, y: 0})"],
    )
    .await;
    assert_eq!(r, (false, 3, 'd', 2.5, Point { x: 0, y: 0 }));
    let r = served(
        calls,
        compound::named(c, 21, "ab"),
        "named",
        &["21", r#""ab""#],
        &["42", r#""abab""#],
    )
    .await;
    assert_eq!(r, (42, "abab".to_owned()));
    served(calls, compound::nothing(c), "nothing", &[], &[]).await;

    // Resources: handles are their bytes, both ways.
    let counter = ResourceOwn::<Counter>::new(Bytes::from_static(b"c1"));
    let r = served(
        calls,
        Counter::add(c, counter.borrow(), 3),
        "counter.add",
        &["[99, 49]", "3"],
        &["8"],
    )
    .await;
    assert_eq!(r, 8);
    let other = ResourceOwn::<Counter>::new(Bytes::from_static(&[0]));
    let r = served(
        calls,
        resources::merge(c, counter, other),
        "merge",
        &["[99, 49]", "[0]"],
        &["[7, 7]"],
    )
    .await;
    assert_eq!(r.as_bytes().as_ref(), [7, 7]);
    let r = served(calls, Counter::new(c, 5), "counter", &["5"], &["[1]"]).await;
    assert_eq!(r.as_bytes().as_ref(), [1]);

    // Streams and futures in the params, read from their sub-channels until complete.
    let numbers = WitStream::new(futures::stream::iter(vec![vec![1u32, 2], vec![], vec![3]]));
    let r = served(
        calls,
        streams::sum(c, numbers),
        "sum",
        &["[1, 2, 3]"],
        &["6"],
    )
    .await;
    assert_eq!(r, 6);
    let r = served(
        calls,
        streams::sum(c, WitStream::empty()),
        "sum",
        &["[]"],
        &["0"],
    )
    .await;
    assert_eq!(r, 0);
    let upload = streams::Upload {
        name: "file".to_owned(),
        data: ByteStream::from(Bytes::from_static(&[4, 5, 6])),
    };
    let r = served(
        calls,
        streams::send_upload(c, upload),
        "send-upload",
        &[r#"{name: "file", data: [4, 5, 6]}"#],
        &["7"],
    )
    .await;
    assert_eq!(r, 7);
    let later = WitFuture::new(async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        "soon".to_owned()
    });
    let r = served(
        calls,
        streams::await_string(c, later),
        "await-string",
        &[r#""soon""#],
        &[r#""got""#],
    )
    .await;
    assert_eq!(r, "got");
    let a = WitStream::from(vec![1u32, 2]);
    let b = WitStream::new(futures::stream::iter(vec![vec![10u32], vec![20]]));
    let r = served(
        calls,
        streams::fan(c, a, b),
        "fan",
        &["[1, 2]", "[10, 20]"],
        &["(3, 30)"],
    )
    .await;
    assert_eq!(r, (3, 30));
    let big: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
    let big_wave = format!(
        "[{}]",
        big.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
    );
    let r = served(
        calls,
        streams::echo_bytes_stream(c, ByteStream::from(Bytes::from(big.clone()))),
        "echo-bytes-stream",
        &[&big_wave],
        &[&big_wave],
    )
    .await;
    assert_eq!(r.collect_all().await.unwrap(), big);

    // Streams and futures in the results, sent as `generate!`'s server sends them.
    let r = served(calls, streams::count(c, 3), "count", &["3"], &["[0, 1, 2]"]).await;
    assert_eq!(r.collect_all().await.unwrap(), [0, 1, 2]);
    let r = served(
        calls,
        streams::points(c, 1),
        "points",
        &["1"],
        &["[{x: 5, y: -5}]"],
    )
    .await;
    assert_eq!(r.collect_all().await.unwrap(), [Point { x: 5, y: -5 }]);
    let r = served(calls, streams::later(c, 77), "later", &["77"], &["78"]).await;
    assert_eq!(r.await.unwrap(), 78);
    let r = served(
        calls,
        streams::later_bytes(c, 2),
        "later-bytes",
        &["2"],
        &["[9, 8]"],
    )
    .await;
    assert_eq!(
        r.await.unwrap().collect_all().await.unwrap(),
        Bytes::from_static(&[9, 8])
    );
    let r = served(
        calls,
        streams::maybe_later(c, None),
        "maybe-later",
        &["none"],
        &["some(1)"],
    )
    .await;
    assert_eq!(r.await.unwrap(), Some(1));
    let r = served(calls, streams::signal(c), "signal", &[], &["ok"]).await;
    r.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_server_answers_the_generated_client_in_process() {
    // Small pieces: values cross piece boundaries.
    let transport = Transport::in_process_with(64, provider_sdk::Limits::default());
    let (_serving, mut calls) = serve_all(&transport).await;
    check_served(&transport.client("roundtrip"), &mut calls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_server_answers_the_generated_client_over_nats() {
    let nats = provider_testing::NatsServer::start().expect("nats-server starts");
    let client = async_nats::connect(nats.url())
        .await
        .expect("NATS connects");
    let transport = Transport::nats(client).await.expect("the transport starts");
    let (_serving, mut calls) = serve_all(&transport).await;
    check_served(&transport.client("roundtrip"), &mut calls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_and_malformed_invocations_end_at_once() {
    let transport = Transport::in_process();
    let (_serving, mut calls) = serve_all(&transport).await;
    let client = transport.client("roundtrip");
    let instance = "roundtrip:test/scalars@0.1.0";

    // A call dropped unanswered: the caller sees its results end, well before its deadline.
    let started = std::time::Instant::now();
    let (result, ()) = tokio::join!(scalars::echo_u8(&client, 1), async {
        let call = calls.recv().await.expect("an invocation");
        assert_eq!(wasm_wave::to_string(&call.params()[0]).unwrap(), "1");
        drop(call);
    });
    assert!(
        matches!(result, Err(Error::Incomplete { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // A reply that does not fit the result type is refused; the caller sees an incomplete
    // result.
    let (result, ()) = tokio::join!(scalars::echo_u8(&client, 2), async {
        let call = calls.recv().await.expect("an invocation");
        let wrong = Value::make_string("no".into());
        let error = call.reply(&[wrong]).await.unwrap_err();
        assert!(matches!(error, Error::InvalidValue { .. }), "{error}");
    });
    assert!(
        matches!(result, Err(Error::Incomplete { .. })),
        "{result:?}"
    );

    // Params that do not fit (a bool of 2) never reach the queue.
    let options = CallOptions::default().timeout(std::time::Duration::from_secs(5));
    let result = client
        .invoke_with::<_, (bool,)>(&options, instance, "echo-bool", (2u8,))
        .await;
    assert!(
        matches!(result, Err(Error::Incomplete { .. })),
        "{result:?}"
    );
    // The next call is the next one queued.
    let r = served(
        &mut calls,
        scalars::echo_bool(&client, true),
        "echo-bool",
        &["true"],
        &["false"],
    )
    .await;
    assert!(!r);
}

/// A `list<u8>` is one byte an element on the wire and a WAVE value of some 40 bytes when
/// decoded: a list whose elements would take more than `MEMORY_PER_LIMIT_BYTE` times the value
/// limit in memory is refused before they are built, though all its bytes arrived.
#[test]
fn a_list_too_large_in_memory_is_refused_though_its_bytes_are_within_the_limit() {
    let resolve = resolve();
    let bytes_ty = function(&resolve, "lists", "echo-list-u8").params()[0]
        .1
        .clone();
    // 8 MB on the wire, within the default limit of 64 MiB; some 700 MB as WAVE values, over
    // the 4 × 64 MiB the decoder allows.
    let count: u32 = 8_000_000;
    let mut wire = Vec::with_capacity(count as usize + 5);
    let mut n = count;
    while n >= 0x80 {
        wire.push((n as u8) | 0x80);
        n >>= 7;
    }
    wire.push(n as u8);
    wire.resize(wire.len() + count as usize, 7);
    let error = decode_err(&bytes_ty, &wire);
    assert!(
        matches!(error, Error::TooLarge { what: "list", .. }),
        "{error:?}"
    );
    // A list well within the budget decodes.
    let small = [3, 1, 2, 3];
    let bytes = Bytes::copy_from_slice(&small);
    let value = dynamic::decode(&bytes_ty, &mut Reader::new(&bytes)).unwrap();
    assert_eq!(dynamic::wasm_wave::to_string(&value).unwrap(), "[1, 2, 3]");
}

/// The fixture's generated server, in process with 64-byte pieces, on a runtime of its own:
/// one for the whole test binary, for property tests that call it.
fn fixture_client() -> &'static (tokio::runtime::Runtime, Client) {
    static FIXTURE: std::sync::OnceLock<(tokio::runtime::Runtime, Client)> =
        std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async {
            let transport = Transport::in_process_with(64, provider_sdk::Limits::default());
            let server = transport.server(ServeOptions::new("roundtrip"));
            let serving = bindings_ours::serve::<provider_sdk::transport::InvocationContext, _>(
                &server,
                ours::Server::default(),
            )
            .await
            .unwrap();
            // Serves for as long as the test binary runs.
            std::mem::forget(serving);
            std::mem::forget(server);
            transport.client("roundtrip")
        });
        (runtime, client)
    })
}

/// A WAVE list of `items`.
fn wave_list<T: ToString>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The async types of the fixture, property-tested through calls (a pending `stream` or
    /// `future` exists only on a call's channel): the dynamic codec sends any stream and
    /// future to the generated server, which decodes it with the static codec, and reads the
    /// server's streams and futures back, all in 64-byte pieces.
    #[test]
    fn streams_and_futures_of_any_value_cross_between_the_codecs(
        bytes in prop::collection::vec(any::<u8>(), 0..2_000),
        a in prop::collection::vec(any::<u32>(), 0..100),
        b in prop::collection::vec(any::<u32>(), 0..100),
        text in ".{0,40}",
        v in any::<u64>(),
        maybe in prop::option::of(0..u32::MAX),
    ) {
        let (runtime, client) = fixture_client();
        let resolve = resolve();
        let (c, r) = (client, &resolve);
        let text_wave = wasm_wave::to_string(&Value::make_string(text.as_str().into())).unwrap();
        let sum = |v: &[u32]| v.iter().copied().map(u64::from).sum::<u64>();
        runtime.block_on(async {
            let bytes_wave = wave_list(&bytes);
            prop_assert_eq!(
                call(c, r, "streams", "echo-bytes-stream", &[&bytes_wave]).await,
                [bytes_wave.clone()]
            );
            prop_assert_eq!(
                call(c, r, "streams", "collect-bytes", &[&bytes_wave]).await,
                [bytes_wave.clone()]
            );
            prop_assert_eq!(
                call(c, r, "streams", "sum", &[&wave_list(&a)]).await,
                [sum(&a).to_string()]
            );
            prop_assert_eq!(
                call(c, r, "streams", "fan", &[&wave_list(&a), &wave_list(&b)]).await,
                [format!("({}, {})", sum(&a), sum(&b))]
            );
            let upload = format!("{{name: {text_wave}, data: {bytes_wave}}}");
            prop_assert_eq!(
                call(c, r, "streams", "send-upload", &[&upload]).await,
                [(text.len() + bytes.len()).to_string()]
            );
            let got = wasm_wave::to_string(&Value::make_string(format!("got {text}").into())).unwrap();
            prop_assert_eq!(call(c, r, "streams", "await-string", &[&text_wave]).await, [got]);
            prop_assert_eq!(call(c, r, "streams", "later", &[&v.to_string()]).await, [v.to_string()]);
            let (arg, expected) = match maybe {
                Some(n) => (format!("some({n})"), format!("some({})", n + 1)),
                None => ("none".to_owned(), "none".to_owned()),
            };
            prop_assert_eq!(call(c, r, "streams", "maybe-later", &[&arg]).await, [expected]);
            Ok(())
        })?;
    }
}
