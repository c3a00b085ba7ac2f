//! What live segments need from a compiled segment: its *horizon* (the earliest instant at
//! which a customer's membership can change with time alone, [`Segment::horizon`]) and the
//! field groups it reads ([`Segment::reads`], [`Reads::changed`]). The reference is the
//! interpreter, [`Segment::matches`]; the random customers, segments and instants are the
//! evaluator properties' (`segment_eval.rs`), with instants on purchases, window edges,
//! birthdays, in leap seconds and in far years.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use clientele::{
    CountryCode, Customer, CustomerId, LifecycleState, Loyalty, Money, Purchase, Stage,
    segment::{Reads, Schema, Segment},
};
use proptest::{collection::vec, prelude::*};

use crate::segment_eval::{Cond, EGP, Node, Test, apply, base, case, condition, customers, edit, leap_second, schema};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_nano_opt(h, mi, s, nanos).unwrap().and_utc()
}

/// The instants just before `h`: `h` less a nanosecond, and, when `h` begins a second after
/// a second 59, the last nanosecond of the leap second that chrono can put before it.
fn just_before(h: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let (day, secs, nanos) = (h.date_naive(), h.num_seconds_from_midnight(), h.nanosecond());
    let instant = |d: NaiveDate, s: u32, n: u32| {
        NaiveTime::from_num_seconds_from_midnight_opt(s, n).map(|time| d.and_time(time).and_utc())
    };
    match nanos {
        0 => {
            let (day, prev) = if secs == 0 { (day.pred_opt(), 86_399) } else { (Some(day), secs - 1) };
            let Some(day) = day else { return Vec::new() };
            [instant(day, prev, 999_999_999), instant(day, prev, 1_999_999_999)].into_iter().flatten().collect()
        }
        1_000_000_000 => instant(day, secs, 999_999_999).into_iter().collect(),
        n => instant(day, secs, n - 1).into_iter().collect(),
    }
}

/// `t` plus `fraction / 2^64` of the way to `h`.
fn between(t: DateTime<Utc>, h: DateTime<Utc>, fraction: u64) -> Option<DateTime<Utc>> {
    let span = h.signed_duration_since(t);
    let span_ns =
        u128::try_from(i128::from(span.num_seconds()) * 1_000_000_000 + i128::from(span.subsec_nanos())).ok()?;
    // `span_ns * fraction >> 64`, without overflowing: the span has at most 75 bits.
    let (hi, lo) = (span_ns >> 64, span_ns & u128::from(u64::MAX));
    let offset = hi * u128::from(fraction) + ((lo * u128::from(fraction)) >> 64);
    let secs = i64::try_from(offset / 1_000_000_000).ok()?;
    let nanos = i64::try_from(offset % 1_000_000_000).ok()?;
    t.checked_add_signed(TimeDelta::try_seconds(secs)? + TimeDelta::nanoseconds(nanos))
}

/// Checks the horizon of `segment` for `c` at `t` against the interpreter: membership is
/// the same at `t`, just after it, at random points before the horizon and just before it,
/// and (when `exact`) different at the horizon; "never" is checked at later instants up to
/// the last representable one. Returns the horizon.
fn check_horizon(
    segment: &Segment,
    text: &str,
    c: &Customer,
    t: DateTime<Utc>,
    fractions: &[u64],
    exact: bool,
) -> Result<Option<DateTime<Utc>>, TestCaseError> {
    let value = segment.matches(c, t);
    let h = segment.horizon(c, t);
    let mut probes: Vec<DateTime<Utc>> = Vec::new();
    match h {
        Some(h) => {
            prop_assert!(h > t, "`{text}`: horizon {h:?} not after {t:?}");
            probes.extend(just_before(h));
            probes.extend(fractions.iter().filter_map(|f| between(t, h, *f)));
            probes.extend(t.checked_add_signed(TimeDelta::nanoseconds(1)));
            probes.retain(|u| *u >= t && *u < h);
            if exact {
                prop_assert!(
                    segment.matches(c, h) != value,
                    "`{text}` for {c:#?}: the value at the horizon {h:?} is still {value} (from {t:?})"
                );
            }
        }
        None => {
            for later in [
                TimeDelta::nanoseconds(1),
                TimeDelta::days(1),
                TimeDelta::days(31),
                TimeDelta::days(400),
                TimeDelta::days(365 * 120),
            ] {
                probes.extend(t.checked_add_signed(later));
            }
            probes.push(DateTime::<Utc>::MAX_UTC);
            probes.extend(fractions.iter().filter_map(|f| between(t, DateTime::<Utc>::MAX_UTC, *f)));
        }
    }
    for u in probes {
        prop_assert!(
            segment.matches(c, u) == value,
            "`{text}` for {c:#?}: {value} at {t:?} but not at {u:?}, before the horizon {h:?}"
        );
    }
    Ok(h)
}

