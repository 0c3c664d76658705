//! How calls behave, over NATS and over the in-process transport: failures have distinct errors
//! that name the subject, serving is bounded and ready when `serve` returns, and a NATS restart
//! is survived.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use provider_sdk::transport::{
    Admission, CallOptions, Client, Invocation, InvocationContext, Refusal, ServeOptions, Transport,
};
use provider_sdk::wire::{ByteStream, WitFuture, WitStream};
use provider_sdk::{Error, Limits};
use provider_testing::NatsServer;

const INSTANCE: &str = "test:transport/calls@1.0.0";

/// A server transport and a client transport that reach each other.
struct Pair {
    nats: Option<NatsServer>,
    server: Transport,
    client: Transport,
}

impl Pair {
    async fn nats() -> Self {
        Self::nats_with_limits(Limits::default()).await
    }

    async fn nats_with_limits(client_limits: Limits) -> Self {
        let nats = NatsServer::start().expect("nats-server starts");
        let server = Transport::nats(nats.connect().await.unwrap())
            .await
            .unwrap();
        let client = Transport::nats_with_limits(nats.connect().await.unwrap(), client_limits)
            .await
            .unwrap();
        Self {
            nats: Some(nats),
            server,
            client,
        }
    }

    fn in_process() -> Self {
        Self::in_process_with_limits(Limits::default())
    }

    fn in_process_with_limits(limits: Limits) -> Self {
        let transport = Transport::in_process_with(1 << 20, limits);
        Self {
            nats: None,
            server: transport.clone(),
            client: transport,
        }
    }

    async fn both() -> [Self; 2] {
        [Self::nats().await, Self::in_process()]
    }

    fn kind(&self) -> &'static str {
        if self.nats.is_some() {
            "nats"
        } else {
            "in-process"
        }
    }

    fn client(&self) -> Client {
        self.client.client("test")
    }
}

#[tokio::test]
async fn no_server_is_a_distinct_error() {
    for pair in Pair::both().await {
        let err = pair
            .client()
            .invoke::<_, (String,)>(INSTANCE, "nobody", ("x",))
            .await
            .unwrap_err();
        let Error::NoServer { subject } = &err else {
            panic!("{}: {err}", pair.kind())
        };
        assert_eq!(subject, "test.wrpc.0.0.1.test:transport/calls@1.0.0.nobody");
        assert!(
            err.to_string()
                .starts_with("no server for `test.wrpc.0.0.1."),
            "{err}"
        );
        assert!(err.is_transport());
    }
}

#[tokio::test]
async fn the_deadline_names_the_subject() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "slow", |_, (): ()| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
            })
            .await
            .unwrap();
        let options = CallOptions::default().timeout(Duration::from_millis(200));
        let err = pair
            .client()
            .invoke_with::<_, ()>(&options, INSTANCE, "slow", ())
            .await
            .unwrap_err();
        let Error::Timeout { subject, after } = &err else {
            panic!("{}: {err}", pair.kind())
        };
        assert!(subject.ends_with("calls@1.0.0.slow"), "{subject}");
        assert_eq!(*after, Duration::from_millis(200));
    }
}

#[tokio::test]
async fn a_server_that_fails_is_an_incomplete_result() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        // Reads the params, then gives up without results, as a failed handler does.
        let _serving = server
            .serve(INSTANCE, "fail", |mut invocation: Invocation| async move {
                let _: (String,) = invocation.read_params().await.unwrap();
            })
            .await
            .unwrap();
        let err = pair
            .client()
            .invoke::<_, (String,)>(INSTANCE, "fail", ("x",))
            .await
            .unwrap_err();
        let Error::Incomplete {
            what,
            subject,
            received,
        } = &err
        else {
            panic!("{}: {err}", pair.kind())
        };
        assert_eq!((*what, *received), ("result", 0));
        assert_eq!(subject, "test.wrpc.0.0.1.test:transport/calls@1.0.0.fail");
    }
}

