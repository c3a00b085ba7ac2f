//! The façade that ties a store, a clock and the lifecycle policy together.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::{
    clock::{Clock, SystemClock},
    customer::{Customer, CustomerId, Purchase},
    error::Error,
    error::StoreError,
    lifecycle::{Event, Funnel, Journey, Lifecycle, LifecyclePolicy, Transition},
    segment::Segment,
    store::{Change, Store},
    validation::ValidationError,
};

/// Something the application wants told about each committed transition: a win-back offer
/// when a customer is lost, an audit log, a webhook.
///
/// Observers are called after the store committed the write, never for a write that failed,
/// in the order they were registered, on the thread that made the change. Any
/// `Fn(CustomerId, &Transition) + Send + Sync` closure is an observer.
///
/// # Example
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use clientele::{CustomerId, Observer, Transition};
///
/// struct Audit(Mutex<Vec<String>>);
/// impl Observer for Audit {
///     fn on_transition(&self, id: CustomerId, t: &Transition) {
///         self.0.lock().unwrap().push(format!("{id}: {} -> {}", t.from, t.to));
///     }
/// }
/// ```
pub trait Observer: Send + Sync {
    /// Called once per committed transition.
    ///
    /// # Example
    ///
    /// Any `Fn(CustomerId, &Transition)` closure is an observer:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, Event, Observer, Stage, Transition, lifecycle::TransitionKind};
    ///
    /// let last = AtomicU64::new(0);
    /// let observer = |id: CustomerId, _: &Transition| last.store(id.get(), Ordering::SeqCst);
    /// let t = Transition { from: Stage::Suspect, to: Stage::Prospect, event: Event::Qualify,
    ///     kind: TransitionKind::Progress, at: DateTime::UNIX_EPOCH, note: None };
    /// observer.on_transition(CustomerId::new(7), &t);
    /// assert_eq!(last.load(Ordering::SeqCst), 7);
    /// ```
    ///
    /// [`Crm::observe`] registers one with a CRM.
    fn on_transition(&self, customer: CustomerId, transition: &Transition);
}

impl<F: Fn(CustomerId, &Transition) + Send + Sync> Observer for F {
    fn on_transition(&self, customer: CustomerId, transition: &Transition) {
        self(customer, transition);
    }
}

/// What a policy run did.
///
/// # Example
///
/// ```
/// use clientele::{Crm, MemoryStore, SystemClock, Clock};
/// let report = Crm::new(MemoryStore::new()).run_policy(SystemClock.now())?;
/// assert_eq!(report.examined, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PolicyReport {
    /// Customers looked at.
    pub examined: usize,
    /// The transitions committed, by customer.
    pub transitions: Vec<(CustomerId, Transition)>,
    /// Customers the policy could not move, with the reason (e.g. a stage dated after the
    /// run's date). Their data is unchanged.
    pub skipped: Vec<(CustomerId, Error)>,
}

/// How many times a write is retried after a concurrent write to the same customer.
const DEFAULT_RETRIES: u32 = 64;

/// How many customers a policy run reads at a time.
const SCAN_BATCH: usize = 1024;

