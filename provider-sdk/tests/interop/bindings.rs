//! The peer's bindings for `wit/interop.wit`: `interop::test::types` (client functions and the
//! types both sides use) and `exports::interop::test::types` (the peer server's handler traits).

// No `additional_derives: [PartialEq]`: the peer derives it for enums already and would derive
// it twice. Tests compare values by their (complete) `Debug` output instead.
wit_bindgen_wrpc::generate!({ path: "tests/interop/wit" });

pub use self::interop::test::types::{Color, Everything, Many, Permissions, Point, Shape};
