//! Live segments: membership kept current on every write and as time passes, with entry and
//! exit events.
//!
//! [`LiveStore`] wraps any [`Store`] and is a store itself, so a [`Crm`](crate::Crm) built on
//! it keeps its segments live through every write path with no change to the façade:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use chrono::{Duration, TimeZone, Utc};
//! use clientele::{Crm, Currency, Customer, CustomerId, ManualClock, MemoryStore, Money, Purchase};
//! use clientele::live::{LiveEvent, LiveStore};
//! use clientele::segment::{Schema, Segment};
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 30).unwrap();
//! let clock = ManualClock::new(t0);
//! let live = LiveStore::new(MemoryStore::new(), t0);
//! let schema = Schema::new(Currency::EGP);
//! live.register("recent buyers", Segment::compile("last_purchase within 30 days", &schema)?)?;
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = Arc::clone(&seen);
//! live.observe(move |e: &LiveEvent| log.lock().unwrap().push(e.to_string()));
//!
//! let crm = Crm::new(live).with_clock(&clock);
//! let ada = CustomerId::new(1);
//! crm.insert(Customer::new(ada, "Ada", t0))?;
//! crm.record_purchase(ada, Purchase::new(t0, Money::parse("120.00", Currency::EGP)?))?;
//! assert!(crm.store().is_member("recent buyers", ada)?);
//!
//! // Thirty days later, with no write, Ada leaves the segment.
//! clock.advance(Duration::days(30));
//! crm.store().advance_to(t0 + Duration::days(30))?;
//! assert!(!crm.store().is_member("recent buyers", ada)?);
//! assert_eq!(*seen.lock().unwrap(), [
//!     "#1 entered \"recent buyers\" at 2026-03-01 10:00:30 UTC (changed)",
//!     "#1 exited \"recent buyers\" at 2026-03-31 10:00:30 UTC (time)",
//! ]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it stays exact
//!
//! The registry has a current instant, [`LiveStore::now`]; membership is exactly what
//! [`Segment::matches`] gives for every stored customer at that instant.
//!
//! - **Writes** (insert, insert many, update, erase) go through the wrapper, which holds one
//!   lock across the inner store's write and the membership update, so events come out in
//!   commit order. For the written customer only, it re-evaluates the segments whose
//!   [`reads`](Segment::reads) intersect what the write [changed](crate::segment::Reads::changed) (all of
//!   them on insert and erase), at `now`; it reads the customer as stored before the write
//!   with [`Store::get_with`], so a store that holds customers in memory lends it without a
//!   copy. A write that fails changes nothing and emits nothing.
//! - **Time**: each customer has a *timer* per time-dependent segment whose value for it will
//!   change with no write: the first instant after `now` at which it does (the
//!   [horizon](Segment::horizon), asked again while the value turns out the same). A write
//!   renews the timers of the segments it re-evaluated and keeps the others (a segment that
//!   reads nothing the write changed has the same future). Each customer's earliest timer
//!   waits in a queue. [`advance_to`](LiveStore::advance_to) takes the due entries in time
//!   order, reads each customer and re-evaluates only the segments whose timers are due, at
//!   the entry's instant, and emits the changes: its cost is proportional to the due
//!   entries, not to the number of customers. Because each timer is the first actual
//!   change, every due entry changes at least one membership, and a registry rebuilt from
//!   the store at the same instant has the same queue ([`pending`](LiveStore::pending)). The
//!   instants follow the evaluator's semantics to the nanosecond
//!   ([time and horizons](crate::segment#time-and-horizons)): for instance, a purchase at
//!   the start of a minute leaves a day window during the leap second before the edge,
//!   which a clock that never reports leap seconds passes when it reaches the edge
//!   (`advance_to` applies everything due up to its argument).
//! - **Registration** builds a segment's members and timers with one scan of the store,
//!   evaluated in Rust on the machine's cores while the scan reads on;
//!   [`register_all`](LiveStore::register_all) builds several segments in one scan.
//!   Unregistering drops the segment's members and timers without a scan.
//! - **Writes evaluate at `now`**, which moves only when told: call
//!   [`advance_to(clock.now())`](LiveStore::advance_to) before writes (or on a timer) to
//!   follow a [`Clock`](crate::Clock). Events of writes carry `now`, those of the timer the
//!   instant the change happened, so events are in non-decreasing time order.
//! - **Writes that bypass the wrapper** (to the inner store directly, or from another
//!   process) are not seen; after such writes, build a new `LiveStore` (restart).
//! - **Observers** hear each event once, after the commit; one that panics does not keep
//!   the others or later events from being delivered (see [`LiveObserver`]).
//!
//! # Segments that refer to segments
//!
//! A registered segment that refers (by `segment "name"`) to another registered segment's
//! name depends on it; within one write, the dependency's events come first. References are
//! found by walking [`Segment::expr`], and, with [`LiveStore::with_schema`], the definitions of
//! the schema's named segments it refers to. Registration order is free: the registry keeps
//! its segments in dependency order (ties in registration order) and refuses a cycle.

