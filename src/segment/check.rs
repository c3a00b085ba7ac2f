//! Resolves names against the [`Schema`], checks types, and lowers the syntax tree to the
//! normalized [`Pred`] form. Segment references are inlined here, with cycle detection.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ast::{CmpOp, Condition, Expr, Literal, Operand, Spanned, Test},
    error::{ErrorKind, SegmentError},
    eval::rfm_group_bit,
    ir::{
        BoolField, ChannelField, DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range, RfmPart,
        TagField, TextField, TextOp, generation_bit, stage_bit,
    },
    schema::{AttrType, Field, FieldInfo, FieldType, Schema, suggest},
};
use crate::{
    customer::{Channel, CountryCode, CreditStanding, Gender, Generation, TagSet},
    lifecycle::Stage,
    money::{Decimal, Money},
    rfm::RfmGroup,
};

/// Checks `expr` against `schema` and lowers it.
pub(crate) fn check(expr: &Expr, schema: &Schema) -> Result<Pred, SegmentError> {
    expr.validate(schema.limits())?;
    Checker { schema, references: Vec::new() }.expr(expr)
}

struct Checker<'s> {
    schema: &'s Schema,
    /// The named segments being expanded, outermost first.
    references: Vec<String>,
}

/// A resolved operand.
enum Target {
    Builtin(&'static FieldInfo),
    Attr(String, AttrType),
    Activity(super::ast::Activity, crate::window::Window),
}

impl Target {
    fn ty(&self) -> FieldType {
        match self {
            Target::Builtin(f) => f.ty,
            Target::Attr(_, t) => t.field_type(),
            Target::Activity(super::ast::Activity::Purchases, _) => FieldType::Int,
            Target::Activity(super::ast::Activity::Spent, _) => FieldType::Money,
        }
    }

    fn name(&self) -> String {
        match self {
            Target::Builtin(f) => f.name.to_owned(),
            Target::Attr(n, _) => format!("attr.{n}"),
            Target::Activity(a, w) => format!("{}(last {w})", a.name()),
        }
    }

    /// The predicate "this operand has a value".
    fn presence(&self) -> Pred {
        let p = match self {
            Target::Attr(n, ty) => Presence::Attr(n.clone(), *ty),
            Target::Activity(..) => return Pred::Const(true),
            Target::Builtin(f) => match f.field {
                Field::Generation => Presence::Generation,
                Field::Age => Presence::Age,
                Field::BirthDate => Presence::BirthDate,
                Field::Country => Presence::Country,
                Field::Region => Presence::Region,
                Field::City => Presence::City,
                Field::Interests => Presence::Interests,
                Field::Lifestyle => Presence::Lifestyle,
                Field::Needs => Presence::Needs,
                Field::Channels => Presence::Channels(ChannelField::Reachable),
                Field::PreferredChannels => Presence::Channels(ChannelField::Preferred),
                Field::OptedOutChannels => Presence::Channels(ChannelField::OptedOut),
                Field::LoyaltyJoined => Presence::LoyaltyJoined,
                Field::FirstPurchase | Field::LastPurchase => Presence::AnyPurchase,
                Field::Income => Presence::Income,
                Field::RfmR | Field::RfmF | Field::RfmM | Field::RfmGroup => Presence::Rfm,
                Field::Stage
                | Field::Gender
                | Field::Credit
                | Field::LoyaltyMember
                | Field::Referrals
                | Field::Exclusive
                | Field::Purchases
                | Field::Spent
                | Field::CreatedAt
                | Field::StageSince => return Pred::Const(true),
            },
        };
        Pred::leaf(Leaf::IsSet(p))
    }
}

/// The name of a test, for "does not apply" messages.
fn test_name(test: &Test) -> &'static str {
    match test {
        Test::Compare { op, .. } => op.symbol(),
        Test::In { negated: false, .. } => "in",
        Test::In { negated: true, .. } => "not in",
        Test::Between { negated: false, .. } => "between",
        Test::Between { negated: true, .. } => "not between",
        Test::Has(_) => "has",
        Test::HasAny(_) => "has any",
        Test::HasAll(_) => "has all",
        Test::Contains(_) => "contains",
        Test::StartsWith(_) => "starts with",
        Test::EndsWith(_) => "ends with",
        Test::IsSet { .. } => "is set",
        Test::Within(_) => "within",
        Test::Before(_) => "before",
        Test::After(_) => "after",
        Test::IsTrue => "(on its own, as a yes/no test)",
    }
}

