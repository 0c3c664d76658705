//! Every snapshot fixture of `provider-macros` compiles through the public `generate!` path.

#![allow(dead_code)]

mod types {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/types.wit" });
}

mod resources {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/resources.wit" });
}

mod async_values {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/async.wit" });
}

mod world {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/world.wit" });
}

mod deps {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/deps", world: "uses-deps" });
}

mod options {
    provider_sdk::generate!({
        path: "../provider-macros/tests/fixtures/options.wit",
        additional_derives: [Eq, Hash],
        interfaces: ["test:options/served"],
    });
}

mod collisions {
    provider_sdk::generate!({ path: "../provider-macros/tests/fixtures/collisions.wit" });
}

#[test]
fn fixtures_compile() {}
