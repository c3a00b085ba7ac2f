//! The events of live segments and their observers.

use std::{fmt, sync::Arc};

use chrono::{DateTime, Utc};

use crate::customer::CustomerId;

/// Why a customer entered a segment.
///
/// # Example
///
/// ```
/// use clientele::live::EntryReason;
/// assert_eq!(EntryReason::Time.to_string(), "time");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryReason {
    /// The customer was inserted into the store as a member.
    Inserted,
    /// A write to the customer.
    Changed,
    /// Time passed (a window edge, a birthday, a purchase dated ahead reached).
    Time,
}

/// Why a customer left a segment.
///
/// # Example
///
/// ```
/// use clientele::live::ExitReason;
/// assert_eq!(ExitReason::Erased.to_string(), "erased");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExitReason {
    /// A write to the customer.
    Changed,
    /// Time passed (a horizon was reached).
    Time,
    /// The customer was erased from the store.
    Erased,
}

impl fmt::Display for EntryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryReason::Inserted => "inserted",
            EntryReason::Changed => "changed",
            EntryReason::Time => "time",
        })
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExitReason::Changed => "changed",
            ExitReason::Time => "time",
            ExitReason::Erased => "erased",
        })
    }
}

/// A change of membership.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{CustomerId, live::{EntryReason, LiveEvent}};
/// let e = LiveEvent::Entered {
///     segment: "vip".into(),
///     customer: CustomerId::new(7),
///     at: DateTime::UNIX_EPOCH,
///     reason: EntryReason::Changed,
/// };
/// assert_eq!((e.segment(), e.customer(), e.is_entry()), ("vip", CustomerId::new(7), true));
/// assert_eq!(e.to_string(), "#7 entered \"vip\" at 1970-01-01 00:00:00 UTC (changed)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiveEvent {
    /// The customer became a member.
    Entered {
        /// The segment's registered name.
        segment: Arc<str>,
        /// The customer.
        customer: CustomerId,
        /// When: the registry's instant for a write, the instant of the change for time.
        at: DateTime<Utc>,
        /// Why.
        reason: EntryReason,
    },
    /// The customer stopped being a member.
    Exited {
        /// The segment's registered name.
        segment: Arc<str>,
        /// The customer.
        customer: CustomerId,
        /// When: the registry's instant for a write, the instant of the change for time.
        at: DateTime<Utc>,
        /// Why.
        reason: ExitReason,
    },
}

impl LiveEvent {
    /// The segment's registered name.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.segment(), "vip");
    /// ```
    pub fn segment(&self) -> &str {
        match self {
            LiveEvent::Entered { segment, .. } | LiveEvent::Exited { segment, .. } => segment,
        }
    }

    /// The customer.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.customer(), CustomerId::new(1));
    /// ```
    pub fn customer(&self) -> CustomerId {
        match self {
            LiveEvent::Entered { customer, .. } | LiveEvent::Exited { customer, .. } => *customer,
        }
    }

    /// When the membership changed.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Time };
    /// assert_eq!(e.at(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            LiveEvent::Entered { at, .. } | LiveEvent::Exited { at, .. } => *at,
        }
    }

    /// Whether the customer entered (rather than left) the segment.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{ExitReason, LiveEvent}};
    /// let e = LiveEvent::Exited { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: ExitReason::Erased };
    /// assert!(!e.is_entry());
    /// ```
    pub fn is_entry(&self) -> bool {
        matches!(self, LiveEvent::Entered { .. })
    }
}

impl fmt::Display for LiveEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveEvent::Entered { segment, customer, at, reason } => {
                write!(f, "{customer} entered {segment:?} at {at} ({reason})")
            }
            LiveEvent::Exited { segment, customer, at, reason } => {
                write!(f, "{customer} exited {segment:?} at {at} ({reason})")
            }
        }
    }
}

/// Something told of each membership change: a campaign trigger, a webhook, a cache.
///
/// Observers are called after the write committed (or the time advanced), in commit order,
/// in the order they were registered, never while the registry is locked: an observer may
/// query the [`LiveStore`](super::LiveStore) and even write to it (its events are delivered after the current
/// ones). The call may happen on another writer's thread, which delivers the events queued
/// in the meantime. Any `Fn(&LiveEvent) + Send + Sync` closure is an observer.
///
/// An observer that panics does not stop delivery: the other observers still hear that
/// event, every observer hears the later ones, and the first panic is resumed on the
/// delivering thread once the queue is empty (the write that thread made has committed).
///
/// # Example
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use chrono::DateTime;
/// use clientele::{CustomerId, live::{EntryReason, LiveEvent, LiveObserver}};
///
/// struct Entries(AtomicUsize);
/// impl LiveObserver for Entries {
///     fn on_event(&self, event: &LiveEvent) {
///         if event.is_entry() {
///             self.0.fetch_add(1, Ordering::SeqCst);
///         }
///     }
/// }
/// let entries = Entries(AtomicUsize::new(0));
/// entries.on_event(&LiveEvent::Entered { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: EntryReason::Inserted });
/// assert_eq!(entries.0.load(Ordering::SeqCst), 1);
/// ```
pub trait LiveObserver: Send + Sync {
    /// Called once per membership change.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{CustomerId, live::{EntryReason, LiveEvent, LiveObserver}};
    /// let print = |e: &LiveEvent| println!("{e}");
    /// print.on_event(&LiveEvent::Entered { segment: "vip".into(), customer: CustomerId::new(1), at: DateTime::UNIX_EPOCH, reason: EntryReason::Inserted });
    /// ```
    fn on_event(&self, event: &LiveEvent);
}

impl<F: Fn(&LiveEvent) + Send + Sync> LiveObserver for F {
    fn on_event(&self, event: &LiveEvent) {
        self(event);
    }
}
