//! Contact plans: each customer's relationship level and lifecycle stage turned into dated
//! contact tasks over a range of days, on a channel the customer accepts, within frequency
//! caps. The public documentation is on [`ContactPlan`] and in the module docs of
//! [`strategy`](super).

use std::{cmp::Reverse, fmt, str::FromStr};

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct as _};
use smallvec::SmallVec;

use super::{
    error::{PlanError, echo},
    level::RelationshipLevel,
};
use crate::{
    customer::{Channel, ChannelSet, Customer, CustomerId, Purchase},
    lifecycle::Stage,
    money::{Currency, Money},
    segment::{Matcher, Segment},
};

// -------------------------------------------------------------------------------------------
// Days
// -------------------------------------------------------------------------------------------

/// The day number of `d` (days from the common era), for arithmetic that cannot overflow.
fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// The date of a day number; `None` outside the dates chrono represents.
fn date_of(n: i64) -> Option<NaiveDate> {
    i32::try_from(n).ok().and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The UTC day of an instant.
fn date_utc(at: DateTime<Utc>) -> NaiveDate {
    // `naive_utc` skips the offset arithmetic of `date_naive`, which is the same for UTC.
    at.naive_utc().date()
}

/// The UTC day of an instant, as a day number.
fn day_of(at: DateTime<Utc>) -> i64 {
    day_number(date_utc(at))
}

/// `n day(s)`.
struct Days(u32);

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 day"),
            n => write!(f, "{n} days"),
        }
    }
}

/// The days a plan covers: from its first day to its last, both included, in UTC.
///
/// A range covers at least one day and at most [`MAX_DAYS`](Self::MAX_DAYS): plans are for
/// the near term. The plan reads each customer as they stand at the start of the first day
/// ([`as_of`](Self::as_of)). Serialized as `{"first": "2026-01-01", "last": "2026-01-14"}`;
/// deserializing checks the range.
///
/// # Example
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use clientele::strategy::PlanRange;
/// let first = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?;
/// let range = PlanRange::days(first, 14)?;
/// assert_eq!(range.last(), NaiveDate::from_ymd_opt(2026, 1, 14).ok_or("date")?);
/// assert_eq!(range.len_days(), 14);
/// assert_eq!(Some(range.as_of()), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single());
/// assert_eq!(range.to_string(), "2026-01-01 to 2026-01-14");
/// assert!(PlanRange::days(first, 0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PlanRangeRepr")]
pub struct PlanRange {
    /// The first day.
    first: NaiveDate,
    /// The last day; not before `first`, and at most `MAX_DAYS - 1` days after it.
    last: NaiveDate,
}

/// The serde form of [`PlanRange`], checked on the way in.
#[derive(Deserialize)]
struct PlanRangeRepr {
    first: NaiveDate,
    last: NaiveDate,
}

impl TryFrom<PlanRangeRepr> for PlanRange {
    type Error = PlanError;
    fn try_from(repr: PlanRangeRepr) -> Result<Self, Self::Error> {
        PlanRange::new(repr.first, repr.last)
    }
}

impl PlanRange {
    /// The most days a range covers: a leap year.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let first = NaiveDate::from_ymd_opt(2028, 1, 1).ok_or("date")?;
    /// assert!(PlanRange::days(first, PlanRange::MAX_DAYS).is_ok());
    /// assert!(PlanRange::days(first, PlanRange::MAX_DAYS + 1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const MAX_DAYS: u32 = 366;

    /// The days from `first` to `last`, both included.
    ///
    /// # Errors
    ///
    /// [`PlanError::RangeReversed`] if `last` is before `first`; [`PlanError::RangeTooLong`]
    /// if the range covers more than [`MAX_DAYS`](Self::MAX_DAYS) days.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{PlanError, PlanRange};
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).ok_or("date");
    /// assert_eq!(PlanRange::new(day(5)?, day(5)?)?.len_days(), 1);
    /// assert!(matches!(PlanRange::new(day(6)?, day(5)?), Err(PlanError::RangeReversed { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<PlanRange, PlanError> {
        if last < first {
            return Err(PlanError::RangeReversed { first, last });
        }
        let days = day_number(last) - day_number(first) + 1;
        if days > i64::from(PlanRange::MAX_DAYS) {
            return Err(PlanError::RangeTooLong { days, max: PlanRange::MAX_DAYS });
        }
        Ok(PlanRange { first, last })
    }

    /// The `days` days starting with `first`.
    ///
    /// # Errors
    ///
    /// [`PlanError::RangeReversed`] for 0 days; [`PlanError::RangeTooLong`] for more than
    /// [`MAX_DAYS`](Self::MAX_DAYS) (or a last day past the dates chrono represents).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 2, 20).ok_or("date")?, 14)?;
    /// assert_eq!(range.last().to_string(), "2026-03-05");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn days(first: NaiveDate, days: u32) -> Result<PlanRange, PlanError> {
        if days == 0 {
            let before = first.pred_opt().unwrap_or(first);
            return Err(PlanError::RangeReversed { first, last: before });
        }
        let last = date_of(day_number(first) + i64::from(days) - 1)
            .ok_or(PlanError::RangeTooLong { days: i64::from(days), max: PlanRange::MAX_DAYS })?;
        PlanRange::new(first, last)
    }

    /// The first day.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let day = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?;
    /// assert_eq!(PlanRange::days(day, 7)?.first(), day);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last day.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let day = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?;
    /// assert_eq!(PlanRange::days(day, 1)?.last(), day);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn last(&self) -> NaiveDate {
        self.last
    }

    /// The number of days covered, from 1 to [`MAX_DAYS`](Self::MAX_DAYS).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).ok_or("date");
    /// assert_eq!(PlanRange::new(day(1)?, day(31)?)?.len_days(), 31);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len_days(&self) -> u32 {
        // At most `MAX_DAYS` by construction.
        u32::try_from(day_number(self.last) - day_number(self.first) + 1).unwrap_or(PlanRange::MAX_DAYS)
    }

    /// Whether `day` is in the range.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).ok_or("date");
    /// let range = PlanRange::new(day(1)?, day(14)?)?;
    /// assert!(range.contains(day(14)?) && !range.contains(day(15)?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first <= day && day <= self.last
    }

    /// The instant the plan reads its customers at: the start (00:00 UTC) of the first day.
    /// Purchases before it anchor the periodic tasks and count towards a lost customer's
    /// value.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::PlanRange;
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// assert_eq!(range.as_of().to_rfc3339(), "2026-01-01T00:00:00+00:00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.first.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first and last day numbers.
    fn bounds(&self) -> (i64, i64) {
        (day_number(self.first), day_number(self.last))
    }
}

impl fmt::Display for PlanRange {
    /// `first to last`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.first, self.last)
    }
}

// -------------------------------------------------------------------------------------------
// Configuration
// -------------------------------------------------------------------------------------------

/// When a recurring task falls: `first_after_days` after an anchor day (the start of a stage,
/// or a last purchase), then every `every_days` after that.
///
/// Invariant: `every_days >= 1`. Serialized as `{"first_after_days": 7, "every_days": 14}`;
/// deserializing fills a missing field with 0 (first) or 1 (every) and refuses every 0 days.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::strategy::{Cadence, PlanRange};
/// let cadence = Cadence::new(7, 14)?;
/// assert_eq!(cadence.to_string(), "7 days after, then every 14 days");
///
/// // Anchored on 1 December: 8 December, 22 December, 5 January, 19 January, ...
/// let anchor = NaiveDate::from_ymd_opt(2025, 12, 1).ok_or("date")?;
/// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
/// let dates: Vec<String> = cadence.dates_in(anchor, range).map(|d| d.to_string()).collect();
/// assert_eq!(dates, ["2026-01-05"]);
/// assert!(Cadence::new(0, 0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "CadenceRepr")]
pub struct Cadence {
    /// Days from the anchor to the first occurrence.
    first_after_days: u32,
    /// Days between occurrences; at least 1.
    every_days: u32,
}

/// The serde form of [`Cadence`], checked on the way in.
#[derive(Deserialize)]
struct CadenceRepr {
    #[serde(default)]
    first_after_days: u32,
    #[serde(default = "one")]
    every_days: u32,
}

fn one() -> u32 {
    1
}

impl TryFrom<CadenceRepr> for Cadence {
    type Error = PlanError;
    fn try_from(repr: CadenceRepr) -> Result<Self, Self::Error> {
        Cadence::new(repr.first_after_days, repr.every_days)
    }
}

