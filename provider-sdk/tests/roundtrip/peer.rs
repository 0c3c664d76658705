//! The peer's side: a `wit-bindgen-wrpc 0.11` server for the fixture, and a check that calls
//! every function through the peer's generated client over `wrpc-transport-nats 0.31`.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use wrpc_transport::{ResourceBorrow, ResourceOwn};

use crate::logic::{State, count_chunks, pattern};

type PeerStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
type PeerFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The peer's server.
#[derive(Clone, Default)]
pub(crate) struct Server {
    state: State,
}

macro_rules! ret {
    ($ty:ty) => { anyhow::Result<$ty> };
}

macro_rules! ok {
    ($value:expr) => {
        Ok($value)
    };
}

sync_handlers!(Server, crate::bindings_peer::exports::roundtrip::test);

mod resources {
    use super::*;
    use crate::bindings_peer::exports::roundtrip::test::resources::{
        Counter, Handler, HandlerCounter, HandlerRegistry, Registry,
    };

    impl<Ctx: Send> Handler<Ctx> for Server {
        async fn make_counter(&self, _: Ctx, start: u64) -> anyhow::Result<ResourceOwn<Counter>> {
            Ok(ResourceOwn::from(self.state.new_counter(start)))
        }

        async fn counter_value(&self, _: Ctx, c: ResourceBorrow<Counter>) -> anyhow::Result<u64> {
            Ok(self.state.counter(c.as_ref()))
        }

        async fn merge(
            &self,
            _: Ctx,
            a: ResourceOwn<Counter>,
            b: ResourceOwn<Counter>,
        ) -> anyhow::Result<ResourceOwn<Counter>> {
            let sum = self.state.counter(a.as_ref()) + self.state.counter(b.as_ref());
            Ok(ResourceOwn::from(self.state.new_counter(sum)))
        }
    }

    impl<Ctx: Send> HandlerCounter<Ctx> for Server {
        async fn new(&self, _: Ctx, start: u64) -> anyhow::Result<ResourceOwn<Counter>> {
            Ok(ResourceOwn::from(self.state.new_counter(start)))
        }

        async fn get(&self, _: Ctx, this: ResourceBorrow<Counter>) -> anyhow::Result<u64> {
            Ok(self.state.counter(this.as_ref()))
        }

        async fn add(&self, _: Ctx, this: ResourceBorrow<Counter>, n: u64) -> anyhow::Result<u64> {
            Ok(self.state.add(this.as_ref(), n))
        }

        async fn reset(&self, _: Ctx, this: ResourceBorrow<Counter>) -> anyhow::Result<()> {
            self.state.reset(this.as_ref());
            Ok(())
        }

        async fn from_string(
            &self,
            _: Ctx,
            s: String,
        ) -> anyhow::Result<Result<ResourceOwn<Counter>, String>> {
            Ok(match s.parse::<u64>() {
                Ok(start) => Ok(ResourceOwn::from(self.state.new_counter(start))),
                Err(error) => Err(format!("{s:?}: {error}")),
            })
        }
    }

    impl<Ctx: Send> HandlerRegistry<Ctx> for Server {
        async fn new(&self, _: Ctx) -> anyhow::Result<ResourceOwn<Registry>> {
            Ok(ResourceOwn::from(self.state.new_registry()))
        }

        async fn register(
            &self,
            _: Ctx,
            this: ResourceBorrow<Registry>,
            name: String,
            c: ResourceBorrow<Counter>,
        ) -> anyhow::Result<u32> {
            Ok(self.state.register(this.as_ref(), name, c.as_ref()))
        }

        async fn lookup(
            &self,
            _: Ctx,
            this: ResourceBorrow<Registry>,
            name: String,
        ) -> anyhow::Result<Option<u64>> {
            Ok(self.state.lookup(this.as_ref(), &name))
        }

        async fn count(&self, _: Ctx, this: ResourceBorrow<Registry>) -> anyhow::Result<u32> {
            Ok(self.state.count(this.as_ref()))
        }
    }
}

mod streams {
    use super::*;
    use crate::bindings_peer::exports::roundtrip::test::streams::{Handler, Point, Upload};

