//! The checked, normalized form of a segment that the evaluators run.
//!
//! Every condition becomes a positive leaf ("the value is present and ..."); negated tests
//! (`!=`, `not in`, `not between`) become `present and not leaf`, which is how missing values
//! stay false under every comparison. Smart constructors flatten nested `and`/`or` and fold
//! constants.

use chrono::{DateTime, NaiveDate, Utc};

use super::{ast::Activity, schema::AttrType};
use crate::{
    customer::{CountryCode, Generation},
    lifecycle::Stage,
    money::Decimal,
    window::Window,
};

/// A range with optional, inclusive-or-exclusive ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Range<T> {
    /// Low end and whether it is included.
    pub lo: Option<(T, bool)>,
    /// High end and whether it is included.
    pub hi: Option<(T, bool)>,
}

impl<T: Ord + Copy> Range<T> {
    pub(crate) fn closed(lo: T, hi: T) -> Range<T> {
        Range { lo: Some((lo, true)), hi: Some((hi, true)) }
    }

    #[inline]
    pub(crate) fn contains(&self, v: T) -> bool {
        let above = match self.lo {
            None => true,
            Some((lo, true)) => v >= lo,
            Some((lo, false)) => v > lo,
        };
        let below = match self.hi {
            None => true,
            Some((hi, true)) => v <= hi,
            Some((hi, false)) => v < hi,
        };
        above && below
    }

    /// Whether no value can be in the range.
    pub(crate) fn is_empty(&self) -> bool {
        match (self.lo, self.hi) {
            (Some((lo, li)), Some((hi, hi_in))) => lo > hi || (lo == hi && !(li && hi_in)),
            _ => false,
        }
    }
}

/// Integer-valued operands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum IntField {
    Referrals,
    /// Purchases up to the evaluation instant.
    Purchases,
    /// An RFM score from the schema's scores: recency, frequency or monetary.
    Rfm(RfmPart),
    Attr(String),
}

/// Which RFM score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RfmPart {
    R,
    F,
    M,
}

/// Money-valued operands, in minor units of the schema's currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MoneyField {
    /// Spent up to the evaluation instant.
    Spent,
    Income,
    Attr(String),
}

/// Calendar-date operands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum DateField {
    BirthDate,
    LoyaltyJoined,
    Attr(String),
}

/// Instant operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum InstantField {
    FirstPurchase,
    LastPurchase,
    CreatedAt,
    StageSince,
}

/// Text operands (compared ignoring ASCII case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TextField {
    Region,
    City,
    Attr(String),
}

/// Set-of-text operands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TagField {
    Interests,
    Lifestyle,
    Needs,
    /// A text-list attribute (items compared ignoring ASCII case).
    Attr(String),
}

/// Channel-set operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ChannelField {
    Reachable,
    Preferred,
    OptedOut,
}

/// Yes/no operands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum BoolField {
    LoyaltyMember,
    Exclusive,
    Attr(String),
}

/// A text test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TextOp {
    /// Equal to one of the values.
    Eq,
    Contains,
    StartsWith,
    EndsWith,
}

/// Operands whose presence `is set` tests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Presence {
    Generation,
    /// An age on the evaluation date: a birth date on or before it.
    Age,
    BirthDate,
    Country,
    Region,
    City,
    Interests,
    Lifestyle,
    Needs,
    Channels(ChannelField),
    LoyaltyJoined,
    /// Any purchase up to the evaluation instant (first and last purchase).
    AnyPurchase,
    Income,
    /// The customer has RFM scores.
    Rfm,
    /// An attribute holding a value of its declared type (money in the schema's currency, a
    /// text list not empty).
    Attr(String, AttrType),
}

