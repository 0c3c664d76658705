//! Writing a WAVE [`Value`] as its [`DynamicType`] says, byte for byte as `generate!`'s code
//! writes the same value.
//!
//! Scalars go through the static codec's own [`Encode`] impls, and containers call the same
//! [`Writer`] helpers in the same order as generated code, so the two cannot drift apart. A
//! value is checked against its type as it is written: one that does not fit is
//! [`Error::InvalidValue`], naming where it is (`.people[1].name`), never a panic.

use std::borrow::Cow;

use wasm_wave::value::Value;
use wasm_wave::wasm::{WasmTypeKind, WasmValue};

use super::ty::{DynamicType, Kind};
use crate::error::{Error, Result};
use crate::wire::{ByteSlice, ByteStream, Encode, WitStream, Writer};

/// Writes `value`, of type `ty`.
pub fn encode(value: &Value, ty: &DynamicType, w: &mut Writer) -> Result<()> {
    write(value, ty, w).map_err(|error| at_root(error, "value"))
}

/// Writes `values` as a tuple of `types`, as a call's parameters or results travel; `label`
/// names an element in errors (`arg` gives `arg 2 .field`).
pub(super) fn encode_tuple(
    values: &[Value],
    types: &[(String, DynamicType)],
    label: &str,
    w: &mut Writer,
) -> Result<()> {
    if values.len() != types.len() {
        return Err(Error::InvalidValue {
            path: format!("{label}s"),
            reason: format!("expected {} values, found {}", types.len(), values.len()),
        });
    }
    for (i, (value, (_, ty))) in values.iter().zip(types).enumerate() {
        write_at(i, value, ty, w).map_err(|error| at_root(error, &format!("{label} {i}")))?;
    }
    Ok(())
}

/// A value with its type: it encodes as the static value would, so it goes wherever an
/// [`Encode`] goes ([`wire::encode`](crate::wire::encode), a tuple of params for
/// [`Client::invoke`](crate::transport::Client::invoke)).
#[derive(Clone, Copy, Debug)]
pub struct Typed<'a> {
    value: &'a Value,
    ty: &'a DynamicType,
}

impl<'a> Typed<'a> {
    /// `value`, to be encoded as type `ty`.
    pub fn new(value: &'a Value, ty: &'a DynamicType) -> Self {
        Self { value, ty }
    }
}

impl Encode for Typed<'_> {
    // Conservative: a container then tracks the path below it, which only matters (and is
    // right) where the type is async.
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        encode(self.value, self.ty, w)
    }
}

/// Writes the value at index `index` of a record, tuple or list: below its own path if it may
/// hold a pending stream or future, as `Writer::write_field` does.
fn write_at(index: usize, value: &Value, ty: &DynamicType, w: &mut Writer) -> Result<()> {
    if ty.is_async() {
        w.at(index, |w| write(value, ty, w))
    } else {
        write(value, ty, w)
    }
}

