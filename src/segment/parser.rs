//! Recursive-descent parser from tokens to [`Expr`], with a depth guard checked before each
//! level of recursion, so hostile nesting is an error, never a stack overflow.

use super::{
    Limits,
    ast::{Activity, CmpOp, Condition, Expr, Literal, Operand, Span, Spanned, Test, Windowed},
    error::{ErrorKind, SegmentError},
    lexer::{Tok, lex},
};
use crate::window::Window;

/// Words with a meaning in the grammar: never field names or symbols.
pub(crate) const RESERVED: &[&str] = &[
    "and", "or", "not", "true", "false", "in", "between", "has", "contains", "starts", "ends", "is", "within",
    "before", "after", "segment",
];

/// Parses segment text into an [`Expr`] under `limits`.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Expr, SegmentError> {
    if text.len() > limits.max_text_bytes {
        let kind = ErrorKind::TooLong { len: text.len(), max: limits.max_text_bytes };
        return Err(SegmentError::new(kind, None));
    }
    let tokens = lex(text, limits.max_literal_bytes)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0, nodes: 0, limits };
    let expr = parser.or()?;
    match parser.peek() {
        Tok::Eof => Ok(expr),
        Tok::RParen => Err(parser.error("`and`, `or` or the end of the text (this `)` closes nothing)")),
        _ => Err(parser.error("`and`, `or` or the end of the text")),
    }
}

