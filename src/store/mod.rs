//! Storage through a trait: the core never assumes a database.
//!
//! [`Store`] is small and object-safe; [`MemoryStore`] is the embedded default,
//! `SqliteStore` (feature `sqlite`) keeps customers in an SQLite database, and
//! `PostgresStore` (feature `postgres`) in a PostgreSQL database. Every store runs the same
//! conformance suite (`tests/integration/conformance.rs`).

mod change;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, Utc};

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use self::postgres::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use self::sqlite::SqliteStore;
pub use self::{change::Change, memory::MemoryStore};
pub use crate::error::StoreError;
use crate::{
    customer::{Customer, CustomerId, Purchase},
    lifecycle::{Transition, replay},
    segment::Segment,
    validation::ValidationError,
};

/// A place to keep customers and their histories.
///
/// Contract, checked by the conformance suite for every implementation:
/// - `insert` stores a new customer at version 1, or fails with
///   [`AlreadyExists`](StoreError::AlreadyExists) and writes nothing.
/// - `update` commits a [`Change`] atomically (customer, new purchases, new transitions)
///   only if the stored version equals [`Change::expected_version`], and returns the new
///   version (one more); otherwise [`Conflict`](StoreError::Conflict) and nothing is written.
///   It refuses, as [`InvalidData`](StoreError::InvalidData), a change whose stage or
///   purchases do not follow from the stored customer, or whose customer was read at another
///   version (see [`check_change`]).
/// - `history` returns the transitions in the order committed.
/// - `scan` pages through customers in id order: those after `after`, at most `limit`.
/// - `erase` removes the customer and everything recorded about them.
///
/// # Example
///
/// A function that works with any store:
///
/// ```
/// use clientele::{CustomerId, Store, StoreError};
///
/// fn names(store: &dyn Store) -> Result<Vec<String>, StoreError> {
///     let mut out = Vec::new();
///     let mut after = None;
///     loop {
///         let batch = store.scan(after, 100)?;
///         let Some(last) = batch.last() else { break };
///         after = Some(last.id());
///         out.extend(batch.into_iter().map(|c| c.profile.display_name));
///     }
///     Ok(out)
/// }
/// assert!(names(&clientele::MemoryStore::new())?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Store: Send + Sync {
    /// Stores a new customer; returns its version (1).
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`], [`StoreError::InvalidData`], [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, StoreError};
    /// let store = MemoryStore::new();
    /// let ada = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// assert_eq!(store.insert(ada.clone())?, 1);
    /// assert!(matches!(store.insert(ada), Err(StoreError::AlreadyExists(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn insert(&self, customer: Customer) -> Result<u64, StoreError>;

    /// Stores new customers, all or nothing (an import); returns how many.
    ///
    /// If any customer is invalid, already stored, or appears twice in `customers`, nothing
    /// is written and the error names the first such customer. `MemoryStore`, `SqliteStore`
    /// and `PostgresStore` write the batch at once (one lock, one transaction), much faster
    /// than one `insert` each. The default inserts one at a time and, if one fails, erases
    /// the ones it inserted before returning the error.
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`], [`StoreError::InvalidData`], [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, StoreError};
    /// let store = MemoryStore::new();
    /// let new = |i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH);
    /// assert_eq!(store.insert_many(vec![new(1), new(2)])?, 2);
    /// // Customer 2 is stored already: customer 3 is not written either.
    /// assert!(matches!(store.insert_many(vec![new(3), new(2)]), Err(StoreError::AlreadyExists(_))));
    /// assert_eq!(store.count()?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        check_batch(&customers)?;
        let n = customers.len();
        let mut done = Vec::with_capacity(n);
        for c in customers {
            let id = c.id();
            if let Err(e) = self.insert(c) {
                for id in done {
                    // Best effort: the batch failed either way, and the error says why.
                    let _ = self.erase(id);
                }
                return Err(e);
            }
            done.push(id);
        }
        Ok(n)
    }

    /// The stored customer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, StoreError};
    /// let store = MemoryStore::new();
    /// store.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
    /// assert_eq!(store.get(CustomerId::new(1))?.version(), 1);
    /// assert!(matches!(store.get(CustomerId::new(2)), Err(StoreError::NotFound(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError>;

    /// Calls `f` once with the stored customer, by reference: what [`get`](Self::get) gives,
    /// without the copy where the store holds customers in memory. `f` must not call back
    /// into the store (it may run under the store's lock).
    ///
    /// The default calls `f` with [`get`](Self::get)'s answer; [`MemoryStore`] overrides it.
    /// Wrappers such as [`LiveStore`](crate::live::LiveStore) read the customer before a
    /// write with it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] (`f` is not called), [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store};
    /// let store = MemoryStore::new();
    /// store.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
    /// let mut name = String::new();
    /// store.get_with(CustomerId::new(1), &mut |c| name = c.profile.display_name.clone())?;
    /// assert_eq!(name, "Ada");
    /// assert!(store.get_with(CustomerId::new(2), &mut |_| unreachable!()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn get_with(&self, id: CustomerId, f: &mut dyn FnMut(&Customer)) -> Result<(), StoreError> {
        f(&self.get(id)?);
        Ok(())
    }

    /// Commits a change atomically; returns the new version.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Conflict`], [`StoreError::InvalidData`],
    /// [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId, MemoryStore, Store};
    /// let store = MemoryStore::new();
    /// let id = CustomerId::new(1);
    /// store.insert(Customer::new(id, "Ada", DateTime::UNIX_EPOCH))?;
    ///
    /// // Two writers read version 1; the first to commit wins.
    /// let mut first = Change::new(store.get(id)?);
    /// let mut second = Change::new(store.get(id)?);
    /// first.customer_mut().referrals = 1;
    /// second.customer_mut().referrals = 2;
    /// assert_eq!(store.update(first)?, 2);
    /// assert!(store.update(second).is_err_and(|e| e.is_conflict()));
    /// assert_eq!(store.get(id)?.referrals, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn update(&self, change: Change) -> Result<u64, StoreError>;

    /// The customer's transitions, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId, Event, MemoryStore, Stage, Store, lifecycle::Lifecycle};
    /// let (store, machine, t) = (MemoryStore::new(), Lifecycle::default(), DateTime::UNIX_EPOCH);
    /// let id = CustomerId::new(1);
    /// store.insert(Customer::new(id, "Ada", t))?;
    /// let mut change = Change::new(store.get(id)?);
    /// change.apply(&machine, Event::Qualify, t, None)?;
    /// change.apply(&machine, Event::Disqualify, t, Some("no budget"))?;
    /// store.update(change)?;
    /// let stages: Vec<Stage> = store.history(id)?.iter().map(|t| t.to).collect();
    /// assert_eq!(stages, [Stage::Prospect, Stage::DisqualifiedProspect]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError>;

    /// How many customers are stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store};
    /// let store = MemoryStore::new();
    /// for i in 1..=3 {
    ///     store.insert(Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH))?;
    /// }
    /// assert_eq!(store.count()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn count(&self) -> Result<usize, StoreError>;

    /// Up to `limit` customers with ids after `after` (from the first if `None`), in id order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store};
    /// let store = MemoryStore::new();
    /// for i in [4, 1, 5, 2, 3] {
    ///     store.insert(Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH))?;
    /// }
    /// let ids = |page: Vec<Customer>| page.iter().map(|c| c.id().get()).collect::<Vec<_>>();
    /// assert_eq!(ids(store.scan(None, 2)?), [1, 2]);
    /// assert_eq!(ids(store.scan(Some(CustomerId::new(2)), 10)?), [3, 4, 5]);
    /// assert!(store.scan(Some(CustomerId::new(5)), 10)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError>;

    /// Removes the customer, their purchases and their history (the right to be forgotten).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, StoreError};
    /// let store = MemoryStore::new();
    /// let id = CustomerId::new(1);
    /// store.insert(Customer::new(id, "Ada", DateTime::UNIX_EPOCH))?;
    /// store.erase(id)?;
    /// assert!(matches!(store.get(id), Err(StoreError::NotFound(_))));
    /// assert!(matches!(store.history(id), Err(StoreError::NotFound(_))));
    /// assert!(matches!(store.erase(id), Err(StoreError::NotFound(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn erase(&self, id: CustomerId) -> Result<(), StoreError>;

    /// The ids of the customers in `segment` as of `as_of`, in id order.
    ///
    /// The default scans every customer and evaluates the segment in Rust. Database stores
    /// override it to evaluate in the database; the answer must be the same.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, segment::{Schema, Segment}};
    /// let store = MemoryStore::new();
    /// for i in 1..=3 {
    ///     let mut c = Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH);
    ///     c.referrals = u32::try_from(i)?;
    ///     store.insert(c)?;
    /// }
    /// let s = Segment::compile("referrals >= 2", &Schema::default())?;
    /// assert_eq!(store.query(&s, DateTime::UNIX_EPOCH)?, [CustomerId::new(2), CustomerId::new(3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        query_by_scan(self, segment, as_of)
    }
}

