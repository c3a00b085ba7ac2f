//! Media channels and compact sets of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A medium through which a customer can be reached or can buy.
///
/// # Example
///
/// ```
/// use clientele::Channel;
/// assert_eq!("in_store".parse::<Channel>(), Ok(Channel::InStore));
/// assert_eq!(Channel::Email.name(), "email");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Email.
    Email,
    /// Text messages.
    Sms,
    /// Telephone calls.
    Phone,
    /// Web pages, apps and online advertising.
    Web,
    /// Television.
    Tv,
    /// Radio.
    Radio,
    /// Magazines and print press.
    Magazine,
    /// Postal mail.
    Mail,
    /// In a physical store.
    InStore,
}

impl Channel {
    /// Every channel, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// assert!(Channel::ALL.iter().all(|c| c.name().parse::<Channel>() == Ok(*c)));
    /// assert_eq!(Channel::ALL.into_iter().collect::<ChannelSet>().len(), 9);
    /// ```
    pub const ALL: [Channel; 9] = [
        Channel::Email,
        Channel::Sms,
        Channel::Phone,
        Channel::Web,
        Channel::Tv,
        Channel::Radio,
        Channel::Magazine,
        Channel::Mail,
        Channel::InStore,
    ];

    /// The snake_case name used in text, JSON and SQL.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Channel;
    /// assert_eq!(Channel::InStore.name(), "in_store");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Phone => "phone",
            Channel::Web => "web",
            Channel::Tv => "tv",
            Channel::Radio => "radio",
            Channel::Magazine => "magazine",
            Channel::Mail => "mail",
            Channel::InStore => "in_store",
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error from parsing an unknown channel name.
///
/// # Example
///
/// ```
/// use clientele::Channel;
/// let err = "fax".parse::<Channel>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown channel `fax` (expected one of email, sms, phone, web, tv, radio, magazine, mail, in_store)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}` (expected one of email, sms, phone, web, tv, radio, magazine, mail, in_store)")]
pub struct UnknownChannel(String);

impl std::str::FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownChannel(s.chars().take(64).collect()))
    }
}

/// A set of [`Channel`]s, stored as a bitset: copying, testing and combining cost nothing.
///
/// Serialized as a list of channel names.
///
/// # Example
///
/// ```
/// use clientele::{Channel, ChannelSet};
///
/// let preferred: ChannelSet = [Channel::Email, Channel::Web].into_iter().collect();
/// let opted_out = ChannelSet::from(Channel::Email);
/// let usable = preferred.difference(opted_out);
/// assert!(usable.contains(Channel::Web) && !usable.contains(Channel::Email));
/// assert_eq!(usable.iter().collect::<Vec<_>>(), [Channel::Web]);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<Channel>", into = "Vec<Channel>")]
pub struct ChannelSet(u16);

impl ChannelSet {
    /// The empty set.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::ChannelSet;
    /// assert!(ChannelSet::EMPTY.is_empty());
    /// assert_eq!(ChannelSet::EMPTY, ChannelSet::default());
    /// ```
    pub const EMPTY: ChannelSet = ChannelSet(0);

    /// Adds a channel; returns whether it was new.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let mut set = ChannelSet::EMPTY;
    /// assert!(set.insert(Channel::Sms));
    /// assert!(!set.insert(Channel::Sms));
    /// ```
    pub fn insert(&mut self, channel: Channel) -> bool {
        let new = !self.contains(channel);
        self.0 |= channel.bit();
        new
    }

    /// Removes a channel; returns whether it was there.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let mut set = ChannelSet::from(Channel::Tv);
    /// assert!(set.remove(Channel::Tv));
    /// assert!(set.is_empty());
    /// ```
    pub fn remove(&mut self, channel: Channel) -> bool {
        let had = self.contains(channel);
        self.0 &= !channel.bit();
        had
    }

