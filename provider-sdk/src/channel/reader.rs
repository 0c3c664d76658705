//! Decoding values from an incoming channel.

use std::sync::Arc;

use bytes::{Buf, BytesMut};
use futures::future::BoxFuture;

use super::ChannelReader;
use super::inbox::{Arming, Inbox, PendingChannel};
use crate::error::{Error, Result};
use crate::wire::{self, Decode, ErasedDecode, Reader, SubChannels};

/// One decode attempt's view of its channel: pending values decoded in it get sub-channels
/// below the channel, armed only if the attempt succeeds.
struct Decoding<'c> {
    inbox: &'c Arc<Inbox>,
    base: &'c [usize],
    armings: Vec<Arming>,
}

impl SubChannels for Decoding<'_> {
    fn pending(&mut self, path: &[usize]) -> Box<dyn wire::PendingChannel> {
        let mut full = Vec::with_capacity(self.base.len() + path.len());
        full.extend_from_slice(self.base);
        full.extend_from_slice(path);
        let pending = PendingChannel::new(Arc::clone(self.inbox), full);
        self.armings.push(pending.arming());
        Box::new(pending)
    }
}

impl wire::IncomingChannel for ChannelReader {
    fn read_erased<'a>(
        &'a mut self,
        what: &'static str,
        min_size: usize,
        decode: &'a mut ErasedDecode<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.read_with(what, min_size, decode))
    }

    fn expect_end(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(ChannelReader::expect_end(self))
    }
}

impl ChannelReader {
    /// Reads one value of type `T`. `what` names the channel in errors (`"result"`).
    pub(crate) async fn read<T: Decode>(&mut self, what: &'static str) -> Result<T> {
        self.read_with(what, T::MIN_SIZE, T::decode).await
    }

    /// Reads one value with `decode`, which needs at least `min_size` bytes.
    ///
    /// `decode` runs on what has arrived; if that is not enough, the reader waits for as many
    /// bytes as the decoder said the value needs at least, takes whatever else has arrived by
    /// then, and decodes again from the start.
    pub(crate) async fn read_with<V>(
        &mut self,
        what: &'static str,
        min_size: usize,
        mut decode: impl FnMut(&mut Reader<'_>) -> Result<V>,
    ) -> Result<V> {
        let limit = self.inbox.limits().max_value_bytes;
        let mut needed = min_size;
        loop {
            self.fill(needed, what).await?;
            let mut decoding = Decoding {
                inbox: &self.inbox,
                base: &self.path,
                armings: Vec::new(),
            };
            let mut reader = Reader::with_channel(&self.buf, limit, &mut decoding);
            let decoded = decode(&mut reader);
            let used = reader.position();
            match decoded {
                Ok(value) => {
                    let armings = decoding.armings;
                    self.buf.advance(used);
                    self.consumed(used);
                    for arming in armings {
                        arming.arm()?;
                    }
                    return Ok(value);
                }
                // Wait for what the decoder said it needs; always make progress.
                Err(Error::UnexpectedEnd { needed: more, .. }) => {
                    needed = more.max(self.buf.len() + 1);
                }
                Err(source) => {
                    return Err(Error::Malformed {
                        subject: self.subject(),
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    /// Receives until at least `needed` bytes are buffered, then takes whatever else has
    /// already arrived (so a value that arrived in many pieces is decoded once, not per piece).
    async fn fill(&mut self, needed: usize, what: &'static str) -> Result<()> {
        if self.buf.len() >= needed {
            return Ok(());
        }
        let mut acc: Option<BytesMut> = None;
        loop {
            let have = acc.as_ref().map_or(self.buf.len(), BytesMut::len);
            let message = if have >= needed {
                match self.try_next_message() {
                    Some(message) => message,
                    None => break,
                }
            } else {
                match self.next_message().await {
                    Ok(Some(message)) => message,
                    result => {
                        if let Some(acc) = acc {
                            self.buf = acc.freeze();
                        }
                        result?;
                        return Err(Error::Incomplete {
                            what,
                            subject: self.subject(),
                            received: self.received,
                        });
                    }
                }
            };
            match &mut acc {
                // The common case, a value in one message: keep it without copying.
                None if self.buf.is_empty() => self.buf = message,
                // Taking back a buffer nobody else holds does not copy it either.
                None => {
                    let mut joined = BytesMut::from(std::mem::take(&mut self.buf));
                    joined.extend_from_slice(&message);
                    acc = Some(joined);
                }
                Some(acc) => acc.extend_from_slice(&message),
            }
        }
        if let Some(acc) = acc {
            self.buf = acc.freeze();
        }
        Ok(())
    }

    /// Waits for the end of the channel, which must carry no more bytes.
    pub(crate) async fn expect_end(&mut self) -> Result<()> {
        loop {
            if !self.buf.is_empty() {
                return Err(self.trailing_bytes());
            }
            match self.next_message().await? {
                Some(message) => self.buf = message,
                None => return Ok(()),
            }
        }
    }

    /// Fails if bytes beyond the value have already arrived: the two sides disagree about the
    /// type (different versions of the WIT, say). Bytes that have not arrived yet go unchecked,
    /// so that a call never waits for them.
    pub(crate) fn check_no_trailing_bytes(&mut self) -> Result<()> {
        while let Some(message) = self.try_next_message() {
            if self.buf.is_empty() {
                self.buf = message;
            } else {
                let mut joined = BytesMut::from(std::mem::take(&mut self.buf));
                joined.extend_from_slice(&message);
                self.buf = joined.freeze();
            }
        }
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.trailing_bytes())
        }
    }

    fn trailing_bytes(&self) -> Error {
        Error::Malformed {
            subject: self.subject(),
            source: Box::new(Error::TrailingBytes {
                extra: self.buf.len(),
            }),
        }
    }
}
