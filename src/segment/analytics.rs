//! Segment analytics: is a segment worth targeting?
//!
//! A segment must be *large enough* to meet the financial needs of the company and the
//! product, and *reachable by promotional means* (the domain reference, section 3). A
//! [`SegmentReport`] measures both for one segment as of one instant over a [`Snapshot`]:
//! how many members it has, what they bought and at what margin, which media channels reach
//! them, and whether it clears the thresholds of an [`AnalyticsConfig`]. [`overlap`] compares
//! several segments pairwise.
//!
//! Every figure is kept exact: counts and amounts in minor units, shares as a part and a
//! whole ([`Share`]), thresholds in [`BasisPoints`]. Floating point appears only in the
//! `ratio` accessors, for display and plotting.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Bitmap, Segment, Snapshot, error::SegmentError};
use crate::{
    customer::{Channel, ChannelSet, CustomerId},
    money::{Currency, Money},
};

/// What can go wrong when analysing segments.
///
/// # Example
///
/// ```
/// use clientele::segment::{AnalyticsError, BasisPoints};
/// let err = BasisPoints::new(10_001).unwrap_err();
/// assert_eq!(err, AnalyticsError::ShareOutOfRange(10_001));
/// assert_eq!(err.to_string(), "10001 basis points is more than 100% (at most 10000)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// The segment could not be evaluated over the snapshot (for instance, the snapshot was
    /// built for another currency than the segment's schema).
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// A membership bitmap that does not cover the snapshot's rows.
    #[error("the members cover {found} rows but the snapshot has {expected}")]
    RowsMismatch {
        /// The rows the snapshot has.
        expected: usize,
        /// The rows the bitmap covers.
        found: usize,
    },
    /// Segments compared for overlap that do not cover the same rows.
    #[error("segment `{name}` covers {found} rows but the first segment covers {expected}")]
    OverlapRowsMismatch {
        /// The segment at fault.
        name: String,
        /// The rows the first segment covers.
        expected: usize,
        /// The rows this one covers.
        found: usize,
    },
    /// The same name given to two segments compared for overlap.
    #[error("segment name `{0}` is given twice")]
    DuplicateName(String),
    /// A share above 100%.
    #[error("{0} basis points is more than 100% (at most 10000)")]
    ShareOutOfRange(u32),
    /// A share whose part is larger than its whole.
    #[error("a share of {part} out of {whole} is more than the whole")]
    PartExceedsWhole {
        /// The part.
        part: u64,
        /// The whole.
        whole: u64,
    },
    /// A total too large for a [`Money`] amount.
    #[error("the total revenue does not fit in an amount of {0}")]
    Overflow(Currency),
}

/// A share between 0% and 100% in hundredths of a percent: 1 basis point is 0.01%, 10 000
/// is 100%.
///
/// Serialized as the bare number; deserializing a number above 10 000 fails.
///
/// # Example
///
/// ```
/// use clientele::segment::BasisPoints;
/// let one_percent = BasisPoints::new(100)?;
/// assert_eq!(one_percent.get(), 100);
/// assert_eq!(one_percent.to_string(), "1.00%");
/// assert!(BasisPoints::new(20_000).is_err());
/// assert_eq!(serde_json::from_str::<BasisPoints>("2500")?, BasisPoints::new(2500)?);
/// assert!(serde_json::from_str::<BasisPoints>("10001").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct BasisPoints(u16);

impl BasisPoints {
    /// 0%.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::BasisPoints;
    /// assert_eq!(BasisPoints::ZERO, BasisPoints::default());
    /// assert_eq!(BasisPoints::ZERO.to_string(), "0.00%");
    /// ```
    pub const ZERO: BasisPoints = BasisPoints(0);
    /// 100%.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::BasisPoints;
    /// assert_eq!(BasisPoints::ALL.get(), 10_000);
    /// assert_eq!(BasisPoints::ALL.to_string(), "100.00%");
    /// ```
    pub const ALL: BasisPoints = BasisPoints(10_000);

    /// `bp` hundredths of a percent.
    ///
    /// # Errors
    ///
    /// [`AnalyticsError::ShareOutOfRange`] above 10 000 (100%).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::BasisPoints;
    /// assert_eq!(BasisPoints::new(10_000)?, BasisPoints::ALL);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bp: u32) -> Result<BasisPoints, AnalyticsError> {
        match u16::try_from(bp) {
            Ok(v) if v <= 10_000 => Ok(BasisPoints(v)),
            _ => Err(AnalyticsError::ShareOutOfRange(bp)),
        }
    }

    /// The number of hundredths of a percent.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::BasisPoints::ALL.get(), 10_000);
    /// ```
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for BasisPoints {
    type Error = AnalyticsError;
    fn try_from(bp: u32) -> Result<Self, Self::Error> {
        BasisPoints::new(bp)
    }
}

impl From<BasisPoints> for u32 {
    fn from(bp: BasisPoints) -> u32 {
        u32::from(bp.0)
    }
}

impl fmt::Display for BasisPoints {
    /// As a percentage with two decimals, e.g. `12.50%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
    }
}

