//! The messages of one call, counted on the wire: a tap subscribed to every subject of a private
//! NATS server records what each call sends. Between our client and our server a small call
//! takes three messages (the short exchange, agreed with `wrpc-ends: <R_c>`); with a plain
//! wRPC peer on either side, or with params that need more than the invocation, it keeps the
//! full exchange of five.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use provider_sdk::transport::{CallOptions, Client, InvocationContext, ServeOptions, Transport};
use provider_sdk::wire::WitStream;
use provider_testing::NatsServer;

use crate::bindings::interop::test::types as peer;
use crate::calls::{
    INSTANCE, our_transport, run, serve_ours, start_peer_server_on, wait_until_served,
};

/// One message as the tap saw it.
#[derive(Debug)]
struct Seen {
    subject: String,
    reply: Option<String>,
    /// The message says `wrpc-ends` with a reply subject as its value (the invocation its
    /// own, the handshake its subject).
    ends_implied: bool,
    /// The message has a `wrpc-ends` header, whatever its value.
    ends_header: bool,
    payload: Bytes,
}

/// A subscription to every subject, and the connections whose messages it waits for.
struct Tap {
    subscriber: async_nats::Subscriber,
    connections: Vec<async_nats::Client>,
}

impl Tap {
    async fn start(
        nats: &NatsServer,
        connections: Vec<async_nats::Client>,
    ) -> anyhow::Result<Self> {
        let tap = nats.connect().await?;
        let subscriber = tap.subscribe(">").await?;
        tap.flush().await?;
        // `flush` only writes; a message of ours coming back proves the subscription is live.
        tap.publish("tap.ready", Bytes::new()).await?;
        let mut tap = Self {
            subscriber,
            connections,
        };
        tap.until("tap.ready").await?;
        Ok(tap)
    }

    /// Receives until a message on `subject`; returns what came before it.
    async fn until(&mut self, subject: &str) -> anyhow::Result<Vec<Seen>> {
        let mut seen = Vec::new();
        let wait = async {
            while let Some(message) = self.subscriber.next().await {
                if message.subject.as_str() == subject {
                    return Ok(());
                }
                seen.push(Seen {
                    subject: message.subject.to_string(),
                    reply: message.reply.as_ref().map(|reply| reply.to_string()),
                    ends_implied: message
                        .headers
                        .as_ref()
                        .and_then(|headers| headers.get("wrpc-ends"))
                        .is_some_and(|value| {
                            let named = message.reply.as_ref().unwrap_or(&message.subject);
                            value.as_str() == named.as_str()
                        }),
                    ends_header: message
                        .headers
                        .as_ref()
                        .is_some_and(|headers| headers.get("wrpc-ends").is_some()),
                    payload: message.payload,
                });
            }
            anyhow::bail!("the tap's subscription ended")
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await??;
        Ok(seen)
    }

    /// What the watched connections sent since the last look. Anything sent after a call
    /// returns (an end message, say) has 200 ms to go out; then each connection publishes a
    /// marker, and NATS keeps each connection's messages in order.
    async fn messages(&mut self) -> anyhow::Result<Vec<Seen>> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut seen = Vec::new();
        for (i, connection) in self.connections.clone().iter().enumerate() {
            let marker = format!("tap.marker.{i}");
            connection.publish(marker.clone(), Bytes::new()).await?;
            connection.flush().await?;
            seen.extend(self.until(&marker).await?);
        }
        Ok(seen)
    }
}

/// The subjects of `seen`, with `reply` (the caller's `R_c`) written as `R_c`.
fn subjects(seen: &[Seen], reply: &str) -> Vec<String> {
    seen.iter()
        .map(|message| message.subject.replace(reply, "R_c"))
        .collect()
}

/// The invocation's reply subject: the first message's.
fn caller_reply(seen: &[Seen]) -> String {
    seen.first()
        .and_then(|invocation| invocation.reply.clone())
        .expect("the invocation has a reply subject")
}

fn subject_of(func: &str) -> String {
    format!("interop.wrpc.0.0.1.{INSTANCE}.{func}")
}

/// Our client and our server, each on its own connection, and a tap on both.
async fn ours_and_ours(nats: &NatsServer) -> anyhow::Result<(Client, Tap, impl Sized)> {
    let server_transport = our_transport(nats).await?;
    let server = server_transport.server(ServeOptions::new("interop"));
    let mut serving = serve_ours(&server).await?;
    // What headers a handler sees.
    serving.push(
        server
            .serve_fn(
                INSTANCE,
                "header-names",
                |cx: InvocationContext, (): ()| async move {
                    let mut names: Vec<String> = cx
                        .headers()
                        .map(|headers| headers.iter().map(|(name, _)| name.to_string()).collect())
                        .unwrap_or_default();
                    names.sort();
                    (names,)
                },
            )
            .await?,
    );
    let client_transport = our_transport(nats).await?;
    let tap = Tap::start(nats, connections(&[&server_transport, &client_transport])).await?;
    Ok((
        client_transport.client("interop"),
        tap,
        (serving, server_transport),
    ))
}

