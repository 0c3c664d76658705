//! Delivery slots: how many messages are with components at once, per link and over the
//! provider.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

/// The provider-wide delivery slots: one semaphore whose size follows
/// `provider_max_in_flight`.
#[derive(Debug)]
pub(crate) struct ProviderSlots {
    semaphore: Arc<Semaphore>,
    size: std::sync::Mutex<usize>,
}

impl ProviderSlots {
    pub(crate) fn new(size: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size: std::sync::Mutex::new(size),
        }
    }

    pub(crate) fn semaphore(&self) -> Arc<Semaphore> {
        Arc::clone(&self.semaphore)
    }

    /// Grows or shrinks to `size` slots. Shrinking takes the surplus slots out as they come
    /// free: deliveries in flight finish.
    pub(crate) fn resize(&self, size: usize) {
        let mut current = self.size.lock().unwrap_or_else(|e| e.into_inner());
        if size > *current {
            self.semaphore.add_permits(size - *current);
        } else if size < *current {
            let surplus = u32::try_from(*current - size).unwrap_or(u32::MAX);
            let semaphore = Arc::clone(&self.semaphore);
            tokio::spawn(async move {
                if let Ok(permits) = semaphore.acquire_many_owned(surplus).await {
                    permits.forget();
                }
            });
        }
        *current = size;
    }
}

/// How a handler link admits messages.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// The link's slots (`max_in_flight`).
    pub(crate) link: Arc<Semaphore>,
    /// The provider's slots (`provider_max_in_flight`).
    pub(crate) provider: Arc<Semaphore>,
    /// `admission_wait_ms`.
    pub(crate) wait: Duration,
    /// How long a closing link keeps delivering what is already buffered.
    pub(crate) drain: Duration,
}

impl Limits {
    /// Both slots if both are free now.
    pub(super) fn try_admit(&self) -> Option<[OwnedSemaphorePermit; 2]> {
        let link = Arc::clone(&self.link).try_acquire_owned().ok()?;
        let provider = Arc::clone(&self.provider).try_acquire_owned().ok()?;
        Some([link, provider])
    }

    pub(super) async fn admit(
        &self,
    ) -> std::result::Result<[OwnedSemaphorePermit; 2], AcquireError> {
        let link = Arc::clone(&self.link).acquire_owned().await?;
        let provider = Arc::clone(&self.provider).acquire_owned().await?;
        Ok([link, provider])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn settled(semaphore: &Semaphore, expected: usize) -> bool {
        for _ in 0..100 {
            if semaphore.available_permits() == expected {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// Growing adds slots at once; shrinking takes the surplus out only as deliveries in
    /// flight give their slots back, never cutting one short.
    #[tokio::test]
    async fn provider_slots_grow_at_once_and_shrink_as_deliveries_finish() {
        let slots = ProviderSlots::new(2);
        let semaphore = slots.semaphore();
        let held = Arc::clone(&semaphore).acquire_many_owned(2).await.unwrap();
        slots.resize(1);
        assert_eq!(semaphore.available_permits(), 0);
        drop(held);
        assert!(
            settled(&semaphore, 1).await,
            "{}",
            semaphore.available_permits()
        );
        slots.resize(4);
        assert_eq!(semaphore.available_permits(), 4);
        slots.resize(4);
        assert_eq!(semaphore.available_permits(), 4);
    }
}
