//! The store conformance suite: the [`Store`] contract, written once and generic over the
//! store.
//!
//! Each `check_*` function takes an empty store and panics when the store breaks the
//! contract. [`conformance_suite!`](crate::conformance_suite) turns them into `#[test]`s for
//! one kind of store, so a new backend gets the whole suite with one line:
//!
//! ```text
//! crate::conformance_suite!(sqlite_memory, || SqliteStore::in_memory().unwrap());
//! ```
//!
//! A store that needs something the machine may lack (a database server) uses the `optional`
//! form: its closure returns an `Option`, and each test returns early (skips) on `None`.
//!
//! Expectations are written by hand from the contract and the lifecycle table, or come from a
//! small reference model (the random-operations check), never from running the store.

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap: a panic is a failed check with a message")]

use std::{
    collections::{BTreeMap, BTreeSet, btree_map::Entry},
    sync::Arc,
};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    AttrValue, Change, Channel, CountryCode, CreditStanding, Currency, Customer, CustomerId, Event, Gender,
    LifecycleState, Loyalty, MemoryStore, Money, Purchase, Stage, Store, StoreError, Transition,
    lifecycle::{Lifecycle, TransitionKind, replay},
    limits,
    store::check_change,
};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};

/// Expands to a module of `#[test]`s, one per conformance check, each on a fresh store made by
/// the closure. With `optional`, the closure returns `Option<store>` and a test whose closure
/// returns `None` passes without checking anything (the closure says why).
///
/// ```text
/// crate::conformance_suite!(memory, || MemoryStore::new());
/// crate::conformance_suite!(postgres, optional || pg_server::fresh_store());
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, optional $make:expr) => {
        $crate::conformance_suite!(@checks $name, $make, optional);
    };
    ($name:ident, $make:expr) => {
        $crate::conformance_suite!(@checks $name, $make, required);
    };
    (@checks $name:ident, $make:expr, $made:ident) => {
        $crate::conformance_suite!(@tests $name, $make, $made, [
            check_insert_then_get,
            check_insert_keeps_imported_lifecycle_and_purchases,
            check_insert_existing_id,
            check_insert_many_all_or_nothing,
            check_insert_invalid,
            check_limits_are_inclusive,
            check_unknown_id,
            check_update_edit,
            check_update_event,
            check_update_purchases,
            check_stale_update,
            check_forged_lifecycle,
            check_change_retargeted,
            check_replaced_customer_version,
            check_forged_purchases,
            check_edit_breaking_limit,
            check_purchase_and_transitions_atomic,
            check_history_order,
            check_count_and_scan,
            check_scan_extreme_ids,
            check_erase,
            check_query_agrees_with_evaluation,
            check_query_follows_writes,
            check_concurrent_purchases,
            check_random_operations,
        ]);
    };
    (@tests $name:ident, $make:expr, $made:ident, [$($check:ident),* $(,)?]) => {
        mod $name {
            // The closure may name types imported where the suite is instantiated.
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    let make = $make;
                    if let Some(store) = $crate::conformance::made::$made(make()) {
                        $crate::conformance::$check(store);
                    }
                }
            )*
        }
    };
}

/// What [`conformance_suite!`](crate::conformance_suite) does with the closure's result: a
/// store to check, or none (skip).
pub mod made {
    /// A store the closure always makes.
    pub fn required<S>(store: S) -> Option<S> {
        Some(store)
    }

    /// A store the closure may not be able to make.
    #[allow(dead_code, reason = "used only by the suites of stores behind features")]
    pub fn optional<S>(store: Option<S>) -> Option<S> {
        store
    }
}

crate::conformance_suite!(memory, || MemoryStore::new());
crate::conformance_suite!(memory_arc, || Arc::new(MemoryStore::new()));
crate::conformance_suite!(memory_dyn, || -> Box<dyn Store> { Box::new(MemoryStore::new()) });
crate::conformance_suite!(memory_default_methods, || DefaultMethods(MemoryStore::new()));

/// A store that implements only the required methods (by `MemoryStore`'s), so that the
/// suite also checks the trait's default `insert_many` and `query`.
#[derive(Debug)]
pub struct DefaultMethods(pub MemoryStore);

impl Store for DefaultMethods {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.0.insert(customer)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.0.get(id)
    }
    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.0.update(change)
    }
    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.0.history(id)
    }
    fn count(&self) -> Result<usize, StoreError> {
        self.0.count()
    }
    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.0.scan(after, limit)
    }
    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.0.erase(id)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

fn hours(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
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

fn machine() -> Lifecycle {
    Lifecycle::default()
}

fn buy(at: DateTime<Utc>, cents: i64) -> Purchase {
    Purchase::new(at, Money::new(cents, usd()))
}

/// A customer with every descriptive field set, so that a store must keep them all.
fn rich_customer(n: u64, name: &str) -> Customer {
    let mut c = Customer::new(cid(n), name, t0());
    c.profile.birth_date = NaiveDate::from_ymd_opt(1992, 4, 2);
    c.profile.gender = Gender::Female;
    c.profile.annual_income = Some(Money::new(4_800_000, usd()));
    c.profile.location.country = Some(CountryCode::new("EG").unwrap());
    c.profile.location.region = Some("Giza".into());
    c.profile.location.city = Some("Cairo".into());
    c.interests.insert("sports");
    c.interests.insert("travel");
    c.lifestyle.insert("outdoor");
    c.needs.insert("delivery");
    c.channels.preferred.insert(Channel::Web);
    c.channels.preferred.insert(Channel::Email);
    c.channels.opted_out.insert(Channel::Sms);
    c.loyalty = Some(Loyalty { card_id: "LC-0042".into(), joined: NaiveDate::from_ymd_opt(2025, 1, 5).unwrap() });
    c.credit = CreditStanding::Good;
    c.referrals = 1;
    c.attributes.set("nps", AttrValue::Int(9)).unwrap();
    c.attributes.set("survey_done", AttrValue::Bool(true)).unwrap();
    c.attributes.set("favourite", AttrValue::Text("Tea, not coffee".into())).unwrap();
    c.attributes.set("renewal", AttrValue::Date(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap())).unwrap();
    c.attributes.set("credit_limit", AttrValue::Money(Money::new(25_000, usd()))).unwrap();
    c
}

/// Everything a store keeps about a customer except the version, for comparing a stored
/// customer with the one that was written.
fn data(c: &Customer) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap();
    v.as_object_mut().unwrap().remove("version");
    v
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, id: CustomerId) -> String {
    match result {
        Err(StoreError::InvalidData { id: got, source }) => {
            assert_eq!(got, id, "InvalidData names the wrong customer");
            source.field().to_owned()
        }
        other => panic!("expected InvalidData for {id}, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, id: CustomerId) {
    match result {
        Err(StoreError::NotFound(got)) => assert_eq!(got, id),
        other => panic!("expected NotFound({id}), got {other:?}"),
    }
}

/// A full snapshot of what the store holds about one customer.
fn snapshot<S: Store>(store: &S, id: CustomerId) -> (Customer, Vec<Transition>) {
    (store.get(id).unwrap(), store.history(id).unwrap())
}

/// Inserts a customer and records a purchase, so it has a purchase, a transition and
/// version 2.
fn insert_first_time<S: Store>(store: &S, n: u64, name: &str) {
    store.insert(Customer::new(cid(n), name, t0())).unwrap();
    let mut change = Change::new(store.get(cid(n)).unwrap());
    change.record_purchase(&machine(), buy(hours(1), 1_000 + i64::try_from(n % 1000).unwrap()), hours(1)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
}

fn all_ids<S: Store>(store: &S) -> Vec<u64> {
    store.scan(None, usize::MAX).unwrap().iter().map(|c| c.id().get()).collect()
}

fn transition(
    from: Stage,
    to: Stage,
    event: Event,
    kind: TransitionKind,
    at: DateTime<Utc>,
    note: Option<&str>,
) -> Transition {
    Transition { from, to, event, kind, at, note: note.map(str::to_owned) }
}

// ---------------------------------------------------------------------------------------------
// Insert, get and unknown ids.

/// Insert stores every field at version 1; get returns it.
pub fn check_insert_then_get<S: Store>(store: S) {
    let mona = rich_customer(1, "Mona Said");
    assert_eq!(store.insert(mona.clone()).unwrap(), 1);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.version(), 1);
    assert_eq!(data(&stored), data(&mona));
    assert_eq!(stored.profile.display_name, "Mona Said");
    assert_eq!(stored.attributes.get("nps"), Some(&AttrValue::Int(9)));
    assert!(stored.channels.opted_out.contains(Channel::Sms));
    assert_eq!(stored.stage(), Stage::Suspect);
    assert_eq!(stored.created_at(), t0());
    assert!(store.history(cid(1)).unwrap().is_empty());
    assert_eq!(store.count().unwrap(), 1);

    // A second customer does not disturb the first.
    let omar = Customer::new(cid(2), "Omar", days(3));
    assert_eq!(store.insert(omar.clone()).unwrap(), 1);
    assert_eq!(data(&store.get(cid(2)).unwrap()), data(&omar));
    assert_eq!(store.get(cid(1)).unwrap(), stored);
    assert_eq!(store.count().unwrap(), 2);
}

/// A customer imported at another stage, with purchases, is stored as given, and later
/// changes start from there.
pub fn check_insert_keeps_imported_lifecycle_and_purchases<S: Store>(store: S) {
    // Purchases can only be given to a new customer through deserialization (an import).
    let mut json = serde_json::to_value(
        rich_customer(5, "Imported")
            .with_lifecycle(LifecycleState::at_stage(Stage::Inactive, days(10), Some(Stage::Client)).unwrap()),
    )
    .unwrap();
    json["purchases"] = serde_json::to_value([buy(days(2), 2_500), buy(days(1), 1_500)]).unwrap();
    let imported: Customer = serde_json::from_value(json).unwrap();

    assert_eq!(store.insert(imported.clone()).unwrap(), 1);
    let stored = store.get(cid(5)).unwrap();
    assert_eq!(data(&stored), data(&imported));
    assert_eq!(stored.stage(), Stage::Inactive);
    assert_eq!(stored.lifecycle().resume_stage(), Some(Stage::Client));
    assert_eq!(stored.lifecycle().since(), days(10));
    // Kept in time order, whatever order they were given in.
    assert_eq!(stored.purchases().as_slice(), [buy(days(1), 1_500), buy(days(2), 2_500)]);
    assert_eq!(stored.purchases().activity().total(usd()), Money::new(4_000, usd()));
    assert!(store.history(cid(5)).unwrap().is_empty());

    // A purchase resumes the stage held before going inactive.
    let mut change = Change::new(stored);
    change.record_purchase(&machine(), buy(days(20), 100), days(20)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
    let after = store.get(cid(5)).unwrap();
    assert_eq!(after.stage(), Stage::Client);
    assert_eq!(after.purchases().as_slice().len(), 3);
    assert_eq!(
        store.history(cid(5)).unwrap(),
        [transition(Stage::Inactive, Stage::Client, Event::Purchase, TransitionKind::Reactivation, days(20), None)]
    );
}

/// Inserting an id that is stored fails with AlreadyExists and changes nothing.
pub fn check_insert_existing_id<S: Store>(store: S) {
    insert_first_time(&store, 1, "Ada");
    let before = snapshot(&store, cid(1));

    match store.insert(rich_customer(1, "Impostor")) {
        Err(StoreError::AlreadyExists(id)) => assert_eq!(id, cid(1)),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(snapshot(&store, cid(1)), before);
    assert_eq!(store.get(cid(1)).unwrap().profile.display_name, "Ada");
    assert_eq!(store.count().unwrap(), 1);
}

/// Everything a store holds: each customer with its history, in id order.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "for the database stores' tests")
)]
pub fn everything<S: Store>(store: &S) -> Vec<(Customer, Vec<Transition>)> {
    store.scan(None, usize::MAX).unwrap().into_iter().map(|c| (c.clone(), store.history(c.id()).unwrap())).collect()
}

/// Two stores on one database, each used by several threads, record purchases with retries on
/// conflicts: nothing is lost or doubled and both stores see the same result. Returns how many
/// purchases were recorded. Not in the suite: it needs two stores sharing one database.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "for the database stores' tests")
)]
pub fn check_two_stores_on_one_database<S: Store>(stores: &[S; 2]) -> u64 {
    const CUSTOMERS: u64 = 3;
    const THREADS_PER_STORE: u64 = 3;
    const PER_THREAD: u64 = 40;
    for n in 0..CUSTOMERS {
        stores[0].insert(Customer::new(cid(n), format!("c{n}"), t0())).unwrap();
    }
    let machine = machine();
    let now = t0() + Duration::days(1);
    std::thread::scope(|scope| {
        for (s, store) in stores.iter().enumerate() {
            for thread in 0..THREADS_PER_STORE {
                let machine = &machine;
                scope.spawn(move || {
                    let worker = u64::try_from(s).unwrap() * THREADS_PER_STORE + thread;
                    for i in 0..PER_THREAD {
                        let global = worker * PER_THREAD + i;
                        let n = global % CUSTOMERS;
                        let p = buy(t0() + Duration::seconds(i64::try_from(global).unwrap()), 1);
                        loop {
                            let mut change = Change::new(store.get(cid(n)).unwrap());
                            change.record_purchase(machine, p.clone(), now).unwrap();
                            match store.update(change) {
                                Ok(_) => break,
                                Err(e) if e.is_conflict() => {}
                                Err(e) => panic!("unexpected store error: {e}"),
                            }
                        }
                    }
                });
            }
        }
    });
    let total = 2 * THREADS_PER_STORE * PER_THREAD;
    let seen = everything(&stores[0]);
    assert_eq!(seen, everything(&stores[1]));
    let mut purchases = 0;
    for (c, history) in &seen {
        let count = u64::try_from(c.purchases().as_slice().len()).unwrap();
        assert_eq!(c.version(), 1 + count, "customer {}", c.id());
        assert_eq!(c.stage(), Stage::Client);
        assert_eq!(history.iter().map(|t| t.to).collect::<Vec<_>>(), [Stage::FirstTime, Stage::Repeat, Stage::Client]);
        purchases += count;
    }
    assert_eq!(purchases, total);
    total
}

