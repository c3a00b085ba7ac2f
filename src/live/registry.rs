//! The registry behind a [`LiveStore`](super::LiveStore): the registered segments in
//! dependency order with their members, each customer's timers, and the timer queue.
//!
//! A customer's *timers* are, for each time-dependent segment whose value for the customer
//! will change with time alone, the first instant after `now` at which it does (the segment's
//! slot and that instant). The *queue* holds each customer's earliest timer. A write
//! re-evaluates the segments whose reads it changed and keeps the other timers; a due entry
//! re-evaluates only the segments whose timers are due, since the others do not change then.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::{
    LiveError,
    event::{EntryReason, ExitReason, LiveEvent},
};
use crate::{
    customer::{Customer, CustomerId},
    error::StoreError,
    segment::{Reads, Segment},
    store::Store,
};

/// A segment's slot: its index among the registered segments' timers, stable while it is
/// registered (the smallest free one at registration).
pub(super) type Slot = u16;

/// A customer's timers: `(instant, slot)` of each time-dependent segment whose value for the
/// customer will change with time alone; few per customer, so inline.
pub(super) type Timers = SmallVec<[(DateTime<Utc>, Slot); 3]>;

/// One registered segment.
#[derive(Debug)]
pub(super) struct Entry {
    pub name: Arc<str>,
    pub segment: Segment,
    /// Registration number: ties in the dependency order go by it.
    pub seq: u64,
    pub slot: Slot,
    /// Whether its value can change with time alone (kept: asked on every write).
    pub time: bool,
    /// The names it refers to (whether registered or not).
    pub refs: BTreeSet<String>,
    /// A hash set: a write looks up every segment it affects; `members` sorts on demand.
    pub members: HashSet<CustomerId>,
}

/// The registry: segments in dependency order, their members, the timers and their queue.
#[derive(Debug)]
pub(super) struct Registry {
    pub now: DateTime<Utc>,
    pub segments: Vec<Entry>,
    pub next_seq: u64,
    /// The timers of each customer that has one.
    timers: HashMap<CustomerId, Timers>,
    /// `(instant, customer)`: each customer's earliest timer.
    pub due: BTreeSet<(DateTime<Utc>, CustomerId)>,
}

/// What a write or a due timer does to the registry: computed before the inner store commits
/// (so the customer need not be copied), applied after it succeeds.
#[derive(Debug)]
pub(super) struct Plan {
    id: CustomerId,
    /// The new value of each re-evaluated segment, by position in the registry.
    values: SmallVec<[(usize, bool); 8]>,
    /// The customer's new timers, if a time-dependent segment was re-evaluated.
    timers: Option<Timers>,
}

/// The earliest of `timers`.
fn earliest(timers: &[(DateTime<Utc>, Slot)]) -> Option<DateTime<Utc>> {
    timers.iter().map(|(at, _)| *at).min()
}

impl Registry {
    pub fn new(now: DateTime<Utc>) -> Registry {
        Registry { now, segments: Vec::new(), next_seq: 0, timers: HashMap::new(), due: BTreeSet::new() }
    }

    pub fn index(&self, name: &str) -> Result<usize, LiveError> {
        self.segments.iter().position(|e| &*e.name == name).ok_or_else(|| LiveError::UnknownSegment(name.to_owned()))
    }

    /// The smallest `n` slots no registered segment holds, or `None` if there are not that
    /// many.
    pub fn free_slots(&self, n: usize) -> Option<Vec<Slot>> {
        let used: HashSet<Slot> = self.segments.iter().map(|e| e.slot).collect();
        let free: Vec<Slot> = (0..=Slot::MAX).filter(|s| !used.contains(s)).take(n).collect();
        (free.len() == n).then_some(free)
    }

    /// Replaces the customer's timers and its entry in the queue.
    fn set_timers(&mut self, id: CustomerId, timers: Timers) {
        let old = self.timers.get(&id).and_then(|t| earliest(t));
        let new = earliest(&timers);
        if old != new {
            if let Some(old) = old {
                self.due.remove(&(old, id));
            }
            if let Some(new) = new {
                self.due.insert((new, id));
            }
        }
        if timers.is_empty() {
            self.timers.remove(&id);
        } else {
            self.timers.insert(id, timers);
        }
    }

    /// Adds timers of newly registered segments.
    pub fn add_timers(&mut self, added: impl IntoIterator<Item = (CustomerId, DateTime<Utc>, Slot)>) {
        for (id, at, slot) in added {
            let mut timers = self.timers.get(&id).cloned().unwrap_or_default();
            timers.push((at, slot));
            self.set_timers(id, timers);
        }
    }

    /// Removes the timers of a segment no longer registered.
    pub fn remove_timers(&mut self, slot: Slot) {
        let ids: Vec<CustomerId> =
            self.timers.iter().filter(|(_, t)| t.iter().any(|(_, s)| *s == slot)).map(|(id, _)| *id).collect();
        for id in ids {
            let mut timers = self.timers.get(&id).cloned().unwrap_or_default();
            timers.retain(|(_, s)| *s != slot);
            self.set_timers(id, timers);
        }
    }

