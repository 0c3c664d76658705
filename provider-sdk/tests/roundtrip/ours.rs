//! Our side: a server implementing the generated handler traits, and a check that calls every
//! function through the generated client functions.

use std::time::Duration;

use bytes::Bytes;
use provider_sdk::transport::Client;
use provider_sdk::wire::{ByteStream, ResourceBorrow, ResourceOwn, WitFuture, WitStream};

use crate::logic::{State, count_chunks, pattern};

/// Our server: every handler trait of the fixture.
#[derive(Clone, Default)]
pub(crate) struct Server {
    state: State,
}

macro_rules! ret {
    ($ty:ty) => {
        $ty
    };
}

macro_rules! ok {
    ($value:expr) => {
        $value
    };
}

sync_handlers!(Server, crate::bindings_ours::exports::roundtrip::test);

mod resources {
    use super::*;
    use crate::bindings_ours::exports::roundtrip::test::resources::{
        Counter, CounterHandler, Handler, Registry, RegistryHandler,
    };

    impl<Ctx: Send> Handler<Ctx> for Server {
        async fn make_counter(&self, _: Ctx, start: u64) -> ResourceOwn<Counter> {
            ResourceOwn::new(self.state.new_counter(start))
        }

        async fn counter_value(&self, _: Ctx, c: ResourceBorrow<Counter>) -> u64 {
            self.state.counter(c.as_bytes())
        }

        async fn merge(
            &self,
            _: Ctx,
            a: ResourceOwn<Counter>,
            b: ResourceOwn<Counter>,
        ) -> ResourceOwn<Counter> {
            let sum = self.state.counter(a.as_bytes()) + self.state.counter(b.as_bytes());
            ResourceOwn::new(self.state.new_counter(sum))
        }
    }

    impl<Ctx: Send> CounterHandler<Ctx> for Server {
        async fn new(&self, _: Ctx, start: u64) -> ResourceOwn<Counter> {
            ResourceOwn::new(self.state.new_counter(start))
        }

        async fn get(&self, _: Ctx, this: ResourceBorrow<Counter>) -> u64 {
            self.state.counter(this.as_bytes())
        }

        async fn add(&self, _: Ctx, this: ResourceBorrow<Counter>, n: u64) -> u64 {
            self.state.add(this.as_bytes(), n)
        }

        async fn reset(&self, _: Ctx, this: ResourceBorrow<Counter>) {
            self.state.reset(this.as_bytes());
        }

        async fn from_string(&self, _: Ctx, s: String) -> Result<ResourceOwn<Counter>, String> {
            let start = s
                .parse::<u64>()
                .map_err(|error| format!("{s:?}: {error}"))?;
            Ok(ResourceOwn::new(self.state.new_counter(start)))
        }
    }

    impl<Ctx: Send> RegistryHandler<Ctx> for Server {
        async fn new(&self, _: Ctx) -> ResourceOwn<Registry> {
            ResourceOwn::new(self.state.new_registry())
        }

        async fn register(
            &self,
            _: Ctx,
            this: ResourceBorrow<Registry>,
            name: String,
            c: ResourceBorrow<Counter>,
        ) -> u32 {
            self.state.register(this.as_bytes(), name, c.as_bytes())
        }

        async fn lookup(
            &self,
            _: Ctx,
            this: ResourceBorrow<Registry>,
            name: String,
        ) -> Option<u64> {
            self.state.lookup(this.as_bytes(), &name)
        }

        async fn count(&self, _: Ctx, this: ResourceBorrow<Registry>) -> u32 {
            self.state.count(this.as_bytes())
        }
    }
}

mod streams {
    use futures::StreamExt as _;

    use super::*;
    use crate::bindings_ours::exports::roundtrip::test::streams::{Handler, Point, Upload};

    impl<Ctx: Send> Handler<Ctx> for Server {
        async fn echo_bytes_stream(&self, _: Ctx, s: ByteStream) -> ByteStream {
            s
        }

        async fn count(&self, _: Ctx, n: u32) -> WitStream<u32> {
            WitStream::new(futures::stream::iter(count_chunks(n)))
        }

        async fn sum(&self, _: Ctx, s: WitStream<u32>) -> u64 {
            s.collect_all()
                .await
                .unwrap()
                .into_iter()
                .map(u64::from)
                .sum()
        }

        async fn repeat_bytes(&self, _: Ctx, b: Bytes, times: u32) -> ByteStream {
            ByteStream::new(futures::stream::iter(std::iter::repeat_n(
                b,
                times as usize,
            )))
        }

        async fn collect_bytes(&self, _: Ctx, s: ByteStream) -> Bytes {
            s.collect_all().await.unwrap()
        }

