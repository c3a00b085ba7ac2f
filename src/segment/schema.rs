//! What segments can talk about: the built-in fields, the declared custom attributes, the
//! currency of money literals, and named segments that others may refer to.

use std::{collections::BTreeMap, sync::Arc};

use serde::{Deserialize, Serialize};

use super::{
    Limits,
    ast::Expr,
    error::{ErrorKind, SegmentError},
};
use crate::{money::Currency, rfm::RfmScores};

/// A built-in field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Field {
    Stage,
    Gender,
    Generation,
    Credit,
    Age,
    BirthDate,
    Country,
    Region,
    City,
    Interests,
    Lifestyle,
    Needs,
    Channels,
    PreferredChannels,
    OptedOutChannels,
    LoyaltyMember,
    LoyaltyJoined,
    Referrals,
    Exclusive,
    Purchases,
    Spent,
    FirstPurchase,
    LastPurchase,
    CreatedAt,
    StageSince,
    Income,
    RfmR,
    RfmF,
    RfmM,
    RfmGroup,
}

/// The type of a field or attribute, which decides the tests that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FieldType {
    Bool,
    Int,
    Money,
    Decimal,
    Text,
    Country,
    Date,
    Instant,
    Stage,
    Gender,
    Generation,
    Credit,
    Tags,
    Channels,
    TextList,
    RfmGroup,
}

impl FieldType {
    /// How the type reads in messages and docs.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            FieldType::Bool => "a yes/no value",
            FieldType::Int => "a whole number",
            FieldType::Money => "an amount of money",
            FieldType::Decimal => "a decimal number",
            FieldType::Text => "text",
            FieldType::Country => "a two-letter country code",
            FieldType::Date => "a date",
            FieldType::Instant => "a date and time",
            FieldType::Stage => "a lifecycle stage",
            FieldType::Gender => "a gender",
            FieldType::Generation => "a generation",
            FieldType::Credit => "a credit standing",
            FieldType::Tags => "a set of tags",
            FieldType::Channels => "a set of channels",
            FieldType::TextList => "a list of texts",
            FieldType::RfmGroup => "an RFM group",
        }
    }
}

/// One built-in field, for documentation and for segment builder user interfaces.
///
/// # Example
///
/// ```
/// use clientele::segment::Schema;
/// let age = Schema::fields().iter().find(|f| f.name == "age").unwrap();
/// assert_eq!(age.kind, "a whole number");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct FieldInfo {
    /// The name used in segment text.
    pub name: &'static str,
    /// The type, in words.
    pub kind: &'static str,
    /// What the field is.
    pub description: &'static str,
    #[serde(skip)]
    pub(crate) field: Field,
    #[serde(skip)]
    pub(crate) ty: FieldType,
}

const fn info(
    name: &'static str,
    field: Field,
    ty: FieldType,
    kind: &'static str,
    description: &'static str,
) -> FieldInfo {
    FieldInfo { name, kind, description, field, ty }
}

use Field as F;
use FieldType as T;