mod build;
mod event;
mod order;
mod queue;
mod registry;

use std::{
    collections::{HashSet, VecDeque},
    fmt,
    panic::{self, AssertUnwindSafe},
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use chrono::{DateTime, Utc};

pub use self::event::{EntryReason, ExitReason, LiveEvent, LiveObserver};
use self::{
    build::{Job, build},
    order::{dependency_order, references},
    registry::{Entry, Plan, Registry, Slot, with_customer},
};
use crate::{
    customer::{Customer, CustomerId},
    error::StoreError,
    lifecycle::Transition,
    segment::{Schema, Segment},
    store::{Change, Store},
};

/// How many segments a [`LiveStore`] can hold at once.
pub const MAX_SEGMENTS: usize = Slot::MAX as usize + 1;

/// What can go wrong with live segments.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{CustomerId, MemoryStore, live::{LiveError, LiveStore}};
/// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
/// let err = live.is_member("vip", CustomerId::new(1)).unwrap_err();
/// assert!(matches!(err, LiveError::UnknownSegment(ref name) if name == "vip"));
/// assert_eq!(err.to_string(), "no live segment is registered as \"vip\"");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// No segment is registered under this name.
    #[error("no live segment is registered as {0:?}")]
    UnknownSegment(String),
    /// A segment is registered under this name already (or twice in one
    /// [`register_all`](LiveStore::register_all)).
    #[error("a live segment is registered as {0:?} already")]
    DuplicateName(String),
    /// Registering would make more than [`MAX_SEGMENTS`] segments.
    #[error("cannot register {adding} more live segment(s) beside {registered}: at most {MAX_SEGMENTS}")]
    TooManySegments {
        /// How many are registered.
        registered: usize,
        /// How many were to be added.
        adding: usize,
    },
    /// Registering the segment would make registered segments refer to each other in a
    /// circle (through their names).
    #[error("live segment {0:?} would depend on itself through the segments it refers to")]
    Cycle(String),
    /// The clock was asked to go back.
    #[error("live segments are at {now}; cannot go back to {to}")]
    TimeWentBackwards {
        /// The registry's instant.
        now: DateTime<Utc>,
        /// The instant asked for.
        to: DateTime<Utc>,
    },
    /// The wrapped store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A thread panicked while updating the registry, which may be inconsistent since: build
    /// a new one.
    #[error("live segments are unusable: a thread panicked while updating them")]
    Poisoned,
}

/// Events waiting for delivery, and whether a thread is delivering them.
#[derive(Debug, Default)]
struct Outbox {
    queue: VecDeque<LiveEvent>,
    delivering: bool,
}

/// A [`Store`] that keeps registered segments' membership current on every write and as
/// time passes, and tells observers of each entry and exit. See the [module docs](self).
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
///
/// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
/// live.register("referrers", Segment::compile("referrals >= 1", &Schema::default())?)?;
///
/// let mut ada = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
/// live.insert(ada.clone())?;
/// assert_eq!(live.member_count("referrers")?, 0);
///
/// let mut change = clientele::Change::new(live.get(ada.id())?);
/// change.customer_mut().referrals = 2;
/// live.update(change)?;
/// assert_eq!(live.members("referrers")?, [CustomerId::new(1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LiveStore<S> {
    inner: S,
    schema: Option<Schema>,
    registry: RwLock<Registry>,
    outbox: Mutex<Outbox>,
    observers: RwLock<Vec<Arc<dyn LiveObserver>>>,
}

