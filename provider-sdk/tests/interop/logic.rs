//! What each function of the interop world computes. Servers on both sides run this, and
//! clients check every result against it, so a result is right only if both codecs agree.
//!
//! The peer generates one set of types for imports and another for exports; the functions are
//! written once, as a macro, and instantiated for each.

macro_rules! logic {
    () => {
        #[allow(dead_code)]
        pub fn transform(e: Everything) -> Everything {
            let mut a_list = e.a_list;
            a_list.reverse();
            a_list.push(a_list.len() as u32);
            let mut some_bytes = e.some_bytes.to_vec();
            some_bytes.reverse();
            let mut nested = e.nested;
            nested.reverse();
            nested.push(None);
            let (t0, t1, t2) = e.a_tuple;
            Everything {
                a_bool: !e.a_bool,
                a_u8: e.a_u8.wrapping_add(1),
                a_s8: e.a_s8.wrapping_neg(),
                a_u16: e.a_u16.wrapping_mul(3),
                a_s16: e.a_s16.wrapping_sub(7),
                a_u32: e.a_u32.rotate_left(5),
                a_s32: e.a_s32.wrapping_mul(-3),
                a_u64: e.a_u64.wrapping_add(u64::MAX / 3),
                a_s64: e.a_s64.wrapping_neg(),
                a_f32: e.a_f32 * 2.0,
                a_f64: e.a_f64 / 3.0,
                a_char: char::from_u32(e.a_char as u32 + 1).unwrap_or('?'),
                a_string: format!("{}!", e.a_string.to_uppercase()),
                a_list,
                some_bytes: some_bytes.into(),
                an_option: match e.an_option {
                    Some(s) => Some(s.len().to_string()),
                    None => Some("none".to_owned()),
                },
                a_result: match e.a_result {
                    Ok(n) => Err(n.to_string()),
                    Err(s) => Ok(s.len() as u32),
                },
                a_unit_result: match e.a_unit_result {
                    Ok(()) => Err(()),
                    Err(()) => Ok(()),
                },
                a_tuple: (
                    t0.wrapping_add(1),
                    t1.chars().rev().collect(),
                    Point { x: t2.y, y: t2.x },
                ),
                a_point: Point {
                    x: e.a_point.y,
                    y: e.a_point.x,
                },
                a_shape: match e.a_shape {
                    Shape::Circle(r) => Shape::Rectangle(Point { x: r as i32, y: 0 }),
                    Shape::Rectangle(_) => Shape::Nothing,
                    Shape::Nothing => Shape::Circle(1.5),
                },
                a_color: match e.a_color {
                    Color::Red => Color::Green,
                    Color::Green => Color::Blue,
                    Color::Blue => Color::Red,
                },
                some_permissions: e.some_permissions.complement(),
                many_flags: Many::from_bits_retain(e.many_flags.bits().rotate_left(3)),
                nested,
            }
        }

        #[allow(dead_code)]
        pub fn shapes(s: Vec<Shape>, c: Color) -> (Vec<Shape>, Option<Color>) {
            let some = (!s.is_empty()).then_some(c);
            let mut s = s;
            s.reverse();
            (s, some)
        }

        #[allow(dead_code)]
        pub fn fallible(fail: bool) -> Result<String, Shape> {
            if fail {
                Err(Shape::Circle(2.5))
            } else {
                Ok("fine".to_owned())
            }
        }

        #[allow(dead_code)]
        pub fn chars(s: String) -> Vec<char> {
            s.chars().collect()
        }

        #[allow(dead_code)]
        pub fn greet(name: String) -> String {
            format!("Hello, {name}!")
        }
    };
}

/// The functions over the types clients use (and our server).
pub(crate) mod imports {
    pub use crate::bindings::interop::test::types::{Color, Everything, Many, Point, Shape};
    logic!();
}

/// The functions over the types the peer's server handler uses.
pub(crate) mod exports {
    pub use crate::bindings::exports::interop::test::types::{
        Color, Everything, Many, Point, Shape,
    };
    logic!();
}

/// `len` bytes of the pattern `i % 251`.
pub(crate) fn pattern(len: usize) -> bytes::Bytes {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The length and byte sum of `bytes`.
pub(crate) fn checksum(bytes: &[u8]) -> (u64, u64) {
    (
        bytes.len() as u64,
        bytes.iter().map(|&b| u64::from(b)).sum(),
    )
}

/// `0..n`, as a stream of chunks of seven.
pub(crate) fn count_up(n: u32) -> Vec<Vec<u32>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(7)
        .map(<[u32]>::to_vec)
        .collect()
}

/// What `mixed` answers: its inputs summed up in text.
pub(crate) fn mixed(a: u32, numbers: &[u32], name: &str, data: &[u8]) -> String {
    let sum: u64 = numbers.iter().map(|&n| u64::from(n)).sum();
    format!("{a} {name} {sum} {}", data.len())
}

/// A fixed `Everything` with something interesting in every field.
pub(crate) fn sample() -> imports::Everything {
    use imports::*;
    Everything {
        a_bool: true,
        a_u8: 255,
        a_s8: -128,
        a_u16: 300,
        a_s16: i16::MIN,
        a_u32: u32::MAX,
        a_s32: -2,
        a_u64: u64::MAX - 1,
        a_s64: i64::MIN + 1,
        a_f32: 1.5,
        a_f64: -1e300,
        a_char: '😀',
        a_string: "héllo, wörld".to_owned(),
        a_list: vec![0, 1, 127, 128, 300, u32::MAX],
        some_bytes: bytes::Bytes::from_static(&[0, 1, 2, 255]),
        an_option: Some("present".to_owned()),
        a_result: Err("failure".to_owned()),
        a_unit_result: Ok(()),
        a_tuple: (7, "tuple".to_owned(), Point { x: -1, y: 1 }),
        a_point: Point {
            x: i32::MAX,
            y: i32::MIN,
        },
        a_shape: Shape::Rectangle(Point { x: 3, y: 4 }),
        a_color: Color::Blue,
        some_permissions: crate::bindings::Permissions::READ
            | crate::bindings::Permissions::EXECUTE,
        many_flags: Many::from_bits_retain(0x8001),
        nested: vec![Some(Point { x: 1, y: 2 }), None],
    }
}
