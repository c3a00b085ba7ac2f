//! Segmentation: a predicate language over customers, with a text form, a JSON form and a
//! Rust builder, checked against a schema and compiled to a fast evaluator.
//!
//! (Work in progress: the language front end is here; compilation and evaluation follow.)

mod analytics;
mod ast;
mod batch;
mod bitmap;
mod check;
mod compiled;
mod error;
mod eval;
mod explain;
mod ir;
mod json;
mod lexer;
mod parser;
mod print;
mod schema;
mod snapshot;
mod validate;

use serde::{Deserialize, Serialize};

pub use self::{
    analytics::{
        AnalyticsConfig, AnalyticsError, BasisPoints, Margin, Overlap, PairOverlap, SegmentReport, Share, Shortfall,
        analyze, analyze_members, overlap,
    },
    ast::{Activity, CmpOp, Condition, Expr, Literal, Operand, Span, Spanned, Test},
    bitmap::Bitmap,
    compiled::{Matcher, Segment},
    error::{ErrorKind, SegmentError},
    explain::{Clause, ClauseKind, Explanation},
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
