//! [`Encode`] and [`Decode`] for the Rust types WIT's built-in types map to.

use bytes::Bytes;

use super::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};

impl Encode for bool {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_u8(self.into());
        Ok(())
    }
}

impl Decode for bool {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(Error::InvalidBool(byte)),
        }
    }
}

impl Encode for u8 {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_u8(self);
        Ok(())
    }
}

impl Decode for u8 {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_u8()
    }
}

impl Encode for i8 {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_u8(self as u8);
        Ok(())
    }
}

impl Decode for i8 {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_u8().map(|byte| byte as i8)
    }
}

macro_rules! leb128 {
    ($($ty:ty: $bits:literal, $write:ident, $read:ident, $wide:ty;)*) => {$(
        impl Encode for $ty {
            #[inline]
            fn encode(self, w: &mut Writer) -> Result<()> {
                w.$write(<$wide>::from(self));
                Ok(())
            }
        }

        impl Decode for $ty {
            const MIN_SIZE: usize = 1;

            #[inline]
            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                // `$read` checked that the value fits in `$bits` bits.
                r.$read($bits, stringify!($ty)).map(|value| value as $ty)
            }
        }
    )*};
}

leb128! {
    u16: 16, write_unsigned, read_unsigned, u64;
    u32: 32, write_unsigned, read_unsigned, u64;
    u64: 64, write_unsigned, read_unsigned, u64;
    i16: 16, write_signed, read_signed, i64;
    i32: 32, write_signed, read_signed, i64;
    i64: 64, write_signed, read_signed, i64;
}

impl Encode for f32 {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        let value = if self.is_nan() {
            f32::from_bits(0x7fc0_0000)
        } else {
            self
        };
        w.write_slice(&value.to_le_bytes());
        Ok(())
    }
}

impl Decode for f32 {
    const MIN_SIZE: usize = 4;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_array().map(f32::from_le_bytes)
    }
}

impl Encode for f64 {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        let value = if self.is_nan() {
            f64::from_bits(0x7ff8_0000_0000_0000)
        } else {
            self
        };
        w.write_slice(&value.to_le_bytes());
        Ok(())
    }
}

impl Decode for f64 {
    const MIN_SIZE: usize = 8;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_array().map(f64::from_le_bytes)
    }
}

impl Encode for char {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_slice(self.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }
}

impl Decode for char {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let first = r.read_u8()?;
        let len = match first {
            0x00..=0x7f => return Ok(char::from(first)),
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return Err(Error::InvalidChar),
        };
        let rest = r.read_slice(len - 1)?;
        let mut utf8 = [first, 0, 0, 0];
        utf8[1..len].copy_from_slice(rest);
        std::str::from_utf8(&utf8[..len])
            .ok()
            .and_then(|s| s.chars().next())
            .ok_or(Error::InvalidChar)
    }
}

impl Encode for &str {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_len("string", self.len())?;
        w.write_slice(self.as_bytes());
        Ok(())
    }
}

impl Encode for &String {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        self.as_str().encode(w)
    }
}

impl Encode for String {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        self.as_str().encode(w)
    }
}

impl Decode for String {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.read_len("string", 1)?;
        let bytes = r.read_slice(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(err) => Err(Error::InvalidUtf8 {
                valid_up_to: err.valid_up_to(),
            }),
        }
    }
}

/// `list<u8>`, without copying on the way in.
impl Encode for &Bytes {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_len("list<u8>", self.len())?;
        w.write_slice(self);
        Ok(())
    }
}

/// `list<u8>`, without copying on the way in.
impl Encode for Bytes {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        (&self).encode(w)
    }
}

/// `list<u8>`, without copying on the way in.
impl Decode for Bytes {
    const MIN_SIZE: usize = 1;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.read_len("list<u8>", 1)?;
        r.read_bytes(len)
    }
}

/// `list<u8>` from borrowed bytes: encodes like [`Bytes`], without owning them. Generated
/// clients take `list<u8>` params as `&[u8]` and send them through this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSlice<'a>(pub &'a [u8]);

impl Encode for ByteSlice<'_> {
    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_len("list<u8>", self.0.len())?;
        w.write_slice(self.0);
        Ok(())
    }
}

impl<T: Encode> Encode for Vec<T> {
    const ASYNC: bool = T::ASYNC;

    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_len("list", self.len())?;
        w.write_elements(self, 0)
    }
}

