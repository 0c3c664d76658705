//! `generate!` through the public path: what must compile, and what must fail with a message
//! that says what to fix. `TRYBUILD=overwrite` rewrites the expected messages.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
