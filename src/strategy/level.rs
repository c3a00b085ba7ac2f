//! The relationship-level selector: margin class × customer volume → relationship level, read
//! from [`MATRIX`].

use std::{fmt, fmt::Write as _, str::FromStr};

use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct as _};

use super::{
    error::{StrategyError, echo},
    margin::MarginRatio,
};
use crate::segment::{BasisPoints, SegmentReport};

/// How intensively a company relates to its customers, from least to most intensive (Kotler's
/// five levels; see the domain guide, section 2). The order of the variants is that scale, so
/// `Basic < Reactive < … < Partnership`.
///
/// Not `#[non_exhaustive]`: the five levels are the textbook's complete scale, and code that
/// acts on a level is expected to handle each one.
///
/// # Example
///
/// ```
/// use clientele::strategy::RelationshipLevel;
/// assert_eq!(RelationshipLevel::Accountable.name(), "accountable");
/// assert_eq!("Partnership".parse::<RelationshipLevel>()?, RelationshipLevel::Partnership);
/// assert!(RelationshipLevel::Basic < RelationshipLevel::Reactive);
/// assert_eq!(serde_json::to_string(&RelationshipLevel::Proactive)?, r#""proactive""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipLevel {
    /// The seller sells the product and does nothing more.
    Basic,
    /// The seller sells the product and invites the customer to call with complaints or
    /// questions, which are resolved by contact.
    Reactive,
    /// The seller contacts the customer shortly after the sale to ask whether the product met
    /// expectations, for suggestions and for any dissatisfaction; this feedback improves the
    /// company.
    Accountable,
    /// The seller contacts customers from time to time with ideas about the product they
    /// bought or about new products.
    Proactive,
    /// The seller works continuously with customers to retain them and grow together.
    Partnership,
}

impl RelationshipLevel {
    /// Every level, from least to most intensive.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::RelationshipLevel;
    /// assert!(RelationshipLevel::ALL.is_sorted());
    /// assert_eq!(RelationshipLevel::ALL.len(), 5);
    /// ```
    pub const ALL: [RelationshipLevel; 5] = [
        RelationshipLevel::Basic,
        RelationshipLevel::Reactive,
        RelationshipLevel::Accountable,
        RelationshipLevel::Proactive,
        RelationshipLevel::Partnership,
    ];

    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::RelationshipLevel::Basic.name(), "basic");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            RelationshipLevel::Basic => "basic",
            RelationshipLevel::Reactive => "reactive",
            RelationshipLevel::Accountable => "accountable",
            RelationshipLevel::Proactive => "proactive",
            RelationshipLevel::Partnership => "partnership",
        }
    }

    /// What the seller does at this level, in the domain guide's words.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::RelationshipLevel;
    /// assert_eq!(RelationshipLevel::Basic.description(), "sells the product and does nothing more");
    /// ```
    pub const fn description(self) -> &'static str {
        match self {
            RelationshipLevel::Basic => "sells the product and does nothing more",
            RelationshipLevel::Reactive => {
                "sells the product and invites the customer to call with complaints or questions, \
                 which are resolved by contact"
            }
            RelationshipLevel::Accountable => {
                "contacts the customer shortly after the sale to ask whether the product met expectations, \
                 for suggestions and for any dissatisfaction; this feedback improves the company"
            }
            RelationshipLevel::Proactive => {
                "contacts customers from time to time with ideas about the product they bought or about new products"
            }
            RelationshipLevel::Partnership => "works continuously with customers to retain them and grow together",
        }
    }
}

impl fmt::Display for RelationshipLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RelationshipLevel {
    type Err = StrategyError;

    /// A level by its name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RelationshipLevel::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| StrategyError::UnknownLevel(echo(s)))
    }
}

/// How large the profit margin is, by the [`MarginThresholds`] of a [`LevelConfig`]. Ordered
/// from low to high.
///
/// Not `#[non_exhaustive]`: the matrix has exactly three margin columns.
///
/// # Example
///
/// ```
/// use clientele::strategy::{MarginClass, MarginRatio, MarginThresholds};
/// let thresholds = MarginThresholds::default(); // medium from 10%, high from 30%
/// assert_eq!(thresholds.classify(MarginRatio::from_basis_points(800)?), MarginClass::Low);
/// assert_eq!(thresholds.classify(MarginRatio::from_basis_points(3000)?), MarginClass::High);
/// assert_eq!("medium".parse::<MarginClass>()?, MarginClass::Medium);
/// assert!(MarginClass::Low < MarginClass::High);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginClass {
    /// Below [`MarginThresholds::medium_from`].
    Low,
    /// From [`MarginThresholds::medium_from`] up to (not including)
    /// [`MarginThresholds::high_from`].
    Medium,
    /// From [`MarginThresholds::high_from`] up.
    High,
}

