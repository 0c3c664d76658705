//! Serving functions whose types are known only at run time: an invocation's params read as
//! WAVE values, its results written from WAVE values.
//!
//! [`Invocation::read_params_dynamic`] and [`Invocation::write_results_dynamic`] are the dynamic
//! twins of `read_params` and `write_results`; [`Server::serve_dynamic`] serves a list of
//! [`DynamicFunction`]s with them and hands each invocation out as a [`DynamicCall`], its params
//! complete, through a bounded queue ([`DynamicCalls`]), to be answered with
//! [`DynamicCall::reply`].
//!
//! An invocation holds its server's concurrency permit until it is answered or dropped, and is
//! bound by the server's deadline ([`ServeOptions::timeout`](crate::transport::ServeOptions)):
//! a call not taken from the queue in time is dropped, and its caller sees an incomplete result.

use std::fmt;
use std::sync::Arc;

use futures::future::try_join_all;
use tokio::sync::{mpsc, oneshot};
use wasm_wave::value::Value;

use super::func::{FunctionType, read_tuple};
use crate::error::Result;
use crate::transport::{BAD_PARAMS, Invocation, InvocationContext, Server, Serving};

impl Invocation {
    /// Reads the params, of the types `ty` gives, as soon as they have all arrived; pending
    /// `stream`s and `future`s among them are read from their sub-channels until complete (a
    /// stream as a list), as [`Client::invoke_dynamic`](crate::transport::Client::invoke_dynamic)
    /// reads results. The channels' idle timeout bounds each pending part and the value limit a
    /// stream's total size ([`Limits`](crate::Limits)).
    pub async fn read_params_dynamic(&mut self, ty: &FunctionType) -> Result<Vec<Value>> {
        let decoded = self
            .read_params_with(ty.params_min_size(), |r| read_tuple(ty.params(), r))
            .await?;
        // At the same time, as the caller sends them.
        try_join_all(
            decoded
                .into_iter()
                .zip(ty.params())
                .map(|(value, (_, ty))| value.resolve(ty.clone())),
        )
        .await
    }

    /// Writes `results`, of the types `ty` gives, as `generate!`'s server writes them (a
    /// stream pending, its elements on its sub-channel; a future resolved), and ends the results
    /// channel. A value that does not fit its type is
    /// [`Error::InvalidValue`](crate::Error::InvalidValue); the caller then sees an incomplete
    /// result.
    pub async fn write_results_dynamic(self, ty: &FunctionType, results: &[Value]) -> Result<()> {
        self.write_results_with(|w| ty.encode_results(results, w))
            .await
    }
}

/// A function to serve dynamically: its instance (`wasmcloud:messaging/handler@0.2.0`), its
/// name on the wire (`handle-message`, `bucket.get`) and its type.
#[derive(Clone, Debug)]
pub struct DynamicFunction {
    instance: String,
    name: String,
    ty: FunctionType,
}

impl DynamicFunction {
    /// `name` of `instance`, of type `ty`.
    pub fn new(instance: impl Into<String>, name: impl Into<String>, ty: FunctionType) -> Self {
        Self {
            instance: instance.into(),
            name: name.into(),
            ty,
        }
    }

    /// The instance: the interface's id, or the world's for a world's own functions.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The name on the wire.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The params' and results' types.
    pub fn ty(&self) -> &FunctionType {
        &self.ty
    }
}

/// One invocation of a [`DynamicFunction`], its params read. Answer it with
/// [`DynamicCall::reply`]; dropping it unanswered ends its results, and the caller sees an
/// incomplete result at once.
pub struct DynamicCall {
    function: Arc<DynamicFunction>,
    params: Vec<Value>,
    invocation: Invocation,
    /// Dropped once answered or dropped: lets the serving task, and its permit, go.
    _done: oneshot::Sender<()>,
}

impl fmt::Debug for DynamicCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicCall")
            .field("instance", &self.function.instance)
            .field("name", &self.function.name)
            .field("subject", &self.invocation.context().subject())
            .finish_non_exhaustive()
    }
}

impl DynamicCall {
    /// The function called.
    pub fn function(&self) -> &DynamicFunction {
        &self.function
    }

    /// The invocation's subject and headers.
    pub fn context(&self) -> &InvocationContext {
        self.invocation.context()
    }

    /// The params, in order, complete (pending streams and futures read).
    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// Answers with `results`, one value per result of the function (none for a function
    /// without results), as [`Invocation::write_results_dynamic`] writes them.
    pub async fn reply(self, results: &[Value]) -> Result<()> {
        self.invocation
            .write_results_dynamic(&self.function.ty, results)
            .await
    }
}

/// The invocations [`Server::serve_dynamic`] hands out, in a bounded queue.
#[derive(Debug)]
pub struct DynamicCalls {
    queue: mpsc::Receiver<DynamicCall>,
}

impl DynamicCalls {
    /// The next invocation; `None` once serving has stopped and the queue is empty.
    pub async fn recv(&mut self) -> Option<DynamicCall> {
        self.queue.recv().await
    }
}

impl Server {
    /// Serves every function of `functions`: each invocation's params are read (as
    /// [`Invocation::read_params_dynamic`] reads them) and the invocation is queued as a
    /// [`DynamicCall`] in the returned [`DynamicCalls`], which holds at most `capacity` (at least
    /// one) calls; past that, invocations wait for room, holding their permits (backpressure).
    ///
    /// Params that cannot be read (they do not fit the type, or a pending stream stalls) are
    /// logged and the invocation is dropped: wRPC has no error frame, the caller sees an
    /// incomplete result. Serving stops when the returned [`Serving`] is dropped.
    pub async fn serve_dynamic(
        &self,
        functions: impl IntoIterator<Item = DynamicFunction>,
        capacity: usize,
    ) -> Result<(Serving, DynamicCalls)> {
        let (sender, queue) = mpsc::channel(capacity.max(1));
        let mut serving = Serving::default();
        for function in functions {
            let function = Arc::new(function);
            let (instance, name) = (function.instance.clone(), function.name.clone());
            let sender = sender.clone();
            let handler = move |invocation: Invocation| {
                handle(Arc::clone(&function), sender.clone(), invocation)
            };
            serving.merge(self.serve(&instance, &name, handler).await?);
        }
        Ok((serving, DynamicCalls { queue }))
    }
}

/// Reads one invocation's params, queues it, and waits until it has been answered or dropped.
async fn handle(
    function: Arc<DynamicFunction>,
    queue: mpsc::Sender<DynamicCall>,
    mut invocation: Invocation,
) {
    let params = match invocation.read_params_dynamic(&function.ty).await {
        Ok(params) => params,
        Err(error) => {
            BAD_PARAMS.note(None, &error);
            return;
        }
    };
    let (done, answered) = oneshot::channel();
    let call = DynamicCall {
        function,
        params,
        invocation,
        _done: done,
    };
    if queue.send(call).await.is_err() {
        tracing::debug!("dropping an invocation: nobody takes the calls any more");
        return;
    }
    // An error means the call was answered or dropped: either way, this invocation is over.
    let _ = answered.await;
}
