//! Row evaluation: a checked predicate against one customer as of an instant.
//!
//! Recursion follows the checked tree, whose depth the [`Limits`](super::Limits) bound.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ast::Activity,
    ir::{
        BoolField, ChannelField, DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range, RfmPart,
        TagField, TextField, TextOp,
    },
    schema::AttrType,
};
use crate::{
    customer::{AttrValue, ChannelSet, CreditStanding, Customer, Gender, Generation, TagSet, age_on, total_in},
    lifecycle::Stage,
    money::Currency,
    rfm::{Rfm, RfmGroup, RfmScores},
    window::Window,
};

/// What evaluation needs besides the customer.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub as_of: DateTime<Utc>,
    pub currency: Currency,
    /// The scores `rfm.*` fields read (from the schema the segment was compiled against).
    pub rfm: Option<Arc<RfmScores>>,
}

impl Ctx {
    fn date(&self) -> NaiveDate {
        self.as_of.date_naive()
    }
}

/// The customer's RFM scores, if the context has scores and they score the customer.
fn rfm(c: &Customer, ctx: &Ctx) -> Option<Rfm> {
    ctx.rfm.as_ref()?.get(c.id())
}

/// The bit of an RFM group in a group mask.
pub(crate) fn rfm_group_bit(g: RfmGroup) -> u16 {
    RfmGroup::ALL.iter().position(|x| *x == g).map_or(0, |i| 1 << i)
}

/// Evaluates `p` for `c`.
pub(crate) fn eval(p: &Pred, c: &Customer, ctx: &Ctx) -> bool {
    match p {
        Pred::Const(b) => *b,
        Pred::And(items) => items.iter().all(|i| eval(i, c, ctx)),
        Pred::Or(items) => items.iter().any(|i| eval(i, c, ctx)),
        Pred::Not(inner) => !eval(inner, c, ctx),
        Pred::Leaf(leaf) => leaf_value(leaf, c, ctx),
    }
}

fn bit_of<T: PartialEq>(all: &[T], v: &T) -> u32 {
    all.iter().position(|x| x == v).map_or(0, |i| 1 << i)
}

fn attr<'c>(c: &'c Customer, name: &str) -> Option<&'c AttrValue> {
    c.attributes.get(name)
}

/// The value of an integer operand, if present.
fn int(field: &IntField, c: &Customer, ctx: &Ctx) -> Option<i64> {
    match field {
        IntField::Referrals => Some(i64::from(c.referrals)),
        IntField::Rfm(part) => rfm(c, ctx).map(|s| {
            i64::from(match part {
                RfmPart::R => s.r(),
                RfmPart::F => s.f(),
                RfmPart::M => s.m(),
            })
        }),
        IntField::Purchases => i64::try_from(c.purchases().count_upto(ctx.as_of)).ok(),
        IntField::Attr(n) => match attr(c, n) {
            Some(AttrValue::Int(v)) => Some(*v),
            _ => None,
        },
    }
}

/// The value of a money operand in the schema's currency, if present.
fn money(field: &MoneyField, c: &Customer, ctx: &Ctx) -> Option<i64> {
    let in_currency = |m: &crate::money::Money| (m.currency() == ctx.currency).then_some(m.minor());
    match field {
        MoneyField::Spent => Some(c.purchases().spent_upto(ctx.as_of, ctx.currency).minor()),
        MoneyField::Income => c.profile.annual_income.as_ref().and_then(in_currency),
        MoneyField::Attr(n) => match attr(c, n) {
            Some(AttrValue::Money(m)) => in_currency(m),
            _ => None,
        },
    }
}

fn date(field: &DateField, c: &Customer) -> Option<NaiveDate> {
    match field {
        DateField::BirthDate => c.profile.birth_date,
        DateField::LoyaltyJoined => c.loyalty.as_ref().map(|l| l.joined),
        DateField::Attr(n) => match attr(c, n) {
            Some(AttrValue::Date(d)) => Some(*d),
            _ => None,
        },
    }
}

