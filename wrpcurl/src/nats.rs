//! Connecting with the SDK's NATS flags ([`NatsArgs`]), which every command that talks to a
//! lattice shares.

use provider_sdk::provider::{NatsArgs, NatsOptions};

use crate::error::{Error, Result};

/// The SDK's options for the flags: one connection attempt (a command fails at once when there
/// is no server), named `wrpcurl` at the server.
pub fn options(args: &NatsArgs) -> NatsOptions {
    let mut options = args.options().connect_attempts(1);
    options.name = Some("wrpcurl".to_owned());
    options
}

/// Connects.
pub async fn connect(args: &NatsArgs) -> Result<async_nats::Client> {
    options(args)
        .connect()
        .await
        .map_err(|error| Error::transport("cannot reach the lattice", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_server_is_a_transport_failure_at_once() {
        let args = NatsArgs::new("nats://127.0.0.1:1");
        let error = connect(&args).await.unwrap_err();
        assert_eq!(error.exit_status(), 3, "{error}");
        assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    }
}
