/// Serves every export of the world `collisions` on `server`, with one handler for all of them.
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
    H: exports::test::collisions::first::Handler<Ctx>
        + exports::test::collisions::first::ThingHandler<Ctx>
        + exports::test::collisions::second::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::collisions::first::serve_shared(
                    server,
                    ::std::sync::Arc::clone(&handler),
                )
                .await?,
        );
    serving
        .merge(
            exports::test::collisions::second::serve_shared(
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
        pub mod collisions {
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod first {
                /// Named like the generic parameters of `Handler<Ctx>` and `serve<Ctx, H>`.
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq
                )]
                pub struct Ctx {
                    pub a: u32,
                }
                impl ::provider_sdk::__private::Encode for Ctx {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.a)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &Ctx {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, &self.a)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for Ctx {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self { a: r.read_field(0)? })
                    }
                }
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq
                )]
                pub struct H {
                    pub b: u32,
                }
                impl ::provider_sdk::__private::Encode for H {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, self.b)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Encode for &H {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        w.write_field(0, &self.b)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::provider_sdk::__private::Decode for H {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self { b: r.read_field(0)? })
                    }
                }
                ///
                /// A resource: its handles are `ResourceOwn<Self>` and `ResourceBorrow<Self>`.
                #[derive(Debug)]
                pub enum Thing {}
                /// Serves the functions of `test:collisions/first`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn get(
                        &self,
                        cx: Ctx,
                        c: self::Ctx,
                        h: self::H,
                    ) -> impl ::core::future::Future<
                        Output = self::Ctx,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn get(
                        &self,
                        cx: Ctx,
                        c: self::Ctx,
                        h: self::H,
                    ) -> impl ::core::future::Future<
                        Output = self::Ctx,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::get(&**self, cx, c, h)
                    }
                }
                /// Serves the resource `thing` of `test:collisions/first`: its constructor, methods and static functions.
                pub trait ThingHandler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn constructor(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    > + ::core::marker::Send;
                    /// A static named like the constructor's Rust name: the constructor becomes `constructor`.
                    fn new(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    > + ::core::marker::Send;
                    /// A param named like a method's receiver.
                    fn with_this(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Thing>,
                        this_: u32,
                        cx_: u32,
                        handler_: u32,
                        results_: u32,
                    ) -> impl ::core::future::Future<
                        Output = u32,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: ThingHandler<Ctx>> ThingHandler<Ctx>
                for ::std::sync::Arc<H> {
                    fn constructor(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    > + ::core::marker::Send {
                        <H as ThingHandler<Ctx>>::constructor(&**self, cx)
                    }
                    fn new(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    > + ::core::marker::Send {
                        <H as ThingHandler<Ctx>>::new(&**self, cx)
                    }
                    fn with_this(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Thing>,
                        this_: u32,
                        cx_: u32,
                        handler_: u32,
                        results_: u32,
                    ) -> impl ::core::future::Future<
                        Output = u32,
                    > + ::core::marker::Send {
                        <H as ThingHandler<
                            Ctx,
                        >>::with_this(&**self, cx, this, this_, cx_, handler_, results_)
                    }
                }
                /// Serves every function of `test:collisions/first` on `server`, handing each invocation to `handler`.
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
                    H: Handler<Ctx> + ThingHandler<Ctx>,
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
                    H: Handler<Ctx> + ThingHandler<Ctx>,
                {
                    let mut serving = ::provider_sdk::__private::Serving::default();
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:collisions/first",
                                        "get",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (c, h): (self::Ctx, self::H)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::get(&*handler, cx, c, h).await;
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
                                        "test:collisions/first",
                                        "thing",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (): ()|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = ThingHandler::constructor(&*handler, cx)
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
                                        "test:collisions/first",
                                        "thing.new",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (): ()|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = ThingHandler::new(&*handler, cx).await;
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
                                        "test:collisions/first",
                                        "thing.with-this",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                this,
                                                this_,
                                                cx_,
                                                handler_,
                                                results_,
                                            ): (
                                                ::provider_sdk::__private::ResourceBorrow<self::Thing>,
                                                u32,
                                                u32,
                                                u32,
                                                u32,
                                            )|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = ThingHandler::with_this(
                                                        &*handler,
                                                        cx,
                                                        this,
                                                        this_,
                                                        cx_,
                                                        handler_,
                                                        results_,
                                                    )
                                                    .await;
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
            /// The same function names as `first`.
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod second {
                /// Serves the functions of `test:collisions/second`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn get(
                        &self,
                        cx: Ctx,
                        client: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = u32,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn get(
                        &self,
                        cx: Ctx,
                        client: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = u32,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::get(&**self, cx, client)
                    }
                }
                /// Serves every function of `test:collisions/second` on `server`, handing each invocation to `handler`.
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
                                        "test:collisions/second",
                                        "get",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (client,): (::std::string::String,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::get(&*handler, cx, client).await;
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
    pub mod collisions {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod first {
            /// Named like the generic parameters of `Handler<Ctx>` and `serve<Ctx, H>`.
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq
            )]
            pub struct Ctx {
                pub a: u32,
            }
            impl ::provider_sdk::__private::Encode for Ctx {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.a)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Ctx {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.a)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Ctx {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self { a: r.read_field(0)? })
                }
            }
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq
            )]
            pub struct H {
                pub b: u32,
            }
            impl ::provider_sdk::__private::Encode for H {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.b)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &H {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.b)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for H {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self { b: r.read_field(0)? })
                }
            }
            ///
            /// A resource: its handles are `ResourceOwn<Self>` and `ResourceBorrow<Self>`.
            #[derive(Debug)]
            pub enum Thing {}
            /// Calls `get` of `test:collisions/first` through `client`.
            pub async fn get(
                client: &::provider_sdk::__private::Client,
                c: &self::Ctx,
                h: &self::H,
            ) -> ::provider_sdk::__private::Result<self::Ctx> {
                let results: (self::Ctx,) = client
                    .invoke("test:collisions/first", "get", (c, h))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            impl self::Thing {
                /// Calls `[constructor]thing` of `test:collisions/first` through `client`.
                pub async fn constructor(
                    client: &::provider_sdk::__private::Client,
                ) -> ::provider_sdk::__private::Result<
                    ::provider_sdk::__private::ResourceOwn<self::Thing>,
                > {
                    let results: (
                        ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    ) = client.invoke("test:collisions/first", "thing", ()).await?;
                    ::core::result::Result::Ok(results.0)
                }
                /// A static named like the constructor's Rust name: the constructor becomes `constructor`.
                ///
                /// Calls `[static]thing.new` of `test:collisions/first` through `client`.
                pub async fn new(
                    client: &::provider_sdk::__private::Client,
                ) -> ::provider_sdk::__private::Result<
                    ::provider_sdk::__private::ResourceOwn<self::Thing>,
                > {
                    let results: (
                        ::provider_sdk::__private::ResourceOwn<self::Thing>,
                    ) = client.invoke("test:collisions/first", "thing.new", ()).await?;
                    ::core::result::Result::Ok(results.0)
                }
                /// A param named like a method's receiver.
                ///
                /// Calls `[method]thing.with-this` of `test:collisions/first` through `client`.
                pub async fn with_this(
                    client: &::provider_sdk::__private::Client,
                    this: ::provider_sdk::__private::ResourceBorrow<self::Thing>,
                    this_: u32,
                    cx: u32,
                    handler: u32,
                    results_: u32,
                ) -> ::provider_sdk::__private::Result<u32> {
                    let results: (u32,) = client
                        .invoke(
                            "test:collisions/first",
                            "thing.with-this",
                            (this, this_, cx, handler, results_),
                        )
                        .await?;
                    ::core::result::Result::Ok(results.0)
                }
            }
        }
        /// The same function names as `first`.
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod second {
            /// Calls `get` of `test:collisions/second` through `client`.
            pub async fn get(
                client: &::provider_sdk::__private::Client,
                client_: &str,
            ) -> ::provider_sdk::__private::Result<u32> {
                let results: (u32,) = client
                    .invoke("test:collisions/second", "get", (client_,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
        }
    }
}
