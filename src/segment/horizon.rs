//! Horizons: the earliest instant after `t` at which a checked predicate's value for one
//! customer can change with time passing only (no write).
//!
//! The method, for each time-dependent leaf: list *candidate* instants after `t` that include
//! every instant at which one of the leaf's inputs can change (a purchase's instant reached
//! by `as_of`, a window's excluded start reaching an instant, a birthday, a birth date), then
//! evaluate the leaf at the candidates in time order and return the first one where its value
//! differs. Between two consecutive candidates no input changes, so the leaf is constant
//! there: the answer is exact whenever the candidates are complete. The leaf is evaluated by
//! the row evaluator, or, for windows, by the evaluator's own test (`x` in `(start, as_of]`)
//! on the instant the leaf reads there; windowed counts and sums are updated incrementally
//! from candidate to candidate instead of being recomputed.
//!
//! The candidates follow [`Window::start`] exactly, including where it is not monotone:
//! calendar months clamp to shorter months (so 28, 29, 30 and 31 March all start on 28
//! February, and the start sweeps that day four times), and a leap second as of which a day
//! or week window starts is normalized by chrono to the second after it (so that second is
//! swept twice).
//!
//! Compound predicates combine their children's horizons: a true `and` (false `or`) changes as
//! soon as any child does, so it takes the earliest; a false `and` (true `or`) cannot change
//! before every false (true) child has changed, so it takes the latest of those, "never" if
//! one of them never changes. Leaves are tight (their value at the horizon differs); compound
//! predicates may report an instant at which their value turns out the same.
//!
//! [`Pred::next_change`] is the first instant at which the value actually changes, which the
//! live-segment registry asks on every write: what asking for the horizon again while the
//! value at it turns out the same gives, with less work. The caller knows the value, so it
//! is not evaluated again; every level is exact, so nothing is confirmed afterwards: a leaf's
//! horizon is its first change, `not` changes with its operand, a true `and` (false `or`)
//! with its first child to change, and a false `and` (true `or`) waits for the last change
//! of its deciding children, then looks again at its children there (only those that can
//! change, and not the one known to have just changed), and waits on if one decides again.
//!
//! Leaves allocate nothing in the common cases: candidates are few (at most three birthdays;
//! an instant and its window crossings, at most ten) and kept on the stack; purchases are
//! followed in time order, their candidates made in time order (sorted only when two
//! purchases are a few seconds apart); the window's start is computed once per candidate.
//! Day and week windows are followed on [`Tick`]s, whole seconds and nanoseconds, where
//! moving by days is integer arithmetic giving exactly chrono's results (leap seconds
//! included), with no calendar arithmetic per candidate.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use smallvec::SmallVec;

use super::{
    ast::Activity,
    eval::{Ctx, eval, leaf_value},
    ir::{DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range},
};
use crate::{
    customer::{AttrValue, Customer, Purchase},
    window::{Window, WindowUnit},
};

#[cfg(test)]
mod reference;

/// `None` is "never".
type Horizon = Option<DateTime<Utc>>;

/// Instants at which to evaluate a leaf, on the stack: at most three birthdays, or the first
/// purchase (more only in the guard against negative amounts).
type Candidates = SmallVec<[DateTime<Utc>; 16]>;

