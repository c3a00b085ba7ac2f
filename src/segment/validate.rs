//! Checks a syntax tree built without the parser (from JSON or in Rust) against the same
//! rules and limits the parser enforces, so every face of the language accepts the same trees.

use chrono::Datelike;

use super::{
    Limits,
    ast::{Expr, Literal, Operand, Spanned, Test},
    error::{ErrorKind, SegmentError},
    parser::RESERVED,
};

/// Checks `expr`: depth, node count, list lengths, literal lengths, names, dates, and that
/// `and`/`or` have at least two operands and lists at least one value. Iterative.
pub(crate) fn validate(expr: &Expr, limits: &Limits) -> Result<(), SegmentError> {
    let mut stack = vec![(expr, 0usize)];
    let mut nodes = 0usize;
    while let Some((e, depth)) = stack.pop() {
        nodes += 1;
        if nodes > limits.max_nodes {
            return Err(SegmentError::new(ErrorKind::TooManyNodes { max: limits.max_nodes }, None));
        }
        match e {
            Expr::And(items) | Expr::Or(items) => {
                if depth >= limits.max_depth {
                    return Err(SegmentError::new(ErrorKind::TooDeep { max: limits.max_depth }, None));
                }
                if items.len() < 2 {
                    let which = if matches!(e, Expr::And(_)) { "and" } else { "or" };
                    return Err(SegmentError::new(
                        ErrorKind::Expected {
                            expected: format!("at least two operands for `{which}`"),
                            found: items.len().to_string(),
                        },
                        None,
                    ));
                }
                stack.extend(items.iter().map(|i| (i, depth + 1)));
            }
            Expr::Not(inner) => {
                if depth >= limits.max_depth {
                    return Err(SegmentError::new(ErrorKind::TooDeep { max: limits.max_depth }, None));
                }
                stack.push((inner, depth + 1));
            }
            Expr::Const(_) => {}
            Expr::Segment(name) => text(name.value(), name.span(), limits)?,
            Expr::Condition(c) => {
                match &c.operand {
                    // `rfm.NAME` is the one dotted field name; the part after the dot follows
                    // the same rule as any name.
                    Operand::Field(n) if n.value().starts_with("rfm.") => {
                        check_name(&Spanned::new(n.value()["rfm.".len()..].to_owned(), n.span()))?;
                    }
                    Operand::Field(n) | Operand::Attr(n) => check_name(n)?,
                    Operand::Activity(_) => {}
                }
                for v in literals(&c.test) {
                    nodes += 1;
                    literal(v, limits)?;
                }
                if let Test::In { values, .. } | Test::HasAny(values) | Test::HasAll(values) = &c.test {
                    if values.is_empty() {
                        let kind = ErrorKind::Expected {
                            expected: "at least one value in the list".into(),
                            found: "none".into(),
                        };
                        return Err(SegmentError::new(kind, None));
                    }
                    if values.len() > limits.max_list_len {
                        let kind = ErrorKind::ListTooLong { len: values.len(), max: limits.max_list_len };
                        return Err(SegmentError::new(kind, None));
                    }
                }
            }
        }
    }
    if nodes > limits.max_nodes {
        return Err(SegmentError::new(ErrorKind::TooManyNodes { max: limits.max_nodes }, None));
    }
    Ok(())
}

/// The literals a test carries.
pub(crate) fn literals(test: &Test) -> Vec<&Spanned<Literal>> {
    match test {
        Test::Compare { value, .. }
        | Test::Has(value)
        | Test::Contains(value)
        | Test::StartsWith(value)
        | Test::EndsWith(value)
        | Test::Before(value)
        | Test::After(value) => vec![value],
        Test::In { values, .. } | Test::HasAny(values) | Test::HasAll(values) => values.iter().collect(),
        Test::Between { low, high, .. } => vec![low, high],
        Test::IsSet { .. } | Test::Within(_) | Test::IsTrue => Vec::new(),
    }
}

fn literal(v: &Spanned<Literal>, limits: &Limits) -> Result<(), SegmentError> {
    match v.value() {
        Literal::Text(s) => text(s, v.span(), limits),
        Literal::Symbol(s) => check_name(&Spanned::new(s.clone(), v.span())),
        Literal::Date(d) if !(1..=9999).contains(&d.year()) => {
            Err(SegmentError::at(ErrorKind::OutOfRange(format!("date {d} is outside the years 1 to 9999")), v.span()))
        }
        _ => Ok(()),
    }
}

fn text(s: &str, span: super::ast::Span, limits: &Limits) -> Result<(), SegmentError> {
    if s.len() > limits.max_literal_bytes {
        return Err(SegmentError::at(ErrorKind::LiteralTooLong { len: s.len(), max: limits.max_literal_bytes }, span));
    }
    Ok(())
}

/// Field, attribute and symbol names: lowercase identifiers that are not reserved words.
pub(crate) fn check_name(name: &Spanned<String>) -> Result<(), SegmentError> {
    let n = name.value();
    let mut bytes = n.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && n.len() <= 64
        && !RESERVED.contains(&n.as_str());
    if ok { Ok(()) } else { Err(SegmentError::at(ErrorKind::BadName(n.chars().take(64).collect()), name.span())) }
}
