//! The margin ratio, kept exactly as a fraction of two integers.

use std::{cmp::Ordering, fmt, hash};

use serde::{Deserialize, Serialize};

use super::error::StrategyError;
use crate::{
    money::Money,
    segment::{BasisPoints, Margin},
};

/// A profit margin as a share of revenue, kept exactly as the fraction `margin / revenue` of
/// two integers: minor units for a ratio measured from amounts, basis points over 10 000 for
/// one given as a percentage. No floating point is involved, so a margin exactly on a
/// threshold is classified the same way on every machine.
///
/// Invariants: the revenue is positive and the margin is at most the revenue (a cost is never
/// negative). The margin may be negative: selling below cost.
///
/// Equality, ordering and hashing are by *value*: 1/4 equals 2 500 basis points.
/// [`Display`](fmt::Display) shows a percentage with one decimal by default (`8.0%`); a
/// precision gives more (`{:.2}` shows `8.00%`, at most 16 decimals), rounded to the nearest
/// with halves away from zero.
///
/// Serialized as `{"margin": m, "revenue": r}`; deserializing checks the invariants.
///
/// # Example
///
/// ```
/// use clientele::{Currency, Money, segment::BasisPoints, strategy::MarginRatio};
///
/// let usd = Currency::USD;
/// let measured = MarginRatio::from_revenue_and_cost(Money::new(100_000, usd), Money::new(92_000, usd))?;
/// assert_eq!(measured, MarginRatio::from_basis_points(800)?);
/// assert_eq!(measured.to_string(), "8.0%");
/// assert_eq!(format!("{measured:.2}"), "8.00%");
/// assert!(measured.at_least(BasisPoints::new(800)?));
/// assert!(!measured.at_least(BasisPoints::new(801)?));
///
/// // One third is kept exactly: it is below 33.34% and at least 33.33%.
/// let third = MarginRatio::new(1, 3)?;
/// assert!(third < MarginRatio::from_basis_points(3334)? && third > MarginRatio::from_basis_points(3333)?);
/// assert_eq!(third.basis_points(), 3333);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "MarginRatioRepr")]
pub struct MarginRatio {
    /// The numerator: revenue minus cost; at most `revenue`.
    margin: i64,
    /// The denominator; positive.
    revenue: i64,
}

/// The serde form of a [`MarginRatio`], checked on the way in.
#[derive(Deserialize)]
struct MarginRatioRepr {
    margin: i64,
    revenue: i64,
}

impl TryFrom<MarginRatioRepr> for MarginRatio {
    type Error = StrategyError;
    fn try_from(repr: MarginRatioRepr) -> Result<Self, Self::Error> {
        MarginRatio::new(repr.margin, repr.revenue)
    }
}

/// The most decimals [`MarginRatio`]'s `Display` shows; a larger precision is clamped.
const MAX_PRECISION: usize = 16;