/// Every built-in field, in documentation order.
static FIELDS: &[FieldInfo] = &[
    info(
        "stage",
        F::Stage,
        T::Stage,
        "a lifecycle stage",
        "the lifecycle stage (suspect, prospect, disqualified_prospect, first_time, repeat, client, advocate, partner, inactive, lost)",
    ),
    info("gender", F::Gender, T::Gender, "a gender", "female, male, other or unknown"),
    info(
        "generation",
        F::Generation,
        T::Generation,
        "a generation",
        "silent, baby_boomer, gen_x, millennial or gen_z, from the birth year (missing without a birth date or outside 1928-2012)",
    ),
    info("credit", F::Credit, T::Credit, "a credit standing", "unknown, good, fair or poor"),
    info(
        "age",
        F::Age,
        T::Int,
        "a whole number",
        "completed years of age on the evaluation date (missing without a birth date, or before it)",
    ),
    info("birth_date", F::BirthDate, T::Date, "a date", "date of birth"),
    info("country", F::Country, T::Country, "a two-letter country code", "ISO 3166 country code"),
    info("region", F::Region, T::Text, "text", "region, state or governorate"),
    info("city", F::City, T::Text, "text", "city"),
    info("interests", F::Interests, T::Tags, "a set of tags", "interests"),
    info("lifestyle", F::Lifestyle, T::Tags, "a set of tags", "lifestyle tags"),
    info("needs", F::Needs, T::Tags, "a set of tags", "expressed needs"),
    info(
        "channels",
        F::Channels,
        T::Channels,
        "a set of channels",
        "channels the customer can be reached by: preferred and not opted out",
    ),
    info("preferred_channels", F::PreferredChannels, T::Channels, "a set of channels", "channels the customer prefers"),
    info("opted_out_channels", F::OptedOutChannels, T::Channels, "a set of channels", "channels the customer refused"),
    info("loyalty_member", F::LoyaltyMember, T::Bool, "a yes/no value", "holds a loyalty card"),
    info("loyalty_joined", F::LoyaltyJoined, T::Date, "a date", "when the customer joined the loyalty programme"),
    info("referrals", F::Referrals, T::Int, "a whole number", "people the customer has referred"),
    info("exclusive", F::Exclusive, T::Bool, "a yes/no value", "buys only from us among similar goods"),
    info(
        "purchases",
        F::Purchases,
        T::Int,
        "a whole number",
        "purchases made up to the evaluation instant; `purchases(last N days)` counts a trailing window",
    ),
    info(
        "spent",
        F::Spent,
        T::Money,
        "an amount of money",
        "spent up to the evaluation instant, in the schema's currency; `spent(last N days)` sums a trailing window",
    ),
    info(
        "first_purchase",
        F::FirstPurchase,
        T::Instant,
        "a date and time",
        "the first purchase up to the evaluation instant",
    ),
    info(
        "last_purchase",
        F::LastPurchase,
        T::Instant,
        "a date and time",
        "the latest purchase up to the evaluation instant",
    ),
    info("created_at", F::CreatedAt, T::Instant, "a date and time", "when the customer entered the CRM"),
    info("stage_since", F::StageSince, T::Instant, "a date and time", "when the current stage began"),
    info(
        "income",
        F::Income,
        T::Money,
        "an amount of money",
        "yearly income, in the schema's currency (missing if unknown or in another currency)",
    ),
    info(
        "rfm.r",
        F::RfmR,
        T::Int,
        "a whole number",
        "RFM recency score, 1 to 5, from the schema's RFM scores (missing without them or for a customer they do not score)",
    ),
    info("rfm.f", F::RfmF, T::Int, "a whole number", "RFM frequency score, 1 to 5 (missing as for rfm.r)"),
    info("rfm.m", F::RfmM, T::Int, "a whole number", "RFM monetary score, 1 to 5 (missing as for rfm.r)"),
    info(
        "rfm.group",
        F::RfmGroup,
        T::RfmGroup,
        "an RFM group",
        "RFM group: champions, loyal, potential_loyalist, new, promising, need_attention, about_to_sleep, at_risk, cannot_lose, hibernating, lost (missing as for rfm.r)",
    ),
];

/// The type of a custom attribute, declared in the [`Schema`].
///
/// # Example
///
/// ```
/// use clientele::segment::AttrType;
/// assert_eq!(serde_json::to_string(&AttrType::TextList)?, r#""text_list""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttrType {
    /// [`AttrValue::Bool`](crate::AttrValue::Bool).
    Bool,
    /// [`AttrValue::Int`](crate::AttrValue::Int).
    Int,
    /// [`AttrValue::Decimal`](crate::AttrValue::Decimal).
    Decimal,
    /// [`AttrValue::Money`](crate::AttrValue::Money), in the schema's currency.
    Money,
    /// [`AttrValue::Text`](crate::AttrValue::Text).
    Text,
    /// [`AttrValue::Date`](crate::AttrValue::Date).
    Date,
    /// [`AttrValue::TextList`](crate::AttrValue::TextList).
    TextList,
}

impl AttrType {
    pub(crate) fn field_type(self) -> FieldType {
        match self {
            AttrType::Bool => FieldType::Bool,
            AttrType::Int => FieldType::Int,
            AttrType::Decimal => FieldType::Decimal,
            AttrType::Money => FieldType::Money,
            AttrType::Text => FieldType::Text,
            AttrType::Date => FieldType::Date,
            AttrType::TextList => FieldType::TextList,
        }
    }
}