/// One test on one operand; true only when the operand is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Leaf {
    /// The stage is in the set (bit `i` for `Stage::ALL[i]`).
    Stage(u16),
    /// The gender is in the set (bit per `Gender` in declaration order).
    Gender(u8),
    /// The generation is in the set (bit per `Generation::ALL`).
    Generation(u8),
    /// The credit standing is in the set (bit per `CreditStanding` in declaration order).
    Credit(u8),
    /// The RFM group is in the set (bit per `RfmGroup::ALL`).
    RfmGroup(u16),
    Int(IntField, Range<i64>),
    Money(MoneyField, Range<i64>),
    Decimal(String, Range<Decimal>),
    Date(DateField, Range<NaiveDate>),
    Instant(InstantField, Range<DateTime<Utc>>),
    /// Relative: age in completed years on the evaluation date.
    Age(Range<i64>),
    /// Relative: an instant in the trailing window `(start, as_of]`.
    InstantWithin(InstantField, Window),
    /// Relative: a date (at 00:00 UTC) in the trailing window `(start, as_of]`.
    DateWithin(DateField, Window),
    /// Relative: a windowed activity figure in the range.
    Activity(Activity, Window, Range<i64>),
    /// Bound form of `Activity`: purchases (or spend) in `(start, as_of]`.
    ActivitySince(Activity, Option<DateTime<Utc>>, DateTime<Utc>, Range<i64>),
    Text(TextField, TextOp, Vec<String>),
    Country(Vec<CountryCode>),
    /// The set holds any (`all = false`) or every (`all = true`) tag.
    Tags(TagField, bool, Vec<String>),
    /// The set holds any or every channel of the mask.
    Channels(ChannelField, bool, u16),
    Bool(BoolField, bool),
    IsSet(Presence),
}

/// A checked predicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Pred {
    Const(bool),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    Leaf(Leaf),
}

impl Pred {
    /// All of `items`, flattened and folded.
    pub(crate) fn and(items: Vec<Pred>) -> Pred {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Pred::Const(true) => {}
                Pred::Const(false) => return Pred::Const(false),
                Pred::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Pred::Const(true),
            1 => out.pop().unwrap_or(Pred::Const(true)),
            _ => Pred::And(out),
        }
    }

    /// Any of `items`, flattened and folded.
    pub(crate) fn or(items: Vec<Pred>) -> Pred {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Pred::Const(false) => {}
                Pred::Const(true) => return Pred::Const(true),
                Pred::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Pred::Const(false),
            1 => out.pop().unwrap_or(Pred::Const(false)),
            _ => Pred::Or(out),
        }
    }

    /// Negation, folded (`not not x` is `x`).
    #[allow(clippy::should_implement_trait, reason = "a smart constructor, not an operator")]
    pub(crate) fn not(p: Pred) -> Pred {
        match p {
            Pred::Const(b) => Pred::Const(!b),
            Pred::Not(inner) => *inner,
            other => Pred::Not(Box::new(other)),
        }
    }

    /// A leaf, folded to `false` when its range is empty or its set of values is.
    pub(crate) fn leaf(leaf: Leaf) -> Pred {
        let empty = match &leaf {
            Leaf::Stage(m) | Leaf::RfmGroup(m) => *m == 0,
            Leaf::Gender(m) | Leaf::Generation(m) | Leaf::Credit(m) => *m == 0,
            Leaf::Int(_, r) | Leaf::Age(r) | Leaf::Activity(_, _, r) | Leaf::ActivitySince(_, _, _, r) => r.is_empty(),
            Leaf::Money(_, r) => r.is_empty(),
            Leaf::Decimal(_, r) => r.is_empty(),
            Leaf::Date(_, r) => r.is_empty(),
            Leaf::Instant(_, r) => r.is_empty(),
            Leaf::Text(_, _, values) | Leaf::Tags(_, false, values) => values.is_empty(),
            Leaf::Country(codes) => codes.is_empty(),
            Leaf::Channels(_, false, mask) => *mask == 0,
            _ => false,
        };
        if empty { Pred::Const(false) } else { Pred::Leaf(leaf) }
    }
}

/// The bit of a stage in a stage mask.
pub(crate) fn stage_bit(stage: Stage) -> u16 {
    Stage::ALL.iter().position(|s| *s == stage).map_or(0, |i| 1 << i)
}

/// The bit of a generation in a generation mask.
pub(crate) fn generation_bit(g: Generation) -> u8 {
    Generation::ALL.iter().position(|x| *x == g).map_or(0, |i| 1 << i)
}
