//! RFM scoring: hand-computed scores on small populations (ties, customers without purchases,
//! purchases after the date, window edges, other currencies), every group by name, and
//! properties on random populations: scores in range, independent of input order, monotone,
//! balanced quintiles, and equal to a straightforward O(n²) reference.

use chrono::{DateTime, Duration, TimeZone, Utc};
use clientele::{
    Currency, Customer, CustomerId, Money, Purchase, Window,
    rfm::{self, GRID, Rfm, RfmConfig, RfmError, RfmGroup, RfmScores},
    synth::Population,
};
use proptest::prelude::*;

const EGP: Currency = Currency::EGP;
const USD: Currency = Currency::USD;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn at(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days)
}

fn customer(id: u64, purchases: Vec<Purchase>) -> Customer {
    Customer::new(CustomerId::new(id), format!("Customer {id}"), at(-1_000)).with_purchases(purchases).unwrap()
}

fn buy(when: DateTime<Utc>, minor: i64, currency: Currency) -> Purchase {
    Purchase::new(when, Money::new(minor, currency))
}

fn egp_config() -> RfmConfig {
    RfmConfig { currency: EGP, ..RfmConfig::default() }
}

fn scores_of(s: &RfmScores, id: u64) -> (u8, u8, u8) {
    let rfm = s.get(CustomerId::new(id)).unwrap();
    (rfm.r(), rfm.f(), rfm.m())
}

/// Six buyers, one customer who never bought and one whose only purchase is after `t0`:
///
/// | id | purchases up to t0 | recency | frequency | monetary (EGP) | R | F | M | group |
/// |---|---|---|---|---|---|---|---|---|
/// | 1 | day -1 100.00, day -40 50.00 | 1 | 2 | 150.00 | 4 | 2 | 3 | potential_loyalist |
/// | 2 | day -1 300.00 | 1 | 1 | 300.00 | 4 | 1 | 4 | promising |
/// | 3 | days -10, -20, -30 20.00 each | 10 | 3 | 60.00 | 3 | 5 | 2 | loyal |
/// | 4 | day -100 500.00, day -200 10.00 | 100 | 2 | 510.00 | 2 | 2 | 5 | hibernating |
/// | 5 | day -365 5.00, and 99.00 USD | 365 | 2 | 5.00 | 1 | 2 | 1 | lost |
/// | 6 | day -365 5.00 (and 1 000.00 on day +5) | 365 | 1 | 5.00 | 1 | 1 | 1 | lost |
/// | 7 | none | | | | | | | |
/// | 8 | none (one on day +1) | | | | | | | |
///
/// With n = 6 and score = 1 + ⌊5 × worse / 6⌋: worse = 0, 1, 2, 3, 4, 5 score 1, 1, 2, 3,
/// 4, 5. Recency 1 day beats 4 customers (score 4) and both customers at 1 day share it.
fn shop() -> Vec<Customer> {
    vec![
        customer(1, vec![buy(at(-1), 10_000, EGP), buy(at(-40), 5_000, EGP)]),
        customer(2, vec![buy(at(-1), 30_000, EGP)]),
        customer(3, vec![buy(at(-10), 2_000, EGP), buy(at(-20), 2_000, EGP), buy(at(-30), 2_000, EGP)]),
        customer(4, vec![buy(at(-100), 50_000, EGP), buy(at(-200), 1_000, EGP)]),
        customer(5, vec![buy(at(-365), 500, EGP), buy(at(-365), 9_900, USD)]),
        customer(6, vec![buy(at(-365), 500, EGP), buy(at(5), 100_000, EGP)]),
        customer(7, vec![]),
        customer(8, vec![buy(at(1), 100_000, EGP)]),
    ]
}