/// What segments are checked against: custom attribute types, the currency of money
/// literals, named segments, and limits.
///
/// An attribute whose stored value has another type than declared (or money in another
/// currency) counts as *missing* for that customer.
///
/// # Example
///
/// ```
/// use clientele::{Currency, segment::{AttrType, Schema}};
/// let mut schema = Schema::new(Currency::new("EGP")?)
///     .with_attribute("nps", AttrType::Int)?
///     .with_attribute("survey_done", AttrType::Bool)?;
/// schema.define("high_value", "spent(last 365 days) > 5000.00")?;
/// assert!(schema.segment("high_value").is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    currency: Currency,
    rfm: Option<Arc<RfmScores>>,
    attributes: BTreeMap<String, AttrType>,
    segments: BTreeMap<String, Expr>,
    limits: Limits,
}

impl Default for Schema {
    /// A schema in US dollars with no attributes or named segments.
    fn default() -> Self {
        Schema::new(Currency::USD)
    }
}

impl Schema {
    /// A schema whose money literals are in `currency`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, segment::Schema};
    /// assert_eq!(Schema::new(Currency::new("EUR")?).currency().code(), "EUR");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(currency: Currency) -> Schema {
        Schema {
            currency,
            rfm: None,
            attributes: BTreeMap::new(),
            segments: BTreeMap::new(),
            limits: Limits::default(),
        }
    }

    /// The built-in fields.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::segment::Schema::fields().iter().any(|f| f.name == "last_purchase"));
    /// ```
    pub fn fields() -> &'static [FieldInfo] {
        FIELDS
    }

    pub(crate) fn field(name: &str) -> Option<&'static FieldInfo> {
        FIELDS.iter().find(|f| f.name == name)
    }

    /// The currency of money literals and money fields.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, segment::Schema};
    /// assert_eq!(Schema::default().currency(), Currency::USD);
    /// assert_eq!(Schema::new(Currency::EGP).currency(), Currency::EGP);
    /// ```
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The same schema with RFM scores, which the fields `rfm.r`, `rfm.f`, `rfm.m` and
    /// `rfm.group` read. Segments compiled against the schema keep these scores: after
    /// computing new scores, compile the segments again (it takes microseconds).
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use clientele::{Currency, rfm::{RfmConfig, RfmScores}, segment::{Schema, Segment}, synth::Population};
    ///
    /// let population = Population::new(3);
    /// let customers = population.customers(500);
    /// let config = RfmConfig { currency: Currency::EGP, ..RfmConfig::default() };
    /// let scores = RfmScores::compute(&customers, population.as_of(), &config)?;
    /// let schema = Schema::new(Currency::EGP).with_rfm(Arc::new(scores));
    /// let champions = Segment::compile("rfm.group = champions", &schema)?;
    /// let n = customers.iter().filter(|c| champions.matches(c, population.as_of())).count();
    /// assert!(n > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_rfm(mut self, scores: Arc<RfmScores>) -> Schema {
        self.rfm = Some(scores);
        self
    }

    /// The RFM scores `rfm.*` fields read, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::segment::Schema::default().rfm().is_none());
    /// ```
    pub fn rfm(&self) -> Option<&Arc<RfmScores>> {
        self.rfm.as_ref()
    }

    /// The limits that segment text and trees are held to.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Limits, Schema};
    /// assert_eq!(Schema::default().limits(), &Limits::default());
    /// assert_eq!(Schema::default().limits().max_depth, 64);
    /// ```
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The same schema with other limits.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Limits, Schema};
    /// let s = Schema::default().with_limits(Limits { max_depth: 8, ..Limits::default() });
    /// assert_eq!(s.limits().max_depth, 8);
    /// ```
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Schema {
        self.limits = limits;
        self
    }

    /// Declares a custom attribute, usable as `attr.NAME`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadName`] unless `name` is a lowercase identifier.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{AttrType, Schema};
    /// assert!(Schema::default().with_attribute("Bad-Name", AttrType::Int).is_err());
    /// ```
    pub fn with_attribute(mut self, name: &str, ty: AttrType) -> Result<Schema, SegmentError> {
        check_name(name)?;
        self.attributes.insert(name.to_owned(), ty);
        Ok(self)
    }

    /// The declared type of attribute `name`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{AttrType, Schema};
    /// let schema = Schema::default().with_attribute("nps", AttrType::Int)?;
    /// assert_eq!(schema.attribute("nps"), Some(AttrType::Int));
    /// assert_eq!(schema.attribute("survey_done"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attribute(&self, name: &str) -> Option<AttrType> {
        self.attributes.get(name).copied()
    }

    /// The declared attributes, by name.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{AttrType, Schema};
    /// let schema = Schema::default()
    ///     .with_attribute("survey_done", AttrType::Bool)?
    ///     .with_attribute("nps", AttrType::Int)?;
    /// let declared: Vec<_> = schema.attributes().collect();
    /// assert_eq!(declared, [("nps", AttrType::Int), ("survey_done", AttrType::Bool)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attributes(&self) -> impl Iterator<Item = (&str, AttrType)> {
        self.attributes.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Defines (or redefines) the named segment `name` from text, for `segment "name"`
    /// references. References are resolved, and cycles detected, when a segment using them
    /// is compiled.
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] if the text does not parse or the name is too long.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Schema;
    /// let mut s = Schema::default();
    /// assert!(s.define("broken", "age >").is_err());
    /// ```
    pub fn define(&mut self, name: &str, text: &str) -> Result<(), SegmentError> {
        let expr = Expr::parse_with(text, &self.limits)?;
        self.define_expr(name, expr)
    }

    /// Defines the named segment `name` from a tree.
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] if the tree breaks a limit or a rule the parser enforces (see
    /// [`Expr::validate`]), or the name is too long.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment, build::field};
    /// let mut schema = Schema::default();
    /// schema.define_expr("adults", field("age").ge(18))?;
    /// assert!(Segment::compile(r#"segment "adults" and loyalty_member"#, &schema).is_ok());
    /// assert!(schema.define_expr(&"x".repeat(2_000), field("age").ge(18)).is_err()); // name too long
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn define_expr(&mut self, name: &str, expr: Expr) -> Result<(), SegmentError> {
        if name.len() > self.limits.max_literal_bytes {
            let kind = ErrorKind::LiteralTooLong { len: name.len(), max: self.limits.max_literal_bytes };
            return Err(SegmentError::new(kind, None));
        }
        expr.validate(&self.limits)?;
        self.segments.insert(name.to_owned(), expr);
        Ok(())
    }

    /// The definition of the named segment.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Schema;
    /// let mut schema = Schema::default();
    /// schema.define("adults", "age >= 18")?;
    /// assert_eq!(schema.segment("adults").map(ToString::to_string).as_deref(), Some("age >= 18"));
    /// assert!(schema.segment("minors").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segment(&self, name: &str) -> Option<&Expr> {
        self.segments.get(name)
    }

    /// The named segments, by name.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Schema;
    /// let mut schema = Schema::default();
    /// schema.define("referrers", "referrals >= 1")?;
    /// schema.define("adults", "age >= 18")?;
    /// let names: Vec<&str> = schema.segments().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["adults", "referrers"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segments(&self) -> impl Iterator<Item = (&str, &Expr)> {
        self.segments.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Attribute names follow the rule of every name in a segment (see `validate`).
