//! Criterion benchmarks of the lifecycle: how many events per second the pure state machine
//! and the in-memory store apply, each next to a hand-written baseline so the cost of the
//! library's guarantees is visible.
//!
//! Run with `cargo bench --bench lifecycle`. Every group reports `Throughput::Elements`, one
//! element per event, so criterion prints events per second.
//!
//! - `pure/*`: [`Lifecycle::apply`] and [`Lifecycle::apply_purchase`] over a cycling mix of
//!   stages and events with precomputed [`Facts`], against a bare `match` on the stage.
//! - `store/*`: events through a [`MemoryStore`] pre-filled with 10 000 customers, via
//!   [`Crm::apply`], [`Crm::record_purchase`] and the raw `get` → [`Change`] → `update` path,
//!   against a bare `RwLock<BTreeMap>` read-clone and insert of the same customers.

#![allow(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::{
    collections::BTreeMap,
    hint::black_box,
    sync::RwLock,
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    AttrValue, Change, Channel, Clock, CountryCode, CreditStanding, Crm, Currency, Customer, CustomerId, Event,
    LifecycleState, Loyalty, ManualClock, MemoryStore, Money, Purchase, Stage, Store,
    lifecycle::{Facts, Lifecycle, LifecyclePolicy, TransitionKind},
    synth::Rng,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().expect("a valid instant")
}

// ---------------------------------------------------------------------------------------------
// Pure state machine
// ---------------------------------------------------------------------------------------------

/// One precomputed input of the pure benches.
#[derive(Clone, Copy)]
struct Case {
    state: LifecycleState,
    event: Event,
    facts: Facts,
    at: DateTime<Utc>,
}

/// A cycling mix of the situations a CRM meets day to day, with the facts a customer in that
/// situation would have. Mostly legal moves; about one in eight is refused (a failed guard or
/// an illegal event), as happens when users click the wrong button or the policy re-checks.
fn pure_cases() -> Vec<Case> {
    let since = t0();
    let at = since + Duration::days(3);
    let state = |stage, resume| LifecycleState::at_stage(stage, since, resume).expect("a valid state");
    let f = |purchases: u32, window: u32, referrals: u32, idle: Option<i64>| Facts {
        purchases,
        purchases_in_client_window: window,
        referrals,
        credit_poor: false,
        exclusive: false,
        idle_days: idle,
    };
    let poor = Facts { credit_poor: true, ..Facts::default() };
    let table: Vec<(LifecycleState, Event, Facts)> = vec![
        (state(Stage::Suspect, None), Event::Qualify, Facts::default()),
        (state(Stage::Suspect, None), Event::Qualify, poor), // refused: poor credit
        (state(Stage::Suspect, None), Event::Disqualify, Facts::default()),
        (state(Stage::Suspect, None), Event::Purchase, f(1, 1, 0, Some(0))),
        (state(Stage::Prospect, None), Event::Purchase, f(1, 1, 0, Some(0))),
        (state(Stage::Prospect, None), Event::Disqualify, Facts::default()),
        (state(Stage::DisqualifiedProspect, None), Event::Requalify, Facts::default()),
        (state(Stage::FirstTime, None), Event::Purchase, f(2, 2, 0, Some(0))),
        (state(Stage::FirstTime, None), Event::Lapse, f(1, 0, 0, Some(200))),
        (state(Stage::FirstTime, None), Event::Requalify, f(1, 1, 0, Some(3))), // illegal
        (state(Stage::Repeat, None), Event::Purchase, f(3, 3, 0, Some(0))),     // stays
        (state(Stage::Repeat, None), Event::Purchase, f(5, 5, 0, Some(0))),
        (state(Stage::Repeat, None), Event::BecomeClient, f(3, 3, 0, Some(9))), // refused: too few
        (state(Stage::Repeat, None), Event::Lose, f(4, 0, 0, Some(400))),
        (state(Stage::Client, None), Event::Purchase, f(8, 6, 1, Some(0))), // stays
        (state(Stage::Client, None), Event::BecomeAdvocate, f(8, 6, 3, Some(10))),
        (state(Stage::Client, None), Event::EnterPartnership, f(9, 7, 0, Some(4))),
        (state(Stage::Client, None), Event::Lapse, f(9, 0, 0, Some(181))),
        (state(Stage::Advocate, None), Event::Purchase, f(12, 8, 4, Some(0))), // stays
        (state(Stage::Advocate, None), Event::EnterPartnership, f(12, 8, 4, Some(2))),
        (state(Stage::Partner, None), Event::EndPartnership, f(20, 10, 5, Some(30))),
        (state(Stage::Partner, None), Event::Purchase, f(21, 11, 5, Some(0))), // stays
        (state(Stage::Inactive, Some(Stage::Client)), Event::Reactivate, f(9, 0, 0, Some(190))),
        (state(Stage::Inactive, Some(Stage::Repeat)), Event::Purchase, f(4, 1, 0, Some(0))),
        (state(Stage::Inactive, Some(Stage::Repeat)), Event::Lose, f(3, 0, 0, Some(370))),
        (state(Stage::Lost, Some(Stage::Repeat)), Event::WinBack, f(3, 0, 0, Some(500))),
        (state(Stage::Lost, Some(Stage::Client)), Event::Purchase, f(7, 1, 0, Some(0))),
        (state(Stage::Lost, Some(Stage::Client)), Event::Lapse, f(7, 0, 0, Some(500))), // illegal
    ];
    // Shuffle a long cycle of the table so the branch predictor cannot learn a short pattern.
    let mut rng = Rng::new(7);
    (0..4096)
        .map(|_| {
            let (state, event, facts) = *rng.pick(&table).expect("the table is not empty");
            Case { state, event, facts, at }
        })
        .collect()
}

