//! The `generate!` macro of `provider-sdk`.
//!
//! This crate is a placeholder until the macro lands; depend on `provider-sdk`, which will
//! re-export it.
