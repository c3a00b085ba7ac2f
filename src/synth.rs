//! Deterministic synthetic customers, for examples, tests, benchmarks and demos.
//!
//! Customer `i` of a [`Population`] depends only on the seed and `i`, so any slice of a
//! population can be generated independently, in any order, with the same result on every
//! machine. The distributions are plausible for a retailer in the Middle East and Europe:
//! ages 17 to 86 on the observation date (birth years 1940 to 2008), a third of customers in
//! Egypt, and most customers with a few purchases, made over up to two and a half years.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::{
    customer::{AttrValue, Channel, CountryCode, CreditStanding, Customer, CustomerId, Gender, Loyalty, Purchase},
    lifecycle::{LifecycleState, Stage},
    money::{Currency, Money},
};

/// A small, fast, deterministic random number generator (splitmix64): the one
/// [`Population`] uses, for examples, tests and benchmarks that need the same "random"
/// sequence on every run and every machine. Not for anything that needs unpredictability.
///
/// # Example
///
/// ```
/// use clientele::synth::Rng;
///
/// let mut rng = Rng::new(2025);
/// let day = rng.between(1, 28);
/// assert!((1..=28).contains(&day));
/// assert_eq!(Rng::new(2025).between(1, 28), day); // the same seed, the same sequence
/// let city = rng.choose(&["Cairo", "Giza", "Luxor"]);
/// assert!(city.len() >= 4);
/// assert_eq!(rng.pick::<u8>(&[]), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut a = clientele::synth::Rng::new(7);
    /// let mut b = clientele::synth::Rng::new(7);
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// assert_ne!(rng.next_u64(), rng.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0); the modulo bias is negligible for small `n`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// assert!(rng.below(10) < 10);
    /// assert_eq!(rng.below(0), 0);
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// assert!((3..=20).contains(&rng.between(3, 20)));
    /// assert_eq!(rng.between(5, 5), 5);
    /// ```
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        let Some(span) = hi.checked_sub(lo) else { return lo };
        lo + u32::try_from(self.below(u64::from(span) + 1)).unwrap_or(0)
    }

    /// `true` with probability `percent` / 100.
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// assert!(!rng.chance(0) && rng.chance(100));
    /// ```
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of the items of a slice, or `None` when it is empty.
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// let v = vec![1, 2, 3];
    /// assert!(rng.pick(&v).is_some_and(|x| v.contains(x)));
    /// ```
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = usize::try_from(self.below(items.len() as u64)).ok()?;
        items.get(i)
    }

    /// One of the items of a non-empty array (an empty one does not compile).
    ///
    /// # Example
    ///
    /// ```
    /// let mut rng = clientele::synth::Rng::new(1);
    /// assert!(["a", "b"].contains(rng.choose(&["a", "b"])));
    /// ```
    pub fn choose<'a, T, const N: usize>(&mut self, items: &'a [T; N]) -> &'a T {
        const { assert!(N > 0, "choose needs a non-empty array") };
        // `% N` keeps the index in bounds whatever `below` returns.
        &items[usize::try_from(self.below(N as u64)).unwrap_or(0) % N]
    }
}

/// Countries with their weight (out of 100) and cities.
const COUNTRIES: &[(&str, u64, &[&str])] = &[
    ("EG", 35, &["Cairo", "Alexandria", "Giza", "Luxor", "Aswan", "Mansoura"]),
    ("SA", 15, &["Riyadh", "Jeddah", "Dammam"]),
    ("AE", 10, &["Dubai", "Abu Dhabi", "Sharjah"]),
    ("US", 10, &["New York", "Chicago", "Austin"]),
    ("GB", 8, &["London", "Manchester"]),
    ("FR", 7, &["Paris", "Lyon"]),
    ("DE", 7, &["Berlin", "Munich"]),
    ("MA", 5, &["Casablanca", "Rabat"]),
];

/// Interests a customer may have.
///
/// # Example
///
/// ```
/// use clientele::synth::{INTERESTS, Population};
/// let customers = Population::new(3).customers(500);
/// assert!(customers.iter().all(|c| c.interests.iter().all(|tag| INTERESTS.contains(&tag))));
/// ```
pub const INTERESTS: &[&str; 16] = &[
    "sports",
    "music",
    "travel",
    "books",
    "cooking",
    "fashion",
    "gaming",
    "fitness",
    "art",
    "movies",
    "technology",
    "gardening",
    "photography",
    "cars",
    "football",
    "coffee",
];

