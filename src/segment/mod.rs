//! Segmentation: a predicate language over customers, with a text form, a JSON form and a
//! Rust builder, checked against a schema and compiled to fast evaluators.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use clientele::{CountryCode, Customer, CustomerId, synth::Population};
//! use clientele::segment::{Schema, Segment, Snapshot};
//!
//! let schema = Schema::new(clientele::Currency::EGP);
//! let segment = Segment::compile(
//!     r#"age between 25 and 40 and country = "EG" and interests has "sports""#,
//!     &schema,
//! )?;
//!
//! // One customer, as of an instant.
//! let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let mut c = Customer::new(CustomerId::new(1), "Mona", now);
//! c.profile.birth_date = NaiveDate::from_ymd_opt(1994, 5, 17);
//! c.profile.location.country = Some(CountryCode::new("EG")?);
//! c.interests.insert("Sports");
//! assert!(segment.matches(&c, now));
//!
//! // Many customers at once, column by column.
//! let customers = Population::new(1).customers(10_000);
//! let snapshot = Snapshot::build(&customers, &schema);
//! let members = segment.evaluate(&snapshot, now)?;
//! let by_rows = customers.iter().filter(|c| segment.matches(c, now)).count();
//! assert_eq!(members.count(), by_rows);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The language
//!
//! A segment is a predicate: conditions combined with `and`, `or`, `not` and parentheses
//! (`not` binds tighter than `and`, which binds tighter than `or`), plus `true`, `false` and
//! `segment "name"` (a named segment of the [`Schema`]; cycles are refused). A condition is
//! an operand and a test:
//!
//! | test | applies to | example |
//! |---|---|---|
//! | `= != < <= > >=` | numbers, money, dates; `=`/`!=` also to text, codes and enumerations, yes/no | `age >= 18`, `stage = client` |
//! | `[not] in (a, b, ...)` | as `=` | `city in ("Cairo", "Alexandria")` |
//! | `[not] between a and b` | numbers, money, dates (both ends included) | `age between 25 and 40` |
//! | `has x`, `has any (...)`, `has all (...)` | tag sets, channel sets, text lists | `channels has any (web, tv)` |
//! | `contains`, `starts with`, `ends with` | text | `city starts with "Al"` |
//! | `is set`, `is not set` | everything | `attr.survey_done is set` |
//! | `within N days\|weeks\|months` | dates, instants | `last_purchase within 30 days` |
//! | `before DATE`, `after DATE` | dates, instants | `created_at after 2025-12-31` |
//! | the operand alone | yes/no | `loyalty_member` |
//!
//! Operands are the built-in fields ([`Schema::fields`] lists them with their types),
//! declared attributes `attr.NAME` ([`Schema::with_attribute`]), the windowed functions
//! `purchases(last N days|weeks|months)` and `spent(last N days|weeks|months)`, and the RFM
//! scores `rfm.r`, `rfm.f`, `rfm.m` (1 to 5) and `rfm.group` (e.g. `at_risk`), read from the
//! [`RfmScores`](crate::rfm::RfmScores) given to [`Schema::with_rfm`] (missing without them).
//!
//! Literals: whole numbers (`-3`), exact decimals (`500.00`, never floating point), strings in
//! double quotes with the escapes `\"` `\\` `\n` `\r` `\t` `\u{hex}`, ISO 8601 dates
//! (`2026-01-31`), `true`/`false`, and bare names for enumerated values (`repeat`,
//! `millennial`, `web`). Keywords and names are case-insensitive; string contents are not.
//!
//! The three faces are lossless: `Expr: FromStr` parses text, [`Display`](std::fmt::Display)
//! prints canonical text (`parse(print(e)) == e`), serde gives the JSON form (each node an
//! object with one key: `{"and": [...]}`, `{"not": ...}`, `{"condition": {"operand": ...,
//! "test": ...}}`; literals name their type: `{"int": 3}`, `{"decimal": "500.00"}`), and
//! [`build`] constructs the same trees in Rust.
//!
//! # The JSON form
//!
//! Stable and meant for storing segment definitions and for builder user interfaces. Every
//! node is an object with exactly one key; literals name their type; windows are text:
//!
//! ```
//! use clientele::segment::Expr;
//! let e: Expr = r#"stage in (repeat, client) and not spent(last 30 days) > 100.00"#.parse()?;
//! let json = serde_json::to_string(&e)?;
//! assert_eq!(json, concat!(
//!     r#"{"and":["#,
//!     r#"{"condition":{"operand":{"field":"stage"},"#,
//!     r#""test":{"in":{"negated":false,"values":[{"symbol":"repeat"},{"symbol":"client"}]}}}},"#,
//!     r#"{"not":{"condition":{"operand":{"activity":{"function":"spent","window":"30 days"}},"#,
//!     r#""test":{"compare":{"op":"gt","value":{"decimal":"100.00"}}}}}}"#,
//!     r#"]}"#,
//! ));
//! assert_eq!(serde_json::from_str::<Expr>(&json)?, e);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Node keys: `and`, `or` (lists of two or more), `not`, `const` (a boolean), `segment` (a
//! name), `condition` (`operand` and `test`). Operands: `field`, `attr`, `activity`. Tests:
//! `compare` (`op`: `eq`, `ne`, `lt`, `le`, `gt`, `ge`), `in` and `between` (with
//! `negated`), `has`, `has_any`, `has_all`, `contains`, `starts_with`, `ends_with`, `is_set`
//! (with `negated`), `within` (a window), `before`, `after`, and `"is_true"`. Literals:
//! `int`, `decimal` (text), `text`, `date`, `symbol`, `bool`. With serde_json's default
//! recursion limit of 128, documents nest about 60 `and`/`or` levels deep at most; the
//! segment limit (64) refuses deeper trees in every format.
//!
//! # Semantics
//!
//! Evaluation is two-valued and exact; the SQL translation reproduces these rules.
//!
//! - **Missing values.** A value is missing when the customer has none (no birth date, no
//!   city, an attribute not set or stored with another type, money in another currency than
//!   the schema's, no purchase up to the evaluation instant for `first_purchase` and
//!   `last_purchase`). **Every test on a missing value is false**, negated tests included:
//!   `age != 30`, `age not between 1 and 2`, `city not in ("x")` and `generation != gen_z`
//!   are all false without the value. `not` is plain negation, so `not (age = 30)` is true
//!   for a customer without a birth date. `is set` is true exactly when the value is present;
//!   for sets and text lists, when not empty.
//! - **Always present:** `stage`, `gender` (which has the value `unknown`), `credit`,
//!   `loyalty_member`, `referrals`, `exclusive`, `purchases`, `spent`, the windowed
//!   functions, `created_at`, `stage_since`.
//! - **Time.** A segment is evaluated *as of* an instant `t`. Only purchases at or before `t`
//!   count. `age` is in completed years on `t`'s UTC date (29 February birthdays count on 1
//!   March in common years). A trailing window covers `(start, t]`, where `start` is `N`
//!   days of 24 hours (weeks: 7 days) before `t`, or the same time `N` calendar months
//!   before (clamped to the end of shorter months): a purchase exactly at `start` is outside,
//!   one at `t` inside. `x within W` means `x` is in `(start, t]` (a date counts as its
//!   00:00 UTC). Comparing an instant with a date compares its UTC day: `last_purchase =
//!   2026-01-05` is any time that day, `before D` is before that day began, `after D` is
//!   after it ended.
//! - **Text** comparisons (`=`, `in`, `contains`, `starts with`, `ends with`) ignore the case
//!   of ASCII letters only; other characters compare exactly. Tags are stored lowercased
//!   (Unicode) and trimmed, and a tag literal is normalized the same way. Text cannot be
//!   ordered (`<` is refused).
//! - **Money** literals are converted to minor units of the schema's currency and must not
//!   have more decimals than it; comparisons are on integers.
//! - **Channels**: `channels` is the set of reachable channels, preferred and not opted out;
//!   `preferred_channels` and `opted_out_channels` are the raw sets.
//!
//! # Time and horizons
//!
//! A customer's membership can change with no write: time passes. [`Segment::horizon`]
//! gives, for a customer at `t`, the earliest instant `h > t` at which the value *can*
//! change, or `None` (never); the value is the same on all of `[t, h)`. Instants are exact
//! to the nanosecond, leap seconds included, and the rules are the evaluator's above:
//!
//! | operand or test | changes with time at |
//! |---|---|
//! | `age` (compared, `in`, `between`) | the birthday on which the age enters or leaves the range, at 00:00 UTC (29 February birthdays on 1 March in common years); `age is set` at the birth date |
//! | `x within W` (any date or instant) | `x` enters the window when `t` reaches it (a date at its 00:00 UTC) and leaves it when the window's excluded start reaches it; for `first_purchase` and `last_purchase`, also when a purchase dated after `t` becomes the first or the last |
//! | `purchases(last W)`, `spent(last W)` | a purchase entering the window (at its instant) or leaving it, when the figure then enters or leaves the range |
//! | `purchases`, `spent`, `first_purchase`, `last_purchase` (compared with fixed values), `is set` on them | a purchase dated after `t` (e.g. imported ahead of time) counts from its instant on |
//! | `generation`; `birth_date`, `loyalty_joined`, `created_at`, `stage_since` and date attributes compared with fixed dates (`=`, `<`, `between`, `before D`, `after D`, ...) | never: the value is stored and the literal fixed |
//! | everything else: RFM scores and groups, text, countries, tags, channels, yes/no fields, enumerations, `referrals`, `income`, attributes | never |
//!
//! **The boundary convention.** A window covers `(start, as_of]`. An instant `p` is in the
//! window from `as_of = p` on (inclusive) and leaves it at the first `as_of` whose start is
//! `p` or later, which the open end excludes: for `last 30 days`, `p + 30 days` (but see
//! leap seconds below); for calendar months, usually the same day and time `N` months after
//! `p`, but, as starts are clamped to the end of shorter months, a purchase on 29 to 31
//! January leaves `last 1 month` at 00:00 on 1 March (the start as of any time on 28
//! February is on 28 January). So `last_purchase within 30 days` for a purchase at 10:00:30
//! on 1 March holds through 10:00:29.999999999 on 31 March and turns
//! false at 10:00:30. Three consequences of [`Window::start`](crate::Window::start) are
//! followed exactly, not smoothed:
//!
//! - As of 28, 29, 30 and 31 March the start of `last 1 month` is on 28 February, so an
//!   instant of 28 February can leave the window at its time of day and come back at the
//!   next midnight, up to four times.
//! - chrono moves an instant in a leap second back `N` days by normalizing it to the second
//!   after: as of `hh:mm:60.f` the start of `last N days` is `hh:mm+1:00.f`, `N` days
//!   earlier, and that second is swept again after the leap second.
//! - Hence, since chrono accepts a leap second at the end of any minute, an instant at the
//!   start of a minute (`10:00:00.f`, a date's 00:00) leaves a day or week window during the
//!   leap second before the edge (`09:59:60.f`), which is its horizon. Clocks that never
//!   report leap seconds see the change at the edge itself.
//!
//! **Compound segments.** A true `and` (a false `or`) changes when its first child changes; a
//! false `and` (a true `or`) keeps its value until the last of its false (true) children has
//! changed, and forever if one of them never changes (`country = "EG" and age >= 18` is
//! never for a customer outside Egypt). `not` changes with its operand. The horizon of a
//! single condition is exact (the value at it differs); that of a compound segment can be an
//! instant at which the value turns out the same, and is then asked again.
//!
//! **What a write can change.** [`Segment::reads`] is the set of customer field groups a
//! segment reads ([`Reads`]), and [`Reads::changed`] those a write changed: when they do not
//! intersect, the write changes the customer's membership at no instant.
//!
//! # Input safety
//!
//! Segment definitions may come from end users. Every entry point enforces [`Limits`] (text
//! length, nesting depth checked *while parsing* text and JSON, node count, list length,
//! literal length, reference depth) and returns a [`SegmentError`]; no input panics or
//! exhausts the stack.
//!
//! # Error reporting
//!
//! [`SegmentError`] carries the kind, the span and the source text, and displays like a
//! compiler: the message, the line and column, the source line and a caret under the
//! problem. Unknown names come with a "did you mean" suggestion.
//!
//! # Evaluation
//!
//! - [`Segment::matches`] evaluates one customer; [`Segment::at`] fixes the instant once and
//!   compiles the segment into closures for many customers.
//! - [`Segment::evaluate`] and [`Segment::evaluate_parallel`] evaluate a columnar
//!   [`Snapshot`] into a [`Bitmap`] of members, block by block, on one thread or several.
//! - [`Segment::explain`] shows why one customer is in or out, clause by clause.
//! - [`Store::query`](crate::Store::query) returns the members of a store.
//!
//! All evaluators agree on every segment and customer; the tests check it.