#[test]
fn hand_computed_scores_with_ties() {
    let s = RfmScores::compute(&shop(), t0(), &egp_config()).unwrap();
    assert_eq!((s.len(), s.unscored(), s.is_empty()), (6, 2, false));
    let want = [
        (1, (4, 2, 3), RfmGroup::PotentialLoyalist),
        (2, (4, 1, 4), RfmGroup::Promising),
        (3, (3, 5, 2), RfmGroup::Loyal),
        (4, (2, 2, 5), RfmGroup::Hibernating),
        (5, (1, 2, 1), RfmGroup::Lost),
        (6, (1, 1, 1), RfmGroup::Lost),
    ];
    for (id, scores, group) in want {
        assert_eq!(scores_of(&s, id), scores, "customer {id}");
        assert_eq!(s.get(CustomerId::new(id)).unwrap().group(), group, "customer {id}");
    }
    let values: Vec<(u64, u32, u32, i64)> =
        s.iter().map(|(id, r)| (id.get(), r.recency_days(), r.frequency(), r.monetary().minor())).collect();
    assert_eq!(
        values,
        [
            (1, 1, 2, 15_000),
            (2, 1, 1, 30_000),
            (3, 10, 3, 6_000),
            (4, 100, 2, 51_000),
            (5, 365, 2, 500),
            (6, 365, 1, 500)
        ]
    );
    assert!(s.iter().all(|(_, r)| r.monetary().currency() == EGP));

    // Never bought, or bought only after the date: no score.
    assert_eq!(s.get(CustomerId::new(7)), None);
    assert_eq!(s.get(CustomerId::new(8)), None);
    assert_eq!(s.get(CustomerId::new(99)), None);

    assert_eq!(s.r_counts(), [2, 1, 1, 2, 0]);
    assert_eq!(s.f_counts(), [2, 3, 0, 0, 1]);
    assert_eq!(s.m_counts(), [2, 1, 1, 1, 1]);
    let groups: Vec<(RfmGroup, usize)> = s.group_counts().filter(|(_, n)| *n > 0).collect();
    assert_eq!(
        groups,
        [
            (RfmGroup::Loyal, 1),
            (RfmGroup::PotentialLoyalist, 1),
            (RfmGroup::Promising, 1),
            (RfmGroup::Hibernating, 1),
            (RfmGroup::Lost, 2)
        ]
    );
    assert_eq!(s.members(RfmGroup::Lost).map(CustomerId::get).collect::<Vec<_>>(), [5, 6]);
    assert_eq!((s.as_of(), s.config()), (t0(), &egp_config()));
}

#[test]
fn customers_without_purchases_change_nothing_but_the_unscored_count() {
    let buyers: Vec<Customer> = shop().into_iter().filter(|c| c.id().get() <= 6).collect();
    let mut more = shop();
    more.extend((100..110).map(|id| customer(id, vec![])));
    let few = RfmScores::compute(&buyers, t0(), &egp_config()).unwrap();
    let many = RfmScores::compute(&more, t0(), &egp_config()).unwrap();
    assert_eq!(few.iter().collect::<Vec<_>>(), many.iter().collect::<Vec<_>>());
    assert_eq!((few.unscored(), many.unscored()), (0, 12));
}

#[test]
fn the_date_decides_what_has_happened() {
    // A day later, customer 8's purchase (day +1, exactly the date) counts; customer 6's
    // purchase on day +5 still does not.
    let s = RfmScores::compute(&shop(), at(1), &egp_config()).unwrap();
    assert_eq!((s.len(), s.unscored()), (7, 1));
    let eight = s.get(CustomerId::new(8)).unwrap();
    assert_eq!((eight.recency_days(), eight.frequency(), eight.monetary()), (0, 1, Money::new(100_000, EGP)));
    let six = s.get(CustomerId::new(6)).unwrap();
    assert_eq!((six.recency_days(), six.frequency(), six.monetary().minor()), (366, 1, 500));
    // Before anyone bought, nobody is scored.
    let s = RfmScores::compute(&shop(), at(-366), &egp_config()).unwrap();
    assert_eq!((s.len(), s.unscored()), (0, 8));
    assert_eq!(s.group_counts().map(|(_, n)| n).sum::<usize>(), 0);
}

#[test]
fn recency_is_whole_days_rounded_down() {
    let second = Duration::seconds(1);
    let cases = [
        (Duration::zero(), 0),
        (Duration::days(1) - second, 0),
        (Duration::days(1), 1),
        (Duration::days(2) - second, 1),
    ];
    for (ago, days) in cases {
        let c = customer(1, vec![buy(t0() - ago, 100, USD)]);
        let s = RfmScores::compute([&c], t0(), &RfmConfig::default()).unwrap();
        assert_eq!(s.get(c.id()).unwrap().recency_days(), days, "{ago}");
    }
}

