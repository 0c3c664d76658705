//! wRPC transports: invoke functions and serve them, over NATS or in-process.
//!
//! A [`Transport`] is one NATS connection (or one in-process bus). From it come
//! [`Client`]s, which invoke functions under a subject prefix, and [`Server`]s, which serve them
//! with bounded concurrency. Both transports have the same API, so code written against one runs
//! on the other: the in-process transport is the embedded default when there is no NATS server,
//! and the fast way to test a handler.
//!
//! A server may check each invocation before serving it ([`ServeOptions::admission`]): a
//! refused invocation takes no permit and runs no handler, and its caller gets
//! [`Error::Refused`] with the reason at once.
//!
//! Rooms: [`Client`] and [`CallOptions`] in `client`; [`Server`], [`ServeOptions`] and
//! [`Serving`] in `server`, their serve loop in `serve_loop`; what a handler gets in
//! `invocation`; [`Admission`] in `admission`. Each transport (`nats`, `local`) implements the
//! one crate-private seam in `backend`, and nothing else knows which transport it runs on.
//!
//! ```
//! # async fn demo() -> provider_sdk::Result<()> {
//! use provider_sdk::transport::{Invocation, ServeOptions, Transport};
//!
//! let transport = Transport::in_process();
//! let server = transport.server(ServeOptions::new("demo"));
//! let _serving = server
//!     .serve_fn("example:greeter/greet", "greet", |_cx, (name,): (String,)| async move {
//!         (format!("Hello, {name}!"),)
//!     })
//!     .await?;
//!
//! let client = transport.client("demo");
//! let (greeting,): (String,) = client.invoke("example:greeter/greet", "greet", ("wRPC",)).await?;
//! assert_eq!(greeting, "Hello, wRPC!");
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

mod admission;
mod backend;
mod client;
mod invocation;
mod local;
mod nats;
mod serve_loop;
mod server;
pub mod subject;

use std::fmt;
use std::sync::Arc;

use crate::channel::Limits;
use crate::error::{Error, Result};

pub use self::admission::{Admission, Refusal};
pub use self::client::{CallOptions, Client};
pub use self::invocation::{FromInvocation, Invocation, InvocationContext};
#[cfg(feature = "dynamic")]
pub(crate) use self::server::BAD_PARAMS;
pub use self::server::{ServeOptions, Server, Serving};
pub use self::subject::invocation_subject;

use self::backend::Backend;

/// One wRPC transport: a NATS connection, or an in-process bus.
///
/// Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Transport {
    backend: Arc<dyn Backend>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Transport").field(&self.backend).finish()
    }
}

impl Transport {
    /// wRPC over an established NATS connection, with default [`Limits`].
    ///
    /// Subscribes the connection's one inbox wildcard (`_INBOX.<id>.>`), through which every
    /// reply for every call and invocation on this transport arrives.
    pub async fn nats(client: async_nats::Client) -> Result<Self> {
        Self::nats_with_limits(client, Limits::default()).await
    }

    /// wRPC over an established NATS connection.
    pub async fn nats_with_limits(client: async_nats::Client, limits: Limits) -> Result<Self> {
        Ok(Self {
            backend: nats::Session::start(client, limits).await?,
        })
    }

    /// An in-process transport: clients and servers made from it (or its clones) talk through
    /// memory. Values are split into 1 MiB pieces, as over a default NATS server.
    pub fn in_process() -> Self {
        Self::in_process_with(1 << 20, Limits::default())
    }

    /// An in-process transport that splits values into `max_payload`-byte pieces.
    pub fn in_process_with(max_payload: usize, limits: Limits) -> Self {
        Self {
            backend: Arc::new(local::Bus::new(max_payload, limits)),
        }
    }

    /// A client that invokes functions under `prefix` (`<lattice>.<target-id>` in wasmCloud; an
    /// empty prefix is none).
    pub fn client(&self, prefix: impl Into<String>) -> Client {
        Client::new(self.clone(), prefix.into())
    }

    /// A server for functions under `options.prefix`.
    pub fn server(&self, options: ServeOptions) -> Server {
        Server::new(self.clone(), options)
    }

    /// The NATS session, if this is a NATS transport.
    fn nats_session(&self) -> Option<&nats::Session> {
        self.backend.as_any().downcast_ref()
    }

    /// The NATS connection, if this is a NATS transport.
    pub fn nats_client(&self) -> Option<&async_nats::Client> {
        self.nats_session().map(nats::Session::client)
    }

    /// Subscribes a plain NATS subject and waits until the server has the subscription.
    pub(crate) async fn subscribe_confirmed(
        &self,
        subject: &str,
        queue_group: Option<&str>,
    ) -> Result<async_nats::Subscriber> {
        match self.nats_session() {
            Some(session) => session.subscribe(subject, queue_group).await,
            None => Err(Error::Closed),
        }
    }
}
