//! A columnar snapshot of many customers, laid out for batch evaluation: one array per
//! field, dictionary-coded text, inverted lists for tags, and purchases in one flat array.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::schema::{AttrType, Schema};
use crate::rfm::RfmGroup;
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

/// Stored instants as integers that compare like the instants, in one of two layouts (see
/// [`Times`]). Microseconds would not do: an instant a few nanoseconds after another would
/// compare equal to it, and a leap second after the second that follows it.
pub(crate) trait TimeKey: Copy + Ord + Send + Sync {
    /// Below or equal to every key.
    const MIN: Self;
    /// Above or equal to every key.
    const MAX: Self;
    /// The key of an instant to store, if this layout holds it.
    fn key(t: DateTime<Utc>) -> Option<Self>;
    /// The least `k` such that a stored instant is at or after `t` (after it, when `incl` is
    /// false) exactly when its key is at least `k`.
    fn lower(t: DateTime<Utc>, incl: bool) -> Self;
    /// The greatest `k` such that a stored instant is at or before `t` (before it, when
    /// `incl` is false) exactly when its key is at most `k`.
    fn upper(t: DateTime<Utc>, incl: bool) -> Self;
}

/// Exact for every instant: the seconds since the epoch times 2^32, plus the nanoseconds into
/// the second (under 2 × 10^9 even in a leap second, which so sorts before the next second).
fn exact_key(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * (1 << 32) + i128::from(t.timestamp_subsec_nanos())
}

impl TimeKey for i128 {
    const MIN: i128 = i128::MIN;
    const MAX: i128 = i128::MAX;
    fn key(t: DateTime<Utc>) -> Option<i128> {
        Some(exact_key(t))
    }
    fn lower(t: DateTime<Utc>, incl: bool) -> i128 {
        exact_key(t) + i128::from(!incl)
    }
    fn upper(t: DateTime<Utc>, incl: bool) -> i128 {
        exact_key(t) - i128::from(!incl)
    }
}

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// The greatest and the least nanosecond key of an instant `i64` keys hold that is at or
/// before `t`, and at or after `t`; clamped to `i64::MIN` and `i64::MAX`, which no key is.
fn nanos_around(t: DateTime<Utc>) -> (i64, i64) {
    let secs = i128::from(t.timestamp());
    let sub = i128::from(t.timestamp_subsec_nanos());
    // No stored instant is in a leap second: the ones around it are at the end of its second
    // and at the start of the next.
    let (before, after) = if sub >= NANOS {
        let next = (secs + 1) * NANOS;
        (next - 1, next)
    } else {
        (secs * NANOS + sub, secs * NANOS + sub)
    };
    let clamp = |n: i128| i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX });
    (clamp(before), clamp(after))
}

/// Nanoseconds since the epoch, for the instants strictly between `i64::MIN` and `i64::MAX`
/// nanoseconds (years 1677 to 2262) and not in a leap second.
impl TimeKey for i64 {
    const MIN: i64 = i64::MIN;
    const MAX: i64 = i64::MAX;
    fn key(t: DateTime<Utc>) -> Option<i64> {
        let (before, after) = nanos_around(t);
        (before == after && before != i64::MIN && before != i64::MAX).then_some(before)
    }
    fn lower(t: DateTime<Utc>, incl: bool) -> i64 {
        let (before, after) = nanos_around(t);
        if incl { after } else { before.saturating_add(1) }
    }
    fn upper(t: DateTime<Utc>, incl: bool) -> i64 {
        let (before, after) = nanos_around(t);
        if incl { before } else { after.saturating_sub(1) }
    }
}

/// The instant columns, as [`TimeKey`]s.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimeColumns<K> {
    pub created_at: Vec<K>,
    pub stage_since: Vec<K>,
    /// Purchases of row `r` are `purchase_at[offsets[r]..offsets[r + 1]]`, in time order.
    pub purchase_at: Vec<K>,
}

/// The instants of a snapshot: nanoseconds in `i64` while every instant stored fits (all
/// real data: years 1677 to 2262, no leap second), exact `i128` keys otherwise.
#[derive(Debug, Clone)]
pub(crate) enum Times {
    Nanos(TimeColumns<i64>),
    Exact(TimeColumns<i128>),
}

/// Which instant column.
#[derive(Clone, Copy)]
enum TimeColumn {
    CreatedAt,
    StageSince,
    Purchase,
}

impl<K> TimeColumns<K> {
    fn column(&mut self, which: TimeColumn) -> &mut Vec<K> {
        match which {
            TimeColumn::CreatedAt => &mut self.created_at,
            TimeColumn::StageSince => &mut self.stage_since,
            TimeColumn::Purchase => &mut self.purchase_at,
        }
    }
}

impl Times {
    fn push(&mut self, which: TimeColumn, t: DateTime<Utc>) {
        if let Times::Nanos(cols) = self {
            if let Some(k) = i64::key(t) {
                cols.column(which).push(k);
                return;
            }
            // The first instant `i64` keys cannot hold: rewrite the keys so far exactly.
            let exact = |v: &Vec<i64>| {
                v.iter()
                    .map(|&n| i128::from(n).div_euclid(NANOS) * (1 << 32) + i128::from(n).rem_euclid(NANOS))
                    .collect()
            };
            *self = Times::Exact(TimeColumns {
                created_at: exact(&cols.created_at),
                stage_since: exact(&cols.stage_since),
                purchase_at: exact(&cols.purchase_at),
            });
        }
        if let Times::Exact(cols) = self {
            cols.column(which).push(exact_key(t));
        }
    }
}

