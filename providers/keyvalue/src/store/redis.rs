//! The Redis backend. A WIT bucket is a key prefix: key `k` of bucket `b` is the Redis key
//! `b:k`, with `\` and `:` in the bucket name escaped by a `\`, so no two buckets share a key
//! (bucket `a` holds `a:x:y` as key `x:y`; bucket `a:x` would be `a\:x:`).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use redis::IntoConnectionInfo as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::backend::{Backend, KeyPage, PAGE_SIZE};
use super::feed::{Change, Changes, Filter};
use crate::config::RedisSettings;
use crate::error::{Error, Result};

/// SCAN rounds one `list-keys` call makes at most while the rounds it has made found nothing of
/// the bucket's (other keys of the database share the keyspace).
const MAX_SCAN_ROUNDS: usize = 16;

/// The keyspace notification classes watchers use: keyspace events (`K`) of generic commands
/// (`g`: DEL, RENAME, ...), string commands (`$`), expiry (`x`) and eviction (`e`).
const KEYSPACE_EVENTS: &str = "Kg$xe";
/// The classes without which a watcher hears no sets or deletes.
const NEEDED_KEYSPACE_EVENTS: &str = "Kg$";
/// Values a watcher's feed reads at once.
const VALUE_READS: usize = 16;

/// A connection to one Redis server, shared by the links with the same settings. It connects
/// on first use and reconnects after failures on its own.
pub(crate) struct RedisStore {
    redis: ConnectionManager,
    /// For the watchers' subscriptions, each on a connection of its own.
    client: redis::Client,
    db: i64,
    connect_timeout: Duration,
    response_timeout: Duration,
    shown_url: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A connection for `settings`, made lazily: an unreachable server is an error of the
    /// calls, not of the link.
    fn lazy(settings: &RedisSettings) -> Result<Self> {
        let shown_url = settings.shown_url();
        let invalid = |error: redis::RedisError| Error::InvalidConfig {
            key: "url",
            value: format!("{shown_url} ({error})"),
            expected: "redis://[user:password@]host:port[/db] or rediss://...",
        };
        let mut info = settings
            .url
            .as_str()
            .into_connection_info()
            .map_err(invalid)?;
        let mut redis = info.redis_settings().clone();
        if let Some(username) = &settings.username {
            redis = redis.set_username(username);
        }
        if let Some(password) = &settings.password {
            redis = redis.set_password(password);
        }
        info = info.set_redis_settings(redis);
        let db = info.redis_settings().db();
        let client = match &settings.tls_ca {
            None => redis::Client::open(info),
            Some(pem) => redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
        }
        .map_err(invalid)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_max_delay(Duration::from_secs(2));
        let redis = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            redis,
            client,
            db,
            connect_timeout: settings.connect_timeout,
            response_timeout: settings.response_timeout,
            shown_url,
        })
    }

    /// Turns on the keyspace notifications watchers need, if the server has them off: Redis
    /// sends none by default. Where `CONFIG` is not allowed (ACL users without it, managed
    /// servers), the server's operator must have set `notify-keyspace-events`.
    async fn enable_keyspace_events(&self) -> Result<()> {
        let mut redis = self.redis.clone();
        let config: std::collections::HashMap<String, String> = match redis::cmd("CONFIG")
            .arg("GET")
            .arg("notify-keyspace-events")
            .query_async(&mut redis)
            .await
        {
            Ok(config) => config,
            Err(error) if is_refused(&error) => {
                tracing::warn!(
                    url = %self.shown_url,
                    %error,
                    "cannot read notify-keyspace-events; watchers hear nothing unless the \
                     server's operator set it to include {KEYSPACE_EVENTS}"
                );
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        };
        let current = config
            .get("notify-keyspace-events")
            .map(String::as_str)
            .unwrap_or_default();
        let missing = |classes: &str| -> String {
            classes
                .chars()
                .filter(|&class| {
                    !(current.contains(class) || (class != 'K' && current.contains('A')))
                })
                .collect()
        };
        let wanted = missing(KEYSPACE_EVENTS);
        if wanted.is_empty() {
            return Ok(());
        }
        let value = format!("{current}{wanted}");
        let set = self
            .query::<()>(
                redis::cmd("CONFIG")
                    .arg("SET")
                    .arg("notify-keyspace-events")
                    .arg(&value),
            )
            .await;
        match set {
            Ok(()) => {
                tracing::info!(url = %self.shown_url, notify_keyspace_events = %value, "turned on Redis keyspace notifications for watchers");
                Ok(())
            }
            // Sets and deletes are heard: only expiry or eviction would go unreported.
            Err(error) if missing(NEEDED_KEYSPACE_EVENTS).is_empty() => {
                tracing::warn!(
                    url = %self.shown_url,
                    %error,
                    "watchers do not hear of expired or evicted keys: notify-keyspace-events = \
                     {current:?} lacks {wanted:?}, and it could not be changed"
                );
                Ok(())
            }
            Err(error) => Err(Error::Backend {
                backend: "redis",
                message: format!(
                    "watchers need keyspace notifications, which {} has off \
                     (notify-keyspace-events = {current:?}), and turning them on failed \
                     ({error}): set notify-keyspace-events to include {KEYSPACE_EVENTS} on the \
                     server",
                    self.shown_url
                ),
            }),
        }
    }

    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T> {
        let mut redis = self.redis.clone();
        Ok(command.query_async(&mut redis).await?)
    }
}

