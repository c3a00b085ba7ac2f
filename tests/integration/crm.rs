//! The `Crm` façade on a manual clock: observers, purchases, the lifecycle policy, funnels,
//! concurrent edits and erasure.
//!
//! Expected stages and histories are worked out by hand from the default policy (repeat at 2
//! purchases, client at 5 within 365 days or exclusive, advocate at 3 referrals, inactive
//! after 180 idle days, lost after 365).

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap: a panic is a failed check with a message")]

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use chrono::{DateTime, Duration, TimeZone, Utc};
use clientele::{
    AttrValue, Change, Clock, Crm, Currency, Customer, CustomerId, Error, Event, LifecycleState, ManualClock,
    MemoryStore, Money, Purchase, Stage, Store, StoreError, Transition,
    lifecycle::{Journey, LifecyclePolicy, Ratio, TransitionError, TransitionKind},
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

fn days(n: i64) -> DateTime<Utc> {
    t0() + Duration::days(n)
}

fn usd() -> Currency {
    Currency::new("USD").unwrap()
}

fn cid(n: u64) -> CustomerId {
    CustomerId::new(n)
}

fn buy(at: DateTime<Utc>, cents: i64) -> Purchase {
    Purchase::new(at, Money::new(cents, usd()))
}

fn tr(from: Stage, to: Stage, event: Event, kind: TransitionKind, at: DateTime<Utc>) -> Transition {
    Transition { from, to, event, kind, at, note: None }
}

/// Sets the clock to `at` and records a purchase dated then.
fn buy_at<S: Store>(crm: &Crm<S, &ManualClock>, clock: &ManualClock, id: u64, at: DateTime<Utc>) -> Vec<Transition> {
    clock.set(at);
    crm.record_purchase(cid(id), buy(at, 1_000)).unwrap()
}

fn moved(report: &clientele::PolicyReport) -> Vec<(u64, Stage, Stage, Event)> {
    report.transitions.iter().map(|(id, t)| (id.get(), t.from, t.to, t.event)).collect()
}

fn assert_store_err<T: std::fmt::Debug>(result: Result<T, Error>, want: fn(&StoreError) -> bool) {
    match result {
        Err(Error::Store(e)) if want(&e) => {}
        other => panic!("unexpected result {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Observers.

/// What an observer saw, including what it read back from the store during the call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    observer: u8,
    id: u64,
    from: Stage,
    to: Stage,
    stored_stage: Stage,
    stored_version: u64,
    in_history: bool,
}

fn seen(observer: u8, id: u64, from: Stage, to: Stage, stored_stage: Stage, stored_version: u64) -> Seen {
    Seen { observer, id, from, to, stored_stage, stored_version, in_history: true }
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Registers two observers that log each call and read the store while being called.
fn watch<S: Store + 'static, C: Clock>(crm: &mut Crm<Arc<S>, C>, store: &Arc<S>) -> Log {
    let log: Log = Arc::default();
    for observer in [1u8, 2] {
        let (log, store) = (Arc::clone(&log), Arc::clone(store));
        crm.observe(move |id: CustomerId, t: &Transition| {
            let c = store.get(id).unwrap();
            let in_history = store.history(id).unwrap().contains(t);
            log.lock().unwrap().push(Seen {
                observer,
                id: id.get(),
                from: t.from,
                to: t.to,
                stored_stage: c.stage(),
                stored_version: c.version(),
                in_history,
            });
        });
    }
    log
}

#[test]
fn observers_hear_each_committed_transition_in_order_after_the_commit() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let mut crm = Crm::new(Arc::clone(&store)).with_clock(Arc::clone(&clock));
    let log = watch(&mut crm, &store);
    let ada = cid(1);
    let take = || std::mem::take(&mut *log.lock().unwrap());

    crm.insert(Customer::new(ada, "Ada", t0())).unwrap(); // v1
    assert_eq!(take(), []);

    crm.apply(ada, Event::Qualify, Some("asked for a quote")).unwrap(); // v2
    assert_eq!(
        take(),
        [
            seen(1, 1, Stage::Suspect, Stage::Prospect, Stage::Prospect, 2),
            seen(2, 1, Stage::Suspect, Stage::Prospect, Stage::Prospect, 2),
        ]
    );

    // Refused events, invalid purchases and plain edits are not observed.
    assert!(matches!(crm.apply(ada, Event::Qualify, None), Err(Error::Transition(TransitionError::Illegal { .. }))));
    assert!(matches!(crm.apply(ada, Event::Lapse, None), Err(Error::Transition(_))));
    assert!(matches!(crm.record_purchase(ada, buy(t0(), -5)), Err(Error::Validation(_))));
    crm.edit(ada, |c| c.referrals = 1).unwrap(); // v3
    assert_eq!(take(), []);
    assert_eq!(crm.get(ada).unwrap().version(), 3);

    clock.advance(Duration::days(1));
    crm.record_purchase(ada, buy(days(1), 500)).unwrap(); // v4
    assert_eq!(
        take(),
        [
            seen(1, 1, Stage::Prospect, Stage::FirstTime, Stage::FirstTime, 4),
            seen(2, 1, Stage::Prospect, Stage::FirstTime, Stage::FirstTime, 4),
        ]
    );
    // A legal event that keeps the stage writes nothing and is not observed.
    assert_eq!(crm.apply(ada, Event::Purchase, None).unwrap(), None);
    assert_eq!(crm.get(ada).unwrap().version(), 4);
    assert_eq!(take(), []);

    clock.advance(Duration::days(200));
    let report = crm.run_policy(clock.now()).unwrap(); // v5
    assert_eq!(report.transitions.len(), 1);
    assert_eq!(
        take(),
        [
            seen(1, 1, Stage::FirstTime, Stage::Inactive, Stage::Inactive, 5),
            seen(2, 1, Stage::FirstTime, Stage::Inactive, Stage::Inactive, 5),
        ]
    );

    // Two transitions in one commit: both are already stored when the first is observed.
    let moves = crm.record_purchase(ada, buy(clock.now(), 700)).unwrap(); // v6
    assert_eq!(moves.len(), 2);
    assert_eq!(
        take(),
        [
            seen(1, 1, Stage::Inactive, Stage::FirstTime, Stage::Repeat, 6),
            seen(2, 1, Stage::Inactive, Stage::FirstTime, Stage::Repeat, 6),
            seen(1, 1, Stage::FirstTime, Stage::Repeat, Stage::Repeat, 6),
            seen(2, 1, Stage::FirstTime, Stage::Repeat, Stage::Repeat, 6),
        ]
    );

    // Another customer.
    crm.insert(Customer::new(cid(2), "Bea", clock.now())).unwrap();
    crm.apply(cid(2), Event::Disqualify, Some("unprofitable")).unwrap();
    assert!(matches!(crm.apply(cid(2), Event::Qualify, None), Err(Error::Transition(_))));
    assert_eq!(
        take(),
        [
            seen(1, 2, Stage::Suspect, Stage::DisqualifiedProspect, Stage::DisqualifiedProspect, 2),
            seen(2, 2, Stage::Suspect, Stage::DisqualifiedProspect, Stage::DisqualifiedProspect, 2),
        ]
    );
    assert_eq!(crm.history(ada).unwrap().len(), 5);
}

/// A store that can fail its updates, or let another writer in first.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    /// Fail every update with a backend error.
    broken: AtomicBool,
    /// How many more updates are preceded by a competing write (forcing a conflict).
    interfere: AtomicUsize,
    /// Updates attempted.
    updates: AtomicUsize,
}

impl Store for Flaky {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.inner.insert(customer)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.inner.get(id)
    }
    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("disk on fire".into()));
        }
        let interfere = self.interfere.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if interfere {
            let id = change.customer().id();
            let mut other = Change::new(self.inner.get(id)?);
            let seen = match other.customer().attributes.get("interference") {
                Some(AttrValue::Int(n)) => *n,
                _ => 0,
            };
            other.customer_mut().attributes.set("interference", AttrValue::Int(seen + 1)).unwrap();
            self.inner.update(other)?;
        }
        self.inner.update(change)
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
        self.inner.erase(id)
    }
}

