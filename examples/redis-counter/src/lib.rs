//! A custom provider that holds a Redis connection per link and serves named counters.
//!
//! A component links to the provider naming the Redis it wants; every call over that link uses
//! the link's connection, found from the call's `source-id` and `link-name`:
//!
//! | link config (this provider's side) | meaning                                             |
//! |------------------------------------|-----------------------------------------------------|
//! | `url`                              | `redis://host:port[/db]`; default: the provider's `default_url`, else `redis://127.0.0.1:6379` |
//! | `prefix`                           | the counters' key prefix (default `counter`): keys are `<prefix>:<name>` |
//! | `response_timeout_ms`              | how long one Redis command may take (default 2000) |
//!
//! and the link secret `password` (or a password in the URL). Each link has its own
//! connection (not shared: a link without `url` depends on the provider's `default_url` too,
//! which sharing by the link's configuration alone would not see). A connection is made lazily
//! and remade after Redis restarts, so a link put never fails because Redis is down; a
//! malformed URL is refused at link put. Deleting a link closes its connection.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use provider_sdk::provider::{
    Config, Context, HookResult, InitContext, Link, LinkResources, Provider, redact_credentials,
};
use provider_sdk::transport::{Server, Serving};
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

mod bindings {
    provider_sdk::generate!({ world: "redis-counter" });
}

/// Client functions for `example:counter/counter`, for Rust programs that call the provider.
pub mod client {
    provider_sdk::generate!({ world: "client" });

    pub use self::example::counter::counter::{get, increment, reset};
}

use bindings::exports::example::counter::counter::Handler;

/// The Redis used when neither the link nor the provider's configuration names one.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// The link configuration keys the provider understands.
const LINK_KEYS: &[&str] = &["url", "prefix", "response_timeout_ms"];
/// The provider configuration keys it understands.
const PROVIDER_KEYS: &[&str] = &["default_url"];

/// One link's Redis: a connection (reconnecting on its own) and where its counters live.
struct Connection {
    redis: ConnectionManager,
    prefix: String,
}

impl Connection {
    /// Reads the link's settings and makes its connection, without waiting for Redis.
    fn open(link: &Link, default_url: &str) -> Result<Self, String> {
        let config = link.config();
        config.warn_unknown_keys(LINK_KEYS, "redis-counter link");
        let url = config.get_str("url").unwrap_or(default_url);
        let shown = redact_credentials(url);
        let mut info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|error| format!("link config `url` {shown} is not a Redis URL ({error})"))?;
        if let Some(password) = link.secrets().get_str("password") {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let timeout: u64 = config
            .get_or("response_timeout_ms", 2000)
            .map_err(|error| error.to_string())?;
        let client = redis::Client::open(info).map_err(|error| error.to_string())?;
        let options = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_millis(timeout)))
            .set_max_delay(Duration::from_secs(2));
        let redis = ConnectionManager::new_lazy_with_config(client, options)
            .map_err(|error| error.to_string())?;
        tracing::info!(link = %link.key(), url = %shown, "Redis connection for the link");
        Ok(Self {
            redis,
            prefix: config.get_str("prefix").unwrap_or("counter").to_owned(),
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
}

/// The provider: a registry of per-link connections.
#[derive(Debug)]
pub struct RedisCounter {
    connections: LinkResources<Connection>,
    default_url: Mutex<String>,
}

impl Default for RedisCounter {
    fn default() -> Self {
        Self {
            connections: LinkResources::new(),
            default_url: Mutex::new(DEFAULT_URL.to_owned()),
        }
    }
}

impl RedisCounter {
    /// How many links have a connection.
    pub fn links(&self) -> usize {
        self.connections.len()
    }

    fn set_defaults(&self, config: &Config) {
        config.warn_unknown_keys(PROVIDER_KEYS, "redis-counter provider");
        let url = config.get_str("default_url").unwrap_or(DEFAULT_URL);
        *self
            .default_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = url.to_owned();
    }

    /// The connection for the call's link. The runtime lets only linked callers in, so a link
    /// without a connection was deleted while the call was on its way.
    fn connection(&self, cx: &Context) -> Result<Arc<Connection>, String> {
        self.connections.for_context(cx).ok_or_else(|| {
            format!(
                "no connection for the link {:?}: it was deleted during the call",
                cx.link_name()
            )
        })
    }
}

impl Provider for RedisCounter {
    async fn serve(self: Arc<Self>, server: &Server) -> provider_sdk::Result<Serving> {
        bindings::serve(server, self).await
    }

    async fn init(&self, init: &InitContext) -> HookResult {
        self.set_defaults(init.config());
        Ok(())
    }

    async fn config_updated(&self, config: &Config) -> HookResult {
        // Links made from now on use the new default; live links keep their connection.
        self.set_defaults(config);
        Ok(())
    }

    /// A new link, or new settings for a live one: (re)build its connection. On error the
    /// link keeps what it had.
    async fn link_put_as_target(&self, link: &Link) -> HookResult {
        let default_url = self
            .default_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.connections
            .put(link, async { Connection::open(link, &default_url) })
            .await?;
        Ok(())
    }

    async fn link_deleted_as_target(&self, link: &Link) -> HookResult {
        self.connections.remove(link.key());
        Ok(())
    }

    async fn shutdown(&self) -> HookResult {
        self.connections.clear();
        Ok(())
    }
}

/// A Redis failure as the component sees it: what failed, never credentials.
fn failed(error: redis::RedisError) -> String {
    format!("Redis: {error}")
}

impl Handler<Context> for RedisCounter {
    async fn increment(&self, cx: Context, name: String, delta: i64) -> Result<i64, String> {
        let connection = self.connection(&cx)?;
        let mut redis = connection.redis.clone();
        redis
            .incr(connection.key(&name), delta)
            .await
            .map_err(failed)
    }

    async fn get(&self, cx: Context, name: String) -> Result<Option<i64>, String> {
        let connection = self.connection(&cx)?;
        let mut redis = connection.redis.clone();
        redis.get(connection.key(&name)).await.map_err(failed)
    }

    async fn reset(&self, cx: Context, name: String) -> Result<bool, String> {
        let connection = self.connection(&cx)?;
        let mut redis = connection.redis.clone();
        let removed: u64 = redis.del(connection.key(&name)).await.map_err(failed)?;
        Ok(removed > 0)
    }
}