impl MarginRatio {
    /// The ratio `margin / revenue` of two amounts in the same unit (e.g. minor units).
    ///
    /// # Errors
    ///
    /// [`StrategyError::RevenueNotPositive`] when `revenue <= 0`;
    /// [`StrategyError::MarginAboveRevenue`] when `margin > revenue`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::{MarginRatio, StrategyError};
    /// assert_eq!(MarginRatio::new(1, 8)?.to_string(), "12.5%");
    /// assert_eq!(MarginRatio::new(-1, 8)?.to_string(), "-12.5%");
    /// assert_eq!(MarginRatio::new(1, 0), Err(StrategyError::RevenueNotPositive(0)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(margin: i64, revenue: i64) -> Result<MarginRatio, StrategyError> {
        if revenue <= 0 {
            return Err(StrategyError::RevenueNotPositive(revenue));
        }
        if margin > revenue {
            return Err(StrategyError::MarginAboveRevenue { margin, revenue });
        }
        Ok(MarginRatio { margin, revenue })
    }

    /// A margin of `bp` hundredths of a percent: 800 is 8%, -250 is -2.5%.
    ///
    /// # Errors
    ///
    /// [`StrategyError::MarginAbove100Percent`] above 10 000 (100%).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::MarginRatio;
    /// assert_eq!(MarginRatio::from_basis_points(1250)?.to_string(), "12.5%");
    /// assert!(MarginRatio::from_basis_points(10_001).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_basis_points(bp: i64) -> Result<MarginRatio, StrategyError> {
        if bp > 10_000 {
            return Err(StrategyError::MarginAbove100Percent(bp));
        }
        Ok(MarginRatio { margin: bp, revenue: 10_000 })
    }

    /// The margin of sales worth `revenue` that cost `cost`: `(revenue - cost) / revenue`.
    ///
    /// # Errors
    ///
    /// [`StrategyError::CurrencyMismatch`] when the currencies differ,
    /// [`StrategyError::RevenueNotPositive`] when the revenue is not positive and
    /// [`StrategyError::NegativeCost`] when the cost is negative.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money, strategy::MarginRatio};
    /// let egp = Currency::EGP;
    /// let ratio = MarginRatio::from_revenue_and_cost(Money::new(40_000, egp), Money::new(50_000, egp))?;
    /// assert_eq!(ratio.to_string(), "-25.0%"); // sold below cost
    /// assert_eq!(ratio.parts(), (-10_000, 40_000));
    /// assert!(MarginRatio::from_revenue_and_cost(Money::new(1, egp), Money::new(1, Currency::USD)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_revenue_and_cost(revenue: Money, cost: Money) -> Result<MarginRatio, StrategyError> {
        if revenue.currency() != cost.currency() {
            return Err(StrategyError::CurrencyMismatch { revenue: revenue.currency(), cost: cost.currency() });
        }
        if revenue.minor() <= 0 {
            return Err(StrategyError::RevenueNotPositive(revenue.minor()));
        }
        if cost.minor() < 0 {
            return Err(StrategyError::NegativeCost(cost));
        }
        // `revenue >= 1` and `cost >= 0`, so the difference is above `i64::MIN` and at most
        // the revenue.
        MarginRatio::new(revenue.minor() - cost.minor(), revenue.minor())
    }

    /// The fraction as `(margin, revenue)`, as given (not reduced).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::MarginRatio;
    /// assert_eq!(MarginRatio::from_basis_points(800)?.parts(), (800, 10_000));
    /// assert_eq!(MarginRatio::new(2, 8)?.parts(), (2, 8));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn parts(&self) -> (i64, i64) {
        (self.margin, self.revenue)
    }

    /// The ratio in basis points, rounded to the nearest with halves up (as
    /// [`Margin::basis_points`] rounds): at most 10 000, negative below cost.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::strategy::MarginRatio;
    /// assert_eq!(MarginRatio::new(2, 3)?.basis_points(), 6667);
    /// assert_eq!(MarginRatio::new(-1, 20_000)?.basis_points(), 0); // -0.5 bp rounds up
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn basis_points(&self) -> i64 {
        let (m, r) = (i128::from(self.margin), i128::from(self.revenue));
        // |m| * 20 000 < 2^63 * 2^15 = 2^78: no overflow in `i128`.
        let bp = (m * 20_000 + r).div_euclid(2 * r);
        // `m <= r`, so `bp <= 10_000`; below, `m >= i64::MIN` and `r >= 1` keep `bp` above
        // `i64::MIN * 10_000`, which may not fit: saturate.
        i64::try_from(bp).unwrap_or(i64::MIN)
    }

    /// Whether the ratio is at least `threshold`, compared exactly
    /// (`margin × 10 000 >= threshold × revenue`).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{segment::BasisPoints, strategy::MarginRatio};
    /// let third = MarginRatio::new(1, 3)?;
    /// assert!(third.at_least(BasisPoints::new(3333)?));
    /// assert!(!third.at_least(BasisPoints::new(3334)?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at_least(&self, threshold: BasisPoints) -> bool {
        i128::from(self.margin) * 10_000 >= i128::from(threshold.get()) * i128::from(self.revenue)
    }

    /// The fraction reduced to lowest terms, the key for hashing.
    fn reduced(&self) -> (i64, i64) {
        let g = gcd(self.margin.unsigned_abs(), self.revenue.unsigned_abs());
        // `revenue > 0`, so `g >= 1`; both divisions are exact and shrink the magnitudes, and
        // `g` fits in `i64` because it divides the positive `i64` revenue.
        match i64::try_from(g) {
            Ok(g) => (self.margin / g, self.revenue / g),
            Err(_) => (self.margin, self.revenue),
        }
    }
}

/// The greatest common divisor (Euclid), with `gcd(0, n) = n`.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl TryFrom<Margin> for MarginRatio {
    type Error = StrategyError;

    /// The average margin measured by segment analytics, exactly: its margin over its revenue
    /// in minor units (not its rounded basis points).
    fn try_from(margin: Margin) -> Result<Self, Self::Error> {
        MarginRatio::from_revenue_and_cost(margin.revenue(), margin.cost())
    }
}

