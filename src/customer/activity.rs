//! Purchases, their running aggregates, and windowed figures as of any date.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::channel::Channel;
use crate::{
    money::{Currency, Money},
    validation::{ValidationError, check_count, check_len, limits},
    window::Window,
};

/// One purchase by a customer.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use clientele::{Channel, Currency, Money, Purchase};
///
/// let egp = Currency::new("EGP")?;
/// let p = Purchase::new(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(), Money::parse("250.00", egp)?)
///     .with_cost(Money::parse("180.00", egp)?)
///     .with_category("shoes")
///     .with_channel(Channel::Web);
/// assert_eq!(p.margin(), Some(Money::parse("70.00", egp)?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Purchase {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What the customer paid. Never negative.
    pub amount: Money,
    /// What it cost the company, when known (same currency as `amount`); gives the margin.
    pub cost: Option<Money>,
    /// The product category, if recorded.
    pub category: Option<String>,
    /// Where it was bought, if recorded.
    pub channel: Option<Channel>,
}

impl Purchase {
    /// A purchase of `amount` at `at`, with no cost, category or channel.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Money, Purchase};
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(100, Currency::new("USD")?));
    /// assert_eq!(p.cost, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(at: DateTime<Utc>, amount: Money) -> Purchase {
        Purchase { at, amount, cost: None, category: None, channel: None }
    }

    /// Sets the cost.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Money, Purchase};
    /// let usd = Currency::new("USD")?;
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(100, usd)).with_cost(Money::new(60, usd));
    /// assert_eq!(p.cost, Some(Money::new(60, usd)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_cost(mut self, cost: Money) -> Purchase {
        self.cost = Some(cost);
        self
    }

    /// Sets the category.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Money, Purchase};
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(1, Currency::new("USD")?)).with_category("books");
    /// assert_eq!(p.category.as_deref(), Some("books"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_category(mut self, category: impl Into<String>) -> Purchase {
        self.category = Some(category.into());
        self
    }

    /// Sets the channel.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Channel, Currency, Money, Purchase};
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(1, Currency::new("USD")?)).with_channel(Channel::InStore);
    /// assert_eq!(p.channel, Some(Channel::InStore));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_channel(mut self, channel: Channel) -> Purchase {
        self.channel = Some(channel);
        self
    }

    /// `amount - cost`, when the cost is known and in the same currency.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Money, Purchase};
    /// let usd = Currency::new("USD")?;
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(100, usd));
    /// assert_eq!(p.margin(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn margin(&self) -> Option<Money> {
        let cost = self.cost?;
        (cost.currency() == self.amount.currency())
            .then(|| Money::new(self.amount.minor().saturating_sub(cost.minor()), cost.currency()))
    }

    /// Checks the purchase's rules: amounts not negative, cost in the amount's currency, and
    /// the category within [`MAX_TEXT_BYTES`](limits::MAX_TEXT_BYTES).
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the field at fault.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, Money, Purchase};
    /// let p = Purchase::new(DateTime::UNIX_EPOCH, Money::new(-1, Currency::new("USD")?));
    /// assert_eq!(p.validate().unwrap_err().field(), "purchase.amount");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.amount.minor() < 0 {
            return Err(ValidationError::new("purchase.amount", "must not be negative"));
        }
        if let Some(cost) = self.cost {
            if cost.minor() < 0 {
                return Err(ValidationError::new("purchase.cost", "must not be negative"));
            }
            if cost.currency() != self.amount.currency() {
                return Err(ValidationError::new(
                    "purchase.cost",
                    format!("is in {} but the amount is in {}", cost.currency(), self.amount.currency()),
                ));
            }
        }
        if let Some(category) = &self.category {
            check_len("purchase.category", category, limits::MAX_TEXT_BYTES)?;
        }
        Ok(())
    }
}

