//! Errors from parsing, checking and compiling segments, rendered like a compiler's.

use std::{fmt, sync::Arc};

use super::ast::Span;

/// What went wrong with a segment definition.
///
/// # Example
///
/// ```
/// use clientele::segment::{ErrorKind, Expr};
/// let err = "age >= ".parse::<Expr>().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Expected { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is longer than the limit.
    #[error("segment text is {len} bytes, at most {max} allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Parentheses, `not`s and nested groups go deeper than the limit.
    #[error("segment nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More nodes than the limit.
    #[error("segment has more than {max} nodes")]
    TooManyNodes {
        /// The limit.
        max: usize,
    },
    /// A list longer than the limit.
    #[error("list has {len} items, at most {max} allowed")]
    ListTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A string literal longer than the limit.
    #[error("text literal is {len} bytes, at most {max} allowed")]
    LiteralTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character that starts no token.
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    /// A string literal without its closing quote.
    #[error("unterminated string literal")]
    UnterminatedString,
    /// A backslash escape that is not one of `\" \\ \n \r \t \u{..}`.
    #[error("invalid escape `{0}` (expected \\\", \\\\, \\n, \\r, \\t or \\u{{hex}})")]
    BadEscape(String),
    /// A number that does not parse or fit.
    #[error("invalid number `{0}`")]
    BadNumber(String),
    /// A date that is not a real ISO 8601 calendar date.
    #[error("invalid date `{0}` (expected YYYY-MM-DD)")]
    BadDate(String),
    /// The parser expected something else here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What would have been accepted.
        expected: String,
        /// What was there.
        found: String,
    },
    /// A name that is not a lowercase identifier (`a`-`z`, digits and `_`, not starting with a
    /// digit, at most 64 bytes), or a reserved word used as a name: in the JSON or builder
    /// form, or declared in a [`Schema`](super::Schema).
    #[error(
        "`{0}` is not a valid name (lowercase letters, digits and `_`, not starting with a digit, at most 64 bytes, not a reserved word)"
    )]
    BadName(String),
    /// A field the schema does not know.
    #[error("unknown field `{name}`{}", suggestion_text(.suggestion))]
    UnknownField {
        /// The name written.
        name: String,
        /// The closest known field, if one is close.
        suggestion: Option<String>,
    },
    /// An attribute the schema does not declare.
    #[error("unknown attribute `attr.{name}`{}", suggestion_text(.suggestion))]
    UnknownAttribute {
        /// The name written.
        name: String,
        /// The closest declared attribute, if one is close.
        suggestion: Option<String>,
    },
    /// A value of the wrong type for the field.
    #[error("`{field}` is {expected}, but the value is {found}")]
    TypeMismatch {
        /// The field.
        field: String,
        /// The field's type.
        expected: String,
        /// What the value is.
        found: String,
    },
    /// A symbol that is not one of the field's values.
    #[error("`{value}` is not a value of `{field}` (expected one of {allowed})")]
    UnknownSymbol {
        /// The field.
        field: String,
        /// The symbol written.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// A test that does not apply to the field's type, e.g. `age has 3`.
    #[error("`{test}` does not apply to `{field}`, which is {kind}")]
    UnsupportedTest {
        /// The field.
        field: String,
        /// The test.
        test: String,
        /// The field's type.
        kind: String,
    },
    /// A reference to a segment that is not defined.
    #[error("unknown segment \"{name}\"{}", suggestion_text(.suggestion))]
    UnknownSegment {
        /// The name written.
        name: String,
        /// The closest defined segment, if one is close.
        suggestion: Option<String>,
    },
    /// Segments that refer to each other in a circle.
    #[error("segments refer to each other in a cycle: {0}")]
    SegmentCycle(String),
    /// Segment references nested deeper than the limit.
    #[error("segment references nest deeper than {max}")]
    ReferencesTooDeep {
        /// The limit.
        max: usize,
    },
    /// A snapshot built for another currency than the segment's schema.
    #[error("the segment compares money in {segment} but the snapshot holds {snapshot}")]
    CurrencyMismatch {
        /// The segment's currency.
        segment: crate::money::Currency,
        /// The snapshot's currency.
        snapshot: crate::money::Currency,
    },
    /// A value out of the range the field allows (e.g. an amount with more decimals than
    /// the currency has).
    #[error("{0}")]
    OutOfRange(String),
}