/// A part of a whole, kept exactly as the two counts (members, minor units).
///
/// A share of an empty whole (no customers, no revenue) is *defined* and counts as 0%: it
/// shows as `0.00%`, its [`ratio`](Self::ratio) is `0.0`, and it reaches only a zero
/// threshold. Nothing divides by zero.
///
/// # Example
///
/// ```
/// use clientele::segment::{BasisPoints, Share};
/// let s = Share::new(1, 3)?;
/// assert_eq!((s.part(), s.whole()), (1, 3));
/// assert_eq!(s.to_string(), "33.33%");
/// assert!(s.at_least(BasisPoints::new(3333)?));
/// assert!(!s.at_least(BasisPoints::new(3334)?));
///
/// let nothing = Share::new(0, 0)?;
/// assert_eq!(nothing.ratio(), 0.0);
/// assert!(nothing.at_least(BasisPoints::ZERO) && !nothing.at_least(BasisPoints::new(1)?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Share {
    part: u64,
    whole: u64,
}

impl Share {
    /// `part` out of `whole`.
    ///
    /// # Errors
    ///
    /// [`AnalyticsError::PartExceedsWhole`] if `part > whole`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Share;
    /// assert!(Share::new(3, 2).is_err());
    /// ```
    pub fn new(part: u64, whole: u64) -> Result<Share, AnalyticsError> {
        if part > whole {
            return Err(AnalyticsError::PartExceedsWhole { part, whole });
        }
        Ok(Share { part, whole })
    }

    /// A share of counts that are a part and its whole by construction.
    fn of(part: usize, whole: usize) -> Share {
        let (part, whole) = (part as u64, whole as u64);
        Share { part: part.min(whole), whole }
    }

    /// The part.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::Share::new(1, 4)?.part(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn part(&self) -> u64 {
        self.part
    }

    /// The whole.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::Share::new(1, 4)?.whole(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn whole(&self) -> u64 {
        self.whole
    }

    /// The share as a fraction from 0 to 1, for display (0 for an empty whole).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::Share::new(1, 4)?.ratio(), 0.25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::cast_precision_loss, reason = "a ratio for display; the exact counts stay available")]
    pub fn ratio(&self) -> f64 {
        if self.whole == 0 { 0.0 } else { self.part as f64 / self.whole as f64 }
    }

    /// The share in basis points, rounded to the nearest (halves up; 0 for an empty whole).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Share;
    /// assert_eq!(Share::new(2, 3)?.basis_points().get(), 6667);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn basis_points(&self) -> BasisPoints {
        if self.whole == 0 {
            return BasisPoints::ZERO;
        }
        let (part, whole) = (u128::from(self.part), u128::from(self.whole));
        let bp = (part * 20_000 + whole) / (2 * whole);
        // `part <= whole`, so `bp <= 10_000`.
        BasisPoints(u16::try_from(bp).unwrap_or(10_000).min(10_000))
    }

    /// Whether the share is at least `min`, compared exactly (`part / whole >= min / 10 000`).
    /// An empty whole reaches only [`BasisPoints::ZERO`].
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{BasisPoints, Share};
    /// assert!(Share::new(1, 2)?.at_least(BasisPoints::new(5000)?));
    /// assert!(!Share::new(4999, 10_000)?.at_least(BasisPoints::new(5000)?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at_least(&self, min: BasisPoints) -> bool {
        if self.whole == 0 {
            return min == BasisPoints::ZERO;
        }
        u128::from(self.part) * 10_000 >= u128::from(min.0) * u128::from(self.whole)
    }
}

impl fmt::Display for Share {
    /// As a percentage with two decimals, rounded to the nearest, e.g. `33.33%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.basis_points().fmt(f)
    }
}

/// Thresholds a segment must clear to be worth targeting, and the size of the member
/// preview, with these defaults:
///
/// | field | default | meaning |
/// |---|---|---|
/// | `min_members` | 100 | fewest members: a segment must be large enough |
/// | `min_revenue_share` | 100 bp (1%) | least share of all customers' revenue up to the date |
/// | `min_reach_share` | 7 500 bp (75%) | least share of members reachable by at least one channel (preferred and not opted out) |
/// | `preview` | 10 | member ids listed in the report, in row order |
///
/// Deserializing fills missing fields with the defaults and refuses shares above 100%.
///
/// # Example
///
/// ```
/// use clientele::segment::{AnalyticsConfig, BasisPoints};
/// let config: AnalyticsConfig = serde_json::from_str(r#"{"min_members": 500, "min_reach_share": 9000}"#)?;
/// assert_eq!(config.min_members, 500);
/// assert_eq!(config.min_reach_share, BasisPoints::new(9000)?);
/// assert_eq!(config.min_revenue_share, AnalyticsConfig::default().min_revenue_share);
/// assert!(serde_json::from_str::<AnalyticsConfig>(r#"{"min_revenue_share": 12000}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyticsConfig {
    /// The fewest members a viable segment has.
    pub min_members: usize,
    /// The least share of all customers' revenue (up to the report's date) a viable segment's
    /// members account for.
    pub min_revenue_share: BasisPoints,
    /// The least share of a viable segment's members reachable by at least one channel.
    pub min_reach_share: BasisPoints,
    /// How many member ids the report lists.
    pub preview: usize,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            min_members: 100,
            min_revenue_share: BasisPoints(100),
            min_reach_share: BasisPoints(7_500),
            preview: 10,
        }
    }
}