impl MarginClass {
    /// Every class, from low to high.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::strategy::MarginClass::ALL.is_sorted());
    /// ```
    pub const ALL: [MarginClass; 3] = [MarginClass::Low, MarginClass::Medium, MarginClass::High];

    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::MarginClass::High.name(), "high");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            MarginClass::Low => "low",
            MarginClass::Medium => "medium",
            MarginClass::High => "high",
        }
    }

    /// The column of [`MATRIX`]: high, medium, low, as in the textbook.
    const fn column(self) -> usize {
        match self {
            MarginClass::High => 0,
            MarginClass::Medium => 1,
            MarginClass::Low => 2,
        }
    }
}

impl fmt::Display for MarginClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MarginClass {
    type Err = StrategyError;

    /// A class by its name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarginClass::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| StrategyError::UnknownMarginClass(echo(s)))
    }
}

/// How many customers (or distributors) there are, by the [`VolumeThresholds`] of a
/// [`LevelConfig`]. Ordered from few to many.
///
/// Not `#[non_exhaustive]`: the matrix has exactly three customer-volume rows.
///
/// # Example
///
/// ```
/// use clientele::strategy::{CustomerVolume, VolumeThresholds};
/// let thresholds = VolumeThresholds::default(); // medium from 100, many from 10 000
/// assert_eq!(thresholds.classify(99), CustomerVolume::Few);
/// assert_eq!(thresholds.classify(120_000), CustomerVolume::Many);
/// assert_eq!("MANY".parse::<CustomerVolume>()?, CustomerVolume::Many);
/// assert!(CustomerVolume::Few < CustomerVolume::Many);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerVolume {
    /// Fewer than [`VolumeThresholds::medium_from`].
    Few,
    /// From [`VolumeThresholds::medium_from`] up to (not including)
    /// [`VolumeThresholds::many_from`].
    Medium,
    /// From [`VolumeThresholds::many_from`] up.
    Many,
}

impl CustomerVolume {
    /// Every volume, from few to many.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::strategy::CustomerVolume::ALL.is_sorted());
    /// ```
    pub const ALL: [CustomerVolume; 3] = [CustomerVolume::Few, CustomerVolume::Medium, CustomerVolume::Many];

    /// The snake_case name used in text and JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::CustomerVolume::Few.name(), "few");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            CustomerVolume::Few => "few",
            CustomerVolume::Medium => "medium",
            CustomerVolume::Many => "many",
        }
    }

    /// The row of [`MATRIX`]: many, medium, few, as in the textbook.
    const fn row(self) -> usize {
        match self {
            CustomerVolume::Many => 0,
            CustomerVolume::Medium => 1,
            CustomerVolume::Few => 2,
        }
    }
}

impl fmt::Display for CustomerVolume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CustomerVolume {
    type Err = StrategyError;

    /// A volume by its name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustomerVolume::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| StrategyError::UnknownVolume(echo(s)))
    }
}

/// Where the medium and the high margin classes start, in basis points of revenue: a margin
/// below `medium_from` is [low](MarginClass::Low), from `medium_from` it is
/// [medium](MarginClass::Medium), from `high_from` [high](MarginClass::High). Each bound is
/// inclusive and compared exactly ([`MarginRatio::at_least`]).
///
/// | bound | default |
/// |---|---|
/// | `medium_from` | 1 000 bp (10%) |
/// | `high_from` | 3 000 bp (30%) |
///
/// The textbook gives no numbers; the defaults are a starting point to tune to the industry
/// (a grocer's 25% may be a software firm's low).
///
/// Invariant: `medium_from < high_from`, so every class can occur. Serialized as
/// `{"medium_from": 1000, "high_from": 3000}`; deserializing fills a missing bound with its
/// default and refuses bounds out of order or above 10 000.
///
/// # Example
///
/// ```
/// use clientele::{segment::BasisPoints, strategy::{MarginClass, MarginRatio, MarginThresholds, StrategyError}};
/// let t = MarginThresholds::new(BasisPoints::new(1500)?, BasisPoints::new(4000)?)?;
/// assert_eq!(t.classify(MarginRatio::new(3, 20)?), MarginClass::Medium); // exactly 15%
/// assert_eq!(t.classify(MarginRatio::new(1499, 10_000)?), MarginClass::Low);
///
/// let err = MarginThresholds::new(BasisPoints::new(4000)?, BasisPoints::new(4000)?).unwrap_err();
/// assert!(matches!(err, StrategyError::MarginThresholds { .. }));
///
/// let t: MarginThresholds = serde_json::from_str(r#"{"high_from": 5000}"#)?;
/// assert_eq!((t.medium_from().get(), t.high_from().get()), (1000, 5000));
/// assert!(serde_json::from_str::<MarginThresholds>(r#"{"medium_from": 6000, "high_from": 5000}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MarginThresholdsRepr")]
pub struct MarginThresholds {
    /// The least margin that is medium.
    medium_from: BasisPoints,
    /// The least margin that is high; above `medium_from`.
    high_from: BasisPoints,
}

/// The serde form of [`MarginThresholds`], with defaults, checked on the way in.
#[derive(Deserialize)]
#[serde(default)]
struct MarginThresholdsRepr {
    medium_from: BasisPoints,
    high_from: BasisPoints,
}