impl Cadence {
    /// First `first_after_days` after the anchor, then every `every_days`.
    ///
    /// # Errors
    ///
    /// [`PlanError::ZeroCadence`] if `every_days` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Cadence, PlanError};
    /// assert_eq!(Cadence::new(0, 30)?.every_days(), 30);
    /// assert_eq!(Cadence::new(3, 0), Err(PlanError::ZeroCadence));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn new(first_after_days: u32, every_days: u32) -> Result<Cadence, PlanError> {
        if every_days == 0 {
            return Err(PlanError::ZeroCadence);
        }
        Ok(Cadence { first_after_days, every_days })
    }

    /// A cadence for the crate's own defaults, whose `every_days` is never 0.
    const fn of(first_after_days: u32, every_days: u32) -> Cadence {
        Cadence { first_after_days, every_days: if every_days == 0 { 1 } else { every_days } }
    }

    /// Days from the anchor to the first occurrence.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::Cadence::new(7, 14)?.first_after_days(), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn first_after_days(&self) -> u32 {
        self.first_after_days
    }

    /// Days between occurrences, at least 1.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::Cadence::new(7, 14)?.every_days(), 14);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn every_days(&self) -> u32 {
        self.every_days
    }

    /// The days in `range` on which the cadence falls, counted from `anchor`: `anchor +
    /// first_after_days + k × every_days` for `k = 0, 1, 2, ...`, in order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{Cadence, PlanRange};
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).ok_or("date");
    /// let range = PlanRange::new(day(1)?, day(14)?)?;
    /// let every_five = Cadence::new(0, 5)?;
    /// assert_eq!(every_five.dates_in(day(2)?, range).collect::<Vec<_>>(), [day(2)?, day(7)?, day(12)?]);
    /// // The first occurrence after the range: nothing.
    /// assert_eq!(Cadence::new(30, 5)?.dates_in(day(2)?, range).count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dates_in(&self, anchor: NaiveDate, range: PlanRange) -> impl Iterator<Item = NaiveDate> + use<> {
        let (lo, hi) = range.bounds();
        self.day_numbers(day_number(anchor), lo, hi).filter_map(date_of)
    }

    /// The day numbers in `lo..=hi` on which the cadence falls from the day number `anchor`.
    fn day_numbers(&self, anchor: i64, lo: i64, hi: i64) -> impl Iterator<Item = i64> + use<> {
        let every = i64::from(self.every_days.max(1));
        let start = anchor + i64::from(self.first_after_days);
        // The first occurrence on or after `lo`: skip whole periods, rounding up.
        let first = if start >= lo { start } else { start + (lo - start + every - 1) / every * every };
        (first..=hi).step_by(usize::try_from(every).unwrap_or(usize::MAX))
    }
}

impl fmt::Display for Cadence {
    /// `7 days after, then every 14 days`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} after, then every {}", Days(self.first_after_days), Days(self.every_days))
    }
}

/// Frequency caps: the most tasks one customer is given on one day, in any 7 consecutive days
/// (a rolling week), and over the whole range.
///
/// | cap | default |
/// |---|---|
/// | `per_day` | 1 |
/// | `per_week` | 2 |
/// | `per_range` | 4 |
///
/// The caps count the plan's own tasks only (a plan knows no contact made before its range),
/// for reachable and unreachable customers alike. How tasks beyond a cap are postponed or
/// dropped is described under [`ContactPlan`](ContactPlan#frequency-caps). A cap of 0 drops
/// every task.
///
/// # Example
///
/// ```
/// use clientele::strategy::Caps;
/// let caps: Caps = serde_json::from_str(r#"{"per_week": 3}"#)?;
/// assert_eq!(caps, Caps { per_day: 1, per_week: 3, per_range: 4 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Caps {
    /// The most tasks for one customer on one day.
    pub per_day: u32,
    /// The most tasks for one customer in any 7 consecutive days.
    pub per_week: u32,
    /// The most tasks for one customer over the whole range.
    pub per_range: u32,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { per_day: 1, per_week: 2, per_range: 4 }
    }
}

/// How [`ContactPlan::build`] turns levels and stages into tasks, with these defaults:
///
/// | field | default | task |
/// |---|---|---|
/// | `follow_up_after_days` | 3 | accountable follow-up, after each purchase |
/// | `product_ideas` | 14 days after, then every 28 days | proactive ideas about the product bought |
/// | `new_products` | 28 days after, then every 28 days | proactive new-product offers |
/// | `joint_reviews` | 30 days after, then every 30 days | partnership joint reviews |
/// | `nurture` | 7 days after, then every 14 days | prospects |
/// | `thank_after_days` | 1 | first-time buyers, after the first purchase |
/// | `loyalty_invite` | 7 days after, then every 60 days | repeat customers who are not members |
/// | `referral_request` | 30 days after, then every 90 days | clients |
/// | `reactivation` | 0 days after, then every 30 days | inactive customers |
/// | `win_back` | 0 days after, then every 30 days | lost customers |
/// | `channels` | email, sms, phone, web, mail | the channels used, most preferred first |
/// | `caps` | 1 a day, 2 a week, 4 a range | [`Caps`] |
/// | `max_postpone_days` | 3 | how far a capped task may move |
/// | `currency` | USD | the currency of a lost customer's value |
///
/// With the defaults, a proactive customer hears from the company every two weeks,
/// alternating ideas about what they bought with new products.
///
/// `channels` is the company's order of preference: a task goes by the first channel in it
/// that the customer prefers and has not opted out of. Channels not listed are never used;
/// the default leaves out the mass media (tv, radio, magazines) and the store, which do not
/// carry a message to one customer. A channel listed twice counts where it first appears.
///
/// Every field is valid by construction ([`Cadence`] refuses a zero period), so a
/// `PlanConfig` is always usable. Deserializing fills missing fields with the defaults.
///
/// # Example
///
/// ```
/// use clientele::{Channel, Currency, strategy::{Cadence, PlanConfig}};
/// let config: PlanConfig = serde_json::from_str(
///     r#"{"channels": ["sms", "email"], "win_back": {"first_after_days": 7, "every_days": 45}, "currency": "EGP"}"#,
/// )?;
/// assert_eq!(config.channels, [Channel::Sms, Channel::Email]);
/// assert_eq!(config.win_back, Cadence::new(7, 45)?);
/// assert_eq!(config.currency, Currency::EGP);
/// assert_eq!(config.caps, PlanConfig::default().caps);
/// assert!(serde_json::from_str::<PlanConfig>(r#"{"nurture": {"every_days": 0}}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanConfig {
    /// Days from a purchase to its accountable follow-up.
    pub follow_up_after_days: u32,
    /// Proactive contact with ideas about the product bought, from the level anchor.
    pub product_ideas: Cadence,
    /// Proactive offers of new products, from the level anchor.
    pub new_products: Cadence,
    /// Partnership joint reviews, from the level anchor.
    pub joint_reviews: Cadence,
    /// Nurturing prospects, from the day they became prospects.
    pub nurture: Cadence,
    /// Days from a first-time buyer's first purchase to the thank-you.
    pub thank_after_days: u32,
    /// Inviting repeat customers who are not loyalty members, from the day they became repeat
    /// customers.
    pub loyalty_invite: Cadence,
    /// Asking clients for referrals, from the day they became clients.
    pub referral_request: Cadence,
    /// Reactivating inactive customers, from the day they became inactive.
    pub reactivation: Cadence,
    /// Winning back lost customers, from the day they were lost.
    pub win_back: Cadence,
    /// The channels tasks may use, most preferred first.
    pub channels: Vec<Channel>,
    /// The frequency caps per customer.
    pub caps: Caps,
    /// The most days a task may be postponed to fit the caps before it is dropped.
    pub max_postpone_days: u32,
    /// The currency a lost customer's value is counted in; purchases in other currencies do
    /// not count.
    pub currency: Currency,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            follow_up_after_days: 3,
            product_ideas: Cadence::of(14, 28),
            new_products: Cadence::of(28, 28),
            joint_reviews: Cadence::of(30, 30),
            nurture: Cadence::of(7, 14),
            thank_after_days: 1,
            loyalty_invite: Cadence::of(7, 60),
            referral_request: Cadence::of(30, 90),
            reactivation: Cadence::of(0, 30),
            win_back: Cadence::of(0, 30),
            channels: vec![Channel::Email, Channel::Sms, Channel::Phone, Channel::Web, Channel::Mail],
            caps: Caps::default(),
            max_postpone_days: 3,
            currency: Currency::USD,
        }
    }
}

// -------------------------------------------------------------------------------------------
// Levels from segments
// -------------------------------------------------------------------------------------------

/// Where a plan gets each customer's [`RelationshipLevel`] from.
///
/// Implemented for:
///
/// - a [`LevelMatcher`], a [`LevelAssignment`] of segments to levels fixed at an instant:
///   the level comes from the customer's segment;
/// - any closure `Fn(&Customer) -> RelationshipLevel`, for levels decided elsewhere (a
///   field of your own, an account manager's choice);
/// - a [`RelationshipLevel`]: the same level for everyone.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, strategy::{LevelOf, RelationshipLevel}};
/// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
/// let by_referrals = |c: &Customer| {
///     if c.referrals > 2 { RelationshipLevel::Partnership } else { RelationshipLevel::Reactive }
/// };
/// assert_eq!(by_referrals.level_of(&c), RelationshipLevel::Reactive);
/// assert_eq!(RelationshipLevel::Proactive.level_of(&c), RelationshipLevel::Proactive);
/// ```
pub trait LevelOf {
    /// The relationship level for `customer`.
    fn level_of(&self, customer: &Customer) -> RelationshipLevel;
}

