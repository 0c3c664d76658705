//! Reading a WAVE [`Value`] of a [`DynamicType`] from the bytes `generate!`'s code writes.
//!
//! As safe on hostile input as the static codec, by the same means: scalars go through the
//! static [`Decode`] impls, a count is checked by [`Reader::read_len`] against the bytes present
//! and [`Reader::limit`] (with the element type's minimum size) before anything is allocated, and
//! recursion follows the type, which is finite, never the input.
//!
//! A WAVE value takes more memory than its bytes on the wire (a `list<u8>` element is one byte
//! there and a [`Value`] of some 40 bytes here), so a list, handle or stream is also refused
//! when its elements would take more than [`MEMORY_PER_LIMIT_BYTE`] times the value limit in
//! memory ([`check_elements`]). That bounds one list; a value made of many small lists may
//! still take up to about 90 bytes of memory per byte on the wire.
//!
//! A value that may hold a pending `stream` or `future` is read into a [`Decoded`] tree first,
//! with the pending parts' sub-channels in it; [`Decoded::assemble`] makes the [`Value`] once
//! they have been read (see `pending.rs`).

use bytes::Bytes;
use wasm_wave::value::{Type as WaveType, Value};
use wasm_wave::wasm::{WasmValue, WasmValueError};

use super::ty::{DynamicType, Kind};
use crate::error::{Error, Result};
use crate::wire::{Decode, PendingChannel, Reader};

/// How much memory one list's, handle's or stream's decoded elements may take, per byte of the
/// value limit ([`Reader::limit`]).
pub const MEMORY_PER_LIMIT_BYTE: usize = 4;

/// What one decoded element costs in memory, at most: its [`Value`], and its [`Decoded`] while
/// pending parts are read.
const ELEMENT_COST: usize = size_of::<Value>() + size_of::<Decoded>();

/// Refuses `count` elements of `what` if they would take more memory than
/// [`MEMORY_PER_LIMIT_BYTE`] times `limit`, before they are allocated.
pub(super) fn check_elements(what: &'static str, count: usize, limit: usize) -> Result<()> {
    let budget = limit.saturating_mul(MEMORY_PER_LIMIT_BYTE);
    let needed = count.saturating_mul(ELEMENT_COST);
    if needed > budget {
        return Err(Error::TooLarge {
            what,
            needed: (needed / MEMORY_PER_LIMIT_BYTE) as u64,
            limit,
        });
    }
    Ok(())
}

/// Reads a value of type `ty`. A pending `stream` or `future` in it is
/// [`Error::NoAsyncChannel`]: only a call's channel can carry its contents.
pub fn decode(ty: &DynamicType, r: &mut Reader<'_>) -> Result<Value> {
    read(ty, r)?.assemble(ty)
}

/// A value read from the wire, whose pending parts may still have to be read from their
/// sub-channels. Its shape follows its type down to each pending part; what holds none is a
/// finished [`Value`].
pub(crate) enum Decoded {
    Done(Value),
    /// A list's elements, or an inline stream's.
    List(Vec<Decoded>),
    /// A record's fields or a tuple's elements.
    Fields(Vec<Decoded>),
    Variant(usize, Option<Box<Decoded>>),
    Option(Option<Box<Decoded>>),
    Result(std::result::Result<Option<Box<Decoded>>, Option<Box<Decoded>>>),
    /// A future that was sent resolved, and its value (`None` for a `future` without a type).
    Ready(Option<Box<Decoded>>),
    /// A stream or future whose contents follow on this sub-channel.
    Pending(Box<dyn PendingChannel>),
}

/// Reads the value at index `index` of a record, tuple or list, below its own path if it may
/// hold a pending stream or future, as `Reader::read_field` does.
pub(super) fn read_at(ty: &DynamicType, index: usize, r: &mut Reader<'_>) -> Result<Decoded> {
    if ty.is_async() {
        r.at(index, |r| read(ty, r))
    } else {
        read_plain(ty, r).map(Decoded::Done)
    }
}

