//! LEB128 integers, as the Component Model value encoding uses them.
//!
//! Unsigned integers are plain LEB128; signed integers are *signed* LEB128 (sign-extended, not
//! zigzag). A decoder accepts non-minimal encodings (as the WebAssembly binary format does) but
//! never more bytes than the type needs, and never bits beyond the type's width.

use bytes::{BufMut, BytesMut};

/// Writes `value` as unsigned LEB128.
#[inline]
pub(crate) fn put_unsigned(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Writes `value` as signed LEB128.
#[inline]
pub(crate) fn put_signed(buf: &mut BytesMut, mut value: i64) {
    loop {
        let byte = (value as u8) & 0x7f;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            buf.put_u8(byte);
            return;
        }
        buf.put_u8(byte | 0x80);
    }
}

/// The outcome of reading a LEB128 integer from a byte slice.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Leb {
    /// The value and how many bytes it took.
    Value(u64, usize),
    /// The slice ended inside the integer.
    Truncated,
    /// Too many bytes, or bits beyond the type's width.
    Invalid,
}

/// Reads an unsigned LEB128 integer of `bits` bits (at most 64) from the start of `bytes`.
#[inline]
pub(crate) fn get_unsigned(bytes: &[u8], bits: u32) -> Leb {
    let max_len = bits.div_ceil(7) as usize;
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(max_len) {
        let shift = 7 * i as u32;
        let payload = u64::from(byte & 0x7f);
        if i + 1 == max_len {
            // The last byte the type allows: no continuation, and no bits past `bits`.
            let spare = bits - shift;
            if byte & 0x80 != 0 || (spare < 7 && payload >> spare != 0) {
                return Leb::Invalid;
            }
            return Leb::Value(value | payload << shift, i + 1);
        }
        value |= payload << shift;
        if byte & 0x80 == 0 {
            return Leb::Value(value, i + 1);
        }
    }
    Leb::Truncated
}

