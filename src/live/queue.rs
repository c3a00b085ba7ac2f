//! The timer queue: `(instant, customer)` entries, earliest first, in day-sized buckets.
//!
//! Writes add entries at scattered instants (a customer's next birthday, the end of a
//! window) and `advance_to` takes them from the front. A sorted tree of a million entries
//! makes each insertion descend through cold nodes; a binary heap of them makes each removal
//! sift through every level of a large array. Here entries go into a bucket per UTC day: the
//! later buckets are unsorted vectors in a small ordered map (one per day with entries, a few
//! thousand), so an insertion is a short lookup and a push; the front bucket becomes a
//! binary heap when it comes up, small enough to stay in cache while it is emptied. The
//! queue does not look for entries to remove: the registry skips stale ones when they come
//! up (see `registry.rs`).

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap},
};

use chrono::{DateTime, Utc};

use crate::customer::CustomerId;

/// An entry: when, and whose.
pub(super) type Due = (DateTime<Utc>, CustomerId);

/// Seconds in a bucket.
const BUCKET: i64 = 86_400;

/// The timer queue (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Queue {
    /// The front bucket's number and its entries, earliest on top. Every entry of a later
    /// bucket is in a bucket with a greater number.
    front: Option<(i64, BinaryHeap<Reverse<Due>>)>,
    /// The other buckets by number, unordered within.
    later: BTreeMap<i64, Vec<Due>>,
    len: usize,
}

/// The bucket of an instant: its UTC day.
fn bucket(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(BUCKET)
}

impl Queue {
    /// How many entries it holds (stale ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds an entry (a duplicate is kept, and comes up twice).
    pub fn push(&mut self, due: Due) {
        let b = bucket(due.0);
        match &mut self.front {
            Some((front, heap)) if b <= *front => heap.push(Reverse(due)),
            _ => self.later.entry(b).or_default().push(due),
        }
        self.len += 1;
    }

    /// The earliest entry (then the smallest id).
    pub fn first(&mut self) -> Option<Due> {
        loop {
            if let Some(Reverse(due)) = self.front.as_ref().and_then(|(_, heap)| heap.peek()) {
                return Some(*due);
            }
            let (b, entries) = self.later.pop_first()?;
            self.front = Some((b, entries.into_iter().map(Reverse).collect()));
        }
    }

    /// Removes the earliest entry.
    pub fn pop_first(&mut self) -> Option<Due> {
        self.first()?;
        let Reverse(due) = self.front.as_mut().and_then(|(_, heap)| heap.pop())?;
        self.len -= 1;
        Some(due)
    }
}

impl FromIterator<Due> for Queue {
    fn from_iter<I: IntoIterator<Item = Due>>(entries: I) -> Queue {
        let mut queue = Queue::default();
        for due in entries {
            queue.push(due);
        }
        queue
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        /// Push at this many seconds (and nanoseconds) from the epoch, for this customer.
        Push(i64, u32, u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (prop_oneof![0i64..3 * BUCKET, -BUCKET..BUCKET, 0i64..400 * BUCKET], 0u32..2_000_000_000, 0u64..20)
                .prop_map(|(s, n, id)| Op::Push(s, n, id)),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// The queue gives entries in the order of a sorted multiset of them.
        #[test]
        fn gives_entries_earliest_first(ops in proptest::collection::vec(op(), 0..300)) {
            let mut queue = Queue::default();
            let mut model: BTreeMap<Due, usize> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Push(s, n, id) => {
                        // Nanoseconds from 10^9 are a leap second (only valid at :59).
                        let at = DateTime::from_timestamp(s - s.rem_euclid(60) + 59, n)
                            .filter(|_| n >= 1_000_000_000)
                            .unwrap_or(DateTime::UNIX_EPOCH + Duration::seconds(s) + Duration::nanoseconds(i64::from(n % 1_000_000_000)));
                        let due = (at, CustomerId::new(id));
                        queue.push(due);
                        *model.entry(due).or_default() += 1;
                    }
                    Op::Pop => {
                        let expected = model.first_key_value().map(|(due, _)| *due);
                        prop_assert_eq!(queue.first(), expected);
                        prop_assert_eq!(queue.pop_first(), expected);
                        if let Some(due) = expected {
                            let n = model.entry(due).or_default();
                            *n -= 1;
                            if *n == 0 {
                                model.remove(&due);
                            }
                        }
                    }
                }
                prop_assert_eq!(queue.len(), model.values().sum::<usize>());
            }
            let mut rest = Vec::new();
            while let Some(due) = queue.pop_first() {
                rest.push(due);
            }
            let expected: Vec<Due> = model.iter().flat_map(|(due, n)| std::iter::repeat_n(*due, *n)).collect();
            prop_assert_eq!(rest, expected);
        }
    }

    #[test]
    fn far_instants_have_buckets() {
        let mut queue: Queue =
            [(DateTime::<Utc>::MAX_UTC, CustomerId::new(1)), (DateTime::<Utc>::MIN_UTC, CustomerId::new(2))]
                .into_iter()
                .collect();
        assert_eq!(queue.pop_first(), Some((DateTime::<Utc>::MIN_UTC, CustomerId::new(2))));
        assert_eq!(queue.pop_first(), Some((DateTime::<Utc>::MAX_UTC, CustomerId::new(1))));
        assert_eq!(queue.pop_first(), None);
        assert_eq!(queue.len(), 0);
    }
}