impl<F: Fn(&Customer) -> RelationshipLevel> LevelOf for F {
    fn level_of(&self, customer: &Customer) -> RelationshipLevel {
        self(customer)
    }
}

impl LevelOf for RelationshipLevel {
    fn level_of(&self, _: &Customer) -> RelationshipLevel {
        *self
    }
}

/// The relationship level of each customer from their segment: an ordered list of segments
/// with a level each, where the **first segment the customer is in wins**, and a default
/// level for customers in none of them.
///
/// Segments are evaluated as of an instant: [`level`](Self::level) takes it, and
/// [`at`](Self::at) fixes it once for many customers (compiling each segment for that
/// instant) and gives the [`LevelMatcher`] a plan reads. Use the plan's
/// [`PlanRange::as_of`] so that levels and tasks read the customers at the same moment.
///
/// The levels usually come from [`select_for_segment`](super::select_for_segment), one
/// segment at a time; put the segments that should win first.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
/// use clientele::strategy::{LevelAssignment, RelationshipLevel::{Accountable, Basic, Partnership}};
///
/// let schema = Schema::default();
/// let levels = LevelAssignment::new(Basic)
///     .with(Segment::compile("referrals >= 3", &schema)?, Partnership)
///     .with(Segment::compile("referrals >= 1", &schema)?, Accountable);
/// let t = DateTime::UNIX_EPOCH;
/// let mut c = Customer::new(CustomerId::new(1), "Ada", t);
/// assert_eq!(levels.level(&c, t), Basic);
/// c.referrals = 5; // in both segments: the first wins
/// assert_eq!(levels.level(&c, t), Partnership);
/// c.referrals = 1;
/// assert_eq!(levels.at(t).level(&c), Accountable);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelAssignment {
    /// The segments with their levels, in the order they are tried.
    rules: Vec<(Segment, RelationshipLevel)>,
    /// The level of a customer in no segment.
    default: RelationshipLevel,
}

impl LevelAssignment {
    /// An assignment with no segment yet: everyone gets `default`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let levels = LevelAssignment::new(RelationshipLevel::Reactive);
    /// assert!(levels.rules().is_empty());
    /// assert_eq!(levels.default_level(), RelationshipLevel::Reactive);
    /// ```
    pub fn new(default: RelationshipLevel) -> LevelAssignment {
        LevelAssignment { rules: Vec::new(), default }
    }

    /// The same assignment with `segment` at `level` tried after the segments already there.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment};
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let levels = LevelAssignment::new(RelationshipLevel::Basic)
    ///     .with(Segment::compile("loyalty_member", &Schema::default())?, RelationshipLevel::Proactive);
    /// assert_eq!(levels.rules().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with(mut self, segment: Segment, level: RelationshipLevel) -> LevelAssignment {
        self.push(segment, level);
        self
    }

    /// Adds `segment` at `level`, tried after the segments already there.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment};
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let mut levels = LevelAssignment::new(RelationshipLevel::Basic);
    /// levels.push(Segment::compile("exclusive", &Schema::default())?, RelationshipLevel::Partnership);
    /// assert_eq!(levels.rules()[0].1, RelationshipLevel::Partnership);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push(&mut self, segment: Segment, level: RelationshipLevel) {
        self.rules.push((segment, level));
    }

    /// The segments and their levels, in the order they are tried.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// assert!(LevelAssignment::new(RelationshipLevel::Basic).rules().is_empty());
    /// ```
    pub fn rules(&self) -> &[(Segment, RelationshipLevel)] {
        &self.rules
    }

    /// The level of a customer in none of the segments.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// assert_eq!(LevelAssignment::new(RelationshipLevel::Basic).default_level(), RelationshipLevel::Basic);
    /// ```
    pub fn default_level(&self) -> RelationshipLevel {
        self.default
    }

    /// The level of `customer` as of `as_of`: that of the first segment they are in, or the
    /// default.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let levels = LevelAssignment::new(RelationshipLevel::Basic)
    ///     .with(Segment::compile("stage = suspect", &Schema::default())?, RelationshipLevel::Reactive);
    /// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// assert_eq!(levels.level(&c, DateTime::UNIX_EPOCH), RelationshipLevel::Reactive);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn level(&self, customer: &Customer, as_of: DateTime<Utc>) -> RelationshipLevel {
        self.rules
            .iter()
            .find(|(segment, _)| segment.matches(customer, as_of))
            .map_or(self.default, |(_, level)| *level)
    }

    /// The assignment fixed at `as_of`, each segment compiled for that instant, for many
    /// customers: what a plan reads.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let matcher = LevelAssignment::new(RelationshipLevel::Basic).at(DateTime::UNIX_EPOCH);
    /// assert_eq!(matcher.as_of(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn at(&self, as_of: DateTime<Utc>) -> LevelMatcher {
        let rules = self.rules.iter().map(|(segment, level)| (segment.at(as_of), *level)).collect();
        LevelMatcher { rules, default: self.default, as_of }
    }
}

/// A [`LevelAssignment`] fixed at one instant: see [`LevelAssignment::at`]. Gives the same
/// level as [`LevelAssignment::level`] at that instant, faster.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
/// use clientele::strategy::{LevelAssignment, LevelOf, RelationshipLevel};
/// let t = DateTime::UNIX_EPOCH;
/// let levels = LevelAssignment::new(RelationshipLevel::Basic)
///     .with(Segment::compile("created_at within 30 days", &Schema::default())?, RelationshipLevel::Accountable);
/// let matcher = levels.at(t);
/// let c = Customer::new(CustomerId::new(1), "Ada", t);
/// assert_eq!(matcher.level_of(&c), levels.level(&c, t));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LevelMatcher {
    /// The segments, compiled for `as_of`, with their levels, in order.
    rules: Vec<(Matcher, RelationshipLevel)>,
    /// The level of a customer in no segment.
    default: RelationshipLevel,
    /// The instant the segments are evaluated at.
    as_of: DateTime<Utc>,
}

impl LevelMatcher {
    /// The level of `customer`: that of the first segment they are in, or the default.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, strategy::{LevelAssignment, RelationshipLevel}};
    /// let matcher = LevelAssignment::new(RelationshipLevel::Proactive).at(DateTime::UNIX_EPOCH);
    /// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// assert_eq!(matcher.level(&c), RelationshipLevel::Proactive);
    /// ```
    pub fn level(&self, customer: &Customer) -> RelationshipLevel {
        self.rules.iter().find(|(matcher, _)| matcher.matches(customer)).map_or(self.default, |(_, level)| *level)
    }

    /// The instant the segments are evaluated at.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::strategy::{LevelAssignment, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// assert_eq!(LevelAssignment::new(RelationshipLevel::Basic).at(t).as_of(), t);
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }
}

impl LevelOf for LevelMatcher {
    fn level_of(&self, customer: &Customer) -> RelationshipLevel {
        self.level(customer)
    }
}

// -------------------------------------------------------------------------------------------
// Tasks
// -------------------------------------------------------------------------------------------

/// What a contact task is for. The first five come from the relationship level, the others
/// from the lifecycle stage; see [`ContactPlan`] for when each falls. Ordered as declared
/// (the last tie-break of a plan's order). Names are snake_case in text and JSON.
///
/// # Example
///
/// ```
/// use clientele::strategy::{PriorityClass, TaskKind};
/// assert_eq!(TaskKind::FollowUp.name(), "follow_up");
/// assert_eq!("win_back".parse::<TaskKind>()?, TaskKind::WinBack);
/// assert_eq!(TaskKind::ThankYou.priority_class(), PriorityClass::High);
/// assert_eq!(TaskKind::ALL.len(), 11);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskKind {
    /// Reactive and up: give the customer the support contact at a purchase, for complaints
    /// and questions.
    SupportContact,
    /// Accountable and up: shortly after a purchase, ask whether the product met
    /// expectations, for suggestions and for any dissatisfaction.
    FollowUp,
    /// Proactive and up: ideas about the product the customer bought.
    ProductIdeas,
    /// Proactive and up: new products.
    NewProducts,
    /// Partnership: a joint review, to retain the customer and grow together.
    JointReview,
    /// Prospects: nurture towards a first purchase.
    Nurture,
    /// First-time customers: thank them for the first purchase.
    ThankYou,
    /// Repeat customers who are not loyalty members: invite them to the loyalty programme.
    LoyaltyInvite,
    /// Clients: ask for referrals.
    ReferralRequest,
    /// Inactive customers: give them a reason to come back.
    Reactivate,
    /// Lost customers: win them back, the most valuable first.
    WinBack,
}

