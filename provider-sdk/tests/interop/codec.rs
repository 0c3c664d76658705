//! Our codec against the peer's (`wrpc-transport 0.29` plus the types `wit-bindgen-wrpc 0.11`
//! generates), in memory: the same value must give the same bytes, and each side must decode
//! what the other wrote.

use std::fmt::Debug;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use provider_sdk::wire::{self, Decode, Encode};
use tokio_util::codec::{Decoder as _, Encoder as _};

use crate::bindings::{Color, Everything, Many, Permissions, Point, Shape};

/// A channel that is never used: the peer's codecs want one for async values, which these
/// values do not have.
struct Nowhere;

impl wrpc_transport::Index<Nowhere> for Nowhere {
    fn index(&self, _: &[usize]) -> anyhow::Result<Self> {
        anyhow::bail!("no sub-channels in these values")
    }
}

impl tokio::io::AsyncWrite for Nowhere {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Err(std::io::ErrorKind::Unsupported.into()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncRead for Nowhere {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn peer_encode<T>(value: T) -> Bytes
where
    T: wrpc_transport::Encode<Nowhere>,
    <T::Encoder as tokio_util::codec::Encoder<T>>::Error: Debug,
{
    let mut buf = BytesMut::new();
    T::Encoder::default()
        .encode(value, &mut buf)
        .expect("the peer encodes");
    buf.freeze()
}

fn peer_decode<T>(bytes: &[u8]) -> T
where
    T: wrpc_transport::Decode<Nowhere>,
    <T::Decoder as tokio_util::codec::Decoder>::Error: Debug,
{
    let mut buf = BytesMut::from(bytes);
    let value = T::Decoder::default()
        .decode(&mut buf)
        .expect("the peer decodes")
        .expect("the value is complete");
    assert!(buf.is_empty(), "the peer left {} bytes", buf.len());
    value
}

/// Both codecs write the same bytes for `value`, and each decodes the other's.
fn same_bytes<T>(value: T) -> Result<(), TestCaseError>
where
    T: Encode
        + Decode
        + wrpc_transport::Encode<Nowhere>
        + wrpc_transport::Decode<Nowhere>
        + Clone
        + Debug,
    <<T as wrpc_transport::Encode<Nowhere>>::Encoder as tokio_util::codec::Encoder<T>>::Error:
        Debug,
    <<T as wrpc_transport::Decode<Nowhere>>::Decoder as tokio_util::codec::Decoder>::Error: Debug,
{
    let ours = wire::encode(value.clone()).expect("we encode");
    let theirs = peer_encode(value.clone());
    prop_assert_eq!(&ours, &theirs, "encodings of {:?}", value);
    let expected = format!("{value:?}");
    prop_assert_eq!(
        format!("{:?}", wire::decode::<T>(&theirs).expect("we decode")),
        expected.clone()
    );
    prop_assert_eq!(format!("{:?}", peer_decode::<T>(&ours)), expected);
    Ok(())
}

fn point() -> impl Strategy<Value = Point> {
    any::<(i32, i32)>().prop_map(|(x, y)| Point { x, y })
}

fn float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("NaN != NaN", |f| !f.is_nan())
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        float().prop_map(Shape::Circle),
        point().prop_map(Shape::Rectangle),
        Just(Shape::Nothing)
    ]
}

fn color() -> impl Strategy<Value = Color> {
    prop_oneof![Just(Color::Red), Just(Color::Green), Just(Color::Blue)]
}

fn everything() -> impl Strategy<Value = Everything> {
    (
        any::<(bool, u8, i8, u16, i16, u32, i32, u64, i64)>(),
        (
            any::<f32>().prop_filter("NaN != NaN", |f| !f.is_nan()),
            float(),
            any::<char>(),
            ".*",
        ),
        (
            prop::collection::vec(any::<u32>(), 0..10),
            prop::collection::vec(any::<u8>(), 0..100),
            any::<Option<String>>(),
            any::<Result<u32, String>>(),
            any::<bool>(),
        ),
        (
            (any::<u8>(), ".*", point()),
            point(),
            shape(),
            color(),
            0u8..8,
            any::<u16>(),
        ),
        prop::collection::vec(prop::option::of(point()), 0..5),
    )
        .prop_map(
            |(ints, (a_f32, a_f64, a_char, a_string), lists, compound, nested)| {
                let (a_bool, a_u8, a_s8, a_u16, a_s16, a_u32, a_s32, a_u64, a_s64) = ints;
                let (a_list, some_bytes, an_option, a_result, unit_ok) = lists;
                let (a_tuple, a_point, a_shape, a_color, permissions, many) = compound;
                Everything {
                    a_bool,
                    a_u8,
                    a_s8,
                    a_u16,
                    a_s16,
                    a_u32,
                    a_s32,
                    a_u64,
                    a_s64,
                    a_f32,
                    a_f64,
                    a_char,
                    a_string,
                    a_list,
                    some_bytes: some_bytes.into(),
                    an_option,
                    a_result,
                    a_unit_result: if unit_ok { Ok(()) } else { Err(()) },
                    a_tuple,
                    a_point,
                    a_shape,
                    a_color,
                    some_permissions: Permissions::from_bits_retain(permissions),
                    many_flags: Many::from_bits_retain(many),
                    nested,
                }
            },
        )
}

proptest! {
    #[test]
    fn records_variants_enums_flags(value in everything()) {
        same_bytes(value)?;
    }

    #[test]
    fn lists_of_variants(shapes in prop::collection::vec(shape(), 0..20), c in color()) {
        same_bytes((shapes, c))?;
    }

    #[test]
    fn integers(value in any::<(u8, i8, u16, i16, u32, i32, u64, i64)>()) {
        same_bytes(value)?;
    }

    #[test]
    fn text(s in ".*", c in any::<char>(), chars in prop::collection::vec(any::<char>(), 0..20)) {
        same_bytes((s, c, chars))?;
    }

    #[test]
    fn options_and_results(
        o in any::<Option<Option<u32>>>(),
        r in any::<Result<String, i64>>(),
        n in any::<Option<Result<u8, bool>>>(),
    ) {
        same_bytes((o, r, n))?;
    }

    #[test]
    fn byte_lists(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        same_bytes((Bytes::from(bytes),))?;
    }
}

#[test]
fn flags_widths_the_peer_gets_right() {
    // 3 flags in one byte, 16 in two: the widths where the peer writes ceil(n / 8) bytes.
    assert_eq!(
        &wire::encode(Permissions::READ | Permissions::EXECUTE).unwrap()[..],
        [0x05]
    );
    assert_eq!(
        &peer_encode(Permissions::READ | Permissions::EXECUTE)[..],
        [0x05]
    );
    assert_eq!(
        &wire::encode(Many::from_bits_retain(0x8001)).unwrap()[..],
        [0x01, 0x80]
    );
}

#[test]
fn the_sample_value() {
    let sample = crate::logic::sample();
    let ours = wire::encode(sample.clone()).unwrap();
    assert_eq!(ours, peer_encode(sample));
}
