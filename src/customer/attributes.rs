//! Custom, typed attributes: survey answers, scores, flags the embedding application defines.

use std::{collections::BTreeMap, fmt};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::{
    money::{Decimal, Money},
    validation::{ValidationError, check_count, check_len, limits},
};

/// The value of one custom attribute.
///
/// Serialized with the type as the key, e.g. `{"int": 9}` or `{"date": "2026-05-01"}`, so a
/// value keeps its type across JSON and storage.
///
/// # Example
///
/// ```
/// use clientele::AttrValue;
/// let nps = AttrValue::Int(9);
/// assert_eq!(nps.type_name(), "int");
/// assert_eq!(serde_json::to_string(&nps)?, r#"{"int":9}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttrValue {
    /// Yes or no.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// An exact decimal number.
    Decimal(Decimal),
    /// An amount of money.
    Money(Money),
    /// Free text (at most [`MAX_TEXT_BYTES`](limits::MAX_TEXT_BYTES)).
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A list of short texts (at most [`MAX_TAGS`](limits::MAX_TAGS) items).
    TextList(SmallVec<[String; 4]>),
}

impl AttrValue {
    /// The type's name: `bool`, `int`, `decimal`, `money`, `text`, `date` or `text_list`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::AttrValue::Bool(true).type_name(), "bool");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::Bool(_) => "bool",
            AttrValue::Int(_) => "int",
            AttrValue::Decimal(_) => "decimal",
            AttrValue::Money(_) => "money",
            AttrValue::Text(_) => "text",
            AttrValue::Date(_) => "date",
            AttrValue::TextList(_) => "text_list",
        }
    }

    /// Checks the value's limits as the attribute `name`. The field name for the error
    /// (`attributes.NAME`) is only built on failure: stores validate every attribute on every
    /// write, and the common case must not allocate.
    fn validate(&self, name: &str) -> Result<(), ValidationError> {
        let field = || format!("attributes.{name}");
        match self {
            AttrValue::Text(t) if t.len() > limits::MAX_TEXT_BYTES => check_len(&field(), t, limits::MAX_TEXT_BYTES),
            AttrValue::TextList(items) => {
                if items.len() > limits::MAX_TAGS {
                    return check_count(&field(), items.len(), limits::MAX_TAGS);
                }
                match items.iter().find(|i| i.len() > limits::MAX_TAG_BYTES) {
                    Some(long) => check_len(&field(), long, limits::MAX_TAG_BYTES),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// A customer's custom attributes, by name, in name order.
///
/// Names are identifiers: a lowercase ASCII letter or `_`, then lowercase letters, digits or
/// `_`, at most [`MAX_ATTRIBUTE_NAME_BYTES`](limits::MAX_ATTRIBUTE_NAME_BYTES) bytes, so that
/// they can be written as `attr.NAME` in segment text. At most
/// [`MAX_ATTRIBUTES`](limits::MAX_ATTRIBUTES) per customer.
///
/// # Example
///
/// ```
/// use clientele::{AttrValue, Attributes};
///
/// let mut attrs = Attributes::new();
/// attrs.set("nps", AttrValue::Int(9))?;
/// attrs.set("survey_done", AttrValue::Bool(true))?;
/// assert_eq!(attrs.get("nps"), Some(&AttrValue::Int(9)));
/// assert!(attrs.set("Bad Name", AttrValue::Bool(true)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, AttrValue>", into = "BTreeMap<String, AttrValue>")]
pub struct Attributes(
    /// Sorted by name, names unique: a map with the order, equality, hashing and serialized
    /// form of a `BTreeMap`, but one allocation for the few attributes a customer has, so
    /// cloning a customer (every store read) stays cheap. At most
    /// [`MAX_ATTRIBUTES`](limits::MAX_ATTRIBUTES) entries, so lookups are a binary search and
    /// inserts a short shift.
    Vec<(String, AttrValue)>,
);

impl fmt::Debug for Attributes {
    /// The same text as a `BTreeMap` inside the tuple struct: `Attributes({"nps": Int(9)})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Map<'a>(&'a [(String, AttrValue)]);
        impl fmt::Debug for Map<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.iter().map(|(k, v)| (k, v))).finish()
            }
        }
        f.debug_tuple("Attributes").field(&Map(&self.0)).finish()
    }
}

impl Attributes {
    /// No attributes.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::Attributes::new().is_empty());
    /// ```
    pub fn new() -> Attributes {
        Attributes(Vec::new())
    }

    /// Where `name` is, or would be inserted to keep the names sorted.
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// Sets `name` to `value`, returning the previous value.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] when the name is not an identifier, the value breaks a limit, or
    /// the customer already has [`MAX_ATTRIBUTES`](limits::MAX_ATTRIBUTES) other attributes.
    /// The attributes are unchanged on error.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{AttrValue, Attributes};
    /// let mut a = Attributes::new();
    /// assert_eq!(a.set("tier", AttrValue::Text("gold".into()))?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&mut self, name: &str, value: AttrValue) -> Result<Option<AttrValue>, ValidationError> {
        validate_name(name)?;
        value.validate(name)?;
        match self.find(name) {
            Ok(i) => Ok(Some(std::mem::replace(&mut self.0[i].1, value))),
            Err(i) => {
                check_count("attributes", self.0.len() + 1, limits::MAX_ATTRIBUTES)?;
                self.0.insert(i, (name.to_owned(), value));
                Ok(None)
            }
        }
    }

    /// The value of `name`, if set.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Attributes::new().get("nps"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Removes `name`, returning its value.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{AttrValue, Attributes};
    /// let mut a = Attributes::new();
    /// a.set("x", AttrValue::Int(1))?;
    /// assert_eq!(a.remove("x"), Some(AttrValue::Int(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&mut self, name: &str) -> Option<AttrValue> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    /// The attributes in name order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{AttrValue, Attributes};
    /// let mut a = Attributes::new();
    /// a.set("b", AttrValue::Int(2))?;
    /// a.set("a", AttrValue::Int(1))?;
    /// assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of attributes.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Attributes::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::Attributes::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        check_count("attributes", self.0.len(), limits::MAX_ATTRIBUTES)?;
        for (name, value) in &self.0 {
            validate_name(name)?;
            value.validate(name)?;
        }
        Ok(())
    }
}

