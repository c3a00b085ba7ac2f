//! The customer lifecycle: typed stages, events, guards, the transition table, policies that
//! move customers automatically, funnel analytics and diagrams.
//!
//! Everything here is pure: no storage, no clock, no I/O. [`Crm`](crate::Crm) ties it to a
//! store and a clock.
//!
//! ```text
//!                   qualify              purchase             purchase (≥ repeat threshold)
//!     suspect ────────────────▶ prospect ─────────▶ first_time ─────────────────▶ repeat
//!        │  disqualify            │  ▲                                              │
//!        ▼                        ▼  │ requalify                 purchase / become_client
//!   disqualified_prospect ◀───────┘  │                      (≥ client threshold or exclusive)
//!        └───────────────────────────┘                                              ▼
//!                                partner ◀── enter_partnership ── advocate ◀──── client
//!                                           (also from client)    become_advocate
//!
//!   any customer stage ── lapse (idle) ──▶ inactive ── purchase / reactivate ──▶ earlier stage
//!   any customer stage, inactive ── lose (idle) ──▶ lost ── purchase / win_back ──▶ repeat
//! ```
//!
//! The full table is [`RULES`]; [`mermaid`] and [`dot`] draw it.
//!
//! # Example
//!
//! ```
//! use chrono::{DateTime, Duration};
//! use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState, Stage, TransitionKind};
//!
//! let machine = Lifecycle::default();
//! let t0 = DateTime::UNIX_EPOCH;
//! let state = LifecycleState::new(t0);
//! let step = machine.apply(&state, Event::Qualify, &Facts::default(), t0, None)?;
//! assert_eq!(step.state.stage(), Stage::Prospect);
//!
//! let facts = Facts { purchases: 1, idle_days: Some(0), ..Facts::default() };
//! let (state, moves) = machine.apply_purchase(&step.state, &facts, t0 + Duration::days(1))?;
//! assert_eq!(state.stage(), Stage::FirstTime);
//! assert_eq!(moves[0].kind, TransitionKind::Progress);
//!
//! // An illegal event is a typed error that names the stage and the event.
//! let err = machine.apply(&state, Event::Requalify, &facts, t0, None).unwrap_err();
//! assert_eq!(err.to_string(), "event `requalify` is not allowed in stage `first_time`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod diagram;
mod funnel;
mod policy;
mod rules;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

pub use self::{
    diagram::{dot, markdown_table, mermaid},
    funnel::{Funnel, Journey, Ratio},
    policy::LifecyclePolicy,
    rules::{Facts, Guard, RULES, Rule, Target, rule_for},
};
use crate::validation::limits;

/// Where a customer stands in the customer development process (see the domain guide).
///
/// # Example
///
/// ```
/// use clientele::Stage;
/// assert_eq!(Stage::FirstTime.name(), "first_time");
/// assert_eq!("Repeat".parse::<Stage>(), Ok(Stage::Repeat));
/// assert!(Stage::Client.is_customer() && Stage::Lost.is_dormant());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Anyone who could buy the company's products or services.
    Suspect,
    /// A suspect able to pay, whom the company works to win.
    Prospect,
    /// A prospect the company declines: unprofitable, or low credit.
    DisqualifiedProspect,
    /// Converted to a first purchase.
    FirstTime,
    /// Came back and bought again.
    Repeat,
    /// Buys only from this company among similar goods: a permanent customer.
    Client,
    /// A client who praises the company and brings others to buy.
    Advocate,
    /// Works together with the company actively.
    Partner,
    /// Has not bought for a while; keeps the stage to return to.
    Inactive,
    /// Has not bought for long; can be won back.
    Lost,
}

impl Stage {
    /// Every stage, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Stage;
    /// assert!(Stage::ALL.iter().all(|s| s.name().parse::<Stage>() == Ok(*s)));
    /// assert_eq!(Stage::ALL.iter().filter(|s| s.is_dormant()).count(), 2); // inactive, lost
    /// ```
    pub const ALL: [Stage; 10] = [
        Stage::Suspect,
        Stage::Prospect,
        Stage::DisqualifiedProspect,
        Stage::FirstTime,
        Stage::Repeat,
        Stage::Client,
        Stage::Advocate,
        Stage::Partner,
        Stage::Inactive,
        Stage::Lost,
    ];