/// The average margin of purchases whose cost is known: the sum of `amount - cost` over
/// those purchases, divided by the sum of their amounts.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use clientele::{Currency, Customer, CustomerId, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
///
/// let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let egp = Currency::EGP;
/// let c = Customer::new(CustomerId::new(1), "Mona", t).with_purchases(vec![
///     Purchase::new(t, Money::new(10_000, egp)).with_cost(Money::new(7_500, egp)),
///     Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(12_500, egp)),
///     Purchase::new(t, Money::new(99_999, egp)), // no cost: not in the margin
/// ])?;
/// let schema = Schema::new(egp);
/// let snap = Snapshot::build([&c], &schema);
/// let report = segment::analyze(&Segment::compile("true", &schema)?, &snap, t, &AnalyticsConfig::default())?;
/// let margin = report.margin().unwrap();
/// assert_eq!(margin.revenue(), Money::new(40_000, egp));
/// assert_eq!(margin.cost(), Money::new(20_000, egp));
/// assert_eq!(margin.margin(), Money::new(20_000, egp));
/// assert_eq!(margin.basis_points(), 5_000);
/// assert_eq!(margin.ratio(), 0.5);
/// assert_eq!(margin.to_string(), "50.00%");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Margin {
    /// The amounts of the purchases with a known cost; positive.
    revenue: Money,
    /// Their costs; not negative.
    cost: Money,
}

impl Margin {
    /// The amounts of the purchases whose cost is known.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// let margin = report.margin().ok_or("no margin")?;
    /// assert_eq!(margin.revenue(), Money::new(30_000, egp));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn revenue(&self) -> Money {
        self.revenue
    }

    /// What those purchases cost.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// let margin = report.margin().ok_or("no margin")?;
    /// assert_eq!(margin.cost(), Money::new(24_000, egp));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn cost(&self) -> Money {
        self.cost
    }

    /// `revenue - cost`: negative when they sold below cost.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// let margin = report.margin().ok_or("no margin")?;
    /// assert_eq!(margin.margin(), Money::new(6_000, egp));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn margin(&self) -> Money {
        // Both are non-negative `i64`s, so the difference fits.
        Money::new(self.revenue.minor() - self.cost.minor(), self.revenue.currency())
    }

    /// The margin as basis points of the revenue, rounded to the nearest (halves up): 10 000
    /// at most, negative below cost.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// let margin = report.margin().ok_or("no margin")?;
    /// assert_eq!(margin.basis_points(), 2_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn basis_points(&self) -> i64 {
        let (m, r) = (i128::from(self.margin().minor()), i128::from(self.revenue.minor().max(1)));
        let bp = (m * 20_000 + r).div_euclid(2 * r);
        i64::try_from(bp).unwrap_or(if bp < 0 { i64::MIN } else { i64::MAX })
    }

    /// The margin as a fraction of the revenue, for display.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// let margin = report.margin().ok_or("no margin")?;
    /// assert_eq!(margin.ratio(), 0.2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::cast_precision_loss, reason = "a ratio for display; the exact amounts stay available")]
    pub fn ratio(&self) -> f64 {
        self.margin().minor() as f64 / self.revenue.minor().max(1) as f64
    }
}

impl fmt::Display for Margin {
    /// As a percentage with two decimals, e.g. `-12.50%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bp = self.basis_points();
        let sign = if bp < 0 { "-" } else { "" };
        let abs = bp.unsigned_abs();
        write!(f, "{sign}{}.{:02}%", abs / 100, abs % 100)
    }
}

/// A reason a segment is not worth targeting.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{self, AnalyticsConfig, Schema, Segment, Shortfall, Snapshot}};
/// let schema = Schema::default();
/// let customers = [Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)];
/// let snap = Snapshot::build(&customers, &schema);
/// let report = segment::analyze(&Segment::compile("true", &schema)?, &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
/// assert!(matches!(report.shortfalls()[0], Shortfall::TooSmall { members: 1, min: 100 }));
/// assert_eq!(report.shortfalls()[0].to_string(), "too small: 1 member, at least 100 needed");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shortfall {
    /// Fewer members than [`AnalyticsConfig::min_members`].
    TooSmall {
        /// The members.
        members: usize,
        /// The threshold.
        min: usize,
    },
    /// Less of all customers' revenue than [`AnalyticsConfig::min_revenue_share`].
    TooLittleRevenue {
        /// The members' share of all revenue.
        share: Share,
        /// The threshold.
        min: BasisPoints,
    },
    /// Fewer members reachable by some channel than [`AnalyticsConfig::min_reach_share`].
    NotReachableEnough {
        /// The share of members reachable by at least one channel.
        share: Share,
        /// The threshold.
        min: BasisPoints,
    },
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shortfall::TooSmall { members, min } => {
                let s = if *members == 1 { "" } else { "s" };
                write!(f, "too small: {members} member{s}, at least {min} needed")
            }
            Shortfall::TooLittleRevenue { share, min } => {
                write!(f, "too little revenue: {share} of all revenue, at least {min} needed")
            }
            Shortfall::NotReachableEnough { share, min } => {
                write!(f, "not reachable enough: {share} of members reachable, at least {min} needed")
            }
        }
    }
}

