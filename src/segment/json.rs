//! The JSON (serde) form of the syntax tree. Serializing is derived; deserializing is written
//! by hand so that nesting is counted as it is read: a deeply nested document is refused with
//! an error before it can exhaust the stack, whatever the serde format.

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor},
};

use super::{Limits, ast::Expr, validate};

impl<'de> Deserialize<'de> for Expr {
    /// Reads the JSON form under the default [`Limits`]; see [`Expr::deserialize_with`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Expr, D::Error> {
        Expr::deserialize_with(d, &Limits::default())
    }
}

impl Expr {
    /// Reads the JSON (serde) form, refusing nesting deeper than `limits.max_depth` while
    /// reading, then checking every other limit and rule (see [`Expr::validate`]).
    ///
    /// # Errors
    ///
    /// The deserializer's error, with the message of the broken rule.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Limits};
    /// let deep = format!("{}true{}", r#"{"not":"#.repeat(100), "}".repeat(100));
    /// let mut de = serde_json::Deserializer::from_str(&deep);
    /// let err = Expr::deserialize_with(&mut de, &Limits::default()).unwrap_err();
    /// assert!(err.to_string().contains("deeper than 64"));
    /// ```
    pub fn deserialize_with<'de, D: Deserializer<'de>>(d: D, limits: &Limits) -> Result<Expr, D::Error> {
        let expr = ExprSeed { depth: 0, max_depth: limits.max_depth }.deserialize(d)?;
        validate::validate(&expr, limits).map_err(|e| de::Error::custom(e.kind()))?;
        Ok(expr)
    }
}

/// Reads one [`Expr`] at a known depth.
#[derive(Clone, Copy)]
struct ExprSeed {
    depth: usize,
    max_depth: usize,
}

impl ExprSeed {
    fn deeper<E: de::Error>(self) -> Result<ExprSeed, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format!("segment nests deeper than {} levels", self.max_depth)));
        }
        Ok(ExprSeed { depth: self.depth + 1, ..self })
    }
}

impl<'de> DeserializeSeed<'de> for ExprSeed {
    type Value = Expr;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Expr, D::Error> {
        d.deserialize_map(self)
    }
}

const VARIANTS: &[&str] = &["and", "or", "not", "const", "segment", "condition"];

impl<'de> Visitor<'de> for ExprSeed {
    type Value = Expr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a segment expression: an object with one key of and, or, not, const, segment, condition")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Expr, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        let expr = match key.as_str() {
            "and" | "or" => {
                let items = map.next_value_seed(ListSeed(self.deeper()?))?;
                if key == "and" { Expr::And(items) } else { Expr::Or(items) }
            }
            "not" => Expr::Not(Box::new(map.next_value_seed(self.deeper()?)?)),
            "const" => Expr::Const(map.next_value()?),
            "segment" => Expr::Segment(map.next_value()?),
            "condition" => Expr::Condition(map.next_value()?),
            other => return Err(de::Error::unknown_variant(other, VARIANTS)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!("unexpected key `{extra}`: an expression has exactly one key")));
        }
        Ok(expr)
    }
}

/// Reads the operand list of `and`/`or`, each one level deeper.
struct ListSeed(ExprSeed);

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Vec<Expr>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Expr>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = Vec<Expr>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of segment expressions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Expr>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.0)? {
            items.push(item);
        }
        Ok(items)
    }
}