fn instant(field: InstantField, c: &Customer, ctx: &Ctx) -> Option<DateTime<Utc>> {
    match field {
        InstantField::FirstPurchase => c.purchases().first_upto(ctx.as_of),
        InstantField::LastPurchase => c.purchases().last_as_of(ctx.as_of),
        InstantField::CreatedAt => Some(c.created_at()),
        InstantField::StageSince => Some(c.lifecycle().since()),
    }
}

fn text<'c>(field: &TextField, c: &'c Customer) -> Option<&'c str> {
    match field {
        TextField::Region => c.profile.location.region.as_deref(),
        TextField::City => c.profile.location.city.as_deref(),
        TextField::Attr(n) => match attr(c, n) {
            Some(AttrValue::Text(t)) => Some(t),
            _ => None,
        },
    }
}

fn channels(field: ChannelField, c: &Customer) -> ChannelSet {
    match field {
        ChannelField::Reachable => c.channels.reachable(),
        ChannelField::Preferred => c.channels.preferred,
        ChannelField::OptedOut => c.channels.opted_out,
    }
}

fn tag_set<'c>(field: &TagField, c: &'c Customer) -> Option<&'c TagSet> {
    match field {
        TagField::Interests => Some(&c.interests),
        TagField::Lifestyle => Some(&c.lifestyle),
        TagField::Needs => Some(&c.needs),
        TagField::Attr(_) => None,
    }
}

/// Whether `hay` contains `needle` (already ASCII-lowercased), ignoring ASCII case.
fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

pub(crate) fn text_matches(value: &str, op: TextOp, patterns: &[String]) -> bool {
    let v = value.as_bytes();
    patterns.iter().any(|p| {
        let p = p.as_bytes();
        match op {
            TextOp::Eq => v.eq_ignore_ascii_case(p),
            TextOp::StartsWith => v.len() >= p.len() && v[..p.len()].eq_ignore_ascii_case(p),
            TextOp::EndsWith => v.len() >= p.len() && v[v.len() - p.len()..].eq_ignore_ascii_case(p),
            TextOp::Contains => contains_ignore_ascii_case(value, std::str::from_utf8(p).unwrap_or("")),
        }
    })
}

/// The excluded start of `window` as of `ctx`: `None` reaches back to the beginning.
fn window_start(window: Window, ctx: &Ctx) -> Option<DateTime<Utc>> {
    window.start(ctx.as_of)
}

fn in_window(t: DateTime<Utc>, start: Option<DateTime<Utc>>, as_of: DateTime<Utc>) -> bool {
    t <= as_of && start.is_none_or(|s| t > s)
}

/// A windowed activity figure.
fn activity(a: Activity, start: Option<DateTime<Utc>>, as_of: DateTime<Utc>, c: &Customer, ctx: &Ctx) -> i64 {
    let within = c.purchases().between(start, as_of);
    match a {
        Activity::Purchases => i64::try_from(within.len()).unwrap_or(i64::MAX),
        Activity::Spent => total_in(within, ctx.currency).minor(),
    }
}

