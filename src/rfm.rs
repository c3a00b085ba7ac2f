//! RFM scoring: recency, frequency and monetary scores from 1 to 5 for the customers who
//! bought, and the eleven customer groups of the recency × frequency grid.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use clientele::{Currency, Customer, CustomerId, Money, Purchase};
//! use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
//!
//! let as_of = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let egp = Currency::EGP;
//! // Customer i bought i times, the last time 10 × (6 - i) days ago, 100.00 EGP each time.
//! let customers = (1..=5)
//!     .map(|i| {
//!         let purchases = (0..i)
//!             .map(|k| Purchase::new(as_of - Duration::days(10 * (6 - i) + k), Money::new(10_000, egp)))
//!             .collect();
//!         Customer::new(CustomerId::new(i as u64), "Ada", as_of - Duration::days(400)).with_purchases(purchases)
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//! let config = RfmConfig { currency: egp, ..RfmConfig::default() };
//! let scores = RfmScores::compute(&customers, as_of, &config)?;
//!
//! let best = scores.get(CustomerId::new(5)).ok_or("scored")?;
//! assert_eq!((best.r(), best.f(), best.m()), (5, 5, 5));
//! assert_eq!(best.recency_days(), 10);
//! assert_eq!(best.monetary(), Money::new(50_000, egp));
//! assert_eq!(best.group(), RfmGroup::Champions);
//! assert_eq!(scores.get(CustomerId::new(1)).map(|s| s.group()), Some(RfmGroup::Lost));
//! assert_eq!(scores.r_counts(), [1, 1, 1, 1, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The three values
//!
//! [`RfmScores::compute`] looks at every customer given, as of an instant `as_of`. A customer
//! with no purchase at or before `as_of` gets no score (later purchases had not happened
//! yet); the others, the *scored population*, get an [`Rfm`] with three values:
//!
//! - **recency**: whole days (of 24 hours, rounded down) from the latest purchase at or
//!   before `as_of` to `as_of`. Fewer is better. The window of the [`RfmConfig`] does not
//!   apply: a customer whose latest purchase is older than the window is still scored.
//! - **frequency**: the number of purchases in the [`RfmConfig::window`] as of `as_of` (all
//!   purchases up to `as_of` when there is no window), in any currency. More is better; it
//!   is 0 for a customer whose purchases all fall before the window.
//! - **monetary**: the total of those same purchases in the [`RfmConfig::currency`]. Amounts
//!   in other currencies are not converted: they count for nothing. More is better. The sum
//!   saturates at the largest [`Money`] amount rather than overflow.
//!
//! # Scores and ties
//!
//! Each value is scored against the scored population: with `n` customers scored, a customer
//! whose value is better than exactly `worse` of them scores
//!
//! ```text
//! score = 1 + ⌊5 × worse / n⌋
//! ```
//!
//! Only customers *strictly* worse count, so:
//!
//! - equal values always get the same score, and nothing depends on the order the customers
//!   are given in or on their ids;
//! - a strictly better value never gets a lower score;
//! - the worst value scores 1; when every value is the same, everyone scores 1;
//! - when the `n` values are all different, each score from 1 to 5 goes to ⌊n/5⌋ or ⌈n/5⌉
//!   customers (quintiles);
//! - ties pull scores down: with frequencies 1, 1, 1, 2, 2 the scores are 1, 1, 1, 4, 4.
//!
//! # Groups
//!
//! [`Rfm::group`] places a customer in one of eleven [`RfmGroup`]s by R and F (M is not used
//! for grouping), read from the table [`GRID`]:
//!
//! | R \ F | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | new | potential_loyalist | potential_loyalist | champions | champions |
//! | 4 | promising | potential_loyalist | potential_loyalist | loyal | champions |
//! | 3 | about_to_sleep | about_to_sleep | need_attention | loyal | loyal |
//! | 2 | hibernating | hibernating | at_risk | at_risk | cannot_lose |
//! | 1 | lost | lost | at_risk | at_risk | cannot_lose |
//!
//! (This table is [`markdown_grid`]'s output; a test keeps the two the same.)

