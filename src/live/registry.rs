//! The registry behind a [`LiveStore`](super::LiveStore): the registered segments in
//! dependency order with their members, each customer's state, and the timer queue.
//!
//! A customer's *state* is its memberships (a bit per segment slot) and its *timers*: for
//! each time-dependent segment whose value for the customer will change with time alone, the
//! first instant after `now` at which it does. A write re-evaluates the segments whose reads
//! it changed, compares with the bits (one lookup, where a member set per segment would
//! miss the cache once per segment and again to insert or remove), and keeps the other
//! timers; a due entry re-evaluates only the segments whose
//! timers are due, since the others do not change then.
//!
//! The *queue* ([`Queue`]) is added to when a customer's earliest timer changes and never
//! searched for removal: an entry whose instant is no longer the customer's earliest timer
//! is stale and skipped when it comes up, and the queue is rebuilt from the states when stale
//! entries outnumber the others.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::{
    LiveError,
    event::{EntryReason, ExitReason, LiveEvent},
    queue::Queue,
};
use crate::{
    customer::{Customer, CustomerId},
    error::StoreError,
    segment::{Reads, Segment},
    store::Store,
};

/// A segment's slot: its index among the registered segments' bits and timers, stable while
/// it is registered (the smallest free one at registration).
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
    /// How many customers' states have the segment's bit.
    pub count: usize,
}

/// What the registry keeps of a customer in some segment or with a timer.
#[derive(Debug, Default, Clone)]
struct State {
    /// Bit `slot` of word `slot / 64`: member of the segment in that slot.
    bits: SmallVec<[u64; 1]>,
    timers: Timers,
}

