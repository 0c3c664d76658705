//! Our codec for the peer's generated types: the `Encode`/`Decode` impls `generate!` writes for
//! a record, variant, enum or flags, spelled out by hand. Only the trait impls are ours; the
//! types are the peer's, so one value can be encoded by both codecs and compared.

use provider_sdk::Result;
use provider_sdk::wire::{ByteStream, Decode, Encode, Reader, Writer};

use crate::bindings::{Color, Everything, Many, Permissions, Point, Shape};

impl Encode for Point {
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_field(0, self.x)?;
        w.write_field(1, self.y)
    }
}

impl Decode for Point {
    const MIN_SIZE: usize = 2;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            x: r.read_field(0)?,
            y: r.read_field(1)?,
        })
    }
}

impl Encode for Shape {
    fn encode(self, w: &mut Writer) -> Result<()> {
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

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.read_case("shape", 3)? {
            0 => Shape::Circle(f64::decode(r)?),
            1 => Shape::Rectangle(Point::decode(r)?),
            _ => Shape::Nothing,
        })
    }
}

impl Encode for Color {
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_case(match self {
            Color::Red => 0,
            Color::Green => 1,
            Color::Blue => 2,
        });
        Ok(())
    }
}

impl Decode for Color {
    const MIN_SIZE: usize = 1;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.read_case("color", 3)? {
            0 => Color::Red,
            1 => Color::Green,
            _ => Color::Blue,
        })
    }
}

impl Encode for Permissions {
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_flags(self.bits().into(), 3);
        Ok(())
    }
}

impl Decode for Permissions {
    const MIN_SIZE: usize = 1;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let bits = r.read_flags("permissions", 3)?;
        Ok(Self::from_bits_retain(bits as u8))
    }
}

impl Encode for Many {
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_flags(self.bits().into(), 16);
        Ok(())
    }
}

impl Decode for Many {
    const MIN_SIZE: usize = 2;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let bits = r.read_flags("many", 16)?;
        Ok(Self::from_bits_retain(bits as u16))
    }
}

impl Encode for Everything {
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_field(0, self.a_bool)?;
        w.write_field(1, self.a_u8)?;
        w.write_field(2, self.a_s8)?;
        w.write_field(3, self.a_u16)?;
        w.write_field(4, self.a_s16)?;
        w.write_field(5, self.a_u32)?;
        w.write_field(6, self.a_s32)?;
        w.write_field(7, self.a_u64)?;
        w.write_field(8, self.a_s64)?;
        w.write_field(9, self.a_f32)?;
        w.write_field(10, self.a_f64)?;
        w.write_field(11, self.a_char)?;
        w.write_field(12, self.a_string)?;
        w.write_field(13, self.a_list)?;
        w.write_field(14, self.some_bytes)?;
        w.write_field(15, self.an_option)?;
        w.write_field(16, self.a_result)?;
        w.write_field(17, self.a_unit_result)?;
        w.write_field(18, self.a_tuple)?;
        w.write_field(19, self.a_point)?;
        w.write_field(20, self.a_shape)?;
        w.write_field(21, self.a_color)?;
        w.write_field(22, self.some_permissions)?;
        w.write_field(23, self.many_flags)?;
        w.write_field(24, self.nested)
    }
}

impl Decode for Everything {
    const MIN_SIZE: usize = bool::MIN_SIZE
        + u8::MIN_SIZE
        + i8::MIN_SIZE
        + u16::MIN_SIZE
        + i16::MIN_SIZE
        + u32::MIN_SIZE
        + i32::MIN_SIZE
        + u64::MIN_SIZE
        + i64::MIN_SIZE
        + f32::MIN_SIZE
        + f64::MIN_SIZE
        + char::MIN_SIZE
        + String::MIN_SIZE
        + Vec::<u32>::MIN_SIZE
        + bytes::Bytes::MIN_SIZE
        + Option::<String>::MIN_SIZE
        + Result::<u32, String>::MIN_SIZE
        + Result::<(), ()>::MIN_SIZE
        + <(u8, String, Point)>::MIN_SIZE
        + Point::MIN_SIZE
        + Shape::MIN_SIZE
        + Color::MIN_SIZE
        + Permissions::MIN_SIZE
        + Many::MIN_SIZE
        + Vec::<Option<Point>>::MIN_SIZE;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            a_bool: r.read_field(0)?,
            a_u8: r.read_field(1)?,
            a_s8: r.read_field(2)?,
            a_u16: r.read_field(3)?,
            a_s16: r.read_field(4)?,
            a_u32: r.read_field(5)?,
            a_s32: r.read_field(6)?,
            a_u64: r.read_field(7)?,
            a_s64: r.read_field(8)?,
            a_f32: r.read_field(9)?,
            a_f64: r.read_field(10)?,
            a_char: r.read_field(11)?,
            a_string: r.read_field(12)?,
            a_list: r.read_field(13)?,
            some_bytes: r.read_field(14)?,
            an_option: r.read_field(15)?,
            a_result: r.read_field(16)?,
            a_unit_result: r.read_field(17)?,
            a_tuple: r.read_field(18)?,
            a_point: r.read_field(19)?,
            a_shape: r.read_field(20)?,
            a_color: r.read_field(21)?,
            some_permissions: r.read_field(22)?,
            many_flags: r.read_field(23)?,
            nested: r.read_field(24)?,
        })
    }
}

/// `record holder { name: string, data: stream<u8> }`: the peer's type holds its own stream
/// type, so this side has its own record, as `generate!` would emit it.
#[derive(Debug)]
pub(crate) struct Holder {
    pub(crate) name: String,
    pub(crate) data: ByteStream,
}

impl Encode for Holder {
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_field(0, self.name)?;
        w.write_field(1, self.data)
    }
}

impl Decode for Holder {
    const MIN_SIZE: usize = String::MIN_SIZE + ByteStream::MIN_SIZE;
    const ASYNC: bool = true;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            name: r.read_field(0)?,
            data: r.read_field(1)?,
        })
    }
}