/// Shared by the links with equal settings.
impl Backend for RedisStore {
    const NAME: &'static str = "redis";
    const SHARED: bool = true;
    type Settings = RedisSettings;

    /// Made lazily (see [`RedisStore::lazy`]): an unreachable server is an error of the calls.
    async fn open(settings: &RedisSettings) -> Result<Self> {
        Self::lazy(settings)
    }

    /// Every change to `bucket` from now on, from Redis keyspace notifications: a subscription
    /// of its own to the bucket's keys. Notifications carry no values, so a set is reported
    /// with the value read when the notification arrives (a key already deleted again is not
    /// reported as set: its deletion follows).
    ///
    /// Only the keys `filter` wants are subscribed to (exact keys by channel, prefixes by
    /// pattern), so a watcher of a few keys costs nothing for the bucket's other writes.
    async fn changes(&self, bucket: &str, filter: &Filter) -> Result<Changes> {
        self.enable_keyspace_events().await?;
        let mut pubsub = tokio::time::timeout(self.connect_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| Error::Backend {
                backend: "redis",
                message: format!(
                    "no connection to {} within {:?} for a watcher",
                    self.shown_url, self.connect_timeout
                ),
            })??;
        let space = format!("__keyspace@{}__:", self.db).into_bytes();
        let namespace = namespace(bucket).into_bytes();
        let channel = |key: &[u8]| [&space[..], &namespace[..], key].concat();
        let keys: Vec<Vec<u8>> = filter.keys.iter().map(|k| channel(k.as_bytes())).collect();
        let prefixes: Vec<Vec<u8>> = filter
            .prefixes
            .iter()
            .map(|prefix| [glob_escape(&channel(prefix.as_bytes())).as_slice(), b"*"].concat())
            .collect();
        if !keys.is_empty() {
            pubsub.subscribe(keys).await?;
        }
        if !prefixes.is_empty() {
            pubsub.psubscribe(prefixes).await?;
        }
        let (sink, messages) = pubsub.split();
        let redis = self.redis.clone();
        let changes = messages
            .filter_map(move |message| {
                // The channel is `__keyspace@<db>__:<redis key>`, the payload the event's name.
                let redis_key = message
                    .get_channel::<Vec<u8>>()
                    .ok()
                    .and_then(|channel| channel.strip_prefix(&space[..]).map(<[u8]>::to_vec));
                let key = redis_key
                    .as_deref()
                    .and_then(|redis_key| redis_key.strip_prefix(&namespace[..]))
                    .and_then(|key| String::from_utf8(key.to_vec()).ok());
                let event = Event::of(message.get_payload_bytes());
                std::future::ready(match (redis_key, key, event) {
                    (_, _, Event::Other) | (None, _, _) | (_, None, _) => None,
                    (Some(redis_key), Some(key), event) => Some((redis_key, key, event)),
                })
            })
            // Values are read concurrently, reported in the order of the notifications.
            .map(move |(redis_key, key, event)| {
                let mut redis = redis.clone();
                async move {
                    if event == Event::Delete {
                        return Some(Ok(Change::Delete(key)));
                    }
                    let value: redis::RedisResult<Option<Bytes>> = redis::cmd("GET")
                        .arg(redis_key)
                        .query_async(&mut redis)
                        .await;
                    match value {
                        Ok(Some(value)) => Some(Ok(Change::Set(key, value))),
                        // Deleted again already: its deletion follows.
                        Ok(None) => None,
                        // Now a list, a hash, ...: no value a watcher can be given.
                        Err(error) if error.code() == Some("WRONGTYPE") => {
                            Some(Ok(Change::Delete(key)))
                        }
                        Err(error) => Some(Err(error.into())),
                    }
                }
            })
            .buffered(VALUE_READS)
            .filter_map(std::future::ready);
        // A connection that went away without a word (no reset) would leave the watcher deaf:
        // a PING that goes unanswered ends the feed, as the connection closing does.
        let ended = futures::stream::once(std::future::ready(None));
        let changes = futures::stream::select(
            changes.map(Some).chain(ended),
            keepalive(sink, KEEPALIVE, self.response_timeout).map(Some),
        )
        .take_while(|change| std::future::ready(change.is_some()))
        .filter_map(std::future::ready);
        Ok(changes.boxed())
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        self.query(redis::cmd("GET").arg(redis_key(bucket, key)))
            .await
    }

