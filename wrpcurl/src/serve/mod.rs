//! `wrpcurl serve`: plays a component or a provider. Serves every function of one interface
//! under a subject prefix, shows each invocation it receives (see [`print`]) and answers it as
//! [`replies`] plans; stops after `--count` invocations, or on Ctrl-C (or SIGTERM).
//!
//! Functions with an answer are served with [`Server::serve_dynamic`]: their arguments are read
//! (pending streams and futures to the end), shown, then answered. A function without one is
//! served by a server whose admission refuses every call with the reason, before anything is
//! read: wRPC has no other way to tell a caller "no" once a call is accepted.

mod args;
pub mod functions;
pub mod print;
pub mod replies;

use std::sync::Arc;
use std::time::Duration;

use provider_sdk::HeaderMap;
use provider_sdk::dynamic::{DynamicCall, DynamicFunction};
use provider_sdk::transport::{InvocationContext, Refusal, ServeOptions, Server, Transport};
use tokio::sync::mpsc;

pub use self::args::{EXAMPLES, ServeArgs};
use self::print::{Outcome, Shown};
use self::replies::Answer;
use crate::error::{Error, Result};
use crate::stop::StopSignal;

/// How many invocations may wait to be shown; past it, callers wait (backpressure).
const QUEUE: usize = 64;

/// How long answers still being sent (pending streams and futures) may take once serving stops.
const GRACE: Duration = Duration::from_secs(5);

/// A refused call, to show.
#[derive(Debug)]
struct RefusedCall {
    function: usize,
    headers: Option<HeaderMap>,
}

/// Runs `wrpcurl serve`.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let wit = crate::wit::load(args.wit.as_deref(), args.world.as_deref())?;
    let (served, mut warnings) = functions::find(&wit.resolve, wit.world, &args.interface)?;
    let (answers, planned) = replies::plan(&served, &args.replies)?;
    warnings.extend(planned);
    crate::prefix::check(&args.prefix)?;
    for warning in &warnings {
        eprintln!("wrpcurl: warning: {warning}");
    }
    if args.count == Some(0) {
        return Ok(());
    }

    let nats = crate::nats::connect(&args.nats).await?;
    let transport = Transport::nats(nats.clone())
        .await
        .map_err(|error| Error::transport("cannot set up wRPC on the connection", error))?;
    let options = ServeOptions::new(args.prefix.clone()).max_concurrency(QUEUE);
    let server = transport.server(options.clone());
    let answered = served
        .iter()
        .zip(&answers)
        .filter(|(_, answer)| matches!(answer, Answer::Reply { .. }))
        .map(|(served, _)| served.function.clone());
    let (serving, mut calls) = server
        .serve_dynamic(answered, QUEUE)
        .await
        .map_err(|error| Error::transport("cannot serve", error))?;
    let (refused_tx, mut refused) = mpsc::channel(QUEUE);
    let mut refusing = Vec::new();
    for (index, (served, answer)) in served.iter().zip(&answers).enumerate() {
        if let Answer::Refuse { reason } = answer {
            let server = refusing_server(&transport, &options, index, reason, &refused_tx);
            let subscription = server
                .serve(
                    served.function.instance(),
                    served.function.name(),
                    |_| async {},
                )
                .await
                .map_err(|error| Error::transport("cannot serve", error))?;
            refusing.push((server, subscription));
        }
    }
    drop(refused_tx);
    // Listening from here on: a signal that arrives while a call is answered stops the loop
    // when it comes back to wait.
    let mut stop_signal = StopSignal::listen();
    eprintln!(
        "wrpcurl: serving {} function(s) of {} under `{}` on {}; Ctrl-C stops",
        served.len(),
        served
            .first()
            .map_or(args.interface.as_str(), |served| served.function.instance()),
        args.prefix,
        args.nats.shown_url()
    );

    let mut seen = 0u64;
    let mut out = Output { json: args.json };
    let result = loop {
        if args.count.is_some_and(|count| seen >= count) {
            break Ok(());
        }
        tokio::select! {
            call = calls.recv() => match call {
                Some(call) => {
                    seen += 1;
                    // Only functions of `served` are served: a miss is a bug, not a call to
                    // answer with another function's reply.
                    let Some(index) = served
                        .iter()
                        .position(|s| same(&s.function, call.function()))
                    else {
                        break Err(Error::Internal(format!(
                            "a call of `{}` arrived, which is not served",
                            call.function().name()
                        )));
                    };
                    if let Err(error) = answer(call, &answers[index], &mut out).await {
                        break Err(error);
                    }
                }
                None => break Ok(()),
            },
            call = refused.recv() => if let Some(RefusedCall { function, headers }) = call {
                seen += 1;
                let served = &served[function];
                let Answer::Refuse { reason } = &answers[function] else { continue };
                eprintln!(
                    "wrpcurl: warning: refused a call of `{}`: no answer was given",
                    served.function.name()
                );
                let shown = Shown {
                    instance: served.function.instance(),
                    function: served.function.name(),
                    headers: headers.as_ref(),
                    args: None,
                    outcome: Outcome::Refused(reason),
                };
                if let Err(error) = out.write(&shown) {
                    break Err(error);
                }
            },
            () = stop_signal.received() => break Ok(()),
        }
    };

    // Stop taking calls; let answers already given finish sending, and reach the server.
    drop(calls);
    drop(serving);
    drop(refusing);
    server.shutdown(GRACE).await;
    let _ = nats.flush().await;
    result
}

/// A server for function `index` that refuses every call with `reason`, and queues it to be
/// shown (if the queue is full, the call is refused all the same and not shown).
fn refusing_server(
    transport: &Transport,
    options: &ServeOptions,
    index: usize,
    reason: &str,
    shown: &mpsc::Sender<RefusedCall>,
) -> Server {
    let refusal = Refusal::new(reason);
    let shown = shown.clone();
    let admission = move |cx: &InvocationContext| {
        let _ = shown.try_send(RefusedCall {
            function: index,
            headers: cx.headers().cloned(),
        });
        Err(refusal.clone())
    };
    transport.server(options.clone().admission(Arc::new(admission)))
}

/// Whether `a` and `b` are the same function.
fn same(a: &DynamicFunction, b: &DynamicFunction) -> bool {
    a.instance() == b.instance() && a.name() == b.name()
}

/// Shows `call` and answers it.
async fn answer(call: DynamicCall, answer: &Answer, out: &mut Output) -> Result<()> {
    let Answer::Reply { results, text } = answer else {
        // Refused functions are not served dynamically.
        return Ok(());
    };
    let shown = Shown {
        instance: call.function().instance(),
        function: call.function().name(),
        headers: call.context().headers(),
        args: Some(call.params()),
        outcome: Outcome::Reply(text),
    };
    out.write(&shown)?;
    let name = call.function().name().to_owned();
    if let Err(error) = call.reply(results).await {
        eprintln!("wrpcurl: warning: could not answer a call of `{name}`: {error}");
    }
    Ok(())
}

/// Where invocations are shown: stdout, each flushed as it is written.
#[derive(Debug)]
struct Output {
    json: bool,
}

impl Output {
    fn write(&mut self, shown: &Shown<'_>) -> Result<()> {
        let text = if self.json {
            shown.json()
        } else {
            shown.text()
        };
        crate::output::print(&text)
    }
}