/// Running aggregates over a customer's purchases.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Currency, Customer, CustomerId};
///
/// let c = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
/// let a = c.purchases().activity();
/// assert_eq!(a.count(), 0);
/// assert_eq!(a.last(), None);
/// assert_eq!(a.total(Currency::new("USD")?).minor(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Activity {
    count: u32,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// One total per currency, in currency-code order: the same purchases give the same
    /// aggregates (and equal, equally hashed values) whatever order they were recorded in.
    totals: SmallVec<[Money; 1]>,
}

impl Activity {
    /// The number of purchases.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Activity::default().count(), 0);
    /// ```
    pub fn count(&self) -> u32 {
        self.count
    }

    /// When the first purchase happened.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Activity::default().first(), None);
    /// ```
    pub fn first(&self) -> Option<DateTime<Utc>> {
        self.first
    }

    /// When the latest purchase happened.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Activity::default().last(), None);
    /// ```
    pub fn last(&self) -> Option<DateTime<Utc>> {
        self.last
    }

    /// Total spent in `currency` (zero if none).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Activity, Currency};
    /// assert_eq!(Activity::default().total(Currency::new("EUR")?).minor(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total(&self, currency: Currency) -> Money {
        self.totals.iter().copied().find(|m| m.currency() == currency).unwrap_or(Money::new(0, currency))
    }

    /// Totals spent, one per currency used, in currency-code order.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::Activity::default().totals().is_empty());
    /// ```
    pub fn totals(&self) -> &[Money] {
        &self.totals
    }

    fn add(&mut self, p: &Purchase) {
        self.count = self.count.saturating_add(1);
        self.first = Some(self.first.map_or(p.at, |f| f.min(p.at)));
        self.last = Some(self.last.map_or(p.at, |l| l.max(p.at)));
        match self.totals.binary_search_by(|m| m.currency().cmp(&p.amount.currency())) {
            // Saturating: 9.2 × 10^18 minor units is beyond any real customer's spend.
            Ok(i) => {
                self.totals[i] =
                    Money::new(self.totals[i].minor().saturating_add(p.amount.minor()), p.amount.currency())
            }
            Err(i) => self.totals.insert(i, p.amount),
        }
    }

    fn of(purchases: &[Purchase]) -> Activity {
        let mut a = Activity::default();
        purchases.iter().for_each(|p| a.add(p));
        a
    }
}

/// A customer's purchases in time order, with [`Activity`] kept current.
///
/// Purchases with the same instant keep the order they were recorded in.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use clientele::{Crm, Currency, Customer, CustomerId, ManualClock, MemoryStore, Money, Purchase, Window};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let clock = ManualClock::new(t0);
/// let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
/// let id = CustomerId::new(7);
/// crm.insert(Customer::new(id, "Ada", t0))?;
/// let usd = Currency::new("USD")?;
/// for days in [0, 10, 100] {
///     clock.set(t0 + Duration::days(days));
///     crm.record_purchase(id, Purchase::new(t0 + Duration::days(days), Money::new(1_000, usd)))?;
/// }
/// let c = crm.get(id)?;
/// let as_of = t0 + Duration::days(100);
/// assert_eq!(c.purchases().count_in(Window::days(90), as_of), 1); // day 10 is exactly 90 days ago: outside
/// assert_eq!(c.purchases().spent_in(Window::days(365), as_of, usd).minor(), 3_000);
/// assert_eq!(c.purchases().activity_as_of(t0 + Duration::days(50)).count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PurchaseHistory {
    /// The purchases, oldest first, shared copy-on-write between clones: reading a customer
    /// from a store (a clone) does not copy every purchase, and most writes (lifecycle events,
    /// field edits) never touch them. The first purchase added to a clone copies the list
    /// (see [`push`](Self::push)), so the original, e.g. the stored customer, never changes.
    list: Arc<Vec<Purchase>>,
    activity: Activity,
}