#[test]
fn observers_are_not_called_for_failed_writes() {
    let store = Arc::new(Flaky::default());
    let clock = ManualClock::new(t0());
    let mut crm = Crm::new(Arc::clone(&store)).with_clock(&clock);
    let log = watch(&mut crm, &store);
    crm.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    crm.insert(Customer::new(cid(2), "Bea", t0())).unwrap();
    crm.record_purchase(cid(2), buy(t0(), 100)).unwrap();
    log.lock().unwrap().clear();
    let before = |n| (crm.get(cid(n)).unwrap(), crm.history(cid(n)).unwrap());
    let (before1, before2) = (before(1), before(2));

    store.broken.store(true, Ordering::SeqCst);
    let backend = |e: &StoreError| matches!(e, StoreError::Backend(_));
    assert_store_err(crm.record_purchase(cid(1), buy(t0(), 100)), backend);
    assert_store_err(crm.apply(cid(1), Event::Qualify, None), backend);
    assert_store_err(crm.edit(cid(1), |c| c.referrals = 4), backend);
    // Bea would be lost by day 400; the failed write stops the run.
    assert_store_err(crm.run_policy(days(400)), backend);
    assert!(log.lock().unwrap().is_empty());
    assert_eq!(before(1), before1);
    assert_eq!(before(2), before2);

    store.broken.store(false, Ordering::SeqCst);
    crm.apply(cid(1), Event::Qualify, None).unwrap();
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn a_retried_write_is_observed_once() {
    let store = Arc::new(Flaky::default());
    let clock = ManualClock::new(t0());
    let mut crm = Crm::new(Arc::clone(&store)).with_clock(&clock);
    let log = watch(&mut crm, &store);
    crm.insert(Customer::new(cid(1), "Ada", t0())).unwrap();

    // Three competing writes get in first; the fourth attempt commits.
    store.interfere.store(3, Ordering::SeqCst);
    let moves = crm.record_purchase(cid(1), buy(t0(), 100)).unwrap();
    assert_eq!(moves, [tr(Stage::Suspect, Stage::FirstTime, Event::Purchase, TransitionKind::Progress, t0())]);
    assert_eq!(store.updates.load(Ordering::SeqCst), 4);
    let c = crm.get(cid(1)).unwrap();
    assert_eq!(c.purchases().as_slice().len(), 1);
    assert_eq!(c.attributes.get("interference"), Some(&AttrValue::Int(3)));
    assert_eq!(c.version(), 1 + 3 + 1);
    assert_eq!(crm.history(cid(1)).unwrap().len(), 1);
    assert_eq!(
        *log.lock().unwrap(),
        [
            seen(1, 1, Stage::Suspect, Stage::FirstTime, Stage::FirstTime, 5),
            seen(2, 1, Stage::Suspect, Stage::FirstTime, Stage::FirstTime, 5)
        ]
    );

    // A writer that always loses gives up with the conflict, and nothing of its own is
    // written or observed.
    log.lock().unwrap().clear();
    store.updates.store(0, Ordering::SeqCst);
    store.interfere.store(100_000, Ordering::SeqCst);
    let err = crm.record_purchase(cid(1), buy(t0(), 200)).unwrap_err();
    assert!(matches!(err, Error::Store(ref e) if e.is_conflict()), "{err:?}");
    let attempts = store.updates.load(Ordering::SeqCst);
    assert!(attempts > 1, "the write was not retried");
    let c = crm.get(cid(1)).unwrap();
    assert_eq!(c.purchases().as_slice().len(), 1);
    assert_eq!(c.attributes.get("interference"), Some(&AttrValue::Int(3 + i64::try_from(attempts).unwrap())));
    assert_eq!(crm.history(cid(1)).unwrap().len(), 1);
    assert!(log.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Purchases.

#[test]
fn record_purchase_refuses_a_purchase_after_now_and_stamps_moves_with_now() {
    let clock = ManualClock::new(days(10));
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    crm.insert(Customer::new(cid(1), "Ada", t0())).unwrap();

    let future = buy(days(10) + Duration::seconds(1), 100);
    match crm.record_purchase(cid(1), future) {
        Err(Error::Validation(e)) => assert_eq!(e.field(), "purchase.at"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let c = crm.get(cid(1)).unwrap();
    assert_eq!((c.version(), c.stage(), c.purchases().as_slice().len()), (1, Stage::Suspect, 0));
    assert!(crm.history(cid(1)).unwrap().is_empty());

    // Exactly now is fine; so is a back-dated purchase, whose moves are stamped now.
    assert_eq!(
        crm.record_purchase(cid(1), buy(days(3), 100)).unwrap(),
        [tr(Stage::Suspect, Stage::FirstTime, Event::Purchase, TransitionKind::Progress, days(10))]
    );
    assert_eq!(
        crm.record_purchase(cid(1), buy(days(10), 100)).unwrap(),
        [tr(Stage::FirstTime, Stage::Repeat, Event::Purchase, TransitionKind::Progress, days(10))]
    );
    let c = crm.get(cid(1)).unwrap();
    assert_eq!(c.purchases().as_slice().iter().map(|p| p.at).collect::<Vec<_>>(), [days(3), days(10)]);
    assert_eq!(c.version(), 3);

    // Unknown customers are a store error.
    assert_store_err(crm.record_purchase(cid(2), buy(t0(), 1)), |e| matches!(e, StoreError::NotFound(_)));
}

// ---------------------------------------------------------------------------------------------
// The lifecycle policy.

#[test]
fn run_policy_lapses_then_loses_idle_customers() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    for (n, name) in [(1, "Ada"), (2, "Bea"), (3, "Cem")] {
        crm.insert(Customer::new(cid(n), name, t0())).unwrap();
    }
    buy_at(&crm, &clock, 1, t0()); // Ada: first-time, last purchase day 0.
    buy_at(&crm, &clock, 2, days(5));
    buy_at(&crm, &clock, 2, days(10)); // Bea: repeat, last purchase day 10. Cem: no purchase.

    use Event::{Lapse, Lose};
    use Stage::{FirstTime, Inactive, Lost, Repeat};
    let run = |day: i64| {
        let report = crm.run_policy(days(day)).unwrap();
        assert_eq!(report.examined, 3);
        assert!(report.skipped.is_empty());
        moved(&report)
    };
    assert_eq!(run(179), []);
    assert_eq!(run(180), [(1, FirstTime, Inactive, Lapse)]);
    assert_eq!(run(189), []);
    assert_eq!(run(190), [(2, Repeat, Inactive, Lapse)]);
    assert_eq!(run(364), []);
    assert_eq!(run(365), [(1, Inactive, Lost, Lose)]);
    assert_eq!(run(374), []);
    assert_eq!(run(375), [(2, Inactive, Lost, Lose)]);
    assert_eq!(run(800), []);

    let ada = crm.get(cid(1)).unwrap();
    assert_eq!((ada.stage(), ada.lifecycle().resume_stage()), (Lost, Some(FirstTime)));
    assert_eq!(crm.get(cid(2)).unwrap().lifecycle().resume_stage(), Some(Repeat));
    assert_eq!(crm.get(cid(3)).unwrap().stage(), Stage::Suspect);
    assert!(crm.history(cid(3)).unwrap().is_empty());
    assert_eq!(
        crm.history(cid(1)).unwrap(),
        [
            tr(Stage::Suspect, FirstTime, Event::Purchase, TransitionKind::Progress, t0()),
            tr(FirstTime, Inactive, Lapse, TransitionKind::Downgrade, days(180)),
            tr(Inactive, Lost, Lose, TransitionKind::Downgrade, days(365)),
        ]
    );

    // Idle for a year at the first run: lost at once, in one move.
    crm.insert(Customer::new(cid(4), "Dia", t0())).unwrap();
    buy_at(&crm, &clock, 4, days(1));
    buy_at(&crm, &clock, 4, days(2));
    assert_eq!(run_four(&crm, 367), [(4, Repeat, Lost, Lose)]);
    assert_eq!(crm.get(cid(4)).unwrap().lifecycle().resume_stage(), Some(Repeat));
}

fn run_four<S: Store, C: Clock>(crm: &Crm<S, C>, day: i64) -> Vec<(u64, Stage, Stage, Event)> {
    let report = crm.run_policy(days(day)).unwrap();
    assert_eq!(report.examined, 4);
    moved(&report)
}

#[test]
fn run_policy_promotes_repeat_customers_and_clients() {
    let store = MemoryStore::new();
    let clock = ManualClock::new(t0());
    // Purchases go through a stricter policy so that five of them leave a repeat customer.
    let strict = Crm::new(&store)
        .with_clock(&clock)
        .with_policy(LifecyclePolicy { client_after_purchases: 6, ..LifecyclePolicy::default() })
        .unwrap();
    let crm = Crm::new(&store).with_clock(&clock);
    for (n, name) in [(1, "Fay"), (2, "Gus"), (3, "Hal"), (4, "Ida")] {
        crm.insert(Customer::new(cid(n), name, t0())).unwrap();
    }
    // Fay's first purchase is exactly 365 days before the run: outside the window. Gus's is
    // an hour later: inside.
    let mut buys = vec![(1, t0()), (2, t0() + Duration::hours(1))];
    for d in 300..304 {
        buys.extend([(1, days(d)), (2, days(d))]);
    }
    buys.extend([(3, days(300)), (3, days(301)), (4, days(300)), (4, days(301))]);
    for (n, at) in buys {
        clock.set(at);
        strict.record_purchase(cid(n), buy(at, 1_000)).unwrap();
    }
    for n in 1..=4 {
        assert_eq!(crm.get(cid(n)).unwrap().stage(), Stage::Repeat);
    }

    use Event::{BecomeAdvocate, BecomeClient};
    use Stage::{Advocate, Client, Repeat};
    assert_eq!(run_four(&crm, 365), [(2, Repeat, Client, BecomeClient)]);
    assert_eq!(crm.get(cid(1)).unwrap().stage(), Repeat);

    // Exclusivity makes a client without the purchases.
    assert_eq!(run_four(&crm, 366), []);
    crm.edit(cid(3), |c| c.exclusive = true).unwrap();
    assert_eq!(run_four(&crm, 366), [(3, Repeat, Client, BecomeClient)]);

    // Three referrals make a client an advocate, on the next run.
    crm.record_referral(cid(2)).unwrap();
    crm.record_referral(cid(2)).unwrap();
    assert_eq!(run_four(&crm, 367), []);
    crm.record_referral(cid(2)).unwrap();
    assert_eq!(crm.get(cid(2)).unwrap().referrals, 3);
    assert_eq!(crm.get(cid(2)).unwrap().stage(), Client);
    assert_eq!(run_four(&crm, 367), [(2, Client, Advocate, BecomeAdvocate)]);

    // Both moves in one run, in order.
    crm.edit(cid(4), |c| {
        c.exclusive = true;
        c.referrals = 3;
    })
    .unwrap();
    let report = crm.run_policy(days(368)).unwrap();
    assert_eq!(moved(&report), [(4, Repeat, Client, BecomeClient), (4, Client, Advocate, BecomeAdvocate)]);
    assert_eq!(report.transitions.iter().map(|(_, t)| t.at).collect::<Vec<_>>(), [days(368), days(368)]);
    assert_eq!(
        crm.history(cid(4)).unwrap()[2..],
        report.transitions.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>()
    );

    let stages: Vec<Stage> = (1..=4).map(|n| crm.get(cid(n)).unwrap().stage()).collect();
    assert_eq!(stages, [Repeat, Advocate, Client, Advocate]);
}

#[test]
fn run_policy_reports_customers_it_skipped() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    crm.insert(Customer::new(cid(1), "Jo", t0())).unwrap();
    crm.insert(Customer::new(cid(2), "Kai", t0())).unwrap();
    // Kai bought on day 0; Jo's day-0 purchase was only recorded on day 300, so Jo has been
    // a first-time buyer since day 300.
    crm.record_purchase(cid(2), buy(t0(), 100)).unwrap();
    clock.set(days(300));
    crm.record_purchase(cid(1), buy(t0(), 100)).unwrap();
    let jo_before = (crm.get(cid(1)).unwrap(), crm.history(cid(1)).unwrap());

    // As of day 200 both were idle for 200 days, but Jo cannot lapse before day 300.
    let report = crm.run_policy(days(200)).unwrap();
    assert_eq!(report.examined, 2);
    assert_eq!(moved(&report), [(2, Stage::FirstTime, Stage::Inactive, Event::Lapse)]);
    assert_eq!(report.skipped.len(), 1);
    let (id, err) = &report.skipped[0];
    assert_eq!(*id, cid(1));
    assert!(matches!(err, Error::Transition(TransitionError::OutOfOrder { .. })), "{err:?}");
    assert_eq!((crm.get(cid(1)).unwrap(), crm.history(cid(1)).unwrap()), jo_before);

    // Run at a date after Jo's stage began, Jo is not skipped: idle 480 days, Jo is lost at
    // once.
    let report = crm.run_policy(days(480)).unwrap();
    assert!(report.skipped.is_empty());
    assert_eq!(
        moved(&report),
        [(1, Stage::FirstTime, Stage::Lost, Event::Lose), (2, Stage::Inactive, Stage::Lost, Event::Lose)]
    );
}

#[test]
fn a_purchase_reactivates_an_inactive_customer_to_the_stage_held_before() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    for (n, name) in [(1, "Lea"), (2, "Max"), (3, "Noa")] {
        crm.insert(Customer::new(cid(n), name, t0())).unwrap();
    }
    buy_at(&crm, &clock, 1, t0());
    buy_at(&crm, &clock, 2, t0());
    buy_at(&crm, &clock, 3, t0());
    buy_at(&crm, &clock, 1, days(10));
    buy_at(&crm, &clock, 3, days(10));
    crm.edit(cid(3), |c| c.exclusive = true).unwrap();
    assert!(crm.apply(cid(3), Event::BecomeClient, None).unwrap().is_some());

    let report = crm.run_policy(days(190)).unwrap();
    assert_eq!(report.transitions.len(), 3);
    let resume: Vec<_> = (1..=3).map(|n| crm.get(cid(n)).unwrap().lifecycle().resume_stage()).collect();
    assert_eq!(resume, [Some(Stage::Repeat), Some(Stage::FirstTime), Some(Stage::Client)]);

    use TransitionKind::{Progress, Reactivation};
    // Repeat → inactive → repeat; three purchases are short of a client.
    assert_eq!(
        buy_at(&crm, &clock, 1, days(200)),
        [tr(Stage::Inactive, Stage::Repeat, Event::Purchase, Reactivation, days(200))]
    );
    // First-time → inactive → first-time, and the second purchase makes a repeat customer.
    assert_eq!(
        buy_at(&crm, &clock, 2, days(200)),
        [
            tr(Stage::Inactive, Stage::FirstTime, Event::Purchase, Reactivation, days(200)),
            tr(Stage::FirstTime, Stage::Repeat, Event::Purchase, Progress, days(200)),
        ]
    );
    // Client → inactive → client, without a purchase.
    clock.set(days(205));
    let t = crm.apply(cid(3), Event::Reactivate, Some("answered the campaign")).unwrap().unwrap();
    assert_eq!((t.from, t.to, t.kind, t.at), (Stage::Inactive, Stage::Client, Reactivation, days(205)));
    assert_eq!(t.note.as_deref(), Some("answered the campaign"));

    let stages: Vec<Stage> = (1..=3).map(|n| crm.get(cid(n)).unwrap().stage()).collect();
    assert_eq!(stages, [Stage::Repeat, Stage::Repeat, Stage::Client]);
    for n in 1..=3 {
        assert_eq!(crm.get(cid(n)).unwrap().lifecycle().resume_stage(), None);
    }
}

#[test]
fn a_lost_customers_purchase_is_a_win_back() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    for (n, name) in [(1, "Pia"), (2, "Quin"), (3, "Rui")] {
        crm.insert(Customer::new(cid(n), name, t0())).unwrap();
        buy_at(&crm, &clock, n, t0());
        buy_at(&crm, &clock, n, days(10));
    }
    let report = crm.run_policy(days(375)).unwrap();
    assert_eq!(moved(&report).iter().filter(|m| m.2 == Stage::Lost).count(), 3);

    let moves = buy_at(&crm, &clock, 1, days(400));
    assert_eq!(moves, [tr(Stage::Lost, Stage::Repeat, Event::Purchase, TransitionKind::WinBack, days(400))]);
    assert!(moves[0].is_win_back());
    let history = crm.history(cid(1)).unwrap();
    assert!(history.last().unwrap().is_win_back());
    assert_eq!(history.iter().filter(|t| t.is_win_back()).count(), 1);

    let t = crm.apply(cid(2), Event::WinBack, Some("renewed the contract")).unwrap().unwrap();
    assert_eq!((t.from, t.to, t.kind), (Stage::Lost, Stage::Repeat, TransitionKind::WinBack));

    assert_eq!(crm.get(cid(1)).unwrap().stage(), Stage::Repeat);
    assert_eq!(crm.get(cid(3)).unwrap().stage(), Stage::Lost);
    // Two of the three lost customers came back.
    assert_eq!(crm.funnel().unwrap().win_back_rate(t0(), days(401)), Ratio { part: 2, whole: 3 });
}

// ---------------------------------------------------------------------------------------------
// Funnel, concurrency and erasure.

#[test]
fn funnel_is_built_from_every_customers_journey() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    for (n, name) in [(1, "Ada"), (2, "Bea"), (3, "Cem"), (5, "Eve")] {
        crm.insert(Customer::new(cid(n), name, t0())).unwrap();
    }
    let imported = Customer::new(cid(4), "Dov", t0())
        .with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t0(), None).unwrap());
    crm.insert(imported).unwrap();

    clock.set(days(1));
    crm.apply(cid(1), Event::Qualify, None).unwrap();
    crm.apply(cid(2), Event::Disqualify, None).unwrap();
    crm.record_purchase(cid(5), buy(days(1), 10)).unwrap();
    buy_at(&crm, &clock, 1, days(2));
    buy_at(&crm, &clock, 4, days(2));
    buy_at(&crm, &clock, 1, days(3));
    crm.erase(cid(5)).unwrap();

    let funnel = crm.funnel().unwrap();
    let journeys: Vec<Journey> = (1..=4).map(|n| crm.journey(cid(n)).unwrap()).collect();
    assert_eq!(funnel.journeys(), journeys);

    use TransitionKind::{Disqualification, Progress};
    assert_eq!(
        journeys[0],
        Journey {
            start: t0(),
            initial: Stage::Suspect,
            transitions: vec![
                tr(Stage::Suspect, Stage::Prospect, Event::Qualify, Progress, days(1)),
                tr(Stage::Prospect, Stage::FirstTime, Event::Purchase, Progress, days(2)),
                tr(Stage::FirstTime, Stage::Repeat, Event::Purchase, Progress, days(3)),
            ],
        }
    );
    assert_eq!(
        journeys[1].transitions,
        [tr(Stage::Suspect, Stage::DisqualifiedProspect, Event::Disqualify, Disqualification, days(1))]
    );
    assert_eq!(journeys[2], Journey { start: t0(), initial: Stage::Suspect, transitions: vec![] });
    assert_eq!((journeys[3].initial, journeys[3].transitions.len()), (Stage::Prospect, 1));

    let counts = |at| funnel.stage_counts(at).into_iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>();
    assert_eq!(counts(t0()), [(Stage::Suspect, 3), (Stage::Prospect, 1)]);
    assert_eq!(counts(days(1)), [(Stage::Suspect, 1), (Stage::Prospect, 2), (Stage::DisqualifiedProspect, 1)]);
    assert_eq!(
        counts(days(5)),
        [(Stage::Suspect, 1), (Stage::DisqualifiedProspect, 1), (Stage::FirstTime, 1), (Stage::Repeat, 1)]
    );
    // Ada, Bea and Cem joined as suspects; only Ada bought. Ada and Dov were prospects; both
    // bought.
    assert_eq!(funnel.conversion(Stage::Suspect, Stage::FirstTime, t0(), days(10)), Ratio { part: 1, whole: 3 });
    assert_eq!(funnel.conversion(Stage::Prospect, Stage::FirstTime, t0(), days(10)), Ratio { part: 2, whole: 2 });
}

