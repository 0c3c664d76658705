//! [`FunctionType`]: a WIT function's parameters and results, as a call carries them.

use bytes::Bytes;
use wasm_wave::value::Value;
use wit_parser::{Function, Resolve, Results};

use super::decode::{Decoded, read_at};
use super::encode::encode_tuple;
use super::ty::{DynamicType, Mapper};
use crate::error::{Error, Result};
use crate::wire::{Reader, Writer};

/// The parameters and results of a WIT function, each named, for encoding and decoding a call.
///
/// Both travel as a tuple: the values one after the other, each at its position (which names
/// the sub-channels of pending streams and futures). Unnamed results (`-> T`) are one result
/// named `""`.
#[derive(Clone, Debug)]
pub struct FunctionType {
    params: Vec<(String, DynamicType)>,
    results: Vec<(String, DynamicType)>,
}

impl FunctionType {
    /// Maps the parameters and results of `function`, whose types are in `resolve`.
    pub fn from_wit(resolve: &Resolve, function: &Function) -> Result<Self> {
        let mut mapper = Mapper::new(resolve);
        let mut named = |params: &[(String, wit_parser::Type)]| {
            params
                .iter()
                .map(|(name, ty)| Ok((name.clone(), mapper.ty(ty)?)))
                .collect::<Result<Vec<_>>>()
        };
        let params = named(&function.params)?;
        let results = match &function.results {
            Results::Named(results) => named(results)?,
            Results::Anon(ty) => named(&[(String::new(), *ty)])?,
        };
        Ok(Self { params, results })
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[(String, DynamicType)] {
        &self.params
    }

    /// The results, in order.
    pub fn results(&self) -> &[(String, DynamicType)] {
        &self.results
    }

    /// Parses the parameters from WAVE text, one string each.
    pub fn parse_params(&self, texts: &[&str]) -> Result<Vec<Value>> {
        if texts.len() != self.params.len() {
            return Err(Error::InvalidValue {
                path: "args".to_owned(),
                reason: format!(
                    "expected {} arguments ({}), found {}",
                    self.params.len(),
                    self.params
                        .iter()
                        .map(|(name, ty)| format!("{name}: {ty:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    texts.len()
                ),
            });
        }
        self.params
            .iter()
            .zip(texts)
            .enumerate()
            .map(|(i, ((name, ty), text))| {
                ty.parse(text).map_err(|error| match error {
                    Error::InvalidValue { reason, .. } => Error::InvalidValue {
                        path: format!("arg {i} ({name})"),
                        reason,
                    },
                    error => error,
                })
            })
            .collect()
    }

    /// Writes `params` as a call sends them.
    pub fn encode_params(&self, params: &[Value], w: &mut Writer) -> Result<()> {
        encode_tuple(params, &self.params, "arg", w)
    }

    /// Writes `results` as a call's results are sent.
    pub fn encode_results(&self, results: &[Value], w: &mut Writer) -> Result<()> {
        encode_tuple(results, &self.results, "result", w)
    }

    /// The bytes of `params`, which must hold no pending stream (a stream is always sent
    /// pending: [`Error::NoAsyncChannel`]), as [`wire::encode`](crate::wire::encode) gives them.
    pub fn params_to_bytes(&self, params: &[Value]) -> Result<Bytes> {
        to_bytes(|w| self.encode_params(params, w))
    }

    /// The bytes of `results`, as [`FunctionType::params_to_bytes`] gives params'.
    pub fn results_to_bytes(&self, results: &[Value]) -> Result<Bytes> {
        to_bytes(|w| self.encode_results(results, w))
    }

    /// Reads a call's parameters. A pending `stream` or `future` among them is
    /// [`Error::NoAsyncChannel`] (a call's channel carries them; see [`crate::transport`]).
    pub fn decode_params(&self, r: &mut Reader<'_>) -> Result<Vec<Value>> {
        assemble(read_tuple(&self.params, r)?, &self.params)
    }

    /// Reads a call's results, as [`FunctionType::decode_params`] reads parameters.
    pub fn decode_results(&self, r: &mut Reader<'_>) -> Result<Vec<Value>> {
        assemble(read_tuple(&self.results, r)?, &self.results)
    }

    /// The fewest bytes the params take.
    pub(super) fn params_min_size(&self) -> usize {
        self.params.iter().map(|(_, ty)| ty.min_size()).sum()
    }

    /// The fewest bytes the results take.
    pub(super) fn results_min_size(&self) -> usize {
        self.results.iter().map(|(_, ty)| ty.min_size()).sum()
    }
}

/// Reads a tuple of `types`, pending parts left to read.
pub(super) fn read_tuple(
    types: &[(String, DynamicType)],
    r: &mut Reader<'_>,
) -> Result<Vec<Decoded>> {
    types
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| read_at(ty, i, r))
        .collect()
}

fn to_bytes(encode: impl FnOnce(&mut Writer) -> Result<()>) -> Result<Bytes> {
    let mut w = Writer::new();
    encode(&mut w)?;
    let (bytes, deferred) = w.finish();
    if deferred.is_empty() {
        Ok(bytes)
    } else {
        Err(Error::NoAsyncChannel)
    }
}

fn assemble(values: Vec<Decoded>, types: &[(String, DynamicType)]) -> Result<Vec<Value>> {
    values
        .into_iter()
        .zip(types)
        .map(|(value, (_, ty))| value.assemble(ty))
        .collect()
}