const LIFESTYLE: &[&str; 7] = &["outdoor", "family", "student", "professional", "retired", "vegan", "urban"];
const NEEDS: &[&str; 5] = &["delivery", "installments", "gift_wrapping", "warranty", "fast_checkout"];
const CATEGORIES: &[&str; 8] = &["books", "electronics", "clothing", "coffee", "home", "toys", "beauty", "sports"];
const FIRST_NAMES: &[&str; 16] = &[
    "Mona", "Ahmed", "Sara", "Omar", "Layla", "Youssef", "Nour", "Karim", "Hana", "Tarek", "Amira", "Ali", "Emma",
    "Lucas", "Sofia", "Noah",
];
const LAST_NAMES: &[&str; 12] =
    &["Said", "Hassan", "Mansour", "Farouk", "Adel", "Khalil", "Fahmy", "Salem", "Martin", "Weber", "Smith", "Dubois"];

/// The percent chance that a customer prefers each channel, in [`Channel::ALL`] order.
const CHANNEL_PREFERENCE: [u64; 9] = [60, 35, 20, 55, 25, 10, 8, 10, 30];

/// A deterministic synthetic population.
///
/// # Example
///
/// ```
/// use clientele::synth::Population;
///
/// let population = Population::new(42);
/// let a = population.customer(7);
/// assert_eq!(a, population.customer(7)); // the same every time
/// assert_eq!(a.id().get(), 8);
/// let many = population.customers(1_000);
/// assert_eq!(many.len(), 1_000);
/// assert!(many.iter().all(|c| c.validate().is_ok()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    seed: u64,
    as_of: DateTime<Utc>,
    currency: Currency,
}

impl Population {
    /// A population from `seed`, observed at 2026-01-01 00:00 UTC, with amounts in EGP.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use clientele::{Currency, synth::Population};
    /// let population = Population::new(42);
    /// assert_eq!(Some(population.as_of()), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single());
    /// assert_eq!(population.currency(), Currency::EGP);
    /// assert_ne!(population.customer(0), Population::new(43).customer(0)); // the seed matters
    /// ```
    pub fn new(seed: u64) -> Population {
        let as_of = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or(DateTime::UNIX_EPOCH);
        Population { seed, as_of, currency: Currency::EGP }
    }