impl PartialEq for MarginRatio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MarginRatio {}
impl PartialOrd for MarginRatio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MarginRatio {
    fn cmp(&self, other: &Self) -> Ordering {
        // Both denominators are positive, so cross-multiplying keeps the order; each product of
        // two `i64`s fits in `i128`.
        let left = i128::from(self.margin) * i128::from(other.revenue);
        let right = i128::from(other.margin) * i128::from(self.revenue);
        left.cmp(&right)
    }
}
impl hash::Hash for MarginRatio {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.reduced().hash(state);
    }
}

impl fmt::Display for MarginRatio {
    /// As a percentage, with one decimal unless a precision is given: `8.0%`, `{:.2}` `8.00%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = f.precision().unwrap_or(1).min(MAX_PRECISION);
        f.write_str(&percent_text(self.percent_scaled(decimals, Rounding::Nearest), decimals))
    }
}

/// How [`MarginRatio::percent_scaled`] rounds.
#[derive(Clone, Copy)]
enum Rounding {
    /// To the nearest, halves away from zero.
    Nearest,
    /// Towards negative infinity.
    Down,
}

impl MarginRatio {
    /// The ratio as a percentage times `10^decimals`, rounded to an integer: `8.25%` at one
    /// decimal is `83` (nearest) or `82` (down). `decimals` is at most [`MAX_PRECISION`].
    fn percent_scaled(&self, decimals: usize, rounding: Rounding) -> i128 {
        let decimals = decimals.min(MAX_PRECISION);
        // `decimals <= 16`, so the factor is at most 10^18 and `|margin| × factor < 2^63 ×
        // 2^60`, which fits in `i128`.
        let factor = 10i128.pow(u32::try_from(decimals + 2).unwrap_or(18));
        let (n, r) = (i128::from(self.margin) * factor, i128::from(self.revenue));
        match rounding {
            Rounding::Nearest => {
                let (q, rem) = (n / r, n % r);
                if 2 * rem.abs() >= r { q + n.signum() } else { q }
            }
            Rounding::Down => n.div_euclid(r),
        }
    }

    /// The ratio as a percentage for a sentence that also names its class: one decimal
    /// rounded to the nearest, unless that figure would fall in another class by `classify`
    /// (9.99% shown as `10.0%` when medium starts at 10%); then two decimals rounded down,
    /// which keeps the class for any threshold in whole basis points.
    pub(crate) fn percent_in_class<C: PartialEq>(&self, classify: impl Fn(MarginRatio) -> C) -> String {
        let shown = self.percent_scaled(1, Rounding::Nearest);
        // The figure shown, as a ratio: `shown / 1000`. A ratio at most 1 rounds to at most
        // 1000; one too negative for `i64` is in the lowest class either way.
        let same_class = match i64::try_from(shown) {
            Ok(shown) => MarginRatio::new(shown, 1_000).is_ok_and(|s| classify(s) == classify(*self)),
            Err(_) => true,
        };
        if same_class { percent_text(shown, 1) } else { percent_text(self.percent_scaled(2, Rounding::Down), 2) }
    }
}