impl TaskKind {
    /// Every kind, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::TaskKind;
    /// assert!(TaskKind::ALL.is_sorted());
    /// assert!(TaskKind::ALL.iter().all(|k| k.name().parse::<TaskKind>() == Ok(*k)));
    /// ```
    pub const ALL: [TaskKind; 11] = [
        TaskKind::SupportContact,
        TaskKind::FollowUp,
        TaskKind::ProductIdeas,
        TaskKind::NewProducts,
        TaskKind::JointReview,
        TaskKind::Nurture,
        TaskKind::ThankYou,
        TaskKind::LoyaltyInvite,
        TaskKind::ReferralRequest,
        TaskKind::Reactivate,
        TaskKind::WinBack,
    ];

    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::TaskKind::ReferralRequest.name(), "referral_request");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TaskKind::SupportContact => "support_contact",
            TaskKind::FollowUp => "follow_up",
            TaskKind::ProductIdeas => "product_ideas",
            TaskKind::NewProducts => "new_products",
            TaskKind::JointReview => "joint_review",
            TaskKind::Nurture => "nurture",
            TaskKind::ThankYou => "thank_you",
            TaskKind::LoyaltyInvite => "loyalty_invite",
            TaskKind::ReferralRequest => "referral_request",
            TaskKind::Reactivate => "reactivate",
            TaskKind::WinBack => "win_back",
        }
    }

    /// What to do, as the end of a task's reason.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::TaskKind;
    /// assert_eq!(TaskKind::ReferralRequest.action(), "ask for referrals");
    /// ```
    pub const fn action(self) -> &'static str {
        match self {
            TaskKind::SupportContact => "give the support contact for complaints and questions",
            TaskKind::FollowUp => {
                "ask whether the product met expectations, for suggestions and for any dissatisfaction"
            }
            TaskKind::ProductIdeas => "share ideas about the product they bought",
            TaskKind::NewProducts => "present new products",
            TaskKind::JointReview => "hold a joint review to retain them and grow together",
            TaskKind::Nurture => "nurture towards a first purchase",
            TaskKind::ThankYou => "thank them for their first purchase",
            TaskKind::LoyaltyInvite => "invite them to the loyalty programme",
            TaskKind::ReferralRequest => "ask for referrals",
            TaskKind::Reactivate => "give them a reason to come back",
            TaskKind::WinBack => "win them back",
        }
    }

    /// The priority class of every task of this kind:
    ///
    /// | class | kinds |
    /// |---|---|
    /// | high | support_contact, follow_up, joint_review, thank_you |
    /// | normal | loyalty_invite, referral_request, reactivate, win_back |
    /// | low | product_ideas, new_products, nurture |
    ///
    /// High tasks answer a purchase or keep a commitment and lose their point when late;
    /// normal ones move a customer along the lifecycle; low ones are regular marketing.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{PriorityClass, TaskKind};
    /// assert_eq!(TaskKind::Nurture.priority_class(), PriorityClass::Low);
    /// assert_eq!(TaskKind::WinBack.priority_class(), PriorityClass::Normal);
    /// ```
    pub const fn priority_class(self) -> PriorityClass {
        match self {
            TaskKind::SupportContact | TaskKind::FollowUp | TaskKind::JointReview | TaskKind::ThankYou => {
                PriorityClass::High
            }
            TaskKind::LoyaltyInvite | TaskKind::ReferralRequest | TaskKind::Reactivate | TaskKind::WinBack => {
                PriorityClass::Normal
            }
            TaskKind::ProductIdeas | TaskKind::NewProducts | TaskKind::Nurture => PriorityClass::Low,
        }
    }

    /// The position in [`ALL`](Self::ALL), for per-kind counts.
    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TaskKind {
    type Err = PlanError;

    /// A kind by its name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| PlanError::UnknownTaskKind(echo(s)))
    }
}

/// The class of a task's [`Priority`], from low to high (its `Ord` is this order). Each
/// [`TaskKind`] has one ([`TaskKind::priority_class`]).
///
/// # Example
///
/// ```
/// use clientele::strategy::PriorityClass;
/// assert!(PriorityClass::Low < PriorityClass::High);
/// assert_eq!(PriorityClass::Normal.to_string(), "normal");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PriorityClass {
    /// Regular marketing: proactive contact, nurturing prospects.
    Low,
    /// Moving a customer along the lifecycle: invitations, referrals, reactivation, win-back.
    Normal,
    /// Answering a purchase or keeping a commitment: support, follow-up, joint review,
    /// thanks.
    High,
}

impl PriorityClass {
    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::PriorityClass::High.name(), "high");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            PriorityClass::Low => "low",
            PriorityClass::Normal => "normal",
            PriorityClass::High => "high",
        }
    }
}

impl fmt::Display for PriorityClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How urgent a task is: its kind's [`PriorityClass`] and, within the class, a rank.
///
/// Only win-back tasks are ranked: rank `r` goes to the lost customer with the `r`-th
/// highest value (total spent, in the plan's currency, before the range; ties by customer
/// id), from 1. Every other task has rank 0.
///
/// The order (`Ord`) is by urgency: **a greater priority is more urgent**. A higher class is
/// greater; within a class, a *lower* rank is greater, so the most valuable lost customer's
/// win-back is the most urgent of the win-backs, and an unranked task (rank 0) of the same
/// class comes before every win-back. Serialized as `{"class": "normal", "rank": 3}`.
///
/// # Example
///
/// ```
/// use clientele::strategy::{Priority, PriorityClass};
/// let high = Priority::new(PriorityClass::High, 0);
/// let first = Priority::new(PriorityClass::Normal, 1);
/// let second = Priority::new(PriorityClass::Normal, 2);
/// assert!(high > first && first > second);
/// assert_eq!(second.to_string(), "normal, rank 2");
/// assert_eq!(high.to_string(), "high");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Priority {
    /// The class.
    class: PriorityClass,
    /// The rank within the class; 0 when unranked.
    rank: u32,
}

impl Priority {
    /// A priority of `class` with `rank` (0 for unranked).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Priority, PriorityClass};
    /// assert_eq!(Priority::new(PriorityClass::Low, 0).class(), PriorityClass::Low);
    /// ```
    pub const fn new(class: PriorityClass, rank: u32) -> Priority {
        Priority { class, rank }
    }

    /// The class.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Priority, PriorityClass};
    /// assert_eq!(Priority::new(PriorityClass::High, 0).class(), PriorityClass::High);
    /// ```
    pub const fn class(&self) -> PriorityClass {
        self.class
    }

    /// The rank within the class: from 1 for win-back tasks, 0 for the others.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Priority, PriorityClass};
    /// assert_eq!(Priority::new(PriorityClass::Normal, 7).rank(), 7);
    /// ```
    pub const fn rank(&self) -> u32 {
        self.rank
    }

    /// The unranked priority of `kind`.
    const fn of(kind: TaskKind) -> Priority {
        Priority { class: kind.priority_class(), rank: 0 }
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.class.cmp(&other.class).then_with(|| other.rank.cmp(&self.rank))
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Priority {
    /// The class, and the rank if any: `normal, rank 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rank {
            0 => write!(f, "{}", self.class),
            rank => write!(f, "{}, rank {rank}", self.class),
        }
    }
}

/// What a periodic level task is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Anchor {
    /// The customer's latest purchase before the range, on this day.
    LastPurchase(NaiveDate),
    /// Without a purchase before the range: the start of the current stage.
    Stage(Stage, NaiveDate),
}

/// Why a task exists: the facts its reason is written from. Kept as data, so that building
/// a plan allocates no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Basis {
    /// A purchase on `on` of `amount`, by a customer at `level` (support contact, follow-up).
    Purchase { level: RelationshipLevel, on: NaiveDate, amount: Money },
    /// A level's cadence from an anchor (proactive and partnership contact).
    Level { level: RelationshipLevel, anchor: Anchor, cadence: Cadence },
    /// A stage's cadence from the day the stage began (nurture, invitations, referrals,
    /// reactivation).
    Stage { stage: Stage, since: NaiveDate, cadence: Cadence },
    /// The first purchase, on `on`, of `amount` (thanks).
    FirstPurchase { on: NaiveDate, amount: Money },
    /// A lost customer's cadence from the day they were lost, and their value rank among the
    /// `lost` customers of the plan.
    WinBack { since: NaiveDate, cadence: Cadence, spent: Money, rank: u32, lost: u32 },
}

/// One dated contact: whom to contact, when, why, by which channel, and how urgently.
///
/// The [reason](Self::reason) is written from the facts the task came from, in one line.
/// [`Display`](fmt::Display) shows the whole task in one line. Serialized with every field
/// and the reason.
///
/// # Example
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use clientele::{Channel, Currency, Customer, CustomerId, Money, Purchase};
/// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
///
/// let bought = Utc.with_ymd_and_hms(2025, 12, 30, 15, 0, 0).unwrap();
/// let mut ada = Customer::new(CustomerId::new(7), "Ada", bought)
///     .with_purchases(vec![Purchase::new(bought, Money::new(12_000, Currency::USD))])?;
/// ada.channels.preferred.insert(Channel::Sms);
/// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
/// let plan = ContactPlan::build([&ada], range, &RelationshipLevel::Accountable, &PlanConfig::default())?;
///
/// let task = &plan.tasks()[0];
/// assert_eq!((task.customer(), task.kind(), task.channel()), (ada.id(), TaskKind::FollowUp, Some(Channel::Sms)));
/// assert_eq!(task.due().to_string(), "2026-01-02");
/// assert_eq!(
///     task.reason(),
///     "accountable level: bought 120.00 USD on 2025-12-30, 3 days before; \
///      ask whether the product met expectations, for suggestions and for any dissatisfaction"
/// );
/// assert!(task.to_string().starts_with("2026-01-02 #7 follow_up by sms (high): accountable level"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactTask {
    /// Whom to contact.
    customer: CustomerId,
    /// The day to contact them; later than the day the rules give when postponed.
    due: NaiveDate,
    /// What for.
    kind: TaskKind,
    /// By which channel: `None` only for the tasks of unreachable customers.
    channel: Option<Channel>,
    /// How urgently.
    priority: Priority,
    /// The day the rules gave, when the caps moved the task to `due`.
    postponed_from: Option<NaiveDate>,
    /// The facts behind the task.
    basis: Basis,
}

