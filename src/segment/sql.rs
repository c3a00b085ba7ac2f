//! Segments translated to SQL: a `WHERE` fragment over the crate's own table layout, for the
//! SQL stores to evaluate a segment in the database (*pushdown*).
//!
//! # What the fragment reads
//!
//! The fragment filters the `customers` table, aliased `c`, of the schema the SQL stores create
//! (see `SqliteStore` and `PostgresStore`), and reads the `purchases`, `tags` and `attributes`
//! tables through correlated subqueries. Column names come only from this module; every value
//! (numbers, names, texts, patterns, the evaluation instant) is a bound parameter, so no user
//! text is ever spliced into SQL.
//!
//! # Same answer as the evaluators in Rust
//!
//! The fragment reproduces the documented semantics of the language exactly:
//!
//! - **Two-valued logic.** Every test is `false` when its value is missing, and so is every SQL
//!   leaf: nullable columns are guarded with `IS NOT NULL`, nullable subqueries wrapped in
//!   `COALESCE(..., FALSE)`, so no leaf is ever SQL `NULL` and `NOT` means *not*.
//! - **Text.** Texts are compared ignoring ASCII case only: the stores keep an ASCII-lowercased
//!   copy of each text (`city_fold`, `region_fold`, text attributes, text-list items), and the
//!   values are lowercased the same way in Rust before binding, so neither SQLite's ASCII-only
//!   `LIKE` folding nor PostgreSQL's case-sensitive, locale-dependent rules play a part.
//!   `starts with`, `ends with` and `contains` use `LIKE` with an explicit `ESCAPE '\'` and
//!   the pattern's `%`, `_` and `\` escaped.
//! - **Time.** Instants are stored as whole nanoseconds since the Unix epoch (exact between
//!   1677-09-21 and 2262-04-11; a customer with an instant outside that range is marked
//!   `rust_only` and evaluated in Rust by the stores), dates as day numbers counted from
//!   0001-01-01 (`chrono`'s `num_days_from_ce`). Relative tests (ages, windows) are fixed for
//!   the evaluation instant in Rust first, exactly as the row evaluator does, so the SQL only
//!   compares numbers.
//! - **Money.** Sums are of the purchases in the schema's currency, saturating at `i64::MAX`
//!   as in Rust (PostgreSQL: `LEAST` over its exact sum; SQLite raises an overflow error, on
//!   which the stores evaluate in Rust).
//!
//! # What stays in Rust
//!
//! RFM scores (computed in Rust from the whole customer base) and decimal attributes have no
//! SQL form, and a subtree too deep or with too many parameters for the database's parser is
//! not sent either. Those parts are replaced by `TRUE` or `FALSE`, whichever makes the fragment
//! select a *superset* of the members (by the parity of the `not`s above them), and the
//! fragment is marked inexact ([`SqlFilter::is_exact`]): the stores then evaluate the segment
//! in Rust on the rows the fragment selects. Either way the members are the same.
//!
//! # Shape
//!
//! SQLite's parser rejects deeply nested expressions and very long flat chains. The fragment
//! nests parentheses at most [`MAX_NESTING`] deep, groups long `and`/`or` chains into groups of
//! at most [`MAX_CHAIN`] terms, and passes every list as one parameter (`json_each(?)` in
//! SQLite, `= ANY($n)` in PostgreSQL), so its parameter count stays far below SQLite's 999.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use clientele::segment::{Schema, Segment, sql::{Dialect, SqlParam}};
//!
//! let s = Segment::compile(r#"referrals >= 2 and city starts with "Al""#, &Schema::default())?;
//! let filter = s.to_sql(Dialect::Postgres, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
//! assert!(filter.is_exact());
//! assert_eq!(
//!     filter.sql(),
//!     r"(c.referrals >= $1::BIGINT AND (c.city_fold IS NOT NULL AND (c.city_fold LIKE $2::TEXT ESCAPE '\')))"
//! );
//! assert_eq!(filter.params(), [SqlParam::Int(2), SqlParam::Text("al%".into())]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{
    ast::Activity,
    ir::{
        BoolField, ChannelField, DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range, TagField,
        TextField, TextOp,
    },
    schema::AttrType,
};
use crate::{
    customer::{CreditStanding, Gender, Generation},
    lifecycle::Stage,
    money::Currency,
};

/// Deepest nesting of parentheses the fragment uses; deeper subtrees stay in Rust.
///
/// SQLite's parser gives up near 30 levels of nested expressions.
///
/// # Example
///
/// ```
/// assert!(clientele::segment::sql::MAX_NESTING < 30);
/// ```
pub const MAX_NESTING: usize = 20;

/// Most terms joined in one flat `AND`/`OR` chain; longer chains are grouped.
///
/// # Example
///
/// ```
/// assert_eq!(clientele::segment::sql::MAX_CHAIN, 32);
/// ```
pub const MAX_CHAIN: usize = 32;

