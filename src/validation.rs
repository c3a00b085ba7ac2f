//! Documented limits on outside data, and the error for data that breaks them.
//!
//! Every store checks a customer against these limits before writing it, and deserializing
//! a [`Customer`](crate::Customer) checks them too, so a record that is stored or received is
//! always within bounds.

/// Documented limits on one customer's data.
pub mod limits {
    /// Longest display name, in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, limits::MAX_NAME_BYTES};
    /// let mut c = Customer::new(CustomerId::new(1), "x".repeat(MAX_NAME_BYTES), DateTime::UNIX_EPOCH);
    /// assert!(c.validate().is_ok());
    /// c.profile.display_name.push('x');
    /// assert_eq!(c.validate().unwrap_err().field(), "profile.display_name");
    /// ```
    pub const MAX_NAME_BYTES: usize = 256;
    /// Longest free text (region, city, card id, category, text attribute, note), in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, limits::MAX_TEXT_BYTES};
    /// let mut c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// c.profile.location.city = Some("x".repeat(MAX_TEXT_BYTES));
    /// assert!(c.validate().is_ok());
    /// c.profile.location.city = Some("x".repeat(MAX_TEXT_BYTES + 1));
    /// assert_eq!(c.validate().unwrap_err().field(), "profile.location.city");
    /// ```
    pub const MAX_TEXT_BYTES: usize = 1024;
    /// Most tags in one tag set (interests, lifestyle, needs), and most items in a text list.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, limits::MAX_TAGS};
    /// let mut c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// for i in 0..MAX_TAGS {
    ///     c.interests.insert(&format!("tag{i}"));
    /// }
    /// assert!(c.validate().is_ok());
    /// c.interests.insert("one_too_many");
    /// assert_eq!(c.validate().unwrap_err().field(), "interests");
    /// ```
    pub const MAX_TAGS: usize = 64;
    /// Longest tag or list item, in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, limits::MAX_TAG_BYTES};
    /// let mut c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// c.lifestyle.insert(&"x".repeat(MAX_TAG_BYTES));
    /// assert!(c.validate().is_ok());
    /// c.lifestyle.insert(&"y".repeat(MAX_TAG_BYTES + 1));
    /// assert_eq!(c.validate().unwrap_err().field(), "lifestyle");
    /// ```
    pub const MAX_TAG_BYTES: usize = 64;
    /// Most custom attributes on one customer.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{AttrValue, Attributes, limits::MAX_ATTRIBUTES};
    /// let mut attrs = Attributes::new();
    /// for i in 0..MAX_ATTRIBUTES {
    ///     attrs.set(&format!("a{i}"), AttrValue::Int(0))?;
    /// }
    /// assert!(attrs.set("one_too_many", AttrValue::Int(0)).is_err());
    /// assert_eq!(attrs.len(), MAX_ATTRIBUTES);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const MAX_ATTRIBUTES: usize = 128;
    /// Longest attribute name, in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{AttrValue, Attributes, limits::MAX_ATTRIBUTE_NAME_BYTES};
    /// let mut attrs = Attributes::new();
    /// assert!(attrs.set(&"a".repeat(MAX_ATTRIBUTE_NAME_BYTES), AttrValue::Bool(true)).is_ok());
    /// assert!(attrs.set(&"a".repeat(MAX_ATTRIBUTE_NAME_BYTES + 1), AttrValue::Bool(true)).is_err());
    /// ```
    pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 64;
    /// Most purchases kept on one customer.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase, limits::MAX_PURCHASES};
    /// let c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(100, Currency::USD));
    /// assert!(c.clone().with_purchases(vec![p.clone(); MAX_PURCHASES]).is_ok());
    /// let err = c.with_purchases(vec![p; MAX_PURCHASES + 1]).unwrap_err();
    /// assert_eq!(err.field(), "purchases");
    /// ```
    pub const MAX_PURCHASES: usize = 100_000;
}

/// Customer data that breaks a rule or a [limit](limits): which field, and what is wrong.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId};
///
/// let mut c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
/// c.profile.display_name = "x".repeat(10_000);
/// let err = c.validate().unwrap_err();
/// assert_eq!(err.field(), "profile.display_name");
/// assert_eq!(err.to_string(), "invalid profile.display_name: 10000 bytes, at most 256 allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ValidationError {
    field: String,
    reason: String,
}

impl ValidationError {
    /// A new error for `field` (a dotted path such as `attributes.nps`).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::ValidationError;
    /// let e = ValidationError::new("purchase.amount", "must not be negative");
    /// assert_eq!(e.reason(), "must not be negative");
    /// ```
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> ValidationError {
        ValidationError { field: field.into(), reason: reason.into() }
    }

    /// The dotted path of the field at fault.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::ValidationError;
    /// assert_eq!(ValidationError::new("a.b", "bad").field(), "a.b");
    /// ```
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::ValidationError;
    /// assert_eq!(ValidationError::new("a", "bad").reason(), "bad");
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Fails when `text` is longer than `max` bytes.
pub(crate) fn check_len(field: &str, text: &str, max: usize) -> Result<(), ValidationError> {
    if text.len() > max {
        return Err(ValidationError::new(field, format!("{} bytes, at most {max} allowed", text.len())));
    }
    Ok(())
}

/// Fails when a collection has more than `max` items.
pub(crate) fn check_count(field: &str, count: usize, max: usize) -> Result<(), ValidationError> {
    if count > max {
        return Err(ValidationError::new(field, format!("{count} items, at most {max} allowed")));
    }
    Ok(())
}