impl ContactTask {
    /// The customer to contact.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{DateTime, NaiveDate};
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let range = PlanRange::days(t.date_naive(), 30)?;
    /// let plan = ContactPlan::build([&prospect], range, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// // Bo prefers no channel: the nurturing tasks are reported with him as unreachable.
    /// assert_eq!(plan.unreachable()[0].tasks()[0].customer(), CustomerId::new(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn customer(&self) -> CustomerId {
        self.customer
    }

    /// The day the task is due.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{DateTime, NaiveDate};
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// // Nurtured 7 days after becoming a prospect, then every 14 days.
    /// let due: Vec<String> = plan.unreachable()[0].tasks().iter().map(|t| t.due().to_string()).collect();
    /// assert_eq!(due, ["1970-01-08", "1970-01-22"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn due(&self) -> NaiveDate {
        self.due
    }

    /// What the task is for.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel, TaskKind}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.unreachable()[0].tasks()[0].kind(), TaskKind::Nurture);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn kind(&self) -> TaskKind {
        self.kind
    }

    /// The channel to use: the first channel of [`PlanConfig::channels`] the customer
    /// prefers and has not opted out of. `None` only for the tasks of an
    /// [unreachable](ContactPlan::unreachable) customer (and their dropped tasks).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred = [Channel::Phone, Channel::Email, Channel::Tv].into_iter().collect();
    /// bo.channels.opted_out.insert(Channel::Email);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// // Email comes first in the default order, but Bo opted out of it.
    /// assert_eq!(plan.tasks()[0].channel(), Some(Channel::Phone));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn channel(&self) -> Option<Channel> {
        self.channel
    }

    /// How urgent the task is.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, PriorityClass, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.unreachable()[0].tasks()[0].priority().class(), PriorityClass::Low);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn priority(&self) -> Priority {
        self.priority
    }

    /// The day the rules gave the task, when the [caps](ContactPlan#frequency-caps)
    /// postponed it to [`due`](Self::due); `None` when it is due on that day.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.unreachable()[0].tasks()[0].postponed_from(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn postponed_from(&self) -> Option<NaiveDate> {
        self.postponed_from
    }

    /// The day the rules gave the task: [`postponed_from`](Self::postponed_from) if it was
    /// postponed, else [`due`](Self::due).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// let task = &plan.unreachable()[0].tasks()[0];
    /// assert_eq!(task.scheduled(), task.due());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scheduled(&self) -> NaiveDate {
        self.postponed_from.unwrap_or(self.due)
    }

    /// Why the task exists and what to do, in one line: the facts (level or stage, the
    /// purchase or the cadence it follows, a lost customer's value and rank), then the
    /// action ([`TaskKind::action`]), then the postponement if any.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let prospect = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&prospect], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(
    ///     plan.unreachable()[0].tasks()[0].reason(),
    ///     "prospect since 1970-01-01 (7 days after, then every 14 days); nurture towards a first purchase"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reason(&self) -> String {
        Reason(self).to_string()
    }
}

/// A task's reason, written on demand.
struct Reason<'a>(&'a ContactTask);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = self.0;
        match task.basis {
            Basis::Purchase { level, on, amount } if task.kind == TaskKind::FollowUp => {
                let after = day_number(task.scheduled()) - day_number(on);
                let after = Days(u32::try_from(after).unwrap_or(u32::MAX));
                write!(f, "{level} level: bought {amount} on {on}, {after} before; ")?;
            }
            Basis::Purchase { level, on, amount } => write!(f, "{level} level: bought {amount} on {on}; ")?,
            Basis::Level { level, anchor: Anchor::LastPurchase(on), cadence } => {
                write!(f, "{level} level: last purchase on {on} ({cadence}); ")?;
            }
            Basis::Level { level, anchor: Anchor::Stage(stage, since), cadence } => {
                write!(f, "{level} level: {stage} since {since}, no purchase before ({cadence}); ")?;
            }
            Basis::Stage { stage: Stage::Repeat, since, cadence } => {
                write!(f, "repeat since {since} and not a loyalty member ({cadence}); ")?;
            }
            Basis::Stage { stage, since, cadence } => write!(f, "{stage} since {since} ({cadence}); ")?,
            Basis::FirstPurchase { on, amount } => write!(f, "first purchase of {amount} on {on}; ")?,
            Basis::WinBack { since, cadence, spent, rank, lost } => write!(
                f,
                "lost since {since}, spent {spent} before, rank {rank} of {lost} lost customers by value \
                 ({cadence}); "
            )?,
        }
        f.write_str(task.kind.action())?;
        if let Some(from) = task.postponed_from {
            write!(f, " (postponed from {from} by the frequency caps)")?;
        }
        Ok(())
    }
}

impl fmt::Display for ContactTask {
    /// `due #customer kind by channel (priority): reason`, with `unreachable` for the
    /// channel of an unreachable customer's task.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} by ", self.due, self.customer, self.kind)?;
        match self.channel {
            Some(channel) => write!(f, "{channel}")?,
            None => f.write_str("no channel (unreachable)")?,
        }
        write!(f, " ({}): {}", self.priority, Reason(self))
    }
}

impl Serialize for ContactTask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ContactTask", 7)?;
        s.serialize_field("customer", &self.customer)?;
        s.serialize_field("due", &self.due)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("channel", &self.channel)?;
        s.serialize_field("priority", &self.priority)?;
        s.serialize_field("postponed_from", &self.postponed_from)?;
        s.serialize_field("reason", &self.reason())?;
        s.end()
    }
}

/// A customer whom no channel of the plan can reach, with the tasks they would have had.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
/// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
/// let t = DateTime::UNIX_EPOCH;
/// let mut bo = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
/// bo.channels.preferred.insert(Channel::Tv); // not a channel the default plan uses
/// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
/// let missed = &plan.unreachable()[0];
/// assert_eq!(missed.customer(), bo.id());
/// assert_eq!(missed.reachable().iter().collect::<Vec<_>>(), [Channel::Tv]);
/// assert_eq!(missed.tasks().len(), 2);
/// assert!(plan.tasks().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Unreachable {
    /// The customer.
    customer: CustomerId,
    /// The channels the customer prefers and has not opted out of: none of them in the
    /// plan's channels.
    reachable: ChannelSet,
    /// The tasks within the caps, without a channel, in plan order.
    tasks: Vec<ContactTask>,
}

impl Unreachable {
    /// The customer.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let bo = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.unreachable()[0].customer(), CustomerId::new(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn customer(&self) -> CustomerId {
        self.customer
    }

    /// The channels the customer prefers and has not opted out of, none of which the plan
    /// uses; empty when they prefer none, or opted out of all they prefer.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let bo = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert!(plan.unreachable()[0].reachable().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn reachable(&self) -> ChannelSet {
        self.reachable
    }

    /// The tasks the customer would have had, within the caps, in plan order; each without a
    /// channel. Empty when the caps dropped every one (they are in
    /// [`ContactPlan::dropped`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Customer, CustomerId, LifecycleState, Stage, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let bo = Customer::new(CustomerId::new(3), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert!(plan.unreachable()[0].tasks().iter().all(|task| task.channel().is_none()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tasks(&self) -> &[ContactTask] {
        &self.tasks
    }
}

// -------------------------------------------------------------------------------------------
// The plan
// -------------------------------------------------------------------------------------------