        async fn strings(&self, _: Ctx, n: u32) -> WitStream<String> {
            WitStream::new(futures::stream::iter(0..n).map(|i| vec![format!("s{i}")]))
        }

        async fn points(&self, _: Ctx, n: u32) -> WitStream<Point> {
            let n = n as i32;
            WitStream::from((0..n).map(|i| Point { x: i, y: -i }).collect::<Vec<_>>())
        }

        async fn later(&self, _: Ctx, v: u64) -> WitFuture<u64> {
            WitFuture::new(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                v
            })
        }

        async fn await_string(&self, _: Ctx, f: WitFuture<String>) -> String {
            format!("got {}", f.await.unwrap())
        }

        async fn later_bytes(&self, _: Ctx, n: u32) -> WitFuture<ByteStream> {
            WitFuture::new(async move { ByteStream::from(pattern(n as usize)) })
        }

        async fn send_upload(&self, _: Ctx, u: Upload) -> u64 {
            (u.name.len() + u.data.collect_all().await.unwrap().len()) as u64
        }

        async fn fan(&self, _: Ctx, a: WitStream<u32>, b: WitStream<u32>) -> (u64, u64) {
            let (a, b) = futures::join!(a.collect_all(), b.collect_all());
            let sum = |v: Vec<u32>| v.into_iter().map(u64::from).sum();
            (sum(a.unwrap()), sum(b.unwrap()))
        }

        async fn maybe_later(&self, _: Ctx, v: Option<u32>) -> WitFuture<Option<u32>> {
            WitFuture::ready(v.map(|v| v + 1))
        }

        async fn signal(&self, _: Ctx) -> WitFuture<()> {
            WitFuture::new(async {})
        }
    }
}

impl<Ctx: Send> crate::bindings_ours::Handler<Ctx> for Server {
    async fn ping(&self, _: Ctx) -> String {
        "pong".to_owned()
    }

    async fn version(&self, _: Ctx) -> (u16, u16, u16) {
        (1, 2, 3)
    }
}

mod expected {
    pub(crate) use crate::bindings_ours::roundtrip::test::compound::{Color, Person, Point, Shape};
    logic!();
}