/// The members of `segment` as of `as_of`, found by scanning every customer of `store` and
/// evaluating the segment in Rust: the default [`Store::query`], for stores that override it
/// to call when they cannot evaluate a segment themselves.
///
/// # Errors
///
/// [`StoreError::Backend`] from the scan.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, MemoryStore, Store, segment::{Schema, Segment}, store::query_by_scan};
/// let store = MemoryStore::new();
/// store.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
/// let s = Segment::compile("stage = suspect", &Schema::default())?;
/// assert_eq!(query_by_scan(&store, &s, DateTime::UNIX_EPOCH)?, [CustomerId::new(1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn query_by_scan<S: Store + ?Sized>(
    store: &S,
    segment: &Segment,
    as_of: DateTime<Utc>,
) -> Result<Vec<CustomerId>, StoreError> {
    let matcher = segment.at(as_of);
    let mut members = Vec::new();
    let mut after = None;
    loop {
        let batch = store.scan(after, QUERY_BATCH)?;
        let Some(last) = batch.last() else { return Ok(members) };
        after = Some(last.id());
        members.extend(batch.iter().filter(|c| matcher.matches(c)).map(Customer::id));
    }
}

/// How many customers the default [`Store::query`] reads at a time.
const QUERY_BATCH: usize = 1024;

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: Store + ?Sized> Store for $ty {
            fn insert(&self, customer: Customer) -> Result<u64, StoreError> { (**self).insert(customer) }
            fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
                (**self).insert_many(customers)
            }
            fn get(&self, id: CustomerId) -> Result<Customer, StoreError> { (**self).get(id) }
            fn get_with(&self, id: CustomerId, f: &mut dyn FnMut(&Customer)) -> Result<(), StoreError> {
                (**self).get_with(id, f)
            }
            fn update(&self, change: Change) -> Result<u64, StoreError> { (**self).update(change) }
            fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> { (**self).history(id) }
            fn count(&self) -> Result<usize, StoreError> { (**self).count() }
            fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
                (**self).scan(after, limit)
            }
            fn erase(&self, id: CustomerId) -> Result<(), StoreError> { (**self).erase(id) }
            fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
                (**self).query(segment, as_of)
            }
        }
    )*};
}
forward_store!(&S, Box<S>, Arc<S>);