pub(crate) fn leaf_value(leaf: &Leaf, c: &Customer, ctx: &Ctx) -> bool {
    match leaf {
        Leaf::Stage(mask) => u32::from(*mask) & bit_of(&Stage::ALL, &c.stage()) != 0,
        Leaf::Gender(mask) => u32::from(*mask) & bit_of(&Gender::ALL, &c.profile.gender) != 0,
        Leaf::RfmGroup(mask) => rfm(c, ctx).is_some_and(|s| mask & rfm_group_bit(s.group()) != 0),
        Leaf::Credit(mask) => u32::from(*mask) & bit_of(&CreditStanding::ALL, &c.credit) != 0,
        Leaf::Generation(mask) => c.generation().is_some_and(|g| u32::from(*mask) & bit_of(&Generation::ALL, &g) != 0),
        Leaf::Int(f, r) => int(f, c, ctx).is_some_and(|v| r.contains(v)),
        Leaf::Money(f, r) => money(f, c, ctx).is_some_and(|v| r.contains(v)),
        Leaf::Decimal(n, r) => matches!(attr(c, n), Some(AttrValue::Decimal(d)) if r.contains(*d)),
        Leaf::Date(f, r) => date(f, c).is_some_and(|d| r.contains(d)),
        Leaf::Instant(f, r) => instant(*f, c, ctx).is_some_and(|t| r.contains(t)),
        Leaf::Age(r) => {
            c.profile.birth_date.and_then(|b| age_on(b, ctx.date())).is_some_and(|a| r.contains(i64::from(a)))
        }
        Leaf::InstantWithin(f, w) => {
            instant(*f, c, ctx).is_some_and(|t| in_window(t, window_start(*w, ctx), ctx.as_of))
        }
        Leaf::DateWithin(f, w) => date(f, c)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .is_some_and(|t| in_window(t.and_utc(), window_start(*w, ctx), ctx.as_of)),
        Leaf::Activity(a, w, r) => r.contains(activity(*a, window_start(*w, ctx), ctx.as_of, c, ctx)),
        Leaf::ActivitySince(a, start, as_of, r) => r.contains(activity(*a, *start, *as_of, c, ctx)),
        Leaf::Text(f, op, patterns) => text(f, c).is_some_and(|v| text_matches(v, *op, patterns)),
        Leaf::Country(codes) => c.profile.location.country.is_some_and(|cc| codes.contains(&cc)),
        Leaf::Tags(f, all, tags) => match tag_set(f, c) {
            Some(set) => {
                if *all {
                    tags.iter().all(|t| set.contains_normalized(t))
                } else {
                    tags.iter().any(|t| set.contains_normalized(t))
                }
            }
            None => match f {
                TagField::Attr(n) => match attr(c, n) {
                    Some(AttrValue::TextList(items)) => {
                        let has = |t: &String| items.iter().any(|i| i.as_bytes().eq_ignore_ascii_case(t.as_bytes()));
                        if *all { tags.iter().all(has) } else { tags.iter().any(has) }
                    }
                    _ => false,
                },
                _ => false,
            },
        },
        Leaf::Channels(f, all, mask) => {
            let bits = channels(*f, c).bits();
            if *all { bits & mask == *mask } else { bits & mask != 0 }
        }
        Leaf::Bool(f, want) => match f {
            BoolField::LoyaltyMember => c.is_loyalty_member() == *want,
            BoolField::Exclusive => c.exclusive == *want,
            BoolField::Attr(n) => matches!(attr(c, n), Some(AttrValue::Bool(b)) if b == want),
        },
        Leaf::IsSet(p) => present(p, c, ctx),
    }
}

fn present(p: &Presence, c: &Customer, ctx: &Ctx) -> bool {
    match p {
        Presence::Generation => c.generation().is_some(),
        Presence::Age => c.profile.birth_date.and_then(|b| age_on(b, ctx.date())).is_some(),
        Presence::BirthDate => c.profile.birth_date.is_some(),
        Presence::Country => c.profile.location.country.is_some(),
        Presence::Region => c.profile.location.region.is_some(),
        Presence::City => c.profile.location.city.is_some(),
        Presence::Interests => !c.interests.is_empty(),
        Presence::Lifestyle => !c.lifestyle.is_empty(),
        Presence::Needs => !c.needs.is_empty(),
        Presence::Channels(f) => !channels(*f, c).is_empty(),
        Presence::LoyaltyJoined => c.loyalty.is_some(),
        Presence::AnyPurchase => c.purchases().last_as_of(ctx.as_of).is_some(),
        Presence::Rfm => rfm(c, ctx).is_some(),
        Presence::Income => c.profile.annual_income.is_some_and(|m| m.currency() == ctx.currency),
        Presence::Attr(n, ty) => attr_present(attr(c, n), *ty, ctx),
    }
}

/// Whether an attribute declared with type `ty` has a value: one of that type (money in the
/// schema's currency, a text list with an item). A value of another type counts as missing.
fn attr_present(v: Option<&AttrValue>, ty: AttrType, ctx: &Ctx) -> bool {
    match (ty, v) {
        (AttrType::Bool, Some(AttrValue::Bool(_)))
        | (AttrType::Int, Some(AttrValue::Int(_)))
        | (AttrType::Decimal, Some(AttrValue::Decimal(_)))
        | (AttrType::Text, Some(AttrValue::Text(_)))
        | (AttrType::Date, Some(AttrValue::Date(_))) => true,
        (AttrType::Money, Some(AttrValue::Money(m))) => m.currency() == ctx.currency,
        (AttrType::TextList, Some(AttrValue::TextList(items))) => !items.is_empty(),
        _ => false,
    }
}