    async fn concat(s: PeerStream<Bytes>) -> Bytes {
        s.collect::<Vec<_>>().await.concat().into()
    }

    async fn sum(s: PeerStream<Vec<u32>>) -> u64 {
        s.collect::<Vec<_>>()
            .await
            .concat()
            .into_iter()
            .map(u64::from)
            .sum()
    }

    impl<Ctx: Send> Handler<Ctx> for Server {
        async fn echo_bytes_stream(
            &self,
            _: Ctx,
            s: PeerStream<Bytes>,
        ) -> anyhow::Result<PeerStream<Bytes>> {
            Ok(s)
        }

        async fn count(&self, _: Ctx, n: u32) -> anyhow::Result<PeerStream<Vec<u32>>> {
            Ok(Box::pin(futures::stream::iter(count_chunks(n))))
        }

        async fn sum(&self, _: Ctx, s: PeerStream<Vec<u32>>) -> anyhow::Result<u64> {
            Ok(sum(s).await)
        }

        async fn repeat_bytes(
            &self,
            _: Ctx,
            b: Bytes,
            times: u32,
        ) -> anyhow::Result<PeerStream<Bytes>> {
            Ok(Box::pin(futures::stream::iter(std::iter::repeat_n(
                b,
                times as usize,
            ))))
        }

        async fn collect_bytes(&self, _: Ctx, s: PeerStream<Bytes>) -> anyhow::Result<Bytes> {
            Ok(concat(s).await)
        }

        async fn strings(&self, _: Ctx, n: u32) -> anyhow::Result<PeerStream<Vec<String>>> {
            Ok(Box::pin(
                futures::stream::iter(0..n).map(|i| vec![format!("s{i}")]),
            ))
        }

        async fn points(&self, _: Ctx, n: u32) -> anyhow::Result<PeerStream<Vec<Point>>> {
            let n = n as i32;
            let points: Vec<_> = (0..n).map(|i| Point { x: i, y: -i }).collect();
            Ok(Box::pin(futures::stream::iter([points])))
        }

        async fn later(&self, _: Ctx, v: u64) -> anyhow::Result<PeerFuture<u64>> {
            Ok(Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                v
            }))
        }

        async fn await_string(&self, _: Ctx, f: PeerFuture<String>) -> anyhow::Result<String> {
            Ok(format!("got {}", f.await))
        }

        async fn later_bytes(
            &self,
            _: Ctx,
            n: u32,
        ) -> anyhow::Result<PeerFuture<PeerStream<Bytes>>> {
            Ok(Box::pin(async move {
                Box::pin(futures::stream::iter([pattern(n as usize)])) as PeerStream<Bytes>
            }))
        }

        async fn send_upload(&self, _: Ctx, u: Upload) -> anyhow::Result<u64> {
            Ok((u.name.len() + concat(u.data).await.len()) as u64)
        }

        async fn fan(
            &self,
            _: Ctx,
            a: PeerStream<Vec<u32>>,
            b: PeerStream<Vec<u32>>,
        ) -> anyhow::Result<(u64, u64)> {
            Ok(futures::join!(sum(a), sum(b)))
        }

        async fn maybe_later(
            &self,
            _: Ctx,
            v: Option<u32>,
        ) -> anyhow::Result<PeerFuture<Option<u32>>> {
            Ok(Box::pin(async move { v.map(|v| v + 1) }))
        }

        async fn signal(&self, _: Ctx) -> anyhow::Result<PeerFuture<()>> {
            Ok(Box::pin(async {}))
        }
    }
}

impl<Ctx: Send> crate::bindings_peer::Handler<Ctx> for Server {
    async fn ping(&self, _: Ctx) -> anyhow::Result<String> {
        Ok("pong".to_owned())
    }

    async fn version(&self, _: Ctx) -> anyhow::Result<(u16, u16, u16)> {
        Ok((1, 2, 3))
    }
}

/// The peer's server, serving until dropped.
pub(crate) struct Serving {
    _client: wrpc_transport_nats::Client,
    _tasks: tokio::task::JoinSet<()>,
}

