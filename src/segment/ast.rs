//! The segment language's syntax tree: what the text, JSON and builder faces share.
//!
//! The tree is faithful to the text (parentheses that group `and` inside `and` stay as
//! nesting) and carries source [`Span`]s for error messages. Spans are not part of a node's
//! value: two trees that differ only in spans are equal, and the JSON form leaves them out.

use std::{fmt, hash};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{money::Decimal, window::Window};

/// A byte range in segment source text.
///
/// # Example
///
/// ```
/// use clientele::segment::Span;
/// let s = Span::new(4, 9);
/// assert_eq!((s.start, s.end), (4, 9));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::Span::new(1, 2).end, 2);
    /// ```
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub(crate) fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A value with the source span it came from; the span is not part of its value.
///
/// # Example
///
/// ```
/// use clientele::segment::{Span, Spanned};
/// assert_eq!(Spanned::new(7, Span::new(0, 1)), Spanned::new(7, Span::new(5, 6)));
/// assert_eq!(*Spanned::new(7, Span::default()).value(), 7);
/// ```
#[derive(Clone, Copy)]
pub struct Spanned<T> {
    value: T,
    span: Span,
}

impl<T> Spanned<T> {
    /// `value` from `span`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Span, Spanned};
    /// let name = Spanned::new("age", Span::new(0, 3));
    /// assert_eq!((*name.value(), name.span()), ("age", Span::new(0, 3)));
    /// ```
    pub const fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }

    /// `value` with no source (built in Rust or read from JSON).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Span, Spanned};
    /// assert_eq!(Spanned::bare("x").span(), Span::default());
    /// ```
    pub fn bare(value: T) -> Spanned<T> {
        Spanned { value, span: Span::default() }
    }

    /// The value.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Span, Spanned};
    /// assert_eq!(Spanned::new(42, Span::new(6, 8)).value(), &42);
    /// ```
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Where it came from in the source ([`Span::default`] when there was no source).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Span, Spanned};
    /// assert_eq!(Spanned::new('x', Span::new(2, 3)).span(), Span::new(2, 3));
    /// assert_eq!(Spanned::bare('x').span(), Span::default());
    /// ```
    pub fn span(&self) -> Span {
        self.span
    }

    /// Takes the value out.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Span, Spanned};
    /// let name: String = Spanned::new(String::from("vip"), Span::new(8, 13)).into_value();
    /// assert_eq!(name, "vip");
    /// ```
    pub fn into_value(self) -> T {
        self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}
impl<T: hash::Hash> hash::Hash for Spanned<T> {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}
impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}..{}", self.value, self.span.start, self.span.end)
    }
}
impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Spanned::bare)
    }
}

/// A literal value in a condition.
///
/// In JSON, a literal names its type: `{"int": 3}`, `{"decimal": "500.00"}`, `{"text": "EG"}`,
/// `{"date": "2026-01-31"}`, `{"symbol": "repeat"}`, `{"bool": true}`.
///
/// # Example
///
/// ```
/// use clientele::segment::Literal;
/// assert_eq!(Literal::Text("Cairo".into()).to_string(), r#""Cairo""#);
/// assert_eq!(Literal::Symbol("gen_z".into()).to_string(), "gen_z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Literal {
    /// A whole number, e.g. `3` or `-2`.
    Int(i64),
    /// An exact decimal number, e.g. `500.00`.
    Decimal(Decimal),
    /// A quoted string, e.g. `"Cairo"`.
    Text(String),
    /// An ISO 8601 date, e.g. `2026-01-31`.
    Date(NaiveDate),
    /// A bare name of an enumerated value, e.g. `repeat`, `millennial`, `web`.
    Symbol(String),
    /// `true` or `false`.
    Bool(bool),
}

/// A windowed activity function.
///
/// # Example
///
/// ```
/// use clientele::segment::Activity;
/// assert_eq!(Activity::Spent.name(), "spent");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Activity {
    /// `purchases(last N unit)`: how many purchases in the window.
    Purchases,
    /// `spent(last N unit)`: the amount spent in the window, in the schema's currency.
    Spent,
}

impl Activity {
    /// The function's name in text.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Activity;
    /// assert_eq!(Activity::Purchases.name(), "purchases");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Activity::Purchases => "purchases",
            Activity::Spent => "spent",
        }
    }
}

