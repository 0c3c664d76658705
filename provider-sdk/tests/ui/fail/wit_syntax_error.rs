provider_sdk::generate!({
    inline: "
        package demo:broken;

        interface api {
            get: func(key: strin) -> u32;
        }

        world broken {
            export api;
        }
    ",
});

fn main() {}