    async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        self.query(
            redis::cmd("SET")
                .arg(redis_key(bucket, key))
                .arg(&value[..]),
        )
        .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.query::<u64>(redis::cmd("DEL").arg(redis_key(bucket, key)))
            .await
            .map(drop)
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        self.query(redis::cmd("EXISTS").arg(redis_key(bucket, key)))
            .await
    }

    /// The cursor is Redis' SCAN cursor: a full iteration returns every key that was in the
    /// bucket throughout at least once (rarely twice, when Redis rehashes meanwhile).
    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        let prefix = namespace(bucket);
        let pattern = [glob_escape(prefix.as_bytes()).as_slice(), b"*"].concat();
        let mut cursor = cursor.unwrap_or(0);
        let mut keys = Vec::new();
        for _ in 0..MAX_SCAN_ROUNDS {
            let (next, found): (u64, Vec<Vec<u8>>) = self
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(PAGE_SIZE),
                )
                .await?;
            keys.extend(found.into_iter().filter_map(|key| {
                let key = key.strip_prefix(prefix.as_bytes())?;
                String::from_utf8(key.to_vec()).ok()
            }));
            cursor = next;
            if cursor == 0 || !keys.is_empty() {
                break;
            }
        }
        Ok((keys, (cursor != 0).then_some(cursor)))
    }

    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
        let delta = i64::try_from(delta).map_err(|_| {
            Error::InvalidValue(format!(
                "a delta of {delta} is more than Redis adds at once (at most {})",
                i64::MAX
            ))
        })?;
        let value: i64 = self
            .query(redis::cmd("INCRBY").arg(redis_key(bucket, key)).arg(delta))
            .await?;
        u64::try_from(value).map_err(|_| {
            Error::InvalidValue(format!("the value {value} is negative, not a counter"))
        })
    }

    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Bytes)>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut command = redis::cmd("MGET");
        for key in &keys {
            command.arg(redis_key(bucket, key));
        }
        let values: Vec<Option<Bytes>> = self.query(&command).await?;
        if values.len() != keys.len() {
            return Err(Error::Backend {
                backend: "redis",
                message: format!("MGET of {} keys answered {}", keys.len(), values.len()),
            });
        }
        Ok(keys
            .into_iter()
            .zip(values)
            .map(|(key, value)| Some((key, value?)))
            .collect())
    }

    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut command = redis::cmd("MSET");
        for (key, value) in &pairs {
            command.arg(redis_key(bucket, key)).arg(&value[..]);
        }
        self.query(&command).await
    }

    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut command = redis::cmd("DEL");
        for key in &keys {
            command.arg(redis_key(bucket, key));
        }
        self.query::<u64>(&command).await.map(drop)
    }
}

/// The prefix of bucket's keys: the name with `\` and `:` escaped, then `:`.
fn namespace(bucket: &str) -> String {
    let mut prefix = String::with_capacity(bucket.len() + 1);
    for c in bucket.chars() {
        if matches!(c, '\\' | ':') {
            prefix.push('\\');
        }
        prefix.push(c);
    }
    prefix.push(':');
    prefix
}

fn redis_key(bucket: &str, key: &str) -> String {
    let mut redis_key = namespace(bucket);
    redis_key.push_str(key);
    redis_key
}

