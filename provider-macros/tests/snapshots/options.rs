/// Serves every export of the world `options` on `server`, with one handler for all of them.
///
/// Returns once every function is subscribed; dropping the returned handle stops
/// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
/// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
#[allow(dead_code, missing_docs, clippy::all)]
pub async fn serve<Ctx, H>(
    server: &::my_sdk::__private::Server,
    handler: H,
) -> ::my_sdk::__private::Result<::my_sdk::__private::Serving>
where
    Ctx: ::my_sdk::__private::FromInvocation,
    H: exports::test::options::served::Handler<Ctx>,
{
    let handler = ::std::sync::Arc::new(handler);
    let mut serving = ::my_sdk::__private::Serving::default();
    serving
        .merge(
            exports::test::options::served::serve_shared(
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
        pub mod options {
            #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
            pub mod served {
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq,
                    Eq,
                    serde::Serialize
                )]
                pub struct Settings {
                    pub level: u8,
                }
                impl ::my_sdk::__private::Encode for Settings {
                    fn encode(
                        self,
                        w: &mut ::my_sdk::__private::Writer,
                    ) -> ::my_sdk::__private::Result<()> {
                        w.write_field(0, self.level)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::my_sdk::__private::Encode for &Settings {
                    fn encode(
                        self,
                        w: &mut ::my_sdk::__private::Writer,
                    ) -> ::my_sdk::__private::Result<()> {
                        w.write_field(0, &self.level)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::my_sdk::__private::Decode for Settings {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::my_sdk::__private::Reader<'_>,
                    ) -> ::my_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self { level: r.read_field(0)? })
                    }
                }
                /// Serves the functions of `test:options/served`.
                pub trait Handler<
                    Ctx,
                >: ::core::marker::Send + ::core::marker::Sync + 'static {
                    fn get(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = self::Settings,
                    > + ::core::marker::Send;
                }
                /// A shared handler serves as the handler it shares.
                impl<Ctx, H: Handler<Ctx>> Handler<Ctx> for ::std::sync::Arc<H> {
                    fn get(
                        &self,
                        cx: Ctx,
                    ) -> impl ::core::future::Future<
                        Output = self::Settings,
                    > + ::core::marker::Send {
                        <H as Handler<Ctx>>::get(&**self, cx)
                    }
                }
                /// Serves every function of `test:options/served` on `server`, handing each invocation to `handler`.
                ///
                /// Returns once every function is subscribed; dropping the returned handle stops
                /// serving them. `Ctx` is inferred from the handler's trait impls; if they are generic
                /// over it, name one: `serve::<InvocationContext, _>(server, handler)`.
                pub async fn serve<Ctx, H>(
                    server: &::my_sdk::__private::Server,
                    handler: H,
                ) -> ::my_sdk::__private::Result<::my_sdk::__private::Serving>
                where
                    Ctx: ::my_sdk::__private::FromInvocation,
                    H: Handler<Ctx>,
                {
                    serve_shared(server, ::std::sync::Arc::new(handler)).await
                }
                /// Like [`serve`], for a handler shared with other interfaces.
                pub async fn serve_shared<Ctx, H>(
                    server: &::my_sdk::__private::Server,
                    handler: ::std::sync::Arc<H>,
                ) -> ::my_sdk::__private::Result<::my_sdk::__private::Serving>
                where
                    Ctx: ::my_sdk::__private::FromInvocation,
                    H: Handler<Ctx>,
                {
                    let mut serving = ::my_sdk::__private::Serving::default();
                    {
                        let handler = ::std::sync::Arc::clone(&handler);
                        serving
                            .merge(
                                server
                                    .serve_fn(
                                        "test:options/served",
                                        "get",
                                        move |cx: ::my_sdk::__private::InvocationContext, (): ()| {
                                            let handler = ::std::sync::Arc::clone(&handler);
                                            async move {
                                                let cx = <Ctx as ::my_sdk::__private::FromInvocation>::from_invocation(
                                                    cx,
                                                );
                                                let results = Handler::get(&*handler, cx).await;
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
            pub mod skipped {
                #[derive(
                    ::core::fmt::Debug,
                    ::core::clone::Clone,
                    ::core::marker::Copy,
                    ::core::cmp::PartialEq,
                    Eq,
                    serde::Serialize
                )]
                pub struct Unused {
                    pub n: u32,
                }
                impl ::my_sdk::__private::Encode for Unused {
                    fn encode(
                        self,
                        w: &mut ::my_sdk::__private::Writer,
                    ) -> ::my_sdk::__private::Result<()> {
                        w.write_field(0, self.n)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::my_sdk::__private::Encode for &Unused {
                    fn encode(
                        self,
                        w: &mut ::my_sdk::__private::Writer,
                    ) -> ::my_sdk::__private::Result<()> {
                        w.write_field(0, &self.n)?;
                        ::core::result::Result::Ok(())
                    }
                }
                impl ::my_sdk::__private::Decode for Unused {
                    const MIN_SIZE: usize = 1;
                    fn decode(
                        r: &mut ::my_sdk::__private::Reader<'_>,
                    ) -> ::my_sdk::__private::Result<Self> {
                        ::core::result::Result::Ok(Self { n: r.read_field(0)? })
                    }
                }
            }
        }
    }
}
#[allow(clippy::all, dead_code, missing_docs, unused_imports)]
pub mod test {
    #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
    pub mod options {
        #[allow(clippy::all, dead_code, missing_docs, unused_imports)]
        pub mod skipped {
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq,
                Eq,
                serde::Serialize
            )]
            pub struct Unused {
                pub n: u32,
            }
            impl ::my_sdk::__private::Encode for Unused {
                fn encode(
                    self,
                    w: &mut ::my_sdk::__private::Writer,
                ) -> ::my_sdk::__private::Result<()> {
                    w.write_field(0, self.n)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::my_sdk::__private::Encode for &Unused {
                fn encode(
                    self,
                    w: &mut ::my_sdk::__private::Writer,
                ) -> ::my_sdk::__private::Result<()> {
                    w.write_field(0, &self.n)?;
                    ::core::result::Result::Ok(())
                }
            }
            impl ::my_sdk::__private::Decode for Unused {
                const MIN_SIZE: usize = 1;
                fn decode(
                    r: &mut ::my_sdk::__private::Reader<'_>,
                ) -> ::my_sdk::__private::Result<Self> {
                    ::core::result::Result::Ok(Self { n: r.read_field(0)? })
                }
            }
        }
    }
}
