provider_sdk::generate!();

fn main() {}
