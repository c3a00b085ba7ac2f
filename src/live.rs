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
//!   [`reads`](Segment::reads) intersect what the write [changed](Reads::changed) (all of
//!   them on insert and erase), at `now`. A write that fails changes nothing and emits
//!   nothing.
//! - **Time**: for each customer, the first instant after `now` at which one of its
//!   time-dependent segments actually changes value (the [horizon](Segment::horizon), asked
//!   again while the value turns out the same) waits in a timer queue.
//!   [`advance_to`](LiveStore::advance_to) takes the due entries in time order, re-reads each
//!   customer, re-evaluates its time-dependent segments at the entry's instant and emits the
//!   changes: its cost is proportional to the due entries, not to the number of customers.
//!   Because each queued instant is the first actual change, every due entry changes at
//!   least one membership, and a registry rebuilt from the store at the same instant has the
//!   same queue ([`pending`](LiveStore::pending)). The instants follow the evaluator's
//!   semantics to the nanosecond ([time and horizons](crate::segment#time-and-horizons)):
//!   for instance, a purchase at the start of a minute leaves a day window during the leap
//!   second before the edge, which a clock that never reports leap seconds passes when it
//!   reaches the edge (`advance_to` applies everything due up to its argument).
//! - **Writes evaluate at `now`**, which moves only when told: call
//!   [`advance_to(clock.now())`](LiveStore::advance_to) before writes (or on a timer) to
//!   follow a [`Clock`](crate::Clock). Events of writes carry `now`, those of the timer the
//!   instant the change happened, so events are in non-decreasing time order.
//! - **Writes that bypass the wrapper** (to the inner store directly, or from another
//!   process) are not seen; after such writes, build a new `LiveStore` (restart).
//!
//! # Segments that refer to segments
//!
//! A registered segment that refers (by `segment "name"`) to another registered segment's
//! name depends on it; within one write, the dependency's events come first. References are
//! found by walking [`Segment::expr`], and, with [`LiveStore::with_schema`], the definitions of
//! the schema's named segments it refers to. Registration order is free: the registry keeps
//! its segments in dependency order (ties in registration order) and refuses a cycle.

use std::{
    collections::{BTreeSet, HashMap, HashSet, VecDeque},
    fmt,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use chrono::{DateTime, Utc};

use crate::{
    customer::{Customer, CustomerId},
    error::StoreError,
    lifecycle::Transition,
    segment::{Expr, Reads, Schema, Segment},
    store::{Change, Store},
};

/// How many customers a registration reads from the store at a time.
const SCAN_BATCH: usize = 1024;

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
    /// A segment is registered under this name already.
    #[error("a live segment is registered as {0:?} already")]
    DuplicateName(String),
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

/// Why a customer entered a segment.
///
/// # Example
///
/// ```
/// use clientele::live::EntryReason;
/// assert_eq!(EntryReason::Time.to_string(), "time");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryReason {
    /// The customer was inserted into the store as a member.
    Inserted,
    /// A write to the customer.
    Changed,
    /// Time passed (a window edge, a birthday, a purchase dated ahead reached).
    Time,
}

/// Why a customer left a segment.
///
/// # Example
///
/// ```
/// use clientele::live::ExitReason;
/// assert_eq!(ExitReason::Erased.to_string(), "erased");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExitReason {
    /// A write to the customer.
    Changed,
    /// Time passed (a horizon was reached).
    Time,
    /// The customer was erased from the store.
    Erased,
}

impl fmt::Display for EntryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryReason::Inserted => "inserted",
            EntryReason::Changed => "changed",
            EntryReason::Time => "time",
        })
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExitReason::Changed => "changed",
            ExitReason::Time => "time",
            ExitReason::Erased => "erased",
        })
    }
}

