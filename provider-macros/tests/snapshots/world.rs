/// A type of the world itself.
#[allow(dead_code, missing_docs, clippy::all)]
#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
pub struct Config {
    pub name: ::std::string::String,
}
#[allow(dead_code, missing_docs, clippy::all)]
impl ::provider_sdk::__private::Encode for Config {
    fn encode(
        self,
        w: &mut ::provider_sdk::__private::Writer,
    ) -> ::provider_sdk::__private::Result<()> {
        w.write_field(0, self.name)?;
        ::core::result::Result::Ok(())
    }
}
#[allow(dead_code, missing_docs, clippy::all)]
impl ::provider_sdk::__private::Encode for &Config {
    fn encode(
        self,
        w: &mut ::provider_sdk::__private::Writer,
    ) -> ::provider_sdk::__private::Result<()> {
        w.write_field(0, &self.name)?;
        ::core::result::Result::Ok(())
    }
}
#[allow(dead_code, missing_docs, clippy::all)]
impl ::provider_sdk::__private::Decode for Config {
    const MIN_SIZE: usize = 1;
    fn decode(
        r: &mut ::provider_sdk::__private::Reader<'_>,
    ) -> ::provider_sdk::__private::Result<Self> {
        ::core::result::Result::Ok(Self { name: r.read_field(0)? })
    }
}
/// Calls `log` of `test:world/world@2.0.0` through `client`.
#[allow(dead_code, missing_docs, clippy::all)]
pub async fn log(
    client: &::provider_sdk::__private::Client,
    message: &str,
) -> ::provider_sdk::__private::Result<()> {
    let (): () = client.invoke("test:world/world@2.0.0", "log", (message,)).await?;
    ::core::result::Result::Ok(())
}
/// Serves the functions of the world.
#[allow(dead_code, missing_docs, clippy::all)]
pub trait Handler<Ctx>: ::core::marker::Send + ::core::marker::Sync + 'static {
    fn configure(
        &self,
        cx: Ctx,
        c: self::Config,
    ) -> impl ::core::future::Future<Output = bool> + ::core::marker::Send;
}
/// A shared handler serves as the handler it shares.
#[allow(dead_code, missing_docs, clippy::all)]
impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
    fn configure(
        &self,
        cx: Ctx,
        c: self::Config,
    ) -> impl ::core::future::Future<Output = bool> + ::core::marker::Send {
        <H as Handler<Ctx>>::configure(&**self, cx, c)
    }
}
/// Serves every export of the world `world` on `server`, with one handler for all of them.
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
    H: exports::counter::Handler<Ctx> + Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::counter::serve_shared(server, ::std::sync::Arc::clone(&handler))
                .await?,
        );
    {
        let handler = ::std::sync::Arc::clone(&handler);
        serving
            .merge(
                server
                    .serve_fn(
                        "test:world/world@2.0.0",
                        "configure",
                        move |
                            cx: ::provider_sdk::__private::InvocationContext,
                            (c,): (self::Config,)|
                        {
                            let handler = ::std::sync::Arc::clone(&handler);
                            async move {
                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                    cx,
                                );
                                let results = Handler::configure(&*handler, cx, c).await;
                                (results,)
                            }
                        },
                    )
                    .await?,
            );
    }
    ::core::result::Result::Ok(serving)
}
#[allow(clippy::all, dead_code, missing_docs, unused_imports)]
pub mod clock {
    /// Calls `now` of `test:world/clock@2.0.0` through `client`.
    pub async fn now(
        client: &::provider_sdk::__private::Client,
    ) -> ::provider_sdk::__private::Result<u64> {
        let results: (u64,) = client.invoke("test:world/clock@2.0.0", "now", ()).await?;
        ::core::result::Result::Ok(results.0)
    }
}
#[allow(clippy::all, dead_code, missing_docs, unused_imports)]
pub mod exports {
    #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
    pub mod counter {
        /// Serves the functions of `test:world/counter@2.0.0`.
        pub trait Handler<Ctx>: ::core::marker::Send + ::core::marker::Sync + 'static {
            fn increment(
                &self,
                cx: Ctx,
                by: u32,
            ) -> impl ::core::future::Future<Output = u32> + ::core::marker::Send;
        }
        /// A shared handler serves as the handler it shares.
        impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
            fn increment(
                &self,
                cx: Ctx,
                by: u32,
            ) -> impl ::core::future::Future<Output = u32> + ::core::marker::Send {
                <H as Handler<Ctx>>::increment(&**self, cx, by)
            }
        }
        /// Serves every function of `test:world/counter@2.0.0` on `server`, handing each invocation to `handler`.
        ///
        /// Returns once every function is subscribed; dropping the returned handle stops
        /// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
        /// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
        pub async fn serve<Ctx, H>(
            server: &::provider_sdk::__private::Server,
            handler: H,
        ) -> ::provider_sdk::__private::Result<::provider_sdk::__private::Serving>
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
        ) -> ::provider_sdk::__private::Result<::provider_sdk::__private::Serving>
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
                                "test:world/counter@2.0.0",
                                "increment",
                                move |
                                    cx: ::provider_sdk::__private::InvocationContext,
                                    (by,): (u32,)|
                                {
                                    let handler = ::std::sync::Arc::clone(&handler);
                                    async move {
                                        let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                            cx,
                                        );
                                        let results = Handler::increment(&*handler, cx, by).await;
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
