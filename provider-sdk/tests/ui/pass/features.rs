//! `features` and `all_features` bring in WIT items gated by `@unstable(feature = ...)`.

mod named {
    provider_sdk::generate!({
        inline: "
            package demo:gated@0.1.0;

            interface api {
                @unstable(feature = fancy-levels)
                type level = u8;

                @since(version = 0.1.0)
                get: func() -> result<level>;
            }

            world gated {
                export api;
            }
        ",
        features: ["fancy-levels"],
    });

    pub type Level = exports::demo::gated::api::Level;
}

mod all {
    provider_sdk::generate!({
        inline: "
            package demo:gated@0.1.0;

            interface api {
                @unstable(feature = fancy-levels)
                type level = u8;

                @since(version = 0.1.0)
                get: func() -> result<level>;
            }

            world gated {
                export api;
            }
        ",
        all_features: true,
    });

    pub type Level = exports::demo::gated::api::Level;
}

fn main() {
    let _: named::Level = 1;
    let _: all::Level = 2;
    assert!(named::GENERATED_BY.starts_with("provider-macros "));
}