/// The window is `(as_of - 30 days, as_of]`: a purchase exactly 30 days before is out, one a
/// second later is in, one a second after the date has not happened.
#[test]
fn day_window_edges() {
    let second = Duration::seconds(1);
    let a = customer(
        1,
        vec![
            buy(at(-30), 1_000_000, EGP),
            buy(at(-30) + second, 300, EGP),
            buy(t0(), 200, EGP),
            buy(t0() + second, 1_000_000, EGP),
        ],
    );
    // Only bought exactly on the window's (excluded) start: scored, with frequency 0.
    let b = customer(2, vec![buy(at(-30), 1_000_000, EGP)]);
    let config = RfmConfig { window: Some(Window::days(30)), currency: EGP };
    let s = RfmScores::compute([&a, &b], t0(), &config).unwrap();
    let (ra, rb) = (s.get(a.id()).unwrap(), s.get(b.id()).unwrap());
    assert_eq!((ra.recency_days(), ra.frequency(), ra.monetary()), (0, 2, Money::new(500, EGP)));
    assert_eq!((rb.recency_days(), rb.frequency(), rb.monetary()), (30, 0, Money::new(0, EGP)));
    // n = 2: the better one beats one customer, 1 + ⌊5 × 1 / 2⌋ = 3.
    assert_eq!((scores_of(&s, 1), ra.group()), ((3, 3, 3), RfmGroup::NeedAttention));
    assert_eq!((scores_of(&s, 2), rb.group()), ((1, 1, 1), RfmGroup::Lost));

    // Without a window, every purchase up to the date counts.
    let all = RfmScores::compute([&a, &b], t0(), &egp_config()).unwrap();
    let ra = all.get(a.id()).unwrap();
    assert_eq!((ra.frequency(), ra.monetary().minor()), (3, 1_000_500));
    // A zero-length window holds nothing, so frequency and monetary tie at 0.
    let none = RfmScores::compute([&a, &b], t0(), &RfmConfig { window: Some(Window::days(0)), currency: EGP }).unwrap();
    assert!(none.iter().all(|(_, r)| r.frequency() == 0 && r.monetary().minor() == 0 && r.f() == 1 && r.m() == 1));
    assert_eq!(none.r_counts(), [1, 0, 1, 0, 0]);
}

/// Month windows are calendar months: one month before 31 March 12:00 is 28 February 12:00.
#[test]
fn month_window_edges() {
    let as_of = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
    let start = Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap();
    let c = customer(1, vec![buy(start, 700, USD), buy(start + Duration::seconds(1), 40, USD), buy(as_of, 2, USD)]);
    let config = RfmConfig { window: Some(Window::months(1)), currency: USD };
    let s = RfmScores::compute([&c], as_of, &config).unwrap();
    let r = s.get(c.id()).unwrap();
    assert_eq!((r.frequency(), r.monetary()), (2, Money::new(42, USD)));
}

#[test]
fn other_currencies_count_in_frequency_not_in_monetary() {
    let euro_only = customer(1, vec![buy(at(-1), 1_000_000, Currency::EUR), buy(at(-2), 1_000_000, Currency::EUR)]);
    let mixed = customer(2, vec![buy(at(-1), 100, USD), buy(at(-3), 50_000, EGP)]);
    let dollars = customer(3, vec![buy(at(-1), 99, USD)]);
    let s = RfmScores::compute([&euro_only, &mixed, &dollars], t0(), &RfmConfig::default()).unwrap();
    let m: Vec<(u32, Money)> = s.iter().map(|(_, r)| (r.frequency(), r.monetary())).collect();
    assert_eq!(m, [(2, Money::new(0, USD)), (2, Money::new(100, USD)), (1, Money::new(99, USD))]);
    // M: 0 < 99 < 100; F: 1 < 2 = 2.
    assert_eq!(s.iter().map(|(_, r)| (r.f(), r.m())).collect::<Vec<_>>(), [(2, 1), (2, 4), (1, 2)]);

    // In euros, the ranking turns over.
    let eur = RfmConfig { currency: Currency::EUR, ..RfmConfig::default() };
    let s = RfmScores::compute([&euro_only, &mixed, &dollars], t0(), &eur).unwrap();
    assert_eq!(s.iter().map(|(_, r)| r.monetary().minor()).collect::<Vec<_>>(), [2_000_000, 0, 0]);
    assert_eq!(s.iter().map(|(_, r)| r.m()).collect::<Vec<_>>(), [4, 1, 1]);
}

