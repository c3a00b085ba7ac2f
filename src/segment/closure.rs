//! The fast row evaluator: a bound predicate compiled once into nested closures, so that
//! evaluating a customer runs straight-line code for each clause instead of interpreting the
//! tree. Clauses without a specialized closure fall back to the interpreter
//! ([`leaf_value`]), so both always agree.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{
    ast::Activity,
    eval::{Ctx, leaf_value},
    ir::{DateField, InstantField, IntField, Leaf, Pred, Range, TagField, TextField, TextOp},
};
use crate::{
    customer::{Channel, CreditStanding, Customer, Gender, TagSet, total_in},
    lifecycle::Stage,
};

/// A compiled clause.
pub(crate) type RowFn = Arc<dyn Fn(&Customer) -> bool + Send + Sync>;

/// Inclusive bounds, with `None` for an open end, from an inclusive-or-exclusive range of a
/// type with a successor.
fn closed<T: Copy + Ord>(
    r: &Range<T>,
    succ: impl Fn(T) -> Option<T>,
    pred: impl Fn(T) -> Option<T>,
) -> Option<(Option<T>, Option<T>)> {
    let lo = match r.lo {
        None => None,
        Some((v, true)) => Some(v),
        Some((v, false)) => Some(succ(v)?),
    };
    let hi = match r.hi {
        None => None,
        Some((v, true)) => Some(v),
        Some((v, false)) => Some(pred(v)?),
    };
    Some((lo, hi))
}

#[inline]
fn within<T: Ord + Copy>(v: T, lo: Option<T>, hi: Option<T>) -> bool {
    lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v <= hi)
}

/// Compiles a bound predicate for evaluation at `ctx`.
pub(crate) fn compile(p: &Pred, ctx: Ctx) -> RowFn {
    match p {
        Pred::Const(b) => {
            let b = *b;
            Arc::new(move |_| b)
        }
        Pred::And(items) => {
            let fs: Vec<RowFn> = items.iter().map(|i| compile(i, ctx.clone())).collect();
            match <[RowFn; 2]>::try_from(fs) {
                Ok([a, b]) => Arc::new(move |c| a(c) && b(c)),
                Err(fs) => Arc::new(move |c| fs.iter().all(|f| f(c))),
            }
        }
        Pred::Or(items) => {
            let fs: Vec<RowFn> = items.iter().map(|i| compile(i, ctx.clone())).collect();
            match <[RowFn; 2]>::try_from(fs) {
                Ok([a, b]) => Arc::new(move |c| a(c) || b(c)),
                Err(fs) => Arc::new(move |c| fs.iter().any(|f| f(c))),
            }
        }
        Pred::Not(inner) => {
            let f = compile(inner, ctx);
            Arc::new(move |c| !f(c))
        }
        Pred::Leaf(leaf) => compile_leaf(leaf, ctx),
    }
}

// The masks index `Stage::ALL`, `Gender::ALL` and `CreditStanding::ALL`, which list the
// variants in declaration order, so a variant's discriminant is its bit position.
const _: () = {
    assert!(Stage::ALL[9] as u8 == 9 && Gender::ALL[3] as u8 == 3 && CreditStanding::ALL[3] as u8 == 3);
};