/// What a literal is, in words.
fn literal_kind(l: &Literal) -> String {
    match l {
        Literal::Int(n) => format!("the whole number {n}"),
        Literal::Decimal(d) => format!("the decimal number {d}"),
        Literal::Text(_) => "text".into(),
        Literal::Date(d) => format!("the date {d}"),
        Literal::Symbol(s) => format!("the name `{s}`"),
        Literal::Bool(b) => format!("`{b}`"),
    }
}

/// `present and not p`: how every negated test treats missing values (false).
fn present_and_not(present: Pred, p: Pred) -> Pred {
    Pred::and(vec![present, Pred::not(p)])
}

impl Checker<'_> {
    /// Lowers `e`. The recursion through nested groups and inlined references goes about a
    /// thousand levels deep at the default limits (16 references of 64 levels each), so this
    /// frame is kept small: one plain loop, no iterator adapters (each would be one more
    /// frame per level in debug builds).
    fn expr(&mut self, e: &Expr) -> Result<Pred, SegmentError> {
        let (items, is_and) = match e {
            Expr::And(items) => (items, true),
            Expr::Or(items) => (items, false),
            Expr::Not(inner) => return self.expr(inner).map(Pred::not),
            Expr::Const(b) => return Ok(Pred::Const(*b)),
            Expr::Segment(name) => return self.reference(name),
            Expr::Condition(c) => return self.condition(c),
        };
        let mut lowered = Vec::with_capacity(items.len());
        for item in items {
            lowered.push(self.expr(item)?);
        }
        Ok(if is_and { Pred::and(lowered) } else { Pred::or(lowered) })
    }

    fn reference(&mut self, name: &Spanned<String>) -> Result<Pred, SegmentError> {
        let n = name.value();
        if let Some(start) = self.references.iter().position(|r| r == n) {
            let mut path: Vec<String> = self.references[start..].iter().map(|r| format!("\"{r}\"")).collect();
            path.push(format!("\"{n}\""));
            return Err(SegmentError::at(ErrorKind::SegmentCycle(path.join(" -> ")), name.span()));
        }
        let max = self.schema.limits().max_reference_depth;
        if self.references.len() >= max {
            return Err(SegmentError::at(ErrorKind::ReferencesTooDeep { max }, name.span()));
        }
        let Some(definition) = self.schema.segment(n) else {
            let suggestion = suggest(n, self.schema.segments().map(|(k, _)| k));
            return Err(SegmentError::at(ErrorKind::UnknownSegment { name: n.clone(), suggestion }, name.span()));
        };
        self.references.push(n.clone());
        // An error inside the referenced definition is reported at the reference, whose
        // text is the one being compiled.
        let lowered = self.expr(definition).map_err(|e| SegmentError::at(e.kind().clone(), name.span()));
        self.references.pop();
        lowered
    }

    fn resolve(&self, operand: &Operand) -> Result<Target, SegmentError> {
        match operand {
            Operand::Field(name) => Schema::field(name.value()).map(Target::Builtin).ok_or_else(|| {
                let suggestion = suggest(name.value(), Schema::fields().iter().map(|f| f.name));
                SegmentError::at(ErrorKind::UnknownField { name: name.value().clone(), suggestion }, name.span())
            }),
            Operand::Attr(name) => match self.schema.attribute(name.value()) {
                Some(ty) => Ok(Target::Attr(name.value().clone(), ty)),
                None => {
                    let suggestion = suggest(name.value(), self.schema.attributes().map(|(k, _)| k));
                    let kind = ErrorKind::UnknownAttribute { name: name.value().clone(), suggestion };
                    Err(SegmentError::at(kind, name.span()))
                }
            },
            Operand::Activity(w) => Ok(Target::Activity(w.value().function, w.value().window)),
        }
    }

    fn condition(&mut self, c: &Condition) -> Result<Pred, SegmentError> {
        let target = self.resolve(&c.operand)?;
        let span = c.operand.span();
        let unsupported = || {
            let kind = ErrorKind::UnsupportedTest {
                field: target.name(),
                test: test_name(&c.test).into(),
                kind: target.ty().describe().into(),
            };
            SegmentError::at(kind, span)
        };
        if let Test::IsSet { negated } = c.test {
            let p = target.presence();
            return Ok(if negated { Pred::not(p) } else { p });
        }
        let lit = Lit { target: &target };
        Ok(match target.ty() {
            FieldType::Int => {
                let field = match &target {
                    Target::Builtin(f) if f.field == Field::Age => None,
                    Target::Builtin(f) if f.field == Field::Referrals => Some(IntField::Referrals),
                    Target::Builtin(f) if f.field == Field::RfmR => Some(IntField::Rfm(RfmPart::R)),
                    Target::Builtin(f) if f.field == Field::RfmF => Some(IntField::Rfm(RfmPart::F)),
                    Target::Builtin(f) if f.field == Field::RfmM => Some(IntField::Rfm(RfmPart::M)),
                    Target::Builtin(_) => Some(IntField::Purchases),
                    Target::Attr(n, _) => Some(IntField::Attr(n.clone())),
                    Target::Activity(..) => None,
                };
                let make = |r: Range<i64>| match (&target, &field) {
                    (Target::Activity(a, w), _) => Pred::leaf(Leaf::Activity(*a, *w, r)),
                    (_, Some(f)) => Pred::leaf(Leaf::Int(f.clone(), r)),
                    (_, None) => Pred::leaf(Leaf::Age(r)),
                };
                ordered(&c.test, |v| lit.int(v), make, target.presence(), false).ok_or_else(unsupported)??
            }
            FieldType::Money => {
                let make = |r: Range<i64>| match &target {
                    Target::Activity(a, w) => Pred::leaf(Leaf::Activity(*a, *w, r)),
                    Target::Attr(n, _) => Pred::leaf(Leaf::Money(MoneyField::Attr(n.clone()), r)),
                    Target::Builtin(f) if f.field == Field::Income => Pred::leaf(Leaf::Money(MoneyField::Income, r)),
                    Target::Builtin(_) => Pred::leaf(Leaf::Money(MoneyField::Spent, r)),
                };
                ordered(&c.test, |v| lit.money(v, self.schema), make, target.presence(), false)
                    .ok_or_else(unsupported)??
            }
            FieldType::Decimal => {
                let name = target.name().trim_start_matches("attr.").to_owned();
                let make = |r: Range<Decimal>| Pred::leaf(Leaf::Decimal(name.clone(), r));
                ordered(&c.test, |v| lit.decimal(v), make, target.presence(), false).ok_or_else(unsupported)??
            }
            FieldType::Date => {
                let field = match &target {
                    Target::Builtin(f) if f.field == Field::BirthDate => DateField::BirthDate,
                    Target::Builtin(_) => DateField::LoyaltyJoined,
                    Target::Attr(n, _) => DateField::Attr(n.clone()),
                    Target::Activity(..) => return Err(unsupported()),
                };
                if let Test::Within(w) = &c.test {
                    return Ok(Pred::leaf(Leaf::DateWithin(field, *w)));
                }
                let make = |r: Range<NaiveDate>| Pred::leaf(Leaf::Date(field.clone(), r));
                ordered(&c.test, |v| lit.date(v), make, target.presence(), true).ok_or_else(unsupported)??
            }
            FieldType::Instant => {
                let field = match &target {
                    Target::Builtin(f) => match f.field {
                        Field::FirstPurchase => InstantField::FirstPurchase,
                        Field::LastPurchase => InstantField::LastPurchase,
                        Field::CreatedAt => InstantField::CreatedAt,
                        _ => InstantField::StageSince,
                    },
                    _ => return Err(unsupported()),
                };
                if let Test::Within(w) = &c.test {
                    return Ok(Pred::leaf(Leaf::InstantWithin(field, *w)));
                }
                let make = |r: Range<NaiveDate>| Pred::leaf(Leaf::Instant(field, day_range_to_instants(r)));
                ordered(&c.test, |v| lit.date(v), make, target.presence(), true).ok_or_else(unsupported)??
            }
            FieldType::Stage => {
                let mask =
                    |v: &Spanned<Literal>| lit.symbol(v, Stage::ALL.iter().map(|s| (s.name(), *s))).map(stage_bit);
                symbols(&c.test, mask, Leaf::Stage).ok_or_else(unsupported)??
            }
            FieldType::Gender => {
                let bit = |v: &Spanned<Literal>| {
                    let g = lit.symbol(v, Gender::ALL.iter().map(|g| (g.name(), *g)))?;
                    Ok(1u8 << Gender::ALL.iter().position(|x| *x == g).unwrap_or(0))
                };
                symbols(&c.test, bit, Leaf::Gender).ok_or_else(unsupported)??
            }
            FieldType::Credit => {
                let bit = |v: &Spanned<Literal>| {
                    let g = lit.symbol(v, CreditStanding::ALL.iter().map(|g| (g.name(), *g)))?;
                    Ok(1u8 << CreditStanding::ALL.iter().position(|x| *x == g).unwrap_or(0))
                };
                symbols(&c.test, bit, Leaf::Credit).ok_or_else(unsupported)??
            }
            FieldType::RfmGroup => {
                let bit = |v: &Spanned<Literal>| {
                    lit.symbol(v, RfmGroup::ALL.iter().map(|g| (g.name(), *g))).map(rfm_group_bit)
                };
                // Like every comparison, `!=` and `not in` are false without scores.
                let p = symbols(&c.test, bit, Leaf::RfmGroup).ok_or_else(unsupported)??;
                match &c.test {
                    Test::Compare { op: CmpOp::Ne, .. } | Test::In { negated: true, .. } => {
                        Pred::and(vec![target.presence(), p])
                    }
                    _ => p,
                }
            }
            FieldType::Generation => {
                let bit = |v: &Spanned<Literal>| {
                    lit.symbol(v, Generation::ALL.iter().map(|g| (g.name(), *g))).map(generation_bit)
                };
                // `generation != x` is false without a generation, like every comparison.
                let p = symbols(&c.test, bit, Leaf::Generation).ok_or_else(unsupported)??;
                match &c.test {
                    Test::Compare { op: CmpOp::Ne, .. } | Test::In { negated: true, .. } => {
                        Pred::and(vec![target.presence(), p])
                    }
                    _ => p,
                }
            }
            FieldType::Text => {
                let field = match &target {
                    Target::Builtin(f) if f.field == Field::Region => TextField::Region,
                    Target::Builtin(_) => TextField::City,
                    Target::Attr(n, _) => TextField::Attr(n.clone()),
                    Target::Activity(..) => return Err(unsupported()),
                };
                let present = target.presence();
                let one = |op, v: &Spanned<Literal>| -> Result<Pred, SegmentError> {
                    Ok(Pred::leaf(Leaf::Text(field.clone(), op, vec![lit.text(v)?.to_ascii_lowercase()])))
                };
                match &c.test {
                    Test::Compare { op: CmpOp::Eq, value } => one(TextOp::Eq, value)?,
                    Test::Compare { op: CmpOp::Ne, value } => present_and_not(present, one(TextOp::Eq, value)?),
                    Test::In { negated, values } => {
                        let values = values
                            .iter()
                            .map(|v| lit.text(v).map(|t| t.to_ascii_lowercase()))
                            .collect::<Result<Vec<_>, _>>()?;
                        let p = Pred::leaf(Leaf::Text(field.clone(), TextOp::Eq, values));
                        if *negated { present_and_not(present, p) } else { p }
                    }
                    Test::Contains(v) => one(TextOp::Contains, v)?,
                    Test::StartsWith(v) => one(TextOp::StartsWith, v)?,
                    Test::EndsWith(v) => one(TextOp::EndsWith, v)?,
                    _ => return Err(unsupported()),
                }
            }
            FieldType::Country => {
                let code = |v: &Spanned<Literal>| lit.country(v);
                let present = target.presence();
                match &c.test {
                    Test::Compare { op: CmpOp::Eq, value } => Pred::leaf(Leaf::Country(vec![code(value)?])),
                    Test::Compare { op: CmpOp::Ne, value } => {
                        present_and_not(present, Pred::leaf(Leaf::Country(vec![code(value)?])))
                    }
                    Test::In { negated, values } => {
                        let p = Pred::leaf(Leaf::Country(values.iter().map(code).collect::<Result<_, _>>()?));
                        if *negated { present_and_not(present, p) } else { p }
                    }
                    _ => return Err(unsupported()),
                }
            }
            FieldType::Tags | FieldType::TextList => {
                let field = match &target {
                    Target::Builtin(f) => match f.field {
                        Field::Interests => TagField::Interests,
                        Field::Lifestyle => TagField::Lifestyle,
                        _ => TagField::Needs,
                    },
                    Target::Attr(n, _) => TagField::Attr(n.clone()),
                    Target::Activity(..) => return Err(unsupported()),
                };
                let is_list = matches!(field, TagField::Attr(_));
                let tag = |v: &Spanned<Literal>| {
                    let t = lit.text(v)?;
                    Ok::<_, SegmentError>(if is_list { t.to_ascii_lowercase() } else { TagSet::normalize(&t) })
                };
                let (all, values) = match &c.test {
                    Test::Has(v) => (false, vec![tag(v)?]),
                    Test::HasAny(vs) => (false, vs.iter().map(tag).collect::<Result<_, _>>()?),
                    Test::HasAll(vs) => (true, vs.iter().map(tag).collect::<Result<_, _>>()?),
                    _ => return Err(unsupported()),
                };
                Pred::leaf(Leaf::Tags(field, all, values))
            }
            FieldType::Channels => {
                let field = match &target {
                    Target::Builtin(f) if f.field == Field::PreferredChannels => ChannelField::Preferred,
                    Target::Builtin(f) if f.field == Field::OptedOutChannels => ChannelField::OptedOut,
                    _ => ChannelField::Reachable,
                };
                let bit = |v: &Spanned<Literal>| {
                    lit.symbol(v, Channel::ALL.iter().map(|c| (c.name(), *c))).map(|c| 1u16 << (c as u16))
                };
                let (all, mask) = match &c.test {
                    Test::Has(v) => (false, bit(v)?),
                    Test::HasAny(vs) => (false, vs.iter().map(bit).try_fold(0, |m, b| b.map(|b| m | b))?),
                    Test::HasAll(vs) => (true, vs.iter().map(bit).try_fold(0, |m, b| b.map(|b| m | b))?),
                    _ => return Err(unsupported()),
                };
                Pred::leaf(Leaf::Channels(field, all, mask))
            }
            FieldType::Bool => {
                let field = match &target {
                    Target::Builtin(f) if f.field == Field::LoyaltyMember => BoolField::LoyaltyMember,
                    Target::Builtin(_) => BoolField::Exclusive,
                    Target::Attr(n, _) => BoolField::Attr(n.clone()),
                    Target::Activity(..) => return Err(unsupported()),
                };
                match &c.test {
                    Test::IsTrue => Pred::leaf(Leaf::Bool(field, true)),
                    Test::Compare { op: CmpOp::Eq, value } => Pred::leaf(Leaf::Bool(field, lit.boolean(value)?)),
                    Test::Compare { op: CmpOp::Ne, value } => {
                        let b = lit.boolean(value)?;
                        present_and_not(target.presence(), Pred::leaf(Leaf::Bool(field, b)))
                    }
                    _ => return Err(unsupported()),
                }
            }
        })
    }
}

