provider_sdk::generate!({
    wrold: "one",
    path: "wit",
    inline: "package demo:opts; world one {}",
    path: "other",
});

fn main() {}