mod analytics;
mod ast;
mod batch;
mod bitmap;
pub mod build;
mod check;
mod closure;
mod compiled;
mod error;
mod eval;
mod explain;
mod horizon;
mod ir;
mod json;
mod lexer;
mod parser;
mod print;
mod reads;
mod schema;
mod snapshot;
pub mod sql;
mod validate;

use serde::{Deserialize, Serialize};

pub use self::{
    analytics::{
        AnalyticsConfig, AnalyticsError, BasisPoints, Margin, Overlap, PairOverlap, SegmentReport, Share, Shortfall,
        analyze, analyze_members, overlap,
    },
    ast::{Activity, CmpOp, Condition, Expr, Literal, Operand, Span, Spanned, Test, Windowed},
    bitmap::Bitmap,
    compiled::{Matcher, Segment},
    error::{ErrorKind, SegmentError},
    explain::{Clause, ClauseKind, Explanation},
    reads::Reads,
    schema::{AttrType, FieldInfo, Schema},
    snapshot::Snapshot,
};

/// Limits on segment definitions from untrusted sources, with documented defaults.
///
/// | limit | default | why |
/// |---|---|---|
/// | `max_text_bytes` | 16 384 | bounds parsing time and memory |
/// | `max_depth` | 64 | nesting of parentheses, `not`, `and`/`or` groups: checked while parsing text *and* JSON, so hostile nesting is an error, not a stack overflow |
/// | `max_nodes` | 4 096 | bounds compile time and evaluator size |
/// | `max_list_len` | 1 024 | items in one `in (...)` or `has any (...)` list |
/// | `max_literal_bytes` | 1 024 | one string literal or segment name |
/// | `max_reference_depth` | 16 | segments referring to segments |
///
/// # Example
///
/// ```
/// use clientele::segment::{ErrorKind, Expr, Limits};
/// let strict = Limits { max_depth: 2, ..Limits::default() };
/// let err = Expr::parse_with("not not not true", &strict).unwrap_err();
/// assert_eq!(err.kind(), &ErrorKind::TooDeep { max: 2 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Longest segment text, in bytes.
    pub max_text_bytes: usize,
    /// Deepest nesting.
    pub max_depth: usize,
    /// Most nodes (expressions and literals).
    pub max_nodes: usize,
    /// Longest value list.
    pub max_list_len: usize,
    /// Longest string literal or segment name, in bytes.
    pub max_literal_bytes: usize,
    /// Deepest chain of segment references.
    pub max_reference_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_bytes: 16 * 1024,
            max_depth: 64,
            max_nodes: 4096,
            max_list_len: 1024,
            max_literal_bytes: 1024,
            max_reference_depth: 16,
        }
    }
}