/// Most bound parameters in one fragment; subtrees past it stay in Rust (SQLite allows 999
/// per statement, and the stores add a few of their own).
///
/// # Example
///
/// ```
/// assert!(clientele::segment::sql::MAX_PARAMS < 999);
/// ```
pub const MAX_PARAMS: usize = 900;

/// The SQL dialect to write.
///
/// # Example
///
/// ```
/// use clientele::segment::sql::Dialect;
/// assert_eq!(Dialect::Sqlite.placeholder(3), "?3");
/// assert_eq!(Dialect::Postgres.placeholder(3), "$3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.38 or later (`json_each` for lists, `?N` placeholders).
    Sqlite,
    /// PostgreSQL 12 or later (`= ANY($N)` for lists, `$N` placeholders with explicit casts).
    Postgres,
}

impl Dialect {
    /// The placeholder for the `n`th parameter (from 1).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::segment::sql::Dialect::Sqlite.placeholder(1), "?1");
    /// ```
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// A value bound to a placeholder of a [`SqlFilter`].
///
/// Lists are one parameter each: SQLite binds them as a JSON array read with `json_each`,
/// PostgreSQL as an array (`BIGINT[]` or `TEXT[]`).
///
/// # Example
///
/// ```
/// use clientele::segment::sql::SqlParam;
/// let p = SqlParam::TextList(vec!["client".into(), "advocate".into()]);
/// assert!(matches!(p, SqlParam::TextList(ref v) if v.len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlParam {
    /// A 64-bit integer.
    Int(i64),
    /// A text.
    Text(String),
    /// A list of integers.
    IntList(Vec<i64>),
    /// A list of texts.
    TextList(Vec<String>),
}

/// A segment as a SQL `WHERE` fragment over the `customers` table aliased `c`, with its
/// parameters. Made by [`Segment::to_sql`](super::Segment::to_sql).
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::segment::{Schema, Segment, sql::Dialect};
/// let s = Segment::compile("stage in (client, advocate)", &Schema::default())?;
/// let f = s.to_sql(Dialect::Sqlite, DateTime::UNIX_EPOCH);
/// assert_eq!(f.sql(), "c.stage IN (SELECT value FROM json_each(?1))");
/// assert_eq!(f.params().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFilter {
    sql: String,
    params: Vec<SqlParam>,
    /// Why some part stays in Rust, when one does.
    rust_part: Option<InRust>,
}

/// Why part of a segment is checked in Rust rather than in SQL ([`SqlFilter::rust_part`]).
///
/// # Example
///
/// ```
/// use clientele::segment::sql::InRust;
/// assert_eq!(InRust::TooComplex.to_string(), "a part too deep or too long for SQL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InRust {
    /// RFM scores: computed in Rust over the whole customer base, not stored.
    RfmScores,
    /// A comparison of a decimal attribute: SQL has no exact decimal type both databases share.
    DecimalComparison,
    /// A subtree nested deeper than [`MAX_NESTING`] or needing more than [`MAX_PARAMS`]
    /// parameters: too complex for the database's parser.
    TooComplex,
}

impl std::fmt::Display for InRust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InRust::RfmScores => "RFM scores",
            InRust::DecimalComparison => "a decimal comparison",
            InRust::TooComplex => "a part too deep or too long for SQL",
        })
    }
}

impl SqlFilter {
    /// The fragment, a boolean SQL expression.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{Schema, Segment, sql::Dialect};
    /// let f = Segment::compile("exclusive", &Schema::default())?.to_sql(Dialect::Postgres, DateTime::UNIX_EPOCH);
    /// assert_eq!(f.sql(), "c.exclusive = $1::BIGINT");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The values of the placeholders, in order (the first is `?1` / `$1`).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{Schema, Segment, sql::{Dialect, SqlParam}};
    /// let f = Segment::compile("exclusive", &Schema::default())?.to_sql(Dialect::Postgres, DateTime::UNIX_EPOCH);
    /// assert_eq!(f.params(), [SqlParam::Int(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn params(&self) -> &[SqlParam] {
        &self.params
    }

    /// Whether the fragment selects exactly the members. When not, it selects a superset and
    /// the segment must be evaluated in Rust on the rows it selects.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{Schema, Segment, sql::Dialect};
    /// let s = Segment::compile("referrals > 1", &Schema::default())?;
    /// assert!(s.to_sql(Dialect::Sqlite, DateTime::UNIX_EPOCH).is_exact());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_exact(&self) -> bool {
        self.rust_part.is_none()
    }

    /// What stays in Rust when the fragment is not exact: the first part that has no SQL
    /// form, or that was too complex for the database's parser.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::DateTime;
    /// use clientele::{rfm::{RfmConfig, RfmScores}, segment::{Schema, Segment, sql::{Dialect, InRust}}};
    /// let scores = RfmScores::compute([], DateTime::UNIX_EPOCH, &RfmConfig::default())?;
    /// let schema = Schema::default().with_rfm(Arc::new(scores));
    /// let f = Segment::compile("rfm.r >= 4 and referrals > 1", &schema)?.to_sql(Dialect::Sqlite, DateTime::UNIX_EPOCH);
    /// assert_eq!(f.rust_part(), Some(InRust::RfmScores));
    /// assert_eq!(f.sql(), "(TRUE AND c.referrals >= ?1)"); // a superset: the RFM test is checked in Rust
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rust_part(&self) -> Option<InRust> {
        self.rust_part
    }

    /// The fragment and its parameters.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{Schema, Segment, sql::Dialect};
    /// let (sql, params) = Segment::compile("true", &Schema::default())?.to_sql(Dialect::Sqlite, DateTime::UNIX_EPOCH).into_parts();
    /// assert_eq!((sql.as_str(), params.len()), ("TRUE", 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_parts(self) -> (String, Vec<SqlParam>) {
        (self.sql, self.params)
    }
}