impl<'a, T> Encode for &'a [T]
where
    &'a T: Encode,
{
    const ASYNC: bool = <&'a T>::ASYNC;

    fn encode(self, w: &mut Writer) -> Result<()> {
        w.write_len("list", self.len())?;
        w.write_elements(self, 0)
    }
}

impl<'a, T> Encode for &'a Vec<T>
where
    &'a T: Encode,
{
    const ASYNC: bool = <&'a T>::ASYNC;

    fn encode(self, w: &mut Writer) -> Result<()> {
        self.as_slice().encode(w)
    }
}

impl<T: Decode> Decode for Vec<T> {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = T::ASYNC;

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.read_len("list", T::MIN_SIZE)?;
        r.read_elements(len, 0)
    }
}

impl<T: Encode> Encode for Option<T> {
    const ASYNC: bool = T::ASYNC;

    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        match self {
            None => {
                w.write_u8(0);
                Ok(())
            }
            Some(value) => {
                w.write_u8(1);
                value.encode(w)
            }
        }
    }
}

impl<'a, T> Encode for &'a Option<T>
where
    &'a T: Encode,
{
    const ASYNC: bool = <&'a T>::ASYNC;

    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        self.as_ref().encode(w)
    }
}

impl<T: Decode> Decode for Option<T> {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = T::ASYNC;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            0 => Ok(None),
            1 => T::decode(r).map(Some),
            tag => Err(Error::InvalidTag { ty: "option", tag }),
        }
    }
}

impl<T: Encode, E: Encode> Encode for Result<T, E> {
    const ASYNC: bool = T::ASYNC || E::ASYNC;

    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        match self {
            Ok(value) => {
                w.write_u8(0);
                value.encode(w)
            }
            Err(error) => {
                w.write_u8(1);
                error.encode(w)
            }
        }
    }
}

impl<'a, T, E> Encode for &'a Result<T, E>
where
    &'a T: Encode,
    &'a E: Encode,
{
    const ASYNC: bool = <&'a T>::ASYNC || <&'a E>::ASYNC;

    #[inline]
    fn encode(self, w: &mut Writer) -> Result<()> {
        self.as_ref().encode(w)
    }
}

impl<T: Decode, E: Decode> Decode for Result<T, E> {
    const MIN_SIZE: usize = 1;
    const ASYNC: bool = T::ASYNC || E::ASYNC;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            0 => T::decode(r).map(Ok),
            1 => E::decode(r).map(Err),
            tag => Err(Error::InvalidTag { ty: "result", tag }),
        }
    }
}

/// References to `Copy` primitives encode like the values, so `&[u32]` and `&Option<u64>` work.
macro_rules! by_ref {
    ($($ty:ty),*) => {$(
        impl Encode for &$ty {
            #[inline]
            fn encode(self, w: &mut Writer) -> Result<()> {
                (*self).encode(w)
            }
        }
    )*};
}

by_ref!(
    bool, u8, i8, u16, u32, u64, i16, i32, i64, f32, f64, char, &str
);

impl Encode for () {
    #[inline]
    fn encode(self, _: &mut Writer) -> Result<()> {
        Ok(())
    }
}

impl Encode for &() {
    #[inline]
    fn encode(self, _: &mut Writer) -> Result<()> {
        Ok(())
    }
}

impl Decode for () {
    const MIN_SIZE: usize = 0;

    #[inline]
    fn decode(_: &mut Reader<'_>) -> Result<Self> {
        Ok(())
    }
}

macro_rules! tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            const ASYNC: bool = $($name::ASYNC)||+;

            #[inline]
            fn encode(self, w: &mut Writer) -> Result<()> {
                $(w.write_field($index, self.$index)?;)+
                Ok(())
            }
        }

        impl<'a, $($name),+> Encode for &'a ($($name,)+)
        where
            $(&'a $name: Encode),+
        {
            const ASYNC: bool = $(<&'a $name>::ASYNC)||+;

            #[inline]
            fn encode(self, w: &mut Writer) -> Result<()> {
                $(w.write_field($index, &self.$index)?;)+
                Ok(())
            }
        }

        impl<$($name: Decode),+> Decode for ($($name,)+) {
            const MIN_SIZE: usize = 0 $(+ $name::MIN_SIZE)+;
            const ASYNC: bool = $($name::ASYNC)||+;

            #[inline]
            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                Ok(($(r.read_field::<$name>($index)?,)+))
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
