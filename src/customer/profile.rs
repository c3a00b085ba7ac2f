//! Who a customer is: name, birth date, gender, income, location, loyalty card and credit; and
//! what is derived from those as of a date (age, generation).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    money::Money,
    validation::{ValidationError, check_len, limits},
};

/// Gender, as the customer gave it.
///
/// # Example
///
/// ```
/// assert_eq!(clientele::Gender::default(), clientele::Gender::Unknown);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another gender.
    Other,
    /// Not given.
    #[default]
    Unknown,
}

impl Gender {
    /// Every gender, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Gender;
    /// let names: Vec<&str> = Gender::ALL.iter().map(|g| g.name()).collect();
    /// assert_eq!(names, ["female", "male", "other", "unknown"]);
    /// ```
    pub const ALL: [Gender; 4] = [Gender::Female, Gender::Male, Gender::Other, Gender::Unknown];

    /// The snake_case name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Gender::Unknown.name(), "unknown");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        }
    }
}

/// A generation by birth year, with Pew Research Center's boundaries.
///
/// | generation | born |
/// |---|---|
/// | Silent | 1928–1945 |
/// | Baby Boomer | 1946–1964 |
/// | Gen X | 1965–1980 |
/// | Millennial | 1981–1996 |
/// | Gen Z | 1997–2012 |
///
/// Birth years outside 1928–2012 belong to no generation here.
///
/// # Example
///
/// ```
/// use clientele::Generation;
/// assert_eq!(Generation::of_birth_year(1996), Some(Generation::Millennial));
/// assert_eq!(Generation::of_birth_year(1997), Some(Generation::GenZ));
/// assert_eq!(Generation::of_birth_year(2013), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Generation {
    /// Born 1928–1945.
    Silent,
    /// Born 1946–1964.
    BabyBoomer,
    /// Born 1965–1980.
    GenX,
    /// Born 1981–1996.
    Millennial,
    /// Born 1997–2012.
    GenZ,
}

impl Generation {
    /// Every generation, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Generation;
    /// // The generations follow one another without gaps.
    /// assert!(Generation::ALL.windows(2).all(|w| w[0].birth_years().1 + 1 == w[1].birth_years().0));
    /// assert_eq!(Generation::ALL[0].birth_years().0, 1928);
    /// ```
    pub const ALL: [Generation; 5] =
        [Generation::Silent, Generation::BabyBoomer, Generation::GenX, Generation::Millennial, Generation::GenZ];

    /// The first and last birth year, inclusive.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Generation::GenX.birth_years(), (1965, 1980));
    /// ```
    pub const fn birth_years(self) -> (i32, i32) {
        match self {
            Generation::Silent => (1928, 1945),
            Generation::BabyBoomer => (1946, 1964),
            Generation::GenX => (1965, 1980),
            Generation::Millennial => (1981, 1996),
            Generation::GenZ => (1997, 2012),
        }
    }

    /// The generation of someone born in `year`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Generation::of_birth_year(1950), Some(clientele::Generation::BabyBoomer));
    /// ```
    pub fn of_birth_year(year: i32) -> Option<Generation> {
        Generation::ALL.into_iter().find(|g| {
            let (first, last) = g.birth_years();
            (first..=last).contains(&year)
        })
    }

    /// The snake_case name: `silent`, `baby_boomer`, `gen_x`, `millennial`, `gen_z`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Generation::GenZ.name(), "gen_z");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Generation::Silent => "silent",
            Generation::BabyBoomer => "baby_boomer",
            Generation::GenX => "gen_x",
            Generation::Millennial => "millennial",
            Generation::GenZ => "gen_z",
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Completed years of age on `on` for someone born on `birth`; `None` if `on` is before birth.
///
/// Someone born on 29 February turns a year older on 1 March in common years.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::age_on;
///
/// let born = NaiveDate::from_ymd_opt(2000, 2, 29).unwrap();
/// assert_eq!(age_on(born, NaiveDate::from_ymd_opt(2001, 2, 28).unwrap()), Some(0));
/// assert_eq!(age_on(born, NaiveDate::from_ymd_opt(2001, 3, 1).unwrap()), Some(1));
/// assert_eq!(age_on(born, NaiveDate::from_ymd_opt(1999, 1, 1).unwrap()), None);
/// ```
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth {
        return None;
    }
    let years = on.year() - birth.year();
    let had_birthday = (on.month(), on.day()) >= (birth.month(), birth.day());
    u32::try_from(if had_birthday { years } else { years - 1 }).ok()
}