impl Default for MarginThresholdsRepr {
    fn default() -> Self {
        let d = MarginThresholds::default();
        MarginThresholdsRepr { medium_from: d.medium_from, high_from: d.high_from }
    }
}

impl TryFrom<MarginThresholdsRepr> for MarginThresholds {
    type Error = StrategyError;
    fn try_from(repr: MarginThresholdsRepr) -> Result<Self, Self::Error> {
        MarginThresholds::new(repr.medium_from, repr.high_from)
    }
}

impl Default for MarginThresholds {
    fn default() -> Self {
        // 10% and 30%: below 10 000 and in order.
        MarginThresholds { medium_from: bp(1_000), high_from: bp(3_000) }
    }
}

/// `n` basis points for the crate's own constants, all within 0..=10 000.
fn bp(n: u32) -> BasisPoints {
    BasisPoints::new(n).unwrap_or(BasisPoints::ALL)
}

impl MarginThresholds {
    /// Thresholds where a medium margin starts at `medium_from` and a high one at `high_from`.
    ///
    /// # Errors
    ///
    /// [`StrategyError::MarginThresholds`] unless `medium_from < high_from`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{segment::BasisPoints, strategy::MarginThresholds};
    /// let t = MarginThresholds::new(BasisPoints::new(500)?, BasisPoints::new(2000)?)?;
    /// assert_eq!(t.high_from().to_string(), "20.00%");
    /// assert!(MarginThresholds::new(BasisPoints::new(2000)?, BasisPoints::new(500)?).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(medium_from: BasisPoints, high_from: BasisPoints) -> Result<MarginThresholds, StrategyError> {
        if medium_from >= high_from {
            return Err(StrategyError::MarginThresholds { medium_from, high_from });
        }
        Ok(MarginThresholds { medium_from, high_from })
    }

    /// The least margin that is [medium](MarginClass::Medium).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::MarginThresholds;
    /// assert_eq!(MarginThresholds::default().medium_from().get(), 1000);
    /// ```
    pub const fn medium_from(&self) -> BasisPoints {
        self.medium_from
    }

    /// The least margin that is [high](MarginClass::High).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::MarginThresholds;
    /// assert_eq!(MarginThresholds::default().high_from().get(), 3000);
    /// ```
    pub const fn high_from(&self) -> BasisPoints {
        self.high_from
    }

    /// The class of `margin`, compared exactly with the bounds.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{MarginClass, MarginRatio, MarginThresholds};
    /// let t = MarginThresholds::default();
    /// assert_eq!(t.classify(MarginRatio::from_basis_points(-500)?), MarginClass::Low);
    /// assert_eq!(t.classify(MarginRatio::from_basis_points(1000)?), MarginClass::Medium);
    /// assert_eq!(t.classify(MarginRatio::new(2, 3)?), MarginClass::High);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn classify(&self, margin: MarginRatio) -> MarginClass {
        if margin.at_least(self.high_from) {
            MarginClass::High
        } else if margin.at_least(self.medium_from) {
            MarginClass::Medium
        } else {
            MarginClass::Low
        }
    }
}

/// Where the medium and the many customer volumes start: fewer than `medium_from` customers
/// are [few](CustomerVolume::Few), from `medium_from` they are
/// [medium](CustomerVolume::Medium), from `many_from` [many](CustomerVolume::Many). Each
/// bound is inclusive.
///
/// | bound | default |
/// |---|---|
/// | `medium_from` | 100 |
/// | `many_from` | 10 000 |
///
/// The textbook gives no numbers; the defaults are a starting point (a maker with forty
/// distributors has few customers, a web shop with a hundred thousand has many).
///
/// Invariant: `1 <= medium_from < many_from`, so every volume can occur. Serialized as
/// `{"medium_from": 100, "many_from": 10000}`; deserializing fills a missing bound with its
/// default and refuses bounds out of order.
///
/// # Example
///
/// ```
/// use clientele::strategy::{CustomerVolume, StrategyError, VolumeThresholds};
/// let t = VolumeThresholds::new(50, 5_000)?;
/// assert_eq!(t.classify(49), CustomerVolume::Few);
/// assert_eq!(t.classify(50), CustomerVolume::Medium);
/// assert_eq!(t.classify(5_000), CustomerVolume::Many);
///
/// assert_eq!(VolumeThresholds::new(0, 10), Err(StrategyError::VolumeThresholds { medium_from: 0, many_from: 10 }));
/// let t: VolumeThresholds = serde_json::from_str(r#"{"many_from": 500}"#)?;
/// assert_eq!((t.medium_from(), t.many_from()), (100, 500));
/// assert!(serde_json::from_str::<VolumeThresholds>(r#"{"many_from": 100}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "VolumeThresholdsRepr")]
pub struct VolumeThresholds {
    /// The fewest customers that are a medium volume; at least 1.
    medium_from: u64,
    /// The fewest customers that are many; above `medium_from`.
    many_from: u64,
}