// ---------------------------------------------------------------------------------------------
// The relational layout's encodings, shared with the stores that write it.

/// An instant as stored: whole nanoseconds since the Unix epoch, when representable exactly
/// and in order (not in a leap second, which `i64` nanoseconds would put after the next
/// second's start).
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "the SQL stores' row code is its only user")
)]
pub(crate) fn instant_ns(t: DateTime<Utc>) -> Option<i64> {
    if t.timestamp_subsec_nanos() >= 1_000_000_000 {
        return None;
    }
    t.timestamp_nanos_opt()
}

/// The nanoseconds of the second after a leap second `t` (its end).
fn leap_end_ns(t: DateTime<Utc>) -> Option<i64> {
    t.timestamp().checked_add(1)?.checked_mul(1_000_000_000)
}

/// The least stored value after `t` (or at it, when `incl`): `Ok(None)` when every stored value
/// is, `Err` when none is.
fn first_from(t: DateTime<Utc>, incl: bool) -> Result<Option<i64>, ()> {
    if t.timestamp_subsec_nanos() >= 1_000_000_000 {
        // Stored values are never in a leap second: after it means from the next second on.
        return leap_end_ns(t).map(Some).ok_or(());
    }
    match t.timestamp_nanos_opt() {
        Some(ns) if incl => Ok(Some(ns)),
        Some(ns) => ns.checked_add(1).map(Some).ok_or(()),
        None if t < DateTime::<Utc>::UNIX_EPOCH => Ok(None),
        None => Err(()),
    }
}

/// The greatest stored value before `t` (or at it, when `incl`): `Ok(None)` when every stored
/// value is, `Err` when none is.
fn last_upto(t: DateTime<Utc>, incl: bool) -> Result<Option<i64>, ()> {
    if t.timestamp_subsec_nanos() >= 1_000_000_000 {
        return leap_end_ns(t).and_then(|end| end.checked_sub(1)).map(Some).ok_or(());
    }
    match t.timestamp_nanos_opt() {
        Some(ns) if incl => Ok(Some(ns)),
        Some(ns) => ns.checked_sub(1).map(Some).ok_or(()),
        None if t > DateTime::<Utc>::UNIX_EPOCH => Ok(None),
        None => Err(()),
    }
}

/// A date as stored: days from 0001-01-01 (day 1).
pub(crate) fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// The `tags.list` name of a tag set or text-list attribute.
pub(crate) fn tag_list_name(field: &TagField) -> String {
    match field {
        TagField::Interests => "interests".to_owned(),
        TagField::Lifestyle => "lifestyle".to_owned(),
        TagField::Needs => "needs".to_owned(),
        TagField::Attr(name) => attr_tag_list(name),
    }
}

/// The `tags.list` name of a text-list attribute.
pub(crate) fn attr_tag_list(name: &str) -> String {
    format!("attr:{name}")
}

// ---------------------------------------------------------------------------------------------
// The compiler.

/// Writes the fragment for a predicate already bound to its evaluation instant.
pub(crate) fn filter(pred: &Pred, dialect: Dialect, as_of: DateTime<Utc>, currency: Currency) -> SqlFilter {
    let mut w = Writer { dialect, as_of, currency, params: Vec::new(), rust_part: None };
    let sql = match w.pred(pred, true, 0) {
        Some(sql) => sql,
        None => w.approx(InRust::TooComplex, true),
    };
    let (sql, params) = number_placeholders(&sql, &w.params, dialect);
    SqlFilter { sql, params, rust_part: w.rust_part }
}

/// Marks a bound parameter in the text being written: its index between two NUL characters
/// (which no part of the SQL otherwise contains: values are never spliced in).
const MARK: char = '\0';

