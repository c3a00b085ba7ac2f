//! Exact decimal numbers, currencies and money. No floating point anywhere.
//!
//! [`Decimal`] is a fixed-point number (a 64-bit mantissa and a decimal scale of at most
//! [`Decimal::MAX_SCALE`]). [`Money`] is an amount in integer *minor units* (cents, piastres)
//! of a [`Currency`].

use std::{cmp::Ordering, fmt, hash, str::FromStr};

use serde::{Deserialize, Serialize};

/// An error from parsing a [`Decimal`], [`Currency`] or [`Money`].
///
/// # Example
///
/// ```
/// use clientele::Decimal;
///
/// let err = "12.3.4".parse::<Decimal>().unwrap_err();
/// assert!(err.to_string().contains("12.3.4"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// The text is not a decimal number such as `12`, `-3.50` or `0.001`.
    #[error("`{0}` is not a decimal number (expected digits with an optional sign and one `.`)")]
    Syntax(String),
    /// The number does not fit: more than 18 significant digits or decimals.
    #[error("`{0}` is out of range (at most 18 digits in all and 18 decimals)")]
    Range(String),
    /// The currency code is not three ASCII letters.
    #[error("`{0}` is not a currency code (expected three ASCII letters such as `EGP`)")]
    Currency(String),
    /// An amount has more decimals than its currency's minor unit allows.
    #[error("`{amount}` has more decimals than {currency} allows ({exponent})")]
    Precision {
        /// The amount as written.
        amount: String,
        /// The currency it was given in.
        currency: Currency,
        /// How many decimals the currency's minor unit has.
        exponent: u8,
    },
    /// Arithmetic on the amounts overflowed.
    #[error("amount overflow")]
    Overflow,
}

/// An exact decimal number: `mantissa × 10^-scale`.
///
/// Equality, ordering and hashing are by *value*, so `1.5 == 1.50`; [`Display`](fmt::Display)
/// keeps the scale the number was written with.
///
/// # Example
///
/// ```
/// use clientele::Decimal;
///
/// let a: Decimal = "500.00".parse()?;
/// let b = Decimal::new(5, -2)?; // 5 × 10^2
/// assert_eq!(a, b);
/// assert!(Decimal::new(49999, 2)? < a);
/// assert_eq!(a.to_string(), "500.00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Decimal {
    mantissa: i64,
    scale: u8,
}