impl PurchaseHistory {
    pub(crate) fn from_vec(mut list: Vec<Purchase>) -> PurchaseHistory {
        // Stable: purchases at the same instant keep their recorded order.
        list.sort_by_key(|p| p.at);
        let activity = Activity::of(&list);
        PurchaseHistory { list: Arc::new(list), activity }
    }

    /// Inserts in time order and returns the index it went to.
    pub(crate) fn push(&mut self, p: Purchase) -> usize {
        let at = self.list.partition_point(|q| q.at <= p.at);
        self.activity.add(&p);
        match Arc::get_mut(&mut self.list) {
            Some(list) => list.insert(at, p),
            // Shared with the customer this one was cloned from (e.g. the stored one): copy
            // once, with room for the new purchase, rather than copy and then grow.
            None => {
                let mut list = Vec::with_capacity(self.list.len() + 1);
                list.extend_from_slice(&self.list[..at]);
                list.push(p);
                list.extend_from_slice(&self.list[at..]);
                self.list = Arc::new(list);
            }
        }
        at
    }

    /// Undoes the [`push`](Self::push) that returned `index`.
    pub(crate) fn undo_push(&mut self, index: usize) {
        if index < self.list.len() {
            Arc::make_mut(&mut self.list).remove(index);
            self.activity = Activity::of(&self.list);
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        check_count("purchases", self.list.len(), limits::MAX_PURCHASES)?;
        self.list.iter().try_for_each(Purchase::validate)
    }

    /// All purchases, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::PurchaseHistory::default().as_slice().is_empty());
    /// ```
    pub fn as_slice(&self) -> &[Purchase] {
        &self.list
    }

    /// Aggregates over all purchases.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::PurchaseHistory::default().activity().count(), 0);
    /// ```
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// Purchases at or before `as_of`.
    fn upto(&self, as_of: DateTime<Utc>) -> &[Purchase] {
        // Most evaluations are as of now, after every purchase: no search needed then.
        if self.list.last().is_none_or(|p| p.at <= as_of) {
            return &self.list;
        }
        &self.list[..self.list.partition_point(|p| p.at <= as_of)]
    }

    /// Purchases in `(start, as_of]`, or all up to `as_of` when `start` is `None`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert!(clientele::PurchaseHistory::default().between(None, DateTime::UNIX_EPOCH).is_empty());
    /// ```
    pub fn between(&self, start: Option<DateTime<Utc>>, as_of: DateTime<Utc>) -> &[Purchase] {
        let upto = self.upto(as_of);
        match start {
            Some(start) => &upto[upto.partition_point(|p| p.at <= start)..],
            None => upto,
        }
    }

    /// The number of purchases at or before `as_of`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::PurchaseHistory::default().count_upto(DateTime::UNIX_EPOCH), 0);
    /// ```
    pub fn count_upto(&self, as_of: DateTime<Utc>) -> usize {
        self.upto(as_of).len()
    }

    /// Spent in `currency` at or before `as_of` (saturating on overflow).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, PurchaseHistory};
    /// assert_eq!(PurchaseHistory::default().spent_upto(DateTime::UNIX_EPOCH, Currency::USD).minor(), 0);
    /// ```
    pub fn spent_upto(&self, as_of: DateTime<Utc>, currency: Currency) -> Money {
        total_in(self.upto(as_of), currency)
    }

    /// When the first purchase at or before `as_of` happened.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::PurchaseHistory::default().first_upto(DateTime::UNIX_EPOCH), None);
    /// ```
    pub fn first_upto(&self, as_of: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.upto(as_of).first().map(|p| p.at)
    }

    /// Purchases in `window` as of `as_of`: those in `(window.start(as_of), as_of]`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{PurchaseHistory, Window};
    /// assert!(PurchaseHistory::default().within(Window::days(30), DateTime::UNIX_EPOCH).is_empty());
    /// ```
    pub fn within(&self, window: Window, as_of: DateTime<Utc>) -> &[Purchase] {
        self.between(window.start(as_of), as_of)
    }

    /// The number of purchases in `window` as of `as_of`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{PurchaseHistory, Window};
    /// assert_eq!(PurchaseHistory::default().count_in(Window::days(30), DateTime::UNIX_EPOCH), 0);
    /// ```
    pub fn count_in(&self, window: Window, as_of: DateTime<Utc>) -> usize {
        self.within(window, as_of).len()
    }

    /// Spent in `currency` within `window` as of `as_of` (saturating on overflow).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Currency, PurchaseHistory, Window};
    /// let usd = Currency::new("USD")?;
    /// assert_eq!(PurchaseHistory::default().spent_in(Window::days(30), DateTime::UNIX_EPOCH, usd).minor(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spent_in(&self, window: Window, as_of: DateTime<Utc>, currency: Currency) -> Money {
        total_in(self.within(window, as_of), currency)
    }