pub(crate) async fn serve(nats: async_nats::Client, prefix: &str) -> anyhow::Result<Serving> {
    let client = wrpc_transport_nats::Client::new(nats, prefix, Some(prefix.into())).await?;
    let invocations = crate::bindings_peer::serve(&client, Server::default()).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for (instance, name, invocations) in invocations {
        tasks.spawn(
            invocations.for_each_concurrent(None, move |invocation| async move {
                if let Err(error) = async { invocation?.await }.await {
                    eprintln!("peer server: {instance}.{name}: {error:#}");
                }
            }),
        );
    }
    Ok(Serving {
        _client: client,
        _tasks: tasks,
    })
}

mod expected {
    pub(crate) use crate::bindings_peer::roundtrip::test::compound::{Color, Person, Point, Shape};
    logic!();
}

/// Compares by `Debug`: the peer's records and variants do not implement `PartialEq`.
macro_rules! same {
    ($left:expr, $right:expr $(,)?) => {
        assert_eq!(format!("{:?}", $left), format!("{:?}", $right))
    };
}

/// Drives a call's async I/O (the peer hands it back with async results) while `body` reads.
async fn with_io<T>(
    io: Option<impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static>,
    body: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    let io = io.map(tokio::spawn);
    let value = body.await;
    if let Some(io) = io {
        io.await??;
    }
    Ok(value)
}