    /// The instant the population is observed at: no purchase is after it.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::synth::Population;
    /// let population = Population::new(1);
    /// let as_of = population.as_of();
    /// for c in population.customers(1_000) {
    ///     assert!(c.created_at() <= as_of);
    ///     assert!(c.purchases().as_slice().iter().all(|p| p.at <= as_of));
    /// }
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The currency of every amount.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::synth::Population;
    /// let population = Population::new(1);
    /// let currency = population.currency();
    /// let customers = population.customers(1_000);
    /// assert!(customers.iter().flat_map(|c| c.purchases().as_slice()).all(|p| p.amount.currency() == currency));
    /// ```
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The ten cities used by the benchmark predicate P3.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment, build::field};
    /// use clientele::synth::Population;
    /// let cities = Population::ten_cities();
    /// assert!(cities.contains(&"Cairo"));
    /// let in_cities = Segment::from_expr(field("city").is_in(cities), &Schema::new(clientele::Currency::EGP))?;
    /// let population = Population::new(1);
    /// assert!(population.customers(100).iter().any(|c| in_cities.matches(c, population.as_of())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ten_cities() -> [&'static str; 10] {
        ["Cairo", "Alexandria", "Giza", "Riyadh", "Jeddah", "Dubai", "London", "Paris", "Berlin", "Casablanca"]
    }

    /// Customers `0..n`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{CustomerId, synth::Population};
    /// let population = Population::new(7);
    /// let customers = population.customers(3);
    /// let ids: Vec<CustomerId> = customers.iter().map(|c| c.id()).collect();
    /// assert_eq!(ids, [CustomerId::new(1), CustomerId::new(2), CustomerId::new(3)]);
    /// assert_eq!(customers[2], population.customer(2));
    /// ```
    pub fn customers(&self, n: usize) -> Vec<Customer> {
        (0..n as u64).map(|i| self.customer(i)).collect()
    }

    /// Customer number `index` (its id is `index + 1`).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{CustomerId, synth::Population};
    /// let population = Population::new(7);
    /// let c = population.customer(999_999); // no need to generate the ones before
    /// assert_eq!(c.id(), CustomerId::new(1_000_000));
    /// assert_eq!(c, Population::new(7).customer(999_999));
    /// assert!(c.validate().is_ok());
    /// ```
    pub fn customer(&self, index: u64) -> Customer {
        let mut rng = Rng::new(self.seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        rng.next_u64();
        let as_of = self.as_of;
        let created = as_of - Duration::days(30 + i64::try_from(rng.below(900)).unwrap_or(0));
        let name = format!("{} {}", rng.choose(FIRST_NAMES), rng.choose(LAST_NAMES));
        let mut c = Customer::new(CustomerId::new(index + 1), name, created);

        if rng.chance(85) {
            let year = 1940 + i32::try_from(rng.below(69)).unwrap_or(0);
            let ordinal = 1 + u32::try_from(rng.below(365)).unwrap_or(0);
            c.profile.birth_date = NaiveDate::from_yo_opt(year, ordinal);
        }
        c.profile.gender = match rng.below(100) {
            0..45 => Gender::Female,
            45..90 => Gender::Male,
            90..93 => Gender::Other,
            _ => Gender::Unknown,
        };
        let mut roll = rng.below(100);
        for (code, weight, cities) in COUNTRIES {
            if roll < *weight {
                c.profile.location.country = CountryCode::new(code).ok();
                if rng.chance(95) {
                    c.profile.location.city = rng.pick(cities).map(|city| (*city).to_owned());
                }
                break;
            }
            roll -= weight;
        }
        for _ in 0..rng.below(5) {
            let tag: &&str = rng.choose(INTERESTS);
            c.interests.insert(tag);
        }
        for _ in 0..rng.below(3) {
            let tag: &&str = rng.choose(LIFESTYLE);
            c.lifestyle.insert(tag);
        }
        for _ in 0..rng.below(3) {
            let tag: &&str = rng.choose(NEEDS);
            c.needs.insert(tag);
        }
        for (channel, percent) in Channel::ALL.into_iter().zip(CHANNEL_PREFERENCE) {
            if rng.chance(percent) {
                c.channels.preferred.insert(channel);
            }
            if rng.chance(6) {
                c.channels.opted_out.insert(channel);
            }
        }
        if rng.chance(30) {
            let joined = as_of - Duration::days(i64::try_from(rng.below(1500)).unwrap_or(0));
            c.loyalty = Some(Loyalty { card_id: format!("LC-{:07}", index + 1), joined: joined.date_naive() });
        }
        c.credit = match rng.below(100) {
            0..50 => CreditStanding::Good,
            50..75 => CreditStanding::Fair,
            75..80 => CreditStanding::Poor,
            _ => CreditStanding::Unknown,
        };
        c.referrals = if rng.chance(70) { 0 } else { 1 + u32::try_from(rng.below(5)).unwrap_or(0) };
        c.exclusive = rng.chance(5);
        if rng.chance(60) {
            let _ = c.attributes.set("nps", AttrValue::Int(i64::try_from(rng.below(11)).unwrap_or(0)));
        }
        if rng.chance(40) {
            let _ = c.attributes.set("survey_done", AttrValue::Bool(rng.chance(50)));
        }

        let count = match rng.below(100) {
            0..25 => 0,
            25..40 => 1,
            40..75 => 2 + rng.below(4),
            _ => 6 + rng.below(15),
        };
        // Recent customers buy more recently: each purchase falls within the customer's
        // active span, skewed towards its end.
        let span = (as_of - created).num_minutes().max(1);
        let idle = if rng.chance(25) { i64::try_from(rng.below(500)).unwrap_or(0) } else { 0 };
        let purchases: Vec<Purchase> = (0..count)
            .map(|_| {
                let a = i64::try_from(rng.below(u64::try_from(span).unwrap_or(1))).unwrap_or(0);
                let b = i64::try_from(rng.below(u64::try_from(span).unwrap_or(1))).unwrap_or(0);
                let at = (created + Duration::minutes(a.max(b)) - Duration::days(idle)).max(created);
                let amount = 5_000 + i64::try_from(rng.below(295_000)).unwrap_or(0);
                let mut p = Purchase::new(at, Money::new(amount, self.currency))
                    .with_category(*rng.choose(CATEGORIES))
                    .with_channel(*rng.choose(&Channel::ALL));
                if rng.chance(70) {
                    let cost = amount * i64::try_from(60 + rng.below(31)).unwrap_or(75) / 100;
                    p = p.with_cost(Money::new(cost, self.currency));
                }
                p
            })
            .collect();
        let last = purchases.iter().map(|p| p.at).max();
        let stage = match count {
            0 => *rng.choose(&[
                Stage::Suspect,
                Stage::Suspect,
                Stage::Prospect,
                Stage::Prospect,
                Stage::DisqualifiedProspect,
            ]),
            1 => Stage::FirstTime,
            2..5 => Stage::Repeat,
            _ => *rng.choose(&[Stage::Client, Stage::Client, Stage::Client, Stage::Advocate, Stage::Partner]),
        };
        let state = match last {
            Some(last) if (as_of - last).num_days() >= 365 => LifecycleState::at_stage(Stage::Lost, last, Some(stage)),
            Some(last) if (as_of - last).num_days() >= 180 => {
                LifecycleState::at_stage(Stage::Inactive, last, Some(stage))
            }
            Some(last) => LifecycleState::at_stage(stage, last, None),
            None => LifecycleState::at_stage(stage, created, None),
        };
        if let Ok(state) = state {
            c = c.with_lifecycle(state);
        }
        // Generated purchases are always valid; fall back to none rather than panic.
        match c.clone().with_purchases(purchases) {
            Ok(with) => with,
            Err(_) => c,
        }
    }
}
