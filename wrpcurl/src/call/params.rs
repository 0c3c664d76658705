//! A call expression, `iface.func(args...)`: the function's path and its arguments, read as
//! WAVE against the function's parameter types.
//!
//! Arguments are WAVE values, as `wasmtime run --invoke` takes them: `"text"`, `[1, 2]`,
//! `some(5)`, `{x: 1, y: -2}`, `ok("x")`. A resource handle is the list of bytes a call that
//! returned it printed; a `stream<T>` is a `list<T>` of all its elements, a `future<T>` its
//! value. Trailing `option` arguments may be left out (they are `none`), as in WAVE.

use provider_sdk::dynamic::FunctionType;
use provider_sdk::dynamic::wasm_wave::parser::ParserError;
use provider_sdk::dynamic::wasm_wave::untyped::UntypedFuncCall;
use provider_sdk::dynamic::wasm_wave::value::Value;
use provider_sdk::dynamic::wasm_wave::wasm::{WasmType as _, WasmTypeKind, WasmValue as _};
use wit_parser::{Resolve, Type, TypeDefKind};

use crate::error::{Error, Result};
use crate::signature::type_text;

use crate::functions::Target;

/// A call expression split at its argument list.
#[derive(Debug, PartialEq)]
pub struct Expression<'a> {
    /// The function's path, as written (`store.get`).
    pub path: &'a str,
    /// The argument list with its parentheses (`("b", "k")`).
    args: &'a str,
    /// Where `args` starts in the expression.
    offset: usize,
    /// The whole expression, to point into.
    text: &'a str,
}

impl<'a> Expression<'a> {
    /// Splits `text` at the first `(`: function names and interface ids hold none.
    pub fn split(text: &'a str) -> Result<Self> {
        let Some(offset) = text.find('(') else {
            return Err(Error::Usage(format!(
                "`{text}` is not a call: write the function and its arguments in parentheses, \
                 e.g. `wrpc:keyvalue/store@0.2.0-draft.get(\"bucket\", \"key\")`, and `()` \
                 when there are none"
            )));
        };
        let path = text[..offset].trim();
        if path.is_empty() {
            return Err(Error::Usage(format!(
                "`{text}` names no function before its arguments"
            )));
        }
        Ok(Self {
            path,
            args: &text[offset..],
            offset,
            text,
        })
    }

    /// The arguments, each parsed as WAVE against its parameter's type.
    pub fn args(
        &self,
        resolve: &Resolve,
        target: &Target<'_>,
        ty: &FunctionType,
    ) -> Result<Vec<Value>> {
        // WAVE's call syntax wants a label for the function; ours is a path, so it is swapped
        // for one letter and spans are shifted back.
        let source = format!("f{}", self.args);
        let shift = |span: std::ops::Range<usize>| {
            (span.start + self.offset).saturating_sub(1)..(span.end + self.offset).saturating_sub(1)
        };
        let call = UntypedFuncCall::parse(&source).map_err(|error| {
            Error::Usage(format!(
                "cannot read the arguments of `{}`: {}{}",
                target.full_name(),
                reason(&error),
                self.pointer(shift(error.span()))
            ))
        })?;
        let nodes: Vec<_> = match call.params_node() {
            None => Vec::new(),
            Some(tuple) => tuple
                .as_tuple()
                .map_err(|error| Error::Usage(reason(&error)))?
                .collect(),
        };
        let params = ty.params();
        let wit_params = &target.function.params;
        let expected = || {
            wit_params
                .iter()
                .map(|(name, ty)| format!("{name}: {}", type_text(resolve, ty)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if nodes.len() > params.len() {
            return Err(Error::Usage(format!(
                "`{}` takes {} ({}), but {} were given{}",
                target.full_name(),
                arguments(params.len()),
                expected(),
                nodes.len(),
                self.pointer(shift(nodes[params.len()].span()))
            )));
        }
        let mut values = Vec::with_capacity(params.len());
        for (i, (name, param)) in params.iter().enumerate() {
            let wit_type = wit_params.get(i).map(|(_, ty)| ty);
            let shown = wit_type.map_or_else(|| format!("{param:?}"), |ty| type_text(resolve, ty));
            let Some(node) = nodes.get(i) else {
                if param.wave_type().kind() == WasmTypeKind::Option {
                    let none = Value::make_option(param.wave_type(), None)
                        .map_err(|error| Error::Usage(error.to_string()))?;
                    values.push(none);
                    continue;
                }
                return Err(Error::Usage(format!(
                    "`{}` takes {} ({}), but {} {} given: argument {} (`{name}: {shown}`) is missing",
                    target.full_name(),
                    arguments(params.len()),
                    expected(),
                    nodes.len(),
                    if nodes.len() == 1 { "was" } else { "were" },
                    i + 1,
                )));
            };
            let value = node
                .to_wasm_value::<Value>(param.wave_type(), &source)
                .map_err(|error| {
                    let handle = if wit_type.is_some_and(|ty| is_handle(resolve, ty)) {
                        " (a resource handle is written as the list of bytes the call that made \
                         it printed)"
                    } else {
                        ""
                    };
                    Error::Usage(format!(
                        "argument {} (`{name}`) of `{}` is not a WAVE `{shown}`{handle}: {}{}",
                        i + 1,
                        target.full_name(),
                        reason(&error),
                        // At the part of the value that is wrong.
                        self.pointer(shift(error.span()))
                    ))
                })?;
            values.push(value);
        }
        Ok(values)
    }

    /// Two lines pointing at `span` of the expression, or nothing if it spans lines.
    fn pointer(&self, span: std::ops::Range<usize>) -> String {
        if self.text.contains('\n') || span.start > self.text.len() {
            return String::new();
        }
        let column = self.text[..span.start].chars().count();
        let width = self
            .text
            .get(span.clone())
            .map_or(1, |text| text.chars().count().max(1));
        format!(
            "\n  {}\n  {}{}",
            self.text,
            " ".repeat(column),
            "^".repeat(width)
        )
    }
}

/// WAVE's complaint without its byte span (the pointer shows where).
fn reason(error: &ParserError) -> String {
    let mut text = error.kind().to_string();
    if let Some(detail) = error.detail() {
        text.push_str(&format!(": {detail}"));
    }
    if let Some(source) = std::error::Error::source(error) {
        text.push_str(&format!(": {source}"));
    }
    text
}

fn arguments(n: usize) -> String {
    match n {
        0 => "no arguments".to_owned(),
        1 => "1 argument".to_owned(),
        n => format!("{n} arguments"),
    }
}

fn is_handle(resolve: &Resolve, ty: &Type) -> bool {
    let mut ty = *ty;
    while let Type::Id(id) = ty {
        match &resolve.types[id].kind {
            TypeDefKind::Handle(_) => return true,
            TypeDefKind::Type(aliased) => ty = *aliased,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_splits_at_its_first_parenthesis() {
        let expression = Expression::split("wrpc:kv/store@0.2.0.get(\"(\", 1)").unwrap();
        assert_eq!(expression.path, "wrpc:kv/store@0.2.0.get");
        assert_eq!(expression.args, "(\"(\", 1)");
        assert_eq!(expression.offset, 23);
        let error = Expression::split("store.get").unwrap_err();
        assert!(error.to_string().contains("not a call"), "{error}");
        assert_eq!(error.exit_status(), 2);
        assert!(Expression::split(" (1)").is_err());
    }
}
