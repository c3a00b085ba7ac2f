//! The relational layout both SQL stores write: a customer as one `customers` row plus its
//! `tags` and `attributes` rows, a purchase or a transition as one row each.
//!
//! Both stores build their rows here, so they cannot drift apart, and the columns the segment
//! pushdown ([`crate::segment::sql`]) reads are filled by the same code that defines their
//! encodings (nanoseconds, day numbers, ASCII-folded texts, channel bitmasks).

use std::error::Error as StdError;

use super::StoreError;
use crate::{
    customer::{AttrValue, Customer, CustomerId, Purchase},
    lifecycle::Transition,
    segment::sql::{attr_tag_list, day_number, instant_ns},
};

/// The columns of `customers`, in the order of [`CustomerRow::values`].
pub(crate) const CUSTOMER_COLUMNS: [&str; 22] = [
    "id",
    "version",
    "data",
    "rust_only",
    "stage",
    "gender",
    "credit",
    "referrals",
    "exclusive",
    "birth_day",
    "country",
    "region_fold",
    "city_fold",
    "income_minor",
    "income_currency",
    "loyalty_day",
    "created_ns",
    "stage_since_ns",
    "last_purchase_ns",
    "reachable",
    "preferred",
    "opted_out",
];

/// A column value: an integer or a text, either possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// One `attributes` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrRow {
    pub name: String,
    /// The value's type name ([`AttrValue::type_name`]).
    pub kind: &'static str,
    /// Integers, money (minor units), dates (day numbers), booleans (0/1), text-list sizes.
    pub int_value: Option<i64>,
    /// Texts (ASCII-lowercased) and decimals (their canonical text).
    pub text_value: Option<String>,
    /// The currency of a money value.
    pub currency: Option<String>,
}

/// A customer's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomerRow {
    values: Vec<Value>,
    /// `(list, tag)` pairs: the tag sets by name, and text-list attributes (ASCII-lowercased
    /// items, no duplicates) as `attr:<name>`.
    pub tags: Vec<(String, String)>,
    pub attributes: Vec<AttrRow>,
}

impl CustomerRow {
    /// The rows of `c`, at the version `c` carries.
    pub(crate) fn of(c: &Customer) -> Result<CustomerRow, StoreError> {
        // Instants outside what nanoseconds since the epoch can hold are clamped, and the row
        // marked for evaluation in Rust.
        let mut rust_only = false;
        let mut ns = |t| {
            instant_ns(t).unwrap_or_else(|| {
                rust_only = true;
                clamped_ns(t)
            })
        };
        let created_ns = ns(c.created_at());
        let stage_since_ns = ns(c.lifecycle().since());
        let purchases = c.purchases().as_slice();
        let mut last_purchase_ns = None;
        for p in purchases {
            last_purchase_ns = Some(ns(p.at));
        }
        let profile = &c.profile;
        let location = &profile.location;
        let income = profile.annual_income.as_ref();
        let values = vec![
            Value::Int(Some(to_sql_id(c.id()))),
            Value::Int(Some(to_sql_version(c.version())?)),
            Value::Text(Some(customer_data(c)?)),
            Value::Int(Some(i64::from(rust_only))),
            Value::Text(Some(c.stage().name().to_owned())),
            Value::Text(Some(profile.gender.name().to_owned())),
            Value::Text(Some(c.credit.name().to_owned())),
            Value::Int(Some(i64::from(c.referrals))),
            Value::Int(Some(i64::from(c.exclusive))),
            Value::Int(profile.birth_date.map(day_number)),
            Value::Text(location.country.as_ref().map(|code| code.as_str().to_owned())),
            Value::Text(location.region.as_deref().map(str::to_ascii_lowercase)),
            Value::Text(location.city.as_deref().map(str::to_ascii_lowercase)),
            Value::Int(income.map(|m| m.minor())),
            Value::Text(income.map(|m| m.currency().code().to_owned())),
            Value::Int(c.loyalty.as_ref().map(|l| day_number(l.joined))),
            Value::Int(Some(created_ns)),
            Value::Int(Some(stage_since_ns)),
            Value::Int(last_purchase_ns),
            Value::Int(Some(i64::from(c.channels.reachable().bits()))),
            Value::Int(Some(i64::from(c.channels.preferred.bits()))),
            Value::Int(Some(i64::from(c.channels.opted_out.bits()))),
        ];
        let mut tags = Vec::new();
        for (list, set) in [("interests", &c.interests), ("lifestyle", &c.lifestyle), ("needs", &c.needs)] {
            tags.extend(set.iter().map(|t| (list.to_owned(), t.to_owned())));
        }
        let mut attributes = Vec::new();
        for (name, value) in c.attributes.iter() {
            let mut row = AttrRow {
                name: name.to_owned(),
                kind: value.type_name(),
                int_value: None,
                text_value: None,
                currency: None,
            };
            match value {
                AttrValue::Bool(b) => row.int_value = Some(i64::from(*b)),
                AttrValue::Int(v) => row.int_value = Some(*v),
                AttrValue::Decimal(d) => row.text_value = Some(d.to_string()),
                AttrValue::Money(m) => {
                    row.int_value = Some(m.minor());
                    row.currency = Some(m.currency().code().to_owned());
                }
                AttrValue::Text(t) => row.text_value = Some(t.to_ascii_lowercase()),
                AttrValue::Date(d) => row.int_value = Some(day_number(*d)),
                AttrValue::TextList(items) => {
                    let mut folded: Vec<String> = items.iter().map(|i| i.to_ascii_lowercase()).collect();
                    folded.sort();
                    folded.dedup();
                    row.int_value = Some(i64::try_from(folded.len()).map_err(backend)?);
                    let list = attr_tag_list(name);
                    tags.extend(folded.into_iter().map(|item| (list.clone(), item)));
                }
                // A value type added later is kept in `data` only.
                #[allow(unreachable_patterns, reason = "AttrValue is non_exhaustive")]
                _ => {}
            }
            attributes.push(row);
        }
        Ok(CustomerRow { values, tags, attributes })
    }

