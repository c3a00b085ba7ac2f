//! Segment analytics: reports and overlaps checked against hand-computed figures on small
//! hand-built customer sets, and against a straightforward row-by-row computation on
//! synthetic populations.

use chrono::{DateTime, Duration, TimeZone, Utc};
use clientele::{
    Channel, Currency, Customer, CustomerId, Money, Purchase,
    segment::{
        self, AnalyticsConfig, AnalyticsError, AttrType, BasisPoints, Bitmap, ErrorKind, Schema, Segment,
        SegmentReport, Share, Shortfall, Snapshot,
    },
    synth::Population,
};
use proptest::prelude::*;

const EGP: Currency = Currency::EGP;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn egp(minor: i64) -> Money {
    Money::new(minor, EGP)
}

fn bp(n: u32) -> BasisPoints {
    BasisPoints::new(n).unwrap()
}

fn config(min_members: usize, min_revenue: u32, min_reach: u32, preview: usize) -> AnalyticsConfig {
    AnalyticsConfig { min_members, min_revenue_share: bp(min_revenue), min_reach_share: bp(min_reach), preview }
}

/// Four customers, as of [`t0`]:
///
/// | id | interests | purchases up to t0 (EGP) | with cost | reachable |
/// |---|---|---|---|---|
/// | 1 Ada | sports | 100.00 (cost 60.00), 50.00 | 100.00 / 60.00 | email (sms opted out) |
/// | 2 Bo | sports, music | 200.00 (cost 150.00) | 200.00 / 150.00 | none (web opted out) |
/// | 3 Cy | music | none | none | tv, mail |
/// | 4 Di | none | 300.00 | none | none |
///
/// Ada also bought 20.00 USD (with a cost; another currency, so no revenue) and will buy
/// 1 000.00 EGP (cost 100.00) a day after t0.
fn shop() -> Vec<Customer> {
    let at = |days: i64| t0() + Duration::days(days);
    let created = at(-400);
    let mut ada = Customer::new(CustomerId::new(1), "Ada", created)
        .with_purchases(vec![
            Purchase::new(at(-10), egp(10_000)).with_cost(egp(6_000)),
            Purchase::new(at(-5), egp(5_000)),
            Purchase::new(at(-3), Money::new(2_000, Currency::USD)).with_cost(Money::new(500, Currency::USD)),
            Purchase::new(at(1), egp(100_000)).with_cost(egp(10_000)),
        ])
        .unwrap();
    ada.interests.insert("sports");
    ada.channels.preferred.insert(Channel::Email);
    ada.channels.preferred.insert(Channel::Sms);
    ada.channels.opted_out.insert(Channel::Sms);

    let mut bo = Customer::new(CustomerId::new(2), "Bo", created)
        .with_purchases(vec![Purchase::new(at(-100), egp(20_000)).with_cost(egp(15_000))])
        .unwrap();
    bo.interests.insert("sports");
    bo.interests.insert("music");
    bo.channels.preferred.insert(Channel::Web);
    bo.channels.opted_out.insert(Channel::Web);

    let mut cy = Customer::new(CustomerId::new(3), "Cy", created);
    cy.interests.insert("music");
    cy.channels.preferred.insert(Channel::Tv);
    cy.channels.preferred.insert(Channel::Mail);

    let di = Customer::new(CustomerId::new(4), "Di", created)
        .with_purchases(vec![Purchase::new(at(-1), egp(30_000))])
        .unwrap();
    vec![ada, bo, cy, di]
}

fn report(text: &str, customers: &[Customer], as_of: DateTime<Utc>, config: &AnalyticsConfig) -> SegmentReport {
    let schema = Schema::new(EGP);
    let snap = Snapshot::build(customers, &schema);
    segment::analyze(&Segment::compile(text, &schema).unwrap(), &snap, as_of, config).unwrap()
}

fn reach(r: &SegmentReport) -> Vec<(Channel, usize)> {
    r.reach().filter(|(_, n)| *n > 0).collect()
}

