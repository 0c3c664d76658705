//! Resource handles: `own<R>` and `borrow<R>`.
//!
//! Over wRPC a handle is opaque bytes chosen by the server that owns the resource (a bucket name,
//! a UUID, a table index), encoded as `list<u8>`. What it means is the server's business; there
//! is no drop message, so its lifetime is the server's policy too.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use bytes::Bytes;

use super::{Decode, Encode, Reader, Writer};
use crate::error::Result;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $wit:literal) => {
        $(#[$doc])*
        pub struct $name<R: ?Sized> {
            handle: Bytes,
            _resource: PhantomData<fn() -> R>,
        }

        impl<R: ?Sized> $name<R> {
            /// A handle with the given opaque bytes.
            pub fn new(handle: impl Into<Bytes>) -> Self {
                Self {
                    handle: handle.into(),
                    _resource: PhantomData,
                }
            }

            /// The handle's opaque bytes.
            pub fn as_bytes(&self) -> &Bytes {
                &self.handle
            }

            /// The handle's opaque bytes, by value.
            pub fn into_bytes(self) -> Bytes {
                self.handle
            }
        }

        impl<R: ?Sized> Clone for $name<R> {
            fn clone(&self) -> Self {
                Self::new(self.handle.clone())
            }
        }

        impl<R: ?Sized> PartialEq for $name<R> {
            fn eq(&self, other: &Self) -> bool {
                self.handle == other.handle
            }
        }

        impl<R: ?Sized> Eq for $name<R> {}

        impl<R: ?Sized> Hash for $name<R> {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.handle.hash(state);
            }
        }

        impl<R: ?Sized> fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}<{}>({:02x?})", $wit, std::any::type_name::<R>(), &self.handle[..])
            }
        }

        impl<R: ?Sized> Encode for $name<R> {
            fn encode(self, w: &mut Writer) -> Result<()> {
                self.handle.encode(w)
            }
        }

        impl<R: ?Sized> Encode for &$name<R> {
            fn encode(self, w: &mut Writer) -> Result<()> {
                (&self.handle).encode(w)
            }
        }

        impl<R: ?Sized> Decode for $name<R> {
            const MIN_SIZE: usize = 1;

            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                Bytes::decode(r).map(Self::new)
            }
        }
    };
}

handle!(
    /// An owned handle to a resource of type `R` (WIT `own<R>`).
    ResourceOwn,
    "own"
);

handle!(
    /// A borrowed handle to a resource of type `R` (WIT `borrow<R>`).
    ResourceBorrow,
    "borrow"
);

impl<R: ?Sized> ResourceOwn<R> {
    /// Borrows the resource, as a method call passes `self`.
    pub fn borrow(&self) -> ResourceBorrow<R> {
        ResourceBorrow::new(self.handle.clone())
    }
}

impl<R: ?Sized> From<ResourceOwn<R>> for ResourceBorrow<R> {
    fn from(own: ResourceOwn<R>) -> Self {
        Self::new(own.handle)
    }
}
