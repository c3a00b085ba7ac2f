//! Trailing time windows ("the last 90 days", "the last 3 months").

use std::{fmt, str::FromStr};

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

/// The unit of a [`Window`].
///
/// # Example
///
/// ```
/// use clientele::{Window, WindowUnit};
/// assert_eq!(Window::months(3).unit(), WindowUnit::Months);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WindowUnit {
    /// Days of exactly 24 hours.
    Days,
    /// Weeks of exactly 7 days.
    Weeks,
    /// Calendar months.
    Months,
}

/// A trailing time window such as "the last 90 days".
///
/// As of an instant `t`, the window covers `(start(t), t]`: a purchase exactly at the start
/// is *outside*, one at `t` itself is *inside*, and one after `t` is not counted (it had not
/// happened yet as of `t`).
///
/// Days are 24 hours and weeks 7 days, counted back from `t` to the instant. Months are
/// calendar months: the start is the same day-of-month and time, `n` months earlier, or the
/// last day of that month when it is shorter (31 March back one month is 28 or 29 February).
///
/// Serialized as text such as `"90 days"`, `"1 week"` or `"3 months"`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use clientele::Window;
///
/// let t = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
/// assert_eq!(Window::days(30).start(t), Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single());
/// assert_eq!(Window::months(1).start(t), Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).single());
/// assert_eq!("2 weeks".parse::<Window>()?, Window::days(14));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Window {
    /// Length in days for day and week windows (weeks are kept as days, so `1 week` equals
    /// `7 days`), in months for month windows.
    amount: u32,
    months: bool,
}

impl Window {
    /// The last `n` days (of 24 hours).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::days(7), clientele::Window::weeks(1));
    /// ```
    pub const fn days(n: u32) -> Window {
        Window { amount: n, months: false }
    }

    /// The last `n` weeks (`7 n` days; saturating).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::weeks(2).fixed_length(), Some(chrono::Duration::days(14)));
    /// ```
    pub const fn weeks(n: u32) -> Window {
        Window { amount: n.saturating_mul(7), months: false }
    }

    /// The last `n` calendar months.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::months(3).fixed_length(), None);
    /// ```
    pub const fn months(n: u32) -> Window {
        Window { amount: n, months: true }
    }

    /// The unit: days (weeks are normalized to days) or months.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Window, WindowUnit};
    /// assert_eq!(Window::weeks(1).unit(), WindowUnit::Days);
    /// ```
    pub const fn unit(self) -> WindowUnit {
        if self.months { WindowUnit::Months } else { WindowUnit::Days }
    }

    /// How many units.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::weeks(2).amount(), 14);
    /// ```
    pub const fn amount(self) -> u32 {
        self.amount
    }

    /// The length, for day and week windows; `None` for months, whose length varies.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::days(1).fixed_length(), Some(chrono::Duration::hours(24)));
    /// ```
    pub fn fixed_length(self) -> Option<Duration> {
        (!self.months).then(|| Duration::days(i64::from(self.amount)))
    }

    /// The excluded start of the window as of `as_of`; `None` when it would fall before the
    /// earliest representable instant (then the window reaches back to the beginning).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::Window;
    /// assert_eq!(Window::days(1).start(DateTime::<chrono::Utc>::MIN_UTC), None);
    /// ```
    pub fn start(self, as_of: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.months {
            as_of.checked_sub_months(Months::new(self.amount))
        } else {
            as_of.checked_sub_signed(Duration::days(i64::from(self.amount)))
        }
    }
}

impl fmt::Debug for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Window({self})")
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.months, self.amount == 1) {
            (true, true) => "month",
            (true, false) => "months",
            (false, true) => "day",
            (false, false) => "days",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

/// The error from parsing a [`Window`].
///
/// # Example
///
/// ```
/// let err = "ninety days".parse::<clientele::Window>().unwrap_err();
/// assert!(err.to_string().contains("ninety days"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a window (expected a count and a unit, such as `90 days`, `2 weeks` or `3 months`)")]
pub struct WindowError(String);

impl FromStr for Window {
    type Err = WindowError;
    /// Parses `N day[s]`, `N week[s]` or `N month[s]` (units case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || WindowError(s.chars().take(64).collect());
        let mut parts = s.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        let n: u32 = n.parse().map_err(|_| err())?;
        match unit.to_ascii_lowercase().as_str() {
            "day" | "days" => Ok(Window::days(n)),
            "week" | "weeks" => Ok(Window::weeks(n)),
            "month" | "months" => Ok(Window::months(n)),
            _ => Err(err()),
        }
    }
}

impl TryFrom<String> for Window {
    type Error = WindowError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Window> for String {
    fn from(w: Window) -> String {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn month_windows_clamp_to_the_end_of_shorter_months() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 8, 30, 0).unwrap();
        assert_eq!(Window::months(1).start(at(2024, 3, 31)), Some(at(2024, 2, 29)));
        assert_eq!(Window::months(1).start(at(2025, 3, 31)), Some(at(2025, 2, 28)));
        assert_eq!(Window::months(12).start(at(2025, 1, 15)), Some(at(2024, 1, 15)));
        assert_eq!(Window::months(0).start(at(2025, 1, 15)), Some(at(2025, 1, 15)));
    }

    #[test]
    fn text_forms() {
        for (text, window) in [("1 day", Window::days(1)), ("3 months", Window::months(3)), ("0 days", Window::days(0))]
        {
            assert_eq!(window.to_string(), text);
            assert_eq!(text.parse::<Window>(), Ok(window));
        }
        for bad in ["", "days", "3", "3 fortnights", "-1 days", "1 day ago", "99999999999 days"] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(n in any::<u32>(), months in any::<bool>()) {
            let w = if months { Window::months(n) } else { Window::days(n) };
            prop_assert_eq!(w.to_string().parse::<Window>(), Ok(w));
        }
    }
}