/// The earlier of two horizons ("never" is the latest).
fn sooner(a: Horizon, b: Horizon) -> Horizon {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Pred {
    /// The earliest instant after `ctx.as_of` at which the value of the predicate for `c` can
    /// change with no write, or `None` when it never can. The value is the same at every
    /// instant in `[ctx.as_of, horizon)`.
    pub(crate) fn horizon(&self, c: &Customer, ctx: &Ctx) -> Horizon {
        horizon(self, eval(self, c, ctx), c, ctx)
    }

    /// The first instant after `ctx.as_of` at which the value of the predicate for `c`, which
    /// is `value` as of `ctx.as_of` (the caller guarantees it), differs; `None` when it never
    /// does. The same as asking [`horizon`](Self::horizon) again while the value at it turns
    /// out the same, with less work (see the module docs).
    pub(crate) fn next_change(&self, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
        next_change(self, value, c, ctx)
    }

    /// Whether the value of the predicate can depend on the evaluation instant.
    pub(crate) fn is_time_dependent(&self) -> bool {
        match self {
            Pred::Const(_) => false,
            Pred::Not(inner) => inner.is_time_dependent(),
            Pred::And(items) | Pred::Or(items) => items.iter().any(Pred::is_time_dependent),
            Pred::Leaf(leaf) => leaf_is_time_dependent(leaf),
        }
    }
}

/// Whether a leaf's value can depend on the evaluation instant.
pub(crate) fn leaf_is_time_dependent(leaf: &Leaf) -> bool {
    matches!(
        leaf,
        Leaf::Age(_)
            | Leaf::InstantWithin(..)
            | Leaf::DateWithin(..)
            | Leaf::Activity(..)
            | Leaf::Int(IntField::Purchases, _)
            | Leaf::Money(MoneyField::Spent, _)
            | Leaf::Instant(InstantField::FirstPurchase | InstantField::LastPurchase, _)
            | Leaf::IsSet(Presence::Age | Presence::AnyPurchase)
    )
}

/// [`Pred::horizon`] for `p`, whose value at `ctx.as_of` is `value`.
fn horizon(p: &Pred, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
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

/// [`Pred::next_change`] for `p`, whose value at `ctx.as_of` is `value`. Exact at every
/// level, which is what lets a parent trust its children's answers without evaluating them.
fn next_change(p: &Pred, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
    match p {
        Pred::Const(_) => None,
        Pred::Not(inner) => next_change(inner, !value, c, ctx),
        // Leaves are tight: their horizon is their first change.
        Pred::Leaf(leaf) => leaf_horizon(leaf, value, c, ctx),
        // `and` true, `or` false: every child has the value of the whole, which changes
        // exactly when the first of them does.
        Pred::And(items) | Pred::Or(items) if value == matches!(p, Pred::And(_)) => {
            let mut h = None;
            for item in items {
                h = sooner(h, next_change(item, value, c, ctx));
            }
            h
        }
        Pred::And(items) | Pred::Or(items) => last_change(items, value, c, ctx),
    }
}

/// [`next_change`] for a false `and` or a true `or` (`value`) of `items`: the whole has its
/// value while any child has it (a *deciding* child), so it keeps it at least until the last
/// change of the children deciding now; there it changes unless another child decides again,
/// and then the wait goes on from there.
fn last_change(items: &[Pred], value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
    // A deciding child that never changes decides forever: look for one cheaply first. The
    // others never decide, and are not looked at again.
    if items.iter().any(|item| !item.is_time_dependent() && eval(item, c, ctx) == value) {
        return None;
    }
    let mut at = ctx.clone();
    // The child whose change is at `at.as_of`: known not to decide there.
    let mut changed = None;
    loop {
        let mut last: Option<(DateTime<Utc>, usize)> = None;
        for (i, item) in items.iter().enumerate() {
            if changed == Some(i) || !item.is_time_dependent() || eval(item, c, &at) != value {
                continue;
            }
            // A deciding child that never changes again decides forever.
            let h = next_change(item, value, c, &at)?;
            if last.is_none_or(|(l, _)| h > l) {
                last = Some((h, i));
            }
        }
        match last {
            Some((h, i)) => {
                at.as_of = h;
                changed = Some(i);
            }
            // No child decides: the whole has changed, at `at.as_of` (not at `ctx.as_of`,
            // where it has `value`, so some child decided).
            None => return (at.as_of > ctx.as_of).then_some(at.as_of),
        }
    }
}

/// The horizon of one leaf whose value at `ctx.as_of` is `value`: its first change (leaves
/// are tight).
#[inline(never)]
fn leaf_horizon(leaf: &Leaf, value: bool, c: &Customer, ctx: &Ctx) -> Horizon {
    let t = ctx.as_of;
    // The purchases, read only by the leaves that need them: for the others, loading them
    // would be a cache miss for nothing.
    let list = || c.purchases().as_slice();
    let mut candidates = Candidates::new();
    match leaf {
        Leaf::Age(r) => {
            let birth = c.profile.birth_date?;
            // The age is present from the birth date and grows by one on each birthday: the
            // leaf changes where the age enters or leaves the range.
            let lo = r.lo.map(|(v, incl)| if incl { v } else { v.saturating_add(1) });
            let hi = r.hi.map(|(v, incl)| if incl { v } else { v.saturating_sub(1) });
            for k in [Some(0), lo, hi.map(|h| h.saturating_add(1))].into_iter().flatten() {
                // A birthday in a year before `t`'s is before `t`: not worth building.
                if i64::from(birth.year()).saturating_add(k) >= i64::from(t.year()) {
                    candidates.extend(birthday(birth, k));
                }
            }
        }
        Leaf::IsSet(Presence::Age) => candidates.extend(birthday(c.profile.birth_date?, 0)),
        // The first purchase up to `as_of` appears when `as_of` reaches the earliest purchase
        // and never changes after.
        Leaf::IsSet(Presence::AnyPurchase) | Leaf::Instant(InstantField::FirstPurchase, _) => {
            candidates.push(list().first()?.at);
        }
        // The last purchase up to `as_of` changes when `as_of` reaches each later purchase,
        // and is then that purchase: the leaf is the test of its instant.
        Leaf::Instant(InstantField::LastPurchase, r) => {
            let list = list();
            let later = &list[list.partition_point(|p| p.at <= t)..];
            return later.iter().map(|p| p.at).find(|at| r.contains(*at) != value);
        }
        Leaf::Int(IntField::Purchases, r) => return figure_horizon(Activity::Purchases, None, r, value, c, ctx),
        Leaf::Money(MoneyField::Spent, r) => return figure_horizon(Activity::Spent, None, r, value, c, ctx),
        Leaf::Activity(a, w, r) => return figure_horizon(*a, Some(*w), r, value, c, ctx),
        Leaf::InstantWithin(field, w) => {
            let x = match field {
                InstantField::CreatedAt => c.created_at(),
                InstantField::StageSince => c.lifecycle().since(),
                InstantField::FirstPurchase => list().first()?.at,
                InstantField::LastPurchase => {
                    return match WindowScale::of(*w) {
                        WindowScale::Days(s) => last_purchase_within(s, value, list(), t),
                        WindowScale::Calendar(s) => last_purchase_within(s, value, list(), t),
                    };
                }
            };
            return match WindowScale::of(*w) {
                WindowScale::Days(s) => within(s, x, value, t),
                WindowScale::Calendar(s) => within(s, x, value, t),
            };
        }
        Leaf::DateWithin(field, w) => {
            let date = match field {
                DateField::BirthDate => c.profile.birth_date,
                DateField::LoyaltyJoined => c.loyalty.as_ref().map(|l| l.joined),
                DateField::Attr(n) => match c.attributes.get(n) {
                    Some(AttrValue::Date(d)) => Some(*d),
                    _ => None,
                },
            };
            let x = date?.and_time(NaiveTime::MIN).and_utc();
            return match WindowScale::of(*w) {
                WindowScale::Days(s) => within(s, x, value, t),
                WindowScale::Calendar(s) => within(s, x, value, t),
            };
        }
        _ => return None,
    }
    first_change(leaf, value, c, ctx, candidates)
}

/// The first of `candidates` after `ctx.as_of` at which `leaf`, a time-dependent leaf, is not
/// `value`.
fn first_change(leaf: &Leaf, value: bool, c: &Customer, ctx: &Ctx, mut candidates: Candidates) -> Horizon {
    candidates.retain(|x| *x > ctx.as_of);
    candidates.sort_unstable();
    candidates.dedup();
    // Time-dependent leaves read no RFM scores: leaving them out spares a shared reference
    // count.
    let mut at = Ctx { as_of: ctx.as_of, currency: ctx.currency, rfm: None };
    for x in candidates {
        at.as_of = x;
        if leaf_value(leaf, c, &at) != value {
            return Some(x);
        }
    }
    None
}

/// Sorts `items`, most often already in order (a check, then).
fn sort<T: Ord>(items: &mut [T]) {
    if !items.is_sorted() {
        items.sort_unstable();
    }
}

/// Whether an instant `x` is in a window `(start, as_of]`, as the evaluator decides it (no
/// start reaches back to the beginning).
fn in_window<T: Ord>(x: T, start: Option<T>, as_of: T) -> bool {
    x <= as_of && start.is_none_or(|s| x > s)
}

/// The horizon of `x within` a window (`x` fixed: a creation, a stage's start, the first
/// purchase, a date's 00:00), whose value at `t` is `value`: the first instant after `t`
/// among `x` and its crossings at which `x` is in the window or out of it otherwise.
fn within<S: Scale>(s: S, x: DateTime<Utc>, value: bool, t: DateTime<Utc>) -> Horizon {
    let (x, t) = (s.at(x), s.at(t));
    let mut candidates: SmallVec<[S::At; 16]> = SmallVec::new();
    candidates.push(x);
    s.crossings(x, |a| candidates.push(a));
    candidates.retain(|a| *a > t);
    sort(&mut candidates);
    candidates.into_iter().find(|a| in_window(x, s.start(*a), *a) != value).and_then(|a| s.instant(a))
}

/// The horizon of `last_purchase within` a window over the purchases `list`, whose value at
/// `t` is `value`. From each purchase's instant to the next purchase's, the last purchase is
/// that one, `x`, and the leaf is whether `x` is in the window: it changes only at `x` and at
/// `x`'s crossings in that span. The spans are taken in time order, so only the purchases up
/// to the change are looked at.
fn last_purchase_within<S: Scale>(s: S, value: bool, list: &[Purchase], t: DateTime<Utc>) -> Horizon {
    // From the purchase that is last as of `t` (or the first, if none is).
    let mut rest = &list[list.partition_point(|p| p.at <= t).saturating_sub(1)..];
    let t = s.at(t);
    while let Some(first) = rest.first().map(|p| p.at) {
        rest = &rest[rest.partition_point(|p| p.at <= first)..];
        let until = rest.first().map(|p| s.at(p.at));
        let x = s.at(first);
        let mut candidates: SmallVec<[S::At; 16]> = SmallVec::new();
        candidates.push(x);
        s.crossings(x, |a| candidates.push(a));
        candidates.retain(|a| *a > t && *a >= x && until.is_none_or(|u| *a < u));
        sort(&mut candidates);
        if let Some(a) = candidates.into_iter().find(|a| in_window(x, s.start(*a), *a) != value) {
            return s.instant(a);
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

/// Gives `out` every instant `a` at which `w.start(a) < x` (with no start counting as before
/// every instant) can differ from its value just before `a`, and possibly others.
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
fn start_crossings(w: Window, x: DateTime<Utc>, mut out: impl FnMut(DateTime<Utc>)) {
    let mut give = |a: Option<DateTime<Utc>>| {
        if let Some(a) = a {
            out(a);
        }
    };
    let naive: NaiveDateTime = x.naive_utc();
    let (dx, tx) = (naive.date(), naive.time());
    match w.unit() {
        // `unit` gives weeks as days; the amount is in days either way.
        WindowUnit::Days | WindowUnit::Weeks => {
            let Some(day) = dx.checked_add_days(Days::new(u64::from(w.amount()))) else { return };
            let (secs, frac) = (tx.num_seconds_from_midnight(), tx.nanosecond());
            give(instant(day, secs, frac));
            give(instant(day, secs, 0));
            if frac >= 1_000_000_000 {
                // `x` is in a leap second: the first start after it begins the next second.
                give(instant(day, secs, 1_000_000_000));
                give(second_after(day, secs));
            } else {
                let (prev_day, prev) = if secs == 0 { (day.pred_opt(), 86_399) } else { (Some(day), secs - 1) };
                if let Some(prev_day) = prev_day {
                    give(instant(prev_day, prev, 1_000_000_000));
                    give(instant(prev_day, prev, 1_000_000_000 + frac));
                }
            }
        }
        WindowUnit::Months => {
            let months = Months::new(w.amount());
            let start_day = |d: NaiveDate| d.checked_sub_months(months);
            let Some(mut day) = first_day_starting_from(dx, months) else { return };
            // A start day is shared by at most four days (28 to 31 March back to 28
            // February); the bound only guards the loop.
            for _ in 0..64 {
                give(instant(day, 0, 0));
                if start_day(day) != Some(dx) {
                    break;
                }
                give(Some(day.and_time(tx).and_utc()));
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

/// The first date `d` whose start day `months` back (`d.checked_sub_months(months)`, clamped
/// to the end of shorter months) is `day` or later, if any.
///
/// Moving back is monotone in `d`. `day` moved forward `months`, `f`, starts on `day` when it
/// keeps its day of the month; every earlier date starts before `day` (earlier in the same
/// month, or in an earlier month). When it does not (clamped to the end of a shorter month),
/// every date of `f`'s month starts before `day`, and the first of the next month starts on
/// the first of the month after `day`'s. Both fail alike past the representable dates and
/// beyond `i32::MAX` months.
fn first_day_starting_from(day: NaiveDate, months: Months) -> Option<NaiveDate> {
    let forward = day.checked_add_months(months)?;
    if forward.day() == day.day() { Some(forward) } else { forward.succ_opt() }
}

/// How a window's start moves with the instant it is taken as of, over a representation of
/// instants fit for the window: what [`within`], [`last_purchase_within`] and
/// [`windowed_figure`] follow. Each implementation is exactly [`Window::start`] and
/// [`start_crossings`], in its representation.
trait Scale: Copy {
    /// An instant, ordered as instants are.
    type At: Copy + Ord;
    /// `a` in this representation.
    fn at(self, a: DateTime<Utc>) -> Self::At;
    /// Back to an instant; `None` only for values that are no instant, which are never made.
    fn instant(self, a: Self::At) -> Horizon;
    /// The window's excluded start as of `a` ([`Window::start`]).
    fn start(self, a: Self::At) -> Option<Self::At>;
    /// The 00:00 of the day before `a`'s, if that day is representable.
    fn midnight_before(self, a: Self::At) -> Option<Self::At>;
    /// Gives `out` the crossings of `x` ([`start_crossings`]), in time order as far as
    /// possible, so that the candidates of purchases far enough apart need no sorting.
    fn crossings(self, x: Self::At, out: impl FnMut(Self::At));
}

/// The scale of a window: integers for days and weeks, the calendar for months.
enum WindowScale {
    Days(DayWindow),
    Calendar(CalendarWindow),
}

impl WindowScale {
    fn of(w: Window) -> WindowScale {
        match w.unit() {
            // `unit` gives weeks as days; the amount is in days either way.
            WindowUnit::Days | WindowUnit::Weeks => WindowScale::Days(DayWindow(w.amount())),
            WindowUnit::Months => WindowScale::Calendar(CalendarWindow(w)),
        }
    }
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Nanoseconds from which an instant is in a leap second.
const LEAP: u32 = 1_000_000_000;

/// An instant as seconds from 0001-01-01 00:00 UTC (the day's number from the common era
/// times 86 400, plus the second of the day) and nanoseconds into that second, from 10^9 in a
/// leap second as in chrono: ordered as the instants are, and moved by whole days with
/// integer arithmetic instead of the calendar's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Tick {
    secs: i64,
    nanos: u32,
}

impl Tick {
    fn of(a: DateTime<Utc>) -> Tick {
        let naive = a.naive_utc();
        let (date, time) = (naive.date(), naive.time());
        let secs = i64::from(date.num_days_from_ce()) * DAY + i64::from(time.num_seconds_from_midnight());
        Tick { secs, nanos: time.nanosecond() }
    }

    fn instant(self) -> Horizon {
        let day = NaiveDate::from_num_days_from_ce_opt(i32::try_from(self.secs.div_euclid(DAY)).ok()?)?;
        instant(day, u32::try_from(self.secs.rem_euclid(DAY)).ok()?, self.nanos)
    }
}

/// Whether the day of the second `secs` (of a [`Tick`]) is representable.
fn day_is_representable(secs: i64) -> bool {
    let day = secs.div_euclid(DAY);
    day >= i64::from(NaiveDate::MIN.num_days_from_ce()) && day <= i64::from(NaiveDate::MAX.num_days_from_ce())
}

/// A day or week window of this many days, over [`Tick`]s.
#[derive(Debug, Clone, Copy)]
struct DayWindow(u32);

impl Scale for DayWindow {
    type At = Tick;

    fn at(self, a: DateTime<Utc>) -> Tick {
        Tick::of(a)
    }

    fn instant(self, a: Tick) -> Horizon {
        a.instant()
    }

    /// `a` moved back the days, as chrono's arithmetic does it: in a leap second, from the
    /// beginning of the second after it (but no days at all leave `a` as it is), and `None`
    /// when that is before the first representable day.
    fn start(self, a: Tick) -> Option<Tick> {
        if self.0 == 0 {
            return Some(a);
        }
        let (secs, nanos) = if a.nanos >= LEAP { (a.secs + 1, a.nanos - LEAP) } else { (a.secs, a.nanos) };
        let secs = secs - i64::from(self.0) * DAY;
        day_is_representable(secs).then_some(Tick { secs, nanos })
    }

    fn midnight_before(self, a: Tick) -> Option<Tick> {
        let secs = (a.secs.div_euclid(DAY) - 1) * DAY;
        day_is_representable(secs).then_some(Tick { secs, nanos: 0 })
    }

    /// As [`start_crossings`] for days, in time order: `x` moved forward the days and the
    /// beginning of that second, with either two instants of the leap second before it (when
    /// chrono has one there, at the end of a minute) or, for `x` in a leap second, that leap
    /// second's beginning and the second after it.
    fn crossings(self, x: Tick, mut out: impl FnMut(Tick)) {
        let secs = x.secs + i64::from(self.0) * DAY;
        if !day_is_representable(secs) {
            return;
        }
        if x.nanos >= LEAP {
            out(Tick { secs, nanos: 0 });
            out(Tick { secs, nanos: LEAP });
            out(Tick { secs, nanos: x.nanos });
            if day_is_representable(secs + 1) {
                out(Tick { secs: secs + 1, nanos: 0 });
            }
        } else {
            if day_is_representable(secs - 1) && (secs - 1).rem_euclid(60) == 59 {
                out(Tick { secs: secs - 1, nanos: LEAP });
                out(Tick { secs: secs - 1, nanos: LEAP + x.nanos });
            }
            out(Tick { secs, nanos: 0 });
            out(Tick { secs, nanos: x.nanos });
        }
    }
}

/// A calendar-month window, over instants and chrono's calendar.
#[derive(Debug, Clone, Copy)]
struct CalendarWindow(Window);

impl Scale for CalendarWindow {
    type At = DateTime<Utc>;

    fn at(self, a: DateTime<Utc>) -> DateTime<Utc> {
        a
    }

    fn instant(self, a: DateTime<Utc>) -> Horizon {
        Some(a)
    }

    fn start(self, a: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.start(a)
    }

    fn midnight_before(self, a: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(a.date_naive().pred_opt()?.and_time(NaiveTime::MIN).and_utc())
    }

    fn crossings(self, x: DateTime<Utc>, out: impl FnMut(DateTime<Utc>)) {
        start_crossings(self.0, x, out);
    }
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
        return figure_horizon_by_evaluation(kind, window, r, value, c, ctx);
    }
    let changes = |total: i128| r.contains(saturate(total)) != value;
    match window.map(WindowScale::of) {
        Some(WindowScale::Days(s)) => windowed_figure(s, list, weight, changes, t),
        Some(WindowScale::Calendar(s)) => windowed_figure(s, list, weight, changes, t),
        // No window: each purchase after `t` counts from its instant on, for good.
        None => {
            let upto = list.partition_point(|p| p.at <= t);
            let mut total: i128 = list[..upto].iter().map(weight).sum();
            let mut rest = &list[upto..];
            while let Some(at) = rest.first().map(|p| p.at) {
                let same = rest.partition_point(|p| p.at <= at);
                total += rest[..same].iter().map(weight).sum::<i128>();
                rest = &rest[same..];
                if changes(total) {
                    return Some(at);
                }
            }
            None
        }
    }
}

/// An exact figure as the evaluator's saturated `i64`.
fn saturate(total: i128) -> i64 {
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// [`figure_horizon`] in a window: the first instant after `t` at which `changes` holds of
/// the total `weight` of the purchases of `list` in the window, following each purchase's
/// entry (at its instant) and crossings in time order.
fn windowed_figure<S: Scale>(
    s: S,
    list: &[Purchase],
    weight: impl Fn(&Purchase) -> i128,
    changes: impl Fn(i128) -> bool,
    t: DateTime<Utc>,
) -> Horizon {
    let t = s.at(t);
    let start = s.start(t);
    // Purchases that cannot change membership after `t`: those before the day before the day
    // the window starts on as of `t` (out for good: later starts are on or after that day,
    // leap seconds and clamped months included).
    let from = match start.and_then(|start| s.midnight_before(start)).and_then(|cut| s.instant(cut)) {
        Some(cut) => list.partition_point(|p| p.at < cut),
        None => 0,
    };
    let open = &list[from..];
    // Each open purchase's instant, and whether it is in the window as of the last instant
    // followed.
    let mut state: SmallVec<[(S::At, bool); 32]> = open
        .iter()
        .map(|p| {
            let x = s.at(p.at);
            (x, in_window(x, start, t))
        })
        .collect();
    let mut total: i128 = open.iter().zip(&state).filter(|(_, (_, inside))| *inside).map(|(p, _)| weight(p)).sum();
    // The purchases' entries after `t` are in time order; their crossings after `t` too, in
    // the common case (purchases not a few seconds apart) in the order they are made in. The
    // two are merged: at each instant where one of them is, the memberships are updated and
    // the total tested (an update twice is none).
    let mut entry = state.partition_point(|(x, _)| *x <= t);
    let mut crossings: SmallVec<[(S::At, usize); 64]> = SmallVec::new();
    for (i, (x, _)) in state.iter().enumerate() {
        s.crossings(*x, |a| {
            if a > t {
                crossings.push((a, i));
            }
        });
    }
    sort(&mut crossings);
    let mut k = 0;
    loop {
        let at = match (state.get(entry).map(|(x, _)| *x), crossings.get(k).map(|(a, _)| *a)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return None,
        };
        let start = s.start(at);
        let entries = entry..entry + state[entry..].iter().take_while(|(x, _)| *x == at).count();
        let crossed = k..k + crossings[k..].iter().take_while(|(a, _)| *a == at).count();
        (entry, k) = (entries.end, crossed.end);
        for i in entries.chain(crossings[crossed].iter().map(|(_, i)| *i)) {
            if let (Some(p), Some((x, inside))) = (open.get(i), state.get_mut(i)) {
                let now = in_window(*x, start, at);
                if now != *inside {
                    *inside = now;
                    total += if now { weight(p) } else { -weight(p) };
                }
            }
        }
        if changes(total) {
            return s.instant(at);
        }
    }
}

/// [`figure_horizon`] by evaluating the leaf at every instant a purchase can enter or leave:
/// for negative amounts, whose saturating sums cannot be followed incrementally.
#[cold]
fn figure_horizon_by_evaluation(
    kind: Activity,
    window: Option<Window>,
    r: &Range<i64>,
    value: bool,
    c: &Customer,
    ctx: &Ctx,
) -> Horizon {
    let list = c.purchases().as_slice();
    let leaf = match window {
        Some(w) => Leaf::Activity(kind, w, *r),
        None if kind == Activity::Purchases => Leaf::Int(IntField::Purchases, *r),
        None => Leaf::Money(MoneyField::Spent, *r),
    };
    let mut candidates: Candidates = list.iter().map(|p| p.at).collect();
    if let Some(w) = window {
        list.iter().for_each(|p| start_crossings(w, p.at, |x| candidates.push(x)));
    }
    first_change(&leaf, value, c, ctx, candidates)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    /// Every instant of a fine grid around `x`'s crossings (leap seconds included) at which
    /// `start(a) < x` differs from the instant before is among the candidates.
    #[test]
    fn start_crossings_are_complete_around_leap_seconds_and_month_ends() {
        let leap = |y, m, d, h, mi, f: u32| {
            NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_nano_opt(h, mi, 59, 1_000_000_000 + f).unwrap().and_utc()
        };
        let at = |y, m, d, h, mi, s, n| {
            NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_nano_opt(h, mi, s, n).unwrap().and_utc()
        };
        let xs = [
            at(2025, 12, 31, 23, 59, 59, 500),
            at(2026, 1, 1, 0, 0, 0, 0),
            at(2026, 1, 1, 0, 0, 0, 300),
            leap(2025, 12, 31, 23, 59, 400),
            leap(2025, 12, 31, 23, 59, 0),
            at(2026, 1, 31, 10, 0, 0, 0),
            at(2026, 2, 28, 10, 0, 0, 7),
            leap(2026, 2, 28, 12, 30, 9),
            at(2026, 3, 1, 0, 0, 0, 0),
        ];
        let windows = [Window::days(0), Window::days(1), Window::days(30), Window::months(0), Window::months(1)];
        for w in windows {
            for x in xs {
                let mut out = Vec::new();
                start_crossings(w, x, |a| out.push(a));
                out.sort_unstable();
                // The instants to probe: around each candidate and each second boundary
                // near the expected crossing, leap seconds included.
                let mut probes: Vec<DateTime<Utc>> = Vec::new();
                let centre = match w.unit() {
                    WindowUnit::Days | WindowUnit::Weeks => x.checked_add_signed(Duration::days(i64::from(w.amount()))),
                    WindowUnit::Months => x.checked_add_months(Months::new(w.amount())),
                }
                .unwrap_or(x);
                for day in -1i64..=5 {
                    let d = centre.date_naive() + Duration::days(day);
                    for (h, mi) in [(0, 0), (10, 0), (12, 30), (23, 59), (12, 31), (9, 59)] {
                        for s in [0u32, 59] {
                            for n in [0u32, 7, 300, 400, 500, 999_999_999] {
                                probes.extend(d.and_hms_nano_opt(h, mi, s, n).map(|t| t.and_utc()));
                                if s == 59 {
                                    probes.extend(d.and_hms_nano_opt(h, mi, s, 1_000_000_000 + n).map(|t| t.and_utc()));
                                }
                            }
                        }
                    }
                }
                probes.extend(out.iter().copied());
                probes.sort_unstable();
                probes.dedup();
                let below = |a: DateTime<Utc>| w.start(a).is_none_or(|s| s < x);
                for pair in probes.windows(2) {
                    if below(pair[0]) != below(pair[1]) {
                        // A change somewhere in (pair[0], pair[1]]: a candidate must be there.
                        assert!(
                            out.iter().any(|c| *c > pair[0] && *c <= pair[1]),
                            "{w}: start < {x:?} changes in ({:?}, {:?}] with no candidate; candidates {out:?}",
                            pair[0],
                            pair[1]
                        );
                    }
                }
            }
        }
        // Far instants: no overflow, no candidate beyond the representable.
        let mut out = Vec::new();
        start_crossings(Window::months(12), DateTime::<Utc>::MAX_UTC, |a| out.push(a));
        start_crossings(Window::days(365), DateTime::<Utc>::MAX_UTC, |a| out.push(a));
        start_crossings(Window::days(u32::MAX), DateTime::<Utc>::MIN_UTC, |a| out.push(a));
        start_crossings(Window::months(u32::MAX), DateTime::<Utc>::MIN_UTC, |a| out.push(a));
        assert!(out.iter().all(|c| *c >= DateTime::<Utc>::MIN_UTC));
    }

    #[test]
    fn birthdays_follow_age_on() {
        for born in [(2000, 2, 29), (2001, 3, 1), (1999, 12, 31), (2004, 1, 1)] {
            let born = NaiveDate::from_ymd_opt(born.0, born.1, born.2).unwrap();
            for k in 0..12 {
                let day = birthday(born, k).unwrap().date_naive();
                assert_eq!(crate::customer::age_on(born, day), u32::try_from(k).ok());
                assert_eq!(crate::customer::age_on(born, day.pred_opt().unwrap()), u32::try_from(k - 1).ok());
            }
        }
        let born = NaiveDate::from_ymd_opt(2000, 2, 29).unwrap();
        assert_eq!(birthday(born, -1), None);
        assert_eq!(birthday(born, i64::MAX), None);
        assert_eq!(birthday(NaiveDate::MAX, 1), None);
    }

    /// The closed form of the first day starting from a date is the binary search it
    /// replaced, on every day of four years around a leap year, at both ends of the
    /// representable dates, and for amounts of months up to and beyond `i32::MAX`.
    #[test]
    fn the_first_day_starting_from_a_date_is_the_least_one() {
        let amounts =
            [0, 1, 2, 3, 5, 11, 12, 13, 24, 48, 1_200, 3_000_000, i32::MAX as u32, i32::MAX as u32 + 1, u32::MAX];
        let mut days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap().iter_days().take(4 * 366).collect();
        days.extend(NaiveDate::MIN.iter_days().take(400));
        days.extend(NaiveDate::MAX.iter_days().rev().take(400));
        for months in amounts {
            let months = Months::new(months);
            let step = if months.as_u32() > 100 { 37 } else { 1 };
            for &day in days.iter().step_by(step) {
                let least = reference::least_date(|d| d.checked_sub_months(months).is_some_and(|s| s >= day));
                assert_eq!(first_day_starting_from(day, months), least, "{day} {months:?}");
            }
        }
    }

    /// Instants to check the day scale at: around midnights and minute ends, in leap
    /// seconds (23:59:60 and others), at both ends of the representable range.
    fn tick_probes() -> Vec<DateTime<Utc>> {
        let mut days: Vec<NaiveDate> = vec![
            NaiveDate::from_ymd_opt(2024, 2, 28).unwrap(),
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(0, 12, 31).unwrap(),
        ];
        days.extend(NaiveDate::MIN.iter_days().take(3));
        days.extend(NaiveDate::MAX.iter_days().rev().take(3));
        let mut out = Vec::new();
        for day in days {
            for secs in [0, 1, 59, 60, 3_599, 45_296, 86_339, 86_399] {
                for nanos in [0, 1, 500_000_000, 999_999_999, 1_000_000_000, 1_000_000_001, 1_999_999_999] {
                    out.extend(instant(day, secs, nanos));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Ticks are the instants, in order; the day scale's start, midnight before and crossings
    /// are chrono's and [`start_crossings`]'s.
    #[test]
    fn the_day_scale_is_chronos_arithmetic() {
        let probes = tick_probes();
        for pair in probes.windows(2) {
            assert!(Tick::of(pair[0]) < Tick::of(pair[1]), "{pair:?}");
        }
        for &a in &probes {
            assert_eq!(Tick::of(a).instant(), Some(a));
            let midnight = a.date_naive().pred_opt().map(|d| d.and_time(NaiveTime::MIN).and_utc());
            assert_eq!(DayWindow(1).midnight_before(Tick::of(a)).and_then(Tick::instant), midnight, "{a:?}");
            for n in [0, 1, 2, 7, 30, 365, 146_097, 200_000_000, i32::MAX as u32, u32::MAX] {
                let (scale, w) = (DayWindow(n), Window::days(n));
                let start = scale.start(Tick::of(a));
                assert_eq!(start.map(|s| s.instant()), w.start(a).map(Some), "{a:?} {w}");
                let mut ticks = Vec::new();
                scale.crossings(Tick::of(a), |x| ticks.push(x.instant().unwrap()));
                assert!(ticks.is_sorted(), "{a:?} {w}: {ticks:?}");
                let mut expected = Vec::new();
                start_crossings(w, a, |x| expected.push(x));
                expected.sort_unstable();
                assert_eq!(ticks, expected, "{a:?} {w}");
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // `next_change` and the optimized leaves against the first-written horizons
    // -----------------------------------------------------------------------------------

    use proptest::{collection::vec, prelude::*, sample::select};

    use crate::{
        customer::{CustomerId, Loyalty},
        lifecycle::{LifecycleState, Stage},
        money::{Currency, Money},
        segment::{Expr, Schema, Segment, check::check},
    };

    /// The instant most generated ones are near: two days before the end of February of a
    /// leap year, so that windows and birthdays cross 29 February and clamped month ends.
    fn base() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2024, 2, 27).unwrap().and_hms_opt(13, 30, 0).unwrap().and_utc()
    }

    /// An instant `days` days from [`base`]'s date, at second `secs` of the day with `nanos`;
    /// in the leap second at its end when `nanos >= 10^9` and the second is a minute's last.
    fn moment(days: i64, secs: u32, nanos: u32) -> DateTime<Utc> {
        let day = base().date_naive() + Duration::days(days);
        let nanos = if nanos >= 1_000_000_000 && secs % 60 != 59 { nanos - 1_000_000_000 } else { nanos };
        instant(day, secs, nanos).unwrap()
    }

    fn moments() -> impl Strategy<Value = DateTime<Utc>> {
        let secs = prop_oneof![Just(0u32), Just(59), Just(86_399), Just(48_600), 0u32..86_400];
        let nanos =
            prop_oneof![Just(0u32), Just(1), Just(999_999_999), 0u32..1_000_000_000, 1_000_000_000u32..2_000_000_000];
        let far = prop_oneof![
            (0i64..3, 0u32..86_400)
                .prop_map(|(d, s)| DateTime::<Utc>::MIN_UTC + Duration::days(d) + Duration::seconds(s.into())),
            (0i64..3, 0u32..86_400)
                .prop_map(|(d, s)| DateTime::<Utc>::MAX_UTC - Duration::days(d) - Duration::seconds(s.into())),
        ];
        prop_oneof![40 => (-420i64..60, secs, nanos).prop_map(|(d, s, n)| moment(d, s, n)), 1 => far]
    }

    fn windows() -> impl Strategy<Value = String> {
        prop_oneof![
            select(vec![0u32, 1, 2, 7, 30, 90, 365]).prop_map(|n| format!("{n} days")),
            (0u32..=3).prop_map(|n| format!("{n} weeks")),
            select(vec![0u32, 1, 2, 3, 12]).prop_map(|n| format!("{n} months")),
        ]
    }

    /// A date near [`base`], as a literal.
    fn dates() -> impl Strategy<Value = String> {
        (-400i64..60).prop_map(|d| (base().date_naive() + Duration::days(d)).to_string())
    }

    /// One condition: mostly time-dependent ones (ages, windows, counts and sums with and
    /// without windows, purchase instants compared with dates), a few that never change.
    fn condition() -> impl Strategy<Value = String> {
        let within = (
            select(vec![
                "created_at",
                "last_purchase",
                "first_purchase",
                "stage_since",
                "birth_date",
                "loyalty_joined",
            ]),
            windows(),
        );
        prop_oneof![
            (select(vec![">=", "<", "=", "!=", ">", "<="]), 0i64..=40).prop_map(|(op, n)| format!("age {op} {n}")),
            (0i64..=30, 0i64..=6).prop_map(|(a, d)| format!("age between {a} and {}", a + d)),
            Just("age is set".to_owned()),
            within.prop_map(|(f, w)| format!("{f} within {w}")),
            (windows(), select(vec![">=", "<", "="]), 0i64..=4)
                .prop_map(|(w, op, k)| format!("purchases(last {w}) {op} {k}")),
            (windows(), 0i64..=3, 0i64..=2)
                .prop_map(|(w, a, d)| format!("purchases(last {w}) between {a} and {}", a + d)),
            (windows(), select(vec![">", "<="]), 0i64..=4_000)
                .prop_map(|(w, op, x)| format!("spent(last {w}) {op} {x}.00")),
            (select(vec![">=", "<", "="]), 0i64..=5).prop_map(|(op, k)| format!("purchases {op} {k}")),
            (select(vec![">", "<="]), 0i64..=6_000).prop_map(|(op, x)| format!("spent {op} {x}.00")),
            (select(vec!["first_purchase", "last_purchase"]), select(vec!["before", "after"]), dates())
                .prop_map(|(f, op, d)| format!("{f} {op} {d}")),
            select(vec![
                "first_purchase is set",
                "last_purchase is set",
                "loyalty_member",
                "referrals >= 1",
                "stage = client"
            ])
            .prop_map(str::to_owned),
        ]
    }

    /// Conditions combined with `and`, `or` and `not`.
    fn segment_text() -> impl Strategy<Value = String> {
        condition().prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                vec(inner.clone(), 2..=3).prop_map(|v| format!("({})", v.join(" and "))),
                vec(inner.clone(), 2..=3).prop_map(|v| format!("({})", v.join(" or "))),
                inner.prop_map(|s| format!("not ({s})")),
            ]
        })
    }

    /// A customer with a birth date (29 February among them), a loyalty card, a stage since
    /// an instant, and up to six purchases (some after [`base`], in leap seconds, at the same
    /// instant, in another currency).
    fn customers() -> impl Strategy<Value = Customer> {
        let birth = prop_oneof![
            Just(None),
            Just(NaiveDate::from_ymd_opt(2000, 2, 29)),
            Just(NaiveDate::from_ymd_opt(2006, 2, 28)),
            Just(NaiveDate::from_ymd_opt(2006, 3, 1)),
            (-400i64..0).prop_map(|d| Some(base().date_naive() + Duration::days(d))),
            (1990i32..2024, 1u32..=366).prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d.min(365))),
        ];
        let purchase = (moments(), 1i64..300_000, 0u8..8).prop_map(|(at, amount, currency)| {
            Purchase::new(at, Money::new(amount, if currency == 0 { Currency::USD } else { Currency::EGP }))
        });
        let parts = (moments(), moments(), birth, prop::option::of(-500i64..60), vec(purchase, 0..=6), any::<bool>());
        (parts, any::<bool>(), 0u32..2).prop_map(
            |((created, since, birth, joined, mut purchases, twin), client, referrals)| {
                if let Some(p) = purchases.first().filter(|_| twin).cloned() {
                    purchases.push(p);
                }
                let mut c =
                    Customer::new(CustomerId::new(1), "x", created).with_purchases(purchases).unwrap().with_lifecycle(
                        LifecycleState::at_stage(if client { Stage::Client } else { Stage::Prospect }, since, None)
                            .unwrap(),
                    );
                c.profile.birth_date = birth;
                c.referrals = referrals;
                c.loyalty =
                    joined.map(|d| Loyalty { card_id: "LC-1".into(), joined: base().date_naive() + Duration::days(d) });
                c
            },
        )
    }

    /// Instants worth asking at for `c`, from `picks` (an anchor, a shift, a random offset):
    /// near [`base`], and on (a nanosecond around, in the leap second before, or some time
    /// before) its purchases, their window edges, birthdays and its other instants.
    fn instants(c: &Customer, picks: &[(usize, u8, i64)]) -> Vec<DateTime<Utc>> {
        let mut anchors = vec![base(), c.created_at(), c.lifecycle().since()];
        for p in c.purchases().as_slice() {
            anchors.push(p.at);
            for n in [1, 7, 30, 90, 365] {
                anchors.extend(p.at.checked_add_signed(Duration::days(n)));
            }
            for n in [1, 2, 3, 12] {
                anchors.extend(p.at.checked_add_months(Months::new(n)));
            }
        }
        if let Some(birth) = c.profile.birth_date {
            anchors.extend((0..=40).step_by(3).filter_map(|k| birthday(birth, k)));
        }
        if let Some(l) = &c.loyalty {
            let joined = l.joined.and_time(NaiveTime::MIN).and_utc();
            anchors.extend([1, 7, 30].map(|n| joined + Duration::days(n)));
        }
        picks
            .iter()
            .filter_map(|&(i, shift, back)| {
                let a = anchors[i % anchors.len()];
                match shift % 7 {
                    0 => Some(a),
                    1 => a.checked_add_signed(Duration::nanoseconds(1)),
                    2 => a.checked_sub_signed(Duration::nanoseconds(1)),
                    // In the leap second before `a`'s second (if `a` is not in one).
                    3 => {
                        let (day, secs) = (a.date_naive(), a.num_seconds_from_midnight());
                        let (day, prev) = if secs == 0 { (day.pred_opt()?, 86_399) } else { (day, secs - 1) };
                        instant(day, prev, 1_000_000_000 + a.nanosecond() % 1_000_000_000)
                    }
                    // Before `a`, by up to a day, a month or a year.
                    4 => a.checked_sub_signed(Duration::nanoseconds(back % 86_400_000_000_000)),
                    5 => a.checked_sub_signed(Duration::nanoseconds(back % (31 * 86_400_000_000_000))),
                    _ => a.checked_sub_signed(Duration::nanoseconds(back % (400 * 86_400_000_000_000))),
                }
            })
            .collect()
    }

    /// The first change as asked of the horizon again and again, for `horizon` at an instant.
    fn loop_over(
        horizon: impl Fn(DateTime<Utc>) -> Horizon,
        matches: impl Fn(DateTime<Utc>) -> bool,
        t: DateTime<Utc>,
        value: bool,
    ) -> Horizon {
        let mut h = horizon(t)?;
        while matches(h) == value {
            h = horizon(h)?;
        }
        Some(h)
    }

    /// Checks, for one segment, customer and instant, that `next_change` is the loop over the
    /// public horizon, and that the optimized horizons are the first-written ones.
    fn check_one(
        text: &str,
        segment: &Segment,
        pred: &Pred,
        c: &Customer,
        t: DateTime<Utc>,
    ) -> Result<(), TestCaseError> {
        let ctx = |as_of| Ctx { as_of, currency: Currency::EGP, rfm: None };
        let value = segment.matches(c, t);
        let fast = segment.next_change(c, t, value);
        let by_loop = loop_over(|u| segment.horizon(c, u), |u| segment.matches(c, u), t, value);
        prop_assert_eq!(fast, by_loop, "`{}` at {:?} (value {}) for {:#?}", text, t, value, c);
        // The first-written horizons, and the loop over them.
        let first_written = |u| {
            if pred.is_time_dependent() { reference::horizon(pred, eval(pred, c, &ctx(u)), c, &ctx(u)) } else { None }
        };
        prop_assert_eq!(pred.horizon(c, &ctx(t)), first_written(t), "`{}` at {:?}", text, t);
        prop_assert_eq!(segment.horizon(c, t), first_written(t), "`{}` at {:?}", text, t);
        prop_assert_eq!(fast, loop_over(first_written, |u| eval(pred, c, &ctx(u)), t, value), "`{}` at {:?}", text, t);
        // Exact: the value differs there, and (a nanosecond before) not yet.
        if let Some(h) = fast {
            prop_assert!(h > t && segment.matches(c, h) != value, "`{}` at {:?}: {:?}", text, t, h);
            if let Some(before) = h.checked_sub_signed(Duration::nanoseconds(1)).filter(|b| *b >= t) {
                prop_assert_eq!(segment.matches(c, before), value, "`{}` at {:?}: {:?}", text, t, h);
            }
        }
        Ok(())
    }

    /// Checks [`check_one`] for each of `texts`, customer and instant.
    fn check_all(
        texts: &[String],
        customers: &[Customer],
        picks: &[(usize, u8, i64)],
        near: &[DateTime<Utc>],
    ) -> Result<(), TestCaseError> {
        let schema = Schema::new(Currency::EGP);
        for text in texts {
            let segment = Segment::compile(text, &schema).unwrap();
            let pred = check(&text.parse::<Expr>().unwrap(), &schema).unwrap();
            for c in customers {
                for t in instants(c, picks).into_iter().chain(near.iter().copied()) {
                    check_one(text, &segment, &pred, c, t)?;
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        /// One condition, and its negation: `next_change` is the loop over `horizon` that it
        /// replaces, and the optimized horizons are the first-written ones, for random
        /// customers and instants (on purchases, window edges and birthdays, a nanosecond
        /// either side, in leap seconds, or some time before).
        #[test]
        fn the_next_change_of_a_condition_is_the_loop_over_horizons(
            conditions in vec(condition(), 1..4),
            customers in vec(customers(), 1..4),
            picks in vec((any::<usize>(), any::<u8>(), 0..i64::MAX), 1..6),
            near in vec(moments(), 1..3),
        ) {
            let texts: Vec<String> = conditions.iter().flat_map(|c| [c.clone(), format!("not ({c})")]).collect();
            check_all(&texts, &customers, &picks, &near)?;
        }

        /// The same for conditions combined with `and`, `or` and `not`.
        #[test]
        fn the_next_change_of_a_compound_segment_is_the_loop_over_horizons(
            texts in vec(segment_text(), 1..4),
            customers in vec(customers(), 1..4),
            picks in vec((any::<usize>(), any::<u8>(), 0..i64::MAX), 1..6),
            near in vec(moments(), 1..3),
        ) {
            check_all(&texts, &customers, &picks, &near)?;
        }
    }

    /// The deepest legal segments (as in the integration tests, 16 references of 64 levels
    /// alternating `and` and `or`) have a next change on a small thread stack.
    #[test]
    fn the_deepest_legal_segments_have_a_next_change_on_a_default_thread_stack() {
        let mut schema = Schema::new(Currency::EGP);
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
                let t = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_time(NaiveTime::MIN).and_utc();
                let bought = t - Duration::days(3) + Duration::seconds(17);
                let mut c = Customer::new(CustomerId::new(1), "x", t - Duration::hours(5))
                    .with_purchases(vec![Purchase::new(bought, Money::new(100, Currency::EGP))])
                    .unwrap();
                c.profile.birth_date = NaiveDate::from_ymd_opt(2008, 1, 2);
                // False, and still false on the 18th birthday (`created_at within 1 day` has
                // left by then), for good.
                assert!(!segment.matches(&c, t));
                assert_eq!(segment.next_change(&c, t, false), None);
                // Over 18 and created within the day: true until the day is over.
                c.profile.birth_date = NaiveDate::from_ymd_opt(2007, 1, 2);
                assert!(segment.matches(&c, t));
                let created = c.created_at();
                assert_eq!(
                    segment.next_change(&c, t, true),
                    Some(instant(created.date_naive() + Duration::days(1), 68_399, 1_000_000_000).unwrap())
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// A false `and` waits for each deciding child in turn, and for the children that
    /// decide again by then; a true `or` for the last of its true children.
    #[test]
    fn compound_segments_change_where_their_children_let_them() {
        let schema = Schema::new(Currency::EGP);
        let t = base();
        let bought = t + Duration::days(40) + Duration::seconds(17);
        let mut c = Customer::new(CustomerId::new(1), "x", t - Duration::days(10))
            .with_purchases(vec![Purchase::new(bought, Money::new(100, Currency::EGP))])
            .unwrap();
        c.profile.birth_date = NaiveDate::from_ymd_opt(2006, 4, 10);
        let next = |text: &str, t: DateTime<Utc>| {
            let s = Segment::compile(text, &schema).unwrap();
            s.next_change(&c, t, s.matches(&c, t))
        };
        let midnight = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap().and_time(NaiveTime::MIN).and_utc();
        // The purchase enters on 7 April; the 18th birthday is on 10 April, when both hold.
        assert_eq!(next("age >= 18 and purchases(last 30 days) >= 1", t), Some(midnight(2024, 4, 10)));
        // The purchase has left the week by the birthday: it comes in again never.
        assert_eq!(next("age >= 18 and purchases(last 1 day) >= 1", t), None);
        // Then true until the purchase leaves, 30 days on.
        assert_eq!(
            next("age >= 18 and purchases(last 30 days) >= 1", midnight(2024, 4, 10)),
            Some(bought + Duration::days(30))
        );
        assert_eq!(next("not (age >= 18 and purchases(last 30 days) >= 1)", t), Some(midnight(2024, 4, 10)));
        // A true `or` until both have changed: the creation leaves the year's window on 16
        // February 2025, after the birthday, at the leap second before its minute.
        let created = c.created_at() + Duration::days(365);
        assert_eq!(
            next("age < 18 or created_at within 365 days", t),
            instant(created.date_naive(), created.num_seconds_from_midnight() - 1, 1_000_000_000)
        );
        // A condition that never changes and decides: never.
        assert_eq!(next("referrals >= 1 and age >= 18", t), None);
        assert_eq!(next("stage = suspect or age >= 18", t), None);
    }
}
