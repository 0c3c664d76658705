//! The provider's own bindings (the `keyvalue` world: the keyvalue interfaces it serves, the
//! watcher it calls), in a file of their own so the modules that use them import downwards.

provider_sdk::generate!({ path: "../../wit", world: "keyvalue" });
