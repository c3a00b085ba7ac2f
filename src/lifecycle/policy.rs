//! The thresholds that move customers automatically.

use serde::{Deserialize, Serialize};

use crate::window::Window;

/// Thresholds for automatic lifecycle moves, with documented defaults.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `repeat_after_purchases` | 2 | a first-time buyer becomes repeat at this many purchases |
/// | `client_after_purchases` | 5 | a repeat customer becomes a client at this many purchases ... |
/// | `client_window` | 365 days | ... within this trailing window (or when marked exclusive) |
/// | `advocate_after_referrals` | 3 | a client becomes an advocate at this many referrals |
/// | `inactive_after_days` | 180 | a customer becomes inactive after this many days without a purchase |
/// | `lost_after_days` | 365 | a customer is lost after this many days without a purchase |
///
/// Unlike forward-only lifecycle fields in common CRMs, the policy also *downgrades*: running
/// it ([`Crm::run_policy`](crate::Crm::run_policy)) marks idle customers inactive, then lost.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::LifecyclePolicy;
/// let policy = LifecyclePolicy { inactive_after_days: 90, lost_after_days: 270, ..LifecyclePolicy::default() };
/// assert!(policy.validate().is_ok());
/// assert!(LifecyclePolicy { lost_after_days: 30, ..policy }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecyclePolicy {
    /// Purchases that make a first-time buyer a repeat customer (at least 2).
    pub repeat_after_purchases: u32,
    /// Purchases within [`client_window`](Self::client_window) that make a client.
    pub client_after_purchases: u32,
    /// The trailing window for the client threshold.
    pub client_window: Window,
    /// Referrals that make a client an advocate.
    pub advocate_after_referrals: u32,
    /// Days without a purchase after which a customer is inactive.
    pub inactive_after_days: u32,
    /// Days without a purchase after which a customer is lost (more than the inactive days).
    pub lost_after_days: u32,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy {
            repeat_after_purchases: 2,
            client_after_purchases: 5,
            client_window: Window::days(365),
            advocate_after_referrals: 3,
            inactive_after_days: 180,
            lost_after_days: 365,
        }
    }
}

impl LifecyclePolicy {
    /// Checks that the thresholds make sense together.
    ///
    /// # Errors
    ///
    /// A message naming the threshold at fault when the repeat threshold is below 2, the
    /// client threshold is below the repeat threshold, the advocate threshold is 0, or the lost
    /// period is not longer than the inactive period.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::lifecycle::LifecyclePolicy;
    /// let bad = LifecyclePolicy { repeat_after_purchases: 1, ..LifecyclePolicy::default() };
    /// assert_eq!(bad.validate().unwrap_err().field(), "policy.repeat_after_purchases");
    /// ```
    pub fn validate(&self) -> Result<(), crate::validation::ValidationError> {
        use crate::validation::ValidationError as V;
        if self.repeat_after_purchases < 2 {
            return Err(V::new(
                "policy.repeat_after_purchases",
                "must be at least 2 (the first purchase makes a first-time customer)",
            ));
        }
        if self.client_after_purchases < self.repeat_after_purchases {
            return Err(V::new("policy.client_after_purchases", "must be at least the repeat threshold"));
        }
        if self.advocate_after_referrals == 0 {
            return Err(V::new("policy.advocate_after_referrals", "must be at least 1"));
        }
        if self.inactive_after_days == 0 {
            return Err(V::new("policy.inactive_after_days", "must be at least 1"));
        }
        if self.lost_after_days <= self.inactive_after_days {
            return Err(V::new("policy.lost_after_days", "must be more than inactive_after_days"));
        }
        Ok(())
    }
}
