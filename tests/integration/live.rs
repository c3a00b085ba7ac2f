//! Live segments ([`LiveStore`]): membership follows writes and time exactly. The reference is
//! a full re-evaluation, [`Segment::matches`] over every stored customer at the registry's
//! instant; the random customers, segments and edits are the evaluator properties'
//! (`segment_eval.rs`).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, Weak},
};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    Change, Currency, Customer, CustomerId, Event, MemoryStore, Money, Purchase, Stage, Store, StoreError,
    lifecycle::Lifecycle,
    live::{EntryReason, ExitReason, LiveError, LiveEvent, LiveStore},
    segment::{Schema, Segment},
    synth::Population,
};
use proptest::{collection::vec, prelude::*, test_runner::TestCaseError};

use crate::segment_eval::{Case, EGP, Edit, apply, case, customers, edit, schema};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Collects every event delivered to observers.
fn recorder<S: Store>(live: &LiveStore<S>) -> Arc<Mutex<Vec<LiveEvent>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    live.observe(move |e: &LiveEvent| log.lock().unwrap().push(e.clone()));
    seen
}

fn take(seen: &Mutex<Vec<LiveEvent>>) -> Vec<LiveEvent> {
    std::mem::take(&mut *seen.lock().unwrap())
}

/// The members of `segment` by full evaluation of the store's customers at `t`.
fn reference(store: &dyn Store, segment: &Segment, t: DateTime<Utc>) -> Vec<CustomerId> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let batch = store.scan(after, 100).unwrap();
        let Some(last) = batch.last() else { return out };
        after = Some(last.id());
        out.extend(batch.iter().filter(|c| segment.matches(c, t)).map(Customer::id));
    }
}

fn buy(live: &dyn Store, id: CustomerId, when: DateTime<Utc>, minor: i64) -> Result<u64, StoreError> {
    let mut change = Change::new(live.get(id)?);
    change.record_purchase(&Lifecycle::default(), Purchase::new(when, Money::new(minor, EGP)), when).unwrap();
    live.update(change)
}

// ---------------------------------------------------------------------------------------
// Deterministic scenarios
// ---------------------------------------------------------------------------------------

#[test]
fn a_buyer_enters_recent_buyers_on_a_purchase_and_leaves_exactly_30_days_later() {
    // Not at the start of a minute: such an instant leaves a day window in the leap second
    // before the edge (see the segment module's "Time and horizons").
    let t0 = at(2026, 3, 1, 10) + Duration::seconds(30);
    let live = LiveStore::new(MemoryStore::new(), t0);
    let schema = Schema::new(Currency::EGP);
    live.register("recent buyers", Segment::compile("last_purchase within 30 days", &schema).unwrap()).unwrap();
    let seen = recorder(&live);
    let ada = CustomerId::new(1);
    live.insert(Customer::new(ada, "Ada", t0)).unwrap();
    assert!(take(&seen).is_empty());

    buy(&live, ada, t0, 12_000).unwrap();
    let entered = take(&seen);
    assert_eq!(
        entered,
        [LiveEvent::Entered { segment: "recent buyers".into(), customer: ada, at: t0, reason: EntryReason::Changed }]
    );
    assert_eq!(live.next_due().unwrap(), Some(t0 + Duration::days(30)));

    // Up to a nanosecond before the edge: still a member, nothing emitted.
    let edge = t0 + Duration::days(30);
    assert!(live.advance_to(edge - Duration::nanoseconds(1)).unwrap().is_empty());
    assert!(live.is_member("recent buyers", ada).unwrap());
    // At the edge, with no write: out.
    let exited = live.advance_to(edge).unwrap();
    let expected =
        [LiveEvent::Exited { segment: "recent buyers".into(), customer: ada, at: edge, reason: ExitReason::Time }];
    assert_eq!(exited, expected);
    assert_eq!(take(&seen), expected, "observers hear what advance_to returns");
    assert!(!live.is_member("recent buyers", ada).unwrap());
    assert_eq!(live.pending().unwrap(), []);
}

#[test]
fn an_age_segment_flips_on_the_birthday() {
    let t0 = at(2026, 1, 1, 0);
    let live = LiveStore::new(MemoryStore::new(), t0);
    live.register("adults", Segment::compile("age >= 18", &Schema::default()).unwrap()).unwrap();
    live.register("twenties", Segment::compile("age between 20 and 29", &Schema::default()).unwrap()).unwrap();
    let mut teen = Customer::new(CustomerId::new(7), "Teen", t0);
    teen.profile.birth_date = NaiveDate::from_ymd_opt(2008, 5, 17);
    live.insert(teen).unwrap();
    assert!(!live.is_member("adults", CustomerId::new(7)).unwrap());

    assert!(live.advance_to(at(2026, 5, 16, 23)).unwrap().is_empty());
    let birthday = at(2026, 5, 17, 0);
    let events = live.advance_to(at(2026, 6, 1, 0)).unwrap();
    assert_eq!(
        events,
        [LiveEvent::Entered {
            segment: "adults".into(),
            customer: CustomerId::new(7),
            at: birthday,
            reason: EntryReason::Time
        }]
    );
    // The twenties begin on the 20th birthday and end on the 30th.
    assert_eq!(live.next_due().unwrap(), Some(at(2028, 5, 17, 0)));
    let events = live.advance_to(at(2040, 1, 1, 0)).unwrap();
    let summary: Vec<_> = events.iter().map(|e| (e.segment().to_owned(), e.is_entry(), e.at())).collect();
    assert_eq!(
        summary,
        [("twenties".to_owned(), true, at(2028, 5, 17, 0)), ("twenties".to_owned(), false, at(2038, 5, 17, 0))]
    );
    assert_eq!(live.pending().unwrap(), [], "no birthday changes anything any more");
}