use std::{cmp::Reverse, fmt, ops::RangeInclusive, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::{
    customer::{Customer, CustomerId, total_in},
    money::{Currency, Money},
    window::Window,
};

/// What RFM scoring measures, with these defaults:
///
/// | field | default | meaning |
/// |---|---|---|
/// | `window` | none | the trailing window for frequency and monetary; none means every purchase up to the date |
/// | `currency` | USD | the currency monetary totals; purchases in other currencies are not counted in monetary |
///
/// Deserializing fills missing fields with the defaults; the window is text such as
/// `"365 days"` or `"12 months"`.
///
/// # Example
///
/// ```
/// use clientele::{Currency, Window, rfm::RfmConfig};
/// let config: RfmConfig = serde_json::from_str(r#"{"window": "12 months", "currency": "EGP"}"#)?;
/// assert_eq!(config, RfmConfig { window: Some(Window::months(12)), currency: Currency::EGP });
/// assert_eq!(serde_json::from_str::<RfmConfig>("{}")?, RfmConfig::default());
/// assert!(serde_json::from_str::<RfmConfig>(r#"{"window": "a year"}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RfmConfig {
    /// The trailing window, as of the scoring date, whose purchases give frequency and
    /// monetary; `None` for every purchase up to the date. Recency ignores it.
    pub window: Option<Window>,
    /// The currency of monetary totals.
    pub currency: Currency,
}

impl Default for RfmConfig {
    /// No window (every purchase up to the date), in US dollars.
    fn default() -> Self {
        RfmConfig { window: None, currency: Currency::USD }
    }
}

/// What can go wrong when scoring.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId};
/// use clientele::rfm::{RfmConfig, RfmError, RfmScores};
/// let c = Customer::new(CustomerId::new(3), "Ada", DateTime::UNIX_EPOCH);
/// let err = RfmScores::compute([&c, &c], DateTime::UNIX_EPOCH, &RfmConfig::default()).unwrap_err();
/// assert_eq!(err, RfmError::DuplicateCustomer(CustomerId::new(3)));
/// assert_eq!(err.to_string(), "customer #3 is given more than once");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RfmError {
    /// Two customers given with the same id: look-ups by id would be ambiguous.
    #[error("customer {0} is given more than once")]
    DuplicateCustomer(CustomerId),
}

/// The eleven RFM customer groups, from the best customers to the lost ones.
///
/// Which R and F scores make each group is the table [`GRID`] (shown in the
/// [module docs](self#groups)). Names are snake_case in text and JSON.
///
/// # Example
///
/// ```
/// use clientele::rfm::RfmGroup;
/// assert_eq!("cannot_lose".parse::<RfmGroup>(), Ok(RfmGroup::CannotLose));
/// assert_eq!(RfmGroup::PotentialLoyalist.name(), "potential_loyalist");
/// assert_eq!(serde_json::to_string(&RfmGroup::AboutToSleep)?, r#""about_to_sleep""#);
/// assert_eq!(RfmGroup::of(5, 5), Some(RfmGroup::Champions));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RfmGroup {
    /// Bought recently and often: R 4–5 with F 5, or R 5 with F 4.
    Champions,
    /// Buy often, less recently: R 3 with F 4–5, or R 4 with F 4.
    Loyal,
    /// Recent customers with a few purchases: R 4–5 with F 2–3.
    PotentialLoyalist,
    /// Bought once, very recently: R 5, F 1.
    New,
    /// Bought once, recently: R 4, F 1.
    Promising,
    /// Middling recency and frequency: R 3, F 3.
    NeedAttention,
    /// Middling recency, few purchases: R 3, F 1–2.
    AboutToSleep,
    /// Bought fairly often, but long ago: R 1–2, F 3–4.
    AtRisk,
    /// Bought most often, but long ago: R 1–2, F 5.
    CannotLose,
    /// Few purchases, long ago: R 2, F 1–2.
    Hibernating,
    /// Few purchases, longest ago: R 1, F 1–2.
    Lost,
}