impl<S: fmt::Debug> fmt::Debug for LiveStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("LiveStore");
        d.field("inner", &self.inner);
        if let Ok(r) = self.registry.read() {
            let names: Vec<&str> = r.segments.iter().map(|e| &*e.name).collect();
            d.field("now", &r.now).field("segments", &names);
        }
        d.finish_non_exhaustive()
    }
}

fn poisoned<T>(_: PoisonError<T>) -> LiveError {
    LiveError::Poisoned
}

impl<S: Store> LiveStore<S> {
    /// Wraps `inner`, with no segment registered, at the instant `now`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, live::LiveStore};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// assert_eq!(live.now()?, DateTime::UNIX_EPOCH);
    /// assert!(live.segments()?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(inner: S, now: DateTime<Utc>) -> LiveStore<S> {
        LiveStore {
            inner,
            schema: None,
            registry: RwLock::new(Registry::new(now)),
            outbox: Mutex::new(Outbox::default()),
            observers: RwLock::new(Vec::new()),
        }
    }

    /// The same store, finding references between registered segments also through the
    /// definitions of `schema`'s named segments (a registered `segment "a"` whose schema
    /// definition refers to the registered `"b"` depends on `"b"`).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, live::LiveStore, segment::{Schema, Segment}};
    /// let mut schema = Schema::default();
    /// schema.define("adults", "age >= 18")?;
    /// schema.define("adult_referrers", r#"segment "adults" and referrals >= 1"#)?;
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH).with_schema(schema.clone());
    /// live.register("top", Segment::compile(r#"segment "adult_referrers" and loyalty_member"#, &schema)?)?;
    /// live.register("adults", Segment::compile(r#"segment "adults""#, &schema)?)?;
    /// // "top" refers to "adults" through the schema: it comes after it.
    /// assert_eq!(live.segments()?, ["adults", "top"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_schema(mut self, schema: Schema) -> LiveStore<S> {
        self.schema = Some(schema);
        self
    }

    /// The wrapped store. Writing to it directly bypasses the registry (see the
    /// [module docs](self)).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, Store, live::LiveStore};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// assert_eq!(live.inner().count()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped store, dropping the registry.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, Store, live::LiveStore};
    /// let store: MemoryStore = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH).into_inner();
    /// assert_eq!(store.count()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Registers an observer of membership changes (see [`LiveObserver`]).
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::{LiveEvent, LiveStore}, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("everyone", Segment::compile("true", &Schema::default())?)?;
    /// let n = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&n);
    /// live.observe(move |_: &LiveEvent| { counter.fetch_add(1, Ordering::SeqCst); });
    /// live.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// assert!(live.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)).is_err());
    /// assert_eq!(n.load(Ordering::SeqCst), 1); // the failed insert emitted nothing
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe(&self, observer: impl LiveObserver + 'static) {
        self.observers.write().unwrap_or_else(PoisonError::into_inner).push(Arc::new(observer));
    }

    /// Registers `segment` as `name` and builds its membership and timers from the store at
    /// [`now`](Self::now) (one scan, evaluated in Rust on the machine's cores). Emits no
    /// event: the membership found is the starting point. To register several segments,
    /// [`register_all`](Self::register_all) scans the store once for all of them.
    ///
    /// # Errors
    ///
    /// [`LiveError::DuplicateName`], [`LiveError::Cycle`] (registered segments referring to
    /// each other in a circle), [`LiveError::TooManySegments`], [`LiveError::Store`] from the
    /// scan. On error nothing is registered.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::{LiveError, LiveStore}, segment::{Schema, Segment}};
    /// let store = MemoryStore::new();
    /// store.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// let live = LiveStore::new(store, DateTime::UNIX_EPOCH);
    /// let suspects = Segment::compile("stage = suspect", &Schema::default())?;
    /// live.register("suspects", suspects.clone())?;
    /// assert_eq!(live.members("suspects")?, [CustomerId::new(1)]);
    /// assert!(matches!(live.register("suspects", suspects), Err(LiveError::DuplicateName(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register(&self, name: &str, segment: Segment) -> Result<(), LiveError> {
        self.register_all([(name, segment)])
    }

    /// Registers several segments at once, all or none, building their membership and
    /// timers in one scan of the store (evaluated on the machine's cores while the scan reads
    /// on). They may refer to each other and to segments registered before, in any order.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register); a name given twice is a
    /// [`LiveError::DuplicateName`]. On error nothing is registered.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::{LiveError, LiveStore}, segment::{Schema, Segment}};
    /// let mut schema = Schema::default();
    /// schema.define("suspects", "stage = suspect")?;
    /// let store = MemoryStore::new();
    /// store.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// let live = LiveStore::new(store, DateTime::UNIX_EPOCH);
    /// live.register_all([
    ///     ("referred suspects", Segment::compile(r#"segment "suspects" and referrals > 0"#, &schema)?),
    ///     ("suspects", Segment::compile("stage = suspect", &schema)?),
    /// ])?;
    /// assert_eq!(live.segments()?, ["suspects", "referred suspects"]);
    /// assert_eq!(live.member_count("suspects")?, 1);
    ///
    /// let again = Segment::compile("true", &schema)?;
    /// let err = live.register_all([("new", again.clone()), ("new", again)]).unwrap_err();
    /// assert!(matches!(err, LiveError::DuplicateName(ref name) if name == "new"));
    /// assert_eq!(live.segments()?.len(), 2); // nothing registered
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_all<N: AsRef<str>>(
        &self,
        segments: impl IntoIterator<Item = (N, Segment)>,
    ) -> Result<(), LiveError> {
        let segments: Vec<(N, Segment)> = segments.into_iter().collect();
        let mut reg = self.registry.write().map_err(poisoned)?;
        let mut names: HashSet<&str> = reg.segments.iter().map(|e| &*e.name).collect();
        for (name, _) in &segments {
            if !names.insert(name.as_ref()) {
                return Err(LiveError::DuplicateName(name.as_ref().to_owned()));
            }
        }
        drop(names);
        let (registered, adding) = (reg.segments.len(), segments.len());
        let too_many = || LiveError::TooManySegments { registered, adding };
        let Some(slots) = reg.free_slots(adding) else { return Err(too_many()) };
        let first_seq = reg.next_seq;
        let Some(next_seq) = u64::try_from(adding).ok().and_then(|n| first_seq.checked_add(n)) else {
            return Err(too_many());
        };
        let added = segments.into_iter().zip(slots).zip(first_seq..).map(|(((name, segment), slot), seq)| Entry {
            name: Arc::from(name.as_ref()),
            refs: references(segment.expr(), self.schema.as_ref()),
            time: segment.reads().is_time_dependent(),
            segment,
            seq,
            slot,
            count: 0,
        });
        let mut all: Vec<Entry> = std::mem::take(&mut reg.segments);
        all.extend(added);
        match dependency_order(all) {
            Ok(ordered) => reg.segments = ordered,
            Err((mut all, stuck)) => {
                let culprit = stuck.iter().find(|seq| **seq >= first_seq).copied();
                let name = all.iter().find(|e| Some(e.seq) == culprit).map_or_else(String::new, |e| e.name.to_string());
                all.retain(|e| e.seq < first_seq);
                reg.segments = dependency_order(all).unwrap_or_else(|(all, _)| all);
                return Err(LiveError::Cycle(name));
            }
        }
        let jobs: Vec<Job<'_>> = reg
            .segments
            .iter()
            .filter(|e| e.seq >= first_seq)
            .map(|e| Job { segment: &e.segment, time: e.time })
            .collect();
        let built = build(&self.inner, &jobs, reg.now);
        drop(jobs);
        let built = match built {
            Ok(built) => built,
            Err(e) => {
                // Removing entries keeps the others in dependency order.
                reg.segments.retain(|e| e.seq < first_seq);
                return Err(e.into());
            }
        };
        reg.next_seq = next_seq;
        let new: Vec<usize> = (0..reg.segments.len()).filter(|&i| reg.segments[i].seq >= first_seq).collect();
        reg.add_built(new.into_iter().zip(built.members).zip(built.timers).map(|((i, m), t)| (i, m, t)));
        Ok(())
    }

    /// Removes the segment `name` and its timers (no scan).
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, live::LiveStore, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("adults", Segment::compile("age >= 18", &Schema::default())?)?;
    /// live.unregister("adults")?;
    /// assert!(live.unregister("adults").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unregister(&self, name: &str) -> Result<(), LiveError> {
        let mut reg = self.registry.write().map_err(poisoned)?;
        let at = reg.index(name)?;
        let removed = reg.segments.remove(at);
        reg.remove_slot(removed.slot);
        Ok(())
    }

    /// The registered segments' names, in dependency order (a segment after those it refers
    /// to; otherwise in registration order).
    ///
    /// # Errors
    ///
    /// [`LiveError::Poisoned`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, live::LiveStore, segment::{Schema, Segment}};
    /// let mut schema = Schema::default();
    /// schema.define("adults", "age >= 18")?;
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("adult referrers", Segment::compile(r#"segment "adults" and referrals > 0"#, &schema)?)?;
    /// live.register("adults", Segment::compile("age >= 18", &schema)?)?;
    /// assert_eq!(live.segments()?, ["adults", "adult referrers"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segments(&self) -> Result<Vec<String>, LiveError> {
        let reg = self.registry.read().map_err(poisoned)?;
        Ok(reg.segments.iter().map(|e| e.name.to_string()).collect())
    }

    /// The registered segment `name`.
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{MemoryStore, live::LiveStore, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("adults", Segment::compile("age >= 18", &Schema::default())?)?;
    /// assert_eq!(live.segment("adults")?.to_string(), "age >= 18");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segment(&self, name: &str) -> Result<Segment, LiveError> {
        let reg = self.registry.read().map_err(poisoned)?;
        Ok(reg.segments[reg.index(name)?].segment.clone())
    }

    /// Whether customer `id` is in segment `name` as of [`now`](Self::now). Does not touch
    /// the store.
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("suspects", Segment::compile("stage = suspect", &Schema::default())?)?;
    /// live.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// assert!(live.is_member("suspects", CustomerId::new(1))?);
    /// assert!(!live.is_member("suspects", CustomerId::new(2))?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_member(&self, name: &str, id: CustomerId) -> Result<bool, LiveError> {
        let reg = self.registry.read().map_err(poisoned)?;
        Ok(reg.is_member(reg.index(name)?, id))
    }

    /// The members of segment `name` as of [`now`](Self::now), in id order. Does not touch
    /// the store. Membership is kept per customer (a bit per segment, which is what writes
    /// look up), so this goes through the customers the registry tracks, about a millisecond
    /// per hundred thousand; [`is_member`](Self::is_member) and
    /// [`member_count`](Self::member_count) take constant time.
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("suspects", Segment::compile("stage = suspect", &Schema::default())?)?;
    /// for i in [3, 1, 2] {
    ///     live.insert(Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH))?;
    /// }
    /// assert_eq!(live.members("suspects")?, [1, 2, 3].map(CustomerId::new));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self, name: &str) -> Result<Vec<CustomerId>, LiveError> {
        let reg = self.registry.read().map_err(poisoned)?;
        Ok(reg.members(reg.index(name)?))
    }

    /// How many members segment `name` has as of [`now`](Self::now). Does not touch the
    /// store. (Not `count`, which is [`Store::count`], the number of customers.)
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.register("referrers", Segment::compile("referrals > 0", &Schema::default())?)?;
    /// live.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// assert_eq!((live.member_count("referrers")?, live.count()?), (0, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn member_count(&self, name: &str) -> Result<usize, LiveError> {
        let reg = self.registry.read().map_err(poisoned)?;
        Ok(reg.segments[reg.index(name)?].count)
    }

    /// The registry's instant: membership is exact as of it.
    ///
    /// # Errors
    ///
    /// [`LiveError::Poisoned`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{MemoryStore, live::LiveStore};
    /// let live = LiveStore::new(MemoryStore::new(), DateTime::UNIX_EPOCH);
    /// live.advance_to(DateTime::UNIX_EPOCH + Duration::days(1))?;
    /// assert_eq!(live.now()?, DateTime::UNIX_EPOCH + Duration::days(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now(&self) -> Result<DateTime<Utc>, LiveError> {
        Ok(self.registry.read().map_err(poisoned)?.now)
    }

    /// The earliest instant at which a membership will change with no write, if any.
    ///
    /// # Errors
    ///
    /// [`LiveError::Poisoned`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, NaiveDate, TimeZone, Utc};
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// let live = LiveStore::new(MemoryStore::new(), t);
    /// live.register("adults", Segment::compile("age >= 18", &Schema::default())?)?;
    /// let mut teen = Customer::new(CustomerId::new(1), "x", t);
    /// teen.profile.birth_date = NaiveDate::from_ymd_opt(2008, 5, 17);
    /// live.insert(teen)?;
    /// assert_eq!(live.next_due()?, Some(Utc.with_ymd_and_hms(2026, 5, 17, 0, 0, 0).unwrap()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, LiveError> {
        Ok(self.registry.write().map_err(poisoned)?.next_due().map(|(at, _)| at))
    }

    /// The timer queue: for each customer whose membership of a time-dependent segment will
    /// change with no write, the first such instant, in time order (then by id). Goes
    /// through the customers the registry tracks and sorts them (meant for inspection and
    /// tests; [`next_due`](Self::next_due) is the cheap question).
    ///
    /// # Errors
    ///
    /// [`LiveError::Poisoned`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let t = Utc.with_ymd_and_hms(2026, 1, 1, 9, 30, 15).unwrap();
    /// let live = LiveStore::new(MemoryStore::new(), t);
    /// live.register("new", Segment::compile("created_at within 7 days", &Schema::default())?)?;
    /// live.insert(Customer::new(CustomerId::new(1), "x", t))?;
    /// assert_eq!(live.pending()?, [(t + Duration::days(7), CustomerId::new(1))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending(&self) -> Result<Vec<(DateTime<Utc>, CustomerId)>, LiveError> {
        Ok(self.registry.read().map_err(poisoned)?.pending())
    }

    /// Moves the registry's instant to `to`, applying in time order every membership change
    /// due up to and including `to`; returns the events (also delivered to observers). Each
    /// event carries the instant its change happened. The cost is proportional to the number
    /// of due timer entries (each reads one customer and re-evaluates the segments whose
    /// timers are due), not to the number of customers; stale queue entries that writes left
    /// behind (at most one per write) are dropped on the way.
    ///
    /// To follow a [`Clock`](crate::Clock), call `advance_to(clock.now())` before writing, or
    /// on a timer.
    ///
    /// # Errors
    ///
    /// [`LiveError::TimeWentBackwards`] if `to` is before [`now`](Self::now) (nothing
    /// changes); [`LiveError::Store`] if re-reading a customer fails: the changes before it
    /// are applied and delivered, and the registry stays at the instant of the last one.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use clientele::{Customer, CustomerId, MemoryStore, Store, live::LiveStore, segment::{Schema, Segment}};
    /// let t = Utc.with_ymd_and_hms(2026, 1, 1, 9, 30, 15).unwrap();
    /// let live = LiveStore::new(MemoryStore::new(), t);
    /// live.register("new", Segment::compile("created_at within 7 days", &Schema::default())?)?;
    /// live.insert(Customer::new(CustomerId::new(1), "x", t))?;
    ///
    /// assert!(live.advance_to(t + Duration::days(6))?.is_empty());
    /// let events = live.advance_to(t + Duration::days(30))?;
    /// assert_eq!(events.len(), 1);
    /// assert_eq!(events[0].at(), t + Duration::days(7)); // when it happened
    /// assert!(live.advance_to(t).is_err()); // no going back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advance_to(&self, to: DateTime<Utc>) -> Result<Vec<LiveEvent>, LiveError> {
        let mut events = Vec::new();
        let result = {
            let mut reg = self.registry.write().map_err(poisoned)?;
            let r = reg.advance(&self.inner, to, &mut events);
            if !events.is_empty() {
                self.enqueue(events.iter().cloned());
            }
            r
        };
        self.deliver();
        result.map(|()| events)
    }

    /// Queues events for delivery; called with the registry locked, so in commit order.
    fn enqueue(&self, events: impl IntoIterator<Item = LiveEvent>) {
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner).queue.extend(events);
    }

    /// Delivers queued events to the observers unless another call (on this thread, from an
    /// observer, or on another) is delivering them already. An observer that panics does not
    /// keep the others, or the later events, from being delivered: the first panic is
    /// resumed once the queue is empty.
    fn deliver(&self) {
        /// Clears the flag if delivering unwinds after all (observers' panics are caught). The
        /// normal way out clears it under the lock that found the queue empty, so an event
        /// queued just after is delivered by its writer; the guard is then forgotten.
        struct Delivering<'a>(&'a Mutex<Outbox>);
        impl Drop for Delivering<'_> {
            fn drop(&mut self) {
                self.0.lock().unwrap_or_else(PoisonError::into_inner).delivering = false;
            }
        }
        let mut batch = {
            let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.delivering || outbox.queue.is_empty() {
                return;
            }
            outbox.delivering = true;
            std::mem::take(&mut outbox.queue)
        };
        let guard = Delivering(&self.outbox);
        let mut panicked = None;
        loop {
            let observers = self.observers.read().unwrap_or_else(PoisonError::into_inner).clone();
            for event in &batch {
                for o in &observers {
                    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| o.on_event(event))) {
                        panicked.get_or_insert(payload);
                    }
                }
            }
            let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.queue.is_empty() {
                outbox.delivering = false;
                break;
            }
            batch = std::mem::take(&mut outbox.queue);
        }
        std::mem::forget(guard);
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    /// Runs a write under the registry lock and updates membership for the customers it
    /// reports, then delivers the events.
    fn write<T>(
        &self,
        op: impl FnOnce(&S, &mut Registry, &mut Vec<LiveEvent>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut events = Vec::new();
        let result = {
            let mut reg = self.registry.write().map_err(|_| StoreError::Backend(Box::new(LiveError::Poisoned)))?;
            let r = op(&self.inner, &mut reg, &mut events);
            if !events.is_empty() {
                self.enqueue(events);
            }
            r
        };
        self.deliver();
        result
    }
}

