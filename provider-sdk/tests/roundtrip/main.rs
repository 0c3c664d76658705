//! Round trips through `generate!` bindings for a fixture world of 102 functions that covers
//! every WIT type (`wit/roundtrip.wit`): our generated client against our generated server, in
//! process and over NATS, and both against `wit-bindgen-wrpc 0.11` bindings of the same world
//! over `wrpc-transport-nats 0.31`.

#[macro_use]
mod logic;
mod ours;
mod peer;

/// Our bindings.
mod bindings_ours {
    provider_sdk::generate!({ path: "tests/roundtrip/wit" });
}

/// The peer's bindings of the same world.
mod bindings_peer {
    wit_bindgen_wrpc::generate!({ path: "tests/roundtrip/wit" });
}

use std::time::{Duration, Instant};

use provider_sdk::transport::{Client, InvocationContext, ServeOptions, Transport};
use provider_testing::NatsServer;

/// The peer's generated futures for this world are too large for the default 2 MiB stack in
/// debug builds.
fn run<F, Fut>(test: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    provider_testing::run_on_large_stack(test)
}

async fn serve_ours(
    transport: &Transport,
    prefix: &str,
) -> anyhow::Result<provider_sdk::transport::Serving> {
    let server = transport.server(ServeOptions::new(prefix));
    Ok(bindings_ours::serve::<InvocationContext, _>(&server, ours::Server::default()).await?)
}

/// The peer's server subscribes without confirming it: call until it answers.
async fn wait_for_peer(client: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match bindings_ours::roundtrip::test::scalars::echo_u8(client, 1).await {
            Ok(_) => return Ok(()),
            Err(provider_sdk::Error::NoServer { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

#[test]
fn ours_in_process() -> anyhow::Result<()> {
    run(|| async {
        // Small pieces: every value crosses piece boundaries.
        let transport = Transport::in_process_with(64, provider_sdk::Limits::default());
        let _serving = serve_ours(&transport, "roundtrip").await?;
        ours::check(&transport.client("roundtrip")).await
    })
}

#[test]
fn ours_over_nats() -> anyhow::Result<()> {
    run(|| async {
        let nats = NatsServer::start()?;
        let _serving =
            serve_ours(&Transport::nats(nats.connect().await?).await?, "roundtrip").await?;
        let client = Transport::nats(nats.connect().await?)
            .await?
            .client("roundtrip");
        ours::check(&client).await
    })
}

#[test]
fn our_client_and_the_peer_server() -> anyhow::Result<()> {
    run(|| async {
        let nats = NatsServer::start()?;
        let _serving = peer::serve(nats.connect().await?, "roundtrip").await?;
        let client = Transport::nats(nats.connect().await?)
            .await?
            .client("roundtrip");
        wait_for_peer(&client).await?;
        ours::check(&client).await
    })
}

#[test]
fn the_peer_client_and_our_server() -> anyhow::Result<()> {
    run(|| async {
        let nats = NatsServer::start()?;
        let _serving =
            serve_ours(&Transport::nats(nats.connect().await?).await?, "roundtrip").await?;
        let wrpc =
            wrpc_transport_nats::Client::new(nats.connect().await?, "roundtrip", None).await?;
        peer::check(&wrpc).await
    })
}
