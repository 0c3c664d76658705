//! `wrpcurl call`: calls one function of a provider (or component) over wRPC, its arguments
//! written in WAVE and its results printed in WAVE or JSON, typed by the WIT.
//!
//! One call, in the order the modules do it: [`params::Expression`] splits the call at its
//! argument list; [`Functions`] finds the function the path names in the WIT;
//! the arguments are read against its parameter types; the SDK's dynamic codec sends them and
//! reads the results ([`Client::invoke_dynamic`]), streams and futures included; the results
//! are printed, in WAVE ([`crate::results::wave`]: nothing for none, the value for one, a tuple
//! for several) or as JSON ([`json`]). All input is checked before NATS is reached, so a typo
//! costs no connection.

mod args;
pub mod json;
pub mod params;

use provider_sdk::dynamic::FunctionType;
use provider_sdk::transport::{CallOptions, Transport, invocation_subject};

pub use self::args::{CallArgs, EXAMPLES, duration};
use self::params::Expression;
use crate::error::{Error, Result};
use crate::functions::{Functions, Target};
use crate::wit;

/// The header that names the calling component, as wasmCloud hosts send it.
pub const SOURCE_ID: &str = "source-id";
/// The header that names the link a call is made over.
pub const LINK_NAME: &str = "link-name";

/// Runs `wrpcurl call`: prints the results to stdout.
pub async fn call(args: CallArgs) -> Result<()> {
    crate::output::print(&call_to_text(&args).await?)
}

/// Makes the call `args` describe and returns what `wrpcurl call` prints.
pub async fn call_to_text(args: &CallArgs) -> Result<String> {
    let wit = wit::load(args.wit.as_deref(), args.world.as_deref())?;
    let resolve = &wit.resolve;
    let functions = Functions::of(resolve, wit.world);
    let expression = Expression::split(&args.call)?;
    let target = functions.find(expression.path)?;
    let ty = FunctionType::from_wit(resolve, target.function).map_err(|error| {
        Error::Usage(format!(
            "`{}` cannot be called from the command line: {error}",
            target.full_name()
        ))
    })?;
    let params = expression.args(resolve, target, &ty)?;
    let options = options(args)?;
    crate::prefix::check(&args.prefix)?;

    // `--timeout` bounds the whole call: connecting, the invocation, and reading pending
    // streams and futures of the results (the SDK's deadline stops at the results' first bytes).
    let invoke = async {
        let nats = crate::nats::connect(&args.nats).await?;
        let transport = Transport::nats(nats)
            .await
            .map_err(|error| Error::transport("cannot reach the lattice", error))?;
        transport
            .client(args.prefix.clone())
            .invoke_dynamic(&options, &target.instance, &target.func, &ty, &params)
            .await
            .map_err(|error| failed(error, args, target))
    };
    let results = tokio::time::timeout(args.timeout, invoke)
        .await
        .map_err(|_| timed_out(args, target))??;
    if args.json {
        let names: Vec<&str> = ty.results().iter().map(|(name, _)| name.as_str()).collect();
        return Ok(format!("{}\n", json::results_to_json(&names, &results)));
    }
    let text = crate::results::wave(&results)?;
    Ok(if text.is_empty() { text } else { text + "\n" })
}

/// The call's headers and deadline.
fn options(args: &CallArgs) -> Result<CallOptions> {
    let mut options = CallOptions::default().timeout(args.timeout);
    let named = [
        (SOURCE_ID, args.source_id.as_deref()),
        (LINK_NAME, args.link_name.as_deref()),
    ];
    let extra = args
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), Some(value.as_str())));
    for (name, value) in named.into_iter().chain(extra) {
        if let Some(value) = value {
            options = options
                .header(name, value)
                .map_err(|error| Error::Usage(error.to_string()))?;
        }
    }
    Ok(options)
}

/// The call did not complete within `--timeout`: a transport failure (exit status 3).
fn timed_out(args: &CallArgs, target: &Target<'_>) -> Error {
    let error = provider_sdk::Error::Timeout {
        subject: invocation_subject(&args.prefix, &target.instance, &target.func),
        after: args.timeout,
    };
    Error::transport(
        format!(
            "calling `{}` (a slow answer needs a longer `--timeout`)",
            target.full_name()
        ),
        error,
    )
}

/// The SDK's error for a call, as `wrpcurl` reports it.
fn failed(error: provider_sdk::Error, args: &CallArgs, target: &Target<'_>) -> Error {
    let function = target.full_name();
    match error {
        // The SDK's deadline and `--timeout` are one deadline: the same message, whichever ends first.
        provider_sdk::Error::Timeout { .. } => timed_out(args, target),
        provider_sdk::Error::Refused { reason, .. } => Error::Refused { function, reason },
        error if error.is_transport() => Error::transport(format!("calling `{function}`"), error),
        error @ (provider_sdk::Error::InvalidValue { .. }
        | provider_sdk::Error::TooLong { .. }
        | provider_sdk::Error::InvalidHeader { .. }) => {
            Error::Usage(format!("cannot send the call to `{function}`: {error}"))
        }
        source => Error::BadAnswer { function, source },
    }
}
