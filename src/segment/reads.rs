//! What a segment reads, and what a write changed: so that a registry of segments can skip
//! the segments a write cannot affect.

use std::{fmt, ops};

use super::{
    horizon::leaf_is_time_dependent,
    ir::{BoolField, DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, TagField, TextField},
};
use crate::customer::Customer;

/// A set of the parts of a customer (field groups) that segments read, plus whether a segment
/// depends on the evaluation instant.
///
/// [`Segment::reads`](super::Segment::reads) says what a segment reads;
/// [`Reads::changed`] says what differs between two versions of a customer. A write whose
/// changes do not [`intersect`](Reads::intersects) what a segment reads cannot change the
/// customer's membership at any instant:
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, segment::{Reads, Schema, Segment}};
///
/// let segment = Segment::compile("referrals >= 2 and age >= 18", &Schema::default())?;
/// assert_eq!(segment.reads(), Reads::REFERRALS | Reads::BIRTH_DATE | Reads::TIME);
///
/// let before = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
/// let mut after = before.clone();
/// after.interests.insert("chess");
/// assert_eq!(Reads::changed(&before, &after), Reads::INTERESTS);
/// assert!(!segment.reads().intersects(Reads::changed(&before, &after)));
///
/// after.referrals = 3;
/// assert!(segment.reads().intersects(Reads::changed(&before, &after)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The groups are coarse on purpose: one bit for all custom attributes, one for all
/// purchases. New groups may be added (the bits are private), so match on the methods and
/// constants, not on a number.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reads(u32);

/// The groups with their names, in bit order (for `Debug`).
const NAMES: &[(Reads, &str)] = &[
    (Reads::BIRTH_DATE, "birth_date"),
    (Reads::GENDER, "gender"),
    (Reads::INCOME, "income"),
    (Reads::LOCATION, "location"),
    (Reads::INTERESTS, "interests"),
    (Reads::LIFESTYLE, "lifestyle"),
    (Reads::NEEDS, "needs"),
    (Reads::CHANNELS, "channels"),
    (Reads::LOYALTY, "loyalty"),
    (Reads::CREDIT, "credit"),
    (Reads::REFERRALS, "referrals"),
    (Reads::EXCLUSIVE, "exclusive"),
    (Reads::ATTRIBUTES, "attributes"),
    (Reads::PURCHASES, "purchases"),
    (Reads::CREATED_AT, "created_at"),
    (Reads::LIFECYCLE, "lifecycle"),
    (Reads::RFM, "rfm"),
    (Reads::TIME, "time"),
];