impl Decimal {
    /// The largest number of decimals a [`Decimal`] carries.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert!(Decimal::new(1, i32::from(Decimal::MAX_SCALE)).is_ok());
    /// assert!(Decimal::new(1, 19).is_err());
    /// assert!("0.0000000000000000001".parse::<Decimal>().is_err()); // 19 decimals
    /// ```
    pub const MAX_SCALE: u8 = 18;
    /// Zero.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert_eq!(Decimal::ZERO, "0.00".parse::<Decimal>()?);
    /// assert_eq!(Decimal::ZERO.to_string(), "0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// `mantissa × 10^-scale`. A negative `scale` multiplies the mantissa by a power of ten.
    ///
    /// # Errors
    ///
    /// [`NumberError::Range`] when the scale exceeds [`Decimal::MAX_SCALE`] or the value does
    /// not fit.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert_eq!(Decimal::new(1234, 2)?.to_string(), "12.34");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(mantissa: i64, scale: i32) -> Result<Decimal, NumberError> {
        let range = || NumberError::Range(format!("{mantissa}e{}", -scale));
        if scale >= 0 {
            let scale = u8::try_from(scale).map_err(|_| range())?;
            if scale > Self::MAX_SCALE {
                return Err(range());
            }
            Ok(Decimal { mantissa, scale })
        } else {
            let factor = 10i64.checked_pow(scale.unsigned_abs()).ok_or_else(range)?;
            let mantissa = mantissa.checked_mul(factor).ok_or_else(range)?;
            Ok(Decimal { mantissa, scale: 0 })
        }
    }

    /// The whole number `n`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert_eq!(Decimal::from_int(7).to_string(), "7");
    /// ```
    pub const fn from_int(n: i64) -> Decimal {
        Decimal { mantissa: n, scale: 0 }
    }

    /// The mantissa: the digits as an integer.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert_eq!("-1.25".parse::<Decimal>()?.mantissa(), -125);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// The number of decimals.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// assert_eq!("1.250".parse::<Decimal>()?.scale(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn scale(self) -> u8 {
        self.scale
    }

    /// The value scaled to `scale` decimals as an integer, if that is exact and fits.
    ///
    /// This is how a decimal amount becomes minor units: `12.5` at scale 2 is `1250`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Decimal;
    /// let d: Decimal = "12.5".parse()?;
    /// assert_eq!(d.to_scaled(2), Some(1250));
    /// assert_eq!(d.to_scaled(0), None); // not exact
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_scaled(self, scale: u8) -> Option<i64> {
        if scale >= self.scale {
            let factor = 10i64.checked_pow(u32::from(scale - self.scale))?;
            self.mantissa.checked_mul(factor)
        } else {
            let factor = 10i64.checked_pow(u32::from(self.scale - scale))?;
            (self.mantissa % factor == 0).then_some(self.mantissa / factor)
        }
    }

    /// The value as an `i128` scaled to [`Decimal::MAX_SCALE`] decimals: exact for every
    /// `Decimal`, and the key for comparison and hashing.
    fn normalized(self) -> i128 {
        // 10^18 × i64::MAX < i128::MAX, so this never overflows.
        i128::from(self.mantissa) * 10i128.pow(u32::from(Self::MAX_SCALE - self.scale))
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}
impl Eq for Decimal {}
impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.normalized().cmp(&other.normalized())
    }
}
impl hash::Hash for Decimal {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, i128::from(self.mantissa), self.scale)
    }
}

/// Writes `value × 10^-scale` with exactly `scale` decimals.
fn write_scaled(f: &mut fmt::Formatter<'_>, value: i128, scale: u8) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if scale == 0 {
        return write!(f, "{sign}{abs}");
    }
    let factor = 10u128.pow(u32::from(scale));
    write!(f, "{sign}{}.{:0width$}", abs / factor, abs % factor, width = usize::from(scale))
}

impl FromStr for Decimal {
    type Err = NumberError;

    /// Parses `[+-]digits[.digits]`. No exponent, no separators, no spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || NumberError::Syntax(truncate(s));
        let range = || NumberError::Range(truncate(s));
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) || (body.contains('.') && frac.is_empty()) {
            return Err(syntax());
        }
        let scale = u8::try_from(frac.len()).map_err(|_| range())?;
        if scale > Self::MAX_SCALE {
            return Err(range());
        }
        let mut mantissa: i64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            let digit = i64::from(b - b'0');
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| if negative { m.checked_sub(digit) } else { m.checked_add(digit) })
                .ok_or_else(range)?;
        }
        Ok(Decimal { mantissa, scale })
    }
}

