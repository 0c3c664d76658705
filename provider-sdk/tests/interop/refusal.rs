//! A refusal, as the peer's client sees it: our server answers a refused invocation with a
//! handshake that has no reply subject (wRPC has no error frame), and `wrpc-transport-nats 0.31`
//! fails the call at once with "peer did not specify a reply subject" instead of waiting.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use provider_sdk::transport::{InvocationContext, Refusal, ServeOptions};
use provider_testing::NatsServer;

use crate::bindings::interop::test::types as peer;
use crate::calls::{our_transport, peer_client, run};
use crate::logic::imports;

const INSTANCE: &str = "interop:test/types@0.1.0";

fn only_trusted(cx: &InvocationContext) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal> {
    match cx.header("source-id") {
        Some("trusted") => Ok(None),
        _ => Err(Refusal::new("only trusted components may greet")),
    }
}

#[test]
fn the_peer_client_is_refused_promptly() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let server = our_transport(&nats)
            .await?
            .server(ServeOptions::new("interop").admission(Arc::new(only_trusted)));
        let ran = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&ran);
        let _serving = server
            .serve_fn(INSTANCE, "greet", move |_, (name,): (String,)| {
                count.fetch_add(1, Ordering::SeqCst);
                async move { (imports::greet(name),) }
            })
            .await?;
        let wrpc = peer_client(&nats, "interop").await?;

        // Refused: the peer has no deadline of its own, so a hang would fail the timeout here.
        let started = Instant::now();
        let refused = tokio::time::timeout(Duration::from_secs(10), peer::greet(&wrpc, None, "x"))
            .await
            .expect("the peer's call ends at once, not never");
        let err = refused.expect_err("the call is refused");
        assert!(
            format!("{err:#}").contains("peer did not specify a reply subject"),
            "{err:#}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(ran.load(Ordering::SeqCst), 0, "a refused call ran");

        // Admitted: served as usual.
        let mut headers = provider_sdk::HeaderMap::new();
        headers.insert("source-id", "trusted");
        assert_eq!(
            peer::greet(&wrpc, Some(headers), "wRPC").await?,
            "Hello, wRPC!"
        );
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        Ok(())
    })
}