/// The purchase cases: every stage a buyer can be in when buying, facts after the purchase.
fn purchase_cases() -> Vec<Case> {
    pure_cases().into_iter().filter(|c| c.event == Event::Purchase).collect()
}

/// The baseline: the same decision written as one hand-written `match`, with the same guards,
/// returning the stage entered and the kind of move; no table, no record of the transition,
/// no date or note checks.
#[inline(never)]
fn baseline_match(
    stage: Stage,
    resume: Option<Stage>,
    event: Event,
    f: &Facts,
    p: &LifecyclePolicy,
) -> Result<Option<(Stage, TransitionKind)>, ()> {
    use Event as E;
    use Stage as S;
    use TransitionKind as K;
    let idle = |days: u32| f.idle_days.is_some_and(|d| d >= i64::from(days));
    let client = f.exclusive || f.purchases_in_client_window >= p.client_after_purchases;
    let customer = matches!(stage, S::FirstTime | S::Repeat | S::Client | S::Advocate | S::Partner);
    Ok(Some(match (stage, event) {
        (S::Suspect, E::Qualify) if !f.credit_poor => (S::Prospect, K::Progress),
        (S::Suspect | S::Prospect, E::Disqualify) => (S::DisqualifiedProspect, K::Disqualification),
        (S::Suspect | S::Prospect | S::DisqualifiedProspect, E::Purchase) => (S::FirstTime, K::Progress),
        (S::DisqualifiedProspect, E::Requalify) if !f.credit_poor => (S::Prospect, K::Requalification),
        (S::FirstTime, E::Purchase) if f.purchases >= p.repeat_after_purchases => (S::Repeat, K::Progress),
        (S::Repeat, E::Purchase | E::BecomeClient) if client => (S::Client, K::Progress),
        (S::FirstTime | S::Repeat | S::Client | S::Advocate | S::Partner, E::Purchase) => return Ok(None),
        (S::Client, E::BecomeAdvocate) if f.referrals >= p.advocate_after_referrals => (S::Advocate, K::Progress),
        (S::Client | S::Advocate, E::EnterPartnership) => (S::Partner, K::Progress),
        (S::Partner, E::EndPartnership) => (S::Client, K::Downgrade),
        (_, E::Lapse) if customer && idle(p.inactive_after_days) => (S::Inactive, K::Downgrade),
        (_, E::Lose) if (customer || stage == S::Inactive) && idle(p.lost_after_days) => (S::Lost, K::Downgrade),
        (S::Inactive, E::Purchase | E::Reactivate) => (resume.ok_or(())?, K::Reactivation),
        (S::Lost, E::Purchase | E::WinBack) => (S::Repeat, K::WinBack),
        _ => return Err(()),
    }))
}

