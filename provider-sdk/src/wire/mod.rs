//! The wRPC value encoding: how WIT values become bytes and back.
//!
//! This is the Component Model value encoding as wRPC peers (`wrpc-transport 0.29`) speak it:
//!
//! | WIT | bytes |
//! |---|---|
//! | `bool` | `00` or `01`; anything else is an error |
//! | `u8`, `s8` | one raw byte |
//! | `u16`, `u32`, `u64` | unsigned LEB128 (`300` → `ac 02`) |
//! | `s16`, `s32`, `s64` | signed LEB128, sign-extended, not zigzag (`-2` → `7e`) |
//! | `f32`, `f64` | IEEE-754 little-endian, NaN written canonical |
//! | `char` | its UTF-8 bytes, no length |
//! | `string` | `u32` LEB128 byte length, then UTF-8 |
//! | `list<T>` | `u32` LEB128 element count, then the elements ([`Bytes`] for `list<u8>`) |
//! | `option<T>` | `00`, or `01` then `T` |
//! | `result<T, E>` | `00` then `T`, or `01` then `E`; a missing type adds nothing |
//! | tuple, record | the fields in order |
//! | `variant`, `enum` | `u32` LEB128 case index, then the case's payload |
//! | `flags` | little-endian bit set, `ceil(n / 8)` bytes |
//! | `own<R>`, `borrow<R>` | the handle's opaque bytes, as `list<u8>` ([`ResourceOwn`], [`ResourceBorrow`]) |
//! | `future<T>` | `00` pending (the value follows on a sub-channel), or `01` then `T` ([`WitFuture`]) |
//! | `stream<T>` | `00` pending (chunks follow on a sub-channel), or a non-empty list ([`WitStream`], [`ByteStream`]) |
//!
//! [`Encode`] writes a value into a [`Writer`]; [`Decode`] reads one from a [`Reader`]. Both are
//! implemented for the Rust types WIT maps to, and `generate!` implements them for records,
//! variants, enums and flags by calling the `Reader`/`Writer` helpers.
//!
//! # Decoding is safe on hostile input
//!
//! Decoding never panics and never trusts a length prefix: a count is checked against the bytes
//! that are actually present (and against [`Reader::limit`]) before anything is allocated.
//! When the bytes run out, decoding fails with [`Error::UnexpectedEnd`], which names how many
//! bytes the value needs at least; a transport channel uses that to wait for more of a value that
//! arrives in pieces, and gives up with [`Error::TooLarge`] if the need exceeds its limit.

mod async_value;
mod impls;
mod leb128;
mod resource;
mod sub_channel;

pub use self::async_value::{ByteStream, WitFuture, WitStream};
pub use self::impls::ByteSlice;
pub use self::resource::{ResourceBorrow, ResourceOwn};
pub use bytes::Bytes;

pub(crate) use self::async_value::{Deferred, spawn_deferred};
pub(crate) use self::sub_channel::{
    ErasedDecode, IncomingChannel, OutgoingChannel, PendingChannel, SubChannels,
};

use bytes::{BufMut, BytesMut};

use self::leb128::Leb;
use crate::error::{Error, Result};

/// The most bytes one value may take unless a limit is set: 64 MiB. [`Reader::new`] accepts
/// values up to the larger of this and its buffer.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 << 20;

/// A type that can be written in the wRPC value encoding.
///
/// Implemented by value and, for types without async parts, by reference too (`&str`,
/// `&[T]`, `&Option<T>`, ...), so callers can encode borrowed data without cloning it.
pub trait Encode {
    /// Whether a value may hold a pending `stream` or `future`. Containers only track
    /// sub-channel paths for element types where this is `true`.
    const ASYNC: bool = false;

    /// Writes this value.
    fn encode(self, w: &mut Writer) -> Result<()>;
}

/// A type that can be read from the wRPC value encoding.
pub trait Decode: Sized {
    /// The fewest bytes any encoding of this type takes. Lists check a count against it before
    /// allocating, and channels wait for at least this much before trying to decode.
    const MIN_SIZE: usize;

    /// Whether a value may hold a pending `stream` or `future`.
    const ASYNC: bool = false;

