//! Relationship-level selection: the nine cells of the matrix by name, exact thresholds,
//! configuration checks, segments with and without cost data, and the monotonicity
//! properties (a higher margin never lowers the level; fewer customers never lower it).

use chrono::{DateTime, TimeZone, Utc};
use clientele::{
    Currency, Customer, CustomerId, Decimal, Money, Purchase,
    segment::{self, AnalyticsConfig, BasisPoints, Schema, Segment, SegmentReport, Snapshot},
    strategy::{
        self, Cell, CustomerVolume, LevelConfig, MATRIX, MarginClass, MarginRatio, MarginThresholds, Preference,
        RelationshipLevel::{self, Accountable, Basic, Partnership, Proactive, Reactive},
        Selection, StrategyError, VolumeThresholds,
    },
    synth::Population,
};
use proptest::prelude::*;

const EGP: Currency = Currency::EGP;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn bp(n: u32) -> BasisPoints {
    BasisPoints::new(n).unwrap()
}

fn margin_bp(n: i64) -> MarginRatio {
    MarginRatio::from_basis_points(n).unwrap()
}

/// Selects with the default configuration and checks the level, the alternative and the
/// rationale.
fn check(margin: i64, customers: u64, level: RelationshipLevel, alternative: Option<RelationshipLevel>, why: &str) {
    check_with(&LevelConfig::default(), margin, customers, level, alternative, why);
}

fn check_with(
    config: &LevelConfig,
    margin: i64,
    customers: u64,
    level: RelationshipLevel,
    alternative: Option<RelationshipLevel>,
    why: &str,
) {
    let s = strategy::select(margin_bp(margin), customers, config);
    assert_eq!((s.level(), s.alternative()), (level, alternative), "{s}");
    assert_eq!(s.rationale(), why);
    assert_eq!(s.to_string(), why);
    assert!(s.cell().contains(level), "{s}");
    assert_eq!(s.cell(), strategy::cell(s.volume(), s.margin_class()));
}

// The nine cells, by name, with the default thresholds (margin: medium from 10%, high from
// 30%; customers: medium from 100, many from 10 000).

#[test]
fn many_customers_high_margin_is_accountable() {
    check(4_000, 25_000, Accountable, None, "high margin (40.0%) and many customers (25 000): accountable marketing");
}

#[test]
fn many_customers_medium_margin_is_reactive() {
    check(1_800, 25_000, Reactive, None, "medium margin (18.0%) and many customers (25 000): reactive marketing");
}

#[test]
fn many_customers_low_margin_is_basic_with_reactive_as_the_alternative() {
    check(
        800,
        120_000,
        Basic,
        Some(Reactive),
        "low margin (8.0%) and many customers (120 000): basic marketing; reactive is the alternative",
    );
}

#[test]
fn many_customers_low_margin_is_reactive_with_basic_as_the_alternative_when_preferred() {
    let config = LevelConfig { prefer: Preference::MoreIntensive, ..LevelConfig::default() };
    check_with(
        &config,
        800,
        120_000,
        Reactive,
        Some(Basic),
        "low margin (8.0%) and many customers (120 000): reactive marketing; basic is the alternative",
    );
}

#[test]
fn medium_customers_high_margin_is_proactive() {
    check(3_000, 1_500, Proactive, None, "high margin (30.0%) and medium customers (1 500): proactive marketing");
}

#[test]
fn medium_customers_medium_margin_is_accountable() {
    check(1_000, 100, Accountable, None, "medium margin (10.0%) and medium customers (100): accountable marketing");
}

#[test]
fn medium_customers_low_margin_is_reactive() {
    check(999, 9_999, Reactive, None, "low margin (9.99%) and medium customers (9 999): reactive marketing");
}

#[test]
fn few_customers_high_margin_is_partnership() {
    check(10_000, 12, Partnership, None, "high margin (100.0%) and few customers (12): partnership marketing");
}

#[test]
fn few_customers_medium_margin_is_proactive() {
    check(2_999, 99, Proactive, None, "medium margin (29.99%) and few customers (99): proactive marketing");
}

#[test]
fn few_customers_low_margin_is_accountable() {
    check(-250, 0, Accountable, None, "low margin (-2.5%) and few customers (0): accountable marketing");
}

