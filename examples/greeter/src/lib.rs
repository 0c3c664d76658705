//! The smallest provider: one function, `greet: func(name: string) -> string` of the
//! interface `example:greeter/greet` (see `wit/greeter.wit`), served over whatever
//! [`Transport`] it is given.

use provider_sdk::transport::{Client, InvocationContext, ServeOptions, Serving, Transport};

mod bindings {
    provider_sdk::generate!();
}

use bindings::exports::example::greeter::greet::Handler;

/// The subject prefix it serves under (`<lattice>.<provider-id>` in wasmCloud).
pub const PREFIX: &str = "default.greeter";

/// The provider.
#[derive(Clone, Copy, Debug, Default)]
pub struct Greeter;

impl Handler<InvocationContext> for Greeter {
    async fn greet(&self, _cx: InvocationContext, name: String) -> String {
        format!("Hello, {name}!")
    }
}

/// Serves `greet` on `transport` until the returned handle is dropped.
pub async fn serve(transport: &Transport) -> provider_sdk::Result<Serving> {
    bindings::serve(&transport.server(ServeOptions::new(PREFIX)), Greeter).await
}

/// Calls `greet` through `client`.
pub async fn call_greet(client: &Client, name: &str) -> provider_sdk::Result<String> {
    bindings::example::greeter::greet::greet(client, name).await
}

#[cfg(test)]
mod tests {
    use provider_testing::NatsServer;

    use super::*;

    #[tokio::test]
    async fn greets_in_process() {
        let transport = Transport::in_process();
        let _serving = serve(&transport).await.unwrap();
        let client = transport.client(PREFIX);
        assert_eq!(call_greet(&client, "world").await.unwrap(), "Hello, world!");
    }

    #[tokio::test]
    async fn greets_over_nats() {
        let nats = NatsServer::start().unwrap();
        let server = Transport::nats(nats.connect().await.unwrap())
            .await
            .unwrap();
        let _serving = serve(&server).await.unwrap();
        let client = Transport::nats(nats.connect().await.unwrap())
            .await
            .unwrap()
            .client(PREFIX);
        assert_eq!(call_greet(&client, "NATS").await.unwrap(), "Hello, NATS!");
    }
}
