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

/// wasmtime 38's `wasi:http@0.2.6` WIT loads only with the feature that its
/// `outgoing-body.finish` needs (the `macro_ui` case `feature_gated` shows the error without it).
mod wasi_http {
    provider_sdk::generate!({
        path: "../provider-macros/tests/fixtures/wasi-http",
        world: "wasi:http/proxy@0.2.6",
        features: ["informational-outbound-responses"],
    });
}

/// Every feature of the same WIT: the gated `wasi:clocks/timezone` comes in.
mod wasi_clocks {
    provider_sdk::generate!({
        path: "../provider-macros/tests/fixtures/wasi-http",
        world: "wasi:clocks/imports@0.2.6",
        all_features: true,
    });

    #[allow(unused_imports)]
    use self::wasi::clocks::timezone::TimezoneDisplay;
}

#[test]
fn fixtures_compile() {
    // The preamble names the generator, so that a snapshot diff explains itself.
    assert!(types::GENERATED_BY.starts_with("provider-macros "));
}