#[test]
fn the_matrix_is_the_textbook_table() {
    use CustomerVolume as V;
    use MarginClass as M;
    let expected = [
        (V::Many, M::High, Cell::One(Accountable)),
        (V::Many, M::Medium, Cell::One(Reactive)),
        (V::Many, M::Low, Cell::Either(Basic, Reactive)),
        (V::Medium, M::High, Cell::One(Proactive)),
        (V::Medium, M::Medium, Cell::One(Accountable)),
        (V::Medium, M::Low, Cell::One(Reactive)),
        (V::Few, M::High, Cell::One(Partnership)),
        (V::Few, M::Medium, Cell::One(Proactive)),
        (V::Few, M::Low, Cell::One(Accountable)),
    ];
    let actual: Vec<_> = MATRIX.iter().map(|e| (e.volume, e.margin, e.cell)).collect();
    assert_eq!(actual, expected);
}

#[test]
fn select_reaches_every_cell_of_the_matrix() {
    let margin = |c: MarginClass| match c {
        MarginClass::Low => 500,
        MarginClass::Medium => 2_000,
        MarginClass::High => 5_000,
    };
    let customers = |v: CustomerVolume| match v {
        CustomerVolume::Few => 10,
        CustomerVolume::Medium => 1_000,
        CustomerVolume::Many => 100_000,
    };
    for e in MATRIX {
        for prefer in [Preference::LessIntensive, Preference::MoreIntensive] {
            let config = LevelConfig { prefer, ..LevelConfig::default() };
            let s = strategy::select(margin_bp(margin(e.margin)), customers(e.volume), &config);
            assert_eq!((s.volume(), s.margin_class(), s.cell()), (e.volume, e.margin, e.cell));
            assert_eq!((s.level(), s.alternative()), e.cell.choose(prefer));
        }
    }
}

#[test]
fn module_docs_show_the_generated_matrix() {
    let table = strategy::markdown_matrix();
    for (file, prefix) in [("src/strategy/mod.rs", "//! "), ("src/strategy/level.rs", "/// ")] {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let block: String = table.lines().map(|l| format!("{prefix}{l}\n")).collect();
        assert!(text.contains(&block), "{file}'s matrix differs from strategy::markdown_matrix(); paste:\n{block}");
    }
}

#[test]
fn thresholds_are_inclusive_and_exact() {
    let t = MarginThresholds::default();
    // One minor unit below 10% is low, although it rounds to 10.00% in basis points.
    let just_below = MarginRatio::new(9_999_999, 100_000_000).unwrap();
    assert_eq!(just_below.basis_points(), 1_000);
    assert_eq!(t.classify(just_below), MarginClass::Low);
    assert_eq!(t.classify(MarginRatio::new(10_000_000, 100_000_000).unwrap()), MarginClass::Medium);
    assert_eq!(t.classify(margin_bp(2_999)), MarginClass::Medium);
    assert_eq!(t.classify(margin_bp(3_000)), MarginClass::High);
    assert_eq!(t.classify(margin_bp(i64::MIN)), MarginClass::Low);

    let v = VolumeThresholds::default();
    let classes: Vec<_> = [0, 99, 100, 9_999, 10_000, u64::MAX].into_iter().map(|n| v.classify(n)).collect();
    use CustomerVolume::{Few, Many, Medium};
    assert_eq!(classes, [Few, Few, Medium, Medium, Many, Many]);
}

#[test]
fn thresholds_out_of_order_are_typed_errors() {
    assert_eq!(
        MarginThresholds::new(bp(3_000), bp(1_000)),
        Err(StrategyError::MarginThresholds { medium_from: bp(3_000), high_from: bp(1_000) })
    );
    let err = MarginThresholds::new(bp(2_000), bp(2_000)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "margin thresholds out of order: medium_from (20.00%) must be below high_from (20.00%)"
    );
    assert!(MarginThresholds::new(BasisPoints::ZERO, BasisPoints::ALL).is_ok());

    assert_eq!(VolumeThresholds::new(0, 1), Err(StrategyError::VolumeThresholds { medium_from: 0, many_from: 1 }));
    assert_eq!(VolumeThresholds::new(5, 5), Err(StrategyError::VolumeThresholds { medium_from: 5, many_from: 5 }));
    assert_eq!(
        VolumeThresholds::new(10, 2).unwrap_err().to_string(),
        "customer-volume thresholds out of order: need 1 <= medium_from < many_from (got medium_from 10, many_from 2)"
    );
    assert!(VolumeThresholds::new(1, 2).is_ok());
}