/// The serde form of [`VolumeThresholds`], with defaults, checked on the way in.
#[derive(Deserialize)]
#[serde(default)]
struct VolumeThresholdsRepr {
    medium_from: u64,
    many_from: u64,
}

impl Default for VolumeThresholdsRepr {
    fn default() -> Self {
        let d = VolumeThresholds::default();
        VolumeThresholdsRepr { medium_from: d.medium_from, many_from: d.many_from }
    }
}

impl TryFrom<VolumeThresholdsRepr> for VolumeThresholds {
    type Error = StrategyError;
    fn try_from(repr: VolumeThresholdsRepr) -> Result<Self, Self::Error> {
        VolumeThresholds::new(repr.medium_from, repr.many_from)
    }
}

impl Default for VolumeThresholds {
    fn default() -> Self {
        VolumeThresholds { medium_from: 100, many_from: 10_000 }
    }
}

impl VolumeThresholds {
    /// Thresholds where a medium volume starts at `medium_from` customers and many at
    /// `many_from`.
    ///
    /// # Errors
    ///
    /// [`StrategyError::VolumeThresholds`] unless `1 <= medium_from < many_from`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::VolumeThresholds;
    /// assert_eq!(VolumeThresholds::new(10, 1_000)?.many_from(), 1_000);
    /// assert!(VolumeThresholds::new(1_000, 1_000).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(medium_from: u64, many_from: u64) -> Result<VolumeThresholds, StrategyError> {
        if medium_from == 0 || medium_from >= many_from {
            return Err(StrategyError::VolumeThresholds { medium_from, many_from });
        }
        Ok(VolumeThresholds { medium_from, many_from })
    }

    /// The fewest customers that are a [medium](CustomerVolume::Medium) volume.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::VolumeThresholds::default().medium_from(), 100);
    /// ```
    pub const fn medium_from(&self) -> u64 {
        self.medium_from
    }

    /// The fewest customers that are [many](CustomerVolume::Many).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::strategy::VolumeThresholds::default().many_from(), 10_000);
    /// ```
    pub const fn many_from(&self) -> u64 {
        self.many_from
    }

    /// The volume of `customers` customers.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{CustomerVolume, VolumeThresholds};
    /// let t = VolumeThresholds::default();
    /// assert_eq!(t.classify(0), CustomerVolume::Few);
    /// assert_eq!(t.classify(100), CustomerVolume::Medium);
    /// assert_eq!(t.classify(9_999), CustomerVolume::Medium);
    /// ```
    pub const fn classify(&self, customers: u64) -> CustomerVolume {
        if customers >= self.many_from {
            CustomerVolume::Many
        } else if customers >= self.medium_from {
            CustomerVolume::Medium
        } else {
            CustomerVolume::Few
        }
    }
}

/// Which level is primary in a [`Cell::Either`] of [`MATRIX`] (many customers and a low
/// margin: basic *or* reactive); the other becomes the [alternative](Selection::alternative).
///
/// The default is [`LessIntensive`](Preference::LessIntensive): "most companies use basic
/// marketing when margins are low and customers many" (the domain guide).
///
/// # Example
///
/// ```
/// use clientele::strategy::{Cell, Preference, RelationshipLevel::{Basic, Reactive}};
/// let cell = Cell::Either(Basic, Reactive);
/// assert_eq!(cell.choose(Preference::default()), (Basic, Some(Reactive)));
/// assert_eq!(cell.choose(Preference::MoreIntensive), (Reactive, Some(Basic)));
/// assert_eq!(serde_json::from_str::<Preference>(r#""more_intensive""#)?, Preference::MoreIntensive);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preference {
    /// The less intensive level is primary (basic, with reactive as the alternative).
    #[default]
    LessIntensive,
    /// The more intensive level is primary (reactive, with basic as the alternative).
    MoreIntensive,
}

/// The content of one cell of [`MATRIX`]: one level, or a choice between two.
///
/// Not `#[non_exhaustive]`: the textbook matrix has only these two kinds of cells.
///
/// # Example
///
/// ```
/// use clientele::strategy::{Cell, RelationshipLevel};
/// assert_eq!(Cell::One(RelationshipLevel::Proactive).to_string(), "proactive");
/// let either = Cell::Either(RelationshipLevel::Basic, RelationshipLevel::Reactive);
/// assert_eq!(either.to_string(), "basic or reactive");
/// assert!(either.contains(RelationshipLevel::Reactive));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// This level.
    One(RelationshipLevel),
    /// Either level, the less intensive first; a [`Preference`] picks the primary one.
    Either(RelationshipLevel, RelationshipLevel),
}

