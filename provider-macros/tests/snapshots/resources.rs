/// Serves every export of the world `resources` on `server`, with one handler for all of them.
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
    H: exports::test::resources::store::Handler<Ctx>
        + exports::test::resources::store::BucketHandler<Ctx>
        + exports::test::resources::uses_store::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::resources::store::serve_shared(
                    server,
                    ::std::sync::Arc::clone(&handler),
                )
                .await?,
        );
    serving
        .merge(
            exports::test::resources::uses_store::serve_shared(
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
        pub mod resources {
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod store {
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::cmp::PartialEq
                )]
                pub enum Error {
                    NoSuchStore,
                    Other(::std::string::String),
                }
                impl ::provider_sdk::__private::Encode for Error {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        match self {
                            Error::NoSuchStore => {
                                w.write_case(0);
                                ::core::result::Result::Ok(())
                            }
                            Error::Other(payload) => {
                                w.write_case(1);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                        }
                    }
                }
                impl ::provider_sdk::__private::Encode for &Error {
                    fn encode(
                        self,
                        w: &mut ::provider_sdk::__private::Writer,
                    ) -> ::provider_sdk::__private::Result<()> {
                        match self {
                            Error::NoSuchStore => {
                                w.write_case(0);
                                ::core::result::Result::Ok(())
                            }
                            Error::Other(payload) => {
                                w.write_case(1);
                                ::provider_sdk::__private::Encode::encode(payload, w)
                            }
                        }
                    }
                }
                impl ::provider_sdk::__private::Decode for Error {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::provider_sdk::__private::Reader<'_>,
                    ) -> ::provider_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(
                            match r.read_case("error", 2)? {
                                0 => Error::NoSuchStore,
                                _ => {
                                    Error::Other(
                                        <::std::string::String as ::provider_sdk::__private::Decode>::decode(
                                            r,
                                        )?,
                                    )
                                }
                            },
                        )
                    }
                }
                /// A bucket of keys.
                ///
                /// A resource: its handles are `ResourceOwn<Self>` and `ResourceBorrow<Self>`.
                #[derive(Debug)]
                pub enum Bucket {}
                /// Serves the functions of `test:resources/store`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn open(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                            self::Error,
                        >,
                    > + ::core::marker::Send;
                    fn copy(
                        &self,
                        cx: Ctx,
                        from: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        to: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<(), self::Error>,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn open(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                            self::Error,
                        >,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::open(&**self, cx, name)
                    }
                    fn copy(
                        &self,
                        cx: Ctx,
                        from: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        to: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<(), self::Error>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::copy(&**self, cx, from, to, key)
                    }
                }
                /// Serves the resource `bucket` of `test:resources/store`: its constructor, methods and static functions.
                pub trait BucketHandler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    /// Opens a bucket.
                    fn new(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    > + ::core::marker::Send;
                    fn get(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::core::option::Option<::provider_sdk::__private::Bytes>,
                            self::Error,
                        >,
                    > + ::core::marker::Send;
                    fn set(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                        value: ::provider_sdk::__private::Bytes,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<(), self::Error>,
                    > + ::core::marker::Send;
                    fn open(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                            self::Error,
                        >,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: BucketHandler<Ctx>> BucketHandler<Ctx>
                for ::std::sync::Arc<H> {
                    fn new(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    > + ::core::marker::Send {
                        <H as BucketHandler<Ctx>>::new(&**self, cx, name)
                    }
                    fn get(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::core::option::Option<::provider_sdk::__private::Bytes>,
                            self::Error,
                        >,
                    > + ::core::marker::Send {
                        <H as BucketHandler<Ctx>>::get(&**self, cx, this, key)
                    }
                    fn set(
                        &self,
                        cx: Ctx,
                        this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                        key: ::std::string::String,
                        value: ::provider_sdk::__private::Bytes,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<(), self::Error>,
                    > + ::core::marker::Send {
                        <H as BucketHandler<Ctx>>::set(&**self, cx, this, key, value)
                    }
                    fn open(
                        &self,
                        cx: Ctx,
                        name: ::std::string::String,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<
                            ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                            self::Error,
                        >,
                    > + ::core::marker::Send {
                        <H as BucketHandler<Ctx>>::open(&**self, cx, name)
                    }
                }
                /// Serves every function of `test:resources/store` on `server`, handing each invocation to `handler`.
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
                    H: Handler<Ctx> + BucketHandler<Ctx>,
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
                    H: Handler<Ctx> + BucketHandler<Ctx>,
                {
                    let mut serving = ::provider_sdk::__private::Serving::default();
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:resources/store",
                                        "open",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (name,): (::std::string::String,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::open(&*handler, cx, name).await;
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
                                        "test:resources/store",
                                        "copy",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                from,
                                                to,
                                                key,
                                            ): (
                                                ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                                                ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                                                ::std::string::String,
                                            )|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::copy(&*handler, cx, from, to, key)
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
                                        "test:resources/store",
                                        "bucket",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (name,): (::std::string::String,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = BucketHandler::new(&*handler, cx, name).await;
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
                                        "test:resources/store",
                                        "bucket.get",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                this,
                                                key,
                                            ): (
                                                ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                                                ::std::string::String,
                                            )|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = BucketHandler::get(&*handler, cx, this, key)
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
                                        "test:resources/store",
                                        "bucket.set",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                this,
                                                key,
                                                value,
                                            ): (
                                                ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                                                ::std::string::String,
                                                ::provider_sdk::__private::Bytes,
                                            )|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = BucketHandler::set(
                                                        &*handler,
                                                        cx,
                                                        this,
                                                        key,
                                                        value,
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
                                        "test:resources/store",
                                        "bucket.open",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (name,): (::std::string::String,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = BucketHandler::open(&*handler, cx, name)
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
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod uses_store {
                pub type Bucket = super::super::super::super::exports::test::resources::store::Bucket;
                pub type Error = super::super::super::super::exports::test::resources::store::Error;
                /// Serves the functions of `test:resources/uses-store`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn drain(
                        &self,
                        cx: Ctx,
                        b: ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<u64, self::Error>,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn drain(
                        &self,
                        cx: Ctx,
                        b: ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<u64, self::Error>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::drain(&**self, cx, b)
                    }
                }
                /// Serves every function of `test:resources/uses-store` on `server`, handing each invocation to `handler`.
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
                                        "test:resources/uses-store",
                                        "drain",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (
                                                b,
                                            ): (::provider_sdk::__private::ResourceOwn<self::Bucket>,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::drain(&*handler, cx, b).await;
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
    pub mod resources {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod store {
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
            pub enum Error {
                NoSuchStore,
                Other(::std::string::String),
            }
            impl ::provider_sdk::__private::Encode for Error {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    match self {
                        Error::NoSuchStore => {
                            w.write_case(0);
                            ::core::result::Result::Ok(())
                        }
                        Error::Other(payload) => {
                            w.write_case(1);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                    }
                }
            }
            impl ::provider_sdk::__private::Encode for &Error {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    match self {
                        Error::NoSuchStore => {
                            w.write_case(0);
                            ::core::result::Result::Ok(())
                        }
                        Error::Other(payload) => {
                            w.write_case(1);
                            ::provider_sdk::__private::Encode::encode(payload, w)
                        }
                    }
                }
            }
            impl ::provider_sdk::__private::Decode for Error {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(
                        match r.read_case("error", 2)? {
                            0 => Error::NoSuchStore,
                            _ => {
                                Error::Other(
                                    <::std::string::String as ::provider_sdk::__private::Decode>::decode(
                                        r,
                                    )?,
                                )
                            }
                        },
                    )
                }
            }
            /// A bucket of keys.
            ///
            /// A resource: its handles are `ResourceOwn<Self>` and `ResourceBorrow<Self>`.
            #[derive(Debug)]
            pub enum Bucket {}
            /// Calls `open` of `test:resources/store` through `client`.
            pub async fn open(
                client: &::provider_sdk::__private::Client,
                name: &str,
            ) -> ::provider_sdk::__private::Result<
                ::core::result::Result<
                    ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    self::Error,
                >,
            > {
                let results: (
                    ::core::result::Result<
                        ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                        self::Error,
                    >,
                ) = client.invoke("test:resources/store", "open", (name,)).await?;
                ::core::result::Result::Ok(results.0)
            }
            /// Calls `copy` of `test:resources/store` through `client`.
            pub async fn copy(
                client: &::provider_sdk::__private::Client,
                from: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                to: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                key: &str,
            ) -> ::provider_sdk::__private::Result<
                ::core::result::Result<(), self::Error>,
            > {
                let results: (::core::result::Result<(), self::Error>,) = client
                    .invoke("test:resources/store", "copy", (from, to, key))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
            impl self::Bucket {
                /// Opens a bucket.
                ///
                /// Calls `[constructor]bucket` of `test:resources/store` through `client`.
                pub async fn new(
                    client: &::provider_sdk::__private::Client,
                    name: &str,
                ) -> ::provider_sdk::__private::Result<
                    ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                > {
                    let results: (
                        ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                    ) = client.invoke("test:resources/store", "bucket", (name,)).await?;
                    ::core::result::Result::Ok(results.0)
                }
                /// Calls `[method]bucket.get` of `test:resources/store` through `client`.
                pub async fn get(
                    client: &::provider_sdk::__private::Client,
                    this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                    key: &str,
                ) -> ::provider_sdk::__private::Result<
                    ::core::result::Result<
                        ::core::option::Option<::provider_sdk::__private::Bytes>,
                        self::Error,
                    >,
                > {
                    let results: (
                        ::core::result::Result<
                            ::core::option::Option<::provider_sdk::__private::Bytes>,
                            self::Error,
                        >,
                    ) = client
                        .invoke("test:resources/store", "bucket.get", (this, key))
                        .await?;
                    ::core::result::Result::Ok(results.0)
                }
                /// Calls `[method]bucket.set` of `test:resources/store` through `client`.
                pub async fn set(
                    client: &::provider_sdk::__private::Client,
                    this: ::provider_sdk::__private::ResourceBorrow<self::Bucket>,
                    key: &str,
                    value: &[u8],
                ) -> ::provider_sdk::__private::Result<
                    ::core::result::Result<(), self::Error>,
                > {
                    let results: (::core::result::Result<(), self::Error>,) = client
                        .invoke(
                            "test:resources/store",
                            "bucket.set",
                            (this, key, ::provider_sdk::__private::ByteSlice(value)),
                        )
                        .await?;
                    ::core::result::Result::Ok(results.0)
                }
                /// Calls `[static]bucket.open` of `test:resources/store` through `client`.
                pub async fn open(
                    client: &::provider_sdk::__private::Client,
                    name: &str,
                ) -> ::provider_sdk::__private::Result<
                    ::core::result::Result<
                        ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                        self::Error,
                    >,
                > {
                    let results: (
                        ::core::result::Result<
                            ::provider_sdk::__private::ResourceOwn<self::Bucket>,
                            self::Error,
                        >,
                    ) = client
                        .invoke("test:resources/store", "bucket.open", (name,))
                        .await?;
                    ::core::result::Result::Ok(results.0)
                }
            }
        }
    }
}
