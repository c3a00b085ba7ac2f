//! Funnel analytics computed from customers' histories.

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Stage, Transition, TransitionKind};

/// One customer's path through the lifecycle: where and when it began, and every transition.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Stage, lifecycle::Journey};
/// let j = Journey { start: DateTime::UNIX_EPOCH, initial: Stage::Suspect, transitions: vec![] };
/// assert_eq!(j.stage_at(DateTime::UNIX_EPOCH), Some(Stage::Suspect));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Journey {
    /// When the customer entered the CRM.
    pub start: DateTime<Utc>,
    /// The stage they entered in.
    pub initial: Stage,
    /// Their transitions, oldest first.
    pub transitions: Vec<Transition>,
}

impl Journey {
    /// The stage held at `at`; `None` before the journey began.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use clientele::{Stage, lifecycle::Journey};
    /// let j = Journey { start: DateTime::UNIX_EPOCH, initial: Stage::Suspect, transitions: vec![] };
    /// assert_eq!(j.stage_at(DateTime::UNIX_EPOCH - Duration::seconds(1)), None);
    /// ```
    pub fn stage_at(&self, at: DateTime<Utc>) -> Option<Stage> {
        if at < self.start {
            return None;
        }
        let done = self.transitions.partition_point(|t| t.at <= at);
        Some(done.checked_sub(1).map_or(self.initial, |i| self.transitions[i].to))
    }

    /// Every stay as `(stage, entered, left)`; the current stay has `left = None`.
    fn stays(&self) -> impl Iterator<Item = (Stage, DateTime<Utc>, Option<DateTime<Utc>>)> + '_ {
        let entries = std::iter::once((self.initial, self.start)).chain(self.transitions.iter().map(|t| (t.to, t.at)));
        let exits = self.transitions.iter().map(|t| Some(t.at)).chain(std::iter::once(None));
        entries.zip(exits).map(|((stage, entered), left)| (stage, entered, left))
    }

    /// The first time the customer entered `stage` within `[start, end)`: the instant, and
    /// the index of the first transition after that entry.
    fn first_entry(&self, stage: Stage, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<(DateTime<Utc>, usize)> {
        self.stays()
            .enumerate()
            .find(|(_, (s, at, _))| *s == stage && *at >= start && *at < end)
            .map(|(k, (_, at, _))| (at, k))
    }
}

/// A count out of a total, e.g. a conversion rate.
///
/// # Example
///
/// ```
/// use clientele::lifecycle::Ratio;
/// let r = Ratio { part: 1, whole: 4 };
/// assert_eq!(r.value(), Some(0.25));
/// assert_eq!(r.to_string(), "1/4 (25.0%)");
/// assert_eq!(Ratio { part: 0, whole: 0 }.value(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratio {
    /// How many converted.
    pub part: usize,
    /// Out of how many.
    pub whole: usize,
}

impl Ratio {
    /// `part / whole`, or `None` when `whole` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::lifecycle::Ratio { part: 3, whole: 3 }.value(), Some(1.0));
    /// ```
    #[allow(clippy::cast_precision_loss, reason = "a rate for display; counts are far below 2^52")]
    pub fn value(&self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{}/{} ({:.1}%)", self.part, self.whole, v * 100.0),
            None => write!(f, "0/0 (n/a)"),
        }
    }
}

/// Funnel analytics over many customers' [`Journey`]s.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Duration};
/// use clientele::{Event, Stage, Transition, lifecycle::{Funnel, Journey, TransitionKind}};
///
/// let t0 = DateTime::UNIX_EPOCH;
/// let qualified = Transition { from: Stage::Suspect, to: Stage::Prospect, event: Event::Qualify,
///     kind: TransitionKind::Progress, at: t0 + Duration::days(10), note: None };
/// let funnel = Funnel::new(vec![
///     Journey { start: t0, initial: Stage::Suspect, transitions: vec![qualified] },
///     Journey { start: t0, initial: Stage::Suspect, transitions: vec![] },
/// ]);
/// let end = t0 + Duration::days(30);
/// assert_eq!(funnel.stage_counts(end)[&Stage::Prospect], 1);
/// assert_eq!(funnel.conversion(Stage::Suspect, Stage::Prospect, t0, end).part, 1);
/// assert_eq!(funnel.median_time_in_stage(end)[&Stage::Suspect], Duration::days(10));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Funnel {
    journeys: Vec<Journey>,
}

impl Funnel {
    /// A funnel over these journeys.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::lifecycle::Funnel::new(vec![]).journeys().len(), 0);
    /// ```
    pub fn new(journeys: Vec<Journey>) -> Funnel {
        Funnel { journeys }
    }