#[test]
fn concurrent_edits_and_purchases_are_all_kept() {
    const EDITORS: u64 = 4;
    const EDITS: i64 = 40;
    const BUYERS: i64 = 2;
    const BUYS: i64 = 20;
    let crm = Crm::new(MemoryStore::new()).with_clock(ManualClock::new(days(1)));
    let id = cid(1);
    crm.insert(Customer::new(id, "Ada", t0())).unwrap();

    std::thread::scope(|scope| {
        let crm = &crm;
        for editor in 0..EDITORS {
            scope.spawn(move || {
                let key = format!("editor{editor}");
                for _ in 0..EDITS {
                    crm.edit(id, |c| {
                        c.referrals += 1;
                        let done = match c.attributes.get(&key) {
                            Some(AttrValue::Int(n)) => *n,
                            _ => 0,
                        };
                        c.attributes.set(&key, AttrValue::Int(done + 1)).unwrap();
                    })
                    .unwrap();
                }
            });
        }
        for buyer in 0..BUYERS {
            scope.spawn(move || {
                for i in 0..BUYS {
                    let k = buyer * BUYS + i;
                    crm.record_purchase(id, buy(t0() + Duration::minutes(k), k + 1)).unwrap();
                }
            });
        }
    });

    let c = crm.get(id).unwrap();
    assert_eq!(i64::from(c.referrals), i64::try_from(EDITORS).unwrap() * EDITS);
    for editor in 0..EDITORS {
        assert_eq!(c.attributes.get(&format!("editor{editor}")), Some(&AttrValue::Int(EDITS)));
    }
    let mut amounts: Vec<i64> = c.purchases().as_slice().iter().map(|p| p.amount.minor()).collect();
    amounts.sort_unstable();
    assert_eq!(amounts, (1..=BUYERS * BUYS).collect::<Vec<_>>());
    let writes = i64::try_from(EDITORS).unwrap() * EDITS + BUYERS * BUYS;
    assert_eq!(i64::try_from(c.version()).unwrap(), 1 + writes);
    // Purchases 1, 2 and 5 move the customer; edits never do.
    assert_eq!(
        crm.history(id).unwrap().iter().map(|t| t.to).collect::<Vec<_>>(),
        [Stage::FirstTime, Stage::Repeat, Stage::Client]
    );
}