    /// The ladder the company moves customers up, one step at a time.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Stage, lifecycle::{RULES, Target}};
    /// assert_eq!((Stage::LADDER[0], Stage::LADDER[6]), (Stage::Suspect, Stage::Partner));
    /// // Some rule moves a customer from each rung to the next.
    /// assert!(Stage::LADDER.windows(2).all(|w| RULES.iter().any(|r| r.from == w[0] && r.to == Target::Stage(w[1]))));
    /// ```
    pub const LADDER: [Stage; 7] = [
        Stage::Suspect,
        Stage::Prospect,
        Stage::FirstTime,
        Stage::Repeat,
        Stage::Client,
        Stage::Advocate,
        Stage::Partner,
    ];

    /// The snake_case name used in text, JSON, SQL and diagrams.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Stage::DisqualifiedProspect.name(), "disqualified_prospect");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Suspect => "suspect",
            Stage::Prospect => "prospect",
            Stage::DisqualifiedProspect => "disqualified_prospect",
            Stage::FirstTime => "first_time",
            Stage::Repeat => "repeat",
            Stage::Client => "client",
            Stage::Advocate => "advocate",
            Stage::Partner => "partner",
            Stage::Inactive => "inactive",
            Stage::Lost => "lost",
        }
    }

    /// Whether the stage is one of a buying customer: first-time to partner.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!clientele::Stage::Prospect.is_customer());
    /// ```
    pub const fn is_customer(self) -> bool {
        matches!(self, Stage::FirstTime | Stage::Repeat | Stage::Client | Stage::Advocate | Stage::Partner)
    }

    /// Whether the stage is inactive or lost.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::Stage::Inactive.is_dormant());
    /// ```
    pub const fn is_dormant(self) -> bool {
        matches!(self, Stage::Inactive | Stage::Lost)
    }

    /// The position on [`Stage::LADDER`], if the stage is on it.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::Stage;
    /// assert_eq!(Stage::Repeat.ladder_step(), Some(3));
    /// assert_eq!(Stage::Lost.ladder_step(), None);
    /// ```
    pub fn ladder_step(self) -> Option<usize> {
        Stage::LADDER.iter().position(|s| *s == self)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error from parsing an unknown stage or event name.
///
/// # Example
///
/// ```
/// let err = "vip".parse::<clientele::Stage>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown stage `vip`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`")]
pub struct UnknownName {
    what: &'static str,
    name: String,
}

impl std::str::FromStr for Stage {
    type Err = UnknownName;
    /// Parses a stage name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let snake = s.replace(['-', ' '], "_");
        Stage::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(&snake) || format!("{st:?}").eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName { what: "stage", name: s.chars().take(64).collect() })
    }
}

/// Something that happens to a customer and may move them to another stage.
///
/// # Example
///
/// ```
/// use clientele::Event;
/// assert_eq!(Event::WinBack.name(), "win_back");
/// assert_eq!("become_client".parse::<Event>(), Ok(Event::BecomeClient));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The suspect can pay and is worth working on.
    Qualify,
    /// The company declines the suspect or prospect (unprofitable, low credit).
    Disqualify,
    /// A disqualified prospect is reconsidered.
    Requalify,
    /// The customer bought something.
    Purchase,
    /// The customer now buys only from us (exclusivity), or reached the client threshold.
    BecomeClient,
    /// The client refers others (reached the referral threshold).
    BecomeAdvocate,
    /// The customer starts working with the company actively.
    EnterPartnership,
    /// The partnership ends; the customer stays a client.
    EndPartnership,
    /// No purchase for the policy's inactive period.
    Lapse,
    /// No purchase for the policy's lost period.
    Lose,
    /// An inactive customer engages again without buying (e.g. answers a campaign).
    Reactivate,
    /// A lost customer is won back without a recorded purchase (e.g. a renewed contract).
    WinBack,
}

impl Event {
    /// Every event, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{Event, lifecycle::RULES};
    /// assert!(Event::ALL.iter().all(|e| e.name().parse::<Event>() == Ok(*e)));
    /// assert!(Event::ALL.iter().all(|e| RULES.iter().any(|r| r.event == *e))); // every event is used
    /// ```
    pub const ALL: [Event; 12] = [
        Event::Qualify,
        Event::Disqualify,
        Event::Requalify,
        Event::Purchase,
        Event::BecomeClient,
        Event::BecomeAdvocate,
        Event::EnterPartnership,
        Event::EndPartnership,
        Event::Lapse,
        Event::Lose,
        Event::Reactivate,
        Event::WinBack,
    ];