impl Cell {
    /// The primary level under `prefer`, and the alternative if the cell has one.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Cell, Preference, RelationshipLevel};
    /// let one = Cell::One(RelationshipLevel::Accountable);
    /// assert_eq!(one.choose(Preference::MoreIntensive), (RelationshipLevel::Accountable, None));
    /// ```
    pub fn choose(self, prefer: Preference) -> (RelationshipLevel, Option<RelationshipLevel>) {
        match self {
            Cell::One(level) => (level, None),
            Cell::Either(a, b) => {
                let (less, more) = (a.min(b), a.max(b));
                match prefer {
                    Preference::LessIntensive => (less, Some(more)),
                    Preference::MoreIntensive => (more, Some(less)),
                }
            }
        }
    }

    /// Whether `level` is one the cell allows.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{Cell, RelationshipLevel};
    /// assert!(!Cell::One(RelationshipLevel::Basic).contains(RelationshipLevel::Reactive));
    /// ```
    pub fn contains(self, level: RelationshipLevel) -> bool {
        match self {
            Cell::One(l) => l == level,
            Cell::Either(a, b) => a == level || b == level,
        }
    }
}

impl fmt::Display for Cell {
    /// The level's name, or `a or b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::One(level) => f.write_str(level.name()),
            Cell::Either(a, b) => write!(f, "{a} or {b}"),
        }
    }
}

/// One cell of [`MATRIX`], with its row and column.
///
/// # Example
///
/// ```
/// use clientele::strategy::{CustomerVolume, MATRIX, MarginClass};
/// let first = &MATRIX[0];
/// assert_eq!((first.volume, first.margin), (CustomerVolume::Many, MarginClass::High));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct MatrixEntry {
    /// The row: how many customers.
    pub volume: CustomerVolume,
    /// The column: how large the margin.
    pub margin: MarginClass,
    /// The level or levels for that row and column.
    pub cell: Cell,
}

/// Shorthand for the table below.
const fn entry(volume: CustomerVolume, margin: MarginClass, cell: Cell) -> MatrixEntry {
    MatrixEntry { volume, margin, cell }
}

/// The relationship-level matrix (Kotler, *Principles of Marketing*; the domain guide,
/// section 2), as data: the selector ([`cell`], [`select`]), the module documentation
/// ([`markdown_matrix`]) and the tests all read this table.
///
/// Rows in the textbook's order (many, medium, few customers), and within a row the columns in
/// its order (high, medium, low margin):
///
/// | customers ↓ / margin → | high | medium | low |
/// |---|---|---|---|
/// | many | accountable | reactive | basic or reactive |
/// | medium | proactive | accountable | reactive |
/// | few | partnership | proactive | accountable |
///
/// # Example
///
/// ```
/// use clientele::strategy::{Cell, CustomerVolume, MATRIX, MarginClass, RelationshipLevel};
/// let few_high = MATRIX.iter().find(|e| e.volume == CustomerVolume::Few && e.margin == MarginClass::High);
/// assert_eq!(few_high.map(|e| e.cell), Some(Cell::One(RelationshipLevel::Partnership)));
/// ```
pub const MATRIX: [MatrixEntry; 9] = {
    use self::{
        Cell::{Either, One},
        CustomerVolume as V, MarginClass as M,
        RelationshipLevel::{Accountable, Basic, Partnership, Proactive, Reactive},
    };
    [
        entry(V::Many, M::High, One(Accountable)),
        entry(V::Many, M::Medium, One(Reactive)),
        entry(V::Many, M::Low, Either(Basic, Reactive)),
        entry(V::Medium, M::High, One(Proactive)),
        entry(V::Medium, M::Medium, One(Accountable)),
        entry(V::Medium, M::Low, One(Reactive)),
        entry(V::Few, M::High, One(Partnership)),
        entry(V::Few, M::Medium, One(Proactive)),
        entry(V::Few, M::Low, One(Accountable)),
    ]
};

/// The cell of [`MATRIX`] for a customer volume and a margin class.
///
/// # Example
///
/// ```
/// use clientele::strategy::{Cell, CustomerVolume, MarginClass, RelationshipLevel, cell};
/// assert_eq!(cell(CustomerVolume::Medium, MarginClass::Medium), Cell::One(RelationshipLevel::Accountable));
/// assert_eq!(
///     cell(CustomerVolume::Many, MarginClass::Low),
///     Cell::Either(RelationshipLevel::Basic, RelationshipLevel::Reactive)
/// );
/// ```
pub const fn cell(volume: CustomerVolume, margin: MarginClass) -> Cell {
    // `row() < 3` and `column() < 3`, so the index is below 9; a unit test checks that each
    // entry sits at the index of its row and column.
    MATRIX[volume.row() * 3 + margin.column()].cell
}

/// [`MATRIX`] as a Markdown table, rows many to few and columns high to low margin, as in the
/// textbook. The module documentation shows this exact text (a test checks it).
///
/// # Example
///
/// ```
/// let table = clientele::strategy::markdown_matrix();
/// assert!(table.starts_with("| customers ↓ / margin → | high | medium | low |\n|---|---|---|---|\n"));
/// assert!(table.contains("| many | accountable | reactive | basic or reactive |\n"));
/// assert_eq!(table.lines().count(), 5);
/// ```
pub fn markdown_matrix() -> String {
    let mut out = String::from("| customers ↓ / margin → | high | medium | low |\n|---|---|---|---|\n");
    for row in MATRIX.chunks(3) {
        let volume = row.first().map_or("", |e| e.volume.name());
        let _ = write!(out, "| {volume} |");
        for e in row {
            let _ = write!(out, " {} |", e.cell);
        }
        out.push('\n');
    }
    out
}

