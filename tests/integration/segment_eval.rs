//! The segment evaluators agree: for random segments over every field, attribute type and
//! test, random customers (synthetic ones with hand-made edge cases) and random instants,
//! the interpreter ([`Segment::matches`]), the bound closures ([`Segment::at`]), the batch
//! evaluator on one thread and on several ([`Segment::evaluate`],
//! [`Segment::evaluate_parallel`]) and [`Store::query`] return the same members.
//!
//! Segments are generated as trees of abstract conditions whose date constants are relative
//! to the evaluation instant, and rendered to text once the instant is known, so that the
//! constants fall near the data and both outcomes occur.

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use clientele::{
    AttrValue, Channel, ChannelSet, CountryCode, CreditStanding, Currency, Customer, CustomerId, Decimal, Gender,
    Generation, LifecycleState, Loyalty, MemoryStore, Money, Purchase, Stage, Store, TagSet,
    rfm::{RfmConfig, RfmScores},
    segment::{AttrType, ErrorKind, Schema, Segment, Snapshot},
    synth::Population,
};
use proptest::{
    collection::vec,
    prelude::*,
    sample::select,
    strategy::{Union, ValueTree},
    test_runner::TestRunner,
};

pub(crate) const EGP: Currency = Currency::EGP;
const USD: Currency = Currency::USD;

/// The instant synthetic populations are observed at.
pub(crate) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// Every built-in field the generator writes conditions on; checked against
/// [`Schema::fields`] by [`the_generator_covers_every_field_attribute_type_and_name`].
const FIELDS: &[&str] = &[
    "stage",
    "gender",
    "generation",
    "credit",
    "age",
    "birth_date",
    "country",
    "region",
    "city",
    "interests",
    "lifestyle",
    "needs",
    "channels",
    "preferred_channels",
    "opted_out_channels",
    "loyalty_member",
    "loyalty_joined",
    "referrals",
    "exclusive",
    "purchases",
    "spent",
    "first_purchase",
    "last_purchase",
    "created_at",
    "stage_since",
    "income",
    "rfm.r",
    "rfm.f",
    "rfm.m",
    "rfm.group",
];

/// The declared attributes: one of every [`AttrType`]. `nps` and `survey_done` are the ones
/// [`Population`] sets.
const ATTRS: &[(&str, AttrType)] = &[
    ("nps", AttrType::Int),
    ("survey_done", AttrType::Bool),
    ("score", AttrType::Decimal),
    ("wallet", AttrType::Money),
    ("nickname", AttrType::Text),
    ("renewal", AttrType::Date),
    ("labels", AttrType::TextList),
];

const STAGES: &[&str] = &[
    "suspect",
    "prospect",
    "disqualified_prospect",
    "first_time",
    "repeat",
    "client",
    "advocate",
    "partner",
    "inactive",
    "lost",
];
const GENDERS: &[&str] = &["female", "male", "other", "unknown"];
const GENERATIONS: &[&str] = &["silent", "baby_boomer", "gen_x", "millennial", "gen_z"];
const CREDITS: &[&str] = &["unknown", "good", "fair", "poor"];
const RFM_GROUPS: &[&str] = &[
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
];
const CHANNELS: &[&str] = &["email", "sms", "phone", "web", "tv", "radio", "magazine", "mail", "in_store"];
const COUNTRIES: &[&str] = &["EG", "eg", "SA", "AE", "US", "GB", "FR", "DE", "MA", "ZZ"];

/// Texts stored in cities, regions and `attr.nickname`: differing only in ASCII case, only in
/// non-ASCII case, by surrounding space, and empty.
const TEXTS: &[&str] = &[
    "Cairo",
    "cairo",
    "CAIRO",
    " Cairo",
    "Alexandria",
    "Giza",
    "Zürich",
    "zürich",
    "ZÜRICH",
    "İstanbul",
    "istanbul",
    "Straße",
    "STRASSE",
    "",
];
/// Text literals: the stored texts and pieces of them.
const TEXT_LITERALS: &[&str] = &[
    "Cairo",
    "cairo",
    "CAIRO",
    "Alexandria",
    "Giza",
    "Riyadh",
    "Zürich",
    "zürich",
    "ZÜRICH",
    "İstanbul",
    "istanbul",
    "Straße",
    "strasse",
    "",
    "ai",
    "AI",
    "al",
    "ÜR",
    "ür",
    "ich",
    "ICH",
    "a",
    "Z",
    "ße",
    "\"q\\",
];
/// Tags stored in interests, lifestyle and needs (normalized on insertion) and tag literals.
const TAGS: &[&str] = &[
    "sports", "Sports", "SPORTS", " sports ", "music", "travel", "coffee", "outdoor", "family", "vegan", "delivery",
    "warranty", "Ёлка", "ЁЛКА", "ёлка", "Straße", "İ",
];
/// Items of the `attr.labels` text list (compared ignoring ASCII case only) and literals.
const LABELS: &[&str] = &["vip", "VIP", "Vip", "gold", "ёлка", "Ёлка", " vip", "Straße", "STRASSE"];

/// Trailing windows: `(amount, unit)`.
const WINDOWS: &[(u32, &str)] = &[
    (0, "days"),
    (1, "day"),
    (7, "days"),
    (30, "days"),
    (90, "days"),
    (365, "days"),
    (1, "week"),
    (2, "weeks"),
    (1, "month"),
    (3, "months"),
    (12, "months"),
];

fn window_text(w: usize) -> String {
    let (n, unit) = WINDOWS[w];
    format!("{n} {unit}")
}

/// The excluded start of window `w` as of `t`.
fn window_start(w: usize, t: DateTime<Utc>) -> DateTime<Utc> {
    let (n, unit) = WINDOWS[w];
    if unit.starts_with("month") {
        t.checked_sub_months(Months::new(n)).unwrap()
    } else if unit.starts_with("week") {
        t - Duration::days(7 * i64::from(n))
    } else {
        t - Duration::days(i64::from(n))
    }
}

// ---------------------------------------------------------------------------------------
// Constants relative to the evaluation instant
// ---------------------------------------------------------------------------------------

/// A date, relative to the evaluation instant `t` where that keeps it near the data.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DateLit {
    /// `n` days before `t`'s date (after it when negative).
    Days(i64),
    /// `y` years before `t`'s date (29 February clamped to 28), then `shift` days later.
    Years(u32, i64),
    /// `m` calendar months before `t`'s date.
    Months(u32),
    /// A fixed date.
    Fixed(i32, u32, u32),
}

impl DateLit {
    fn resolve(self, t: DateTime<Utc>) -> NaiveDate {
        let today = t.date_naive();
        match self {
            DateLit::Days(n) => today - Duration::days(n),
            DateLit::Years(y, shift) => today.checked_sub_months(Months::new(12 * y)).unwrap() + Duration::days(shift),
            DateLit::Months(m) => today.checked_sub_months(Months::new(m)).unwrap(),
            DateLit::Fixed(y, m, d) => NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        }
    }
}