impl RfmGroup {
    /// Every group, in declaration order (best customers first).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::rfm::RfmGroup;
    /// assert_eq!(RfmGroup::ALL.len(), 11);
    /// assert!(RfmGroup::ALL.iter().all(|g| g.name().parse::<RfmGroup>() == Ok(*g)));
    /// ```
    pub const ALL: [RfmGroup; 11] = [
        RfmGroup::Champions,
        RfmGroup::Loyal,
        RfmGroup::PotentialLoyalist,
        RfmGroup::New,
        RfmGroup::Promising,
        RfmGroup::NeedAttention,
        RfmGroup::AboutToSleep,
        RfmGroup::AtRisk,
        RfmGroup::CannotLose,
        RfmGroup::Hibernating,
        RfmGroup::Lost,
    ];

    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::rfm::RfmGroup;
    /// assert_eq!(RfmGroup::NeedAttention.name(), "need_attention");
    /// assert_eq!(RfmGroup::New.to_string(), "new");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            RfmGroup::Champions => "champions",
            RfmGroup::Loyal => "loyal",
            RfmGroup::PotentialLoyalist => "potential_loyalist",
            RfmGroup::New => "new",
            RfmGroup::Promising => "promising",
            RfmGroup::NeedAttention => "need_attention",
            RfmGroup::AboutToSleep => "about_to_sleep",
            RfmGroup::AtRisk => "at_risk",
            RfmGroup::CannotLose => "cannot_lose",
            RfmGroup::Hibernating => "hibernating",
            RfmGroup::Lost => "lost",
        }
    }

    /// The group of the R and F scores `r` and `f`, read from [`GRID`]; `None` unless both
    /// are from 1 to 5.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::rfm::RfmGroup;
    /// assert_eq!(RfmGroup::of(5, 1), Some(RfmGroup::New));
    /// assert_eq!(RfmGroup::of(1, 5), Some(RfmGroup::CannotLose));
    /// assert_eq!(RfmGroup::of(0, 3), None);
    /// assert_eq!(RfmGroup::of(3, 6), None);
    /// ```
    pub fn of(r: u8, f: u8) -> Option<RfmGroup> {
        let row = LOOKUP.get(usize::from(r.checked_sub(1)?))?;
        row.get(usize::from(f.checked_sub(1)?)).copied()
    }

    /// The position in [`ALL`](Self::ALL), for per-group counts.
    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RfmGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error from parsing an unknown [`RfmGroup`] name.
///
/// # Example
///
/// ```
/// use clientele::rfm::RfmGroup;
/// let err = "vip".parse::<RfmGroup>().unwrap_err();
/// assert!(err.to_string().starts_with("unknown RFM group `vip` (expected one of champions, loyal,"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown RFM group `{0}` (expected one of champions, loyal, potential_loyalist, new, promising, \
     need_attention, about_to_sleep, at_risk, cannot_lose, hibernating, lost)"
)]
pub struct UnknownRfmGroup(String);

impl FromStr for RfmGroup {
    type Err = UnknownRfmGroup;
    /// Parses a group name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RfmGroup::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownRfmGroup(s.chars().take(64).collect()))
    }
}

/// One row of [`GRID`]: the customers with R score `r` and an F score in `f` are in `group`.
///
/// # Example
///
/// ```
/// use clientele::rfm::{GRID, RfmGroup};
/// let new = GRID.iter().find(|cell| cell.group == RfmGroup::New).ok_or("in the grid")?;
/// assert_eq!((new.r, new.f.clone()), (5, 1..=1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RfmCell {
    /// The R score, 1 to 5.
    pub r: u8,
    /// The F scores, within 1 to 5.
    pub f: RangeInclusive<u8>,
    /// The group.
    pub group: RfmGroup,
}

const fn cell(r: u8, f: RangeInclusive<u8>, group: RfmGroup) -> RfmCell {
    RfmCell { r, f, group }
}

/// The RFM groups over the R × F grid: the single source of the grouping, read by
/// [`RfmGroup::of`], [`Rfm::group`], [`markdown_grid`] and the tests. Every one of the 25
/// cells is in exactly one row (checked when the crate compiles). Row by row:
///
/// - R 5: F 1 new; F 2–3 potential_loyalist; F 4–5 champions.
/// - R 4: F 1 promising; F 2–3 potential_loyalist; F 4 loyal; F 5 champions.
/// - R 3: F 1–2 about_to_sleep; F 3 need_attention; F 4–5 loyal.
/// - R 2: F 1–2 hibernating; F 3–4 at_risk; F 5 cannot_lose.
/// - R 1: F 1–2 lost; F 3–4 at_risk; F 5 cannot_lose.
///
/// The [module docs](self#groups) show the same as a 5 × 5 table.
///
/// # Example
///
/// ```
/// use clientele::rfm::{GRID, RfmGroup};
/// let cells: usize = GRID.iter().map(|cell| cell.f.len()).sum();
/// assert_eq!(cells, 25);
/// assert!(RfmGroup::ALL.iter().all(|g| GRID.iter().any(|cell| cell.group == *g)));
/// ```
pub const GRID: [RfmCell; 16] = [
    cell(5, 1..=1, RfmGroup::New),
    cell(5, 2..=3, RfmGroup::PotentialLoyalist),
    cell(5, 4..=5, RfmGroup::Champions),
    cell(4, 1..=1, RfmGroup::Promising),
    cell(4, 2..=3, RfmGroup::PotentialLoyalist),
    cell(4, 4..=4, RfmGroup::Loyal),
    cell(4, 5..=5, RfmGroup::Champions),
    cell(3, 1..=2, RfmGroup::AboutToSleep),
    cell(3, 3..=3, RfmGroup::NeedAttention),
    cell(3, 4..=5, RfmGroup::Loyal),
    cell(2, 1..=2, RfmGroup::Hibernating),
    cell(2, 3..=4, RfmGroup::AtRisk),
    cell(2, 5..=5, RfmGroup::CannotLose),
    cell(1, 1..=2, RfmGroup::Lost),
    cell(1, 3..=4, RfmGroup::AtRisk),
    cell(1, 5..=5, RfmGroup::CannotLose),
];