    /// The rows of `c` as a new customer, at version 1.
    pub(crate) fn of_new(c: &Customer) -> Result<CustomerRow, StoreError> {
        let mut row = CustomerRow::of(c)?;
        row.values[1] = Value::Int(Some(1));
        Ok(row)
    }

    /// The `customers` values, in the order of [`CUSTOMER_COLUMNS`].
    pub(crate) fn values(&self) -> &[Value] {
        &self.values
    }
}

/// Whether the `tags` or `attributes` rows of `after` differ from those of `before` (most
/// writes, such as lifecycle events and purchases, change neither).
pub(crate) fn tags_or_attributes_changed(before: &Customer, after: &Customer) -> bool {
    before.interests != after.interests
        || before.lifestyle != after.lifestyle
        || before.needs != after.needs
        || before.attributes != after.attributes
}

/// One `purchases` row (without its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PurchaseRow {
    pub at_ns: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub data: String,
}

impl PurchaseRow {
    pub(crate) fn of(p: &Purchase) -> Result<PurchaseRow, StoreError> {
        Ok(PurchaseRow {
            at_ns: clamped_ns(p.at),
            amount_minor: p.amount.minor(),
            currency: p.amount.currency().code().to_owned(),
            data: serde_json::to_string(p).map_err(backend)?,
        })
    }
}

/// One `transitions` row (without its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransitionRow {
    pub at_ns: i64,
    pub from_stage: &'static str,
    pub to_stage: &'static str,
    pub data: String,
}

impl TransitionRow {
    pub(crate) fn of(t: &Transition) -> Result<TransitionRow, StoreError> {
        Ok(TransitionRow {
            at_ns: clamped_ns(t.at),
            from_stage: t.from.name(),
            to_stage: t.to.name(),
            data: serde_json::to_string(t).map_err(backend)?,
        })
    }
}

