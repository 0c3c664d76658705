//! Calls over a private NATS server, in both directions: our client against the peer's server,
//! and the peer's client against ours, for every function of the interop world.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use provider_sdk::Error;
use provider_sdk::transport::{Client, ServeOptions, Server, Serving, Transport};
use provider_sdk::wire::{ByteStream, ResourceBorrow, ResourceOwn, WitFuture, WitStream};
use provider_testing::{NatsServer, NatsServerConfig};

use crate::bindings::exports::interop::test::types as exported;
use crate::bindings::interop::test::types as peer;
use crate::bindings::{Color, Everything, Many, Permissions, Point, Shape};
use crate::logic::{self, imports};
use crate::ours::Holder;

pub(crate) const INSTANCE: &str = "interop:test/types@0.1.0";

/// Counters by handle, kept the same way by both servers.
#[derive(Clone, Default)]
struct Counters(Arc<Mutex<(u64, HashMap<Bytes, u32>)>>);

impl Counters {
    fn create(&self, value: u32) -> Bytes {
        let mut counters = self.0.lock().unwrap();
        counters.0 += 1;
        let handle = Bytes::from(format!("counter-{}", counters.0));
        counters.1.insert(handle.clone(), value);
        handle
    }

    fn increment(&self, handle: &[u8], by: u32) -> u32 {
        let mut counters = self.0.lock().unwrap();
        let value = counters.1.get_mut(handle).expect("a known counter");
        *value += by;
        *value
    }

    fn value(&self, handle: &[u8]) -> u32 {
        *self
            .0
            .lock()
            .unwrap()
            .1
            .get(handle)
            .expect("a known counter")
    }
}

/// The byte pattern in chunks of 1000, as both servers stream it.
fn pattern_chunks(len: u32) -> Vec<Bytes> {
    let all = logic::pattern(len as usize);
    (0..all.len())
        .step_by(1000)
        .map(|start| all.slice(start..all.len().min(start + 1000)))
        .collect()
}

// The peer's server.

#[derive(Clone, Default)]
struct PeerServer {
    counters: Counters,
}

type PeerStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
type PeerFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<Ctx: Send> exported::Handler<Ctx> for PeerServer {
    async fn transform(
        &self,
        _: Ctx,
        e: exported::Everything,
    ) -> anyhow::Result<exported::Everything> {
        Ok(logic::exports::transform(e))
    }

    async fn shapes(
        &self,
        _: Ctx,
        s: Vec<exported::Shape>,
        c: exported::Color,
    ) -> anyhow::Result<(Vec<exported::Shape>, Option<exported::Color>)> {
        Ok(logic::exports::shapes(s, c))
    }

    async fn fallible(
        &self,
        _: Ctx,
        fail: bool,
    ) -> anyhow::Result<Result<String, exported::Shape>> {
        Ok(logic::exports::fallible(fail))
    }

    async fn nothing(&self, _: Ctx) -> anyhow::Result<()> {
        Ok(())
    }

    async fn flags_echo(
        &self,
        _: Ctx,
        p: exported::Permissions,
        m: exported::Many,
    ) -> anyhow::Result<(exported::Permissions, exported::Many)> {
        Ok((p, m))
    }

    async fn chars(&self, _: Ctx, s: String) -> anyhow::Result<Vec<char>> {
        Ok(logic::exports::chars(s))
    }

    async fn checksum(&self, _: Ctx, b: Bytes) -> anyhow::Result<(u64, u64)> {
        Ok(logic::checksum(&b))
    }

    async fn make_bytes(&self, _: Ctx, len: u32) -> anyhow::Result<Bytes> {
        Ok(logic::pattern(len as usize))
    }

    async fn sum_stream(&self, _: Ctx, s: PeerStream<Vec<u32>>) -> anyhow::Result<u64> {
        Ok(s.map(|chunk| chunk.into_iter().map(u64::from).sum::<u64>())
            .fold(0, |a, b| async move { a + b })
            .await)
    }

    async fn count_up(&self, _: Ctx, n: u32) -> anyhow::Result<PeerStream<Vec<u32>>> {
        Ok(Box::pin(futures::stream::iter(logic::count_up(n))))
    }

    async fn byte_stream(&self, _: Ctx, len: u32) -> anyhow::Result<PeerStream<Bytes>> {
        Ok(Box::pin(futures::stream::iter(pattern_chunks(len))))
    }

    async fn concat_bytes(&self, _: Ctx, s: PeerStream<Bytes>) -> anyhow::Result<Bytes> {
        Ok(s.collect::<Vec<_>>().await.concat().into())
    }

    async fn delayed(&self, _: Ctx, v: u32) -> anyhow::Result<PeerFuture<u32>> {
        Ok(Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            v * 2
        }))
    }

    async fn await_future(&self, _: Ctx, f: PeerFuture<String>) -> anyhow::Result<String> {
        Ok(format!("got {}", f.await))
    }

    async fn greet(&self, _: Ctx, name: String) -> anyhow::Result<String> {
        Ok(logic::exports::greet(name))
    }

    async fn mixed(
        &self,
        _: Ctx,
        a: u32,
        s: PeerStream<Vec<u32>>,
        h: exported::Holder,
    ) -> anyhow::Result<(String, PeerFuture<u32>)> {
        let numbers = s.collect::<Vec<_>>().await.concat();
        let data = h.data.collect::<Vec<_>>().await.concat();
        let text = logic::mixed(a, &numbers, &h.name, &data);
        Ok((text, Box::pin(async move { a + 1 })))
    }

    async fn later_bytes(&self, _: Ctx, len: u32) -> anyhow::Result<PeerFuture<PeerStream<Bytes>>> {
        Ok(Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Box::pin(futures::stream::iter(pattern_chunks(len))) as PeerStream<Bytes>
        }))
    }
}