/// [`GRID`] as a 5 × 5 array indexed by `[r - 1][f - 1]`, built when the crate compiles.
const LOOKUP: [[RfmGroup; 5]; 5] = lookup();

/// Builds [`LOOKUP`]. The panics run at compile time, where they are compile errors: a cell
/// out of range, in two rows, or in none stops the build rather than a program.
const fn lookup() -> [[RfmGroup; 5]; 5] {
    let mut cells: [[Option<RfmGroup>; 5]; 5] = [[None; 5]; 5];
    let mut i = 0;
    while i < GRID.len() {
        let row = &GRID[i];
        let mut f = *row.f.start();
        while f <= *row.f.end() {
            let slot = &mut cells[(row.r - 1) as usize][(f - 1) as usize];
            if slot.is_some() {
                panic!("RFM grid: a cell is in two rows");
            }
            *slot = Some(row.group);
            f += 1;
        }
        i += 1;
    }
    let mut out = [[RfmGroup::Lost; 5]; 5];
    let mut r = 0;
    while r < 5 {
        let mut f = 0;
        while f < 5 {
            out[r][f] = match cells[r][f] {
                Some(group) => group,
                None => panic!("RFM grid: a cell is in no row"),
            };
            f += 1;
        }
        r += 1;
    }
    out
}

/// The grouping of [`GRID`] as a Markdown table, R from 5 down to 1 by F from 1 to 5, as
/// shown in the [module docs](self#groups).
///
/// # Example
///
/// ```
/// let table = clientele::rfm::markdown_grid();
/// assert_eq!(table.lines().count(), 7);
/// assert!(table.contains("| 5 | new | potential_loyalist | potential_loyalist | champions | champions |"));
/// ```
pub fn markdown_grid() -> String {
    let mut out = String::from("| R \\ F | 1 | 2 | 3 | 4 | 5 |\n|---|---|---|---|---|---|\n");
    for (r, row) in LOOKUP.iter().enumerate().rev() {
        out.push_str(&format!("| {} |", r + 1));
        for group in row {
            out.push_str(&format!(" {group} |"));
        }
        out.push('\n');
    }
    out
}

/// One customer's RFM scores and the values they score.
///
/// The scores are always from 1 to 5 (5 is best); see the [module docs](self) for how the
/// values are measured and scored. Serialized with its six fields (not the group).
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use clientele::{Currency, Customer, CustomerId, Money, Purchase};
/// use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
///
/// let as_of = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let ada = Customer::new(CustomerId::new(1), "Ada", as_of)
///     .with_purchases(vec![Purchase::new(as_of - Duration::hours(30), Money::new(1_999, Currency::USD))])?;
/// let scores = RfmScores::compute([&ada], as_of, &RfmConfig::default())?;
/// let rfm = scores.get(ada.id()).ok_or("scored")?;
/// // Alone, nobody is worse: every score is 1.
/// assert_eq!((rfm.r(), rfm.f(), rfm.m(), rfm.group()), (1, 1, 1, RfmGroup::Lost));
/// assert_eq!((rfm.recency_days(), rfm.frequency(), rfm.monetary()), (1, 1, Money::new(1_999, Currency::USD)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Rfm {
    /// The recency score, 1 to 5.
    r: u8,
    /// The frequency score, 1 to 5.
    f: u8,
    /// The monetary score, 1 to 5.
    m: u8,
    /// Whole days since the latest purchase at or before the scoring date.
    recency_days: u32,
    /// Purchases in the window.
    frequency: u32,
    /// Spent in the window, in the configured currency.
    monetary: Money,
}