impl Reads {
    /// Nothing.
    ///
    /// ```
    /// assert!(clientele::segment::Reads::NONE.is_empty());
    /// ```
    pub const NONE: Reads = Reads(0);
    /// The birth date: `age`, `birth_date`, `generation`.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("generation = gen_z", &Schema::default())?.reads(), Reads::BIRTH_DATE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const BIRTH_DATE: Reads = Reads(1 << 0);
    /// The gender.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("gender = female", &Schema::default())?.reads(), Reads::GENDER);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const GENDER: Reads = Reads(1 << 1);
    /// The annual income.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("income > 1000", &Schema::default())?.reads(), Reads::INCOME);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const INCOME: Reads = Reads(1 << 2);
    /// The location: `country`, `region`, `city`.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("city = \"Cairo\"", &Schema::default())?.reads(), Reads::LOCATION);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const LOCATION: Reads = Reads(1 << 3);
    /// The interests.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("interests has \"tea\"", &Schema::default())?.reads(), Reads::INTERESTS);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const INTERESTS: Reads = Reads(1 << 4);
    /// The lifestyle tags.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("lifestyle is set", &Schema::default())?.reads(), Reads::LIFESTYLE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const LIFESTYLE: Reads = Reads(1 << 5);
    /// The needs.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("needs has \"delivery\"", &Schema::default())?.reads(), Reads::NEEDS);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const NEEDS: Reads = Reads(1 << 6);
    /// The channels: `channels`, `preferred_channels`, `opted_out_channels`.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("channels has web", &Schema::default())?.reads(), Reads::CHANNELS);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const CHANNELS: Reads = Reads(1 << 7);
    /// The loyalty card: `loyalty_member`, `loyalty_joined`.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("loyalty_member", &Schema::default())?.reads(), Reads::LOYALTY);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const LOYALTY: Reads = Reads(1 << 8);
    /// The credit standing.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("credit = poor", &Schema::default())?.reads(), Reads::CREDIT);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const CREDIT: Reads = Reads(1 << 9);
    /// The number of referrals.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("referrals > 0", &Schema::default())?.reads(), Reads::REFERRALS);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const REFERRALS: Reads = Reads(1 << 10);
    /// Whether the customer buys only from us.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("exclusive", &Schema::default())?.reads(), Reads::EXCLUSIVE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const EXCLUSIVE: Reads = Reads(1 << 11);
    /// Custom attributes (all of them: one group).
    ///
    /// ```
    /// use clientele::segment::{AttrType, Reads, Schema, Segment};
    /// let schema = Schema::default().with_attribute("nps", AttrType::Int)?;
    /// assert_eq!(Segment::compile("attr.nps >= 9", &schema)?.reads(), Reads::ATTRIBUTES);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const ATTRIBUTES: Reads = Reads(1 << 12);
    /// The purchases: `purchases`, `spent`, `first_purchase`, `last_purchase` and the
    /// windowed functions.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// let reads = Segment::compile("purchases(last 30 days) >= 2", &Schema::default())?.reads();
    /// assert_eq!(reads, Reads::PURCHASES | Reads::TIME);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const PURCHASES: Reads = Reads(1 << 13);
    /// When the customer entered the CRM.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// let reads = Segment::compile("created_at before 2026-01-01", &Schema::default())?.reads();
    /// assert_eq!(reads, Reads::CREATED_AT);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const CREATED_AT: Reads = Reads(1 << 14);
    /// The lifecycle position: `stage`, `stage_since`.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("stage = client", &Schema::default())?.reads(), Reads::LIFECYCLE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const LIFECYCLE: Reads = Reads(1 << 15);
    /// RFM scores (`rfm.*`): read from the schema's score table by customer id, so no write
    /// to a customer changes them; a new table means compiling the segment again.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert_eq!(Segment::compile("rfm.r >= 4", &Schema::default())?.reads(), Reads::RFM);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const RFM: Reads = Reads(1 << 16);
    /// Not a part of the customer: the value depends on the evaluation instant (ages,
    /// windows, purchases up to the instant), so it can change with no write; see
    /// [`Segment::horizon`](super::Segment::horizon). [`Reads::changed`] never includes it.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("age >= 18", &Schema::default())?.reads().contains(Reads::TIME));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const TIME: Reads = Reads(1 << 17);
    /// The profile's demographics: birth date, gender, income and location.
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert!(Reads::PROFILE.contains(Reads::LOCATION));
    /// ```
    pub const PROFILE: Reads = Reads(Reads::BIRTH_DATE.0 | Reads::GENDER.0 | Reads::INCOME.0 | Reads::LOCATION.0);
    /// The three tag sets: interests, lifestyle and needs.
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert!(Reads::TAGS.contains(Reads::NEEDS));
    /// ```
    pub const TAGS: Reads = Reads(Reads::INTERESTS.0 | Reads::LIFESTYLE.0 | Reads::NEEDS.0);
    /// Every group, [`TIME`](Reads::TIME) included.
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert!(Reads::ALL.contains(Reads::TIME | Reads::PURCHASES));
    /// ```
    pub const ALL: Reads = Reads((1 << 18) - 1);

    /// Whether no group is in the set.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("true", &Schema::default())?.reads().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every group of `other` is in the set.
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert!(Reads::TAGS.contains(Reads::INTERESTS | Reads::NEEDS));
    /// assert!(!Reads::TAGS.contains(Reads::INTERESTS | Reads::CHANNELS));
    /// ```
    pub const fn contains(self, other: Reads) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the two sets share a group: `segment.reads().intersects(changed)` is the
    /// question "can this write change the segment".
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert!(Reads::PROFILE.intersects(Reads::INCOME | Reads::TAGS));
    /// assert!(!Reads::PROFILE.intersects(Reads::TAGS));
    /// ```
    pub const fn intersects(self, other: Reads) -> bool {
        self.0 & other.0 != 0
    }

    /// The groups in either set.
    ///
    /// ```
    /// use clientele::segment::Reads;
    /// assert_eq!(Reads::GENDER.union(Reads::INCOME), Reads::GENDER | Reads::INCOME);
    /// ```
    #[must_use]
    pub const fn union(self, other: Reads) -> Reads {
        Reads(self.0 | other.0)
    }