/// Replaces the parameter marks by the dialect's placeholders, numbered in order of
/// appearance, and keeps only the parameters the text uses (parts written and then dropped,
/// such as a subquery beside an empty range, leave theirs unused).
fn number_placeholders(sql: &str, bound: &[SqlParam], dialect: Dialect) -> (String, Vec<SqlParam>) {
    let mut out = String::with_capacity(sql.len());
    let mut params = Vec::new();
    let mut parts = sql.split(MARK);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    while let (Some(index), Some(text)) = (parts.next(), parts.next()) {
        if let Some(p) = index.parse::<usize>().ok().and_then(|i| bound.get(i)) {
            params.push(p.clone());
            out.push_str(&dialect.placeholder(params.len()));
        }
        out.push_str(text);
    }
    (out, params)
}

struct Writer {
    dialect: Dialect,
    as_of: DateTime<Utc>,
    currency: Currency,
    params: Vec<SqlParam>,
    rust_part: Option<InRust>,
}

/// A leaf with no SQL form, and why.
struct NoSql(InRust);

/// An inclusive integer range; `None` when no value can be in it.
fn inclusive(r: Range<i64>) -> Option<(Option<i64>, Option<i64>)> {
    let lo = match r.lo {
        None => None,
        Some((v, true)) => Some(v),
        Some((v, false)) => Some(v.checked_add(1)?),
    };
    let hi = match r.hi {
        None => None,
        Some((v, true)) => Some(v),
        Some((v, false)) => Some(v.checked_sub(1)?),
    };
    if let (Some(l), Some(h)) = (lo, hi) {
        if l > h {
            return None;
        }
    }
    Some((lo, hi))
}

/// An instant range as an inclusive nanosecond range over stored values; `None` when no
/// stored instant is in it. Bounds beyond the representable range are dropped (every stored
/// instant is within it) or make the range empty.
fn ns_range(r: Range<DateTime<Utc>>) -> Option<(Option<i64>, Option<i64>)> {
    let lo = match r.lo {
        None => None,
        Some((t, incl)) => first_from(t, incl).ok()?,
    };
    let hi = match r.hi {
        None => None,
        Some((t, incl)) => last_upto(t, incl).ok()?,
    };
    if let (Some(l), Some(h)) = (lo, hi) {
        if l > h {
            return None;
        }
    }
    Some((lo, hi))
}

fn day_range(r: Range<NaiveDate>) -> Option<(Option<i64>, Option<i64>)> {
    let map = |b: Option<(NaiveDate, bool)>| b.map(|(d, incl)| (day_number(d), incl));
    inclusive(Range { lo: map(r.lo), hi: map(r.hi) })
}

/// ASCII-lowercased, as the stores keep texts for comparison.
fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A `LIKE` pattern matching `text` literally, for `ESCAPE '\'`.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for ch in fold(text).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn names<T: Copy>(all: &[T], mask: u32, name: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, v)| name(*v).to_owned()).collect()
}

impl Writer {
    /// Binds a value; returns its placeholder, typed for PostgreSQL.
    fn bind(&mut self, p: SqlParam) -> String {
        let cast = match (&p, self.dialect) {
            (_, Dialect::Sqlite) => "",
            (SqlParam::Int(_), Dialect::Postgres) => "::BIGINT",
            (SqlParam::Text(_), Dialect::Postgres) => "::TEXT",
            (SqlParam::IntList(_), Dialect::Postgres) => "::BIGINT[]",
            (SqlParam::TextList(_), Dialect::Postgres) => "::TEXT[]",
        };
        self.params.push(p);
        format!("{MARK}{}{MARK}{cast}", self.params.len() - 1)
    }

    fn int(&mut self, v: i64) -> String {
        self.bind(SqlParam::Int(v))
    }

    fn text(&mut self, v: impl Into<String>) -> String {
        self.bind(SqlParam::Text(v.into()))
    }

    /// `expr` is one of the list's values.
    fn in_list(&mut self, expr: &str, list: SqlParam) -> String {
        let single = match &list {
            SqlParam::TextList(v) if v.len() == 1 => Some(SqlParam::Text(v[0].clone())),
            SqlParam::IntList(v) if v.len() == 1 => Some(SqlParam::Int(v[0])),
            _ => None,
        };
        if let Some(one) = single {
            let p = self.bind(one);
            return format!("{expr} = {p}");
        }
        let p = self.bind(list);
        match self.dialect {
            Dialect::Sqlite => format!("{expr} IN (SELECT value FROM json_each({p}))"),
            Dialect::Postgres => format!("{expr} = ANY({p})"),
        }
    }

    /// `TRUE` or `FALSE` standing for a part evaluated in Rust: whichever keeps the fragment a
    /// superset of the members.
    fn approx(&mut self, why: InRust, positive: bool) -> String {
        self.rust_part.get_or_insert(why);
        if positive { "TRUE".to_owned() } else { "FALSE".to_owned() }
    }