/// An instant, relative to the evaluation instant `t`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At {
    /// Exactly `t`.
    T,
    /// `secs` seconds after `t`.
    After(i64),
    /// The excluded start of window `w` as of `t`, moved by `micros` microseconds.
    Edge(usize, i64),
    /// `days` days and `secs` seconds before `t`.
    Before(i64, i64),
    /// `nanos` nanoseconds after `t` (before it when negative).
    Nanos(i64),
    /// During the leap second at the end of the day before `t`'s, `nanos` into it.
    Leap(u32),
    /// `years` years of 365 days after `t` (before it when negative): outside the years 1677
    /// to 2262 that nanoseconds in `i64` cover.
    Years(i64),
}

/// The leap second ending the day before `t`'s date, `nanos` (under 10^9) into it.
pub(crate) fn leap_second(t: DateTime<Utc>, nanos: u32) -> DateTime<Utc> {
    let day = t.date_naive().pred_opt().unwrap();
    day.and_hms_nano_opt(23, 59, 59, 1_000_000_000 + nanos).unwrap().and_utc()
}

impl At {
    fn resolve(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            At::T => t,
            At::After(secs) => t + Duration::seconds(secs),
            At::Edge(w, micros) => window_start(w, t) + Duration::microseconds(micros),
            At::Before(days, secs) => t - Duration::days(days) - Duration::seconds(secs),
            At::Nanos(nanos) => t + Duration::nanoseconds(nanos),
            At::Leap(nanos) => leap_second(t, nanos),
            At::Years(years) => t + Duration::days(365 * years),
        }
    }
}

fn date_lit(days: std::ops::RangeInclusive<i64>) -> BoxedStrategy<DateLit> {
    prop_oneof![
        6 => days.prop_map(DateLit::Days),
        2 => select(&[0i64, 1, 7, 14, 30, 90, 365, -1][..]).prop_map(DateLit::Days),
        2 => select(&[1u32, 3, 12][..]).prop_map(DateLit::Months),
        2 => (0u32..4, -1i64..=1).prop_map(|(y, s)| DateLit::Years(y, s)),
        1 => select(&[(1500, 1, 1), (1677, 9, 21), (2262, 4, 12), (2500, 1, 1)][..])
            .prop_map(|(y, m, d)| DateLit::Fixed(y, m, d)),
    ]
    .boxed()
}

fn birth_lit() -> BoxedStrategy<DateLit> {
    prop_oneof![
        2 => (0u32..=90, -1i64..=1).prop_map(|(y, s)| DateLit::Years(y, s)),
        1 => (0i64..=33_000).prop_map(DateLit::Days),
        1 => select(&[1960, 1980, 1996, 2000, 2004][..]).prop_map(|y| DateLit::Fixed(y, 2, 29)),
        1 => select(&[(1927, 12, 31), (1928, 1, 1), (1996, 12, 31), (1997, 1, 1), (2012, 12, 31), (2013, 1, 1)][..])
            .prop_map(|(y, m, d)| DateLit::Fixed(y, m, d)),
    ]
    .boxed()
}

