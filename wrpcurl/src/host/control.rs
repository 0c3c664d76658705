//! `wrpcurl host link|config|health|shutdown`: control messages to a running provider, as a
//! wasmCloud host sends them.
//!
//! Link puts, deletes and configuration updates are published without an answer (that is the
//! protocol), so each is preceded by a health request: a provider that is not there is an error,
//! not a message into the void.

use std::collections::HashMap;

use provider_testing::{TestHost, TestLink};

use super::{ConfigCommand, LinkCommand, Target};
use super::{emulator, links};
use crate::error::{Error, Result};
use crate::output::print;

/// `host link put|del`.
pub async fn link(command: LinkCommand) -> Result<()> {
    match command {
        LinkCommand::Put(args) => {
            let target = &args.target;
            let links = links::read(&args.file, &target.provider_id)?;
            if let Some(link) = links.iter().find(|link| link.has_secrets()) {
                return Err(Error::Usage(format!(
                    "the link {} has secrets, which a host seals for the provider's xkey, known \
                     only to the host that started it: give the link to `wrpcurl host run --link \
                     FILE` instead, or put its secrets in its config",
                    link.key()
                )));
            }
            let host = reachable(target).await?;
            for link in &links {
                host.put_link(link)
                    .await
                    .map_err(|error| Error::transport("cannot publish the link put", error))?;
                print(&format!("put link {}\n", shown(link)))?;
            }
            Ok(())
        }
        LinkCommand::Del(args) => {
            let target = &args.target;
            let (namespace, package) = args.link_wit.unwrap_or_default();
            let link = TestLink::new(
                &args.source_id,
                args.link_target.as_deref().unwrap_or(&target.provider_id),
                &args.link_name,
                (&namespace, &package),
                &[],
            );
            let host = reachable(target).await?;
            host.delete_link(&link)
                .await
                .map_err(|error| Error::transport("cannot publish the link delete", error))?;
            print(&format!("deleted link {}\n", link.key()))
        }
    }
}

/// `host config put|update`.
pub async fn config(command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Put(args) => {
            let host = emulator(&args.lattice, "").await?;
            let values: HashMap<String, String> = args.values.into_iter().collect();
            host.put_named_config(&args.name, &values)
                .await
                .map_err(|error| Error::transport("cannot put the configuration", error))?;
            // Values may be sensitive: only their keys are shown.
            print(&format!(
                "put configuration `{}` ({}) in CONFIGDATA_{}\n",
                args.name,
                keys(&values),
                args.lattice.lattice
            ))
        }
        ConfigCommand::Update(args) => {
            let values: HashMap<String, String> = args.values.into_iter().collect();
            let host = reachable(&args.target).await?;
            host.update_config(&values)
                .await
                .map_err(|error| Error::transport("cannot publish the configuration", error))?;
            print(&format!(
                "sent provider `{}` its configuration ({})\n",
                args.target.provider_id,
                keys(&values)
            ))
        }
    }
}

/// `host health`: prints `healthy` (and the provider's message); unhealthy is an error.
pub async fn health(target: Target) -> Result<()> {
    let host = emulator(&target.lattice, &target.provider_id).await?;
    let health = host
        .health()
        .await
        .map_err(|error| no_answer(&target, error))?;
    if !health.healthy {
        return Err(Error::Unhealthy {
            message: health.message,
        });
    }
    match health.message {
        Some(message) => print(&format!("healthy: {message}\n")),
        None => print("healthy\n"),
    }
}

/// `host shutdown`: prints the provider's answer.
pub async fn shutdown(target: Target) -> Result<()> {
    let host = emulator(&target.lattice, &target.provider_id).await?;
    let reply = host
        .shutdown()
        .await
        .map_err(|error| no_answer(&target, error))?;
    print(&format!("{reply}\n"))
}

/// The emulator, once the provider has answered a health request.
async fn reachable(target: &Target) -> Result<TestHost> {
    let host = emulator(&target.lattice, &target.provider_id).await?;
    host.health()
        .await
        .map_err(|error| no_answer(target, error))?;
    Ok(host)
}

fn no_answer(target: &Target, error: provider_sdk::Error) -> Error {
    Error::transport(
        format!(
            "no answer from provider `{}` in lattice `{}` (is it running, and are --nats-url, \
             --lattice and --provider-id right?)",
            target.provider_id, target.lattice.lattice
        ),
        error,
    )
}

/// `source -> target (name): namespace:package/{interfaces}`.
fn shown(link: &TestLink) -> String {
    let definition = link.definition();
    format!(
        "{}: {}:{}/{{{}}}",
        link.key(),
        definition.wit_namespace,
        definition.wit_package,
        definition.interfaces.join(",")
    )
}

fn keys(values: &HashMap<String, String>) -> String {
    let mut keys: Vec<&str> = values.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys.is_empty() {
        "no keys".to_owned()
    } else {
        format!("keys {}", keys.join(", "))
    }
}