    /// Whether a profile demographic is in the set (birth date, gender, income, location).
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("age >= 18", &Schema::default())?.reads().profile());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn profile(self) -> bool {
        self.intersects(Reads::PROFILE)
    }

    /// Whether purchases are in the set.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("last_purchase within 30 days", &Schema::default())?.reads().purchases());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn purchases(self) -> bool {
        self.intersects(Reads::PURCHASES)
    }

    /// Whether the lifecycle position (stage, stage since) is in the set.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("stage_since within 7 days", &Schema::default())?.reads().lifecycle());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn lifecycle(self) -> bool {
        self.intersects(Reads::LIFECYCLE)
    }

    /// Whether a tag set (interests, lifestyle, needs) is in the set.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("needs is set", &Schema::default())?.reads().tags());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn tags(self) -> bool {
        self.intersects(Reads::TAGS)
    }

    /// Whether the channels are in the set.
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// assert!(Segment::compile("opted_out_channels has sms", &Schema::default())?.reads().channels());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn channels(self) -> bool {
        self.intersects(Reads::CHANNELS)
    }

    /// Whether custom attributes are in the set.
    ///
    /// ```
    /// use clientele::segment::{AttrType, Schema, Segment};
    /// let schema = Schema::default().with_attribute("vip", AttrType::Bool)?;
    /// assert!(Segment::compile("attr.vip", &schema)?.reads().attributes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn attributes(self) -> bool {
        self.intersects(Reads::ATTRIBUTES)
    }

    /// Whether the value depends on the evaluation instant ([`TIME`](Reads::TIME)): if not,
    /// [`Segment::horizon`](super::Segment::horizon) is always `None`.
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment};
    /// let schema = Schema::default();
    /// assert!(Segment::compile("spent > 100", &schema)?.reads().is_time_dependent());
    /// assert!(!Segment::compile("created_at after 2026-01-01", &schema)?.reads().is_time_dependent());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn is_time_dependent(self) -> bool {
        self.intersects(Reads::TIME)
    }

    /// The groups that differ between two versions of a customer (never
    /// [`TIME`](Reads::TIME); everything else if the ids differ, since RFM scores are found by
    /// id). The display name and the version are read by no segment and not reported.
    ///
    /// ```
    /// use chrono::{DateTime, NaiveDate};
    /// use clientele::{Customer, CustomerId, segment::Reads};
    /// let before = Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH);
    /// let mut after = before.clone();
    /// assert!(Reads::changed(&before, &after).is_empty());
    /// after.profile.birth_date = NaiveDate::from_ymd_opt(1990, 1, 1);
    /// after.profile.display_name = "Ada L.".into();
    /// assert_eq!(Reads::changed(&before, &after), Reads::BIRTH_DATE);
    /// ```
    pub fn changed(before: &Customer, after: &Customer) -> Reads {
        if before.id() != after.id() {
            return Reads(Reads::ALL.0 & !Reads::TIME.0);
        }
        let (a, b) = (&before.profile, &after.profile);
        let groups = [
            (Reads::BIRTH_DATE, a.birth_date != b.birth_date),
            (Reads::GENDER, a.gender != b.gender),
            (Reads::INCOME, a.annual_income != b.annual_income),
            (Reads::LOCATION, a.location != b.location),
            (Reads::INTERESTS, before.interests != after.interests),
            (Reads::LIFESTYLE, before.lifestyle != after.lifestyle),
            (Reads::NEEDS, before.needs != after.needs),
            (Reads::CHANNELS, before.channels != after.channels),
            (Reads::LOYALTY, before.loyalty != after.loyalty),
            (Reads::CREDIT, before.credit != after.credit),
            (Reads::REFERRALS, before.referrals != after.referrals),
            (Reads::EXCLUSIVE, before.exclusive != after.exclusive),
            (Reads::ATTRIBUTES, before.attributes != after.attributes),
            (Reads::PURCHASES, before.purchases() != after.purchases()),
            (Reads::CREATED_AT, before.created_at() != after.created_at()),
            (
                Reads::LIFECYCLE,
                before.stage() != after.stage() || before.lifecycle().since() != after.lifecycle().since(),
            ),
        ];
        groups.into_iter().filter(|(_, differs)| *differs).fold(Reads::NONE, |acc, (g, _)| acc | g)
    }
}

