//! The calling side: a [`Client`] invokes functions under a subject prefix, with
//! [`CallOptions`] (headers, deadline) per client or per call.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;

use super::{Transport, invocation_subject};
use crate::error::{Error, Result};
use crate::telemetry::ClientCall;
use crate::trace::TraceContext;
use crate::wire::{Decode, Encode, Reader, Writer};

/// Per-call settings.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// NATS headers for the invocation (wasmCloud: `source-id`, `link-name`, `traceparent`).
    pub headers: Option<HeaderMap>,
    /// The deadline for the whole call, overriding the client's.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Sets a header; fails if NATS cannot carry the name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let invalid = || Error::InvalidHeader {
            name: name.to_owned(),
        };
        let header_name = name
            .parse::<async_nats::HeaderName>()
            .ok()
            .filter(|_| !name.is_empty())
            .ok_or_else(invalid)?;
        let header_value = value
            .parse::<async_nats::HeaderValue>()
            .map_err(|_| invalid())?;
        self.headers
            .get_or_insert_with(HeaderMap::new)
            .insert(header_name, header_value);
        Ok(self)
    }

    /// Sets the deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// These options where set, `defaults` where not; headers from both, these winning.
    fn or(&self, defaults: &CallOptions) -> CallOptions {
        let headers = match (&defaults.headers, &self.headers) {
            (Some(defaults), Some(headers)) => {
                let mut merged = defaults.clone();
                for (name, values) in headers.iter() {
                    let mut values = values.iter();
                    if let Some(first) = values.next() {
                        merged.insert(name.clone(), first.clone());
                    }
                    for value in values {
                        merged.append(name.clone(), value.clone());
                    }
                }
                Some(merged)
            }
            (defaults, headers) => headers.clone().or_else(|| defaults.clone()),
        };
        CallOptions {
            headers,
            timeout: self.timeout.or(defaults.timeout),
        }
    }
}

/// Invokes functions under one subject prefix, with default headers and deadline for its calls.
/// Cheap to clone.
///
/// A call made while serving an invocation that carried a W3C `traceparent` carries the
/// invocation's trace context (see [`crate::trace`]), unless the call sets `traceparent` itself.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
    prefix: Arc<str>,
    defaults: CallOptions,
    /// Whether calls made outside any traced invocation start a trace.
    start_traces: bool,
}

impl Client {
    pub(super) fn new(transport: Transport, prefix: String) -> Self {
        Self {
            transport,
            prefix: prefix.into(),
            defaults: CallOptions::default(),
            start_traces: false,
        }
    }

    /// The deadline of a call when neither the client nor the call sets one.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Sets the deadline of this client's calls.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.defaults.timeout = Some(timeout);
        self
    }

    /// Sends a header with every call of this client; fails if NATS cannot carry it.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        self.defaults = self.defaults.header(name, value)?;
        Ok(self)
    }

    /// Makes calls made outside any traced invocation start a new trace (a fresh
    /// `traceparent`), so that what they cause can be followed too.
    pub fn starting_traces(mut self) -> Self {
        self.start_traces = true;
        self
    }

    /// The subject prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Invokes `func` of `instance` with `params` (a tuple) and decodes its results (a tuple).
    pub async fn invoke<P: Encode, R: Decode>(
        &self,
        instance: &str,
        func: &str,
        params: P,
    ) -> Result<R> {
        self.invoke_with(&CallOptions::default(), instance, func, params)
            .await
    }

    /// Like [`Client::invoke`], with headers or a deadline for this call.
    pub async fn invoke_with<P: Encode, R: Decode>(
        &self,
        options: &CallOptions,
        instance: &str,
        func: &str,
        params: P,
    ) -> Result<R> {
        self.invoke_raw(
            options,
            instance,
            func,
            |w| params.encode(w),
            R::MIN_SIZE,
            R::decode,
        )
        .await
    }

    /// Invokes `func` of `instance` with the params `encode` writes, and reads its results with
    /// `decode`, which needs at least `min_size` bytes: a call whose types are known only at run
    /// time (the dynamic codec) or at compile time ([`Client::invoke_with`]) alike.
    pub(crate) async fn invoke_raw<V>(
        &self,
        options: &CallOptions,
        instance: &str,
        func: &str,
        encode: impl FnOnce(&mut Writer) -> Result<()>,
        min_size: usize,
        decode: impl FnMut(&mut Reader<'_>) -> Result<V>,
    ) -> Result<V> {
        let subject = invocation_subject(&self.prefix, instance, func);
        let mut w = Writer::new();
        encode(&mut w)?;
        let (params, deferred) = w.finish();
        let merged;
        let options = if options.headers.is_none() && options.timeout.is_none() {
            &self.defaults
        } else {
            merged = options.or(&self.defaults);
            &merged
        };
        let timeout = options.timeout.unwrap_or(Self::DEFAULT_TIMEOUT);
        // The call's telemetry (its client span, its duration), when telemetry is exported.
        let record = ClientCall::start(instance, func, options.headers.as_ref());
        let traced = self.trace_headers(options.headers.as_ref(), record.as_ref());
        let headers = traced.as_ref().or(options.headers.as_ref());
        let call = async {
            let mut call = self
                .transport
                .backend
                .invoke(&subject, headers, params, deferred)
                .await?;
            let results = call.read_with("result", min_size, decode).await?;
            if min_size == 0 {
                // Nothing to decode means nothing to wait for: the end of the results channel
                // is what says the function has run.
                call.expect_end().await?;
            } else {
                call.check_no_trailing_bytes()?;
            }
            Ok(results)
        };
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                subject,
                after: timeout,
            }),
        }
        .inspect_err(|error| tracing::debug!(%error, "call failed"));
        if let Some(record) = record {
            record.end(result.as_ref().err());
        }
        result
    }
}

impl Client {
    /// `headers` with the call's `traceparent`: its own span's when telemetry records one (in
    /// place of a caller's, which is the span's parent); else the caller's, else the
    /// invocation's it is made in, else a new trace if the client starts them.
    fn trace_headers(
        &self,
        headers: Option<&HeaderMap>,
        record: Option<&ClientCall>,
    ) -> Option<HeaderMap> {
        let own = record.and_then(ClientCall::trace);
        if own.is_none() && has_traceparent(headers) {
            return None;
        }
        let trace = match (own, crate::trace::current()) {
            (Some(own), _) => own,
            (None, Some(trace)) => trace,
            (None, None) if self.start_traces => TraceContext::new_root(),
            (None, None) => return None,
        };
        let mut headers = headers.cloned().unwrap_or_default();
        trace.insert_into(&mut headers);
        Some(headers)
    }
}

/// Whether the caller set a `traceparent` of its own.
fn has_traceparent(headers: Option<&HeaderMap>) -> bool {
    let traceparent = async_nats::HeaderName::from_static(crate::trace::TRACEPARENT);
    headers.is_some_and(|headers| headers.get(traceparent).is_some())
}
