//! [`DynamicType`]: a WIT type as the dynamic codec needs it, mapped once from `wit-parser`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use wasm_wave::value::{Type as WaveType, Value};
use wit_parser::{Handle, Resolve, Type, TypeDefKind, TypeId};

use crate::error::{Error, Result};

/// The most flags a `flags` type may have: what the wire codec reads (16 bytes).
const MAX_FLAGS: usize = 128;

/// A WIT type, resolved: how its values are encoded and which WAVE type they have.
///
/// Cheap to clone (shared). Made by [`DynamicType::from_wit`]; a function's parameters and
/// results by [`FunctionType::from_wit`](super::FunctionType::from_wit).
#[derive(Clone)]
pub struct DynamicType(Arc<Node>);

pub(super) struct Node {
    pub(super) kind: Kind,
    /// The type its WAVE values have.
    pub(super) wave: WaveType,
    /// The fewest bytes a value takes, as `generate!` counts them (`Decode::MIN_SIZE`).
    pub(super) min_size: usize,
    /// Whether a value may hold a pending `stream` or `future`.
    pub(super) is_async: bool,
}

/// The shape of a type, aliases resolved.
pub(super) enum Kind {
    Bool,
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    F32,
    F64,
    Char,
    String,
    List(DynamicType),
    Record(Box<[(Box<str>, DynamicType)]>),
    Tuple(Box<[DynamicType]>),
    Variant(Box<[(Box<str>, Option<DynamicType>)]>),
    Enum(Box<[Box<str>]>),
    Option(DynamicType),
    Result {
        ok: Option<DynamicType>,
        err: Option<DynamicType>,
    },
    Flags(Box<[Box<str>]>),
    /// `own<R>` (`own: true`) or `borrow<R>`: the handle's opaque bytes, a WAVE `list<u8>`.
    Handle {
        own: bool,
        resource: Box<str>,
    },
    /// `stream<T>`: all its elements, a WAVE `list<T>`.
    Stream(DynamicType),
    /// `future<T>`: its value, a WAVE `T`; `future` without a type: a WAVE `result` (`ok`).
    Future(Option<DynamicType>),
}

impl DynamicType {
    /// Maps a WIT type of `resolve`. Fails with [`Error::UnsupportedType`] for types that
    /// have no wRPC encoding (`stream<T, E>`, `stream` without an element type, `flags` of more
    /// than 128 flags) or no WAVE form (a record, tuple, variant, enum or flags with nothing in
    /// it).
    pub fn from_wit(resolve: &Resolve, ty: &Type) -> Result<Self> {
        Mapper::new(resolve).ty(ty)
    }

    /// Parses a value of this type from WAVE text (`{x: 1, y: -2}`, `[1, 2]`, `some("a")`).
    pub fn parse(&self, wave: &str) -> Result<Value> {
        wasm_wave::from_str(&self.0.wave, wave).map_err(|error| Error::InvalidValue {
            path: "value".to_owned(),
            reason: format!("{error}; expected WAVE text of type {self:?}"),
        })
    }

    /// The WAVE type of this type's values: what [`wasm_wave::from_str`] parses them with.
    pub fn wave_type(&self) -> &WaveType {
        &self.0.wave
    }

    /// The fewest bytes a value of this type takes on the wire.
    pub fn min_size(&self) -> usize {
        self.0.min_size
    }

    /// Whether a value of this type may hold a `stream` or `future`, whose contents travel on
    /// sub-channels of a call.
    pub fn is_async(&self) -> bool {
        self.0.is_async
    }

    pub(super) fn kind(&self) -> &Kind {
        &self.0.kind
    }

    fn new(kind: Kind, wave: WaveType, min_size: usize, is_async: bool) -> Self {
        Self(Arc::new(Node {
            kind,
            wave,
            min_size,
            is_async,
        }))
    }

    fn simple(kind: Kind, wave: WaveType, min_size: usize) -> Self {
        Self::new(kind, wave, min_size, false)
    }
}

impl fmt::Debug for DynamicType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The WAVE type says it all but handles, streams and futures, which it shows as what
        // they carry.
        let wave = wasm_wave::wasm::DisplayType(&self.0.wave);
        match &self.0.kind {
            Kind::Handle {
                own: true,
                resource,
            } => write!(f, "own<{resource}>"),
            Kind::Handle {
                own: false,
                resource,
            } => write!(f, "borrow<{resource}>"),
            Kind::Stream(element) => write!(f, "stream<{element:?}>"),
            Kind::Future(Some(ty)) => write!(f, "future<{ty:?}>"),
            Kind::Future(None) => f.write_str("future"),
            _ => write!(f, "{wave}"),
        }
    }
}