#[test]
fn advancing_over_a_range_with_nothing_due_emits_nothing() {
    let t0 = Population::new(3).as_of();
    let store = MemoryStore::new();
    store.insert_many(Population::new(3).customers(300)).unwrap();
    let live = LiveStore::new(store, t0);
    let schema = Schema::new(Currency::EGP);
    live.register("recent", Segment::compile("last_purchase within 30 days", &schema).unwrap()).unwrap();
    live.register("adults", Segment::compile("age >= 18", &schema).unwrap()).unwrap();
    let seen = recorder(&live);
    let first = live.next_due().unwrap().expect("300 synthetic customers have birthdays and purchases");
    assert!(first > t0);
    assert!(live.advance_to(first - Duration::nanoseconds(1)).unwrap().is_empty());
    assert!(take(&seen).is_empty());
    // And the first due entry does change something (queued instants are actual changes).
    let events = live.advance_to(first).unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e.at() == first));
    assert_eq!(live.now().unwrap(), first);
}

#[test]
fn failed_writes_emit_nothing_and_change_no_membership() {
    let t0 = at(2026, 1, 1, 0);
    let live = LiveStore::new(MemoryStore::new(), t0);
    let schema = Schema::new(Currency::EGP);
    live.register("everyone", Segment::compile("true", &schema).unwrap()).unwrap();
    live.register("referrers", Segment::compile("referrals >= 1", &schema).unwrap()).unwrap();
    live.register("buyers", Segment::compile("purchases >= 1", &schema).unwrap()).unwrap();
    let id = CustomerId::new(1);
    live.insert(Customer::new(id, "Ada", t0)).unwrap();
    let seen = recorder(&live);
    let snapshot =
        |live: &LiveStore<MemoryStore>| ["everyone", "referrers", "buyers"].map(|s| live.members(s).unwrap()).to_vec();
    let before = snapshot(&live);

    // Already exists.
    let err = live.insert(Customer::new(id, "Ada again", t0)).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));
    // All or nothing: customer 2 is not inserted either.
    let err =
        live.insert_many(vec![Customer::new(CustomerId::new(2), "x", t0), Customer::new(id, "dup", t0)]).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));
    // A stale version.
    let mut first = Change::new(live.get(id).unwrap());
    let mut stale = Change::new(live.get(id).unwrap());
    first.customer_mut().profile.display_name = "Ada L.".into();
    live.update(first).unwrap(); // changes no segment
    stale.customer_mut().referrals = 3;
    assert!(live.update(stale).unwrap_err().is_conflict());
    // Invalid data: a purchase slipped in without being recorded.
    let mut forged = Change::new(live.get(id).unwrap());
    *forged.customer_mut() =
        forged.customer().clone().with_purchases(vec![Purchase::new(t0, Money::new(100, EGP))]).unwrap();
    assert!(matches!(live.update(forged), Err(StoreError::InvalidData { .. })));
    // Unknown customers.
    assert!(matches!(live.erase(CustomerId::new(9)), Err(StoreError::NotFound(_))));
    let ghost = Change::new(Customer::new(CustomerId::new(9), "ghost", t0));
    assert!(matches!(live.update(ghost), Err(StoreError::NotFound(_))));

    assert!(take(&seen).is_empty());
    assert_eq!(snapshot(&live), before);
    assert_eq!(live.count().unwrap(), 1);
}

#[test]
fn erasing_a_member_emits_its_exits() {
    let t0 = at(2026, 1, 1, 0);
    let live = LiveStore::new(MemoryStore::new(), t0);
    let schema = Schema::new(Currency::EGP);
    live.register("everyone", Segment::compile("true", &schema).unwrap()).unwrap();
    live.register("nobody", Segment::compile("false", &schema).unwrap()).unwrap();
    let seen = recorder(&live);
    live.insert(Customer::new(CustomerId::new(4), "x", t0)).unwrap();
    live.erase(CustomerId::new(4)).unwrap();
    let reasons: Vec<String> = take(&seen).iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons,
        [
            "#4 entered \"everyone\" at 2026-01-01 00:00:00 UTC (inserted)",
            "#4 exited \"everyone\" at 2026-01-01 00:00:00 UTC (erased)"
        ]
    );
}