/// Dated contact tasks for a range of days, from each customer's relationship level and
/// lifecycle stage, on channels the customers accept, within frequency caps.
///
/// ```
/// use chrono::{Duration, NaiveDate};
/// use clientele::{Channel, Currency, Customer, CustomerId, LifecycleState, Money, Purchase, Stage};
/// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
///
/// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
/// let as_of = range.as_of();
/// // Two customers lost on 5 December, after spending 50.00 and 900.00 USD a year before.
/// let lost = |id, spent| -> Result<Customer, Box<dyn std::error::Error>> {
///     let bought = as_of - Duration::days(400);
///     let mut c = Customer::new(CustomerId::new(id), "Lost", bought)
///         .with_purchases(vec![Purchase::new(bought, Money::new(spent, Currency::USD))])?
///         .with_lifecycle(LifecycleState::at_stage(Stage::Lost, as_of - Duration::days(27), Some(Stage::FirstTime))?);
///     c.channels.preferred.insert(Channel::Email);
///     Ok(c)
/// };
/// let (small, large) = (lost(1, 5_000)?, lost(2, 90_000)?);
/// let plan = ContactPlan::build([&small, &large], range, &RelationshipLevel::Basic, &PlanConfig::default())?;
///
/// // A win-back on the day they were lost, then every 30 days: 4 January is in the range.
/// // On that day the more valuable customer comes first.
/// let order: Vec<(String, u64, String)> = plan
///     .tasks()
///     .iter()
///     .map(|t| (t.due().to_string(), t.customer().get(), t.priority().to_string()))
///     .collect();
/// assert_eq!(order, [
///     ("2026-01-04".to_string(), 2, "normal, rank 1".to_string()),
///     ("2026-01-04".to_string(), 1, "normal, rank 2".to_string()),
/// ]);
/// assert_eq!(
///     plan.tasks()[0].reason(),
///     "lost since 2025-12-05, spent 900.00 USD before, rank 1 of 2 lost customers by value \
///      (0 days after, then every 30 days); win them back"
/// );
/// assert!(plan.unreachable().is_empty() && plan.dropped().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Tasks
///
/// [`ContactPlan::build`] reads each customer as they stand at the start of the range
/// ([`PlanRange::as_of`]): their level from a [`LevelOf`] (usually from their segment,
/// through a [`LevelAssignment`]), their current [stage](Customer::stage) and the day it
/// began, and their purchases. Each level does what the levels below it do, and more (the
/// levels are a scale of intensity), and the stage adds its own task:
///
/// | from | task | due | priority |
/// |---|---|---|---|
/// | level reactive and up | `support_contact` | on the day of each purchase in the range | high |
/// | level accountable and up | `follow_up` | `follow_up_after_days` after each purchase, when that day is in the range | high |
/// | level proactive and up, buying stages | `product_ideas`, `new_products` | their cadences from the level anchor | low |
/// | level partnership, buying stages | `joint_review` | `joint_reviews` from the level anchor | high |
/// | stage prospect | `nurture` | `nurture` from the day the stage began | low |
/// | stage first_time | `thank_you` | `thank_after_days` after the first purchase, when that day is in the range | high |
/// | stage repeat, not a loyalty member | `loyalty_invite` | `loyalty_invite` from the day the stage began | normal |
/// | stage client | `referral_request` | `referral_request` from the day the stage began | normal |
/// | stage inactive | `reactivate` | `reactivation` from the day the stage began | normal |
/// | stage lost | `win_back` | `win_back` from the day the stage began | normal, ranked by value |
///
/// - Basic customers get nothing from their level. Suspects and disqualified prospects get
///   nothing from their stage; neither do advocates and partners, whom their level serves.
/// - The buying stages are first-time to partner ([`Stage::is_customer`]). Periodic level
///   contact is about what the customer bought, so prospects and dormant customers do not get
///   it; their stage task speaks to them instead.
/// - The *level anchor* is the day of the customer's latest purchase before the range; for a
///   customer who bought nothing before it, the day their stage began.
/// - A [`Cadence`] falls `first_after_days` after its anchor, then every `every_days`; the
///   plan has each of its days within the range.
/// - Several purchases on one day give one support contact and one follow-up.
/// - Win-back tasks are ranked by the lost customer's value: their total spent in
///   [`PlanConfig::currency`] before the range, highest first, ties by customer id. Rank 1
///   is the most valuable of the lost customers given. A higher value is a more urgent
///   [`Priority`], so the most valuable come first among the win-backs of a day.
/// - Days are UTC days.
///
/// # Channels
///
/// All the tasks of a customer go by one channel: the first of [`PlanConfig::channels`] the
/// customer prefers and has not opted out of ([`Channels::reachable`](crate::Channels::reachable)).
/// **An opted-out channel, or one the customer does not prefer, is never used.** A customer
/// with no such channel is not dropped: whenever the rules give them at least one task, they
/// are listed in [`unreachable`](Self::unreachable) with the tasks they would have had
/// (within the caps, without a channel), and none of their tasks is in
/// [`tasks`](Self::tasks).
///
/// # Frequency caps
///
/// The [`Caps`] bound each customer's tasks per day, per rolling 7 days and per range. Tasks
/// beyond them are **postponed, then dropped**, deterministically:
///
/// 1. A customer's tasks are placed one at a time, the most urgent first (by priority, then
///    due day, then kind), so a less urgent task never displaces a more urgent one.
/// 2. A task goes on its due day if every cap still holds with it there; otherwise on the
///    first later day, at most [`PlanConfig::max_postpone_days`] later and not past the
///    range, where they hold. It records the day the rules gave it
///    ([`ContactTask::postponed_from`]).
/// 3. A task with no such day is dropped and listed in [`dropped`](Self::dropped), on the day
///    the rules gave it: nothing disappears silently.
///
/// A plan knows no contact made before its range: the caps count its own tasks only.
///
/// # Order
///
/// [`tasks`](Self::tasks) and [`dropped`](Self::dropped) are sorted by **due day, then
/// priority (most urgent first), then customer id, then kind** ([`TaskKind::ALL`] order),
/// then the day the rules gave (for two postponed tasks that land on one day). No two tasks
/// agree on all five, so the order is total. [`unreachable`](Self::unreachable) is sorted by
/// customer id, and each customer's tasks are in plan order.
///
/// # Determinism
///
/// A plan depends only on the set of customers, the range, the levels and the
/// configuration: not on the order the customers come in, the clock, or anything random.
/// The same input gives the same plan, task for task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactPlan {
    /// The days planned.
    range: PlanRange,
    /// The number of customers given.
    customers: usize,
    /// The tasks of reachable customers, in plan order.
    tasks: Vec<ContactTask>,
    /// The tasks the caps dropped, on the day the rules gave them, in plan order.
    dropped: Vec<ContactTask>,
    /// The customers without a usable channel who had at least one task before the caps, by
    /// id.
    unreachable: Vec<Unreachable>,
}

/// A task before the caps and the channel: its day (a day number), kind, priority and basis.
#[derive(Debug, Clone, Copy)]
struct Draft {
    due: i64,
    kind: TaskKind,
    priority: Priority,
    basis: Basis,
}

/// The drafts of one customer; a few, usually.
type Drafts = SmallVec<[Draft; 8]>;