/// A CRM: a [`Store`], a [`Clock`] and a [`Lifecycle`] policy, plus observers.
///
/// Every write reads the customer, applies the change, and commits it with optimistic
/// concurrency, retrying on a conflict; observers hear of each transition after the commit.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use clientele::{Crm, Currency, Customer, CustomerId, Event, ManualClock, MemoryStore, Money, Purchase, Stage};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
/// let clock = ManualClock::new(t0);
/// let mut crm = Crm::new(MemoryStore::new()).with_clock(&clock);
/// crm.observe(|id, t: &clientele::Transition| println!("{id}: {} -> {}", t.from, t.to));
///
/// let ada = CustomerId::new(1);
/// crm.insert(Customer::new(ada, "Ada", t0))?;
/// crm.apply(ada, Event::Qualify, Some("asked for a quote"))?;
///
/// let usd = Currency::new("USD")?;
/// clock.advance(Duration::days(3));
/// crm.record_purchase(ada, Purchase::new(clock_now(&clock), Money::parse("120.00", usd)?))?;
/// clock.advance(Duration::days(30));
/// crm.record_purchase(ada, Purchase::new(clock_now(&clock), Money::parse("80.00", usd)?))?;
/// assert_eq!(crm.get(ada)?.stage(), Stage::Repeat);
///
/// // A year later without a purchase, the policy marks Ada lost.
/// clock.advance(Duration::days(400));
/// let report = crm.run_policy(clock_now(&clock))?;
/// assert_eq!(crm.get(ada)?.stage(), Stage::Lost);
/// assert_eq!(report.transitions.len(), 1);
/// # fn clock_now(c: &ManualClock) -> chrono::DateTime<Utc> { use clientele::Clock; c.now() }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Crm<S, C = SystemClock> {
    store: S,
    clock: C,
    lifecycle: Lifecycle,
    observers: Vec<Box<dyn Observer>>,
    retries: u32,
}

impl<S: fmt::Debug, C: fmt::Debug> fmt::Debug for Crm<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crm")
            .field("store", &self.store)
            .field("clock", &self.clock)
            .field("lifecycle", &self.lifecycle)
            .field("observers", &self.observers.len())
            .field("retries", &self.retries)
            .finish()
    }
}

impl<S: Store> Crm<S, SystemClock> {
    /// A CRM over `store`, on the system clock, with the default [`LifecyclePolicy`].
    ///
    /// # Example
    ///
    /// ```
    /// let crm = clientele::Crm::new(clientele::MemoryStore::new());
    /// assert_eq!(crm.lifecycle().policy().repeat_after_purchases, 2);
    /// ```
    pub fn new(store: S) -> Crm<S, SystemClock> {
        Crm {
            store,
            clock: SystemClock,
            lifecycle: Lifecycle::default(),
            observers: Vec::new(),
            retries: DEFAULT_RETRIES,
        }
    }
}

