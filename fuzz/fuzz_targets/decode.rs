//! Decodes arbitrary bytes as a range of WIT types. Decoding must never panic or allocate beyond
//! what the input backs, and whatever decodes must survive a round trip unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use provider_sdk::wire::{self, Bytes, ByteStream, Decode, Encode, Reader, WitFuture, WitStream, Writer};

/// What `generate!` emits for a record, a variant and flags.
#[derive(Debug)]
struct Record {
    name: String,
    tags: Vec<(u16, char)>,
    shape: Shape,
    flags: u32,
}

#[derive(Debug)]
enum Shape {
    Circle(f64),
    Polygon(Vec<(i32, i32)>),
    Empty,
}

impl Encode for Record {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        w.write_field(0, self.name)?;
        w.write_field(1, self.tags)?;
        w.write_field(2, self.shape)?;
        w.write_flags(self.flags.into(), 20);
        Ok(())
    }
}

impl Decode for Record {
    const MIN_SIZE: usize = 1 + 1 + 1 + 3;

    fn decode(r: &mut Reader<'_>) -> provider_sdk::Result<Self> {
        Ok(Self {
            name: r.read_field(0)?,
            tags: r.read_field(1)?,
            shape: r.read_field(2)?,
            flags: r.read_flags("record.flags", 20)? as u32,
        })
    }
}

impl Encode for Shape {
    fn encode(self, w: &mut Writer) -> provider_sdk::Result<()> {
        match self {
            Shape::Circle(r) => {
                w.write_case(0);
                r.encode(w)
            }
            Shape::Polygon(points) => {
                w.write_case(1);
                points.encode(w)
            }
            Shape::Empty => {
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
            1 => Shape::Polygon(Vec::decode(r)?),
            _ => Shape::Empty,
        })
    }
}

/// Decodes `bytes` as `T`; if that works, checks that encoding and decoding again agrees.
fn check<T: Decode + Encode + std::fmt::Debug>(bytes: &Bytes) {
    let Ok(value) = wire::decode::<T>(bytes) else { return };
    let before = format!("{value:?}");
    let encoded = wire::encode(value).expect("a decoded value encodes");
    let again = wire::decode::<T>(&encoded).expect("an encoded value decodes");
    assert_eq!(before, format!("{again:?}"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let bytes = Bytes::copy_from_slice(rest);
    match selector % 8 {
        0 => check::<(bool, u8, i8, u16, i16, u32, i32, u64, i64)>(&bytes),
        1 => check::<(f32, f64, char, String)>(&bytes),
        2 => check::<Vec<Option<Result<String, Vec<u8>>>>>(&bytes),
        3 => check::<(Bytes, Vec<Bytes>, Option<Bytes>)>(&bytes),
        4 => check::<Record>(&bytes),
        5 => check::<Vec<Record>>(&bytes),
        6 => check::<(Result<(), ()>, Option<()>, Vec<()>)>(&bytes),
        _ => {
            // Pending async values have no channel here and must fail cleanly; inline ones decode.
            let _ = wire::decode::<(WitStream<String>, WitFuture<u64>, ByteStream)>(&bytes);
        }
    }
});
