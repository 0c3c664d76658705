//! Runs the greeter.
//!
//! - With `NATS_URL` set, it serves `greet` on that NATS server until Ctrl-C; call it from any
//!   wRPC client at `default.greeter.wrpc.0.0.1.example:greeter/greet.greet`.
//! - Without, it serves on the in-process transport, makes a few calls to itself, prints them,
//!   and exits: the embedded default, which needs no server.

use std::time::Instant;

use provider_sdk::transport::Transport;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    match std::env::var("NATS_URL") {
        Ok(url) => {
            let transport = Transport::nats(async_nats::connect(&url).await?).await?;
            let _serving = greeter::serve(&transport).await?;
            println!(
                "serving example:greeter/greet under `{}` on {url}; Ctrl-C stops",
                greeter::PREFIX
            );
            tokio::signal::ctrl_c().await?;
        }
        Err(_) => {
            let transport = Transport::in_process();
            let _serving = greeter::serve(&transport).await?;
            println!("serving example:greeter/greet in-process (set NATS_URL to serve on NATS)");
            let client = transport.client(greeter::PREFIX);
            for name in ["world", "wRPC", "provider"] {
                let started = Instant::now();
                let greeting = greeter::call_greet(&client, name).await?;
                println!("greet({name:?}) = {greeting:?} in {:?}", started.elapsed());
            }
        }
    }
    Ok(())
}