struct Parser<'a> {
    tokens: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
    nodes: usize,
    limits: &'a Limits,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens.get(self.pos + ahead).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn span(&self) -> Span {
        self.tokens.get(self.pos).map_or_else(Span::default, |(_, s)| *s)
    }

    fn previous_span(&self) -> Span {
        self.pos.checked_sub(1).and_then(|p| self.tokens.get(p)).map_or_else(Span::default, |(_, s)| *s)
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.tokens.get(self.pos).cloned().unwrap_or((Tok::Eof, Span::default()));
        self.pos = (self.pos + 1).min(self.tokens.len());
        t
    }

    fn is_kw(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == word)
    }

    fn eat_kw(&mut self, word: &str) -> bool {
        let hit = self.is_kw(word);
        if hit {
            self.bump();
        }
        hit
    }

    fn expect_kw(&mut self, word: &str) -> Result<(), SegmentError> {
        if self.eat_kw(word) { Ok(()) } else { Err(self.error(&format!("`{word}`"))) }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Span, SegmentError> {
        if self.peek() == tok { Ok(self.bump().1) } else { Err(self.error(what)) }
    }

    fn error(&self, expected: &str) -> SegmentError {
        let kind = ErrorKind::Expected { expected: expected.into(), found: self.peek().describe() };
        SegmentError::at(kind, self.span())
    }

    fn count_node(&mut self) -> Result<(), SegmentError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(SegmentError::at(ErrorKind::TooManyNodes { max: self.limits.max_nodes }, self.span()));
        }
        Ok(())
    }

    fn enter(&mut self, levels: usize) -> Result<(), SegmentError> {
        self.depth += levels;
        if self.depth > self.limits.max_depth {
            return Err(SegmentError::at(ErrorKind::TooDeep { max: self.limits.max_depth }, self.span()));
        }
        Ok(())
    }

    /// `and_expr ("or" and_expr)*`
    fn or(&mut self) -> Result<Expr, SegmentError> {
        let mut items = vec![self.and()?];
        while self.eat_kw("or") {
            items.push(self.and()?);
        }
        if items.len() > 1 {
            self.count_node()?;
        }
        Ok(Expr::any(items))
    }

    /// `not_expr ("and" not_expr)*`
    fn and(&mut self) -> Result<Expr, SegmentError> {
        let mut items = vec![self.not()?];
        while self.eat_kw("and") {
            items.push(self.not()?);
        }
        if items.len() > 1 {
            self.count_node()?;
        }
        Ok(Expr::all(items))
    }

    /// `"not"* primary`, counting each `not` as a level without recursing.
    fn not(&mut self) -> Result<Expr, SegmentError> {
        let mut nots = 0;
        while self.eat_kw("not") {
            nots += 1;
            self.enter(1)?;
            self.count_node()?;
        }
        let mut expr = self.primary()?;
        for _ in 0..nots {
            expr = Expr::negate(expr);
        }
        self.depth -= nots;
        Ok(expr)
    }

    fn primary(&mut self) -> Result<Expr, SegmentError> {
        match self.peek() {
            Tok::LParen => {
                self.bump();
                self.enter(1)?;
                let inner = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                let value = w == "true";
                self.bump();
                self.count_node()?;
                Ok(Expr::Const(value))
            }
            Tok::Ident(w) if w == "segment" => {
                self.bump();
                self.count_node()?;
                match self.tokens.get(self.pos) {
                    Some((Tok::Str(name), span)) => {
                        let name = Spanned::new(name.clone(), *span);
                        self.pos += 1;
                        Ok(Expr::Segment(name))
                    }
                    _ => Err(self.error("a segment name in quotes")),
                }
            }
            _ => {
                self.count_node()?;
                let operand = self.operand()?;
                let test = self.test()?;
                Ok(Expr::Condition(Condition { operand, test }))
            }
        }
    }

    fn name(&mut self, what: &str) -> Result<Spanned<String>, SegmentError> {
        match self.tokens.get(self.pos) {
            Some((Tok::Ident(w), span)) if !RESERVED.contains(&w.as_str()) => {
                let name = Spanned::new(w.clone(), *span);
                self.pos += 1;
                Ok(name)
            }
            _ => Err(self.error(what)),
        }
    }

    fn operand(&mut self) -> Result<Operand, SegmentError> {
        let field = self.name("a field, `segment \"name\"`, `true`, `false`, `not` or `(`")?;
        if field.value() == "attr" && *self.peek() == Tok::Dot {
            self.bump();
            let name = self.name("an attribute name after `attr.`")?;
            return Ok(Operand::Attr(name));
        }
        if field.value() == "rfm" && *self.peek() == Tok::Dot {
            self.bump();
            let part = self.name("`r`, `f`, `m` or `group` after `rfm.`")?;
            let span = field.span().to(part.span());
            return Ok(Operand::Field(Spanned::new(format!("rfm.{}", part.value()), span)));
        }
        let function = match field.value().as_str() {
            "purchases" => Some(Activity::Purchases),
            "spent" => Some(Activity::Spent),
            _ => None,
        };
        if let (Some(function), Tok::LParen) = (function, self.peek()) {
            self.bump();
            self.expect_kw("last")?;
            let window = self.window()?;
            let end = self.expect(&Tok::RParen, "`)`")?;
            return Ok(Operand::Activity(Spanned::new(Windowed { function, window }, field.span().to(end))));
        }
        Ok(Operand::Field(field))
    }

    /// `N days|weeks|months` (singular too).
    fn window(&mut self) -> Result<Window, SegmentError> {
        let n = match self.peek() {
            Tok::Int(n) => u32::try_from(*n).map_err(|_| {
                SegmentError::at(ErrorKind::BadNumber(format!("{n} (a count from 0 to 4294967295)")), self.span())
            })?,
            _ => return Err(self.error("a whole number of days, weeks or months")),
        };
        self.bump();
        let window = match self.peek() {
            Tok::Ident(u) if u == "day" || u == "days" => Window::days(n),
            Tok::Ident(u) if u == "week" || u == "weeks" => Window::weeks(n),
            Tok::Ident(u) if u == "month" || u == "months" => Window::months(n),
            _ => return Err(self.error("`days`, `weeks` or `months`")),
        };
        self.bump();
        Ok(window)
    }

    fn test(&mut self) -> Result<Test, SegmentError> {
        if let Tok::Op(op) = self.peek() {
            let op = match *op {
                "=" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            self.bump();
            return Ok(Test::Compare { op, value: self.value()? });
        }
        let Tok::Ident(word) = self.peek().clone() else {
            return self.bare_boolean();
        };
        match word.as_str() {
            "not" if matches!(self.peek_at(1), Tok::Ident(w) if w == "in" || w == "between") => {
                self.bump();
                self.membership(true)
            }
            "in" | "between" => self.membership(false),
            "has" => {
                self.bump();
                let list_follows = *self.peek_at(1) == Tok::LParen;
                if list_follows && self.eat_kw("any") {
                    Ok(Test::HasAny(self.list()?))
                } else if list_follows && self.eat_kw("all") {
                    Ok(Test::HasAll(self.list()?))
                } else {
                    Ok(Test::Has(self.value()?))
                }
            }
            "contains" => {
                self.bump();
                Ok(Test::Contains(self.value()?))
            }
            "starts" | "ends" => {
                self.bump();
                self.expect_kw("with")?;
                let value = self.value()?;
                Ok(if word == "starts" { Test::StartsWith(value) } else { Test::EndsWith(value) })
            }
            "is" => {
                self.bump();
                let negated = self.eat_kw("not");
                self.expect_kw("set")?;
                Ok(Test::IsSet { negated })
            }
            "within" => {
                self.bump();
                Ok(Test::Within(self.window()?))
            }
            "before" => {
                self.bump();
                Ok(Test::Before(self.value()?))
            }
            "after" => {
                self.bump();
                Ok(Test::After(self.value()?))
            }
            _ => self.bare_boolean(),
        }
    }

    /// A field alone, tested for truth; only where a condition may end.
    fn bare_boolean(&self) -> Result<Test, SegmentError> {
        let ends = matches!(self.peek(), Tok::Eof | Tok::RParen) || self.is_kw("and") || self.is_kw("or");
        if ends {
            Ok(Test::IsTrue)
        } else {
            Err(self.error("an operator (`=`, `in`, `between`, `has`, `contains`, `is set`, `within`, ...)"))
        }
    }

    /// After an optional `not`: `in (...)` or `between a and b`.
    fn membership(&mut self, negated: bool) -> Result<Test, SegmentError> {
        if self.eat_kw("in") {
            return Ok(Test::In { negated, values: self.list()? });
        }
        self.expect_kw("between")?;
        let low = self.value()?;
        self.expect_kw("and")?;
        let high = self.value()?;
        Ok(Test::Between { negated, low, high })
    }

    /// `( value, ... )`, at least one value.
    fn list(&mut self) -> Result<Vec<Spanned<Literal>>, SegmentError> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut values = vec![self.value()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            if values.len() >= self.limits.max_list_len {
                let kind = ErrorKind::ListTooLong { len: values.len() + 1, max: self.limits.max_list_len };
                return Err(SegmentError::at(kind, self.span()));
            }
            values.push(self.value()?);
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        Ok(values)
    }

    fn value(&mut self) -> Result<Spanned<Literal>, SegmentError> {
        let literal = match self.peek().clone() {
            Tok::Str(s) => Literal::Text(s),
            Tok::Int(n) => Literal::Int(n),
            Tok::Decimal(d) => Literal::Decimal(d),
            Tok::Date(d) => Literal::Date(d),
            Tok::Ident(w) if w == "true" || w == "false" => Literal::Bool(w == "true"),
            Tok::Ident(w) if !RESERVED.contains(&w.as_str()) => Literal::Symbol(w),
            _ => return Err(self.error("a value (a string, number, date or name)")),
        };
        self.bump();
        self.count_node()?;
        Ok(Spanned::new(literal, self.previous_span()))
    }
}
