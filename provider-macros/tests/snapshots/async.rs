/// Serves every export of the world `async` on `server`, with one handler for all of them.
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
    H: exports::test::async_::streams::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::async_::streams::serve_shared(
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
        pub mod async_ {
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod streams {
                #[derive(::core::fmt::Debug)]
                pub struct Upload {
                    pub name: ::std::string::String,
                    pub data: ::provider_sdk::__private::ByteStream,
                }
                impl ::provider_sdk::__private::Encode for Upload {
                    const ASYNC: bool = true;
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.name)?;
                        w.write_field(1, self.data)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for Upload {
                    const MIN_SIZE: usize = 2;
                    const ASYNC: bool = true;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self {
                            name: r.read_field(0)?,
                            data: r.read_field(1)?,
                        })
                    }
                }
                #[derive(::core::fmt::Debug)]
                pub enum Event {
                    Tick(u64),
                    Batch(::provider_sdk::__private::WitStream<::std::string::String>),
                    Done,
                }
                impl ::provider_sdk::__private::Encode for Event {
                    const ASYNC: bool = true;
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        match self {
                            Event::Tick(payload) => {
                                w.write_case(0);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Event::Batch(payload) => {
                                w.write_case(1);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                            Event::Done => {
                                w.write_case(2);
                                ::core::result::Result::Ok(())
                            }
                        }
                    }
                }
                impl ::provider_sdk::__private::Decode for Event {
                    const MIN_SIZE: usize = 1;
                    const ASYNC: bool = true;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(
                            match r.read_case("event", 3)? {
                                0 => {
                                    Event::Tick(
                                        <u64 as ::provider_sdk::__private::Decode>::decode(r)?,
                                    )
                                }
                                1 => {
                                    Event::Batch(
                                        <::provider_sdk::__private::WitStream<
                                            ::std::string::String,
                                        > as ::provider_sdk::__private::Decode>::decode(r)?,
                                    )
                                }
                                _ => Event::Done,
                            },
                        )
                    }
                }
                /// Serves the functions of `test:async/streams`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn count(
                        &self,
                        cx: Ctx,
                        n: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<u32>,
                    > + ::core::marker::Send;
                    fn sum(
                        &self,
                        cx: Ctx,
                        numbers: ::provider_sdk::__private::WitStream<u32>,
                    ) -> impl ::core::future::Future<
                        Output = u64,
                    > + ::core::marker::Send;
                    fn bytes(
                        &self,
                        cx: Ctx,
                        len: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ByteStream,
                    > + ::core::marker::Send;
                    fn store(
                        &self,
                        cx: Ctx,
                        u: self::Upload,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitFuture<
                            ::core::result::Result<u64, ::std::string::String>,
                        >,
                    > + ::core::marker::Send;
                    fn events(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<self::Event>,
                    > + ::core::marker::Send;
                    fn later(
                        &self,
                        cx: Ctx,
                        v: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitFuture<u32>,
                    > + ::core::marker::Send;
                    fn signal(
                        &self,
                        cx: Ctx,
                        f: ::provider_sdk::__private::WitFuture<()>,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<()>,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn count(
                        &self,
                        cx: Ctx,
                        n: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<u32>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::count(&**self, cx, n)
                    }
                    fn sum(
                        &self,
                        cx: Ctx,
                        numbers: ::provider_sdk::__private::WitStream<u32>,
                    ) -> impl ::core::future::Future<
                        Output = u64,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::sum(&**self, cx, numbers)
                    }
                    fn bytes(
                        &self,
                        cx: Ctx,
                        len: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ByteStream,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::bytes(&**self, cx, len)
                    }
                    fn store(
                        &self,
                        cx: Ctx,
                        u: self::Upload,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitFuture<
                            ::core::result::Result<u64, ::std::string::String>,
                        >,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::store(&**self, cx, u)
                    }
                    fn events(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<self::Event>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::events(&**self, cx)
                    }
                    fn later(
                        &self,
                        cx: Ctx,
                        v: u32,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitFuture<u32>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::later(&**self, cx, v)
                    }
                    fn signal(
                        &self,
                        cx: Ctx,
                        f: ::provider_sdk::__private::WitFuture<()>,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::WitStream<()>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::signal(&**self, cx, f)
                    }
                }
                /// Serves every function of `test:async/streams` on `server`, handing each invocation to `handler`.
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
                                        "test:async/streams",
                                        "count",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (n,): (u32,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::count(&*handler, cx, n).await;
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
                                        "test:async/streams",
                                        "sum",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (numbers,): (::provider_sdk::__private::WitStream<u32>,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::sum(&*handler, cx, numbers).await;
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
                                        "test:async/streams",
                                        "bytes",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (len,): (u32,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::bytes(&*handler, cx, len).await;
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
                                        "test:async/streams",
                                        "store",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (u,): (self::Upload,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::store(&*handler, cx, u).await;
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
                                        "test:async/streams",
                                        "events",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (): ()|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::events(&*handler, cx).await;
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
                                        "test:async/streams",
                                        "later",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (v,): (u32,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::later(&*handler, cx, v).await;
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
                                        "test:async/streams",
                                        "signal",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (f,): (::provider_sdk::__private::WitFuture<()>,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::signal(&*handler, cx, f).await;
                                                (results,)
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
    pub mod async_ {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod streams {
            #[derive(::core::fmt::Debug)]
            pub struct Upload {
                pub name: ::std::string::String,
                pub data: ::provider_sdk::__private::ByteStream,
            }
            impl ::provider_sdk::__private::Encode for Upload {
                const ASYNC: bool = true;
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.name)?;
                    w.write_field(1, self.data)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Upload {
                const MIN_SIZE: usize = 2;
                const ASYNC: bool = true;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self {
                        name: r.read_field(0)?,
                        data: r.read_field(1)?,
                    })
                }
            }
            #[derive(::core::fmt::Debug)]
            pub enum Event {
                Tick(u64),
                Batch(::provider_sdk::__private::WitStream<::std::string::String>),
                Done,
            }
            impl ::provider_sdk::__private::Encode for Event {
                const ASYNC: bool = true;
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    match self {
                        Event::Tick(payload) => {
                            w.write_case(0);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Event::Batch(payload) => {
                            w.write_case(1);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                        Event::Done => {
                            w.write_case(2);
                            ::core::result::Result::Ok(())
                        }
                    }
                }
            }
            impl ::provider_sdk::__private::Decode for Event {
                const MIN_SIZE: usize = 1;
                const ASYNC: bool = true;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(
                        match r.read_case("event", 3)? {
                            0 => {
                                Event::Tick(
                                    <u64 as ::provider_sdk::__private::Decode>::decode(r)?,
                                )
                            }
                            1 => {
                                Event::Batch(
                                    <::provider_sdk::__private::WitStream<
                                        ::std::string::String,
                                    > as ::provider_sdk::__private::Decode>::decode(r)?,
                                )
                            }
                            _ => Event::Done,
                        },
                    )
                }
            }
            /// Calls `count` of `test:async/streams` through `client`.
            pub async fn count(
                client: &::provider_sdk::__private::Client,
                n: u32,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::WitStream<u32>,
            > {
                let results: (::provider_sdk::__private::WitStream<u32>,) = client
                    .invoke("test:async/streams", "count", (n,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `sum` of `test:async/streams` through `client`.
            pub async fn sum(
                client: &::provider_sdk::__private::Client,
                numbers: ::provider_sdk::__private::WitStream<u32>,
            ) -> ::provider_sdk::__private::Result<u64> {
                let results: (u64,) = client
                    .invoke("test:async/streams", "sum", (numbers,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `bytes` of `test:async/streams` through `client`.
            pub async fn bytes(
                client: &::provider_sdk::__private::Client,
                len: u32,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::ByteStream,
            > {
                let results: (::provider_sdk::__private::ByteStream,) = client
                    .invoke("test:async/streams", "bytes", (len,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `store` of `test:async/streams` through `client`.
            pub async fn store(
                client: &::provider_sdk::__private::Client,
                u: self::Upload,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::WitFuture<
                    ::core::result::Result<u64, ::std::string::String>,
                >,
            > {
                let results: (
                    ::provider_sdk::__private::WitFuture<
                        ::core::result::Result<u64, ::std::string::String>,
                    >,
                ) = client.invoke("test:async/streams", "store", (u,)).await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `events` of `test:async/streams` through `client`.
            pub async fn events(
                client: &::provider_sdk::__private::Client,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::WitStream<self::Event>,
            > {
                let results: (::provider_sdk::__private::WitStream<self::Event>,) = client
                    .invoke("test:async/streams", "events", ())
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `later` of `test:async/streams` through `client`.
            pub async fn later(
                client: &::provider_sdk::__private::Client,
                v: u32,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::WitFuture<u32>,
            > {
                let results: (::provider_sdk::__private::WitFuture<u32>,) = client
                    .invoke("test:async/streams", "later", (v,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `signal` of `test:async/streams` through `client`.
            pub async fn signal(
                client: &::provider_sdk::__private::Client,
                f: ::provider_sdk::__private::WitFuture<()>,
            ) -> ::provider_sdk::__private::Result<
                ::provider_sdk::__private::WitStream<()>,
            > {
                let results: (::provider_sdk::__private::WitStream<()>,) = client
                    .invoke("test:async/streams", "signal", (f,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
        }
    }
}