impl State {
    fn is_member(&self, slot: Slot) -> bool {
        let slot = usize::from(slot);
        self.bits.get(slot / 64).is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    fn set_member(&mut self, slot: Slot, member: bool) {
        let slot = usize::from(slot);
        if self.bits.len() <= slot / 64 {
            if !member {
                return;
            }
            self.bits.resize(slot / 64 + 1, 0);
        }
        if let Some(w) = self.bits.get_mut(slot / 64) {
            if member {
                *w |= 1 << (slot % 64);
            } else {
                *w &= !(1 << (slot % 64));
            }
        }
    }

    fn earliest(&self) -> Option<DateTime<Utc>> {
        self.timers.iter().map(|(at, _)| *at).min()
    }

    fn is_empty(&self) -> bool {
        self.timers.is_empty() && self.bits.iter().all(|w| *w == 0)
    }
}

/// The registry: segments in dependency order, their members, the customers' states and
/// the queue.
#[derive(Debug)]
pub(super) struct Registry {
    pub now: DateTime<Utc>,
    pub segments: Vec<Entry>,
    pub next_seq: u64,
    states: HashMap<CustomerId, State>,
    /// `(instant, customer)`, earliest first; entries that are no longer the customer's
    /// earliest timer are stale (see the module docs).
    queue: Queue,
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

impl Registry {
    pub fn new(now: DateTime<Utc>) -> Registry {
        Registry { now, segments: Vec::new(), next_seq: 0, states: HashMap::new(), queue: Queue::default() }
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

    /// Whether customer `id` is in the segment at position `at`.
    pub fn is_member(&self, at: usize, id: CustomerId) -> bool {
        let slot = self.segments.get(at).map(|e| e.slot);
        slot.is_some_and(|slot| self.states.get(&id).is_some_and(|s| s.is_member(slot)))
    }

    /// The members of the segment at position `at`, in id order.
    pub fn members(&self, at: usize) -> Vec<CustomerId> {
        let Some(slot) = self.segments.get(at).map(|e| e.slot) else { return Vec::new() };
        let mut members: Vec<CustomerId> =
            self.states.iter().filter(|(_, s)| s.is_member(slot)).map(|(id, _)| *id).collect();
        members.sort_unstable();
        members
    }

    /// Each customer's earliest timer, in time order (then by id): the queue without its
    /// stale entries.
    pub fn pending(&self) -> Vec<(DateTime<Utc>, CustomerId)> {
        let mut pending: Vec<_> = self.states.iter().filter_map(|(id, s)| Some((s.earliest()?, *id))).collect();
        pending.sort_unstable();
        pending
    }

    /// The earliest timer of all, dropping stale entries off the top of the queue.
    pub fn next_due(&mut self) -> Option<(DateTime<Utc>, CustomerId)> {
        while let Some((at, id)) = self.queue.first() {
            if self.states.get(&id).and_then(State::earliest) == Some(at) {
                return Some((at, id));
            }
            self.queue.pop_first();
        }
        None
    }

    /// Queues the customer's earliest timer if it changed from `before`, and rebuilds the
    /// queue when stale entries outnumber the others.
    fn queue_earliest(&mut self, id: CustomerId, before: Option<DateTime<Utc>>) {
        let now = self.states.get(&id).and_then(State::earliest);
        let Some(at) = now.filter(|at| Some(*at) != before) else { return };
        self.queue.push((at, id));
        if self.queue.len() > 2 * self.states.len() + 1024 {
            self.rebuild_queue();
        }
    }

    /// The queue anew from the states: each customer's earliest timer, nothing stale.
    fn rebuild_queue(&mut self) {
        self.queue = self.states.iter().filter_map(|(id, s)| Some((s.earliest()?, *id))).collect();
    }

    /// Adds the members and first changes of newly registered segments, each given with its
    /// position. The queue is rebuilt once at the end if timers were added, rather than
    /// pushed to each time a customer's earliest timer moves (up to once per segment): the
    /// build has gone through every customer already.
    pub fn add_built(
        &mut self,
        built: impl IntoIterator<Item = (usize, Vec<CustomerId>, Vec<(CustomerId, DateTime<Utc>)>)>,
    ) {
        let mut timed = false;
        for (at, members, timers) in built {
            let Some(e) = self.segments.get_mut(at) else { continue };
            let slot = e.slot;
            e.count = members.len();
            for id in members {
                self.states.entry(id).or_default().set_member(slot, true);
            }
            timed |= !timers.is_empty();
            for (id, due) in timers {
                self.states.entry(id).or_default().timers.push((due, slot));
            }
        }
        if timed {
            self.rebuild_queue();
        }
    }

    /// Removes what the registry holds of the segment that was in `slot`.
    pub fn remove_slot(&mut self, slot: Slot) {
        let mut moved = Vec::new();
        self.states.retain(|id, state| {
            state.set_member(slot, false);
            if state.timers.iter().any(|(_, s)| *s == slot) {
                let before = state.earliest();
                state.timers.retain(|(_, s)| *s != slot);
                moved.push((*id, before));
            }
            !state.is_empty()
        });
        for (id, before) in moved {
            self.queue_earliest(id, before);
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
                .states
                .get(&c.id())
                .map(|old| old.timers.iter().filter(|(_, s)| !redone.contains(s)).copied().collect())
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
        let state = self.states.entry(id).or_default();
        for (i, value) in plan.values {
            let Some(e) = self.segments.get_mut(i) else { continue };
            if value == state.is_member(e.slot) {
                continue;
            }
            state.set_member(e.slot, value);
            let segment = Arc::clone(&e.name);
            if value {
                e.count += 1;
                events.push(LiveEvent::Entered { segment, customer: id, at, reason: entered });
            } else {
                e.count = e.count.saturating_sub(1);
                events.push(LiveEvent::Exited { segment, customer: id, at, reason: exited });
            }
        }
        let before = state.earliest();
        if let Some(timers) = plan.timers {
            state.timers = timers;
        }
        if state.is_empty() {
            self.states.remove(&id);
        } else {
            self.queue_earliest(id, before);
        }
    }

    /// A customer that was erased.
    pub fn erased(&mut self, id: CustomerId, events: &mut Vec<LiveEvent>) {
        let at = self.now;
        let Some(state) = self.states.remove(&id) else { return };
        for e in &mut self.segments {
            if state.is_member(e.slot) {
                e.count = e.count.saturating_sub(1);
                events.push(LiveEvent::Exited {
                    segment: Arc::clone(&e.name),
                    customer: id,
                    at,
                    reason: ExitReason::Erased,
                });
            }
        }
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
        while let Some((h, id)) = self.next_due() {
            if h > to {
                break;
            }
            self.queue.pop_first();
            // The segments whose value changes at `h`; the others keep theirs and their timers.
            let due: SmallVec<[Slot; 4]> = self
                .states
                .get(&id)
                .map(|s| s.timers.iter().filter(|(at, _)| *at == h).map(|(_, s)| *s).collect())
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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    /// Stale queue entries are skipped and, once they outnumber the others, dropped.
    #[test]
    fn the_queue_skips_and_sheds_stale_entries() {
        let t0 = DateTime::UNIX_EPOCH;
        let mut reg = Registry::new(t0);
        let mut events = Vec::new();
        let timers = |at: DateTime<Utc>| Some(Timers::from_slice(&[(at, 0)]));
        // Two customers; the first's earliest timer moves 5 000 times.
        let (a, b) = (CustomerId::new(1), CustomerId::new(2));
        reg.apply(
            Plan { id: b, values: SmallVec::new(), timers: timers(t0 + Duration::days(3)) },
            EntryReason::Changed,
            ExitReason::Changed,
            &mut events,
        );
        for k in 0..5_000 {
            let at = t0 + Duration::seconds(10_000 - k);
            reg.apply(
                Plan { id: a, values: SmallVec::new(), timers: timers(at) },
                EntryReason::Changed,
                ExitReason::Changed,
                &mut events,
            );
            assert!(reg.queue.len() <= 2 * reg.states.len() + 1024 + 1);
        }
        assert!(events.is_empty());
        let last = t0 + Duration::seconds(10_000 - 4_999);
        assert_eq!(reg.pending(), [(last, a), (t0 + Duration::days(3), b)]);
        assert_eq!(reg.next_due(), Some((last, a)));
        // Moving the first customer's timer later leaves a stale entry on top, skipped.
        reg.apply(
            Plan { id: a, values: SmallVec::new(), timers: timers(t0 + Duration::days(5)) },
            EntryReason::Changed,
            ExitReason::Changed,
            &mut events,
        );
        assert_eq!(reg.next_due(), Some((t0 + Duration::days(3), b)));
        // No timers, no state, nothing due.
        for id in [a, b] {
            reg.apply(
                Plan { id, values: SmallVec::new(), timers: Some(Timers::new()) },
                EntryReason::Changed,
                ExitReason::Changed,
                &mut events,
            );
        }
        assert_eq!(reg.next_due(), None);
        assert!(reg.states.is_empty() && reg.pending().is_empty());
    }

    #[test]
    fn membership_bits_cover_every_slot() {
        let mut state = State::default();
        for slot in [0, 1, 63, 64, 65, 1000, Slot::MAX] {
            assert!(!state.is_member(slot));
            state.set_member(slot, true);
            assert!(state.is_member(slot));
        }
        state.set_member(64, false);
        assert!(!state.is_member(64) && state.is_member(63) && state.is_member(65));
        for slot in [0, 1, 63, 65, 1000, Slot::MAX] {
            state.set_member(slot, false);
        }
        assert!(state.is_empty());
        // Clearing a bit beyond the words held allocates nothing.
        let mut small = State::default();
        small.set_member(Slot::MAX, false);
        assert!(small.bits.is_empty());
    }
}