impl Expr {
    /// Parses segment text under `limits`.
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] with the span of the problem and the source text, so that its
    /// [`Display`](std::fmt::Display) shows a caret under it.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Limits};
    /// let e = Expr::parse_with("interests has \"sports\" and not loyalty_member", &Limits::default())?;
    /// assert_eq!(e.to_string(), "interests has \"sports\" and not loyalty_member");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Expr, SegmentError> {
        parser::parse(text, limits).map_err(|e| e.with_source(&std::sync::Arc::from(text)))
    }

    /// Checks a tree built in Rust or read from elsewhere against `limits` and the rules the
    /// parser enforces (names are lowercase identifiers, `and`/`or` have two or more operands,
    /// lists are not empty, dates fall in the years 1 to 9999).
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] naming the broken rule.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Limits};
    /// assert!(Expr::And(vec![Expr::Const(true)]).validate(&Limits::default()).is_err());
    /// ```
    pub fn validate(&self, limits: &Limits) -> Result<(), SegmentError> {
        validate::validate(self, limits)
    }
}

impl std::str::FromStr for Expr {
    type Err = SegmentError;
    /// Parses segment text under the default [`Limits`].
    fn from_str(text: &str) -> Result<Expr, SegmentError> {
        Expr::parse_with(text, &Limits::default())
    }
}