/// Checks that `name` is an attribute identifier.
fn validate_name(name: &str) -> Result<(), ValidationError> {
    check_len("attribute name", name, limits::MAX_ATTRIBUTE_NAME_BYTES)?;
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        // Built only on failure: this runs for every attribute on every store write.
        let shown: String = name.chars().take(limits::MAX_ATTRIBUTE_NAME_BYTES).collect();
        return Err(ValidationError::new(
            "attribute name",
            format!("`{shown}` is not an identifier (lowercase letters, digits and `_`, not starting with a digit)"),
        ));
    }
    Ok(())
}

impl TryFrom<BTreeMap<String, AttrValue>> for Attributes {
    type Error = ValidationError;
    fn try_from(map: BTreeMap<String, AttrValue>) -> Result<Self, Self::Error> {
        // A `BTreeMap` iterates in name order with unique names: the invariant holds.
        let attrs = Attributes(map.into_iter().collect());
        attrs.validate()?;
        Ok(attrs)
    }
}

impl From<Attributes> for BTreeMap<String, AttrValue> {
    fn from(a: Attributes) -> Self {
        a.0.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use proptest::prelude::*;

    use super::*;

    /// The sorted-vector representation must be indistinguishable from the `BTreeMap` it
    /// replaced: same results, same order, same `Debug`, same hash, same JSON.
    #[derive(Debug, Clone)]
    enum Op {
        Set(String, i64),
        Remove(String),
    }

    fn op() -> impl Strategy<Value = Op> {
        let name = prop::sample::select(vec!["a", "b", "c", "nps", "tier", "_x", "z9"]).prop_map(str::to_owned);
        prop_oneof![(name.clone(), any::<i64>()).prop_map(|(n, v)| Op::Set(n, v)), name.prop_map(Op::Remove)]
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in prop::collection::vec(op(), 0..40)) {
            let mut attrs = Attributes::new();
            let mut model = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Set(n, v) => {
                        let got = attrs.set(&n, AttrValue::Int(v)).unwrap();
                        prop_assert_eq!(got, model.insert(n, AttrValue::Int(v)));
                    }
                    Op::Remove(n) => prop_assert_eq!(attrs.remove(&n), model.remove(&n)),
                }
                prop_assert_eq!(attrs.len(), model.len());
                prop_assert!(attrs.iter().map(|(k, v)| (k.to_owned(), v.clone())).eq(model.clone()));
                for name in ["a", "nps", "q"] {
                    prop_assert_eq!(attrs.get(name), model.get(name));
                }
            }
            prop_assert_eq!(format!("{attrs:?}"), format!("Attributes({model:?})"));
            prop_assert_eq!(format!("{attrs:#?}"), format!("{:#?}", Attributes::try_from(model.clone()).unwrap()));
            let hasher = RandomState::new();
            prop_assert_eq!(hasher.hash_one(&attrs), hasher.hash_one(&model));
            prop_assert_eq!(serde_json::to_string(&attrs).unwrap(), serde_json::to_string(&model).unwrap());
            let back: Attributes = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
            prop_assert_eq!(back, attrs);
        }
    }

    #[test]
    fn errors_are_unchanged() {
        let mut a = Attributes::new();
        let err = a.set("Bad Name", AttrValue::Bool(true)).unwrap_err();
        assert_eq!(err.field(), "attribute name");
        assert!(err.reason().starts_with("`Bad Name` is not an identifier"), "{err}");
        let err = a.set("bio", AttrValue::Text("x".repeat(limits::MAX_TEXT_BYTES + 1))).unwrap_err();
        assert_eq!(err.field(), "attributes.bio");
        let long_item =
            AttrValue::TextList(["ok".to_owned(), "y".repeat(limits::MAX_TAG_BYTES + 1)].into_iter().collect());
        assert_eq!(a.set("tags", long_item).unwrap_err().field(), "attributes.tags");
        let many = AttrValue::TextList((0..=limits::MAX_TAGS).map(|i| i.to_string()).collect());
        assert_eq!(
            a.set("tags", many).unwrap_err().to_string(),
            "invalid attributes.tags: 65 items, at most 64 allowed"
        );
        assert!(a.is_empty());
        for i in 0..limits::MAX_ATTRIBUTES {
            a.set(&format!("a{i}"), AttrValue::Int(0)).unwrap();
        }
        assert_eq!(a.set("one_more", AttrValue::Int(0)).unwrap_err().field(), "attributes");
        assert_eq!(a.set("a0", AttrValue::Int(1)).unwrap(), Some(AttrValue::Int(0)));
        let json = serde_json::to_string(&BTreeMap::from([("Bad".to_owned(), AttrValue::Int(1))])).unwrap();
        assert!(serde_json::from_str::<Attributes>(&json).is_err());
    }
}
