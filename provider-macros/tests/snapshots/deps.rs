/// Serves every export of the world `uses-deps` on `server`, with one handler for all of them.
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
    H: exports::test::root::api::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::provider_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::root::api::serve_shared(
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
        pub mod root {
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod api {
                pub type Id = super::super::super::super::test::dep::types::Id;
                pub type Label = super::super::super::super::test::other::types::Label;
                /// Serves the functions of `test:root/api`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn lookup(
                        &self,
                        cx: Ctx,
                        id: self::Id,
                    ) -> impl ::core::future::Future<
                        Output = ::core::option::Option<self::Label>,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn lookup(
                        &self,
                        cx: Ctx,
                        id: self::Id,
                    ) -> impl ::core::future::Future<
                        Output = ::core::option::Option<self::Label>,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::lookup(&**self, cx, id)
                    }
                }
                /// Serves every function of `test:root/api` on `server`, handing each invocation to `handler`.
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
                                        "test:root/api",
                                        "lookup",
                                        move |
                                            cx: ::provider_sdk::__private::InvocationContext,
                                            (id,): (self::Id,)|
                                        {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::provider_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::lookup(&*handler, cx, id).await;
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
    pub mod dep {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod types {
            pub type Id = u64;
            /// Calls `describe` of `test:dep/types@1.0.0` through `client`.
            pub async fn describe(
                client: &::provider_sdk::__private::Client,
                id: self::Id,
            ) -> ::provider_sdk::__private::Result<::std::string::String> {
                let results: (::std::string::String,) = client
                    .invoke("test:dep/types@1.0.0", "describe", (id,))
                    .await?;
                ::core::result::Result::Ok(results.0)
            }
        }
    }
    #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
    pub mod other {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod types {
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
            pub struct Label {
                pub text: ::std::string::String,
            }
            impl ::provider_sdk::__private::Encode for Label {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, self.text)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Encode for &Label {
                fn encode(
                    self,
                    w: &mut ::provider_sdk::__private::Writer,
                ) -> ::provider_sdk::__private::Result<()> {
                    w.write_field(0, &self.text)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::provider_sdk::__private::Decode for Label {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::provider_sdk::__private::Reader<'_>,
                ) -> ::provider_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self { text: r.read_field(0)? })
                }
            }
        }
    }
}