    /// The snake_case name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::Event::EnterPartnership.name(), "enter_partnership");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Event::Qualify => "qualify",
            Event::Disqualify => "disqualify",
            Event::Requalify => "requalify",
            Event::Purchase => "purchase",
            Event::BecomeClient => "become_client",
            Event::BecomeAdvocate => "become_advocate",
            Event::EnterPartnership => "enter_partnership",
            Event::EndPartnership => "end_partnership",
            Event::Lapse => "lapse",
            Event::Lose => "lose",
            Event::Reactivate => "reactivate",
            Event::WinBack => "win_back",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Event {
    type Err = UnknownName;
    /// Parses an event name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Event::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s) || format!("{e:?}").eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName { what: "event", name: s.chars().take(64).collect() })
    }
}

/// What kind of move a transition is.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{Event, Stage, TransitionKind, rule_for};
/// assert_eq!(rule_for(Stage::Lost, Event::Purchase)[0].kind, TransitionKind::WinBack);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransitionKind {
    /// One step up the ladder.
    Progress,
    /// Down: inactive, lost, or a partnership ended.
    Downgrade,
    /// Declined by the company.
    Disqualification,
    /// A disqualified prospect reconsidered.
    Requalification,
    /// An inactive customer back to the stage held before.
    Reactivation,
    /// A lost customer won back.
    WinBack,
}

impl TransitionKind {
    /// The snake_case name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::lifecycle::TransitionKind::WinBack.name(), "win_back");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TransitionKind::Progress => "progress",
            TransitionKind::Downgrade => "downgrade",
            TransitionKind::Disqualification => "disqualification",
            TransitionKind::Requalification => "requalification",
            TransitionKind::Reactivation => "reactivation",
            TransitionKind::WinBack => "win_back",
        }
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One committed stage change, as kept in a customer's history.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Event, Stage, Transition, lifecycle::TransitionKind};
/// let t = Transition {
///     from: Stage::Lost,
///     to: Stage::Repeat,
///     event: Event::Purchase,
///     kind: TransitionKind::WinBack,
///     at: DateTime::UNIX_EPOCH,
///     note: None,
/// };
/// assert!(t.is_win_back());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transition {
    /// The stage left.
    pub from: Stage,
    /// The stage entered.
    pub to: Stage,
    /// What caused it.
    pub event: Event,
    /// What kind of move it is.
    pub kind: TransitionKind,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// A free note (at most [`MAX_TEXT_BYTES`](crate::limits::MAX_TEXT_BYTES)).
    pub note: Option<String>,
}

impl Transition {
    /// Whether this is a lost customer won back.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// # use clientele::{Event, Stage, Transition, lifecycle::TransitionKind};
    /// let t = Transition { from: Stage::Suspect, to: Stage::Prospect, event: Event::Qualify,
    ///     kind: TransitionKind::Progress, at: DateTime::UNIX_EPOCH, note: None };
    /// assert!(!t.is_win_back());
    /// ```
    pub fn is_win_back(&self) -> bool {
        self.kind == TransitionKind::WinBack
    }
}

/// A customer's position in the lifecycle: the stage, since when, and (while inactive or lost)
/// the stage to resume.
///
/// The invariant, checked on construction and deserialization: a resume stage is set exactly
/// when the stage is inactive or lost, and it is a customer stage.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{LifecycleState, Stage};
/// let s = LifecycleState::new(DateTime::UNIX_EPOCH);
/// assert_eq!(s.stage(), Stage::Suspect);
/// assert_eq!(s.resume_stage(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "StateRepr")]
pub struct LifecycleState {
    stage: Stage,
    since: DateTime<Utc>,
    resume: Option<Stage>,
}

#[derive(Deserialize)]
struct StateRepr {
    stage: Stage,
    since: DateTime<Utc>,
    resume: Option<Stage>,
}

impl TryFrom<StateRepr> for LifecycleState {
    type Error = TransitionError;
    fn try_from(r: StateRepr) -> Result<Self, Self::Error> {
        LifecycleState::at_stage(r.stage, r.since, r.resume)
    }
}

impl LifecycleState {
    /// A new suspect, from `since`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::LifecycleState::new(DateTime::UNIX_EPOCH).since(), DateTime::UNIX_EPOCH);
    /// ```
    pub fn new(since: DateTime<Utc>) -> LifecycleState {
        LifecycleState { stage: Stage::Suspect, since, resume: None }
    }