/// One segment measured as of one instant over a [`Snapshot`]: size, revenue, margin,
/// reach by channel, viability against an [`AnalyticsConfig`], and the first member ids.
///
/// Made by [`analyze`] or [`analyze_members`]. Revenue is what members paid up to the
/// instant (inclusive) in the snapshot's currency; purchases in other currencies count for
/// nothing, as in segment evaluation. [`Display`](fmt::Display) renders a readable summary.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use clientele::{Channel, Currency, Customer, CustomerId, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
///
/// let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let egp = Currency::EGP;
/// let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
///     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
/// ada.channels.preferred.insert(Channel::Email);
/// let bo = Customer::new(CustomerId::new(2), "Bo", t)
///     .with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
///
/// let schema = Schema::new(egp);
/// let snap = Snapshot::build([&ada, &bo], &schema);
/// let big_spenders = Segment::compile("spent >= 200.00", &schema)?;
/// let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
/// let report = segment::analyze(&big_spenders, &snap, t, &config)?;
///
/// assert_eq!(report.members(), 1);
/// assert_eq!(report.member_share().to_string(), "50.00%");
/// assert_eq!(report.revenue(), Money::new(30_000, egp));
/// assert_eq!(report.revenue_share().to_string(), "75.00%");
/// assert_eq!(report.margin().map(|m| m.to_string()), Some("20.00%".into()));
/// assert_eq!(report.reachable_by(Channel::Email), 1);
/// assert_eq!(report.unreachable(), 0);
/// assert!(report.is_viable());
/// assert_eq!(report.preview(), [CustomerId::new(1)]);
/// assert_eq!(report.to_string(), "\
/// segment       spent >= 200.00
/// as of         2026-01-01 00:00:00 UTC
/// members       1 of 2 customers (50.00%)
/// revenue       300.00 EGP of 400.00 EGP (75.00%)
/// margin        20.00% on 300.00 EGP with a known cost
/// reachable     1 by some channel (100.00%), 0 by none
///   email       1 (100.00%)
/// viable        yes
/// first 1       #1
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentReport {
    /// The segment's text, when analysed from a [`Segment`].
    definition: Option<String>,
    as_of: DateTime<Utc>,
    /// Rows of the snapshot.
    population: usize,
    members: usize,
    revenue: Money,
    total_revenue: Money,
    margin: Option<Margin>,
    /// Members reachable by each channel, in [`Channel::ALL`] order.
    reach: Vec<(Channel, usize)>,
    /// Members reachable by at least one channel.
    reachable: usize,
    shortfalls: Vec<Shortfall>,
    preview: Vec<CustomerId>,
}

/// Analyses `segment`'s members in `snapshot` as of `as_of` against `config`.
///
/// To analyse members already evaluated (e.g. to reuse them for [`overlap`]), use
/// [`analyze_members`].
///
/// # Errors
///
/// [`AnalyticsError::Segment`] if the snapshot was built for another currency than the
/// segment's schema; [`AnalyticsError::Overflow`] if the revenue does not fit in a
/// [`Money`].
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
/// let schema = Schema::default();
/// let customers: Vec<Customer> = (1..=200).map(|i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH)).collect();
/// let snap = Snapshot::build(&customers, &schema);
/// let report = segment::analyze(&Segment::compile("true", &schema)?, &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
/// assert_eq!(report.members(), 200);
/// assert_eq!(report.definition(), Some("true"));
/// assert!(!report.is_viable()); // no revenue, nobody reachable
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyze(
    segment: &Segment,
    snapshot: &Snapshot,
    as_of: DateTime<Utc>,
    config: &AnalyticsConfig,
) -> Result<SegmentReport, AnalyticsError> {
    let members = segment.evaluate(snapshot, as_of)?;
    let mut report = analyze_members(&members, snapshot, as_of, config)?;
    report.definition = Some(segment.to_string());
    Ok(report)
}

/// Analyses the rows set in `members` (from [`Segment::evaluate`] over `snapshot`, or any
/// set of rows) as of `as_of` against `config`.
///
/// # Errors
///
/// [`AnalyticsError::RowsMismatch`] if `members` does not cover exactly the snapshot's rows;
/// [`AnalyticsError::Overflow`] if the revenue does not fit in a [`Money`].
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{self, AnalyticsConfig, AnalyticsError, Bitmap, Schema, Snapshot}};
/// let customers: Vec<Customer> = (1..=3).map(|i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH)).collect();
/// let snap = Snapshot::build(&customers, &Schema::default());
/// let mut rows = Bitmap::new(3);
/// rows.insert(2);
/// let report = segment::analyze_members(&rows, &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
/// assert_eq!(report.preview(), [CustomerId::new(3)]);
/// assert_eq!(report.definition(), None);
///
/// let err = segment::analyze_members(&Bitmap::new(4), &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default());
/// assert_eq!(err, Err(AnalyticsError::RowsMismatch { expected: 3, found: 4 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyze_members(
    members: &Bitmap,
    snapshot: &Snapshot,
    as_of: DateTime<Utc>,
    config: &AnalyticsConfig,
) -> Result<SegmentReport, AnalyticsError> {
    if members.len() != snapshot.len() {
        return Err(AnalyticsError::RowsMismatch { expected: snapshot.len(), found: members.len() });
    }
    let currency = snapshot.currency();
    // Sums over many rows are kept in `i128`, which cannot overflow from `i64` terms.
    let mut total = 0i128;
    for row in 0..snapshot.len() {
        total += i128::from(snapshot.totals_upto(row, as_of).0);
    }
    let (mut revenue, mut costed, mut cost) = (0i128, 0i128, 0i128);
    let mut reach = [0usize; Channel::ALL.len()];
    let mut reachable = 0usize;
    let mut count = 0usize;
    let mut preview = Vec::with_capacity(config.preview.min(members.count()));
    for row in members.iter() {
        count += 1;
        let (spent, with_cost, costs) = snapshot.totals_upto(row, as_of);
        revenue += i128::from(spent);
        costed += i128::from(with_cost);
        cost += i128::from(costs);
        let bits = snapshot.reachable_bits(row);
        if bits != 0 {
            reachable += 1;
        }
        for (n, channel) in reach.iter_mut().zip(Channel::ALL) {
            *n += usize::from(bits & ChannelSet::from(channel).bits() != 0);
        }
        if preview.len() < config.preview {
            preview.extend(snapshot.id(row));
        }
    }
    let money = |minor: i128| {
        i64::try_from(minor).map(|m| Money::new(m, currency)).map_err(|_| AnalyticsError::Overflow(currency))
    };
    let margin = if costed > 0 { Some(Margin { revenue: money(costed)?, cost: money(cost)? }) } else { None };
    let mut report = SegmentReport {
        definition: None,
        as_of,
        population: snapshot.len(),
        members: count,
        revenue: money(revenue)?,
        total_revenue: money(total)?,
        margin,
        reach: Channel::ALL.into_iter().zip(reach).collect(),
        reachable,
        shortfalls: Vec::new(),
        preview,
    };
    report.shortfalls = report.judge(config);
    Ok(report)
}