impl<Ctx: Send> exported::HandlerCounter<Ctx> for PeerServer {
    async fn new(
        &self,
        _: Ctx,
        start: u32,
    ) -> anyhow::Result<wrpc_transport::ResourceOwn<exported::Counter>> {
        Ok(wrpc_transport::ResourceOwn::from(
            self.counters.create(start),
        ))
    }

    async fn increment(
        &self,
        _: Ctx,
        this: wrpc_transport::ResourceBorrow<exported::Counter>,
        by: u32,
    ) -> anyhow::Result<u32> {
        Ok(self.counters.increment(this.as_ref(), by))
    }

    async fn value(
        &self,
        _: Ctx,
        this: wrpc_transport::ResourceBorrow<exported::Counter>,
    ) -> anyhow::Result<u32> {
        Ok(self.counters.value(this.as_ref()))
    }

    async fn from_value(
        &self,
        _: Ctx,
        value: u32,
    ) -> anyhow::Result<wrpc_transport::ResourceOwn<exported::Counter>> {
        Ok(wrpc_transport::ResourceOwn::from(
            self.counters.create(value),
        ))
    }
}

/// The peer's server, serving until dropped.
pub(crate) struct PeerServerTask {
    _client: wrpc_transport_nats::Client,
    _tasks: tokio::task::JoinSet<()>,
}

async fn start_peer_server(nats: &NatsServer, prefix: &str) -> anyhow::Result<PeerServerTask> {
    start_peer_server_on(nats.connect().await?, prefix).await
}

/// The peer's server on `connection`.
pub(crate) async fn start_peer_server_on(
    connection: async_nats::Client,
    prefix: &str,
) -> anyhow::Result<PeerServerTask> {
    let client = wrpc_transport_nats::Client::new(connection, prefix, Some(prefix.into())).await?;
    let invocations = crate::bindings::serve(&client, PeerServer::default()).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for (instance, name, invocations) in invocations {
        tasks.spawn(
            invocations.for_each_concurrent(None, move |invocation| async move {
                let result = match invocation {
                    Ok(invocation) => invocation.await,
                    Err(error) => Err(error),
                };
                if let Err(error) = result {
                    eprintln!("peer server: {instance}.{name}: {error:#}");
                }
            }),
        );
    }
    Ok(PeerServerTask {
        _client: client,
        _tasks: tasks,
    })
}

// Our server.

/// Our resource marker for `counter`.
struct CounterResource;