    /// The fragment for `p`, or `None` when it is too deep or needs too many parameters (the
    /// caller replaces it). `positive`: under an even number of `not`s.
    fn pred(&mut self, p: &Pred, positive: bool, depth: usize) -> Option<String> {
        if depth > MAX_NESTING || self.params.len() > MAX_PARAMS {
            return None;
        }
        let mark = self.params.len();
        let out = match p {
            Pred::Const(true) => Some("TRUE".to_owned()),
            Pred::Const(false) => Some("FALSE".to_owned()),
            Pred::Not(inner) => {
                let inner = self.child(inner, !positive, depth + 1);
                Some(format!("NOT ({inner})"))
            }
            Pred::And(items) => Some(self.chain(items, " AND ", positive, depth)),
            Pred::Or(items) => Some(self.chain(items, " OR ", positive, depth)),
            Pred::Leaf(leaf) => match self.leaf(leaf) {
                Ok(sql) => Some(sql),
                Err(NoSql(why)) => Some(self.approx(why, positive)),
            },
        };
        if self.params.len() > MAX_PARAMS {
            self.params.truncate(mark);
            return None;
        }
        out
    }

    /// A child at `depth`, replaced by `TRUE`/`FALSE` when it does not fit.
    fn child(&mut self, p: &Pred, positive: bool, depth: usize) -> String {
        let mark = self.params.len();
        match self.pred(p, positive, depth) {
            Some(sql) => sql,
            None => {
                self.params.truncate(mark);
                self.approx(InRust::TooComplex, positive)
            }
        }
    }

    /// `items` joined by `op`, in groups of at most [`MAX_CHAIN`], each group one more level.
    fn chain(&mut self, items: &[Pred], op: &str, positive: bool, depth: usize) -> String {
        // The number of levels of grouping the chain needs.
        let mut levels = 1;
        let mut span = MAX_CHAIN;
        while span < items.len() {
            span = span.saturating_mul(MAX_CHAIN);
            levels += 1;
        }
        self.group(items, op, positive, depth, levels)
    }

