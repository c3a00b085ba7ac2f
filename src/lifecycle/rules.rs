//! The transition table: the single source of truth for which event moves which stage where.
//!
//! The state machine ([`Lifecycle::apply`](super::Lifecycle::apply)), the documentation, the
//! diagrams ([`mermaid`](super::mermaid), [`dot`](super::dot)) and the tests all read [`RULES`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Event, Stage, TransitionKind, policy::LifecyclePolicy};

/// Where a rule sends the customer.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{RULES, Target};
/// assert!(RULES.iter().any(|r| r.to == Target::Resume));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// To this stage.
    Stage(Stage),
    /// The event is legal but the stage does not change (e.g. another purchase by a client).
    Stay,
    /// Back to the stage held before the customer went inactive or was lost.
    Resume,
}

/// A condition a rule needs, checked against the customer's [`Facts`] and the
/// [`LifecyclePolicy`] thresholds.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{Facts, Guard, LifecyclePolicy};
/// let policy = LifecyclePolicy::default();
/// let facts = Facts { purchases: 2, ..Facts::default() };
/// assert!(Guard::RepeatThreshold.holds(&facts, &policy));
/// assert!(!Guard::AdvocateThreshold.holds(&facts, &policy));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Guard {
    /// No condition.
    Always,
    /// The customer's credit is not poor.
    CreditNotPoor,
    /// At least [`repeat_after_purchases`](LifecyclePolicy::repeat_after_purchases) purchases.
    RepeatThreshold,
    /// At least [`client_after_purchases`](LifecyclePolicy::client_after_purchases) purchases
    /// within [`client_window`](LifecyclePolicy::client_window), or the customer is marked
    /// exclusive.
    ClientThreshold,
    /// At least [`advocate_after_referrals`](LifecyclePolicy::advocate_after_referrals)
    /// referrals.
    AdvocateThreshold,
    /// No purchase for at least [`inactive_after_days`](LifecyclePolicy::inactive_after_days).
    IdleForInactive,
    /// No purchase for at least [`lost_after_days`](LifecyclePolicy::lost_after_days).
    IdleForLost,
}

/// What is known about a customer when an event is applied: the inputs of every [`Guard`].
///
/// [`Customer::facts`](crate::Customer::facts) computes them as of an instant.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::Facts;
/// let f = Facts { referrals: 3, ..Facts::default() };
/// assert_eq!(f.purchases, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Facts {
    /// Purchases made so far.
    pub purchases: u32,
    /// Purchases within the policy's client window.
    pub purchases_in_client_window: u32,
    /// Referrals the customer has made.
    pub referrals: u32,
    /// Whether the customer's credit standing is poor.
    pub credit_poor: bool,
    /// Whether the customer buys only from us (an explicit exclusivity signal).
    pub exclusive: bool,
    /// Whole days since the latest purchase; `None` if there was none.
    pub idle_days: Option<i64>,
}

impl Guard {
    /// Whether the condition holds.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::lifecycle::{Facts, Guard, LifecyclePolicy};
    /// let idle = Facts { idle_days: Some(400), ..Facts::default() };
    /// assert!(Guard::IdleForLost.holds(&idle, &LifecyclePolicy::default()));
    /// ```
    pub fn holds(self, facts: &Facts, policy: &LifecyclePolicy) -> bool {
        let idle_at_least = |days: u32| facts.idle_days.is_some_and(|d| d >= i64::from(days));
        match self {
            Guard::Always => true,
            Guard::CreditNotPoor => !facts.credit_poor,
            Guard::RepeatThreshold => facts.purchases >= policy.repeat_after_purchases,
            Guard::ClientThreshold => {
                facts.exclusive || facts.purchases_in_client_window >= policy.client_after_purchases
            }
            Guard::AdvocateThreshold => facts.referrals >= policy.advocate_after_referrals,
            Guard::IdleForInactive => idle_at_least(policy.inactive_after_days),
            Guard::IdleForLost => idle_at_least(policy.lost_after_days),
        }
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Guard::Always => "always",
            Guard::CreditNotPoor => "credit standing not poor",
            Guard::RepeatThreshold => "enough purchases to count as a repeat customer",
            Guard::ClientThreshold => "enough purchases within the client window, or exclusivity",
            Guard::AdvocateThreshold => "enough referrals to count as an advocate",
            Guard::IdleForInactive => "long enough without a purchase to be inactive",
            Guard::IdleForLost => "long enough without a purchase to be lost",
        })
    }
}