fn connections(transports: &[&Transport]) -> Vec<async_nats::Client> {
    transports
        .iter()
        .map(|transport| transport.nats_client().expect("a NATS transport").clone())
        .collect()
}

#[test]
fn a_small_call_between_our_ends_takes_three_messages() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let (client, mut tap, _serving) = ours_and_ours(&nats).await?;

        let (greeting,): (String,) = client.invoke(INSTANCE, "greet", ("wRPC",)).await?;
        assert_eq!(greeting, "Hello, wRPC!");
        let seen = tap.messages().await?;
        let reply = caller_reply(&seen);
        assert_eq!(
            subjects(&seen, &reply),
            [subject_of("greet"), "R_c".into(), "R_c.results".into()],
            "{seen:#?}"
        );
        let [invocation, handshake, results] = &seen[..] else {
            unreachable!()
        };
        assert!(invocation.ends_implied, "{invocation:?}");
        assert!(handshake.ends_implied, "{handshake:?}");
        assert_eq!(handshake.reply, None, "nothing more goes to the server");
        assert!(handshake.payload.is_empty());
        assert!(!results.payload.is_empty(), "the results, without an end");

        // No results: the end message is the results.
        let () = client.invoke(INSTANCE, "nothing", ()).await?;
        let seen = tap.messages().await?;
        let reply = caller_reply(&seen);
        assert_eq!(
            subjects(&seen, &reply),
            [subject_of("nothing"), "R_c".into(), "R_c.results".into()],
            "{seen:#?}"
        );
        assert!(seen[2].payload.is_empty());

        // The agreement is the transport's: the handler sees the caller's headers only.
        let options = CallOptions::default().header("source-id", "me")?;
        let (names,): (Vec<String>,) = client
            .invoke_with(&options, INSTANCE, "header-names", ())
            .await?;
        assert_eq!(names, ["source-id"]);
        let seen = tap.messages().await?;
        assert!(seen[0].ends_implied, "{seen:#?}");
        assert_eq!(seen.len(), 3, "{seen:#?}");

        // Results that do not fit one message: their pieces, no end after them.
        let max_payload = client_max_payload(&tap);
        let len = max_payload + max_payload / 2;
        let (bytes,): (Bytes,) = client.invoke(INSTANCE, "make-bytes", (len as u32,)).await?;
        assert_eq!(bytes.len(), len);
        let seen = tap.messages().await?;
        let reply = caller_reply(&seen);
        assert_eq!(
            subjects(&seen, &reply),
            [
                subject_of("make-bytes"),
                "R_c".into(),
                "R_c.results".into(),
                "R_c.results".into()
            ],
            "{seen:#?}"
        );
        assert!(seen[2..].iter().all(|piece| !piece.payload.is_empty()));

        // Results with a pending stream: the root channel gets its end after all.
        let (stream,): (WitStream<u32>,) = client.invoke(INSTANCE, "count-up", (3u32,)).await?;
        assert_eq!(stream.collect_all().await?, [0, 1, 2]);
        let seen = tap.messages().await?;
        let reply = caller_reply(&seen);
        assert!(seen[0].ends_implied && seen[1].ends_implied, "{seen:#?}");
        let root_ends = subjects(&seen, &reply)
            .iter()
            .zip(&seen)
            .filter(|(subject, message)| *subject == "R_c.results" && message.payload.is_empty())
            .count();
        assert_eq!(root_ends, 1, "{seen:#?}");
        Ok(())
    })
}