    /// A position at any stage, e.g. for importing customers from another system.
    ///
    /// # Errors
    ///
    /// [`TransitionError::InvalidState`] unless `resume` is a customer stage given exactly when
    /// `stage` is inactive or lost.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// assert!(LifecycleState::at_stage(Stage::Inactive, t, Some(Stage::Client)).is_ok());
    /// assert!(LifecycleState::at_stage(Stage::Inactive, t, None).is_err());
    /// assert!(LifecycleState::at_stage(Stage::Client, t, Some(Stage::Repeat)).is_err());
    /// ```
    pub fn at_stage(
        stage: Stage,
        since: DateTime<Utc>,
        resume: Option<Stage>,
    ) -> Result<LifecycleState, TransitionError> {
        let ok = match resume {
            None => !stage.is_dormant(),
            Some(r) => stage.is_dormant() && r.is_customer(),
        };
        if !ok {
            return Err(TransitionError::InvalidState { stage, resume });
        }
        Ok(LifecycleState { stage, since, resume })
    }

    /// The current stage.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// assert_eq!(clientele::LifecycleState::new(DateTime::UNIX_EPOCH).stage(), clientele::Stage::Suspect);
    /// ```
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// When the current stage was entered.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// assert_eq!(clientele::LifecycleState::new(DateTime::UNIX_EPOCH).since().timestamp(), 0);
    /// ```
    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// While inactive or lost: the customer stage held before.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::DateTime;
    /// assert_eq!(clientele::LifecycleState::new(DateTime::UNIX_EPOCH).resume_stage(), None);
    /// ```
    pub fn resume_stage(&self) -> Option<Stage> {
        self.resume
    }

    /// The state after entering `to` at `at`.
    fn enter(&self, to: Stage, at: DateTime<Utc>) -> LifecycleState {
        let resume = if to.is_dormant() {
            // Going dormant remembers the customer stage held; inactive → lost keeps it.
            if self.stage.is_customer() { Some(self.stage) } else { self.resume }
        } else {
            None
        };
        LifecycleState { stage: to, since: at, resume }
    }
}

/// Why an event could not be applied. Nothing changes when one is returned.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState, TransitionError};
/// let err = Lifecycle::default()
///     .apply(&LifecycleState::new(DateTime::UNIX_EPOCH), Event::Lapse, &Facts::default(), DateTime::UNIX_EPOCH, None)
///     .unwrap_err();
/// assert!(matches!(err, TransitionError::Illegal { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The table has no row for this event in this stage.
    #[error("event `{event}` is not allowed in stage `{stage}`")]
    Illegal {
        /// The customer's stage.
        stage: Stage,
        /// The event refused.
        event: Event,
    },
    /// The table has rows, but no row's guard holds.
    #[error("event `{event}` in stage `{stage}` needs {guard}")]
    GuardFailed {
        /// The customer's stage.
        stage: Stage,
        /// The event refused.
        event: Event,
        /// The condition of the last row tried.
        guard: Guard,
    },
    /// The transition would be dated before the current stage began.
    #[error("transition at {at} is dated before stage `{stage}` began at {since}")]
    OutOfOrder {
        /// The customer's stage.
        stage: Stage,
        /// When it began.
        since: DateTime<Utc>,
        /// The refused date.
        at: DateTime<Utc>,
    },
    /// The note is longer than [`MAX_TEXT_BYTES`](crate::limits::MAX_TEXT_BYTES).
    #[error("transition note is {len} bytes, at most {max} allowed")]
    NoteTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A [`LifecycleState`] or history that breaks the state invariant.
    #[error("stage `{stage}` with resume stage {resume:?} is not a valid lifecycle state")]
    InvalidState {
        /// The stage.
        stage: Stage,
        /// The resume stage given.
        resume: Option<Stage>,
    },
    /// A history entry that the table does not allow from the replayed stage.
    #[error("history entry {index} ({from} -> {to} on `{event}`) does not follow from stage `{stage}`")]
    BadHistory {
        /// Position in the history.
        index: usize,
        /// The replayed stage at that point.
        stage: Stage,
        /// The entry's `from`.
        from: Stage,
        /// The entry's `to`.
        to: Stage,
        /// The entry's event.
        event: Event,
    },
}

/// The result of applying one event.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState};
/// let step = Lifecycle::default()
///     .apply(&LifecycleState::new(DateTime::UNIX_EPOCH), Event::Disqualify, &Facts::default(), DateTime::UNIX_EPOCH, None)?;
/// assert!(step.transition.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// The state after the event.
    pub state: LifecycleState,
    /// The stage change, or `None` when the event was legal but kept the stage.
    pub transition: Option<Transition>,
}

