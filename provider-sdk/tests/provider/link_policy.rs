//! Only linked callers get through: the runtime's link check against real callers, ours and a
//! `wit-bindgen-wrpc 0.11` / `wrpc-transport-nats 0.31` component.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use provider_sdk::provider::RuntimeOptions;
use provider_sdk::{Error, HeaderMap};
use provider_testing::TestHost;

use super::{Probe, calls, link_up, refused, setup};

/// The peer's bindings of the probe interface, as a component calls it.
mod peer {
    wit_bindgen_wrpc::generate!({ path: "tests/provider/wit", world: "component" });
}

/// The three callers a provider must not serve unless asked to: an unknown component, a known
/// component over an unknown link name, and a call with no headers at all.
fn strangers() -> [(&'static str, Option<HeaderMap>); 3] {
    let headers = |pairs: &[(&str, &str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, *value);
        }
        Some(map)
    };
    [
        ("unknown source", headers(&[("source-id", "stranger")])),
        (
            "unknown link name",
            headers(&[("source-id", "comp"), ("link-name", "other")]),
        ),
        ("no headers", None),
    ]
}

async fn peer_client(
    host: &TestHost,
    nats: &provider_testing::NatsServer,
) -> wrpc_transport_nats::Client {
    let prefix = format!("{}.{}", host.lattice(), super::PROVIDER);
    wrpc_transport_nats::Client::new(nats.connect().await.unwrap(), prefix, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn unlinked_callers_are_refused_before_the_handler_with_what_to_do() {
    let (nats, host, state) = setup().await;
    let running = host.start(Probe(Arc::clone(&state))).await.unwrap();
    link_up(&host, &state, "comp").await;
    let served = state.whoami_calls.load(Ordering::SeqCst);
    // Calls made while the link was being put may have been refused already.
    let before = running.handle().refused_calls();

    // Our client reads the reason: who, which link, what to do.
    refused(&host, "stranger", "default").await;
    refused(&host, "comp", "other").await;
    let anonymous = host
        .transport()
        .client(format!("{}.{}", host.lattice(), super::PROVIDER));
    match calls::whoami(&anonymous, "k").await {
        Err(Error::Refused { reason, .. }) => {
            assert!(reason.contains("no `source-id` header"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(running.handle().refused_calls(), before + 3);

    // The peer's client fails at once (it reads only NATS status lines, which async-nats cannot
    // write), and the handler never runs.
    let wrpc = peer_client(&host, &nats).await;
    for (who, headers) in strangers() {
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            peer::test::probe::probe::whoami(&wrpc, headers, "k"),
        )
        .await
        .expect("the peer's call ends at once");
        let error = result.expect_err(who);
        assert!(
            format!("{error:#}").contains("peer did not specify a reply subject"),
            "{who}: {error:#}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{who}");
    }
    assert_eq!(running.handle().refused_calls(), before + 6);
    assert_eq!(
        state.whoami_calls.load(Ordering::SeqCst),
        served,
        "no handler ran for a stranger"
    );

    // A linked caller is served, by our client and by the peer's.
    let mut linked = HeaderMap::new();
    linked.insert("source-id", "comp");
    let (source, link_name, _) = peer::test::probe::probe::whoami(&wrpc, Some(linked), "k")
        .await
        .unwrap();
    assert_eq!(
        (source.as_deref(), link_name.as_str()),
        (Some("comp"), "default")
    );
    assert_eq!(
        super::whoami(&host, "comp", "default", "k").await.1,
        "default"
    );
}

#[tokio::test]
async fn the_opt_out_serves_every_caller() {
    let (nats, host, state) = setup().await;
    let options = RuntimeOptions::default().require_link(false);
    let running = host
        .start_with(Probe(Arc::clone(&state)), options)
        .await
        .unwrap();
    link_up(&host, &state, "comp").await;
    let wrpc = peer_client(&host, &nats).await;
    for (who, headers) in strangers() {
        let (source, link_name, value) =
            peer::test::probe::probe::whoami(&wrpc, headers.clone(), "k")
                .await
                .unwrap_or_else(|error| panic!("{who}: {error:#}"));
        let expected_source = headers
            .as_ref()
            .and_then(|h| h.get("source-id"))
            .map(|v| v.as_str().to_owned());
        assert_eq!(source, expected_source, "{who}");
        assert_eq!(
            link_name,
            if who == "unknown link name" {
                "other"
            } else {
                "default"
            },
            "{who}"
        );
        assert_eq!(value, None, "{who}: no link, no config");
    }
    assert_eq!(running.handle().refused_calls(), 0);
    // A linked caller still finds its link.
    assert_eq!(
        super::whoami(&host, "comp", "default", "k").await.1,
        "default"
    );
}
