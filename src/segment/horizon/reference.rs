//! The horizons as first written, before they were made cheaper: the reference that the
//! tests compare the optimized functions with, result for result, to the nanosecond.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use crate::{
    customer::{Customer, Purchase},
    segment::{
        ast::Activity,
        eval::{Ctx, eval, leaf_value},
        ir::{InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range},
    },
    window::{Window, WindowUnit},
};

/// `None` is "never".
type Horizon = Option<DateTime<Utc>>;

/// The earlier of two horizons ("never" is the latest).
fn sooner(a: Horizon, b: Horizon) -> Horizon {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// [`Pred::horizon`] for `p`, whose value at `ctx.as_of` is `value`.
pub(super) fn horizon(p: &Pred, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
    match p {
        Pred::Const(_) => None,
        Pred::Not(inner) => horizon(inner, !value, c, ctx),
        Pred::Leaf(leaf) => leaf_horizon(leaf, value, c, ctx),
        // `and` true, `or` false: every child has the value of the whole, and the first
        // change of any child changes the whole.
        Pred::And(items) | Pred::Or(items) if value == matches!(p, Pred::And(_)) => {
            let mut h = None;
            for item in items {
                h = sooner(h, horizon(item, value, c, ctx));
            }
            h
        }
        // `and` false, `or` true: the whole keeps its value while any child that decides it
        // keeps its own, so until the last of those children changes.
        Pred::And(items) | Pred::Or(items) => {
            let deciding = |item: &&Pred| eval(item, c, ctx) == value;
            // A deciding child that never changes decides forever: look for one cheaply first.
            if items.iter().filter(deciding).any(|item| !item.is_time_dependent()) {
                return None;
            }
            let mut latest: Option<DateTime<Utc>> = None;
            for item in items.iter().filter(deciding) {
                let h = horizon(item, value, c, ctx)?;
                latest = Some(latest.map_or(h, |l| l.max(h)));
            }
            latest
        }
    }
}

/// The horizon of one leaf whose value at `ctx.as_of` is `value`.
#[inline(never)]
fn leaf_horizon(leaf: &Leaf, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
    let t = ctx.as_of;
    let list = c.purchases().as_slice();
    let mut candidates = Vec::new();
    match leaf {
        Leaf::Age(r) => {
            let birth = c.profile.birth_date?;
            // The age is present from the birth date and grows by one on each birthday: the
            // leaf changes where the age enters or leaves the range.
            let lo = r.lo.map(|(v, incl)| if incl { v } else { v.saturating_add(1) });
            let hi = r.hi.map(|(v, incl)| if incl { v } else { v.saturating_sub(1) });
            for k in [Some(0), lo, hi.map(|h| h.saturating_add(1))].into_iter().flatten() {
                candidates.extend(birthday(birth, k));
            }
        }
        Leaf::IsSet(Presence::Age) => candidates.extend(birthday(c.profile.birth_date?, 0)),
        // The first purchase up to `as_of` appears when `as_of` reaches the earliest purchase
        // and never changes after.
        Leaf::IsSet(Presence::AnyPurchase) | Leaf::Instant(InstantField::FirstPurchase, _) => {
            candidates.push(list.first()?.at);
        }
        // The last purchase up to `as_of` changes when `as_of` reaches each later purchase.
        Leaf::Instant(InstantField::LastPurchase, _) => {
            candidates.extend(list[list.partition_point(|p| p.at <= t)..].iter().map(|p| p.at));
        }
        Leaf::Int(IntField::Purchases, r) => return figure_horizon(Activity::Purchases, None, r, value, c, ctx),
        Leaf::Money(MoneyField::Spent, r) => return figure_horizon(Activity::Spent, None, r, value, c, ctx),
        Leaf::Activity(a, w, r) => return figure_horizon(*a, Some(*w), r, value, c, ctx),
        Leaf::InstantWithin(field, w) => {
            let mut within = |x: DateTime<Utc>| {
                candidates.push(x);
                start_crossings(*w, x, &mut candidates);
            };
            match field {
                InstantField::CreatedAt => within(c.created_at()),
                InstantField::StageSince => within(c.lifecycle().since()),
                InstantField::FirstPurchase => within(list.first()?.at),
                // Only the purchase that is last as of `t` and later ones can be the last
                // purchase as of a later instant.
                InstantField::LastPurchase => {
                    let from = c.purchases().last_as_of(t).map_or(0, |last| list.partition_point(|p| p.at < last));
                    let mut previous = None;
                    for p in &list[from..] {
                        if previous != Some(p.at) {
                            within(p.at);
                            previous = Some(p.at);
                        }
                    }
                }
            }
        }
        Leaf::DateWithin(field, w) => {
            let date = match field {
                crate::segment::ir::DateField::BirthDate => c.profile.birth_date,
                crate::segment::ir::DateField::LoyaltyJoined => c.loyalty.as_ref().map(|l| l.joined),
                crate::segment::ir::DateField::Attr(n) => match c.attributes.get(n) {
                    Some(crate::customer::AttrValue::Date(d)) => Some(*d),
                    _ => None,
                },
            };
            let x = date?.and_time(NaiveTime::MIN).and_utc();
            candidates.push(x);
            start_crossings(*w, x, &mut candidates);
        }
        _ => return None,
    }
    first_change(leaf, value, c, ctx, candidates)
}

/// The first of `candidates` after `ctx.as_of` at which `leaf` is not `value`.
fn first_change(leaf: &Leaf, value: bool, c: &Customer, ctx: &Ctx, mut candidates: Vec<DateTime<Utc>>) -> Horizon {
    candidates.retain(|x| *x > ctx.as_of);
    candidates.sort_unstable();
    candidates.dedup();
    let mut at = ctx.clone();
    for x in candidates {
        at.as_of = x;
        if leaf_value(leaf, c, &at) != value {
            return Some(x);
        }
    }
    None
}

/// The `k`th birthday of someone born on `birth`, at 00:00 UTC: the first day on which
/// [`age_on`](crate::customer::age_on) is `k` (29 February birthdays fall on 1 March in
/// common years). `None` for negative `k` or past the last representable date.
fn birthday(birth: NaiveDate, k: i64) -> Option<DateTime<Utc>> {
    let year = birth.year().checked_add(i32::try_from(k).ok().filter(|k| *k >= 0)?)?;
    let day = NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| if (birth.month(), birth.day()) == (2, 29) { NaiveDate::from_ymd_opt(year, 3, 1) } else { None })?;
    Some(day.and_time(NaiveTime::MIN).and_utc())
}