fn at() -> BoxedStrategy<At> {
    prop_oneof![
        2 => Just(At::T),
        1 => (1i64..=86_400 * 40).prop_map(At::After),
        4 => (0..WINDOWS.len(), -1i64..=1).prop_map(|(w, m)| At::Edge(w, m)),
        3 => (0i64..=900, 0i64..86_400).prop_map(|(d, s)| At::Before(d, s)),
        1 => select(&[-1_000i64, -1, 1, 999][..]).prop_map(At::Nanos),
        1 => select(&[0u32, 1, 500_000_000, 999_999_999][..]).prop_map(At::Leap),
        1 => select(&[-400i64, 300][..]).prop_map(At::Years),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------

/// A literal.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Int(i64),
    /// Minor units of EGP.
    Money(i64),
    /// Mantissa and scale.
    Dec(i64, u8),
    Text(&'static str),
    Date(DateLit),
    Sym(&'static str),
    Bool(bool),
}

impl Lit {
    fn render(&self, t: DateTime<Utc>) -> String {
        match self {
            Lit::Int(n) => n.to_string(),
            // Whole amounts are sometimes written as whole numbers.
            Lit::Money(m) if m % 100 == 0 && m % 300 == 0 => (m / 100).to_string(),
            Lit::Money(m) => format!("{}.{:02}", m / 100, m % 100),
            Lit::Dec(m, s) => Decimal::new(*m, i32::from(*s)).unwrap().to_string(),
            Lit::Text(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Lit::Date(d) => d.resolve(t).format("%Y-%m-%d").to_string(),
            Lit::Sym(s) => (*s).to_owned(),
            Lit::Bool(b) => b.to_string(),
        }
    }
}

/// A test, with abstract literals.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Cmp(&'static str, Lit),
    In(bool, Vec<Lit>),
    Between(bool, Lit, Lit),
    Has(Lit),
    HasAny(Vec<Lit>),
    HasAll(Vec<Lit>),
    Contains(Lit),
    StartsWith(Lit),
    EndsWith(Lit),
    IsSet(bool),
    Within(usize),
    Before(Lit),
    After(Lit),
    Bare,
}

fn list(items: &[Lit], t: DateTime<Utc>) -> String {
    items.iter().map(|l| l.render(t)).collect::<Vec<_>>().join(", ")
}

impl Test {
    fn render(&self, t: DateTime<Utc>) -> String {
        let not = |n: &bool| if *n { "not " } else { "" };
        match self {
            Test::Cmp(op, v) => format!(" {op} {}", v.render(t)),
            Test::In(n, vs) => format!(" {}in ({})", not(n), list(vs, t)),
            Test::Between(n, a, b) => format!(" {}between {} and {}", not(n), a.render(t), b.render(t)),
            Test::Has(v) => format!(" has {}", v.render(t)),
            Test::HasAny(vs) => format!(" has any ({})", list(vs, t)),
            Test::HasAll(vs) => format!(" has all ({})", list(vs, t)),
            Test::Contains(v) => format!(" contains {}", v.render(t)),
            Test::StartsWith(v) => format!(" starts with {}", v.render(t)),
            Test::EndsWith(v) => format!(" ends with {}", v.render(t)),
            Test::IsSet(n) => format!(" is {}set", not(n)),
            Test::Within(w) => format!(" within {}", window_text(*w)),
            Test::Before(v) => format!(" before {}", v.render(t)),
            Test::After(v) => format!(" after {}", v.render(t)),
            Test::Bare => String::new(),
        }
    }
}

/// One condition: an operand and a test.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub(crate) operand: String,
    pub(crate) test: Test,
}

const CMP: &[&str] = &["=", "!=", "<", "<=", ">", ">="];

/// Comparisons, `[not] in`, `[not] between`, `is [not] set`; with `dates`, also `within`,
/// `before` and `after`.
fn ordered(lit: BoxedStrategy<Lit>, dates: bool) -> BoxedStrategy<Test> {
    let mut arms = vec![
        (select(CMP), lit.clone()).prop_map(|(op, v)| Test::Cmp(op, v)).boxed(),
        (any::<bool>(), vec(lit.clone(), 1..4)).prop_map(|(n, vs)| Test::In(n, vs)).boxed(),
        (any::<bool>(), lit.clone(), lit.clone()).prop_map(|(n, a, b)| Test::Between(n, a, b)).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ];
    if dates {
        arms.push((0..WINDOWS.len()).prop_map(Test::Within).boxed());
        arms.push(lit.clone().prop_map(Test::Before).boxed());
        arms.push(lit.prop_map(Test::After).boxed());
    }
    Union::new(arms).boxed()
}

/// `=`, `!=`, `[not] in`, `is [not] set` over enumerated names.
fn symbols(names: &'static [&'static str]) -> BoxedStrategy<Test> {
    let sym = select(names).prop_map(Lit::Sym).boxed();
    Union::new(vec![
        (select(&["=", "!="][..]), sym.clone()).prop_map(|(op, v)| Test::Cmp(op, v)).boxed(),
        (any::<bool>(), vec(sym, 1..4)).prop_map(|(n, vs)| Test::In(n, vs)).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ])
    .boxed()
}

/// The text tests.
fn texts() -> BoxedStrategy<Test> {
    let lit = select(TEXT_LITERALS).prop_map(Lit::Text).boxed();
    Union::new(vec![
        (select(&["=", "!="][..]), lit.clone()).prop_map(|(op, v)| Test::Cmp(op, v)).boxed(),
        (any::<bool>(), vec(lit.clone(), 1..4)).prop_map(|(n, vs)| Test::In(n, vs)).boxed(),
        lit.clone().prop_map(Test::Contains).boxed(),
        lit.clone().prop_map(Test::StartsWith).boxed(),
        lit.prop_map(Test::EndsWith).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ])
    .boxed()
}

fn countries() -> BoxedStrategy<Test> {
    let lit = select(COUNTRIES).prop_map(Lit::Text).boxed();
    Union::new(vec![
        (select(&["=", "!="][..]), lit.clone()).prop_map(|(op, v)| Test::Cmp(op, v)).boxed(),
        (any::<bool>(), vec(lit, 1..4)).prop_map(|(n, vs)| Test::In(n, vs)).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ])
    .boxed()
}

/// `has`, `has any`, `has all`, `is [not] set` over `lit`.
fn sets(lit: BoxedStrategy<Lit>) -> BoxedStrategy<Test> {
    Union::new(vec![
        lit.clone().prop_map(Test::Has).boxed(),
        vec(lit.clone(), 1..4).prop_map(Test::HasAny).boxed(),
        vec(lit, 1..3).prop_map(Test::HasAll).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ])
    .boxed()
}

fn booleans() -> BoxedStrategy<Test> {
    Union::new(vec![
        Just(Test::Bare).boxed(),
        (select(&["=", "!="][..]), any::<bool>()).prop_map(|(op, b)| Test::Cmp(op, Lit::Bool(b))).boxed(),
        any::<bool>().prop_map(Test::IsSet).boxed(),
    ])
    .boxed()
}

fn ints(range: std::ops::RangeInclusive<i64>, edges: &'static [i64]) -> BoxedStrategy<Test> {
    ordered(prop_oneof![3 => range.prop_map(Lit::Int), 1 => select(edges).prop_map(Lit::Int)].boxed(), false)
}

/// Amounts whose sums overflow `i64`: sums saturate at `i64::MAX`.
const HUGE: &[i64] = &[i64::MAX / 3, i64::MAX / 2, i64::MAX / 3 * 2, i64::MAX - 1, i64::MAX];

/// Amounts up to `max` minor units (and [`HUGE`] ones); `zero` weighs how often the amount is 0 (most trailing
/// windows are empty).
fn money(max: i64, zero: u32) -> BoxedStrategy<Test> {
    let lit = prop_oneof![
        3 => (0..=max).prop_map(Lit::Money),
        1 => (0..=max / 100).prop_map(|m| Lit::Money(m * 100)),
        zero => Just(Lit::Money(0)),
        1 => select(HUGE).prop_map(Lit::Money),
    ];
    ordered(lit.boxed(), false)
}

fn dates(lit: BoxedStrategy<DateLit>) -> BoxedStrategy<Test> {
    ordered(lit.prop_map(Lit::Date).boxed(), true)
}

/// A condition template: the operand it covers and its conditions.
struct Template {
    key: &'static str,
    conditions: BoxedStrategy<Cond>,
}

fn on(key: &'static str, tests: BoxedStrategy<Test>) -> Template {
    Template { key, conditions: tests.prop_map(move |test| Cond { operand: key.to_owned(), test }).boxed() }
}

/// A windowed function: `purchases(last W)` or `spent(last W)`.
fn windowed(key: &'static str, function: &'static str, tests: BoxedStrategy<Test>) -> Template {
    let conditions = (0..WINDOWS.len(), tests)
        .prop_map(move |(w, test)| Cond { operand: format!("{function}(last {})", window_text(w)), test })
        .boxed();
    Template { key, conditions }
}

/// A template for every built-in field, declared attribute and windowed function.
fn templates() -> Vec<Template> {
    let recent = || date_lit(-60..=1000);
    vec![
        on("stage", symbols(STAGES)),
        on("gender", symbols(GENDERS)),
        on("generation", symbols(GENERATIONS)),
        on("credit", symbols(CREDITS)),
        on("age", ints(0..=95, &[-1, 0, 18, 30, 85, 200])),
        on("birth_date", dates(birth_lit())),
        on("country", countries()),
        on("region", texts()),
        on("city", texts()),
        on("interests", sets(select(TAGS).prop_map(Lit::Text).boxed())),
        on("lifestyle", sets(select(TAGS).prop_map(Lit::Text).boxed())),
        on("needs", sets(select(TAGS).prop_map(Lit::Text).boxed())),
        on("channels", sets(select(CHANNELS).prop_map(Lit::Sym).boxed())),
        on("preferred_channels", sets(select(CHANNELS).prop_map(Lit::Sym).boxed())),
        on("opted_out_channels", sets(select(CHANNELS).prop_map(Lit::Sym).boxed())),
        on("loyalty_member", booleans()),
        on("loyalty_joined", dates(date_lit(-30..=1600))),
        on("referrals", ints(0..=6, &[-1, 0, 1])),
        on("exclusive", booleans()),
        on("purchases", ints(0..=22, &[0, 1, 2])),
        on("spent", money(3_000_000, 1)),
        on("first_purchase", dates(recent())),
        on("last_purchase", dates(recent())),
        on("created_at", dates(recent())),
        on("stage_since", dates(recent())),
        on("income", money(20_000_000, 1)),
        on("rfm.r", ints(1..=5, &[0, 1, 5, 6])),
        on("rfm.f", ints(1..=5, &[0, 1, 5, 6])),
        on("rfm.m", ints(1..=5, &[0, 1, 5, 6])),
        on("rfm.group", symbols(RFM_GROUPS)),
        on("attr.nps", ints(-1..=11, &[0, 10])),
        on("attr.survey_done", booleans()),
        on(
            "attr.score",
            ordered(
                prop_oneof![(-400i64..=400, 0u8..=3).prop_map(|(m, s)| Lit::Dec(m, s)), Just(Lit::Dec(15, 1))].boxed(),
                false,
            ),
        ),
        on("attr.wallet", money(100_000, 1)),
        on("attr.nickname", texts()),
        on("attr.renewal", dates(date_lit(-400..=400))),
        on("attr.labels", sets(select(LABELS).prop_map(Lit::Text).boxed())),
        windowed("purchases(last ...)", "purchases", ints(0..=5, &[0, 1])),
        windowed("spent(last ...)", "spent", money(300_000, 3)),
    ]
}

pub(crate) fn condition() -> BoxedStrategy<Cond> {
    Union::new(templates().into_iter().map(|t| t.conditions)).boxed()
}

/// A segment tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Cond(Cond),
    Const(bool),
    /// `segment "nK"`.
    Ref(u8),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// Trees of `and`/`or`/`not` up to `depth` deep over conditions, constants and references.
pub(crate) fn tree(depth: u32) -> BoxedStrategy<Node> {
    let leaf = prop_oneof![
        14 => condition().prop_map(Node::Cond),
        1 => any::<bool>().prop_map(Node::Const),
        2 => (0u8..2).prop_map(Node::Ref),
    ];
    leaf.prop_recursive(depth, 24, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 2..4).prop_map(Node::And),
            vec(inner.clone(), 2..4).prop_map(Node::Or),
            inner.prop_map(|n| Node::Not(Box::new(n))),
        ]
    })
    .boxed()
}