fn compile_leaf(leaf: &Leaf, ctx: Ctx) -> RowFn {
    let (as_of, currency) = (ctx.as_of, ctx.currency);
    let fallback = move || -> RowFn {
        let (leaf, ctx) = (leaf.clone(), ctx.clone());
        Arc::new(move |c| leaf_value(&leaf, c, &ctx))
    };
    match leaf {
        Leaf::Stage(mask) => {
            let mask = u32::from(*mask);
            Arc::new(move |c| mask >> (c.stage() as u32) & 1 != 0)
        }
        Leaf::Gender(mask) => {
            let mask = u32::from(*mask);
            Arc::new(move |c| mask >> (c.profile.gender as u32) & 1 != 0)
        }
        Leaf::Credit(mask) => {
            let mask = u32::from(*mask);
            Arc::new(move |c| mask >> (c.credit as u32) & 1 != 0)
        }
        Leaf::Date(DateField::BirthDate, r) => {
            match closed(r, |d: NaiveDate| d.succ_opt(), |d: NaiveDate| d.pred_opt()) {
                Some((lo, hi)) => Arc::new(move |c| c.profile.birth_date.is_some_and(|d| within(d, lo, hi))),
                None => Arc::new(|_| false),
            }
        }
        Leaf::Country(codes) => match codes.as_slice() {
            [one] => {
                let one = Some(*one);
                Arc::new(move |c| c.profile.location.country == one)
            }
            _ => {
                let codes = codes.clone();
                Arc::new(move |c| c.profile.location.country.is_some_and(|cc| codes.contains(&cc)))
            }
        },
        Leaf::Text(TextField::City, TextOp::Eq, values) => {
            let values = values.clone();
            Arc::new(move |c| {
                c.profile.location.city.as_deref().is_some_and(|v| values.iter().any(|p| p.eq_ignore_ascii_case(v)))
            })
        }
        Leaf::Tags(field @ (TagField::Interests | TagField::Lifestyle | TagField::Needs), all, tags) => {
            let (all, tags) = (*all, tags.clone());
            let pick: fn(&Customer) -> &TagSet = match field {
                TagField::Interests => interests,
                TagField::Lifestyle => lifestyle,
                _ => needs,
            };
            match (all, tags.as_slice()) {
                (_, [one]) => {
                    let one = one.clone();
                    Arc::new(move |c| pick(c).contains_normalized(&one))
                }
                (true, _) => Arc::new(move |c| tags.iter().all(|t| pick(c).contains_normalized(t))),
                (false, _) => Arc::new(move |c| tags.iter().any(|t| pick(c).contains_normalized(t))),
            }
        }
        Leaf::Channels(crate::segment::ir::ChannelField::Reachable, all, mask) => {
            let (all, mask) = (*all, *mask);
            if !all && mask.count_ones() == 1 {
                let channel = Channel::ALL.into_iter().find(|ch| mask == 1 << (*ch as u16));
                if let Some(ch) = channel {
                    return Arc::new(move |c| c.channels.reachable_by(ch));
                }
            }
            Arc::new(move |c| {
                let bits = c.channels.reachable().bits();
                if all { bits & mask == mask } else { bits & mask != 0 }
            })
        }
        Leaf::Bool(crate::segment::ir::BoolField::LoyaltyMember, want) => {
            let want = *want;
            Arc::new(move |c| c.loyalty.is_some() == want)
        }
        Leaf::Int(IntField::Referrals, r) => match closed(r, |v: i64| v.checked_add(1), |v: i64| v.checked_sub(1)) {
            Some((lo, hi)) => Arc::new(move |c| within(i64::from(c.referrals), lo, hi)),
            None => Arc::new(|_| false),
        },
        Leaf::Instant(InstantField::LastPurchase, r) => {
            let r = *r;
            Arc::new(move |c| c.purchases().last_as_of(as_of).is_some_and(|t| r.contains(t)))
        }
        Leaf::ActivitySince(activity, start, at, r) => {
            let (start, at, r) = (*start, *at, *r);
            match activity {
                Activity::Purchases => Arc::new(move |c| {
                    r.contains(i64::try_from(c.purchases().between(start, at).len()).unwrap_or(i64::MAX))
                }),
                Activity::Spent => {
                    Arc::new(move |c| r.contains(total_in(c.purchases().between(start, at), currency).minor()))
                }
            }
        }
        _ => fallback(),
    }
}

fn interests(c: &Customer) -> &TagSet {
    &c.interests
}
fn lifestyle(c: &Customer) -> &TagSet {
    &c.lifestyle
}
fn needs(c: &Customer) -> &TagSet {
    &c.needs
}
