//! Explaining one customer's membership: the tree of clauses as written, each with its value
//! and the actual field values it looked at.

use std::fmt::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    ast::{Expr, Operand},
    check::check,
    error::SegmentError,
    eval::{Ctx, eval},
    ir::Pred,
    schema::Schema,
};
use crate::{
    customer::{AttrValue, ChannelSet, Customer, CustomerId, TagSet, age_on, total_in},
    money::Money,
};

/// How a clause combines its children.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{ClauseKind, Schema, Segment}};
///
/// let mut schema = Schema::default();
/// schema.define("referrers", "referrals >= 1")?;
/// let segment = Segment::compile(r#"not segment "referrers" and age >= 18"#, &schema)?;
/// let c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
/// let root = segment.explain(&c, DateTime::UNIX_EPOCH, &schema)?.root;
/// assert_eq!(root.kind, ClauseKind::And);
/// let not = &root.children[0];
/// assert_eq!(not.kind, ClauseKind::Not);
/// assert_eq!(not.children[0].kind, ClauseKind::Segment);
/// assert_eq!(not.children[0].children[0].kind, ClauseKind::Leaf); // the definition
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClauseKind {
    /// Every child holds.
    And,
    /// Some child holds.
    Or,
    /// The child does not hold.
    Not,
    /// A named segment; its definition is the child.
    Segment,
    /// A condition or constant, with no children.
    Leaf,
}

/// One clause of an [`Explanation`].
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
///
/// let schema = Schema::default();
/// let segment = Segment::compile("age >= 18", &schema)?;
/// let c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
/// let leaf = segment.explain(&c, DateTime::UNIX_EPOCH, &schema)?.root;
/// assert_eq!(leaf.text, "age >= 18");
/// assert!(!leaf.value); // no birth date: every test on a missing value is false
/// assert_eq!(leaf.actual.as_deref(), Some("age = missing"));
/// assert!(leaf.children.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Clause {
    /// How it combines its children.
    pub kind: ClauseKind,
    /// The clause as text.
    pub text: String,
    /// Whether it holds for the customer.
    pub value: bool,
    /// For a condition: the operand and its actual value, e.g. `age = 31`.
    pub actual: Option<String>,
    /// The clauses it is made of.
    pub children: Vec<Clause>,
}

/// Why a customer is or is not in a segment. [`Display`](fmt::Display) draws the tree.
///
/// # Example
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use clientele::{CountryCode, Customer, CustomerId, segment::{Schema, Segment}};
///
/// let schema = Schema::default();
/// let segment = Segment::compile(r#"age between 25 and 40 and country = "EG""#, &schema)?;
/// let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
/// let mut c = Customer::new(CustomerId::new(42), "Lina", now);
/// c.profile.birth_date = NaiveDate::from_ymd_opt(1995, 1, 1);
/// c.profile.location.country = Some(CountryCode::new("FR")?);
///
/// let why = segment.explain(&c, now, &schema)?;
/// assert!(!why.matched);
/// assert_eq!(why.to_string(), "\
/// customer #42 is not in the segment as of 2026-06-01 00:00:00 UTC
/// no   age between 25 and 40 and country = \"EG\"
/// yes    age between 25 and 40    [age = 31]
/// no     country = \"EG\"    [country = FR]
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Explanation {
    /// The customer.
    pub customer: CustomerId,
    /// The instant of evaluation.
    pub as_of: DateTime<Utc>,
    /// Whether the customer is in the segment.
    pub matched: bool,
    /// The clause tree.
    pub root: Clause,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.matched { "is in" } else { "is not in" };
        writeln!(f, "customer {} {verdict} the segment as of {}", self.customer, self.as_of)?;
        let mut stack = vec![(&self.root, 0usize)];
        while let Some((clause, depth)) = stack.pop() {
            let mark = if clause.value { "yes" } else { "no " };
            write!(f, "{mark}  {}{}", "  ".repeat(depth), clause.text)?;
            if let Some(actual) = &clause.actual {
                write!(f, "    [{actual}]")?;
            }
            writeln!(f)?;
            stack.extend(clause.children.iter().rev().map(|c| (c, depth + 1)));
        }
        Ok(())
    }
}

/// Explains `expr` (already checked against `schema`) for `c`.
pub(crate) fn explain(
    expr: &Expr,
    c: &Customer,
    as_of: DateTime<Utc>,
    schema: &Schema,
) -> Result<Explanation, SegmentError> {
    let ctx = Ctx { as_of, currency: schema.currency(), rfm: schema.rfm().cloned() };
    let root = clause(expr, c, &ctx, schema, 0)?;
    Ok(Explanation { customer: c.id(), as_of, matched: root.value, root })
}

