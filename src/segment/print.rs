//! Canonical text for the syntax tree: lowercase keywords, single spaces, parentheses only
//! where precedence needs them. Parsing the printed text gives the same tree back.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{Condition, Expr, Literal, Operand, Test};

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            // Always with a point, so that it reads back as a decimal, not a whole number.
            Literal::Decimal(d) if d.scale() == 0 => write!(f, "{d}.0"),
            Literal::Decimal(d) => write!(f, "{d}"),
            Literal::Text(s) => write_string(f, s),
            Literal::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Literal::Symbol(s) => f.write_str(s),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A string literal with escapes for quotes, backslashes and control characters.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field(name) => f.write_str(name.value()),
            Operand::Attr(name) => write!(f, "attr.{}", name.value()),
            Operand::Activity(w) => write!(f, "{}(last {})", w.value().function.name(), w.value().window),
        }
    }
}

fn list(f: &mut Formatter<'_>, values: &[super::ast::Spanned<Literal>]) -> fmt::Result {
    f.write_char('(')?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", v.value())?;
    }
    f.write_char(')')
}

impl Display for Test {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let not = |negated: &bool| if *negated { "not " } else { "" };
        match self {
            Test::Compare { op, value } => write!(f, "{} {}", op.symbol(), value.value()),
            Test::In { negated, values } => {
                write!(f, "{}in ", not(negated))?;
                list(f, values)
            }
            Test::Between { negated, low, high } => {
                write!(f, "{}between {} and {}", not(negated), low.value(), high.value())
            }
            Test::Has(v) => write!(f, "has {}", v.value()),
            Test::HasAny(values) => {
                f.write_str("has any ")?;
                list(f, values)
            }
            Test::HasAll(values) => {
                f.write_str("has all ")?;
                list(f, values)
            }
            Test::Contains(v) => write!(f, "contains {}", v.value()),
            Test::StartsWith(v) => write!(f, "starts with {}", v.value()),
            Test::EndsWith(v) => write!(f, "ends with {}", v.value()),
            Test::IsSet { negated } => write!(f, "is {}set", not(negated)),
            Test::Within(w) => write!(f, "within {w}"),
            Test::Before(v) => write!(f, "before {}", v.value()),
            Test::After(v) => write!(f, "after {}", v.value()),
            Test::IsTrue => Ok(()),
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.test {
            Test::IsTrue => write!(f, "{}", self.operand),
            _ => write!(f, "{} {}", self.operand, self.test),
        }
    }
}

/// How tightly an expression binds, to decide on parentheses.
fn needs_parens(child: &Expr, parent_is_and: bool) -> bool {
    match child {
        Expr::Or(_) => true,
        Expr::And(_) => parent_is_and,
        _ => false,
    }
}

impl Display for Expr {
    /// Writes canonical text. Iterative over `not` chains and bounded by the tree's depth,
    /// which every constructor path limits.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(items) | Expr::Or(items) => {
                let is_and = matches!(self, Expr::And(_));
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(if is_and { " and " } else { " or " })?;
                    }
                    if needs_parens(item, is_and) { write!(f, "({item})")? } else { write!(f, "{item}")? }
                }
                Ok(())
            }
            Expr::Not(inner) => {
                let mut inner = inner.as_ref();
                f.write_str("not ")?;
                while let Expr::Not(next) = inner {
                    f.write_str("not ")?;
                    inner = next;
                }
                if matches!(inner, Expr::And(_) | Expr::Or(_)) { write!(f, "({inner})") } else { write!(f, "{inner}") }
            }
            Expr::Const(b) => write!(f, "{b}"),
            Expr::Segment(name) => {
                f.write_str("segment ")?;
                write_string(f, name.value())
            }
            Expr::Condition(c) => write!(f, "{c}"),
        }
    }
}