/// Checks a batch for [`Store::insert_many`] before anything is written: every customer
/// valid, no id twice.
pub(crate) fn check_batch(customers: &[Customer]) -> Result<(), StoreError> {
    let mut ids = std::collections::BTreeSet::new();
    for c in customers {
        let id = c.id();
        c.validate().map_err(|source| StoreError::InvalidData { id, source })?;
        if !ids.insert(id) {
            return Err(StoreError::AlreadyExists(id));
        }
    }
    Ok(())
}

/// Checks that a change's parts follow from the stored customer: same id, read at the stored
/// version, the transitions replay from the stored lifecycle position to the new one, the
/// purchase list is the stored one plus exactly the new purchases, the new purchases are
/// valid, and every other field is within its limits. Every store calls it before writing,
/// after checking that the stored version is the change's expected one.
///
/// # Errors
///
/// [`StoreError::InvalidData`] naming what does not follow.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, LifecycleState, Stage, store::check_change};
/// let t = DateTime::UNIX_EPOCH;
/// let stored = Customer::new(CustomerId::new(1), "x", t);
/// let forged = stored.clone().with_lifecycle(LifecycleState::at_stage(Stage::Client, t, None)?);
/// assert!(check_change(&stored, &forged, &[], &[]).is_err()); // a stage change needs transitions
/// assert!(check_change(&stored, &stored, &[], &[]).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_change(
    stored: &Customer,
    new: &Customer,
    purchases: &[Purchase],
    transitions: &[Transition],
) -> Result<(), StoreError> {
    let id = stored.id();
    let invalid =
        |field: &str, reason: String| StoreError::InvalidData { id, source: ValidationError::new(field, reason) };
    if new.id() != id {
        return Err(invalid("id", format!("change is for {} but targets {id}", new.id())));
    }
    // A customer swapped into a change after it was built may have been read at another
    // version than the change expects; writing it would undo the writes in between.
    if new.version() != stored.version() {
        return Err(invalid(
            "version",
            format!("the customer was read at version {}, the store has {}", new.version(), stored.version()),
        ));
    }
    let replayed = replay(*stored.lifecycle(), transitions).map_err(|e| invalid("lifecycle", e.to_string()))?;
    if replayed != *new.lifecycle() {
        return Err(invalid("lifecycle", "the stage changed without a matching transition".into()));
    }
    if stored.created_at() != new.created_at() {
        return Err(invalid("created_at", "cannot change".into()));
    }
    if !is_stored_plus_new(stored.purchases().as_slice(), purchases, new.purchases().as_slice()) {
        return Err(invalid("purchases", "the purchases changed other than by the ones recorded".into()));
    }
    for p in purchases {
        p.validate().map_err(|source| StoreError::InvalidData { id, source })?;
    }
    new.validate_fields().map_err(|source| StoreError::InvalidData { id, source })
}

/// Whether `result` is `stored`, in order, with exactly the `added` purchases inserted
/// somewhere (counting, not just the lengths, so that a rewritten or swapped purchase is
/// caught). Equal purchases are interchangeable, so matching greedily is exact.
fn is_stored_plus_new(stored: &[Purchase], added: &[Purchase], result: &[Purchase]) -> bool {
    if stored.len() + added.len() != result.len() {
        return false;
    }
    let mut pending: Vec<&Purchase> = added.iter().collect();
    let mut next = stored.iter().peekable();
    for p in result {
        if next.peek() == Some(&p) {
            next.next();
        } else if let Some(at) = pending.iter().position(|q| *q == p) {
            pending.swap_remove(at);
        } else {
            return false;
        }
    }
    next.peek().is_none() && pending.is_empty()
}
