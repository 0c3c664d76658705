//! Interop with the published wRPC peers: `wit-bindgen-wrpc 0.11` bindings over
//! `wrpc-transport-nats 0.31`, for a world (`wit/interop.wit`) that covers every WIT type.
//!
//! - `codec`: our encoding of every type is byte-for-byte the peer's, and each side decodes the
//!   other's bytes (property tests, no I/O).
//! - `calls`: over a private NATS server, our client calls the peer's server and the peer's
//!   client calls ours, for every function of the world, including resources, streams, futures,
//!   and values far larger than `max_payload`.
//! - `refusal`: the peer's client, refused by our server's admission check, fails at once.
//! - `messages`: the messages of one call, counted on the wire: three between our ends (the
//!   short exchange), plain wRPC's five with a peer on either side.

/// Asserts that two values are equal by their `Debug` output, which for these types shows every
/// field (the peer's generated records and variants do not implement `PartialEq`).
macro_rules! assert_same {
    ($left:expr, $right:expr $(,)?) => {
        assert_eq!(format!("{:?}", $left), format!("{:?}", $right))
    };
}

mod bindings;
mod calls;
mod codec;
mod logic;
mod messages;
mod ours;
mod refusal;
