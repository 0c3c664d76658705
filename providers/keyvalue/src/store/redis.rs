//! The Redis backend. A WIT bucket is a key prefix: key `k` of bucket `b` is the Redis key
//! `b:k`, with `\` and `:` in the bucket name escaped by a `\`, so no two buckets share a key
//! (bucket `a` holds `a:x:y` as key `x:y`; bucket `a:x` would be `a\:x:`).

use std::time::Duration;

use bytes::Bytes;
use redis::IntoConnectionInfo as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{KeyPage, PAGE_SIZE};
use crate::config::RedisSettings;
use crate::error::{Error, Result};

/// SCAN rounds one `list-keys` call makes at most while the rounds it has made found nothing of
/// the bucket's (other keys of the database share the keyspace).
const MAX_SCAN_ROUNDS: usize = 16;

/// A connection to one Redis server, shared by the links with the same settings. It connects
/// on first use and reconnects after failures on its own.
pub(crate) struct RedisStore {
    redis: ConnectionManager,
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
    pub(crate) fn open(settings: &RedisSettings) -> Result<Self> {
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
        let client = redis::Client::open(info).map_err(invalid)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_max_delay(Duration::from_secs(2));
        let redis = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { redis, shown_url })
    }

    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T> {
        let mut redis = self.redis.clone();
        Ok(command.query_async(&mut redis).await?)
    }

    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Option<Bytes>> {
        self.query(redis::cmd("GET").arg(redis_key(bucket, key)))
            .await
    }

    pub(crate) async fn set(&self, bucket: &str, key: &str, value: Bytes) -> Result<()> {
        self.query(
            redis::cmd("SET")
                .arg(redis_key(bucket, key))
                .arg(&value[..]),
        )
        .await
    }

    pub(crate) async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.query::<u64>(redis::cmd("DEL").arg(redis_key(bucket, key)))
            .await
            .map(drop)
    }

    pub(crate) async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        self.query(redis::cmd("EXISTS").arg(redis_key(bucket, key)))
            .await
    }

    /// The cursor is Redis' SCAN cursor: a full iteration returns every key that was in the
    /// bucket throughout at least once (rarely twice, when Redis rehashes meanwhile).
    pub(crate) async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage> {
        let prefix = namespace(bucket);
        let pattern = format!("{}*", glob_escape(&prefix));
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

    pub(crate) async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64> {
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

    pub(crate) async fn get_many(
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

    pub(crate) async fn set_many(&self, bucket: &str, pairs: Vec<(String, Bytes)>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut command = redis::cmd("MSET");
        for (key, value) in &pairs {
            command.arg(redis_key(bucket, key)).arg(&value[..]);
        }
        self.query(&command).await
    }

    pub(crate) async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<()> {
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

/// `text` as a SCAN MATCH pattern that matches only itself.
fn glob_escape(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
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
        assert_eq!(glob_escape("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:");
    }
}