impl Rfm {
    /// The recency score, 1 to 5: 5 for the most recent buyers.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{DateTime, Duration};
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let buyer = |id, days| Customer::new(CustomerId::new(id), "B", t)
    ///     .with_purchases(vec![Purchase::new(t + Duration::days(days), Money::new(100, Currency::USD))]);
    /// let (old, recent) = (buyer(1, 1)?, buyer(2, 9)?);
    /// let scores = RfmScores::compute([&old, &recent], t + Duration::days(10), &RfmConfig::default())?;
    /// assert_eq!(scores.get(recent.id()).map(|s| s.r()), Some(3)); // 1 + ⌊5 × 1 / 2⌋
    /// assert_eq!(scores.get(old.id()).map(|s| s.r()), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn r(&self) -> u8 {
        self.r
    }

    /// The frequency score, 1 to 5: 5 for those who bought most often.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let buyer = |id, n| Customer::new(CustomerId::new(id), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD)); n]);
    /// let (once, twice) = (buyer(1, 1)?, buyer(2, 2)?);
    /// let scores = RfmScores::compute([&once, &twice], t, &RfmConfig::default())?;
    /// assert_eq!(scores.get(twice.id()).map(|s| s.f()), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn f(&self) -> u8 {
        self.f
    }

    /// The monetary score, 1 to 5: 5 for those who spent most.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let buyer = |id, cents| Customer::new(CustomerId::new(id), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(cents, Currency::USD))]);
    /// let (small, big) = (buyer(1, 500)?, buyer(2, 90_000)?);
    /// let scores = RfmScores::compute([&small, &big], t, &RfmConfig::default())?;
    /// assert_eq!(scores.get(big.id()).map(|s| s.m()), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn m(&self) -> u8 {
        self.m
    }

    /// Whole days (of 24 hours, rounded down) from the latest purchase at or before the
    /// scoring date to that date.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{DateTime, Duration};
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD))])?;
    /// let as_of = t + Duration::hours(47);
    /// let scores = RfmScores::compute([&c], as_of, &RfmConfig::default())?;
    /// assert_eq!(scores.get(c.id()).map(|s| s.recency_days()), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn recency_days(&self) -> u32 {
        self.recency_days
    }

    /// The number of purchases in the window (every currency).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{DateTime, Duration};
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, Window, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t).with_purchases(vec![
    ///     Purchase::new(t, Money::new(100, Currency::USD)),
    ///     Purchase::new(t + Duration::days(20), Money::new(100, Currency::EUR)),
    /// ])?;
    /// let config = RfmConfig { window: Some(Window::days(30)), ..RfmConfig::default() };
    /// let scores = RfmScores::compute([&c], t + Duration::days(40), &config)?;
    /// assert_eq!(scores.get(c.id()).map(|s| s.frequency()), Some(1)); // day 0 is outside the window
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn frequency(&self) -> u32 {
        self.frequency
    }

    /// The total spent in the window, in the configured currency.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t).with_purchases(vec![
    ///     Purchase::new(t, Money::new(1_000, Currency::EGP)),
    ///     Purchase::new(t, Money::new(70, Currency::USD)),
    /// ])?;
    /// let config = RfmConfig { currency: Currency::EGP, ..RfmConfig::default() };
    /// let scores = RfmScores::compute([&c], t, &config)?;
    /// assert_eq!(scores.get(c.id()).map(|s| s.monetary()), Some(Money::new(1_000, Currency::EGP)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn monetary(&self) -> Money {
        self.monetary
    }

    /// The group of this customer's R and F scores, from [`GRID`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmGroup, RfmScores}};
    /// # let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD))])?;
    /// let scores = RfmScores::compute([&c], t, &RfmConfig::default())?;
    /// let rfm = scores.get(c.id()).ok_or("scored")?;
    /// assert_eq!(Some(rfm.group()), RfmGroup::of(rfm.r(), rfm.f()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn group(&self) -> RfmGroup {
        // The scores are 1 to 5 by construction; the clamp only keeps the indexing total.
        LOOKUP[usize::from(self.r.clamp(1, 5) - 1)][usize::from(self.f.clamp(1, 5) - 1)]
    }
}