/// An ISO 3166-1 alpha-2 country code: two uppercase ASCII letters.
///
/// # Example
///
/// ```
/// use clientele::CountryCode;
/// let eg = CountryCode::new("eg")?;
/// assert_eq!(eg.as_str(), "EG");
/// assert!(CountryCode::new("EGY").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code, case-insensitively.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] unless `code` is two ASCII letters.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::CountryCode::new("E1").is_err());
    /// ```
    pub fn new(code: &str) -> Result<CountryCode, ValidationError> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(CountryCode([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(ValidationError::new(
                "country",
                format!("`{}` is not a two-letter country code", code.chars().take(16).collect::<String>()),
            )),
        }
    }

    /// The code, e.g. `"EG"`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::CountryCode::new("fr")?.as_str(), "FR");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}
impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl TryFrom<String> for CountryCode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CountryCode::new(&s)
    }
}
impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.as_str().to_owned()
    }
}

/// Where a customer lives.
///
/// # Example
///
/// ```
/// use clientele::{CountryCode, Location};
/// let loc = Location { country: Some(CountryCode::new("EG")?), region: None, city: Some("Cairo".into()) };
/// assert_eq!(loc.city.as_deref(), Some("Cairo"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Country.
    pub country: Option<CountryCode>,
    /// Region, state or governorate.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
}

/// The demographic profile of a customer.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::{Gender, Generation, Profile};
///
/// let mut p = Profile::new("Mona");
/// p.birth_date = NaiveDate::from_ymd_opt(1990, 6, 15);
/// p.gender = Gender::Female;
/// assert_eq!(p.generation(), Some(Generation::Millennial));
/// assert_eq!(p.age_on(NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()), Some(35));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Profile {
    /// The name to show (at most [`MAX_NAME_BYTES`](limits::MAX_NAME_BYTES)).
    pub display_name: String,
    /// Date of birth, if known.
    pub birth_date: Option<NaiveDate>,
    /// Gender.
    pub gender: Gender,
    /// Yearly income, if known.
    pub annual_income: Option<Money>,
    /// Where the customer lives.
    pub location: Location,
}

impl Profile {
    /// A profile with just a display name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Profile::new("Ali").display_name, "Ali");
    /// ```
    pub fn new(display_name: impl Into<String>) -> Profile {
        Profile { display_name: display_name.into(), ..Profile::default() }
    }

    /// Age in completed years on `on` (see [`age_on`]); `None` without a birth date.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// assert_eq!(clientele::Profile::new("x").age_on(NaiveDate::MIN), None);
    /// ```
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        age_on(self.birth_date?, on)
    }

    /// Generation by birth year; `None` without a birth date or outside 1928–2012.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Profile::new("x").generation(), None);
    /// ```
    pub fn generation(&self) -> Option<Generation> {
        Generation::of_birth_year(self.birth_date?.year())
    }

    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        check_len("profile.display_name", &self.display_name, limits::MAX_NAME_BYTES)?;
        if let Some(region) = &self.location.region {
            check_len("profile.location.region", region, limits::MAX_TEXT_BYTES)?;
        }
        if let Some(city) = &self.location.city {
            check_len("profile.location.city", city, limits::MAX_TEXT_BYTES)?;
        }
        if self.annual_income.is_some_and(|m| m.minor() < 0) {
            return Err(ValidationError::new("profile.annual_income", "must not be negative"));
        }
        Ok(())
    }
}

/// Membership of the loyalty programme: the card that records every purchase.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::Loyalty;
/// let card = Loyalty { card_id: "LC-0042".into(), joined: NaiveDate::from_ymd_opt(2025, 1, 5).unwrap() };
/// assert_eq!(card.card_id, "LC-0042");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Loyalty {
    /// The card's identifier.
    pub card_id: String,
    /// When the customer joined.
    pub joined: NaiveDate,
}

/// How creditworthy the customer is; a prospect with poor credit cannot be qualified.
///
/// # Example
///
/// ```
/// assert_eq!(clientele::CreditStanding::default(), clientele::CreditStanding::Unknown);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CreditStanding {
    /// Not assessed.
    #[default]
    Unknown,
    /// Good credit.
    Good,
    /// Acceptable credit.
    Fair,
    /// Low credit: a reason to disqualify a prospect.
    Poor,
}

impl CreditStanding {
    /// Every standing, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::CreditStanding;
    /// assert_eq!(CreditStanding::ALL[0], CreditStanding::default());
    /// assert_eq!(CreditStanding::ALL.map(CreditStanding::name), ["unknown", "good", "fair", "poor"]);
    /// ```
    pub const ALL: [CreditStanding; 4] =
        [CreditStanding::Unknown, CreditStanding::Good, CreditStanding::Fair, CreditStanding::Poor];

    /// The snake_case name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::CreditStanding::Poor.name(), "poor");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            CreditStanding::Unknown => "unknown",
            CreditStanding::Good => "good",
            CreditStanding::Fair => "fair",
            CreditStanding::Poor => "poor",
        }
    }
}
