//! The provider's own bindings (the `messaging` world: `consumer` served, `handler` called),
//! in a file of their own so the modules that use them import downwards.

provider_sdk::generate!({ path: "wit", world: "messaging" });