    /// Reads a value.
    fn decode(r: &mut Reader<'_>) -> Result<Self>;
}

/// Encodes a value that has no pending async parts into a buffer.
///
/// Fails with [`Error::NoAsyncChannel`] if the value holds a pending `stream` or `future`; those
/// need a transport to carry their sub-channels.
pub fn encode<T: Encode>(value: T) -> Result<Bytes> {
    let mut w = Writer::new();
    value.encode(&mut w)?;
    let (bytes, deferred) = w.finish();
    if deferred.is_empty() {
        Ok(bytes)
    } else {
        Err(Error::NoAsyncChannel)
    }
}

/// Decodes a value from a complete buffer, which it must fill exactly.
pub fn decode<T: Decode>(bytes: &Bytes) -> Result<T> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    match r.remaining() {
        0 => Ok(value),
        extra => Err(Error::TrailingBytes { extra }),
    }
}

/// A cursor over the bytes of one value, handed to [`Decode::decode`].
///
/// All reads are bounds-checked: running out of bytes is [`Error::UnexpectedEnd`] with the
/// number of bytes the value needs at least, counted from the start of the buffer.
pub struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    limit: usize,
    /// Where pending `stream`s and `future`s find their sub-channels; `None` for a plain buffer.
    channel: Option<&'a mut (dyn SubChannels + 'a)>,
    /// The path of the value being decoded, below the channel.
    path: Vec<usize>,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("len", &self.buf.len())
            .field("pos", &self.pos)
            .field("limit", &self.limit)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<'a> Reader<'a> {
    /// A reader over a complete buffer. Its limit is the larger of the buffer's length and
    /// [`DEFAULT_MAX_VALUE_BYTES`].
    pub fn new(buf: &'a Bytes) -> Self {
        Self {
            buf,
            pos: 0,
            limit: buf.len().max(DEFAULT_MAX_VALUE_BYTES),
            channel: None,
            path: Vec::new(),
        }
    }

    /// A reader over what has arrived on a channel, whose pending values find their
    /// sub-channels through `channel`.
    pub(crate) fn with_channel(
        buf: &'a Bytes,
        limit: usize,
        channel: &'a mut (dyn SubChannels + 'a),
    ) -> Self {
        Self {
            buf,
            pos: 0,
            limit,
            channel: Some(channel),
            path: Vec::new(),
        }
    }

    /// How many bytes have been read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left in the buffer.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The most bytes a value may take; a length claim beyond it is [`Error::TooLarge`].
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn end(&self, needed: usize) -> Error {
        if needed > self.limit {
            Error::TooLarge {
                what: "value",
                needed: needed as u64,
                limit: self.limit,
            }
        } else {
            Error::UnexpectedEnd {
                needed,
                available: self.buf.len(),
            }
        }
    }

    /// Checks that `n` more bytes are present.
    #[inline]
    pub fn need(&self, n: usize) -> Result<()> {
        let needed = self.pos.saturating_add(n);
        if needed <= self.buf.len() {
            Ok(())
        } else {
            Err(self.end(needed))
        }
    }

    /// Reads one byte.
    #[inline]
    pub fn read_u8(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&byte) => {
                self.pos += 1;
                Ok(byte)
            }
            None => Err(self.end(self.pos + 1)),
        }
    }

    /// Reads `N` bytes.
    #[inline]
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.need(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    /// Reads `n` bytes as a slice of the buffer.
    #[inline]
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8]> {
        self.need(n)?;
        let buf: &'a Bytes = self.buf;
        let slice = &buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Reads `n` bytes without copying them.
    #[inline]
    pub fn read_bytes(&mut self, n: usize) -> Result<Bytes> {
        self.need(n)?;
        let bytes = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(bytes)
    }

    /// Reads an unsigned LEB128 integer of `bits` bits.
    #[inline]
    pub(crate) fn read_unsigned(&mut self, bits: u32, ty: &'static str) -> Result<u64> {
        match leb128::get_unsigned(&self.buf[self.pos..], bits) {
            Leb::Value(value, len) => {
                self.pos += len;
                Ok(value)
            }
            Leb::Truncated => Err(self.end(self.buf.len() + 1)),
            Leb::Invalid => Err(Error::InvalidLeb128 { ty }),
        }
    }

    /// Reads a signed LEB128 integer of `bits` bits, sign-extended.
    #[inline]
    pub(crate) fn read_signed(&mut self, bits: u32, ty: &'static str) -> Result<i64> {
        match leb128::get_signed(&self.buf[self.pos..], bits) {
            Leb::Value(value, len) => {
                self.pos += len;
                Ok(value as i64)
            }
            Leb::Truncated => Err(self.end(self.buf.len() + 1)),
            Leb::Invalid => Err(Error::InvalidLeb128 { ty }),
        }
    }

    /// Reads a `u32` LEB128 integer, as lengths, counts and case indices are written.
    #[inline]
    pub fn read_u32(&mut self) -> Result<u32> {
        self.read_unsigned(32, "u32").map(|value| value as u32)
    }

    /// Reads a list or string length and checks that `len * min_size` bytes can follow: present
    /// in the buffer, and within the limit. Nothing is allocated from an unchecked claim.
    ///
    /// Against the limit, every element counts at least one byte, so that a list of zero-sized
    /// elements cannot claim billions of them for free.
    #[inline]
    pub fn read_len(&mut self, what: &'static str, min_size: usize) -> Result<usize> {
        let len = self.read_u32()? as usize;
        let needed = self.pos.saturating_add(len.saturating_mul(min_size.max(1)));
        if needed > self.limit {
            return Err(Error::TooLarge {
                what,
                needed: needed as u64,
                limit: self.limit,
            });
        }
        self.need(len.saturating_mul(min_size))?;
        Ok(len)
    }

    /// Reads a `variant` or `enum` case index and checks it against the number of cases.
    #[inline]
    pub fn read_case(&mut self, ty: &'static str, cases: u32) -> Result<u32> {
        let index = self.read_u32()?;
        if index < cases {
            Ok(index)
        } else {
            Err(Error::UnknownCase { ty, index, cases })
        }
    }

    /// Reads a `flags` value of `count` flags (at most 128): `ceil(count / 8)` little-endian
    /// bytes, with no bits set beyond the last flag.
    #[inline]
    pub fn read_flags(&mut self, ty: &'static str, count: usize) -> Result<u128> {
        let len = count.div_ceil(8);
        let bytes = self.read_slice(len)?;
        let mut bits = 0u128;
        for (i, &byte) in bytes.iter().enumerate().take(16) {
            bits |= u128::from(byte) << (8 * i);
        }
        if len > 16 || (count < 128 && bits >> count != 0) {
            return Err(Error::InvalidFlags { ty, count });
        }
        Ok(bits)
    }

    /// Reads a value at index `index` of a record, tuple or list, so that any pending stream or
    /// future inside it finds its sub-channel.
    #[inline]
    pub fn read_field<T: Decode>(&mut self, index: usize) -> Result<T> {
        if T::ASYNC {
            self.at(index, T::decode)
        } else {
            T::decode(self)
        }
    }

    /// Runs `read` for the value at index `index` of a record, tuple or list, so that any
    /// pending stream or future inside it finds its sub-channel: [`Reader::read_field`] for a
    /// type known at compile time, the dynamic codec for one known at run time.
    #[inline]
    pub(crate) fn at<V>(
        &mut self,
        index: usize,
        read: impl FnOnce(&mut Self) -> Result<V>,
    ) -> Result<V> {
        self.path.push(index);
        let value = read(self);
        self.path.pop();
        value
    }

    /// Reads `len` elements of a list, each at its own index.
    pub(crate) fn read_elements<T: Decode>(
        &mut self,
        len: usize,
        first_index: usize,
    ) -> Result<Vec<T>> {
        // `read_len` checked that `len * MIN_SIZE` bytes are present, so this allocation is
        // backed by bytes that arrived; a type claiming no minimum size grows as it decodes.
        let mut items = Vec::with_capacity(if T::MIN_SIZE == 0 { 0 } else { len });
        for i in 0..len {
            match self.read_field(first_index + i) {
                Ok(item) => items.push(item),
                // The elements after this one need their bytes too: say so, so that a channel
                // waits for them at once rather than one element at a time.
                Err(Error::UnexpectedEnd { needed, available }) => {
                    let rest = (len - i - 1).saturating_mul(T::MIN_SIZE);
                    return Err(Error::UnexpectedEnd {
                        needed: needed.saturating_add(rest),
                        available,
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Ok(items)
    }

    /// The sub-channel of a pending `stream` or `future` decoded at the current position.
    pub(crate) fn pending_channel(&mut self) -> Result<Box<dyn PendingChannel>> {
        let channel = self.channel.as_deref_mut().ok_or(Error::NoAsyncChannel)?;
        Ok(channel.pending(&self.path))
    }
}

/// A buffer a value is written into, handed to [`Encode::encode`].
///
/// Pending `stream` and `future` values cannot be written inline: they leave a `00` marker and
/// register work that a transport runs on their sub-channel once the value has been sent.
#[derive(Default)]
pub struct Writer {
    buf: BytesMut,
    path: Vec<usize>,
    deferred: Vec<Deferred>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("len", &self.buf.len())
            .field("path", &self.path)
            .field("deferred", &self.deferred.len())
            .finish()
    }
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many bytes have been written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes one byte.
    #[inline]
    pub fn write_u8(&mut self, byte: u8) {
        self.buf.put_u8(byte);
    }

    /// Writes raw bytes.
    #[inline]
    pub fn write_slice(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// Writes an unsigned LEB128 integer.
    #[inline]
    pub fn write_unsigned(&mut self, value: u64) {
        leb128::put_unsigned(&mut self.buf, value);
    }

    /// Writes a signed LEB128 integer.
    #[inline]
    pub fn write_signed(&mut self, value: i64) {
        leb128::put_signed(&mut self.buf, value);
    }

    /// Writes a list or string length, which must fit in `u32`.
    #[inline]
    pub fn write_len(&mut self, what: &'static str, len: usize) -> Result<()> {
        let len = u32::try_from(len).map_err(|_| Error::TooLong { what, len })?;
        self.write_unsigned(len.into());
        Ok(())
    }

    /// Writes a `variant` or `enum` case index.
    #[inline]
    pub fn write_case(&mut self, index: u32) {
        self.write_unsigned(index.into());
    }

    /// Writes a `flags` value of `count` flags (at most 128) as `ceil(count / 8)` bytes.
    #[inline]
    pub fn write_flags(&mut self, bits: u128, count: usize) {
        let len = count.div_ceil(8).min(16);
        self.buf.put_slice(&bits.to_le_bytes()[..len]);
    }

    /// Writes a value at index `index` of a record, tuple or list, so that any pending stream or
    /// future inside it gets its sub-channel.
    #[inline]
    pub fn write_field<T: Encode>(&mut self, index: usize, value: T) -> Result<()> {
        if T::ASYNC {
            self.at(index, |w| value.encode(w))
        } else {
            value.encode(self)
        }
    }

    /// Runs `write` for the value at index `index` of a record, tuple or list, so that any
    /// pending stream or future inside it gets its sub-channel: [`Writer::write_field`] for a
    /// type known at compile time, the dynamic codec for one known at run time.
    #[inline]
    pub(crate) fn at(
        &mut self,
        index: usize,
        write: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.path.push(index);
        let result = write(self);
        self.path.pop();
        result
    }

    /// Writes the elements of a list, each at its own index.
    pub(crate) fn write_elements<T: Encode>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        first_index: usize,
    ) -> Result<()> {
        for (i, item) in items.into_iter().enumerate() {
            self.write_field(first_index + i, item)?;
        }
        Ok(())
    }

    /// Registers work for a pending async value at the current path.
    pub(crate) fn defer(&mut self, task: async_value::DeferredTask) {
        self.deferred.push(Deferred {
            path: self.path.clone(),
            task,
        });
    }

    /// The bytes written and the async work registered.
    pub(crate) fn finish(self) -> (Bytes, Vec<Deferred>) {
        (self.buf.freeze(), self.deferred)
    }
}