#[test]
fn segments_that_refer_to_segments_update_in_dependency_order() {
    let t0 = at(2026, 1, 1, 0);
    let mut schema = Schema::new(Currency::EGP);
    schema.define("referrers", "referrals >= 1").unwrap();
    schema.define("loyal_referrers", r#"segment "referrers" and loyalty_member"#).unwrap();
    let live = LiveStore::new(MemoryStore::new(), t0).with_schema(schema.clone());
    // Registered before what it depends on; through the schema's "loyal_referrers".
    live.register("top", Segment::compile(r#"segment "loyal_referrers" or exclusive"#, &schema).unwrap()).unwrap();
    live.register("referrers", Segment::compile(r#"segment "referrers""#, &schema).unwrap()).unwrap();
    live.register("plain", Segment::compile("referrals >= 2", &schema).unwrap()).unwrap();
    assert_eq!(live.segments().unwrap(), ["referrers", "top", "plain"]);

    let seen = recorder(&live);
    let id = CustomerId::new(1);
    let mut c = Customer::new(id, "Ada", t0);
    c.referrals = 2;
    c.exclusive = true;
    live.insert(c).unwrap();
    let order: Vec<String> = take(&seen).iter().map(|e| e.segment().to_owned()).collect();
    assert_eq!(order, ["referrers", "top", "plain"]);

    // A cycle through registered names is refused, and changes nothing.
    let mut other = Schema::new(Currency::EGP);
    other.define("top", "true").unwrap();
    let err = live.register("referrers2", Segment::compile(r#"segment "top""#, &other).unwrap());
    assert!(err.is_ok(), "a reference to a registered name is a dependency, not a cycle");
    let mut cyclic = Schema::new(Currency::EGP);
    cyclic.define("loop_b", "true").unwrap();
    live.register("loop_a", Segment::compile(r#"segment "loop_b""#, &cyclic).unwrap()).unwrap();
    cyclic.define("loop_a", "true").unwrap();
    let err = live.register("loop_b", Segment::compile(r#"segment "loop_a""#, &cyclic).unwrap()).unwrap_err();
    assert!(matches!(err, LiveError::Cycle(ref n) if n == "loop_b"));
    assert_eq!(live.segments().unwrap(), ["referrers", "top", "plain", "referrers2", "loop_a"]);
    assert!(matches!(live.members("loop_b"), Err(LiveError::UnknownSegment(_))));
}

#[test]
fn time_never_goes_back() {
    let t0 = at(2026, 1, 1, 0);
    let live = LiveStore::new(MemoryStore::new(), t0);
    let err = live.advance_to(t0 - Duration::nanoseconds(1)).unwrap_err();
    assert!(matches!(err, LiveError::TimeWentBackwards { now, to } if now == t0 && to < t0));
    assert_eq!(live.now().unwrap(), t0);
    assert!(live.advance_to(t0).unwrap().is_empty());
}

#[test]
fn a_restarted_registry_has_the_same_membership_and_pending_horizons() {
    let population = Population::new(11);
    let t0 = population.as_of();
    let store = Arc::new(MemoryStore::new());
    store.insert_many(population.customers(500)).unwrap();
    let texts = [
        ("recent", "last_purchase within 30 days"),
        ("frequent", "purchases(last 90 days) >= 3"),
        ("twenties", "age between 20 and 29"),
        ("big spenders", "spent(last 6 months) > 2000.00 or stage = client"),
        ("egyptians", r#"country = "EG""#),
    ];
    let schema = Schema::new(Currency::EGP);
    let build = |t: DateTime<Utc>| {
        let live = LiveStore::new(Arc::clone(&store), t);
        for (name, text) in texts {
            live.register(name, Segment::compile(text, &schema).unwrap()).unwrap();
        }
        live
    };
    let running = build(t0);
    let mut t = t0;
    for day in 0..120 {
        t += Duration::hours(23) + Duration::minutes(7);
        running.advance_to(t).unwrap();
        let id = CustomerId::new(day * 7 % 500 + 1);
        buy(&running, id, t, 150_000).unwrap();
        if day % 10 == 0 {
            let restarted = build(t);
            for (name, text) in texts {
                let expected = reference(&*store, &Segment::compile(text, &schema).unwrap(), t);
                assert_eq!(running.members(name).unwrap(), expected, "{name} on day {day}");
                assert_eq!(restarted.members(name).unwrap(), expected, "{name} on day {day}, restarted");
            }
            assert_eq!(running.pending().unwrap(), restarted.pending().unwrap(), "day {day}");
            assert!(!running.pending().unwrap().is_empty());
        }
    }
}

#[test]
fn register_all_builds_a_large_store_on_several_threads_as_one_by_one_registration_does() {
    // More than one scan batch (1 024), so the build runs on several threads.
    let population = Population::new(23);
    let t0 = population.as_of();
    let store = Arc::new(MemoryStore::new());
    store.insert_many(population.customers(5_000)).unwrap();
    let schema = Schema::new(Currency::EGP);
    let texts = [
        ("recent", "last_purchase within 30 days"),
        ("frequent", "purchases(last 90 days) >= 3"),
        ("twenties", "age between 20 and 29"),
        ("lapsing", "purchases >= 2 and last_purchase within 365 days and not last_purchase within 90 days"),
        ("egyptians", r#"country = "EG""#),
        ("nobody", "false"),
    ];
    let segments: Vec<(&str, Segment)> =
        texts.iter().map(|(name, text)| (*name, Segment::compile(text, &schema).unwrap())).collect();
    let all = LiveStore::new(Arc::clone(&store), t0);
    all.register_all(segments.clone()).unwrap();
    let one_by_one = LiveStore::new(Arc::clone(&store), t0);
    for (name, segment) in &segments {
        one_by_one.register(name, segment.clone()).unwrap();
    }
    assert_eq!(all.segments().unwrap(), texts.map(|(name, _)| name));
    for (name, segment) in &segments {
        let expected = reference(&*store, segment, t0);
        assert_eq!(all.members(name).unwrap(), expected, "{name}");
        assert_eq!(one_by_one.members(name).unwrap(), expected, "{name}");
    }
    assert!(all.member_count("recent").unwrap() > 0 && all.member_count("egyptians").unwrap() > 0);
    assert_eq!(all.pending().unwrap(), one_by_one.pending().unwrap());
    // Each queued instant is a customer's first change in one of the segments.
    for (due, id) in all.pending().unwrap().into_iter().take(200) {
        let c = store.get(id).unwrap();
        let first = segments
            .iter()
            .filter_map(|(_, s)| {
                let now = s.matches(&c, t0);
                let mut h = s.horizon(&c, t0)?;
                while s.matches(&c, h) == now {
                    h = s.horizon(&c, h)?;
                }
                Some(h)
            })
            .min();
        assert_eq!(first, Some(due), "customer {id}");
    }
}

/// A store whose scans fail once `fail` is set: registration must then change nothing.
#[derive(Debug, Default)]
struct FailingScans {
    inner: MemoryStore,
    fail: std::sync::atomic::AtomicBool,
}

impl Store for FailingScans {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.inner.insert(customer)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.inner.get(id)
    }
    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.inner.update(change)
    }
    fn history(&self, id: CustomerId) -> Result<Vec<clientele::lifecycle::Transition>, StoreError> {
        self.inner.history(id)
    }
    fn count(&self) -> Result<usize, StoreError> {
        self.inner.count()
    }
    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        // The first batch reads fine; a later one fails, while other threads evaluate.
        if after.is_some() && self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("the disk is gone".into()));
        }
        self.inner.scan(after, limit)
    }
    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.inner.erase(id)
    }
}

#[test]
fn registration_is_all_or_nothing() {
    let population = Population::new(5);
    let t0 = population.as_of();
    let store = FailingScans::default();
    store.insert_many(population.customers(3_000)).unwrap();
    let live = LiveStore::new(store, t0);
    let schema = Schema::new(Currency::EGP);
    let recent = Segment::compile("last_purchase within 30 days", &schema).unwrap();
    live.register("recent", recent.clone()).unwrap();
    let members = live.members("recent").unwrap();
    let pending = live.pending().unwrap();
    assert!(!pending.is_empty());

    // A scan failing halfway through.
    live.inner().fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let adults = Segment::compile("age >= 18", &schema).unwrap();
    let err = live.register_all([("adults", adults.clone()), ("new", recent.clone())]).unwrap_err();
    assert!(matches!(err, LiveError::Store(StoreError::Backend(_))), "{err}");
    live.inner().fail.store(false, std::sync::atomic::Ordering::SeqCst);
    // A name twice, a name taken, a cycle among the new ones.
    let err = live.register_all([("adults", adults.clone()), ("adults", adults.clone())]).unwrap_err();
    assert!(matches!(err, LiveError::DuplicateName(ref n) if n == "adults"));
    let err = live.register_all([("adults", adults.clone()), ("recent", adults.clone())]).unwrap_err();
    assert!(matches!(err, LiveError::DuplicateName(ref n) if n == "recent"));
    let mut cyclic = Schema::new(Currency::EGP);
    cyclic.define("a", "true").unwrap();
    cyclic.define("b", "true").unwrap();
    let a = Segment::compile(r#"segment "b""#, &cyclic).unwrap();
    let b = Segment::compile(r#"segment "a""#, &cyclic).unwrap();
    let err = live.register_all([("adults", adults.clone()), ("a", a), ("b", b)]).unwrap_err();
    assert!(matches!(err, LiveError::Cycle(ref n) if n == "a" || n == "b"), "{err}");

    assert_eq!(live.segments().unwrap(), ["recent"]);
    assert_eq!(live.members("recent").unwrap(), members);
    assert_eq!(live.pending().unwrap(), pending);
    // And then it works.
    live.register_all([("adults", adults)]).unwrap();
    assert_eq!(live.segments().unwrap(), ["recent", "adults"]);
    assert!(live.member_count("adults").unwrap() > 0);
}

#[test]
fn an_observer_that_panics_keeps_no_one_from_their_events() {
    let t0 = at(2026, 1, 1, 0);
    let live = LiveStore::new(MemoryStore::new(), t0);
    let schema = Schema::new(Currency::EGP);
    live.register("everyone", Segment::compile("true", &schema).unwrap()).unwrap();
    live.register("referrers", Segment::compile("referrals >= 1", &schema).unwrap()).unwrap();
    let before = recorder(&live);
    live.observe(|e: &LiveEvent| {
        if e.segment() == "everyone" {
            panic!("observer bug");
        }
    });
    let after = recorder(&live);
    let mut c = Customer::new(CustomerId::new(1), "Ada", t0);
    c.referrals = 1;
    // The write commits; the observer's panic reaches the writer after every event is out.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| live.insert(c)));
    assert!(result.is_err(), "the observer's panic is resumed");
    assert_eq!(live.count().unwrap(), 1);
    let names = |seen: &Mutex<Vec<LiveEvent>>| take(seen).iter().map(|e| e.segment().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&before), ["everyone", "referrers"]);
    assert_eq!(names(&after), ["everyone", "referrers"]);
    // Delivery goes on with later writes.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        live.insert(Customer::new(CustomerId::new(2), "Bea", t0))
    }));
    assert!(result.is_err());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| live.erase(CustomerId::new(1))));
    assert!(result.is_err());
    assert_eq!(names(&before), ["everyone", "everyone", "referrers"]);
    assert_eq!(names(&after), ["everyone", "everyone", "referrers"]);
    assert_eq!(live.members("everyone").unwrap(), [CustomerId::new(2)]);
}

#[test]
fn an_observer_may_write_back_and_events_stay_in_commit_order() {
    // A win-back campaign: entering "lost" tags the customer, which is a write from inside
    // the observer; its events come after the ones being delivered.
    let t0 = at(2026, 1, 1, 0);
    let schema = Schema::new(Currency::EGP);
    let live = Arc::new(LiveStore::new(MemoryStore::new(), t0));
    live.register("lost", Segment::compile("stage = lost", &schema).unwrap()).unwrap();
    live.register("in campaign", Segment::compile(r#"needs has "win-back""#, &schema).unwrap()).unwrap();
    let seen = recorder(&live);
    let weak: Weak<LiveStore<MemoryStore>> = Arc::downgrade(&live);
    live.observe(move |e: &LiveEvent| {
        if e.segment() == "lost" && e.is_entry() {
            let live = weak.upgrade().unwrap();
            let mut change = Change::new(live.get(e.customer()).unwrap());
            change.customer_mut().needs.insert("win-back");
            live.update(change).unwrap();
        }
    });
    let id = CustomerId::new(1);
    live.insert(Customer::new(id, "Ada", t0)).unwrap();
    buy(&*live, id, t0, 100).unwrap();
    let mut change = Change::new(live.get(id).unwrap());
    change.apply(&Lifecycle::default(), Event::Lose, t0 + Duration::days(400), None).unwrap();
    live.update(change).unwrap();
    assert_eq!(live.get(id).unwrap().stage(), Stage::Lost);
    let log: Vec<(String, bool)> = take(&seen).iter().map(|e| (e.segment().to_owned(), e.is_entry())).collect();
    assert_eq!(log, [("lost".to_owned(), true), ("in campaign".to_owned(), true)]);
    assert_eq!(live.members("in campaign").unwrap(), [id]);
}

#[test]
fn concurrent_writers_keep_membership_exact() {
    let t0 = at(2026, 1, 1, 0);
    let schema = Schema::new(Currency::EGP);
    let live = LiveStore::new(MemoryStore::new(), t0);
    live.register("buyers", Segment::compile("purchases >= 2", &schema).unwrap()).unwrap();
    live.register("recent", Segment::compile("last_purchase within 7 days", &schema).unwrap()).unwrap();
    let seen = recorder(&live);
    live.insert_many((1..=40).map(|i| Customer::new(CustomerId::new(i), "x", t0)).collect()).unwrap();
    std::thread::scope(|s| {
        for k in 0..4u64 {
            let live = &live;
            s.spawn(move || {
                for i in 0..40u64 {
                    let id = CustomerId::new((i * 3 + k) % 40 + 1);
                    loop {
                        match buy(live, id, t0, 1_000) {
                            Ok(_) => break,
                            Err(e) if e.is_conflict() => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    let events = take(&seen);
    let mut replayed: BTreeMap<String, BTreeSet<CustomerId>> = BTreeMap::new();
    for e in &events {
        let set = replayed.entry(e.segment().to_owned()).or_default();
        assert_eq!(set.insert(e.customer()), e.is_entry(), "{e}: events out of order");
        if !e.is_entry() {
            set.remove(&e.customer());
        }
    }
    for name in ["buyers", "recent"] {
        let expected = reference(&live, &live.segment(name).unwrap(), t0);
        assert_eq!(live.members(name).unwrap(), expected);
        assert_eq!(replayed.remove(name).unwrap_or_default().into_iter().collect::<Vec<_>>(), expected);
    }
    live.advance_to(t0 + Duration::days(7)).unwrap();
    assert!(live.members("recent").unwrap().is_empty());
}

// A live store is still a store.
fn live_memory() -> LiveStore<MemoryStore> {
    let live = LiveStore::new(MemoryStore::new(), at(2026, 1, 1, 0));
    let schema = Schema::new(Currency::EGP);
    live.register("recent", Segment::compile("last_purchase within 30 days", &schema).unwrap()).unwrap();
    live.register("prospects", Segment::compile("stage = prospect or referrals > 0", &schema).unwrap()).unwrap();
    live
}
crate::conformance_suite!(live_memory_store, || super::live_memory());

// Over a database store, which lends customers through the default `get_with` (a copy).
#[cfg(feature = "sqlite")]
fn live_sqlite() -> LiveStore<clientele::SqliteStore> {
    let live = LiveStore::new(clientele::SqliteStore::in_memory().unwrap(), at(2026, 1, 1, 0));
    let schema = Schema::new(Currency::EGP);
    live.register("recent", Segment::compile("last_purchase within 30 days", &schema).unwrap()).unwrap();
    live.register("prospects", Segment::compile("stage = prospect or referrals > 0", &schema).unwrap()).unwrap();
    live
}
#[cfg(feature = "sqlite")]
crate::conformance_suite!(live_sqlite_store, || super::live_sqlite());

/// Membership over SQLite follows writes and time as over memory.
#[cfg(feature = "sqlite")]
#[test]
fn live_segments_over_sqlite_follow_writes_and_time() {
    let population = Population::new(31);
    let t0 = population.as_of();
    let store = clientele::SqliteStore::in_memory().unwrap();
    store.insert_many(population.customers(1_500)).unwrap();
    let live = LiveStore::new(store, t0);
    let schema = Schema::new(Currency::EGP);
    let texts = [("recent", "last_purchase within 30 days"), ("twenties", "age between 20 and 29")];
    let segments: Vec<(&str, Segment)> =
        texts.iter().map(|(name, text)| (*name, Segment::compile(text, &schema).unwrap())).collect();
    live.register_all(segments.clone()).unwrap();
    let mut t = t0;
    for day in 0..40u64 {
        t += Duration::days(1);
        live.advance_to(t).unwrap();
        buy(&live, CustomerId::new(day * 37 % 1_500 + 1), t, 90_000).unwrap();
        if day % 8 == 0 {
            for (name, segment) in &segments {
                assert_eq!(live.members(name).unwrap(), reference(&live, segment, t), "{name} on day {day}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The property: random writes and clock advances against full re-evaluation
// ---------------------------------------------------------------------------------------

/// Where an advance goes.
#[derive(Debug, Clone)]
enum Advance {
    /// By seconds and nanoseconds.
    By(i64, i64),
    /// To a customer's next change in a segment, moved by -1, 0 or +1 nanosecond.
    Horizon(usize, usize, i64),
    /// To the first due entry exactly.
    NextDue,
}

/// One step of a run.
#[derive(Debug, Clone)]
enum Step {
    /// Edit a customer through a [`Change`] (edits of stage, purchases or creation instant
    /// are refused by the store as not following from it: failing writes).
    Edit(usize, Edit),
    /// Record a purchase this many seconds from now (possibly ahead), of this many piasters.
    Buy(usize, i64, i64),
    /// A lifecycle event.
    Lifecycle(usize, usize),
    /// Build a change, let another write in first, then commit it: a conflict.
    Stale(usize, Edit),
    /// Insert a new synthetic customer, or (`true`) an existing one again (fails).
    Insert(u64, bool),
    Erase(usize),
    Advance(Advance),
    /// Unregister a segment and register it again: nothing changes, nothing is emitted.
    Reregister(usize),
}

fn advance() -> BoxedStrategy<Advance> {
    prop_oneof![
        2 => (prop_oneof![0i64..3_600, 0i64..40 * 86_400, 0i64..400 * 86_400], prop_oneof![Just(0i64), 0i64..1_000_000_000])
            .prop_map(|(s, n)| Advance::By(s, n)),
        3 => (any::<usize>(), any::<usize>(), -1i64..=1).prop_map(|(i, k, d)| Advance::Horizon(i, k, d)),
        1 => Just(Advance::NextDue),
    ]
    .boxed()
}

fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        4 => (any::<usize>(), edit()).prop_map(|(i, e)| Step::Edit(i, e)),
        3 => (any::<usize>(), prop_oneof![3 => -90 * 86_400i64..=0, 1 => 0i64..=30 * 86_400], 1i64..=300_000)
            .prop_map(|(i, s, m)| Step::Buy(i, s, m)),
        1 => (any::<usize>(), 0..Event::ALL.len()).prop_map(|(i, e)| Step::Lifecycle(i, e)),
        1 => (any::<usize>(), edit()).prop_map(|(i, e)| Step::Stale(i, e)),
        1 => (0u64..1_000, any::<bool>()).prop_map(|(k, again)| Step::Insert(k, again)),
        1 => any::<usize>().prop_map(Step::Erase),
        5 => advance().prop_map(Step::Advance),
        1 => any::<usize>().prop_map(Step::Reregister),
    ]
    .boxed()
}

/// The state the property checks against.
struct Run {
    store: Arc<MemoryStore>,
    live: LiveStore<Arc<MemoryStore>>,
    segments: Vec<(String, Segment)>,
    /// The registry's order of the segments.
    order: Vec<String>,
    /// Membership replayed from the events since registration.
    replayed: BTreeMap<String, BTreeSet<CustomerId>>,
    last_at: DateTime<Utc>,
    seen: Arc<Mutex<Vec<LiveEvent>>>,
}

impl Run {
    fn ids(&self) -> Vec<CustomerId> {
        self.store.scan(None, usize::MAX).unwrap().iter().map(Customer::id).collect()
    }

    fn pick(&self, i: usize) -> Option<CustomerId> {
        let ids = self.ids();
        // Now and then an id that is not stored.
        if ids.is_empty() || i % 13 == 0 { Some(CustomerId::new(999_999)) } else { Some(ids[i % ids.len()]) }
    }

    fn now(&self) -> DateTime<Utc> {
        self.live.now().unwrap()
    }

    /// Performs a step; returns whether it was a write that failed.
    fn step(&mut self, step: &Step) -> Result<bool, TestCaseError> {
        let now = self.now();
        let machine = Lifecycle::default();
        let live: &dyn Store = &self.live;
        let failed = match step {
            Step::Edit(i, e) => {
                let Some(id) = self.pick(*i) else { return Ok(false) };
                let Ok(c) = live.get(id) else {
                    let ghost = Change::new(Customer::new(id, "ghost", now));
                    prop_assert!(live.update(ghost).is_err());
                    return Ok(true);
                };
                let mut change = Change::new(c);
                apply(change.customer_mut(), e, now);
                live.update(change).is_err()
            }
            Step::Buy(i, secs, minor) => {
                let Some(id) = self.pick(*i) else { return Ok(false) };
                let Ok(c) = live.get(id) else { return Ok(false) };
                let mut change = Change::new(c);
                let when = now + Duration::seconds(*secs);
                if change.record_purchase(&machine, Purchase::new(when, Money::new(*minor, EGP)), now).is_err() {
                    return Ok(false);
                }
                live.update(change).is_err()
            }
            Step::Lifecycle(i, e) => {
                let Some(id) = self.pick(*i) else { return Ok(false) };
                let Ok(c) = live.get(id) else { return Ok(false) };
                let mut change = Change::new(c);
                if change.apply(&machine, Event::ALL[*e], now, None).is_err() {
                    return Ok(false);
                }
                live.update(change).is_err()
            }
            Step::Stale(i, e) => {
                let Some(id) = self.pick(*i) else { return Ok(false) };
                let Ok(c) = live.get(id) else { return Ok(false) };
                let mut stale = Change::new(c.clone());
                apply(stale.customer_mut(), e, now);
                let mut first = Change::new(c);
                first.customer_mut().profile.display_name.push('!');
                self.live.update(first).unwrap();
                self.check(false)?;
                let result = self.live.update(stale);
                prop_assert!(result.is_err());
                true
            }
            Step::Insert(k, again) => {
                let c = if *again {
                    let Some(id) = self.ids().first().copied() else { return Ok(false) };
                    live.get(id).unwrap()
                } else {
                    let fresh = Population::new(77).customer(*k);
                    let id = CustomerId::new(10_000 + k);
                    if live.get(id).is_ok() {
                        return Ok(false);
                    }
                    let mut c = Customer::new(id, "new", fresh.created_at())
                        .with_purchases(fresh.purchases().as_slice().to_vec())
                        .unwrap()
                        .with_lifecycle(*fresh.lifecycle());
                    c.profile = fresh.profile.clone();
                    c.interests = fresh.interests.clone();
                    c.referrals = fresh.referrals;
                    c
                };
                let result = live.insert(c);
                prop_assert_eq!(result.is_err(), *again);
                *again
            }
            Step::Erase(i) => {
                let Some(id) = self.pick(*i) else { return Ok(false) };
                live.erase(id).is_err()
            }
            Step::Reregister(k) => {
                let (name, segment) = &self.segments[k % self.segments.len()];
                let (members, pending) = (self.live.members(name).unwrap(), self.live.pending().unwrap());
                self.live.unregister(name).unwrap();
                prop_assert!(self.live.pending().unwrap().len() <= pending.len());
                self.live.register(name, segment.clone()).unwrap();
                prop_assert_eq!(self.live.members(name).unwrap(), members);
                prop_assert_eq!(self.live.pending().unwrap(), pending, "pending after re-registering {}", name);
                // It comes back in dependency order, possibly elsewhere among the others.
                self.order = self.live.segments().unwrap();
                // Emitting nothing is checked as for a failed write.
                true
            }
            Step::Advance(a) => {
                let to = match a {
                    Advance::By(s, n) => now + Duration::seconds(*s) + Duration::nanoseconds(*n),
                    Advance::NextDue => self.live.next_due().unwrap().unwrap_or(now),
                    Advance::Horizon(i, k, d) => {
                        let Some(id) = self.pick(*i) else { return Ok(false) };
                        let Ok(c) = live.get(id) else { return Ok(false) };
                        let (_, segment) = &self.segments[k % self.segments.len()];
                        match segment.horizon(&c, now) {
                            Some(h) => (h + Duration::nanoseconds(*d)).max(now),
                            None => now,
                        }
                    }
                };
                let returned = self.live.advance_to(to).unwrap();
                prop_assert_eq!(self.now(), to);
                let seen = self.seen.lock().unwrap().clone();
                let tail = &seen[seen.len() - returned.len()..];
                prop_assert_eq!(tail, &returned[..], "advance_to returns what observers hear");
                for e in &returned {
                    prop_assert!(e.at() > now && e.at() <= to, "{} outside ({:?}, {:?}]", e, now, to);
                }
                false
            }
        };
        Ok(failed)
    }

    /// Checks membership against a full re-evaluation and the replayed events; `failed`
    /// says the last step was a write that failed (it must have emitted nothing).
    fn check(&mut self, failed: bool) -> Result<(), TestCaseError> {
        let now = self.now();
        let events = take(&self.seen);
        if failed {
            prop_assert!(events.is_empty(), "a failed write emitted {:?}", events);
        }
        // Within a step, one customer's events at one instant follow the dependency order.
        for pair in events.windows(2) {
            if pair[0].customer() == pair[1].customer() && pair[0].at() == pair[1].at() {
                let position = |e: &LiveEvent| self.order.iter().position(|n| n == e.segment());
                prop_assert!(position(&pair[0]) < position(&pair[1]), "out of dependency order: {:?}", pair);
            }
        }
        for e in &events {
            prop_assert!(e.at() >= self.last_at, "{} before an earlier event at {:?}", e, self.last_at);
            prop_assert!(e.at() <= now);
            self.last_at = e.at();
            let set = self.replayed.entry(e.segment().to_owned()).or_default();
            if e.is_entry() {
                prop_assert!(set.insert(e.customer()), "{} but already a member", e);
            } else {
                prop_assert!(set.remove(&e.customer()), "{} but not a member", e);
            }
        }
        for (name, segment) in &self.segments {
            let expected = reference(&*self.store, segment, now);
            let live = self.live.members(name).unwrap();
            prop_assert_eq!(&live, &expected, "`{}` ({}) at {:?}", name, segment, now);
            let replayed: Vec<CustomerId> = self.replayed[name].iter().copied().collect();
            prop_assert_eq!(&replayed, &expected, "replayed `{}`", name);
            prop_assert_eq!(self.live.member_count(name).unwrap(), expected.len());
        }
        // Every queued instant is after `now` and an actual change of some membership.
        for (due, id) in self.live.pending().unwrap() {
            prop_assert!(due > now, "an entry due at {:?} is left at {:?}", due, now);
            let c = self.store.get(id).unwrap();
            let changes = self.segments.iter().any(|(_, s)| s.matches(&c, due) != s.matches(&c, now));
            prop_assert!(changes, "the entry of {} at {:?} changes nothing", id, due);
        }
        Ok(())
    }

    fn check_restart(&self) -> Result<(), TestCaseError> {
        let now = self.now();
        let restarted = LiveStore::new(Arc::clone(&self.store), now);
        restarted.register_all(self.segments.iter().map(|(name, s)| (name, s.clone()))).unwrap();
        for (name, _) in &self.segments {
            prop_assert_eq!(restarted.members(name).unwrap(), self.live.members(name).unwrap());
        }
        prop_assert_eq!(restarted.pending().unwrap(), self.live.pending().unwrap(), "pending after restart");
        Ok(())
    }
}

fn run(case: &Case, steps: &[Step]) -> Result<(), TestCaseError> {
    let (customers, t) = customers(case);
    let schema = schema(&case.named, t, &customers);
    let store = Arc::new(MemoryStore::new());
    store.insert_many(customers).unwrap();
    let live = LiveStore::new(Arc::clone(&store), t).with_schema(schema.clone());
    let mut segments: Vec<(String, Segment)> = case
        .segments
        .iter()
        .enumerate()
        .map(|(k, node)| (format!("s{k}"), Segment::compile(&node.render(t, None), &schema).unwrap()))
        .collect();
    // The named segments too, registered after the ones that may refer to them.
    for name in ["n0", "n1"] {
        segments.push((name.to_owned(), Segment::compile(&format!("segment \"{name}\""), &schema).unwrap()));
    }
    for (name, segment) in &segments {
        live.register(name, segment.clone()).unwrap();
    }
    let order = live.segments().unwrap();
    let position = |n: &str| order.iter().position(|o| o == n).unwrap();
    prop_assert!(
        position("n0") < position("n1") || !schema.segment("n1").is_some_and(|e| e.to_string().contains("n0"))
    );
    let replayed = segments.iter().map(|(n, _)| (n.clone(), live.members(n).unwrap().into_iter().collect())).collect();
    let seen = recorder(&live);
    let mut run = Run { store, live, segments, order, replayed, last_at: t, seen };
    run.check(false)?;
    for (i, step) in steps.iter().enumerate() {
        let failed = run.step(step)?;
        run.check(failed)?;
        if i == steps.len() / 2 {
            run.check_restart()?;
        }
    }
    run.check_restart()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn live_membership_equals_full_evaluation_after_every_step(
        case in case((1usize..24).boxed(), 0..8, 2..5),
        steps in vec(step(), 1..40),
    ) {
        run(&case, &steps)?;
    }
}