fn bench_pure(c: &mut Criterion) {
    let machine = Lifecycle::default();
    let cases = pure_cases();
    let purchases = purchase_cases();
    let n = |v: &[Case]| u64::try_from(v.len()).unwrap_or(u64::MAX);

    let mut group = c.benchmark_group("pure");
    group.throughput(Throughput::Elements(n(&cases)));
    group.bench_function("apply", |b| {
        b.iter(|| {
            for case in black_box(&cases) {
                let step = machine.apply(&case.state, case.event, &case.facts, case.at, None);
                black_box(step.is_ok());
                let _ = black_box(step);
            }
        });
    });
    group.bench_function("baseline_match", |b| {
        b.iter(|| {
            for case in black_box(&cases) {
                let s = case.state;
                let out = baseline_match(s.stage(), s.resume_stage(), case.event, &case.facts, machine.policy());
                black_box(out.is_ok());
                let _ = black_box(out);
            }
        });
    });

    group.throughput(Throughput::Elements(n(&purchases)));
    group.bench_function("apply_purchase", |b| {
        b.iter(|| {
            for case in black_box(&purchases) {
                let _ = black_box(machine.apply_purchase(&case.state, &case.facts, case.at));
            }
        });
    });
    group.bench_function("baseline_match_purchase", |b| {
        b.iter(|| {
            for case in black_box(&purchases) {
                // Mirrors `apply_purchase`: apply until the stage no longer changes.
                let (mut stage, mut resume) = (case.state.stage(), case.state.resume_stage());
                for _ in 0..Stage::ALL.len() {
                    match baseline_match(stage, resume, Event::Purchase, &case.facts, machine.policy()) {
                        Ok(Some((to, _))) => (stage, resume) = (to, None),
                        _ => break,
                    }
                }
                black_box(stage);
            }
        });
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Through the store
// ---------------------------------------------------------------------------------------------

/// Customers in the pre-filled store.
const CUSTOMERS: u64 = 10_000;

/// Which situation a customer is set up in: decided by `id % 4`, and each has a two-event
/// script that brings the customer back to where it started, so the mix cycles for ever.
fn script(id: u64) -> [Event; 2] {
    match id % 4 {
        0 => [Event::Disqualify, Event::Requalify], // prospects: declined, reconsidered
        1 => [Event::EnterPartnership, Event::EndPartnership], // clients
        2 => [Event::WinBack, Event::Lose],         // lost customers
        _ => [Event::Reactivate, Event::Lapse],     // inactive customers
    }
}

/// A realistic customer: name, location, birth date, interests, channels, an attribute and
/// (for some) a loyalty card, the things a store clones on every read.
fn profile(id: u64, rng: &mut Rng, created: DateTime<Utc>) -> Customer {
    const FIRST: [&str; 8] = ["Mona", "Omar", "Sara", "Youssef", "Laila", "Karim", "Nour", "Hassan"];
    const LAST: [&str; 6] = ["Said", "Haddad", "Mansour", "Farouk", "Nasser", "Khalil"];
    const CITIES: [(&str, &str); 4] = [("EG", "Cairo"), ("EG", "Alexandria"), ("JO", "Amman"), ("MA", "Rabat")];
    const INTERESTS: [&str; 6] = ["sports", "travel", "books", "cooking", "music", "fashion"];
    let name = format!("{} {}", rng.choose(&FIRST), rng.choose(&LAST));
    let mut c = Customer::new(CustomerId::new(id), name, created);
    let (country, city) = *rng.choose(&CITIES);
    c.profile.location.country = CountryCode::new(country).ok();
    c.profile.location.city = Some(city.to_owned());
    let year = 1960 + i32::try_from(rng.below(45)).unwrap_or(0);
    c.profile.birth_date = NaiveDate::from_ymd_opt(year, 3, 14);
    for _ in 0..2 {
        let interest: &&str = rng.choose(&INTERESTS);
        c.interests.insert(interest);
    }
    c.channels.preferred.insert(*rng.choose(&[Channel::Email, Channel::Sms, Channel::Web]));
    c.credit = CreditStanding::Good;
    if rng.below(3) == 0 {
        c.loyalty = Some(Loyalty {
            card_id: format!("LC-{id:05}"),
            joined: NaiveDate::from_ymd_opt(2024, 6, 1).expect("a valid date"),
        });
    }
    c.attributes.set("nps", AttrValue::Int(i64::try_from(rng.below(11)).unwrap_or(0))).expect("a valid attribute");
    c
}

/// A CRM on a [`MemoryStore`] with [`CUSTOMERS`] customers, each set up through the API in the
/// situation [`script`] expects: prospects, clients with 5 purchases, lost and inactive
/// repeat customers with 3 purchases each. The clock stands at [`t0`].
fn filled_crm() -> Crm<MemoryStore, ManualClock> {
    let now = t0();
    let clock = ManualClock::new(now);
    let crm = Crm::new(MemoryStore::new()).with_clock(clock);
    let egp = Currency::new("EGP").expect("a valid currency");
    let mut rng = Rng::new(42);
    for id in 0..CUSTOMERS {
        let (created, first_buy, gap) = match id % 4 {
            0 => (now - Duration::days(30), None, 0),
            1 => (now - Duration::days(200), Some(now - Duration::days(150)), 20),
            2 => (now - Duration::days(900), Some(now - Duration::days(800)), 30),
            _ => (now - Duration::days(400), Some(now - Duration::days(300)), 30),
        };
        crm.insert(profile(id, &mut rng, created)).expect("insert");
        let cid = CustomerId::new(id);
        crm.clock().set(created);
        match first_buy {
            None => {
                crm.apply(cid, Event::Qualify, None).expect("qualify");
            }
            Some(first) => {
                let count = if id % 4 == 1 { 5 } else { 3 };
                for k in 0..count {
                    let at = first + Duration::days(gap * k);
                    crm.clock().set(at);
                    let amount = Money::new(5_000 + i64::try_from(rng.below(50_000)).unwrap_or(0), egp);
                    crm.record_purchase(cid, Purchase::new(at, amount).with_category("groceries")).expect("purchase");
                }
            }
        }
    }
    crm.clock().set(now);
    crm.run_policy(now).expect("policy"); // lost and inactive customers go dormant
    debug_assert_eq!(crm.get(CustomerId::new(2)).map(|c| c.stage()).ok(), Some(Stage::Lost));
    debug_assert_eq!(crm.get(CustomerId::new(3)).map(|c| c.stage()).ok(), Some(Stage::Inactive));
    // Copy the customers into a fresh store, in id order, so every bench (the baseline
    // included) starts from the same memory layout rather than the setup's leftovers.
    let fresh = Crm::new(MemoryStore::new()).with_clock(ManualClock::new(now));
    for id in 0..CUSTOMERS {
        fresh.insert(crm.get(CustomerId::new(id)).expect("stored")).expect("insert");
    }
    fresh
}

/// A store under load that lives across criterion's samples, so every sample measures the
/// steady state rather than the first touches after a rebuild.
struct Rig<T> {
    /// What the events run against (a CRM, or the baseline's map).
    target: Option<T>,
    /// Events applied to `target` since it was built: the index of the next event.
    k: u64,
    /// Rebuild after this many events, so histories and purchase lists keep the size of a
    /// realistic customer instead of growing for the whole run.
    reset_every: u64,
}

impl<T> Rig<T> {
    fn new(reset_every: u64) -> Rig<T> {
        Rig { target: None, k: 0, reset_every }
    }

    /// Runs `iters` events through `step(target, k)` and returns the time they took; the
    /// rebuilds (`build`) are not timed.
    fn run(&mut self, iters: u64, build: impl Fn() -> T, mut step: impl FnMut(&T, u64)) -> StdDuration {
        let mut total = StdDuration::ZERO;
        let mut done = 0;
        while done < iters {
            if self.k >= self.reset_every {
                self.target = None;
            }
            let target = match &mut self.target {
                Some(target) => target,
                empty => {
                    self.k = 0;
                    empty.insert(build())
                }
            };
            let chunk = (self.reset_every - self.k).min(iters - done);
            let start = Instant::now();
            for k in self.k..self.k + chunk {
                step(target, k);
            }
            total += start.elapsed();
            self.k += chunk;
            done += chunk;
        }
        total
    }
}

/// The `k`-th event of the mix: customers round-robin, each following its script.
fn event_for(k: u64) -> (CustomerId, Event) {
    let id = k % CUSTOMERS;
    let round = k / CUSTOMERS;
    (CustomerId::new(id), script(id)[usize::from(round % 2 == 1)])
}

/// The baseline's store: the same customers in a bare map behind a lock.
type BareMap = RwLock<BTreeMap<u64, Customer>>;

fn bare_map() -> BareMap {
    let crm = filled_crm();
    RwLock::new((0..CUSTOMERS).map(|id| (id, crm.get(CustomerId::new(id)).expect("stored"))).collect())
}

fn bench_store(c: &mut Criterion) {
    // Scripts cycle in two rounds; 32 rounds keep each history at a realistic length.
    const APPLY_RESET: u64 = 32 * CUSTOMERS;
    // Purchases accumulate on the customer; 3 rounds take a customer from 0-5 to 3-8 purchases.
    const PURCHASE_RESET: u64 = 3 * CUSTOMERS;
    let egp = Currency::new("EGP").expect("a valid currency");
    let machine = Lifecycle::default();
    let now = t0();

    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));

    let mut rig = Rig::new(APPLY_RESET);
    group.bench_function("crm_apply", |b| {
        b.iter_custom(|iters| {
            rig.run(iters, filled_crm, |crm, k| {
                let (id, event) = event_for(k);
                black_box(crm.apply(id, event, None).expect("a legal event"));
            })
        });
    });

    let mut rig = Rig::new(PURCHASE_RESET);
    group.bench_function("crm_record_purchase", |b| {
        b.iter_custom(|iters| {
            rig.run(iters, filled_crm, |crm, k| {
                let id = CustomerId::new(k % CUSTOMERS);
                let amount = Money::new(1_000 + i64::try_from(k % 977).unwrap_or(0), egp);
                let purchase = Purchase::new(crm.clock().now(), amount).with_category("books");
                black_box(crm.record_purchase(id, purchase).expect("a valid purchase"));
            })
        });
    });

    let mut rig = Rig::new(APPLY_RESET);
    group.bench_function("raw_get_change_update", |b| {
        b.iter_custom(|iters| {
            rig.run(iters, filled_crm, |crm, k| {
                let store = crm.store();
                let (id, event) = event_for(k);
                let mut change = Change::new(store.get(id).expect("stored"));
                change.apply(&machine, event, now, None).expect("a legal event");
                black_box(store.update(change).expect("committed"));
            })
        });
    });

    // The floor for a store that hands out owned copies: read-clone the same customers under
    // a read lock, write them back under a write lock. No lifecycle, no checks, no history.
    let mut rig = Rig::new(APPLY_RESET);
    group.bench_function("baseline_rwlock_btreemap", |b| {
        b.iter_custom(|iters| {
            rig.run(iters, bare_map, |map, k| {
                let id = k % CUSTOMERS;
                let read = map.read().map(|m| m.get(&id).cloned());
                let Ok(Some(mut customer)) = read else { return };
                customer.referrals = customer.referrals.wrapping_add(1);
                if let Ok(mut m) = map.write() {
                    black_box(m.insert(id, customer));
                }
            })
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_pure, bench_store
}
criterion_main!(benches);
