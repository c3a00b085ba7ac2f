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
pub fn field(name: &str) -> Term {
    Term(Operand::field(name))
}

/// A custom attribute, e.g. `attr("nps")` for `attr.nps`.
pub fn attr(name: &str) -> Term {
    Term(Operand::attr(name))
}

/// `purchases(last ...)`: the number of purchases in a trailing window.
pub fn purchases(last: Window) -> Term {
    Term(Operand::activity(Activity::Purchases, last))
}

/// `spent(last ...)`: the amount spent in a trailing window.
pub fn spent(last: Window) -> Term {
    Term(Operand::activity(Activity::Spent, last))
}

/// `segment "name"`: a reference to a named segment.
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
pub fn dec(text: &str) -> Result<Literal, crate::money::NumberError> {
    text.parse::<Decimal>().map(Literal::Decimal)
}

/// An operand waiting for its test.
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

    /// `= v`
    pub fn eq(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Eq, v)
    }

    /// `!= v`
    pub fn ne(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Ne, v)
    }

    /// `< v`
    pub fn lt(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Lt, v)
    }

    /// `<= v`
    pub fn le(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Le, v)
    }

    /// `> v`
    pub fn gt(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Gt, v)
    }

    /// `>= v`
    pub fn ge(self, v: impl Into<Literal>) -> Expr {
        self.cmp(CmpOp::Ge, v)
    }

    /// `in (values)`
    pub fn is_in<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::In { negated: false, values: lits(values) })
    }

    /// `not in (values)`
    pub fn not_in<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::In { negated: true, values: lits(values) })
    }

    /// `between low and high` (both included)
    pub fn between(self, low: impl Into<Literal>, high: impl Into<Literal>) -> Expr {
        self.test(Test::Between { negated: false, low: Spanned::bare(low.into()), high: Spanned::bare(high.into()) })
    }

    /// `not between low and high`
    pub fn not_between(self, low: impl Into<Literal>, high: impl Into<Literal>) -> Expr {
        self.test(Test::Between { negated: true, low: Spanned::bare(low.into()), high: Spanned::bare(high.into()) })
    }

    /// `has v`
    pub fn has(self, v: impl Into<Literal>) -> Expr {
        self.test(Test::Has(Spanned::bare(v.into())))
    }

    /// `has any (values)`
    pub fn has_any<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::HasAny(lits(values)))
    }

    /// `has all (values)`
    pub fn has_all<V: Into<Literal>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.test(Test::HasAll(lits(values)))
    }

    /// `contains "text"`
    pub fn contains(self, text: &str) -> Expr {
        self.test(Test::Contains(Spanned::bare(text.into())))
    }

    /// `starts with "text"`
    pub fn starts_with(self, text: &str) -> Expr {
        self.test(Test::StartsWith(Spanned::bare(text.into())))
    }

    /// `ends with "text"`
    pub fn ends_with(self, text: &str) -> Expr {
        self.test(Test::EndsWith(Spanned::bare(text.into())))
    }

    /// `is set`
    pub fn is_set(self) -> Expr {
        self.test(Test::IsSet { negated: false })
    }

    /// `is not set`
    pub fn is_not_set(self) -> Expr {
        self.test(Test::IsSet { negated: true })
    }

    /// `within N days|weeks|months`
    pub fn within(self, window: Window) -> Expr {
        self.test(Test::Within(window))
    }

    /// `before DATE`
    pub fn before(self, date: NaiveDate) -> Expr {
        self.test(Test::Before(Spanned::bare(Literal::Date(date))))
    }

    /// `after DATE`
    pub fn after(self, date: NaiveDate) -> Expr {
        self.test(Test::After(Spanned::bare(Literal::Date(date))))
    }

    /// The field on its own, as a yes/no test (e.g. `loyalty_member`).
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
