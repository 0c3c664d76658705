//! The smallest provider: one function, `greet: func(name: string) -> string`, of the interface
//! `example:greeter/greet`, served over whatever [`Transport`] it is given.

use provider_sdk::transport::{Client, ServeOptions, Serving, Transport};

/// The interface the greeter serves.
pub const INSTANCE: &str = "example:greeter/greet";

/// The subject prefix it serves under (`<lattice>.<provider-id>` in wasmCloud).
pub const PREFIX: &str = "default.greeter";

/// Serves `greet` on `transport` until the returned handle is dropped.
pub async fn serve(transport: &Transport) -> provider_sdk::Result<Serving> {
    transport
        .server(ServeOptions::new(PREFIX))
        .serve_fn(INSTANCE, "greet", |_cx, (name,): (String,)| async move {
            (greet(&name),)
        })
        .await
}

/// What `greet` answers.
pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Calls `greet` through `client`.
pub async fn call_greet(client: &Client, name: &str) -> provider_sdk::Result<String> {
    let (greeting,): (String,) = client.invoke(INSTANCE, "greet", (name,)).await?;
    Ok(greeting)
}

#[cfg(test)]
mod tests {
    use provider_sdk::testing::NatsServer;

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