/// One row of the transition table: in stage `from`, event `event` moves the customer to `to`
/// when `guard` holds.
///
/// Rows for the same `(from, event)` are adjacent and tried in order; the first whose guard
/// holds wins. No rows means the event is illegal in that stage.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{Event, Stage, Target, rule_for};
/// let rows = rule_for(Stage::Suspect, Event::Qualify);
/// assert_eq!(rows[0].to, Target::Stage(Stage::Prospect));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// The stage the customer is in.
    pub from: Stage,
    /// What happens.
    pub event: Event,
    /// What must hold.
    pub guard: Guard,
    /// Where the customer goes.
    pub to: Target,
    /// What kind of move it is (ignored for [`Target::Stay`]).
    pub kind: TransitionKind,
}

const fn row(from: Stage, event: Event, guard: Guard, to: Target, kind: TransitionKind) -> Rule {
    Rule { from, event, guard, to, kind }
}

use Event as E;
use Guard as G;
use Stage as S;
use TransitionKind as K;

const fn to(stage: Stage) -> Target {
    Target::Stage(stage)
}

/// The transition table.
///
/// Design decisions it encodes:
/// - **A disqualified prospect's purchase is accepted** and makes them a first-time customer: a
///   sale is a fact that happened, and refusing to record it would lose data. The history shows
///   the move as `disqualified_prospect → first_time` on `purchase`, so the override is visible.
/// - A purchase by an **inactive** customer resumes the stage held before; a purchase by a
///   **lost** customer is a **win-back** to `repeat` (they have bought before and now again),
///   and the history marks it [`TransitionKind::WinBack`].
/// - A purchase is applied until it no longer moves the customer
///   ([`Lifecycle::apply_purchase`](super::Lifecycle::apply_purchase)), so a won-back customer
///   who meets the client threshold becomes a client in the same step.
/// - Lapsing and losing need the policy's idle days; qualifying needs credit that is not poor.
///
/// # Example
///
/// ```
/// use clientele::{Event, Stage, lifecycle::{RULES, Target}};
/// // A purchase is legal in every stage: a sale is always recorded.
/// assert!(Stage::ALL.iter().all(|s| RULES.iter().any(|r| r.from == *s && r.event == Event::Purchase)));
/// // A lost customer can only come back as a repeat customer.
/// assert!(RULES.iter().filter(|r| r.from == Stage::Lost).all(|r| r.to == Target::Stage(Stage::Repeat)));
/// ```
pub const RULES: &[Rule] = &[
    row(S::Suspect, E::Qualify, G::CreditNotPoor, to(S::Prospect), K::Progress),
    row(S::Suspect, E::Disqualify, G::Always, to(S::DisqualifiedProspect), K::Disqualification),
    row(S::Suspect, E::Purchase, G::Always, to(S::FirstTime), K::Progress),
    row(S::Prospect, E::Disqualify, G::Always, to(S::DisqualifiedProspect), K::Disqualification),
    row(S::Prospect, E::Purchase, G::Always, to(S::FirstTime), K::Progress),
    row(S::DisqualifiedProspect, E::Requalify, G::CreditNotPoor, to(S::Prospect), K::Requalification),
    row(S::DisqualifiedProspect, E::Purchase, G::Always, to(S::FirstTime), K::Progress),
    row(S::FirstTime, E::Purchase, G::RepeatThreshold, to(S::Repeat), K::Progress),
    row(S::FirstTime, E::Purchase, G::Always, Target::Stay, K::Progress),
    row(S::FirstTime, E::Lapse, G::IdleForInactive, to(S::Inactive), K::Downgrade),
    row(S::FirstTime, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Repeat, E::Purchase, G::ClientThreshold, to(S::Client), K::Progress),
    row(S::Repeat, E::Purchase, G::Always, Target::Stay, K::Progress),
    row(S::Repeat, E::BecomeClient, G::ClientThreshold, to(S::Client), K::Progress),
    row(S::Repeat, E::Lapse, G::IdleForInactive, to(S::Inactive), K::Downgrade),
    row(S::Repeat, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Client, E::Purchase, G::Always, Target::Stay, K::Progress),
    row(S::Client, E::BecomeAdvocate, G::AdvocateThreshold, to(S::Advocate), K::Progress),
    row(S::Client, E::EnterPartnership, G::Always, to(S::Partner), K::Progress),
    row(S::Client, E::Lapse, G::IdleForInactive, to(S::Inactive), K::Downgrade),
    row(S::Client, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Advocate, E::Purchase, G::Always, Target::Stay, K::Progress),
    row(S::Advocate, E::EnterPartnership, G::Always, to(S::Partner), K::Progress),
    row(S::Advocate, E::Lapse, G::IdleForInactive, to(S::Inactive), K::Downgrade),
    row(S::Advocate, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Partner, E::Purchase, G::Always, Target::Stay, K::Progress),
    row(S::Partner, E::EndPartnership, G::Always, to(S::Client), K::Downgrade),
    row(S::Partner, E::Lapse, G::IdleForInactive, to(S::Inactive), K::Downgrade),
    row(S::Partner, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Inactive, E::Purchase, G::Always, Target::Resume, K::Reactivation),
    row(S::Inactive, E::Reactivate, G::Always, Target::Resume, K::Reactivation),
    row(S::Inactive, E::Lose, G::IdleForLost, to(S::Lost), K::Downgrade),
    row(S::Lost, E::Purchase, G::Always, to(S::Repeat), K::WinBack),
    row(S::Lost, E::WinBack, G::Always, to(S::Repeat), K::WinBack),
];

