//! The customer model: identity, profile, tags, channels, loyalty, credit, custom attributes,
//! purchases, and the lifecycle position.

mod activity;
mod attributes;
mod channel;
mod profile;
mod tags;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use self::activity::total_in;
pub use self::{
    activity::{Activity, Purchase, PurchaseHistory},
    attributes::{AttrValue, Attributes},
    channel::{Channel, ChannelSet, Channels, UnknownChannel},
    profile::{CountryCode, CreditStanding, Gender, Generation, Location, Loyalty, Profile, age_on},
    tags::TagSet,
};
use crate::{
    lifecycle::{Facts, Lifecycle, LifecycleState, Stage, Transition, TransitionError},
    validation::{ValidationError, check_len, limits},
};

/// A customer's identifier, chosen by the embedding application.
///
/// # Example
///
/// ```
/// use clientele::CustomerId;
/// let id = CustomerId::new(42);
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "#42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(u64);

impl CustomerId {
    /// Wraps a raw id.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::CustomerId::new(1) < clientele::CustomerId::new(2));
    /// ```
    pub const fn new(id: u64) -> CustomerId {
        CustomerId(id)
    }

    /// The raw id.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::CustomerId::new(7).get(), 7);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl From<u64> for CustomerId {
    fn from(id: u64) -> CustomerId {
        CustomerId(id)
    }
}

/// One customer: who they are, how to reach them, what they bought, and where they stand.
///
/// The descriptive fields are public: edit them freely, then write the customer back
/// through a store or the [`Crm`](crate::Crm). What must stay consistent is private and
/// changes only through the lifecycle and the store: the [stage](Self::lifecycle), the
/// [purchases](Self::purchases) with their aggregates, and the [version](Self::version).
///
/// Serializing writes every field but the derived aggregates; deserializing recomputes them
/// and checks every [limit](limits), so a customer read from outside is always valid.
///
/// # Example
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use clientele::{AttrValue, Channel, CountryCode, Customer, CustomerId, Stage};
///
/// let joined = Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap();
/// let mut c = Customer::new(CustomerId::new(1), "Mona Said", joined);
/// c.profile.birth_date = NaiveDate::from_ymd_opt(1992, 4, 2);
/// c.profile.location.country = Some(CountryCode::new("EG")?);
/// c.profile.location.city = Some("Cairo".into());
/// c.interests.insert("sports");
/// c.channels.preferred.insert(Channel::Web);
/// c.attributes.set("nps", AttrValue::Int(9))?;
///
/// assert_eq!(c.stage(), Stage::Suspect);
/// assert_eq!(c.age_on(joined), Some(33));
/// assert!(c.validate().is_ok());
/// let json = serde_json::to_string(&c)?;
/// assert_eq!(serde_json::from_str::<Customer>(&json)?, c);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CustomerRepr")]
pub struct Customer {
    id: CustomerId,
    /// Name, birth date, gender, income and location.
    pub profile: Profile,
    /// What the customer is interested in (e.g. `sports`, `travel`).
    pub interests: TagSet,
    /// Lifestyle tags (e.g. `vegan`, `outdoor`).
    pub lifestyle: TagSet,
    /// Needs the customer expressed (e.g. `delivery`, `installments`).
    pub needs: TagSet,
    /// Preferred and opted-out media channels.
    pub channels: Channels,
    /// Loyalty programme membership, if any.
    pub loyalty: Option<Loyalty>,
    /// Credit standing.
    pub credit: CreditStanding,
    /// How many people the customer has referred.
    pub referrals: u32,
    /// Whether the customer buys only from us among similar goods (an exclusivity signal that
    /// makes a repeat customer a client).
    pub exclusive: bool,
    /// Custom typed attributes such as survey answers.
    pub attributes: Attributes,
    created_at: DateTime<Utc>,
    lifecycle: LifecycleState,
    #[serde(serialize_with = "serialize_purchases")]
    purchases: PurchaseHistory,
    version: u64,
}

fn serialize_purchases<S: serde::Serializer>(p: &PurchaseHistory, s: S) -> Result<S::Ok, S::Error> {
    p.as_slice().serialize(s)
}

/// The serialized form; converting from it re-derives aggregates and validates.
#[derive(Deserialize)]
struct CustomerRepr {
    id: CustomerId,
    profile: Profile,
    #[serde(default)]
    interests: TagSet,
    #[serde(default)]
    lifestyle: TagSet,
    #[serde(default)]
    needs: TagSet,
    #[serde(default)]
    channels: Channels,
    #[serde(default)]
    loyalty: Option<Loyalty>,
    #[serde(default)]
    credit: CreditStanding,
    #[serde(default)]
    referrals: u32,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    attributes: Attributes,
    created_at: DateTime<Utc>,
    lifecycle: LifecycleState,
    #[serde(default)]
    purchases: Vec<Purchase>,
    #[serde(default)]
    version: u64,
}

