//! Trailing time windows ("the last 90 days").

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// A trailing time window such as "the last 90 days".
///
/// As of an instant `t`, the window covers `(t - length, t]`: a purchase exactly `length` ago
/// is *outside*, one at `t` itself is *inside*, and one after `t` is not counted (it had not
/// happened yet as of `t`).
///
/// # Example
///
/// ```
/// use clientele::Window;
/// assert_eq!(Window::days(90).length(), chrono::Duration::days(90));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window(Duration);

impl Window {
    /// The last `n` days (of 24 hours).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::days(7), clientele::Window::weeks(1));
    /// ```
    pub fn days(n: u32) -> Window {
        Window(Duration::days(i64::from(n)))
    }

    /// The last `n` weeks.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::weeks(2).length().num_days(), 14);
    /// ```
    pub fn weeks(n: u32) -> Window {
        Window(Duration::weeks(i64::from(n)))
    }

    /// The window's length.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Window::days(1).length().num_hours(), 24);
    /// ```
    pub fn length(self) -> Duration {
        self.0
    }
}
