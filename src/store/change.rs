//! One atomic write to one customer.

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use crate::{
    customer::{Customer, Purchase},
    error::Error,
    lifecycle::{Event, Lifecycle, Transition, TransitionError},
};

/// A write to one customer, built from the version read: field edits, new purchases and the
/// transitions they cause. A [`Store`](super::Store) commits it whole or not at all, and only
/// if the stored version is still the one it was built from.
///
/// The stage and the purchases change only through this type's methods, which run the
/// [`Lifecycle`] so that every stage change is a legal, recorded [`Transition`]. A method that
/// fails leaves the change exactly as it was.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use clientele::{Change, Currency, Customer, CustomerId, Event, MemoryStore, Money, Purchase, Stage, Store};
/// use clientele::lifecycle::Lifecycle;
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let store = MemoryStore::new();
/// store.insert(Customer::new(CustomerId::new(1), "Ada", t0))?;
///
/// let machine = Lifecycle::default();
/// let mut change = Change::new(store.get(CustomerId::new(1))?);
/// change.customer_mut().profile.display_name = "Ada L.".into();
/// change.apply(&machine, Event::Qualify, t0, Some("met at the fair"))?;
/// let usd = Currency::new("USD")?;
/// change.record_purchase(&machine, Purchase::new(t0, Money::new(5_000, usd)), t0 + Duration::hours(1))?;
/// assert_eq!(change.transitions().len(), 2); // suspect → prospect → first_time
///
/// store.update(change)?;
/// let c = store.get(CustomerId::new(1))?;
/// assert_eq!((c.stage(), c.version()), (Stage::FirstTime, 2));
/// assert_eq!(store.history(CustomerId::new(1))?.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    customer: Customer,
    expected_version: u64,
    purchases: Vec<Purchase>,
    transitions: Vec<Transition>,
}

impl Change {
    /// A change to `customer`, expected to be at its current version in the store.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// let change = Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH));
    /// assert_eq!(change.expected_version(), 0);
    /// ```
    pub fn new(customer: Customer) -> Change {
        let expected_version = customer.version();
        Change { customer, expected_version, purchases: Vec::new(), transitions: Vec::new() }
    }

    /// The customer as it will be written.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// let change = Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH));
    /// assert_eq!(change.customer().profile.display_name, "x");
    /// ```
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// The customer's descriptive fields, to edit (the stage and purchases are not reachable
    /// this way).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// let mut change = Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH));
    /// change.customer_mut().referrals += 1;
    /// assert_eq!(change.customer().referrals, 1);
    /// ```
    pub fn customer_mut(&mut self) -> &mut Customer {
        &mut self.customer
    }

    /// The version the store must still hold for the write to go through.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// assert_eq!(Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)).expected_version(), 0);
    /// ```
    pub fn expected_version(&self) -> u64 {
        self.expected_version
    }

    /// Purchases this change adds.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// assert!(Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)).purchases().is_empty());
    /// ```
    pub fn purchases(&self) -> &[Purchase] {
        &self.purchases
    }

    /// Transitions this change appends to the history, in order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// assert!(Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)).transitions().is_empty());
    /// ```
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// Applies `event` at `at` with an optional note, returning the transition it made (`None`
    /// if the event kept the stage).
    ///
    /// # Errors
    ///
    /// A [`TransitionError`] when the event is illegal or refused; the change is unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId, Event, lifecycle::Lifecycle};
    /// let mut change = Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH));
    /// assert!(change.apply(&Lifecycle::default(), Event::WinBack, DateTime::UNIX_EPOCH, None).is_err());
    /// assert!(change.transitions().is_empty());
    /// ```
    pub fn apply(
        &mut self,
        machine: &Lifecycle,
        event: Event,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Option<&Transition>, TransitionError> {
        let moved = self.customer.apply_event(machine, event, at, note)?;
        Ok(moved.map(|t| {
            self.transitions.push(t);
            &self.transitions[self.transitions.len() - 1]
        }))
    }

    /// Records a purchase and applies the stage moves it causes, stamped `at`; returns those
    /// moves.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a purchase that breaks a rule (negative amount, cost in
    /// another currency, ...), [`Error::Transition`] if a move is refused; the change is
    /// unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Currency, Customer, CustomerId, Money, Purchase, lifecycle::Lifecycle};
    /// let t = DateTime::UNIX_EPOCH;
    /// let mut change = Change::new(Customer::new(CustomerId::new(1), "x", t));
    /// let bad = Purchase::new(t, Money::new(-5, Currency::new("USD")?));
    /// assert!(change.record_purchase(&Lifecycle::default(), bad, t).is_err());
    /// assert!(change.purchases().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_purchase(
        &mut self,
        machine: &Lifecycle,
        purchase: Purchase,
        at: DateTime<Utc>,
    ) -> Result<&[Transition], Error> {
        self.customer.check_new_purchase(&purchase)?;
        let moves = self.customer.add_purchase(machine, purchase.clone(), at)?;
        self.purchases.push(purchase);
        Ok(self.push_moves(moves))
    }

    /// Applies the policy's automatic moves as of `at` (see
    /// [`Lifecycle::settle`]); returns them.
    ///
    /// # Errors
    ///
    /// A [`TransitionError`] if a move is refused; the change is unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId, lifecycle::Lifecycle};
    /// let mut change = Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH));
    /// assert!(change.settle(&Lifecycle::default(), DateTime::UNIX_EPOCH)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn settle(&mut self, machine: &Lifecycle, at: DateTime<Utc>) -> Result<&[Transition], TransitionError> {
        let moves = self.customer.settle(machine, at)?;
        Ok(self.push_moves(moves))
    }

    fn push_moves(&mut self, moves: SmallVec<[Transition; 2]>) -> &[Transition] {
        let start = self.transitions.len();
        self.transitions.extend(moves);
        &self.transitions[start..]
    }

    /// Takes the change apart for a store to write: the customer as it will be stored (its
    /// version still the expected one), the new purchases, and the new transitions.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Change, Customer, CustomerId};
    /// let (customer, purchases, transitions) =
    ///     Change::new(Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)).into_parts();
    /// assert!(purchases.is_empty() && transitions.is_empty());
    /// assert_eq!(customer.version(), 0);
    /// ```
    pub fn into_parts(self) -> (Customer, Vec<Purchase>, Vec<Transition>) {
        (self.customer, self.purchases, self.transitions)
    }
}
