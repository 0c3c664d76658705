//! The value encoding on its own: byte-exact vectors for every type, hostile input, and
//! property tests. (`tests/interop` checks the same bytes against the peer's codec.)

use bytes::Bytes;
use proptest::prelude::*;
use provider_sdk::Error;
use provider_sdk::wire::{
    self, ByteStream, Decode, Encode, Reader, ResourceBorrow, ResourceOwn, WitFuture, WitStream,
    Writer,
};

/// Asserts that `value` encodes to exactly `bytes` and that `bytes` decode back to `value`.
#[track_caller]
fn vector<T>(value: T, bytes: &[u8])
where
    T: Encode + Decode + Clone + PartialEq + std::fmt::Debug,
{
    let encoded = wire::encode(value.clone()).expect("encodes");
    assert_eq!(&encoded[..], bytes, "encoding of {value:?}");
    let decoded: T = wire::decode(&Bytes::copy_from_slice(bytes)).expect("decodes");
    assert_eq!(decoded, value, "decoding of {bytes:02x?}");
}

#[track_caller]
fn decode_err<T: Decode + std::fmt::Debug>(bytes: &[u8]) -> Error {
    wire::decode::<T>(&Bytes::copy_from_slice(bytes)).expect_err("must not decode")
}

// What `generate!` emits for `record point { x: s32, y: s32 }`, `variant shape { circle(f64),
// rectangle(point), nothing }`, `enum color { red, green, blue }` and `flags perms { read, write,
// execute }` (nine more flags `f3`..`f11` for a two-byte set): the Reader/Writer helpers in order.

#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

impl Encode for Point {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        w.write_field(0, self.x)?;
        w.write_field(1, self.y)
    }
}

impl Decode for Point {
    const MIN_SIZE: usize = i32::MIN_SIZE + i32::MIN_SIZE;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        Ok(Self {
            x: r.read_field(0)?,
            y: r.read_field(1)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Shape {
    Circle(f64),
    Rectangle(Point),
    Nothing,
}

impl Encode for Shape {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        match self {
            Shape::Circle(radius) => {
                w.write_case(0);
                radius.encode(w)
            }
            Shape::Rectangle(corner) => {
                w.write_case(1);
                corner.encode(w)
            }
            Shape::Nothing => {
                w.write_case(2);
                Ok(())
            }
        }
    }
}

impl Decode for Shape {
    const MIN_SIZE: usize = 1;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        Ok(match r.read_case("shape", 3)? {
            0 => Shape::Circle(f64::decode(r)?),
            1 => Shape::Rectangle(Point::decode(r)?),
            _ => Shape::Nothing,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Color {
    Red,
    Green,
    Blue,
}

impl Encode for Color {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        w.write_case(self as u32);
        Ok(())
    }
}

impl Decode for Color {
    const MIN_SIZE: usize = 1;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        Ok(match r.read_case("color", 3)? {
            0 => Color::Red,
            1 => Color::Green,
            _ => Color::Blue,
        })
    }
}

/// Twelve flags: two bytes on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Perms(u16);

impl Encode for Perms {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        w.write_flags(self.0.into(), 12);
        Ok(())
    }
}

impl Decode for Perms {
    const MIN_SIZE: usize = 2;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        r.read_flags("perms", 12).map(|bits| Self(bits as u16))
    }
}

/// Twenty flags: three bytes (`ceil(20 / 8)`), not the four of a `u32`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Twenty(u32);

impl Encode for Twenty {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        w.write_flags(self.0.into(), 20);
        Ok(())
    }
}

impl Decode for Twenty {
    const MIN_SIZE: usize = 3;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        r.read_flags("twenty", 20).map(|bits| Self(bits as u32))
    }
}

#[test]
fn bool_vectors() {
    vector(false, &[0x00]);
    vector(true, &[0x01]);
    assert!(matches!(decode_err::<bool>(&[0x02]), Error::InvalidBool(2)));
}