/// `(first row, row count)` for each `(stage, event)`, built from [`RULES`] at compile time.
type Index = [[(u8, u8); Event::ALL.len()]; Stage::ALL.len()];

#[allow(clippy::cast_possible_truncation, reason = "the table is asserted to have fewer than 256 rows")]
const fn build_index() -> Index {
    assert!(RULES.len() < 256, "the rule table must have fewer than 256 rows");
    let mut index: Index = [[(0, 0); Event::ALL.len()]; Stage::ALL.len()];
    let mut i = 0;
    while i < RULES.len() {
        let rule = &RULES[i];
        let (start, len) = index[rule.from as usize][rule.event as usize];
        if len == 0 {
            index[rule.from as usize][rule.event as usize] = (i as u8, 1);
        } else {
            assert!(start as usize + len as usize == i, "rows for one (stage, event) must be adjacent");
            let previous = &RULES[i - 1];
            assert!(!matches!(previous.guard, Guard::Always), "a row after an unguarded row can never apply");
            index[rule.from as usize][rule.event as usize] = (start, len + 1);
        }
        assert!(
            !matches!(rule.to, Target::Resume) || matches!(rule.from, Stage::Inactive | Stage::Lost),
            "only dormant stages can resume"
        );
        i += 1;
    }
    index
}

static INDEX: Index = build_index();

/// The rows for `(from, event)`, in the order they are tried; empty if the event is illegal.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{Event, Stage, rule_for};
/// assert!(rule_for(Stage::Suspect, Event::Lapse).is_empty());
/// assert_eq!(rule_for(Stage::FirstTime, Event::Purchase).len(), 2);
/// ```
pub fn rule_for(from: Stage, event: Event) -> &'static [Rule] {
    let (start, len) = INDEX[from as usize][event as usize];
    let start = usize::from(start);
    RULES.get(start..start + usize::from(len)).unwrap_or(&[])
}