pub(crate) async fn serve_ours(server: &Server) -> provider_sdk::Result<Vec<Serving>> {
    let counters = Counters::default();
    let mut serving = vec![
        server
            .serve_fn(INSTANCE, "transform", |_, (e,): (Everything,)| async move {
                (imports::transform(e),)
            })
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "shapes",
                |_, (s, c): (Vec<Shape>, Color)| async move { (imports::shapes(s, c),) },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "fallible", |_, (fail,): (bool,)| async move {
                (imports::fallible(fail),)
            })
            .await?,
        server
            .serve_fn(INSTANCE, "nothing", |_, (): ()| async {})
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "flags-echo",
                |_, (p, m): (Permissions, Many)| async move { ((p, m),) },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "chars", |_, (s,): (String,)| async move {
                (imports::chars(s),)
            })
            .await?,
        server
            .serve_fn(INSTANCE, "checksum", |_, (b,): (Bytes,)| async move {
                (logic::checksum(&b),)
            })
            .await?,
        server
            .serve_fn(INSTANCE, "make-bytes", |_, (len,): (u32,)| async move {
                (logic::pattern(len as usize),)
            })
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "sum-stream",
                |_, (s,): (WitStream<u32>,)| async move {
                    let items = s.collect_all().await.expect("the stream arrives whole");
                    (items.into_iter().map(u64::from).sum::<u64>(),)
                },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "count-up", |_, (n,): (u32,)| async move {
                (WitStream::new(futures::stream::iter(logic::count_up(n))),)
            })
            .await?,
        server
            .serve_fn(INSTANCE, "byte-stream", |_, (len,): (u32,)| async move {
                (ByteStream::new(futures::stream::iter(pattern_chunks(len))),)
            })
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "concat-bytes",
                |_, (s,): (ByteStream,)| async move {
                    (s.collect_all().await.expect("the stream arrives whole"),)
                },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "delayed", |_, (v,): (u32,)| async move {
                (WitFuture::new(async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    v * 2
                }),)
            })
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "await-future",
                |_, (f,): (WitFuture<String>,)| async move {
                    (format!("got {}", f.await.expect("the future resolves")),)
                },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "greet", |_, (name,): (String,)| async move {
                (imports::greet(name),)
            })
            .await?,
        server
            .serve_fn(
                INSTANCE,
                "mixed",
                |_, (a, s, h): (u32, WitStream<u32>, Holder)| async move {
                    let numbers = s.collect_all().await.expect("the stream arrives whole");
                    let data = h
                        .data
                        .collect_all()
                        .await
                        .expect("the stream arrives whole");
                    let text = logic::mixed(a, &numbers, &h.name, &data);
                    ((text, WitFuture::new(async move { a + 1 })),)
                },
            )
            .await?,
        server
            .serve_fn(INSTANCE, "later-bytes", |_, (len,): (u32,)| async move {
                (WitFuture::new(async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ByteStream::new(futures::stream::iter(pattern_chunks(len)))
                }),)
            })
            .await?,
    ];
    let c = counters.clone();
    serving.push(
        server
            .serve_fn(INSTANCE, "counter", move |_, (start,): (u32,)| {
                let handle = c.create(start);
                async move { (ResourceOwn::<CounterResource>::new(handle),) }
            })
            .await?,
    );
    let c = counters.clone();
    serving.push(
        server
            .serve_fn(
                INSTANCE,
                "counter.increment",
                move |_, (this, by): (ResourceBorrow<CounterResource>, u32)| {
                    let value = c.increment(this.as_bytes(), by);
                    async move { (value,) }
                },
            )
            .await?,
    );
    let c = counters.clone();
    serving.push(
        server
            .serve_fn(
                INSTANCE,
                "counter.value",
                move |_, (this,): (ResourceBorrow<CounterResource>,)| {
                    let value = c.value(this.as_bytes());
                    async move { (value,) }
                },
            )
            .await?,
    );
    let c = counters;
    serving.push(
        server
            .serve_fn(
                INSTANCE,
                "counter.from-value",
                move |_, (value,): (u32,)| {
                    let handle = c.create(value);
                    async move { (ResourceOwn::<CounterResource>::new(handle),) }
                },
            )
            .await?,
    );
    Ok(serving)
}

// The checks, from each client.