/// A change of membership.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{CustomerId, live::{EntryReason, LiveEvent}};
/// let e = LiveEvent::Entered {
///     segment: "vip".into(),
///     customer: CustomerId::new(7),
///     at: DateTime::UNIX_EPOCH,
///     reason: EntryReason::Changed,
/// };
/// assert_eq!((e.segment(), e.customer(), e.is_entry()), ("vip", CustomerId::new(7), true));
/// assert_eq!(e.to_string(), "#7 entered \"vip\" at 1970-01-01 00:00:00 UTC (changed)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiveEvent {
    /// The customer became a member.
    Entered {
        /// The segment's registered name.
        segment: Arc<str>,
        /// The customer.
        customer: CustomerId,
        /// When: the registry's instant for a write, the instant of the change for time.
        at: DateTime<Utc>,
        /// Why.
        reason: EntryReason,
    },
    /// The customer stopped being a member.
    Exited {
        /// The segment's registered name.
        segment: Arc<str>,
        /// The customer.
        customer: CustomerId,
        /// When: the registry's instant for a write, the instant of the change for time.
        at: DateTime<Utc>,
        /// Why.
        reason: ExitReason,
    },
}

impl LiveEvent {
    /// The segment's registered name.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.segment(), "vip");
    /// ```
    pub fn segment(&self) -> &str {
        match self {
            LiveEvent::Entered { segment, .. } | LiveEvent::Exited { segment, .. } => segment,
        }
    }

    /// The customer.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.customer(), CustomerId::new(1));
    /// ```
    pub fn customer(&self) -> CustomerId {
        match self {
            LiveEvent::Entered { customer, .. } | LiveEvent::Exited { customer, .. } => *customer,
        }
    }

    /// When the membership changed.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.at(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            LiveEvent::Entered { at, .. } | LiveEvent::Exited { at, .. } => *at,
        }
    }

    /// Whether the customer entered (rather than left) the segment.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Erased };
    /// assert!(!e.is_entry());
    /// ```
    pub fn is_entry(&self) -> bool {
        matches!(self, LiveEvent::Entered { .. })
    }
}

impl fmt::Display for LiveEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveEvent::Entered { segment, customer, at, reason } => {
                write!(f, "{customer} entered {segment:?} at {at} ({reason})")
            }
            LiveEvent::Exited { segment, customer, at, reason } => {
                write!(f, "{customer} exited {segment:?} at {at} ({reason})")
            }
        }
    }
}

/// Something told of each membership change: a campaign trigger, a webhook, a cache.
///
/// Observers are called after the write committed (or the time advanced), in commit order,
/// in the order they were registered, never while the registry is locked: an observer may
/// query the [`LiveStore`] and even write to it (its events are delivered after the current
/// ones). The call may happen on another writer's thread, which delivers the events queued
/// in the meantime. Any `Fn(&LiveEvent) + Send + Sync` closure is an observer.
///
/// # Example
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use chrono::DateTime;
/// use clientele::{CustomerId, live::{EntryReason, LiveEvent, LiveObserver}};
///
/// struct Entries(AtomicUsize);
/// impl LiveObserver for Entries {
///     fn on_event(&self, event: &LiveEvent) {
///         if event.is_entry() {
///             self.0.fetch_add(1, Ordering::SeqCst);
///         }
///     }
/// }
/// let entries = Entries(AtomicUsize::new(0));
/// entries.on_event(&LiveEvent::Entered { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: EntryReason::Inserted });
/// assert_eq!(entries.0.load(Ordering::SeqCst), 1);
/// ```
pub trait LiveObserver: Send + Sync {
    /// Called once per membership change.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{EntryReason, LiveEvent, LiveObserver}};
    /// let print = |e: &LiveEvent| println!("{e}");
    /// print.on_event(&LiveEvent::Entered { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: EntryReason::Inserted });
    /// ```
    fn on_event(&self, event: &LiveEvent);
}

impl<F: Fn(&LiveEvent) + Send + Sync> LiveObserver for F {
    fn on_event(&self, event: &LiveEvent) {
        self(event);
    }
}

/// One registered segment.
#[derive(Debug)]
struct Entry {
    name: Arc<str>,
    segment: Segment,
    /// Registration number: ties in the dependency order go by it.
    seq: u64,
    /// The names it refers to (whether registered or not).
    refs: BTreeSet<String>,
    /// A hash set: a write looks up every segment it affects; `members` sorts on demand.
    members: HashSet<CustomerId>,
}

impl Entry {
    fn time_dependent(&self) -> bool {
        self.segment.reads().is_time_dependent()
    }
}

