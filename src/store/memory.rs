//! The in-memory store: the embedded default.

use std::{
    collections::BTreeMap,
    ops::Bound,
    sync::{PoisonError, RwLock},
};

use chrono::{DateTime, Utc};

use super::{Change, Store, StoreError, check_batch, check_change};
use crate::{
    customer::{Customer, CustomerId},
    lifecycle::Transition,
    segment::Segment,
};

/// How many customers [`MemoryStore::query`](Store::query) evaluates under one hold of the
/// read lock, so writers wait for a batch, not for the whole store.
const QUERY_BATCH: usize = 4096;

/// One stored customer and their history.
#[derive(Debug, Clone)]
struct Record {
    customer: Customer,
    history: Vec<Transition>,
}

/// A thread-safe store that keeps everything in memory, in id order.
///
/// Reads take a shared lock and writes an exclusive one; a write is prepared and checked
/// before anything is replaced, so a failed write (or a panic in another thread) never leaves
/// a half-written customer.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, MemoryStore, Store};
/// let store = MemoryStore::new();
/// store.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
/// assert_eq!(store.count()?, 1);
/// assert!(store.insert(Customer::new(CustomerId::new(1), "Dup", DateTime::UNIX_EPOCH)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: RwLock<BTreeMap<CustomerId, Record>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{MemoryStore, Store};
    /// assert_eq!(MemoryStore::new().count()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<CustomerId, Record>> {
        // Writes are all-or-nothing, so data behind a poisoned lock is still consistent.
        self.records.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<CustomerId, Record>> {
        self.records.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn insert(&self, mut customer: Customer) -> Result<u64, StoreError> {
        let id = customer.id();
        customer.validate().map_err(|source| StoreError::InvalidData { id, source })?;
        let mut records = self.write();
        if records.contains_key(&id) {
            return Err(StoreError::AlreadyExists(id));
        }
        customer.set_version(1);
        records.insert(id, Record { customer, history: Vec::new() });
        Ok(1)
    }

    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        check_batch(&customers)?;
        let mut records = self.write();
        if let Some(c) = customers.iter().find(|c| records.contains_key(&c.id())) {
            return Err(StoreError::AlreadyExists(c.id()));
        }
        let n = customers.len();
        for mut customer in customers {
            customer.set_version(1);
            records.insert(customer.id(), Record { customer, history: Vec::new() });
        }
        Ok(n)
    }

    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.read().get(&id).map(|r| r.customer.clone()).ok_or(StoreError::NotFound(id))
    }

    fn get_with(&self, id: CustomerId, f: &mut dyn FnMut(&Customer)) -> Result<(), StoreError> {
        f(&self.read().get(&id).ok_or(StoreError::NotFound(id))?.customer);
        Ok(())
    }

    fn update(&self, change: Change) -> Result<u64, StoreError> {
        let expected = change.expected_version();
        let (mut customer, purchases, transitions) = change.into_parts();
        let id = customer.id();
        let mut records = self.write();
        let record = records.get_mut(&id).ok_or(StoreError::NotFound(id))?;
        let found = record.customer.version();
        if found != expected {
            return Err(StoreError::Conflict { id, expected, found });
        }
        check_change(&record.customer, &customer, &purchases, &transitions)?;
        let version = found + 1;
        customer.set_version(version);
        let replaced = std::mem::replace(&mut record.customer, customer);
        record.history.extend(transitions);
        drop(records);
        // Freed after the lock is released: readers need not wait for the deallocations.
        drop(replaced);
        Ok(version)
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.read().get(&id).map(|r| r.history.clone()).ok_or(StoreError::NotFound(id))
    }

    fn count(&self) -> Result<usize, StoreError> {
        Ok(self.read().len())
    }

    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self.read().range((lower, Bound::Unbounded)).take(limit).map(|(_, r)| r.customer.clone()).collect())
    }

    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.write().remove(&id).map(|_| ()).ok_or(StoreError::NotFound(id))
    }

    /// Evaluates the segment on the stored customers by reference, a batch at a time under
    /// the read lock: the default's answer (a scan evaluated in Rust) without copying each
    /// customer.
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        let matcher = segment.at(as_of);
        let mut members = Vec::new();
        let mut lower = Bound::Unbounded;
        loop {
            let records = self.read();
            let mut batch = records.range((lower, Bound::Unbounded)).take(QUERY_BATCH).peekable();
            if batch.peek().is_none() {
                return Ok(members);
            }
            for (id, r) in batch {
                if matcher.matches(&r.customer) {
                    members.push(*id);
                }
                lower = Bound::Excluded(*id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::{
        customer::Purchase,
        lifecycle::Lifecycle,
        money::{Currency, Money},
    };

    /// Over several batches, with gaps in the ids, the query gives what the default scan
    /// gives.
    #[test]
    fn query_by_reference_agrees_with_the_scan() {
        let store = MemoryStore::new();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let customers = (1..=3 * QUERY_BATCH as u64 + 17).filter(|i| i % 5 != 0).map(|i| {
            let mut c = Customer::new(CustomerId::new(i * 3), "x", t);
            c.referrals = u32::try_from(i % 7).unwrap();
            c
        });
        store.insert_many(customers.collect()).unwrap();
        let schema = crate::segment::Schema::default();
        for text in ["referrals >= 3", "false", "true", "referrals = 6"] {
            let segment = Segment::compile(text, &schema).unwrap();
            let members = store.query(&segment, t).unwrap();
            assert_eq!(members, super::super::query_by_scan(&store, &segment, t).unwrap(), "{text}");
            assert!(members.is_sorted());
        }
        assert!(MemoryStore::new().query(&Segment::compile("true", &schema).unwrap(), t).unwrap().is_empty());
    }

    /// Customers read from the store share their purchase list with the stored one
    /// (copy-on-write); no failed or abandoned change may reach the stored list.
    #[test]
    fn failed_writes_leave_the_stored_purchases_alone() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let usd = Currency::new("USD").unwrap();
        let buy = |days: i64| Purchase::new(t0 + Duration::days(days), Money::new(500, usd)).with_category("books");
        let machine = Lifecycle::default();
        let store = MemoryStore::new();
        let id = CustomerId::new(1);
        store.insert(Customer::new(id, "Ada", t0)).unwrap();
        let mut first = Change::new(store.get(id).unwrap());
        // Recorded four days late: the first-time stage begins on day 5.
        first.record_purchase(&machine, buy(1), t0 + Duration::days(5)).unwrap();
        store.update(first).unwrap();
        let stored = store.get(id).unwrap();

        // Abandoned: recorded on a copy, never written.
        let mut abandoned = Change::new(store.get(id).unwrap());
        abandoned.record_purchase(&machine, buy(6), t0 + Duration::days(6)).unwrap();
        assert_eq!(abandoned.customer().purchases().as_slice().len(), 2);
        drop(abandoned);
        assert_eq!(store.get(id).unwrap(), stored);

        // Refused by the lifecycle: the second purchase would make a repeat customer on day 3,
        // before the first-time stage began. The purchase is pushed, then undone in place.
        let mut refused = Change::new(store.get(id).unwrap());
        let err = refused.record_purchase(&machine, buy(2), t0 + Duration::days(3)).unwrap_err();
        assert!(
            matches!(err, crate::error::Error::Transition(crate::lifecycle::TransitionError::OutOfOrder { .. })),
            "{err}"
        );
        assert_eq!(refused.customer(), &stored);

        // Lost a race: the conflicting write changes nothing.
        let mut a = Change::new(store.get(id).unwrap());
        let mut b = Change::new(store.get(id).unwrap());
        a.record_purchase(&machine, buy(6), t0 + Duration::days(6)).unwrap();
        b.record_purchase(&machine, buy(7), t0 + Duration::days(7)).unwrap();
        store.update(a).unwrap();
        let after_a = store.get(id).unwrap();
        assert!(store.update(b).unwrap_err().is_conflict());
        assert_eq!(store.get(id).unwrap(), after_a);
        assert_eq!(after_a.purchases().as_slice(), [buy(1), buy(6)]);
        assert_eq!(stored.purchases().as_slice(), [buy(1)], "an earlier read keeps what it read");
    }
}