    /// What writing `after` (inserted, or updated from `before`) does at `now`: a new
    /// customer is evaluated in every segment (constant ones included), an updated one in
    /// those that read what changed.
    pub fn plan(&self, before: Option<&Customer>, after: &Customer) -> Plan {
        let changed = before.map(|b| Reads::changed(b, after));
        self.plan_for(after, self.now, |e| changed.is_none_or(|changed| e.segment.reads().intersects(changed)))
    }

    /// The values of the segments `affected` selects for `c` at `at`, and, if one of them
    /// depends on time, the customer's new timers: theirs anew, the others' as they were
    /// (a segment that is not re-evaluated reads nothing that changed, so its next change
    /// has not moved).
    fn plan_for(&self, c: &Customer, at: DateTime<Utc>, affected: impl Fn(&Entry) -> bool) -> Plan {
        let mut values = SmallVec::new();
        let mut fresh = Timers::new();
        let mut redone: SmallVec<[Slot; 8]> = SmallVec::new();
        for (i, e) in self.segments.iter().enumerate().filter(|(_, e)| affected(e)) {
            let value = e.segment.matches(c, at);
            values.push((i, value));
            if e.time {
                redone.push(e.slot);
                if let Some(h) = e.segment.next_change(c, at, value) {
                    fresh.push((h, e.slot));
                }
            }
        }
        let timers = (!redone.is_empty()).then(|| {
            let mut timers: Timers = self
                .timers
                .get(&c.id())
                .map(|old| old.iter().filter(|(_, s)| !redone.contains(s)).copied().collect())
                .unwrap_or_default();
            timers.extend(fresh);
            timers
        });
        Plan { id: c.id(), values, timers }
    }

    /// Applies a plan made under the same lock: membership changes (events at `now`) and
    /// the timers.
    pub fn apply(&mut self, plan: Plan, entered: EntryReason, exited: ExitReason, events: &mut Vec<LiveEvent>) {
        let (id, at) = (plan.id, self.now);
        for (i, value) in plan.values {
            let Some(e) = self.segments.get_mut(i) else { continue };
            if value == e.members.contains(&id) {
                continue;
            }
            let segment = Arc::clone(&e.name);
            if value {
                e.members.insert(id);
                events.push(LiveEvent::Entered { segment, customer: id, at, reason: entered });
            } else {
                e.members.remove(&id);
                events.push(LiveEvent::Exited { segment, customer: id, at, reason: exited });
            }
        }
        if let Some(timers) = plan.timers {
            self.set_timers(id, timers);
        }
    }

    /// A customer that was erased.
    pub fn erased(&mut self, id: CustomerId, events: &mut Vec<LiveEvent>) {
        let at = self.now;
        for e in &mut self.segments {
            if e.members.remove(&id) {
                events.push(LiveEvent::Exited {
                    segment: Arc::clone(&e.name),
                    customer: id,
                    at,
                    reason: ExitReason::Erased,
                });
            }
        }
        self.set_timers(id, Timers::new());
    }

    /// Moves `now` to `to`, applying the due timers in time order.
    pub fn advance<S: Store + ?Sized>(
        &mut self,
        store: &S,
        to: DateTime<Utc>,
        events: &mut Vec<LiveEvent>,
    ) -> Result<(), LiveError> {
        if to < self.now {
            return Err(LiveError::TimeWentBackwards { now: self.now, to });
        }
        while let Some(&(h, id)) = self.due.first() {
            if h > to {
                break;
            }
            // The segments whose value changes at `h`; the others keep theirs and their timers.
            let due: SmallVec<[Slot; 4]> = self
                .timers
                .get(&id)
                .map(|t| t.iter().filter(|(at, _)| *at == h).map(|(_, s)| *s).collect())
                .unwrap_or_default();
            let plan = with_customer(store, id, |c| self.plan_for(c, h, |e| e.time && due.contains(&e.slot)));
            self.now = h;
            match plan {
                Ok(plan) => self.apply(plan, EntryReason::Time, ExitReason::Time, events),
                // Erased behind the registry's back: it is in no segment now.
                Err(StoreError::NotFound(_)) => self.erased(id, events),
                Err(e) => return Err(e.into()),
            }
        }
        self.now = to;
        Ok(())
    }
}

/// `f` of the stored customer `id`, read by reference where the store can
/// ([`Store::get_with`]); a store that returns without calling it is read again with
/// [`Store::get`].
pub(super) fn with_customer<S: Store + ?Sized, R>(
    store: &S,
    id: CustomerId,
    f: impl FnOnce(&Customer) -> R,
) -> Result<R, StoreError> {
    let mut f = Some(f);
    let mut out = None;
    store.get_with(id, &mut |c| {
        if let Some(f) = f.take() {
            out = Some(f(c));
        }
    })?;
    match (out, f) {
        (Some(out), _) => Ok(out),
        (None, Some(f)) => Ok(f(&store.get(id)?)),
        (None, None) => Err(StoreError::NotFound(id)),
    }
}