/// Nanoseconds since the epoch, clamped to `i64` (the customer row is then `rust_only`).
fn clamped_ns(t: chrono::DateTime<chrono::Utc>) -> i64 {
    instant_ns(t).or_else(|| t.timestamp_nanos_opt()).unwrap_or(if t < chrono::DateTime::UNIX_EPOCH {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The `data` column: the customer as JSON, without the purchases (in their own table) and
/// the version (in its own column).
fn customer_data(c: &Customer) -> Result<String, StoreError> {
    let mut value = serde_json::to_value(c).map_err(backend)?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("purchases");
        fields.remove("version");
    }
    serde_json::to_string(&value).map_err(backend)
}

/// Rebuilds a customer from its `data`, version and purchases (in recording order).
pub(crate) fn decode_customer(version: i64, data: &str, purchases: Vec<Purchase>) -> Result<Customer, StoreError> {
    let mut customer: Customer = serde_json::from_str(data).map_err(backend)?;
    // Recording order, then a stable sort by time: the order the purchases had in memory.
    customer = customer.with_purchases(purchases).map_err(backend)?;
    customer.set_version(from_sql_version(version)?);
    Ok(customer)
}

/// A purchase from its `data`.
pub(crate) fn decode_purchase(data: &str) -> Result<Purchase, StoreError> {
    serde_json::from_str(data).map_err(backend)
}

/// A transition from its `data`.
pub(crate) fn decode_transition(data: &str) -> Result<Transition, StoreError> {
    serde_json::from_str(data).map_err(backend)
}

/// The stored form of a customer id: the id with its top bit flipped, as two's complement, so
/// that `0..=u64::MAX` maps in order onto `i64::MIN..=i64::MAX`.
pub(crate) fn to_sql_id(id: CustomerId) -> i64 {
    i64::from_ne_bytes(id.get().to_ne_bytes()) ^ i64::MIN
}

/// The inverse of [`to_sql_id`].
pub(crate) fn from_sql_id(id: i64) -> CustomerId {
    CustomerId::new(u64::from_ne_bytes((id ^ i64::MIN).to_ne_bytes()))
}

pub(crate) fn to_sql_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(backend)
}

pub(crate) fn from_sql_version(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| backend(format!("corrupt customer version {version}")))
}

pub(crate) fn backend(e: impl Into<Box<dyn StdError + Send + Sync>>) -> StoreError {
    StoreError::Backend(e.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::sql::attr_kind;

    #[test]
    fn ids_map_in_order_and_back() {
        let ids =
            [0, 1, 2, 1 << 62, i64::MAX.unsigned_abs() - 1, i64::MAX.unsigned_abs(), 1 << 63, u64::MAX - 1, u64::MAX];
        for pair in ids.windows(2) {
            assert!(to_sql_id(CustomerId::new(pair[0])) < to_sql_id(CustomerId::new(pair[1])), "{pair:?}");
        }
        for id in ids {
            assert_eq!(from_sql_id(to_sql_id(CustomerId::new(id))), CustomerId::new(id));
        }
        assert_eq!(to_sql_id(CustomerId::new(0)), i64::MIN);
        assert_eq!(to_sql_id(CustomerId::new(u64::MAX)), i64::MAX);
    }

    /// The pushdown finds attribute rows by the kind this module writes.
    #[test]
    fn attribute_kinds_agree_with_the_pushdown() {
        use crate::segment::AttrType;
        let pairs = [
            (AttrType::Bool, AttrValue::Bool(true)),
            (AttrType::Int, AttrValue::Int(1)),
            (AttrType::Text, AttrValue::Text("x".into())),
            (AttrType::TextList, AttrValue::TextList(Default::default())),
        ];
        for (ty, value) in pairs {
            assert_eq!(attr_kind(ty), value.type_name());
        }
    }

    #[test]
    fn rows_match_columns() {
        let c = Customer::new(CustomerId::new(1), "x", chrono::DateTime::UNIX_EPOCH);
        let row = CustomerRow::of(&c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row.values().len(), CUSTOMER_COLUMNS.len());
        assert_eq!(row.values()[3], Value::Int(Some(0)), "an ordinary customer is not rust_only");
        let far = Customer::new(CustomerId::new(2), "x", chrono::DateTime::<chrono::Utc>::MAX_UTC);
        assert_eq!(CustomerRow::of(&far).unwrap_or_else(|e| panic!("{e}")).values()[3], Value::Int(Some(1)));
    }
}
