//! The Rust face of the segment language: build the same trees as the text and JSON forms,
//! with the compiler's help.
//!
//! ```
//! use clientele::{Stage, Window, segment::{Expr, build::{field, purchases, sym}}};
//!
//! let built = field("stage").is_in([Stage::Repeat, Stage::Client])
//!     .and(purchases(Window::days(90)).ge(3))
//!     .and(field("country").eq("EG").or(field("city").is_in(["Cairo", "Alexandria"])))
//!     .and(!field("loyalty_member").is_true());
//! let parsed: Expr = r#"stage in (repeat, client) and purchases(last 90 days) >= 3
//!     and (country = "EG" or city in ("Cairo", "Alexandria")) and not loyalty_member"#.parse()?;
//! assert_eq!(built, parsed);
//! assert_eq!(field("generation").eq(sym("millennial")).to_string(), "generation = millennial");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::NaiveDate;

use super::ast::{Activity, CmpOp, Condition, Expr, Literal, Operand, Spanned, Test};
use crate::{
    customer::{Channel, CreditStanding, Gender, Generation},
    lifecycle::Stage,
    money::Decimal,
    window::Window,
};

/// A built-in field, e.g. `field("age")`.
///
/// # Example
///
/// ```
/// use clientele::segment::{Expr, build::field};
/// let e = field("age").ge(18);
/// assert_eq!(e, "age >= 18".parse::<Expr>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn field(name: &str) -> Term {
    Term(Operand::field(name))
}

/// A custom attribute, e.g. `attr("nps")` for `attr.nps`.
///
/// # Example
///
/// ```
/// use clientele::segment::build::attr;
/// assert_eq!(attr("nps").ge(9).to_string(), "attr.nps >= 9");
/// ```
pub fn attr(name: &str) -> Term {
    Term(Operand::attr(name))
}

/// `purchases(last ...)`: the number of purchases in a trailing window.
///
/// # Example
///
/// ```
/// use clientele::{Window, segment::build::purchases};
/// assert_eq!(purchases(Window::days(90)).ge(3).to_string(), "purchases(last 90 days) >= 3");
/// ```
pub fn purchases(last: Window) -> Term {
    Term(Operand::activity(Activity::Purchases, last))
}

/// `spent(last ...)`: the amount spent in a trailing window.
///
/// # Example
///
/// ```
/// use clientele::{Window, segment::build::{dec, spent}};
/// let e = spent(Window::months(12)).gt(dec("1000.00")?);
/// assert_eq!(e.to_string(), "spent(last 12 months) > 1000.00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn spent(last: Window) -> Term {
    Term(Operand::activity(Activity::Spent, last))
}

/// `segment "name"`: a reference to a named segment.
///
/// # Example
///
/// ```
/// use clientele::segment::{Schema, Segment, build::{field, segment}};
/// let mut schema = Schema::default();
/// schema.define("vip", "spent > 1000.00")?;
/// let e = segment("vip").and(field("country").eq("EG"));
/// assert_eq!(e.to_string(), r#"segment "vip" and country = "EG""#);
/// assert!(Segment::from_expr(e, &schema).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn segment(name: &str) -> Expr {
    Expr::segment(name)
}

/// A bare name, for enumerated values such as `repeat` or `millennial`.
///
/// ```
/// use clientele::segment::{Literal, build::sym};
/// assert_eq!(sym("gen_z"), Literal::Symbol("gen_z".into()));
/// ```
pub fn sym(name: &str) -> Literal {
    Literal::Symbol(name.to_owned())
}

/// An exact decimal literal from text, e.g. `dec("500.00")`.
///
/// # Errors
///
/// A [`NumberError`](crate::NumberError) if the text is not a decimal number.
///
/// # Example
///
/// ```
/// use clientele::{Decimal, segment::{Literal, build::dec}};
/// assert_eq!(dec("500.00")?, Literal::Decimal(Decimal::new(50_000, 2)?));
/// assert!(dec("5e2").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dec(text: &str) -> Result<Literal, crate::money::NumberError> {
    text.parse::<Decimal>().map(Literal::Decimal)
}

/// An operand waiting for its test.
///
/// # Example
///
/// ```
/// use clientele::segment::build::{Term, field};
/// let age: Term = field("age");
/// assert_eq!(age.between(25, 40).to_string(), "age between 25 and 40");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term(Operand);

fn lits<V: Into<Literal>>(values: impl IntoIterator<Item = V>) -> Vec<Spanned<Literal>> {
    values.into_iter().map(|v| Spanned::bare(v.into())).collect()
}

impl Term {
    fn test(self, test: Test) -> Expr {
        Expr::Condition(Condition::new(self.0, test))
    }

    fn cmp(self, op: CmpOp, v: impl Into<Literal>) -> Expr {
        self.test(Test::Compare { op, value: Spanned::bare(v.into()) })
    }