impl SegmentReport {
    /// The reasons the segment falls short of `config`, in the order of the config's fields.
    fn judge(&self, config: &AnalyticsConfig) -> Vec<Shortfall> {
        let mut out = Vec::new();
        if self.members < config.min_members {
            out.push(Shortfall::TooSmall { members: self.members, min: config.min_members });
        }
        let share = self.revenue_share();
        if !share.at_least(config.min_revenue_share) {
            out.push(Shortfall::TooLittleRevenue { share, min: config.min_revenue_share });
        }
        let share = self.reach_share();
        if !share.at_least(config.min_reach_share) {
            out.push(Shortfall::NotReachableEnough { share, min: config.min_reach_share });
        }
        out
    }

    /// The text of the segment analysed, or `None` when made by [`analyze_members`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.definition(), Some("spent >= 200.00"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn definition(&self) -> Option<&str> {
        self.definition.as_deref()
    }

    /// The instant the segment was evaluated at, and revenue counted up to.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{self, AnalyticsConfig, Bitmap, Schema, Snapshot};
    /// let snap = Snapshot::build([], &Schema::default());
    /// let report = segment::analyze_members(&Bitmap::new(0), &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
    /// assert_eq!(report.as_of(), DateTime::UNIX_EPOCH);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// All customers in the snapshot.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{self, AnalyticsConfig, Bitmap, Schema, Snapshot}};
    /// let c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// let snap = Snapshot::build([&c], &Schema::default());
    /// let report = segment::analyze_members(&Bitmap::new(1), &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
    /// assert_eq!((report.members(), report.population()), (0, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn population(&self) -> usize {
        self.population
    }

    /// The segment's members.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.members(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self) -> usize {
        self.members
    }

    /// The members as a share of all customers.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{self, AnalyticsConfig, Bitmap, Schema, Snapshot};
    /// let snap = Snapshot::build([], &Schema::default());
    /// let report = segment::analyze_members(&Bitmap::new(0), &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
    /// assert_eq!(report.member_share().to_string(), "0.00%"); // nobody: defined, not a division by zero
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn member_share(&self) -> Share {
        Share::of(self.members, self.population)
    }

    /// What the members paid up to [`as_of`](Self::as_of), in the snapshot's currency.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.revenue(), Money::new(30_000, egp));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revenue(&self) -> Money {
        self.revenue
    }

    /// What all customers of the snapshot paid up to [`as_of`](Self::as_of), in its
    /// currency.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase, segment::{self, AnalyticsConfig, Bitmap, Schema, Snapshot}};
    /// let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "x", t).with_purchases(vec![
    ///     Purchase::new(t, Money::new(500, Currency::USD)),
    ///     Purchase::new(t, Money::new(900, Currency::EUR)), // another currency: not revenue
    /// ])?;
    /// let snap = Snapshot::build([&c], &Schema::new(Currency::USD));
    /// let report = segment::analyze_members(&Bitmap::new(1), &snap, t, &AnalyticsConfig::default())?;
    /// assert_eq!(report.total_revenue(), Money::new(500, Currency::USD));
    /// assert_eq!(report.revenue(), Money::new(0, Currency::USD));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total_revenue(&self) -> Money {
        self.total_revenue
    }

    /// The members' revenue as a share of all customers' revenue.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!((report.revenue_share().part(), report.revenue_share().whole()), (30_000, 40_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revenue_share(&self) -> Share {
        // Both are sums of non-negative amounts, the members' a part of everyone's.
        let part = u64::try_from(self.revenue.minor()).unwrap_or(0);
        let whole = u64::try_from(self.total_revenue.minor()).unwrap_or(0);
        Share { part: part.min(whole), whole }
    }

    /// The average margin over the members' purchases up to [`as_of`](Self::as_of) whose
    /// cost is known; `None` when none is (or their amounts add up to zero).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.margin().map(|m| m.to_string()), Some("20.00%".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn margin(&self) -> Option<Margin> {
        self.margin
    }

    /// Members reachable by each channel (preferred and not opted out), for every channel in
    /// [`Channel::ALL`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// let mut c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// c.channels.preferred.insert(Channel::Sms);
    /// c.channels.preferred.insert(Channel::Tv);
    /// c.channels.opted_out.insert(Channel::Tv);
    /// let schema = Schema::default();
    /// let snap = Snapshot::build([&c], &schema);
    /// let report = segment::analyze(&Segment::compile("true", &schema)?, &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
    /// let reached: Vec<_> = report.reach().filter(|(_, n)| *n > 0).collect();
    /// assert_eq!(reached, [(Channel::Sms, 1)]);
    /// assert_eq!(report.reach().count(), Channel::ALL.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reach(&self) -> impl Iterator<Item = (Channel, usize)> + '_ {
        self.reach.iter().copied()
    }

    /// Members reachable by `channel`.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!((report.reachable_by(Channel::Email), report.reachable_by(Channel::Sms)), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reachable_by(&self, channel: Channel) -> usize {
        self.reach.iter().find(|(c, _)| *c == channel).map_or(0, |(_, n)| *n)
    }

    /// Members reachable by at least one channel.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Customer, CustomerId, segment::{self, AnalyticsConfig, Bitmap, Schema, Snapshot}};
    /// let mut a = Customer::new(CustomerId::new(1), "a", DateTime::UNIX_EPOCH);
    /// a.channels.preferred.insert(Channel::Web);
    /// let b = Customer::new(CustomerId::new(2), "b", DateTime::UNIX_EPOCH);
    /// let snap = Snapshot::build([&a, &b], &Schema::default());
    /// let mut both = Bitmap::new(2);
    /// both.insert(0);
    /// both.insert(1);
    /// let report = segment::analyze_members(&both, &snap, DateTime::UNIX_EPOCH, &AnalyticsConfig::default())?;
    /// assert_eq!((report.reachable_by_any(), report.unreachable()), (1, 1));
    /// assert_eq!(report.reach_share().to_string(), "50.00%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reachable_by_any(&self) -> usize {
        self.reachable
    }

    /// Members reachable by no channel at all.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.unreachable(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unreachable(&self) -> usize {
        self.members - self.reachable
    }

    /// The share of members reachable by at least one channel.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.reach_share().to_string(), "100.00%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reach_share(&self) -> Share {
        Share::of(self.reachable, self.members)
    }

    /// Whether the segment clears every threshold of the config it was analysed with.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert!(report.is_viable());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_viable(&self) -> bool {
        self.shortfalls.is_empty()
    }

    /// The thresholds it misses, in the order of [`AnalyticsConfig`]'s fields; empty when
    /// viable.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert!(report.shortfalls().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shortfalls(&self) -> &[Shortfall] {
        &self.shortfalls
    }

    /// The ids of the first members in row order, at most [`AnalyticsConfig::preview`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use clientele::{Channel, Currency, CustomerId, Customer, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
    /// # let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// # let egp = Currency::EGP;
    /// # let mut ada = Customer::new(CustomerId::new(1), "Ada", t)
    /// #     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp)).with_cost(Money::new(24_000, egp))])?;
    /// # ada.channels.preferred.insert(Channel::Email);
    /// # let bo = Customer::new(CustomerId::new(2), "Bo", t).with_purchases(vec![Purchase::new(t, Money::new(10_000, egp))])?;
    /// # let schema = Schema::new(egp);
    /// # let snap = Snapshot::build([&ada, &bo], &schema);
    /// # let config = AnalyticsConfig { min_members: 1, ..AnalyticsConfig::default() };
    /// // Ada paid 300.00 EGP (cost 240.00) and is reachable by email; Bo paid 100.00 EGP.
    /// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &config)?;
    /// assert_eq!(report.preview(), [CustomerId::new(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preview(&self) -> &[CustomerId] {
        &self.preview
    }
}