fn write(value: &Value, ty: &DynamicType, w: &mut Writer) -> Result<()> {
    match ty.kind() {
        Kind::Bool => expect(value, WasmTypeKind::Bool, ty)?
            .unwrap_bool()
            .encode(w),
        Kind::U8 => expect(value, WasmTypeKind::U8, ty)?.unwrap_u8().encode(w),
        Kind::U16 => expect(value, WasmTypeKind::U16, ty)?.unwrap_u16().encode(w),
        Kind::U32 => expect(value, WasmTypeKind::U32, ty)?.unwrap_u32().encode(w),
        Kind::U64 => expect(value, WasmTypeKind::U64, ty)?.unwrap_u64().encode(w),
        Kind::S8 => expect(value, WasmTypeKind::S8, ty)?.unwrap_s8().encode(w),
        Kind::S16 => expect(value, WasmTypeKind::S16, ty)?.unwrap_s16().encode(w),
        Kind::S32 => expect(value, WasmTypeKind::S32, ty)?.unwrap_s32().encode(w),
        Kind::S64 => expect(value, WasmTypeKind::S64, ty)?.unwrap_s64().encode(w),
        Kind::F32 => expect(value, WasmTypeKind::Float32, ty)?
            .unwrap_float32()
            .encode(w),
        Kind::F64 => expect(value, WasmTypeKind::Float64, ty)?
            .unwrap_float64()
            .encode(w),
        Kind::Char => expect(value, WasmTypeKind::Char, ty)?
            .unwrap_char()
            .encode(w),
        Kind::String => expect(value, WasmTypeKind::String, ty)?
            .unwrap_string()
            .as_ref()
            .encode(w),
        Kind::List(element) => write_list(value, ty, element, w),
        Kind::Handle { .. } => ByteSlice(&bytes(value, ty)?).encode(w),
        Kind::Record(fields) => {
            let found: Vec<(Cow<'_, str>, Cow<'_, Value>)> =
                expect(value, WasmTypeKind::Record, ty)?
                    .unwrap_record()
                    .collect();
            if found.len() != fields.len()
                || found.iter().zip(fields).any(|((a, _), (b, _))| **a != **b)
            {
                return Err(mismatch(format!(
                    "expected a record with fields {}, found one with {}",
                    names(fields.iter().map(|(name, _)| &**name)),
                    names(found.iter().map(|(name, _)| &**name)),
                )));
            }
            for (i, ((name, value), (_, ty))) in found.iter().zip(fields).enumerate() {
                write_at(i, value, ty, w).map_err(|error| within(error, &format!(".{name}")))?;
            }
            Ok(())
        }
        Kind::Tuple(types) => {
            let found: Vec<Cow<'_, Value>> = expect(value, WasmTypeKind::Tuple, ty)?
                .unwrap_tuple()
                .collect();
            if found.len() != types.len() {
                return Err(mismatch(format!(
                    "expected a tuple of {} values, found {}",
                    types.len(),
                    found.len()
                )));
            }
            for (i, (value, ty)) in found.iter().zip(types).enumerate() {
                write_at(i, value, ty, w).map_err(|error| within(error, &format!(".{i}")))?;
            }
            Ok(())
        }
        Kind::Variant(cases) => {
            let (name, payload) = expect(value, WasmTypeKind::Variant, ty)?.unwrap_variant();
            let index = cases
                .iter()
                .position(|(case, _)| **case == *name)
                .ok_or_else(|| unknown_case(&name, cases.iter().map(|(case, _)| &**case)))?;
            w.write_case(index as u32);
            write_payload(payload.as_deref(), cases[index].1.as_ref(), &name, w)
        }
        Kind::Enum(cases) => {
            let name = expect(value, WasmTypeKind::Enum, ty)?.unwrap_enum();
            let index = cases
                .iter()
                .position(|case| **case == *name)
                .ok_or_else(|| unknown_case(&name, cases.iter().map(|case| &**case)))?;
            w.write_case(index as u32);
            Ok(())
        }
        Kind::Flags(flags) => {
            let mut bits = 0u128;
            for name in expect(value, WasmTypeKind::Flags, ty)?.unwrap_flags() {
                let index = flags
                    .iter()
                    .position(|flag| **flag == *name)
                    .ok_or_else(|| unknown_case(&name, flags.iter().map(|flag| &**flag)))?;
                bits |= 1 << index;
            }
            w.write_flags(bits, flags.len());
            Ok(())
        }
        Kind::Option(some) => match expect(value, WasmTypeKind::Option, ty)?.unwrap_option() {
            None => {
                w.write_u8(0);
                Ok(())
            }
            Some(value) => {
                w.write_u8(1);
                write(&value, some, w).map_err(|error| within(error, ".some"))
            }
        },
        Kind::Result { ok, err } => {
            match expect(value, WasmTypeKind::Result, ty)?.unwrap_result() {
                Ok(payload) => {
                    w.write_u8(0);
                    write_payload(payload.as_deref(), ok.as_ref(), "ok", w)
                }
                Err(payload) => {
                    w.write_u8(1);
                    write_payload(payload.as_deref(), err.as_ref(), "err", w)
                }
            }
        }
        Kind::Stream(element) => write_stream(value, ty, element, w),
        Kind::Future(payload) => {
            // Sent resolved (`01` then the value), as `WitFuture::ready` is.
            w.write_u8(1);
            match payload {
                Some(payload) => write(value, payload, w),
                None => match expect(value, WasmTypeKind::Result, ty)?.unwrap_result() {
                    Ok(None) => Ok(()),
                    _ => Err(mismatch(
                        "a `future` without a type is written `ok`".to_owned(),
                    )),
                },
            }
        }
    }
}