    fn group(&mut self, items: &[Pred], op: &str, positive: bool, depth: usize, levels: usize) -> String {
        let mut out = String::from("(");
        if levels <= 1 {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                let sql = self.child(item, positive, depth + 1);
                out.push_str(&sql);
            }
        } else {
            let size = MAX_CHAIN.saturating_pow(u32::try_from(levels - 1).unwrap_or(u32::MAX));
            for (i, chunk) in items.chunks(size.max(1)).enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                let sql = self.group(chunk, op, positive, depth + 1, levels - 1);
                out.push_str(&sql);
            }
        }
        out.push(')');
        out
    }

    /// `expr` (never NULL) in the inclusive range.
    fn range(&mut self, expr: &str, r: Option<(Option<i64>, Option<i64>)>) -> String {
        match r {
            None => "FALSE".to_owned(),
            Some((None, None)) => "TRUE".to_owned(),
            Some((Some(lo), None)) => format!("{expr} >= {}", self.int(lo)),
            Some((None, Some(hi))) => format!("{expr} <= {}", self.int(hi)),
            Some((Some(lo), Some(hi))) if lo == hi => format!("{expr} = {}", self.int(lo)),
            Some((Some(lo), Some(hi))) => {
                let lo = self.int(lo);
                let hi = self.int(hi);
                format!("{expr} BETWEEN {lo} AND {hi}")
            }
        }
    }

    /// A nullable column in the range: false when NULL.
    fn column_range(&mut self, column: &str, r: Option<(Option<i64>, Option<i64>)>) -> String {
        match r {
            None => "FALSE".to_owned(),
            Some((None, None)) => format!("{column} IS NOT NULL"),
            r => {
                let test = self.range(column, r);
                format!("({column} IS NOT NULL AND {test})")
            }
        }
    }

    /// A nullable scalar expression (e.g. a subquery) in the range: false when NULL.
    fn nullable_range(&mut self, expr: &str, r: Option<(Option<i64>, Option<i64>)>) -> String {
        match r {
            None => "FALSE".to_owned(),
            Some((None, None)) => format!("{expr} IS NOT NULL"),
            r => {
                let test = self.range(expr, r);
                format!("COALESCE({test}, FALSE)")
            }
        }
    }

    /// `EXISTS` an attribute row named `name` of `kind`, with `extra` conditions on `a`.
    fn attr_exists(&mut self, name: &str, kind: &str, extra: impl FnOnce(&mut Self) -> String) -> String {
        let name = self.text(name);
        let kind = self.text(kind);
        let extra = extra(self);
        let extra = if extra.is_empty() { String::new() } else { format!(" AND {extra}") };
        format!(
            "EXISTS (SELECT 1 FROM attributes a WHERE a.customer_id = c.id AND a.name = {name} AND a.kind = {kind}{extra})"
        )
    }

    /// The condition on `p` for the customer's purchases up to the evaluation instant.
    fn purchases_upto(&mut self) -> String {
        match last_upto(self.as_of, true) {
            Ok(Some(ns)) => format!("p.customer_id = c.id AND p.at_ns <= {}", self.int(ns)),
            Ok(None) => "p.customer_id = c.id".to_owned(),
            Err(()) => "FALSE".to_owned(),
        }
    }

    /// The sum of amounts in the schema's currency of the purchases matching `window`.
    fn spent(&mut self, window: &str) -> String {
        let code = self.currency.code().to_owned();
        let currency = self.text(code);
        let sum = "COALESCE(SUM(p.amount_minor), 0)";
        let sum = match self.dialect {
            // An exact NUMERIC sum, saturated as in Rust.
            Dialect::Postgres => format!("LEAST({sum}, {})", i64::MAX),
            // SUM raises "integer overflow"; the stores then evaluate in Rust.
            Dialect::Sqlite => sum.to_owned(),
        };
        format!("(SELECT {sum} FROM purchases p WHERE {window} AND p.currency = {currency})")
    }

    fn tag_exists(&mut self, list: String, extra: impl FnOnce(&mut Self) -> String) -> String {
        let list = self.text(list);
        let extra = extra(self);
        let extra = if extra.is_empty() { String::new() } else { format!(" AND {extra}") };
        format!("EXISTS (SELECT 1 FROM tags t WHERE t.customer_id = c.id AND t.list = {list}{extra})")
    }

    fn leaf(&mut self, leaf: &Leaf) -> Result<String, NoSql> {
        Ok(match leaf {
            Leaf::Stage(mask) => {
                let list = SqlParam::TextList(names(&Stage::ALL, u32::from(*mask), Stage::name));
                self.in_list("c.stage", list)
            }
            Leaf::Gender(mask) => {
                let list = SqlParam::TextList(names(&Gender::ALL, u32::from(*mask), Gender::name));
                self.in_list("c.gender", list)
            }
            Leaf::Credit(mask) => {
                let list = SqlParam::TextList(names(&CreditStanding::ALL, u32::from(*mask), CreditStanding::name));
                self.in_list("c.credit", list)
            }
            Leaf::Generation(mask) => {
                let mut terms = Vec::new();
                for (i, g) in Generation::ALL.iter().enumerate() {
                    if u32::from(*mask) & (1 << i) != 0 {
                        let r = generation_days(*g);
                        terms.push(self.column_range("c.birth_day", Some(r)));
                    }
                }
                if terms.is_empty() { "FALSE".to_owned() } else { format!("({})", terms.join(" OR ")) }
            }
            Leaf::RfmGroup(_) => return Err(NoSql(InRust::RfmScores)),
            Leaf::Int(field, r) => {
                let r = inclusive(*r);
                match field {
                    IntField::Referrals => self.range("c.referrals", r),
                    IntField::Purchases => {
                        let upto = self.purchases_upto();
                        self.range(&format!("(SELECT COUNT(*) FROM purchases p WHERE {upto})"), r)
                    }
                    IntField::Rfm(_) => return Err(NoSql(InRust::RfmScores)),
                    IntField::Attr(name) => self.attr_exists(name, "int", |w| w.range("a.int_value", r)),
                }
            }
            Leaf::Money(field, r) => {
                let r = inclusive(*r);
                match field {
                    MoneyField::Spent => {
                        let upto = self.purchases_upto();
                        let sum = self.spent(&upto);
                        self.range(&sum, r)
                    }
                    MoneyField::Income => {
                        let code = self.currency.code().to_owned();
                        let currency = self.text(code);
                        let test = self.range("c.income_minor", r);
                        format!("(c.income_currency IS NOT NULL AND c.income_currency = {currency} AND {test})")
                    }
                    MoneyField::Attr(name) => {
                        let currency = self.currency.code().to_owned();
                        self.attr_exists(name, "money", |w| {
                            let currency = w.text(currency);
                            let test = w.range("a.int_value", r);
                            format!("a.currency = {currency} AND {test}")
                        })
                    }
                }
            }
            Leaf::Decimal(..) => return Err(NoSql(InRust::DecimalComparison)),
            Leaf::Date(field, r) => {
                let r = day_range(*r);
                match field {
                    DateField::BirthDate => self.column_range("c.birth_day", r),
                    DateField::LoyaltyJoined => self.column_range("c.loyalty_day", r),
                    DateField::Attr(name) => self.attr_exists(name, "date", |w| w.range("a.int_value", r)),
                }
            }
            Leaf::Instant(field, r) => {
                let r = ns_range(*r);
                match field {
                    InstantField::CreatedAt => self.range("c.created_ns", r),
                    InstantField::StageSince => self.range("c.stage_since_ns", r),
                    InstantField::FirstPurchase => {
                        let upto = self.purchases_upto();
                        self.nullable_range(&format!("(SELECT MIN(p.at_ns) FROM purchases p WHERE {upto})"), r)
                    }
                    InstantField::LastPurchase => {
                        let last = match last_upto(self.as_of, true) {
                            // The stored last purchase, unless it is after the instant.
                            Ok(Some(ns)) => {
                                let at = self.int(ns);
                                let upto = self.purchases_upto();
                                format!(
                                    "(CASE WHEN c.last_purchase_ns <= {at} THEN c.last_purchase_ns \
                                     ELSE (SELECT MAX(p.at_ns) FROM purchases p WHERE {upto}) END)"
                                )
                            }
                            Ok(None) => "c.last_purchase_ns".to_owned(),
                            Err(()) => return Ok("FALSE".to_owned()),
                        };
                        self.nullable_range(&last, r)
                    }
                }
            }
            Leaf::ActivitySince(activity, start, as_of, r) => {
                let r = inclusive(*r);
                let window = Range { lo: start.map(|s| (s, false)), hi: Some((*as_of, true)) };
                let Some((lo, hi)) = ns_range(window) else {
                    // An empty window: no purchases, a count and a sum of zero.
                    return Ok(if r.is_some_and(|(lo, hi)| lo.is_none_or(|l| l <= 0) && hi.is_none_or(|h| h >= 0)) {
                        "TRUE".to_owned()
                    } else {
                        "FALSE".to_owned()
                    });
                };
                let mut window = String::from("p.customer_id = c.id");
                if let Some(lo) = lo {
                    let _ = write!(window, " AND p.at_ns >= {}", self.int(lo));
                }
                if let Some(hi) = hi {
                    let _ = write!(window, " AND p.at_ns <= {}", self.int(hi));
                }
                let figure = match activity {
                    Activity::Purchases => format!("(SELECT COUNT(*) FROM purchases p WHERE {window})"),
                    Activity::Spent => self.spent(&window),
                };
                self.range(&figure, r)
            }
            Leaf::Age(_) | Leaf::InstantWithin(..) | Leaf::DateWithin(..) | Leaf::Activity(..) => {
                // Bound away before translation (see `eval::bind`).
                return Err(NoSql(InRust::TooComplex));
            }
            Leaf::Text(field, op, patterns) => match field {
                TextField::Region => self.text_test("c.region_fold", *op, patterns, true),
                TextField::City => self.text_test("c.city_fold", *op, patterns, true),
                TextField::Attr(name) => {
                    let (op, patterns) = (*op, patterns.clone());
                    self.attr_exists(name, "text", move |w| w.text_test("a.text_value", op, &patterns, false))
                }
            },
            Leaf::Country(codes) => {
                let list = SqlParam::TextList(codes.iter().map(|c| c.as_str().to_owned()).collect());
                let test = self.in_list("c.country", list);
                format!("(c.country IS NOT NULL AND {test})")
            }
            Leaf::Tags(field, all, tags) => {
                let list = tag_list_name(field);
                let mut wanted: Vec<String> = match field {
                    TagField::Attr(_) => tags.iter().map(|t| fold(t)).collect(),
                    _ => tags.clone(),
                };
                wanted.sort();
                wanted.dedup();
                if *all {
                    let n = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
                    let list = self.text(list);
                    let test = self.in_list("t.tag", SqlParam::TextList(wanted));
                    let n = self.int(n);
                    format!(
                        "(SELECT COUNT(*) FROM tags t WHERE t.customer_id = c.id AND t.list = {list} AND {test}) = {n}"
                    )
                } else {
                    self.tag_exists(list, |w| w.in_list("t.tag", SqlParam::TextList(wanted)))
                }
            }
            Leaf::Channels(field, all, mask) => {
                let column = channel_column(*field);
                let m = self.int(i64::from(*mask));
                if *all {
                    let m2 = self.int(i64::from(*mask));
                    format!("({column} & {m}) = {m2}")
                } else {
                    format!("({column} & {m}) <> 0")
                }
            }
            Leaf::Bool(field, want) => match field {
                BoolField::LoyaltyMember => {
                    if *want {
                        "c.loyalty_day IS NOT NULL".to_owned()
                    } else {
                        "c.loyalty_day IS NULL".to_owned()
                    }
                }
                BoolField::Exclusive => format!("c.exclusive = {}", self.int(i64::from(*want))),
                BoolField::Attr(name) => {
                    let want = i64::from(*want);
                    self.attr_exists(name, "bool", |w| format!("a.int_value = {}", w.int(want)))
                }
            },
            Leaf::IsSet(presence) => self.presence(presence)?,
        })
    }

    /// A text test on a folded text column; `nullable` adds the NULL guard.
    fn text_test(&mut self, column: &str, op: TextOp, patterns: &[String], nullable: bool) -> String {
        let test = match op {
            TextOp::Eq => {
                let mut values: Vec<String> = patterns.iter().map(|p| fold(p)).collect();
                values.sort();
                values.dedup();
                self.in_list(column, SqlParam::TextList(values))
            }
            TextOp::StartsWith | TextOp::EndsWith | TextOp::Contains => {
                let mut terms = Vec::with_capacity(patterns.len());
                for p in patterns {
                    let literal = like_literal(p);
                    let pattern = match op {
                        TextOp::StartsWith => format!("{literal}%"),
                        TextOp::EndsWith => format!("%{literal}"),
                        _ => format!("%{literal}%"),
                    };
                    let p = self.text(pattern);
                    terms.push(format!("{column} LIKE {p} ESCAPE '\\'"));
                }
                format!("({})", terms.join(" OR "))
            }
        };
        if nullable { format!("({column} IS NOT NULL AND {test})") } else { test }
    }

    fn presence(&mut self, p: &Presence) -> Result<String, NoSql> {
        Ok(match p {
            Presence::Generation => {
                let first = generation_days(Generation::ALL[0]).0;
                let last = generation_days(Generation::ALL[Generation::ALL.len() - 1]).1;
                self.column_range("c.birth_day", Some((first, last)))
            }
            Presence::Age => {
                let today = day_number(self.as_of.date_naive());
                self.column_range("c.birth_day", Some((None, Some(today))))
            }
            Presence::BirthDate => "c.birth_day IS NOT NULL".to_owned(),
            Presence::Country => "c.country IS NOT NULL".to_owned(),
            Presence::Region => "c.region_fold IS NOT NULL".to_owned(),
            Presence::City => "c.city_fold IS NOT NULL".to_owned(),
            Presence::Interests => self.tag_exists(tag_list_name(&TagField::Interests), |_| String::new()),
            Presence::Lifestyle => self.tag_exists(tag_list_name(&TagField::Lifestyle), |_| String::new()),
            Presence::Needs => self.tag_exists(tag_list_name(&TagField::Needs), |_| String::new()),
            Presence::Channels(field) => format!("{} <> 0", channel_column(*field)),
            Presence::LoyaltyJoined => "c.loyalty_day IS NOT NULL".to_owned(),
            Presence::AnyPurchase => {
                let upto = self.purchases_upto();
                format!("EXISTS (SELECT 1 FROM purchases p WHERE {upto})")
            }
            Presence::Income => {
                let code = self.currency.code().to_owned();
                let currency = self.text(code);
                format!("(c.income_currency IS NOT NULL AND c.income_currency = {currency})")
            }
            Presence::Rfm => return Err(NoSql(InRust::RfmScores)),
            Presence::Attr(name, ty) => match ty {
                AttrType::TextList => self.tag_exists(attr_tag_list(name), |_| String::new()),
                AttrType::Money => {
                    let currency = self.currency.code().to_owned();
                    self.attr_exists(name, "money", |w| format!("a.currency = {}", w.text(currency)))
                }
                other => self.attr_exists(name, attr_kind(*other), |_| String::new()),
            },
        })
    }
}