    /// The test `= v`: equal to `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Stage, segment::build::field};
    /// assert_eq!(field("country").eq("EG").to_string(), r#"country = "EG""#);
    /// assert_eq!(field("stage").eq(Stage::Client).to_string(), "stage = client");
    /// ```
    pub fn eq(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Eq, v)
    }

    /// The test `!= v`: present and not equal to `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Gender, segment::build::field};
    /// assert_eq!(field("gender").ne(Gender::Unknown).to_string(), "gender != unknown");
    /// ```
    pub fn ne(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Ne, v)
    }

    /// The test `< v`: less than `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("age").lt(30).to_string(), "age < 30");
    /// ```
    pub fn lt(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Lt, v)
    }

    /// The test `<= v`: at most `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("referrals").le(2).to_string(), "referrals <= 2");
    /// ```
    pub fn le(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Le, v)
    }

    /// The test `> v`: greater than `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::{dec, field};
    /// assert_eq!(field("spent").gt(dec("500.00")?).to_string(), "spent > 500.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gt(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Gt, v)
    }

    /// The test `>= v`: at least `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("age").ge(18).to_string(), "age >= 18");
    /// ```
    pub fn ge(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Ge, v)
    }

    /// The test `in (values)`: equal to one of `values`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("city").is_in(["Cairo", "Giza"]).to_string(), r#"city in ("Cairo", "Giza")"#);
    /// ```
    pub fn is_in<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::In { negated: false, values: lits(values) })
    }

    /// The test `not in (values)`: present and equal to none of `values`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Stage, segment::build::field};
    /// let e = field("stage").not_in([Stage::Inactive, Stage::Lost]);
    /// assert_eq!(e.to_string(), "stage not in (inactive, lost)");
    /// ```
    pub fn not_in<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::In { negated: true, values: lits(values) })
    }

    /// The test `between low and high`, both ends included.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("age").between(25, 40).to_string(), "age between 25 and 40");
    /// ```
    pub fn between(self, low: impl Into<Literal>, high: impl Into<Literal>) -> Expr {
        self.test(Test::Between { negated: false, low: Spanned::bare(low.into()), high: Spanned::bare(high.into()) })
    }

    /// The test `not between low and high`: present and outside the range.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::segment::build::field;
    /// let (from, to) = ("1990-01-01".parse::<NaiveDate>()?, "1999-12-31".parse::<NaiveDate>()?);
    /// let e = field("birth_date").not_between(from, to);
    /// assert_eq!(e.to_string(), "birth_date not between 1990-01-01 and 1999-12-31");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn not_between(self, low: impl Into<Literal>, high: impl Into<Literal>) -> Expr {
        self.test(Test::Between { negated: true, low: Spanned::bare(low.into()), high: Spanned::bare(high.into()) })
    }

    /// The test `has v`: the set holds `v`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("interests").has("sports").to_string(), r#"interests has "sports""#);
    /// ```
    pub fn has(self, v: impl Into<Literal>) -> Expr {
        self.test(Test::Has(Spanned::bare(v.into())))
    }

    /// The test `has any (values)`: the set holds at least one of `values`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, segment::build::field};
    /// let e = field("channels").has_any([Channel::Web, Channel::Tv]);
    /// assert_eq!(e.to_string(), "channels has any (web, tv)");
    /// ```
    pub fn has_any<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::HasAny(lits(values)))
    }

    /// The test `has all (values)`: the set holds every one of `values`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// let e = field("interests").has_all(["sports", "travel"]);
    /// assert_eq!(e.to_string(), r#"interests has all ("sports", "travel")"#);
    /// ```
    pub fn has_all<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::HasAll(lits(values)))
    }

    /// The test `contains "text"`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment, build::field}};
    /// let e = field("city").contains("ANDR");
    /// assert_eq!(e.to_string(), r#"city contains "ANDR""#);
    ///
    /// // Text tests ignore the case of ASCII letters.
    /// let segment = Segment::from_expr(e, &Schema::default())?;
    /// let mut c = Customer::new(CustomerId::new(1), "Mona", DateTime::UNIX_EPOCH);
    /// c.profile.location.city = Some("Alexandria".into());
    /// assert!(segment.matches(&c, DateTime::UNIX_EPOCH));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(self, text: &str) -> Expr {
        self.test(Test::Contains(Spanned::bare(text.into())))
    }

    /// The test `starts with "text"`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("city").starts_with("Al").to_string(), r#"city starts with "Al""#);
    /// ```
    pub fn starts_with(self, text: &str) -> Expr {
        self.test(Test::StartsWith(Spanned::bare(text.into())))
    }

    /// The test `ends with "text"`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("region").ends_with("shire").to_string(), r#"region ends with "shire""#);
    /// ```
    pub fn ends_with(self, text: &str) -> Expr {
        self.test(Test::EndsWith(Spanned::bare(text.into())))
    }

    /// The test `is set`: the value is present (for sets, not empty).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::attr;
    /// assert_eq!(attr("survey_done").is_set().to_string(), "attr.survey_done is set");
    /// ```
    pub fn is_set(self) -> Expr {
        self.test(Test::IsSet { negated: false })
    }

    /// The test `is not set`: the value is missing (for sets, empty).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("birth_date").is_not_set().to_string(), "birth_date is not set");
    /// ```
    pub fn is_not_set(self) -> Expr {
        self.test(Test::IsSet { negated: true })
    }

    /// The test `within N days|weeks|months`: in the trailing window, as of the evaluation
    /// instant.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Window, segment::build::field};
    /// let e = field("last_purchase").within(Window::days(30));
    /// assert_eq!(e.to_string(), "last_purchase within 30 days");
    /// ```
    pub fn within(self, window: Window) -> Expr {
        self.test(Test::Within(window))
    }

    /// The test `before DATE`: strictly before that day.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::segment::build::field;
    /// let e = field("created_at").before("2026-01-01".parse::<NaiveDate>()?);
    /// assert_eq!(e.to_string(), "created_at before 2026-01-01");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn before(self, date: NaiveDate) -> Expr {
        self.test(Test::Before(Spanned::bare(Literal::Date(date))))
    }

    /// The test `after DATE`: strictly after that day.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use clientele::segment::build::field;
    /// let e = field("loyalty_joined").after("2025-12-31".parse::<NaiveDate>()?);
    /// assert_eq!(e.to_string(), "loyalty_joined after 2025-12-31");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn after(self, date: NaiveDate) -> Expr {
        self.test(Test::After(Spanned::bare(Literal::Date(date))))
    }

    /// The field on its own, as a yes/no test (e.g. `loyalty_member`).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::build::field;
    /// assert_eq!(field("loyalty_member").is_true().to_string(), "loyalty_member");
    /// assert_eq!((!field("exclusive").is_true()).to_string(), "not exclusive");
    /// ```
    pub fn is_true(self) -> Expr {
        self.test(Test::IsTrue)
    }
}

