//! `additional_derives`, `interfaces` and `provider_sdk_crate`.

mod bindings {
    provider_sdk::generate!({
        inline: "
            package demo:options;

            interface served {
                record settings {
                    level: u8,
                }

                get: func() -> settings;
            }

            interface other {
                ignored: func();
            }

            world options {
                export served;
                export other;
            }
        ",
        additional_derives: [Eq, Hash, Default],
        interfaces: ["demo:options/served"],
        provider_sdk_crate: ::provider_sdk,
    });
}

use std::collections::HashSet;

use bindings::exports::demo::options::served::{Handler, Settings};

struct Served;

impl Handler<()> for Served {
    async fn get(&self, _cx: ()) -> Settings {
        Settings::default()
    }
}

#[allow(dead_code)]
async fn serve(server: &provider_sdk::transport::Server) -> provider_sdk::Result<()> {
    // `other` gets no functions, so the world's `serve` only needs `served`'s handler.
    let _serving = bindings::serve(server, Served).await?;
    Ok(())
}

fn main() {
    let set: HashSet<Settings> = [Settings { level: 1 }].into_iter().collect();
    assert!(set.contains(&Settings { level: 1 }));
}