/// The `attributes.kind` of an attribute type: the name [`AttrValue::type_name`] gives its
/// values.
///
/// [`AttrValue::type_name`]: crate::AttrValue::type_name
pub(crate) fn attr_kind(ty: AttrType) -> &'static str {
    match ty {
        AttrType::Bool => "bool",
        AttrType::Int => "int",
        AttrType::Decimal => "decimal",
        AttrType::Money => "money",
        AttrType::Text => "text",
        AttrType::Date => "date",
        AttrType::TextList => "text_list",
    }
}

fn channel_column(field: ChannelField) -> &'static str {
    match field {
        ChannelField::Reachable => "c.reachable",
        ChannelField::Preferred => "c.preferred",
        ChannelField::OptedOut => "c.opted_out",
    }
}

/// The day numbers of a generation's first and last birthdays.
fn generation_days(g: Generation) -> (Option<i64>, Option<i64>) {
    let (first, last) = g.birth_years();
    let first = NaiveDate::from_ymd_opt(first, 1, 1).map(day_number);
    let last = NaiveDate::from_ymd_opt(last, 12, 31).map(day_number);
    (first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_fold_ascii_only() {
        assert_eq!(like_literal("50%_Off\\É"), "50\\%\\_off\\\\É");
    }

    #[test]
    fn inclusive_ranges_handle_the_ends_of_i64() {
        assert_eq!(inclusive(Range { lo: Some((i64::MAX, false)), hi: None }), None);
        assert_eq!(inclusive(Range { lo: None, hi: Some((i64::MIN, false)) }), None);
        assert_eq!(inclusive(Range { lo: Some((1, false)), hi: Some((3, false)) }), Some((Some(2), Some(2))));
        assert_eq!(inclusive(Range { lo: Some((2, false)), hi: Some((3, false)) }), None);
    }

    #[test]
    fn instant_bounds_outside_the_stored_range_are_dropped_or_empty() {
        let far_future = DateTime::<Utc>::MAX_UTC;
        let far_past = DateTime::<Utc>::MIN_UTC;
        assert_eq!(ns_range(Range { lo: Some((far_past, true)), hi: Some((far_future, true)) }), Some((None, None)));
        assert_eq!(ns_range(Range { lo: Some((far_future, true)), hi: None }), None);
        assert_eq!(ns_range(Range { lo: None, hi: Some((far_past, true)) }), None);
    }
}