#[test]
fn config_serde_round_trips_fills_defaults_and_refuses_bad_thresholds() {
    let default = LevelConfig::default();
    let json = serde_json::to_string(&default).unwrap();
    assert_eq!(
        json,
        r#"{"margin":{"medium_from":1000,"high_from":3000},"volume":{"medium_from":100,"many_from":10000},"prefer":"less_intensive"}"#
    );
    assert_eq!(serde_json::from_str::<LevelConfig>(&json).unwrap(), default);
    assert_eq!(serde_json::from_str::<LevelConfig>("{}").unwrap(), default);

    let custom: LevelConfig =
        serde_json::from_str(r#"{"margin": {"medium_from": 1500, "high_from": 4000}, "prefer": "more_intensive"}"#)
            .unwrap();
    assert_eq!(custom.margin, MarginThresholds::new(bp(1_500), bp(4_000)).unwrap());
    assert_eq!(custom.volume, VolumeThresholds::default());
    assert_eq!(custom.prefer, Preference::MoreIntensive);

    for (bad, says) in [
        (r#"{"margin": {"medium_from": 4000, "high_from": 4000}}"#, "margin thresholds out of order"),
        (r#"{"margin": {"high_from": 500}}"#, "margin thresholds out of order"),
        (r#"{"margin": {"high_from": 10001}}"#, "more than 100%"),
        (r#"{"volume": {"medium_from": 0}}"#, "customer-volume thresholds out of order"),
        (r#"{"volume": {"many_from": 50}}"#, "customer-volume thresholds out of order"),
        (r#"{"prefer": "random"}"#, "unknown variant"),
    ] {
        let err = serde_json::from_str::<LevelConfig>(bad).unwrap_err().to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn names_parse_print_and_serialize_as_snake_case() {
    let names: Vec<_> = RelationshipLevel::ALL.iter().map(|l| l.name()).collect();
    assert_eq!(names, ["basic", "reactive", "accountable", "proactive", "partnership"]);
    assert!(RelationshipLevel::ALL.is_sorted(), "ALL runs from least to most intensive");
    for l in RelationshipLevel::ALL {
        assert_eq!(l.to_string(), l.name());
        assert_eq!(l.name().to_uppercase().parse::<RelationshipLevel>().unwrap(), l);
        assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{}\"", l.name()));
        assert_eq!(serde_json::from_str::<RelationshipLevel>(&format!("\"{l}\"")).unwrap(), l);
        assert!(!l.description().is_empty());
    }
    assert_eq!(
        "vip".parse::<RelationshipLevel>().unwrap_err().to_string(),
        "unknown relationship level `vip` (expected one of basic, reactive, accountable, proactive, partnership)"
    );
    assert_eq!("huge".parse::<MarginClass>(), Err(StrategyError::UnknownMarginClass("huge".into())));
    assert_eq!("lots".parse::<CustomerVolume>(), Err(StrategyError::UnknownVolume("lots".into())));
    assert_eq!(serde_json::to_string(&MarginClass::ALL).unwrap(), r#"["low","medium","high"]"#);
    assert_eq!(serde_json::to_string(&CustomerVolume::ALL).unwrap(), r#"["few","medium","many"]"#);
}

#[test]
fn selection_serializes_with_its_rationale() {
    let s = strategy::select(margin_bp(800), 120_000, &LevelConfig::default());
    let json: serde_json::Value = serde_json::to_value(s).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "level": "basic",
            "alternative": "reactive",
            "margin_class": "low",
            "volume": "many",
            "margin": {"margin": 800, "revenue": 10_000},
            "customers": 120_000,
            "rationale": "low margin (8.0%) and many customers (120 000): basic marketing; reactive is the alternative",
        })
    );
}

#[test]
fn strategy_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Selection>();
    send_sync::<LevelConfig>();
    send_sync::<StrategyError>();
    fn std_error<E: std::error::Error + 'static>() {}
    std_error::<StrategyError>();
}

// Segments.

fn customer(id: u64, purchases: &[(i64, Option<i64>)]) -> Customer {
    let purchases = purchases
        .iter()
        .map(|&(amount, cost)| {
            let p = Purchase::new(t0(), Money::new(amount, EGP));
            match cost {
                Some(c) => p.with_cost(Money::new(c, EGP)),
                None => p,
            }
        })
        .collect();
    Customer::new(CustomerId::new(id), "x", t0()).with_purchases(purchases).unwrap()
}

fn report(text: &str, customers: &[Customer]) -> SegmentReport {
    let schema = Schema::new(EGP);
    let snap = Snapshot::build(customers, &schema);
    let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    segment::analyze(&Segment::compile(text, &schema).unwrap(), &snap, t0(), &config).unwrap()
}

#[test]
fn a_segment_is_classified_by_its_members_and_its_measured_margin() {
    // 150 members, each paid 100.00 at cost 88.00 (12% margin), and one more without a cost,
    // which counts as a member but not in the margin.
    let mut customers: Vec<_> = (1..=150).map(|i| customer(i, &[(10_000, Some(8_800))])).collect();
    customers.push(customer(151, &[(50_000, None)]));
    let r = report("purchases >= 1", &customers);
    let s = strategy::select_for_segment(&r, &LevelConfig::default()).unwrap();
    assert_eq!(s.margin(), margin_bp(1_200));
    assert_eq!(s.customers(), 151);
    assert_eq!(s.level(), Accountable);
    assert_eq!(s.rationale(), "medium margin (12.0%) and medium customers (151): accountable marketing");
}

#[test]
fn a_segment_margin_is_taken_exactly_not_from_rounded_basis_points() {
    // 99 999.99 margin on 1 000 000.00 of revenue: 9.9999999%, which rounds to 10.00%.
    let customers = [customer(1, &[(100_000_000, Some(90_000_001))])];
    let r = report("true", &customers);
    assert_eq!(r.margin().unwrap().basis_points(), 1_000);
    let s = strategy::select_for_segment(&r, &LevelConfig::default()).unwrap();
    assert_eq!(s.margin_class(), MarginClass::Low);
    assert_eq!(s.level(), Accountable, "few customers and a low margin");
}

#[test]
fn a_segment_sold_below_cost_has_a_low_margin() {
    let customers = [customer(1, &[(10_000, Some(12_500))])];
    let s = strategy::select_for_segment(&report("true", &customers), &LevelConfig::default()).unwrap();
    assert_eq!(s.margin_class(), MarginClass::Low);
    assert_eq!(s.rationale(), "low margin (-25.0%) and few customers (1): accountable marketing");
}

#[test]
fn a_segment_without_cost_data_is_a_typed_error() {
    // Customer 1 paid 100.00 with no cost recorded; customer 2 paid 200.00 at cost 20.00.
    let customers = [customer(1, &[(10_000, None)]), customer(2, &[(20_000, Some(2_000))])];
    let config = LevelConfig::default();
    assert!(strategy::select_for_segment(&report("true", &customers), &config).is_ok());

    let uncosted = report("spent < 150.00", &customers);
    assert_eq!(uncosted.members(), 1);
    let err = strategy::select_for_segment(&uncosted, &config).unwrap_err();
    assert_eq!(err, StrategyError::NoCostData { members: 1 });
    assert_eq!(err.to_string(), "the segment's 1 members have no purchase with a known cost, so its margin is unknown");

    let empty = report("false", &customers);
    assert_eq!(strategy::select_for_segment(&empty, &config), Err(StrategyError::NoCostData { members: 0 }));
}

// Properties.

/// Any valid configuration.
fn configs() -> impl Strategy<Value = LevelConfig> {
    let margin = (0u32..10_000).prop_flat_map(|m| (Just(m), m + 1..=10_000));
    let volume = (1u64..1_000_000).prop_flat_map(|m| (Just(m), m + 1..=2_000_000));
    let prefer = prop_oneof![Just(Preference::LessIntensive), Just(Preference::MoreIntensive)];
    (margin, volume, prefer).prop_map(|((m, h), (v, n), prefer)| LevelConfig {
        margin: MarginThresholds::new(bp(m), bp(h)).unwrap(),
        volume: VolumeThresholds::new(v, n).unwrap(),
        prefer,
    })
}

/// Any margin ratio, from amounts with a cost that may exceed the revenue.
fn margins() -> impl Strategy<Value = MarginRatio> {
    prop_oneof![
        (-20_000i64..=10_000).prop_map(margin_bp),
        (1i64..=1_000_000_000_000)
            .prop_flat_map(|r| (Just(r), 0..=2 * r))
            .prop_map(|(r, c)| MarginRatio::from_revenue_and_cost(Money::new(r, EGP), Money::new(c, EGP)).unwrap()),
    ]
}

fn counts() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..3_000_000, any::<u64>()]
}

proptest! {
    #[test]
    fn a_higher_margin_never_lowers_the_level(config in configs(), a in margins(), b in margins(), n in counts()) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let (sl, sh) = (strategy::select(low, n, &config), strategy::select(high, n, &config));
        prop_assert!(sl.margin_class() <= sh.margin_class());
        prop_assert!(sl.level() <= sh.level(), "{} / {}", sl, sh);
    }

    #[test]
    fn fewer_customers_never_lower_the_level(config in configs(), m in margins(), a in counts(), b in counts()) {
        let (fewer, more) = (a.min(b), a.max(b));
        let (sf, sm) = (strategy::select(m, fewer, &config), strategy::select(m, more, &config));
        prop_assert!(sf.volume() <= sm.volume());
        prop_assert!(sf.level() >= sm.level(), "{} / {}", sf, sm);
    }

    #[test]
    fn a_selection_agrees_with_the_thresholds_and_the_matrix(config in configs(), m in margins(), n in counts()) {
        let s = strategy::select(m, n, &config);
        let class = if m.at_least(config.margin.high_from()) {
            MarginClass::High
        } else if m.at_least(config.margin.medium_from()) {
            MarginClass::Medium
        } else {
            MarginClass::Low
        };
        let volume = match n {
            n if n >= config.volume.many_from() => CustomerVolume::Many,
            n if n >= config.volume.medium_from() => CustomerVolume::Medium,
            _ => CustomerVolume::Few,
        };
        prop_assert_eq!((s.margin_class(), s.volume()), (class, volume));
        let entry = MATRIX.iter().find(|e| e.volume == volume && e.margin == class).unwrap();
        prop_assert_eq!((s.level(), s.alternative()), entry.cell.choose(config.prefer));
        prop_assert_eq!(s.alternative().is_some(), volume == CustomerVolume::Many && class == MarginClass::Low);
        prop_assert_eq!((s.margin(), s.customers()), (m, n));
    }

    #[test]
    fn the_rationale_never_shows_a_margin_of_another_class(config in configs(), m in margins(), n in counts()) {
        let s = strategy::select(m, n, &config);
        let text = s.rationale();
        // The figure between the first "(" and "%)".
        let figure = &text[text.find('(').unwrap() + 1..text.find("%)").unwrap()];
        let shown: Decimal = figure.parse().unwrap();
        let shown = MarginRatio::new(shown.mantissa(), 100 * 10i64.pow(u32::from(shown.scale()))).unwrap();
        prop_assert_eq!(config.margin.classify(shown), s.margin_class(), "{}", text);
        // Never more than 0.1 percentage point off.
        let (a, b) = (shown.basis_points(), m.basis_points());
        prop_assert!(a.abs_diff(b) <= 10, "{} vs {:?}", text, m);
    }

    #[test]
    fn a_segment_selection_is_the_business_selection_of_its_figures(
        seed in any::<u64>(),
        text in prop::sample::select(vec!["true", "false", "purchases >= 2", "spent >= 500.00", "age < 30"]),
        config in configs(),
    ) {
        let population = Population::new(seed);
        let customers = population.customers(300);
        let schema = Schema::new(population.currency());
        let snap = Snapshot::build(&customers, &schema);
        let r = segment::analyze(&Segment::compile(text, &schema).unwrap(), &snap, population.as_of(), &AnalyticsConfig::default())
            .unwrap();
        match r.margin() {
            Some(margin) => {
                let expected = strategy::select(MarginRatio::try_from(margin).unwrap(), r.members() as u64, &config);
                prop_assert_eq!(strategy::select_for_segment(&r, &config), Ok(expected));
            }
            None => prop_assert_eq!(
                strategy::select_for_segment(&r, &config),
                Err(StrategyError::NoCostData { members: r.members() })
            ),
        }
    }
}
