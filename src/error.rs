//! The crate's top-level error, and the store error (here so that the stores and the façade
//! both sit above it).

use std::error::Error as StdError;

use crate::{customer::CustomerId, lifecycle::TransitionError, validation::ValidationError};

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

/// What can go wrong in a store. A failed operation writes nothing.
///
/// # Example
///
/// ```
/// use clientele::{CustomerId, MemoryStore, Store, StoreError};
/// let err = MemoryStore::new().get(CustomerId::new(5)).unwrap_err();
/// assert!(matches!(err, StoreError::NotFound(id) if id == CustomerId::new(5)));
/// assert_eq!(err.to_string(), "customer #5 not found");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No customer has this id.
    #[error("customer {0} not found")]
    NotFound(CustomerId),
    /// The customer was written by someone else since it was read: re-read and retry.
    #[error("customer {id} changed concurrently: write expected version {expected}, store has {found}")]
    Conflict {
        /// The customer.
        id: CustomerId,
        /// The version the write was based on.
        expected: u64,
        /// The version stored.
        found: u64,
    },
    /// Insert of an id that is already stored.
    #[error("customer {0} already exists")]
    AlreadyExists(CustomerId),
    /// The data breaks a rule or limit, or the change does not follow from the stored customer.
    #[error("invalid data for customer {id}: {source}")]
    InvalidData {
        /// The customer.
        id: CustomerId,
        /// What is wrong.
        #[source]
        source: ValidationError,
    },
    /// The database's schema is newer than this version of the crate understands (it was
    /// written by a newer version). Nothing was read or changed: upgrade the crate, or use
    /// another database.
    #[error("database schema version {found} is newer than the newest this version supports ({supported})")]
    SchemaTooNew {
        /// The schema version recorded in the database.
        found: i64,
        /// The newest schema version this version of the crate knows.
        supported: i64,
    },
    /// The underlying database failed.
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// Whether retrying after re-reading the customer may succeed.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{CustomerId, StoreError};
    /// assert!(StoreError::Conflict { id: CustomerId::new(1), expected: 1, found: 2 }.is_conflict());
    /// ```
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