impl TryFrom<CustomerRepr> for Customer {
    type Error = ValidationError;
    fn try_from(r: CustomerRepr) -> Result<Self, Self::Error> {
        let c = Customer {
            id: r.id,
            profile: r.profile,
            interests: r.interests,
            lifestyle: r.lifestyle,
            needs: r.needs,
            channels: r.channels,
            loyalty: r.loyalty,
            credit: r.credit,
            referrals: r.referrals,
            exclusive: r.exclusive,
            attributes: r.attributes,
            created_at: r.created_at,
            lifecycle: r.lifecycle,
            purchases: PurchaseHistory::from_vec(r.purchases),
            version: r.version,
        };
        c.validate()?;
        Ok(c)
    }
}

impl Customer {
    /// A new suspect named `display_name`, created at `created_at`, not yet stored
    /// (version 0).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// let c = Customer::new(CustomerId::new(3), "Omar", DateTime::UNIX_EPOCH);
    /// assert_eq!(c.version(), 0);
    /// ```
    pub fn new(id: CustomerId, display_name: impl Into<String>, created_at: DateTime<Utc>) -> Customer {
        Customer {
            id,
            profile: Profile::new(display_name),
            interests: TagSet::new(),
            lifestyle: TagSet::new(),
            needs: TagSet::new(),
            channels: Channels::default(),
            loyalty: None,
            credit: CreditStanding::default(),
            referrals: 0,
            exclusive: false,
            attributes: Attributes::new(),
            created_at,
            lifecycle: LifecycleState::new(created_at),
            purchases: PurchaseHistory::default(),
            version: 0,
        }
    }

    /// The same customer with `purchases` as its purchase history (in any order), for
    /// imports from another system. Only for customers not yet stored: stores refuse to
    /// change a stored customer's purchases except by recording new ones.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] for an invalid purchase or more than
    /// [`MAX_PURCHASES`](limits::MAX_PURCHASES).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase};
    /// let t = DateTime::UNIX_EPOCH;
    /// let usd = Currency::USD;
    /// let c = Customer::new(CustomerId::new(1), "Imported", t).with_purchases(vec![
    ///     Purchase::new(t + Duration::days(9), Money::new(500, usd)),
    ///     Purchase::new(t + Duration::days(2), Money::new(700, usd)),
    /// ])?;
    /// assert_eq!(c.purchases().activity().total(usd).minor(), 1200);
    /// assert_eq!(c.purchases().as_slice()[0].amount.minor(), 700); // kept in time order
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_purchases(mut self, purchases: Vec<Purchase>) -> Result<Customer, ValidationError> {
        let history = PurchaseHistory::from_vec(purchases);
        history.validate()?;
        self.purchases = history;
        Ok(self)
    }