/// Reads a value of type `ty`, its pending parts left to read.
pub(super) fn read(ty: &DynamicType, r: &mut Reader<'_>) -> Result<Decoded> {
    if !ty.is_async() {
        return read_plain(ty, r).map(Decoded::Done);
    }
    Ok(match ty.kind() {
        Kind::List(element) => {
            let len = r.read_len("list", element.min_size())?;
            Decoded::List(read_elements(element, len, 0, r)?)
        }
        Kind::Record(fields) => Decoded::Fields(
            fields
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| read_at(ty, i, r))
                .collect::<Result<_>>()?,
        ),
        Kind::Tuple(types) => Decoded::Fields(
            types
                .iter()
                .enumerate()
                .map(|(i, ty)| read_at(ty, i, r))
                .collect::<Result<_>>()?,
        ),
        Kind::Variant(cases) => {
            let index = r.read_case("variant", cases.len() as u32)? as usize;
            let payload = match &cases[index].1 {
                Some(ty) => Some(Box::new(read(ty, r)?)),
                None => None,
            };
            Decoded::Variant(index, payload)
        }
        Kind::Option(some) => Decoded::Option(match r.read_u8()? {
            0 => None,
            1 => Some(Box::new(read(some, r)?)),
            tag => return Err(Error::InvalidTag { ty: "option", tag }),
        }),
        Kind::Result { ok, err } => {
            let payload = |ty: &Option<DynamicType>, r: &mut Reader<'_>| match ty {
                Some(ty) => read(ty, r).map(|value| Some(Box::new(value))),
                None => Ok(None),
            };
            Decoded::Result(match r.read_u8()? {
                0 => Ok(payload(ok, r)?),
                1 => Err(payload(err, r)?),
                tag => return Err(Error::InvalidTag { ty: "result", tag }),
            })
        }
        Kind::Stream(element) => {
            let len = r.read_len("stream", element.min_size())?;
            if len == 0 {
                Decoded::Pending(r.pending_channel()?)
            } else {
                Decoded::List(read_elements(element, len, 0, r)?)
            }
        }
        Kind::Future(payload) => match r.read_u8()? {
            0 => Decoded::Pending(r.pending_channel()?),
            1 => Decoded::Ready(match payload {
                Some(ty) => Some(Box::new(read(ty, r)?)),
                None => None,
            }),
            tag => return Err(Error::InvalidTag { ty: "future", tag }),
        },
        // Types without async parts were read above.
        _ => read_plain(ty, r).map(Decoded::Done)?,
    })
}

/// Reads `len` elements (a count `read_len` checked), the first at index `first_index`.
pub(super) fn read_elements(
    element: &DynamicType,
    len: usize,
    first_index: usize,
    r: &mut Reader<'_>,
) -> Result<Vec<Decoded>> {
    if !element.is_async() {
        return Ok(read_plain_elements(element, len, r)?
            .into_iter()
            .map(Decoded::Done)
            .collect());
    }
    check_elements("list", len, r.limit())?;
    let mut items = Vec::with_capacity(len);
    for i in 0..len {
        items.push(wanting_rest(
            read_at(element, first_index + i, r),
            len - i - 1,
            element,
        )?);
    }
    Ok(items)
}

/// Reads `len` elements of a type without async parts.
fn read_plain_elements(
    element: &DynamicType,
    len: usize,
    r: &mut Reader<'_>,
) -> Result<Vec<Value>> {
    check_elements("list", len, r.limit())?;
    if matches!(element.kind(), Kind::U8) {
        return Ok(r
            .read_slice(len)?
            .iter()
            .map(|&b| Value::make_u8(b))
            .collect());
    }
    // `read_len` checked that `len * min_size` bytes are present, so this allocation is backed
    // by bytes that arrived; an element of no minimum size grows the list as it decodes.
    let mut items = Vec::with_capacity(if element.min_size() == 0 { 0 } else { len });
    for i in 0..len {
        items.push(wanting_rest(read_plain(element, r), len - i - 1, element)?);
    }
    Ok(items)
}

