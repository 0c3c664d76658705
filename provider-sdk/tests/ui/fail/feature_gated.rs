// A stable function whose result type is gated by a WIT feature that is off: the message says
// which feature to turn on. (wasmtime 38's `wasi:http@0.2.6` WIT fails the same way without
// `features: ["informational-outbound-responses"]`.)
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
});

fn main() {}