/// Lowers the ordered tests (comparisons, `in`, `between`, and for dates `before`/`after`)
/// to ranges; `None` when the test is not one of them.
fn ordered<V: Ord + Copy>(
    test: &Test,
    value: impl Fn(&Spanned<Literal>) -> Result<V, SegmentError>,
    make: impl Fn(Range<V>) -> Pred,
    present: Pred,
    dates: bool,
) -> Option<Result<Pred, SegmentError>> {
    let run = || -> Result<Option<Pred>, SegmentError> {
        let single = |v| Range::closed(v, v);
        Ok(Some(match test {
            Test::Compare { op, value: v } => {
                let v = value(v)?;
                match op {
                    CmpOp::Eq => make(single(v)),
                    CmpOp::Ne => present_and_not(present, make(single(v))),
                    CmpOp::Lt => make(Range { lo: None, hi: Some((v, false)) }),
                    CmpOp::Le => make(Range { lo: None, hi: Some((v, true)) }),
                    CmpOp::Gt => make(Range { lo: Some((v, false)), hi: None }),
                    CmpOp::Ge => make(Range { lo: Some((v, true)), hi: None }),
                }
            }
            Test::In { negated, values } => {
                let p = Pred::or(values.iter().map(|v| value(v).map(|v| make(single(v)))).collect::<Result<_, _>>()?);
                if *negated { present_and_not(present, p) } else { p }
            }
            Test::Between { negated, low, high } => {
                let p = make(Range::closed(value(low)?, value(high)?));
                if *negated { present_and_not(present, p) } else { p }
            }
            Test::Before(v) if dates => make(Range { lo: None, hi: Some((value(v)?, false)) }),
            Test::After(v) if dates => make(Range { lo: Some((value(v)?, false)), hi: None }),
            _ => return Ok(None),
        }))
    };
    run().transpose()
}