/// Customers whose data tests the edges of a segment query run elsewhere than in Rust (in
/// SQL): LIKE wildcards and quotes in texts, non-ASCII case, missing values, money in
/// another currency, sums past `i64::MAX`, leap seconds, instants beyond what `i64`
/// nanoseconds hold, 29 February birthdays.
fn query_edge_customers() -> Vec<Customer> {
    let texts = [
        "50% off",
        "500 off",
        "a_b",
        "axb",
        "back\\slash",
        "O'Brien",
        "École",
        "école",
        "ÉCOLE",
        "Straße",
        "STRASSE",
        "ALEXANDRIA",
        "alexandria",
        "",
    ];
    let egp = Currency::EGP;
    let leap =
        NaiveDate::from_ymd_opt(2025, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap().and_utc();
    let mut out = Vec::new();
    for (i, text) in (1u64..).zip(texts) {
        let mut c = Customer::new(cid(i), "edge", t0());
        c.profile.location.city = Some(text.to_owned());
        c.profile.location.region = (i % 2 == 0).then(|| text.to_uppercase());
        c.interests.insert(text);
        c.attributes.set("nickname", AttrValue::Text(text.to_owned())).unwrap();
        c.attributes
            .set("labels", AttrValue::TextList([text.to_owned(), "VIP".to_owned()].into_iter().collect()))
            .unwrap();
        c.referrals = u32::try_from(i).unwrap();
        out.push(c);
    }
    // Missing everything.
    out.push(Customer::new(cid(100), "bare", t0()));
    // Income and wallet in another currency than the schema's.
    let mut c = Customer::new(cid(101), "dollars", t0());
    c.profile.annual_income = Some(Money::new(5_000_000, usd()));
    c.attributes.set("wallet", AttrValue::Money(Money::new(100, usd()))).unwrap();
    out.push(c);
    // Purchases whose sum passes i64::MAX (Rust saturates).
    let big = i64::MAX / 2 + 1;
    let whale = Customer::new(cid(102), "whale", t0() - Duration::days(10))
        .with_purchases(vec![
            Purchase::new(t0() - Duration::days(2), Money::new(big, egp)),
            Purchase::new(t0() - Duration::days(1), Money::new(big, egp)),
        ])
        .unwrap();
    out.push(whale);
    // A purchase in a leap second, and one a nanosecond after the evaluation instant.
    let leaper = Customer::new(cid(103), "leap", leap - Duration::days(1))
        .with_purchases(vec![
            Purchase::new(leap, Money::new(100, egp)),
            Purchase::new(t0() + Duration::nanoseconds(1), Money::new(100, egp)),
        ])
        .unwrap();
    out.push(leaper);
    // Created after 2262: beyond i64 nanoseconds.
    out.push(Customer::new(cid(104), "far", Utc.with_ymd_and_hms(2300, 1, 1, 0, 0, 0).unwrap()));
    // Born on 29 February; a loyalty member; exclusive.
    let mut c = Customer::new(cid(105), "leapling", t0());
    c.profile.birth_date = NaiveDate::from_ymd_opt(2000, 2, 29);
    c.loyalty = Some(Loyalty { card_id: "L".into(), joined: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap() });
    c.exclusive = true;
    c.channels.preferred.insert(Channel::Email);
    c.channels.preferred.insert(Channel::Sms);
    c.channels.opted_out.insert(Channel::Sms);
    out.push(c);
    out
}

/// `Store::query` gives the members evaluation in Rust gives, on data at the edges of the
/// semantics (see [`query_edge_customers`]) and on segments at the edges of what SQL parsers
/// take: deep nesting, long chains, long lists.
pub fn check_query_agrees_with_evaluation<S: Store>(store: S) {
    use clientele::segment::{Expr, Limits, Schema, Segment, build::field};
    let customers = query_edge_customers();
    assert_eq!(store.insert_many(customers.clone()).unwrap(), customers.len());
    let schema = Schema::new(Currency::EGP)
        .with_attribute("nickname", clientele::segment::AttrType::Text)
        .unwrap()
        .with_attribute("labels", clientele::segment::AttrType::TextList)
        .unwrap()
        .with_attribute("wallet", clientele::segment::AttrType::Money)
        .unwrap()
        .with_limits(Limits { max_text_bytes: 1 << 20, max_nodes: 1 << 16, ..Limits::default() });
    let mut segments: Vec<String> = [
        r#"city contains "%""#,
        r#"city contains "_""#,
        r#"city starts with "50%""#,
        r#"city contains "\\""#,
        r#"city = "o'brien""#,
        r#"city = "x' OR 1=1 --""#,
        r#"city = "ÉCOLE""#,
        r#"city = "école""#,
        r#"city ends with "SSE""#,
        r#"city in ("alexandria", "straße", "")"#,
        r#"city contains """#,
        r#"not (city contains "a")"#,
        r#"region starts with "é""#,
        r#"not (region = "A_B")"#,
        r#"interests has "école""#,
        r#"interests has any ("École", "a_b")"#,
        r#"attr.nickname contains "O'""#,
        r#"attr.labels has "vip""#,
        r#"attr.labels has all ("vip", "ALEXANDRIA")"#,
        r#"not (attr.labels has "vip")"#,
        "attr.wallet is set",
        "income is set",
        "not (income > 1.00)",
        "spent > 1.00",
        "spent = 92233720368547758.07",
        "spent(last 7 days) between 1.00 and 92233720368547758.06",
        "purchases = 1",
        "purchases(last 1 day) >= 1",
        "last_purchase = 2025-12-31",
        "last_purchase within 1 day",
        "first_purchase before 2026-01-01",
        "created_at after 2262-04-12",
        "not (created_at within 1 week)",
        "age >= 25",
        "age between 25 and 26",
        "birth_date is not set",
        "loyalty_member and loyalty_joined within 1 day",
        "not loyalty_member",
        "exclusive",
        "channels has email",
        "channels has all (email, sms)",
        "preferred_channels has all (email, sms)",
        "stage in (suspect, prospect)",
        "referrals in (1, 3, 5, 7, 1000)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    // Deep nesting, up to the language's limit.
    let mut deep = "referrals >= 2".to_owned();
    for i in 0..30 {
        deep = if i % 2 == 0 {
            format!("not ({deep} and referrals < {})", 20 - i / 4)
        } else {
            format!("({deep} or city = \"axb\")")
        };
    }
    segments.push(deep);
    // Long chains and lists.
    segments.push((0..1_500).map(|i| format!("referrals = {}", i * 2)).collect::<Vec<_>>().join(" or "));
    segments.push((0..1_500).map(|i| format!("referrals != {}", i * 3)).collect::<Vec<_>>().join(" and "));
    segments.push(format!("referrals in ({})", (0..1_024).map(|i| (i * 5).to_string()).collect::<Vec<_>>().join(", ")));
    let long_any = Expr::any(
        (0..2_000).map(|i| field("city").contains(&format!("{}", i % 10)).or(field("referrals").eq(i))).collect(),
    );
    let as_of = [
        t0(),
        t0() - Duration::nanoseconds(1),
        NaiveDate::from_ymd_opt(2025, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_600_000_000).unwrap().and_utc(),
    ];
    let check = |segment: &Segment, text: &str| {
        for t in as_of {
            let expected: Vec<CustomerId> =
                customers.iter().filter(|c| segment.matches(c, t)).map(Customer::id).collect();
            let got = store.query(segment, t).unwrap_or_else(|e| panic!("query `{text}` at {t}: {e}"));
            assert_eq!(got, expected, "`{}` at {t}", &text[..text.len().min(200)]);
        }
    };
    for text in &segments {
        let segment = Segment::compile(text, &schema).unwrap_or_else(|e| panic!("{e}"));
        check(&segment, text);
    }
    check(&Segment::from_expr(long_any, &schema).unwrap(), "Expr::any(2000 terms)");
}

/// `Store::query` follows every kind of write: edits of tags, attributes (set, changed,
/// retyped, removed), texts, channels and loyalty; purchases and lifecycle events; erases.
pub fn check_query_follows_writes<S: Store>(store: S) {
    use clientele::segment::{AttrType, Schema, Segment};
    for n in 1..=6 {
        store.insert(rich_customer(n, "Rich")).unwrap();
    }
    let edit = |n: u64, f: &dyn Fn(&mut Change)| {
        let mut change = Change::new(store.get(cid(n)).unwrap());
        f(&mut change);
        store.update(change).unwrap();
    };
    edit(1, &|c| {
        let cu = c.customer_mut();
        cu.interests.remove("sports");
        cu.interests.insert("chess");
        cu.lifestyle = Default::default();
    });
    edit(2, &|c| {
        let cu = c.customer_mut();
        cu.attributes.set("nps", AttrValue::Int(3)).unwrap();
        cu.attributes.remove("favourite");
        cu.attributes.set("survey_done", AttrValue::Text("yes".into())).unwrap();
        cu.attributes.set("labels", AttrValue::TextList(["Gold".to_owned()].into_iter().collect())).unwrap();
    });
    edit(3, &|c| {
        let cu = c.customer_mut();
        cu.profile.location.city = Some("Alexandria".into());
        cu.channels.opted_out.insert(Channel::Email);
        cu.loyalty = None;
        cu.needs.insert("installments");
    });
    edit(4, &|c| {
        c.record_purchase(&machine(), buy(hours(2), 900), hours(2)).unwrap();
    });
    edit(5, &|c| {
        c.apply(&machine(), Event::Qualify, hours(3), None).unwrap();
    });
    edit(6, &|c| {
        c.customer_mut().attributes.set("labels", AttrValue::TextList(["x".to_owned()].into_iter().collect())).unwrap();
    });
    edit(6, &|c| {
        c.customer_mut().attributes.remove("labels");
    });
    store.erase(cid(6)).unwrap();
    let schema = Schema::new(usd())
        .with_attribute("nps", AttrType::Int)
        .unwrap()
        .with_attribute("favourite", AttrType::Text)
        .unwrap()
        .with_attribute("survey_done", AttrType::Bool)
        .unwrap()
        .with_attribute("labels", AttrType::TextList)
        .unwrap();
    let segments = [
        r#"interests has "sports""#,
        r#"interests has "chess""#,
        "lifestyle is set",
        r#"needs has "installments""#,
        "attr.nps >= 9",
        "attr.nps < 9",
        "attr.favourite is set",
        "attr.survey_done",
        "attr.survey_done is set",
        r#"attr.labels has "gold""#,
        "attr.labels is set",
        r#"city = "alexandria""#,
        "channels has email",
        "loyalty_member",
        "purchases >= 1",
        "spent > 5.00",
        "stage = prospect",
    ];
    let all = store.scan(None, usize::MAX).unwrap();
    for t in [hours(4), days(400)] {
        for text in segments {
            let segment = Segment::compile(text, &schema).unwrap_or_else(|e| panic!("{e}"));
            let expected: Vec<CustomerId> = all.iter().filter(|c| segment.matches(c, t)).map(Customer::id).collect();
            assert_eq!(store.query(&segment, t).unwrap(), expected, "`{text}` at {t}");
        }
    }
}

/// A batch insert stores every customer at version 1 with its purchases, or, if one is
/// invalid, stored already or repeated in the batch, none of them.
pub fn check_insert_many_all_or_nothing<S: Store>(store: S) {
    insert_first_time(&store, 1, "Ada");
    let before = snapshot(&store, cid(1));
    let rich = |n| rich_customer(n, "Batch");
    let mut invalid = rich(12);
    invalid.profile.display_name = "x".repeat(limits::MAX_NAME_BYTES + 1);
    let refused: [(Vec<Customer>, &str); 3] = [
        (vec![rich(10), rich(1), rich(11)], "stored already"),
        (vec![rich(10), rich(11), rich(10)], "repeated"),
        (vec![rich(10), invalid, rich(11)], "invalid"),
    ];
    for (batch, why) in refused {
        let err = store.insert_many(batch).expect_err(why);
        match why {
            "invalid" => assert!(matches!(err, StoreError::InvalidData { id, .. } if id == cid(12)), "{err:?}"),
            "stored already" => assert!(matches!(err, StoreError::AlreadyExists(id) if id == cid(1)), "{err:?}"),
            _ => assert!(matches!(err, StoreError::AlreadyExists(id) if id == cid(10)), "{err:?}"),
        }
        assert_eq!(all_ids(&store), [1], "a refused batch ({why}) wrote nothing");
        assert_eq!(snapshot(&store, cid(1)), before);
    }
    let mut buyer = rich(20);
    buyer = buyer.with_purchases(vec![buy(hours(1), 500), buy(hours(2), 700)]).unwrap();
    assert_eq!(store.insert_many(vec![rich(30), buyer.clone(), rich(10)]).unwrap(), 3);
    assert_eq!(all_ids(&store), [1, 10, 20, 30]);
    let stored = store.get(cid(20)).unwrap();
    assert_eq!(stored.version(), 1);
    assert_eq!(data(&stored), data(&buyer));
    assert_eq!(store.insert_many(Vec::new()).unwrap(), 0);
}

/// Customers that break a limit are refused as InvalidData naming the field, and nothing is
/// stored.
pub fn check_insert_invalid<S: Store>(store: S) {
    let base = || rich_customer(9, "Valid");
    let mut cases: Vec<(&str, Customer)> = Vec::new();

    let mut c = base();
    c.profile.display_name = "x".repeat(limits::MAX_NAME_BYTES + 1);
    cases.push(("profile.display_name", c));
    // Bytes, not characters: 129 two-byte characters are 258 bytes.
    let mut c = base();
    c.profile.display_name = "é".repeat(limits::MAX_NAME_BYTES / 2 + 1);
    cases.push(("profile.display_name", c));
    let mut c = base();
    c.profile.location.city = Some("c".repeat(limits::MAX_TEXT_BYTES + 1));
    cases.push(("profile.location.city", c));
    let mut c = base();
    c.profile.location.region = Some("r".repeat(limits::MAX_TEXT_BYTES + 1));
    cases.push(("profile.location.region", c));
    let mut c = base();
    c.profile.annual_income = Some(Money::new(-1, usd()));
    cases.push(("profile.annual_income", c));
    let mut c = base();
    for i in 0..=limits::MAX_TAGS {
        c.interests.insert(&format!("interest{i}"));
    }
    cases.push(("interests", c));
    let mut c = base();
    c.lifestyle.insert(&"l".repeat(limits::MAX_TAG_BYTES + 1));
    cases.push(("lifestyle", c));
    let mut c = base();
    c.needs.insert(&"n".repeat(limits::MAX_TAG_BYTES + 1));
    cases.push(("needs", c));
    let mut c = base();
    c.loyalty = Some(Loyalty { card_id: "k".repeat(limits::MAX_TEXT_BYTES + 1), joined: NaiveDate::MIN });
    cases.push(("loyalty.card_id", c));

    for (field, customer) in cases {
        assert_eq!(assert_invalid(store.insert(customer), cid(9)), field);
        assert_not_found(store.get(cid(9)), cid(9));
        assert_not_found(store.history(cid(9)), cid(9));
        assert_eq!(store.count().unwrap(), 0, "a refused insert of {field} stored something");
    }
    // The id is still free.
    assert_eq!(store.insert(base()).unwrap(), 1);
}

/// Data exactly at every limit is accepted and kept whole.
pub fn check_limits_are_inclusive<S: Store>(store: S) {
    let mut c = Customer::new(cid(3), "é".repeat(limits::MAX_NAME_BYTES / 2), t0());
    c.profile.location.city = Some("c".repeat(limits::MAX_TEXT_BYTES));
    c.profile.location.region = Some("r".repeat(limits::MAX_TEXT_BYTES));
    for i in 0..limits::MAX_TAGS {
        // Each tag is exactly MAX_TAG_BYTES long.
        c.interests.insert(&format!("{i:0>width$}", width = limits::MAX_TAG_BYTES));
    }
    c.loyalty = Some(Loyalty { card_id: "k".repeat(limits::MAX_TEXT_BYTES), joined: NaiveDate::MIN });
    for i in 0..limits::MAX_ATTRIBUTES {
        c.attributes.set(&format!("a{i}"), AttrValue::Int(i64::try_from(i).unwrap())).unwrap();
    }
    c.attributes.remove("a0");
    c.attributes
        .set(&"n".repeat(limits::MAX_ATTRIBUTE_NAME_BYTES), AttrValue::Text("t".repeat(limits::MAX_TEXT_BYTES)))
        .unwrap();
    assert_eq!(c.interests.len(), limits::MAX_TAGS);
    assert_eq!(c.attributes.len(), limits::MAX_ATTRIBUTES);

    assert_eq!(store.insert(c.clone()).unwrap(), 1);
    let stored = store.get(cid(3)).unwrap();
    assert_eq!(data(&stored), data(&c));
    assert_eq!(stored.profile.display_name.len(), limits::MAX_NAME_BYTES);
}

/// Reads, updates and erases of an unknown id fail with NotFound naming it.
pub fn check_unknown_id<S: Store>(store: S) {
    assert_not_found(store.get(cid(7)), cid(7));
    assert_not_found(store.history(cid(7)), cid(7));
    assert_not_found(store.erase(cid(7)), cid(7));
    assert_not_found(store.update(Change::new(Customer::new(cid(7), "Ghost", t0()))), cid(7));
    assert_eq!(store.count().unwrap(), 0);

    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    assert_not_found(store.get(cid(2)), cid(2));
    assert_not_found(store.history(cid(0)), cid(0));
    assert_not_found(store.update(Change::new(Customer::new(cid(2), "Ghost", t0()))), cid(2));
    assert_eq!(store.count().unwrap(), 1);
    assert_eq!(all_ids(&store), [1]);
}

// ---------------------------------------------------------------------------------------------
// Updates.

/// A profile edit bumps the version by one and is stored exactly; the history is untouched.
pub fn check_update_edit<S: Store>(store: S) {
    store.insert(rich_customer(1, "Ada")).unwrap();
    let mut change = Change::new(store.get(cid(1)).unwrap());
    assert_eq!(change.expected_version(), 1);
    let c = change.customer_mut();
    c.profile.display_name = "Ada L.".into();
    c.profile.location.city = None;
    c.interests.insert("Chess");
    c.interests.remove("sports");
    c.channels.opted_out.insert(Channel::Phone);
    c.referrals = 2;
    c.exclusive = true;
    c.credit = CreditStanding::Fair;
    c.loyalty = None;
    c.attributes.set("nps", AttrValue::Int(3)).unwrap();
    c.attributes.remove("survey_done");
    let expected = change.customer().clone();

    assert_eq!(store.update(change).unwrap(), 2);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.version(), 2);
    assert_eq!(data(&stored), data(&expected));
    assert_eq!(stored.profile.display_name, "Ada L.");
    assert_eq!(stored.interests.iter().collect::<Vec<_>>(), ["chess", "travel"]);
    assert_eq!(stored.attributes.get("survey_done"), None);
    assert_eq!(stored.loyalty, None);
    assert!(store.history(cid(1)).unwrap().is_empty());

    // And again from the new version.
    let mut change = Change::new(stored);
    change.customer_mut().referrals = 3;
    assert_eq!(store.update(change).unwrap(), 3);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!((stored.version(), stored.referrals, stored.profile.display_name.as_str()), (3, 3, "Ada L."));
}

/// Events applied through a change land in the customer and the history, note included.
pub fn check_update_event<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();

    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.apply(&machine(), Event::Qualify, hours(1), Some("met at the fair")).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.stage(), Stage::Prospect);
    assert_eq!(stored.lifecycle().since(), hours(1));
    let qualified = transition(
        Stage::Suspect,
        Stage::Prospect,
        Event::Qualify,
        TransitionKind::Progress,
        hours(1),
        Some("met at the fair"),
    );
    assert_eq!(store.history(cid(1)).unwrap(), std::slice::from_ref(&qualified));

    let mut change = Change::new(stored);
    change.apply(&machine(), Event::Disqualify, hours(2), None).unwrap();
    assert_eq!(store.update(change).unwrap(), 3);
    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.apply(&machine(), Event::Requalify, hours(3), Some("credit improved")).unwrap();
    assert_eq!(store.update(change).unwrap(), 4);

    let stored = store.get(cid(1)).unwrap();
    assert_eq!((stored.stage(), stored.version()), (Stage::Prospect, 4));
    assert_eq!(
        store.history(cid(1)).unwrap(),
        [
            qualified,
            transition(
                Stage::Prospect,
                Stage::DisqualifiedProspect,
                Event::Disqualify,
                TransitionKind::Disqualification,
                hours(2),
                None
            ),
            transition(
                Stage::DisqualifiedProspect,
                Stage::Prospect,
                Event::Requalify,
                TransitionKind::Requalification,
                hours(3),
                Some("credit improved")
            ),
        ]
    );
}

