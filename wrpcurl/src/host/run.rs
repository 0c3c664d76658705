//! `wrpcurl host run`: starts a provider executable as a wasmCloud host does and keeps it
//! running, its output going to this process's, until it exits or a signal stops it.
//!
//! Stopping is a host's: a shutdown request as the host that started it, then up to
//! [`SHUTDOWN_DEADLINE`] for the process to exit, then a kill. Ctrl-C in a terminal reaches
//! the provider too (one process group), so it may be stopping already; either way ends the same.

use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use provider_sdk::provider::NatsAuth;
use provider_testing::{ChildProvider, TestHost};

use super::RunArgs;
use super::{emulator, links};
use crate::error::{Error, Result};
use crate::stop::StopSignal;

/// How long a provider has to exit after it was asked to shut down.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// `host run`.
pub async fn run(args: RunArgs) -> Result<()> {
    let provider_id = provider_id(&args.program, args.provider_id.as_deref())?;
    let mut links = Vec::new();
    for file in &args.links {
        links.extend(links::read(file, &provider_id)?);
    }
    let nats = &args.lattice.nats;
    // HostData can carry the URL (and the credentials in it) and a JWT with its seed; no more.
    let credentials = match nats.auth() {
        NatsAuth::None => None,
        NatsAuth::Jwt { jwt, seed } => Some((jwt, seed)),
        _ => {
            return Err(Error::Usage(
                "a host hands the provider a NATS URL and a user JWT with its seed, nothing \
                 else: use --nats-jwt and --nats-seed, or put a user and password in the URL \
                 (nats://user:password@host:4222)"
                    .to_owned(),
            ));
        }
    };
    if nats.ca.is_some() {
        eprintln!(
            "wrpcurl: warning: the provider is not told --nats-ca (host data has no place for \
             it); it trusts the system's CAs"
        );
    }
    let mut host = emulator(&args.lattice, &provider_id).await?;
    if let Some((jwt, seed)) = &credentials {
        host = host.with_provider_credentials(jwt, seed);
    }
    for link in links {
        host.with_initial_link(link);
    }
    for (key, value) in &args.config {
        host.with_config(key, value);
    }
    let mut stop_signal = StopSignal::listen();
    let mut child = host
        .spawn_attached(&args.program)
        .await
        .map_err(|error| Error::Provider(error.to_string()))?;
    eprintln!(
        "wrpcurl: provider `{provider_id}` started (pid {}) in lattice `{}` on {}, as host `{}`; \
         Ctrl-C stops it",
        child.id().unwrap_or_default(),
        host.lattice(),
        nats.shown_url(),
        host.host_id()
    );
    let status = tokio::select! {
        status = child.wait(Duration::MAX) => status.map_err(|error| Error::Provider(error.to_string()))?,
        () = stop_signal.received() => stop(&host, &mut child).await?,
    };
    if status.success() {
        eprintln!("wrpcurl: provider `{provider_id}` exited ({status})");
        Ok(())
    } else {
        Err(Error::Provider(format!(
            "provider `{provider_id}` exited with {status}"
        )))
    }
}

/// The id given, or the executable's file name.
fn provider_id(program: &Path, given: Option<&str>) -> Result<String> {
    if let Some(id) = given.filter(|id| !id.is_empty()) {
        return Ok(id.to_owned());
    }
    program
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .ok_or_else(|| {
            Error::Usage(format!(
                "no provider id in `{}`: pass --provider-id",
                program.display()
            ))
        })
}

/// Asks the provider to shut down and waits for it to exit; kills it past the deadline.
async fn stop(host: &TestHost, child: &mut ChildProvider) -> Result<ExitStatus> {
    eprintln!("wrpcurl: asking the provider to shut down");
    let answer = tokio::select! {
        answer = host.shutdown() => answer,
        // It had the signal too, and is gone already.
        status = child.wait(SHUTDOWN_DEADLINE) => {
            return status.map_err(|error| Error::Provider(error.to_string()));
        }
    };
    if let Err(error) = answer {
        eprintln!("wrpcurl: warning: the provider did not answer the shutdown request: {error}");
    }
    match child.wait(SHUTDOWN_DEADLINE).await {
        Ok(status) => Ok(status),
        Err(_) => {
            let killed = child.kill().await;
            Err(Error::Provider(format!(
                "the provider did not exit within {SHUTDOWN_DEADLINE:?} of the shutdown request, \
                 so it was killed ({})",
                killed.map_or_else(|error| error.to_string(), |status| status.to_string())
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_id_defaults_to_the_executables_name() {
        let program = Path::new("target/debug/keyvalue-provider");
        assert_eq!(provider_id(program, None).unwrap(), "keyvalue-provider");
        assert_eq!(provider_id(program, Some("")).unwrap(), "keyvalue-provider");
        assert_eq!(provider_id(program, Some("kv")).unwrap(), "kv");
        assert!(provider_id(Path::new("/"), None).is_err());
    }
}