/// The state machine: the [`RULES`] table evaluated under a [`LifecyclePolicy`].
///
/// # Example
///
/// ```
/// use clientele::lifecycle::{Lifecycle, LifecyclePolicy};
/// let machine = Lifecycle::new(LifecyclePolicy { repeat_after_purchases: 3, ..LifecyclePolicy::default() });
/// assert_eq!(machine.policy().repeat_after_purchases, 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lifecycle {
    policy: LifecyclePolicy,
}

/// The most moves one purchase (or one policy run) makes for a customer; more than any path
/// in the table needs, so it only guards against a table edit that adds a cycle.
const MAX_SETTLE_STEPS: usize = Stage::ALL.len();

impl Lifecycle {
    /// A machine using `policy`'s thresholds.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::lifecycle::{Lifecycle, LifecyclePolicy};
    /// assert_eq!(Lifecycle::new(LifecyclePolicy::default()), Lifecycle::default());
    /// ```
    pub fn new(policy: LifecyclePolicy) -> Lifecycle {
        Lifecycle { policy }
    }

    /// The policy in force.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::lifecycle::Lifecycle::default().policy().lost_after_days, 365);
    /// ```
    pub fn policy(&self) -> &LifecyclePolicy {
        &self.policy
    }

    /// Applies `event` at `at`.
    ///
    /// # Errors
    ///
    /// A [`TransitionError`] when the event is illegal in the stage, no guard holds, `at` is
    /// before the current stage began, or the note is too long. `state` is not changed (it is
    /// borrowed), so a refused event changes nothing. The date and the note are checked only
    /// when the event moves the customer: a legal event that keeps the stage records nothing,
    /// so it has no date to order and drops the note.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// let poor = Facts { credit_poor: true, ..Facts::default() };
    /// let err = Lifecycle::default().apply(&LifecycleState::new(t), Event::Qualify, &poor, t, None).unwrap_err();
    /// assert_eq!(err.to_string(), "event `qualify` in stage `suspect` needs credit standing not poor");
    /// ```
    pub fn apply(
        &self,
        state: &LifecycleState,
        event: Event,
        facts: &Facts,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Step, TransitionError> {
        let rows = rule_for(state.stage, event);
        let Some(last) = rows.last() else {
            return Err(TransitionError::Illegal { stage: state.stage, event });
        };
        let Some(rule) = rows.iter().find(|r| r.guard.holds(facts, &self.policy)) else {
            return Err(TransitionError::GuardFailed { stage: state.stage, event, guard: last.guard });
        };
        let to = match rule.to {
            Target::Stay => return Ok(Step { state: *state, transition: None }),
            Target::Stage(s) => s,
            // The state invariant guarantees a resume stage in the dormant stages that resume.
            Target::Resume => state.resume.ok_or(TransitionError::InvalidState { stage: state.stage, resume: None })?,
        };
        if at < state.since {
            return Err(TransitionError::OutOfOrder { stage: state.stage, since: state.since, at });
        }
        if let Some(n) = note.filter(|n| n.len() > limits::MAX_TEXT_BYTES) {
            return Err(TransitionError::NoteTooLong { len: n.len(), max: limits::MAX_TEXT_BYTES });
        }
        let transition =
            Transition { from: state.stage, to, event, kind: rule.kind, at, note: note.map(str::to_owned) };
        Ok(Step { state: state.enter(to, at), transition: Some(transition) })
    }

    /// Applies a purchase, repeatedly, until it no longer moves the customer: a won-back
    /// customer who meets the client threshold, or an inactive first-time buyer whose purchase
    /// is their second, moves on in the same step. `facts` are those *after* the purchase.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply); on error nothing is applied.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::lifecycle::{Facts, Lifecycle, LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// let dormant = LifecycleState::at_stage(Stage::Inactive, t, Some(Stage::FirstTime))?;
    /// let facts = Facts { purchases: 2, ..Facts::default() };
    /// let (state, moves) = Lifecycle::default().apply_purchase(&dormant, &facts, t)?;
    /// assert_eq!(state.stage(), Stage::Repeat);
    /// assert_eq!(moves.len(), 2); // inactive → first_time (reactivation), first_time → repeat
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_purchase(
        &self,
        state: &LifecycleState,
        facts: &Facts,
        at: DateTime<Utc>,
    ) -> Result<(LifecycleState, SmallVec<[Transition; 2]>), TransitionError> {
        let mut state = *state;
        let mut moves = SmallVec::new();
        for _ in 0..MAX_SETTLE_STEPS {
            let step = self.apply(&state, Event::Purchase, facts, at, None)?;
            state = step.state;
            match step.transition {
                Some(t) => moves.push(t),
                None => break,
            }
        }
        Ok((state, moves))
    }

    /// The event the policy would apply now, if any: losing or lapsing an idle customer,
    /// promoting a repeat customer to client, or a client to advocate.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// let client = LifecycleState::at_stage(Stage::Client, t, None)?;
    /// let idle = Facts { purchases: 9, idle_days: Some(200), ..Facts::default() };
    /// assert_eq!(Lifecycle::default().propose(&client, &idle), Some(Event::Lapse));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn propose(&self, state: &LifecycleState, facts: &Facts) -> Option<Event> {
        const AUTOMATIC: [Event; 4] = [Event::Lose, Event::Lapse, Event::BecomeClient, Event::BecomeAdvocate];
        AUTOMATIC.into_iter().find(|e| {
            rule_for(state.stage, *e).iter().any(|r| r.to != Target::Stay && r.guard.holds(facts, &self.policy))
        })
    }