/// Maps `wit-parser` types, each named type once.
pub(super) struct Mapper<'a> {
    resolve: &'a Resolve,
    done: HashMap<TypeId, DynamicType>,
}

impl<'a> Mapper<'a> {
    pub(super) fn new(resolve: &'a Resolve) -> Self {
        Self {
            resolve,
            done: HashMap::new(),
        }
    }

    pub(super) fn ty(&mut self, ty: &Type) -> Result<DynamicType> {
        Ok(match ty {
            Type::Bool => DynamicType::simple(Kind::Bool, WaveType::BOOL, 1),
            Type::U8 => DynamicType::simple(Kind::U8, WaveType::U8, 1),
            Type::U16 => DynamicType::simple(Kind::U16, WaveType::U16, 1),
            Type::U32 => DynamicType::simple(Kind::U32, WaveType::U32, 1),
            Type::U64 => DynamicType::simple(Kind::U64, WaveType::U64, 1),
            Type::S8 => DynamicType::simple(Kind::S8, WaveType::S8, 1),
            Type::S16 => DynamicType::simple(Kind::S16, WaveType::S16, 1),
            Type::S32 => DynamicType::simple(Kind::S32, WaveType::S32, 1),
            Type::S64 => DynamicType::simple(Kind::S64, WaveType::S64, 1),
            Type::F32 => DynamicType::simple(Kind::F32, WaveType::FLOAT32, 4),
            Type::F64 => DynamicType::simple(Kind::F64, WaveType::FLOAT64, 8),
            Type::Char => DynamicType::simple(Kind::Char, WaveType::CHAR, 1),
            Type::String => DynamicType::simple(Kind::String, WaveType::STRING, 1),
            Type::Id(id) => self.id(*id)?,
        })
    }

    fn id(&mut self, id: TypeId) -> Result<DynamicType> {
        if let Some(done) = self.done.get(&id) {
            return Ok(done.clone());
        }
        let def = self
            .resolve
            .types
            .get(id)
            .ok_or_else(|| unsupported("a type id", "it is not in this `Resolve`"))?;
        let ty = self.kind(&def.kind, def.name.as_deref())?;
        self.done.insert(id, ty.clone());
        Ok(ty)
    }

    fn opt(&mut self, ty: Option<&Type>) -> Result<Option<DynamicType>> {
        ty.map(|ty| self.ty(ty)).transpose()
    }