impl TryFrom<String> for Decimal {
    type Error = NumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Decimal> for String {
    fn from(d: Decimal) -> String {
        d.to_string()
    }
}

/// Echoes at most 64 bytes of hostile input in an error message.
fn truncate(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// An ISO 4217 currency code: three uppercase ASCII letters.
///
/// The number of decimals of the minor unit ([`Currency::exponent`]) is 2, except for the
/// currencies ISO 4217 gives 0 decimals (such as JPY, KRW) or 3 (such as KWD, BHD, TND).
///
/// # Example
///
/// ```
/// use clientele::Currency;
///
/// let egp: Currency = "egp".parse()?;
/// assert_eq!(egp.code(), "EGP");
/// assert_eq!(egp.exponent(), 2);
/// assert_eq!(Currency::new("JPY")?.exponent(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// ISO 4217 currencies whose minor unit is not a hundredth.
const EXPONENTS: &[(&[u8; 3], u8)] = &[
    (b"BHD", 3),
    (b"BIF", 0),
    (b"CLP", 0),
    (b"DJF", 0),
    (b"GNF", 0),
    (b"IQD", 3),
    (b"ISK", 0),
    (b"JOD", 3),
    (b"JPY", 0),
    (b"KMF", 0),
    (b"KRW", 0),
    (b"KWD", 3),
    (b"LYD", 3),
    (b"OMR", 3),
    (b"PYG", 0),
    (b"RWF", 0),
    (b"TND", 3),
    (b"UGX", 0),
    (b"VND", 0),
    (b"VUV", 0),
    (b"XAF", 0),
    (b"XOF", 0),
    (b"XPF", 0),
];

impl Currency {
    /// US dollar.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Currency;
    /// assert_eq!(Currency::USD, Currency::new("usd")?);
    /// assert_eq!(Currency::USD.exponent(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// assert_eq!(Money::new(1999, Currency::EUR).to_string(), "19.99 EUR");
    /// ```
    pub const EUR: Currency = Currency(*b"EUR");
    /// Pound sterling.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// assert_eq!(Money::parse("9.99", Currency::GBP)?.minor(), 999);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const GBP: Currency = Currency(*b"GBP");
    /// Egyptian pound.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Currency;
    /// assert_eq!(Currency::EGP.code(), "EGP");
    /// ```
    pub const EGP: Currency = Currency(*b"EGP");

    /// Parses a three-letter code, case-insensitively.
    ///
    /// # Errors
    ///
    /// [`NumberError::Currency`] unless `code` is three ASCII letters.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Currency;
    /// assert!(Currency::new("US$").is_err());
    /// ```
    pub fn new(code: &str) -> Result<Currency, NumberError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => {
                Ok(Currency([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err(NumberError::Currency(truncate(code))),
        }
    }

    /// The code, e.g. `"EGP"`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Currency;
    /// assert_eq!(Currency::new("usd")?.code(), "USD");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The number of decimals of the minor unit.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Currency;
    /// assert_eq!(Currency::new("KWD")?.exponent(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exponent(&self) -> u8 {
        EXPONENTS.iter().find(|(c, _)| **c == self.0).map_or(2, |&(_, e)| e)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl FromStr for Currency {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::new(s)
    }
}
impl TryFrom<String> for Currency {
    type Error = NumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::new(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

/// An amount of money: integer minor units of a [`Currency`].
///
/// # Example
///
/// ```
/// use clientele::{Currency, Money};
///
/// let egp = Currency::new("EGP")?;
/// let price = Money::parse("149.99", egp)?;
/// assert_eq!(price.minor(), 14999);
/// assert_eq!(price.to_string(), "149.99 EGP");
/// assert_eq!(price.checked_add(Money::new(1, egp)), Some(Money::new(15000, egp)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` minor units of `currency`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// let m = Money::new(250, Currency::new("USD")?);
    /// assert_eq!(m.to_string(), "2.50 USD");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount such as `"149.99"` in `currency`.
    ///
    /// # Errors
    ///
    /// A [`NumberError`] when the text is not a decimal number, has more decimals than the
    /// currency's minor unit, or does not fit in minor units.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// let jpy = Currency::new("JPY")?;
    /// assert_eq!(Money::parse("1500", jpy)?.minor(), 1500);
    /// assert!(Money::parse("1500.5", jpy).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, NumberError> {
        let decimal: Decimal = amount.parse()?;
        Money::from_decimal(decimal, currency)
    }

    /// Converts an exact decimal amount to minor units of `currency`.
    ///
    /// # Errors
    ///
    /// [`NumberError::Precision`] when the amount has more decimals than the minor unit,
    /// [`NumberError::Range`] when it has few enough but is too large in minor units.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Decimal, Money};
    /// let usd = Currency::new("USD")?;
    /// assert_eq!(Money::from_decimal(Decimal::new(5, 0)?, usd)?.minor(), 500);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_decimal(amount: Decimal, currency: Currency) -> Result<Money, NumberError> {
        let exponent = currency.exponent();
        amount.to_scaled(exponent).map(|minor| Money { minor, currency }).ok_or_else(|| {
            // Scaling up only fails on overflow; scaling down only when digits would be lost.
            if amount.scale() <= exponent {
                NumberError::Range(amount.to_string())
            } else {
                NumberError::Precision { amount: amount.to_string(), currency, exponent }
            }
        })
    }

    /// The amount in minor units.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// assert_eq!(Money::new(-5, Currency::new("USD")?).minor(), -5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// let usd = Currency::new("USD")?;
    /// assert_eq!(Money::new(1, usd).currency(), usd);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as an exact [`Decimal`] in major units.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// let m = Money::new(1999, Currency::new("USD")?);
    /// assert_eq!(m.to_decimal().to_string(), "19.99");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_decimal(&self) -> Decimal {
        Decimal { mantissa: self.minor, scale: self.currency.exponent() }
    }

    /// The sum, or `None` on overflow or when the currencies differ.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Money};
    /// let (usd, eur) = (Currency::new("USD")?, Currency::new("EUR")?);
    /// assert_eq!(Money::new(1, usd).checked_add(Money::new(1, eur)), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money { minor: self.minor.checked_add(other.minor)?, currency: self.currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, i128::from(self.minor), self.currency.exponent())?;
        write!(f, " {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        for (text, shown) in [("0", "0"), ("-0.50", "-0.50"), ("+12.340", "12.340"), ("7.", "")] {
            match text.parse::<Decimal>() {
                Ok(d) => assert_eq!(d.to_string(), shown),
                Err(e) => assert!(shown.is_empty(), "{text}: {e}"),
            }
        }
        for bad in ["", "-", ".", ".5", "-.5", "1e5", "1,5", " 1", "1.2.3", "--1", "0x10"] {
            assert!(matches!(bad.parse::<Decimal>(), Err(NumberError::Syntax(_))), "{bad}");
        }
        assert!(matches!("99999999999999999999".parse::<Decimal>(), Err(NumberError::Range(_))));
        assert_eq!("-9223372036854775808".parse::<Decimal>().map(|d| d.mantissa()), Ok(i64::MIN));
    }

    #[test]
    fn errors_echo_bounded_input() {
        let long = "9".repeat(10_000);
        let msg = long.parse::<Decimal>().unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }

    #[test]
    fn minor_units_follow_the_currency() -> Result<(), NumberError> {
        let kwd = Currency::new("kwd")?;
        assert_eq!(Money::parse("1.5", kwd)?.minor(), 1500);
        assert_eq!(Money::parse("1.5", kwd)?.to_string(), "1.500 KWD");
        assert!(matches!(Money::parse("0.0001", kwd), Err(NumberError::Precision { exponent: 3, .. })));
        Ok(())
    }

    proptest! {
        #[test]
        fn value_order_matches_integer_order(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, s in 0u8..6) {
            let da = Decimal::new(a, i32::from(s)).unwrap();
            let db = Decimal::new(b * 10, i32::from(s) + 1).unwrap();
            prop_assert_eq!(da.cmp(&db), a.cmp(&b));
            prop_assert_eq!(da == db, a == b);
        }

        #[test]
        fn display_round_trips(m in any::<i64>(), s in 0u8..=18) {
            let d = Decimal::new(m, i32::from(s)).unwrap();
            let back: Decimal = d.to_string().parse().unwrap();
            prop_assert_eq!(back.mantissa(), m);
            prop_assert_eq!(back.scale(), s);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Decimal>();
            let _ = Currency::new(&s);
        }
    }
}
