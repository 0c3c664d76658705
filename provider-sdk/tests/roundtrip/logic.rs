//! What the fixture's functions compute, written once and instantiated for each set of
//! generated types: our bindings' exports and imports, and the peer's.

/// Free functions over the `compound` types in scope where it is invoked.
macro_rules! logic {
    () => {
        #[allow(dead_code)]
        pub(crate) fn next_char(c: char) -> char {
            char::from_u32(c as u32 + 1).unwrap_or('?')
        }

        pub(crate) fn move_point(p: Point, dx: i32, dy: i32) -> Point {
            Point {
                x: p.x.wrapping_add(dx),
                y: p.y.wrapping_add(dy),
            }
        }

        pub(crate) fn area(s: Shape) -> f64 {
            match s {
                Shape::Circle(r) => std::f64::consts::PI * r * r,
                Shape::Rect((a, b)) => {
                    (f64::from(b.x) - f64::from(a.x)) * (f64::from(b.y) - f64::from(a.y))
                }
                Shape::None => 0.0,
            }
        }

        pub(crate) fn next_color(c: Color) -> Color {
            match c {
                Color::Red => Color::Green,
                Color::Green => Color::Blue,
                Color::Blue => Color::Red,
            }
        }

        pub(crate) fn oldest(people: Vec<Person>) -> Option<Person> {
            people.into_iter().max_by_key(|person| person.age)
        }

        pub(crate) fn divide(a: u32, b: u32) -> Result<u32, String> {
            a.checked_div(b)
                .ok_or_else(|| "division by zero".to_owned())
        }

        pub(crate) fn classify(n: i32) -> Shape {
            match n {
                0 => Shape::None,
                n if n < 0 => Shape::Circle(-f64::from(n)),
                n => Shape::Rect((Point { x: 0, y: 0 }, Point { x: n, y: n })),
            }
        }

        pub(crate) fn named(a: u32, b: String) -> (u32, String) {
            (a.wrapping_mul(2), b.repeat(2))
        }
    };
}

/// Handler methods that return their argument.
macro_rules! echoes {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(async fn $name(&self, _: Ctx, v: $ty) -> ret!($ty) {
            ok!(v)
        })*
    };
}

/// Handler methods that add their arguments, wrapping.
macro_rules! adds {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(async fn $name(&self, _: Ctx, a: $ty, b: $ty) -> ret!($ty) {
            ok!(a.wrapping_add(b))
        })*
    };
}

/// Implements `Handler` of `scalars`, `lists` and `compound` for `$server`, whose exports are
/// at `$exports`. The invoking module defines `ret!` (a handler's return type: `T` for ours,
/// `anyhow::Result<T>` for the peer's) and `ok!` (its value).
macro_rules! sync_handlers {
    ($server:ty, $($exports:ident)::+) => {
        const _: () = {
            use $($exports)::+::compound::{Bag, Color, Perms, Person, Point, Shape, Wide};
            use $($exports)::+::{compound, lists, scalars};
            use bytes::Bytes;

            logic!();

            impl<Ctx: Send> scalars::Handler<Ctx> for $server {
                echoes! {
                    echo_bool: bool, echo_u8: u8, echo_u16: u16, echo_u32: u32, echo_u64: u64,
                    echo_s8: i8, echo_s16: i16, echo_s32: i32, echo_s64: i64, echo_f32: f32,
                    echo_f64: f64, echo_char: char, echo_string: String,
                }

                adds! {
                    add_u8: u8, add_u16: u16, add_u32: u32, add_u64: u64,
                    add_s8: i8, add_s16: i16, add_s32: i32, add_s64: i64,
                }

                async fn not(&self, _: Ctx, v: bool) -> ret!(bool) {
                    ok!(!v)
                }

                async fn next_char(&self, _: Ctx, c: char) -> ret!(char) {
                    ok!(next_char(c))
                }

                async fn concat(&self, _: Ctx, a: String, b: String) -> ret!(String) {
                    ok!(a + &b)
                }

                async fn upper(&self, _: Ctx, s: String) -> ret!(String) {
                    ok!(s.to_uppercase())
                }

                async fn string_len(&self, _: Ctx, s: String) -> ret!(u32) {
                    ok!(s.chars().count() as u32)
                }

                async fn sqrt(&self, _: Ctx, v: f64) -> ret!(f64) {
                    ok!(v.sqrt())
                }

                async fn half(&self, _: Ctx, v: f32) -> ret!(f32) {
                    ok!(v / 2.0)
                }
            }

            impl<Ctx: Send> lists::Handler<Ctx> for $server {
                echoes! {
                    echo_list_bool: Vec<bool>, echo_list_u8: Bytes, echo_list_u16: Vec<u16>,
                    echo_list_u32: Vec<u32>, echo_list_u64: Vec<u64>, echo_list_s8: Vec<i8>,
                    echo_list_s16: Vec<i16>, echo_list_s32: Vec<i32>, echo_list_s64: Vec<i64>,
                    echo_list_f32: Vec<f32>, echo_list_f64: Vec<f64>, echo_list_char: Vec<char>,
                    echo_list_string: Vec<String>, echo_list_bytes: Vec<Bytes>,
                    echo_list_nested: Vec<Vec<u32>>,
                }

                async fn reverse_strings(&self, _: Ctx, v: Vec<String>) -> ret!(Vec<String>) {
                    ok!(v.into_iter().rev().collect())
                }

                async fn sum_u32(&self, _: Ctx, v: Vec<u32>) -> ret!(u64) {
                    ok!(v.into_iter().map(u64::from).sum())
                }

                async fn lengths(&self, _: Ctx, v: Vec<String>) -> ret!(Vec<u32>) {
                    ok!(v.iter().map(|s| s.len() as u32).collect())
                }

                async fn empty_list(&self, _: Ctx) -> ret!(Vec<u64>) {
                    ok!(Vec::new())
                }

                async fn flatten(&self, _: Ctx, v: Vec<Vec<u32>>) -> ret!(Vec<u32>) {
                    ok!(v.concat())
                }
            }

            impl<Ctx: Send> compound::Handler<Ctx> for $server {
                echoes! {
                    echo_point: Point, echo_person: Person, echo_shape: Shape, echo_color: Color,
                    echo_perms: Perms, echo_wide: Wide, echo_bag: Bag,
                    echo_option_u32: Option<u32>, echo_option_string: Option<String>,
                    echo_option_point: Option<Point>, echo_nested_option: Option<Option<u8>>,
                    echo_result: Result<(), ()>, echo_result_ok: Result<u32, ()>,
                    echo_result_err: Result<(), String>, echo_result_both: Result<String, Color>,
                    echo_tuple2: (u8, String), echo_tuple5: (bool, u16, char, f64, Point),
                }

                async fn move_point(&self, _: Ctx, p: Point, dx: i32, dy: i32) -> ret!(Point) {
                    ok!(move_point(p, dx, dy))
                }

                async fn area(&self, _: Ctx, s: Shape) -> ret!(f64) {
                    ok!(area(s))
                }

                async fn next_color(&self, _: Ctx, c: Color) -> ret!(Color) {
                    ok!(next_color(c))
                }

                async fn grant(&self, _: Ctx, have: Perms, add: Perms) -> ret!(Perms) {
                    ok!(have | add)
                }

                async fn oldest(&self, _: Ctx, people: Vec<Person>) -> ret!(Option<Person>) {
                    ok!(oldest(people))
                }

                async fn divide(&self, _: Ctx, a: u32, b: u32) -> ret!(Result<u32, String>) {
                    ok!(divide(a, b))
                }

                async fn classify(&self, _: Ctx, n: i32) -> ret!(Shape) {
                    ok!(classify(n))
                }

                async fn named(&self, _: Ctx, a: u32, b: String) -> ret!((u32, String)) {
                    ok!(named(a, b))
                }

                #[allow(clippy::unused_unit)]
                async fn nothing(&self, _: Ctx) -> ret!(()) {
                    ok!(())
                }
            }
        };
    };
}