/// The peer's server subscribes without confirming it with the NATS server: wait until a call
/// gets through.
pub(crate) async fn wait_until_served(client: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client
            .invoke::<_, (String,)>(INSTANCE, "greet", ("probe",))
            .await
        {
            Ok(_) => return Ok(()),
            Err(Error::NoServer { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn shapes_sample() -> Vec<Shape> {
    vec![
        Shape::Circle(1.25),
        Shape::Nothing,
        Shape::Rectangle(Point { x: -3, y: 9 }),
    ]
}

async fn check_our_client(client: &Client) -> anyhow::Result<()> {
    let sample = logic::sample();
    let (out,): (Everything,) = client
        .invoke(INSTANCE, "transform", (sample.clone(),))
        .await?;
    assert_same!(out, imports::transform(sample));

    let (out,): ((Vec<Shape>, Option<Color>),) = client
        .invoke(INSTANCE, "shapes", (shapes_sample(), Color::Green))
        .await?;
    assert_same!(out, imports::shapes(shapes_sample(), Color::Green));
    let (out,): ((Vec<Shape>, Option<Color>),) = client
        .invoke(INSTANCE, "shapes", (Vec::<Shape>::new(), Color::Red))
        .await?;
    assert_same!(out, (Vec::<Shape>::new(), None::<Color>));

    for fail in [false, true] {
        let (out,): (Result<String, Shape>,) = client.invoke(INSTANCE, "fallible", (fail,)).await?;
        assert_same!(out, imports::fallible(fail));
    }

    let () = client.invoke(INSTANCE, "nothing", ()).await?;

    let flags = (Permissions::WRITE, Many::from_bits_retain(0xa5a5));
    let (out,): ((Permissions, Many),) = client.invoke(INSTANCE, "flags-echo", flags).await?;
    assert_eq!(out, flags);

    let (out,): (Vec<char>,) = client.invoke(INSTANCE, "chars", ("añ😀",)).await?;
    assert_eq!(out, ['a', 'ñ', '😀']);

    let (out,): (String,) = client.invoke(INSTANCE, "greet", ("wRPC",)).await?;
    assert_eq!(out, "Hello, wRPC!");

    check_our_client_bytes(client, 10_000).await?;

    let chunks = vec![vec![1u32, 2, 3], vec![], vec![4, u32::MAX]];
    let (sum,): (u64,) = client
        .invoke(
            INSTANCE,
            "sum-stream",
            (WitStream::new(futures::stream::iter(chunks)),),
        )
        .await?;
    assert_eq!(sum, 10 + u64::from(u32::MAX));

    let (stream,): (WitStream<u32>,) = client.invoke(INSTANCE, "count-up", (40u32,)).await?;
    assert_eq!(stream.collect_all().await?, (0..40).collect::<Vec<_>>());

    let (stream,): (WitStream<u32>,) = client.invoke(INSTANCE, "count-up", (0u32,)).await?;
    assert!(stream.collect_all().await?.is_empty());

    let (future,): (WitFuture<u32>,) = client.invoke(INSTANCE, "delayed", (21u32,)).await?;
    assert_eq!(future.await?, 42);

    let later = WitFuture::new(async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        "later".to_owned()
    });
    let (out,): (String,) = client.invoke(INSTANCE, "await-future", (later,)).await?;
    assert_eq!(out, "got later");
    let (out,): (String,) = client
        .invoke(
            INSTANCE,
            "await-future",
            (WitFuture::ready("now".to_owned()),),
        )
        .await?;
    assert_eq!(out, "got now");

    let numbers = WitStream::new(futures::stream::iter(vec![vec![1u32, 2], vec![3]]));
    let holder = Holder {
        name: "h".to_owned(),
        data: ByteStream::from(logic::pattern(70)),
    };
    let ((text, future),): ((String, WitFuture<u32>),) = client
        .invoke(INSTANCE, "mixed", (7u32, numbers, holder))
        .await?;
    assert_eq!(text, logic::mixed(7, &[1, 2, 3], "h", &logic::pattern(70)));
    assert_eq!(future.await?, 8);

    let (later,): (WitFuture<ByteStream>,) =
        client.invoke(INSTANCE, "later-bytes", (2500u32,)).await?;
    assert_eq!(later.await?.collect_all().await?, logic::pattern(2500));

    let (counter,): (ResourceOwn<CounterResource>,) =
        client.invoke(INSTANCE, "counter", (5u32,)).await?;
    let (value,): (u32,) = client
        .invoke(INSTANCE, "counter.increment", (counter.borrow(), 3u32))
        .await?;
    assert_eq!(value, 8);
    let (other,): (ResourceOwn<CounterResource>,) = client
        .invoke(INSTANCE, "counter.from-value", (42u32,))
        .await?;
    let (value,): (u32,) = client
        .invoke(INSTANCE, "counter.value", (other.borrow(),))
        .await?;
    assert_eq!(value, 42);
    let (value,): (u32,) = client
        .invoke(INSTANCE, "counter.value", (counter.borrow(),))
        .await?;
    assert_eq!(value, 8);
    Ok(())
}

/// `list<u8>` and `stream<u8>` of `len` bytes, both ways, from our client.
async fn check_our_client_bytes(client: &Client, len: usize) -> anyhow::Result<()> {
    let bytes = logic::pattern(len);
    let (sums,): ((u64, u64),) = client
        .invoke(INSTANCE, "checksum", (bytes.clone(),))
        .await?;
    assert_eq!(sums, logic::checksum(&bytes));

    let (out,): (Bytes,) = client.invoke(INSTANCE, "make-bytes", (len as u32,)).await?;
    assert_eq!(out, bytes);

    let (stream,): (ByteStream,) = client
        .invoke(INSTANCE, "byte-stream", (len as u32,))
        .await?;
    assert_eq!(stream.collect_all().await?, bytes);

    // One chunk as large as the whole value, then two small ones.
    let chunks = vec![
        bytes.clone(),
        Bytes::from_static(b"ab"),
        Bytes::from_static(b"c"),
    ];
    let (out,): (Bytes,) = client
        .invoke(
            INSTANCE,
            "concat-bytes",
            (ByteStream::new(futures::stream::iter(chunks.clone())),),
        )
        .await?;
    assert_eq!(out, chunks.concat());
    Ok(())
}

async fn check_peer_client(wrpc: &wrpc_transport_nats::Client) -> anyhow::Result<()> {
    let sample = logic::sample();
    assert_same!(
        peer::transform(wrpc, None, &sample).await?,
        imports::transform(sample.clone())
    );
    assert_same!(
        peer::shapes(wrpc, None, &shapes_sample(), Color::Green).await?,
        imports::shapes(shapes_sample(), Color::Green)
    );
    for fail in [false, true] {
        assert_same!(
            peer::fallible(wrpc, None, fail).await?,
            imports::fallible(fail)
        );
    }
    peer::nothing(wrpc, None).await?;
    let (p, m) = (Permissions::WRITE, Many::from_bits_retain(0xa5a5));
    assert_eq!(peer::flags_echo(wrpc, None, &p, &m).await?, (p, m));
    assert_eq!(peer::chars(wrpc, None, "añ😀").await?, ['a', 'ñ', '😀']);
    assert_eq!(peer::greet(wrpc, None, "wRPC").await?, "Hello, wRPC!");

    check_peer_client_bytes(wrpc, 10_000).await?;

    // No empty chunk here: the peer writes one as `00`, which is the end-of-stream marker, and
    // so cuts its own stream short. (Our encoder skips empty chunks.)
    let chunks = vec![vec![1u32, 2, 3], vec![4, u32::MAX]];
    let (sum, io) = peer::sum_stream(wrpc, None, Box::pin(futures::stream::iter(chunks))).await?;
    finish(io).await?;
    assert_eq!(sum, 10 + u64::from(u32::MAX));

    let (stream, io) = peer::count_up(wrpc, None, 40).await?;
    let io = tokio::spawn(finish(io));
    assert_eq!(
        stream.collect::<Vec<_>>().await.concat(),
        (0..40).collect::<Vec<_>>()
    );
    io.await??;

    let (future, io) = peer::delayed(wrpc, None, 21).await?;
    let io = tokio::spawn(finish(io));
    assert_eq!(future.await, 42);
    io.await??;

    let later = Box::pin(async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        "later".to_owned()
    });
    let (out, io) = peer::await_future(wrpc, None, later).await?;
    finish(io).await?;
    assert_eq!(out, "got later");

    let numbers = Box::pin(futures::stream::iter(vec![vec![1u32, 2], vec![3]]));
    let holder = peer::Holder {
        name: "h".to_owned(),
        data: Box::pin(futures::stream::iter([logic::pattern(70)])),
    };
    let ((text, future), io) = peer::mixed(wrpc, None, 7, numbers, holder).await?;
    let io = tokio::spawn(finish(io));
    assert_eq!(text, logic::mixed(7, &[1, 2, 3], "h", &logic::pattern(70)));
    assert_eq!(future.await, 8);
    io.await??;

    let (later, io) = peer::later_bytes(wrpc, None, 2500).await?;
    let io = tokio::spawn(finish(io));
    let stream = later.await;
    assert_eq!(
        stream.collect::<Vec<_>>().await.concat(),
        logic::pattern(2500).to_vec()
    );
    io.await??;

    let counter = peer::Counter::new(wrpc, None, 5).await?;
    assert_eq!(
        peer::Counter::increment(wrpc, None, &counter.as_borrow(), 3).await?,
        8
    );
    let other = peer::Counter::from_value(wrpc, None, 42).await?;
    assert_eq!(
        peer::Counter::value(wrpc, None, &other.as_borrow()).await?,
        42
    );
    assert_eq!(
        peer::Counter::value(wrpc, None, &counter.as_borrow()).await?,
        8
    );
    Ok(())
}

async fn check_peer_client_bytes(
    wrpc: &wrpc_transport_nats::Client,
    len: usize,
) -> anyhow::Result<()> {
    let bytes = logic::pattern(len);
    assert_eq!(
        peer::checksum(wrpc, None, &bytes).await?,
        logic::checksum(&bytes)
    );
    assert_eq!(peer::make_bytes(wrpc, None, len as u32).await?, bytes);

    let (stream, io) = peer::byte_stream(wrpc, None, len as u32).await?;
    let io = tokio::spawn(finish(io));
    assert_eq!(stream.collect::<Vec<_>>().await.concat(), bytes.to_vec());
    io.await??;

    let chunks = vec![
        bytes.clone(),
        Bytes::from_static(b"ab"),
        Bytes::from_static(b"c"),
    ];
    let (out, io) =
        peer::concat_bytes(wrpc, None, Box::pin(futures::stream::iter(chunks.clone()))).await?;
    finish(io).await?;
    assert_eq!(out, chunks.concat());
    Ok(())
}

/// Drives the peer client's async I/O for a call to its end.
async fn finish(
    io: Option<impl std::future::Future<Output = anyhow::Result<()>>>,
) -> anyhow::Result<()> {
    match io {
        Some(io) => io.await,
        None => Ok(()),
    }
}

/// Runs a test on a runtime with large thread stacks: the peer's generated `serve` future is
/// too large for the default 2 MiB in debug builds (ours is a few kilobytes).
pub(crate) fn run(
    test: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
) -> anyhow::Result<()> {
    provider_testing::run_on_large_stack(move || test)
}

pub(crate) async fn our_transport(nats: &NatsServer) -> anyhow::Result<Transport> {
    Ok(Transport::nats(nats.connect().await?).await?)
}

pub(crate) async fn peer_client(
    nats: &NatsServer,
    prefix: &str,
) -> anyhow::Result<wrpc_transport_nats::Client> {
    wrpc_transport_nats::Client::new(nats.connect().await?, prefix, None).await
}

#[test]
fn our_client_calls_the_peer_server() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let _peer = start_peer_server(&nats, "interop").await?;
        let client = our_transport(&nats).await?.client("interop");
        wait_until_served(&client).await?;
        check_our_client(&client).await
    })
}