/// RFM scores of a population as of an instant, looked up by [`CustomerId`] and listed in
/// id order, with the number of customers in each group and at each score.
///
/// # Example
///
/// ```
/// use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
/// use clientele::synth::Population;
///
/// let population = Population::new(1);
/// let customers = population.customers(1_000);
/// let config = RfmConfig { currency: population.currency(), ..RfmConfig::default() };
/// let scores = RfmScores::compute(&customers, population.as_of(), &config)?;
///
/// assert_eq!(scores.len() + scores.unscored(), 1_000);
/// assert_eq!(scores.group_counts().map(|(_, n)| n).sum::<usize>(), scores.len());
/// assert_eq!(scores.r_counts().iter().sum::<usize>(), scores.len());
/// let champions: Vec<_> = scores.members(RfmGroup::Champions).collect();
/// assert_eq!(champions.len(), scores.group_count(RfmGroup::Champions));
/// assert!(champions.windows(2).all(|w| w[0] < w[1]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmScores {
    as_of: DateTime<Utc>,
    config: RfmConfig,
    /// The scored customers, in id order (ids unique).
    entries: Vec<(CustomerId, Rfm)>,
    /// Customers given without a purchase at or before `as_of`.
    unscored: usize,
    /// Scored customers per group, indexed by position in [`RfmGroup::ALL`].
    groups: [usize; RfmGroup::ALL.len()],
    /// Scored customers per R, F and M score: `[r, f, m][score - 1]`.
    scores: [[usize; 5]; 3],
}

/// One customer's values before scoring.
#[derive(Debug, Clone, Copy)]
struct Values {
    recency_days: u32,
    frequency: u32,
    monetary: Money,
}

