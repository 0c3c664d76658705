//! Finding, or creating, a link's stream and consumer.

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{ConsumerInfoErrorKind, GetStreamErrorKind};
use async_nats::jetstream::{self, stream};

use super::ConsumerSpec;
use crate::error::{Error, Result};

/// The server's default `max_ack_pending` for a consumer created without one.
const SERVER_DEFAULT_MAX_ACK_PENDING: usize = 1000;

/// The consumer of entry `index`, creating it and its stream if missing and `create` is set;
/// an existing consumer must ack explicitly.
pub(super) async fn open(
    js: &jetstream::Context,
    index: usize,
    spec: &ConsumerSpec,
    max_in_flight: usize,
) -> Result<PullConsumer> {
    let stream = match js.get_stream(&spec.stream).await {
        Ok(stream) => stream,
        Err(error) => {
            let missing = matches!(
                error.kind(),
                GetStreamErrorKind::JetStream(e)
                    if e.error_code() == ErrorCode::STREAM_NOT_FOUND
            );
            if !missing {
                return Err(Error::nats(format!(
                    "consumers entry {index}: looking up JetStream stream `{}`: {error}",
                    spec.stream
                )));
            }
            if !spec.create {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream stream `{}` does not exist; create it, \
                     or set \"create\": true with \"subjects\" on the entry",
                    spec.stream
                )));
            }
            let config = stream::Config {
                name: spec.stream.clone(),
                subjects: spec.subjects.clone(),
                ..Default::default()
            };
            let stream = js.get_or_create_stream(config).await.map_err(|error| {
                Error::nats(format!(
                    "consumers entry {index}: creating JetStream stream `{}`: {error}",
                    spec.stream
                ))
            })?;
            tracing::info!(stream = %spec.stream, subjects = ?spec.subjects, "JetStream stream created");
            stream
        }
    };
    match stream.consumer_info(&spec.consumer).await {
        Ok(info) => {
            // With `all`, one ack would ack every earlier message still in flight; with
            // `none`, naks do nothing: at-least-once needs explicit acks.
            if info.config.ack_policy != AckPolicy::Explicit {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream consumer `{}` of stream `{}` has ack \
                     policy `{}`; the provider needs ack policy `explicit` (one ack per \
                     message)",
                    spec.consumer,
                    spec.stream,
                    ack_policy_name(info.config.ack_policy)
                )));
            }
            return stream
                .get_consumer::<pull::Config>(&spec.consumer)
                .await
                .map_err(|error| {
                    Error::nats(format!(
                        "consumers entry {index}: JetStream consumer `{}` of stream `{}`: \
                         {error} (a durable pull consumer is needed)",
                        spec.consumer, spec.stream
                    ))
                });
        }
        Err(error) => {
            let missing = match error.kind() {
                ConsumerInfoErrorKind::NotFound => true,
                ConsumerInfoErrorKind::JetStream(e) => {
                    e.error_code() == ErrorCode::CONSUMER_NOT_FOUND
                }
                _ => false,
            };
            if !missing {
                return Err(Error::nats(format!(
                    "consumers entry {index}: looking up JetStream consumer `{}` of stream \
                     `{}`: {error}",
                    spec.consumer, spec.stream
                )));
            }
            if !spec.create {
                return Err(Error::nats(format!(
                    "consumers entry {index}: JetStream consumer `{}` of stream `{}` does not \
                     exist; create it (a durable pull consumer), or set \"create\": true with \
                     \"subjects\" on the entry",
                    spec.consumer, spec.stream
                )));
            }
        }
    }
    let config = pull::Config {
        durable_name: Some(spec.consumer.clone()),
        ack_policy: AckPolicy::Explicit,
        // Without the entry's, the server's default (1000) would cap the pull below a larger
        // `max_in_flight`: ask for at least the batch.
        max_ack_pending: spec
            .max_ack_pending
            .or((max_in_flight > SERVER_DEFAULT_MAX_ACK_PENDING).then_some(max_in_flight))
            .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        ack_wait: spec.ack_wait.unwrap_or_default(),
        max_deliver: spec.max_deliver.map_or(0, i64::from),
        ..Default::default()
    };
    let consumer = stream.create_consumer(config).await.map_err(|error| {
        Error::nats(format!(
            "consumers entry {index}: creating JetStream consumer `{}` of stream `{}`: {error}",
            spec.consumer, spec.stream
        ))
    })?;
    tracing::info!(stream = %spec.stream, consumer = %spec.consumer, "JetStream consumer created");
    Ok(consumer)
}

/// The name of an ack policy as the server spells it.
fn ack_policy_name(policy: AckPolicy) -> &'static str {
    match policy {
        AckPolicy::Explicit => "explicit",
        AckPolicy::All => "all",
        AckPolicy::None => "none",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}