#[test]
fn the_peer_client_calls_our_server() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let server = our_transport(&nats)
            .await?
            .server(ServeOptions::new("interop"));
        let _serving = serve_ours(&server).await?;
        check_peer_client(&peer_client(&nats, "interop").await?).await
    })
}

#[test]
fn our_client_calls_our_server() -> anyhow::Result<()> {
    run(async {
        let nats = NatsServer::start()?;
        let server = our_transport(&nats)
            .await?
            .server(ServeOptions::new("interop"));
        let _serving = serve_ours(&server).await?;
        check_our_client(&our_transport(&nats).await?.client("interop")).await
    })
}

#[test]
fn our_client_calls_our_server_in_process() -> anyhow::Result<()> {
    run(async {
        // Small pieces, so every value crosses piece boundaries.
        let transport = Transport::in_process_with(7, provider_sdk::Limits::default());
        let server = transport.server(ServeOptions::new("interop"));
        let _serving = serve_ours(&server).await?;
        check_our_client(&transport.client("interop")).await
    })
}

/// Values much larger than `max_payload`, both ways, between us and the peer.
async fn large_values(config: NatsServerConfig, len: usize) -> anyhow::Result<()> {
    let nats = NatsServer::start_with(config)?;
    let _peer = start_peer_server(&nats, "peer").await?;
    let server = our_transport(&nats)
        .await?
        .server(ServeOptions::new("ours"));
    let _serving = serve_ours(&server).await?;

    let to_peer = our_transport(&nats).await?.client("peer");
    wait_until_served(&to_peer).await?;
    check_our_client_bytes(&to_peer, len).await?;
    check_peer_client_bytes(&peer_client(&nats, "ours").await?, len).await
}

#[test]
fn two_mib_values_with_the_default_max_payload() -> anyhow::Result<()> {
    run(async { large_values(NatsServerConfig::default(), 2 << 20).await })
}

#[test]
fn values_of_300_kib_with_a_4_kib_max_payload() -> anyhow::Result<()> {
    run(async { large_values(NatsServerConfig::default().max_payload(4096), 300 << 10).await })
}