    /// Applies the policy's events at `at` until none applies (see [`propose`](Self::propose)).
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply) (in practice only [`TransitionError::OutOfOrder`]).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::lifecycle::{Facts, Lifecycle, LifecycleState, Stage};
    /// let t = DateTime::UNIX_EPOCH;
    /// let repeat = LifecycleState::at_stage(Stage::Repeat, t, None)?;
    /// let facts = Facts { purchases: 5, purchases_in_client_window: 5, referrals: 4, idle_days: Some(3), ..Facts::default() };
    /// let (state, moves) = Lifecycle::default().settle(&repeat, &facts, t)?;
    /// assert_eq!(state.stage(), Stage::Advocate); // repeat → client → advocate
    /// assert_eq!(moves.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn settle(
        &self,
        state: &LifecycleState,
        facts: &Facts,
        at: DateTime<Utc>,
    ) -> Result<(LifecycleState, SmallVec<[Transition; 2]>), TransitionError> {
        let mut state = *state;
        let mut moves = SmallVec::new();
        for _ in 0..MAX_SETTLE_STEPS {
            let Some(event) = self.propose(&state, facts) else { break };
            let step = self.apply(&state, event, facts, at, None)?;
            state = step.state;
            moves.extend(step.transition);
        }
        Ok((state, moves))
    }
}

/// Replays a history from a customer's first stage and returns the state it leads to.
///
/// Each entry must start where the previous ended and be a move the table allows (guards are
/// not re-checked: they depended on facts at the time). Use it to audit stored histories.
///
/// # Errors
///
/// [`TransitionError::BadHistory`] at the first entry that does not follow,
/// [`TransitionError::OutOfOrder`] for an entry dated before the one it follows.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::lifecycle::{Event, Facts, Lifecycle, LifecycleState, Stage, replay};
/// let t = DateTime::UNIX_EPOCH;
/// let m = Lifecycle::default();
/// let a = m.apply(&LifecycleState::new(t), Event::Qualify, &Facts::default(), t, None)?;
/// let b = m.apply(&a.state, Event::Disqualify, &Facts::default(), t, None)?;
/// let history: Vec<_> = [a.transition, b.transition].into_iter().flatten().collect();
/// assert_eq!(replay(LifecycleState::new(t), &history)?, b.state);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replay(initial: LifecycleState, history: &[Transition]) -> Result<LifecycleState, TransitionError> {
    let mut state = initial;
    for (index, t) in history.iter().enumerate() {
        let bad = || TransitionError::BadHistory { index, stage: state.stage, from: t.from, to: t.to, event: t.event };
        if t.from != state.stage {
            return Err(bad());
        }
        let allowed = rule_for(state.stage, t.event).iter().any(|r| {
            r.kind == t.kind
                && match r.to {
                    Target::Stage(s) => s == t.to,
                    Target::Resume => state.resume == Some(t.to),
                    Target::Stay => false,
                }
        });
        if !allowed {
            return Err(bad());
        }
        if t.at < state.since {
            return Err(TransitionError::OutOfOrder { stage: state.stage, since: state.since, at: t.at });
        }
        state = state.enter(t.to, t.at);
    }
    Ok(state)
}