fn write_list(
    value: &Value,
    ty: &DynamicType,
    element: &DynamicType,
    w: &mut Writer,
) -> Result<()> {
    if matches!(element.kind(), Kind::U8) {
        return ByteSlice(&bytes(value, ty)?).encode(w);
    }
    let items: Vec<Cow<'_, Value>> = expect(value, WasmTypeKind::List, ty)?
        .unwrap_list()
        .collect();
    w.write_len("list", items.len())?;
    for (i, item) in items.iter().enumerate() {
        write_at(i, item, element, w).map_err(|error| within(error, &format!("[{i}]")))?;
    }
    Ok(())
}

/// A stream is sent pending, its elements on its sub-channel, as `WitStream` and `ByteStream`
/// send theirs (in the same chunks).
fn write_stream(
    value: &Value,
    ty: &DynamicType,
    element: &DynamicType,
    w: &mut Writer,
) -> Result<()> {
    if matches!(element.kind(), Kind::U8) {
        return ByteStream::from(bytes(value, ty)?).encode(w);
    }
    let items: Vec<Cow<'_, Value>> = expect(value, WasmTypeKind::List, ty)?
        .unwrap_list()
        .collect();
    // The elements are written later, on the sub-channel, where an error could only end the
    // stream early: check them now, where it can be reported.
    let mut check = Writer::new();
    for (i, item) in items.iter().enumerate() {
        write_at(i, item, element, &mut check).map_err(|error| within(error, &format!("[{i}]")))?;
    }
    let items: Vec<Owned> = items
        .into_iter()
        .map(|item| Owned {
            value: item.into_owned(),
            ty: element.clone(),
        })
        .collect();
    WitStream::from(items).encode(w)
}

/// A value with its type, owned, for the static codec's stream to send.
struct Owned {
    value: Value,
    ty: DynamicType,
}

impl Encode for Owned {
    const ASYNC: bool = true;

    fn encode(self, w: &mut Writer) -> Result<()> {
        write(&self.value, &self.ty, w)
    }
}

/// A variant case's or result's payload: present exactly when the type has one.
fn write_payload(
    payload: Option<&Value>,
    ty: Option<&DynamicType>,
    case: &str,
    w: &mut Writer,
) -> Result<()> {
    match (payload, ty) {
        (None, None) => Ok(()),
        (Some(value), Some(ty)) => {
            write(value, ty, w).map_err(|error| within(error, &format!(".{case}")))
        }
        (None, Some(ty)) => Err(mismatch(format!(
            "case `{case}` needs a payload of type {ty:?}"
        ))),
        (Some(_), None) => Err(mismatch(format!("case `{case}` has no payload"))),
    }
}

/// The bytes of a `list<u8>` value (a `list<u8>`, a handle, a `stream<u8>`).
fn bytes(value: &Value, ty: &DynamicType) -> Result<Vec<u8>> {
    expect(value, WasmTypeKind::List, ty)?
        .unwrap_list()
        .enumerate()
        .map(|(i, byte)| match byte.kind() {
            WasmTypeKind::U8 => Ok(byte.unwrap_u8()),
            kind => Err(within(
                mismatch(format!("expected a u8, found a {kind} value")),
                &format!("[{i}]"),
            )),
        })
        .collect()
}

/// `value`, if it is of kind `kind`; a mismatch error naming `ty` otherwise.
fn expect<'v>(value: &'v Value, kind: WasmTypeKind, ty: &DynamicType) -> Result<&'v Value> {
    if value.kind() == kind {
        Ok(value)
    } else {
        Err(mismatch(format!(
            "expected a value of type {ty:?}, found a {} value",
            value.kind()
        )))
    }
}

fn unknown_case<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Error {
    mismatch(format!(
        "`{name}` is not one of the type's cases or flags: {}",
        names(known)
    ))
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mismatch(reason: String) -> Error {
    Error::InvalidValue {
        path: String::new(),
        reason,
    }
}

/// Puts `segment` in front of the path of an [`Error::InvalidValue`].
fn within(error: Error, segment: &str) -> Error {
    match error {
        Error::InvalidValue { path, reason } => Error::InvalidValue {
            path: format!("{segment}{path}"),
            reason,
        },
        error => error,
    }
}

/// Names the root of an [`Error::InvalidValue`]'s path: `arg 2 .field[3]`.
fn at_root(error: Error, root: &str) -> Error {
    match error {
        Error::InvalidValue { path, reason } if path.is_empty() => Error::InvalidValue {
            path: root.to_owned(),
            reason,
        },
        error => within(error, &format!("{root} ")),
    }
}