/// Purchases are stored in time order with their transitions.
pub fn check_update_purchases<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    let p1 =
        buy(days(1), 45_000).with_category("shoes").with_channel(Channel::InStore).with_cost(Money::new(30_000, usd()));
    let p2 = buy(days(20), 12_050);
    let p0 = buy(hours(12), 7);

    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.record_purchase(&machine(), p1.clone(), days(1)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.stage(), Stage::FirstTime);
    assert_eq!(stored.purchases().as_slice(), std::slice::from_ref(&p1));
    assert_eq!(stored.purchases().activity().count(), 1);

    let mut change = Change::new(stored);
    change.record_purchase(&machine(), p2.clone(), days(20)).unwrap();
    assert_eq!(store.update(change).unwrap(), 3);

    // A back-dated third purchase: below the client threshold, so no move.
    let mut change = Change::new(store.get(cid(1)).unwrap());
    assert!(change.record_purchase(&machine(), p0.clone(), days(21)).unwrap().is_empty());
    assert_eq!(store.update(change).unwrap(), 4);

    let stored = store.get(cid(1)).unwrap();
    assert_eq!((stored.stage(), stored.version()), (Stage::Repeat, 4));
    assert_eq!(stored.purchases().as_slice(), [p0, p1, p2]);
    assert_eq!(stored.purchases().activity().total(usd()), Money::new(57_057, usd()));
    assert_eq!(stored.purchases().activity().first(), Some(hours(12)));
    assert_eq!(stored.purchases().activity().last(), Some(days(20)));
    assert_eq!(
        store.history(cid(1)).unwrap(),
        [
            transition(Stage::Suspect, Stage::FirstTime, Event::Purchase, TransitionKind::Progress, days(1), None),
            transition(Stage::FirstTime, Stage::Repeat, Event::Purchase, TransitionKind::Progress, days(20), None),
        ]
    );
}