/// An activity function over a trailing window, e.g. `spent(last 365 days)`.
///
/// # Example
///
/// ```
/// use clientele::{Window, segment::{Activity, Windowed}};
/// let w = Windowed { function: Activity::Spent, window: Window::days(365) };
/// assert_eq!(serde_json::to_string(&w)?, r#"{"function":"spent","window":"365 days"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Windowed {
    /// Which function.
    pub function: Activity,
    /// Over which trailing window.
    pub window: Window,
}

/// What a condition tests.
///
/// In JSON: `{"field": "age"}`, `{"attr": "nps"}`, `{"activity": {"function": "spent",
/// "window": "365 days"}}`.
///
/// # Example
///
/// ```
/// use clientele::{Window, segment::{Activity, Operand}};
/// let op = Operand::activity(Activity::Purchases, Window::days(90));
/// assert_eq!(op.to_string(), "purchases(last 90 days)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operand {
    /// A built-in field such as `age` or `country`.
    Field(Spanned<String>),
    /// A custom attribute, `attr.NAME`.
    Attr(Spanned<String>),
    /// A windowed activity function.
    Activity(Spanned<Windowed>),
}

// By hand, not derived: the span of an activity is not part of its value, like every span.

impl Operand {
    /// A built-in field by name.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Operand;
    /// assert_eq!(Operand::field("age").to_string(), "age");
    /// ```
    pub fn field(name: impl Into<String>) -> Operand {
        Operand::Field(Spanned::bare(name.into()))
    }

    /// A custom attribute by name.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Operand;
    /// assert_eq!(Operand::attr("nps").to_string(), "attr.nps");
    /// ```
    pub fn attr(name: impl Into<String>) -> Operand {
        Operand::Attr(Spanned::bare(name.into()))
    }

    /// A windowed activity function.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Window, segment::{Activity, Operand}};
    /// let op = Operand::activity(Activity::Spent, Window::months(12));
    /// assert_eq!(op.to_string(), "spent(last 12 months)");
    /// ```
    pub fn activity(function: Activity, window: Window) -> Operand {
        Operand::Activity(Spanned::bare(Windowed { function, window }))
    }

    /// Where the operand was written ([`Span::default`] for an operand built in Rust or read
    /// from JSON).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Operand, Span};
    /// let e: Expr = "age > 30 and referrals >= 2".parse()?;
    /// let Expr::And(items) = &e else { return Err("expected an `and`".into()) };
    /// assert!(matches!(&items[1], Expr::Condition(c) if c.operand.span() == Span::new(13, 22)));
    /// assert_eq!(Operand::field("referrals").span(), Span::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(s) | Operand::Attr(s) => s.span(),
            Operand::Activity(w) => w.span(),
        }
    }
}

/// A comparison operator.
///
/// # Example
///
/// ```
/// assert_eq!(clientele::segment::CmpOp::Ge.symbol(), ">=");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::CmpOp;
    /// assert_eq!(CmpOp::Ne.symbol(), "!=");
    /// assert_eq!(CmpOp::Le.symbol(), "<=");
    /// ```
    pub const fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// The test a condition applies to its operand.
///
/// # Example
///
/// ```
/// use clientele::segment::{Literal, Test};
/// let t = Test::Between { negated: false, low: Literal::Int(25).into(), high: Literal::Int(40).into() };
/// assert_eq!(t.to_string(), "between 25 and 40");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Test {
    /// `= != < <= > >=` a value.
    Compare {
        /// The operator.
        op: CmpOp,
        /// The value.
        value: Spanned<Literal>,
    },
    /// `[not] in (a, b, ...)`.
    In {
        /// `not in`.
        negated: bool,
        /// The values (at least one).
        values: Vec<Spanned<Literal>>,
    },
    /// `[not] between a and b` (both ends included).
    Between {
        /// `not between`.
        negated: bool,
        /// The low end.
        low: Spanned<Literal>,
        /// The high end.
        high: Spanned<Literal>,
    },
    /// `has x`: the set holds `x`.
    Has(Spanned<Literal>),
    /// `has any (a, b)`: the set holds at least one.
    HasAny(Vec<Spanned<Literal>>),
    /// `has all (a, b)`: the set holds every one.
    HasAll(Vec<Spanned<Literal>>),
    /// `contains "x"`.
    Contains(Spanned<Literal>),
    /// `starts with "x"`.
    StartsWith(Spanned<Literal>),
    /// `ends with "x"`.
    EndsWith(Spanned<Literal>),
    /// `is set` / `is not set`.
    IsSet {
        /// `is not set`.
        negated: bool,
    },
    /// `within N days|weeks|months`: in the trailing window `(start, as_of]`, that is after
    /// its start (an instant exactly at the start is outside) and not after the evaluation
    /// instant; a date counts as 00:00 UTC of its day.
    Within(Window),
    /// `before DATE`: strictly before that day.
    Before(Spanned<Literal>),
    /// `after DATE`: strictly after that day.
    After(Spanned<Literal>),
    /// A boolean field on its own, e.g. `loyalty_member`.
    IsTrue,
}