/// An element's result; if the bytes ran out, the need grown by what the `rest` elements after
/// it take at least, so that a channel waits for all of them at once (as `read_elements` does).
fn wanting_rest<V>(result: Result<V>, rest: usize, element: &DynamicType) -> Result<V> {
    result.map_err(|error| match error {
        Error::UnexpectedEnd { needed, available } => Error::UnexpectedEnd {
            needed: needed.saturating_add(rest.saturating_mul(element.min_size())),
            available,
        },
        error => error,
    })
}

/// Reads a value of a type without async parts.
fn read_plain(ty: &DynamicType, r: &mut Reader<'_>) -> Result<Value> {
    Ok(match ty.kind() {
        Kind::Bool => Value::make_bool(bool::decode(r)?),
        Kind::U8 => Value::make_u8(u8::decode(r)?),
        Kind::U16 => Value::make_u16(u16::decode(r)?),
        Kind::U32 => Value::make_u32(u32::decode(r)?),
        Kind::U64 => Value::make_u64(u64::decode(r)?),
        Kind::S8 => Value::make_s8(i8::decode(r)?),
        Kind::S16 => Value::make_s16(i16::decode(r)?),
        Kind::S32 => Value::make_s32(i32::decode(r)?),
        Kind::S64 => Value::make_s64(i64::decode(r)?),
        Kind::F32 => Value::make_float32(f32::decode(r)?),
        Kind::F64 => Value::make_float64(f64::decode(r)?),
        Kind::Char => Value::make_char(char::decode(r)?),
        Kind::String => Value::make_string(String::decode(r)?.into()),
        Kind::List(element) => {
            let len = r.read_len("list", element.min_size())?;
            let items = read_plain_elements(element, len, r)?;
            built(Value::make_list(ty.wave_type(), items))?
        }
        Kind::Handle { .. } => {
            let handle = Bytes::decode(r)?;
            check_elements("resource handle", handle.len(), r.limit())?;
            let bytes = handle.iter().map(|&b| Value::make_u8(b));
            built(Value::make_list(ty.wave_type(), bytes))?
        }
        Kind::Record(fields) => {
            let values = fields
                .iter()
                .map(|(name, ty)| Ok((&**name, read_plain(ty, r)?)))
                .collect::<Result<Vec<_>>>()?;
            built(Value::make_record(ty.wave_type(), values))?
        }
        Kind::Tuple(types) => {
            let values = types
                .iter()
                .map(|ty| read_plain(ty, r))
                .collect::<Result<Vec<_>>>()?;
            built(Value::make_tuple(ty.wave_type(), values))?
        }
        Kind::Variant(cases) => {
            let index = r.read_case("variant", cases.len() as u32)? as usize;
            let (name, payload) = &cases[index];
            let payload = payload.as_ref().map(|ty| read_plain(ty, r)).transpose()?;
            built(Value::make_variant(ty.wave_type(), name, payload))?
        }
        Kind::Enum(cases) => {
            let index = r.read_case("enum", cases.len() as u32)? as usize;
            built(Value::make_enum(ty.wave_type(), &cases[index]))?
        }
        Kind::Flags(flags) => {
            let bits = r.read_flags("flags", flags.len())?;
            let set = flags
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> i & 1 == 1)
                .map(|(_, name)| &**name);
            built(Value::make_flags(ty.wave_type(), set))?
        }
        Kind::Option(some) => {
            let value = match r.read_u8()? {
                0 => None,
                1 => Some(read_plain(some, r)?),
                tag => return Err(Error::InvalidTag { ty: "option", tag }),
            };
            built(Value::make_option(ty.wave_type(), value))?
        }
        Kind::Result { ok, err } => {
            let payload = |ty: &Option<DynamicType>, r: &mut Reader<'_>| {
                ty.as_ref().map(|ty| read_plain(ty, r)).transpose()
            };
            let value = match r.read_u8()? {
                0 => Ok(payload(ok, r)?),
                1 => Err(payload(err, r)?),
                tag => return Err(Error::InvalidTag { ty: "result", tag }),
            };
            built(Value::make_result(ty.wave_type(), value))?
        }
        // Streams and futures are async: `read` takes them.
        Kind::Stream(_) | Kind::Future(_) => return read(ty, r)?.assemble(ty),
    })
}

