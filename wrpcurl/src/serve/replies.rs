//! What `serve` answers each function with: `--reply` values (`--reply 'WAVE'` for every
//! function, `--reply 'FUNC=WAVE'` for one), else the function's default answer, else none.
//!
//! A reply is WAVE text of the results tuple: nothing (or `()`) for a function without
//! results, the value for one result (a named one may be written `(x)` too), `(a, b)` for
//! several. Answers are shown as [`crate::results::wave`] prints results, and `()` for none. The default answer is the unit
//! answer of a function without results, or `ok` where the one result has that value
//! (`result<_, E>`, `result`, `future`). A function with neither has no answer: its calls are
//! refused, telling the caller to give one.

use std::borrow::Cow;

use provider_sdk::dynamic::FunctionType;
use provider_sdk::dynamic::wasm_wave::value::{Type as WaveType, Value};
use provider_sdk::dynamic::wasm_wave::wasm::WasmValue as _;
use provider_sdk::dynamic::wasm_wave::{self};

use super::functions::Served;
use crate::error::{Error, Result};
use crate::names::{closest, or_list, quoted};

/// How one function's calls are answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// With these results; `text` is how they are shown.
    Reply {
        /// The results, one value per result.
        results: Vec<Value>,
        /// The results as WAVE text.
        text: String,
    },
    /// Refused: no answer was given and the function has no default one.
    Refuse {
        /// What the caller is told.
        reason: String,
    },
}

/// The answer for each function of `served` (in order) from the `--reply` values, and the
/// warnings to show: functions a bare `--reply` does not fit, functions with no answer.
pub fn plan(served: &[Served], replies: &[String]) -> Result<(Vec<Answer>, Vec<String>)> {
    let mut specific: Vec<Option<Answer>> = vec![None; served.len()];
    let mut bare: Option<&str> = None;
    for reply in replies {
        match split(reply, served)? {
            Some((index, text)) => {
                let served = &served[index];
                let results = parse(served.function.ty(), text).map_err(|reason| {
                    Error::Usage(format!(
                        "--reply `{reply}`: {reason}; `{}` returns what `{}` says",
                        served.function.name(),
                        served.signature
                    ))
                })?;
                specific[index] = Some(reply_of(results)?);
            }
            None if bare.is_some() => {
                return Err(Error::Usage(format!(
                    "--reply `{reply}`: a reply for every function was given already; give one \
                     per function as `--reply FUNC=WAVE`"
                )));
            }
            None => bare = Some(reply),
        }
    }
    let mut warnings = Vec::new();
    let mut fitted = false;
    let mut answers = Vec::with_capacity(served.len());
    for (served, specific) in served.iter().zip(specific) {
        let name = served.function.name();
        let ty = served.function.ty();
        let from_bare = match (&specific, bare) {
            (None, Some(text)) => match parse(ty, text) {
                Ok(results) => {
                    fitted = true;
                    Some(reply_of(results)?)
                }
                Err(reason) => {
                    warnings.push(format!(
                        "--reply `{text}` does not fit `{name}` ({reason}); give it one with \
                         `--reply '{name}=WAVE'`"
                    ));
                    None
                }
            },
            _ => None,
        };
        let answer = match specific.or(from_bare) {
            Some(answer) => Some(answer),
            None => default(ty)?,
        };
        let answer = answer.unwrap_or_else(|| {
            warnings.push(format!(
                "no answer for `{name}` ({}): its calls are refused; give one with \
                 `--reply '{name}=WAVE'`",
                served.signature
            ));
            Answer::Refuse {
                reason: format!(
                    "wrpcurl serve was given no answer for `{name}`; start it with `--reply \
                     '{name}=WAVE'` to answer"
                ),
            }
        });
        answers.push(answer);
    }
    if let (Some(text), false) = (bare, fitted) {
        let signatures: Vec<&str> = served.iter().map(|s| s.signature.as_str()).collect();
        return Err(Error::Usage(format!(
            "--reply `{text}` fits none of the functions served: {}",
            signatures.join("; ")
        )));
    }
    Ok((answers, warnings))
}