impl Expr {
    /// `self and other`, extending `self` if it is already an `and`.
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// let e = Expr::Const(true).and(Expr::Const(false)).and(Expr::Const(true));
    /// assert_eq!(e.to_string(), "true and false and true");
    /// ```
    #[must_use]
    pub fn and(self, other: Expr) -> Expr {
        match self {
            Expr::And(mut items) => {
                items.push(other);
                Expr::And(items)
            }
            first => Expr::And(vec![first, other]),
        }
    }

    /// `self or other`, extending `self` if it is already an `or`.
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// assert_eq!(Expr::Const(true).or(Expr::Const(false)).to_string(), "true or false");
    /// ```
    #[must_use]
    pub fn or(self, other: Expr) -> Expr {
        match self {
            Expr::Or(mut items) => {
                items.push(other);
                Expr::Or(items)
            }
            first => Expr::Or(vec![first, other]),
        }
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;
    /// `not self`.
    fn not(self) -> Expr {
        Expr::negate(self)
    }
}

impl From<i64> for Literal {
    fn from(v: i64) -> Literal {
        Literal::Int(v)
    }
}
impl From<i32> for Literal {
    fn from(v: i32) -> Literal {
        Literal::Int(i64::from(v))
    }
}
impl From<u32> for Literal {
    fn from(v: u32) -> Literal {
        Literal::Int(i64::from(v))
    }
}
impl From<Decimal> for Literal {
    fn from(v: Decimal) -> Literal {
        Literal::Decimal(v)
    }
}
impl From<&str> for Literal {
    fn from(v: &str) -> Literal {
        Literal::Text(v.to_owned())
    }
}
impl From<String> for Literal {
    fn from(v: String) -> Literal {
        Literal::Text(v)
    }
}
impl From<NaiveDate> for Literal {
    fn from(v: NaiveDate) -> Literal {
        Literal::Date(v)
    }
}
impl From<bool> for Literal {
    fn from(v: bool) -> Literal {
        Literal::Bool(v)
    }
}
impl From<Stage> for Literal {
    fn from(v: Stage) -> Literal {
        sym(v.name())
    }
}
impl From<Channel> for Literal {
    fn from(v: Channel) -> Literal {
        sym(v.name())
    }
}
impl From<Gender> for Literal {
    fn from(v: Gender) -> Literal {
        sym(v.name())
    }
}
impl From<Generation> for Literal {
    fn from(v: Generation) -> Literal {
        sym(v.name())
    }
}
impl From<CreditStanding> for Literal {
    fn from(v: CreditStanding) -> Literal {
        sym(v.name())
    }
}