impl RfmScores {
    /// Scores every customer of `customers` with a purchase at or before `as_of`, as the
    /// [module docs](self) describe; the others are counted as [`unscored`](Self::unscored).
    ///
    /// The result depends only on the set of customers, `as_of` and `config`: not on the
    /// order the customers come in. For n customers it sorts them by id (linear time when
    /// they already come in id order) and scores in linear time, after a binary search in
    /// each customer's purchases and a pass over those in the window.
    ///
    /// # Errors
    ///
    /// [`RfmError::DuplicateCustomer`] if two customers have the same id.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase};
    /// use clientele::rfm::{RfmConfig, RfmScores};
    ///
    /// let as_of = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// let usd = Currency::USD;
    /// let bought = Customer::new(CustomerId::new(1), "Ada", as_of)
    ///     .with_purchases(vec![Purchase::new(as_of - Duration::days(3), Money::new(500, usd))])?;
    /// let later = Customer::new(CustomerId::new(2), "Bo", as_of)
    ///     .with_purchases(vec![Purchase::new(as_of + Duration::days(3), Money::new(500, usd))])?;
    /// let never = Customer::new(CustomerId::new(3), "Cy", as_of);
    /// let scores = RfmScores::compute([&never, &later, &bought], as_of, &RfmConfig::default())?;
    /// assert_eq!((scores.len(), scores.unscored()), (1, 2));
    /// assert!(scores.get(CustomerId::new(2)).is_none()); // its purchase comes after as_of
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compute<'a>(
        customers: impl IntoIterator<Item = &'a Customer>,
        as_of: DateTime<Utc>,
        config: &RfmConfig,
    ) -> Result<RfmScores, RfmError> {
        let start = config.window.and_then(|w| w.start(as_of));
        let currency = config.currency;
        let mut all: Vec<(CustomerId, Option<Values>)> = customers
            .into_iter()
            .map(|c| {
                let history = c.purchases();
                let upto = history.between(None, as_of);
                let values = upto.last().map(|last| {
                    let window = if start.is_some() { history.between(start, as_of) } else { upto };
                    Values {
                        recency_days: u32::try_from((as_of - last.at).num_days()).unwrap_or(u32::MAX),
                        frequency: u32::try_from(window.len()).unwrap_or(u32::MAX),
                        monetary: total_in(window, currency),
                    }
                });
                (c.id(), values)
            })
            .collect();
        // Stable sort: fast on input already in id order, the usual case.
        all.sort_by_key(|(id, _)| *id);
        if let Some(pair) = all.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(RfmError::DuplicateCustomer(pair[0].0));
        }
        let unscored = all.iter().filter(|(_, v)| v.is_none()).count();
        let scored: Vec<(CustomerId, Values)> = all.into_iter().filter_map(|(id, v)| Some((id, v?))).collect();

        let r = quintiles(&scored.iter().map(|(_, v)| Reverse(v.recency_days)).collect::<Vec<_>>());
        let f = quintiles(&scored.iter().map(|(_, v)| v.frequency).collect::<Vec<_>>());
        let m = quintiles(&scored.iter().map(|(_, v)| v.monetary.minor()).collect::<Vec<_>>());

        let mut groups = [0; RfmGroup::ALL.len()];
        let mut scores = [[0; 5]; 3];
        let entries: Vec<(CustomerId, Rfm)> = scored
            .into_iter()
            .zip(r.into_iter().zip(f).zip(m))
            .map(|((id, v), ((r, f), m))| {
                let rfm = Rfm { r, f, m, recency_days: v.recency_days, frequency: v.frequency, monetary: v.monetary };
                groups[rfm.group().index()] += 1;
                // Scores are 1 to 5 (see `quintiles`), so the index is in range.
                for (counts, score) in scores.iter_mut().zip([r, f, m]) {
                    counts[usize::from(score - 1)] += 1;
                }
                (id, rfm)
            })
            .collect();
        Ok(RfmScores { as_of, config: config.clone(), entries, unscored, groups, scores })
    }

    /// The instant the scores are as of.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmScores};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// assert_eq!(scores.as_of(), DateTime::UNIX_EPOCH);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The configuration the scores were computed with.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, rfm::{RfmConfig, RfmScores}};
    /// let config = RfmConfig { currency: Currency::EUR, ..RfmConfig::default() };
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &config)?;
    /// assert_eq!(scores.config().currency, Currency::EUR);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(&self) -> &RfmConfig {
        &self.config
    }

    /// The number of customers scored.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmScores};
    /// assert_eq!(RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no customer was scored.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, rfm::{RfmConfig, RfmScores}};
    /// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// assert!(RfmScores::compute([&c], DateTime::UNIX_EPOCH, &RfmConfig::default())?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of customers given that had no purchase at or before the date, and so no
    /// score.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, rfm::{RfmConfig, RfmScores}};
    /// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// assert_eq!(RfmScores::compute([&c], DateTime::UNIX_EPOCH, &RfmConfig::default())?.unscored(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unscored(&self) -> usize {
        self.unscored
    }

    /// The scores of customer `id`; `None` if it was not given or not scored.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, rfm::{RfmConfig, RfmScores}};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// assert_eq!(scores.get(CustomerId::new(1)), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, id: CustomerId) -> Option<Rfm> {
        let at = self.entries.binary_search_by_key(&id, |(id, _)| *id).ok()?;
        self.entries.get(at).map(|(_, rfm)| *rfm)
    }

    /// The scored customers and their scores, in id order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// let t = DateTime::UNIX_EPOCH;
    /// let buyer = |id| Customer::new(CustomerId::new(id), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD))]);
    /// let (a, b) = (buyer(9)?, buyer(4)?);
    /// let scores = RfmScores::compute([&a, &b], t, &RfmConfig::default())?;
    /// let ids: Vec<u64> = scores.iter().map(|(id, _)| id.get()).collect();
    /// assert_eq!(ids, [4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (CustomerId, Rfm)> + ExactSizeIterator + '_ {
        self.entries.iter().copied()
    }

    /// The customers in `group`, in id order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase};
    /// use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
    /// let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD))])?;
    /// let scores = RfmScores::compute([&c], t, &RfmConfig::default())?;
    /// assert_eq!(scores.members(RfmGroup::Lost).collect::<Vec<_>>(), [c.id()]);
    /// assert_eq!(scores.members(RfmGroup::Champions).count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self, group: RfmGroup) -> impl Iterator<Item = CustomerId> + '_ {
        self.entries.iter().filter(move |(_, rfm)| rfm.group() == group).map(|(id, _)| *id)
    }

    /// The number of scored customers in `group`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// assert_eq!(scores.group_count(RfmGroup::Champions), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn group_count(&self, group: RfmGroup) -> usize {
        self.groups[group.index()]
    }

    /// Every group with its number of scored customers (zero included), in
    /// [`RfmGroup::ALL`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmGroup, RfmScores};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// let counts: Vec<(RfmGroup, usize)> = scores.group_counts().collect();
    /// assert_eq!(counts.len(), RfmGroup::ALL.len());
    /// assert_eq!(counts[0], (RfmGroup::Champions, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn group_counts(&self) -> impl ExactSizeIterator<Item = (RfmGroup, usize)> + '_ {
        RfmGroup::ALL.into_iter().map(|g| (g, self.group_count(g)))
    }

    /// The number of scored customers at each R score: element `i` counts R score `i + 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmScores};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// assert_eq!(scores.r_counts(), [0; 5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn r_counts(&self) -> [usize; 5] {
        self.scores[0]
    }

    /// The number of scored customers at each F score: element `i` counts F score `i + 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase, rfm::{RfmConfig, RfmScores}};
    /// let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "B", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(100, Currency::USD))])?;
    /// let scores = RfmScores::compute([&c], t, &RfmConfig::default())?;
    /// assert_eq!(scores.f_counts(), [1, 0, 0, 0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn f_counts(&self) -> [usize; 5] {
        self.scores[1]
    }

    /// The number of scored customers at each M score: element `i` counts M score `i + 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::rfm::{RfmConfig, RfmScores};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// assert_eq!(scores.m_counts().iter().sum::<usize>(), scores.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn m_counts(&self) -> [usize; 5] {
        self.scores[2]
    }
}