/// A change built from an old version is a Conflict naming both versions, and writes
/// nothing: not the edit, not the purchase, not the transitions.
pub fn check_stale_update<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    let read_a = store.get(cid(1)).unwrap();
    let read_b = store.get(cid(1)).unwrap();

    let mut first = Change::new(read_a);
    first.customer_mut().profile.display_name = "First".into();
    assert_eq!(store.update(first).unwrap(), 2);
    let after_first = snapshot(&store, cid(1));

    let mut stale = Change::new(read_b);
    stale.customer_mut().profile.display_name = "Second".into();
    stale.apply(&machine(), Event::Qualify, hours(1), None).unwrap();
    stale.record_purchase(&machine(), buy(hours(2), 500), hours(2)).unwrap();
    let err = store.update(stale).unwrap_err();
    assert!(err.is_conflict());
    match err {
        StoreError::Conflict { id, expected, found } => assert_eq!((id, expected, found), (cid(1), 1, 2)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(snapshot(&store, cid(1)), after_first);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.profile.display_name, "First");
    assert!(stored.purchases().as_slice().is_empty());
    assert_eq!(stored.stage(), Stage::Suspect);

    // Several versions behind.
    let old = store.get(cid(1)).unwrap();
    for n in 0..3 {
        let mut c = Change::new(store.get(cid(1)).unwrap());
        c.customer_mut().referrals = n + 1;
        store.update(c).unwrap();
    }
    let before = snapshot(&store, cid(1));
    let mut stale = Change::new(old);
    stale.record_purchase(&machine(), buy(hours(3), 1), hours(3)).unwrap();
    match store.update(stale) {
        Err(StoreError::Conflict { id, expected, found }) => assert_eq!((id, expected, found), (cid(1), 2, 5)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(snapshot(&store, cid(1)), before);

    // Re-reading and retrying goes through.
    let mut retry = Change::new(store.get(cid(1)).unwrap());
    retry.record_purchase(&machine(), buy(hours(3), 1), hours(3)).unwrap();
    assert_eq!(store.update(retry).unwrap(), 6);
    assert_eq!(store.get(cid(1)).unwrap().purchases().as_slice().len(), 1);
}

/// A customer whose lifecycle was changed other than by the change's transitions is refused
/// and nothing is written.
pub fn check_forged_lifecycle<S: Store>(store: S) {
    insert_first_time(&store, 1, "Ada");
    let before = snapshot(&store, cid(1));
    let stored = store.get(cid(1)).unwrap();

    let forgeries = [
        // Promoted without a transition.
        LifecycleState::at_stage(Stage::Client, hours(2), None).unwrap(),
        // The same stage, but a different start.
        LifecycleState::at_stage(Stage::FirstTime, hours(5), None).unwrap(),
        // Back to the start.
        LifecycleState::new(t0()),
    ];
    for state in forgeries {
        let mut change = Change::new(stored.clone().with_lifecycle(state));
        change.customer_mut().profile.display_name = "Forged".into();
        assert_invalid(store.update(change), cid(1));
        assert_eq!(snapshot(&store, cid(1)), before);
    }

    // A swap inside a change that does carry a transition, but not the matching one.
    let mut change = Change::new(stored.clone());
    change.record_purchase(&machine(), buy(hours(3), 10), hours(3)).unwrap();
    let promoted = change.customer().clone();
    let mut other = Change::new(stored.clone());
    other.customer_mut().profile.display_name = "Edit only".into();
    *other.customer_mut() = promoted;
    assert_invalid(store.update(other), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before);

    // Two changes with different transitions, customers swapped.
    store.insert(Customer::new(cid(2), "Bea", t0())).unwrap();
    let before2 = snapshot(&store, cid(2));
    let mut qualify = Change::new(store.get(cid(2)).unwrap());
    qualify.apply(&machine(), Event::Qualify, hours(1), None).unwrap();
    let mut disqualify = Change::new(store.get(cid(2)).unwrap());
    disqualify.apply(&machine(), Event::Disqualify, hours(1), None).unwrap();
    *disqualify.customer_mut() = qualify.customer().clone();
    assert_invalid(store.update(disqualify), cid(2));
    assert_eq!(snapshot(&store, cid(2)), before2);
    assert_eq!(snapshot(&store, cid(1)), before);
}

/// A change whose customer was replaced by another customer's is checked against that other
/// customer; when its purchases, transitions or version do not follow from that customer's
/// stored state it is refused, and neither customer changes.
pub fn check_change_retargeted<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    insert_first_time(&store, 2, "Bea");
    // Both at version 2, so that the version check alone cannot tell the change is misdirected.
    let mut edit = Change::new(store.get(cid(1)).unwrap());
    edit.customer_mut().referrals = 1;
    assert_eq!(store.update(edit).unwrap(), 2);
    let before1 = snapshot(&store, cid(1));
    let before2 = snapshot(&store, cid(2));

    // Built from Ada with a purchase, pointed at Bea.
    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.record_purchase(&machine(), buy(hours(1), 700), hours(1)).unwrap();
    *change.customer_mut() = store.get(cid(2)).unwrap();
    assert_invalid(store.update(change), cid(2));

    // Ada after a purchase, relabelled as Bea (through her serialized form).
    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.record_purchase(&machine(), buy(hours(1), 700), hours(1)).unwrap();
    let mut json = serde_json::to_value(change.customer()).unwrap();
    json["id"] = serde_json::json!(2);
    *change.customer_mut() = serde_json::from_value(json).unwrap();
    assert_eq!(change.customer().id(), cid(2));
    assert_invalid(store.update(change), cid(2));

    assert_eq!(snapshot(&store, cid(1)), before1);
    assert_eq!(snapshot(&store, cid(2)), before2);
}

/// A change whose customer was swapped for a copy read at another version is refused, even
/// when the change's own version matches: otherwise the writes in between would be lost.
pub fn check_replaced_customer_version<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    store.insert(Customer::new(cid(2), "Bea", t0())).unwrap();
    let stale_ada = store.get(cid(1)).unwrap();
    for name in ["Ada 2", "Ada 3"] {
        let mut change = Change::new(store.get(cid(1)).unwrap());
        change.customer_mut().profile.display_name = name.into();
        store.update(change).unwrap();
    }
    for n in 0..2 {
        let mut change = Change::new(store.get(cid(2)).unwrap());
        change.customer_mut().referrals = n + 1;
        store.update(change).unwrap();
    }
    let before1 = snapshot(&store, cid(1));
    let before2 = snapshot(&store, cid(2));

    // Expects version 3 (Bea's), carries Ada as read at version 1.
    let mut change = Change::new(store.get(cid(2)).unwrap());
    assert_eq!(change.expected_version(), 3);
    *change.customer_mut() = stale_ada.clone();
    change.customer_mut().referrals = 7;
    assert_invalid(store.update(change), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before1);
    assert_eq!(store.get(cid(1)).unwrap().profile.display_name, "Ada 3");

    // Expects version 3 (Ada's current), carries Ada as read at version 1.
    let mut change = Change::new(store.get(cid(1)).unwrap());
    *change.customer_mut() = stale_ada;
    assert_invalid(store.update(change), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before1);
    assert_eq!(snapshot(&store, cid(2)), before2);
}