/// The registry: segments in dependency order, their members, the timer queue.
#[derive(Debug)]
struct Registry {
    now: DateTime<Utc>,
    segments: Vec<Entry>,
    next_seq: u64,
    /// `(due, customer)`: the first instant after `now` at which a time-dependent segment's
    /// value for the customer changes.
    due: BTreeSet<(DateTime<Utc>, CustomerId)>,
    due_of: HashMap<CustomerId, DateTime<Utc>>,
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
            d.field("now", &r.now).field("segments", &names).field("pending", &r.due.len());
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
            registry: RwLock::new(Registry {
                now,
                segments: Vec::new(),
                next_seq: 0,
                due: BTreeSet::new(),
                due_of: HashMap::new(),
            }),
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

    /// Registers `segment` as `name` and builds its membership from the store at
    /// [`now`](Self::now) (one scan, evaluated in Rust). Emits no event: the membership
    /// found is the starting point.
    ///
    /// # Errors
    ///
    /// [`LiveError::DuplicateName`], [`LiveError::Cycle`] (registered segments referring to
    /// each other in a circle), [`LiveError::Store`] from the scan (nothing is registered).
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
        let mut reg = self.registry.write().map_err(poisoned)?;
        if reg.segments.iter().any(|e| &*e.name == name) {
            return Err(LiveError::DuplicateName(name.to_owned()));
        }
        let refs = references(segment.expr(), self.schema.as_ref());
        let seq = reg.next_seq;
        let entry = Entry { name: Arc::from(name), segment, seq, refs, members: HashSet::new() };
        let mut all: Vec<Entry> = std::mem::take(&mut reg.segments);
        all.push(entry);
        let all = match dependency_order(all) {
            Ok(all) => all,
            Err(mut all) => {
                all.retain(|e| e.seq != seq);
                reg.segments = dependency_order(all).unwrap_or_else(|all| all);
                return Err(LiveError::Cycle(name.to_owned()));
            }
        };
        reg.segments = all;
        reg.next_seq += 1;
        // Build the membership and merge the horizons.
        let now = reg.now;
        let at = match reg.segments.iter().position(|e| e.seq == seq) {
            Some(at) => at,
            None => return Err(LiveError::UnknownSegment(name.to_owned())),
        };
        let built = build(&self.inner, &reg.segments[at].segment, now);
        match built {
            Ok((members, due)) => {
                reg.segments[at].members = members;
                for (id, h) in due {
                    let h = reg.due_of.get(&id).map_or(h, |d| h.min(*d));
                    reg.arm(id, Some(h));
                }
                Ok(())
            }
            Err(e) => {
                reg.segments.remove(at);
                Err(e.into())
            }
        }
    }

    /// Removes the segment `name`. If it depended on time, the timer queue is rebuilt from
    /// the store (one scan), since some customers' next change was its.
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownSegment`], [`LiveError::Store`] from the scan (the segment is
    /// removed either way; the queue may then hold entries that change nothing, which
    /// [`advance_to`](Self::advance_to) skips).
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
        if !removed.time_dependent() {
            return Ok(());
        }
        let now = reg.now;
        let mut due = BTreeSet::new();
        let mut due_of = HashMap::new();
        let mut after = None;
        loop {
            let batch = self.inner.scan(after, SCAN_BATCH)?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id());
            for c in &batch {
                if let Some(h) = reg.due_for(c, now) {
                    due.insert((h, c.id()));
                    due_of.insert(c.id(), h);
                }
            }
        }
        reg.due = due;
        reg.due_of = due_of;
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
        Ok(reg.segments[reg.index(name)?].members.contains(&id))
    }

    /// The members of segment `name` as of [`now`](Self::now), in id order. Does not touch
    /// the store (members are kept in a hash set, for the writes' lookups, and sorted here).
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
        let mut members: Vec<CustomerId> = reg.segments[reg.index(name)?].members.iter().copied().collect();
        drop(reg);
        members.sort_unstable();
        Ok(members)
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
        Ok(reg.segments[reg.index(name)?].members.len())
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
        Ok(self.registry.read().map_err(poisoned)?.due.first().map(|(at, _)| *at))
    }

    /// The timer queue: for each customer whose membership of a time-dependent segment will
    /// change with no write, the first such instant, in time order (then by id).
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
        Ok(self.registry.read().map_err(poisoned)?.due.iter().copied().collect())
    }

    /// Moves the registry's instant to `to`, applying in time order every membership change
    /// due up to and including `to`; returns the events (also delivered to observers). Each
    /// event carries the instant its change happened. The cost is proportional to the number
    /// of due timer entries (each re-reads one customer), not to the number of customers.
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
    /// observer, or on another) is delivering them already.
    fn deliver(&self) {
        /// Clears the flag even if an observer panics.
        struct Delivering<'a>(&'a Mutex<Outbox>);
        impl Drop for Delivering<'_> {
            fn drop(&mut self) {
                self.0.lock().unwrap_or_else(PoisonError::into_inner).delivering = false;
            }
        }
        let batch = {
            let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.delivering || outbox.queue.is_empty() {
                return;
            }
            outbox.delivering = true;
            std::mem::take(&mut outbox.queue)
        };
        let _guard = Delivering(&self.outbox);
        let mut batch = batch;
        loop {
            let observers = self.observers.read().unwrap_or_else(PoisonError::into_inner).clone();
            for event in &batch {
                for o in &observers {
                    o.on_event(event);
                }
            }
            let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.queue.is_empty() {
                return;
            }
            batch = std::mem::take(&mut outbox.queue);
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

impl Registry {
    fn index(&self, name: &str) -> Result<usize, LiveError> {
        self.segments.iter().position(|e| &*e.name == name).ok_or_else(|| LiveError::UnknownSegment(name.to_owned()))
    }

    /// The first instant after `now` at which one of the time-dependent segments changes
    /// value for `c`.
    fn due_for(&self, c: &Customer, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.segments.iter().filter(|e| e.time_dependent()).filter_map(|e| next_change(&e.segment, c, now)).min()
    }

    /// Replaces the customer's timer entry.
    fn arm(&mut self, id: CustomerId, due: Option<DateTime<Utc>>) {
        if self.due_of.get(&id).copied() == due {
            return;
        }
        if let Some(old) = self.due_of.remove(&id) {
            self.due.remove(&(old, id));
        }
        if let Some(h) = due {
            self.due.insert((h, id));
            self.due_of.insert(id, h);
        }
    }

    /// What writing `after` (inserted, or updated from `before`) does at `now`: a new
    /// customer is evaluated in every segment (constant ones included), an updated one in
    /// those that read what changed.
    fn plan(&self, before: Option<&Customer>, after: &Customer) -> Plan {
        let changed = before.map(|b| Reads::changed(b, after));
        self.plan_for(after, self.now, |e| changed.is_none_or(|changed| e.segment.reads().intersects(changed)))
    }

    /// The values of the segments `affected` selects for `c` at `at`, and, if one of them
    /// depends on time, the customer's new timer entry.
    fn plan_for(&self, c: &Customer, at: DateTime<Utc>, affected: impl Fn(&Entry) -> bool) -> Plan {
        let mut values = Vec::new();
        let (mut soonest, mut time) = (None, false);
        for (i, e) in self.segments.iter().enumerate().filter(|(_, e)| affected(e)) {
            let value = e.segment.matches(c, at);
            values.push((i, value));
            if e.time_dependent() {
                time = true;
                soonest = sooner(soonest, next_change_from(&e.segment, c, at, value));
            }
        }
        let due = time.then(|| {
            // The other time-dependent segments' next changes have not moved, and none is
            // before the customer's entry (their minimum, with the affected ones' old ones):
            // when the affected ones' new minimum is not after it, or there is no entry
            // (every one was "never"), that minimum is the answer without asking them.
            let settled = match (self.due_of.get(&c.id()), soonest) {
                (None, _) => true,
                (Some(old), Some(new)) => new <= *old,
                (Some(_), None) => false,
            };
            if settled {
                return soonest;
            }
            self.segments
                .iter()
                .filter(|e| e.time_dependent() && !affected(e))
                .filter_map(|e| next_change(&e.segment, c, at))
                .fold(soonest, |a, b| sooner(a, Some(b)))
        });
        Plan { id: c.id(), values, due }
    }

    /// Applies a plan made under the same lock: membership changes (events at `now`) and
    /// the timer entry.
    fn apply(&mut self, plan: Plan, entered: EntryReason, exited: ExitReason, events: &mut Vec<LiveEvent>) {
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
        if let Some(due) = plan.due {
            self.arm(id, due);
        }
    }

    /// A customer that was erased.
    fn erased(&mut self, id: CustomerId, events: &mut Vec<LiveEvent>) {
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
        self.arm(id, None);
    }

    fn advance<S: Store + ?Sized>(
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
            let c = match store.get(id) {
                Ok(c) => c,
                Err(StoreError::NotFound(_)) => {
                    // Erased behind the registry's back: it is in no segment now.
                    self.now = h;
                    self.erased(id, events);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            self.now = h;
            self.arm(id, None);
            let plan = self.plan_for(&c, h, Entry::time_dependent);
            self.apply(plan, EntryReason::Time, ExitReason::Time, events);
        }
        self.now = to;
        Ok(())
    }
}

/// A segment's members in a store as of `now`, and the customers' first changes with time.
type Built = (HashSet<CustomerId>, Vec<(CustomerId, DateTime<Utc>)>);

/// Scans `store` for the members of `segment` at `now` and, if it depends on time, each
/// customer's next change.
fn build<S: Store + ?Sized>(store: &S, segment: &Segment, now: DateTime<Utc>) -> Result<Built, StoreError> {
    let matcher = segment.at(now);
    let time = segment.reads().is_time_dependent();
    let (mut members, mut due) = (HashSet::new(), Vec::new());
    let mut after = None;
    loop {
        let batch = store.scan(after, SCAN_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id());
        for c in &batch {
            if matcher.matches(c) {
                members.insert(c.id());
            }
            if let Some(h) = if time { next_change(segment, c, now) } else { None } {
                due.push((c.id(), h));
            }
        }
    }
    Ok((members, due))
}

/// What a write or a due timer entry does to the registry: computed before the inner store
/// commits (so the customer need not be copied), applied after it succeeds.
#[derive(Debug)]
struct Plan {
    id: CustomerId,
    /// The new value of each re-evaluated segment, by position in the registry.
    values: Vec<(usize, bool)>,
    /// The customer's new timer entry, if it is to be replaced.
    due: Option<Option<DateTime<Utc>>>,
}

/// The earlier of two instants, `None` being "never".
fn sooner(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The first instant after `t` at which `segment`'s value for `c` differs from its value at
/// `t`: the horizon, asked again while the value at it turns out the same (compound
/// segments). Leaves' horizons are exact, and each leaf changes finitely often, so this ends.
fn next_change(segment: &Segment, c: &Customer, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    next_change_from(segment, c, t, segment.matches(c, t))
}

/// [`next_change`] for a customer whose value at `t` is `value`.
fn next_change_from(segment: &Segment, c: &Customer, t: DateTime<Utc>, value: bool) -> Option<DateTime<Utc>> {
    let mut h = segment.horizon(c, t)?;
    while segment.matches(c, h) == value {
        h = segment.horizon(c, h)?;
    }
    Some(h)
}

/// The names `expr` refers to, and, with a schema, those its named segments' definitions
/// refer to, transitively.
fn references(expr: &Expr, schema: Option<&Schema>) -> BTreeSet<String> {
    fn walk(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| walk(e, out)),
            Expr::Not(inner) => walk(inner, out),
            Expr::Segment(name) => out.push(name.value().clone()),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    let mut todo = Vec::new();
    walk(expr, &mut todo);
    while let Some(name) = todo.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        if let Some(def) = schema.and_then(|s| s.segment(&name)) {
            walk(def, &mut todo);
        }
    }
    found
}

/// Orders `entries` so that each comes after the registered segments it refers to, ties in
/// registration order; gives them back unordered if they refer to each other in a circle.
fn dependency_order(mut entries: Vec<Entry>) -> Result<Vec<Entry>, Vec<Entry>> {
    entries.sort_by_key(|e| e.seq);
    let names: Vec<Arc<str>> = entries.iter().map(|e| Arc::clone(&e.name)).collect();
    // deps[i]: indices of the registered segments entry i refers to (not itself).
    let deps: Vec<Vec<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            names.iter().enumerate().filter(|(j, n)| *j != i && e.refs.contains(&***n)).map(|(j, _)| j).collect()
        })
        .collect();
    let mut placed = vec![false; entries.len()];
    let mut order = Vec::with_capacity(entries.len());
    while order.len() < entries.len() {
        let next = (0..entries.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]));
        let Some(i) = next else { return Err(entries) };
        placed[i] = true;
        order.push(i);
    }
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
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

    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.write(|inner, reg, events| {
            let before = inner.get(change.customer().id())?;
            let plan = reg.plan(Some(&before), change.customer());
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
