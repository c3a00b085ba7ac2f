//! The error of the strategy area.

use chrono::NaiveDate;

use crate::{customer::CustomerId, money::Currency, segment::BasisPoints};

/// What can go wrong when choosing a relationship strategy: input that breaks a rule, a
/// configuration out of order, a name that is not known, or a segment without cost data.
///
/// # Example
///
/// ```
/// use clientele::strategy::{MarginRatio, StrategyError};
/// let err = MarginRatio::new(150, 100).unwrap_err();
/// assert_eq!(err, StrategyError::MarginAboveRevenue { margin: 150, revenue: 100 });
/// assert_eq!(err.to_string(), "a margin of 150 is more than the revenue of 100 (the cost would be negative)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// A margin ratio over a revenue that is zero or negative.
    #[error("a margin needs a positive revenue (got {0})")]
    RevenueNotPositive(i64),
    /// A margin larger than its revenue, which means a negative cost.
    #[error("a margin of {margin} is more than the revenue of {revenue} (the cost would be negative)")]
    MarginAboveRevenue {
        /// The margin.
        margin: i64,
        /// The revenue.
        revenue: i64,
    },
    /// A margin above 100% given in basis points.
    #[error("a margin of {0} basis points is more than 100% (at most 10000)")]
    MarginAbove100Percent(i64),
    /// A negative cost.
    #[error("the cost {0} is negative")]
    NegativeCost(crate::money::Money),
    /// A revenue and a cost in different currencies.
    #[error("the revenue is in {revenue} but the cost is in {cost}")]
    CurrencyMismatch {
        /// The currency of the revenue.
        revenue: Currency,
        /// The currency of the cost.
        cost: Currency,
    },
    /// Margin-class thresholds that are not strictly increasing.
    #[error("margin thresholds out of order: medium_from ({medium_from}) must be below high_from ({high_from})")]
    MarginThresholds {
        /// Where a medium margin starts.
        medium_from: BasisPoints,
        /// Where a high margin starts.
        high_from: BasisPoints,
    },
    /// Customer-volume thresholds that do not satisfy `1 <= medium_from < many_from`.
    #[error(
        "customer-volume thresholds out of order: need 1 <= medium_from < many_from \
         (got medium_from {medium_from}, many_from {many_from})"
    )]
    VolumeThresholds {
        /// Where a medium number of customers starts.
        medium_from: u64,
        /// Where many customers start.
        many_from: u64,
    },
    /// A segment none of whose members' purchases (up to the report's date) has a known
    /// cost, so that its margin cannot be measured.
    #[error("the segment's {members} members have no purchase with a known cost, so its margin is unknown")]
    NoCostData {
        /// The members of the segment.
        members: usize,
    },
    /// A name that is not a relationship level.
    #[error("unknown relationship level `{0}` (expected one of basic, reactive, accountable, proactive, partnership)")]
    UnknownLevel(String),
    /// A name that is not a margin class.
    #[error("unknown margin class `{0}` (expected one of low, medium, high)")]
    UnknownMarginClass(String),
    /// A name that is not a customer volume.
    #[error("unknown customer volume `{0}` (expected one of few, medium, many)")]
    UnknownVolume(String),
}

/// What can go wrong when building a [contact plan](super::ContactPlan): a date range out of
/// order or too long, a cadence that never moves on, two customers with one id, or a name
/// that is not a task kind.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::strategy::{PlanError, PlanRange};
/// let (first, last) = (NaiveDate::from_ymd_opt(2026, 1, 14).ok_or("date")?, NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?);
/// let err = PlanRange::new(first, last).unwrap_err();
/// assert_eq!(err, PlanError::RangeReversed { first, last });
/// assert_eq!(err.to_string(), "the plan's range ends (2026-01-01) before it starts (2026-01-14)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A range whose last day comes before its first.
    #[error("the plan's range ends ({last}) before it starts ({first})")]
    RangeReversed {
        /// The first day.
        first: NaiveDate,
        /// The last day.
        last: NaiveDate,
    },
    /// A range longer than [`PlanRange::MAX_DAYS`](super::PlanRange::MAX_DAYS).
    #[error("the plan's range covers {days} days, more than the {max} allowed")]
    RangeTooLong {
        /// The days the range would cover.
        days: i64,
        /// The most allowed.
        max: u32,
    },
    /// A [`Cadence`](super::Cadence) that repeats every 0 days.
    #[error("a cadence must repeat every 1 day or more (got every 0 days)")]
    ZeroCadence,
    /// Two customers given with the same id: their caps and tasks would be mixed up.
    #[error("customer {0} is given more than once")]
    DuplicateCustomer(CustomerId),
    /// A name that is not a [task kind](super::TaskKind).
    #[error(
        "unknown task kind `{0}` (expected one of support_contact, follow_up, product_ideas, new_products, \
         joint_review, nurture, thank_you, loyalty_invite, referral_request, reactivate, win_back)"
    )]
    UnknownTaskKind(String),
}

/// At most this many characters of an unknown name are echoed in an error.
pub(crate) const ECHO_LIMIT: usize = 64;

/// The first [`ECHO_LIMIT`] characters of `s`, for an error message.
pub(crate) fn echo(s: &str) -> String {
    s.chars().take(ECHO_LIMIT).collect()
}
