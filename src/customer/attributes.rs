//! Custom, typed attributes: survey answers, scores, flags the embedding application defines.

use std::collections::BTreeMap;

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

    fn validate(&self, field: &str) -> Result<(), ValidationError> {
        match self {
            AttrValue::Text(t) => check_len(field, t, limits::MAX_TEXT_BYTES),
            AttrValue::TextList(items) => {
                check_count(field, items.len(), limits::MAX_TAGS)?;
                items.iter().try_for_each(|i| check_len(field, i, limits::MAX_TAG_BYTES))
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, AttrValue>", into = "BTreeMap<String, AttrValue>")]
pub struct Attributes(BTreeMap<String, AttrValue>);

impl Attributes {
    /// No attributes.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::Attributes::new().is_empty());
    /// ```
    pub fn new() -> Attributes {
        Attributes(BTreeMap::new())
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
        let field = format!("attributes.{name}");
        value.validate(&field)?;
        if !self.0.contains_key(name) {
            check_count("attributes", self.0.len() + 1, limits::MAX_ATTRIBUTES)?;
        }
        Ok(self.0.insert(name.to_owned(), value))
    }

    /// The value of `name`, if set.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Attributes::new().get("nps"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.get(name)
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
        self.0.remove(name)
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
            value.validate(&format!("attributes.{name}"))?;
        }
        Ok(())
    }
}

/// Checks that `name` is an attribute identifier.
fn validate_name(name: &str) -> Result<(), ValidationError> {
    let shown: String = name.chars().take(limits::MAX_ATTRIBUTE_NAME_BYTES).collect();
    check_len("attribute name", name, limits::MAX_ATTRIBUTE_NAME_BYTES)?;
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
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
        let attrs = Attributes(map);
        attrs.validate()?;
        Ok(attrs)
    }
}

impl From<Attributes> for BTreeMap<String, AttrValue> {
    fn from(a: Attributes) -> Self {
        a.0
    }
}