impl<S: Store, C: Clock> Crm<S, C> {
    /// The same CRM on another clock.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Clock, Crm, ManualClock, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new()).with_clock(ManualClock::new(DateTime::UNIX_EPOCH));
    /// assert_eq!(crm.clock().now(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn with_clock<C2: Clock>(self, clock: C2) -> Crm<S, C2> {
        Crm { store: self.store, clock, lifecycle: self.lifecycle, observers: self.observers, retries: self.retries }
    }

    /// The same CRM with another policy.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] from [`LifecyclePolicy::validate`].
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Crm, MemoryStore, lifecycle::LifecyclePolicy};
    /// let crm = Crm::new(MemoryStore::new())
    ///     .with_policy(LifecyclePolicy { inactive_after_days: 90, ..LifecyclePolicy::default() })?;
    /// assert_eq!(crm.lifecycle().policy().inactive_after_days, 90);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_policy(mut self, policy: LifecyclePolicy) -> Result<Crm<S, C>, ValidationError> {
        policy.validate()?;
        self.lifecycle = Lifecycle::new(policy);
        Ok(self)
    }

    /// Registers an observer of committed transitions.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use chrono::DateTime;
    /// use clientele::{Crm, Customer, CustomerId, Event, ManualClock, MemoryStore, Transition};
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&seen);
    /// let mut crm = Crm::new(MemoryStore::new()).with_clock(ManualClock::new(DateTime::UNIX_EPOCH));
    /// crm.observe(move |_, _: &Transition| { counter.fetch_add(1, Ordering::SeqCst); });
    /// crm.insert(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH))?;
    /// crm.apply(CustomerId::new(1), Event::Qualify, None)?;
    /// assert!(crm.apply(CustomerId::new(1), Event::Qualify, None).is_err()); // refused: not observed
    /// assert_eq!(seen.load(Ordering::SeqCst), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe(&mut self, observer: impl Observer + 'static) {
        self.observers.push(Box::new(observer));
    }

    /// The store.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Crm, MemoryStore, Store};
    /// assert_eq!(Crm::new(MemoryStore::new()).store().count()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Clock, Crm, MemoryStore};
    /// assert!(Crm::new(MemoryStore::new()).clock().now().timestamp() > 0);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The state machine and its policy.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Crm::new(clientele::MemoryStore::new()).lifecycle().policy().lost_after_days, 365);
    /// ```
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Stores a new customer and returns it as stored (version 1).
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`], [`StoreError::InvalidData`] (wrapped in [`Error::Store`]).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new());
    /// let c = crm.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
    /// assert_eq!(c.version(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(&self, customer: Customer) -> Result<Customer, Error> {
        let id = customer.id();
        self.store.insert(customer)?;
        Ok(self.store.get(id)?)
    }

    /// The stored customer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] (wrapped in [`Error::Store`]).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Crm, CustomerId, MemoryStore};
    /// assert!(Crm::new(MemoryStore::new()).get(CustomerId::new(1)).is_err());
    /// ```
    pub fn get(&self, id: CustomerId) -> Result<Customer, Error> {
        Ok(self.store.get(id)?)
    }

    /// Edits a customer's descriptive fields with `edit` and writes the result; returns the
    /// new version. `edit` may run more than once if another writer gets in first.
    ///
    /// # Errors
    ///
    /// A store error; [`StoreError::InvalidData`] if the edit breaks a limit (nothing is
    /// written).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Crm, Customer, CustomerId, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new());
    /// let id = CustomerId::new(1);
    /// crm.insert(Customer::new(id, "Ada", DateTime::UNIX_EPOCH))?;
    /// crm.edit(id, |c| { c.channels.opted_out.insert(Channel::Sms); })?;
    /// assert!(crm.get(id)?.channels.opted_out.contains(Channel::Sms));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn edit(&self, id: CustomerId, mut edit: impl FnMut(&mut Customer)) -> Result<u64, Error> {
        self.write(id, |change| {
            edit(change.customer_mut());
            Ok(true)
        })
    }

    /// Counts one more referral by the customer. The client-to-advocate move follows on the
    /// next [`run_policy`](Self::run_policy).
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new());
    /// let id = CustomerId::new(1);
    /// crm.insert(Customer::new(id, "Ada", DateTime::UNIX_EPOCH))?;
    /// crm.record_referral(id)?;
    /// assert_eq!(crm.get(id)?.referrals, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_referral(&self, id: CustomerId) -> Result<u64, Error> {
        self.edit(id, |c| c.referrals = c.referrals.saturating_add(1))
    }

    /// Records a purchase and the stage moves it causes, atomically, stamped with the clock's
    /// now; returns the moves.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for an invalid purchase or one dated after the clock's now; a
    /// store or transition error. Nothing is written on error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use clientele::{Clock, Crm, Currency, Customer, CustomerId, MemoryStore, Money, Purchase, Stage};
    /// let crm = Crm::new(MemoryStore::new());
    /// let id = CustomerId::new(1);
    /// crm.insert(Customer::new(id, "Ada", Utc::now()))?;
    /// let moves = crm.record_purchase(id, Purchase::new(crm.clock().now(), Money::new(999, Currency::new("EUR")?)))?;
    /// assert_eq!(moves[0].to, Stage::FirstTime);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_purchase(&self, id: CustomerId, purchase: Purchase) -> Result<Vec<Transition>, Error> {
        let now = self.clock.now();
        if purchase.at > now {
            return Err(ValidationError::new("purchase.at", format!("{} is after now ({now})", purchase.at)).into());
        }
        let mut moves = Vec::new();
        self.write(id, |change| {
            moves = change.record_purchase(&self.lifecycle, purchase.clone(), now)?.to_vec();
            Ok(true)
        })?;
        Ok(moves)
    }

    /// Applies `event` to the customer now, with an optional note; returns the transition, or
    /// `None` if the event was legal but kept the stage (nothing is written then).
    ///
    /// # Errors
    ///
    /// [`Error::Transition`] naming the stage and event when the event is illegal or refused
    /// (nothing is written); a store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::Utc;
    /// use clientele::{Crm, Customer, CustomerId, Event, MemoryStore, Stage};
    /// let crm = Crm::new(MemoryStore::new());
    /// let id = CustomerId::new(1);
    /// crm.insert(Customer::new(id, "Ada", Utc::now()))?;
    /// let t = crm.apply(id, Event::Disqualify, Some("unprofitable"))?.expect("moved");
    /// assert_eq!(t.to, Stage::DisqualifiedProspect);
    /// assert_eq!(t.note.as_deref(), Some("unprofitable"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply(&self, id: CustomerId, event: Event, note: Option<&str>) -> Result<Option<Transition>, Error> {
        let now = self.clock.now();
        let mut moved = None;
        self.write(id, |change| {
            moved = change.apply(&self.lifecycle, event, now, note)?.cloned();
            Ok(moved.is_some())
        })?;
        Ok(moved)
    }

    /// The customer's transitions, oldest first.
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::Utc;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new());
    /// crm.insert(Customer::new(CustomerId::new(1), "Ada", Utc::now()))?;
    /// assert!(crm.history(CustomerId::new(1))?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn history(&self, id: CustomerId) -> Result<Vec<Transition>, Error> {
        Ok(self.store.history(id)?)
    }

    /// The customer's [`Journey`]: where they started and every transition since.
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::Utc;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore, Stage};
    /// let crm = Crm::new(MemoryStore::new());
    /// crm.insert(Customer::new(CustomerId::new(1), "Ada", Utc::now()))?;
    /// assert_eq!(crm.journey(CustomerId::new(1))?.initial, Stage::Suspect);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn journey(&self, id: CustomerId) -> Result<Journey, Error> {
        let customer = self.store.get(id)?;
        let transitions = self.store.history(id)?;
        Ok(journey_of(&customer, transitions))
    }

    /// The ids of the customers in `segment` now (by the CRM's clock), in id order: evaluated
    /// where the store evaluates segments (in SQL for the SQL stores, see [`Store::query`]).
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::Utc;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore, segment::{Schema, Segment}};
    /// let crm = Crm::new(MemoryStore::new());
    /// crm.insert(Customer::new(CustomerId::new(1), "Ada", Utc::now()))?;
    /// let new_ones = Segment::compile("created_at within 1 day", &Schema::default())?;
    /// assert_eq!(crm.members(&new_ones)?, [CustomerId::new(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self, segment: &Segment) -> Result<Vec<CustomerId>, Error> {
        Ok(self.store.query(segment, self.clock.now())?)
    }

    /// Funnel analytics over every customer's journey.
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Crm, MemoryStore};
    /// assert!(Crm::new(MemoryStore::new()).funnel()?.journeys().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn funnel(&self) -> Result<Funnel, Error> {
        let mut journeys = Vec::new();
        self.for_each_batch(|batch| {
            for customer in batch {
                // A customer erased between the scan and this read is simply left out.
                match self.store.history(customer.id()) {
                    Ok(history) => journeys.push(journey_of(&customer, history)),
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        })?;
        Ok(Funnel::new(journeys))
    }

    /// Runs the lifecycle policy for every customer as of `at`: lapses and loses idle
    /// customers, promotes repeat customers to clients and clients to advocates. Each
    /// customer's moves are committed atomically and observed.
    ///
    /// # Errors
    ///
    /// A store error that stops the run (customers already moved stay moved). Per-customer
    /// refusals are listed in [`PolicyReport::skipped`] instead.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Crm, Currency, Customer, CustomerId, LifecycleState, MemoryStore, Money, Purchase, Stage};
    ///
    /// let t0 = DateTime::UNIX_EPOCH;
    /// let crm = Crm::new(MemoryStore::new());
    /// let id = CustomerId::new(1);
    /// let ada = Customer::new(id, "Ada", t0)
    ///     .with_purchases(vec![Purchase::new(t0, Money::new(9_900, Currency::USD))])?
    ///     .with_lifecycle(LifecycleState::at_stage(Stage::FirstTime, t0, None)?);
    /// crm.insert(ada)?;
    ///
    /// // 200 days without a purchase: inactive (the default policy's threshold is 180).
    /// let report = crm.run_policy(t0 + Duration::days(200))?;
    /// assert_eq!((report.examined, report.transitions.len()), (1, 1));
    /// assert_eq!(crm.get(id)?.stage(), Stage::Inactive);
    ///
    /// // 400 days: lost (365).
    /// crm.run_policy(t0 + Duration::days(400))?;
    /// assert_eq!(crm.get(id)?.stage(), Stage::Lost);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`Crm`] shows a whole customer journey.
    pub fn run_policy(&self, at: DateTime<Utc>) -> Result<PolicyReport, Error> {
        let mut report = PolicyReport::default();
        self.for_each_batch(|batch| {
            for customer in batch {
                report.examined += 1;
                let id = customer.id();
                if self.lifecycle.propose(customer.lifecycle(), &customer.facts(at, &self.lifecycle)).is_none() {
                    continue;
                }
                let mut moves = Vec::new();
                match self.write(id, |change| {
                    moves = change.settle(&self.lifecycle, at)?.to_vec();
                    Ok(!moves.is_empty())
                }) {
                    Ok(_) => report.transitions.extend(moves.into_iter().map(|t| (id, t))),
                    Err(Error::Store(StoreError::NotFound(_))) => {}
                    Err(e @ (Error::Transition(_) | Error::Validation(_))) => report.skipped.push((id, e)),
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })?;
        Ok(report)
    }

    /// Erases the customer and everything recorded about them.
    ///
    /// # Errors
    ///
    /// A store error.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::Utc;
    /// use clientele::{Crm, Customer, CustomerId, MemoryStore};
    /// let crm = Crm::new(MemoryStore::new());
    /// crm.insert(Customer::new(CustomerId::new(1), "Ada", Utc::now()))?;
    /// crm.erase(CustomerId::new(1))?;
    /// assert!(crm.get(CustomerId::new(1)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn erase(&self, id: CustomerId) -> Result<(), Error> {
        Ok(self.store.erase(id)?)
    }

    /// Reads, changes and commits one customer, retrying on conflicts; `change` returns
    /// whether there is anything to write. Observers hear of the committed transitions.
    fn write(&self, id: CustomerId, mut change: impl FnMut(&mut Change) -> Result<bool, Error>) -> Result<u64, Error> {
        let mut attempt = 0;
        loop {
            let customer = self.store.get(id)?;
            let version = customer.version();
            let mut pending = Change::new(customer);
            if !change(&mut pending)? {
                return Ok(version);
            }
            // Cloned only when someone listens: the common path does not pay for observers.
            let transitions = if self.observers.is_empty() { Vec::new() } else { pending.transitions().to_vec() };
            match self.store.update(pending) {
                Ok(version) => {
                    for t in &transitions {
                        for o in &self.observers {
                            o.on_transition(id, t);
                        }
                    }
                    return Ok(version);
                }
                Err(e) if e.is_conflict() && attempt < self.retries => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn for_each_batch(&self, mut f: impl FnMut(Vec<Customer>) -> Result<(), Error>) -> Result<(), Error> {
        let mut after = None;
        loop {
            let batch = self.store.scan(after, SCAN_BATCH)?;
            let Some(last) = batch.last() else { return Ok(()) };
            after = Some(last.id());
            f(batch)?;
        }
    }
}

fn journey_of(customer: &Customer, transitions: Vec<Transition>) -> Journey {
    let initial = transitions.first().map_or(customer.stage(), |t| t.from);
    Journey { start: customer.created_at(), initial, transitions }
}
