//! Documented limits on outside data, and the error for data that breaks them.
//!
//! Every store checks a customer against these limits before writing it, and deserializing
//! a [`Customer`](crate::Customer) checks them too, so a record that is stored or received is
//! always within bounds.

/// Documented limits on one customer's data.
pub mod limits {
    /// Longest display name, in bytes.
    pub const MAX_NAME_BYTES: usize = 256;
    /// Longest free text (region, city, card id, category, text attribute, note), in bytes.
    pub const MAX_TEXT_BYTES: usize = 1024;
    /// Most tags in one tag set (interests, lifestyle, needs), and most items in a text list.
    pub const MAX_TAGS: usize = 64;
    /// Longest tag or list item, in bytes.
    pub const MAX_TAG_BYTES: usize = 64;
    /// Most custom attributes on one customer.
    pub const MAX_ATTRIBUTES: usize = 128;
    /// Longest attribute name, in bytes.
    pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 64;
    /// Most purchases kept on one customer.
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