impl<S: Store> Store for LiveStore<S> {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.write(|inner, reg, events| {
            let plan = reg.plan(None, &customer);
            let version = inner.insert(customer)?;
            reg.apply(plan, EntryReason::Inserted, ExitReason::Changed, events);
            Ok(version)
        })
    }

    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        self.write(|inner, reg, events| {
            let plans: Vec<Plan> = customers.iter().map(|c| reg.plan(None, c)).collect();
            let n = inner.insert_many(customers)?;
            for plan in plans {
                reg.apply(plan, EntryReason::Inserted, ExitReason::Changed, events);
            }
            Ok(n)
        })
    }

    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.inner.get(id)
    }

    fn get_with(&self, id: CustomerId, f: &mut dyn FnMut(&Customer)) -> Result<(), StoreError> {
        self.inner.get_with(id, f)
    }

    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.write(|inner, reg, events| {
            let after = change.customer();
            let plan = with_customer(inner, after.id(), |before| reg.plan(Some(before), after))?;
            let version = inner.update(change)?;
            reg.apply(plan, EntryReason::Changed, ExitReason::Changed, events);
            Ok(version)
        })
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.inner.history(id)
    }

    fn count(&self) -> Result<usize, StoreError> {
        self.inner.count()
    }

    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.inner.scan(after, limit)
    }

    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.write(|inner, reg, events| {
            inner.erase(id)?;
            reg.erased(id, events);
            Ok(())
        })
    }

    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        self.inner.query(segment, as_of)
    }
}
