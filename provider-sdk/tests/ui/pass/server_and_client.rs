//! A world that exports and imports an interface with functions and a resource: the handler
//! implements every trait, and the client functions are called.

mod bindings {
    provider_sdk::generate!({
        inline: "
            package demo:shop@1.0.0;

            interface catalog {
                record item {
                    name: string,
                    price: u32,
                }

                resource cart {
                    constructor();
                    add: func(item: item);
                    total: func() -> u32;
                }

                find: func(name: string) -> option<item>;
                prices: func(items: list<item>) -> list<u32>;
            }

            world shop {
                import catalog;
                export catalog;
            }
        ",
    });
}

use bindings::exports::demo::shop::catalog::{Cart, CartHandler, Handler, Item};
use provider_sdk::transport::{Client, InvocationContext, Server};
use provider_sdk::wire::{ResourceBorrow, ResourceOwn};

#[derive(Clone)]
struct Shop;

impl Handler<InvocationContext> for Shop {
    async fn find(&self, _cx: InvocationContext, name: String) -> Option<Item> {
        Some(Item { name, price: 1 })
    }

    async fn prices(&self, _cx: InvocationContext, items: Vec<Item>) -> Vec<u32> {
        items.into_iter().map(|item| item.price).collect()
    }
}

impl CartHandler<InvocationContext> for Shop {
    async fn new(&self, _cx: InvocationContext) -> ResourceOwn<Cart> {
        ResourceOwn::new(&b"cart"[..])
    }

    async fn add(&self, _cx: InvocationContext, _this: ResourceBorrow<Cart>, _item: Item) {}

    async fn total(&self, _cx: InvocationContext, _this: ResourceBorrow<Cart>) -> u32 {
        0
    }
}

#[allow(dead_code)]
async fn serve(server: &Server) -> provider_sdk::Result<provider_sdk::transport::Serving> {
    bindings::serve(server, Shop).await
}

#[allow(dead_code)]
async fn call(client: &Client) -> provider_sdk::Result<u32> {
    use bindings::demo::shop::catalog;
    let item = catalog::find(client, "apple").await?.unwrap();
    let prices = catalog::prices(client, &[item]).await?;
    let cart = catalog::Cart::new(client).await?;
    catalog::Cart::add(client, cart.borrow(), &catalog::Item { name: "pear".into(), price: 2 }).await?;
    Ok(prices[0] + catalog::Cart::total(client, cart.borrow()).await?)
}

fn main() {}