/// Calls every function of the fixture through the peer's generated client.
pub(crate) async fn check(wrpc: &wrpc_transport_nats::Client) -> anyhow::Result<()> {
    use crate::bindings_peer::roundtrip::test::compound::{
        self, Bag, Color, Perms, Person, Point, Shape, Wide,
    };
    use crate::bindings_peer::roundtrip::test::resources::{self, Counter, Registry};
    use crate::bindings_peer::roundtrip::test::{lists, scalars, streams};

    // scalars
    assert!(scalars::echo_bool(wrpc, None, true).await?);
    assert_eq!(scalars::echo_u8(wrpc, None, 255).await?, 255);
    assert_eq!(scalars::echo_u16(wrpc, None, 300).await?, 300);
    assert_eq!(scalars::echo_u32(wrpc, None, u32::MAX).await?, u32::MAX);
    assert_eq!(scalars::echo_u64(wrpc, None, u64::MAX).await?, u64::MAX);
    assert_eq!(scalars::echo_s8(wrpc, None, -128).await?, -128);
    assert_eq!(scalars::echo_s16(wrpc, None, -300).await?, -300);
    assert_eq!(scalars::echo_s32(wrpc, None, i32::MIN).await?, i32::MIN);
    assert_eq!(scalars::echo_s64(wrpc, None, i64::MIN).await?, i64::MIN);
    assert_eq!(scalars::echo_f32(wrpc, None, -1.5).await?, -1.5);
    assert_eq!(scalars::echo_f64(wrpc, None, 1e300).await?, 1e300);
    assert_eq!(scalars::echo_char(wrpc, None, '😀').await?, '😀');
    assert_eq!(scalars::echo_string(wrpc, None, "héllo").await?, "héllo");
    assert_eq!(scalars::add_u8(wrpc, None, 250, 10).await?, 4);
    assert_eq!(scalars::add_u16(wrpc, None, 65535, 2).await?, 1);
    assert_eq!(scalars::add_u32(wrpc, None, 1, 2).await?, 3);
    assert_eq!(scalars::add_u64(wrpc, None, u64::MAX, 1).await?, 0);
    assert_eq!(scalars::add_s8(wrpc, None, 127, 1).await?, -128);
    assert_eq!(scalars::add_s16(wrpc, None, -5, 3).await?, -2);
    assert_eq!(scalars::add_s32(wrpc, None, i32::MAX, 1).await?, i32::MIN);
    assert_eq!(scalars::add_s64(wrpc, None, -1, -1).await?, -2);
    assert!(!scalars::not(wrpc, None, true).await?);
    assert_eq!(scalars::next_char(wrpc, None, 'a').await?, 'b');
    assert_eq!(scalars::concat(wrpc, None, "wr", "pc").await?, "wrpc");
    assert_eq!(scalars::upper(wrpc, None, "ok").await?, "OK");
    assert_eq!(scalars::string_len(wrpc, None, "añb").await?, 3);
    assert_eq!(scalars::sqrt(wrpc, None, 9.0).await?, 3.0);
    assert_eq!(scalars::half(wrpc, None, 3.0).await?, 1.5);

    // lists
    assert_eq!(
        lists::echo_list_bool(wrpc, None, &[true, false]).await?,
        [true, false]
    );
    assert_eq!(
        lists::echo_list_u8(wrpc, None, &pattern(1000)).await?,
        pattern(1000)
    );
    assert_eq!(lists::echo_list_u16(wrpc, None, &[1, 300]).await?, [1, 300]);
    assert_eq!(
        lists::echo_list_u32(wrpc, None, &[0, u32::MAX]).await?,
        [0, u32::MAX]
    );
    assert_eq!(lists::echo_list_u64(wrpc, None, &[7]).await?, [7]);
    assert_eq!(lists::echo_list_s8(wrpc, None, &[-1, 1]).await?, [-1, 1]);
    assert_eq!(lists::echo_list_s16(wrpc, None, &[-300]).await?, [-300]);
    assert_eq!(
        lists::echo_list_s32(wrpc, None, &[i32::MIN, 0]).await?,
        [i32::MIN, 0]
    );
    assert_eq!(
        lists::echo_list_s64(wrpc, None, &[i64::MAX]).await?,
        [i64::MAX]
    );
    assert_eq!(
        lists::echo_list_f32(wrpc, None, &[0.5, -0.0]).await?,
        [0.5, -0.0]
    );
    assert_eq!(
        lists::echo_list_f64(wrpc, None, &[f64::MAX]).await?,
        [f64::MAX]
    );
    assert_eq!(
        lists::echo_list_char(wrpc, None, &['a', 'ñ']).await?,
        ['a', 'ñ']
    );
    let strings = ["a", "", "ccc"];
    assert_eq!(
        lists::echo_list_string(wrpc, None, &strings).await?,
        strings
    );
    let (ab, empty) = (Bytes::from_static(b"ab"), Bytes::new());
    assert_eq!(
        lists::echo_list_bytes(wrpc, None, &[&ab, &empty]).await?,
        [ab.clone(), empty.clone()]
    );
    let nested = [vec![1, 2], vec![], vec![3]];
    let nested_refs: Vec<&[u32]> = nested.iter().map(Vec::as_slice).collect();
    assert_eq!(
        lists::echo_list_nested(wrpc, None, &nested_refs).await?,
        nested
    );
    assert_eq!(
        lists::reverse_strings(wrpc, None, &strings).await?,
        ["ccc", "", "a"]
    );
    assert_eq!(
        lists::sum_u32(wrpc, None, &[u32::MAX, u32::MAX]).await?,
        2 * u64::from(u32::MAX)
    );
    assert_eq!(lists::lengths(wrpc, None, &strings).await?, [1, 0, 3]);
    assert!(lists::empty_list(wrpc, None).await?.is_empty());
    assert_eq!(lists::flatten(wrpc, None, &nested_refs).await?, [1, 2, 3]);

    // compound
    let point = Point { x: -1, y: 2 };
    let ada = Person {
        name: "Ada".to_owned(),
        age: 36,
        tags: vec!["math".to_owned(), "engines".to_owned()],
        home: Some(point),
    };
    let bob = Person {
        name: "Bob".to_owned(),
        age: 40,
        tags: vec![],
        home: None,
    };
    let shape = Shape::Rect((Point { x: 0, y: 0 }, Point { x: 2, y: 3 }));
    let bag = Bag {
        flag: true,
        small: 7,
        big: i64::MIN,
        ratio: 0.25,
        letter: 'ß',
        text: "bag".to_owned(),
        data: pattern(10),
        people: vec![ada.clone(), bob.clone()],
        shape,
        color: Color::Blue,
        perms: Perms::READ | Perms::EXEC,
        wide: Wide::F0 | Wide::F31,
        maybe: None,
        outcome: Err("no".to_owned()),
        pair: (1, "one".to_owned()),
    };
    same!(compound::echo_point(wrpc, None, &point).await?, point);
    same!(compound::echo_person(wrpc, None, &ada).await?, ada);
    same!(compound::echo_shape(wrpc, None, &shape).await?, shape);
    same!(
        compound::echo_shape(wrpc, None, &Shape::Circle(0.5)).await?,
        Shape::Circle(0.5)
    );
    same!(
        compound::echo_color(wrpc, None, Color::Green).await?,
        Color::Green
    );
    same!(
        compound::echo_perms(wrpc, None, &Perms::WRITE).await?,
        Perms::WRITE
    );
    same!(
        compound::echo_wide(wrpc, None, &Wide::all()).await?,
        Wide::all()
    );
    same!(compound::echo_bag(wrpc, None, &bag).await?, bag);
    same!(
        compound::echo_option_u32(wrpc, None, Some(5)).await?,
        Some(5)
    );
    same!(
        compound::echo_option_string(wrpc, None, None).await?,
        None::<String>
    );
    same!(
        compound::echo_option_point(wrpc, None, Some(point)).await?,
        Some(point)
    );
    same!(
        compound::echo_nested_option(wrpc, None, Some(None)).await?,
        Some(None::<u8>)
    );
    same!(
        compound::echo_result(wrpc, None, &Err(())).await?,
        Err::<(), ()>(())
    );
    same!(
        compound::echo_result_ok(wrpc, None, &Ok(9)).await?,
        Ok::<u32, ()>(9)
    );
    same!(
        compound::echo_result_err(wrpc, None, &Err("e".to_owned())).await?,
        Err::<(), _>("e")
    );
    let both: Result<String, Color> = Err(Color::Red);
    same!(compound::echo_result_both(wrpc, None, &both).await?, both);
    same!(compound::echo_tuple2(wrpc, None, (1, "x")).await?, (1, "x"));
    let five = (true, 2, 'c', 1.25, point);
    same!(compound::echo_tuple5(wrpc, None, five).await?, five);
    same!(
        compound::move_point(wrpc, None, &point, 10, -10).await?,
        expected::move_point(point, 10, -10)
    );
    same!(
        compound::area(wrpc, None, &shape).await?,
        expected::area(shape)
    );
    same!(
        compound::next_color(wrpc, None, Color::Blue).await?,
        expected::next_color(Color::Blue)
    );
    same!(
        compound::grant(wrpc, None, &Perms::READ, &Perms::WRITE).await?,
        Perms::READ | Perms::WRITE
    );
    let people = [ada.clone(), bob.clone()];
    same!(
        compound::oldest(wrpc, None, &people).await?,
        expected::oldest(people.to_vec())
    );
    same!(
        compound::divide(wrpc, None, 7, 2).await?,
        expected::divide(7, 2)
    );
    same!(
        compound::divide(wrpc, None, 7, 0).await?,
        expected::divide(7, 0)
    );
    for n in [-3, 0, 4] {
        same!(
            compound::classify(wrpc, None, n).await?,
            expected::classify(n)
        );
    }
    same!(
        compound::named(wrpc, None, 21, "ab").await?,
        expected::named(21, "ab".to_owned())
    );
    compound::nothing(wrpc, None).await?;

    // resources
    let counter = Counter::new(wrpc, None, 5).await?;
    assert_eq!(Counter::add(wrpc, None, &counter.as_borrow(), 3).await?, 8);
    assert_eq!(Counter::get(wrpc, None, &counter.as_borrow()).await?, 8);
    Counter::reset(wrpc, None, &counter.as_borrow()).await?;
    assert_eq!(
        resources::counter_value(wrpc, None, &counter.as_borrow()).await?,
        0
    );
    let parsed = Counter::from_string(wrpc, None, "41")
        .await?
        .expect("a number");
    assert_eq!(Counter::add(wrpc, None, &parsed.as_borrow(), 1).await?, 42);
    assert!(Counter::from_string(wrpc, None, "x").await?.is_err());
    let registry = Registry::new(wrpc, None).await?;
    let (this, counter) = (registry.as_borrow(), parsed.as_borrow());
    assert_eq!(
        Registry::register(wrpc, None, &this, "answer", &counter).await?,
        1
    );
    assert_eq!(
        Registry::lookup(wrpc, None, &registry.as_borrow(), "answer").await?,
        Some(42)
    );
    assert_eq!(
        Registry::lookup(wrpc, None, &registry.as_borrow(), "other").await?,
        None
    );
    assert_eq!(Registry::count(wrpc, None, &registry.as_borrow()).await?, 1);
    let made = resources::make_counter(wrpc, None, 10).await?;
    let merged = resources::merge(wrpc, None, &made, &parsed).await?;
    assert_eq!(Counter::get(wrpc, None, &merged.as_borrow()).await?, 52);

    // streams
    let stream: PeerStream<Bytes> = Box::pin(futures::stream::iter([pattern(3000)]));
    let (echoed, io) = streams::echo_bytes_stream(wrpc, None, stream).await?;
    assert_eq!(
        with_io(io, echoed.collect::<Vec<_>>()).await?.concat(),
        pattern(3000).to_vec()
    );
    let (counted, io) = streams::count(wrpc, None, 25).await?;
    assert_eq!(
        with_io(io, counted.collect::<Vec<_>>()).await?.concat(),
        (0..25).collect::<Vec<_>>()
    );
    let (sum, io) = streams::sum(
        wrpc,
        None,
        Box::pin(futures::stream::iter(count_chunks(25))),
    )
    .await?;
    with_io(io, async {}).await?;
    assert_eq!(sum, 300);
    let (repeated, io) = streams::repeat_bytes(wrpc, None, &Bytes::from_static(b"ab"), 3).await?;
    assert_eq!(
        with_io(io, repeated.collect::<Vec<_>>()).await?.concat(),
        b"ababab"
    );
    let (collected, io) =
        streams::collect_bytes(wrpc, None, Box::pin(futures::stream::iter([pattern(50)]))).await?;
    with_io(io, async {}).await?;
    assert_eq!(collected, pattern(50));
    let (strings, io) = streams::strings(wrpc, None, 3).await?;
    assert_eq!(
        with_io(io, strings.collect::<Vec<_>>()).await?.concat(),
        ["s0", "s1", "s2"]
    );
    let (points, io) = streams::points(wrpc, None, 3).await?;
    let points = with_io(io, points.collect::<Vec<_>>()).await?.concat();
    same!(points, [0, 1, 2].map(|i| compound::Point { x: i, y: -i }));
    let (later, io) = streams::later(wrpc, None, 77).await?;
    assert_eq!(with_io(io, later).await?, 77);
    let (text, io) =
        streams::await_string(wrpc, None, Box::pin(async { "soon".to_owned() })).await?;
    with_io(io, async {}).await?;
    assert_eq!(text, "got soon");
    let (later, io) = streams::later_bytes(wrpc, None, 700).await?;
    let bytes = with_io(io, async { later.await.collect::<Vec<_>>().await }).await?;
    assert_eq!(bytes.concat(), pattern(700).to_vec());
    let upload = streams::Upload {
        name: "file".to_owned(),
        data: Box::pin(futures::stream::iter([pattern(100)])),
    };
    let (size, io) = streams::send_upload(wrpc, None, upload).await?;
    with_io(io, async {}).await?;
    assert_eq!(size, 104);
    let a: PeerStream<Vec<u32>> = Box::pin(futures::stream::iter([vec![1, 2]]));
    let b: PeerStream<Vec<u32>> = Box::pin(futures::stream::iter([vec![10], vec![20]]));
    let (sums, io) = streams::fan(wrpc, None, a, b).await?;
    with_io(io, async {}).await?;
    assert_eq!(sums, (3, 30));
    let (maybe, io) = streams::maybe_later(wrpc, None, Some(1)).await?;
    assert_eq!(with_io(io, maybe).await?, Some(2));
    let (signal, io) = streams::signal(wrpc, None).await?;
    with_io(io, signal).await?;
    Ok(())
}