/// How [`select`] classifies its inputs and breaks the tie in the two-level cell, with these
/// defaults:
///
/// | field | default | meaning |
/// |---|---|---|
/// | `margin` | medium from 10%, high from 30% | [`MarginThresholds`] |
/// | `volume` | medium from 100, many from 10 000 customers | [`VolumeThresholds`] |
/// | `prefer` | `less_intensive` | the primary level where the matrix allows two ([`Preference`]) |
///
/// Each field is valid by construction, so a `LevelConfig` is always usable. Deserializing
/// fills missing fields with the defaults and refuses thresholds out of order.
///
/// # Example
///
/// ```
/// use clientele::strategy::{LevelConfig, Preference};
/// let config: LevelConfig = serde_json::from_str(
///     r#"{"volume": {"medium_from": 20, "many_from": 2000}, "prefer": "more_intensive"}"#,
/// )?;
/// assert_eq!(config.volume.many_from(), 2_000);
/// assert_eq!(config.margin, LevelConfig::default().margin);
/// assert_eq!(config.prefer, Preference::MoreIntensive);
///
/// let err = serde_json::from_str::<LevelConfig>(r#"{"margin": {"medium_from": 5000, "high_from": 2000}}"#)
///     .unwrap_err();
/// assert!(err.to_string().contains("margin thresholds out of order"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct LevelConfig {
    /// Where the margin classes start.
    pub margin: MarginThresholds,
    /// Where the customer volumes start.
    pub volume: VolumeThresholds,
    /// Which level is primary in the cell that allows two.
    pub prefer: Preference,
}

/// The relationship level chosen for a business or a segment, with what it was derived from
/// and why.
///
/// [`Display`](fmt::Display) prints the [rationale](Selection::rationale). Serialized with
/// every field and the rationale.
///
/// # Example
///
/// ```
/// use clientele::strategy::{self, CustomerVolume, LevelConfig, MarginClass, MarginRatio, RelationshipLevel};
/// let s = strategy::select(MarginRatio::from_basis_points(800)?, 120_000, &LevelConfig::default());
/// assert_eq!(s.level(), RelationshipLevel::Basic);
/// assert_eq!(s.alternative(), Some(RelationshipLevel::Reactive));
/// assert_eq!((s.margin_class(), s.volume()), (MarginClass::Low, CustomerVolume::Many));
/// assert_eq!(s.to_string(), "low margin (8.0%) and many customers (120 000): basic marketing; reactive is the alternative");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selection {
    /// The chosen level.
    level: RelationshipLevel,
    /// The other level of a two-level cell.
    alternative: Option<RelationshipLevel>,
    /// The class of `margin`.
    margin_class: MarginClass,
    /// The volume of `customers`.
    volume: CustomerVolume,
    /// The margin the class came from.
    margin: MarginRatio,
    /// The count the volume came from.
    customers: u64,
    /// The thresholds `margin_class` came from, so that the rationale never shows a margin
    /// figure that reads as another class.
    thresholds: MarginThresholds,
}