fn suggestion_text(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

/// An error in a segment definition: what, where, and the source text to show it in.
///
/// [`Display`](fmt::Display) renders it like a compiler: the message, the line and column, the
/// source line, and a caret under the span.
///
/// # Example
///
/// ```
/// use clientele::segment::{Schema, Segment};
/// let err = Segment::compile("agee > 30", &Schema::default()).unwrap_err();
/// assert_eq!(err.to_string(), "\
/// error: unknown field `agee` (did you mean `age`?)
///  --> 1:1
///   |
/// 1 | agee > 30
///   | ^^^^
/// ");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentError {
    kind: ErrorKind,
    span: Option<Span>,
    source_text: Option<Arc<str>>,
}

impl SegmentError {
    pub(crate) fn new(kind: ErrorKind, span: Option<Span>) -> SegmentError {
        SegmentError { kind, span, source_text: None }
    }

    pub(crate) fn at(kind: ErrorKind, span: Span) -> SegmentError {
        // A default span marks a node built without source: no position to show.
        SegmentError::new(kind, (span != Span::default()).then_some(span))
    }

    pub(crate) fn with_source(mut self, text: &Arc<str>) -> SegmentError {
        self.source_text = Some(Arc::clone(text));
        self
    }

    /// What went wrong.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{ErrorKind, Schema, Segment};
    /// let err = Segment::compile("agee > 30", &Schema::default()).unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::UnknownField { name: "agee".into(), suggestion: Some("age".into()) });
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Where, as a byte range of the source text (none for trees built without text).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Schema, Segment, Span, build::field};
    /// let err = "age > 30 and @".parse::<Expr>().unwrap_err();
    /// assert_eq!(err.span(), Some(Span::new(13, 14)));
    ///
    /// // A tree built in Rust has no source text to point into.
    /// let err = Segment::from_expr(field("agee").gt(30), &Schema::default()).unwrap_err();
    /// assert_eq!(err.span(), None);
    /// ```
    pub fn span(&self) -> Option<Span> {
        self.span
    }

    /// 1-based line and column (in characters) of the start of the span.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Expr;
    /// let err = "age > 1 and\n  @".parse::<Expr>().unwrap_err();
    /// assert_eq!(err.line_column(), Some((2, 3)));
    /// ```
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let (text, span) = (self.source_text.as_deref()?, self.span?);
        let before = text.get(..span.start)?;
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, column))
    }
}

impl std::error::Error for SegmentError {}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.kind)?;
        let (Some(text), Some(span), Some((line, column))) =
            (self.source_text.as_deref(), self.span, self.line_column())
        else {
            return Ok(());
        };
        let start_of_line = span.start - (column_bytes(text, span.start));
        let source_line = text[start_of_line..].split('\n').next().unwrap_or("");
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        // The caret covers the span's part on this line, at least one character.
        let end = span.end.min(start_of_line + source_line.len()).max(span.start);
        let width = text.get(span.start..end).map_or(1, |s| s.chars().count()).max(1);
        writeln!(f, "{pad}--> {line}:{column}")?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{number} | {source_line}")?;
        writeln!(f, "{pad} | {}{}", " ".repeat(column - 1), "^".repeat(width))
    }
}

/// Bytes between the start of `offset`'s line and `offset`.
fn column_bytes(text: &str, offset: usize) -> usize {
    text.get(..offset).and_then(|b| b.rfind('\n')).map_or(offset, |nl| offset - nl - 1)
}