/// Lowers the tests of enumerated fields (`=`, `!=`, `in`, `not in`) to masks; `None` when
/// the test is not one of them.
fn symbols<M: Copy + Default + std::ops::BitOr<Output = M> + PartialEq>(
    test: &Test,
    bit: impl Fn(&Spanned<Literal>) -> Result<M, SegmentError>,
    leaf: impl Fn(M) -> Leaf,
) -> Option<Result<Pred, SegmentError>> {
    let mask = |values: &[Spanned<Literal>]| values.iter().map(&bit).try_fold(M::default(), |m, b| b.map(|b| m | b));
    Some(match test {
        Test::Compare { op: CmpOp::Eq, value } => bit(value).map(|m| Pred::leaf(leaf(m))),
        // Every customer has a value of these enumerations (generation aside, which the
        // caller guards), so `!=` is plain negation.
        Test::Compare { op: CmpOp::Ne, value } => bit(value).map(|m| Pred::not(Pred::leaf(leaf(m)))),
        Test::In { negated, values } => mask(values).map(|m| {
            let p = Pred::leaf(leaf(m));
            if *negated { Pred::not(p) } else { p }
        }),
        _ => return None,
    })
}

/// An inclusive-or-exclusive range of days as a range of instants: a day covers
/// `[00:00, next day 00:00)` UTC.
fn day_range_to_instants(r: Range<NaiveDate>) -> Range<DateTime<Utc>> {
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let next = |d: NaiveDate| d.succ_opt().and_then(start);
    Range {
        lo: r.lo.and_then(|(d, incl)| if incl { start(d) } else { next(d) }.map(|t| (t, true))),
        hi: r.hi.and_then(|(d, incl)| if incl { next(d) } else { start(d) }.map(|t| (t, false))),
    }
}