impl fmt::Display for SegmentReport {
    /// A summary of several lines (see the [type's example](SegmentReport)): the segment's
    /// text when known, then one figure per line. Channels that reach no member are left
    /// out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.definition {
            writeln!(f, "{:<13} {d}", "segment")?;
        }
        writeln!(f, "{:<13} {}", "as of", self.as_of)?;
        writeln!(f, "{:<13} {} of {} customers ({})", "members", self.members, self.population, self.member_share())?;
        writeln!(f, "{:<13} {} of {} ({})", "revenue", self.revenue, self.total_revenue, self.revenue_share())?;
        match &self.margin {
            Some(m) => writeln!(f, "{:<13} {m} on {} with a known cost", "margin", m.revenue())?,
            None => writeln!(f, "{:<13} unknown (no purchase with a known cost)", "margin")?,
        }
        writeln!(
            f,
            "{:<13} {} by some channel ({}), {} by none",
            "reachable",
            self.reachable,
            self.reach_share(),
            self.unreachable()
        )?;
        for (channel, n) in self.reach.iter().filter(|(_, n)| *n > 0) {
            writeln!(f, "  {:<11} {n} ({})", channel.name(), Share::of(*n, self.members))?;
        }
        if self.shortfalls.is_empty() {
            writeln!(f, "{:<13} yes", "viable")?;
        } else {
            let reasons: Vec<String> = self.shortfalls.iter().map(ToString::to_string).collect();
            writeln!(f, "{:<13} no: {}", "viable", reasons.join("; "))?;
        }
        let ids: Vec<String> = self.preview.iter().map(ToString::to_string).collect();
        writeln!(f, "{:<13} {}", format!("first {}", ids.len()), ids.join(", "))
    }
}