/// An instant from a date, a second of the day and nanoseconds (from 10^9 in a leap second).
fn instant(day: NaiveDate, secs: u32, nanos: u32) -> Option<DateTime<Utc>> {
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).map(|time| day.and_time(time).and_utc())
}

/// Pushes onto `out` every instant `a` at which `w.start(a) < x` (with no start counting as
/// before every instant) can differ from its value just before `a`, and possibly others.
///
/// - Days (and weeks) of `N`: `start(a)` is `a` moved back `N` days, except in a leap second,
///   which chrono's arithmetic normalizes to the second after it: as of `hh:mm:60.f`, the
///   start is `hh:mm+1:00.f` `N` days earlier, so that second is swept twice (once during the
///   leap second, once after it). The changes are at `x` moved forward `N` days, at the
///   beginning of that second, and in the leap second before it.
/// - Calendar months: `start(a)` keeps `a`'s time of day and moves its date back, clamped to
///   the end of shorter months, so several days can start on the same day `d`. On each such
///   day the test changes at midnight and at `x`'s time of day; it changes for good at the
///   midnight of the first day that starts after `d`.
pub(super) fn start_crossings(w: Window, x: DateTime<Utc>, out: &mut Vec<DateTime<Utc>>) {
    let naive: NaiveDateTime = x.naive_utc();
    let (dx, tx) = (naive.date(), naive.time());
    match w.unit() {
        // `unit` gives weeks as days; the amount is in days either way.
        WindowUnit::Days | WindowUnit::Weeks => {
            let Some(day) = dx.checked_add_days(Days::new(u64::from(w.amount()))) else { return };
            let (secs, frac) = (tx.num_seconds_from_midnight(), tx.nanosecond());
            out.extend(instant(day, secs, frac));
            out.extend(instant(day, secs, 0));
            if frac >= 1_000_000_000 {
                // `x` is in a leap second: the first start after it begins the next second.
                out.extend(instant(day, secs, 1_000_000_000));
                out.extend(second_after(day, secs));
            } else {
                let (prev_day, prev) = if secs == 0 { (day.pred_opt(), 86_399) } else { (Some(day), secs - 1) };
                if let Some(prev_day) = prev_day {
                    out.extend(instant(prev_day, prev, 1_000_000_000));
                    out.extend(instant(prev_day, prev, 1_000_000_000 + frac));
                }
            }
        }
        WindowUnit::Months => {
            let months = Months::new(w.amount());
            let start_day = |d: NaiveDate| d.checked_sub_months(months);
            let Some(mut day) = least_date(|d| start_day(d).is_some_and(|s| s >= dx)) else { return };
            // A start day is shared by at most four days (28 to 31 March back to 28
            // February); the bound only guards the loop.
            for _ in 0..64 {
                out.extend(instant(day, 0, 0));
                if start_day(day) != Some(dx) {
                    break;
                }
                out.push(day.and_time(tx).and_utc());
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
        }
    }
}

/// The beginning of the second after second `secs` of `day`.
fn second_after(day: NaiveDate, secs: u32) -> Option<DateTime<Utc>> {
    if secs + 1 < 86_400 { instant(day, secs + 1, 0) } else { instant(day.succ_opt()?, 0, 0) }
}

/// The least date for which the monotone test `f` holds (false, then true), if any.
pub(super) fn least_date(f: impl Fn(NaiveDate) -> bool) -> Option<NaiveDate> {
    let date = |n: i32| NaiveDate::from_num_days_from_ce_opt(n);
    let (mut lo, mut hi) = (NaiveDate::MIN.num_days_from_ce(), NaiveDate::MAX.num_days_from_ce());
    if !f(date(hi)?) {
        return None;
    }
    // Invariant: f(hi) holds; every date below lo fails.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if date(mid).is_some_and(&f) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    date(hi)
}

/// The horizon of a count or sum of purchases up to `as_of` (no window) or in a trailing
/// window, tested against `r`: the purchases' memberships are followed from candidate to
/// candidate, the figure updated exactly (in `i128`, saturated like the evaluator's).
fn figure_horizon(
    kind: Activity,
    window: Option<Window>,
    r: &Range<i64>,
    value: bool,
    c: &Customer,
    ctx: &Ctx,
) -> Horizon {
    let t = ctx.as_of;
    let list = c.purchases().as_slice();
    let weight = |p: &Purchase| -> i128 {
        match kind {
            Activity::Purchases => 1,
            Activity::Spent if p.amount.currency() == ctx.currency => i128::from(p.amount.minor()),
            Activity::Spent => 0,
        }
    };
    // Sums of amounts never negative saturate at `i64::MAX`, which clamping the exact sum
    // reproduces; negative amounts are refused by validation, so this is only a guard.
    if list.iter().any(|p| weight(p) < 0) {
        let leaf = match window {
            Some(w) => Leaf::Activity(kind, w, *r),
            None if kind == Activity::Purchases => Leaf::Int(IntField::Purchases, *r),
            None => Leaf::Money(MoneyField::Spent, *r),
        };
        let mut candidates: Vec<_> = list.iter().map(|p| p.at).collect();
        if let Some(w) = window {
            list.iter().for_each(|p| start_crossings(w, p.at, &mut candidates));
        }
        return first_change(&leaf, value, c, ctx, candidates);
    }
    let member = |at: DateTime<Utc>, as_of: DateTime<Utc>| {
        at <= as_of && window.and_then(|w| w.start(as_of)).is_none_or(|s| at > s)
    };
    // Purchases that cannot change membership after `t`: up to `t` with no window (in for
    // good); with a window, those before the day before the day the window starts on as of
    // `t` (out for good: later starts are on or after that day, leap seconds and clamped
    // months included).
    let from = match window {
        None => list.partition_point(|p| p.at <= t),
        Some(w) => match w.start(t).and_then(|s| s.date_naive().pred_opt()) {
            Some(day) => {
                let cut = day.and_time(NaiveTime::MIN).and_utc();
                list.partition_point(|p| p.at < cut)
            }
            None => 0,
        },
    };
    let (settled, open) = list.split_at(from);
    let mut total: i128 = if window.is_none() { settled.iter().map(weight).sum() } else { 0 };
    let mut inside: Vec<bool> = open.iter().map(|p| member(p.at, t)).collect();
    total += open.iter().zip(&inside).filter(|(_, i)| **i).map(|(p, _)| weight(p)).sum::<i128>();
    let mut events: Vec<(DateTime<Utc>, usize)> = Vec::new();
    let mut crossings = Vec::new();
    for (i, p) in open.iter().enumerate() {
        events.push((p.at, i));
        if let Some(w) = window {
            crossings.clear();
            start_crossings(w, p.at, &mut crossings);
            events.extend(crossings.iter().map(|x| (*x, i)));
        }
    }
    events.retain(|(x, _)| *x > t);
    events.sort_unstable();
    events.dedup();
    let figure = |total: i128| i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX });
    let mut k = 0;
    while k < events.len() {
        let at = events[k].0;
        while let Some(&(x, i)) = events.get(k).filter(|(x, _)| *x == at) {
            if let (Some(p), Some(was)) = (open.get(i), inside.get_mut(i)) {
                let now = member(p.at, x);
                if now != *was {
                    *was = now;
                    total += if now { weight(p) } else { -weight(p) };
                }
            }
            k += 1;
        }
        if r.contains(figure(total)) != value {
            return Some(at);
        }
    }
    None
}