impl Selection {
    /// The chosen relationship level.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginRatio, RelationshipLevel};
    /// let s = strategy::select(MarginRatio::from_basis_points(4500)?, 12, &LevelConfig::default());
    /// assert_eq!(s.level(), RelationshipLevel::Partnership);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn level(&self) -> RelationshipLevel {
        self.level
    }

    /// The other level the matrix allows, in the one cell that allows two (many customers,
    /// low margin); `None` elsewhere.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginRatio};
    /// let s = strategy::select(MarginRatio::from_basis_points(4500)?, 12, &LevelConfig::default());
    /// assert_eq!(s.alternative(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn alternative(&self) -> Option<RelationshipLevel> {
        self.alternative
    }

    /// The margin class the level was derived from.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginClass, MarginRatio};
    /// let s = strategy::select(MarginRatio::from_basis_points(1500)?, 12, &LevelConfig::default());
    /// assert_eq!(s.margin_class(), MarginClass::Medium);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn margin_class(&self) -> MarginClass {
        self.margin_class
    }

    /// The customer volume the level was derived from.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, CustomerVolume, LevelConfig, MarginRatio};
    /// let s = strategy::select(MarginRatio::from_basis_points(1500)?, 500, &LevelConfig::default());
    /// assert_eq!(s.volume(), CustomerVolume::Medium);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn volume(&self) -> CustomerVolume {
        self.volume
    }

    /// The margin that was classified.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginRatio};
    /// let m = MarginRatio::new(1, 3)?;
    /// assert_eq!(strategy::select(m, 500, &LevelConfig::default()).margin(), m);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn margin(&self) -> MarginRatio {
        self.margin
    }

    /// The number of customers (or segment members) that was classified.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginRatio};
    /// let s = strategy::select(MarginRatio::from_basis_points(0)?, 500, &LevelConfig::default());
    /// assert_eq!(s.customers(), 500);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn customers(&self) -> u64 {
        self.customers
    }

    /// The cell of [`MATRIX`] the level came from.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, Cell, LevelConfig, MarginRatio, RelationshipLevel};
    /// let s = strategy::select(MarginRatio::from_basis_points(0)?, 50_000, &LevelConfig::default());
    /// assert_eq!(s.cell(), Cell::Either(RelationshipLevel::Basic, RelationshipLevel::Reactive));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn cell(&self) -> Cell {
        cell(self.volume, self.margin_class)
    }

    /// Why this level, in one line: the classes with the figures they came from, the level,
    /// and the alternative if any. The count shows with its thousands separated by spaces;
    /// the margin with one decimal, rounded to the nearest, unless that would show a figure of
    /// another class (9.99% as `10.0%` when medium margins start at 10%): then it shows two
    /// decimals rounded down, which always keeps the class.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{self, LevelConfig, MarginRatio};
    /// let config = LevelConfig::default();
    /// let s = strategy::select(MarginRatio::from_basis_points(3550)?, 40, &config);
    /// assert_eq!(s.rationale(), "high margin (35.5%) and few customers (40): partnership marketing");
    /// let s = strategy::select(MarginRatio::from_basis_points(999)?, 40, &config);
    /// assert_eq!(s.rationale(), "low margin (9.99%) and few customers (40): accountable marketing");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rationale(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Selection {
    /// The [rationale](Selection::rationale).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} margin ({}) and {} customers ({}): {} marketing",
            self.margin_class,
            self.margin.percent_in_class(|m| self.thresholds.classify(m)),
            self.volume,
            group_thousands(self.customers),
            self.level
        )?;
        if let Some(alternative) = self.alternative {
            write!(f, "; {alternative} is the alternative")?;
        }
        Ok(())
    }
}

impl Serialize for Selection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Selection", 7)?;
        s.serialize_field("level", &self.level)?;
        s.serialize_field("alternative", &self.alternative)?;
        s.serialize_field("margin_class", &self.margin_class)?;
        s.serialize_field("volume", &self.volume)?;
        s.serialize_field("margin", &self.margin)?;
        s.serialize_field("customers", &self.customers)?;
        s.serialize_field("rationale", &self.rationale())?;
        s.end()
    }
}

/// `n` with its digits in groups of three separated by spaces: `120 000`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(d);
    }
    out
}

/// The relationship level for a business with this average `margin` and this many
/// `customers` (or distributors): classify both by `config`, read [`MATRIX`], and break the
/// tie in the two-level cell by [`LevelConfig::prefer`].
///
/// A higher margin never lowers the level and fewer customers never lower it (property tests
/// check both for every configuration).
///
/// # Example
///
/// ```
/// use clientele::strategy::{self, LevelConfig, MarginRatio, Preference, RelationshipLevel};
/// let config = LevelConfig::default();
/// let margin = MarginRatio::from_basis_points(2000)?; // 20%: medium
/// assert_eq!(strategy::select(margin, 50, &config).level(), RelationshipLevel::Proactive);
/// assert_eq!(strategy::select(margin, 5_000, &config).level(), RelationshipLevel::Accountable);
/// assert_eq!(strategy::select(margin, 50_000, &config).level(), RelationshipLevel::Reactive);
///
/// let thin = MarginRatio::from_basis_points(300)?;
/// let prefer_reactive = LevelConfig { prefer: Preference::MoreIntensive, ..config };
/// let s = strategy::select(thin, 50_000, &prefer_reactive);
/// assert_eq!((s.level(), s.alternative()), (RelationshipLevel::Reactive, Some(RelationshipLevel::Basic)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select(margin: MarginRatio, customers: u64, config: &LevelConfig) -> Selection {
    let margin_class = config.margin.classify(margin);
    let volume = config.volume.classify(customers);
    let (level, alternative) = cell(volume, margin_class).choose(config.prefer);
    Selection { level, alternative, margin_class, volume, margin, customers, thresholds: config.margin }
}

