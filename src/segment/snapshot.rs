//! A columnar snapshot of many customers, laid out for batch evaluation: one array per
//! field, dictionary-coded text, inverted lists for tags, and purchases in one flat array.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::schema::{AttrType, Schema};
use crate::{
    customer::{AttrValue, CreditStanding, Customer, CustomerId, Gender},
    lifecycle::Stage,
    money::{Currency, Decimal},
};

/// Days since 1 January of year 1 for a present date; this for a missing one.
pub(crate) const NO_DATE: i32 = i32::MIN;

pub(crate) fn day_number(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Text coded through a dictionary: `codes[row]` indexes `values`, or is `NO_CODE`.
#[derive(Debug, Clone, Default)]
pub(crate) struct DictColumn {
    pub codes: Vec<u32>,
    pub values: Vec<String>,
    lookup: HashMap<String, u32>,
}

pub(crate) const NO_CODE: u32 = u32::MAX;

impl DictColumn {
    fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => NO_CODE,
            Some(v) => match self.lookup.get(v) {
                Some(c) => *c,
                None => {
                    let c = u32::try_from(self.values.len()).unwrap_or(NO_CODE - 1);
                    self.values.push(v.to_owned());
                    self.lookup.insert(v.to_owned(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }
}

/// A set-of-text column as inverted lists: for each text, the rows that hold it.
#[derive(Debug, Clone, Default)]
pub(crate) struct TagColumn {
    pub postings: HashMap<String, Vec<u32>>,
    /// Rows whose set is not empty.
    pub nonempty: Vec<bool>,
}

impl TagColumn {
    fn push<'a>(&mut self, row: u32, tags: impl Iterator<Item = &'a str>) {
        let mut any = false;
        for t in tags {
            any = true;
            let list = self.postings.entry(t.to_owned()).or_default();
            // A row's tags are distinct for tag sets, but a text list may repeat an item.
            if list.last() != Some(&row) {
                list.push(row);
            }
        }
        self.nonempty.push(any);
    }
}

/// One declared attribute as a column.
#[derive(Debug, Clone)]
pub(crate) enum AttrColumn {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Decimal(Vec<Option<Decimal>>),
    Money(Vec<Option<i64>>),
    Text(DictColumn),
    Date(Vec<i32>),
    TextList(TagColumn),
}

/// Many customers as columns, for [`Segment::evaluate`](super::Segment::evaluate).
///
/// Built from customers and the [`Schema`] the segments are compiled against (the schema
/// fixes the currency of money columns and which attributes get columns). A snapshot is a
/// copy: later writes to the customers do not change it.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{Schema, Snapshot}};
/// let customers: Vec<Customer> = (1..=3).map(|i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH)).collect();
/// let snap = Snapshot::build(&customers, &Schema::default());
/// assert_eq!(snap.len(), 3);
/// assert_eq!(snap.id(2), Some(CustomerId::new(3)));
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) currency: Currency,
    pub(crate) ids: Vec<CustomerId>,
    pub(crate) stage: Vec<u8>,
    pub(crate) gender: Vec<u8>,
    pub(crate) credit: Vec<u8>,
    pub(crate) birth: Vec<i32>,
    /// `(a - 'A') * 26 + (b - 'A') + 1`, 0 when missing.
    pub(crate) country: Vec<u16>,
    pub(crate) region: DictColumn,
    pub(crate) city: DictColumn,
    pub(crate) interests: TagColumn,
    pub(crate) lifestyle: TagColumn,
    pub(crate) needs: TagColumn,
    pub(crate) preferred: Vec<u16>,
    pub(crate) opted_out: Vec<u16>,
    pub(crate) loyalty_joined: Vec<i32>,
    pub(crate) referrals: Vec<i64>,
    pub(crate) exclusive: Vec<bool>,
    pub(crate) created_at: Vec<i64>,
    pub(crate) stage_since: Vec<i64>,
    pub(crate) income: Vec<Option<i64>>,
    /// Purchases of row `r` are `purchase_at[offsets[r]..offsets[r + 1]]`, in time order.
    pub(crate) offsets: Vec<u32>,
    pub(crate) purchase_at: Vec<i64>,
    /// Running totals in the snapshot's currency, one entry per purchase plus one per row:
    /// for row `r`, `spent_prefix[k + r]` is what the row spent before its purchase at global
    /// index `k` (other currencies add 0), and `spent_prefix[end + r]` its total.
    pub(crate) spent_prefix: Vec<i64>,
    /// Running totals laid out as `spent_prefix`, over the purchases in the snapshot's
    /// currency whose cost is known (in that currency too): the amounts of those purchases.
    /// Used for margins, which are only defined where the cost is.
    pub(crate) costed_prefix: Vec<i64>,
    /// Running totals laid out as `spent_prefix`: the costs of the purchases counted in
    /// `costed_prefix`.
    pub(crate) cost_prefix: Vec<i64>,
    pub(crate) attributes: BTreeMap<String, AttrColumn>,
}

/// The country code packed into a small integer (0 = missing).
pub(crate) fn country_code(c: crate::customer::CountryCode) -> u16 {
    let b = c.as_str().as_bytes();
    match b {
        [x, y] => u16::from(x - b'A') * 26 + u16::from(y - b'A') + 1,
        _ => 0,
    }
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).and_then(|i| u8::try_from(i).ok()).unwrap_or(0)
}