/// Follows horizons from `t`, up to `steps` of them, checking each.
fn follow(
    segment: &Segment,
    text: &str,
    c: &Customer,
    mut t: DateTime<Utc>,
    fractions: &[u64],
    exact: bool,
    steps: usize,
) -> Result<Vec<DateTime<Utc>>, TestCaseError> {
    let mut seen = Vec::new();
    for _ in 0..steps {
        match check_horizon(segment, text, c, t, fractions, exact)? {
            Some(h) => {
                seen.push(h);
                t = h;
            }
            None => break,
        }
    }
    Ok(seen)
}

/// Whether a generated condition lowers to one leaf (or its negation), whose horizon must be
/// exact: not `!=`, `not in`, `not between` (present and not ...), nor `in` with several
/// values (any of several leaves).
fn single_leaf(cond: &Cond) -> bool {
    match &cond.test {
        Test::Cmp(op, _) => *op != "!=",
        Test::In(negated, values) => !negated && values.len() == 1,
        Test::Between(negated, ..) => !negated,
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 1_000, ..ProptestConfig::default() })]

    /// Random segments (with references, windows, ages and dates): membership is constant
    /// from `t` to the horizon, and again from each horizon to the next.
    #[test]
    fn membership_is_constant_until_the_horizon(
        case in case((1usize..=30).boxed(), 0..30, 1..4),
        fractions in vec(any::<u64>(), 3),
    ) {
        let (customers, t) = customers(&case);
        let schema = schema(&case.named, t, &customers);
        for node in &case.segments {
            let text = node.render(t, None);
            let segment = Segment::compile(&text, &schema).unwrap();
            for c in &customers {
                follow(&segment, &text, c, t, &fractions, false, 3)?;
            }
        }
    }

    /// One condition at a time: the horizon is exact, the value at it differs.
    #[test]
    fn the_horizon_of_one_condition_is_exact(
        case in case((1usize..=30).boxed(), 0..40, 0..1),
        conditions in vec(condition(), 1..6),
        fractions in vec(any::<u64>(), 3),
    ) {
        let (customers, t) = customers(&case);
        let schema = schema(&case.named, t, &customers);
        for cond in &conditions {
            let exact = single_leaf(cond);
            for text in [Node::Cond(cond.clone()).render(t, None), format!("not ({})", Node::Cond(cond.clone()).render(t, None))] {
                let segment = Segment::compile(&text, &schema).unwrap();
                for c in &customers {
                    follow(&segment, &text, c, t, &fractions, exact, 4)?;
                }
            }
        }
    }

    /// A write whose changed groups do not meet what a segment reads changes neither the
    /// membership (at `t` or any other instant) nor the horizon.
    #[test]
    fn writes_outside_what_a_segment_reads_change_nothing(
        case in case((1usize..=20).boxed(), 0..20, 1..4),
        edits in vec((any::<usize>(), edit()), 1..10),
    ) {
        let (customers, t) = customers(&case);
        let schema = schema(&case.named, t, &customers);
        let segments: Vec<(String, Segment)> = case
            .segments
            .iter()
            .map(|n| {
                let text = n.render(t, None);
                let s = Segment::compile(&text, &schema).unwrap();
                (text, s)
            })
            .collect();
        let instants = [t, t - Duration::days(30), t + Duration::days(45), t + Duration::days(3 * 365)];
        for (i, e) in &edits {
            let before = &customers[i % customers.len()];
            let mut after = before.clone();
            apply(&mut after, e, t);
            let changed = Reads::changed(before, &after);
            prop_assert!(!changed.is_time_dependent());
            prop_assert_eq!(changed.is_empty(), before == &after, "{:?} after {:?}", changed, e);
            for (text, segment) in &segments {
                if segment.reads().intersects(changed) {
                    continue;
                }
                for u in instants {
                    prop_assert_eq!(
                        segment.matches(before, u),
                        segment.matches(&after, u),
                        "`{}` reads {:?}, the edit {:?} changed {:?}, yet membership at {:?} changed",
                        text, segment.reads(), e, changed, u
                    );
                }
                prop_assert_eq!(segment.horizon(before, t), segment.horizon(&after, t), "`{}` after {:?}", text, e);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The time rules, one by one
// ---------------------------------------------------------------------------------------

fn egp() -> Schema {
    Schema::new(EGP)
}

fn person(born: Option<NaiveDate>) -> Customer {
    let mut c = Customer::new(CustomerId::new(1), "x", at(1900, 1, 1, 0, 0, 0, 0));
    c.profile.birth_date = born;
    c
}

fn buyer(created: DateTime<Utc>, purchases: &[DateTime<Utc>]) -> Customer {
    Customer::new(CustomerId::new(1), "x", created)
        .with_purchases(purchases.iter().map(|p| Purchase::new(*p, Money::new(10_000, EGP))).collect())
        .unwrap()
}

/// The successive horizons of `text` for `c` from `t` (checked against the interpreter).
fn horizons(text: &str, c: &Customer, t: DateTime<Utc>, exact: bool) -> Vec<DateTime<Utc>> {
    let segment = Segment::compile(text, &egp()).unwrap();
    follow(&segment, text, c, t, &[1 << 62, 1 << 63, u64::MAX], exact, 12).unwrap()
}

fn midnight(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    at(y, m, d, 0, 0, 0, 0)
}

#[test]
fn ages_change_on_birthdays_and_29_february_counts_on_1_march_in_common_years() {
    let leapling = person(NaiveDate::from_ymd_opt(2000, 2, 29));
    // Common year: the 25th birthday is on 1 March.
    assert_eq!(horizons("age >= 25", &leapling, at(2025, 1, 10, 12, 0, 0, 0), true), [midnight(2025, 3, 1)]);
    // Leap year: on 29 February.
    assert_eq!(horizons("age >= 28", &leapling, at(2027, 6, 1, 0, 0, 0, 0), true), [midnight(2028, 2, 29)]);
    // Entering and leaving a range; `=` is a range of one.
    assert_eq!(
        horizons("age between 25 and 27", &leapling, at(2024, 12, 31, 23, 59, 59, 0), true),
        [midnight(2025, 3, 1), midnight(2028, 2, 29)]
    );
    assert_eq!(horizons("age = 25", &leapling, midnight(2025, 3, 1), true), [midnight(2026, 3, 1)]);
    // Exactly on the birthday the age is already reached: the next change is a year on.
    assert_eq!(horizons("age < 26", &leapling, midnight(2025, 3, 1), true), [midnight(2026, 3, 1)]);
    // Presence: from the birth date on.
    assert_eq!(horizons("age is set", &leapling, midnight(1999, 1, 1), true), [midnight(2000, 2, 29)]);
    // `age != 0` is `age is set and not age = 0`: still false at birth, true from the first
    // birthday; the false `and` waits for each false child in turn.
    assert_eq!(
        horizons("age != 0", &leapling, midnight(1999, 1, 1), false),
        [midnight(2000, 2, 29), midnight(2001, 3, 1)]
    );
    // Ages that cannot be (or are already for good) never change; nor does a generation.
    assert!(horizons("age < 0", &leapling, midnight(1999, 1, 1), true).is_empty());
    assert!(horizons("age >= 0", &leapling, midnight(2001, 1, 1), true).is_empty());
    assert!(horizons("generation = millennial", &leapling, midnight(1999, 1, 1), true).is_empty());
    assert!(horizons("age >= 18", &person(None), midnight(2001, 1, 1), true).is_empty());
    // An ordinary birthday.
    let march = person(NaiveDate::from_ymd_opt(1999, 3, 1));
    assert_eq!(horizons("age > 0", &march, midnight(1999, 6, 1), true), [midnight(2000, 3, 1)]);
    // A leapling's birthday on 28 February would be a day early.
    let segment = Segment::compile("age >= 25", &egp()).unwrap();
    assert!(!segment.matches(&leapling, at(2025, 2, 28, 23, 59, 59, 999_999_999)));
}

#[test]
fn a_purchase_leaves_a_day_window_when_its_start_reaches_it() {
    let t = at(2026, 3, 1, 9, 0, 0, 0);
    let bought = at(2026, 2, 19, 10, 30, 17, 5);
    let c = buyer(bought - Duration::days(1), &[bought]);
    for (text, leaves) in [
        ("last_purchase within 30 days", bought + Duration::days(30)),
        ("purchases(last 2 weeks) >= 1", bought + Duration::days(14)),
        ("spent(last 30 days) > 0", bought + Duration::days(30)),
        ("first_purchase within 365 days", bought + Duration::days(365)),
    ] {
        assert_eq!(horizons(text, &c, t, true), [leaves], "{text}");
    }
    // Dates count from their 00:00 UTC: a loyalty card joined on 20 February.
    let mut member = c.clone();
    member.loyalty = Some(Loyalty { card_id: "LC-1".into(), joined: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap() });
    // 20 February 00:00 is the start as of 22 March 00:00, and already as of the leap second
    // chrono allows before it, which it normalizes to the second after.
    assert_eq!(
        horizons("loyalty_joined within 30 days", &member, t, true),
        [at(2026, 3, 21, 23, 59, 59, 1_000_000_000)]
    );
    // The same for any instant at the start of a minute: a purchase at 10:30:00 leaves at
    // 10:29:60 thirty days later, if that instant is ever asked about.
    let on_the_minute = buyer(bought - Duration::days(1), &[at(2026, 2, 19, 10, 30, 0, 0)]);
    assert_eq!(
        horizons("last_purchase within 30 days", &on_the_minute, t, true),
        [at(2026, 3, 21, 10, 29, 59, 1_000_000_000)]
    );
    let segment = Segment::compile("last_purchase within 30 days", &egp()).unwrap();
    assert!(segment.matches(&on_the_minute, at(2026, 3, 21, 10, 29, 59, 999_999_999)));
    assert!(!segment.matches(&on_the_minute, at(2026, 3, 21, 10, 30, 0, 0)));
    // A window of 0 days holds nothing, ever.
    assert!(horizons("purchases(last 0 days) >= 1", &c, bought - Duration::days(1), true).is_empty());
}

#[test]
fn month_windows_at_month_ends_follow_the_clamped_start() {
    // 31 January stays in `last 1 month` through February (its start is at most 28
    // January) and leaves at the start of March.
    let c = buyer(midnight(2026, 1, 1), &[at(2026, 1, 31, 10, 0, 0, 0)]);
    assert_eq!(horizons("last_purchase within 1 month", &c, midnight(2026, 2, 15), true), [midnight(2026, 3, 1)]);
    // 28 February 2026: as of 28, 29, 30 and 31 March the start is on 28 February, so the
    // purchase leaves at its time of day and comes back at each midnight, then leaves for
    // good.
    let c = buyer(midnight(2026, 1, 1), &[at(2026, 2, 28, 11, 0, 0, 0)]);
    let expected = [
        at(2026, 3, 28, 11, 0, 0, 0),
        midnight(2026, 3, 29),
        at(2026, 3, 29, 11, 0, 0, 0),
        midnight(2026, 3, 30),
        at(2026, 3, 30, 11, 0, 0, 0),
        midnight(2026, 3, 31),
        at(2026, 3, 31, 11, 0, 0, 0),
    ];
    assert_eq!(horizons("purchases(last 1 month) >= 1", &c, midnight(2026, 3, 20), true), expected);
    // 29 February 2024: back in on 30 and 31 March.
    let c = buyer(midnight(2024, 1, 1), &[at(2024, 2, 29, 11, 0, 0, 0)]);
    let expected = [
        at(2024, 3, 29, 11, 0, 0, 0),
        midnight(2024, 3, 30),
        at(2024, 3, 30, 11, 0, 0, 0),
        midnight(2024, 3, 31),
        at(2024, 3, 31, 11, 0, 0, 0),
    ];
    assert_eq!(horizons("last_purchase within 1 month", &c, midnight(2024, 3, 10), true), expected);
    // Twelve months from 29 February: 28 February of the next year.
    let c = buyer(midnight(2024, 1, 1), &[at(2024, 2, 29, 0, 0, 0, 0)]);
    assert_eq!(horizons("purchases(last 12 months) = 1", &c, midnight(2024, 6, 1), true), [midnight(2025, 3, 1)]);
}

#[test]
fn leap_seconds_are_followed_exactly() {
    // chrono moves an instant in a leap second back a day by normalizing it to the second
    // after: as of 23:59:60.3 the start of `last 1 day` is 00:00:00.3 that same day, which
    // is the purchase; as of the next midnight the start is 00:00:00.0 again.
    let bought = at(2026, 1, 1, 0, 0, 0, 300);
    let c = buyer(bought - Duration::days(1), &[bought]);
    let expected = [at(2026, 1, 1, 23, 59, 59, 1_000_000_300), midnight(2026, 1, 2), at(2026, 1, 2, 0, 0, 0, 300)];
    assert_eq!(horizons("purchases(last 1 day) >= 1", &c, at(2026, 1, 1, 12, 0, 0, 0), true), expected);
    // A purchase in a leap second leaves `last 1 day` when the window starts after it: as
    // of the leap second a day later, whose start is the midnight after the purchase.
    let leap = leap_second(midnight(2026, 1, 1), 500_000_000);
    let c = buyer(leap - Duration::days(1), &[leap]);
    assert_eq!(
        horizons("last_purchase within 1 day", &c, midnight(2026, 1, 1), true),
        [at(2026, 1, 1, 23, 59, 59, 1_000_000_000)]
    );
    // And enters `purchases` at its instant, in the leap second.
    assert_eq!(horizons("purchases >= 1", &c, at(2025, 12, 31, 23, 59, 59, 0), true), [leap]);
    // Calendar months keep the time of day, leap seconds included.
    let c = buyer(leap - Duration::days(1), &[leap]);
    assert_eq!(
        horizons("last_purchase within 1 month", &c, midnight(2026, 1, 15), true),
        [at(2026, 1, 31, 23, 59, 59, 1_500_000_000)]
    );
}

#[test]
fn purchases_dated_after_t_enter_when_t_reaches_them() {
    let t = at(2026, 5, 10, 8, 0, 17, 0);
    let day = |n: i64| Duration::days(n);
    let c = buyer(t - day(30), &[t - day(5), t + day(3), t + day(10)]);
    assert_eq!(horizons("purchases >= 2", &c, t, true), [t + day(3)]);
    assert_eq!(horizons("purchases = 2", &c, t, true), [t + day(3), t + day(10)]);
    assert_eq!(horizons("spent > 150.00", &c, t, true), [t + day(3)]);
    assert_eq!(horizons("last_purchase after 2026-05-12", &c, t, true), [t + day(3)]);
    // The last purchase leaves the week, the next one enters, and the last leaves a week on.
    assert_eq!(horizons("last_purchase within 7 days", &c, t, true), [t + day(2), t + day(3), t + day(17)]);
    let future_only = buyer(t - day(30), &[t + day(3)]);
    assert_eq!(horizons("first_purchase is set", &future_only, t, true), [t + day(3)]);
    assert_eq!(horizons("first_purchase before 2026-06-01", &future_only, t, true), [t + day(3)]);
    assert_eq!(horizons("purchases(last 90 days) >= 1", &future_only, t, true), [t + day(3), t + day(93)]);
    // Already counted for good: never.
    assert!(horizons("purchases >= 1", &c, t, true).is_empty());
    // The third-newest purchase leaving the window ends `>= 3`.
    let c = buyer(t - day(100), &[t - day(80), t - day(60), t - day(10), t - day(1)]);
    assert_eq!(horizons("purchases(last 90 days) >= 3", &c, t, true), [t + day(30)]);
}

#[test]
fn far_instants_neither_panic_nor_overflow() {
    let max = DateTime::<Utc>::MAX_UTC;
    let min = DateTime::<Utc>::MIN_UTC;
    let texts = [
        "age >= 18",
        "age is set",
        "created_at within 30 days",
        "stage_since within 12 months",
        "last_purchase within 1 month",
        "purchases(last 90 days) >= 1",
        "spent(last 12 months) > 10.00",
        "purchases >= 1",
        "first_purchase is set",
        "birth_date within 7 days",
    ];
    let mut c = buyer(min, &[min, max - Duration::days(1), max]);
    c.profile.birth_date = Some(NaiveDate::MAX - Duration::days(400));
    for text in texts {
        for t in [min, min + Duration::nanoseconds(1), max - Duration::days(40), max - Duration::nanoseconds(1), max] {
            horizons(text, &c, t, true);
        }
        assert!(horizons(text, &c, max, true).is_empty(), "{text}");
    }
    // Created at the first instant: out of `last 30 days` 30 days on.
    let first = buyer(min, &[]);
    assert_eq!(horizons("created_at within 30 days", &first, min, true), [leap_second(min + Duration::days(30), 0)]);
    // Created near the end of time: enters, and would leave after the last instant.
    let late = buyer(max - Duration::hours(1), &[]);
    assert_eq!(horizons("created_at within 1 day", &late, max - Duration::hours(2), true), [max - Duration::hours(1)]);
    // A birthday past the last date: never.
    let young = person(Some(NaiveDate::MAX - Duration::days(200)));
    assert!(horizons("age >= 1", &young, max - Duration::days(100), true).is_empty());
    // Far from the years `i64` nanoseconds cover.
    let t = Utc.with_ymd_and_hms(2400, 1, 1, 0, 0, 0).unwrap();
    let c = buyer(t, &[t + Duration::days(1)]);
    assert_eq!(horizons("purchases(last 3 months) = 1", &c, t, true), [t + Duration::days(1), midnight(2400, 4, 2)]);
}

#[test]
fn compound_segments_wait_for_the_children_that_decide() {
    let t = midnight(2026, 1, 1);
    let mut kid = person(NaiveDate::from_ymd_opt(2010, 6, 1));
    // Outside Egypt, `country = "EG" and ...` is false for good.
    assert!(horizons(r#"country = "EG" and age >= 18"#, &kid, t, false).is_empty());
    kid.profile.location.country = Some(CountryCode::new("EG").unwrap());
    assert_eq!(horizons(r#"country = "EG" and age >= 18"#, &kid, t, true), [midnight(2028, 6, 1)]);
    // A true `or` with a child that never changes: never.
    assert!(horizons("stage = suspect or age >= 18", &kid, t, false).is_empty());
    // A false `and` waits for the last of its false children: the purchase enters on 10
    // February, the 18th birthday is on 1 March; then the true `and` changes with its first
    // child, the purchase leaving the window.
    let bought = t + Duration::days(40) + Duration::seconds(17);
    let mut c2 = buyer(t - Duration::days(10), &[bought]);
    c2.profile.birth_date = NaiveDate::from_ymd_opt(2008, 3, 1);
    assert_eq!(
        horizons("age >= 18 and purchases(last 30 days) >= 1", &c2, t, false),
        [midnight(2026, 3, 1), bought + Duration::days(30)]
    );
    // `not` changes with its operand.
    assert_eq!(horizons("not (age >= 18)", &c2, t, true), [midnight(2026, 3, 1)]);
    // A named segment is inlined.
    let mut schema = egp();
    schema.define("adults", "age >= 18").unwrap();
    let s = Segment::compile(r#"segment "adults""#, &schema).unwrap();
    assert_eq!(s.horizon(&c2, t), Some(midnight(2026, 3, 1)));
    // No time in the segment: never, at any instant.
    let s = Segment::compile(r#"stage = suspect and city = "Cairo""#, &schema).unwrap();
    assert_eq!(s.horizon(&c2, t), None);
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

#[test]
fn segments_read_their_field_groups() {
    let mut schema = crate::segment_eval::schema(&[], base(), &[]);
    schema.define("recent", "last_purchase within 30 days").unwrap();
    let reads = |text: &str| Segment::compile(text, &schema).unwrap().reads();
    assert_eq!(reads("true"), Reads::NONE);
    assert_eq!(reads("age between 25 and 40"), Reads::BIRTH_DATE | Reads::TIME);
    assert_eq!(reads("birth_date before 2000-01-01"), Reads::BIRTH_DATE);
    assert_eq!(reads("birth_date within 7 days"), Reads::BIRTH_DATE | Reads::TIME);
    assert_eq!(reads(r#"segment "recent" or exclusive"#), Reads::PURCHASES | Reads::TIME | Reads::EXCLUSIVE);
    assert_eq!(reads("created_at within 7 days"), Reads::CREATED_AT | Reads::TIME);
    assert_eq!(reads("stage_since before 2026-01-01"), Reads::LIFECYCLE);
    assert_eq!(reads("stage = client and rfm.group = champions"), Reads::LIFECYCLE | Reads::RFM);
    assert_eq!(
        reads(r#"attr.nickname starts with "A" or attr.renewal within 1 month"#),
        Reads::ATTRIBUTES | Reads::TIME
    );
    assert_eq!(reads(r#"interests has "x" and lifestyle is set and not needs has any ("y")"#), Reads::TAGS);
    assert_eq!(reads("preferred_channels has web and loyalty_member"), Reads::CHANNELS | Reads::LOYALTY);
    assert_eq!(reads(r#"country = "EG" and region is set and income > 1"#), Reads::LOCATION | Reads::INCOME);
    assert_eq!(
        reads("credit = poor or referrals > 1 or gender = male"),
        Reads::CREDIT | Reads::REFERRALS | Reads::GENDER
    );
    assert_eq!(reads("spent > 0"), Reads::PURCHASES | Reads::TIME);
    let all = reads("age > 1 and gender = male and income > 1 and city is set and interests is set");
    assert!(all.profile() && all.tags() && !all.purchases() && !all.lifecycle() && !all.channels());
    assert!(!all.attributes() && all.is_time_dependent());
    assert_eq!(format!("{:?}", reads("age > 1 and exclusive")), "Reads(birth_date | exclusive | time)");
    assert_eq!(format!("{:?}", Reads::NONE), "Reads()");
}

#[test]
fn changed_names_the_groups_a_write_changed() {
    let t = base();
    let c = buyer(t - Duration::days(100), &[t - Duration::days(3)]);
    let changed = |f: &dyn Fn(&mut Customer)| {
        let mut after = c.clone();
        f(&mut after);
        Reads::changed(&c, &after)
    };
    assert_eq!(changed(&|_| {}), Reads::NONE);
    assert_eq!(changed(&|c| c.profile.display_name = "y".into()), Reads::NONE);
    assert_eq!(changed(&|c| c.profile.birth_date = NaiveDate::from_ymd_opt(1990, 1, 1)), Reads::BIRTH_DATE);
    assert_eq!(changed(&|c| c.profile.gender = clientele::Gender::Female), Reads::GENDER);
    assert_eq!(changed(&|c| c.profile.annual_income = Some(Money::new(1, EGP))), Reads::INCOME);
    assert_eq!(changed(&|c| c.profile.location.city = Some("Giza".into())), Reads::LOCATION);
    assert_eq!(
        changed(&|c| {
            c.lifestyle.insert("vegan");
        }),
        Reads::LIFESTYLE
    );
    assert_eq!(
        changed(&|c| {
            c.needs.insert("delivery");
        }),
        Reads::NEEDS
    );
    assert_eq!(
        changed(&|c| {
            c.channels.preferred.insert(clientele::Channel::Sms);
        }),
        Reads::CHANNELS
    );
    assert_eq!(changed(&|c| c.credit = clientele::CreditStanding::Poor), Reads::CREDIT);
    assert_eq!(changed(&|c| c.exclusive = true), Reads::EXCLUSIVE);
    assert_eq!(changed(&|c| c.referrals = 2), Reads::REFERRALS);
    assert_eq!(changed(&|c| drop(c.attributes.set("nps", clientele::AttrValue::Int(9)).unwrap())), Reads::ATTRIBUTES);
    assert_eq!(
        changed(&|c| {
            let mut list = c.purchases().as_slice().to_vec();
            list.push(Purchase::new(t, Money::new(1, EGP)));
            *c = c.clone().with_purchases(list).unwrap();
        }),
        Reads::PURCHASES
    );
    assert_eq!(
        changed(&|c| *c = c.clone().with_lifecycle(LifecycleState::at_stage(Stage::Client, t, None).unwrap())),
        Reads::LIFECYCLE
    );
    assert_eq!(
        changed(&|c| c.loyalty = Some(Loyalty { card_id: "LC".into(), joined: t.date_naive() })),
        Reads::LOYALTY
    );
    let other = Customer::new(CustomerId::new(2), "x", c.created_at());
    assert!(Reads::changed(&c, &other).contains(Reads::RFM | Reads::PURCHASES | Reads::PROFILE));
    assert!(!Reads::changed(&c, &other).is_time_dependent());
    let moved = Customer::new(c.id(), "x", t).with_purchases(c.purchases().as_slice().to_vec()).unwrap();
    assert!(Reads::changed(&c, &moved).contains(Reads::CREATED_AT | Reads::LIFECYCLE));
}

/// The largest purchase history allowed: horizons follow windowed counts and sums
/// incrementally (no quadratic recomputation), and stay exact.
#[test]
fn horizons_over_the_largest_history_are_exact_and_quick() {
    let t = at(2026, 6, 1, 12, 0, 17, 0);
    let n = clientele::limits::MAX_PURCHASES;
    // One purchase every 7 minutes, half of them after `t`.
    let step = Duration::minutes(7);
    let first = t - step * i32::try_from(n / 2).unwrap();
    let list: Vec<Purchase> =
        (0..n).map(|i| Purchase::new(first + step * i32::try_from(i).unwrap(), Money::new(100, EGP))).collect();
    let c = Customer::new(CustomerId::new(1), "whale", first - Duration::days(1)).with_purchases(list).unwrap();
    let started = std::time::Instant::now();
    for text in [
        "spent(last 12 months) > 60000.00",
        "purchases(last 30 days) between 6000 and 6200",
        "spent > 70000.00",
        "last_purchase within 1 day",
        "last_purchase before 2026-07-01",
        "purchases(last 3 months) >= 1 and not spent(last 1 day) > 1000.00",
    ] {
        let segment = Segment::compile(text, &egp()).unwrap();
        let h = segment.horizon(&c, t);
        if let Some(h) = h {
            assert_eq!(segment.matches(&c, h - Duration::nanoseconds(1)), segment.matches(&c, t), "{text}");
        }
        // The one-condition segments change exactly at their horizon.
        if !text.contains(" and ") {
            assert!(h.is_some_and(|h| segment.matches(&c, h) != segment.matches(&c, t)), "{text}: {h:?}");
        }
    }
    // Generous for debug builds on a shared machine; quadratic work would take minutes.
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn the_deepest_legal_segments_have_horizons_on_a_default_thread_stack() {
    // As in `segment_language`: 16 references of 64 levels alternating `and` and `or`, here
    // over time-dependent conditions so that the horizon descends through all of them.
    let mut schema = egp();
    let mut inner = "last_purchase within 30 days".to_owned();
    for level in 0..16 {
        let mut text = inner.clone();
        for depth in 0..63 {
            let op = if depth % 2 == 0 { "and" } else { "or" };
            text = format!("age >= 18 {op} ({text})");
        }
        schema.define(&format!("deep{level}"), &format!("created_at within 1 day and ({text})")).unwrap();
        inner = format!("segment \"deep{level}\"");
    }
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let segment = Segment::compile(r#"segment "deep15""#, &schema).unwrap();
            let t = midnight(2026, 1, 1);
            let bought = t - Duration::days(3) + Duration::seconds(17);
            let mut c = buyer(t - Duration::hours(5), &[bought]);
            c.profile.birth_date = NaiveDate::from_ymd_opt(2008, 1, 2);
            // False while under 18: the `and`s wait for the 18th birthday, which the age
            // conditions at every level share.
            for t in [t, t + Duration::hours(12)] {
                assert!(!segment.matches(&c, t));
                assert_eq!(segment.horizon(&c, t), Some(midnight(2026, 1, 2)));
            }
            // By then `created_at within 1 day` has left for good: false forever.
            assert!(!segment.matches(&c, midnight(2026, 1, 2)));
            assert_eq!(segment.horizon(&c, midnight(2026, 1, 2)), None);
        })
        .unwrap()
        .join()
        .unwrap();
}