    /// The same customer starting at another lifecycle position, for imports from another
    /// system. Only for customers not yet stored: stores refuse to change a stored customer's
    /// stage except through transitions.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// let c = Customer::new(CustomerId::new(1), "Imported", t)
    ///     .with_lifecycle(LifecycleState::at_stage(Stage::Prospect, t, None)?);
    /// assert_eq!(c.stage(), Stage::Prospect);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_lifecycle(mut self, state: LifecycleState) -> Customer {
        self.lifecycle = state;
        self
    }

    /// The id.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// assert_eq!(Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).id(), CustomerId::new(9));
    /// ```
    pub fn id(&self) -> CustomerId {
        self.id
    }

    /// When the customer entered the CRM.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// assert_eq!(Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).created_at(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The lifecycle position: stage, since when, and the stage to resume.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, Stage};
    /// let c = Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH);
    /// assert_eq!(c.lifecycle().stage(), Stage::Suspect);
    /// ```
    pub fn lifecycle(&self) -> &LifecycleState {
        &self.lifecycle
    }

    /// The current stage.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, Stage};
    /// assert_eq!(Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).stage(), Stage::Suspect);
    /// ```
    pub fn stage(&self) -> Stage {
        self.lifecycle.stage()
    }

    /// The purchases, with aggregates and windowed figures.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// assert!(Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).purchases().as_slice().is_empty());
    /// ```
    pub fn purchases(&self) -> &PurchaseHistory {
        &self.purchases
    }

    /// The version the store holds: 0 before the first write, then one more per write.
    /// A write based on an older version is refused as a conflict.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// assert_eq!(Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).version(), 0);
    /// ```
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Age in completed years on the date of `as_of` (UTC); `None` without a birth date.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, NaiveDate};
    /// use clientele::{Customer, CustomerId};
    /// let mut c = Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH);
    /// c.profile.birth_date = NaiveDate::from_ymd_opt(1960, 1, 1);
    /// assert_eq!(c.age_on(DateTime::UNIX_EPOCH), Some(10));
    /// ```
    pub fn age_on(&self, as_of: DateTime<Utc>) -> Option<u32> {
        self.profile.age_on(as_of.date_naive())
    }

    /// The generation by birth year.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, NaiveDate};
    /// use clientele::{Customer, CustomerId, Generation};
    /// let mut c = Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH);
    /// c.profile.birth_date = NaiveDate::from_ymd_opt(2001, 9, 9);
    /// assert_eq!(c.generation(), Some(Generation::GenZ));
    /// ```
    pub fn generation(&self) -> Option<Generation> {
        self.profile.generation()
    }

    /// Whether the customer holds a loyalty card.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// assert!(!Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH).is_loyalty_member());
    /// ```
    pub fn is_loyalty_member(&self) -> bool {
        self.loyalty.is_some()
    }

    /// The facts the lifecycle's guards read, as of `as_of`, under `machine`'s policy.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, lifecycle::Lifecycle};
    /// let c = Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH);
    /// let facts = c.facts(DateTime::UNIX_EPOCH, &Lifecycle::default());
    /// assert_eq!((facts.purchases, facts.idle_days), (0, None));
    /// ```
    pub fn facts(&self, as_of: DateTime<Utc>, machine: &Lifecycle) -> Facts {
        let saturate = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Facts {
            // The count alone: building the whole `activity_as_of` would re-add every amount
            // on each event. Same value (saturating at `u32::MAX`).
            purchases: saturate(self.purchases.count_as_of(as_of)),
            purchases_in_client_window: saturate(self.purchases.count_in(machine.policy().client_window, as_of)),
            referrals: self.referrals,
            credit_poor: self.credit == CreditStanding::Poor,
            exclusive: self.exclusive,
            idle_days: self.purchases.last_as_of(as_of).map(|last| (as_of - last).num_days()),
        }
    }

    /// Checks every rule and [limit](limits) on the customer's data.
    ///
    /// # Errors
    ///
    /// The first [`ValidationError`] found, naming the field.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// use clientele::{Customer, CustomerId};
    /// let mut c = Customer::new(CustomerId::new(9), "x", DateTime::UNIX_EPOCH);
    /// for i in 0..100 { c.interests.insert(&format!("tag{i}")); }
    /// assert_eq!(c.validate().unwrap_err().field(), "interests");
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.validate_fields()?;
        self.purchases.validate()
    }

    /// [`validate`](Self::validate) without the purchases: stores call it on every write and
    /// check only the purchases the write adds.
    pub(crate) fn validate_fields(&self) -> Result<(), ValidationError> {
        self.profile.validate()?;
        self.interests.validate("interests")?;
        self.lifestyle.validate("lifestyle")?;
        self.needs.validate("needs")?;
        if let Some(l) = &self.loyalty {
            check_len("loyalty.card_id", &l.card_id, limits::MAX_TEXT_BYTES)?;
        }
        self.attributes.validate()
    }

    /// Applies `event` at `at`; on error nothing changes.
    pub(crate) fn apply_event(
        &mut self,
        machine: &Lifecycle,
        event: crate::lifecycle::Event,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Option<Transition>, TransitionError> {
        let facts = self.facts(at, machine);
        let step = machine.apply(&self.lifecycle, event, &facts, at, note)?;
        self.lifecycle = step.state;
        Ok(step.transition)
    }

    /// Checks that `purchase` is valid and that there is room for it.
    pub(crate) fn check_new_purchase(&self, purchase: &Purchase) -> Result<(), ValidationError> {
        purchase.validate()?;
        if self.purchases.as_slice().len() >= limits::MAX_PURCHASES {
            return Err(ValidationError::new("purchases", format!("at most {} allowed", limits::MAX_PURCHASES)));
        }
        Ok(())
    }

    /// Adds a purchase (already [checked](Self::check_new_purchase)) and applies the moves it
    /// causes at `at`; on error nothing changes.
    pub(crate) fn add_purchase(
        &mut self,
        machine: &Lifecycle,
        purchase: Purchase,
        at: DateTime<Utc>,
    ) -> Result<smallvec::SmallVec<[Transition; 2]>, TransitionError> {
        let index = self.purchases.push(purchase);
        let facts = self.facts(at, machine);
        match machine.apply_purchase(&self.lifecycle, &facts, at) {
            Ok((state, moves)) => {
                self.lifecycle = state;
                Ok(moves)
            }
            Err(e) => {
                self.purchases.undo_push(index);
                Err(e)
            }
        }
    }

    /// Applies the policy's automatic moves as of `at`; on error nothing changes.
    pub(crate) fn settle(
        &mut self,
        machine: &Lifecycle,
        at: DateTime<Utc>,
    ) -> Result<smallvec::SmallVec<[Transition; 2]>, TransitionError> {
        let facts = self.facts(at, machine);
        let (state, moves) = machine.settle(&self.lifecycle, &facts, at)?;
        self.lifecycle = state;
        Ok(moves)
    }

    pub(crate) fn set_version(&mut self, version: u64) {
        self.version = version;
    }
}