impl Decoded {
    /// The finished value; [`Error::NoAsyncChannel`] if a pending part has not been read.
    pub(crate) fn assemble(self, ty: &DynamicType) -> Result<Value> {
        let wave = ty.wave_type();
        let part = |part: Option<Box<Decoded>>, ty: Option<&DynamicType>| match (part, ty) {
            (Some(part), Some(ty)) => part.assemble(ty).map(Some),
            _ => Ok(None),
        };
        Ok(match (self, ty.kind()) {
            (Decoded::Done(value), _) => value,
            (Decoded::Pending(_), _) => return Err(Error::NoAsyncChannel),
            (Decoded::List(items), Kind::List(element) | Kind::Stream(element)) => {
                let items = items
                    .into_iter()
                    .map(|item| item.assemble(element))
                    .collect::<Result<Vec<_>>>()?;
                built(Value::make_list(wave, items))?
            }
            (Decoded::Fields(values), Kind::Record(fields)) => {
                let values = values
                    .into_iter()
                    .zip(fields.iter())
                    .map(|(value, (name, ty))| Ok((&**name, value.assemble(ty)?)))
                    .collect::<Result<Vec<_>>>()?;
                built(Value::make_record(wave, values))?
            }
            (Decoded::Fields(values), Kind::Tuple(types)) => {
                let values = values
                    .into_iter()
                    .zip(types.iter())
                    .map(|(value, ty)| value.assemble(ty))
                    .collect::<Result<Vec<_>>>()?;
                built(Value::make_tuple(wave, values))?
            }
            (Decoded::Variant(index, payload), Kind::Variant(cases)) => {
                let (name, ty) = cases.get(index).ok_or_else(shape_error)?;
                built(Value::make_variant(wave, name, part(payload, ty.as_ref())?))?
            }
            (Decoded::Option(value), Kind::Option(some)) => {
                built(Value::make_option(wave, part(value, Some(some))?))?
            }
            (Decoded::Result(Ok(value)), Kind::Result { ok, .. }) => {
                built(Value::make_result(wave, Ok(part(value, ok.as_ref())?)))?
            }
            (Decoded::Result(Err(value)), Kind::Result { err, .. }) => {
                built(Value::make_result(wave, Err(part(value, err.as_ref())?)))?
            }
            (Decoded::Ready(Some(value)), Kind::Future(Some(ty))) => value.assemble(ty)?,
            (Decoded::Ready(None), Kind::Future(None)) => unit_future(wave)?,
            _ => return Err(shape_error()),
        })
    }
}

/// The value of a resolved `future` without a type: `ok`.
fn unit_future(wave: &WaveType) -> Result<Value> {
    built(Value::make_result(wave, Ok(None)))
}

/// A value built from parts decoded as its own type, which WAVE accepts; its error, should it
/// ever refuse, is reported rather than unwrapped.
fn built(value: std::result::Result<Value, WasmValueError>) -> Result<Value> {
    value.map_err(|error| Error::InvalidValue {
        path: "decoded value".to_owned(),
        reason: error.to_string(),
    })
}

/// A decoded tree that does not follow its type: a bug in this module, reported, not a panic.
fn shape_error() -> Error {
    Error::InvalidValue {
        path: "decoded value".to_owned(),
        reason: "internal error: the decoded parts do not follow the type".to_owned(),
    }
}