impl From<Literal> for Spanned<Literal> {
    fn from(l: Literal) -> Spanned<Literal> {
        Spanned::bare(l)
    }
}

/// One test on one operand, e.g. `age between 25 and 40`.
///
/// # Example
///
/// ```
/// use clientele::segment::{CmpOp, Condition, Literal, Operand, Test};
/// let c = Condition::new(Operand::field("country"), Test::Compare { op: CmpOp::Eq, value: Literal::Text("EG".into()).into() });
/// assert_eq!(c.to_string(), r#"country = "EG""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Condition {
    /// What is tested.
    pub operand: Operand,
    /// How.
    pub test: Test,
}

impl Condition {
    /// A condition.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Condition, Expr, Operand, Test};
    /// let c = Condition::new(Operand::field("loyalty_member"), Test::IsTrue);
    /// assert_eq!(c.to_string(), "loyalty_member");
    /// assert_eq!(Expr::Condition(c), "loyalty_member".parse::<Expr>()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(operand: Operand, test: Test) -> Condition {
        Condition { operand, test }
    }
}

/// A segment predicate.
///
/// `And` and `Or` hold at least two operands; build them with [`Expr::all`] and [`Expr::any`]
/// (or the builder methods [`Expr::and`] and [`Expr::or`]), which keep that invariant (a
/// single operand stands for itself).
///
/// # Example
///
/// ```
/// use clientele::segment::Expr;
/// let e: Expr = "age between 25 and 40 and country = \"EG\"".parse()?;
/// assert_eq!(e.to_string(), "age between 25 and 40 and country = \"EG\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Expr {
    /// Every operand holds (two or more).
    And(Vec<Expr>),
    /// At least one operand holds (two or more).
    Or(Vec<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// `true` or `false`.
    Const(bool),
    /// `segment "name"`: the named segment holds.
    Segment(Spanned<String>),
    /// A condition on one operand.
    Condition(Condition),
}

impl Expr {
    /// All of `operands`: `true` when empty, the operand itself when there is one.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// assert_eq!(Expr::all(vec![]), Expr::Const(true));
    /// assert_eq!(Expr::all(vec![Expr::Const(false)]), Expr::Const(false));
    /// ```
    pub fn all(mut operands: Vec<Expr>) -> Expr {
        match operands.len() {
            0 => Expr::Const(true),
            1 => operands.pop().unwrap_or(Expr::Const(true)),
            _ => Expr::And(operands),
        }
    }

    /// Any of `operands`: `false` when empty, the operand itself when there is one.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// assert_eq!(Expr::any(vec![]), Expr::Const(false));
    /// ```
    pub fn any(mut operands: Vec<Expr>) -> Expr {
        match operands.len() {
            0 => Expr::Const(false),
            1 => operands.pop().unwrap_or(Expr::Const(false)),
            _ => Expr::Or(operands),
        }
    }

    /// Negation.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// assert_eq!(Expr::negate(Expr::Const(true)).to_string(), "not true");
    /// ```
    pub fn negate(operand: Expr) -> Expr {
        Expr::Not(Box::new(operand))
    }

    /// A reference to the named segment.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// assert_eq!(Expr::segment("vip").to_string(), r#"segment "vip""#);
    /// ```
    pub fn segment(name: impl Into<String>) -> Expr {
        Expr::Segment(Spanned::bare(name.into()))
    }
}
