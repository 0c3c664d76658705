/// Serves every export of the world `all-types` on `server`, with one handler for all of them.
///
/// Returns once every function is subscribed; dropping the returned handle stops
/// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
/// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
#[allow(dead_code, missing_docs, clippy::all)]
pub async fn serve<Ctx, H>(
    server: &::provider_sdk::__private::Server,
    handler: H,
) -> ::provider_sdk::__private::Result<::provider_sdk::__private::Serving>
where
    Ctx: ::provider_sdk::__private::FromInvocation,
    H: exports::test::types::types::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::types::types::serve_shared(
                    server,
                    ::std::sync::Arc::clone(&handler),
                )
                .await?,
        );
    ::core::result::Result::Ok(serving)
}
#[allow(clippy::all, dead_code, missing_docs, unused_imports)]
pub mod exports {
    #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
    pub mod test {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod types {
            /// Types, with their docs.
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod types {
                /// A point.
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq
                )]
                pub struct Point {
                    /// Across.
                    pub x: i32,
                    /// Down.
                    pub y: i32,
                }
                impl ::provider_sdk::__private::Encode for Point {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.x)?;
                        w.write_field(1, self.y)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Point {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, &self.x)?;
                        w.write_field(1, &self.y)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for Point {
                    const MIN_SIZE: usize = 2;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self {
                            x: r.read_field(0)?,
                            y: r.read_field(1)?,
                        })
                    }
                }
                /// Keyword names get a trailing underscore.
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::cmp::PartialEq
                )]
                pub struct Keywords {
                    pub type_: ::std::string::String,
                    pub self_: bool,
                    pub match_: ::provider_sdk::__private::Bytes,
                }
                impl ::provider_sdk::__private::Encode for Keywords {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.type_)?;
                        w.write_field(1, self.self_)?;
                        w.write_field(2, self.match_)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Keywords {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, &self.type_)?;
                        w.write_field(1, &self.self_)?;
                        w.write_field(2, &self.match_)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for Keywords {
                    const MIN_SIZE: usize = 3;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self {
                            type_: r.read_field(0)?,
                            self_: r.read_field(1)?,
                            match_: r.read_field(2)?,
                        })
                    }
                }
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq
                )]
                pub enum Shape {
                    /// A circle of this radius.
                    Circle(f64),
                    Rectangle(self::Point),
                    Nothing,
                }
                impl ::provider_sdk::__private::Encode for Shape {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        match self {
                            Shape::Circle(payload) => {
                                w.write_case(0);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Shape::Rectangle(payload) => {
                                w.write_case(1);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Shape::Nothing => {
                                w.write_case(2);
                                ::core::result::Result::Ok(())
                            }
                        }
                    }
                }
                impl ::provider_sdk::__private::Encode for &Shape {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        match self {
                            Shape::Circle(payload) => {
                                w.write_case(0);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Shape::Rectangle(payload) => {
                                w.write_case(1);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Shape::Nothing => {
                                w.write_case(2);
                                ::core::result::Result::Ok(())
                            }
                        }
                    }
                }
                impl ::provider_sdk::__private::Decode for Shape {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(
                            match r.read_case("shape", 3)? {
                                0 => {
                                    Shape::Circle(
                                        <f64 as ::provider_sdk::__private::Decode>::decode(r)?,
                                    )
                                }
                                1 => {
                                    Shape::Rectangle(
                                        <self::Point as ::provider_sdk::__private::Decode>::decode(
                                            r,
                                        )?,
                                    )
                                }
                                _ => Shape::Nothing,
                            },
                        )
                    }
                }
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq,
                    ::core::cmp::Eq,
                    ::core::hash::Hash,
                    ::core::cmp::PartialOrd,
                    ::core::cmp::Ord
                )]
                pub enum Color {
                    Red,
                    Green,
                    Blue,
                }
                impl ::provider_sdk::__private::Encode for Color {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_case(self as u32);
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Color {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        ::provider_sdk::__private::Encode::encode(*self, w)
                    }
                }
                impl ::provider_sdk::__private::Decode for Color {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(
                            match r.read_case("color", 3)? {
                                0 => Color::Red,
                                1 => Color::Green,
                                _ => Color::Blue,
                            },
                        )
                    }
                }
                ::provider_sdk::__private::bitflags::bitflags! {
                    #[derive(::core::fmt::Debug, ::core::clone::Clone,
                    ::core::marker::Copy, ::core::cmp::PartialEq, ::core::cmp::Eq,
                    ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord)] pub
                    struct Small : u8 { const READ = 1 << 0; const WRITE = 1 << 1; }
                }
                impl ::provider_sdk::__private::Encode for Small {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_flags(::core::primitive::u128::from(self.bits()), 2);
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Small {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        ::provider_sdk::__private::Encode::encode(*self, w)
                    }
                }
                impl ::provider_sdk::__private::Decode for Small {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        let bits = r.read_flags("small", 2)?;
                        ::core::result::Result::Ok(Self::from_bits_retain(bits as u8))
                    }
                }
                ::provider_sdk::__private::bitflags::bitflags! {
                    #[doc = " 20 flags: three bytes on the wire."]
                    #[derive(::core::fmt::Debug, ::core::clone::Clone,
                    ::core::marker::Copy, ::core::cmp::PartialEq, ::core::cmp::Eq,
                    ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord)] pub
                    struct Twenty : u32 { const F0 = 1 << 0; const F1 = 1 << 1; const F2
                    = 1 << 2; const F3 = 1 << 3; const F4 = 1 << 4; const F5 = 1 << 5;
                    const F6 = 1 << 6; const F7 = 1 << 7; const F8 = 1 << 8; const F9 = 1
                    << 9; const F10 = 1 << 10; const F11 = 1 << 11; const F12 = 1 << 12;
                    const F13 = 1 << 13; const F14 = 1 << 14; const F15 = 1 << 15; const
                    F16 = 1 << 16; const F17 = 1 << 17; const F18 = 1 << 18; const F19 =
                    1 << 19; }
                }
                impl ::provider_sdk::__private::Encode for Twenty {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_flags(::core::primitive::u128::from(self.bits()), 20);
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Twenty {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        ::provider_sdk::__private::Encode::encode(*self, w)
                    }
                }
                impl ::provider_sdk::__private::Decode for Twenty {
                    const MIN_SIZE: usize = 3;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        let bits = r.read_flags("twenty", 20)?;
                        ::core::result::Result::Ok(Self::from_bits_retain(bits as u32))
                    }
                }
                pub type PointList = ::std::vec::Vec<self::Point>;
                pub type Pair = (u8, ::std::string::String);
                pub type Maybe = ::core::option::Option<::std::string::String>;
                pub type Outcome = ::core::result::Result<u64, ::std::string::String>;
                pub type NothingOrError = ::core::result::Result<(), self::Color>;
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::cmp::PartialEq
                )]
                pub struct Everything {
                    pub a: bool,
                    pub b: u8,
                    pub c: u16,
                    pub d: u32,
                    pub e: u64,
                    pub f: i8,
                    pub g: i16,
                    pub h: i32,
                    pub i: i64,
                    pub j: f32,
                    pub k: f64,
                    pub l: char,
                    pub m: ::std::string::String,
                    pub n: ::provider_sdk::__private::Bytes,
                    pub o: ::std::vec::Vec<::provider_sdk::__private::Bytes>,
                    pub p: ::core::option::Option<self::Point>,
                    pub q: ::core::result::Result<self::Shape, ::std::string::String>,
                    pub r: (self::Color, self::Small),
                    pub s: self::Twenty,
                    pub t: self::PointList,
                    pub u: self::Pair,
                    pub v: self::Maybe,
                    pub w: self::Outcome,
                    pub x: self::NothingOrError,
                }
                impl ::provider_sdk::__private::Encode for Everything {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.a)?;
                        w.write_field(1, self.b)?;
                        w.write_field(2, self.c)?;
                        w.write_field(3, self.d)?;
                        w.write_field(4, self.e)?;
                        w.write_field(5, self.f)?;
                        w.write_field(6, self.g)?;
                        w.write_field(7, self.h)?;
                        w.write_field(8, self.i)?;
                        w.write_field(9, self.j)?;
                        w.write_field(10, self.k)?;
                        w.write_field(11, self.l)?;
                        w.write_field(12, self.m)?;
                        w.write_field(13, self.n)?;
                        w.write_field(14, self.o)?;
                        w.write_field(15, self.p)?;
                        w.write_field(16, self.q)?;
                        w.write_field(17, self.r)?;
                        w.write_field(18, self.s)?;
                        w.write_field(19, self.t)?;
                        w.write_field(20, self.u)?;
                        w.write_field(21, self.v)?;
                        w.write_field(22, self.w)?;
                        w.write_field(23, self.x)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Everything {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, &self.a)?;
                        w.write_field(1, &self.b)?;
                        w.write_field(2, &self.c)?;
                        w.write_field(3, &self.d)?;
                        w.write_field(4, &self.e)?;
                        w.write_field(5, &self.f)?;
                        w.write_field(6, &self.g)?;
                        w.write_field(7, &self.h)?;
                        w.write_field(8, &self.i)?;
                        w.write_field(9, &self.j)?;
                        w.write_field(10, &self.k)?;
                        w.write_field(11, &self.l)?;
                        w.write_field(12, &self.m)?;
                        w.write_field(13, &self.n)?;
                        w.write_field(14, &self.o)?;
                        w.write_field(15, &self.p)?;
                        w.write_field(16, &self.q)?;
                        w.write_field(17, &self.r)?;
                        w.write_field(18, &self.s)?;
                        w.write_field(19, &self.t)?;
                        w.write_field(20, &self.u)?;
                        w.write_field(21, &self.v)?;
                        w.write_field(22, &self.w)?;
                        w.write_field(23, &self.x)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for Everything {
                    const MIN_SIZE: usize = 38;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self {
                            a: r.read_field(0)?,
                            b: r.read_field(1)?,
                            c: r.read_field(2)?,
                            d: r.read_field(3)?,
                            e: r.read_field(4)?,
                            f: r.read_field(5)?,
                            g: r.read_field(6)?,
                            h: r.read_field(7)?,
                            i: r.read_field(8)?,
                            j: r.read_field(9)?,
                            k: r.read_field(10)?,
                            l: r.read_field(11)?,
                            m: r.read_field(12)?,
                            n: r.read_field(13)?,
                            o: r.read_field(14)?,
                            p: r.read_field(15)?,
                            q: r.read_field(16)?,
                            r: r.read_field(17)?,
                            s: r.read_field(18)?,
                            t: r.read_field(19)?,
                            u: r.read_field(20)?,
                            v: r.read_field(21)?,
                            w: r.read_field(22)?,
                            x: r.read_field(23)?,
                        })
                    }
                }
                /// Serves the functions of `test:types/types@0.1.0`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn echo(
                        &self,
                        cx: Ctx,
                        e: self::Everything,
                    ) -> impl ::core::future::Future<
                        Output = self::Everything,
                    > + ::core::marker::Send;
                    fn area(
                        &self,
                        cx: Ctx,
                        s: self::Shape,
                    ) -> impl ::core::future::Future<
                        Output = f64,
                    > + ::core::marker::Send;
                    fn paint(
                        &self,
                        cx: Ctx,
                        points: ::std::vec::Vec<self::Point>,
                        color: self::Color,
                        bytes: ::provider_sdk::__private::Bytes,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<u32, ::std::string::String>,
                    > + ::core::marker::Send;
                    fn flags_of(
                        &self,
                        cx: Ctx,
                        s: self::Small,
                    ) -> impl ::core::future::Future<
                        Output = self::Twenty,
                    > + ::core::marker::Send;
                    fn nothing(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send;
                    fn named_results(
                        &self,
                        cx: Ctx,
                        a: u32,
                    ) -> impl ::core::future::Future<
                        Output = (u64, ::std::string::String),
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn echo(
                        &self,
                        cx: Ctx,
                        e: self::Everything,
                    ) -> impl ::core::future::Future<
                        Output = self::Everything,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::echo(&**self, cx, e)
                    }
                    fn area(
                        &self,
                        cx: Ctx,
                        s: self::Shape,
                    ) -> impl ::core::future::Future<
                        Output = f64,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::area(&**self, cx, s)
                    }
                    fn paint(
                        &self,
                        cx: Ctx,
                        points: ::std::vec::Vec<self::Point>,
                        color: self::Color,
                        bytes: ::provider_sdk::__private::Bytes,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<u32, ::std::string::String>,
                    > + ::core::marker::Send {
                        <H as Handler<
                            Ctx,
                        >>::paint(&**self, cx, points, color, bytes, name)
                    }
                    fn flags_of(
                        &self,
                        cx: Ctx,
                        s: self::Small,
                    ) -> impl ::core::future::Future<
                        Output = self::Twenty,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::flags_of(&**self, cx, s)
                    }
                    fn nothing(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = (),
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::nothing(&**self, cx)
                    }
                    fn named_results(
                        &self,
                        cx: Ctx,
                        a: u32,
                    ) -> impl ::core::future::Future<
                        Output = (u64, ::std::string::String),
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::named_results(&**self, cx, a)
                    }
                }
                /// Serves every function of `test:types/types@0.1.0` on `server`, handing each invocation to `handler`.
                ///
                /// Returns once every function is subscribed; dropping the returned handle stops
                /// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
                /// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
                pub async fn serve<Ctx, H>(
                    server: &::provider_sdk::__private::Server,
                    handler: H,
                ) -> ::provider_sdk::__private::Result<
                    ::provider_sdk::__private::Serving,
                >
                where
                    Ctx: ::provider_sdk::__private::FromInvocation,
                    H: Handler<Ctx>,
                {
                    serve_shared(server, ::std::sync::Arc::new(handler)).await
                }
                /// Like [`serve`], for a handler shared with other interfaces.
                pub async fn serve_shared<Ctx, H>(
                    server: &::provider_sdk::__private::Server,
                    handler: ::std::sync::Arc<H>,
                ) -> ::provider_sdk::__private::Result<
                    ::provider_sdk::__private::Serving,
                >
                where
                    Ctx: ::provider_sdk::__private::FromInvocation,
                    H: Handler<Ctx>,
                {
                    let mut serving = ::provider_sdk::__private::Serving::default();
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "echo",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (e,): (self::Everything,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::echo(&*handler, cx, e).await;
                                                (results,)
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "area",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (s,): (self::Shape,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::area(&*handler, cx, s).await;
                                                (results,)
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "paint",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                points,
                                                color,
                                                bytes,
                                                name,
                                            ): (
                                                ::std::vec::Vec<self::Point>,
                                                self::Color,
                                                ::provider_sdk::__private::Bytes,
                                                ::std::string::String,
                                            )|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::paint(
                                                        &*handler,
                                                        cx,
                                                        points,
                                                        color,
                                                        bytes,
                                                        name,
                                                    )
                                                    .await;
                                                (results,)
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "flags-of",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (s,): (self::Small,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::flags_of(&*handler, cx, s).await;
                                                (results,)
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "nothing",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (): ()|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::nothing(&*handler, cx).await;
                                                ()
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:types/types@0.1.0",
                                        "named-results",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (a,): (u32,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::named_results(&*handler, cx, a)
                                                    .await;
                                                results
                                            }
                                        },
                                    )
                                    .await?,
                            );
                    }
                    ::core::result::Result::Ok(serving)
                }
            }
        }
    }
}
#[allow(clippy::all, dead_code, missing_docs, unused_imports)]
pub mod test {
    #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
    pub mod types {
        /// Types, with their docs.
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod types {
            /// A point.
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq
            )]
            pub struct Point {
                /// Across.
                pub x: i32,
                /// Down.
                pub y: i32,
            }
            impl ::provider_sdk::__private::Encode for Point {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.x)?;
                    w.write_field(1, self.y)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Point {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.x)?;
                    w.write_field(1, &self.y)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Point {
                const MIN_SIZE: usize = 2;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self {
                        x: r.read_field(0)?,
                        y: r.read_field(1)?,
                    })
                }
            }
            /// Keyword names get a trailing underscore.
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
            pub struct Keywords {
                pub type_: ::std::string::String,
                pub self_: bool,
                pub match_: ::provider_sdk::__private::Bytes,
            }
            impl ::provider_sdk::__private::Encode for Keywords {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.type_)?;
                    w.write_field(1, self.self_)?;
                    w.write_field(2, self.match_)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Keywords {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.type_)?;
                    w.write_field(1, &self.self_)?;
                    w.write_field(2, &self.match_)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Keywords {
                const MIN_SIZE: usize = 3;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self {
                        type_: r.read_field(0)?,
                        self_: r.read_field(1)?,
                        match_: r.read_field(2)?,
                    })
                }
            }
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq
            )]
            pub enum Shape {
                /// A circle of this radius.
                Circle(f64),
                Rectangle(self::Point),
                Nothing,
            }
            impl ::provider_sdk::__private::Encode for Shape {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    match self {
                        Shape::Circle(payload) => {
                            w.write_case(0);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Shape::Rectangle(payload) => {
                            w.write_case(1);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Shape::Nothing => {
                            w.write_case(2);
                            ::core::result::Result::Ok(())
                        }
                    }
                }
            }
            impl ::provider_sdk::__private::Encode for &Shape {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    match self {
                        Shape::Circle(payload) => {
                            w.write_case(0);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Shape::Rectangle(payload) => {
                            w.write_case(1);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Shape::Nothing => {
                            w.write_case(2);
                            ::core::result::Result::Ok(())
                        }
                    }
                }
            }
            impl ::provider_sdk::__private::Decode for Shape {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(
                        match r.read_case("shape", 3)? {
                            0 => {
                                Shape::Circle(
                                    <f64 as ::provider_sdk::__private::Decode>::decode(r)?,
                                )
                            }
                            1 => {
                                Shape::Rectangle(
                                    <self::Point as ::provider_sdk::__private::Decode>::decode(
                                        r,
                                    )?,
                                )
                            }
                            _ => Shape::Nothing,
                        },
                    )
                }
            }
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq,
                ::core::cmp::Eq,
                ::core::hash::Hash,
                ::core::cmp::PartialOrd,
                ::core::cmp::Ord
            )]
            pub enum Color {
                Red,
                Green,
                Blue,
            }
            impl ::provider_sdk::__private::Encode for Color {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_case(self as u32);
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Color {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    ::provider_sdk::__private::Encode::encode(*self, w)
                }
            }
            impl ::provider_sdk::__private::Decode for Color {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(
                        match r.read_case("color", 3)? {
                            0 => Color::Red,
                            1 => Color::Green,
                            _ => Color::Blue,
                        },
                    )
                }
            }
            ::provider_sdk::__private::bitflags::bitflags! {
                #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy,
                ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
                ::core::cmp::PartialOrd, ::core::cmp::Ord)] pub struct Small : u8 { const
                READ = 1 << 0; const WRITE = 1 << 1; }
            }
            impl ::provider_sdk::__private::Encode for Small {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_flags(::core::primitive::u128::from(self.bits()), 2);
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Small {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    ::provider_sdk::__private::Encode::encode(*self, w)
                }
            }
            impl ::provider_sdk::__private::Decode for Small {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    let bits = r.read_flags("small", 2)?;
                    ::core::result::Result::Ok(Self::from_bits_retain(bits as u8))
                }
            }
            ::provider_sdk::__private::bitflags::bitflags! {
                #[doc = " 20 flags: three bytes on the wire."]
                #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy,
                ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
                ::core::cmp::PartialOrd, ::core::cmp::Ord)] pub struct Twenty : u32 {
                const F0 = 1 << 0; const F1 = 1 << 1; const F2 = 1 << 2; const F3 = 1 <<
                3; const F4 = 1 << 4; const F5 = 1 << 5; const F6 = 1 << 6; const F7 = 1
                << 7; const F8 = 1 << 8; const F9 = 1 << 9; const F10 = 1 << 10; const
                F11 = 1 << 11; const F12 = 1 << 12; const F13 = 1 << 13; const F14 = 1 <<
                14; const F15 = 1 << 15; const F16 = 1 << 16; const F17 = 1 << 17; const
                F18 = 1 << 18; const F19 = 1 << 19; }
            }
            impl ::provider_sdk::__private::Encode for Twenty {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_flags(::core::primitive::u128::from(self.bits()), 20);
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Twenty {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    ::provider_sdk::__private::Encode::encode(*self, w)
                }
            }
            impl ::provider_sdk::__private::Decode for Twenty {
                const MIN_SIZE: usize = 3;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    let bits = r.read_flags("twenty", 20)?;
                    ::core::result::Result::Ok(Self::from_bits_retain(bits as u32))
                }
            }
            pub type PointList = ::std::vec::Vec<self::Point>;
            pub type Pair = (u8, ::std::string::String);
            pub type Maybe = ::core::option::Option<::std::string::String>;
            pub type Outcome = ::core::result::Result<u64, ::std::string::String>;
            pub type NothingOrError = ::core::result::Result<(), self::Color>;
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
            pub struct Everything {
                pub a: bool,
                pub b: u8,
                pub c: u16,
                pub d: u32,
                pub e: u64,
                pub f: i8,
                pub g: i16,
                pub h: i32,
                pub i: i64,
                pub j: f32,
                pub k: f64,
                pub l: char,
                pub m: ::std::string::String,
                pub n: ::provider_sdk::__private::Bytes,
                pub o: ::std::vec::Vec<::provider_sdk::__private::Bytes>,
                pub p: ::core::option::Option<self::Point>,
                pub q: ::core::result::Result<self::Shape, ::std::string::String>,
                pub r: (self::Color, self::Small),
                pub s: self::Twenty,
                pub t: self::PointList,
                pub u: self::Pair,
                pub v: self::Maybe,
                pub w: self::Outcome,
                pub x: self::NothingOrError,
            }
            impl ::provider_sdk::__private::Encode for Everything {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.a)?;
                    w.write_field(1, self.b)?;
                    w.write_field(2, self.c)?;
                    w.write_field(3, self.d)?;
                    w.write_field(4, self.e)?;
                    w.write_field(5, self.f)?;
                    w.write_field(6, self.g)?;
                    w.write_field(7, self.h)?;
                    w.write_field(8, self.i)?;
                    w.write_field(9, self.j)?;
                    w.write_field(10, self.k)?;
                    w.write_field(11, self.l)?;
                    w.write_field(12, self.m)?;
                    w.write_field(13, self.n)?;
                    w.write_field(14, self.o)?;
                    w.write_field(15, self.p)?;
                    w.write_field(16, self.q)?;
                    w.write_field(17, self.r)?;
                    w.write_field(18, self.s)?;
                    w.write_field(19, self.t)?;
                    w.write_field(20, self.u)?;
                    w.write_field(21, self.v)?;
                    w.write_field(22, self.w)?;
                    w.write_field(23, self.x)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Everything {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.a)?;
                    w.write_field(1, &self.b)?;
                    w.write_field(2, &self.c)?;
                    w.write_field(3, &self.d)?;
                    w.write_field(4, &self.e)?;
                    w.write_field(5, &self.f)?;
                    w.write_field(6, &self.g)?;
                    w.write_field(7, &self.h)?;
                    w.write_field(8, &self.i)?;
                    w.write_field(9, &self.j)?;
                    w.write_field(10, &self.k)?;
                    w.write_field(11, &self.l)?;
                    w.write_field(12, &self.m)?;
                    w.write_field(13, &self.n)?;
                    w.write_field(14, &self.o)?;
                    w.write_field(15, &self.p)?;
                    w.write_field(16, &self.q)?;
                    w.write_field(17, &self.r)?;
                    w.write_field(18, &self.s)?;
                    w.write_field(19, &self.t)?;
                    w.write_field(20, &self.u)?;
                    w.write_field(21, &self.v)?;
                    w.write_field(22, &self.w)?;
                    w.write_field(23, &self.x)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Everything {
                const MIN_SIZE: usize = 38;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self {
                        a: r.read_field(0)?,
                        b: r.read_field(1)?,
                        c: r.read_field(2)?,
                        d: r.read_field(3)?,
                        e: r.read_field(4)?,
                        f: r.read_field(5)?,
                        g: r.read_field(6)?,
                        h: r.read_field(7)?,
                        i: r.read_field(8)?,
                        j: r.read_field(9)?,
                        k: r.read_field(10)?,
                        l: r.read_field(11)?,
                        m: r.read_field(12)?,
                        n: r.read_field(13)?,
                        o: r.read_field(14)?,
                        p: r.read_field(15)?,
                        q: r.read_field(16)?,
                        r: r.read_field(17)?,
                        s: r.read_field(18)?,
                        t: r.read_field(19)?,
                        u: r.read_field(20)?,
                        v: r.read_field(21)?,
                        w: r.read_field(22)?,
                        x: r.read_field(23)?,
                    })
                }
            }
            /// Calls `echo` of `test:types/types@0.1.0` through `client`.
            pub async fn echo(
                client: &::provider_sdk::__private::Client,
                e: &self::Everything,
            ) -> ::provider_sdk::__private::Result<self::Everything> {
                let results: (self::Everything,) = client
                    .invoke("test:types/types@0.1.0", "echo", (e,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `area` of `test:types/types@0.1.0` through `client`.
            pub async fn area(
                client: &::provider_sdk::__private::Client,
                s: &self::Shape,
            ) -> ::provider_sdk::__private::Result<f64> {
                let results: (f64,) = client
                    .invoke("test:types/types@0.1.0", "area", (s,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `paint` of `test:types/types@0.1.0` through `client`.
            pub async fn paint(
                client: &::provider_sdk::__private::Client,
                points: &[self::Point],
                color: self::Color,
                bytes: &[u8],
                name: &str,
            ) -> ::provider_sdk::__private::Result<
                ::core::result::Result<u32, ::std::string::String>,
            > {
                let results: (::core::result::Result<u32, ::std::string::String>,) = client
                    .invoke(
                        "test:types/types@0.1.0",
                        "paint",
                        (
                            points,
                            color,
                            ::provider_sdk::__private::ByteSlice(bytes),
                            name,
                        ),
                    )
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `flags-of` of `test:types/types@0.1.0` through `client`.
            pub async fn flags_of(
                client: &::provider_sdk::__private::Client,
                s: self::Small,
            ) -> ::provider_sdk::__private::Result<self::Twenty> {
                let results: (self::Twenty,) = client
                    .invoke("test:types/types@0.1.0", "flags-of", (s,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `nothing` of `test:types/types@0.1.0` through `client`.
            pub async fn nothing(
                client: &::provider_sdk::__private::Client,
            ) -> ::provider_sdk::__private::Result<()> {
                let (): () = client
                    .invoke("test:types/types@0.1.0", "nothing", ())
                    .await?;
                ::core::result::Result::Ok(())
            }
            /// Calls `named-results` of `test:types/types@0.1.0` through `client`.
            pub async fn named_results(
                client: &::provider_sdk::__private::Client,
                a: u32,
            ) -> ::provider_sdk::__private::Result<(u64, ::std::string::String)> {
                let results: (u64, ::std::string::String) = client
                    .invoke("test:types/types@0.1.0", "named-results", (a,))
                    .await?;
                ::core::result::Result::Ok(results)
            }
        }
    }
}