impl ContactPlan {
    /// The plan for `customers` over `range`: each customer's level from `levels`, the tasks
    /// from `config`, as described [above](Self#tasks).
    ///
    /// For n customers it sorts their ids and the lost customers' values, then visits each
    /// customer once (a few binary searches in their purchases), then sorts the tasks:
    /// O(n log n) on one thread. It allocates no text; [`ContactTask::reason`] writes a
    /// reason when asked.
    ///
    /// # Errors
    ///
    /// [`PlanError::DuplicateCustomer`] if two customers have the same id.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, NaiveDate};
    /// use clientele::{Channel, Currency, Customer, CustomerId, Money, Purchase};
    /// use clientele::segment::{Schema, Segment};
    /// use clientele::strategy::{ContactPlan, LevelAssignment, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
    ///
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// let as_of = range.as_of();
    /// // Loyalty members are served proactively, everyone else reactively.
    /// let levels = LevelAssignment::new(RelationshipLevel::Reactive)
    ///     .with(Segment::compile("loyalty_member", &Schema::new(Currency::USD))?, RelationshipLevel::Proactive);
    ///
    /// let mut ada = Customer::new(CustomerId::new(1), "Ada", as_of - Duration::days(100));
    /// ada.channels.preferred.insert(Channel::Email);
    /// // Ada buys on 3 January: she gets the support contact that day.
    /// let ada = ada.with_purchases(vec![Purchase::new(as_of + Duration::days(2), Money::new(4_000, Currency::USD))])?;
    ///
    /// let plan = ContactPlan::build([&ada], range, &levels.at(as_of), &PlanConfig::default())?;
    /// let kinds: Vec<(String, TaskKind)> = plan.tasks().iter().map(|t| (t.due().to_string(), t.kind())).collect();
    /// assert_eq!(kinds, [("2026-01-03".to_string(), TaskKind::SupportContact)]);
    /// assert_eq!(plan.customers(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build<'a, L: LevelOf + ?Sized>(
        customers: impl IntoIterator<Item = &'a Customer>,
        range: PlanRange,
        levels: &L,
        config: &PlanConfig,
    ) -> Result<ContactPlan, PlanError> {
        let customers: Vec<&Customer> = customers.into_iter().collect();
        let mut ids: Vec<CustomerId> = customers.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(PlanError::DuplicateCustomer(pair[0]));
        }
        drop(ids);

        let (lo, hi) = range.bounds();
        let rules =
            Rules { lo, hi, as_of: range.as_of(), config, lost: LostRanking::new(&customers, range.as_of(), config) };
        let order = channel_order(&config.channels);
        let mut plan = ContactPlan {
            range,
            customers: customers.len(),
            tasks: Vec::new(),
            dropped: Vec::new(),
            unreachable: Vec::new(),
        };
        let mut drafts = Drafts::new();
        for customer in customers {
            drafts.clear();
            rules.drafts(customer, levels.level_of(customer), &mut drafts);
            if drafts.is_empty() {
                continue;
            }
            let reachable = customer.channels.reachable();
            let channel = order.iter().copied().find(|c| reachable.contains(*c));
            let slots = schedule(&mut drafts, config.caps, config.max_postpone_days, hi);
            let task = |draft: &Draft, day: i64| ContactTask {
                customer: customer.id(),
                due: date_of(day).unwrap_or(range.last),
                kind: draft.kind,
                channel,
                priority: draft.priority,
                postponed_from: (day != draft.due).then(|| date_of(draft.due)).flatten(),
                basis: draft.basis,
            };
            let mut unreachable = Vec::new();
            for (draft, slot) in drafts.iter().zip(slots) {
                match slot {
                    None => plan.dropped.push(task(draft, draft.due)),
                    Some(day) if channel.is_some() => plan.tasks.push(task(draft, day)),
                    Some(day) => unreachable.push(task(draft, day)),
                }
            }
            if channel.is_none() {
                unreachable.sort_unstable_by_key(plan_order);
                plan.unreachable.push(Unreachable { customer: customer.id(), reachable, tasks: unreachable });
            }
        }
        plan.tasks.sort_unstable_by_key(plan_order);
        plan.dropped.sort_unstable_by_key(plan_order);
        plan.unreachable.sort_unstable_by_key(|u| u.customer);
        Ok(plan)
    }

    /// The days planned.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// let plan = ContactPlan::build([], range, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.range(), range);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn range(&self) -> PlanRange {
        self.range
    }

    /// The number of customers given, with tasks or not.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel}};
    /// let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "Ada", t); // a suspect: no task
    /// let plan = ContactPlan::build([&c], PlanRange::days(t.date_naive(), 7)?, &RelationshipLevel::Partnership, &PlanConfig::default())?;
    /// assert_eq!((plan.customers(), plan.len()), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn customers(&self) -> usize {
        self.customers
    }

    /// The tasks of the reachable customers, in [plan order](Self#order).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred.insert(Channel::Web);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 14)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.tasks().len(), 1);
    /// assert_eq!((plan.tasks()[0].kind(), plan.tasks()[0].channel()), (TaskKind::Nurture, Some(Channel::Web)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tasks(&self) -> &[ContactTask] {
        &self.tasks
    }

    /// The number of [tasks](Self::tasks).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// assert_eq!(ContactPlan::build([], range, &RelationshipLevel::Basic, &PlanConfig::default())?.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there is no [task](Self::tasks) (unreachable customers aside).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// assert!(ContactPlan::build([], range, &RelationshipLevel::Basic, &PlanConfig::default())?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The tasks due on `day`, in plan order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred.insert(Channel::Web);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 14)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.tasks_on((t + Duration::days(7)).date_naive()).len(), 1);
    /// assert!(plan.tasks_on(t.date_naive()).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tasks_on(&self, day: NaiveDate) -> &[ContactTask] {
        let start = self.tasks.partition_point(|t| t.due < day);
        let end = self.tasks.partition_point(|t| t.due <= day);
        self.tasks.get(start..end).unwrap_or_default()
    }

    /// The tasks of `customer`, in plan order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred.insert(Channel::Web);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.tasks_for(bo.id()).count(), 2);
    /// assert_eq!(plan.tasks_for(CustomerId::new(2)).count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tasks_for(&self, customer: CustomerId) -> impl Iterator<Item = &ContactTask> + '_ {
        self.tasks.iter().filter(move |t| t.customer == customer)
    }

    /// The tasks the [caps](Self#frequency-caps) dropped, each on the day the rules gave it,
    /// in plan order. Their channel is the one the customer would have been reached by
    /// (`None` for an unreachable customer).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{Caps, ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred.insert(Channel::Web);
    /// let config = PlanConfig { caps: Caps { per_range: 1, ..Caps::default() }, ..PlanConfig::default() };
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 30)?, &RelationshipLevel::Basic, &config)?;
    /// // Nurtured on days 7 and 21; one task per range: the second is dropped.
    /// assert_eq!((plan.len(), plan.dropped().len()), (1, 1));
    /// assert_eq!(plan.dropped()[0].due().to_string(), "1970-01-22");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dropped(&self) -> &[ContactTask] {
        &self.dropped
    }

    /// The customers no channel of the plan reaches who had at least one task, in id order,
    /// each with the tasks they would have had.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// let prospect = LifecycleState::at_stage(Stage::Prospect, t, None)?;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(prospect);
    /// bo.channels.preferred.insert(Channel::Email);
    /// bo.channels.opted_out.insert(Channel::Email);
    /// let quiet = Customer::new(CustomerId::new(2), "Cy", t); // a suspect: no task, not listed
    /// let plan = ContactPlan::build([&bo, &quiet], PlanRange::days(t.date_naive(), 14)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// assert_eq!(plan.unreachable().len(), 1);
    /// assert_eq!(plan.unreachable()[0].customer(), bo.id());
    /// assert_eq!(plan.unreachable()[0].tasks().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unreachable(&self) -> &[Unreachable] {
        &self.unreachable
    }

    /// Every task kind with its number of [tasks](Self::tasks) (zero included), in
    /// [`TaskKind::ALL`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
    /// let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
    /// let plan = ContactPlan::build([], range, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// let counts: Vec<(TaskKind, usize)> = plan.count_by_kind().collect();
    /// assert_eq!(counts.len(), TaskKind::ALL.len());
    /// assert_eq!(counts[0], (TaskKind::SupportContact, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_by_kind(&self) -> impl ExactSizeIterator<Item = (TaskKind, usize)> + use<> {
        let mut counts = [0usize; TaskKind::ALL.len()];
        for task in &self.tasks {
            counts[task.kind.index()] += 1;
        }
        TaskKind::ALL.into_iter().zip(counts)
    }

    /// Every channel with its number of [tasks](Self::tasks) (zero included), in
    /// [`Channel::ALL`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, LifecycleState, Stage};
    /// use clientele::strategy::{ContactPlan, PlanConfig, PlanRange, RelationshipLevel};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut bo = Customer::new(CustomerId::new(1), "Bo", t).with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// bo.channels.preferred.insert(Channel::Sms);
    /// let plan = ContactPlan::build([&bo], PlanRange::days(t.date_naive(), 14)?, &RelationshipLevel::Basic, &PlanConfig::default())?;
    /// let by_channel: Vec<(Channel, usize)> = plan.count_by_channel().filter(|(_, n)| *n > 0).collect();
    /// assert_eq!(by_channel, [(Channel::Sms, 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_by_channel(&self) -> impl ExactSizeIterator<Item = (Channel, usize)> + use<> {
        let mut counts = [0usize; Channel::ALL.len()];
        for task in &self.tasks {
            if let Some(i) = task.channel.and_then(|c| Channel::ALL.iter().position(|d| *d == c)) {
                counts[i] += 1;
            }
        }
        Channel::ALL.into_iter().zip(counts)
    }
}

/// The key of the [plan order](ContactPlan#order): due day, priority (most urgent first),
/// customer, kind, then the day the rules gave.
fn plan_order(t: &ContactTask) -> (NaiveDate, Reverse<Priority>, CustomerId, TaskKind, Option<NaiveDate>) {
    (t.due, Reverse(t.priority), t.customer, t.kind, t.postponed_from)
}

/// `channels` without repeats, keeping the first occurrence of each.
fn channel_order(channels: &[Channel]) -> SmallVec<[Channel; 9]> {
    let mut seen = ChannelSet::EMPTY;
    channels.iter().copied().filter(|c| seen.insert(*c)).collect()
}

/// Where each lost customer ranks by value.
struct LostRanking {
    /// `(customer, rank, value)` for every lost customer, by id; ranks from 1.
    by_id: Vec<(CustomerId, u32, Money)>,
}

impl LostRanking {
    /// Ranks the lost customers among `customers` by their total spent in the configured
    /// currency before `as_of`, highest first, ties by id.
    fn new(customers: &[&Customer], as_of: DateTime<Utc>, config: &PlanConfig) -> LostRanking {
        let mut lost: Vec<(Money, CustomerId)> = customers
            .iter()
            .filter(|c| c.stage() == Stage::Lost)
            .map(|c| (c.purchases().spent_upto(as_of, config.currency), c.id()))
            .collect();
        lost.sort_unstable_by_key(|(spent, id)| (Reverse(spent.minor()), *id));
        let mut by_id: Vec<(CustomerId, u32, Money)> =
            lost.into_iter().zip(1u32..).map(|((spent, id), rank)| (id, rank, spent)).collect();
        by_id.sort_unstable_by_key(|(id, ..)| *id);
        LostRanking { by_id }
    }

    /// The number of lost customers ranked.
    fn len(&self) -> u32 {
        u32::try_from(self.by_id.len()).unwrap_or(u32::MAX)
    }

    /// The rank and value of lost customer `id`.
    fn get(&self, id: CustomerId, currency: Currency) -> (u32, Money) {
        let found = self.by_id.binary_search_by_key(&id, |(id, ..)| *id).ok().and_then(|i| self.by_id.get(i));
        // Every lost customer given is ranked; a last place keeps this total.
        found.map_or((u32::MAX, Money::new(0, currency)), |(_, rank, spent)| (*rank, *spent))
    }
}