impl Node {
    /// The text of the tree as of `t`; inside the definition of `segment "nK"`, references
    /// to `nK` and later names become constants (no cycles).
    pub(crate) fn render(&self, t: DateTime<Utc>, defining: Option<u8>) -> String {
        let join = |items: &[Node], op: &str| {
            items.iter().map(|i| format!("({})", i.render(t, defining))).collect::<Vec<_>>().join(op)
        };
        match self {
            Node::Cond(c) => format!("{}{}", c.operand, c.test.render(t)),
            Node::Const(b) => b.to_string(),
            Node::Ref(k) if defining.is_some_and(|d| *k >= d) => (k % 2 == 0).to_string(),
            Node::Ref(k) => format!("segment \"n{k}\""),
            Node::And(items) => join(items, " and "),
            Node::Or(items) => join(items, " or "),
            Node::Not(inner) => format!("not ({})", inner.render(t, defining)),
        }
    }
}

/// The schema: every attribute type, and the named segments `n0` and `n1` (which may
/// refer to `n0`).
pub(crate) fn schema(named: &[Node], t: DateTime<Utc>, customers: &[Customer]) -> Schema {
    // RFM scores of these customers at `t`, for the `rfm.*` fields.
    let rfm = RfmScores::compute(customers, t, &RfmConfig { currency: EGP, ..RfmConfig::default() }).unwrap();
    let mut schema = ATTRS.iter().fold(Schema::new(EGP).with_rfm(std::sync::Arc::new(rfm)), |s, (name, ty)| {
        s.with_attribute(name, *ty).unwrap()
    });
    for (k, node) in (0u8..).zip(named) {
        schema.define(&format!("n{k}"), &node.render(t, Some(k))).unwrap();
    }
    schema
}

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