    fn kind(&mut self, kind: &TypeDefKind, name: Option<&str>) -> Result<DynamicType> {
        let what = name.unwrap_or(kind.as_str());
        let empty = || unsupported(what, "it has nothing in it, and WAVE has no empty values");
        Ok(match kind {
            TypeDefKind::Type(ty) => self.ty(ty)?,
            TypeDefKind::Record(record) => {
                let fields: Box<[(Box<str>, DynamicType)]> = record
                    .fields
                    .iter()
                    .map(|field| Ok((Box::from(field.name.as_str()), self.ty(&field.ty)?)))
                    .collect::<Result<_>>()?;
                let wave = WaveType::record(
                    fields
                        .iter()
                        .map(|(name, ty)| (name.clone(), ty.wave_type().clone())),
                )
                .ok_or_else(empty)?;
                let min_size = fields.iter().map(|(_, ty)| ty.min_size()).sum();
                let is_async = fields.iter().any(|(_, ty)| ty.is_async());
                DynamicType::new(Kind::Record(fields), wave, min_size, is_async)
            }
            TypeDefKind::Tuple(tuple) => {
                let types: Box<[DynamicType]> = tuple
                    .types
                    .iter()
                    .map(|ty| self.ty(ty))
                    .collect::<Result<_>>()?;
                let wave = WaveType::tuple(
                    types
                        .iter()
                        .map(|ty| ty.wave_type().clone())
                        .collect::<Vec<_>>(),
                )
                .ok_or_else(empty)?;
                let min_size = types.iter().map(DynamicType::min_size).sum();
                let is_async = types.iter().any(DynamicType::is_async);
                DynamicType::new(Kind::Tuple(types), wave, min_size, is_async)
            }
            TypeDefKind::Variant(variant) => {
                let cases: Box<[(Box<str>, Option<DynamicType>)]> = variant
                    .cases
                    .iter()
                    .map(|case| Ok((Box::from(case.name.as_str()), self.opt(case.ty.as_ref())?)))
                    .collect::<Result<_>>()?;
                let wave = WaveType::variant(cases.iter().map(|(name, ty)| {
                    (name.clone(), ty.as_ref().map(|ty| ty.wave_type().clone()))
                }))
                .ok_or_else(empty)?;
                let is_async = cases.iter().flat_map(|(_, ty)| ty).any(|ty| ty.is_async());
                DynamicType::new(Kind::Variant(cases), wave, 1, is_async)
            }
            TypeDefKind::Enum(enum_) => {
                let cases: Box<[Box<str>]> = enum_
                    .cases
                    .iter()
                    .map(|case| Box::from(case.name.as_str()))
                    .collect();
                let wave = WaveType::enum_ty(cases.iter().cloned()).ok_or_else(empty)?;
                DynamicType::simple(Kind::Enum(cases), wave, 1)
            }
            TypeDefKind::Flags(flags) => {
                if flags.flags.len() > MAX_FLAGS {
                    return Err(unsupported(
                        what,
                        "the wire codec carries flags of at most 128 flags",
                    ));
                }
                let names: Box<[Box<str>]> = flags
                    .flags
                    .iter()
                    .map(|flag| Box::from(flag.name.as_str()))
                    .collect();
                let wave = WaveType::flags(names.iter().cloned()).ok_or_else(empty)?;
                let min_size = names.len().div_ceil(8);
                DynamicType::simple(Kind::Flags(names), wave, min_size)
            }
            TypeDefKind::Option(ty) => {
                let some = self.ty(ty)?;
                let wave = WaveType::option(some.wave_type().clone());
                let is_async = some.is_async();
                DynamicType::new(Kind::Option(some), wave, 1, is_async)
            }
            TypeDefKind::Result(result) => {
                let ok = self.opt(result.ok.as_ref())?;
                let err = self.opt(result.err.as_ref())?;
                let wave = WaveType::result(
                    ok.as_ref().map(|ty| ty.wave_type().clone()),
                    err.as_ref().map(|ty| ty.wave_type().clone()),
                );
                let is_async = ok.iter().chain(&err).any(DynamicType::is_async);
                DynamicType::new(Kind::Result { ok, err }, wave, 1, is_async)
            }
            TypeDefKind::List(ty) => {
                let element = self.ty(ty)?;
                let wave = WaveType::list(element.wave_type().clone());
                let is_async = element.is_async();
                DynamicType::new(Kind::List(element), wave, 1, is_async)
            }
            TypeDefKind::Handle(handle) => {
                let (own, resource) = match handle {
                    Handle::Own(id) => (true, id),
                    Handle::Borrow(id) => (false, id),
                };
                let resource = self
                    .resolve
                    .types
                    .get(*resource)
                    .and_then(|def| def.name.as_deref())
                    .unwrap_or("resource");
                let kind = Kind::Handle {
                    own,
                    resource: resource.into(),
                };
                DynamicType::simple(kind, WaveType::list(WaveType::U8), 1)
            }
            TypeDefKind::Stream(stream) => {
                if stream.end.is_some() {
                    return Err(unsupported(
                        what,
                        "a stream with an end type (`stream<T, E>`) has no wRPC encoding; use `stream<T>`",
                    ));
                }
                let Some(element) = stream.element.as_ref() else {
                    return Err(unsupported(
                        what,
                        "a stream without an element type has no WAVE form; use `stream<T>`",
                    ));
                };
                let element = self.ty(element)?;
                let wave = WaveType::list(element.wave_type().clone());
                DynamicType::new(Kind::Stream(element), wave, 1, true)
            }
            TypeDefKind::Future(ty) => {
                let ty = self.opt(ty.as_ref())?;
                let wave = match &ty {
                    Some(ty) => ty.wave_type().clone(),
                    None => WaveType::result(None, None),
                };
                DynamicType::new(Kind::Future(ty), wave, 1, true)
            }
            TypeDefKind::Resource => {
                return Err(unsupported(
                    what,
                    "a resource is passed as a handle, `own<R>` or `borrow<R>`",
                ));
            }
            TypeDefKind::Unknown => {
                return Err(unsupported(what, "its definition was never resolved"));
            }
        })
    }
}

fn unsupported(ty: &str, reason: &str) -> Error {
    Error::UnsupportedType {
        ty: ty.to_owned(),
        reason: reason.to_owned(),
    }
}