/// The rules of the [task table](ContactPlan#tasks) for one plan.
struct Rules<'a> {
    /// The first and last day numbers of the range.
    lo: i64,
    hi: i64,
    /// The start of the range, when customers are read.
    as_of: DateTime<Utc>,
    config: &'a PlanConfig,
    lost: LostRanking,
}

impl Rules<'_> {
    /// The drafts of `customer` at `level`, before the caps.
    fn drafts(&self, customer: &Customer, level: RelationshipLevel, out: &mut Drafts) {
        use RelationshipLevel::{Accountable, Partnership, Proactive, Reactive};
        let config = self.config;
        let purchases = customer.purchases().as_slice();
        if level >= Reactive {
            self.after_purchases(purchases, 0, TaskKind::SupportContact, level, out);
        }
        if level >= Accountable {
            self.after_purchases(purchases, config.follow_up_after_days, TaskKind::FollowUp, level, out);
        }
        let stage = customer.stage();
        let since = date_utc(customer.lifecycle().since());
        if level >= Proactive && stage.is_customer() {
            let before = purchases.get(..purchases.partition_point(|p| p.at < self.as_of)).unwrap_or_default();
            let (anchor, day) = match before.last() {
                Some(last) => (Anchor::LastPurchase(date_utc(last.at)), date_utc(last.at)),
                None => (Anchor::Stage(stage, since), since),
            };
            let mut periodic = |cadence: Cadence, kind: TaskKind| {
                self.cadence(day, cadence, kind, Priority::of(kind), Basis::Level { level, anchor, cadence }, out);
            };
            periodic(config.product_ideas, TaskKind::ProductIdeas);
            periodic(config.new_products, TaskKind::NewProducts);
            if level >= Partnership {
                periodic(config.joint_reviews, TaskKind::JointReview);
            }
        }
        let mut for_stage = |cadence: Cadence, kind: TaskKind| {
            self.cadence(since, cadence, kind, Priority::of(kind), Basis::Stage { stage, since, cadence }, out);
        };
        match stage {
            Stage::Prospect => for_stage(config.nurture, TaskKind::Nurture),
            Stage::Repeat if !customer.is_loyalty_member() => for_stage(config.loyalty_invite, TaskKind::LoyaltyInvite),
            Stage::Client => for_stage(config.referral_request, TaskKind::ReferralRequest),
            Stage::Inactive => for_stage(config.reactivation, TaskKind::Reactivate),
            Stage::FirstTime => {
                if let Some(first) = purchases.first() {
                    let due = day_of(first.at) + i64::from(config.thank_after_days);
                    if (self.lo..=self.hi).contains(&due) {
                        let basis = Basis::FirstPurchase { on: date_utc(first.at), amount: first.amount };
                        out.push(Draft {
                            due,
                            kind: TaskKind::ThankYou,
                            priority: Priority::of(TaskKind::ThankYou),
                            basis,
                        });
                    }
                }
            }
            Stage::Lost => {
                let (rank, spent) = self.lost.get(customer.id(), config.currency);
                let cadence = config.win_back;
                let basis = Basis::WinBack { since, cadence, spent, rank, lost: self.lost.len() };
                let priority = Priority::new(TaskKind::WinBack.priority_class(), rank);
                self.cadence(since, cadence, TaskKind::WinBack, priority, basis, out);
            }
            _ => {}
        }
    }

    /// A task `after` days after each purchase, when that day is in the range; one per day.
    fn after_purchases(
        &self,
        purchases: &[Purchase],
        after: u32,
        kind: TaskKind,
        level: RelationshipLevel,
        out: &mut Drafts,
    ) {
        let after = i64::from(after);
        // Purchases are in time order, so their days are too.
        let start = purchases.partition_point(|p| day_of(p.at) + after < self.lo);
        let end = purchases.partition_point(|p| day_of(p.at) + after <= self.hi);
        let mut previous = None;
        for p in purchases.get(start..end).unwrap_or_default() {
            let on = date_utc(p.at);
            let due = day_number(on) + after;
            if previous != Some(due) {
                previous = Some(due);
                out.push(Draft {
                    due,
                    kind,
                    priority: Priority::of(kind),
                    basis: Basis::Purchase { level, on, amount: p.amount },
                });
            }
        }
    }

    /// A task on each day of `cadence` from `anchor` in the range.
    fn cadence(
        &self,
        anchor: NaiveDate,
        cadence: Cadence,
        kind: TaskKind,
        priority: Priority,
        basis: Basis,
        out: &mut Drafts,
    ) {
        out.extend(cadence.day_numbers(day_number(anchor), self.lo, self.hi).map(|due| Draft {
            due,
            kind,
            priority,
            basis,
        }));
    }
}

/// Places one customer's drafts under `caps` as described under
/// [frequency caps](ContactPlan#frequency-caps): sorts `drafts` most urgent first and returns,
/// for each in that order, the day number it goes on, or `None` if it is dropped.
fn schedule(drafts: &mut [Draft], caps: Caps, max_postpone_days: u32, hi: i64) -> SmallVec<[Option<i64>; 8]> {
    // (due, kind) is unique among one customer's drafts, so this order is total.
    drafts.sort_unstable_by_key(|d| (Reverse(d.priority), d.due, d.kind));
    let per_range = usize::try_from(caps.per_range).unwrap_or(usize::MAX);
    // The days placed so far, in order.
    let mut days: SmallVec<[i64; 8]> = SmallVec::new();
    drafts
        .iter()
        .map(|draft| {
            if days.len() >= per_range {
                return None;
            }
            let latest = (draft.due + i64::from(max_postpone_days)).min(hi);
            let day = (draft.due..=latest).find(|day| fits(&days, *day, caps))?;
            days.insert(days.partition_point(|d| *d <= day), day);
            Some(day)
        })
        .collect()
}

/// Whether one more task on `day` keeps the day and rolling-week caps, given the (sorted)
/// days already placed.
fn fits(days: &[i64], day: i64, caps: Caps) -> bool {
    let count = |first: i64, last: i64| days.partition_point(|d| *d <= last) - days.partition_point(|d| *d < first);
    let below = |n: usize, cap: u32| u64::try_from(n).unwrap_or(u64::MAX) < u64::from(cap);
    below(count(day, day), caps.per_day) && (day - 6..=day).all(|start| below(count(start, start + 6), caps.per_week))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(due: i64, kind: TaskKind) -> Draft {
        let on = NaiveDate::MIN;
        let basis = Basis::FirstPurchase { on, amount: Money::new(0, Currency::USD) };
        Draft { due, kind, priority: Priority::of(kind), basis }
    }

    #[test]
    fn caps_postpone_then_drop_the_less_urgent() {
        // Two high tasks and a low one on day 10; one a day, two a week, range ends day 12.
        let caps = Caps { per_day: 1, per_week: 2, per_range: 10 };
        let mut drafts = [draft(10, TaskKind::Nurture), draft(10, TaskKind::FollowUp), draft(10, TaskKind::ThankYou)];
        let slots = schedule(&mut drafts, caps, 5, 12);
        let placed: Vec<(TaskKind, Option<i64>)> = drafts.iter().map(|d| d.kind).zip(slots).collect();
        assert_eq!(placed, [(TaskKind::FollowUp, Some(10)), (TaskKind::ThankYou, Some(11)), (TaskKind::Nurture, None)]);
    }

    #[test]
    fn rolling_week_counts_every_window_containing_the_day() {
        let caps = Caps { per_day: 5, per_week: 2, per_range: 10 };
        // Days 0 and 6 fill the week of days 0 to 6; day 7 starts a week with one task.
        assert!((1..=6).all(|day| !fits(&[0, 6], day, caps)));
        assert!(fits(&[0, 6], 7, caps));
        // Day -1 shares a week with day 0 only (days -1 to 5).
        assert!(fits(&[0, 6], -1, caps) && fits(&[0, 6], 13, caps));
        let three = Caps { per_week: 3, ..caps };
        assert!(fits(&[0, 3, 6], -1, three) && !fits(&[0, 3, 6], 1, three) && fits(&[0, 3, 6], 10, three));
        assert!(fits(&[0], 0, caps));
        assert!(!fits(&[], 0, Caps { per_day: 0, ..caps }));
    }

    #[test]
    fn cadence_days_skip_whole_periods() {
        let c = Cadence::of(3, 7);
        assert_eq!(c.day_numbers(0, 0, 30).collect::<Vec<_>>(), [3, 10, 17, 24]);
        assert_eq!(c.day_numbers(0, 11, 17).collect::<Vec<_>>(), [17]);
        assert_eq!(c.day_numbers(0, 18, 23).count(), 0);
        assert_eq!(c.day_numbers(100, 0, 50).count(), 0);
        assert_eq!(Cadence::of(0, 1).day_numbers(-5, 0, 2).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn channel_order_keeps_first_occurrences() {
        let order = channel_order(&[Channel::Sms, Channel::Email, Channel::Sms]);
        assert_eq!(order.as_slice(), [Channel::Sms, Channel::Email]);
    }

    #[test]
    fn kind_index_is_position_in_all() {
        for (i, kind) in TaskKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