/// A change whose customer's purchases are not the stored ones plus the change's new ones is
/// refused, even when the numbers add up.
pub fn check_forged_purchases<S: Store>(store: S) {
    insert_first_time(&store, 1, "Ada");
    let stored = store.get(cid(1)).unwrap();
    let before = snapshot(&store, cid(1));

    // Two changes each adding one purchase; one's customer swapped for the other's.
    let mut adds_two = Change::new(stored.clone());
    adds_two.record_purchase(&machine(), buy(hours(2), 200), hours(3)).unwrap();
    let mut adds_three = Change::new(stored.clone());
    adds_three.record_purchase(&machine(), buy(hours(2), 300), hours(3)).unwrap();
    assert_eq!(adds_two.transitions(), adds_three.transitions());
    *adds_three.customer_mut() = adds_two.customer().clone();
    assert_invalid(store.update(adds_three), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before);

    // A stored purchase rewritten (through the serialized form), nothing recorded.
    let mut json = serde_json::to_value(&stored).unwrap();
    json["purchases"][0]["amount"]["minor"] = serde_json::json!(1);
    let rewritten: Customer = serde_json::from_value(json).unwrap();
    assert_eq!(rewritten.purchases().as_slice()[0].amount, Money::new(1, usd()));
    assert_invalid(store.update(Change::new(rewritten)), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before);

    // A stored purchase dropped and replaced by a recorded one.
    let mut json = serde_json::to_value(&stored).unwrap();
    json["purchases"] = serde_json::json!([]);
    let mut emptied = Change::new(serde_json::from_value(json).unwrap());
    assert!(emptied.customer().purchases().as_slice().is_empty());
    emptied.record_purchase(&machine(), buy(hours(2), 5), hours(3)).unwrap();
    assert_eq!(emptied.customer().purchases().as_slice().len(), 1);
    assert_invalid(store.update(emptied), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before);
}