/// Reads a signed LEB128 integer of `bits` bits (at most 64) from the start of `bytes`,
/// sign-extended to 64 bits and returned as its two's-complement bit pattern.
#[inline]
pub(crate) fn get_signed(bytes: &[u8], bits: u32) -> Leb {
    let max_len = bits.div_ceil(7) as usize;
    let mut value = 0i64;
    for (i, &byte) in bytes.iter().enumerate().take(max_len) {
        let shift = 7 * i as u32;
        let payload = i64::from(byte & 0x7f);
        if i + 1 == max_len {
            // The last byte: no continuation, and the bits past `bits` must repeat the sign bit.
            let spare = bits - shift;
            if byte & 0x80 != 0 {
                return Leb::Invalid;
            }
            if spare < 7 {
                let sign = (payload >> (spare - 1)) & 1;
                let high = payload >> spare;
                let expected = if sign == 1 { 0x7f >> spare } else { 0 };
                if high != expected {
                    return Leb::Invalid;
                }
            }
            value |= payload << shift;
            let used = shift + 7;
            if used < 64 && payload & 0x40 != 0 {
                value |= -1i64 << used;
            }
            return Leb::Value(value as u64, i + 1);
        }
        value |= payload << shift;
        if byte & 0x80 == 0 {
            let used = shift + 7;
            if payload & 0x40 != 0 {
                value |= -1i64 << used;
            }
            return Leb::Value(value as u64, i + 1);
        }
    }
    Leb::Truncated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(value: u64) -> Vec<u8> {
        let mut buf = BytesMut::new();
        put_unsigned(&mut buf, value);
        buf.to_vec()
    }

    fn signed(value: i64) -> Vec<u8> {
        let mut buf = BytesMut::new();
        put_signed(&mut buf, value);
        buf.to_vec()
    }

    #[test]
    fn unsigned_vectors() {
        assert_eq!(unsigned(0), [0x00]);
        assert_eq!(unsigned(127), [0x7f]);
        assert_eq!(unsigned(128), [0x80, 0x01]);
        assert_eq!(unsigned(300), [0xac, 0x02]);
        assert_eq!(unsigned(u32::MAX.into()), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(
            unsigned(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn signed_vectors() {
        assert_eq!(signed(0), [0x00]);
        assert_eq!(signed(-1), [0x7f]);
        assert_eq!(signed(-2), [0x7e]);
        assert_eq!(signed(63), [0x3f]);
        assert_eq!(signed(64), [0xc0, 0x00]);
        assert_eq!(signed(-64), [0x40]);
        assert_eq!(signed(-65), [0xbf, 0x7f]);
        assert_eq!(signed(i32::MIN.into()), [0x80, 0x80, 0x80, 0x80, 0x78]);
        assert_eq!(signed(i32::MAX.into()), [0xff, 0xff, 0xff, 0xff, 0x07]);
    }

    #[test]
    fn unsigned_limits() {
        assert_eq!(
            get_unsigned(&[0xff, 0xff, 0xff, 0xff, 0x0f], 32),
            Leb::Value(u32::MAX.into(), 5)
        );
        // A fifth byte with bits past 32.
        assert_eq!(
            get_unsigned(&[0xff, 0xff, 0xff, 0xff, 0x1f], 32),
            Leb::Invalid
        );
        // Six bytes for a u32.
        assert_eq!(
            get_unsigned(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 32),
            Leb::Invalid
        );
        // Non-minimal but within length: accepted, as in the WebAssembly binary format.
        assert_eq!(get_unsigned(&[0x80, 0x00], 32), Leb::Value(0, 2));
        assert_eq!(get_unsigned(&[0x80, 0x80], 32), Leb::Truncated);
        assert_eq!(get_unsigned(&[], 32), Leb::Truncated);
        assert_eq!(
            get_unsigned(&[0xff, 0xff, 0x03], 16),
            Leb::Value(u16::MAX.into(), 3)
        );
        assert_eq!(get_unsigned(&[0xff, 0xff, 0x04], 16), Leb::Invalid);
        assert_eq!(
            get_unsigned(
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                64
            ),
            Leb::Invalid
        );
    }

    #[test]
    fn signed_limits() {
        assert_eq!(
            get_signed(&[0x80, 0x80, 0x80, 0x80, 0x78], 32),
            Leb::Value(i32::MIN as i64 as u64, 5)
        );
        // Bits past 32 that do not repeat the sign bit.
        assert_eq!(
            get_signed(&[0x80, 0x80, 0x80, 0x80, 0x70], 32),
            Leb::Invalid
        );
        assert_eq!(
            get_signed(&[0xff, 0xff, 0xff, 0xff, 0x0f], 32),
            Leb::Invalid
        );
        assert_eq!(get_signed(&[0x7e], 32), Leb::Value(-2i64 as u64, 1));
        assert_eq!(get_signed(&[0xff, 0x7f], 16), Leb::Value(-1i64 as u64, 2));
        assert_eq!(
            get_signed(&[0x80, 0x80, 0x7e], 16),
            Leb::Value(i64::from(i16::MIN) as u64, 3)
        );
        assert_eq!(get_signed(&[0x80, 0x80, 0x7d], 16), Leb::Invalid);
        assert_eq!(get_signed(&[0x80], 64), Leb::Truncated);
    }

    #[test]
    fn round_trip_edges() {
        for value in [
            0,
            1,
            63,
            64,
            127,
            128,
            255,
            256,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let bytes = unsigned(value);
            assert_eq!(
                get_unsigned(&bytes, 64),
                Leb::Value(value, bytes.len()),
                "{value}"
            );
        }
        for value in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            i64::from(i32::MIN),
            i64::MAX,
            i64::MIN,
        ] {
            let bytes = signed(value);
            assert_eq!(
                get_signed(&bytes, 64),
                Leb::Value(value as u64, bytes.len()),
                "{value}"
            );
        }
    }
}