/// The resources' state, shared by both servers: handles are opaque bytes the server chose.
#[derive(Clone, Default)]
pub(crate) struct State(std::sync::Arc<std::sync::Mutex<Inner>>);

#[derive(Default)]
pub(crate) struct Inner {
    next: u64,
    counters: std::collections::HashMap<bytes::Bytes, u64>,
    registries: std::collections::HashMap<bytes::Bytes, Vec<(String, bytes::Bytes)>>,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap()
    }

    fn handle(inner: &mut Inner, kind: &str) -> bytes::Bytes {
        inner.next += 1;
        bytes::Bytes::from(format!("{kind}-{}", inner.next))
    }

    pub(crate) fn new_counter(&self, start: u64) -> bytes::Bytes {
        let mut inner = self.lock();
        let handle = Self::handle(&mut inner, "counter");
        inner.counters.insert(handle.clone(), start);
        handle
    }

    pub(crate) fn counter(&self, handle: &[u8]) -> u64 {
        self.lock().counters[handle]
    }

    pub(crate) fn add(&self, handle: &[u8], n: u64) -> u64 {
        let mut inner = self.lock();
        let value = inner.counters.get_mut(handle).expect("a known counter");
        *value += n;
        *value
    }

    pub(crate) fn reset(&self, handle: &[u8]) {
        self.lock()
            .counters
            .insert(bytes::Bytes::copy_from_slice(handle), 0);
    }

    pub(crate) fn new_registry(&self) -> bytes::Bytes {
        let mut inner = self.lock();
        let handle = Self::handle(&mut inner, "registry");
        inner.registries.insert(handle.clone(), Vec::new());
        handle
    }

    pub(crate) fn register(&self, registry: &[u8], name: String, counter: &[u8]) -> u32 {
        let mut inner = self.lock();
        let entries = inner
            .registries
            .get_mut(registry)
            .expect("a known registry");
        entries.push((name, bytes::Bytes::copy_from_slice(counter)));
        entries.len() as u32
    }

    pub(crate) fn lookup(&self, registry: &[u8], name: &str) -> Option<u64> {
        let inner = self.lock();
        let (_, counter) = inner.registries[registry].iter().find(|(n, _)| n == name)?;
        inner.counters.get(counter).copied()
    }

    pub(crate) fn count(&self, registry: &[u8]) -> u32 {
        self.lock().registries[registry].len() as u32
    }
}

/// `n` bytes of the pattern `i % 251`.
pub(crate) fn pattern(n: usize) -> bytes::Bytes {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// `0..n` in chunks of 10.
pub(crate) fn count_chunks(n: u32) -> Vec<Vec<u32>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(10)
        .map(<[u32]>::to_vec)
        .collect()
}