/// An edit that breaks a limit is refused naming the field, and nothing in the change is
/// written, purchases and transitions included.
pub fn check_edit_breaking_limit<S: Store>(store: S) {
    store.insert(rich_customer(1, "Ada")).unwrap();
    let before = snapshot(&store, cid(1));

    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.customer_mut().profile.display_name = "x".repeat(limits::MAX_NAME_BYTES + 1);
    assert_eq!(assert_invalid(store.update(change), cid(1)), "profile.display_name");
    assert_eq!(snapshot(&store, cid(1)), before);

    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.apply(&machine(), Event::Qualify, hours(1), None).unwrap();
    change.record_purchase(&machine(), buy(hours(2), 900), hours(2)).unwrap();
    for i in 0..=limits::MAX_TAGS {
        change.customer_mut().needs.insert(&format!("need{i}"));
    }
    assert_eq!(assert_invalid(store.update(change), cid(1)), "needs");
    assert_eq!(snapshot(&store, cid(1)), before);

    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.record_purchase(&machine(), buy(hours(2), 900), hours(2)).unwrap();
    change.customer_mut().loyalty =
        Some(Loyalty { card_id: "k".repeat(limits::MAX_TEXT_BYTES + 1), joined: NaiveDate::MIN });
    assert_eq!(assert_invalid(store.update(change), cid(1)), "loyalty.card_id");
    assert_eq!(snapshot(&store, cid(1)), before);

    // The same purchase without the bad edit goes through.
    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.record_purchase(&machine(), buy(hours(2), 900), hours(2)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
}

/// A purchase that causes two transitions commits the purchase and both transitions
/// together, or none of them.
pub fn check_purchase_and_transitions_atomic<S: Store>(store: S) {
    insert_first_time(&store, 1, "Ada");
    // Idle for 200 days: the first-time buyer lapses.
    let mut change = Change::new(store.get(cid(1)).unwrap());
    change.apply(&machine(), Event::Lapse, days(200), None).unwrap();
    assert_eq!(store.update(change).unwrap(), 3);
    let inactive = store.get(cid(1)).unwrap();
    assert_eq!(inactive.stage(), Stage::Inactive);
    assert_eq!(inactive.lifecycle().resume_stage(), Some(Stage::FirstTime));
    let before = snapshot(&store, cid(1));

    let make = |from: Customer| {
        let mut change = Change::new(from);
        let moves = change.record_purchase(&machine(), buy(days(201), 3_000), days(201)).unwrap();
        assert_eq!(moves.len(), 2);
        change
    };

    // Neither: a stale version.
    let stale = make(inactive.clone());
    let mut bump = Change::new(inactive.clone());
    bump.customer_mut().referrals = 9;
    assert_eq!(store.update(bump).unwrap(), 4);
    let before = (store.get(cid(1)).unwrap(), before.1);
    assert!(store.update(stale).unwrap_err().is_conflict());
    assert_eq!(snapshot(&store, cid(1)), before);

    // Neither: a limit broken alongside.
    let mut bad = make(store.get(cid(1)).unwrap());
    bad.customer_mut().profile.location.city = Some("c".repeat(limits::MAX_TEXT_BYTES + 1));
    assert_invalid(store.update(bad), cid(1));
    assert_eq!(snapshot(&store, cid(1)), before);

    // Both.
    assert_eq!(store.update(make(store.get(cid(1)).unwrap())).unwrap(), 5);
    let stored = store.get(cid(1)).unwrap();
    assert_eq!(stored.stage(), Stage::Repeat);
    assert_eq!(stored.purchases().as_slice().len(), 2);
    let history = store.history(cid(1)).unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(
        history[2..],
        [
            transition(
                Stage::Inactive,
                Stage::FirstTime,
                Event::Purchase,
                TransitionKind::Reactivation,
                days(201),
                None
            ),
            transition(Stage::FirstTime, Stage::Repeat, Event::Purchase, TransitionKind::Progress, days(201), None),
        ]
    );
    // A scan sees the same committed state.
    assert_eq!(store.scan(None, 10).unwrap(), [stored]);
}

/// The history lists transitions in commit order, several per change included, kept apart
/// per customer, and replays to the stored lifecycle.
pub fn check_history_order<S: Store>(store: S) {
    store.insert(Customer::new(cid(1), "Ada", t0())).unwrap();
    store.insert(Customer::new(cid(2), "Bea", t0())).unwrap();
    let step = |id: u64, f: &dyn Fn(&mut Change)| {
        let mut change = Change::new(store.get(cid(id)).unwrap());
        f(&mut change);
        store.update(change).unwrap();
    };
    let m = machine();

    // Two transitions in one change.
    step(1, &|c| {
        c.apply(&m, Event::Qualify, hours(1), None).unwrap();
        c.apply(&m, Event::Disqualify, hours(2), Some("low credit")).unwrap();
    });
    step(2, &|c| {
        c.apply(&m, Event::Disqualify, hours(2), None).unwrap();
    });
    step(1, &|c| {
        c.apply(&m, Event::Requalify, hours(3), None).unwrap();
    });
    step(1, &|c| {
        c.record_purchase(&m, buy(hours(4), 100), hours(4)).unwrap();
    });
    step(2, &|c| {
        c.record_purchase(&m, buy(hours(4), 100), hours(4)).unwrap();
    });
    step(1, &|c| {
        c.record_purchase(&m, buy(hours(5), 100), hours(5)).unwrap();
    });
    step(1, &|c| {
        c.customer_mut().exclusive = true;
        c.apply(&m, Event::BecomeClient, hours(6), Some("buys only from us")).unwrap();
        c.apply(&m, Event::EnterPartnership, hours(7), None).unwrap();
    });
    step(1, &|c| {
        c.apply(&m, Event::EndPartnership, hours(8), None).unwrap();
    });

    use Stage as S;
    use TransitionKind as K;
    let expected = [
        transition(S::Suspect, S::Prospect, Event::Qualify, K::Progress, hours(1), None),
        transition(
            S::Prospect,
            S::DisqualifiedProspect,
            Event::Disqualify,
            K::Disqualification,
            hours(2),
            Some("low credit"),
        ),
        transition(S::DisqualifiedProspect, S::Prospect, Event::Requalify, K::Requalification, hours(3), None),
        transition(S::Prospect, S::FirstTime, Event::Purchase, K::Progress, hours(4), None),
        transition(S::FirstTime, S::Repeat, Event::Purchase, K::Progress, hours(5), None),
        transition(S::Repeat, S::Client, Event::BecomeClient, K::Progress, hours(6), Some("buys only from us")),
        transition(S::Client, S::Partner, Event::EnterPartnership, K::Progress, hours(7), None),
        transition(S::Partner, S::Client, Event::EndPartnership, K::Downgrade, hours(8), None),
    ];
    assert_eq!(store.history(cid(1)).unwrap(), expected);
    assert_eq!(
        store.history(cid(2)).unwrap(),
        [
            transition(S::Suspect, S::DisqualifiedProspect, Event::Disqualify, K::Disqualification, hours(2), None),
            transition(S::DisqualifiedProspect, S::FirstTime, Event::Purchase, K::Progress, hours(4), None),
        ]
    );
    let ada = store.get(cid(1)).unwrap();
    assert_eq!((ada.stage(), ada.version()), (S::Client, 7));
    assert_eq!(replay(LifecycleState::new(t0()), &expected).unwrap(), *ada.lifecycle());
    let bea = store.get(cid(2)).unwrap();
    assert_eq!(replay(LifecycleState::new(t0()), &store.history(cid(2)).unwrap()).unwrap(), *bea.lifecycle());
}

// ---------------------------------------------------------------------------------------------
// Count and scan.

/// Pages through `store` with batches of `size`, checking each batch's size.
fn paged_ids<S: Store>(store: &S, size: usize) -> (Vec<u64>, usize) {
    let mut ids = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let batch = store.scan(after, size).unwrap();
        assert!(batch.len() <= size, "scan returned {} customers for a limit of {size}", batch.len());
        // Strictly after `after` and ascending; this also stops a scan that would never end.
        let got: Vec<CustomerId> = batch.iter().map(Customer::id).collect();
        assert!(
            after.is_none_or(|a| got.first().is_none_or(|first| *first > a)),
            "scan after {after:?} returned {got:?}"
        );
        assert!(got.windows(2).all(|w| w[0] < w[1]), "scan out of order: {got:?}");
        let Some(last) = batch.last() else { break };
        after = Some(last.id());
        pages += 1;
        ids.extend(batch.iter().map(|c| c.id().get()));
    }
    (ids, pages)
}

/// Count follows inserts; scan pages through every customer once, in ascending id order.
pub fn check_count_and_scan<S: Store>(store: S) {
    assert_eq!(store.count().unwrap(), 0);
    assert!(store.scan(None, 10).unwrap().is_empty());
    for (k, n) in [7, 3, 11, 1, 5, 9, 2].into_iter().enumerate() {
        store.insert(Customer::new(cid(n), format!("customer {n}"), t0())).unwrap();
        assert_eq!(store.count().unwrap(), k + 1);
    }
    let sorted = [1, 2, 3, 5, 7, 9, 11];
    assert_eq!(all_ids(&store), sorted);
    for c in store.scan(None, 100).unwrap() {
        assert_eq!(c.profile.display_name, format!("customer {}", c.id().get()));
        assert_eq!(c, store.get(c.id()).unwrap());
    }

    // (batch size, non-empty pages): ceil(7 / size).
    for (size, pages) in [(1, 7), (2, 4), (3, 3), (6, 2), (7, 1), (8, 1), (1000, 1)] {
        assert_eq!(paged_ids(&store, size), (sorted.to_vec(), pages), "batch size {size}");
    }

    assert!(store.scan(None, 0).unwrap().is_empty());
    assert!(store.scan(Some(cid(3)), 0).unwrap().is_empty());
    assert!(store.scan(Some(cid(11)), 10).unwrap().is_empty());
    assert!(store.scan(Some(cid(500)), 10).unwrap().is_empty());
    let ids = |v: Vec<Customer>| v.iter().map(|c| c.id().get()).collect::<Vec<_>>();
    // `after` need not be stored.
    assert_eq!(ids(store.scan(Some(cid(4)), 2).unwrap()), [5, 7]);
    assert_eq!(ids(store.scan(Some(cid(0)), 1).unwrap()), [1]);
    assert_eq!(ids(store.scan(Some(cid(9)), 5).unwrap()), [11]);
    assert_eq!(ids(store.scan(Some(cid(1)), 3).unwrap()), [2, 3, 5]);
}

