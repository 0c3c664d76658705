//! Calling a function whose types are known only at run time.

use futures::future::try_join_all;
use wasm_wave::value::Value;

use super::func::{FunctionType, read_tuple};
use crate::error::Result;
use crate::transport::{CallOptions, Client};

impl Client {
    /// Invokes `func` of `instance`, of type `ty`, with `params`, and returns its results.
    ///
    /// Streams and futures among the params are sent as `generate!`'s client sends them (a
    /// stream pending, on its sub-channel, from its WAVE list; a future resolved). Those among
    /// the results are read from their sub-channels until complete, a stream as a list: the
    /// call's deadline bounds the results' own bytes, the channels' idle timeout
    /// ([`Limits::idle_timeout`](crate::Limits)) each pending part, and the value limit a
    /// stream's total size.
    pub async fn invoke_dynamic(
        &self,
        options: &CallOptions,
        instance: &str,
        func: &str,
        ty: &FunctionType,
        params: &[Value],
    ) -> Result<Vec<Value>> {
        let decoded = self
            .invoke_raw(
                options,
                instance,
                func,
                |w| ty.encode_params(params, w),
                ty.results_min_size(),
                |r| read_tuple(ty.results(), r),
            )
            .await?;
        // At the same time, as the server sends them.
        try_join_all(
            decoded
                .into_iter()
                .zip(ty.results())
                .map(|(value, (_, ty))| value.resolve(ty.clone())),
        )
        .await
    }
}