fn clause(e: &Expr, c: &Customer, ctx: &Ctx, schema: &Schema, refs: usize) -> Result<Clause, SegmentError> {
    let children =
        |items: &[Expr]| items.iter().map(|i| clause(i, c, ctx, schema, refs)).collect::<Result<Vec<_>, _>>();
    let (kind, children, actual) = match e {
        Expr::And(items) => (ClauseKind::And, children(items)?, None),
        Expr::Or(items) => (ClauseKind::Or, children(items)?, None),
        Expr::Not(inner) => (ClauseKind::Not, vec![clause(inner, c, ctx, schema, refs)?], None),
        Expr::Segment(name) => {
            // Checked already: the definition exists and references do not cycle.
            let child = match schema.segment(name.value()) {
                Some(def) if refs < schema.limits().max_reference_depth => vec![clause(def, c, ctx, schema, refs + 1)?],
                _ => Vec::new(),
            };
            (ClauseKind::Segment, child, None)
        }
        Expr::Const(_) => (ClauseKind::Leaf, Vec::new(), None),
        Expr::Condition(cond) => (ClauseKind::Leaf, Vec::new(), Some(actual(&cond.operand, c, ctx))),
    };
    let value = match kind {
        ClauseKind::And => children.iter().all(|k| k.value),
        ClauseKind::Or => children.iter().any(|k| k.value),
        ClauseKind::Not | ClauseKind::Segment => children.first().is_some_and(|k| k.value) != (kind == ClauseKind::Not),
        ClauseKind::Leaf => leaf_value(e, c, ctx, schema)?,
    };
    Ok(Clause { kind, text: e.to_string(), value, actual, children })
}

fn leaf_value(e: &Expr, c: &Customer, ctx: &Ctx, schema: &Schema) -> Result<bool, SegmentError> {
    let pred: Pred = check(e, schema)?;
    Ok(eval(&pred, c, ctx))
}

fn money(m: Money) -> String {
    m.to_string()
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() { "(none)".into() } else { items.join(", ") }
}

fn channels(set: ChannelSet) -> String {
    let names: Vec<&str> = set.iter().map(|c| c.name()).collect();
    if names.is_empty() { "(none)".into() } else { names.join(", ") }
}

fn tags(t: &TagSet) -> String {
    list(t.iter())
}

fn missing() -> String {
    "missing".into()
}

/// `operand = actual value`, as the customer has it at `ctx.as_of`.
fn actual(operand: &Operand, c: &Customer, ctx: &Ctx) -> String {
    let p = c.purchases();
    let value = match operand {
        Operand::Attr(name) => match c.attributes.get(name.value()) {
            None => missing(),
            Some(AttrValue::Bool(b)) => b.to_string(),
            Some(AttrValue::Int(n)) => n.to_string(),
            Some(AttrValue::Decimal(d)) => d.to_string(),
            Some(AttrValue::Money(m)) => money(*m),
            Some(AttrValue::Text(t)) => format!("{t:?}"),
            Some(AttrValue::Date(d)) => d.to_string(),
            Some(AttrValue::TextList(items)) => list(items.iter().map(String::as_str)),
        },
        Operand::Activity(w) => {
            let (function, window) = (&w.value().function, &w.value().window);
            let within = p.within(*window, ctx.as_of);
            match function {
                super::ast::Activity::Purchases => within.len().to_string(),
                super::ast::Activity::Spent => money(total_in(within, ctx.currency)),
            }
        }
        Operand::Field(name) => field_value(name.value(), c, ctx),
    };
    let mut out = String::new();
    let _ = write!(out, "{operand} = {value}");
    out
}

fn field_value(name: &str, c: &Customer, ctx: &Ctx) -> String {
    let p = c.purchases();
    let opt = |v: Option<String>| v.unwrap_or_else(missing);
    match name {
        "stage" => c.stage().name().into(),
        "gender" => c.profile.gender.name().into(),
        "generation" => opt(c.generation().map(|g| g.name().into())),
        "credit" => c.credit.name().into(),
        "age" => opt(c.profile.birth_date.and_then(|b| age_on(b, ctx.as_of.date_naive())).map(|a| a.to_string())),
        "birth_date" => opt(c.profile.birth_date.map(|d| d.to_string())),
        "country" => opt(c.profile.location.country.map(|cc| cc.to_string())),
        "region" => opt(c.profile.location.region.as_ref().map(|r| format!("{r:?}"))),
        "city" => opt(c.profile.location.city.as_ref().map(|r| format!("{r:?}"))),
        "interests" => tags(&c.interests),
        "lifestyle" => tags(&c.lifestyle),
        "needs" => tags(&c.needs),
        "channels" => channels(c.channels.reachable()),
        "preferred_channels" => channels(c.channels.preferred),
        "opted_out_channels" => channels(c.channels.opted_out),
        "loyalty_member" => c.is_loyalty_member().to_string(),
        "loyalty_joined" => opt(c.loyalty.as_ref().map(|l| l.joined.to_string())),
        "referrals" => c.referrals.to_string(),
        "exclusive" => c.exclusive.to_string(),
        "purchases" => p.count_upto(ctx.as_of).to_string(),
        "spent" => money(p.spent_upto(ctx.as_of, ctx.currency)),
        "first_purchase" => opt(p.first_upto(ctx.as_of).map(|t| t.to_string())),
        "last_purchase" => opt(p.last_as_of(ctx.as_of).map(|t| t.to_string())),
        "created_at" => c.created_at().to_string(),
        "stage_since" => c.lifecycle().since().to_string(),
        "income" => opt(c.profile.annual_income.map(money)),
        "rfm.r" | "rfm.f" | "rfm.m" | "rfm.group" => {
            let scores = ctx.rfm.as_ref().and_then(|t| t.get(c.id()));
            opt(scores.map(|x| match name {
                "rfm.r" => x.r().to_string(),
                "rfm.f" => x.f().to_string(),
                "rfm.m" => x.m().to_string(),
                _ => x.group().name().to_owned(),
            }))
        }
        _ => missing(),
    }
}
