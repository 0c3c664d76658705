//! The dynamic codec: values of WIT types known only at run time, as WAVE values.
//!
//! Generated code encodes values of types known at compile time; a tool such as a grpcurl for
//! wRPC knows them only once it has read a WIT file. This module encodes and decodes a
//! [`wasm_wave::value::Value`] of any WIT type, given as a `wit-parser` type, **byte for byte as
//! `generate!`'s code** does, and is as safe on hostile input (see [`decode`]). Values are
//! written and read as text in WAVE ([`DynamicType::parse`], [`wasm_wave::to_string`]).
//!
//! | WIT | WAVE value | on the wire |
//! |---|---|---|
//! | scalars, `string`, `list`, `option`, `result`, `tuple`, `record`, `variant`, `enum`, `flags` | the same type | as `generate!`'s code |
//! | `own<R>`, `borrow<R>` | `list<u8>`: the handle's opaque bytes, printed and accepted back as such | `list<u8>` |
//! | `stream<T>` | `list<T>`: all its elements | sent pending, the elements on its sub-channel (as `WitStream`); read inline or from its sub-channel |
//! | `future<T>` | `T`: its value | sent resolved (`01` then `T`, as `WitFuture::ready`); read inline or from its sub-channel |
//! | `future` | `result` without payloads: `ok` once it has resolved | as `future<T>` with no bytes for `T` |
//!
//! A `future<T>` is its value rather than an `option<T>`: a value is printed once it is
//! complete, when a future has resolved. Not supported: `stream<T, E>` and `stream` without an
//! element type (no wRPC encoding or no WAVE form), and empty records, tuples, variants, enums
//! and flags (no WAVE form).
//!
//! - [`DynamicType::from_wit`] maps a type, [`FunctionType::from_wit`] a function's params
//!   and results;
//! - [`encode`] and [`decode`] write and read one value with the wire's [`Writer`](crate::wire::Writer)
//!   and [`Reader`](crate::wire::Reader); [`FunctionType`] does the params and results tuples;
//! - [`Client::invoke_dynamic`](crate::transport::Client::invoke_dynamic) makes a call, reading
//!   pending streams and futures among the results through their sub-channels;
//! - [`Server::serve_dynamic`](crate::transport::Server::serve_dynamic) serves
//!   [`DynamicFunction`]s, handing out each invocation as a [`DynamicCall`] with its params read
//!   (pending ones too) and answered with WAVE values;
//!   [`Invocation::read_params_dynamic`](crate::transport::Invocation::read_params_dynamic)
//!   and [`Invocation::write_results_dynamic`](crate::transport::Invocation::write_results_dynamic)
//!   do the same for one invocation.
//!
//! A value that does not fit its type is [`Error::InvalidValue`](crate::Error::InvalidValue),
//! naming where in the value (`arg 2 .people[1].name`).

mod call;
mod decode;
mod encode;
mod func;
mod pending;
mod serve;
mod ty;

pub use self::decode::{MEMORY_PER_LIMIT_BYTE, decode};
pub use self::encode::{Typed, encode};
pub use self::func::FunctionType;
pub use self::serve::{DynamicCall, DynamicCalls, DynamicFunction};
pub use self::ty::DynamicType;

/// The WAVE crate the values are of, for printing and parsing them.
pub use wasm_wave;
/// The WIT parser the types come from.
pub use wit_parser;