/// How two segments overlap: the members in both, as a share of each and of either.
///
/// # Example
///
/// ```
/// use clientele::segment::{self, Bitmap};
/// let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
/// for i in 0..4 { a.insert(i); }
/// for i in 2..10 { b.insert(i); }
/// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
/// let ab = table.pair("a", "b").unwrap();
/// assert_eq!((ab.first(), ab.second()), ("a", "b"));
/// assert_eq!((ab.first_members(), ab.second_members(), ab.both(), ab.either()), (4, 8, 2, 10));
/// assert_eq!(ab.share_of_first().to_string(), "50.00%");
/// assert_eq!(ab.share_of_second().to_string(), "25.00%");
/// assert_eq!(ab.jaccard().to_string(), "20.00%");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PairOverlap {
    first: String,
    second: String,
    first_members: usize,
    second_members: usize,
    both: usize,
}

impl PairOverlap {
    /// The first segment's name.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.first(), "a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first(&self) -> &str {
        &self.first
    }

    /// The second segment's name.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.second(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn second(&self) -> &str {
        &self.second
    }

    /// The first segment's members.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.first_members(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_members(&self) -> usize {
        self.first_members
    }

    /// The second segment's members.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.second_members(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn second_members(&self) -> usize {
        self.second_members
    }

    /// Members of both.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.both(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn both(&self) -> usize {
        self.both
    }

    /// Members of either (the union).
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.either(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn either(&self) -> usize {
        self.first_members + self.second_members - self.both
    }

    /// The share of the first segment's members also in the second.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.share_of_first().to_string(), "50.00%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn share_of_first(&self) -> Share {
        Share::of(self.both, self.first_members)
    }

    /// The share of the second segment's members also in the first.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.share_of_second().to_string(), "25.00%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn share_of_second(&self) -> Share {
        Share::of(self.both, self.second_members)
    }

    /// The Jaccard index: members of both over members of either (0% when both are empty).
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// # for i in 0..4 { a.insert(i); }
    /// # for i in 2..10 { b.insert(i); }
    /// // `a` has rows 0 to 3, `b` rows 2 to 9.
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let pair = &table.pairs()[0];
    /// assert_eq!(pair.jaccard().to_string(), "20.00%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jaccard(&self) -> Share {
        Share::of(self.both, self.either())
    }

    /// The same pair seen from the other side.
    fn swapped(&self) -> PairOverlap {
        PairOverlap {
            first: self.second.clone(),
            second: self.first.clone(),
            first_members: self.second_members,
            second_members: self.first_members,
            both: self.both,
        }
    }
}

/// The pairwise overlaps of several segments. See [`overlap`].
///
/// [`Display`](fmt::Display) renders one line per pair, in the order the segments were
/// given.
///
/// # Example
///
/// ```
/// use clientele::segment::{self, Bitmap};
/// let (mut a, mut b, c) = (Bitmap::new(4), Bitmap::new(4), Bitmap::new(4));
/// a.insert(0); a.insert(1); b.insert(1);
/// let table = segment::overlap(&[("a", &a), ("b", &b), ("c", &c)])?;
/// assert_eq!(table.names().collect::<Vec<_>>(), ["a", "b", "c"]);
/// assert_eq!(table.members("a"), Some(2));
/// assert_eq!(table.pairs().len(), 3);
/// assert_eq!(table.pair("b", "a").map(|p| p.share_of_first().to_string()), Some("100.00%".into()));
/// assert_eq!(table.to_string(), "\
/// first  second  both  % of first  % of second  jaccard
/// a      b          1      50.00%      100.00%   50.00%
/// a      c          0       0.00%        0.00%    0.00%
/// b      c          0       0.00%        0.00%    0.00%
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Overlap {
    /// Segment names and member counts, in the order given.
    segments: Vec<(String, usize)>,
    /// Every pair `(i, j)` with `i < j`, in order.
    pairs: Vec<PairOverlap>,
}

