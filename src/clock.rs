//! Where "now" comes from. Everything time-dependent takes a [`Clock`] so tests and simulations
//! are deterministic.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
///
/// # Example
///
/// ```
/// use clientele::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(now.timestamp() > 0);
/// ```
pub trait Clock: Send + Sync {
    /// The current instant.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Clock, ManualClock};
    /// let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    /// assert_eq!(clock.now(), clock.now()); // a manual clock stands still
    /// clock.advance(Duration::seconds(1));
    /// assert_eq!(clock.now(), DateTime::UNIX_EPOCH + Duration::seconds(1));
    /// ```
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
///
/// # Example
///
/// ```
/// use clientele::{Clock, SystemClock};
/// assert!(SystemClock.now() <= SystemClock.now());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: for tests, simulations and back-filling.
///
/// It is shared between threads by reference; [`ManualClock::set`] and
/// [`ManualClock::advance`] take `&self`.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use clientele::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// clock.advance(Duration::days(31));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct ManualClock {
    /// Microseconds since the Unix epoch.
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `at` (kept to the microsecond).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Clock, ManualClock};
    /// let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    /// assert_eq!(clock.now(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock { micros: AtomicI64::new(at.timestamp_micros()) }
    }

    /// Moves the clock to `at`, forwards or backwards.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Clock, ManualClock};
    /// let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    /// clock.set(DateTime::UNIX_EPOCH + Duration::hours(1));
    /// assert_eq!(clock.now().timestamp(), 3600);
    /// ```
    pub fn set(&self, at: DateTime<Utc>) {
        self.micros.store(at.timestamp_micros(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `by` (backward if negative).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Clock, ManualClock};
    /// let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    /// clock.advance(Duration::seconds(90));
    /// assert_eq!(clock.now().timestamp(), 90);
    /// ```
    pub fn advance(&self, by: Duration) {
        let delta = by.num_microseconds().unwrap_or(if by > Duration::zero() { i64::MAX } else { i64::MIN });
        let _ = self.micros.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| Some(m.saturating_add(delta)));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let micros = self.micros.load(Ordering::SeqCst);
        DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}
