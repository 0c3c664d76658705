provider_sdk::generate!({
    inline: "
        package demo:ifaces;

        interface api {
            get: func() -> u32;
        }

        world w {
            export api;
        }
    ",
    interfaces: ["demo:ifaces/ap", "demo:ifaces/api", "demo:nope/x"],
});

fn main() {}