/// The same predicate with every time-relative leaf fixed for `as_of`: ages become
/// birth-date ranges, trailing windows become instant ranges. Evaluating the bound form
/// gives the same result as evaluating the original at `as_of`, faster.
pub(crate) fn bind(p: &Pred, as_of: DateTime<Utc>) -> Pred {
    // Plain loops, not iterator chains: with references inlined the tree can be about a
    // thousand levels deep, and every adapter would be one more stack frame per level.
    let all = |items: &[Pred]| {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(bind(item, as_of));
        }
        out
    };
    match p {
        Pred::Const(b) => Pred::Const(*b),
        Pred::And(items) => Pred::and(all(items)),
        Pred::Or(items) => Pred::or(all(items)),
        Pred::Not(inner) => Pred::not(bind(inner, as_of)),
        Pred::Leaf(leaf) => bind_leaf(leaf, as_of),
    }
}

/// [`bind`] for one leaf (apart, to keep the recursive frame small).
fn bind_leaf(leaf: &Leaf, as_of: DateTime<Utc>) -> Pred {
    match leaf {
        Leaf::Age(r) => Pred::leaf(Leaf::Date(DateField::BirthDate, age_to_birth_dates(*r, as_of.date_naive()))),
        Leaf::InstantWithin(f, w) => {
            let lo = w.start(as_of).map(|s| (s, false));
            Pred::leaf(Leaf::Instant(*f, Range { lo, hi: Some((as_of, true)) }))
        }
        Leaf::Activity(a, w, r) => Pred::leaf(Leaf::ActivitySince(*a, w.start(as_of), as_of, *r)),
        // A date's 00:00 falls in (start, as_of] exactly when the date is after start's date
        // and not after as_of's.
        Leaf::DateWithin(f, w) => {
            let lo = w.start(as_of).map(|s| (s.date_naive(), false));
            Pred::leaf(Leaf::Date(f.clone(), Range { lo, hi: Some((as_of.date_naive(), true)) }))
        }
        other => Pred::Leaf(other.clone()),
    }
}

/// Birth dates that make an age (in completed years on `on`) fall in `r`.
///
/// Someone is at least `n` years old on `on` exactly when born on or before the date `n`
/// years earlier (29 February counting as 28 February in common years, which matches
/// [`age_on`]'s birthday on 1 March); at most `n` exactly when born after the date `n + 1`
/// years earlier.
fn age_to_birth_dates(r: Range<i64>, on: NaiveDate) -> Range<NaiveDate> {
    let years_before = |n: i64| -> Option<NaiveDate> {
        let months = u32::try_from(n.checked_mul(12)?).ok()?;
        on.checked_sub_months(chrono::Months::new(months))
    };
    // Normalize the age bounds to inclusive whole numbers first.
    let lo = r.lo.map(|(v, incl)| if incl { v } else { v.saturating_add(1) });
    let hi = r.hi.map(|(v, incl)| if incl { v } else { v.saturating_sub(1) });
    // Ages are never negative: a low end at or below zero only asks for a birth date.
    let born_by = match lo {
        Some(n) if n > 0 => match years_before(n) {
            Some(d) => Some((d, true)),
            // Older than any representable date: nobody.
            None => return Range { lo: Some((NaiveDate::MAX, false)), hi: Some((NaiveDate::MIN, false)) },
        },
        _ => Some((on, true)),
    };
    let born_after = match hi {
        Some(n) if n < 0 => return Range { lo: Some((NaiveDate::MAX, false)), hi: Some((NaiveDate::MIN, false)) },
        Some(n) => years_before(n.saturating_add(1)).map(|d| (d, false)),
        None => None,
    };
    Range { lo: born_after, hi: born_by }
}
