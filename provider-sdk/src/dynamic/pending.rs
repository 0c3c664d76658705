//! Reading the pending `stream`s and `future`s of a [`Decoded`] value from their sub-channels,
//! through the same channel traits the static codec's `WitStream` and `WitFuture` use, until the
//! value is complete.
//!
//! - A pending `future<T>`: its channel carries one `T`. A stream or future inside that `T` at the
//!   future's own path continues on the same channel, so the channel is let go before they are
//!   read. A `future` without a type carries no bytes: it has resolved when its channel ends.
//! - A pending `stream<T>`: chunks (`u32` count, then the elements, at absolute indices), ended
//!   by an empty chunk. Collected into one list, so bounded: the chunks together may take at
//!   most the channel's value limit ([`Reader::limit`]).
//!
//! Pending parts next to each other (two stream arguments, say) are read at the same time, as
//! their sender sends them.

use futures::future::{BoxFuture, FutureExt as _, try_join_all};
use wasm_wave::value::Value;

use super::decode::{Decoded, check_elements, read, read_elements};
use super::ty::{DynamicType, Kind};
use crate::error::{Error, Result};
use crate::wire::{IncomingChannel, PendingChannel, Reader};

impl Decoded {
    /// The finished value, its pending parts read from their sub-channels.
    pub(crate) fn resolve(self, ty: DynamicType) -> BoxFuture<'static, Result<Value>> {
        async move { self.read_pending(ty.clone()).await?.assemble(&ty) }.boxed()
    }

    /// This tree with every pending part replaced by what its channel carried.
    fn read_pending(self, ty: DynamicType) -> BoxFuture<'static, Result<Decoded>> {
        async move {
            Ok(match (self, ty.kind()) {
                (Decoded::Pending(channel), Kind::Stream(element)) => {
                    let items = read_stream(channel, element).await?;
                    Decoded::List(all(items, element).await?)
                }
                (Decoded::Pending(channel), Kind::Future(payload)) => {
                    // What the future carried may hold pending parts of its own.
                    let value = Decoded::Ready(read_future(channel, payload.as_ref()).await?);
                    value.read_pending(ty.clone()).await?
                }
                (Decoded::List(items), Kind::List(element) | Kind::Stream(element)) => {
                    Decoded::List(all(items, element).await?)
                }
                (Decoded::Fields(values), Kind::Record(fields)) => {
                    let types: Vec<DynamicType> = fields.iter().map(|(_, ty)| ty.clone()).collect();
                    Decoded::Fields(each(values, types).await?)
                }
                (Decoded::Fields(values), Kind::Tuple(types)) => {
                    Decoded::Fields(each(values, types.to_vec()).await?)
                }
                (Decoded::Variant(index, Some(payload)), Kind::Variant(cases)) => {
                    match cases.get(index).and_then(|(_, ty)| ty.clone()) {
                        Some(ty) => Decoded::Variant(index, Some(payload.boxed_pending(ty).await?)),
                        None => Decoded::Variant(index, Some(payload)),
                    }
                }
                (Decoded::Option(Some(value)), Kind::Option(some)) => {
                    Decoded::Option(Some(value.boxed_pending(some.clone()).await?))
                }
                (Decoded::Result(Ok(Some(value))), Kind::Result { ok: Some(ty), .. }) => {
                    Decoded::Result(Ok(Some(value.boxed_pending(ty.clone()).await?)))
                }
                (Decoded::Result(Err(Some(value))), Kind::Result { err: Some(ty), .. }) => {
                    Decoded::Result(Err(Some(value.boxed_pending(ty.clone()).await?)))
                }
                (Decoded::Ready(Some(value)), Kind::Future(Some(ty))) => {
                    Decoded::Ready(Some(value.boxed_pending(ty.clone()).await?))
                }
                // Finished, or nothing below that can be pending.
                (decoded, _) => decoded,
            })
        }
        .boxed()
    }

    async fn boxed_pending(self: Box<Self>, ty: DynamicType) -> Result<Box<Decoded>> {
        Ok(Box::new(self.read_pending(ty).await?))
    }
}

/// The elements of a list, each read to the end, at the same time.
async fn all(items: Vec<Decoded>, element: &DynamicType) -> Result<Vec<Decoded>> {
    try_join_all(
        items
            .into_iter()
            .map(|item| item.read_pending(element.clone())),
    )
    .await
}

/// The fields of a record or tuple, each read to the end, at the same time.
async fn each(values: Vec<Decoded>, types: Vec<DynamicType>) -> Result<Vec<Decoded>> {
    try_join_all(
        values
            .into_iter()
            .zip(types)
            .map(|(value, ty)| value.read_pending(ty)),
    )
    .await
}

/// A pending stream's elements, all its chunks read; their own pending parts not yet.
async fn read_stream(
    channel: Box<dyn PendingChannel>,
    element: &DynamicType,
) -> Result<Vec<Decoded>> {
    let mut reader: Box<dyn IncomingChannel> = channel.claim()?;
    let mut items = Vec::new();
    let mut total = 0usize;
    loop {
        let next_index = items.len();
        let (chunk, used, limit) = reader
            .read_with("stream", 1, |r: &mut Reader<'_>| {
                let len = r.read_len("stream chunk", element.min_size())?;
                let chunk = read_elements(element, len, next_index, r)?;
                Ok((chunk, r.position(), r.limit()))
            })
            .await?;
        if chunk.is_empty() {
            return Ok(items);
        }
        total = total.saturating_add(used);
        check_elements("stream", items.len().saturating_add(chunk.len()), limit)?;
        if total > limit {
            return Err(Error::TooLarge {
                what: "stream",
                needed: total as u64,
                limit,
            });
        }
        items.extend(chunk);
    }
}

/// A pending future's value; its own pending parts not yet read.
async fn read_future(
    channel: Box<dyn PendingChannel>,
    payload: Option<&DynamicType>,
) -> Result<Option<Box<Decoded>>> {
    let mut reader: Box<dyn IncomingChannel> = channel.claim()?;
    match payload {
        Some(ty) => {
            let value = reader
                .read_with("future", ty.min_size(), |r: &mut Reader<'_>| read(ty, r))
                .await?;
            // Let the channel go: a pending part at the future's own path continues on it.
            drop(reader);
            Ok(Some(Box::new(value)))
        }
        None => {
            reader.expect_end().await?;
            Ok(None)
        }
    }
}