/// How often a watcher's subscription connection is checked.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Nothing while the subscription connection answers a `PING` every `every` within `timeout`;
/// then the error.
fn keepalive(
    mut sink: redis::aio::PubSubSink,
    every: Duration,
    timeout: Duration,
) -> impl futures::Stream<Item = Result<Change>> {
    futures::stream::once(async move {
        loop {
            tokio::time::sleep(every).await;
            match tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => return Err(error.into()),
                Err(_) => {
                    return Err(Error::Backend {
                        backend: "redis",
                        message: format!(
                            "a watcher's subscription went unanswered for {timeout:?}"
                        ),
                    });
                }
            }
        }
    })
}

/// Whether the server refused a command outright (no permission, or no such command), as
/// opposed to failing to answer.
fn is_refused(error: &redis::RedisError) -> bool {
    error.code() == Some("NOPERM") || error.to_string().contains("unknown command")
}

/// `text` as a SCAN MATCH or PSUBSCRIBE pattern that matches only itself.
fn glob_escape(text: &[u8]) -> Vec<u8> {
    let mut pattern = Vec::with_capacity(text.len());
    for &c in text {
        if matches!(c, b'*' | b'?' | b'[' | b']' | b'\\') {
            pattern.push(b'\\');
        }
        pattern.push(c);
    }
    pattern
}

/// What a keyspace notification means for a watcher.
#[derive(Debug, PartialEq)]
enum Event {
    /// The key holds a new value.
    Set,
    /// The key is gone.
    Delete,
    /// Nothing a watcher hears of (a TTL set, a command on another type, ...).
    Other,
}

impl Event {
    fn of(name: &[u8]) -> Self {
        match name {
            b"set" | b"setrange" | b"append" | b"incrby" | b"incrbyfloat" | b"setbit"
            | b"pfadd" | b"rename_to" | b"move_to" | b"copy_to" | b"restore" => Event::Set,
            b"del" | b"expired" | b"evicted" | b"rename_from" | b"move_from" => Event::Delete,
            _ => Event::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_prefixes_never_overlap() {
        assert_eq!(redis_key("a", "x:y"), "a:x:y");
        assert_eq!(redis_key("a:x", "y"), "a\\:x:y");
        assert_eq!(redis_key("", "k"), ":k");
        assert_eq!(redis_key("a\\", "k"), "a\\\\:k");
        // No bucket's prefix is a prefix of another's.
        let buckets = ["a", "a:", "a:x", "a\\", "a\\:", "", ":"];
        for one in buckets {
            for other in buckets {
                if one != other {
                    assert!(
                        !namespace(other).starts_with(&namespace(one)),
                        "{one:?} / {other:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn match_patterns_are_literal() {
        assert_eq!(glob_escape(b"a*b?[c]\\:"), b"a\\*b\\?\\[c\\]\\\\:");
    }

    #[tokio::test]
    async fn an_unanswered_ping_ends_a_subscription() {
        let server = provider_testing::RedisServer::start().unwrap();
        let client = redis::Client::open(server.url()).unwrap();
        let mut pubsub = client.get_async_pubsub().await.unwrap();
        pubsub.subscribe("channel").await.unwrap();
        let (sink, _messages) = pubsub.split();
        let every = Duration::from_millis(50);
        let mut alive = keepalive(sink, every, Duration::from_millis(500)).boxed();
        // Answered: nothing comes.
        let quiet = tokio::time::timeout(Duration::from_millis(400), alive.next()).await;
        assert!(quiet.is_err(), "the keepalive gave up on a live connection");
        // The server stops answering (as a connection cut without a reset would look).
        let mut admin = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(3000)
            .exec_async(&mut admin)
            .await
            .unwrap();
        let error = tokio::time::timeout(Duration::from_secs(2), alive.next())
            .await
            .expect("the keepalive never noticed")
            .expect("the keepalive ended without an error")
            .unwrap_err();
        assert!(error.to_string().contains("unanswered"), "{error}");
    }

    #[test]
    fn keyspace_events_map_to_sets_and_deletes() {
        assert_eq!(Event::of(b"set"), Event::Set);
        assert_eq!(Event::of(b"incrby"), Event::Set);
        assert_eq!(Event::of(b"del"), Event::Delete);
        assert_eq!(Event::of(b"expired"), Event::Delete);
        assert_eq!(Event::of(b"expire"), Event::Other);
        assert_eq!(Event::of(b"lpush"), Event::Other);
    }
}