/// The score of each key (larger is better) against all of them:
/// `1 + ⌊5 × (keys strictly smaller) / n⌋`.
///
/// Rather than count the smaller keys for each key, it finds four thresholds once. With `w`
/// keys smaller than `k`, `⌊5w / n⌋ ≥ s` exactly when `w ≥ m = ⌈s n / 5⌉`, which holds exactly
/// when the `m`-th smallest key is below `k`. So the score is 1 plus the number of `s` in
/// 1..=4 whose `⌈s n / 5⌉`-th smallest key is below `k`: from 1 to 5. Finding the four keys
/// by selection takes linear time, not a sort.
fn quintiles<K: Ord + Copy>(keys: &[K]) -> Vec<u8> {
    let n = keys.len();
    let mut scratch = keys.to_vec();
    // The index of the ⌈s n / 5⌉-th smallest key, computed without overflow. For n ≥ 1 it is
    // in 0..n; for n = 0 there is none (and no keys to score).
    let nth = |s: usize| (n / 5 * s + (n % 5 * s).div_ceil(5)).checked_sub(1);
    let mut thresholds: SmallVec<[K; 4]> = SmallVec::new();
    // Largest index first: each selection leaves the keys up to its index (the smallest ones)
    // in front, so the next, smaller index is selected among those alone.
    let mut front = scratch.as_mut_slice();
    for s in (1..=4).rev() {
        let Some(i) = nth(s) else { break };
        let (_, key, _) = front.select_nth_unstable(i);
        thresholds.push(*key);
        front = &mut front[..=i];
    }
    keys.iter().map(|key| 1 + thresholds.iter().map(|t| u8::from(t < key)).sum::<u8>()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All 25 cells of the R × F grid are covered exactly once, and every group is used.
    #[test]
    fn grid_covers_every_cell_exactly_once() {
        let mut seen = [[0u8; 5]; 5];
        for row in &GRID {
            assert!((1..=5).contains(&row.r), "{row:?}");
            assert!(!row.f.is_empty() && *row.f.start() >= 1 && *row.f.end() <= 5, "{row:?}");
            for f in row.f.clone() {
                seen[usize::from(row.r - 1)][usize::from(f - 1)] += 1;
            }
        }
        assert_eq!(seen, [[1; 5]; 5]);
        for group in RfmGroup::ALL {
            assert!(GRID.iter().any(|row| row.group == group), "{group} is in no cell");
        }
    }

    /// `LOOKUP`, `RfmGroup::of` and `Rfm::group` agree with every row of `GRID`.
    #[test]
    fn lookups_read_the_grid() {
        for row in &GRID {
            for f in row.f.clone() {
                assert_eq!(RfmGroup::of(row.r, f), Some(row.group));
                let rfm =
                    Rfm { r: row.r, f, m: 1, recency_days: 0, frequency: 0, monetary: Money::new(0, Currency::USD) };
                assert_eq!(rfm.group(), row.group);
            }
        }
    }

    /// The module docs show exactly the table `markdown_grid` renders.
    #[test]
    fn module_docs_show_the_grid() {
        let source = include_str!("rfm.rs");
        let docs: String = source
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
            .collect();
        let table = markdown_grid();
        assert!(docs.contains(&table), "the module docs' grid differs from markdown_grid(); paste:\n{table}");
    }

    #[test]
    fn group_index_is_position_in_all() {
        for (i, group) in RfmGroup::ALL.into_iter().enumerate() {
            assert_eq!(group.index(), i);
        }
    }

    #[test]
    fn quintiles_follow_the_rule() {
        assert_eq!(quintiles::<u32>(&[]), Vec::<u8>::new());
        assert_eq!(quintiles(&[7]), [1]);
        assert_eq!(quintiles(&[1, 1, 1, 2, 2]), [1, 1, 1, 4, 4]);
        assert_eq!(quintiles(&[50, 10, 40, 20, 30]), [5, 1, 4, 2, 3]);
        assert_eq!(quintiles(&[3, 3, 3]), [1, 1, 1]);
        // Ten distinct values: two per score.
        assert_eq!(quintiles(&(0..10).collect::<Vec<_>>()), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    }
}