/// The value of a custom attribute, of any type.
#[derive(Debug, Clone)]
pub(crate) enum Attr {
    Bool(bool),
    Int(i64),
    Dec(i64, u8),
    Money(i64, bool),
    Text(&'static str),
    Date(DateLit),
    List(Vec<&'static str>),
}

impl Attr {
    fn value(&self, t: DateTime<Utc>) -> AttrValue {
        match self {
            Attr::Bool(b) => AttrValue::Bool(*b),
            Attr::Int(n) => AttrValue::Int(*n),
            Attr::Dec(m, s) => AttrValue::Decimal(Decimal::new(*m, i32::from(*s)).unwrap()),
            Attr::Money(m, usd) => AttrValue::Money(Money::new(*m, if *usd { USD } else { EGP })),
            Attr::Text(s) => AttrValue::Text((*s).to_owned()),
            Attr::Date(d) => AttrValue::Date(d.resolve(t)),
            Attr::List(items) => AttrValue::TextList(items.iter().map(|s| (*s).to_owned()).collect()),
        }
    }
}

/// A value of the declared type of attribute `i` of [`ATTRS`].
fn typed_attr(i: usize) -> BoxedStrategy<Attr> {
    match ATTRS[i].1 {
        AttrType::Bool => any::<bool>().prop_map(Attr::Bool).boxed(),
        AttrType::Int => (-1i64..=11).prop_map(Attr::Int).boxed(),
        AttrType::Decimal => (-400i64..=400, 0u8..=3).prop_map(|(m, s)| Attr::Dec(m, s)).boxed(),
        AttrType::Money => (0i64..=100_000, prop::bool::weighted(0.2)).prop_map(|(m, u)| Attr::Money(m, u)).boxed(),
        AttrType::Text => select(TEXTS).prop_map(Attr::Text).boxed(),
        AttrType::Date => date_lit(-400..=400).prop_map(Attr::Date).boxed(),
        _ => vec(select(LABELS), 0..4).prop_map(Attr::List).boxed(),
    }
}

/// A value of any type: usually the wrong one for the attribute it is stored in.
fn any_attr() -> BoxedStrategy<Attr> {
    Union::new((0..ATTRS.len()).map(typed_attr)).boxed()
}

/// A hand-made change to a customer, relative to the evaluation instant.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    NoBirth,
    Birth(DateLit),
    /// A purchase of `minor` units of EGP (USD with `usd`).
    Purchase(At, i64, bool),
    NoPurchases,
    /// Three purchases of the same [`HUGE`] amount in EGP, whose sums overflow.
    Whale([At; 3], i64),
    /// Replaces interests (0), lifestyle (1) or needs (2).
    Tags(u8, Vec<&'static str>),
    City(Option<&'static str>),
    Region(Option<&'static str>),
    Country(Option<&'static str>),
    /// Sets (or removes) attribute `i` of [`ATTRS`].
    Attr(usize, Option<Attr>),
    /// Income in EGP (USD with `true`).
    Income(Option<(i64, bool)>),
    /// Preferred and opted-out channel masks.
    Channels(u16, u16),
    Loyalty(Option<DateLit>),
    /// Stage `STAGES[i]` since an instant.
    Stage(usize, At),
    Gender(usize),
    Credit(usize),
    Referrals(u32),
    Exclusive(bool),
    /// The customer entered the CRM at another instant.
    Created(At),
}

pub(crate) fn edit() -> BoxedStrategy<Edit> {
    let attr = (0..ATTRS.len()).prop_flat_map(|i| {
        prop_oneof![
            3 => typed_attr(i).prop_map(move |v| Edit::Attr(i, Some(v))),
            2 => any_attr().prop_map(move |v| Edit::Attr(i, Some(v))),
            1 => Just(Edit::Attr(i, None)),
        ]
    });
    Union::new_weighted(vec![
        (2, Just(Edit::NoBirth).boxed()),
        (3, birth_lit().prop_map(Edit::Birth).boxed()),
        (
            8,
            (at(), prop_oneof![12 => 0i64..=300_000, 1 => select(HUGE)], prop::bool::weighted(0.25))
                .prop_map(|(a, m, u)| Edit::Purchase(a, m, u))
                .boxed(),
        ),
        (1, Just(Edit::NoPurchases).boxed()),
        (1, ([at(), at(), at()], select(HUGE)).prop_map(|(ats, m)| Edit::Whale(ats, m)).boxed()),
        (3, (0u8..3, vec(select(TAGS), 0..4)).prop_map(|(f, v)| Edit::Tags(f, v)).boxed()),
        (2, prop::option::weighted(0.85, select(TEXTS)).prop_map(Edit::City).boxed()),
        (2, prop::option::weighted(0.85, select(TEXTS)).prop_map(Edit::Region).boxed()),
        (1, prop::option::of(select(&["EG", "SA", "US", "ZZ"][..])).prop_map(Edit::Country).boxed()),
        (6, attr.boxed()),
        (2, prop::option::of((0i64..=20_000_000, prop::bool::weighted(0.3))).prop_map(Edit::Income).boxed()),
        (2, (0u16..512, 0u16..512).prop_map(|(p, o)| Edit::Channels(p, o)).boxed()),
        (2, prop::option::of(date_lit(-30..=1600)).prop_map(Edit::Loyalty).boxed()),
        (2, (0..STAGES.len(), at()).prop_map(|(s, a)| Edit::Stage(s, a)).boxed()),
        (1, (0..GENDERS.len()).prop_map(Edit::Gender).boxed()),
        (1, (0..CREDITS.len()).prop_map(Edit::Credit).boxed()),
        (1, (0u32..=6).prop_map(Edit::Referrals).boxed()),
        (1, any::<bool>().prop_map(Edit::Exclusive).boxed()),
        (2, at().prop_map(Edit::Created).boxed()),
    ])
    .boxed()
}

fn channel_set(mask: u16) -> ChannelSet {
    Channel::ALL.into_iter().filter(|c| mask >> (*c as u16) & 1 != 0).collect()
}

fn tag_set(tags: &[&str]) -> TagSet {
    tags.iter().copied().collect()
}

pub(crate) fn apply(c: &mut Customer, edit: &Edit, t: DateTime<Utc>) {
    match edit {
        Edit::NoBirth => c.profile.birth_date = None,
        Edit::Birth(d) => c.profile.birth_date = Some(d.resolve(t)),
        Edit::Purchase(at, minor, usd) => {
            let mut list = c.purchases().as_slice().to_vec();
            let mut p = Purchase::new(at.resolve(t), Money::new(*minor, if *usd { USD } else { EGP }));
            if minor % 2 == 0 {
                p = p.with_cost(Money::new(minor / 2, if *usd { USD } else { EGP }));
            }
            list.push(p);
            *c = c.clone().with_purchases(list).unwrap();
        }
        Edit::NoPurchases => *c = c.clone().with_purchases(Vec::new()).unwrap(),
        Edit::Whale(ats, minor) => {
            let mut list = c.purchases().as_slice().to_vec();
            list.extend(ats.iter().map(|at| Purchase::new(at.resolve(t), Money::new(*minor, EGP))));
            *c = c.clone().with_purchases(list).unwrap();
        }
        Edit::Tags(0, tags) => c.interests = tag_set(tags),
        Edit::Tags(1, tags) => c.lifestyle = tag_set(tags),
        Edit::Tags(_, tags) => c.needs = tag_set(tags),
        Edit::City(s) => c.profile.location.city = s.map(str::to_owned),
        Edit::Region(s) => c.profile.location.region = s.map(str::to_owned),
        Edit::Country(s) => c.profile.location.country = s.map(|s| CountryCode::new(s).unwrap()),
        Edit::Attr(i, None) => {
            c.attributes.remove(ATTRS[*i].0);
        }
        Edit::Attr(i, Some(v)) => {
            c.attributes.set(ATTRS[*i].0, v.value(t)).unwrap();
        }
        Edit::Income(m) => {
            c.profile.annual_income = m.map(|(m, usd)| Money::new(m, if usd { USD } else { EGP }));
        }
        Edit::Channels(p, o) => {
            c.channels.preferred = channel_set(*p);
            c.channels.opted_out = channel_set(*o);
        }
        Edit::Loyalty(d) => {
            c.loyalty = d.map(|d| Loyalty { card_id: format!("LC-{}", c.id().get()), joined: d.resolve(t) });
        }
        Edit::Stage(i, since) => {
            let stage = Stage::ALL[*i];
            let resume = matches!(stage, Stage::Inactive | Stage::Lost).then_some(Stage::Repeat);
            *c = c.clone().with_lifecycle(LifecycleState::at_stage(stage, since.resolve(t), resume).unwrap());
        }
        Edit::Gender(i) => c.profile.gender = Gender::ALL[*i],
        Edit::Credit(i) => c.credit = CreditStanding::ALL[*i],
        Edit::Referrals(n) => c.referrals = *n,
        Edit::Exclusive(b) => c.exclusive = *b,
        Edit::Created(at) => {
            let mut fresh = Customer::new(c.id(), c.profile.display_name.clone(), at.resolve(t))
                .with_lifecycle(*c.lifecycle())
                .with_purchases(c.purchases().as_slice().to_vec())
                .unwrap();
            fresh.profile = c.profile.clone();
            fresh.interests = c.interests.clone();
            fresh.lifestyle = c.lifestyle.clone();
            fresh.needs = c.needs.clone();
            fresh.channels = c.channels;
            fresh.loyalty = c.loyalty.clone();
            fresh.credit = c.credit;
            fresh.referrals = c.referrals;
            fresh.exclusive = c.exclusive;
            fresh.attributes = c.attributes.clone();
            *c = fresh;
        }
    }
}

/// The evaluation instant, chosen from the synthetic population before the edits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum When {
    /// [`base`] moved by seconds and nanoseconds.
    Offset(i64, i64),
    /// In the leap second ending the day before [`base`] + `days`, `nanos` into it.
    Leap(i64, u32),
    /// `secs` into a year far from the data (outside 1677 to 2262 for some).
    Year(i32, i64),
    /// Midnight `days` after [`base`].
    Midnight(i64),
    /// Exactly at a purchase of the `i`th customer (or the next one with purchases).
    OnPurchase(usize, usize),
    /// Where a purchase is exactly at the excluded start of window `w`.
    WindowEdge(usize, usize, usize),
    /// On the `years`th birthday of the `i`th customer with a birth date, `secs` into the day.
    Birthday(usize, u32, u32),
}

fn when() -> BoxedStrategy<When> {
    prop_oneof![
        3 => (-4 * 365 * 86_400i64..=365 * 86_400, prop_oneof![Just(0i64), 0i64..1_000_000_000])
            .prop_map(|(s, n)| When::Offset(s, n)),
        1 => (-4 * 365i64..=365, 0u32..1_000_000_000).prop_map(|(d, n)| When::Leap(d, n)),
        1 => (select(&[1500, 1677, 1700, 2262, 2300][..]), 0i64..365 * 86_400).prop_map(|(y, s)| When::Year(y, s)),
        1 => (-4 * 365i64..=365).prop_map(When::Midnight),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| When::OnPurchase(i, j)),
        2 => (any::<usize>(), any::<usize>(), 0..WINDOWS.len()).prop_map(|(i, j, w)| When::WindowEdge(i, j, w)),
        2 => (any::<usize>(), 0u32..=90, prop_oneof![Just(0u32), 0u32..86_400]).prop_map(|(i, y, s)| When::Birthday(i, y, s)),
    ]
    .boxed()
}

impl When {
    fn resolve(self, customers: &[Customer]) -> DateTime<Utc> {
        let n = customers.len().max(1);
        let with_purchases = |i: usize| {
            (0..customers.len()).map(|k| &customers[(i + k) % n]).find(|c| !c.purchases().as_slice().is_empty())
        };
        match self {
            When::Offset(secs, nanos) => base() + Duration::seconds(secs) + Duration::nanoseconds(nanos),
            When::Leap(days, nanos) => leap_second(base() + Duration::days(days), nanos),
            When::Year(year, secs) => Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(secs),
            When::Midnight(days) => base() + Duration::days(days),
            When::OnPurchase(i, j) => with_purchases(i).map_or(base(), |c| {
                let list = c.purchases().as_slice();
                list[j % list.len()].at
            }),
            When::WindowEdge(i, j, w) => with_purchases(i).map_or(base(), |c| {
                let list = c.purchases().as_slice();
                let at = list[j % list.len()].at;
                let (amount, unit) = WINDOWS[w];
                if unit.starts_with("month") {
                    at.checked_add_months(Months::new(amount)).unwrap()
                } else {
                    at + (window_start(w, base()) - base()).abs()
                }
            }),
            When::Birthday(i, years, secs) => {
                let born = (0..customers.len()).find_map(|k| customers[(i + k) % n].profile.birth_date);
                born.map_or(base(), |b| {
                    let day = b.checked_add_months(Months::new(12 * years)).unwrap();
                    day.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::seconds(i64::from(secs))
                })
            }
        }
    }
}

/// One generated case: a population, an instant, edits, named segments and segments.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) seed: u64,
    pub(crate) n: usize,
    pub(crate) when: When,
    pub(crate) edits: Vec<(usize, Edit)>,
    pub(crate) named: Vec<Node>,
    pub(crate) segments: Vec<Node>,
}

pub(crate) fn case(
    n: BoxedStrategy<usize>,
    edits: std::ops::Range<usize>,
    segments: std::ops::Range<usize>,
) -> BoxedStrategy<Case> {
    (0u64..1_000, n, when(), vec((any::<usize>(), edit()), edits), vec(tree(2), 2), vec(tree(4), segments))
        .prop_map(|(seed, n, when, edits, named, segments)| Case { seed, n, when, edits, named, segments })
        .boxed()
}

/// Fills what [`Population`] leaves empty (regions, incomes, the attributes other than `nps`
/// and `survey_done`) for most customers, deterministically, with values near `t`.
fn enrich(c: &mut Customer, t: DateTime<Utc>) {
    // splitmix64 on the id.
    let mut state = c.id().get().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = |n: u64| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let small = |n: u64| i64::try_from(n).unwrap();
    let pick = |n: u64, items: &[&'static str]| items[usize::try_from(n).unwrap() % items.len()];
    if next(2) == 0 {
        c.profile.location.region = Some(pick(next(64), TEXTS).to_owned());
    }
    if next(2) == 0 {
        let currency = if next(8) == 0 { USD } else { EGP };
        c.profile.annual_income = Some(Money::new(small(next(20_000_000)), currency));
    }
    let mut set = |name: &str, v: AttrValue| c.attributes.set(name, v).unwrap();
    if next(10) < 7 {
        set(
            "score",
            AttrValue::Decimal(Decimal::new(small(next(801)) - 400, i32::try_from(next(4)).unwrap()).unwrap()),
        );
    }
    if next(10) < 7 {
        let currency = if next(8) == 0 { USD } else { EGP };
        set("wallet", AttrValue::Money(Money::new(small(next(100_001)), currency)));
    }
    if next(10) < 6 {
        set("nickname", AttrValue::Text(pick(next(64), TEXTS).to_owned()));
    }
    if next(10) < 6 {
        set("renewal", AttrValue::Date(t.date_naive() - Duration::days(small(next(801)) - 400)));
    }
    if next(10) < 6 {
        let items = (0..next(4)).map(|_| pick(next(64), LABELS).to_owned()).collect();
        set("labels", AttrValue::TextList(items));
    }
}

/// The customers of a case, enriched and with the edits applied, and the instant.
pub(crate) fn customers(case: &Case) -> (Vec<Customer>, DateTime<Utc>) {
    let mut customers = Population::new(case.seed).customers(case.n);
    let t = case.when.resolve(&customers);
    for c in &mut customers {
        enrich(c, t);
    }
    if !customers.is_empty() {
        let n = customers.len();
        for (i, e) in &case.edits {
            apply(&mut customers[i % n], e, t);
        }
    }
    (customers, t)
}

// ---------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------

fn ids(mut v: Vec<CustomerId>) -> Vec<CustomerId> {
    v.sort();
    v
}

/// Every evaluator's members of `segment`, checked against the interpreter's; returns how
/// many members there are.
fn agree(
    segment: &Segment,
    text: &str,
    customers: &[Customer],
    snapshot: &Snapshot,
    store: &MemoryStore,
    sql_stores: &[(&'static str, Box<dyn Store>)],
    t: DateTime<Utc>,
) -> Result<usize, TestCaseError> {
    let expected = ids(customers.iter().filter(|c| segment.matches(c, t)).map(Customer::id).collect());
    let explain = |name: &str, got: &[CustomerId]| {
        let differs =
            customers.iter().find(|c| expected.binary_search(&c.id()).is_ok() != got.binary_search(&c.id()).is_ok());
        format!(
            "{name} disagrees with the interpreter on `{text}` at {t:?}: {} vs {} members; first difference {:#?}",
            got.len(),
            expected.len(),
            differs
        )
    };
    let matcher = segment.at(t);
    let bound = ids(customers.iter().filter(|c| matcher.matches(c)).map(Customer::id).collect());
    prop_assert!(bound == expected, "{}", explain("Segment::at", &bound));
    let rows = |b: clientele::segment::Bitmap| ids(b.iter().map(|r| snapshot.id(r).unwrap()).collect());
    let batch = rows(segment.evaluate(snapshot, t).unwrap());
    prop_assert!(batch == expected, "{}", explain("Segment::evaluate", &batch));
    for threads in 2..=5 {
        let parallel = rows(segment.evaluate_parallel(snapshot, t, threads).unwrap());
        prop_assert!(parallel == expected, "{}", explain(&format!("evaluate_parallel({threads})"), &parallel));
    }
    let queried = store.query(segment, t).unwrap();
    prop_assert!(queried == expected, "{}", explain("MemoryStore::query", &queried));
    for (name, sql_store) in sql_stores {
        let queried = sql_store.query(segment, t).unwrap();
        prop_assert!(queried == expected, "{}", explain(name, &queried));
    }
    Ok(expected.len())
}

/// The database stores the customers are loaded into, by the name of their query: their
/// segment queries run in SQL (pushdown) and must give the interpreter's members.
fn sql_stores(customers: &[Customer]) -> Vec<(&'static str, Box<dyn Store>)> {
    #[allow(unused_mut, reason = "empty without the database features")]
    let mut stores: Vec<(&'static str, Box<dyn Store>)> = Vec::new();
    #[cfg(feature = "sqlite")]
    {
        let sqlite = clientele::SqliteStore::in_memory().unwrap();
        for c in customers {
            sqlite.insert(c.clone()).unwrap();
        }
        stores.push(("SqliteStore::query (pushdown)", Box::new(sqlite)));
    }
    // Not the large populations: they are there for the batch evaluator's block boundaries,
    // which SQL does not have, and building their rows again (JSON, in a debug build) would
    // add half a minute to the suite.
    #[cfg(feature = "postgres")]
    if let Some(postgres) = (customers.len() <= 1_000).then(crate::pg_server::fresh_store).flatten() {
        postgres.insert_many(customers.to_vec()).unwrap();
        stores.push(("PostgresStore::query (pushdown)", Box::new(postgres)));
    }
    let _ = customers;
    stores
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let (customers, t) = customers(case);
    let schema = schema(&case.named, t, &customers);
    let snapshot = Snapshot::build(&customers, &schema);
    let store = MemoryStore::new();
    for c in &customers {
        store.insert(c.clone()).unwrap();
    }
    let sql_stores = sql_stores(&customers);
    for node in &case.segments {
        let text = node.render(t, None);
        let segment = Segment::compile(&text, &schema).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        agree(&segment, &text, &customers, &snapshot, &store, &sql_stores, t)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    /// Small populations (one block), many cases.
    #[test]
    fn evaluators_agree_on_small_populations(case in case((0usize..=200).boxed(), 0..40, 1..5)) {
        run(&case)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Populations across the 2 048-row block boundaries, so that the parallel evaluator
    /// splits them between threads.
    #[test]
    fn evaluators_agree_across_blocks(
        case in case(prop_oneof![Just(2_047usize), Just(2_049), Just(4_096), Just(4_097), 2_000usize..=5_000].boxed(), 0..120, 3..6)
    ) {
        run(&case)?;
    }
}

// ---------------------------------------------------------------------------------------
// Deterministic checks
// ---------------------------------------------------------------------------------------

#[test]
fn the_generator_covers_every_field_attribute_type_and_name() {
    let builtin: Vec<&str> = Schema::fields().iter().map(|f| f.name).collect();
    assert_eq!(builtin, FIELDS, "a field was added to the schema: add a template for it");
    let keys: Vec<&str> = templates().iter().map(|t| t.key).collect();
    for field in FIELDS {
        assert!(keys.contains(field), "no template for {field}");
    }
    for (name, _) in ATTRS {
        assert!(keys.contains(&format!("attr.{name}").as_str()), "no template for attr.{name}");
    }
    assert!(keys.contains(&"purchases(last ...)") && keys.contains(&"spent(last ...)"));
    let types = [
        AttrType::Bool,
        AttrType::Int,
        AttrType::Decimal,
        AttrType::Money,
        AttrType::Text,
        AttrType::Date,
        AttrType::TextList,
    ];
    for ty in types {
        assert!(ATTRS.iter().any(|(_, t)| *t == ty), "no attribute of type {ty:?}");
    }
    let names = |all: &[&'static str]| all.to_vec();
    assert_eq!(names(STAGES), Stage::ALL.iter().map(|s| s.name()).collect::<Vec<_>>());
    assert_eq!(names(GENDERS), Gender::ALL.iter().map(|g| g.name()).collect::<Vec<_>>());
    assert_eq!(names(GENERATIONS), Generation::ALL.iter().map(|g| g.name()).collect::<Vec<_>>());
    assert_eq!(names(CREDITS), CreditStanding::ALL.iter().map(|c| c.name()).collect::<Vec<_>>());
    assert_eq!(names(CHANNELS), Channel::ALL.iter().map(|c| c.name()).collect::<Vec<_>>());
}

/// Every template, on a population with edits, is true for some customers and false for
/// others in most generated conditions: the constants are near the data.
#[test]
fn generated_conditions_split_the_population() {
    let mut runner = TestRunner::deterministic();
    let edits = vec((any::<usize>(), edit()), 300..301);
    let (population, t) = {
        let edits = edits.new_tree(&mut runner).unwrap().current();
        let case = Case { seed: 7, n: 600, when: When::Midnight(0), edits, named: Vec::new(), segments: Vec::new() };
        customers(&case)
    };
    let schema = schema(&[], t, &population);
    for template in templates() {
        let mut split = 0;
        let tries = 40;
        for _ in 0..tries {
            let cond = template.conditions.new_tree(&mut runner).unwrap().current();
            let text = Node::Cond(cond).render(t, None);
            let segment = Segment::compile(&text, &schema).unwrap();
            let members = population.iter().filter(|c| segment.matches(c, t)).count();
            split += usize::from(members > 0 && members < population.len());
        }
        assert!(split * 4 >= tries, "{}: only {split} of {tries} conditions split the population", template.key);
    }
}

/// Every generated condition on every field has an exact SQL form in both dialects, but
/// for RFM scores and decimal comparisons (computed or compared in Rust): pushdown is the rule,
/// not the exception, so the store property checks above really run SQL.
#[test]
fn pushdown_covers_every_field_but_rfm_and_decimals() {
    use clientele::segment::sql::Dialect;
    let mut runner = TestRunner::deterministic();
    let (population, t) = {
        let case = Case {
            seed: 7,
            n: 50,
            when: When::Midnight(0),
            edits: Vec::new(),
            named: Vec::new(),
            segments: Vec::new(),
        };
        customers(&case)
    };
    let schema = schema(&[], t, &population);
    for template in templates() {
        // Decimal comparisons stay in Rust; whether a decimal is set is known in SQL.
        let decimal = template.key == "attr.score";
        let in_rust = template.key.starts_with("rfm.");
        for _ in 0..40 {
            let cond = template.conditions.new_tree(&mut runner).unwrap().current();
            let text = Node::Cond(cond).render(t, None);
            let segment = Segment::compile(&text, &schema).unwrap();
            for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                let filter = segment.to_sql(dialect, t);
                // Conditions the checker folds to a constant (an empty range) need no data.
                let folded = matches!(filter.sql(), "TRUE" | "FALSE");
                assert!(
                    filter.is_exact() != in_rust || folded || decimal,
                    "{}: `{text}` in {dialect:?}: exact = {}, {:?}",
                    template.key,
                    filter.is_exact(),
                    filter.rust_part()
                );
            }
        }
    }
}

#[test]
fn the_batch_evaluator_refuses_a_snapshot_for_another_currency() {
    let customers = Population::new(3).customers(50);
    let segment = Segment::compile("spent > 100.00", &Schema::new(EGP)).unwrap();
    let snapshot = Snapshot::build(&customers, &Schema::new(USD));
    for threads in 1..=3 {
        let err = segment.evaluate_parallel(&snapshot, base(), threads).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::CurrencyMismatch { segment: EGP, snapshot: USD });
    }
    let err = segment.evaluate(&snapshot, base()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::CurrencyMismatch { segment: EGP, snapshot: USD });
    // The same snapshot in the segment's currency is accepted.
    let ok = Snapshot::build(&customers, &Schema::new(EGP));
    assert!(segment.evaluate(&ok, base()).is_ok());
}

// ---------------------------------------------------------------------------------------
// Regressions: one test per disagreement the properties found
// ---------------------------------------------------------------------------------------

/// The members of `text` by every evaluator, which must agree.
fn members(text: &str, schema: &Schema, customers: &[Customer], t: DateTime<Utc>) -> Vec<CustomerId> {
    let segment = Segment::compile(text, schema).unwrap();
    let snapshot = Snapshot::build(customers, schema);
    let store = MemoryStore::new();
    for c in customers {
        store.insert(c.clone()).unwrap();
    }
    agree(&segment, text, customers, &snapshot, &store, &sql_stores(customers), t).unwrap();
    store.query(&segment, t).unwrap()
}

/// Bug: the interpreter (and the compiled closures, which fall back to it) took any stored
/// attribute as present, so `attr.x is set`, `!=`, `not in` and `not between` were true for
/// an attribute stored with another type than declared, money in another currency or an empty
/// text list, all of which are missing; the batch evaluator had it right.
#[test]
fn attribute_of_another_type_or_currency_is_missing() {
    let t = base();
    let schema = ATTRS.iter().fold(Schema::new(EGP), |s, (name, ty)| s.with_attribute(name, *ty).unwrap());
    let values = [
        AttrValue::Bool(true),
        AttrValue::Int(3),
        AttrValue::Decimal(Decimal::new(3, 0).unwrap()),
        AttrValue::Money(Money::new(300, EGP)),
        AttrValue::Money(Money::new(300, USD)),
        AttrValue::Text("3".into()),
        AttrValue::Date(NaiveDate::from_ymd_opt(2026, 1, 3).unwrap()),
        AttrValue::TextList(Default::default()),
        AttrValue::TextList(["3".to_owned()].into_iter().collect()),
    ];
    let customers: Vec<Customer> = (1u64..)
        .zip(&values)
        .map(|(id, v)| {
            let mut c = Customer::new(CustomerId::new(id), "x", t);
            for (name, _) in ATTRS {
                c.attributes.set(name, v.clone()).unwrap();
            }
            c
        })
        .collect();
    let id = |i: u64| CustomerId::new(i);
    let cases = [
        ("attr.survey_done is set", vec![id(1)]),
        ("attr.survey_done != false", vec![id(1)]),
        ("attr.nps is set", vec![id(2)]),
        ("attr.nps != 4", vec![id(2)]),
        ("attr.score is set", vec![id(3)]),
        ("attr.score not between 4 and 5", vec![id(3)]),
        ("attr.wallet is set", vec![id(4)]),
        ("attr.wallet not in (4.00)", vec![id(4)]),
        ("attr.nickname is set", vec![id(6)]),
        ("attr.nickname != \"4\"", vec![id(6)]),
        ("attr.renewal is set", vec![id(7)]),
        ("attr.renewal != 2026-01-04", vec![id(7)]),
        ("attr.labels is set", vec![id(9)]),
        ("attr.labels is not set", (1..=8).map(id).collect()),
    ];
    for (text, expected) in cases {
        assert_eq!(members(text, &schema, &customers, t), expected, "{text}");
    }
}

/// Bug: the snapshot kept instants to the microsecond, so the batch evaluator counted a
/// purchase a few nanoseconds after the evaluation instant, or put an instant just after a
/// window's start on the start, and ordered leap seconds after the second that follows them.
/// The snapshot now keeps nanoseconds in `i64` and, when an instant is outside the years 1677
/// to 2262 or in a leap second, exact `i128` keys: both layouts are checked.
#[test]
fn batch_instants_are_exact_to_the_nanosecond_and_in_leap_seconds() {
    let t = base() + Duration::nanoseconds(500);
    let schema = Schema::new(EGP);
    let after_t = Customer::new(CustomerId::new(1), "after t", t - Duration::days(8))
        .with_purchases(vec![Purchase::new(t + Duration::nanoseconds(1), Money::new(100, EGP))])
        .unwrap();
    let just_inside =
        Customer::new(CustomerId::new(2), "just inside", t - Duration::days(7) + Duration::nanoseconds(1))
            .with_purchases(vec![Purchase::new(t - Duration::days(1) + Duration::nanoseconds(1), Money::new(100, EGP))])
            .unwrap();
    // Created in 2300: `i64` nanoseconds cannot hold it, so the snapshot has exact keys.
    let far = Customer::new(CustomerId::new(3), "far", Utc.with_ymd_and_hms(2300, 1, 1, 0, 0, 0).unwrap());
    let id = CustomerId::new;
    for customers in [vec![after_t.clone(), just_inside.clone()], vec![after_t, just_inside, far]] {
        for (text, expected) in [
            ("purchases >= 1", vec![id(2)]),
            ("last_purchase within 1 day", vec![id(2)]),
            ("purchases(last 1 day) = 1", vec![id(2)]),
            ("created_at within 1 week", vec![id(2)]),
            ("created_at after 2262-04-11", vec![id(3)]),
        ] {
            let expected: Vec<_> = expected.into_iter().filter(|i| customers.iter().any(|c| c.id() == *i)).collect();
            assert_eq!(members(text, &schema, &customers, t), expected, "{text}");
        }
    }
    // Bounds outside the years `i64` nanoseconds cover, on instants inside them.
    let recent = Customer::new(CustomerId::new(1), "recent", base());
    for (text, expected) in [("created_at after 1500-01-01", true), ("created_at before 2500-01-01", true)] {
        let got = members(text, &schema, std::slice::from_ref(&recent), base());
        assert_eq!(got.len() == 1, expected, "{text}");
    }
    let long_after = Utc.with_ymd_and_hms(2400, 1, 1, 0, 0, 0).unwrap();
    assert!(members("created_at within 12 months", &schema, std::slice::from_ref(&recent), long_after).is_empty());
    // A purchase in the leap second that ends 2025-12-31 is before midnight.
    let leap = leap_second(base(), 500_000_000);
    let c = Customer::new(CustomerId::new(1), "leap", leap - Duration::days(1))
        .with_purchases(vec![Purchase::new(leap, Money::new(100, EGP))])
        .unwrap();
    assert_eq!(members("purchases = 1", &schema, std::slice::from_ref(&c), base()), [CustomerId::new(1)]);
    assert_eq!(members("last_purchase = 2025-12-31", &schema, std::slice::from_ref(&c), base()), [CustomerId::new(1)]);
    assert!(members("purchases = 1", &schema, std::slice::from_ref(&c), leap - Duration::nanoseconds(1)).is_empty());
}

/// Bug: the batch evaluator took the spend in a window as the difference of saturated running
/// totals, so once a customer's total passed `i64::MAX` the spend in a later window came out
/// too small (down to 0) where the row evaluator's saturating sum is `i64::MAX`.
#[test]
fn windowed_spend_past_i64_max_saturates_like_the_row_evaluator() {
    let t = base();
    let schema = Schema::new(EGP);
    // Two of these overflow `i64`.
    let big = i64::MAX / 2 + 1;
    let whale = |id: u64, hours: [i64; 3]| {
        Customer::new(CustomerId::new(id), "whale", t - Duration::days(30))
            .with_purchases(
                hours.iter().map(|h| Purchase::new(t - Duration::hours(*h), Money::new(big, EGP))).collect(),
            )
            .unwrap()
    };
    // 1: the overflow is inside the last day; 2: it is before the last day, which holds one.
    let customers = [whale(1, [72, 2, 1]), whale(2, [72, 49, 1])];
    let amount = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
    let (max, big) = (amount(i64::MAX), amount(big));
    let id = CustomerId::new;
    for (text, expected) in [
        (format!("spent(last 1 day) = {max}"), vec![id(1)]),
        (format!("spent(last 1 day) = {big}"), vec![id(2)]),
        (format!("spent(last 4 days) = {max}"), vec![id(1), id(2)]),
        (format!("spent = {max}"), vec![id(1), id(2)]),
        ("spent(last 1 day) between 1.00 and 10.00".to_owned(), vec![]),
    ] {
        assert_eq!(members(&text, &schema, &customers, t), expected, "{text}");
    }
}
