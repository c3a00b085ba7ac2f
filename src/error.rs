//! The crate's top-level error.

use crate::{customer::ValidationError, lifecycle::TransitionError, store::StoreError};

/// Any error from the [`Crm`](crate::Crm) façade: a store, lifecycle or validation error.
///
/// Each area also has its own error type, used where only that area is involved.
///
/// # Example
///
/// ```
/// use clientele::{Crm, CustomerId, Error, MemoryStore, StoreError};
/// let crm = Crm::new(MemoryStore::new());
/// let err = crm.get(CustomerId::new(1)).unwrap_err();
/// assert!(matches!(err, Error::Store(StoreError::NotFound(_))));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed or refused the write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The lifecycle refused an event.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Input data broke a rule or limit.
    #[error(transparent)]
    Validation(#[from] ValidationError),
}