/// Calls every function of the fixture through our generated client, checking each result.
pub(crate) async fn check(client: &Client) -> anyhow::Result<()> {
    use crate::bindings_ours::roundtrip::test::compound::{
        self, Bag, Color, Perms, Person, Point, Shape, Wide,
    };
    use crate::bindings_ours::roundtrip::test::resources::{self, Counter, Registry};
    use crate::bindings_ours::roundtrip::test::{lists, scalars, streams};

    // scalars
    assert!(scalars::echo_bool(client, true).await?);
    assert_eq!(scalars::echo_u8(client, 255).await?, 255);
    assert_eq!(scalars::echo_u16(client, 300).await?, 300);
    assert_eq!(scalars::echo_u32(client, u32::MAX).await?, u32::MAX);
    assert_eq!(scalars::echo_u64(client, u64::MAX).await?, u64::MAX);
    assert_eq!(scalars::echo_s8(client, -128).await?, -128);
    assert_eq!(scalars::echo_s16(client, -300).await?, -300);
    assert_eq!(scalars::echo_s32(client, i32::MIN).await?, i32::MIN);
    assert_eq!(scalars::echo_s64(client, i64::MIN).await?, i64::MIN);
    assert_eq!(scalars::echo_f32(client, -1.5).await?, -1.5);
    assert_eq!(scalars::echo_f64(client, 1e300).await?, 1e300);
    assert_eq!(scalars::echo_char(client, '😀').await?, '😀');
    assert_eq!(scalars::echo_string(client, "héllo").await?, "héllo");
    assert_eq!(scalars::add_u8(client, 250, 10).await?, 4);
    assert_eq!(scalars::add_u16(client, 65535, 2).await?, 1);
    assert_eq!(scalars::add_u32(client, 1, 2).await?, 3);
    assert_eq!(scalars::add_u64(client, u64::MAX, 1).await?, 0);
    assert_eq!(scalars::add_s8(client, 127, 1).await?, -128);
    assert_eq!(scalars::add_s16(client, -5, 3).await?, -2);
    assert_eq!(scalars::add_s32(client, i32::MAX, 1).await?, i32::MIN);
    assert_eq!(scalars::add_s64(client, -1, -1).await?, -2);
    assert!(!scalars::not(client, true).await?);
    assert_eq!(scalars::next_char(client, 'a').await?, 'b');
    assert_eq!(scalars::concat(client, "wr", "pc").await?, "wrpc");
    assert_eq!(scalars::upper(client, "ok").await?, "OK");
    assert_eq!(scalars::string_len(client, "añb").await?, 3);
    assert_eq!(scalars::sqrt(client, 9.0).await?, 3.0);
    assert_eq!(scalars::half(client, 3.0).await?, 1.5);

    // lists
    assert_eq!(
        lists::echo_list_bool(client, &[true, false]).await?,
        [true, false]
    );
    assert_eq!(
        lists::echo_list_u8(client, &pattern(1000)).await?,
        pattern(1000)
    );
    assert_eq!(lists::echo_list_u16(client, &[1, 300]).await?, [1, 300]);
    assert_eq!(
        lists::echo_list_u32(client, &[0, u32::MAX]).await?,
        [0, u32::MAX]
    );
    assert_eq!(lists::echo_list_u64(client, &[7]).await?, [7]);
    assert_eq!(lists::echo_list_s8(client, &[-1, 1]).await?, [-1, 1]);
    assert_eq!(lists::echo_list_s16(client, &[-300]).await?, [-300]);
    assert_eq!(
        lists::echo_list_s32(client, &[i32::MIN, 0]).await?,
        [i32::MIN, 0]
    );
    assert_eq!(lists::echo_list_s64(client, &[i64::MAX]).await?, [i64::MAX]);
    assert_eq!(
        lists::echo_list_f32(client, &[0.5, -0.0]).await?,
        [0.5, -0.0]
    );
    assert_eq!(lists::echo_list_f64(client, &[f64::MAX]).await?, [f64::MAX]);
    assert_eq!(
        lists::echo_list_char(client, &['a', 'ñ']).await?,
        ['a', 'ñ']
    );
    let strings = ["a".to_owned(), String::new(), "ccc".to_owned()];
    assert_eq!(lists::echo_list_string(client, &strings).await?, strings);
    let byte_lists = [Bytes::from_static(b"ab"), Bytes::new()];
    assert_eq!(
        lists::echo_list_bytes(client, &byte_lists).await?,
        byte_lists
    );
    let nested = [vec![1, 2], vec![], vec![3]];
    assert_eq!(lists::echo_list_nested(client, &nested).await?, nested);
    assert_eq!(
        lists::reverse_strings(client, &strings).await?,
        ["ccc", "", "a"]
    );
    assert_eq!(
        lists::sum_u32(client, &[u32::MAX, u32::MAX]).await?,
        2 * u64::from(u32::MAX)
    );
    assert_eq!(lists::lengths(client, &strings).await?, [1, 0, 3]);
    assert!(lists::empty_list(client).await?.is_empty());
    assert_eq!(lists::flatten(client, &nested).await?, [1, 2, 3]);

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
    assert_eq!(compound::echo_point(client, point).await?, point);
    assert_eq!(compound::echo_person(client, &ada).await?, ada);
    assert_eq!(compound::echo_shape(client, shape).await?, shape);
    assert_eq!(
        compound::echo_shape(client, Shape::Circle(0.5)).await?,
        Shape::Circle(0.5)
    );
    assert_eq!(
        compound::echo_color(client, Color::Green).await?,
        Color::Green
    );
    assert_eq!(
        compound::echo_perms(client, Perms::WRITE).await?,
        Perms::WRITE
    );
    assert_eq!(compound::echo_wide(client, Wide::all()).await?, Wide::all());
    assert_eq!(compound::echo_bag(client, &bag).await?, bag);
    assert_eq!(compound::echo_option_u32(client, Some(5)).await?, Some(5));
    assert_eq!(compound::echo_option_string(client, None).await?, None);
    assert_eq!(
        compound::echo_option_point(client, Some(point)).await?,
        Some(point)
    );
    assert_eq!(
        compound::echo_nested_option(client, Some(None)).await?,
        Some(None)
    );
    assert_eq!(compound::echo_result(client, Err(())).await?, Err(()));
    assert_eq!(compound::echo_result_ok(client, Ok(9)).await?, Ok(9));
    assert_eq!(
        compound::echo_result_err(client, Err("e".to_owned())).await?,
        Err("e".to_owned())
    );
    let both: Result<String, Color> = Err(Color::Red);
    assert_eq!(
        compound::echo_result_both(client, both.clone()).await?,
        both
    );
    assert_eq!(
        compound::echo_tuple2(client, (1, "x".to_owned())).await?,
        (1, "x".to_owned())
    );
    let five = (true, 2, 'c', 1.25, point);
    assert_eq!(compound::echo_tuple5(client, five).await?, five);
    assert_eq!(
        compound::move_point(client, point, 10, -10).await?,
        expected::move_point(point, 10, -10)
    );
    assert_eq!(compound::area(client, shape).await?, expected::area(shape));
    assert_eq!(
        compound::next_color(client, Color::Blue).await?,
        expected::next_color(Color::Blue)
    );
    assert_eq!(
        compound::grant(client, Perms::READ, Perms::WRITE).await?,
        Perms::READ | Perms::WRITE
    );
    let people = [ada.clone(), bob.clone()];
    assert_eq!(
        compound::oldest(client, &people).await?,
        expected::oldest(people.to_vec())
    );
    assert_eq!(
        compound::divide(client, 7, 2).await?,
        expected::divide(7, 2)
    );
    assert_eq!(
        compound::divide(client, 7, 0).await?,
        expected::divide(7, 0)
    );
    for n in [-3, 0, 4] {
        assert_eq!(compound::classify(client, n).await?, expected::classify(n));
    }
    assert_eq!(
        compound::named(client, 21, "ab").await?,
        expected::named(21, "ab".to_owned())
    );
    compound::nothing(client).await?;

    // resources
    let counter = Counter::new(client, 5).await?;
    assert_eq!(Counter::add(client, counter.borrow(), 3).await?, 8);
    assert_eq!(Counter::get(client, counter.borrow()).await?, 8);
    Counter::reset(client, counter.borrow()).await?;
    assert_eq!(resources::counter_value(client, counter.borrow()).await?, 0);
    let parsed = Counter::from_string(client, "41").await?.expect("a number");
    assert_eq!(Counter::add(client, parsed.borrow(), 1).await?, 42);
    assert!(Counter::from_string(client, "x").await?.is_err());
    let registry = Registry::new(client).await?;
    assert_eq!(
        Registry::register(client, registry.borrow(), "answer", parsed.borrow()).await?,
        1
    );
    assert_eq!(
        Registry::lookup(client, registry.borrow(), "answer").await?,
        Some(42)
    );
    assert_eq!(
        Registry::lookup(client, registry.borrow(), "other").await?,
        None
    );
    assert_eq!(Registry::count(client, registry.borrow()).await?, 1);
    let made = resources::make_counter(client, 10).await?;
    let merged = resources::merge(client, made, parsed).await?;
    assert_eq!(Counter::get(client, merged.borrow()).await?, 52);

    // streams
    let echoed = streams::echo_bytes_stream(client, ByteStream::from(pattern(3000))).await?;
    assert_eq!(echoed.collect_all().await?, pattern(3000));
    let counted = streams::count(client, 25).await?;
    assert_eq!(counted.collect_all().await?, (0..25).collect::<Vec<_>>());
    let numbers = WitStream::new(futures::stream::iter(count_chunks(25)));
    assert_eq!(streams::sum(client, numbers).await?, 300);
    let repeated = streams::repeat_bytes(client, b"ab", 3).await?;
    assert_eq!(repeated.collect_all().await?, Bytes::from_static(b"ababab"));
    assert_eq!(
        streams::collect_bytes(client, ByteStream::from(pattern(50))).await?,
        pattern(50)
    );
    let strings = streams::strings(client, 3).await?;
    assert_eq!(strings.collect_all().await?, ["s0", "s1", "s2"]);
    let points = streams::points(client, 3).await?.collect_all().await?;
    assert_eq!(points, [0, 1, 2].map(|i| compound::Point { x: i, y: -i }));
    assert_eq!(streams::later(client, 77).await?.await?, 77);
    let later = WitFuture::new(async { "soon".to_owned() });
    assert_eq!(streams::await_string(client, later).await?, "got soon");
    let bytes = streams::later_bytes(client, 700).await?.await?;
    assert_eq!(bytes.collect_all().await?, pattern(700));
    let upload = streams::Upload {
        name: "file".to_owned(),
        data: ByteStream::from(pattern(100)),
    };
    assert_eq!(streams::send_upload(client, upload).await?, 104);
    let a = WitStream::from(vec![1u32, 2]);
    let b = WitStream::new(futures::stream::iter(vec![vec![10u32], vec![20]]));
    assert_eq!(streams::fan(client, a, b).await?, (3, 30));
    assert_eq!(streams::maybe_later(client, Some(1)).await?.await?, Some(2));
    streams::signal(client).await?.await?;

    // the world's own exports, called by hand: a world's exports have no client functions
    let (pong,): (String,) = client
        .invoke("roundtrip:test/roundtrip@0.1.0", "ping", ())
        .await?;
    assert_eq!(pong, "pong");
    let (version,): ((u16, u16, u16),) = client
        .invoke("roundtrip:test/roundtrip@0.1.0", "version", ())
        .await?;
    assert_eq!(version, (1, 2, 3));
    Ok(())
}