#[tokio::test]
async fn malformed_results_are_reported() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "two", |_, (): ()| async { (2u8,) })
            .await
            .unwrap();
        let err = pair
            .client()
            .invoke::<_, (bool,)>(INSTANCE, "two", ())
            .await
            .unwrap_err();
        let Error::Malformed { subject, source } = &err else {
            panic!("{}: {err}", pair.kind())
        };
        assert_eq!(subject, "test.wrpc.0.0.1.test:transport/calls@1.0.0.two");
        assert!(matches!(**source, Error::InvalidBool(2)), "{err}");
        assert!(!err.is_transport());
    }
}

#[tokio::test]
async fn malformed_params_drop_the_invocation() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(
                INSTANCE,
                "flag",
                |_, (flag,): (bool,)| async move { (flag,) },
            )
            .await
            .unwrap();
        let err = pair
            .client()
            .invoke::<_, (bool,)>(INSTANCE, "flag", (7u8,))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Incomplete { what: "result", .. }),
            "{}: {err}",
            pair.kind()
        );
    }
}

#[tokio::test]
async fn headers_and_subject_reach_the_handler() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "whoami", |cx, (): ()| async move {
                ((
                    cx.subject().to_owned(),
                    cx.header("source-id").map(str::to_owned),
                ),)
            })
            .await
            .unwrap();
        let options = CallOptions::default()
            .header("source-id", "component-1")
            .unwrap();
        let ((subject, source),): ((String, Option<String>),) = pair
            .client()
            .invoke_with(&options, INSTANCE, "whoami", ())
            .await
            .unwrap();
        assert_eq!(subject, "test.wrpc.0.0.1.test:transport/calls@1.0.0.whoami");
        assert_eq!(source.as_deref(), Some("component-1"), "{}", pair.kind());
        let ((_, source),): ((String, Option<String>),) =
            pair.client().invoke(INSTANCE, "whoami", ()).await.unwrap();
        assert_eq!(source, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_concurrency_is_bounded() {
    for pair in Pair::both().await {
        let server = pair
            .server
            .server(ServeOptions::new("test").max_concurrency(3));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (now, max) = (Arc::clone(&in_flight), Arc::clone(&most));
        let _serving = server
            .serve_fn(INSTANCE, "busy", move |_, (i,): (u32,)| {
                let (now, max) = (Arc::clone(&now), Arc::clone(&max));
                async move {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(running, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    (i,)
                }
            })
            .await
            .unwrap();
        let client = pair.client();
        let calls = (0..12u32).map(|i| {
            let client = client.clone();
            async move { client.invoke::<_, (u32,)>(INSTANCE, "busy", (i,)).await }
        });
        let results = futures::future::join_all(calls).await;
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result.unwrap(), (i as u32,));
        }
        assert_eq!(most.load(Ordering::SeqCst), 3, "{}", pair.kind());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_function_holds_no_permit() {
    for pair in Pair::both().await {
        let server = pair
            .server
            .server(ServeOptions::new("test").max_concurrency(1));
        let _a = server
            .serve_fn(INSTANCE, "a", |_, (): ()| async { ('a',) })
            .await
            .unwrap();
        let _b = server
            .serve_fn(INSTANCE, "b", |_, (): ()| async { ('b',) })
            .await
            .unwrap();
        let client = pair.client().with_timeout(Duration::from_secs(2));
        // `b` was served last, with `a` idle: it must still get the one permit.
        assert_eq!(
            client
                .invoke::<_, (char,)>(INSTANCE, "b", ())
                .await
                .unwrap(),
            ('b',)
        );
        assert_eq!(
            client
                .invoke::<_, (char,)>(INSTANCE, "a", ())
                .await
                .unwrap(),
            ('a',)
        );
    }
}

#[tokio::test]
async fn a_function_is_callable_as_soon_as_serve_returns() {
    let pair = Pair::nats().await;
    let server = pair.server.server(ServeOptions::new("test"));
    let client = pair.client();
    let mut serving = Vec::new();
    for i in 0..20u32 {
        let func = format!("f{i}");
        serving.push(
            server
                .serve_fn(INSTANCE, &func, move |_, (): ()| async move { (i,) })
                .await
                .unwrap(),
        );
        let (answer,): (u32,) = client.invoke(INSTANCE, &func, ()).await.unwrap();
        assert_eq!(answer, i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_group_answers_each_call_once() {
    let pair = Pair::nats().await;
    let nats = pair.nats.as_ref().unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let mut serving = Vec::new();
    for replica in 0..2u32 {
        let transport = Transport::nats(nats.connect().await.unwrap())
            .await
            .unwrap();
        let handled = Arc::clone(&handled);
        serving.push(
            transport
                .server(ServeOptions::new("test"))
                .serve_fn(INSTANCE, "which", move |_, (s,): (String,)| {
                    handled.fetch_add(1, Ordering::SeqCst);
                    async move { (format!("{s} from {replica}"),) }
                })
                .await
                .unwrap(),
        );
    }
    let client = pair.client();
    for i in 0..40 {
        let (answer,): (String,) = client
            .invoke(INSTANCE, "which", (format!("call {i}"),))
            .await
            .unwrap();
        assert!(answer.starts_with(&format!("call {i} from ")), "{answer}");
    }
    assert_eq!(handled.load(Ordering::SeqCst), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_calls_in_flight() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let started = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&started);
        let _serving = server
            .serve_fn(INSTANCE, "work", move |_, (i,): (u32,)| {
                count.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    (i * 10,)
                }
            })
            .await
            .unwrap();
        let client = pair.client();
        let calls: Vec<_> = (0..3u32)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(
                    async move { client.invoke::<_, (u32,)>(INSTANCE, "work", (i,)).await },
                )
            })
            .collect();
        while started.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            server.shutdown(Duration::from_secs(5)).await,
            "{}",
            pair.kind()
        );
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().unwrap(), (i as u32 * 10,));
        }
        let options = CallOptions::default().timeout(Duration::from_millis(500));
        let after = client
            .invoke_with::<_, (u32,)>(&options, INSTANCE, "work", (9u32,))
            .await;
        assert!(
            after.is_err(),
            "{}: a stopped server took a call",
            pair.kind()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_refuses_queued_calls_at_once() {
    for pair in Pair::both().await {
        let server = pair
            .server
            .server(ServeOptions::new("test").max_concurrency(1));
        let started = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&started);
        let _serving = server
            .serve_fn(INSTANCE, "one-at-a-time", move |_, (): ()| {
                count.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    ('x',)
                }
            })
            .await
            .unwrap();
        // Generous deadlines: a refused call must fail at once, not time out.
        let client = pair.client().with_timeout(Duration::from_secs(30));
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    client
                        .invoke::<_, (char,)>(INSTANCE, "one-at-a-time", ())
                        .await
                })
            })
            .collect();
        while started.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started_shutdown = Instant::now();
        assert!(server.shutdown(Duration::from_secs(5)).await);
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await.unwrap());
        }
        assert!(
            started_shutdown.elapsed() < Duration::from_secs(5),
            "{}",
            pair.kind()
        );
        assert_eq!(
            started.load(Ordering::SeqCst),
            1,
            "{}: a queued call ran",
            pair.kind()
        );
        assert_eq!(
            results.iter().filter(|result| result.is_ok()).count(),
            1,
            "{}",
            pair.kind()
        );
        for result in results.into_iter().filter_map(Result::err) {
            assert!(
                matches!(result, Error::Incomplete { .. }),
                "{}: {result}",
                pair.kind()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_sender_fails_ends_with_an_error() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "breaks", |_, (): ()| async {
                let chunks =
                    futures::stream::iter([vec![1u32, 2]]).chain(futures::stream::once(async {
                        panic!("the producer fails after its first chunk")
                    }));
                (WitStream::new(chunks),)
            })
            .await
            .unwrap();
        let (mut stream,): (WitStream<u32>,) =
            pair.client().invoke(INSTANCE, "breaks", ()).await.unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap(), [1, 2]);
        let err = stream.next().await.unwrap().unwrap_err();
        assert!(
            matches!(err, Error::Incomplete { what: "stream", .. }),
            "{}: {err}",
            pair.kind()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_stream_of_futures_reuses_sub_channels() {
    for pair in Pair::both().await {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "futures", |_, (n,): (u32,)| async move {
                // A hundred futures at a time, a little apart, so that the reader keeps up.
                let chunks =
                    futures::stream::iter(0..n.div_ceil(100)).then(move |chunk| async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        (chunk * 100..n.min(chunk * 100 + 100))
                            .map(|i| WitFuture::new(async move { i * 2 }))
                            .collect::<Vec<_>>()
                    });
                (WitStream::new(chunks),)
            })
            .await
            .unwrap();
        // 3000 futures, each on its own sub-channel, against a limit of 1024 open at once:
        // finished sub-channels must make room for new ones.
        let (mut stream,): (WitStream<WitFuture<u32>>,) = pair
            .client()
            .invoke(INSTANCE, "futures", (3000u32,))
            .await
            .unwrap();
        let mut next = 0u32;
        while let Some(chunk) = stream.next().await {
            for future in chunk.unwrap() {
                assert_eq!(future.await.unwrap(), next * 2, "{}", pair.kind());
                next += 1;
            }
        }
        assert_eq!(next, 3000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_stream_chunks_fit_the_receivers_value_limit() {
    let limits = Limits::default().with_max_value_bytes(1 << 20);
    for pair in [
        Pair::nats_with_limits(limits).await,
        Pair::in_process_with_limits(limits),
    ] {
        let server = pair.server.server(ServeOptions::new("test"));
        let _serving = server
            .serve_fn(INSTANCE, "big-chunks", |_, (): ()| async {
                let bytes = bytes::Bytes::from(vec![7u8; 3 << 20]);
                let strings = vec!["x".repeat(600_000); 3];
                ((ByteStream::from(bytes), WitStream::from(strings)),)
            })
            .await
            .unwrap();
        let ((bytes, strings),): ((ByteStream, WitStream<String>),) = pair
            .client()
            .invoke(INSTANCE, "big-chunks", ())
            .await
            .unwrap();
        assert_eq!(
            bytes.collect_all().await.unwrap().len(),
            3 << 20,
            "{}",
            pair.kind()
        );
        assert_eq!(
            strings.collect_all().await.unwrap(),
            vec!["x".repeat(600_000); 3]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_past_its_deadline_frees_its_slot() {
    for pair in Pair::both().await {
        let options = ServeOptions::new("test")
            .max_concurrency(1)
            .timeout(Duration::from_millis(200));
        let server = pair.server.server(options);
        let _serving = server
            .serve_fn(INSTANCE, "maybe-hang", |_, (hang,): (bool,)| async move {
                if hang {
                    std::future::pending::<()>().await;
                }
                (hang,)
            })
            .await
            .unwrap();
        let client = pair.client();
        let err = client
            .invoke::<_, (bool,)>(INSTANCE, "maybe-hang", (true,))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Incomplete { .. }),
            "{}: {err}",
            pair.kind()
        );
        let answer = client
            .invoke::<_, (bool,)>(INSTANCE, "maybe-hang", (false,))
            .await
            .unwrap();
        assert_eq!(answer, (false,));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_stops_sending_params_gives_its_slot_back_after_the_params_timeout() {
    let pair = Pair::nats().await;
    let options = ServeOptions::new("test")
        .max_concurrency(1)
        .params_timeout(Duration::from_millis(300));
    let server = pair.server.server(options);
    let _serving = server
        .serve_fn(
            INSTANCE,
            "echo",
            |_, (text,): (String,)| async move { (text,) },
        )
        .await
        .unwrap();
    // A raw caller: a string param that claims 10 bytes and brings 3, and then nothing, not
    // even the end of the params. It takes the server's one slot.
    let raw = pair.nats.as_ref().unwrap().connect().await.unwrap();
    let subject = provider_sdk::transport::invocation_subject("test", INSTANCE, "echo");
    let mut handshakes = raw.subscribe("stalled.reply").await.unwrap();
    raw.publish_with_reply(subject, "stalled.reply", b"\x0aabc"[..].into())
        .await
        .unwrap();
    let handshake = tokio::time::timeout(Duration::from_secs(5), handshakes.next()).await;
    assert!(handshake.is_ok(), "the stalled call was never accepted");

    let started = Instant::now();
    let client = pair.client().with_timeout(Duration::from_secs(5));
    let answer = client
        .invoke::<_, (String,)>(INSTANCE, "echo", ("hi".to_owned(),))
        .await
        .unwrap();
    assert_eq!(answer, ("hi".to_owned(),));
    // The slot came back at the params timeout, not at the one-minute invocation deadline.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn results_over_the_value_limit_are_refused() {
    let pair = Pair::nats_with_limits(Limits::default().with_max_value_bytes(1000)).await;
    let server = pair.server.server(ServeOptions::new("test"));
    let _serving = server
        .serve_fn(INSTANCE, "big", |_, (len,): (u32,)| async move {
            ("x".repeat(len as usize),)
        })
        .await
        .unwrap();
    let client = pair.client();
    let (small,): (String,) = client.invoke(INSTANCE, "big", (900u32,)).await.unwrap();
    assert_eq!(small.len(), 900);
    let err = client
        .invoke::<_, (String,)>(INSTANCE, "big", (5000u32,))
        .await
        .unwrap_err();
    let Error::Malformed { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(**source, Error::TooLarge { limit: 1000, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_resumes_after_nats_restarts() {
    let mut pair = Pair::nats().await;
    let server = pair.server.server(ServeOptions::new("test"));
    let _serving = server
        .serve_fn(INSTANCE, "echo", |_, (s,): (String,)| async move { (s,) })
        .await
        .unwrap();
    let client = pair.client().with_timeout(Duration::from_secs(1));
    assert_eq!(
        client
            .invoke::<_, (String,)>(INSTANCE, "echo", ("before",))
            .await
            .unwrap()
            .0,
        "before"
    );

    pair.nats.as_mut().unwrap().restart().unwrap();

    // Both connections reconnect on their own and subscriptions are restored; calls fail (never
    // hang) until then.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match client
            .invoke::<_, (String,)>(INSTANCE, "echo", ("after",))
            .await
        {
            Ok((answer,)) => {
                assert_eq!(answer, "after");
                break;
            }
            Err(error) if Instant::now() < deadline => {
                assert!(error.is_transport(), "{error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("still failing after the restart: {error}"),
        }
    }
}

/// Lets `alice` and `bob` (by `source-id`) through, with a greeting for their handler; refuses
/// everyone else.
struct KnownCallers;

impl Admission for KnownCallers {
    fn admit(
        &self,
        invocation: &InvocationContext,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal> {
        match invocation.header("source-id") {
            Some(source @ ("alice" | "bob")) => Ok(Some(Arc::new(format!("hello {source}")))),
            Some(source) => Err(Refusal::new(format!("{source} may not call this"))),
            None => Err(Refusal::new("anonymous callers may not call this")),
        }
    }
}

/// Serves `whoami` (returns what admission attached) and `take` (a large param) behind
/// [`KnownCallers`], counting the handlers that ran.
async fn serve_known_callers(
    server: &provider_sdk::transport::Server,
    ran: &Arc<AtomicUsize>,
) -> provider_sdk::transport::Serving {
    let count = Arc::clone(ran);
    let mut serving = server
        .serve_fn(INSTANCE, "whoami", move |cx, (): ()| {
            count.fetch_add(1, Ordering::SeqCst);
            async move { (cx.admitted::<String>().map(|greeting| (*greeting).clone()),) }
        })
        .await
        .unwrap();
    let count = Arc::clone(ran);
    serving.merge(
        server
            .serve_fn(INSTANCE, "take", move |_, (bytes,): (bytes::Bytes,)| {
                count.fetch_add(1, Ordering::SeqCst);
                async move { (bytes.len() as u64,) }
            })
            .await
            .unwrap(),
    );
    serving
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_refuses_before_the_handler_runs() {
    for pair in Pair::both().await {
        let kind = pair.kind();
        let server = pair
            .server
            .server(ServeOptions::new("test").admission(Arc::new(KnownCallers)));
        let ran = Arc::new(AtomicUsize::new(0));
        let _serving = serve_known_callers(&server, &ran).await;
        // Generous deadlines: a refusal must come at once, not at the deadline.
        let client = pair.client().with_timeout(Duration::from_secs(30));
        let mallory = client.clone().with_header("source-id", "mallory").unwrap();

        let started = Instant::now();
        let err = mallory
            .invoke::<_, (Option<String>,)>(INSTANCE, "whoami", ())
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{kind}");
        let Error::Refused { subject, reason } = &err else {
            panic!("{kind}: {err}")
        };
        assert_eq!(subject, "test.wrpc.0.0.1.test:transport/calls@1.0.0.whoami");
        assert_eq!(reason, "mallory may not call this");
        assert_eq!(
            err.to_string(),
            "invocation of `test.wrpc.0.0.1.test:transport/calls@1.0.0.whoami` was refused: \
             mallory may not call this"
        );
        assert!(err.is_transport());

        // Params too large for the invocation message: over NATS the client waits for the
        // handshake to send the rest, and the refusal arrives there instead.
        let big = bytes::Bytes::from(vec![7u8; 3 << 20]);
        let err = client
            .invoke::<_, (u64,)>(INSTANCE, "take", (big.clone(),))
            .await
            .unwrap_err();
        let Error::Refused { reason, .. } = &err else {
            panic!("{kind}: {err}")
        };
        assert_eq!(reason, "anonymous callers may not call this");
        assert!(started.elapsed() < Duration::from_secs(10), "{kind}");
        assert_eq!(ran.load(Ordering::SeqCst), 0, "{kind}: a refused call ran");

        // Admitted callers are served, and their handler reads what admission attached.
        for (source, greeting) in [("alice", "hello alice"), ("bob", "hello bob")] {
            let caller = client.clone().with_header("source-id", source).unwrap();
            let (attached,): (Option<String>,) =
                caller.invoke(INSTANCE, "whoami", ()).await.unwrap();
            assert_eq!(attached.as_deref(), Some(greeting), "{kind}");
        }
        let alice = client.clone().with_header("source-id", "alice").unwrap();
        let (len,): (u64,) = alice.invoke(INSTANCE, "take", (big,)).await.unwrap();
        assert_eq!(len, 3 << 20);
        assert_eq!(ran.load(Ordering::SeqCst), 3, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_take_no_permit() {
    for pair in Pair::both().await {
        let kind = pair.kind();
        let admission =
            |cx: &InvocationContext| -> Result<Option<Arc<dyn Any + Send + Sync>>, Refusal> {
                match cx.header("source-id") {
                    Some("alice") => Ok(None),
                    _ => Err(Refusal::new("no")),
                }
            };
        let server = pair.server.server(
            ServeOptions::new("test")
                .max_concurrency(1)
                .admission(Arc::new(admission)),
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&ran);
        let _serving = server
            .serve_fn(INSTANCE, "slow", move |cx, (): ()| {
                count.fetch_add(1, Ordering::SeqCst);
                // Nothing was attached.
                assert!(cx.admitted::<String>().is_none());
                async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            })
            .await
            .unwrap();
        let client = pair.client().with_timeout(Duration::from_secs(30));
        let alice = client.clone().with_header("source-id", "alice").unwrap();
        // Alice holds the one permit...
        let busy = tokio::spawn(async move { alice.invoke::<_, ()>(INSTANCE, "slow", ()).await });
        while ran.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // ...and a flood of refused calls is answered meanwhile, none waiting for it.
        let started = Instant::now();
        let refused = (0..200).map(|_| {
            let client = client.clone();
            async move { client.invoke::<_, ()>(INSTANCE, "slow", ()).await }
        });
        for result in futures::future::join_all(refused).await {
            assert!(
                matches!(&result, Err(Error::Refused { reason, .. }) if reason == "no"),
                "{kind}: {result:?}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{kind}: refusals waited for a permit ({:?})",
            started.elapsed()
        );
        assert!(!busy.is_finished(), "{kind}");
        busy.await.unwrap().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 1, "{kind}");
    }
}