/// `FUNC=WAVE` for a function of `served`: its index and the WAVE text. `None` for a reply for
/// every function (WAVE text may hold `=` too, as in `"a=b"`). A `FUNC` that looks like a
/// function name (`gett`) but names none of `served` is an error with a did-you-mean: no WAVE
/// value has a bare name before a `=`.
fn split<'a>(reply: &'a str, served: &[Served]) -> Result<Option<(usize, &'a str)>> {
    let Some((name, text)) = reply.split_once('=') else {
        return Ok(None);
    };
    let name = name.trim();
    if let Some(index) = served.iter().position(|s| s.function.name() == name) {
        return Ok(Some((index, text.trim())));
    }
    if !looks_like_a_function(name) {
        return Ok(None);
    }
    let names = served.iter().map(|s| s.function.name());
    let suggestions = closest(name, names.clone());
    let hint = if suggestions.is_empty() {
        format!("the functions served are {}", quoted(names))
    } else {
        format!("did you mean {}?", or_list(&suggestions))
    };
    Err(Error::Usage(format!(
        "--reply `{reply}`: no function `{name}`; {hint}"
    )))
}

/// Whether `name` is spelt as a function's wire name: kebab-case words, dot-separated for a
/// resource's functions (`get`, `bucket.get`).
fn looks_like_a_function(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The default answer of a function of type `ty`, if it has one.
fn default(ty: &FunctionType) -> Result<Option<Answer>> {
    match ty.results() {
        [] => reply_of(Vec::new()).map(Some),
        [(_, result)] => match result.parse("ok") {
            Ok(ok) => reply_of(vec![ok]).map(Some),
            Err(_) => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Answers with `results`, shown as `call` prints them, or `()` for none.
fn reply_of(results: Vec<Value>) -> Result<Answer> {
    let text = crate::results::wave(&results)?;
    Ok(Answer::Reply {
        text: if results.is_empty() {
            "()".to_owned()
        } else {
            text
        },
        results,
    })
}

/// Parses WAVE text of `ty`'s results tuple.
fn parse(ty: &FunctionType, text: &str) -> Result<Vec<Value>, String> {
    let text = text.trim();
    match ty.results() {
        [] if text.is_empty() || text == "()" => Ok(Vec::new()),
        [] => Err("the function has no results: give `()`".to_owned()),
        [(_, only)] => {
            // A named single result may be written as a 1-tuple, `(x)`, too.
            let value = only.parse(text).or_else(|error| {
                let inner = text
                    .strip_prefix('(')
                    .and_then(|t| t.strip_suffix(')'))
                    .ok_or(error)?;
                only.parse(inner)
            });
            value
                .map(|value| vec![value])
                .map_err(|error| reason(&error))
        }
        many => {
            let tuple = WaveType::tuple(
                many.iter()
                    .map(|(_, ty)| ty.wave_type().clone())
                    .collect::<Vec<_>>(),
            )
            .ok_or_else(|| "the results have no WAVE form".to_owned())?;
            let value: Value = wasm_wave::from_str(&tuple, text).map_err(|error| {
                let types: Vec<String> = many.iter().map(|(_, ty)| format!("{ty:?}")).collect();
                format!(
                    "{error}; expected a tuple of the results ({})",
                    types.join(", ")
                )
            })?;
            Ok(value.unwrap_tuple().map(Cow::into_owned).collect())
        }
    }
}

/// The reason of a parse error, without the SDK's wrapping.
fn reason(error: &provider_sdk::Error) -> String {
    match error {
        provider_sdk::Error::InvalidValue { reason, .. } => reason.clone(),
        error => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use provider_sdk::dynamic::DynamicFunction;
    use wit_parser::Resolve;

    use super::*;
    use crate::signature::{signature, wire_name};

    fn served() -> Vec<Served> {
        let mut resolve = Resolve::default();
        resolve
            .push_str(
                "t.wit",
                "package a:b;
                interface i {
                    handle: func(m: string) -> result<_, string>;
                    get: func(k: string) -> result<option<list<u8>>, string>;
                    named: func() -> (a: u32, b: string);
                    nothing: func();
                    signal: func() -> future;
                }",
            )
            .unwrap();
        let (_, interface) = resolve.interfaces.iter().next().unwrap();
        interface
            .functions
            .values()
            .map(|function| Served {
                function: DynamicFunction::new(
                    "a:b/i",
                    wire_name(function),
                    FunctionType::from_wit(&resolve, function).unwrap(),
                ),
                signature: signature(&resolve, function),
            })
            .collect()
    }

    fn texts(answers: &[Answer]) -> Vec<String> {
        answers
            .iter()
            .map(|answer| match answer {
                Answer::Reply { text, .. } => text.clone(),
                Answer::Refuse { .. } => "refused".to_owned(),
            })
            .collect()
    }

    #[test]
    fn defaults_are_unit_and_ok_else_refused_with_a_warning() {
        let (answers, warnings) = plan(&served(), &[]).unwrap();
        assert_eq!(texts(&answers), ["ok", "refused", "refused", "()", "ok"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("`--reply 'get=WAVE'`"), "{warnings:?}");
        let Answer::Refuse { reason } = &answers[1] else {
            panic!("get is refused");
        };
        assert!(reason.contains("--reply 'get=WAVE'"), "{reason}");
    }

    #[test]
    fn per_function_replies_win_and_several_results_are_a_tuple() {
        let replies = [
            r#"get=ok(some([104, 105]))"#.to_owned(),
            r#"named=(7, "a=b")"#.to_owned(),
            r#"handle=err("no")"#.to_owned(),
        ];
        let (answers, warnings) = plan(&served(), &replies).unwrap();
        assert_eq!(
            texts(&answers),
            [
                r#"err("no")"#,
                "ok(some([104, 105]))",
                r#"(7, "a=b")"#,
                "()",
                "ok"
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_bare_reply_goes_where_it_fits_and_warns_where_not() {
        let (answers, warnings) = plan(&served(), &[r#"err("x=y")"#.to_owned()]).unwrap();
        assert_eq!(
            texts(&answers),
            [r#"err("x=y")"#, r#"err("x=y")"#, "refused", "()", "ok"]
        );
        // nothing and signal do not take it; named neither, and has no default.
        assert_eq!(warnings.len(), 4, "{warnings:?}");
    }

    #[test]
    fn answers_show_as_call_prints_results_and_unit_as_empty_parens() {
        let mut resolve = Resolve::default();
        resolve
            .push_str(
                "t.wit",
                "package a:b;
                interface i { one: func() -> (v: u32); none: func(); }",
            )
            .unwrap();
        let (_, interface) = resolve.interfaces.iter().next().unwrap();
        let served: Vec<Served> = interface
            .functions
            .values()
            .map(|function| Served {
                function: DynamicFunction::new(
                    "a:b/i",
                    wire_name(function),
                    FunctionType::from_wit(&resolve, function).unwrap(),
                ),
                signature: signature(&resolve, function),
            })
            .collect();
        // A named single result may be given as `(7)`; it shows as `call` prints it, `7`.
        let (answers, _) = plan(&served, &["one=(7)".to_owned()]).unwrap();
        assert_eq!(texts(&answers), ["7", "()"]);
    }

    #[test]
    fn replies_that_fit_nothing_are_usage_errors() {
        let error = plan(&served(), &["42".to_owned()]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("--reply `42` fits none of the functions served"),
            "{error}"
        );
        let error = plan(&served(), &["get=ok(1)".to_owned()]).unwrap_err();
        assert!(
            error.to_string().starts_with("--reply `get=ok(1)`: "),
            "{error}"
        );
        assert!(
            error.to_string().contains("get: func(k: string)"),
            "{error}"
        );
        let error = plan(&served(), &["named=(1)".to_owned()]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a tuple of the results (u32, string)"),
            "{error}"
        );
        let error = plan(&served(), &["gett=ok".to_owned()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--reply `gett=ok`: no function `gett`; did you mean `get`?"
        );
        let error = plan(&served(), &["zzzzzzzz=ok".to_owned()]).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "the functions served are `handle`, `get`, `named`, `nothing`, `signal`"
            ),
            "{error}"
        );
        let error = plan(&served(), &["ok".to_owned(), "ok".to_owned()]).unwrap_err();
        assert_eq!(error.exit_status(), 2);
    }
}