impl Snapshot {
    /// Lays out `customers` as columns for `schema`.
    ///
    /// Rows are in the order given. Purchases in other currencies than the schema's count as
    /// purchases but add nothing to spend, exactly as in row evaluation.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase};
    /// use clientele::segment::{Schema, Segment, Snapshot};
    ///
    /// let t = DateTime::UNIX_EPOCH;
    /// let schema = Schema::new(Currency::EGP);
    /// let c = Customer::new(CustomerId::new(1), "x", t)
    ///     .with_purchases(vec![Purchase::new(t, Money::new(500, Currency::USD))])?;
    /// let snapshot = Snapshot::build([&c], &schema);
    ///
    /// // The dollar purchase counts as a purchase but adds nothing to the spend in EGP.
    /// let s = Segment::compile("purchases = 1 and spent = 0.00", &schema)?;
    /// assert_eq!(s.evaluate(&snapshot, t)?.count(), 1);
    /// assert!(s.matches(&c, t)); // as in row evaluation
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build<'a>(customers: impl IntoIterator<Item = &'a Customer>, schema: &Schema) -> Snapshot {
        let currency = schema.currency();
        let mut s = Snapshot {
            currency,
            ids: Vec::new(),
            stage: Vec::new(),
            gender: Vec::new(),
            credit: Vec::new(),
            birth: Vec::new(),
            country: Vec::new(),
            region: DictColumn::default(),
            city: DictColumn::default(),
            interests: TagColumn::default(),
            lifestyle: TagColumn::default(),
            needs: TagColumn::default(),
            preferred: Vec::new(),
            opted_out: Vec::new(),
            loyalty_joined: Vec::new(),
            referrals: Vec::new(),
            exclusive: Vec::new(),
            created_at: Vec::new(),
            stage_since: Vec::new(),
            income: Vec::new(),
            offsets: vec![0],
            purchase_at: Vec::new(),
            spent_prefix: Vec::new(),
            costed_prefix: Vec::new(),
            cost_prefix: Vec::new(),
            attributes: schema
                .attributes()
                .map(|(name, ty)| {
                    let col = match ty {
                        AttrType::Bool => AttrColumn::Bool(Vec::new()),
                        AttrType::Int => AttrColumn::Int(Vec::new()),
                        AttrType::Decimal => AttrColumn::Decimal(Vec::new()),
                        AttrType::Money => AttrColumn::Money(Vec::new()),
                        AttrType::Text => AttrColumn::Text(DictColumn::default()),
                        AttrType::Date => AttrColumn::Date(Vec::new()),
                        AttrType::TextList => AttrColumn::TextList(TagColumn::default()),
                    };
                    (name.to_owned(), col)
                })
                .collect(),
        };
        for c in customers {
            s.push(c);
        }
        s
    }

    fn push(&mut self, c: &Customer) {
        let row = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(c.id());
        self.stage.push(index_of(&Stage::ALL, &c.stage()));
        self.gender.push(index_of(&Gender::ALL, &c.profile.gender));
        self.credit.push(index_of(&CreditStanding::ALL, &c.credit));
        self.birth.push(c.profile.birth_date.map_or(NO_DATE, day_number));
        self.country.push(c.profile.location.country.map_or(0, country_code));
        self.region.push(c.profile.location.region.as_deref());
        self.city.push(c.profile.location.city.as_deref());
        self.interests.push(row, c.interests.iter());
        self.lifestyle.push(row, c.lifestyle.iter());
        self.needs.push(row, c.needs.iter());
        self.preferred.push(c.channels.preferred.bits());
        self.opted_out.push(c.channels.opted_out.bits());
        self.loyalty_joined.push(c.loyalty.as_ref().map_or(NO_DATE, |l| day_number(l.joined)));
        self.referrals.push(i64::from(c.referrals));
        self.exclusive.push(c.exclusive);
        self.created_at.push(micros(c.created_at()));
        self.stage_since.push(micros(c.lifecycle().since()));
        self.income.push(c.profile.annual_income.filter(|m| m.currency() == self.currency).map(|m| m.minor()));
        let (mut running, mut costed, mut cost) = (0i64, 0i64, 0i64);
        for p in c.purchases().as_slice() {
            self.purchase_at.push(micros(p.at));
            self.spent_prefix.push(running);
            self.costed_prefix.push(costed);
            self.cost_prefix.push(cost);
            if p.amount.currency() == self.currency {
                running = running.saturating_add(p.amount.minor());
                if let Some(c) = p.cost.filter(|c| c.currency() == self.currency) {
                    costed = costed.saturating_add(p.amount.minor());
                    cost = cost.saturating_add(c.minor());
                }
            }
        }
        self.spent_prefix.push(running);
        self.costed_prefix.push(costed);
        self.cost_prefix.push(cost);
        self.offsets.push(u32::try_from(self.purchase_at.len()).unwrap_or(u32::MAX));
        for (name, col) in &mut self.attributes {
            let v = c.attributes.get(name);
            match col {
                AttrColumn::Bool(x) => x.push(match v {
                    Some(AttrValue::Bool(b)) => Some(*b),
                    _ => None,
                }),
                AttrColumn::Int(x) => x.push(match v {
                    Some(AttrValue::Int(n)) => Some(*n),
                    _ => None,
                }),
                AttrColumn::Decimal(x) => x.push(match v {
                    Some(AttrValue::Decimal(d)) => Some(*d),
                    _ => None,
                }),
                AttrColumn::Money(x) => x.push(match v {
                    Some(AttrValue::Money(m)) if m.currency() == self.currency => Some(m.minor()),
                    _ => None,
                }),
                AttrColumn::Text(x) => x.push(match v {
                    Some(AttrValue::Text(t)) => Some(t.as_str()),
                    _ => None,
                }),
                AttrColumn::Date(x) => x.push(match v {
                    Some(AttrValue::Date(d)) => day_number(*d),
                    _ => NO_DATE,
                }),
                AttrColumn::TextList(x) => match v {
                    Some(AttrValue::TextList(items)) => {
                        let lowered: Vec<String> = items.iter().map(|i| i.to_ascii_lowercase()).collect();
                        x.push(row, lowered.iter().map(String::as_str));
                    }
                    _ => x.push(row, std::iter::empty()),
                },
            }
        }
    }

    /// The number of customers.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{segment::{Schema, Snapshot}, synth::Population};
    /// let customers = Population::new(1).customers(25);
    /// assert_eq!(Snapshot::build(&customers, &Schema::default()).len(), 25);
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Customer, segment::{Schema, Snapshot}};
    /// let none: [Customer; 0] = [];
    /// assert!(Snapshot::build(&none, &Schema::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of the customer in row `row`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Snapshot}};
    /// let customers = [5, 3].map(|id| Customer::new(CustomerId::new(id), "x", DateTime::UNIX_EPOCH));
    /// let snapshot = Snapshot::build(&customers, &Schema::default());
    /// assert_eq!(snapshot.id(1), Some(CustomerId::new(3))); // rows in the order given
    /// assert_eq!(snapshot.id(2), None);
    /// ```
    pub fn id(&self, row: usize) -> Option<CustomerId> {
        self.ids.get(row).copied()
    }

    /// The ids in row order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment, Snapshot}};
    /// let schema = Schema::default();
    /// let mut customers = [5, 3, 8].map(|id| Customer::new(CustomerId::new(id), "x", DateTime::UNIX_EPOCH));
    /// customers[2].referrals = 1;
    /// let snapshot = Snapshot::build(&customers, &schema);
    /// let members = Segment::compile("referrals > 0", &schema)?.evaluate(&snapshot, DateTime::UNIX_EPOCH)?;
    /// let ids: Vec<CustomerId> = members.iter().map(|row| snapshot.ids()[row]).collect();
    /// assert_eq!(ids, [CustomerId::new(8)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// The currency of the money columns.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Currency, Customer, segment::{Schema, Snapshot}};
    /// let none: [Customer; 0] = [];
    /// assert_eq!(Snapshot::build(&none, &Schema::new(Currency::EUR)).currency(), Currency::EUR);
    /// ```
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The purchase instants of `row`, in time order.
    pub(crate) fn purchases_of(&self, row: usize) -> (usize, usize) {
        let start = self.offsets.get(row).map_or(0, |&o| o as usize);
        let end = self.offsets.get(row + 1).map_or(start, |&o| o as usize);
        (start, end)
    }

    /// What `row` bought up to `as_of` (inclusive), from the running totals: in the
    /// snapshot's currency, `(spent, amounts of purchases with a known cost, their costs)`.
    pub(crate) fn totals_upto(&self, row: usize, as_of: DateTime<Utc>) -> (i64, i64, i64) {
        let (start, end) = self.purchases_of(row);
        let times = self.purchase_at.get(start..end).unwrap_or(&[]);
        let as_of = micros(as_of);
        // Most rows have all their purchases before the instant asked about.
        let upto = start
            + if times.last().is_none_or(|&t| t <= as_of) {
                times.len()
            } else {
                times.partition_point(|&t| t <= as_of)
            };
        let between = |prefix: &[i64]| {
            let at = |k: usize| prefix.get(k + row).copied().unwrap_or(0);
            at(upto).saturating_sub(at(start))
        };
        (between(&self.spent_prefix), between(&self.costed_prefix), between(&self.cost_prefix))
    }

    /// The channels `row` can be reached by (preferred and not opted out), as
    /// [`ChannelSet::bits`](crate::ChannelSet::bits).
    pub(crate) fn reachable_bits(&self, row: usize) -> u16 {
        let preferred = self.preferred.get(row).copied().unwrap_or(0);
        preferred & !self.opted_out.get(row).copied().unwrap_or(0)
    }
}