#[test]
fn sports_fans_by_hand() {
    let r = report(r#"interests has "sports""#, &shop(), t0(), &config(2, 5000, 5001, 10));
    assert_eq!(r.definition(), Some(r#"interests has "sports""#));
    assert_eq!((r.members(), r.population()), (2, 4));
    assert_eq!(r.member_share(), Share::new(2, 4).unwrap());
    // Ada 150.00 + Bo 200.00 of 650.00: the USD purchase and the one after t0 do not count.
    assert_eq!(r.revenue(), egp(35_000));
    assert_eq!(r.total_revenue(), egp(65_000));
    assert_eq!(r.revenue_share(), Share::new(35_000, 65_000).unwrap());
    assert_eq!(r.revenue_share().to_string(), "53.85%");
    // Costed: Ada 100.00 at 60.00, Bo 200.00 at 150.00; Ada's 50.00 has no cost.
    let m = r.margin().unwrap();
    assert_eq!((m.revenue(), m.cost(), m.margin()), (egp(30_000), egp(21_000), egp(9_000)));
    assert_eq!(m.basis_points(), 3_000);
    // Ada by email only (sms opted out); Bo opted out of his only channel.
    assert_eq!(reach(&r), [(Channel::Email, 1)]);
    assert_eq!(r.reachable_by(Channel::Sms), 0);
    assert_eq!(r.reachable_by(Channel::Web), 0);
    assert_eq!((r.reachable_by_any(), r.unreachable()), (1, 1));
    assert_eq!(r.reach_share(), Share::new(1, 2).unwrap());
    // 50.00% reach misses 50.01%; size and revenue pass.
    assert!(!r.is_viable());
    assert_eq!(r.shortfalls(), [Shortfall::NotReachableEnough { share: Share::new(1, 2).unwrap(), min: bp(5001) }]);
    assert_eq!(r.preview(), [CustomerId::new(1), CustomerId::new(2)]);
}

#[test]
fn thresholds_are_inclusive() {
    // Exactly 2 members, exactly 50% reach: both pass.
    let r = report(r#"interests has "sports""#, &shop(), t0(), &config(2, 5385, 5000, 10));
    assert_eq!(
        r.shortfalls(),
        [Shortfall::TooLittleRevenue { share: Share::new(35_000, 65_000).unwrap(), min: bp(5385) }]
    );
    let r = report(r#"interests has "sports""#, &shop(), t0(), &config(3, 5384, 5000, 10));
    assert_eq!(r.shortfalls(), [Shortfall::TooSmall { members: 2, min: 3 }]);
}

#[test]
fn everyone_by_hand() {
    let r = report("true", &shop(), t0(), &AnalyticsConfig::default());
    assert_eq!((r.members(), r.population()), (4, 4));
    assert_eq!(r.member_share().to_string(), "100.00%");
    assert_eq!(r.revenue(), r.total_revenue());
    assert_eq!(r.revenue_share().to_string(), "100.00%");
    // Di's 300.00 has no cost, so the margin is the sports fans' one.
    assert_eq!(r.margin().unwrap().margin(), egp(9_000));
    assert_eq!(reach(&r), [(Channel::Email, 1), (Channel::Tv, 1), (Channel::Mail, 1)]);
    assert_eq!((r.reachable_by_any(), r.unreachable()), (2, 2));
    assert_eq!(
        r.shortfalls(),
        [
            Shortfall::TooSmall { members: 4, min: 100 },
            Shortfall::NotReachableEnough { share: Share::new(2, 4).unwrap(), min: bp(7500) }
        ]
    );
    assert_eq!(r.preview().len(), 4);
}

#[test]
fn later_purchases_count_from_their_date() {
    let r = report("true", &shop(), t0() + Duration::days(1), &AnalyticsConfig::default());
    assert_eq!(r.total_revenue(), egp(165_000));
    let m = r.margin().unwrap();
    assert_eq!((m.revenue(), m.cost()), (egp(130_000), egp(31_000)));
    // Before anyone bought: no revenue, and a share of nothing is 0%.
    let r = report("true", &shop(), t0() - Duration::days(365), &AnalyticsConfig::default());
    assert_eq!(r.total_revenue(), egp(0));
    assert_eq!(r.revenue_share().to_string(), "0.00%");
    assert_eq!(r.margin(), None);
    assert!(r.shortfalls().contains(&Shortfall::TooLittleRevenue { share: Share::new(0, 0).unwrap(), min: bp(100) }));
}

#[test]
fn no_costs_means_no_margin() {
    let r = report("not interests is set", &shop(), t0(), &AnalyticsConfig::default());
    assert_eq!(r.preview(), [CustomerId::new(4)]);
    assert_eq!(r.revenue(), egp(30_000));
    assert_eq!(r.margin(), None);
    assert!(r.to_string().contains("margin        unknown (no purchase with a known cost)"), "{r}");
}

#[test]
fn other_currencies_are_not_revenue() {
    let usd_only = Customer::new(CustomerId::new(9), "Eve", t0())
        .with_purchases(vec![
            Purchase::new(t0(), Money::new(9_999, Currency::USD)).with_cost(Money::new(1, Currency::USD)),
        ])
        .unwrap();
    let r = report("true", std::slice::from_ref(&usd_only), t0(), &AnalyticsConfig::default());
    assert_eq!(r.revenue(), egp(0));
    assert_eq!(r.margin(), None);
    // Over a snapshot in dollars the same purchase is revenue, with its margin.
    let schema = Schema::new(Currency::USD);
    let snap = Snapshot::build([&usd_only], &schema);
    let r = segment::analyze(&Segment::compile("true", &schema).unwrap(), &snap, t0(), &AnalyticsConfig::default())
        .unwrap();
    assert_eq!(r.revenue(), Money::new(9_999, Currency::USD));
    assert_eq!(r.margin().unwrap().margin(), Money::new(9_998, Currency::USD));
}

#[test]
fn empty_segment_is_defined_everywhere() {
    let r = report("false", &shop(), t0(), &AnalyticsConfig::default());
    assert_eq!((r.members(), r.revenue(), r.margin()), (0, egp(0), None));
    assert_eq!(r.member_share(), Share::new(0, 4).unwrap());
    assert_eq!(r.revenue_share(), Share::new(0, 65_000).unwrap());
    assert_eq!(r.reach_share(), Share::new(0, 0).unwrap());
    assert_eq!((r.reach_share().ratio(), r.reach_share().to_string()), (0.0, "0.00%".to_owned()));
    assert_eq!((r.reachable_by_any(), r.unreachable()), (0, 0));
    assert!(r.reach().all(|(_, n)| n == 0));
    assert!(r.preview().is_empty());
    assert_eq!(r.shortfalls().len(), 3);
    assert!(r.to_string().contains("members       0 of 4 customers (0.00%)"), "{r}");
    // With no thresholds, even an empty segment clears them.
    assert!(report("false", &shop(), t0(), &config(0, 0, 0, 0)).is_viable());
}

#[test]
fn empty_snapshot_is_defined_everywhere() {
    let r = report("true", &[], t0(), &AnalyticsConfig::default());
    assert_eq!((r.members(), r.population(), r.total_revenue()), (0, 0, egp(0)));
    assert_eq!(r.member_share().to_string(), "0.00%");
    assert!(!r.to_string().is_empty());
    let table = segment::overlap(&[("a", &Bitmap::new(0)), ("b", &Bitmap::new(0))]).unwrap();
    assert_eq!(table.pairs()[0].jaccard(), Share::new(0, 0).unwrap());
}

#[test]
fn preview_takes_the_first_members_in_row_order() {
    let r = report(r#"interests has any ("sports", "music")"#, &shop(), t0(), &config(0, 0, 0, 2));
    assert_eq!(r.members(), 3);
    assert_eq!(r.preview(), [CustomerId::new(1), CustomerId::new(2)]);
    let r = report("true", &shop(), t0(), &config(0, 0, 0, usize::MAX));
    assert_eq!(r.preview().len(), 4);
}

#[test]
fn report_renders_every_figure() {
    let r = report(r#"interests has "sports""#, &shop(), t0(), &config(2, 5000, 5001, 10));
    assert_eq!(
        r.to_string(),
        "\
segment       interests has \"sports\"
as of         2026-01-01 00:00:00 UTC
members       2 of 4 customers (50.00%)
revenue       350.00 EGP of 650.00 EGP (53.85%)
margin        30.00% on 300.00 EGP with a known cost
reachable     1 by some channel (50.00%), 1 by none
  email       1 (50.00%)
viable        no: not reachable enough: 50.00% of members reachable, at least 50.01% needed
first 2       #1, #2
"
    );
}

#[test]
fn errors_are_typed() {
    let schema = Schema::new(EGP);
    let snap = Snapshot::build(&shop(), &Schema::new(Currency::USD));
    let err = segment::analyze(&Segment::compile("true", &schema).unwrap(), &snap, t0(), &AnalyticsConfig::default())
        .unwrap_err();
    match &err {
        AnalyticsError::Segment(e) => assert!(matches!(e.kind(), ErrorKind::CurrencyMismatch { .. })),
        other => panic!("expected a currency mismatch, got {other:?}"),
    }
    assert_eq!(
        segment::analyze_members(&Bitmap::new(5), &snap, t0(), &AnalyticsConfig::default()),
        Err(AnalyticsError::RowsMismatch { expected: 4, found: 5 })
    );
    assert_eq!(BasisPoints::new(10_001), Err(AnalyticsError::ShareOutOfRange(10_001)));
    assert!(Share::new(2, 1).is_err());
    let json = r#"{"min_members": 5, "min_revenue_share": 10001}"#;
    assert!(serde_json::from_str::<AnalyticsConfig>(json).is_err());
}

#[test]
fn config_round_trips_through_json() {
    let config = config(250, 150, 8000, 3);
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(json, r#"{"min_members":250,"min_revenue_share":150,"min_reach_share":8000,"preview":3}"#);
    assert_eq!(serde_json::from_str::<AnalyticsConfig>(&json).unwrap(), config);
    assert_eq!(serde_json::from_str::<AnalyticsConfig>("{}").unwrap(), AnalyticsConfig::default());
}

#[test]
fn overlap_by_hand() {
    let schema = Schema::new(EGP);
    let snap = Snapshot::build(&shop(), &schema);
    let eval = |text: &str| Segment::compile(text, &schema).unwrap().evaluate(&snap, t0()).unwrap();
    let sports = eval(r#"interests has "sports""#); // Ada, Bo
    let music = eval(r#"interests has "music""#); // Bo, Cy
    let buyers = eval("purchases >= 1"); // Ada, Bo, Di
    let nobody = eval("false");
    let table =
        segment::overlap(&[("sports", &sports), ("music", &music), ("buyers", &buyers), ("nobody", &nobody)]).unwrap();
    assert_eq!(table.pairs().len(), 6);
    let p = table.pair("sports", "music").unwrap();
    assert_eq!((p.both(), p.either()), (1, 3));
    assert_eq!((p.share_of_first().to_string(), p.jaccard().to_string()), ("50.00%".into(), "33.33%".into()));
    let p = table.pair("buyers", "sports").unwrap();
    assert_eq!((p.first(), p.first_members(), p.second_members(), p.both()), ("buyers", 3, 2, 2));
    assert_eq!((p.share_of_first(), p.share_of_second()), (Share::new(2, 3).unwrap(), Share::new(2, 2).unwrap()));
    let p = table.pair("music", "nobody").unwrap();
    assert_eq!((p.both(), p.share_of_first().part(), p.share_of_second().whole()), (0, 0, 0));
    assert_eq!(table.pair("music", "missing"), None);
    assert_eq!(table.members("buyers"), Some(3));
    assert_eq!(
        table.to_string(),
        "\
first   second  both  % of first  % of second  jaccard
sports  music      1      50.00%       50.00%   33.33%
sports  buyers     2     100.00%       66.67%   66.67%
sports  nobody     0       0.00%        0.00%    0.00%
music   buyers     1      50.00%       33.33%   25.00%
music   nobody     0       0.00%        0.00%    0.00%
buyers  nobody     0       0.00%        0.00%    0.00%
"
    );
    assert_eq!(segment::overlap(&[("a", &sports), ("a", &music)]), Err(AnalyticsError::DuplicateName("a".into())));
    assert_eq!(
        segment::overlap(&[("a", &sports), ("b", &Bitmap::new(3))]),
        Err(AnalyticsError::OverlapRowsMismatch { name: "b".into(), expected: 4, found: 3 })
    );
}

// -------------------------------------------------------------------------------------------
// The report agrees with a straightforward computation over the customer rows
// -------------------------------------------------------------------------------------------

const TEXTS: &[&str] = &[
    "true",
    "false",
    r#"country = "EG""#,
    "age between 18 and 30",
    "spent >= 1000.00",
    "spent(last 365 days) > 2500.00",
    "last_purchase within 90 days",
    "purchases >= 2 and not last_purchase within 180 days",
    "channels has web",
    "channels has all (email, sms)",
    r#"interests has any ("sports", "football")"#,
    "attr.nps >= 9 or attr.survey_done",
    r#"segment "high_value" and country = "EG""#,
];

fn schema() -> Schema {
    let mut schema = Schema::new(EGP)
        .with_attribute("nps", AttrType::Int)
        .unwrap()
        .with_attribute("survey_done", AttrType::Bool)
        .unwrap();
    schema.define("high_value", "spent(last 365 days) >= 10000.00").unwrap();
    schema
}

/// Customers `start..start + len` of a population; every `dollar_every`th also bought in
/// dollars (with a cost), which must count for nothing.
fn slice(seed: u64, start: u64, len: u64, dollar_every: u64) -> Vec<Customer> {
    let population = Population::new(seed);
    (start..start + len)
        .map(|i| {
            let c = population.customer(i);
            if i % dollar_every != 0 {
                return c;
            }
            let mut purchases = c.purchases().as_slice().to_vec();
            let usd = Money::new(12_345, Currency::USD);
            purchases.push(Purchase::new(population.as_of() - Duration::days(3), usd).with_cost(usd));
            c.with_purchases(purchases).unwrap()
        })
        .collect()
}

/// Everything a report says, computed from the customers one by one.
#[derive(Debug, PartialEq)]
struct Expected {
    members: usize,
    revenue: i64,
    total: i64,
    costed: Option<(i64, i64)>,
    reach: Vec<(Channel, usize)>,
    reachable: usize,
    preview: Vec<CustomerId>,
    too_small: bool,
    too_little_revenue: bool,
    not_reachable_enough: bool,
}

/// `part / whole >= min / 10 000`, where a share of nothing is 0.
fn meets(part: i64, whole: i64, min: u32) -> bool {
    if whole == 0 { min == 0 } else { i128::from(part) * 10_000 >= i128::from(min) * i128::from(whole) }
}

fn expected(segment: &Segment, customers: &[Customer], as_of: DateTime<Utc>, config: &AnalyticsConfig) -> Expected {
    let members: Vec<&Customer> = customers.iter().filter(|c| segment.matches(c, as_of)).collect();
    let spent = |c: &Customer| c.purchases().spent_upto(as_of, EGP).minor();
    let (mut costed, mut cost) = (0, 0);
    for c in &members {
        for p in c.purchases().between(None, as_of) {
            if let (EGP, Some(k)) = (p.amount.currency(), p.cost) {
                costed += p.amount.minor();
                cost += k.minor();
            }
        }
    }
    let revenue: i64 = members.iter().map(|c| spent(c)).sum();
    let total: i64 = customers.iter().map(spent).sum();
    let reachable = members.iter().filter(|c| !c.channels.reachable().is_empty()).count();
    let per_channel = |ch: Channel| {
        members.iter().filter(move |c| c.channels.preferred.contains(ch) && !c.channels.opted_out.contains(ch))
    };
    let to_i64 = |n: usize| i64::try_from(n).unwrap();
    Expected {
        members: members.len(),
        revenue,
        total,
        costed: (costed > 0).then_some((costed, cost)),
        reach: Channel::ALL.into_iter().map(|ch| (ch, per_channel(ch).count())).collect(),
        reachable,
        preview: members.iter().take(config.preview).map(|c| c.id()).collect(),
        too_small: members.len() < config.min_members,
        too_little_revenue: !meets(revenue, total, config.min_revenue_share.get().into()),
        not_reachable_enough: !meets(to_i64(reachable), to_i64(members.len()), config.min_reach_share.get().into()),
    }
}

fn actual(r: &SegmentReport) -> Expected {
    let has = |f: fn(&Shortfall) -> bool| r.shortfalls().iter().any(f);
    Expected {
        members: r.members(),
        revenue: r.revenue().minor(),
        total: r.total_revenue().minor(),
        costed: r.margin().map(|m| (m.revenue().minor(), m.cost().minor())),
        reach: r.reach().collect(),
        reachable: r.reachable_by_any(),
        preview: r.preview().to_vec(),
        too_small: has(|s| matches!(s, Shortfall::TooSmall { .. })),
        too_little_revenue: has(|s| matches!(s, Shortfall::TooLittleRevenue { .. })),
        not_reachable_enough: has(|s| matches!(s, Shortfall::NotReachableEnough { .. })),
    }
}

fn thresholds() -> impl Strategy<Value = AnalyticsConfig> {
    (0usize..200, 0u32..=10_000, 0u32..=10_000, 0usize..15)
        .prop_map(|(m, rev, reach, preview)| config(m, rev, reach, preview))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn report_agrees_with_the_rows(
        seed in 0u64..1_000,
        start in 0u64..100_000,
        len in 0u64..300,
        dollar_every in 1u64..20,
        text in prop::sample::select(TEXTS),
        days in -800i64..30,
        config in thresholds(),
    ) {
        let schema = schema();
        let customers = slice(seed, start, len, dollar_every);
        let snap = Snapshot::build(&customers, &schema);
        let segment = Segment::compile(text, &schema).unwrap();
        let as_of = Population::new(seed).as_of() + Duration::days(days);
        let report = segment::analyze(&segment, &snap, as_of, &config).unwrap();
        prop_assert_eq!(actual(&report), expected(&segment, &customers, as_of, &config));
        prop_assert_eq!(report.population(), customers.len());
        prop_assert_eq!(report.is_viable(), report.shortfalls().is_empty());
        prop_assert_eq!(report.reachable_by_any() + report.unreachable(), report.members());
    }

    #[test]
    fn overlap_agrees_with_the_rows(
        seed in 0u64..1_000,
        start in 0u64..100_000,
        len in 0u64..300,
        texts in prop::sample::subsequence(TEXTS, 2..5),
        days in -400i64..30,
    ) {
        let schema = schema();
        let customers = slice(seed, start, len, 7);
        let snap = Snapshot::build(&customers, &schema);
        let as_of = Population::new(seed).as_of() + Duration::days(days);
        let segments: Vec<Segment> = texts.iter().map(|t| Segment::compile(t, &schema).unwrap()).collect();
        let bitmaps: Vec<Bitmap> = segments.iter().map(|s| s.evaluate(&snap, as_of).unwrap()).collect();
        let named: Vec<(&str, &Bitmap)> = texts.iter().copied().zip(&bitmaps).collect();
        let table = segment::overlap(&named).unwrap();
        prop_assert_eq!(table.pairs().len(), texts.len() * (texts.len() - 1) / 2);
        for (i, a) in segments.iter().enumerate() {
            for (j, b) in segments.iter().enumerate().skip(i + 1) {
                let pair = table.pair(texts[i], texts[j]).unwrap();
                let in_a = customers.iter().filter(|c| a.matches(c, as_of)).count();
                let in_b = customers.iter().filter(|c| b.matches(c, as_of)).count();
                let both = customers.iter().filter(|c| a.matches(c, as_of) && b.matches(c, as_of)).count();
                prop_assert_eq!((pair.first_members(), pair.second_members(), pair.both()), (in_a, in_b, both));
                prop_assert_eq!(pair.either(), in_a + in_b - both);
                let flipped = table.pair(texts[j], texts[i]).unwrap();
                prop_assert_eq!(flipped.share_of_first(), pair.share_of_second());
            }
        }
    }
}

#[test]
fn analytics_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SegmentReport>();
    send_sync::<segment::Overlap>();
    send_sync::<AnalyticsError>();
    send_sync::<AnalyticsConfig>();
}