#[test]
fn equal_values_all_score_one() {
    let same: Vec<Customer> = (1..=7).map(|id| customer(id, vec![buy(at(-3), 1_000, USD)])).collect();
    let s = RfmScores::compute(&same, t0(), &RfmConfig::default()).unwrap();
    assert!(s.iter().all(|(_, r)| (r.r(), r.f(), r.m()) == (1, 1, 1)));
    assert_eq!(s.group_count(RfmGroup::Lost), 7);
}

#[test]
fn duplicate_ids_are_refused() {
    let shop = shop();
    let mut twice: Vec<&Customer> = shop.iter().collect();
    twice.push(&shop[6]); // customer 7, who has no purchases: still a duplicate
    let err = RfmScores::compute(twice, t0(), &egp_config()).unwrap_err();
    assert_eq!(err, RfmError::DuplicateCustomer(CustomerId::new(7)));
    assert_eq!(err.to_string(), "customer #7 is given more than once");
}

/// The grid of the strategy issue, transcribed independently of [`GRID`]: rows are R 1 to 5,
/// columns F 1 to 5.
const EXPECTED_GRID: [[&str; 5]; 5] = [
    ["lost", "lost", "at_risk", "at_risk", "cannot_lose"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
    ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    ["promising", "potential_loyalist", "potential_loyalist", "loyal", "champions"],
    ["new", "potential_loyalist", "potential_loyalist", "champions", "champions"],
];

/// 25 customers, one per cell: five recency levels by five frequencies, each level shared
/// by five customers, so that level k (0 worst) beats 5k customers and scores
/// 1 + ⌊5 × 5k / 25⌋ = k + 1, independently in R and F.
#[test]
fn every_group_by_name_from_real_scores() {
    let mut customers = Vec::new();
    for r in 1..=5u8 {
        for f in 1..=5u8 {
            let id = u64::from(r) * 10 + u64::from(f);
            let last = at(-10 * i64::from(6 - r));
            let purchases = (0..f).map(|k| buy(last - Duration::days(i64::from(k)), 1_000, USD)).collect();
            customers.push(customer(id, purchases));
        }
    }
    let s = RfmScores::compute(&customers, t0(), &RfmConfig::default()).unwrap();
    assert_eq!(s.len(), 25);
    for (id, rfm) in s.iter() {
        let (r, f) = ((id.get() / 10) as usize, (id.get() % 10) as usize);
        assert_eq!((usize::from(rfm.r()), usize::from(rfm.f())), (r, f), "{id}");
        assert_eq!(rfm.group().name(), EXPECTED_GRID[r - 1][f - 1], "{id}");
    }
    for group in RfmGroup::ALL {
        let cells = EXPECTED_GRID.iter().flatten().filter(|name| **name == group.name()).count();
        assert!(cells > 0, "{group} is in the issue's grid");
        assert_eq!(s.group_count(group), cells, "{group}");
        assert_eq!(s.members(group).count(), cells, "{group}");
    }
    assert_eq!(s.r_counts(), [5; 5]);
    assert_eq!(s.f_counts(), [5; 5]);
}

#[test]
fn every_group_by_name() {
    let names = [
        ("champions", RfmGroup::Champions),
        ("loyal", RfmGroup::Loyal),
        ("potential_loyalist", RfmGroup::PotentialLoyalist),
        ("new", RfmGroup::New),
        ("promising", RfmGroup::Promising),
        ("need_attention", RfmGroup::NeedAttention),
        ("about_to_sleep", RfmGroup::AboutToSleep),
        ("at_risk", RfmGroup::AtRisk),
        ("cannot_lose", RfmGroup::CannotLose),
        ("hibernating", RfmGroup::Hibernating),
        ("lost", RfmGroup::Lost),
    ];
    assert_eq!(names.map(|(_, g)| g), RfmGroup::ALL);
    for (name, group) in names {
        assert_eq!(group.name(), name);
        assert_eq!(group.to_string(), name);
        assert_eq!(name.parse::<RfmGroup>(), Ok(group));
        assert_eq!(name.to_uppercase().parse::<RfmGroup>(), Ok(group), "case-insensitive");
        assert_eq!(serde_json::to_string(&group).unwrap(), format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<RfmGroup>(&format!("\"{name}\"")).unwrap(), group);
    }
    for (r, row) in EXPECTED_GRID.iter().enumerate() {
        for (f, name) in row.iter().enumerate() {
            let (r, f) = (u8::try_from(r + 1).unwrap(), u8::try_from(f + 1).unwrap());
            assert_eq!(RfmGroup::of(r, f).map(RfmGroup::name), Some(*name), "R{r} F{f}");
        }
    }
    for (r, f) in [(0, 1), (1, 0), (6, 1), (1, 6), (255, 255)] {
        assert_eq!(RfmGroup::of(r, f), None);
    }
    for bad in ["", "champion", "about to sleep", "vip", "new "] {
        let err = bad.parse::<RfmGroup>().unwrap_err();
        assert!(err.to_string().starts_with(&format!("unknown RFM group `{bad}`")), "{err}");
    }
    assert!(serde_json::from_str::<RfmGroup>("\"vip\"").is_err());
    // Long input is cut in the message.
    let long = "x".repeat(10_000);
    assert!(long.parse::<RfmGroup>().unwrap_err().to_string().len() < 300);
}

#[test]
fn the_grid_table_is_the_single_source() {
    let cells: usize = GRID.iter().map(|cell| cell.f.clone().count()).sum();
    assert_eq!(cells, 25);
    let table = rfm::markdown_grid();
    for (r, row) in EXPECTED_GRID.iter().enumerate().rev() {
        assert!(table.contains(&format!("| {} | {} |\n", r + 1, row.join(" | "))), "R{}:\n{table}", r + 1);
    }
}

#[test]
fn config_serde() {
    let config = RfmConfig { window: Some(Window::days(90)), currency: EGP };
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(json, r#"{"window":"90 days","currency":"EGP"}"#);
    assert_eq!(serde_json::from_str::<RfmConfig>(&json).unwrap(), config);
    assert_eq!(serde_json::from_str::<RfmConfig>(r#"{"window":null}"#).unwrap(), RfmConfig::default());
    assert_eq!(RfmConfig::default(), RfmConfig { window: None, currency: USD });
    for bad in [r#"{"window":"90"}"#, r#"{"currency":"EGYPT"}"#, r#"{"window":90}"#] {
        assert!(serde_json::from_str::<RfmConfig>(bad).is_err(), "{bad}");
    }
}

#[test]
fn synthetic_population_is_scored_consistently() {
    let population = Population::new(3);
    let customers = population.customers(5_000);
    let config = RfmConfig { window: Some(Window::days(365)), currency: population.currency() };
    let s = RfmScores::compute(&customers, population.as_of(), &config).unwrap();
    let buyers = customers.iter().filter(|c| c.purchases().count_upto(population.as_of()) > 0).count();
    assert_eq!((s.len(), s.unscored()), (buyers, 5_000 - buyers));
    for counts in [s.r_counts(), s.f_counts(), s.m_counts()] {
        assert_eq!(counts.iter().sum::<usize>(), buyers);
    }
    // Without a window, totals are nearly all distinct, so M is nearly balanced.
    let all_time = RfmScores::compute(&customers, population.as_of(), &RfmConfig { window: None, ..config.clone() });
    let m = all_time.unwrap().m_counts();
    assert!(m[1..].iter().all(|n| n.abs_diff(buyers / 5) <= buyers / 50), "{m:?}");
    assert!(RfmGroup::ALL.iter().all(|g| s.group_count(*g) > 0), "{:?}", s.group_counts().collect::<Vec<_>>());
    for c in customers.iter().take(200) {
        let Some(rfm) = s.get(c.id()) else { continue };
        let h = c.purchases();
        assert_eq!(rfm.frequency() as usize, h.count_in(Window::days(365), population.as_of()));
        assert_eq!(rfm.monetary(), h.spent_in(Window::days(365), population.as_of(), population.currency()));
        let last = h.last_as_of(population.as_of()).unwrap();
        assert_eq!(i64::from(rfm.recency_days()), (population.as_of() - last).num_days());
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

/// A random population: up to 40 customers with unique ids, each with up to 6 purchases
/// between day -60 and day +5, in EGP or USD, with few distinct amounts (to make ties).
fn population() -> impl Strategy<Value = Vec<Customer>> {
    let purchase = (-60i64..=5, 0i64..6, any::<bool>())
        .prop_map(|(day, amount, usd)| buy(at(day), amount * 1_000, if usd { USD } else { EGP }));
    prop::collection::vec(prop::collection::vec(purchase, 0..6), 0..40)
        .prop_map(|lists| lists.into_iter().enumerate().map(|(i, list)| customer(i as u64 * 7 + 3, list)).collect())
}

fn any_config() -> impl Strategy<Value = RfmConfig> {
    (prop::option::of(0u32..70), any::<bool>())
        .prop_map(|(days, usd)| RfmConfig { window: days.map(Window::days), currency: if usd { USD } else { EGP } })
}

/// The rule as written: 1 + ⌊5 × (number strictly worse) / n⌋, counted pair by pair.
fn reference_score(values: &[i64], value: i64) -> u8 {
    let worse = values.iter().filter(|v| **v < value).count();
    u8::try_from(1 + 5 * worse / values.len()).unwrap()
}

fn scored(s: &RfmScores) -> Vec<Rfm> {
    s.iter().map(|(_, r)| r).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scores_are_in_range_and_consistent(customers in population(), config in any_config(), day in -70i64..10) {
        let as_of = at(day);
        let s = RfmScores::compute(&customers, as_of, &config).unwrap();
        prop_assert_eq!(s.len() + s.unscored(), customers.len());
        let ids: Vec<CustomerId> = s.iter().map(|(id, _)| id).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "id order");
        for c in &customers {
            let bought = c.purchases().count_upto(as_of) > 0;
            prop_assert_eq!(s.get(c.id()).is_some(), bought);
        }
        for (id, r) in s.iter() {
            for score in [r.r(), r.f(), r.m()] {
                prop_assert!((1..=5).contains(&score));
            }
            prop_assert_eq!(Some(r.group()), RfmGroup::of(r.r(), r.f()));
            prop_assert_eq!(s.get(id), Some(r));
            prop_assert_eq!(r.monetary().currency(), config.currency);
        }
        for counts in [s.r_counts(), s.f_counts(), s.m_counts()] {
            prop_assert_eq!(counts.iter().sum::<usize>(), s.len());
        }
        prop_assert_eq!(s.group_counts().map(|(_, n)| n).sum::<usize>(), s.len());
        for (group, n) in s.group_counts() {
            prop_assert_eq!(s.members(group).count(), n);
        }
    }

    #[test]
    fn scores_follow_the_reference_rule(customers in population(), config in any_config()) {
        let s = RfmScores::compute(&customers, t0(), &config).unwrap();
        let all = scored(&s);
        let recency: Vec<i64> = all.iter().map(|r| -i64::from(r.recency_days())).collect();
        let frequency: Vec<i64> = all.iter().map(|r| i64::from(r.frequency())).collect();
        let monetary: Vec<i64> = all.iter().map(|r| r.monetary().minor()).collect();
        for (i, r) in all.iter().enumerate() {
            prop_assert_eq!(r.r(), reference_score(&recency, recency[i]));
            prop_assert_eq!(r.f(), reference_score(&frequency, frequency[i]));
            prop_assert_eq!(r.m(), reference_score(&monetary, monetary[i]));
        }
        // And the values are the customer's own, measured directly.
        let start = config.window.and_then(|w| w.start(t0()));
        for c in &customers {
            let Some(r) = s.get(c.id()) else { continue };
            let inside: Vec<&Purchase> =
                c.purchases().as_slice().iter().filter(|p| p.at <= t0() && start.is_none_or(|s| p.at > s)).collect();
            let spent: i64 = inside.iter().filter(|p| p.amount.currency() == config.currency).map(|p| p.amount.minor()).sum();
            prop_assert_eq!(r.frequency() as usize, inside.len());
            prop_assert_eq!(r.monetary().minor(), spent);
        }
    }

    #[test]
    fn input_order_does_not_matter(
        (customers, order) in population().prop_flat_map(|c| {
            let n = c.len();
            (Just(c), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        config in any_config(),
    ) {
        let shuffled: Vec<&Customer> = order.iter().map(|i| &customers[*i]).collect();
        let a = RfmScores::compute(&customers, t0(), &config).unwrap();
        let b = RfmScores::compute(shuffled, t0(), &config).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn scores_are_monotone(customers in population(), config in any_config()) {
        let s = RfmScores::compute(&customers, t0(), &config).unwrap();
        let all = scored(&s);
        for a in &all {
            for b in &all {
                // Strictly better never scores lower; equal always scores the same.
                if a.recency_days() < b.recency_days() { prop_assert!(a.r() >= b.r()); }
                if a.recency_days() == b.recency_days() { prop_assert_eq!(a.r(), b.r()); }
                if a.frequency() > b.frequency() { prop_assert!(a.f() >= b.f()); }
                if a.frequency() == b.frequency() { prop_assert_eq!(a.f(), b.f()); }
                if a.monetary() .minor() > b.monetary().minor() { prop_assert!(a.m() >= b.m()); }
                if a.monetary() == b.monetary() { prop_assert_eq!(a.m(), b.m()); }
            }
        }
    }

    /// With all-distinct values, each score goes to ⌊n/5⌋ or ⌈n/5⌉ customers. Customer i
    /// bought `frequency[i] + 1` times, the last `recency[i]` days ago, spending
    /// `amount[i] + 1` minor units in all.
    #[test]
    fn quintiles_are_balanced_when_values_are_distinct(
        (recency, frequency, amount) in (0usize..60).prop_flat_map(|n| {
            let perm = || Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            (perm(), perm(), perm())
        }),
    ) {
        let n = recency.len();
        let customers: Vec<Customer> = (0..n)
            .map(|i| {
                let last = t0() - Duration::days(recency[i] as i64);
                let count = frequency[i] + 1;
                let mut purchases: Vec<Purchase> = (1..count).map(|k| buy(last - Duration::days(k as i64), 0, USD)).collect();
                purchases.push(buy(last, amount[i] as i64 + 1, USD));
                customer(i as u64 + 1, purchases)
            })
            .collect();
        let s = RfmScores::compute(&customers, t0(), &RfmConfig::default()).unwrap();
        prop_assert_eq!(s.len(), n);
        for counts in [s.r_counts(), s.f_counts(), s.m_counts()] {
            for k in counts {
                prop_assert!(k == n / 5 || k == n.div_ceil(5), "{:?} for n = {}", counts, n);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RFM in the segment language: `rfm.r`, `rfm.f`, `rfm.m`, `rfm.group`.
// ---------------------------------------------------------------------------------------------

mod in_segments {
    use std::sync::Arc;

    use clientele::{
        Currency, Customer,
        rfm::{RfmConfig, RfmGroup, RfmScores},
        segment::{ErrorKind, Expr, Schema, Segment, Snapshot},
        synth::Population,
    };

    fn setup() -> (Vec<Customer>, Arc<RfmScores>, chrono::DateTime<chrono::Utc>) {
        let population = Population::new(11);
        let customers = population.customers(3_000);
        let config = RfmConfig { currency: Currency::EGP, ..RfmConfig::default() };
        let scores = RfmScores::compute(&customers, population.as_of(), &config).unwrap();
        (customers, Arc::new(scores), population.as_of())
    }

    /// Every evaluator gives the members an independent reading of the score table gives.
    #[test]
    fn segments_read_the_schemas_scores_in_every_evaluator() {
        let (customers, scores, t) = setup();
        let schema = Schema::new(Currency::EGP).with_rfm(Arc::clone(&scores));
        let snapshot = Snapshot::build(&customers, &schema);
        type Expected<'a> = Box<dyn Fn(&Customer) -> bool + 'a>;
        let cases: Vec<(&str, Expected<'_>)> = vec![
            ("rfm.r >= 4", Box::new(|c| scores.get(c.id()).is_some_and(|s| s.r() >= 4))),
            ("rfm.f between 2 and 3", Box::new(|c| scores.get(c.id()).is_some_and(|s| (2..=3).contains(&s.f())))),
            ("rfm.m != 5", Box::new(|c| scores.get(c.id()).is_some_and(|s| s.m() != 5))),
            (
                "rfm.group in (champions, loyal)",
                Box::new(|c| {
                    scores.get(c.id()).is_some_and(|s| matches!(s.group(), RfmGroup::Champions | RfmGroup::Loyal))
                }),
            ),
            ("rfm.group != at_risk", Box::new(|c| scores.get(c.id()).is_some_and(|s| s.group() != RfmGroup::AtRisk))),
            ("rfm.r is set", Box::new(|c| scores.get(c.id()).is_some())),
            ("not rfm.group = lost", Box::new(|c| scores.get(c.id()).is_none_or(|s| s.group() != RfmGroup::Lost))),
        ];
        for (text, expected) in cases {
            let segment = Segment::compile(text, &schema).unwrap();
            let want: Vec<usize> = (0..customers.len()).filter(|&i| expected(&customers[i])).collect();
            assert!(!want.is_empty() && want.len() < customers.len(), "{text}: both outcomes must occur");
            let matcher = segment.at(t);
            let interpreted: Vec<usize> = (0..customers.len()).filter(|&i| segment.matches(&customers[i], t)).collect();
            let compiled: Vec<usize> = (0..customers.len()).filter(|&i| matcher.matches(&customers[i])).collect();
            let batch: Vec<usize> = segment.evaluate(&snapshot, t).unwrap().iter().collect();
            let parallel: Vec<usize> = segment.evaluate_parallel(&snapshot, t, 3).unwrap().iter().collect();
            assert_eq!(interpreted, want, "{text}: interpreter");
            assert_eq!(compiled, want, "{text}: compiled");
            assert_eq!(batch, want, "{text}: batch");
            assert_eq!(parallel, want, "{text}: parallel");
        }
    }

    #[test]
    fn without_scores_rfm_fields_are_missing() {
        let (customers, _, t) = setup();
        let schema = Schema::new(Currency::EGP);
        let snapshot = Snapshot::build(&customers, &schema);
        for (text, everyone) in [
            ("rfm.r >= 1", false),
            ("rfm.group != champions", false),
            ("rfm.m is set", false),
            ("rfm.m is not set", true),
            ("not rfm.group = champions", true),
        ] {
            let segment = Segment::compile(text, &schema).unwrap();
            let want = if everyone { customers.len() } else { 0 };
            assert_eq!(customers.iter().filter(|c| segment.matches(c, t)).count(), want, "{text}");
            assert_eq!(segment.evaluate(&snapshot, t).unwrap().count(), want, "{text}: batch");
        }
    }

    #[test]
    fn rfm_fields_print_parse_and_report_errors() {
        let text = "rfm.group in (champions, cannot_lose) and rfm.m between 2 and 4 and not rfm.r is set";
        let e: Expr = text.parse().unwrap();
        assert_eq!(e.to_string(), text);
        assert_eq!(serde_json::from_str::<Expr>(&serde_json::to_string(&e).unwrap()).unwrap(), e);

        let schema = Schema::default();
        let err = Segment::compile("rfm.group = vip", &schema).unwrap_err();
        match err.kind() {
            ErrorKind::UnknownSymbol { field, allowed, .. } => {
                assert_eq!(field, "rfm.group");
                assert!(allowed.contains("champions") && allowed.contains("hibernating"), "{allowed}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = Segment::compile("rfm.rr >= 2", &schema).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::UnknownField { name, suggestion: Some(s) } if name == "rfm.rr" && s == "rfm.r")
        );
        assert!(Segment::compile("rfm.group >= champions", &schema).is_err(), "groups are not ordered");
    }

    #[test]
    fn explanations_show_the_scores() {
        let (customers, scores, t) = setup();
        let schema = Schema::new(Currency::EGP).with_rfm(Arc::clone(&scores));
        let scored = customers.iter().find(|c| scores.get(c.id()).is_some()).unwrap();
        let s = scores.get(scored.id()).unwrap();
        let segment = Segment::compile("rfm.r >= 1 and rfm.group is set", &schema).unwrap();
        let why = segment.explain(scored, t, &schema).unwrap();
        assert!(why.matched);
        let text = why.to_string();
        assert!(text.contains(&format!("[rfm.r = {}]", s.r())), "{text}");
        assert!(text.contains(&format!("[rfm.group = {}]", s.group().name())), "{text}");
    }
}