    /// Whether `channel` is in the set.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// assert!(ChannelSet::from(Channel::Radio).contains(Channel::Radio));
    /// ```
    pub const fn contains(self, channel: Channel) -> bool {
        self.0 & channel.bit() != 0
    }

    /// Whether the set is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::ChannelSet;
    /// assert!(ChannelSet::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of channels in the set.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let set: ChannelSet = [Channel::Tv, Channel::Tv, Channel::Mail].into_iter().collect();
    /// assert_eq!(set.len(), 2);
    /// ```
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The channels in `self` but not in `other`.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let a: ChannelSet = [Channel::Tv, Channel::Web].into_iter().collect();
    /// assert_eq!(a.difference(Channel::Tv.into()), ChannelSet::from(Channel::Web));
    /// ```
    pub const fn difference(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 & !other.0)
    }

    /// The channels in both sets.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let a: ChannelSet = [Channel::Tv, Channel::Web].into_iter().collect();
    /// assert_eq!(a.intersection(Channel::Web.into()).len(), 1);
    /// ```
    pub const fn intersection(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 & other.0)
    }

    /// The channels in either set.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let a = ChannelSet::from(Channel::Tv).union(Channel::Web.into());
    /// assert_eq!(a.len(), 2);
    /// ```
    pub const fn union(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 | other.0)
    }

    /// The raw bits (bit `n` is the `n`th channel of [`Channel::ALL`]), for columnar storage.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// assert_eq!(ChannelSet::from(Channel::Sms).bits(), 0b10);
    /// ```
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// The channels in [`Channel::ALL`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, ChannelSet};
    /// let set: ChannelSet = [Channel::Web, Channel::Email].into_iter().collect();
    /// assert_eq!(set.iter().next(), Some(Channel::Email));
    /// ```
    pub fn iter(self) -> impl Iterator<Item = Channel> {
        Channel::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl fmt::Debug for ChannelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl From<Channel> for ChannelSet {
    fn from(c: Channel) -> ChannelSet {
        ChannelSet(c.bit())
    }
}

impl FromIterator<Channel> for ChannelSet {
    fn from_iter<I: IntoIterator<Item = Channel>>(iter: I) -> ChannelSet {
        let mut set = ChannelSet::EMPTY;
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl From<Vec<Channel>> for ChannelSet {
    fn from(v: Vec<Channel>) -> ChannelSet {
        v.into_iter().collect()
    }
}

impl From<ChannelSet> for Vec<Channel> {
    fn from(s: ChannelSet) -> Vec<Channel> {
        s.iter().collect()
    }
}

/// How a customer may be contacted: the channels they prefer and those they opted out of.
///
/// An opted-out channel is never *reachable*, even if it is also preferred.
///
/// # Example
///
/// ```
/// use clientele::{Channel, Channels};
///
/// let mut ch = Channels::default();
/// ch.preferred.insert(Channel::Email);
/// ch.preferred.insert(Channel::Sms);
/// ch.opted_out.insert(Channel::Sms);
/// assert!(ch.reachable_by(Channel::Email));
/// assert!(!ch.reachable_by(Channel::Sms));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Channels {
    /// The media the customer prefers, in no order.
    pub preferred: ChannelSet,
    /// The media the customer refused; these are never used.
    pub opted_out: ChannelSet,
}

impl Channels {
    /// Preferred channels that are not opted out.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, Channels};
    /// let ch = Channels { preferred: Channel::Tv.into(), opted_out: Channel::Tv.into() };
    /// assert!(ch.reachable().is_empty());
    /// ```
    pub const fn reachable(&self) -> ChannelSet {
        self.preferred.difference(self.opted_out)
    }

    /// Whether `channel` is preferred and not opted out.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Channel, Channels};
    /// assert!(!Channels::default().reachable_by(Channel::Web));
    /// ```
    pub const fn reachable_by(&self, channel: Channel) -> bool {
        self.reachable().contains(channel)
    }
}
