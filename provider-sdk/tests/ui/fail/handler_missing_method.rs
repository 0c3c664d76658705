mod bindings {
    provider_sdk::generate!({
        inline: "
            package demo:missing;

            interface api {
                first: func() -> u32;
                second: func(s: string);
            }

            world missing {
                export api;
            }
        ",
    });
}

struct Api;

impl bindings::exports::demo::missing::api::Handler<()> for Api {
    async fn first(&self, _cx: ()) -> u32 {
        1
    }
}

fn main() {}