/// Converts literals to the operand's type, with errors that name both.
struct Lit<'a> {
    target: &'a Target,
}

impl Lit<'_> {
    fn mismatch(&self, v: &Spanned<Literal>) -> SegmentError {
        let kind = ErrorKind::TypeMismatch {
            field: self.target.name(),
            expected: self.target.ty().describe().into(),
            found: literal_kind(v.value()),
        };
        SegmentError::at(kind, v.span())
    }

    fn int(&self, v: &Spanned<Literal>) -> Result<i64, SegmentError> {
        match v.value() {
            Literal::Int(n) => Ok(*n),
            _ => Err(self.mismatch(v)),
        }
    }

    fn decimal(&self, v: &Spanned<Literal>) -> Result<Decimal, SegmentError> {
        match v.value() {
            Literal::Int(n) => Ok(Decimal::from_int(*n)),
            Literal::Decimal(d) => Ok(*d),
            _ => Err(self.mismatch(v)),
        }
    }

    fn money(&self, v: &Spanned<Literal>, schema: &Schema) -> Result<i64, SegmentError> {
        let d = self.decimal(v)?;
        Money::from_decimal(d, schema.currency())
            .map(|m| m.minor())
            .map_err(|e| SegmentError::at(ErrorKind::OutOfRange(e.to_string()), v.span()))
    }

    fn date(&self, v: &Spanned<Literal>) -> Result<NaiveDate, SegmentError> {
        match v.value() {
            Literal::Date(d) => Ok(*d),
            _ => Err(self.mismatch(v)),
        }
    }

    fn text(&self, v: &Spanned<Literal>) -> Result<String, SegmentError> {
        match v.value() {
            Literal::Text(s) => Ok(s.clone()),
            _ => Err(self.mismatch(v)),
        }
    }

    fn boolean(&self, v: &Spanned<Literal>) -> Result<bool, SegmentError> {
        match v.value() {
            Literal::Bool(b) => Ok(*b),
            _ => Err(self.mismatch(v)),
        }
    }

    fn country(&self, v: &Spanned<Literal>) -> Result<CountryCode, SegmentError> {
        let text = self.text(v)?;
        CountryCode::new(&text).map_err(|e| SegmentError::at(ErrorKind::OutOfRange(e.reason().to_owned()), v.span()))
    }

    fn symbol<T: Copy>(
        &self,
        v: &Spanned<Literal>,
        names: impl Iterator<Item = (&'static str, T)> + Clone,
    ) -> Result<T, SegmentError> {
        let Literal::Symbol(s) = v.value() else { return Err(self.mismatch(v)) };
        names.clone().find(|(n, _)| n == s).map(|(_, t)| t).ok_or_else(|| {
            let allowed: Vec<&str> = names.map(|(n, _)| n).collect();
            let kind =
                ErrorKind::UnknownSymbol { field: self.target.name(), value: s.clone(), allowed: allowed.join(", ") };
            SegmentError::at(kind, v.span())
        })
    }
}