/// `scaled / 10^decimals` followed by `%`: `percent_text(-125, 1)` is `-12.5%`.
fn percent_text(scaled: i128, decimals: usize) -> String {
    let sign = if scaled < 0 { "-" } else { "" };
    let q = scaled.unsigned_abs();
    let unit = 10u128.pow(u32::try_from(decimals).unwrap_or(16));
    if decimals == 0 {
        format!("{sign}{q}%")
    } else {
        format!("{sign}{}.{:0width$}%", q / unit, q % unit, width = decimals)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use proptest::prelude::*;

    use super::*;
    use crate::money::Currency;

    fn ratio(margin: i64, revenue: i64) -> MarginRatio {
        MarginRatio::new(margin, revenue).unwrap()
    }

    #[test]
    fn display_rounds_halves_away_from_zero() {
        let cases = [
            (ratio(1, 3), "33.3%"),
            (ratio(2, 3), "66.7%"),
            (ratio(-2, 3), "-66.7%"),
            (ratio(1, 2000), "0.1%"),   // 0.05% rounds away from zero
            (ratio(-1, 2000), "-0.1%"), // and so does -0.05%
            (ratio(-1, 3000), "0.0%"),  // -0.033% rounds to zero, shown without a sign
            (ratio(10, 10), "100.0%"),
            (ratio(i64::MIN + 1, i64::MAX), "-100.0%"),
        ];
        for (r, shown) in cases {
            assert_eq!(r.to_string(), shown, "{r:?}");
        }
        assert_eq!(format!("{:.0}", ratio(1, 8)), "13%");
        assert_eq!(format!("{:.3}", ratio(1, 8)), "12.500%");
        assert_eq!(format!("{:.40}", ratio(1, 3)), "33.3333333333333333%", "clamped to 16 decimals");
    }

    #[test]
    fn percent_in_class_never_shows_a_figure_of_another_class() {
        // Classes split at 10%: a figure from 10.0% up reads as the upper class.
        let classify = |r: MarginRatio| r >= ratio(1, 10);
        let cases = [
            (ratio(8, 100), "8.0%"),
            (ratio(999, 10_000), "9.99%"),            // 10.0% would read as the upper class
            (ratio(9_999_999, 100_000_000), "9.99%"), // rounded down, not up
            (ratio(1, 10), "10.0%"),
            (ratio(1_004, 10_000), "10.0%"), // rounded down to the threshold: still the upper class
            (ratio(-1, 3), "-33.3%"),
            (ratio(i64::MIN + 1, 1), "-922337203685477580700.0%"),
        ];
        for (r, shown) in cases {
            assert_eq!(r.percent_in_class(classify), shown, "{r:?}");
        }
    }

    #[test]
    fn constructors_check_their_invariants() {
        assert_eq!(MarginRatio::new(5, -1), Err(StrategyError::RevenueNotPositive(-1)));
        assert_eq!(MarginRatio::new(6, 5), Err(StrategyError::MarginAboveRevenue { margin: 6, revenue: 5 }));
        assert_eq!(MarginRatio::from_basis_points(10_001), Err(StrategyError::MarginAbove100Percent(10_001)));
        let usd = Currency::USD;
        assert_eq!(
            MarginRatio::from_revenue_and_cost(Money::new(0, usd), Money::new(0, usd)),
            Err(StrategyError::RevenueNotPositive(0))
        );
        assert_eq!(
            MarginRatio::from_revenue_and_cost(Money::new(10, usd), Money::new(-1, usd)),
            Err(StrategyError::NegativeCost(Money::new(-1, usd)))
        );
        // The extremes do not overflow.
        let r = MarginRatio::from_revenue_and_cost(Money::new(1, usd), Money::new(i64::MAX, usd)).unwrap();
        assert_eq!(r.parts(), (1 - i64::MAX, 1));
        assert_eq!(r.basis_points(), i64::MIN, "saturates");
        assert_eq!(MarginRatio::from_basis_points(i64::MIN).unwrap().basis_points(), i64::MIN);
    }

    #[test]
    fn serde_checks_the_invariants() {
        let r: MarginRatio = serde_json::from_str(r#"{"margin": 8, "revenue": 100}"#).unwrap();
        assert_eq!(r, MarginRatio::from_basis_points(800).unwrap());
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"margin":8,"revenue":100}"#);
        let err = serde_json::from_str::<MarginRatio>(r#"{"margin": 101, "revenue": 100}"#).unwrap_err();
        assert!(err.to_string().contains("more than the revenue"), "{err}");
        assert!(serde_json::from_str::<MarginRatio>(r#"{"margin": 0, "revenue": 0}"#).is_err());
    }

    proptest! {
        #[test]
        fn order_agrees_with_basis_points_and_thresholds(
            (m1, r1) in (1i64..=i64::MAX).prop_flat_map(|r| (i64::MIN..=r, Just(r))),
            (m2, r2) in (1i64..=i64::MAX).prop_flat_map(|r| (i64::MIN..=r, Just(r))),
            t in 0u32..=10_000,
        ) {
            let (a, b) = (ratio(m1, r1), ratio(m2, r2));
            if a <= b {
                prop_assert!(a.basis_points() <= b.basis_points());
            }
            let t = BasisPoints::new(t).unwrap();
            // A ratio at least the threshold is at least the threshold as a ratio, and back.
            let as_ratio = MarginRatio::from_basis_points(i64::from(t.get())).unwrap();
            prop_assert_eq!(a.at_least(t), a >= as_ratio);
        }

        #[test]
        fn equal_values_hash_alike(m in -10_000i64..=10_000, r in 1i64..=10_000, k in 1i64..=1_000_000) {
            prop_assume!(m <= r);
            let (a, b) = (ratio(m, r), ratio(m * k, r * k));
            prop_assert_eq!(a, b);
            let state = RandomState::new();
            prop_assert_eq!(state.hash_one(a), state.hash_one(b));
            prop_assert_eq!(a.to_string(), b.to_string());
        }
    }
}
