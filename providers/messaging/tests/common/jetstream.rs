//! What the JetStream test files share: the component they play (it serves `handler` on the
//! lattice under `<lattice>.comp` and counts its answers per body), the handler link with
//! `consumers`, and the check that a consumer has nothing left unacked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;
use messaging_provider::MessagingProvider;
use messaging_provider::client::exports::wasmcloud::messaging::handler;
use messaging_provider::client::wasmcloud::messaging::types::BrokerMessage;
use provider_sdk::transport::{InvocationContext, ServeOptions, Serving};
use provider_testing::{TestHost, TestLink, eventually};

use super::PROVIDER;

/// How the component answers.
#[derive(Clone, Copy, Default)]
pub enum Policy {
    /// Always `ok`.
    #[default]
    Ok,
    /// `err` the first time it sees a body that is a multiple of ten, `ok` otherwise.
    FailEveryTenthOnce,
    /// `err` to a body starting with `poison`, `ok` otherwise.
    Poison,
}

/// Counts, per body, the `ok` and `err` answers the component gave.
#[derive(Clone, Default)]
pub struct Component {
    pub policy: Policy,
    pub delay: Duration,
    pub oks: Arc<Mutex<HashMap<Bytes, usize>>>,
    pub errs: Arc<Mutex<HashMap<Bytes, usize>>>,
    /// When each `ok` was answered, in order: where delivery stalled.
    pub ok_times: Arc<Mutex<Vec<Instant>>>,
    pub in_flight: Arc<AtomicUsize>,
    pub most_in_flight: Arc<AtomicUsize>,
}

impl Component {
    pub fn new(policy: Policy, delay: Duration) -> Self {
        Self {
            policy,
            delay,
            ..Self::default()
        }
    }

    pub fn oks(&self) -> HashMap<Bytes, usize> {
        self.oks.lock().unwrap().clone()
    }

    pub fn errs(&self) -> HashMap<Bytes, usize> {
        self.errs.lock().unwrap().clone()
    }

    /// How many distinct bodies were answered `ok`.
    pub fn handled(&self) -> usize {
        self.oks.lock().unwrap().len()
    }

    /// Waits up to `secs` until `count` distinct bodies were answered `ok`.
    pub async fn until_ok(&self, count: usize, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while self.handled() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} distinct messages handled ok, expected {count}",
                self.handled()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl handler::Handler<InvocationContext> for Component {
    async fn handle_message(
        &self,
        _cx: InvocationContext,
        msg: BrokerMessage,
    ) -> Result<(), String> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        } else if msg.body.ends_with(b"7") {
            // An await point, so deliveries in flight overlap (and `most_in_flight` means
            // something); a tiny sleep on some messages, a yield on the others.
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let fail = match self.policy {
            Policy::Ok => false,
            Policy::FailEveryTenthOnce => {
                let n: usize = std::str::from_utf8(&msg.body).unwrap().parse().unwrap();
                n.is_multiple_of(10) && !self.errs.lock().unwrap().contains_key(&msg.body)
            }
            Policy::Poison => msg.body.starts_with(b"poison"),
        };
        if fail {
            *self.errs.lock().unwrap().entry(msg.body).or_default() += 1;
            return Err("failed by the component".to_owned());
        }
        *self.oks.lock().unwrap().entry(msg.body).or_default() += 1;
        self.ok_times.lock().unwrap().push(Instant::now());
        Ok(())
    }
}

/// `comp` serves `handler` with `component` on `host`'s lattice.
pub async fn serve(host: &TestHost, component: Component) -> Serving {
    let server = host
        .transport()
        .server(ServeOptions::new(format!("{}.comp", host.lattice())));
    handler::serve(&server, component).await.unwrap()
}

/// A handler link from the provider to `comp` on the NATS servers `urls` (comma-separated),
/// with `consumers` and `extra` source config.
pub fn handler_link(urls: &str, consumers: &str, extra: &[(&str, &str)]) -> TestLink {
    let mut link = TestLink::new(
        PROVIDER,
        "comp",
        "default",
        ("wasmcloud", "messaging"),
        &["handler"],
    )
    .source_config("cluster_uris", urls)
    .source_config("consumers", consumers);
    for (key, value) in extra {
        link = link.source_config(key, value);
    }
    link
}

/// Puts `link` and waits until the provider holds it (a handler link is held once its
/// JetStream consumers were found and its subscriptions confirmed).
pub async fn put(host: &TestHost, link: &TestLink, provider: &MessagingProvider) {
    host.put_link(link).await.unwrap();
    assert!(
        eventually(|| async { provider.links().1 == 1 }).await,
        "the handler link never came up"
    );
}

/// Waits until the consumer has nothing pending or unacked. A lookup that fails (a stream or
/// consumer without a leader for the moment) is asked again.
pub async fn all_acked(js: &jetstream::Context, stream: &str, consumer: &str) -> bool {
    eventually(|| async {
        let Ok(stream) = js.get_stream(stream).await else {
            return false;
        };
        let Ok(info) = stream.consumer_info(consumer).await else {
            return false;
        };
        info.num_ack_pending == 0 && info.num_pending == 0
    })
    .await
}