/// Ids span the whole `u64` range and sort as unsigned numbers.
pub fn check_scan_extreme_ids<S: Store>(store: S) {
    let top_signed = u64::MAX / 2; // i64::MAX
    let above_signed = 1u64 << 63; // i64::MAX + 1
    for n in [u64::MAX, 0, above_signed, top_signed, 1] {
        store.insert(Customer::new(cid(n), format!("n{n}"), t0())).unwrap();
    }
    assert_eq!(all_ids(&store), [0, 1, top_signed, above_signed, u64::MAX]);
    assert_eq!(paged_ids(&store, 2).0, [0, 1, top_signed, above_signed, u64::MAX]);
    for n in [0, top_signed, above_signed, u64::MAX] {
        assert_eq!(store.get(cid(n)).unwrap().profile.display_name, format!("n{n}"));
    }
    let ids = |v: Vec<Customer>| v.iter().map(|c| c.id().get()).collect::<Vec<_>>();
    assert_eq!(ids(store.scan(Some(cid(top_signed)), 10).unwrap()), [above_signed, u64::MAX]);
    assert!(store.scan(Some(cid(u64::MAX)), 10).unwrap().is_empty());

    let mut change = Change::new(store.get(cid(u64::MAX)).unwrap());
    change.record_purchase(&machine(), buy(hours(1), 1), hours(1)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
    assert_eq!(store.history(cid(u64::MAX)).unwrap().len(), 1);
    store.erase(cid(above_signed)).unwrap();
    assert_eq!(all_ids(&store), [0, 1, top_signed, u64::MAX]);
}

// ---------------------------------------------------------------------------------------------
// Erase.

/// Erase removes the customer, purchases and history, and nothing else; the id can be used
/// again from scratch.
pub fn check_erase<S: Store>(store: S) {
    for (n, name) in [(1, "Ada"), (2, "Bea"), (3, "Cem")] {
        insert_first_time(&store, n, name);
    }
    let before1 = snapshot(&store, cid(1));
    let before3 = snapshot(&store, cid(3));
    let read_before_erase = store.get(cid(2)).unwrap();

    store.erase(cid(2)).unwrap();
    assert_not_found(store.get(cid(2)), cid(2));
    assert_not_found(store.history(cid(2)), cid(2));
    assert_eq!(store.count().unwrap(), 2);
    assert_eq!(all_ids(&store), [1, 3]);
    assert_eq!(paged_ids(&store, 1).0, [1, 3]);
    assert_eq!(snapshot(&store, cid(1)), before1);
    assert_eq!(snapshot(&store, cid(3)), before3);

    assert_not_found(store.erase(cid(2)), cid(2));
    assert_not_found(store.erase(cid(42)), cid(42));
    let mut late = Change::new(read_before_erase);
    late.customer_mut().referrals = 5;
    assert_not_found(store.update(late), cid(2));
    assert_eq!(store.count().unwrap(), 2);

    // Afresh: version 1, no purchases, no history.
    assert_eq!(store.insert(Customer::new(cid(2), "Bea again", days(1))).unwrap(), 1);
    let again = store.get(cid(2)).unwrap();
    assert_eq!(again.version(), 1);
    assert_eq!(again.profile.display_name, "Bea again");
    assert_eq!(again.created_at(), days(1));
    assert_eq!(again.stage(), Stage::Suspect);
    assert!(again.purchases().as_slice().is_empty());
    assert_eq!(again.purchases().activity().count(), 0);
    assert!(store.history(cid(2)).unwrap().is_empty());
    assert_eq!(all_ids(&store), [1, 2, 3]);

    // Erasing everything leaves an empty store.
    for n in [1, 2, 3] {
        store.erase(cid(n)).unwrap();
    }
    assert_eq!(store.count().unwrap(), 0);
    assert!(store.scan(None, 10).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Concurrency.

/// Many threads record purchases through read → change → update, retrying on conflicts:
/// nothing is lost or doubled, every committed version is handed out once, and each history
/// replays to the stored lifecycle.
pub fn check_concurrent_purchases<S: Store>(store: S) {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 200;
    const CUSTOMERS: u64 = 5;
    for n in 0..CUSTOMERS {
        store.insert(Customer::new(cid(n), format!("c{n}"), t0())).unwrap();
    }
    // Every purchase is dated before `now`, when all transitions are stamped.
    let now = days(1);
    let m = machine();

    // Per thread: the (customer, version) of each successful write.
    let results: Vec<Vec<(u64, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (store, m) = (&store, &m);
                scope.spawn(move || {
                    let mut writes = Vec::new();
                    for i in 0..PER_THREAD {
                        let global = thread * PER_THREAD + i;
                        let n = global % CUSTOMERS;
                        let p = buy(
                            t0() + Duration::seconds(i64::try_from(global).unwrap()),
                            i64::try_from(global).unwrap() + 1,
                        );
                        loop {
                            let mut change = Change::new(store.get(cid(n)).unwrap());
                            change.record_purchase(m, p.clone(), now).unwrap();
                            // Let other writers in between the read and the write.
                            std::thread::yield_now();
                            match store.update(change) {
                                Ok(version) => {
                                    writes.push((n, version));
                                    break;
                                }
                                Err(e) if e.is_conflict() => {}
                                Err(e) => panic!("unexpected store error: {e}"),
                            }
                        }
                    }
                    writes
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut versions: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for writes in &results {
        for (n, v) in writes {
            versions.entry(*n).or_default().push(*v);
        }
    }
    let per_customer = THREADS * PER_THREAD / CUSTOMERS;
    for n in 0..CUSTOMERS {
        let stored = store.get(cid(n)).unwrap();
        let mut handed_out = versions.remove(&n).unwrap_or_default();
        handed_out.sort_unstable();
        // Each successful write got its own version, 2 ..= 1 + writes.
        assert_eq!(handed_out, (2..=per_customer + 1).collect::<Vec<_>>(), "customer {n}");
        let successes = u64::try_from(handed_out.len()).unwrap();
        assert_eq!(u64::try_from(stored.purchases().as_slice().len()).unwrap(), successes, "customer {n}");
        assert_eq!(stored.version(), 1 + successes);
        let amounts: BTreeSet<i64> = stored.purchases().as_slice().iter().map(|p| p.amount.minor()).collect();
        let expected: BTreeSet<i64> =
            (0..THREADS * PER_THREAD).filter(|g| g % CUSTOMERS == n).map(|g| i64::try_from(g).unwrap() + 1).collect();
        assert_eq!(stored.purchases().as_slice().len(), expected.len(), "customer {n}: purchases lost or doubled");
        assert_eq!(amounts, expected);
        // Purchase 1 makes a first-time buyer, 2 a repeat customer, 5 within a year a client.
        let history = store.history(cid(n)).unwrap();
        assert_eq!(
            history,
            [
                transition(Stage::Suspect, Stage::FirstTime, Event::Purchase, TransitionKind::Progress, now, None),
                transition(Stage::FirstTime, Stage::Repeat, Event::Purchase, TransitionKind::Progress, now, None),
                transition(Stage::Repeat, Stage::Client, Event::Purchase, TransitionKind::Progress, now, None),
            ]
        );
        assert_eq!(replay(LifecycleState::new(t0()), &history).unwrap(), *stored.lifecycle());
    }
    let total: usize = results.iter().map(Vec::len).sum();
    assert_eq!(total, usize::try_from(THREADS * PER_THREAD).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Random operations against a reference model.

/// How many ids the random operations use.
const MODEL_IDS: u8 = 4;

#[derive(Debug, Clone, Copy)]
enum Op {
    Insert(u8),
    Edit(u8, u8),
    EditInvalid(u8),
    Purchase(u8, u16),
    Apply(u8, Event),
    Stale(u8),
    Erase(u8),
    Scan(Option<u8>, u8),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let id = 0..MODEL_IDS;
    let event = prop::sample::select(vec![
        Event::Qualify,
        Event::Disqualify,
        Event::Requalify,
        Event::EnterPartnership,
        Event::EndPartnership,
        Event::BecomeAdvocate,
        Event::Lapse,
        Event::WinBack,
    ]);
    prop_oneof![
        3 => id.clone().prop_map(Op::Insert),
        2 => (id.clone(), any::<u8>()).prop_map(|(i, v)| Op::Edit(i, v)),
        1 => id.clone().prop_map(Op::EditInvalid),
        4 => (id.clone(), 1..10_000u16).prop_map(|(i, a)| Op::Purchase(i, a)),
        3 => (id.clone(), event).prop_map(|(i, e)| Op::Apply(i, e)),
        1 => id.clone().prop_map(Op::Stale),
        1 => id.clone().prop_map(Op::Erase),
        1 => (prop::option::of(0..MODEL_IDS + 1), 0..8u8).prop_map(|(a, l)| Op::Scan(a, l)),
    ]
}

/// What the model expects the store to hold for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    name: String,
    version: u64,
    purchases: usize,
    history: usize,
    stage: Stage,
}

/// The stage an event leads to under the model's conditions (default credit, no referrals,
/// never idle long enough), or `None` if the lifecycle must refuse it.
fn model_event(stage: Stage, event: Event) -> Option<Stage> {
    use Stage as S;
    match (stage, event) {
        (S::Suspect, Event::Qualify) => Some(S::Prospect),
        (S::Suspect | S::Prospect, Event::Disqualify) => Some(S::DisqualifiedProspect),
        (S::DisqualifiedProspect, Event::Requalify) => Some(S::Prospect),
        (S::Client | S::Advocate, Event::EnterPartnership) => Some(S::Partner),
        (S::Partner, Event::EndPartnership) => Some(S::Client),
        _ => None,
    }
}

/// The stage after a purchase that brings the count to `purchases` (all of them within the
/// client window), and how many transitions it makes.
fn model_purchase(mut stage: Stage, purchases: usize) -> (Stage, usize) {
    use Stage as S;
    let mut moves = 0;
    loop {
        let next = match stage {
            S::Suspect | S::Prospect | S::DisqualifiedProspect => S::FirstTime,
            S::FirstTime if purchases >= 2 => S::Repeat,
            S::Repeat if purchases >= 5 => S::Client,
            _ => return (stage, moves),
        };
        stage = next;
        moves += 1;
    }
}

fn check_against_model<S: Store>(store: &S, model: &BTreeMap<u8, Expected>) -> Result<(), TestCaseError> {
    prop_assert_eq!(store.count().unwrap(), model.len());
    let scanned: Vec<u64> = all_ids(store);
    prop_assert_eq!(scanned, model.keys().map(|k| u64::from(*k)).collect::<Vec<_>>());
    for n in 0..MODEL_IDS {
        let id = cid(u64::from(n));
        match model.get(&n) {
            Some(e) => {
                let c = store.get(id).unwrap();
                let mut lent = Vec::new();
                store.get_with(id, &mut |c| lent.push(c.clone())).unwrap();
                prop_assert_eq!(&lent, std::slice::from_ref(&c), "get_with lends what get gives, once");
                let got = Expected {
                    name: c.profile.display_name.clone(),
                    version: c.version(),
                    purchases: c.purchases().as_slice().len(),
                    history: store.history(id).unwrap().len(),
                    stage: c.stage(),
                };
                prop_assert_eq!(&got, e, "customer {}", n);
            }
            None => {
                prop_assert!(matches!(store.get(id), Err(StoreError::NotFound(_))), "unexpected result");
                let mut called = false;
                let lent = store.get_with(id, &mut |_| called = true);
                prop_assert!(matches!(lent, Err(StoreError::NotFound(_))) && !called, "get_with of a missing id");
                prop_assert!(matches!(store.history(id), Err(StoreError::NotFound(_))), "unexpected result");
            }
        }
    }
    Ok(())
}

fn run_ops<S: Store>(store: &S, ops: &[Op]) -> Result<(), TestCaseError> {
    // Start from an empty store: earlier cases left customers behind.
    for c in store.scan(None, usize::MAX).unwrap() {
        store.erase(c.id()).unwrap();
    }
    let m = machine();
    let mut model: BTreeMap<u8, Expected> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        // One hour per step: stamps never go backwards, and every purchase stays within the
        // client window and far from the idle thresholds.
        let now = hours(i64::try_from(step).unwrap());
        match *op {
            Op::Insert(n) => {
                let result = store.insert(Customer::new(cid(u64::from(n)), format!("new{n}"), now));
                match model.entry(n) {
                    Entry::Occupied(_) => prop_assert!(
                        matches!(result, Err(StoreError::AlreadyExists(id)) if id == cid(u64::from(n))),
                        "unexpected result"
                    ),
                    Entry::Vacant(slot) => {
                        prop_assert_eq!(result.unwrap(), 1);
                        slot.insert(Expected {
                            name: format!("new{n}"),
                            version: 1,
                            purchases: 0,
                            history: 0,
                            stage: Stage::Suspect,
                        });
                    }
                }
            }
            Op::Edit(n, v) => {
                let name = format!("edit{v}");
                match store.get(cid(u64::from(n))) {
                    Ok(c) => {
                        let mut change = Change::new(c);
                        change.customer_mut().profile.display_name = name.clone();
                        let e = model.get_mut(&n).unwrap();
                        prop_assert_eq!(store.update(change).unwrap(), e.version + 1);
                        e.version += 1;
                        e.name = name;
                    }
                    Err(StoreError::NotFound(_)) => {
                        prop_assert!(!model.contains_key(&n));
                        let change = Change::new(Customer::new(cid(u64::from(n)), name, now));
                        prop_assert!(matches!(store.update(change), Err(StoreError::NotFound(_))), "unexpected result");
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("get failed: {e}"))),
                }
            }
            Op::EditInvalid(n) => {
                if let Ok(c) = store.get(cid(u64::from(n))) {
                    let mut change = Change::new(c);
                    change.record_purchase(&m, buy(now, 1), now).unwrap();
                    change.customer_mut().profile.display_name = "x".repeat(limits::MAX_NAME_BYTES + 1);
                    prop_assert!(
                        matches!(store.update(change), Err(StoreError::InvalidData { .. })),
                        "unexpected result"
                    );
                } else {
                    prop_assert!(!model.contains_key(&n));
                }
            }
            Op::Purchase(n, amount) => {
                if let Ok(c) = store.get(cid(u64::from(n))) {
                    let mut change = Change::new(c);
                    let moves = change.record_purchase(&m, buy(now, i64::from(amount)), now).unwrap().len();
                    let e = model.get_mut(&n).unwrap();
                    let (stage, expected_moves) = model_purchase(e.stage, e.purchases + 1);
                    prop_assert_eq!(moves, expected_moves);
                    prop_assert_eq!(store.update(change).unwrap(), e.version + 1);
                    e.version += 1;
                    e.purchases += 1;
                    e.history += expected_moves;
                    e.stage = stage;
                } else {
                    prop_assert!(!model.contains_key(&n));
                }
            }
            Op::Apply(n, event) => {
                if let Ok(c) = store.get(cid(u64::from(n))) {
                    let mut change = Change::new(c);
                    let e = model.get_mut(&n).unwrap();
                    let applied = change.apply(&m, event, now, None).map(|t| t.cloned());
                    match model_event(e.stage, event) {
                        Some(to) => {
                            let t = applied.unwrap().unwrap();
                            prop_assert_eq!((t.from, t.to), (e.stage, to));
                            prop_assert_eq!(store.update(change).unwrap(), e.version + 1);
                            e.version += 1;
                            e.history += 1;
                            e.stage = to;
                        }
                        None => prop_assert!(applied.is_err(), "{:?} in {:?} should be refused", event, e.stage),
                    }
                } else {
                    prop_assert!(!model.contains_key(&n));
                }
            }
            Op::Stale(n) => {
                if let Ok(old) = store.get(cid(u64::from(n))) {
                    let e = model.get_mut(&n).unwrap();
                    let mut winner = Change::new(store.get(cid(u64::from(n))).unwrap());
                    winner.customer_mut().profile.display_name = "winner".into();
                    prop_assert_eq!(store.update(winner).unwrap(), e.version + 1);
                    let mut loser = Change::new(old);
                    loser.record_purchase(&m, buy(now, 1), now).unwrap();
                    loser.customer_mut().profile.display_name = "loser".into();
                    match store.update(loser) {
                        Err(StoreError::Conflict { expected, found, .. }) => {
                            prop_assert_eq!((expected, found), (e.version, e.version + 1));
                        }
                        other => return Err(TestCaseError::fail(format!("expected a conflict, got {other:?}"))),
                    }
                    e.version += 1;
                    e.name = "winner".into();
                } else {
                    prop_assert!(!model.contains_key(&n));
                }
            }
            Op::Erase(n) => {
                let result = store.erase(cid(u64::from(n)));
                if model.remove(&n).is_some() {
                    prop_assert!(result.is_ok());
                } else {
                    prop_assert!(matches!(result, Err(StoreError::NotFound(_))), "unexpected result");
                }
            }
            Op::Scan(after, limit) => {
                let got: Vec<u64> = store
                    .scan(after.map(|a| cid(u64::from(a))), usize::from(limit))
                    .unwrap()
                    .iter()
                    .map(|c| c.id().get())
                    .collect();
                let expected: Vec<u64> = model
                    .keys()
                    .filter(|k| after.is_none_or(|a| **k > a))
                    .take(usize::from(limit))
                    .map(|k| u64::from(*k))
                    .collect();
                prop_assert_eq!(got, expected);
            }
        }
        check_against_model(store, &model)?;
    }
    Ok(())
}

/// Random sequences of inserts, edits, purchases, events, stale updates, erases and scans
/// agree with a reference model after every step.
pub fn check_random_operations<S: Store>(store: S) {
    let config = Config { cases: 64, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    runner.run(&prop::collection::vec(op_strategy(), 1..80), |ops| run_ops(&store, &ops)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The shared check itself.

/// `check_change`, which every store calls, refuses a customer with another id.
#[test]
fn check_change_refuses_another_id() {
    let stored = Customer::new(cid(1), "Ada", t0());
    let other = Customer::new(cid(2), "Ada", t0());
    match check_change(&stored, &other, &[], &[]) {
        Err(StoreError::InvalidData { id, source }) => {
            assert_eq!(id, cid(1));
            assert_eq!(source.field(), "id");
        }
        other => panic!("expected InvalidData, got {other:?}"),
    }
    assert!(check_change(&stored, &stored, &[], &[]).is_ok());
}