/// How many of `times` (in order) are at or before the key `upto`.
#[inline]
pub(crate) fn count_upto<K: Ord + Copy>(times: &[K], upto: K) -> usize {
    // Most rows have all their purchases before the instant asked about.
    if times.last().is_none_or(|&t| t <= upto) { times.len() } else { times.partition_point(|&t| t <= upto) }
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
    pub(crate) income: Vec<Option<i64>>,
    /// RFM scores from the schema's table: `[r, f, m, group]` per row, each 1-based (the
    /// group is its position in `RfmGroup::ALL` plus one), 0 when the customer has none.
    pub(crate) rfm: [Vec<u8>; 4],
    /// Where the purchases of each row start in the purchase columns: row `r` has
    /// `offsets[r]..offsets[r + 1]`.
    pub(crate) offsets: Vec<u32>,
    /// `created_at`, `stage_since` and the purchase instants.
    pub(crate) times: Times,
    /// Running totals in the snapshot's currency, one entry per purchase plus one per row:
    /// for row `r`, `spent_prefix[k + r]` is what the row spent before its purchase at global
    /// index `k` (other currencies add 0), and `spent_prefix[end + r]` its total. Saturating
    /// at `i64::MAX`: see `spent_overflow`.
    pub(crate) spent_prefix: Vec<i64>,
    /// For the rows whose total passes `i64::MAX` (so `spent_prefix` saturates and the spend in
    /// a window is no longer the difference of two of its entries): the exact running totals,
    /// entry `k` before the row's `k`th purchase and the last one its total.
    pub(crate) spent_overflow: HashMap<usize, Vec<i128>>,
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
            income: Vec::new(),
            rfm: Default::default(),
            offsets: vec![0],
            times: Times::Nanos(TimeColumns::default()),
            spent_prefix: Vec::new(),
            spent_overflow: HashMap::new(),
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
        let rfm = schema.rfm().cloned();
        for c in customers {
            s.push(c);
            let scores = rfm.as_ref().and_then(|table| table.get(c.id()));
            let [r, f, m, g] = &mut s.rfm;
            r.push(scores.map_or(0, |x| x.r()));
            f.push(scores.map_or(0, |x| x.f()));
            m.push(scores.map_or(0, |x| x.m()));
            g.push(scores.map_or(0, |x| {
                let i = RfmGroup::ALL.iter().position(|y| *y == x.group()).unwrap_or(0);
                u8::try_from(i + 1).unwrap_or(0)
            }));
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
        self.times.push(TimeColumn::CreatedAt, c.created_at());
        self.times.push(TimeColumn::StageSince, c.lifecycle().since());
        self.income.push(c.profile.annual_income.filter(|m| m.currency() == self.currency).map(|m| m.minor()));
        let (mut running, mut costed, mut cost) = (0i64, 0i64, 0i64);
        for p in c.purchases().as_slice() {
            self.times.push(TimeColumn::Purchase, p.at);
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
        if running == i64::MAX {
            let mut exact = vec![0i128];
            for p in c.purchases().as_slice() {
                let add = if p.amount.currency() == self.currency { i128::from(p.amount.minor()) } else { 0 };
                exact.push(exact.last().copied().unwrap_or(0) + add);
            }
            if exact.last().is_some_and(|&total| total > i128::from(i64::MAX)) {
                self.spent_overflow.insert(self.ids.len() - 1, exact);
            }
        }
        let purchases = match &self.times {
            Times::Nanos(cols) => cols.purchase_at.len(),
            Times::Exact(cols) => cols.purchase_at.len(),
        };
        self.offsets.push(u32::try_from(purchases).unwrap_or(u32::MAX));
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
        let upto = start
            + match &self.times {
                Times::Nanos(cols) => {
                    count_upto(cols.purchase_at.get(start..end).unwrap_or(&[]), i64::upper(as_of, true))
                }
                Times::Exact(cols) => {
                    count_upto(cols.purchase_at.get(start..end).unwrap_or(&[]), i128::upper(as_of, true))
                }
            };
        let between = |prefix: &[i64]| {
            let at = |k: usize| prefix.get(k + row).copied().unwrap_or(0);
            at(upto).saturating_sub(at(start))
        };
        (between(&self.spent_prefix), between(&self.costed_prefix), between(&self.cost_prefix))
    }

    /// What `row` spent in the snapshot's currency on its purchases at global indices
    /// `from..upto`, saturating at `i64::MAX` like a sum row by row.
    #[inline]
    pub(crate) fn spent_between(&self, row: usize, from: usize, upto: usize) -> i64 {
        let (total, before) = (self.spent_prefix[upto + row], self.spent_prefix[from + row]);
        if total == i64::MAX { self.spent_between_saturated(row, from, upto) } else { total - before }
    }

    /// [`spent_between`](Self::spent_between) where the running total has reached `i64::MAX`.
    #[cold]
    fn spent_between_saturated(&self, row: usize, from: usize, upto: usize) -> i64 {
        match self.spent_overflow.get(&row) {
            Some(exact) => {
                let first = self.purchases_of(row).0;
                i64::try_from(exact[upto - first] - exact[from - first]).unwrap_or(i64::MAX)
            }
            // Exactly `i64::MAX`, without overflow: the running totals are exact.
            None => i64::MAX - self.spent_prefix[from + row],
        }
    }

    /// The channels `row` can be reached by (preferred and not opted out), as
    /// [`ChannelSet::bits`](crate::ChannelSet::bits).
    pub(crate) fn reachable_bits(&self, row: usize) -> u16 {
        let preferred = self.preferred.get(row).copied().unwrap_or(0);
        preferred & !self.opted_out.get(row).copied().unwrap_or(0)
    }
}