    /// The journeys.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::lifecycle::Funnel::default().journeys().is_empty());
    /// ```
    pub fn journeys(&self) -> &[Journey] {
        &self.journeys
    }

    /// Customers in each stage at `at` (every stage present, zero included). Customers who
    /// joined after `at` are not counted.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// let counts = clientele::lifecycle::Funnel::default().stage_counts(DateTime::UNIX_EPOCH);
    /// assert_eq!(counts.len(), 10);
    /// ```
    pub fn stage_counts(&self, at: DateTime<Utc>) -> BTreeMap<Stage, usize> {
        let mut counts: BTreeMap<Stage, usize> = Stage::ALL.into_iter().map(|s| (s, 0)).collect();
        for stage in self.journeys.iter().filter_map(|j| j.stage_at(at)) {
            *counts.entry(stage).or_default() += 1;
        }
        counts
    }

    /// Of the customers who entered `from` within `[start, end)` (joining the CRM in `from`
    /// counts as entering it), how many later reached `to` before `end`. When both stages are
    /// on the [ladder](Stage::LADDER), reaching any stage above `from` at or beyond `to`'s step
    /// counts too (a suspect who buys at once skips the prospect step but has passed it); this
    /// applies only when `to` is above `from` on the ladder.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Stage, lifecycle::Funnel};
    /// let r = Funnel::default().conversion(Stage::Prospect, Stage::FirstTime, DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH);
    /// assert_eq!(r.whole, 0);
    /// ```
    pub fn conversion(&self, from: Stage, to: Stage, start: DateTime<Utc>, end: DateTime<Utc>) -> Ratio {
        let target_step = match (from.ladder_step(), to.ladder_step()) {
            (Some(f), Some(t)) if t > f => Some(t),
            _ => None,
        };
        let reached = |s: Stage| s == to || matches!((target_step, s.ladder_step()), (Some(t), Some(x)) if x >= t);
        let mut ratio = Ratio::default();
        for j in &self.journeys {
            let Some((_, next)) = j.first_entry(from, start, end) else { continue };
            ratio.whole += 1;
            if j.transitions[next..].iter().any(|t| t.at < end && reached(t.to)) {
                ratio.part += 1;
            }
        }
        ratio
    }

    /// [`conversion`](Self::conversion) for each consecutive pair of the ladder, in order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// let steps = clientele::lifecycle::Funnel::default().ladder_conversions(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH);
    /// assert_eq!(steps.len(), 6);
    /// ```
    pub fn ladder_conversions(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(Stage, Stage, Ratio)> {
        Stage::LADDER.windows(2).map(|w| (w[0], w[1], self.conversion(w[0], w[1], start, end))).collect()
    }

    /// The median length of the stays in each stage that ended by `as_of` (stays still going
    /// on are left out). For an even count, the mean of the two middle stays, to the second.
    /// Stages with no finished stay are absent.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert!(clientele::lifecycle::Funnel::default().median_time_in_stage(DateTime::UNIX_EPOCH).is_empty());
    /// ```
    pub fn median_time_in_stage(&self, as_of: DateTime<Utc>) -> BTreeMap<Stage, Duration> {
        let mut stays: BTreeMap<Stage, Vec<Duration>> = BTreeMap::new();
        for j in &self.journeys {
            for (stage, entered, left) in j.stays() {
                if let Some(left) = left.filter(|l| *l <= as_of) {
                    stays.entry(stage).or_default().push(left - entered);
                }
            }
        }
        stays
            .into_iter()
            .filter_map(|(stage, mut d)| {
                d.sort_unstable();
                let mid = d.len() / 2;
                let median = if d.len() % 2 == 1 {
                    d[mid]
                } else {
                    // The exact mean, then truncated: halving whole seconds first loses up to
                    // a second (1.5 s and 2.5 s would give 1 s).
                    let sum = d[mid - 1].checked_add(&d[mid])?;
                    Duration::seconds((sum / 2).num_seconds())
                };
                Some((stage, median))
            })
            .collect()
    }

    /// Of the customers who were lost within `[start, end)`, how many were won back before
    /// `end`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// assert_eq!(clientele::lifecycle::Funnel::default().win_back_rate(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH).whole, 0);
    /// ```
    pub fn win_back_rate(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Ratio {
        let mut ratio = Ratio::default();
        for j in &self.journeys {
            let Some((_, next)) = j.first_entry(Stage::Lost, start, end) else { continue };
            ratio.whole += 1;
            if j.transitions[next..].iter().any(|t| t.kind == TransitionKind::WinBack && t.at < end) {
                ratio.part += 1;
            }
        }
        ratio
    }
}