/// The relationship level for a segment, from its size ([`SegmentReport::members`]) and its
/// average margin measured from purchase costs ([`SegmentReport::margin`], taken exactly as
/// margin over revenue in minor units, not as rounded basis points).
///
/// # Errors
///
/// [`StrategyError::NoCostData`] when no member's purchase up to the report's date has a
/// known cost: the margin is unknown, and guessing it would silently pick a level. A caller
/// with a margin from elsewhere (a price list, the business as a whole) can fall back to
/// [`select`] with that margin and [`SegmentReport::members`], as the example shows.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use clientele::{Currency, Customer, CustomerId, Money, Purchase, segment::{self, AnalyticsConfig, Schema, Segment, Snapshot}};
/// use clientele::strategy::{self, LevelConfig, MarginRatio, RelationshipLevel, StrategyError};
///
/// let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let egp = Currency::EGP;
/// let costed = Customer::new(CustomerId::new(1), "Ada", t)
///     .with_purchases(vec![Purchase::new(t, Money::new(10_000, egp)).with_cost(Money::new(5_500, egp))])?;
/// let uncosted = Customer::new(CustomerId::new(2), "Bo", t)
///     .with_purchases(vec![Purchase::new(t, Money::new(30_000, egp))])?;
/// let schema = Schema::new(egp);
/// let snap = Snapshot::build([&costed, &uncosted], &schema);
/// let analytics = AnalyticsConfig::default();
/// let config = LevelConfig::default();
///
/// // Ada spent 100.00 at a 45% margin; one member is few customers: partnership.
/// let report = segment::analyze(&Segment::compile("spent < 200.00", &schema)?, &snap, t, &analytics)?;
/// let s = strategy::select_for_segment(&report, &config)?;
/// assert_eq!(s.level(), RelationshipLevel::Partnership);
/// assert_eq!(s.to_string(), "high margin (45.0%) and few customers (1): partnership marketing");
///
/// // Bo spent 300.00 with no known cost: a typed error, and a fallback chosen by the caller.
/// let report = segment::analyze(&Segment::compile("spent >= 200.00", &schema)?, &snap, t, &analytics)?;
/// let err = strategy::select_for_segment(&report, &config).unwrap_err();
/// assert_eq!(err, StrategyError::NoCostData { members: 1 });
/// let assumed = MarginRatio::from_basis_points(1_200)?;
/// let s = strategy::select(assumed, report.members() as u64, &config);
/// assert_eq!(s.level(), RelationshipLevel::Proactive);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select_for_segment(report: &SegmentReport, config: &LevelConfig) -> Result<Selection, StrategyError> {
    let margin = report.margin().ok_or(StrategyError::NoCostData { members: report.members() })?;
    let margin = MarginRatio::try_from(margin)?;
    // A `usize` count always fits in `u64` on the platforms Rust supports; saturate anyway.
    let members = u64::try_from(report.members()).unwrap_or(u64::MAX);
    Ok(select(margin, members, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_sits_at_the_index_of_its_row_and_column() {
        for (i, e) in MATRIX.iter().enumerate() {
            assert_eq!(e.volume.row() * 3 + e.margin.column(), i, "{e:?}");
            assert_eq!(cell(e.volume, e.margin), e.cell);
        }
        for volume in CustomerVolume::ALL {
            for margin in MarginClass::ALL {
                assert_eq!(MATRIX.iter().filter(|e| e.volume == volume && e.margin == margin).count(), 1);
            }
        }
    }

    #[test]
    fn two_level_cells_list_the_less_intensive_first() {
        for e in MATRIX {
            if let Cell::Either(a, b) = e.cell {
                assert!(a < b, "{e:?}");
            }
        }
    }

    #[test]
    fn the_table_is_monotone_in_both_directions_under_both_preferences() {
        for prefer in [Preference::LessIntensive, Preference::MoreIntensive] {
            let level = |v, m| cell(v, m).choose(prefer).0;
            for v in CustomerVolume::ALL {
                for w in CustomerVolume::ALL.into_iter().filter(|w| *w >= v) {
                    for m in MarginClass::ALL {
                        for n in MarginClass::ALL.into_iter().filter(|n| *n >= m) {
                            // More margin never lowers the level; more customers never raise it.
                            assert!(level(v, n) >= level(v, m), "{v} {m}->{n} {prefer:?}");
                            assert!(level(w, m) <= level(v, m), "{v}->{w} {m} {prefer:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn groups_thousands() {
        let cases = [(0, "0"), (999, "999"), (1_000, "1 000"), (120_000, "120 000"), (1_234_567, "1 234 567")];
        for (n, shown) in cases {
            assert_eq!(group_thousands(n), shown);
        }
        assert_eq!(group_thousands(u64::MAX), "18 446 744 073 709 551 615");
    }

    #[test]
    fn defaults_are_valid() {
        let d = MarginThresholds::default();
        assert_eq!(MarginThresholds::new(d.medium_from, d.high_from), Ok(d));
        let d = VolumeThresholds::default();
        assert_eq!(VolumeThresholds::new(d.medium_from, d.many_from), Ok(d));
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_bounded() {
        for l in RelationshipLevel::ALL {
            assert_eq!(l.to_string().parse::<RelationshipLevel>(), Ok(l));
        }
        for c in MarginClass::ALL {
            assert_eq!(c.to_string().parse::<MarginClass>(), Ok(c));
        }
        for v in CustomerVolume::ALL {
            assert_eq!(v.to_string().parse::<CustomerVolume>(), Ok(v));
        }
        let long = "x".repeat(10_000);
        let msg = long.parse::<RelationshipLevel>().unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}
