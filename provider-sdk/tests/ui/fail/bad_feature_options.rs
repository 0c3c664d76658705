provider_sdk::generate!({
    inline: "package demo:features; world one {}",
    features: ["clocks_timezone", "ok-feature"],
    all_features: "yes",
    al_features: true,
});

fn main() {}