impl ops::BitOr for Reads {
    type Output = Reads;
    fn bitor(self, rhs: Reads) -> Reads {
        self.union(rhs)
    }
}

impl ops::BitOrAssign for Reads {
    fn bitor_assign(&mut self, rhs: Reads) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for Reads {
    /// The names of the groups: `Reads(birth_date | time)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reads(")?;
        let mut first = true;
        for (group, name) in NAMES {
            if self.contains(*group) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        f.write_str(")")
    }
}

impl Pred {
    /// The groups the predicate reads.
    pub(crate) fn reads(&self) -> Reads {
        match self {
            Pred::Const(_) => Reads::NONE,
            Pred::Not(inner) => inner.reads(),
            Pred::And(items) | Pred::Or(items) => {
                let mut r = Reads::NONE;
                for item in items {
                    r |= item.reads();
                }
                r
            }
            Pred::Leaf(leaf) => leaf_reads(leaf),
        }
    }
}

fn leaf_reads(leaf: &Leaf) -> Reads {
    let instant = |f: &InstantField| match f {
        InstantField::FirstPurchase | InstantField::LastPurchase => Reads::PURCHASES,
        InstantField::CreatedAt => Reads::CREATED_AT,
        InstantField::StageSince => Reads::LIFECYCLE,
    };
    let date = |f: &DateField| match f {
        DateField::BirthDate => Reads::BIRTH_DATE,
        DateField::LoyaltyJoined => Reads::LOYALTY,
        DateField::Attr(_) => Reads::ATTRIBUTES,
    };
    let data = match leaf {
        Leaf::Stage(_) => Reads::LIFECYCLE,
        Leaf::Gender(_) => Reads::GENDER,
        Leaf::Generation(_) | Leaf::Age(_) => Reads::BIRTH_DATE,
        Leaf::Credit(_) => Reads::CREDIT,
        Leaf::RfmGroup(_) | Leaf::Int(IntField::Rfm(_), _) => Reads::RFM,
        Leaf::Int(IntField::Referrals, _) => Reads::REFERRALS,
        Leaf::Int(IntField::Purchases, _)
        | Leaf::Money(MoneyField::Spent, _)
        | Leaf::Activity(..)
        | Leaf::ActivitySince(..) => Reads::PURCHASES,
        Leaf::Money(MoneyField::Income, _) => Reads::INCOME,
        Leaf::Int(IntField::Attr(_), _)
        | Leaf::Money(MoneyField::Attr(_), _)
        | Leaf::Decimal(..)
        | Leaf::Text(TextField::Attr(_), ..)
        | Leaf::Tags(TagField::Attr(_), ..)
        | Leaf::Bool(BoolField::Attr(_), _) => Reads::ATTRIBUTES,
        Leaf::Date(f, _) | Leaf::DateWithin(f, _) => date(f),
        Leaf::Instant(f, _) | Leaf::InstantWithin(f, _) => instant(f),
        Leaf::Text(TextField::Region | TextField::City, ..) | Leaf::Country(_) => Reads::LOCATION,
        Leaf::Tags(TagField::Interests, ..) => Reads::INTERESTS,
        Leaf::Tags(TagField::Lifestyle, ..) => Reads::LIFESTYLE,
        Leaf::Tags(TagField::Needs, ..) => Reads::NEEDS,
        Leaf::Channels(..) => Reads::CHANNELS,
        Leaf::Bool(BoolField::LoyaltyMember, _) => Reads::LOYALTY,
        Leaf::Bool(BoolField::Exclusive, _) => Reads::EXCLUSIVE,
        Leaf::IsSet(p) => match p {
            Presence::Generation | Presence::Age | Presence::BirthDate => Reads::BIRTH_DATE,
            Presence::Country | Presence::Region | Presence::City => Reads::LOCATION,
            Presence::Interests => Reads::INTERESTS,
            Presence::Lifestyle => Reads::LIFESTYLE,
            Presence::Needs => Reads::NEEDS,
            Presence::Channels(_) => Reads::CHANNELS,
            Presence::LoyaltyJoined => Reads::LOYALTY,
            Presence::AnyPurchase => Reads::PURCHASES,
            Presence::Income => Reads::INCOME,
            Presence::Rfm => Reads::RFM,
            Presence::Attr(..) => Reads::ATTRIBUTES,
        },
    };
    if leaf_is_time_dependent(leaf) { data | Reads::TIME } else { data }
}