#[test]
fn calls_that_need_more_than_the_invocation_keep_the_full_exchange() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let (client, mut tap, _serving) = ours_and_ours(&nats).await?;

        // A pending stream in the params.
        let chunks = vec![vec![1u32, 2], vec![3]];
        let (sum,): (u64,) = client
            .invoke(
                INSTANCE,
                "sum-stream",
                (WitStream::new(futures::stream::iter(chunks)),),
            )
            .await?;
        assert_eq!(sum, 6);
        let seen = tap.messages().await?;
        let reply = caller_reply(&seen);
        assert!(
            seen.iter().all(|message| !message.ends_implied),
            "{seen:#?}"
        );
        let server_reply = seen[1].reply.clone().expect("a full handshake has R_s");
        let names: Vec<String> = subjects(&seen, &reply)
            .into_iter()
            .map(|subject| subject.replace(&server_reply, "R_s"))
            .collect();
        assert_eq!(names[..2], [subject_of("sum-stream"), "R_c".into()]);
        for expected in ["R_s.params", "R_s.params.0", "R_c.results"] {
            assert!(names.contains(&expected.to_owned()), "{names:?}");
        }
        let ends = |subject: &str| {
            names
                .iter()
                .zip(&seen)
                .filter(|(s, message)| *s == subject && message.payload.is_empty())
                .count()
        };
        assert_eq!(ends("R_s.params"), 1, "the end of params: {names:?}");
        assert_eq!(ends("R_c.results"), 1, "the end of results: {names:?}");

        // A `wrpc-ends` copied from elsewhere (a caller passing headers on) does not go out
        // with a call that needs the full exchange, and the call works.
        let copied = CallOptions::default().header("wrpc-ends", "_INBOX.elsewhere.1")?;
        let (sum,): (u64,) = client
            .invoke_with(
                &copied,
                INSTANCE,
                "sum-stream",
                (WitStream::new(futures::stream::iter(vec![vec![4u32]])),),
            )
            .await?;
        assert_eq!(sum, 4);
        let seen = tap.messages().await?;
        assert!(seen.iter().all(|message| !message.ends_header), "{seen:#?}");
        assert!(seen[1].reply.is_some(), "a full handshake: {seen:#?}");

        // Params larger than one message.
        let max_payload = client_max_payload(&tap);
        let bytes = Bytes::from(vec![7u8; max_payload + 10]);
        let _: ((u64, u64),) = client.invoke(INSTANCE, "checksum", (bytes,)).await?;
        let seen = tap.messages().await?;
        assert!(
            seen.iter().all(|message| !message.ends_implied),
            "{seen:#?}"
        );
        let reply = caller_reply(&seen);
        let results = subjects(&seen, &reply);
        assert_eq!(
            results.iter().filter(|s| *s == "R_c.results").count(),
            2,
            "results, then their end: {results:?}"
        );
        Ok(())
    })
}

fn client_max_payload(tap: &Tap) -> usize {
    tap.connections[1].server_info().max_payload
}

#[test]
fn a_plain_wrpc_server_gets_the_full_exchange_from_our_client() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let peer_connection = nats.connect().await?;
        let _peer = start_peer_server_on(peer_connection.clone(), "interop").await?;
        let transport = our_transport(&nats).await?;
        let client = transport.client("interop");
        wait_until_served(&client).await?;
        let mut connections = connections(&[&transport]);
        connections.push(peer_connection);
        let mut tap = Tap::start(&nats, connections).await?;

        let (greeting,): (String,) = client.invoke(INSTANCE, "greet", ("wRPC",)).await?;
        assert_eq!(greeting, "Hello, wRPC!");
        let seen = tap.messages().await?;
        // The invocation asks (the peer ignores it); the peer's handshake does not agree, so our
        // client ends the params; the peer ends its results.
        assert!(seen[0].ends_implied);
        assert!(!seen[1].ends_implied);
        assert_full_exchange(&seen, "greet");
        Ok(())
    })
}

#[test]
fn a_plain_wrpc_client_gets_the_full_exchange_from_our_server() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let transport = our_transport(&nats).await?;
        let _serving = serve_ours(&transport.server(ServeOptions::new("interop"))).await?;
        let peer_connection = nats.connect().await?;
        let wrpc =
            wrpc_transport_nats::Client::new(peer_connection.clone(), "interop", None).await?;
        let mut connections = connections(&[&transport]);
        connections.push(peer_connection);
        let mut tap = Tap::start(&nats, connections).await?;

        assert_eq!(peer::greet(&wrpc, None, "wRPC").await?, "Hello, wRPC!");
        let seen = tap.messages().await?;
        assert!(
            seen.iter().all(|message| !message.ends_implied),
            "{seen:#?}"
        );
        assert_full_exchange(&seen, "greet");
        Ok(())
    })
}

/// `seen` is plain wRPC's five messages for a small call of `func`: the invocation, the
/// handshake with `R_s`, the end of params, the results and their end.
fn assert_full_exchange(seen: &[Seen], func: &str) {
    let reply = caller_reply(seen);
    let server_reply = seen[1].reply.clone().expect("a full handshake has R_s");
    assert!(seen[1].payload.is_empty());
    let subjects: Vec<String> = subjects(seen, &reply)
        .into_iter()
        .map(|subject| subject.replace(&server_reply, "R_s"))
        .collect();
    assert_eq!(subjects.len(), 5, "{seen:#?}");
    assert_eq!(subjects[..2], [subject_of(func), "R_c".into()]);
    let on = |subject: &str| -> Vec<&Seen> {
        subjects
            .iter()
            .zip(seen)
            .filter(|(s, _)| *s == subject)
            .map(|(_, message)| message)
            .collect()
    };
    let params = on("R_s.params");
    assert!(
        params.len() == 1 && params[0].payload.is_empty(),
        "the end of params: {seen:#?}"
    );
    let results = on("R_c.results");
    assert!(
        results.len() == 2 && !results[0].payload.is_empty() && results[1].payload.is_empty(),
        "the results, then their end: {seen:#?}"
    );
}