fn check_name(name: &str) -> Result<(), SegmentError> {
    super::validate::check_name(&super::ast::Spanned::bare(name.to_owned()))
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance over characters, with one row of memory.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_follow_the_name_rules() {
        for bad in ["and", "not", "Tier", "9lives", "with space", ""] {
            assert!(Schema::default().with_attribute(bad, AttrType::Int).is_err(), "{bad:?}");
        }
        assert!(Schema::default().with_attribute("survey_2026", AttrType::Int).is_ok());
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let names = FIELDS.iter().map(|f| f.name);
        assert_eq!(suggest("agee", names.clone()), Some("age".into()));
        assert_eq!(suggest("contry", names.clone()), Some("country".into()));
        assert_eq!(suggest("lastpurchase", names.clone()), Some("last_purchase".into()));
        assert_eq!(suggest("zzzzzz", names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn field_names_are_unique_identifiers() {
        for (i, f) in FIELDS.iter().enumerate() {
            // `rfm.NAME` is the one dotted name: the parser reads `rfm` `.` NAME.
            let plain = f.name.strip_prefix("rfm.").unwrap_or(f.name);
            assert!(check_name(plain).is_ok(), "{}", f.name);
            assert!(FIELDS[..i].iter().all(|g| g.name != f.name), "{} twice", f.name);
            assert_eq!(f.kind, f.ty.describe(), "{}", f.name);
        }
    }
}