    /// The aggregates as they stood at `as_of` (purchases after it not yet made).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::PurchaseHistory::default().activity_as_of(DateTime::UNIX_EPOCH).count(), 0);
    /// ```
    pub fn activity_as_of(&self, as_of: DateTime<Utc>) -> Activity {
        Activity::of(self.upto(as_of))
    }

    /// The number of purchases at or before `as_of`.
    pub(crate) fn count_as_of(&self, as_of: DateTime<Utc>) -> usize {
        self.upto(as_of).len()
    }

    /// When the latest purchase at or before `as_of` happened.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::PurchaseHistory::default().last_as_of(DateTime::UNIX_EPOCH), None);
    /// ```
    pub fn last_as_of(&self, as_of: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.upto(as_of).last().map(|p| p.at)
    }
}

/// The total of `purchases` in `currency`, saturating; purchases in other currencies add
/// nothing. The one place every spend figure (windows, segments, RFM, explanations) is summed.
pub(crate) fn total_in(purchases: &[Purchase], currency: Currency) -> Money {
    let minor = purchases
        .iter()
        .filter(|p| p.amount.currency() == currency)
        .fold(0i64, |sum, p| sum.saturating_add(p.amount.minor()));
    Money::new(minor, currency)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn purchase(day: i64, category: &str) -> Purchase {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Purchase::new(t0 + Duration::days(day), Money::new(100, Currency::new("USD").unwrap())).with_category(category)
    }

    /// Clones share the purchase list; changing a clone must never change the original.
    #[test]
    fn clones_copy_on_write() {
        let original = PurchaseHistory::from_vec(vec![purchase(1, "a"), purchase(5, "b")]);
        let mut clone = original.clone();
        assert!(Arc::ptr_eq(&original.list, &clone.list), "a clone shares the list");

        let index = clone.push(purchase(3, "c"));
        assert_eq!(index, 1);
        assert_eq!(original.as_slice(), [purchase(1, "a"), purchase(5, "b")]);
        assert_eq!(clone.as_slice(), [purchase(1, "a"), purchase(3, "c"), purchase(5, "b")]);
        assert_eq!((original.activity().count(), clone.activity().count()), (2, 3));

        // The clone now owns its list: a second push does not copy again.
        let owned = Arc::as_ptr(&clone.list);
        clone.push(purchase(9, "d"));
        assert_eq!(Arc::as_ptr(&clone.list), owned);

        clone.undo_push(3);
        clone.undo_push(1);
        assert_eq!(clone, original);
        assert_eq!(original.as_slice().len(), 2);

        // Pushing at either end of a shared list keeps time order.
        let mut front = original.clone();
        assert_eq!(front.push(purchase(0, "z")), 0);
        let mut back = original.clone();
        assert_eq!(back.push(purchase(5, "same instant")), 2);
        assert_eq!(back.as_slice()[2].category.as_deref(), Some("same instant"));
        assert_eq!(original.as_slice().len(), 2);
    }
}