#[test]
fn integer_vectors() {
    vector(0u8, &[0x00]);
    vector(255u8, &[0xff]);
    vector(-1i8, &[0xff]);
    vector(-128i8, &[0x80]);
    vector(300u16, &[0xac, 0x02]);
    vector(u16::MAX, &[0xff, 0xff, 0x03]);
    vector(0u32, &[0x00]);
    vector(127u32, &[0x7f]);
    vector(128u32, &[0x80, 0x01]);
    vector(300u32, &[0xac, 0x02]);
    vector(u32::MAX, &[0xff, 0xff, 0xff, 0xff, 0x0f]);
    vector(
        u64::MAX,
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    );
    vector(-2i16, &[0x7e]);
    vector(i16::MIN, &[0x80, 0x80, 0x7e]);
    vector(-2i32, &[0x7e]);
    vector(63i32, &[0x3f]);
    vector(64i32, &[0xc0, 0x00]);
    vector(-65i32, &[0xbf, 0x7f]);
    vector(-129i32, &[0xff, 0x7e]);
    vector(i32::MIN, &[0x80, 0x80, 0x80, 0x80, 0x78]);
    vector(
        i64::MIN,
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f],
    );
    vector(
        i64::MAX,
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
    );
}

#[test]
fn leb128_hostile_input() {
    // Six bytes for a u32.
    assert!(matches!(
        decode_err::<u32>(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        Error::InvalidLeb128 { ty: "u32" }
    ));
    // A fifth byte with bits past 32.
    assert!(matches!(
        decode_err::<u32>(&[0xff, 0xff, 0xff, 0xff, 0x1f]),
        Error::InvalidLeb128 { .. }
    ));
    assert!(matches!(
        decode_err::<u16>(&[0xff, 0xff, 0x04]),
        Error::InvalidLeb128 { ty: "u16" }
    ));
    assert!(matches!(
        decode_err::<i32>(&[0xff, 0xff, 0xff, 0xff, 0x4f]),
        Error::InvalidLeb128 { ty: "i32" }
    ));
    // Non-minimal but within the length: accepted, as in the WebAssembly binary format.
    assert_eq!(
        wire::decode::<u32>(&Bytes::from_static(&[0x80, 0x00])).unwrap(),
        0
    );
    // Truncated.
    assert!(matches!(
        decode_err::<u64>(&[0x80, 0x80]),
        Error::UnexpectedEnd {
            needed: 3,
            available: 2
        }
    ));
}

#[test]
fn float_vectors() {
    vector(1.5f32, &[0x00, 0x00, 0xc0, 0x3f]);
    vector(-0.0f64, &[0, 0, 0, 0, 0, 0, 0, 0x80]);
    vector(f64::INFINITY, &[0, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
    // NaN is written canonical, whatever its payload.
    let odd_nan = f32::from_bits(0xffc0_1234);
    assert_eq!(
        &wire::encode(odd_nan).unwrap()[..],
        [0x00, 0x00, 0xc0, 0x7f]
    );
    let odd_nan = f64::from_bits(0xfff8_0000_dead_beef);
    assert_eq!(
        &wire::encode(odd_nan).unwrap()[..],
        [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]
    );
    assert!(matches!(
        decode_err::<f64>(&[0; 7]),
        Error::UnexpectedEnd { needed: 8, .. }
    ));
}

#[test]
fn char_vectors() {
    vector('a', &[0x61]);
    vector('é', &[0xc3, 0xa9]);
    vector('€', &[0xe2, 0x82, 0xac]);
    vector('😀', &[0xf0, 0x9f, 0x98, 0x80]);
    for bad in [
        &[0xff][..],
        &[0x80],
        &[0xc3, 0x28],
        &[0xed, 0xa0, 0x80],
        &[0xf4, 0x90, 0x80, 0x80],
        &[0xc0, 0x80],
    ] {
        assert!(
            matches!(decode_err::<char>(bad), Error::InvalidChar),
            "{bad:02x?}"
        );
    }
}

#[test]
fn string_vectors() {
    vector(String::new(), &[0x00]);
    vector("hi".to_owned(), &[0x02, b'h', b'i']);
    vector("é".to_owned(), &[0x02, 0xc3, 0xa9]);
    let long = "x".repeat(300);
    let mut bytes = vec![0xac, 0x02];
    bytes.extend(long.as_bytes());
    vector(long, &bytes);
    // Borrowed forms encode the same.
    assert_eq!(&wire::encode("hi").unwrap()[..], [0x02, b'h', b'i']);
    assert!(matches!(
        decode_err::<String>(&[0x02, 0xc3, 0x28]),
        Error::InvalidUtf8 { valid_up_to: 0 }
    ));
    assert!(matches!(
        decode_err::<String>(&[0x03, b'a']),
        Error::UnexpectedEnd {
            needed: 4,
            available: 2
        }
    ));
}

#[test]
fn list_vectors() {
    vector(Vec::<u32>::new(), &[0x00]);
    vector(vec![1u32, 300], &[0x02, 0x01, 0xac, 0x02]);
    vector(
        vec!["a".to_owned(), String::new()],
        &[0x02, 0x01, b'a', 0x00],
    );
    vector(Bytes::from_static(&[1, 2, 3]), &[0x03, 1, 2, 3]);
    // `Vec<u8>` is the same `list<u8>`, element by element.
    vector(vec![1u8, 2, 3], &[0x03, 1, 2, 3]);
    assert_eq!(&wire::encode(&[7u16, 8][..]).unwrap()[..], [0x02, 7, 8]);
    vector(vec![vec![true], vec![]], &[0x02, 0x01, 0x01, 0x00]);
}

#[test]
fn length_prefixes_are_claims_not_allocations() {
    // A string claiming 4 GiB: refused against the limit before anything else.
    let err = decode_err::<String>(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "string",
                needed: 4_294_967_300,
                ..
            }
        ),
        "{err}"
    );
    // A billion u64s (one byte each at least): refused against the limit.
    let err = decode_err::<Vec<u64>>(&[0x80, 0x94, 0xeb, 0xdc, 0x03]);
    assert!(matches!(err, Error::TooLarge { what: "list", .. }), "{err}");
    // A thousand elements with two present: the count is checked against the bytes present.
    let err = decode_err::<Vec<u32>>(&[0xe8, 0x07, 1, 2]);
    assert!(
        matches!(
            err,
            Error::UnexpectedEnd {
                needed: 1002,
                available: 4
            }
        ),
        "{err}"
    );
    // `Bytes` the same.
    let err = decode_err::<Bytes>(&[0x90, 0x4e, 1]);
    assert!(
        matches!(
            err,
            Error::UnexpectedEnd {
                needed: 10002,
                available: 3
            }
        ),
        "{err}"
    );
    // Zero-sized elements still count against the limit.
    let err = decode_err::<Vec<()>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    // A limit set on a reader applies to every claim inside the value.
    let bytes = wire::encode(vec!["x".repeat(100)]).unwrap();
    let mut reader = Reader::new(&bytes);
    assert_eq!(
        reader.limit(),
        provider_sdk::Limits::DEFAULT_MAX_VALUE_BYTES
    );
    assert_eq!(
        Vec::<String>::decode(&mut reader).unwrap(),
        vec!["x".repeat(100)]
    );
}

#[test]
fn option_and_result_vectors() {
    vector(None::<u8>, &[0x00]);
    vector(Some(7u8), &[0x01, 0x07]);
    vector(Some(None::<u8>), &[0x01, 0x00]);
    vector(Ok::<u8, String>(1), &[0x00, 0x01]);
    vector(Err::<u8, String>("e".into()), &[0x01, 0x01, b'e']);
    // `result` with no types: the tag alone.
    vector(Ok::<(), ()>(()), &[0x00]);
    vector(Err::<(), ()>(()), &[0x01]);
    vector(Ok::<(), String>(()), &[0x00]);
    assert!(matches!(
        decode_err::<Option<u8>>(&[0x02, 0x00]),
        Error::InvalidTag {
            ty: "option",
            tag: 2
        }
    ));
    assert!(matches!(
        decode_err::<Result<u8, u8>>(&[0x05]),
        Error::InvalidTag {
            ty: "result",
            tag: 5
        }
    ));
}

#[test]
fn tuple_and_record_vectors() {
    vector((), &[]);
    vector((1u8,), &[0x01]);
    vector((1u8, "a".to_owned(), -1i64), &[0x01, 0x01, b'a', 0x7f]);
    vector(Point { x: 1, y: -2 }, &[0x01, 0x7e]);
    vector((Point { x: 300, y: 0 }, true), &[0xac, 0x02, 0x00, 0x01]);
    assert!(matches!(
        decode_err::<Point>(&[0x01]),
        Error::UnexpectedEnd { needed: 2, .. }
    ));
}

#[test]
fn variant_and_enum_vectors() {
    vector(Shape::Circle(1.0), &[0x00, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    vector(Shape::Rectangle(Point { x: 2, y: 3 }), &[0x01, 0x02, 0x03]);
    vector(Shape::Nothing, &[0x02]);
    vector(Color::Red, &[0x00]);
    vector(Color::Blue, &[0x02]);
    let err = decode_err::<Shape>(&[0x03]);
    assert!(
        matches!(
            err,
            Error::UnknownCase {
                ty: "shape",
                index: 3,
                cases: 3
            }
        ),
        "{err}"
    );
    assert!(matches!(
        decode_err::<Color>(&[0x80, 0x01]),
        Error::UnknownCase { index: 128, .. }
    ));
}

#[test]
fn flags_vectors() {
    vector(Perms(0b101), &[0x05, 0x00]);
    vector(Perms(0x0800), &[0x00, 0x08]);
    vector(Twenty(0x0f_0001), &[0x01, 0x00, 0x0f]);
    let err = decode_err::<Perms>(&[0x00, 0x10]);
    assert!(
        matches!(
            err,
            Error::InvalidFlags {
                ty: "perms",
                count: 12
            }
        ),
        "{err}"
    );
    assert!(matches!(
        decode_err::<Twenty>(&[0, 0, 0x10]),
        Error::InvalidFlags { .. }
    ));
    assert!(matches!(
        decode_err::<Twenty>(&[0, 0]),
        Error::UnexpectedEnd { needed: 3, .. }
    ));
}

#[test]
fn resource_vectors() {
    struct Bucket;
    let own = ResourceOwn::<Bucket>::new(Bytes::from_static(b"abc"));
    assert_eq!(
        &wire::encode(own.clone()).unwrap()[..],
        [0x03, b'a', b'b', b'c']
    );
    assert_eq!(
        &wire::encode(own.borrow()).unwrap()[..],
        [0x03, b'a', b'b', b'c']
    );
    let decoded: ResourceBorrow<Bucket> = wire::decode(&Bytes::from_static(&[0x01, 0x07])).unwrap();
    assert_eq!(decoded.as_bytes().as_ref(), [0x07]);
}

#[test]
fn async_value_vectors() {
    // A resolved future is written inline; a pending one needs a transport.
    assert_eq!(
        &wire::encode(WitFuture::ready(5u32)).unwrap()[..],
        [0x01, 0x05]
    );
    assert!(matches!(
        wire::encode(WitFuture::new(async { 5u32 })),
        Err(Error::NoAsyncChannel)
    ));
    // Streams are always sent pending.
    assert!(matches!(
        wire::encode(WitStream::from(vec![1u32])),
        Err(Error::NoAsyncChannel)
    ));
    assert!(matches!(
        wire::encode(ByteStream::from(vec![1u8])),
        Err(Error::NoAsyncChannel)
    ));

    // Inline forms decode from a plain buffer; pending ones need a transport channel.
    let future: WitFuture<u32> = wire::decode(&Bytes::from_static(&[0x01, 0x05])).unwrap();
    assert_eq!(
        futures::executor::block_on(async { future.await }).unwrap(),
        5
    );
    let stream: WitStream<u32> = wire::decode(&Bytes::from_static(&[0x02, 0x01, 0x02])).unwrap();
    assert_eq!(
        futures::executor::block_on(stream.collect_all()).unwrap(),
        [1, 2]
    );
    let bytes: ByteStream = wire::decode(&Bytes::from_static(&[0x02, 0xaa, 0xbb])).unwrap();
    assert_eq!(
        &futures::executor::block_on(bytes.collect_all()).unwrap()[..],
        [0xaa, 0xbb]
    );
    assert!(matches!(
        decode_err::<WitFuture<u32>>(&[0x00]),
        Error::NoAsyncChannel
    ));
    assert!(matches!(
        decode_err::<WitStream<u32>>(&[0x00]),
        Error::NoAsyncChannel
    ));
    assert!(matches!(
        decode_err::<WitFuture<u32>>(&[0x02]),
        Error::InvalidTag {
            ty: "future",
            tag: 2
        }
    ));
}

#[test]
fn trailing_bytes_are_an_error() {
    assert!(matches!(
        decode_err::<u8>(&[0x01, 0x02]),
        Error::TrailingBytes { extra: 1 }
    ));
}

/// A value with one of everything that has no async parts.
type Composite = (
    (bool, u8, i8, u16, i16, u32, i32, u64, i64),
    (f32, f64, char, String),
    (
        Vec<u32>,
        Option<String>,
        Result<u64, String>,
        Result<(), ()>,
    ),
    (
        Bytes,
        Vec<Option<(i32, String)>>,
        Point,
        Shape,
        Color,
        Perms,
    ),
);

fn point() -> impl Strategy<Value = Point> {
    (any::<i32>(), any::<i32>()).prop_map(|(x, y)| Point { x, y })
}

fn composite() -> impl Strategy<Value = Composite> {
    (
        any::<(bool, u8, i8, u16, i16, u32, i32, u64, i64)>(),
        (
            any::<f32>().prop_filter("NaN is canonicalized", |f| !f.is_nan()),
            any::<f64>().prop_filter("NaN is canonicalized", |f| !f.is_nan()),
            any::<char>(),
            ".*",
        ),
        (
            prop::collection::vec(any::<u32>(), 0..20),
            any::<Option<String>>(),
            any::<Result<u64, String>>(),
            prop_oneof![Just(Ok(())), Just(Err(()))],
        ),
        (
            prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from),
            prop::collection::vec(any::<Option<(i32, String)>>(), 0..8),
            point(),
            prop_oneof![
                any::<f64>()
                    .prop_filter("NaN", |f| !f.is_nan())
                    .prop_map(Shape::Circle),
                point().prop_map(Shape::Rectangle),
                Just(Shape::Nothing),
            ],
            prop_oneof![Just(Color::Red), Just(Color::Green), Just(Color::Blue)],
            (0u16..1 << 12).prop_map(Perms),
        ),
    )
}

proptest! {
    #[test]
    fn composite_round_trips(value in composite()) {
        let bytes = wire::encode(value.clone()).unwrap();
        prop_assert_eq!(wire::decode::<Composite>(&bytes).unwrap(), value);
    }

    /// Every strict prefix of an encoding is reported as incomplete, with a need that is more
    /// than the prefix and no more than the whole: what a channel waits for is always right.
    #[test]
    fn prefixes_report_what_they_need(value in composite()) {
        let bytes = wire::encode(value).unwrap();
        for len in 0..bytes.len() {
            match wire::decode::<Composite>(&bytes.slice(..len)) {
                Err(Error::UnexpectedEnd { needed, available }) => {
                    prop_assert_eq!(available, len);
                    prop_assert!(needed > len && needed <= bytes.len(), "needed {} of {} at {}", needed, bytes.len(), len);
                }
                other => prop_assert!(false, "prefix of {} bytes: {:?}", len, other),
            }
        }
    }

    /// Valid encodings with a few bytes changed, cut or added decode or fail cleanly: mutants
    /// of real values reach far deeper into the decoders than random bytes.
    #[test]
    fn mutated_encodings_never_panic(
        value in composite(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut bytes = wire::encode(value).unwrap().to_vec();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
        }
        let _ = wire::decode::<Composite>(&Bytes::from(bytes));
    }

    /// Arbitrary bytes decode or fail cleanly; they never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let bytes = Bytes::from(bytes);
        let _ = wire::decode::<Composite>(&bytes);
        let _ = wire::decode::<Vec<Shape>>(&bytes);
        let _ = wire::decode::<(String, char, Option<Vec<Bytes>>)>(&bytes);
        let _ = wire::decode::<(WitStream<String>, WitFuture<u64>, ByteStream)>(&bytes);
    }
}
