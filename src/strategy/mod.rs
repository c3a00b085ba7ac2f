//! Relationship strategy: how intensively to relate to customers, chosen from the profit
//! margin and the number of customers (the domain guide, section 2), and the contact plans
//! that put it into practice.
//!
//! ```
//! use clientele::strategy::{self, LevelConfig, MarginRatio, RelationshipLevel};
//!
//! let config = LevelConfig::default();
//! // A web shop: 8% margin, 120 000 customers.
//! let shop = strategy::select(MarginRatio::from_basis_points(800)?, 120_000, &config);
//! assert_eq!(shop.level(), RelationshipLevel::Basic);
//! assert_eq!(
//!     shop.rationale(),
//!     "low margin (8.0%) and many customers (120 000): basic marketing; reactive is the alternative"
//! );
//! // A machine maker: 45% margin, 30 distributors.
//! let maker = strategy::select(MarginRatio::from_basis_points(4500)?, 30, &config);
//! assert_eq!(maker.level(), RelationshipLevel::Partnership);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Relationship levels
//!
//! [`RelationshipLevel`], from least to most intensive (its `Ord` is this order):
//!
//! | level | what the seller does |
//! |---|---|
//! | basic | sells the product and does nothing more |
//! | reactive | sells the product and invites the customer to call with complaints or questions, which are resolved by contact |
//! | accountable | contacts the customer shortly after the sale to ask whether the product met expectations, for suggestions and for any dissatisfaction; this feedback improves the company |
//! | proactive | contacts customers from time to time with ideas about the product they bought or about new products |
//! | partnership | works continuously with customers to retain them and grow together |
//!
//! # The matrix
//!
//! Most companies use basic marketing when margins are low and customers many, and
//! partnership when margins are high and customers few. [`MATRIX`] is the textbook table
//! (Kotler, *Principles of Marketing*) as data; [`select`] reads it, and this table is
//! [`markdown_matrix`]'s output (a test checks that they agree):
//!
//! | customers ↓ / margin → | high | medium | low |
//! |---|---|---|---|
//! | many | accountable | reactive | basic or reactive |
//! | medium | proactive | accountable | reactive |
//! | few | partnership | proactive | accountable |
//!
//! In the one cell with two levels, [`LevelConfig::prefer`] picks the primary one (basic by
//! default) and the [`Selection`] names the other as its
//! [alternative](Selection::alternative). Along every row a higher margin never lowers the
//! level, and down every column fewer customers never lower it.
//!
//! # Classes and thresholds
//!
//! A [`MarginRatio`] is kept exactly, as margin over revenue in integers (minor units, or
//! basis points over 10 000), and classified [`MarginClass::Low`], `Medium` or `High` by
//! [`MarginThresholds`] (medium from 10%, high from 30% by default). A count of customers is
//! classified [`CustomerVolume::Few`], `Medium` or `Many` by [`VolumeThresholds`] (medium
//! from 100, many from 10 000 by default). Bounds are inclusive and must be strictly
//! increasing; [`LevelConfig`] holds both and the preference, with serde and defaults.
//!
//! # Segments
//!
//! [`select_for_segment`] chooses a level for a segment from a
//! [`SegmentReport`](crate::segment::SegmentReport): its members are the customer count and
//! its average margin over the purchases with a known cost is the margin. A segment without
//! any cost data is [`StrategyError::NoCostData`]; the caller decides what margin to assume,
//! if any, and calls [`select`].
//!
//! # RFM
//!
//! [`rfm`] (also at the crate root, [`crate::rfm`], since segments read it too) scores
//! customers by recency, frequency and monetary value, as quintiles of the population as of a
//! date, and places them in the usual named groups.
//!
//! # Contact plans
//!
//! [`ContactPlan::build`] turns each customer's relationship level and lifecycle stage into
//! dated [`ContactTask`]s over a [`PlanRange`] of days: whom to contact, when, what for
//! ([`TaskKind`]), by which channel, why (a one-line reason) and how urgently
//! ([`Priority`]).
//!
//! - **From the level**, each level doing what the ones below it do: reactive customers are
//!   given the support contact at each purchase, accountable ones are followed up shortly
//!   after it, proactive ones hear from time to time about what they bought and about new
//!   products, and partners have scheduled joint reviews. Basic customers get nothing.
//! - **From the stage**: prospects are nurtured, first-time buyers thanked, repeat customers
//!   invited to the loyalty programme (unless they are members), clients asked for
//!   referrals, inactive customers reactivated, and lost customers won back, ranked by what
//!   they spent: the most valuable first.
//! - **The level comes from the customer's segment.** A [`LevelAssignment`] lists segments
//!   with a level each (typically from [`select_for_segment`]); the first segment a customer
//!   is in wins, and a default level covers everyone else. A closure
//!   `Fn(&Customer) -> RelationshipLevel`, or one level for everyone, can stand in for it
//!   ([`LevelOf`]).
//! - **Channels and caps.** A task goes by the first channel of the configured order that
//!   the customer prefers and has not opted out of, and never by another; a customer no
//!   channel reaches is reported with the tasks they would have had. Frequency [`Caps`] per
//!   customer (a day, a rolling week, the range) postpone, then drop, the less urgent tasks.
//! - Every delay, cadence, channel and cap is in [`PlanConfig`], with documented defaults.
//!   Plans are sorted by due day, then priority, then customer id, then kind, and the same
//!   input always gives the same plan. [`ContactPlan`] documents every rule.
//!
//! ```
//! use chrono::{Duration, NaiveDate};
//! use clientele::{Channel, Currency, Customer, CustomerId, LifecycleState, Loyalty, Money, Purchase, Stage};
//! use clientele::segment::{Schema, Segment};
//! use clientele::strategy::{ContactPlan, LevelAssignment, PlanConfig, PlanRange, RelationshipLevel, TaskKind};
//!
//! let range = PlanRange::days(NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?, 14)?;
//! let now = range.as_of();
//! let usd = Currency::USD;
//! // Loyalty members are served accountably, everyone else reactively.
//! let schema = Schema::new(usd);
//! let levels = LevelAssignment::new(RelationshipLevel::Reactive)
//!     .with(Segment::compile("loyalty_member", &schema)?, RelationshipLevel::Accountable);
//!
//! // Ada, a member, bought on 31 December: followed up 3 days later.
//! let mut ada = Customer::new(CustomerId::new(1), "Ada", now - Duration::days(90))
//!     .with_purchases(vec![Purchase::new(now - Duration::hours(14), Money::new(4_500, usd))])?
//!     .with_lifecycle(LifecycleState::at_stage(Stage::Repeat, now - Duration::hours(14), None)?);
//! ada.loyalty = Some(Loyalty { card_id: "LC-1".into(), joined: NaiveDate::from_ymd_opt(2025, 3, 1).ok_or("date")? });
//! ada.channels.preferred.insert(Channel::Email);
//! // Bo became a prospect on 28 December: nurtured a week later.
//! let mut bo = Customer::new(CustomerId::new(2), "Bo", now - Duration::days(4))
//!     .with_lifecycle(LifecycleState::at_stage(Stage::Prospect, now - Duration::days(4), None)?);
//! bo.channels.preferred.insert(Channel::Sms);
//! // Cy was lost on 2 December and opted out of email, the only medium Cy prefers.
//! let mut cy = Customer::new(CustomerId::new(3), "Cy", now - Duration::days(900))
//!     .with_lifecycle(LifecycleState::at_stage(Stage::Lost, now - Duration::days(30), Some(Stage::FirstTime))?);
//! cy.channels.preferred.insert(Channel::Email);
//! cy.channels.opted_out.insert(Channel::Email);
//!
//! let plan = ContactPlan::build([&ada, &bo, &cy], range, &levels.at(now), &PlanConfig::default())?;
//! let tasks: Vec<(String, u64, TaskKind, Option<Channel>)> =
//!     plan.tasks().iter().map(|t| (t.due().to_string(), t.customer().get(), t.kind(), t.channel())).collect();
//! assert_eq!(tasks, [
//!     ("2026-01-03".to_string(), 1, TaskKind::FollowUp, Some(Channel::Email)),
//!     ("2026-01-04".to_string(), 2, TaskKind::Nurture, Some(Channel::Sms)),
//! ]);
//! // Cy is not dropped silently: reported with the win-back Cy would have had.
//! let missed = &plan.unreachable()[0];
//! assert_eq!((missed.customer(), missed.tasks()[0].kind()), (cy.id(), TaskKind::WinBack));
//! assert_eq!(missed.tasks()[0].due().to_string(), "2026-01-01");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Everything here is pure: no store, no clock, no I/O.

mod error;
mod level;
mod margin;
mod plan;
pub use crate::rfm;

pub use self::{
    error::{PlanError, StrategyError},
    level::{
        Cell, CustomerVolume, LevelConfig, MATRIX, MarginClass, MarginThresholds, MatrixEntry, Preference,
        RelationshipLevel, Selection, VolumeThresholds, cell, markdown_matrix, select, select_for_segment,
    },
    margin::MarginRatio,
    plan::{
        Cadence, Caps, ContactPlan, ContactTask, LevelAssignment, LevelMatcher, LevelOf, PlanConfig, PlanRange,
        Priority, PriorityClass, TaskKind, Unreachable,
    },
};