#[test]
fn erase_forgets_the_customer() {
    let clock = ManualClock::new(t0());
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    let stored = crm.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    assert_eq!(stored.version(), 1);
    crm.insert(Customer::new(cid(2), "Bea", t0())).unwrap();
    assert_store_err(crm.insert(Customer::new(cid(1), "Again", t0())), |e| matches!(e, StoreError::AlreadyExists(_)));
    crm.record_purchase(cid(1), buy(t0(), 100)).unwrap();

    crm.erase(cid(1)).unwrap();
    let gone = |e: &StoreError| matches!(e, StoreError::NotFound(id) if *id == cid(1));
    assert_store_err(crm.get(cid(1)), gone);
    assert_store_err(crm.history(cid(1)), gone);
    assert_store_err(crm.journey(cid(1)), gone);
    assert_store_err(crm.record_purchase(cid(1), buy(t0(), 1)), gone);
    assert_store_err(crm.edit(cid(1), |c| c.referrals = 1), gone);
    assert_store_err(crm.apply(cid(1), Event::Qualify, None), gone);
    assert_store_err(crm.erase(cid(1)), gone);
    assert_eq!(crm.store().count().unwrap(), 1);
    assert_eq!(crm.funnel().unwrap().journeys().len(), 1);
    assert_eq!(crm.run_policy(days(400)).unwrap().examined, 1);
    assert_eq!(crm.get(cid(2)).unwrap().version(), 1);

    let again = crm.insert(Customer::new(cid(1), "Ada again", days(2))).unwrap();
    assert_eq!((again.version(), again.stage(), again.purchases().as_slice().len()), (1, Stage::Suspect, 0));
    assert!(crm.history(cid(1)).unwrap().is_empty());
}