/// The pairwise overlaps of named segments given by their members over the same rows
/// (e.g. from [`Segment::evaluate`] on one snapshot).
///
/// # Errors
///
/// [`AnalyticsError::OverlapRowsMismatch`] if the bitmaps do not all cover the same rows;
/// [`AnalyticsError::DuplicateName`] if a name is given twice.
///
/// # Example
///
/// ```
/// use clientele::segment::{self, AnalyticsError, Bitmap};
/// let (a, b) = (Bitmap::new(3), Bitmap::new(5));
/// assert!(matches!(segment::overlap(&[("a", &a), ("b", &b)]), Err(AnalyticsError::OverlapRowsMismatch { .. })));
/// assert_eq!(segment::overlap(&[("a", &a), ("a", &a)]), Err(AnalyticsError::DuplicateName("a".into())));
/// assert!(segment::overlap(&[])?.pairs().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn overlap(segments: &[(&str, &Bitmap)]) -> Result<Overlap, AnalyticsError> {
    if let Some((_, first)) = segments.first() {
        for (name, members) in segments {
            if members.len() != first.len() {
                let name = (*name).to_owned();
                return Err(AnalyticsError::OverlapRowsMismatch { name, expected: first.len(), found: members.len() });
            }
        }
    }
    for (i, (name, _)) in segments.iter().enumerate() {
        if segments[..i].iter().any(|(other, _)| other == name) {
            return Err(AnalyticsError::DuplicateName((*name).to_owned()));
        }
    }
    let counts: Vec<usize> = segments.iter().map(|(_, m)| m.count()).collect();
    let mut pairs = Vec::new();
    for (i, (a, am)) in segments.iter().enumerate() {
        for (j, (b, bm)) in segments.iter().enumerate().skip(i + 1) {
            pairs.push(PairOverlap {
                first: (*a).to_owned(),
                second: (*b).to_owned(),
                first_members: counts[i],
                second_members: counts[j],
                both: am.intersection_count(bm),
            });
        }
    }
    let segments = segments.iter().zip(counts).map(|((name, _), n)| ((*name).to_owned(), n)).collect();
    Ok(Overlap { segments, pairs })
}

impl Overlap {
    /// The segment names, in the order given.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(4), Bitmap::new(4));
    /// # a.insert(0); a.insert(1); b.insert(1);
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// assert_eq!(table.names().collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(|(n, _)| n.as_str())
    }

    /// The members of segment `name`, if it was given.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(4), Bitmap::new(4));
    /// # a.insert(0); a.insert(1); b.insert(1);
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// assert_eq!((table.members("a"), table.members("c")), (Some(2), None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self, name: &str) -> Option<usize> {
        self.segments.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
    }

    /// Every pair once, the earlier segment first, in the order given.
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(4), Bitmap::new(4));
    /// # a.insert(0); a.insert(1); b.insert(1);
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// assert_eq!(table.pairs().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pairs(&self) -> &[PairOverlap] {
        &self.pairs
    }

    /// The overlap of `first` with `second`, seen from `first` (either order works).
    ///
    /// # Example
    ///
    /// ```
    /// # use clientele::segment::{self, Bitmap};
    /// # let (mut a, mut b) = (Bitmap::new(4), Bitmap::new(4));
    /// # a.insert(0); a.insert(1); b.insert(1);
    /// let table = segment::overlap(&[("a", &a), ("b", &b)])?;
    /// let seen_from_b = table.pair("b", "a").ok_or("no pair")?;
    /// assert_eq!((seen_from_b.first(), seen_from_b.first_members()), ("b", 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pair(&self, first: &str, second: &str) -> Option<PairOverlap> {
        self.pairs.iter().find_map(|p| {
            if p.first == first && p.second == second {
                Some(p.clone())
            } else if p.first == second && p.second == first {
                Some(p.swapped())
            } else {
                None
            }
        })
    }
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = |header: &str, names: &mut dyn Iterator<Item = &str>| {
            names.map(|n| n.chars().count()).max().unwrap_or(0).max(header.len())
        };
        let w1 = width("first", &mut self.pairs.iter().map(|p| p.first()));
        let w2 = width("second", &mut self.pairs.iter().map(|p| p.second()));
        let w3 = self.pairs.iter().map(|p| p.both.to_string().len()).max().unwrap_or(0).max("both".len());
        writeln!(f, "{:<w1$}  {:<w2$}  {:>w3$}  % of first  % of second  jaccard", "first", "second", "both")?;
        for p in &self.pairs {
            writeln!(
                f,
                "{:<w1$}  {:<w2$}  {:>w3$}  {:>10}  {:>11}  {:>7}",
                p.first,
                p.second,
                p.both,
                p.share_of_first().to_string(),
                p.share_of_second().to_string(),
                p.jaccard().to_string()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_to_nearest_and_compare_exactly() {
        let s = |p, w| Share::new(p, w).unwrap();
        assert_eq!(s(1, 3).basis_points().get(), 3333);
        assert_eq!(s(2, 3).basis_points().get(), 6667);
        assert_eq!(s(1, 20_000).basis_points().get(), 1); // 0.5 bp rounds up
        assert_eq!(s(u64::MAX, u64::MAX).basis_points(), BasisPoints::ALL);
        assert!(s(u64::MAX - 1, u64::MAX).at_least(BasisPoints(9_999)));
        assert!(!s(u64::MAX - 1, u64::MAX).at_least(BasisPoints::ALL));
        assert!(s(0, 5).at_least(BasisPoints::ZERO));
    }

    #[test]
    fn margins_round_towards_nearest_on_both_sides() {
        let m = |r, c| Margin { revenue: Money::new(r, Currency::EGP), cost: Money::new(c, Currency::EGP) };
        assert_eq!(m(3, 2).basis_points(), 3333);
        assert_eq!(m(3, 4).basis_points(), -3333);
        assert_eq!(m(3, 4).to_string(), "-33.33%");
        assert_eq!(m(100, 150).to_string(), "-50.00%");
        assert_eq!(m(i64::MAX, 0).basis_points(), 10_000);
        assert_eq!(m(1, i64::MAX).margin().minor(), 1 - i64::MAX);
    }

    #[test]
    fn basis_points_print_as_percentages() {
        assert_eq!(BasisPoints(5).to_string(), "0.05%");
        assert_eq!(BasisPoints::ALL.to_string(), "100.00%");
    }
}
